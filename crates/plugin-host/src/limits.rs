//! The sandbox limits of one scope, and the one way a limit hit is reported: a typed
//! [`LimitExceeded`], raised as the trap that stops the guest and kept by the scope's
//! [`Tripwire`] (some limits fire outside a host call — a `memory.grow`, a write to stderr —
//! and the trap that follows does not carry them).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use wasmtime::ResourceLimiter;

/// Limits applied to every store (defaults are generous for Python and JS components).
#[derive(Debug, Clone)]
pub struct Limits {
    /// Wall-clock time for one `collect`, AWS calls included (and for `manifest`).
    pub timeout: Duration,
    /// Linear memory per instance, bytes. Also the most the host holds for one scope's
    /// open `pages` and queued calls (their parameters).
    pub memory: usize,
    /// Instances, memories and tables per store.
    pub instances: usize,
    /// Tables per store.
    pub tables: usize,
    /// Elements per table.
    pub table_elements: usize,
    /// Resources one scope may emit.
    pub max_resources: u64,
    /// Total JSON bytes one scope may emit.
    pub max_emitted_bytes: u64,
    /// Plugin log + stderr bytes per scope; past it the scope is stopped.
    pub max_log_bytes: usize,
    /// Size of one `params-json` a plugin may send.
    pub max_params_bytes: usize,
    /// Size of one response handed to the guest.
    pub max_response_bytes: usize,
    /// AWS calls (each page counts) one scope may make.
    pub max_calls: u64,
    /// Calls of one scope's batches (`call-many`) running at once.
    pub call_concurrency: usize,
    /// `pages` and `batch` resources one scope may hold open at once.
    pub max_open_handles: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeout: Duration::from_secs(300),
            memory: 512 << 20,
            instances: 64,
            tables: 64,
            table_elements: 1 << 20,
            max_resources: 10_000_000,
            max_emitted_bytes: 2 << 30,
            max_log_bytes: 1 << 20,
            max_params_bytes: 1 << 20,
            max_response_bytes: 256 << 20,
            max_calls: 1_000_000,
            call_concurrency: 16,
            max_open_handles: 1024,
        }
    }
}

/// Which limit was hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitKind {
    /// `--timeout` (the limit is in milliseconds).
    Deadline,
    /// `--memory-limit` (bytes).
    Memory,
    /// Elements of a table.
    TableElements,
    /// `--max-resources`.
    Resources,
    /// `--max-emit-mib` (bytes).
    EmittedBytes,
    /// `--max-log-kib` (bytes).
    Log,
    /// `--max-calls`.
    Calls,
    /// Open `pages` and `batch` resources.
    OpenHandles,
    /// Bytes the host holds for open `pages` and queued calls (the memory limit).
    HeldBytes,
}

/// A sandbox limit was hit: the scope is stopped and its store discarded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{}", describe(*kind, *limit))]
pub struct LimitExceeded {
    /// Which limit.
    pub kind: LimitKind,
    /// Its value, in the unit [`LimitKind`] names.
    pub limit: u64,
}

fn describe(kind: LimitKind, limit: u64) -> String {
    match kind {
        LimitKind::Deadline => format!(
            "deadline of {:?} exceeded (plugin timeout)",
            Duration::from_millis(limit)
        ),
        LimitKind::Memory => format!("memory limit of {} MiB per instance", limit >> 20),
        LimitKind::TableElements => format!("table limit of {limit} elements"),
        LimitKind::Resources => format!("resource limit of {limit} emitted resources per scope"),
        LimitKind::EmittedBytes => format!("output limit of {limit} emitted bytes per scope"),
        LimitKind::Log => format!("log limit of {limit} bytes per scope"),
        LimitKind::Calls => format!("call limit of {limit} AWS calls per scope"),
        LimitKind::OpenHandles => {
            format!("limit of {limit} open pages and batches per scope")
        }
        LimitKind::HeldBytes => format!(
            "host memory limit of {} MiB per scope for the parameters of open pages and queued calls",
            limit >> 20
        ),
    }
}

