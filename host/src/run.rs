//! The fan-out: one task per (account, region) — per account for global plugins — under a
//! concurrency bound. Each scope succeeds or fails on its own; resources stream to the
//! output as they are emitted.

use std::sync::Arc;
use std::time::Duration;

use futures::stream::{self, StreamExt};
use serde_json::Value;

use crate::engine::{AwsClient, EngineError};
use crate::plugin::{CollectStats, Emitted, Plugin, PluginRuntime, ScopeContext, ScopeError};
use crate::scope::Target;

/// How one scope ended.
#[derive(Debug)]
pub struct ScopeOutcome {
    pub account: String,
    pub region: String,
    pub result: Result<ScopeSuccess, ScopeFailure>,
}

#[derive(Debug, Default)]
pub struct ScopeSuccess {
    pub resources: u64,
    pub calls: u64,
    pub elapsed: Duration,
}

#[derive(Debug, Clone)]
pub struct ScopeFailure {
    /// The AWS error code when the service answered with one.
    pub code: Option<String>,
    pub message: String,
}

impl ScopeOutcome {
    pub fn label(&self) -> String {
        format!("{}/{}", self.account, self.region)
    }
}

impl From<CollectStats> for ScopeSuccess {
    fn from(s: CollectStats) -> Self {
        ScopeSuccess {
            resources: s.resources,
            calls: s.calls,
            elapsed: s.elapsed,
        }
    }
}

impl From<ScopeError> for ScopeFailure {
    fn from(e: ScopeError) -> Self {
        // A plugin error that carries an AWS error code ("AccessDenied: ...") keeps it.
        let message = e.to_string();
        let code = match &e {
            ScopeError::Plugin(m) => m
                .split_once(':')
                .map(|(c, _)| c.trim())
                .filter(|c| {
                    !c.is_empty() && c.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '.')
                })
                .map(str::to_string),
            _ => None,
        };
        ScopeFailure { code, message }
    }
}

impl From<EngineError> for ScopeFailure {
    fn from(e: EngineError) -> Self {
        ScopeFailure {
            code: e.code().map(str::to_string),
            message: e.to_string(),
        }
    }
}

/// Live counts of a run, for the progress display and the summary.
#[derive(Debug, Default)]
pub struct Counters {
    pub scopes_done: std::sync::atomic::AtomicU64,
    pub scopes_failed: std::sync::atomic::AtomicU64,
    pub resources: std::sync::atomic::AtomicU64,
}

/// Run a plugin over `targets`. Resources go to `tx` as they are emitted.
pub async fn run_plugin(
    runtime: Arc<PluginRuntime>,
    plugin: Arc<Plugin>,
    client: AwsClient,
    targets: Vec<Target>,
    concurrency: usize,
    tx: tokio::sync::mpsc::Sender<Emitted>,
    counters: Arc<Counters>,
) -> Vec<ScopeOutcome> {
    use std::sync::atomic::Ordering::Relaxed;
    stream::iter(targets)
        .map(|t| {
            let counters = counters.clone();
            let runtime = runtime.clone();
            let plugin = plugin.clone();
            let client = client.clone();
            let tx = tx.clone();
            async move {
                let ctx = ScopeContext {
                    account: t.account.id.clone(),
                    region: t.region.clone(),
                    partition: t.partition.clone(),
                    plugin: plugin.manifest.name.clone(),
                    aws: Some((client, t.account.creds.clone())),
                };
                // Each scope on its own task: a panic or a stuck scope stays contained.
                let handle = tokio::spawn(async move { runtime.collect(&plugin, ctx, tx).await });
                let result = match handle.await {
                    Ok(Ok(stats)) => Ok(stats.into()),
                    Ok(Err(e)) => Err(e.into()),
                    Err(join) => Err(ScopeFailure {
                        code: None,
                        message: format!("scope task failed: {join}"),
                    }),
                };
                counters.scopes_done.fetch_add(1, Relaxed);
                if result.is_err() {
                    counters.scopes_failed.fetch_add(1, Relaxed);
                }
                ScopeOutcome {
                    account: t.account.id,
                    region: t.region,
                    result,
                }
            }
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await
}

/// `mrhost call`: one operation in every target; pages merged unless `paginate` is false.
pub async fn run_call(
    client: AwsClient,
    service: String,
    operation: String,
    params: Value,
    targets: Vec<Target>,
    concurrency: usize,
    paginate: bool,
    counters: Arc<Counters>,
) -> Vec<(Target, Result<Value, ScopeFailure>)> {
    use std::sync::atomic::Ordering::Relaxed;
    stream::iter(targets)
        .map(|t| {
            let counters = counters.clone();
            let client = client.clone();
            let service = service.clone();
            let operation = operation.clone();
            let params = params.clone();
            async move {
                let r = if paginate {
                    client
                        .paginate_all(&t.account.creds, &t.region, &service, &operation, &params)
                        .await
                } else {
                    client
                        .call(&t.account.creds, &t.region, &service, &operation, &params)
                        .await
                };
                counters.scopes_done.fetch_add(1, Relaxed);
                if r.is_err() {
                    counters.scopes_failed.fetch_add(1, Relaxed);
                }
                (t, r.map_err(ScopeFailure::from))
            }
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await
}
