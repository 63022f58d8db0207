//! The order a sync's units start in: the slowest region first.
//!
//! A unit's chain of pages takes its page count × its region's round trip. The page count
//! is unknown until the unit runs, but each region's round trip is measured as its units
//! finish. When there are more units than the concurrency bound lets run at once, those
//! of the regions measured slowest start first. Then a long chain in a far region does not
//! start last and set the sync's wall time alone. (At 1,000 accounts, in plan order, one
//! 111-page chain at 220 ms started 34 s in and ran 25 s after the rest had finished.)
//! A region not measured yet gets one unit started first, to be measured. Within a
//! region, units keep the plan's order; regions that measure alike take turns.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use futures::stream::{self, Stream, StreamExt};
use futures::FutureExt;

/// Seconds per call, per region, from the units finished so far.
#[derive(Default)]
pub struct RegionLatency {
    by_region: Mutex<HashMap<String, (f64, u64)>>,
}

impl RegionLatency {
    /// A unit in `region` took `seconds` for `calls` calls.
    pub fn record(&self, region: &str, seconds: f64, calls: u64) {
        if calls == 0 || !seconds.is_finite() || seconds < 0.0 {
            return;
        }
        let mut m = self.by_region.lock().unwrap_or_else(|p| p.into_inner());
        let e = m.entry(region.to_string()).or_insert((0.0, 0));
        e.0 += seconds;
        e.1 += calls;
    }

    /// The measures so far, read under one lock (no copy: `pick` runs once per unit).
    fn with_means<R>(&self, f: impl FnOnce(&dyn Fn(&str) -> Option<f64>) -> R) -> R {
        let m = self.by_region.lock().unwrap_or_else(|p| p.into_inner());
        f(&|region| m.get(region).map(|(s, n)| s / *n as f64))
    }
}

struct Queue<T> {
    region: String,
    units: VecDeque<T>,
    probed: bool,
}

struct Order<T, S> {
    plan: S,
    plan_done: bool,
    queues: Vec<Queue<T>>,
    index: HashMap<String, usize>,
    turn: usize,
    latency: Arc<RegionLatency>,
    region_of: fn(&T) -> &str,
}

impl<T, S: Stream<Item = T> + Unpin> Order<T, S> {
    fn push(&mut self, u: T) {
        let region = (self.region_of)(&u);
        let i = match self.index.get(region) {
            Some(i) => *i,
            None => {
                self.queues.push(Queue {
                    region: region.to_string(),
                    units: VecDeque::new(),
                    probed: false,
                });
                self.index.insert(region.to_string(), self.queues.len() - 1);
                self.queues.len() - 1
            }
        };
        self.queues[i].units.push_back(u);
    }

    /// The next unit: one of an unmeasured region not started yet, else one of the region
    /// measured slowest; ties (and regions waiting for their first measure) in turn.
    fn pick(&mut self) -> Option<T> {
        let n = self.queues.len();
        let (queues, turn) = (&self.queues, self.turn);
        let best = self.latency.with_means(|mean| {
            let mut best: Option<(usize, f64)> = None;
            for k in 0..n {
                let i = (turn + k) % n;
                let q = &queues[i];
                if q.units.is_empty() {
                    continue;
                }
                let score = match mean(&q.region) {
                    Some(m) => m,
                    None if !q.probed => f64::INFINITY,
                    None => -1.0,
                };
                if best.is_none_or(|(_, b)| score > b) {
                    best = Some((i, score));
                }
            }
            best
        });
        let (i, _) = best?;
        self.turn = (i + 1) % n;
        self.queues[i].probed = true;
        self.queues[i].units.pop_front()
    }
}

/// `plan`'s items, reordered slowest region first (see the module's text). The plan is
/// drawn from as far as it has items ready each time one is taken, so the order covers
/// every account resolved so far, not only the first.
pub fn slowest_region_first<T, S>(
    plan: S,
    region_of: fn(&T) -> &str,
    latency: Arc<RegionLatency>,
) -> impl Stream<Item = T>
where
    S: Stream<Item = T> + Unpin,
{
    let order = Order {
        plan,
        plan_done: false,
        queues: Vec::new(),
        index: HashMap::new(),
        turn: 0,
        latency,
        region_of,
    };
    stream::unfold(order, |mut o| async move {
        loop {
            while !o.plan_done {
                match o.plan.next().now_or_never() {
                    Some(Some(u)) => o.push(u),
                    Some(None) => o.plan_done = true,
                    None => break,
                }
            }
            if let Some(u) = o.pick() {
                return Some((u, o));
            }
            if o.plan_done {
                return None;
            }
            match o.plan.next().await {
                Some(u) => o.push(u),
                None => o.plan_done = true,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn region(u: &(String, u32)) -> &str {
        &u.0
    }

    fn units(regions: &[&str], per: u32) -> Vec<(String, u32)> {
        (0..per)
            .flat_map(|i| regions.iter().map(move |r| (r.to_string(), i)))
            .collect()
    }

    #[tokio::test]
    async fn unmeasured_regions_take_turns_in_plan_order() {
        let lat = Arc::new(RegionLatency::default());
        let plan = stream::iter(units(&["a", "b", "c"], 2));
        let got: Vec<_> = slowest_region_first(plan, region, lat).collect().await;
        assert_eq!(got, units(&["a", "b", "c"], 2));
    }

    #[tokio::test]
    async fn the_slowest_measured_region_goes_first() {
        let lat = Arc::new(RegionLatency::default());
        lat.record("a", 0.02, 1);
        lat.record("b", 0.25, 1);
        lat.record("c", 0.08, 2);
        let plan = stream::iter(units(&["a", "b", "c"], 2));
        let got: Vec<String> = slowest_region_first(plan, region, lat)
            .map(|u| format!("{}{}", u.0, u.1))
            .collect()
            .await;
        assert_eq!(got, ["b0", "b1", "c0", "c1", "a0", "a1"]);
    }

    #[tokio::test]
    async fn an_unmeasured_region_is_probed_before_the_slowest() {
        let lat = Arc::new(RegionLatency::default());
        lat.record("a", 0.5, 1);
        let plan = stream::iter(units(&["a", "new"], 2));
        let got: Vec<String> = slowest_region_first(plan, region, lat)
            .map(|u| format!("{}{}", u.0, u.1))
            .collect()
            .await;
        assert_eq!(got, ["new0", "a0", "a1", "new1"]);
    }

    #[test]
    fn bad_measures_are_ignored() {
        let lat = RegionLatency::default();
        lat.record("a", f64::NAN, 1);
        lat.record("a", 1.0, 0);
        lat.record("a", -1.0, 3);
        assert_eq!(lat.with_means(|mean| mean("a")), None);
    }
}
