//! The `aws` interface: single calls, pages, batches of concurrent calls (0.2) and the
//! account (0.2). Every call passes the same gate, [`AwsState::admit`]: the deadline, the
//! call budget (`--max-calls`, checked here and nowhere else), the params size, the
//! operation's existence, the permission check (`policy.rs`) and valid JSON. Calls then go
//! through the engine's retries and rate limiter.
//!
//! What the host holds for a plugin is bounded too: open `pages` and `batch` resources are
//! counted (`Limits::max_open_handles`), and the parameters they hold — of open pages and of
//! calls not finished yet — may not exceed the memory limit. Calls run at most
//! `Limits::call_concurrency` at a time per scope (one semaphore for all its batches); a
//! finished call gives its slot back at once, but each batch starts a call only while fewer
//! than that many of its results wait for the plugin, so a batch never holds more responses
//! than that — and a batch the plugin is not reading cannot starve another one (nested
//! batches never deadlock).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use aws_engine::{
    AwsClient, ConstructionError, CredentialSource, EngineError, OperationRef, Pages,
};
use serde_json::Value;
use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};
use wasmtime::component::{Resource, ResourceTable};

use super::sink::SinkState;
use super::{ScopeAccount, ScopeContext};
use crate::bindings::{v0_1, v0_2};
use crate::escape::escape_controls;
use crate::limits::{LimitExceeded, LimitKind, Limits, Tripwire};
use crate::params::ParamValue;
use crate::policy::{Decision, Policy};

/// Why a call failed, whatever the contract version (each converts it to its own
/// `call-error`).
#[derive(Debug, Clone)]
pub(crate) enum CallFailure {
    Api {
        code: String,
        message: String,
        http_status: u16,
        retryable: bool,
    },
    Denied(String),
    InvalidRequest(String),
    Failed(String),
}

/// The engine's error as the contract's: the service's answer as `api` (with whether the
/// engine retries its kind), a request that cannot be made as `invalid-request`, and
/// everything else (transport, time-outs, credentials, an unusable response) as `failed`.
impl From<EngineError> for CallFailure {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::Service(a) => {
                let retryable = a.is_retryable();
                let a = *a;
                CallFailure::Api {
                    code: a.code,
                    message: a.message,
                    http_status: a.http_status,
                    retryable,
                }
            }
            EngineError::Construction(
                c @ (ConstructionError::UnknownService { .. }
                | ConstructionError::UnknownOperation { .. }
                | ConstructionError::InvalidParams { .. }),
            ) => CallFailure::InvalidRequest(c.to_string()),
            e => CallFailure::Failed(e.to_string()),
        }
    }
}

macro_rules! call_error_of {
    ($name:ident, $v:ident) => {
        fn $name(f: CallFailure) -> $v::mrhost::plugin::types::CallError {
            use $v::mrhost::plugin::types::{ApiError, CallError};
            match f {
                CallFailure::Api {
                    code,
                    message,
                    http_status,
                    retryable,
                } => CallError::Api(ApiError {
                    code,
                    message,
                    http_status,
                    retryable,
                }),
                CallFailure::Denied(m) => CallError::Denied(m),
                CallFailure::InvalidRequest(m) => CallError::InvalidRequest(m),
                CallFailure::Failed(m) => CallError::Failed(m),
            }
        }
    };
}
call_error_of!(v1_error, v0_1);
call_error_of!(v2_error, v0_2);

/// Bytes the host holds for the plugin (parameters of an open page or an unfinished
/// call), given back when dropped.
struct Held {
    bytes: usize,
    counter: Arc<AtomicUsize>,
}

impl Drop for Held {
    fn drop(&mut self) {
        self.counter.fetch_sub(self.bytes, Ordering::Relaxed);
    }
}

/// An open `pages` resource (both versions). Public only because the generated bindings
/// name it.
#[allow(unreachable_pub)]
pub struct PagesState {
    pages: Option<Pages>,
    pending: Option<CallFailure>,
    _held: Held,
}

/// One call of a batch, waiting for a slot.
struct Job {
    index: u32,
    op: OperationRef,
    params: Value,
    held: Held,
}

/// A finished call of a batch; its place in the batch's window is given back when it is
/// handed over.
struct Done {
    index: u32,
    result: Result<String, CallFailure>,
    _permit: Option<OwnedSemaphorePermit>,
}

