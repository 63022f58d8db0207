//! What a person at a terminal sees during a sync: one line for the whole run (units
//! done/total, resources, API calls, throttles, errors, ETA) and one per type; nothing on
//! a pipe or with `-q`.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

use aws_engine::AwsClient;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Live counts of one type.
#[derive(Debug, Default)]
pub struct TypeCounters {
    pub total: AtomicU64,
    pub done: AtomicU64,
    pub failed: AtomicU64,
    pub resources: AtomicU64,
}

/// Live counts of the whole sync.
#[derive(Debug, Default)]
pub struct SyncCounters {
    pub total: AtomicU64,
    pub done: AtomicU64,
    pub failed: AtomicU64,
    /// Resources fetched so far (committed or not).
    pub resources: AtomicU64,
    /// Resource rows written (added or changed versions).
    pub written: AtomicU64,
    pub types: Vec<(String, TypeCounters)>,
}

impl SyncCounters {
    pub fn new(types: &[String]) -> SyncCounters {
        SyncCounters {
            types: types
                .iter()
                .map(|t| (t.clone(), TypeCounters::default()))
                .collect(),
            ..Default::default()
        }
    }

    pub fn of(&self, table: &str) -> Option<&TypeCounters> {
        self.types.iter().find(|(t, _)| t == table).map(|(_, c)| c)
    }
}

pub struct SyncProgress {
    ticker: Option<tokio::task::JoinHandle<()>>,
    multi: Option<MultiProgress>,
    bars: Vec<ProgressBar>,
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar())
}

impl SyncProgress {
    /// Live lines on stderr when it is a terminal and `--quiet` is off.
    pub fn start(counters: Arc<SyncCounters>, client: AwsClient, quiet: bool) -> SyncProgress {
        let tty = std::io::IsTerminal::is_terminal(&std::io::stderr());
        if quiet || !tty {
            return SyncProgress {
                ticker: None,
                multi: None,
                bars: Vec::new(),
            };
        }
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let main = multi.add(ProgressBar::new(counters.total.load(Relaxed)));
        main.set_style(style(
            "{spinner} units {pos}/{len} [{elapsed}, ETA {eta}] {msg}",
        ));
        let width = counters
            .types
            .iter()
            .map(|(t, _)| t.len())
            .max()
            .unwrap_or(8);
        let mut bars = vec![main.clone()];
        for (t, c) in &counters.types {
            let b = multi.add(ProgressBar::new(c.total.load(Relaxed)));
            b.set_style(style("  {prefix} {pos}/{len} {msg}"));
            b.set_prefix(format!("{t:width$}"));
            bars.push(b);
        }
        let c = counters.clone();
        let all = bars.clone();
        let ticker = tokio::spawn(async move {
            loop {
                let s = client.stats();
                let failed = c.failed.load(Relaxed);
                all[0].set_length(c.total.load(Relaxed));
                all[0].set_position(c.done.load(Relaxed));
                all[0].set_message(format!(
                    "{} resources · {} API calls · {} throttled · {} errors",
                    c.resources.load(Relaxed),
                    s.requests.load(Relaxed),
                    s.throttles.load(Relaxed),
                    failed
                ));
                for (i, (_, t)) in c.types.iter().enumerate() {
                    if let Some(b) = all.get(i + 1) {
                        b.set_length(t.total.load(Relaxed));
                        b.set_position(t.done.load(Relaxed));
                        let f = t.failed.load(Relaxed);
                        b.set_message(format!(
                            "{} resources{}",
                            t.resources.load(Relaxed),
                            if f > 0 {
                                format!(" · {f} failed")
                            } else {
                                String::new()
                            }
                        ));
                    }
                }
                all[0].tick();
                tokio::time::sleep(Duration::from_millis(150)).await;
            }
        });
        SyncProgress {
            ticker: Some(ticker),
            multi: Some(multi),
            bars,
        }
    }

    /// Remove the live lines.
    pub fn finish(self) {
        if let Some(t) = self.ticker {
            t.abort();
        }
        for b in &self.bars {
            b.finish_and_clear();
        }
        if let Some(m) = self.multi {
            let _ = m.clear();
        }
    }
}
