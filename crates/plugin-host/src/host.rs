//! Per-store state and the host side of the WIT imports (aws, sink, log), plus the WASI
//! context a plugin gets: no env, no args, no files, no network, stdout/stderr into the log.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use serde_json::Value;
use wasmtime::component::{Resource, ResourceTable};
use wasmtime::ResourceLimiter;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use super::bindings::mrhost::plugin::{aws, log, sink, types};
use super::policy::{Decision, Policy};
use super::Limits;
use aws_engine::{AwsClient, ConstructionError, CredentialSource, EngineError, Pages};

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
}

/// Where one scope's resources go. The plugin host checks the sandbox limits before
/// `accept`; what a resource becomes (tagged, batched, written) is the sink's business.
pub trait ResourceSink: Send + 'static {
    /// One resource, exactly as the plugin emitted it.
    fn accept(&mut self, resource_json: String) -> Result<(), EmitError>;
    /// Whether enough is held back that it should be passed on now.
    fn wants_flush(&self) -> bool;
    /// Pass on whatever is held back: called before every AWS call (so nothing waits
    /// behind a round trip) and when `collect` ends, whatever happened.
    fn flush(
        &mut self,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), EmitError>> + Send + '_>>;
}

/// The sink of one scope, boxed.
pub type Emitter = Box<dyn ResourceSink>;

/// What one `collect` runs against.
#[derive(Clone)]
pub struct ScopeContext {
    pub account: String,
    pub region: String,
    pub partition: String,
    pub plugin: String,
    /// `None` while only the manifest is read: every AWS call is then refused.
    pub aws: Option<(AwsClient, Arc<CredentialSource>)>,
}

impl ScopeContext {
    pub fn manifest_only() -> Self {
        ScopeContext {
            account: String::new(),
            region: String::new(),
            partition: String::new(),
            plugin: String::new(),
            aws: None,
        }
    }

    pub fn label(&self) -> String {
        if self.account.is_empty() {
            self.region.clone()
        } else {
            format!("{}/{}", self.account, self.region)
        }
    }
}

/// A host-side reason to stop the guest (the trap's payload).
#[derive(Debug, Clone, thiserror::Error)]
pub enum LimitExceeded {
    #[error("{0}")]
    Limit(String),
}

pub struct PagesState {
    pages: Option<Pages>,
    pending: Option<types::CallError>,
}

