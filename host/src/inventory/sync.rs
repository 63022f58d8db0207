//! One sync: every (source, account, region) unit of the plan — global types once per
//! account — under one concurrency bound, each unit's resources buffered (memory, then an
//! unlinked file) and committed by one writer, atomically with the unit's record, as soon
//! as the unit finishes. A unit that fails is recorded and the others go on.

use std::collections::HashSet;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use aws_engine::AwsClient;
use futures::stream::{self, StreamExt};
use time::OffsetDateTime;

use super::buffer::{UnitBuffer, UnitRows};
use super::dispatch::{slowest_region_first, RegionLatency};
use super::progress::SyncCounters;
use super::schema::{prepare, FoundColumns, RefIndex, TypeSpec};
use super::store::{ErrorClass, Failure, Store, SyncRow, UnitCommit, UnitCounts, UnitKey};
use super::InventoryError;
use crate::pipeline::fanout::collect_scope;
use crate::pipeline::Options;
use crate::pipeline::{ScopeFailure, Source};
use crate::plan::{PlanError, ScopePlan, SkippedAccount, Target};

/// One type to sync: who produces it and its schema.
pub struct SyncSource {
    pub source: Source,
    pub spec: Arc<TypeSpec>,
}

/// A unit of the plan: a source over one target. Small, since the dispatcher queues every
/// resolved account's units (69,000 at 1,000 accounts): the target is shared by the
/// account's sources in that region and the unit's key is made when it starts.
struct Unit {
    source: usize,
    target: Arc<Target>,
}

impl Unit {
    fn key(&self, sources: &[SyncSource]) -> Option<UnitKey> {
        Some(UnitKey {
            table: sources.get(self.source)?.spec.table.clone(),
            account: self.target.account.id.clone(),
            region: self.target.region.clone(),
        })
    }
}

/// A unit that finished fetching, on its way to the writer.
enum Finished {
    Fetched {
        key: UnitKey,
        source: usize,
        rows: UnitRows,
        found: FoundColumns,
        calls: u64,
        started: OffsetDateTime,
        finished: OffsetDateTime,
    },
    Failed {
        key: UnitKey,
        failure: ScopeFailure,
        started: OffsetDateTime,
        finished: OffsetDateTime,
    },
}

/// How the sync went.
pub struct SyncOutcome {
    pub sync: SyncRow,
    /// Units planned in this run (those committed earlier in the same sync excluded).
    pub units: usize,
    /// Units committed earlier in the same sync (resume, or another shard's).
    pub already_done: usize,
    pub failures: Vec<(String, ScopeFailure)>,
    pub skipped: Vec<SkippedAccount>,
    /// Rows written in this run.
    pub counts: UnitCounts,
}

/// The sync's units, account by account as the plan resolves each one (its role assumed):
/// each source over that account's targets, round-robin over the sources so the services
/// and regions being called at any moment are many rather than one, minus those done.
/// Units of the first accounts start while later accounts' roles are still being assumed.
fn plan_units<'a>(
    plan: &'a ScopePlan,
    sources: &'a [SyncSource],
    done: &'a HashSet<UnitKey>,
    skipped_done: &'a AtomicUsize,
) -> impl futures::Stream<Item = Result<Unit, PlanError>> + 'a {
    plan.targets_by_account().flat_map(move |r| {
        let units: Vec<Result<Unit, PlanError>> = match r {
            Err(e) => vec![Err(e)],
            Ok((regional, global)) => {
                let regional: Vec<Arc<Target>> = regional.into_iter().map(Arc::new).collect();
                let global: Vec<Arc<Target>> = global.into_iter().map(Arc::new).collect();
                let per_source: Vec<Vec<Unit>> = sources
                    .iter()
                    .enumerate()
                    .map(|(i, s)| {
                        let targets = if s.spec.global { &global } else { &regional };
                        targets
                            .iter()
                            .filter_map(|t| {
                                let unit = Unit {
                                    source: i,
                                    target: t.clone(),
                                };
                                if !done.is_empty()
                                    && unit.key(sources).is_some_and(|k| done.contains(&k))
                                {
                                    skipped_done.fetch_add(1, Relaxed);
                                    return None;
                                }
                                Some(unit)
                            })
                            .collect()
                    })
                    .collect();
                round_robin(per_source).into_iter().map(Ok).collect()
            }
        };
        stream::iter(units)
    })
}

/// One from each list in turn, until all are empty.
fn round_robin<T>(lists: Vec<Vec<T>>) -> Vec<T> {
    let mut out = Vec::new();
    let mut iters: Vec<std::vec::IntoIter<T>> = lists.into_iter().map(|v| v.into_iter()).collect();
    loop {
        let mut any = false;
        for it in &mut iters {
            if let Some(u) = it.next() {
                out.push(u);
                any = true;
            }
        }
        if !any {
            return out;
        }
    }
}

