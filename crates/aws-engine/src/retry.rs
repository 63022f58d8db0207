//! Retries, decided in one place: [`classify`] names what kind of failure an error is;
//! the class says whether another attempt is worth it and what it costs the client's
//! shared retry quota (500 tokens, as boto3's); throttling answers also slow the adaptive
//! limiter of the (credentials, region, service) they came from.
//!
//! As in boto3's "standard" mode: throttling codes, transient codes and 5xx answers are
//! retried at 5 quota tokens, connection trouble and attempt time-outs at 10, with full
//! jitter exponential backoff; a success gives its tokens back. Everything else — a
//! request that could not be built or signed, an answer that cannot be parsed or is too
//! large, a loop in a pagination, an ordinary service error — is final at once and costs
//! nothing.

use std::sync::Arc;
use std::time::Duration;

use rand::Rng;

use crate::error::{EngineError, TimeoutError};
use crate::throttle::{AdaptiveLimiter, RetryQuota, RETRY_COST, TIMEOUT_RETRY_COST};
use crate::RetryConfig;

/// What kind of failure an error is, for retrying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Final: the same request would fail the same way (or was never sent).
    Permanent,
    /// The service throttled: retry after backoff, and slow the adaptive limiter.
    Throttling,
    /// A transient service answer (5xx, `RequestTimeout`...).
    TransientService,
    /// The request may not have arrived: a connection failure or an attempt time-out.
    Transport,
}

impl ErrorClass {
    /// Whether another attempt is worth making.
    pub fn is_retryable(self) -> bool {
        !matches!(self, ErrorClass::Permanent)
    }

    /// What a retry of this class costs the retry quota (`None`: it is not retried).
    pub fn quota_cost(self) -> Option<u32> {
        match self {
            ErrorClass::Permanent => None,
            ErrorClass::Throttling | ErrorClass::TransientService => Some(RETRY_COST),
            ErrorClass::Transport => Some(TIMEOUT_RETRY_COST),
        }
    }

    /// Whether the adaptive limiter counts this answer as a throttle.
    pub fn is_throttle(self) -> bool {
        matches!(self, ErrorClass::Throttling)
    }
}

/// The class of an error: dispatch failures and attempt time-outs are transport trouble;
/// throttling and transient service errors are the service's; everything else is final.
pub fn classify(e: &EngineError) -> ErrorClass {
    match e {
        EngineError::Dispatch(_) | EngineError::Timeout(TimeoutError::Attempt(_)) => {
            ErrorClass::Transport
        }
        EngineError::Service(a) if a.is_throttling() => ErrorClass::Throttling,
        EngineError::Service(a) if a.is_transient() => ErrorClass::TransientService,
        _ => ErrorClass::Permanent,
    }
}

/// What to do after an attempt failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Next {
    /// Give up: return the error.
    GiveUp,
    /// Sleep this long, then attempt again.
    RetryAfter(Duration),
}

/// The retry state of one call: attempts made, quota spent, its limiter.
pub(crate) struct Attempts<'a> {
    config: &'a RetryConfig,
    quota: &'a RetryQuota,
    limiter: Option<Arc<AdaptiveLimiter>>,
    attempt: u32,
    spent: u32,
}

impl<'a> Attempts<'a> {
    pub(crate) fn new(
        config: &'a RetryConfig,
        quota: &'a RetryQuota,
        limiter: Option<Arc<AdaptiveLimiter>>,
    ) -> Self {
        Attempts {
            config,
            quota,
            limiter,
            attempt: 0,
            spent: 0,
        }
    }

    /// Wait for the limiter's permission to send the next attempt.
    pub(crate) async fn before_attempt(&mut self) {
        self.attempt += 1;
        if let Some(l) = &self.limiter {
            l.acquire().await;
        }
    }

    /// A success: the quota gets back what this call's retries cost (or one token).
    pub(crate) fn succeeded(&mut self) {
        if let Some(l) = &self.limiter {
            l.update(false);
        }
        self.quota.release(self.spent);
    }

    /// A failure of `class`: retry (after how long) or give up. A retry is paid from the
    /// quota first; an empty quota means no retry.
    pub(crate) fn failed(&mut self, class: ErrorClass) -> Next {
        if let Some(l) = &self.limiter {
            l.update(class.is_throttle());
        }
        let Some(cost) = class.quota_cost() else {
            return Next::GiveUp;
        };
        if self.attempt >= self.config.max_attempts {
            return Next::GiveUp;
        }
        if !self.quota.acquire(cost) {
            tracing::debug!("retry quota exhausted");
            return Next::GiveUp;
        }
        self.spent += cost;
        let cap = self
            .config
            .base_delay
            .saturating_mul(1u32 << self.attempt.saturating_sub(1).min(16))
            .min(self.config.max_backoff);
        // Full jitter: anywhere in [0, cap).
        Next::RetryAfter(cap.mul_f64(rand::rng().random::<f64>()))
    }