impl LimitExceeded {
    /// The deadline of `timeout`.
    pub fn deadline(timeout: Duration) -> Self {
        LimitExceeded {
            kind: LimitKind::Deadline,
            limit: u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
        }
    }
}

/// The scope's record of the first limit hit, and its deadline. Cheap to clone: the
/// clones share the record.
#[derive(Clone)]
pub(crate) struct Tripwire {
    hit: Arc<Mutex<Option<LimitExceeded>>>,
    deadline: Instant,
    timeout: Duration,
}

impl Tripwire {
    pub(crate) fn new(timeout: Duration) -> Self {
        Tripwire {
            hit: Arc::default(),
            deadline: Instant::now() + timeout,
            timeout,
        }
    }

    /// Record `limit` (the first one hit stays) and return the trap that stops the guest.
    pub(crate) fn trip(&self, limit: LimitExceeded) -> wasmtime::Error {
        let mut hit = self.hit.lock().unwrap_or_else(|p| p.into_inner());
        hit.get_or_insert(limit);
        wasmtime::Error::new(limit)
    }

    /// The first limit hit, if any.
    pub(crate) fn tripped(&self) -> Option<LimitExceeded> {
        *self.hit.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Trap if the deadline has passed: every host call starts with this, so work done
    /// inside the host is bounded by the scope's deadline too.
    pub(crate) fn check_deadline(&self) -> wasmtime::Result<()> {
        if Instant::now() >= self.deadline {
            return Err(self.trip(LimitExceeded::deadline(self.timeout)));
        }
        Ok(())
    }

    /// Whether the deadline has passed.
    pub(crate) fn past_deadline(&self) -> bool {
        Instant::now() >= self.deadline
    }

    /// The limit a deadline hit reports.
    pub(crate) fn deadline_limit(&self) -> LimitExceeded {
        LimitExceeded::deadline(self.timeout)
    }
}

/// Caps the instance's memories and tables.
pub(crate) struct Limiter {
    pub(crate) memory: usize,
    pub(crate) instances: usize,
    pub(crate) tables: usize,
    pub(crate) table_elements: usize,
    pub(crate) trip: Tripwire,
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory {
            return Err(self.trip.trip(LimitExceeded {
                kind: LimitKind::Memory,
                limit: self.memory as u64,
            }));
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.table_elements {
            return Err(self.trip.trip(LimitExceeded {
                kind: LimitKind::TableElements,
                limit: self.table_elements as u64,
            }));
        }
        Ok(true)
    }

    fn instances(&self) -> usize {
        self.instances
    }
    fn tables(&self) -> usize {
        self.tables
    }
    fn memories(&self) -> usize {
        self.instances
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_read_as_before() {
        let l = LimitExceeded::deadline(Duration::from_secs(5));
        assert_eq!(l.to_string(), "deadline of 5s exceeded (plugin timeout)");
        let m = LimitExceeded {
            kind: LimitKind::Memory,
            limit: 64 << 20,
        };
        assert_eq!(m.to_string(), "memory limit of 64 MiB per instance");
    }

    #[test]
    fn the_first_limit_hit_is_the_one_reported() {
        let t = Tripwire::new(Duration::from_secs(60));
        assert!(t.tripped().is_none());
        let first = LimitExceeded {
            kind: LimitKind::Log,
            limit: 10,
        };
        let e = t.trip(first);
        assert_eq!(e.downcast_ref::<LimitExceeded>(), Some(&first));
        t.trip(LimitExceeded {
            kind: LimitKind::Calls,
            limit: 1,
        });
        assert_eq!(t.tripped(), Some(first));
        assert!(t.check_deadline().is_ok());
        let past = Tripwire::new(Duration::ZERO);
        let e = past.check_deadline().unwrap_err();
        assert_eq!(
            e.downcast_ref::<LimitExceeded>().map(|l| l.kind),
            Some(LimitKind::Deadline)
        );
    }
}