/// Fetch one unit into a buffer.
async fn fetch(
    client: AwsClient,
    source: Source,
    spec: Arc<TypeSpec>,
    refs: Arc<RefIndex>,
    key: UnitKey,
    unit: Unit,
    counters: Arc<SyncCounters>,
) -> Finished {
    let started = OffsetDateTime::now_utc();
    let (tx, mut rx) = tokio::sync::mpsc::channel(512);
    let target = unit.target;
    let collect = tokio::spawn(async move {
        let options = Options {
            no_scope_keys: true,
            ..Options::default()
        };
        collect_scope(source, client, &target, tx, options).await
    });
    let mut buf = UnitBuffer::default();
    let mut found = FoundColumns::default();
    let mut io_error = None;
    let type_counters = counters.of(&key.table);
    while let Some(e) = rx.recv().await {
        let e: crate::pipeline::Emitted = e;
        let Ok((mut p, item)) = prepare(e.resource.into_value(), spec.id_field.as_deref()) else {
            continue;
        };
        // Found here, in the unit's own task, while the item is parsed: the writer (one
        // for the whole sync) then never parses an item's nested values.
        p.refs = refs.references(&spec.table, &p.id, &item);
        found.observe(&p, &item);
        drop(item);
        if io_error.is_none() {
            if let Err(err) = buf.push(&p) {
                io_error = Some(err);
            }
        }
        counters.resources.fetch_add(1, Relaxed);
        if let Some(t) = type_counters {
            t.resources.fetch_add(1, Relaxed);
        }
    }
    let result = match collect.await {
        Ok(r) => r,
        Err(join) => Err(ScopeFailure {
            code: None,
            message: format!("unit task failed: {join}"),
        }),
    };
    let finished = OffsetDateTime::now_utc();
    let result = result.and_then(|s| match io_error {
        Some(e) => Err(ScopeFailure {
            code: None,
            message: format!("buffering the unit's resources: {e}"),
        }),
        None => Ok(s),
    });
    match result.and_then(|s| {
        buf.finish()
            .map(|rows| (rows, s.calls))
            .map_err(|e| ScopeFailure {
                code: None,
                message: format!("buffering the unit's resources: {e}"),
            })
    }) {
        Ok((rows, calls)) => Finished::Fetched {
            key,
            source: unit.source,
            rows,
            found,
            calls,
            started,
            finished,
        },
        Err(failure) => Finished::Failed {
            key,
            failure,
            started,
            finished,
        },
    }
}

/// `MRHOST_TEST_PAUSE_AFTER_UNITS=N`: after N committed units the writer says so on
/// stderr and stops taking units (the process stays up), so a test can kill it at a known
/// point.
fn pause_after() -> Option<u64> {
    std::env::var("MRHOST_TEST_PAUSE_AFTER_UNITS")
        .ok()
        .and_then(|v| v.parse().ok())
}

/// The most finished units one write takes together (one SQLite transaction).
const WRITE_BATCH: usize = 64;

/// A fetched unit waiting in a write batch.
struct FetchedUnit {
    key: UnitKey,
    spec: Arc<TypeSpec>,
    found: FoundColumns,
    calls: u64,
    started: OffsetDateTime,
    finished: OffsetDateTime,
}

