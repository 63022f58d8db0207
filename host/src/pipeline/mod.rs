//! The resource pipeline: who produces resources (a plugin, or a model-derived type), the
//! fan-out over the plan's targets, and the one place resources are tagged with the scope
//! they came from (and their AWS tag list turned into a map) before they reach an output.

mod compact;
pub mod fanout;
pub mod lane;
pub mod model_source;
pub mod tags;

use serde_json::Value;

pub use fanout::{Counters, ScopeFailure, ScopeLimits, ScopeOutcome, Source};
use plugin_host::ScopeAccount;

/// How resources are shaped on their way out, for every source of a run.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// `--raw`: items exactly as AWS returned them, scope tags aside (no `TagsMap`, no
    /// `Name`).
    pub raw: bool,
    /// `--max-calls` and `--timeout` of a scope mrhost runs itself (a model-derived
    /// type); `None`: unlimited. A plugin's scope has them from its sandbox limits.
    pub limits: Option<ScopeLimits>,
    /// Leave `RequestRegion` and `RequestAccount` out of what [`ScopeTags::tag_value`]
    /// returns: the inventory keeps a row's account and region in columns of its own (and
    /// would take the two keys out again, which cost 3 % of a 1,000-account sync's CPU).
    pub no_scope_keys: bool,
}

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
    /// Add `TagsMap` and `Name` (not with `--raw`).
    enrich: bool,
    /// Add `RequestRegion` and `RequestAccount` to a parsed resource.
    scope_keys: bool,
}

impl ScopeTags {
    /// The tags of one (account, region) scope.
    pub fn new(account: &str, region: &str, options: Options) -> Self {
        ScopeTags {
            account: account.to_string(),
            region: region.to_string(),
            spliced: compact::tags_json(region, account),
            enrich: !options.raw,
            scope_keys: !options.no_scope_keys,
        }
    }

