//! The `sink` interface: every emitted resource is checked against the scope's limits and
//! handed to the [`ResourceSink`] the embedder provides.

use std::future::Future;
use std::pin::Pin;

use crate::bindings::{v0_1, v0_2};
use crate::limits::{LimitExceeded, LimitKind, Limits, Tripwire};

/// Why a sink refused a resource or could not take more.
#[derive(Debug, Clone, thiserror::Error)]
pub enum EmitError {
    /// The resource is not what the contract promises (not a JSON object, ...): the scope
    /// traps with this reason.
    #[error("emitted resource {0}")]
    Invalid(String),
    /// The output went away (a closed pipe, a failed destination).
    #[error("the output was closed")]
    Closed,
    /// The scope's account, needed to label resources, could not be resolved.
    #[error("the scope's account could not be resolved: {0}")]
    Account(String),
}

/// Where one scope's resources go. The plugin host checks the sandbox limits before
/// `accept`; what a resource becomes (tagged, batched, written) is the sink's business.
pub trait ResourceSink: Send + 'static {
    /// One resource, exactly as the plugin emitted it.
    fn accept(&mut self, resource_json: String) -> Result<(), EmitError>;
    /// Whether enough is held back that it should be passed on now.
    fn wants_flush(&self) -> bool;
    /// Pass on whatever is held back: called before every AWS call the plugin waits on
    /// (so nothing waits behind a round trip) and when `collect` ends, whatever happened.
    fn flush(&mut self) -> Pin<Box<dyn Future<Output = Result<(), EmitError>> + Send + '_>>;
}

/// The sink of one scope, boxed.
pub type Emitter = Box<dyn ResourceSink>;

/// The emit state of one store.
pub(crate) struct SinkState {
    emitter: Option<Emitter>,
    pub(crate) emitted: u64,
    pub(crate) emitted_bytes: u64,
    max_resources: u64,
    max_emitted_bytes: u64,
}

impl SinkState {
    pub(crate) fn new(emitter: Option<Emitter>, limits: &Limits) -> Self {
        SinkState {
            emitter,
            emitted: 0,
            emitted_bytes: 0,
            max_resources: limits.max_resources,
            max_emitted_bytes: limits.max_emitted_bytes,
        }
    }

    /// Send what is held back to the output.
    pub(crate) async fn flush(&mut self) -> wasmtime::Result<()> {
        match &mut self.emitter {
            Some(sink) => sink.flush().await.map_err(wasmtime::Error::new),
            None => Ok(()),
        }
    }
}

/// The `sink` interface's view of the store.
pub(crate) struct SinkView<'a> {
    pub(crate) sink: &'a mut SinkState,
    pub(crate) trip: &'a Tripwire,
}

impl SinkView<'_> {
    async fn emit(&mut self, resource_json: String) -> wasmtime::Result<()> {
        self.trip.check_deadline()?;
        let s = &mut *self.sink;
        let bytes = resource_json.len() as u64;
        if s.emitted + 1 > s.max_resources {
            return Err(self.trip.trip(LimitExceeded {
                kind: LimitKind::Resources,
                limit: s.max_resources,
            }));
        }
        if s.emitted_bytes + bytes > s.max_emitted_bytes {
            return Err(self.trip.trip(LimitExceeded {
                kind: LimitKind::EmittedBytes,
                limit: s.max_emitted_bytes,
            }));
        }
        let Some(sink) = &mut s.emitter else {
            return Err(wasmtime::Error::msg(
                "emit is not available while the manifest is read",
            ));
        };
        sink.accept(resource_json).map_err(wasmtime::Error::new)?;
        s.emitted += 1;
        s.emitted_bytes += bytes;
        if sink.wants_flush() {
            s.flush().await?;
        }
        // Checking a huge resource is linear, but it still takes time: the deadline
        // holds for it too.
        self.trip.check_deadline()
    }
}

impl v0_1::mrhost::plugin::sink::Host for SinkView<'_> {
    async fn emit(&mut self, resource_json: String) -> wasmtime::Result<()> {
        SinkView::emit(self, resource_json).await
    }
}

impl v0_2::mrhost::plugin::sink::Host for SinkView<'_> {
    async fn emit(&mut self, resource_json: String) -> wasmtime::Result<()> {
        SinkView::emit(self, resource_json).await
    }
}