/// The writer: commits units in the order they finish — whatever has finished since the
/// last write, up to [`WRITE_BATCH`], in one write — and records failures.
async fn write_units(
    mut store: Store,
    sync: i64,
    specs: Vec<Arc<TypeSpec>>,
    mut rx: tokio::sync::mpsc::Receiver<Finished>,
    counters: Arc<SyncCounters>,
    ignore: Vec<String>,
) -> (
    Store,
    Result<(UnitCounts, Vec<(String, ScopeFailure)>), InventoryError>,
) {
    let mut total = UnitCounts::default();
    let mut failures = Vec::new();
    let mut committed = 0u64;
    let pause = pause_after();
    while let Some(first) = rx.recv().await {
        // With the test pause set, never write past it: the test kills the process
        // there and counts exactly that many units.
        let limit = match pause {
            Some(p) if p > committed => ((p - committed) as usize).min(WRITE_BATCH),
            _ => WRITE_BATCH,
        };
        let mut batch = vec![first];
        while batch.len() < limit {
            match rx.try_recv() {
                Ok(f) => batch.push(f),
                Err(_) => break,
            }
        }
        let mut fetched = Vec::new();
        let mut rows_of = Vec::new();
        let mut results: Vec<(UnitKey, Result<UnitCounts, ScopeFailure>)> = Vec::new();
        for f in batch {
            match f {
                Finished::Fetched {
                    key,
                    source,
                    rows,
                    found,
                    calls,
                    started,
                    finished,
                } => {
                    let Some(spec) = specs.get(source) else {
                        continue;
                    };
                    rows_of.push(rows);
                    fetched.push(FetchedUnit {
                        key,
                        spec: spec.clone(),
                        found,
                        calls,
                        started,
                        finished,
                    });
                }
                Finished::Failed {
                    key,
                    failure,
                    started,
                    finished,
                } => {
                    let class = ErrorClass::of_code(failure.code.as_deref());
                    let rec = Failure {
                        table: Some(key.table.clone()),
                        account: key.account.clone(),
                        region: Some(key.region.clone()),
                        code: failure.code.clone(),
                        message: failure.message.clone(),
                        class,
                        started,
                        finished,
                    };
                    if let Err(e) = store.record_failure(sync, &rec).await {
                        return (store, Err(e));
                    }
                    results.push((key, Err(failure)));
                }
            }
        }
        if !fetched.is_empty() {
            let commits: Vec<UnitCommit<'_>> = fetched
                .iter()
                .zip(rows_of)
                .map(|(u, rows)| UnitCommit {
                    sync,
                    key: &u.key,
                    spec: &u.spec,
                    found: &u.found,
                    rows,
                    started: u.started,
                    finished: u.finished,
                    calls: u.calls,
                })
                .collect();
            match store.commit_units(commits).await {
                Ok(counts) => {
                    for (u, n) in fetched.into_iter().zip(counts) {
                        results.push((u.key, Ok(n)));
                    }
                }
                Err(e) => return (store, Err(e)),
            }
        }
        for (key, result) in results {
            counters.done.fetch_add(1, Relaxed);
            let tc = counters.of(&key.table);
            if let Some(t) = tc {
                t.done.fetch_add(1, Relaxed);
            }
            match result {
                Ok(n) => {
                    total.resources += n.resources;
                    total.added += n.added;
                    total.changed += n.changed;
                    total.removed += n.removed;
                    total.written += n.written;
                    counters.written.fetch_add(n.written, Relaxed);
                    tracing::debug!(unit = %key.label(), resources = n.resources, added = n.added, changed = n.changed, removed = n.removed, "unit committed");
                }
                Err(f) => {
                    if !crate::plan::code_ignored(f.code.as_deref(), &ignore) {
                        counters.failed.fetch_add(1, Relaxed);
                        if let Some(t) = tc {
                            t.failed.fetch_add(1, Relaxed);
                        }
                    }
                    failures.push((format!("{} {}/{}", key.table, key.account, key.region), f));
                }
            }
            committed += 1;
        }
        if pause.is_some_and(|p| committed >= p) {
            eprintln!("mrhost: test: paused after {committed} units");
            // Hold the store (and the process) until killed.
            loop {
                tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
            }
        }
    }
    (store, Ok((total, failures)))
}

/// Start the writer on a thread of its own (`mrhost-writer`, a current-thread runtime).
/// Its commits are the sync's one serial part: on the main runtime's workers each commit
/// handed the worker's queue to another thread (`block_in_place`), and there the writer
/// shared two cores with every unit being fetched and parsed. Its own thread gets its own
/// share of the machine. The output comes back through the receiver.
fn writer_thread<F>(fut: F) -> anyhow::Result<tokio::sync::oneshot::Receiver<F::Output>>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| anyhow::anyhow!("starting the inventory writer: {e}"))?;
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("mrhost-writer".into())
        .spawn(move || {
            let _ = tx.send(rt.block_on(fut));
        })
        .map_err(|e| anyhow::anyhow!("starting the inventory writer: {e}"))?;
    Ok(rx)
}

/// Everything a sync needs besides the plan.
pub struct SyncJob {
    pub client: AwsClient,
    pub sources: Vec<SyncSource>,
    pub concurrency: usize,
    pub ignore: Vec<String>,
    pub quiet: bool,
}