/// An open `batch` resource (0.2). Public only because the generated bindings name it.
#[allow(unreachable_pub)]
pub struct BatchState {
    jobs: mpsc::UnboundedSender<Job>,
    results_tx: mpsc::UnboundedSender<Done>,
    results: mpsc::UnboundedReceiver<Done>,
    added: u32,
    delivered: u32,
    driver: tokio::task::AbortHandle,
}

impl Drop for BatchState {
    fn drop(&mut self) {
        // Its calls are aborted with it (the driver owns them).
        self.driver.abort();
    }
}

/// The `aws` state of one store.
pub(crate) struct AwsState {
    access: Option<(AwsClient, Arc<CredentialSource>)>,
    pub(crate) account: ScopeAccount,
    region: String,
    partition: String,
    label: String,
    policy: Policy,
    max_calls: u64,
    max_params_bytes: usize,
    max_response_bytes: usize,
    max_open: usize,
    held_limit: usize,
    concurrency: usize,
    pub(crate) calls: u64,
    open: usize,
    held: Arc<AtomicUsize>,
    permits: Arc<Semaphore>,
    pub(crate) params: Arc<Vec<(String, ParamValue)>>,
}

impl AwsState {
    pub(crate) fn new(
        ctx: ScopeContext,
        policy: Policy,
        limits: &Limits,
        params: Arc<Vec<(String, ParamValue)>>,
    ) -> Self {
        AwsState {
            label: format!("{} {}", ctx.plugin, ctx.label()),
            access: ctx.aws,
            account: ctx.account,
            region: ctx.region,
            partition: ctx.partition,
            policy,
            max_calls: limits.max_calls,
            max_params_bytes: limits.max_params_bytes,
            max_response_bytes: limits.max_response_bytes,
            max_open: limits.max_open_handles,
            held_limit: limits.memory,
            concurrency: limits.call_concurrency.max(1),
            calls: 0,
            open: 0,
            held: Arc::default(),
            permits: Arc::new(Semaphore::new(limits.call_concurrency.max(1))),
            params,
        }
    }

    pub(crate) fn region(&self) -> &str {
        &self.region
    }

    pub(crate) fn partition(&self) -> &str {
        &self.partition
    }

    /// The call budget: one more call, or the scope stops.
    fn charge(&mut self, trip: &Tripwire) -> wasmtime::Result<()> {
        if self.calls >= self.max_calls {
            return Err(trip.trip(LimitExceeded {
                kind: LimitKind::Calls,
                limit: self.max_calls,
            }));
        }
        self.calls += 1;
        Ok(())
    }

    /// One more open resource holding `bytes`, or the scope stops.
    fn hold(&mut self, trip: &Tripwire, bytes: usize, new_handle: bool) -> wasmtime::Result<Held> {
        if new_handle && self.open >= self.max_open {
            return Err(trip.trip(LimitExceeded {
                kind: LimitKind::OpenHandles,
                limit: self.max_open as u64,
            }));
        }
        let before = self.held.fetch_add(bytes, Ordering::Relaxed);
        let held = Held {
            bytes,
            counter: self.held.clone(),
        };
        if before + bytes > self.held_limit {
            return Err(trip.trip(LimitExceeded {
                kind: LimitKind::HeldBytes,
                limit: self.held_limit as u64,
            }));
        }
        if new_handle {
            self.open += 1;
        }
        Ok(held)
    }

    /// Everything a call must pass before it reaches AWS, after the budget: the params
    /// size, the operation's existence, the permission check, valid JSON.
    fn admit(
        &self,
        service: &str,
        operation: &str,
        params_json: &str,
    ) -> Result<(OperationRef, Value), CallFailure> {
        if params_json.len() > self.max_params_bytes {
            return Err(CallFailure::InvalidRequest(format!(
                "params-json is {} bytes; the limit is {} bytes",
                params_json.len(),
                self.max_params_bytes
            )));
        }
        let Some((client, _)) = &self.access else {
            return Err(CallFailure::Denied(
                "AWS calls are not available while the manifest is read".into(),
            ));
        };
        let op = client.operation(service, operation)?;
        if let Decision::Deny(reason) = self.policy.check(&op.model.name, &op.name) {
            tracing::warn!(target: "plugin", "[{}] denied: {}", self.label, escape_controls(&reason));
            return Err(CallFailure::Denied(reason));
        }
        let text = if params_json.trim().is_empty() {
            "{}"
        } else {
            params_json
        };
        let params: Value = serde_json::from_str(text).map_err(|e| {
            CallFailure::InvalidRequest(format!("params-json is not valid JSON: {e}"))
        })?;
        Ok((op, params))
    }

