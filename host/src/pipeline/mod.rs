//! The resource pipeline: who produces resources (a plugin, or a model-derived type), the
//! fan-out over the plan's targets, and the one place resources are tagged with the scope
//! they came from before they reach an output.

mod compact;
pub mod fanout;
pub mod model_source;

use serde_json::Value;

pub use fanout::{Counters, ScopeFailure, ScopeLimits, ScopeOutcome, Source};

/// A resource on its way to the output, already tagged with its scope.
#[derive(Debug)]
pub struct Emitted {
    /// The account whose credentials fetched it.
    pub account: String,
    /// The region it was fetched in.
    pub region: String,
    /// The resource itself.
    pub resource: Tagged,
}

/// A tagged resource: a `Value`, or exactly the compact JSON `serde_json` writes for that
/// value (what a plugin's text becomes when it could be tagged without parsing, so an
/// NDJSON output writes it as it is).
#[derive(Debug)]
pub enum Tagged {
    /// A parsed resource.
    Value(Value),
    /// Canonical compact JSON of a resource.
    Json(String),
}

impl Tagged {
    /// The resource as a `Value`.
    pub fn into_value(self) -> Value {
        match self {
            Tagged::Value(v) => v,
            // Checked to be canonical JSON by `compact::splice_tags`: it parses.
            Tagged::Json(text) => serde_json::from_str(&text).unwrap_or(Value::Null),
        }
    }
}

impl From<Value> for Tagged {
    fn from(v: Value) -> Self {
        Tagged::Value(v)
    }
}

/// Where a resource was fetched: what the tags say.
#[derive(Debug, Clone)]
pub struct ScopeTags {
    account: String,
    region: String,
    /// `"RequestRegion":"…","RequestAccount":"…"`, for splicing.
    spliced: String,
}

impl ScopeTags {
    /// The tags of one (account, region) scope.
    pub fn new(account: &str, region: &str) -> Self {
        ScopeTags {
            account: account.to_string(),
            region: region.to_string(),
            spliced: compact::tags_json(region, account),
        }
    }

    /// Tag a parsed resource: `RequestRegion` and `RequestAccount` become its last keys,
    /// whatever it said before (a source cannot mislabel where a resource lives).
    pub fn tag_value(&self, mut value: Value) -> Result<Value, &'static str> {
        let Some(obj) = value.as_object_mut() else {
            return Err("is not a JSON object");
        };
        obj.shift_remove("RequestRegion");
        obj.shift_remove("RequestAccount");
        obj.insert("RequestRegion".into(), Value::String(self.region.clone()));
        obj.insert("RequestAccount".into(), Value::String(self.account.clone()));
        Ok(value)
    }

    /// Tag a resource given as JSON text. Compact JSON as serde_json writes it (what the
    /// SDKs send) gets the tags spliced in; anything else is parsed and rewritten, with the
    /// same result.
    pub fn tag_json(&self, text: String) -> Result<Tagged, String> {
        match compact::splice_tags(text, &self.spliced) {
            Ok(json) => Ok(Tagged::Json(json)),
            Err(text) => {
                let value: Value =
                    serde_json::from_str(&text).map_err(|e| format!("is not valid JSON: {e}"))?;
                self.tag_value(value)
                    .map(Tagged::Value)
                    .map_err(str::to_string)
            }
        }
    }

    /// The resource, tagged, on its way to the output.
    pub fn emitted(&self, resource: Tagged) -> Emitted {
        Emitted {
            account: self.account.clone(),
            region: self.region.clone(),
            resource,
        }
    }
}

/// A batch of emitted resources is sent when it holds this many resources or bytes, when
/// the plugin makes an AWS call (before waiting on the network) and when `collect` ends.
const EMIT_BATCH: usize = 256;
const EMIT_BATCH_BYTES: usize = 256 << 10;

/// One scope's sink for a plugin: tags each resource and sends them to the output in
/// batches, so the output task wakes once per batch rather than once per resource.
pub struct ScopeSink {
    tags: ScopeTags,
    tx: tokio::sync::mpsc::Sender<Emitted>,
    pending: Vec<Emitted>,
    pending_bytes: usize,
}

impl ScopeSink {
    /// A sink for one scope, sending to `tx`.
    pub fn new(tags: ScopeTags, tx: tokio::sync::mpsc::Sender<Emitted>) -> Self {
        ScopeSink {
            tags,
            tx,
            pending: Vec::new(),
            pending_bytes: 0,
        }
    }
}

impl plugin_host::ResourceSink for ScopeSink {
    fn accept(&mut self, resource_json: String) -> Result<(), plugin_host::EmitError> {
        let bytes = resource_json.len();
        let tagged = self
            .tags
            .tag_json(resource_json)
            .map_err(plugin_host::EmitError::Invalid)?;
        self.pending.push(self.tags.emitted(tagged));
        self.pending_bytes += bytes;
        Ok(())
    }

    fn wants_flush(&self) -> bool {
        self.pending.len() >= EMIT_BATCH || self.pending_bytes >= EMIT_BATCH_BYTES
    }

    fn flush(
        &mut self,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<(), plugin_host::EmitError>> + Send + '_>,
    > {
        Box::pin(async move {
            self.pending_bytes = 0;
            for e in self.pending.drain(..) {
                self.tx
                    .send(e)
                    .await
                    .map_err(|_| plugin_host::EmitError::Closed)?;
            }
            Ok(())
        })
    }
}