/// Run the sync: units of the plan not yet done in `session`, committed as they finish.
pub async fn run(
    job: SyncJob,
    plan: Arc<ScopePlan>,
    store: Store,
    session: &super::store::SyncSession,
) -> Result<(Store, SyncOutcome), anyhow::Error> {
    let tables: Vec<String> = job.sources.iter().map(|s| s.spec.table.clone()).collect();
    let counters = Arc::new(SyncCounters::new(&tables));
    let specs: Vec<Arc<TypeSpec>> = job.sources.iter().map(|s| s.spec.clone()).collect();
    let spec_list: Vec<TypeSpec> = specs.iter().map(|s| (**s).clone()).collect();
    let refs = Arc::new(RefIndex::new(&spec_list));
    let progress =
        super::progress::SyncProgress::start(counters.clone(), job.client.clone(), job.quiet);
    // Finished units wait for the writer, which takes what has gathered in one write;
    // past that, fetching waits (each waiting unit holds at most its 1 MiB buffer).
    let (tx, rx) = tokio::sync::mpsc::channel::<Finished>(WRITE_BATCH);
    let writer = writer_thread(write_units(
        store,
        session.id,
        specs.clone(),
        rx,
        counters.clone(),
        job.ignore.clone(),
    ))?;
    let sources: Vec<Source> = job.sources.iter().map(|s| s.source.clone()).collect();
    let skipped_done = AtomicUsize::new(0);
    let n_units = AtomicUsize::new(0);
    let mut plan_error = None;
    let units = plan_units(&plan, &job.sources, &session.done, &skipped_done)
        // A plan error (no region, say) ends the plan there; it is returned below.
        .scan(&mut plan_error, |slot, r| {
            std::future::ready(match r {
                Ok(u) => Some(u),
                Err(e) => {
                    **slot = Some(e);
                    None
                }
            })
        })
        .inspect(|u| {
            n_units.fetch_add(1, Relaxed);
            counters.total.fetch_add(1, Relaxed);
            let table = job.sources.get(u.source).map(|s| s.spec.table.as_str());
            if let Some(t) = table.and_then(|t| counters.of(t)) {
                t.total.fetch_add(1, Relaxed);
            }
        });
    let latency = Arc::new(RegionLatency::default());
    slowest_region_first(
        Box::pin(units),
        |u: &Unit| &u.target.region,
        latency.clone(),
    )
    .map(|u| {
        let latency = latency.clone();
        let refs = refs.clone();
        let client = job.client.clone();
        let source = sources.get(u.source).cloned();
        let spec = specs.get(u.source).cloned();
        let key = u.key(&job.sources);
        let counters = counters.clone();
        let tx = tx.clone();
        async move {
            let (Some(source), Some(spec), Some(key)) = (source, spec, key) else {
                return;
            };
            // Each unit in its own task: its resources are prepared and buffered on
            // whichever worker is free, not all in this one stream's task (at 1,000
            // accounts that one task was the process's ceiling: one core).
            let started = OffsetDateTime::now_utc();
            let f = match tokio::spawn(fetch(client, source, spec, refs, key.clone(), u, counters))
                .await
            {
                Ok(f) => f,
                Err(join) => Finished::Failed {
                    key,
                    failure: ScopeFailure {
                        code: None,
                        message: format!("unit task failed: {join}"),
                    },
                    started,
                    finished: OffsetDateTime::now_utc(),
                },
            };
            if let Finished::Fetched {
                key,
                calls,
                started,
                finished,
                ..
            } = &f
            {
                latency.record(&key.region, (*finished - *started).as_seconds_f64(), *calls);
            }
            // A closed writer (it failed) ends the sync; its error is reported.
            let _ = tx.send(f).await;
        }
    })
    .buffer_unordered(job.concurrency.max(1))
    .collect::<Vec<()>>()
    .await;
    drop(tx);
    let (mut store, written) = writer
        .await
        .map_err(|_| anyhow::anyhow!("inventory writer failed: its thread stopped"))?;
    progress.finish();
    let (counts, failures) = written?;
    if let Some(e) = plan_error {
        return Err(e.into());
    }
    let n_units = n_units.into_inner();
    let already_done = skipped_done.into_inner();
    let skipped = plan.skipped();
    for s in skipped.iter().filter(|s| s.failure) {
        let now = OffsetDateTime::now_utc();
        store
            .record_failure(
                session.id,
                &Failure {
                    table: None,
                    account: s.account.clone(),
                    region: None,
                    code: s.code.clone(),
                    message: s.reason.clone(),
                    class: ErrorClass::of_code(s.code.as_deref()),
                    started: now,
                    finished: now,
                },
            )
            .await?;
    }
    let hard_failures = failures
        .iter()
        .filter(|(_, f)| !crate::plan::code_ignored(f.code.as_deref(), &job.ignore))
        .count()
        + skipped
            .iter()
            .filter(|s| s.failure && !crate::plan::code_ignored(s.code.as_deref(), &job.ignore))
            .count();
    let status = if hard_failures == 0 {
        "complete"
    } else if hard_failures >= n_units + already_done && n_units > 0 {
        "failed"
    } else {
        "partial"
    };
    let row = store.finish_sync(session.id, status).await?;
    Ok((
        store,
        SyncOutcome {
            sync: row,
            units: n_units,
            already_done,
            failures,
            skipped,
            counts,
        },
    ))
}
