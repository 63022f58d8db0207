//! Client-side flow control: boto3's retry quota (standard mode) and an adaptive rate
//! limiter (adaptive mode: CUBIC rate control, enabled by the first throttle), one per
//! (account, region, service).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Standard mode's retry quota: retries draw from a shared bucket so a failing endpoint
/// cannot trigger a retry storm; successes refill it.
#[derive(Debug)]
pub(crate) struct RetryQuota {
    tokens: Mutex<u32>,
}

pub(crate) const QUOTA_MAX: u32 = 500;
pub(crate) const RETRY_COST: u32 = 5;
pub(crate) const TIMEOUT_RETRY_COST: u32 = 10;

impl Default for RetryQuota {
    fn default() -> Self {
        RetryQuota {
            tokens: Mutex::new(QUOTA_MAX),
        }
    }
}

impl RetryQuota {
    /// Take the cost of one retry; `false` when the bucket cannot pay (no retry then).
    pub(crate) fn acquire(&self, cost: u32) -> bool {
        let mut t = self.tokens.lock().unwrap();
        if *t >= cost {
            *t -= cost;
            true
        } else {
            false
        }
    }

    /// A success gives back what its retries cost, or one token.
    pub(crate) fn release(&self, cost: u32) {
        let mut t = self.tokens.lock().unwrap();
        *t = (*t + cost.max(1)).min(QUOTA_MAX);
    }

    #[cfg(test)]
    pub(crate) fn available(&self) -> u32 {
        *self.tokens.lock().unwrap()
    }
}

const BETA: f64 = 0.7;
const SCALE_CONSTANT: f64 = 0.4;
const MIN_FILL_RATE: f64 = 0.5;
const MIN_CAPACITY: f64 = 1.0;
const SMOOTH: f64 = 0.8;

#[derive(Debug)]
struct LimiterState {
    enabled: bool,
    fill_rate: f64,
    capacity: f64,
    tokens: f64,
    last_refill: Instant,
    // CUBIC
    last_max_rate: f64,
    last_throttle: Instant,
    // measured send rate
    measured_rate: f64,
    last_tx_bucket: f64,
    request_count: u64,
    started: Instant,
}

/// boto3's adaptive limiter: off until the service throttles, then a token bucket whose
/// rate drops multiplicatively on each throttle and grows back along a cubic curve.
#[derive(Debug)]
pub(crate) struct AdaptiveLimiter {
    state: Mutex<LimiterState>,
}

impl Default for AdaptiveLimiter {
    fn default() -> Self {
        let now = Instant::now();
        AdaptiveLimiter {
            state: Mutex::new(LimiterState {
                enabled: false,
                fill_rate: MIN_FILL_RATE,
                capacity: MIN_CAPACITY,
                tokens: MIN_CAPACITY,
                last_refill: now,
                last_max_rate: 0.0,
                last_throttle: now,
                measured_rate: 0.0,
                last_tx_bucket: 0.0,
                request_count: 0,
                started: now,
            }),
        }
    }
}

impl AdaptiveLimiter {
    /// Wait for permission to send one request (immediately while not enabled).
    pub(crate) async fn acquire(&self) {
        loop {
            let wait = {
                let mut s = self.state.lock().unwrap();
                if !s.enabled {
                    return;
                }
                s.refill();
                if s.tokens >= 1.0 {
                    s.tokens -= 1.0;
                    return;
                }
                Duration::from_secs_f64((1.0 - s.tokens) / s.fill_rate)
            };
            tokio::time::sleep(wait).await;
        }
    }

    /// Record the outcome of a request: throttled or not.
    pub(crate) fn update(&self, throttled: bool) {
        let mut s = self.state.lock().unwrap();
        s.update_measured_rate();
        let now = Instant::now();
        let new_rate = if throttled {
            let rate = if s.enabled {
                s.measured_rate.min(s.fill_rate)
            } else {
                s.measured_rate
            };
            s.last_max_rate = rate.max(MIN_FILL_RATE);
            s.last_throttle = now;
            s.enabled = true;
            (rate * BETA).max(MIN_FILL_RATE)
        } else {
            if !s.enabled {
                return;
            }
            let t = now.duration_since(s.last_throttle).as_secs_f64();
            let k = (s.last_max_rate * (1.0 - BETA) / SCALE_CONSTANT).cbrt();
            SCALE_CONSTANT * (t - k).powi(3) + s.last_max_rate
        };
        let capped = new_rate.min(2.0 * s.measured_rate.max(MIN_FILL_RATE));
        s.refill();
        s.fill_rate = capped.max(MIN_FILL_RATE);
        s.capacity = s.fill_rate.max(MIN_CAPACITY);
        s.tokens = s.tokens.min(s.capacity);
    }

    /// Current sending rate allowed (requests/s), `None` while the limiter is off.
    #[cfg(test)]
    pub(crate) fn rate(&self) -> Option<f64> {
        let s = self.state.lock().unwrap();
        s.enabled.then_some(s.fill_rate)
    }
}

impl LimiterState {
    fn refill(&mut self) {
        let now = Instant::now();
        let elapsed = now.duration_since(self.last_refill).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.fill_rate).min(self.capacity);
        self.last_refill = now;
    }

    /// Requests per second over half-second buckets, smoothed.
    fn update_measured_rate(&mut self) {
        let t = self.started.elapsed().as_secs_f64();
        let bucket = (t * 2.0).floor() / 2.0;
        self.request_count += 1;
        if bucket > self.last_tx_bucket {
            let current = self.request_count as f64 / (bucket - self.last_tx_bucket);
            self.measured_rate = current * SMOOTH + self.measured_rate * (1.0 - SMOOTH);
            self.request_count = 0;
            self.last_tx_bucket = bucket;
        }
    }
}

/// One limiter per key, created on first use.
#[derive(Debug, Default)]
pub(crate) struct Limiters {
    map: Mutex<HashMap<String, Arc<AdaptiveLimiter>>>,
}

impl Limiters {
    pub(crate) fn get(&self, key: &str) -> Arc<AdaptiveLimiter> {
        self.map
            .lock()
            .unwrap()
            .entry(key.to_string())
            .or_default()
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quota_stops_retry_storms_and_refills() {
        let q = RetryQuota::default();
        let mut n = 0;
        while q.acquire(RETRY_COST) {
            n += 1;
        }
        assert_eq!(n, QUOTA_MAX / RETRY_COST);
        q.release(RETRY_COST);
        assert!(q.acquire(RETRY_COST));
    }

    #[tokio::test]
    async fn throttling_enables_and_lowers_the_rate() {
        let l = AdaptiveLimiter::default();
        assert_eq!(l.rate(), None);
        l.acquire().await; // off: immediate
        for _ in 0..20 {
            l.update(false);
        }
        l.update(true);
        let after_throttle = l.rate().expect("enabled by a throttle");
        l.update(true);
        assert!(l.rate().unwrap() <= after_throttle);
        // Sending is now paced: two acquisitions at >= 0.5/s cannot both be instant when
        // the bucket is empty.
        let started = Instant::now();
        for _ in 0..3 {
            l.acquire().await;
        }
        assert!(started.elapsed() > Duration::from_millis(100));
    }
}
