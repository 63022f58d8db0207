//! The fan-out: one task per (account, region) — per account for global plugins — under a
//! concurrency bound. Each scope succeeds or fails on its own; resources stream to the
//! output as they are emitted.

use std::sync::Arc;
use std::time::Duration;

use futures::stream::{self, StreamExt};
use serde_json::Value;

use aws_engine::catalogue::ModelType;
use aws_engine::schema::{Column, Reference, Schema};
use aws_engine::{AwsClient, Budget, ConstructionError, EngineError, Models, TimeoutError};
use plugin_host::{CollectStats, Plugin, PluginRuntime, ScopeAccount, ScopeContext, ScopeError};

use super::{Emitted, Options, ScopeSink, ScopeTags};
use crate::plan::Target;

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
        ScopeFailure {
            code: e.code().map(str::to_string),
            message: e.to_string(),
        }
    }
}

impl From<EngineError> for ScopeFailure {
    /// The engine's error; a scope limit is named by the flag that set it.
    fn from(e: EngineError) -> Self {
        let message = match &e {
            EngineError::Construction(ConstructionError::CallLimit { limit, .. }) => {
                format!("call limit of {limit} AWS calls per scope reached (--max-calls)")
            }
            EngineError::Timeout(TimeoutError::Deadline(limit)) => {
                format!(
                    "time limit of {} s per scope reached (--timeout)",
                    limit.as_secs()
                )
            }
            _ => e.to_string(),
        };
        ScopeFailure {
            code: e.code().map(str::to_string),
            message,
        }
    }
}

/// `--max-calls` and `--timeout` for the scopes mrhost runs itself (a model-derived type,
/// `call`); a plugin's scope has them from its sandbox limits.
#[derive(Debug, Clone, Copy)]
pub struct ScopeLimits {
    /// AWS calls (pages) one scope may make.
    pub max_calls: u64,
    /// How long one scope may take.
    pub timeout: Duration,
}

impl ScopeLimits {
    /// The engine's budget for one scope's pagination, starting now.
    pub fn budget(&self) -> Budget {
        Budget::unlimited()
            .max_calls(self.max_calls)
            .time_limit(self.timeout)
    }