/// Caps the instance's resources; remembers which limit refused growth.
pub struct Limiter {
    memory: usize,
    instances: usize,
    tables: usize,
    table_elements: usize,
    pub exceeded: Option<String>,
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory {
            let msg = format!(
                "memory limit of {} MiB per instance (the plugin asked for {} MiB)",
                self.memory >> 20,
                desired >> 20
            );
            self.exceeded = Some(msg.clone());
            return Err(wasmtime::Error::new(LimitExceeded::Limit(msg)));
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
            let msg = format!("table limit of {} elements", self.table_elements);
            self.exceeded = Some(msg.clone());
            return Err(wasmtime::Error::new(LimitExceeded::Limit(msg)));
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

/// Plugin stdout/stderr and `log` calls: complete lines go to the host log, prefixed with
/// the plugin and scope; at most `cap` bytes per scope are kept.
#[derive(Clone)]
pub struct LogSink(Arc<Mutex<LogBuf>>);

struct LogBuf {
    prefix: String,
    partial: Vec<u8>,
    written: usize,
    cap: usize,
    dropped: usize,
    exceeded: bool,
    /// The last lines the plugin wrote (a panic message, usually), for trap errors.
    last_lines: std::collections::VecDeque<String>,
}

impl LogSink {
    fn new(prefix: String, cap: usize) -> Self {
        LogSink(Arc::new(Mutex::new(LogBuf {
            prefix,
            partial: Vec::new(),
            written: 0,
            cap,
            dropped: 0,
            exceeded: false,
            last_lines: Default::default(),
        })))
    }

    /// The plugin's last words: its last two stderr/stdout lines (Rust's panic location and
    /// message), without the RUST_BACKTRACE hint.
    pub fn last_line(&self) -> Option<String> {
        let b = self.0.lock().unwrap();
        let kept: Vec<&str> = b.last_lines.iter().map(String::as_str).collect();
        (!kept.is_empty()).then(|| kept.join(" "))
    }

    /// Whether the plugin wrote past the cap (its store is then stopped).
    pub fn exceeded(&self) -> bool {
        self.0.lock().unwrap().exceeded
    }

    pub fn cap(&self) -> usize {
        self.0.lock().unwrap().cap
    }

    /// Accept bytes from the guest up to the cap; past it the write fails (the guest's
    /// stderr breaks and the scope is stopped with a limit error). Returns false then.
    fn write_stream(&self, bytes: &[u8]) -> bool {
        let mut b = self.0.lock().unwrap();
        let room = b.cap.saturating_sub(b.written);
        let take = bytes.len().min(room);
        b.dropped += bytes.len() - take;
        if take < bytes.len() {
            b.exceeded = true;
        }
        b.written += take;
        b.partial.extend_from_slice(&bytes[..take]);
        while let Some(nl) = b.partial.iter().position(|c| *c == b'\n') {
            let line: Vec<u8> = b.partial.drain(..=nl).collect();
            let text = String::from_utf8_lossy(&line[..line.len() - 1])
                .trim_end()
                .to_string();
            tracing::info!(target: "plugin", "[{}] {}", b.prefix, text);
            if !text.is_empty() && !text.starts_with("note: run with `RUST_BACKTRACE") {
                if b.last_lines.len() == 2 {
                    b.last_lines.pop_front();
                }
                b.last_lines.push_back(text);
            }
        }
        !b.exceeded
    }

    /// False once the cap is passed.
    fn log(&self, level: types::Level, message: &str) -> bool {
        let mut b = self.0.lock().unwrap();
        if b.written + message.len() > b.cap {
            b.dropped += message.len();
            b.exceeded = true;
            return false;
        }
        b.written += message.len();
        let p = &b.prefix;
        match level {
            types::Level::Error => tracing::error!(target: "plugin", "[{p}] {message}"),
            types::Level::Warn => tracing::warn!(target: "plugin", "[{p}] {message}"),
            types::Level::Info => tracing::info!(target: "plugin", "[{p}] {message}"),
            types::Level::Debug => tracing::debug!(target: "plugin", "[{p}] {message}"),
            types::Level::Trace => tracing::trace!(target: "plugin", "[{p}] {message}"),
        }
        true
    }

    fn flush(&self) {
        let mut b = self.0.lock().unwrap();
        if !b.partial.is_empty() {
            let text = String::from_utf8_lossy(&b.partial).into_owned();
            tracing::info!(target: "plugin", "[{}] {}", b.prefix, text.trim_end());
            b.partial.clear();
        }
        if b.dropped > 0 {
            tracing::warn!(target: "plugin", "[{}] log limit of {} bytes reached; {} bytes dropped", b.prefix, b.cap, b.dropped);
            b.dropped = 0;
        }
    }
}

impl IsTerminal for LogSink {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for LogSink {
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(LogWriter(self.clone()))
    }
}

struct LogWriter(LogSink);

impl tokio::io::AsyncWrite for LogWriter {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.0.write_stream(buf);
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

pub struct StoreState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub limiter: Limiter,
    ctx: ScopeContext,
    policy: Policy,
    emitter: Option<Emitter>,
    pub log: LogSink,
    limits: Limits,
    pub emitted: u64,
    pub emitted_bytes: u64,
    pub calls: u64,
    pub deadline_hit: bool,
}

impl StoreState {
    pub fn new(
        ctx: ScopeContext,
        policy: Policy,
        emitter: Option<Emitter>,
        limits: &Limits,
    ) -> Self {
        let prefix = if ctx.plugin.is_empty() {
            "plugin".to_string()
        } else {
            format!("{} {}", ctx.plugin, ctx.label())
        };
        let log = LogSink::new(prefix, limits.max_log_bytes);
        // Empty context: no env, args, preopens; sockets and name lookup disabled.
        let wasi = WasiCtxBuilder::new()
            .stdout(log.clone())
            .stderr(log.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .build();
        StoreState {
            wasi,
            table: ResourceTable::new(),
            limiter: Limiter {
                memory: limits.memory,
                instances: limits.instances,
                tables: limits.tables,
                table_elements: limits.table_elements,
                exceeded: None,
            },
            ctx,
            policy,
            emitter,
            log,
            limits: limits.clone(),
            emitted: 0,
            emitted_bytes: 0,
            calls: 0,
            deadline_hit: false,
        }
    }

    pub fn flush_log(&mut self, _plugin: &str, _label: &str) {
        self.log.flush();
    }

    /// Everything a call must pass before it reaches AWS: the call budget, the params size,
    /// the operation's existence, the permission check, valid JSON.
    fn prepare(
        &mut self,
        service: &str,
        operation: &str,
        params_json: &str,
    ) -> wasmtime::Result<Result<(aws_engine::OperationRef, Value), types::CallError>> {
        self.calls += 1;
        if self.calls > self.limits.max_calls {
            return Err(wasmtime::Error::new(LimitExceeded::Limit(format!(
                "call limit of {} AWS calls per scope",
                self.limits.max_calls
            ))));
        }
        if params_json.len() > self.limits.max_params_bytes {
            return Ok(Err(types::CallError::InvalidRequest(format!(
                "params-json is {} bytes; the limit is {} bytes",
                params_json.len(),
                self.limits.max_params_bytes
            ))));
        }
        let Some((client, _)) = &self.ctx.aws else {
            return Ok(Err(types::CallError::Denied(
                "AWS calls are not available while the manifest is read".into(),
            )));
        };
        let op = match client.operation(service, operation) {
            Ok(op) => op,
            Err(e) => return Ok(Err(types::CallError::InvalidRequest(e.to_string()))),
        };
        if let Decision::Deny(reason) = self.policy.check(&op.model.name, &op.name) {
            tracing::warn!(target: "plugin", "[{} {}] denied: {reason}", self.ctx.plugin, self.ctx.label());
            return Ok(Err(types::CallError::Denied(reason)));
        }
        let params: Value = match serde_json::from_str(if params_json.trim().is_empty() {
            "{}"
        } else {
            params_json
        }) {
            Ok(v) => v,
            Err(e) => {
                return Ok(Err(types::CallError::InvalidRequest(format!(
                    "params-json is not valid JSON: {e}"
                ))))
            }
        };
        Ok(Ok((op, params)))
    }

    /// Send the emitted resources held back so far to the output.
    pub async fn flush_emitted(&mut self) -> wasmtime::Result<()> {
        match &mut self.emitter {
            Some(sink) => sink.flush().await.map_err(wasmtime::Error::new),
            None => Ok(()),
        }
    }

    fn response_json(&self, v: &Value) -> Result<String, types::CallError> {
        let s = serde_json::to_string(v).map_err(|e| types::CallError::Failed(e.to_string()))?;
        if s.len() > self.limits.max_response_bytes {
            return Err(types::CallError::Failed(format!(
                "response of {} bytes exceeds the limit of {} bytes handed to a plugin",
                s.len(),
                self.limits.max_response_bytes
            )));
        }
        Ok(s)
    }
}

/// The engine's error as the contract's: the service's answer as `api` (with whether the
/// engine retries its kind), a request that cannot be made as `invalid-request`, and
/// everything else (transport, time-outs, credentials, an unusable response) as `failed`.
pub fn call_error(e: EngineError) -> types::CallError {
    match e {
        EngineError::Service(a) => {
            let a = *a;
            let retryable = a.is_retryable();
            types::CallError::Api(types::ApiError {
                code: a.code,
                message: a.message,
                http_status: a.http_status,
                retryable,
            })
        }
        EngineError::Construction(
            c @ (ConstructionError::UnknownService { .. }
            | ConstructionError::UnknownOperation { .. }
            | ConstructionError::InvalidParams { .. }),
        ) => types::CallError::InvalidRequest(c.to_string()),
        e => types::CallError::Failed(e.to_string()),
    }
}

impl WasiView for StoreState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl types::Host for StoreState {}

impl aws::Host for StoreState {
    async fn call(
        &mut self,
        service: String,
        operation: String,
        params_json: String,
    ) -> wasmtime::Result<Result<String, types::CallError>> {
        self.flush_emitted().await?;
        let (op, params) = match self.prepare(&service, &operation, &params_json)? {
            Ok(x) => x,
            Err(e) => return Ok(Err(e)),
        };
        let (client, creds) = self.ctx.aws.clone().expect("checked in prepare");
        let result = client.call_op(&creds, &self.ctx.region, &op, &params).await;
        Ok(match result {
            Ok(v) => self.response_json(&v),
            Err(e) => Err(call_error(e)),
        })
    }

    async fn paginate(
        &mut self,
        service: String,
        operation: String,
        params_json: String,
    ) -> wasmtime::Result<Resource<PagesState>> {
        let state = match self.prepare(&service, &operation, &params_json)? {
            Ok((op, params)) => {
                let (client, creds) = self.ctx.aws.clone().expect("checked in prepare");
                PagesState {
                    pages: Some(client.pages(creds, &self.ctx.region, op, params)),
                    pending: None,
                }
            }
            Err(e) => PagesState {
                pages: None,
                pending: Some(e),
            },
        };
        Ok(self.table.push(state)?)
    }
}

impl aws::HostPages for StoreState {
    async fn next(
        &mut self,
        this: Resource<PagesState>,
    ) -> wasmtime::Result<Result<Option<String>, types::CallError>> {
        self.flush_emitted().await?;
        let state = self.table.get_mut(&this)?;
        if let Some(e) = state.pending.take() {
            return Ok(Err(e));
        }
        let Some(pages) = state.pages.as_mut() else {
            return Ok(Ok(None));
        };
        let page = pages.next_page().await;
        // Every page after the first is one more call against the budget.
        self.calls += 1;
        if self.calls > self.limits.max_calls {
            return Err(wasmtime::Error::new(LimitExceeded::Limit(format!(
                "call limit of {} AWS calls per scope",
                self.limits.max_calls
            ))));
        }
        Ok(match page {
            None => Ok(None),
            Some(Ok(v)) => self.response_json(&v).map(Some),
            Some(Err(e)) => Err(call_error(e)),
        })
    }

    async fn drop(&mut self, rep: Resource<PagesState>) -> wasmtime::Result<()> {
        self.table.delete(rep)?;
        Ok(())
    }
}

impl sink::Host for StoreState {
    async fn emit(&mut self, resource_json: String) -> wasmtime::Result<()> {
        let bytes = resource_json.len() as u64;
        if self.emitted + 1 > self.limits.max_resources {
            return Err(wasmtime::Error::new(LimitExceeded::Limit(format!(
                "resource limit of {} emitted resources per scope",
                self.limits.max_resources
            ))));
        }
        if self.emitted_bytes + bytes > self.limits.max_emitted_bytes {
            return Err(wasmtime::Error::new(LimitExceeded::Limit(format!(
                "output limit of {} emitted bytes per scope",
                self.limits.max_emitted_bytes
            ))));
        }
        let Some(sink) = &mut self.emitter else {
            return Err(wasmtime::Error::msg(
                "emit is not available while the manifest is read",
            ));
        };
        sink.accept(resource_json).map_err(wasmtime::Error::new)?;
        self.emitted += 1;
        self.emitted_bytes += bytes;
        if sink.wants_flush() {
            self.flush_emitted().await?;
        }
        Ok(())
    }
}

impl log::Host for StoreState {
    async fn log(&mut self, level: types::Level, message: String) -> wasmtime::Result<()> {
        if self.log.log(level, &message) {
            Ok(())
        } else {
            Err(wasmtime::Error::new(LimitExceeded::Limit(format!(
                "log limit of {} bytes per scope",
                self.log.cap()
            ))))
        }
    }
}