    fn access(&self) -> Result<(AwsClient, Arc<CredentialSource>), CallFailure> {
        self.access
            .clone()
            .ok_or_else(|| CallFailure::Denied("AWS calls are not available here".into()))
    }
}

/// A response as the JSON text handed to the guest, within the size limit.
fn response_json(v: &Value, max: usize) -> Result<String, CallFailure> {
    let s = serde_json::to_string(v).map_err(|e| CallFailure::Failed(e.to_string()))?;
    if s.len() > max {
        return Err(CallFailure::Failed(format!(
            "response of {} bytes exceeds the limit of {max} bytes handed to a plugin",
            s.len()
        )));
    }
    Ok(s)
}

/// Run a batch's calls as slots free up: a place in the batch's window (given back when the
/// plugin takes the result) and one of the scope's slots (given back when the call ends).
/// Each finished call goes to `results`. Aborting this task aborts its calls.
#[allow(clippy::too_many_arguments)]
async fn drive(
    mut jobs: mpsc::UnboundedReceiver<Job>,
    results: mpsc::UnboundedSender<Done>,
    window: Arc<Semaphore>,
    permits: Arc<Semaphore>,
    client: AwsClient,
    creds: Arc<CredentialSource>,
    region: String,
    max_response: usize,
) {
    let mut running = tokio::task::JoinSet::new();
    while let Some(job) = jobs.recv().await {
        let Ok(place) = window.clone().acquire_owned().await else {
            break;
        };
        let Ok(permit) = permits.clone().acquire_owned().await else {
            break;
        };
        while running.try_join_next().is_some() {}
        let (client, creds, region, results) = (
            client.clone(),
            creds.clone(),
            region.clone(),
            results.clone(),
        );
        running.spawn(async move {
            let Job {
                index,
                op,
                params,
                held,
            } = job;
            let result = client.call_op(&creds, &region, &op, &params).await;
            drop((params, held, permit));
            let result = match result {
                Ok(v) => response_json(&v, max_response),
                Err(e) => Err(CallFailure::from(e)),
            };
            let _ = results.send(Done {
                index,
                result,
                _permit: Some(place),
            });
        });
    }
    while running.join_next().await.is_some() {}
}

/// The `aws` interface's view of the store.
pub(crate) struct AwsView<'a> {
    pub(crate) aws: &'a mut AwsState,
    pub(crate) table: &'a mut ResourceTable,
    pub(crate) sink: &'a mut SinkState,
    pub(crate) trip: &'a Tripwire,
}