    /// Run one scope within its time limit: the engine stops a call at the deadline; this
    /// also bounds what the scope does between calls.
    pub async fn run<T>(
        &self,
        scope: impl std::future::Future<Output = Result<T, EngineError>>,
    ) -> Result<T, EngineError> {
        match tokio::time::timeout(self.timeout, scope).await {
            Ok(r) => r,
            Err(_) => Err(TimeoutError::Deadline(self.timeout).into()),
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

/// Who produces the resources: a plugin, or a model-derived type (whose items are the
/// operation's result key). Everything else — scopes, fan-out, tagging, output — is shared.
#[derive(Clone)]
pub enum Source {
    Plugin(Arc<PluginRuntime>, Arc<Plugin>),
    Model(Arc<ModelType>, Arc<Value>),
}

impl Source {
    pub fn name(&self) -> String {
        match self {
            Source::Plugin(_, p) => p.manifest.name.clone(),
            Source::Model(t, _) => format!("{} {}", t.service, t.resource),
        }
    }

    /// The typed columns of the source's items (what the inventory store's tables are
    /// made of): a plugin's (its model shape and declared
    /// columns), or a model-derived type's (its item shape); the host's included.
    #[allow(dead_code)] // the inventory store (host/src/inventory) consumes it
    pub fn columns(&self, models: &Models) -> Vec<Column> {
        match self {
            Source::Plugin(_, p) => p.manifest.columns(models),
            Source::Model(t, _) => t.columns(models),
        }
    }

    /// The fields of the source's items that name resources of other types: declared
    /// and inferred from the models.
    #[allow(dead_code)] // the inventory store's edges table consumes it
    pub fn references(&self, models: &Models) -> Vec<Reference> {
        match self {
            Source::Plugin(_, p) => p.manifest.references(models),
            Source::Model(t, _) => t.references(models),
        }
    }
}

/// Collect one scope of a source on its own task (a panic or a stuck scope stays
/// contained); resources go to `tx`, tagged. `sync` runs every (source, target) unit
/// through this under one scheduler; `run_source` under one per source.
pub async fn collect_scope(
    source: Source,
    client: AwsClient,
    t: &Target,
    tx: tokio::sync::mpsc::Sender<Emitted>,
    options: Options,
) -> Result<ScopeSuccess, ScopeFailure> {
    let account = t.account.id.clone();
    let region = t.region.clone();
    let creds = t.account.creds.clone();
    let partition = t.partition.clone();
    let handle = tokio::spawn(async move {
        match source {
            Source::Plugin(runtime, plugin) => {
                let account = ScopeAccount::known(account);
                let sink = ScopeSink::new(account.clone(), &region, options, tx);
                let ctx = ScopeContext {
                    account,
                    region,
                    partition,
                    plugin: plugin.manifest.name.clone(),
                    aws: Some((client, creds)),
                };
                runtime
                    .collect(&plugin, ctx, Box::new(sink))
                    .await
                    .map(ScopeSuccess::from)
                    .map_err(ScopeFailure::from)
            }
            Source::Model(ty, params) => {
                let tags = ScopeTags::new(&account, &region, options);
                let started = std::time::Instant::now();
                let limits = options.limits;
                let scope = super::model_source::collect(
                    &client,
                    creds,
                    &tags,
                    &region,
                    &ty,
                    &params,
                    &tx,
                    limits.map(|l| l.budget()).unwrap_or_default(),
                );
                match limits {
                    Some(l) => l.run(scope).await,
                    None => scope.await,
                }
                .map(|(resources, calls)| ScopeSuccess {
                    resources,
                    calls,
                    elapsed: started.elapsed(),
                })
                .map_err(ScopeFailure::from)
            }
        }
    });
    match handle.await {
        Ok(r) => r,
        Err(join) => Err(ScopeFailure {
            code: None,
            message: format!("scope task failed: {join}"),
        }),
    }
}

/// Run a source over `targets`. Resources go to `tx` as they are emitted.
pub async fn run_source(
    source: Source,
    client: AwsClient,
    targets: Vec<Target>,
    concurrency: usize,
    tx: tokio::sync::mpsc::Sender<Emitted>,
    counters: Arc<Counters>,
    options: Options,
) -> Vec<ScopeOutcome> {
    use std::sync::atomic::Ordering::Relaxed;
    stream::iter(targets)
        .map(|t| {
            let counters = counters.clone();
            let source = source.clone();
            let client = client.clone();
            let tx = tx.clone();
            async move {
                let result = collect_scope(source, client, &t, tx, options).await;
                counters.scopes_done.fetch_add(1, Relaxed);
                match &result {
                    Ok(s) => tracing::debug!(
                        scope = %format!("{}/{}", t.account.id, t.region),
                        resources = s.resources,
                        calls = s.calls,
                        ms = s.elapsed.as_millis() as u64,
                        "scope done"
                    ),
                    Err(_) => {
                        counters.scopes_failed.fetch_add(1, Relaxed);
                    }
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
/// Each target is one scope under `limits`.
#[allow(clippy::too_many_arguments)]
pub async fn run_call(
    client: AwsClient,
    op: aws_engine::OperationRef,
    params: Value,
    targets: Vec<Target>,
    concurrency: usize,
    paginate: bool,
    limits: ScopeLimits,
    counters: Arc<Counters>,
) -> Vec<(Target, Result<Value, ScopeFailure>)> {
    use std::sync::atomic::Ordering::Relaxed;
    stream::iter(targets)
        .map(|t| {
            let counters = counters.clone();
            let client = client.clone();
            let op = op.clone();
            let params = params.clone();
            async move {
                let mut pages = client
                    .pages(t.account.creds.clone(), &t.region, op, params)
                    .budget(limits.budget());
                let r = limits
                    .run(async move {
                        if paginate {
                            pages.full_result().await
                        } else {
                            pages
                                .next_page()
                                .await
                                .unwrap_or_else(|| Ok(Value::Object(Default::default())))
                        }
                    })
                    .await;
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