    /// Attempts made so far.
    pub(crate) fn attempt(&self) -> u32 {
        self.attempt
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{ApiError, ConstructionError, DispatchError, DispatchKind, ResponseError};
    use crate::throttle::QUOTA_MAX;

    fn service(code: &str, status: u16) -> EngineError {
        ApiError {
            code: code.into(),
            message: "m".into(),
            http_status: status,
            request_id: None,
            details: None,
        }
        .into()
    }

    fn dispatch() -> EngineError {
        DispatchError {
            kind: DispatchKind::Io,
            target: "GET h".into(),
            message: "reset".into(),
        }
        .into()
    }

    #[test]
    fn only_transport_trouble_and_throttling_or_transient_answers_retry() {
        let retried = [
            (dispatch(), ErrorClass::Transport),
            (
                TimeoutError::Attempt(Duration::from_secs(1)).into(),
                ErrorClass::Transport,
            ),
            (service("Throttling", 400), ErrorClass::Throttling),
            (service("RequestLimitExceeded", 503), ErrorClass::Throttling),
            (service("InternalError", 500), ErrorClass::TransientService),
            (service("RequestTimeout", 400), ErrorClass::TransientService),
        ];
        for (e, class) in &retried {
            assert_eq!(classify(e), *class, "{e}");
            assert!(e.is_retryable(), "{e}");
        }
        let final_: Vec<EngineError> = vec![
            ConstructionError::Signing("bad".into()).into(),
            ConstructionError::Serialization("bad header".into()).into(),
            ConstructionError::Credentials("none".into()).into(),
            EngineError::invalid("Op", "missing"),
            EngineError::endpoint("bad url"),
            TimeoutError::Call(Duration::from_secs(1)).into(),
            TimeoutError::Deadline(Duration::from_secs(1)).into(),
            EngineError::parse("Op", "bad xml"),
            ResponseError::TooLarge {
                operation: "Op".into(),
                limit: 1,
                declared: None,
            }
            .into(),
            ResponseError::PaginationLoop {
                operation: "Op".into(),
                page: 2,
                first_seen: 1,
            }
            .into(),
            service("AccessDenied", 403),
            service("InvalidVpcID.NotFound", 400),
        ];
        for e in &final_ {
            assert_eq!(classify(e), ErrorClass::Permanent, "{e}");
            assert!(!e.is_retryable(), "{e}");
        }
    }

    #[test]
    fn final_errors_never_charge_the_quota() {
        let config = RetryConfig::default();
        let quota = RetryQuota::default();
        for e in [
            EngineError::from(ConstructionError::Signing("bad".into())),
            EngineError::parse("Op", "bad"),
            service("AccessDenied", 403),
        ] {
            let mut a = Attempts::new(&config, &quota, None);
            a.attempt = 1;
            assert_eq!(a.failed(classify(&e)), Next::GiveUp);
        }
        assert_eq!(quota.available(), QUOTA_MAX);
    }

    #[test]
    fn retries_charge_by_class_and_a_success_refunds() {
        let config = RetryConfig {
            max_attempts: 10,
            ..Default::default()
        };
        let quota = RetryQuota::default();
        let mut a = Attempts::new(&config, &quota, None);
        a.attempt = 1;
        assert!(matches!(
            a.failed(classify(&service("Throttling", 400))),
            Next::RetryAfter(_)
        ));
        assert_eq!(quota.available(), QUOTA_MAX - RETRY_COST);
        a.attempt = 2;
        assert!(matches!(
            a.failed(classify(&dispatch())),
            Next::RetryAfter(_)
        ));
        assert_eq!(
            quota.available(),
            QUOTA_MAX - RETRY_COST - TIMEOUT_RETRY_COST
        );
        a.succeeded();
        assert_eq!(quota.available(), QUOTA_MAX);
    }

    #[test]
    fn no_retry_past_max_attempts_or_an_empty_quota() {
        let config = RetryConfig {
            max_attempts: 2,
            ..Default::default()
        };
        let quota = RetryQuota::default();
        let mut a = Attempts::new(&config, &quota, None);
        a.attempt = 2;
        assert_eq!(a.failed(ErrorClass::Throttling), Next::GiveUp);
        assert_eq!(
            quota.available(),
            QUOTA_MAX,
            "a retry not made costs nothing"
        );
        while quota.acquire(1) {}
        let mut a = Attempts::new(&config, &quota, None);
        a.attempt = 1;
        assert_eq!(a.failed(ErrorClass::Transport), Next::GiveUp);
    }

    #[tokio::test]
    async fn throttles_turn_the_adaptive_limiter_on_and_other_failures_do_not() {
        let config = RetryConfig::default();
        let quota = RetryQuota::default();
        let limiter = Arc::new(AdaptiveLimiter::default());
        let mut a = Attempts::new(&config, &quota, Some(limiter.clone()));
        a.before_attempt().await;
        let _ = a.failed(classify(&service("InternalError", 500)));
        assert_eq!(limiter.rate(), None, "a 500 is not a throttle");
        a.before_attempt().await;
        let _ = a.failed(classify(&service("SlowDown", 503)));
        assert!(limiter.rate().is_some(), "a throttle turns pacing on");
    }
}