    /// Tag a parsed resource: `TagsMap` and `Name` when it has a tag list, then
    /// `RequestRegion` and `RequestAccount` as its last keys, whatever it said before (a
    /// source cannot mislabel where a resource lives).
    /// (Without scope keys, a resource that has either keeps it: the inventory takes
    /// them out.)
    pub fn tag_value(&self, mut value: Value) -> Result<Value, &'static str> {
        let Some(obj) = value.as_object_mut() else {
            return Err("is not a JSON object");
        };
        if self.scope_keys {
            obj.shift_remove("RequestRegion");
            obj.shift_remove("RequestAccount");
        }
        if self.enrich {
            tags::enrich(obj);
        }
        if self.scope_keys {
            obj.insert("RequestRegion".into(), Value::String(self.region.clone()));
            obj.insert("RequestAccount".into(), Value::String(self.account.clone()));
        }
        Ok(value)
    }

    /// Tag a resource given as JSON text. Compact JSON as serde_json writes it (what the
    /// SDKs send) gets the keys spliced in; anything else is parsed and rewritten, with the
    /// same result.
    pub fn tag_json(&self, text: String) -> Result<Tagged, String> {
        match compact::splice_tags(text, &self.spliced, self.enrich) {
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
/// batches, so the output task wakes once per batch rather than once per resource. While
/// the scope's account is not known yet (resolved on demand), resources wait — checked,
/// untagged — until the next flush resolves it.
pub struct ScopeSink {
    account: ScopeAccount,
    region: String,
    options: Options,
    tags: Option<ScopeTags>,
    /// Checked resources waiting for the account.
    untagged: Vec<String>,
    tx: tokio::sync::mpsc::Sender<Emitted>,
    pending: Vec<Emitted>,
    pending_bytes: usize,
}

impl ScopeSink {
    /// A sink for one scope, sending to `tx`.
    pub fn new(
        account: ScopeAccount,
        region: &str,
        options: Options,
        tx: tokio::sync::mpsc::Sender<Emitted>,
    ) -> Self {
        let tags = account.now().map(|a| ScopeTags::new(a, region, options));
        ScopeSink {
            account,
            region: region.to_string(),
            options,
            tags,
            untagged: Vec::new(),
            tx,
            pending: Vec::new(),
            pending_bytes: 0,
        }
    }
}

impl plugin_host::ResourceSink for ScopeSink {
    fn accept(&mut self, resource_json: String) -> Result<(), plugin_host::EmitError> {
        let bytes = resource_json.len();
        match &self.tags {
            Some(tags) => {
                let tagged = tags
                    .tag_json(resource_json)
                    .map_err(plugin_host::EmitError::Invalid)?;
                self.pending.push(tags.emitted(tagged));
            }
            None => {
                // Checked now (the plugin traps at the emit that broke the promise),
                // tagged once the account is known.
                if !compact::is_canonical_object(resource_json.as_bytes()) {
                    let v: Value = serde_json::from_str(&resource_json).map_err(|e| {
                        plugin_host::EmitError::Invalid(format!("is not valid JSON: {e}"))
                    })?;
                    if !v.is_object() {
                        return Err(plugin_host::EmitError::Invalid(
                            "is not a JSON object".into(),
                        ));
                    }
                }
                self.untagged.push(resource_json);
            }
        }
        self.pending_bytes += bytes;
        Ok(())
    }

    fn wants_flush(&self) -> bool {
        let n = self.pending.len() + self.untagged.len();
        n >= EMIT_BATCH || self.pending_bytes >= EMIT_BATCH_BYTES
    }

    fn flush(
        &mut self,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<(), plugin_host::EmitError>> + Send + '_>,
    > {
        Box::pin(async move {
            if !self.untagged.is_empty() {
                let account = self
                    .account
                    .get()
                    .await
                    .map_err(|e| plugin_host::EmitError::Account(e.to_string()))?;
                let tags = ScopeTags::new(account, &self.region, self.options);
                for text in self.untagged.drain(..) {
                    let tagged = tags
                        .tag_json(text)
                        .map_err(plugin_host::EmitError::Invalid)?;
                    self.pending.push(tags.emitted(tagged));
                }
                self.tags = Some(tags);
            }
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

#[cfg(test)]
mod tests {
    use super::*;
    use plugin_host::ResourceSink;

    #[test]
    fn without_scope_keys_a_value_is_enriched_only() {
        let item = serde_json::json!({"Id": "a", "Tags": [{"Key": "Name", "Value": "n"}]});
        let keyed = ScopeTags::new("111122223333", "eu-west-1", Options::default());
        let bare = ScopeTags::new(
            "111122223333",
            "eu-west-1",
            Options {
                no_scope_keys: true,
                ..Options::default()
            },
        );
        let mut expected = keyed.tag_value(item.clone()).unwrap();
        let obj = expected.as_object_mut().unwrap();
        assert!(obj.shift_remove("RequestRegion").is_some());
        assert!(obj.shift_remove("RequestAccount").is_some());
        assert_eq!(bare.tag_value(item).unwrap(), expected);
        assert_eq!(expected["TagsMap"], serde_json::json!({"Name": "n"}));
    }

    #[tokio::test]
    async fn resources_wait_for_an_account_resolved_on_demand() {
        let asked = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = asked.clone();
        let account = ScopeAccount::lazy(move || {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async { Ok("111122223333".to_string()) }
        });
        let (tx, mut rx) = tokio::sync::mpsc::channel(16);
        let mut sink = ScopeSink::new(account, "eu-west-1", Options::default(), tx);
        sink.accept(r#"{"Id":"a","Tags":[{"Key":"Name","Value":"n"}]}"#.into())
            .unwrap();
        sink.accept(r#"{ "Id": "b" }"#.into()).unwrap();
        assert!(sink.accept("[1]".into()).is_err());
        assert!(sink.accept("{".into()).is_err());
        assert_eq!(
            asked.load(std::sync::atomic::Ordering::SeqCst),
            0,
            "not asked yet"
        );
        sink.flush().await.unwrap();
        sink.accept(r#"{"Id":"c"}"#.into()).unwrap();
        sink.flush().await.unwrap();
        assert_eq!(
            asked.load(std::sync::atomic::Ordering::SeqCst),
            1,
            "asked once"
        );
        let mut out = Vec::new();
        while let Ok(e) = rx.try_recv() {
            out.push(e.resource.into_value());
        }
        assert_eq!(
            out,
            vec![
                serde_json::json!({"Id":"a","Tags":[{"Key":"Name","Value":"n"}],"TagsMap":{"Name":"n"},"Name":"n","RequestRegion":"eu-west-1","RequestAccount":"111122223333"}),
                serde_json::json!({"Id":"b","RequestRegion":"eu-west-1","RequestAccount":"111122223333"}),
                serde_json::json!({"Id":"c","RequestRegion":"eu-west-1","RequestAccount":"111122223333"}),
            ]
        );
    }
}