impl AwsView<'_> {
    async fn call(
        &mut self,
        service: &str,
        operation: &str,
        params_json: &str,
    ) -> wasmtime::Result<Result<String, CallFailure>> {
        self.trip.check_deadline()?;
        self.sink.flush().await?;
        self.aws.charge(self.trip)?;
        let (op, params) = match self.aws.admit(service, operation, params_json) {
            Ok(x) => x,
            Err(e) => return Ok(Err(e)),
        };
        let (client, creds) = match self.aws.access() {
            Ok(a) => a,
            Err(e) => return Ok(Err(e)),
        };
        let result = client.call_op(&creds, &self.aws.region, &op, &params).await;
        Ok(match result {
            Ok(v) => response_json(&v, self.aws.max_response_bytes),
            Err(e) => Err(e.into()),
        })
    }

    fn paginate(
        &mut self,
        service: &str,
        operation: &str,
        params_json: &str,
    ) -> wasmtime::Result<Resource<PagesState>> {
        self.trip.check_deadline()?;
        let held = self.aws.hold(self.trip, params_json.len(), true)?;
        let state = match self
            .aws
            .admit(service, operation, params_json)
            .and_then(|x| self.aws.access().map(|a| (x, a)))
        {
            Ok(((op, params), (client, creds))) => PagesState {
                pages: Some(client.pages(creds, &self.aws.region, op, params)),
                pending: None,
                _held: held,
            },
            Err(e) => PagesState {
                pages: None,
                pending: Some(e),
                _held: held,
            },
        };
        Ok(self.table.push(state)?)
    }

    async fn next_page(
        &mut self,
        this: &Resource<PagesState>,
    ) -> wasmtime::Result<Result<Option<String>, CallFailure>> {
        self.trip.check_deadline()?;
        self.sink.flush().await?;
        let state = self.table.get_mut(this)?;
        if let Some(e) = state.pending.take() {
            state.pages = None;
            return Ok(Err(e));
        }
        let Some(pages) = state.pages.as_mut() else {
            return Ok(Ok(None));
        };
        if pages.is_done() {
            state.pages = None;
            return Ok(Ok(None));
        }
        // Every page is one call against the budget.
        self.aws.charge(self.trip)?;
        let state = self.table.get_mut(this)?;
        let Some(pages) = state.pages.as_mut() else {
            return Ok(Ok(None));
        };
        let page = pages.next_page().await;
        Ok(match page {
            None => Ok(None),
            Some(Ok(v)) => response_json(&v, self.aws.max_response_bytes).map(Some),
            Some(Err(e)) => Err(e.into()),
        })
    }

    fn drop_pages(&mut self, this: Resource<PagesState>) -> wasmtime::Result<()> {
        self.table.delete(this)?;
        self.aws.open = self.aws.open.saturating_sub(1);
        Ok(())
    }

    fn call_many(
        &mut self,
        requests: Vec<(String, String, String)>,
    ) -> wasmtime::Result<Resource<BatchState>> {
        self.trip.check_deadline()?;
        let _ = self.aws.hold(self.trip, 0, true)?;
        let (jobs, jobs_rx) = mpsc::unbounded_channel();
        let (results_tx, results) = mpsc::unbounded_channel();
        let driver = match self.aws.access() {
            Ok((client, creds)) => tokio::spawn(drive(
                jobs_rx,
                results_tx.clone(),
                Arc::new(Semaphore::new(self.aws.concurrency)),
                self.aws.permits.clone(),
                client,
                creds,
                self.aws.region.clone(),
                self.aws.max_response_bytes,
            )),
            // No AWS (manifest time): every call fails in `add`, nothing to drive.
            Err(_) => tokio::spawn(async {}),
        };
        let batch = self.table.push(BatchState {
            jobs,
            results_tx,
            results,
            added: 0,
            delivered: 0,
            driver: driver.abort_handle(),
        })?;
        for (service, operation, params) in requests {
            self.batch_add(&batch, &service, &operation, &params)?;
        }
        Ok(batch)
    }

    fn batch_add(
        &mut self,
        batch: &Resource<BatchState>,
        service: &str,
        operation: &str,
        params_json: &str,
    ) -> wasmtime::Result<u32> {
        self.trip.check_deadline()?;
        self.aws.charge(self.trip)?;
        let admitted = match self
            .aws
            .admit(service, operation, params_json)
            .and_then(|x| self.aws.access().map(|_| x))
        {
            Ok((op, params)) => Ok((
                op,
                params,
                self.aws.hold(self.trip, params_json.len(), false)?,
            )),
            Err(e) => Err(e),
        };
        let state = self.table.get_mut(batch)?;
        let index = state.added;
        state.added += 1;
        let refused = match admitted {
            Ok((op, params, held)) => {
                let job = Job {
                    index,
                    op,
                    params,
                    held,
                };
                state
                    .jobs
                    .send(job)
                    .err()
                    .map(|_| CallFailure::Failed("the batch was stopped".into()))
            }
            Err(e) => Some(e),
        };
        if let Some(e) = refused {
            let _ = state.results_tx.send(Done {
                index,
                result: Err(e),
                _permit: None,
            });
        }
        Ok(index)
    }

    async fn batch_next(
        &mut self,
        batch: &Resource<BatchState>,
    ) -> wasmtime::Result<Option<(u32, Result<String, CallFailure>)>> {
        self.trip.check_deadline()?;
        let state = self.table.get_mut(batch)?;
        if state.delivered >= state.added {
            return Ok(None);
        }
        self.sink.flush().await?;
        let state = self.table.get_mut(batch)?;
        let Some(done) = state.results.recv().await else {
            return Ok(None);
        };
        state.delivered += 1;
        Ok(Some((done.index, done.result)))
    }

    fn drop_batch(&mut self, this: Resource<BatchState>) -> wasmtime::Result<()> {
        self.table.delete(this)?;
        self.aws.open = self.aws.open.saturating_sub(1);
        Ok(())
    }

    async fn account(&mut self) -> wasmtime::Result<Result<String, CallFailure>> {
        self.trip.check_deadline()?;
        Ok(match self.aws.account.get().await {
            Ok(id) => Ok(id.to_string()),
            Err(e) => Err(e.into()),
        })
    }
}

impl v0_1::mrhost::plugin::aws::Host for AwsView<'_> {
    async fn call(
        &mut self,
        service: String,
        operation: String,
        params_json: String,
    ) -> wasmtime::Result<Result<String, v0_1::mrhost::plugin::types::CallError>> {
        Ok(AwsView::call(self, &service, &operation, &params_json)
            .await?
            .map_err(v1_error))
    }

    async fn paginate(
        &mut self,
        service: String,
        operation: String,
        params_json: String,
    ) -> wasmtime::Result<Resource<PagesState>> {
        AwsView::paginate(self, &service, &operation, &params_json)
    }
}

impl v0_1::mrhost::plugin::aws::HostPages for AwsView<'_> {
    async fn next(
        &mut self,
        this: Resource<PagesState>,
    ) -> wasmtime::Result<Result<Option<String>, v0_1::mrhost::plugin::types::CallError>> {
        Ok(self.next_page(&this).await?.map_err(v1_error))
    }

    async fn drop(&mut self, rep: Resource<PagesState>) -> wasmtime::Result<()> {
        self.drop_pages(rep)
    }
}

impl v0_2::mrhost::plugin::aws::Host for AwsView<'_> {
    async fn call(
        &mut self,
        service: String,
        operation: String,
        params_json: String,
    ) -> wasmtime::Result<Result<String, v0_2::mrhost::plugin::types::CallError>> {
        Ok(AwsView::call(self, &service, &operation, &params_json)
            .await?
            .map_err(v2_error))
    }

    async fn paginate(
        &mut self,
        service: String,
        operation: String,
        params_json: String,
    ) -> wasmtime::Result<Resource<PagesState>> {
        AwsView::paginate(self, &service, &operation, &params_json)
    }

    async fn call_many(
        &mut self,
        requests: Vec<v0_2::mrhost::plugin::aws::Request>,
    ) -> wasmtime::Result<Resource<BatchState>> {
        let requests = requests
            .into_iter()
            .map(|r| (r.service, r.operation, r.params_json))
            .collect();
        AwsView::call_many(self, requests)
    }

    async fn account(
        &mut self,
    ) -> wasmtime::Result<Result<String, v0_2::mrhost::plugin::types::CallError>> {
        Ok(AwsView::account(self).await?.map_err(v2_error))
    }
}

impl v0_2::mrhost::plugin::aws::HostPages for AwsView<'_> {
    async fn next(
        &mut self,
        this: Resource<PagesState>,
    ) -> wasmtime::Result<Result<Option<String>, v0_2::mrhost::plugin::types::CallError>> {
        Ok(self.next_page(&this).await?.map_err(v2_error))
    }

    async fn drop(&mut self, rep: Resource<PagesState>) -> wasmtime::Result<()> {
        self.drop_pages(rep)
    }
}

impl v0_2::mrhost::plugin::aws::HostBatch for AwsView<'_> {
    async fn add(
        &mut self,
        this: Resource<BatchState>,
        request: v0_2::mrhost::plugin::aws::Request,
    ) -> wasmtime::Result<u32> {
        self.batch_add(
            &this,
            &request.service,
            &request.operation,
            &request.params_json,
        )
    }

    async fn next(
        &mut self,
        this: Resource<BatchState>,
    ) -> wasmtime::Result<Option<v0_2::mrhost::plugin::aws::Completion>> {
        Ok(self.batch_next(&this).await?.map(|(index, result)| {
            v0_2::mrhost::plugin::aws::Completion {
                index,
                result: result.map_err(v2_error),
            }
        }))
    }

    async fn drop(&mut self, rep: Resource<BatchState>) -> wasmtime::Result<()> {
        self.drop_batch(rep)
    }
}
