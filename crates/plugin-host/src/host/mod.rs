//! The host side of the WIT imports. Each interface has its own file, its own state and
//! its own view of the store (as wasmtime-wasi's `WasiCtxView` is WASI's): [`aws`] (calls,
//! pages, batches, the account), [`sink`] (emitted resources), [`log`] (log calls and the
//! plugin's stdout/stderr). A view borrows only what its interface needs; the store's
//! [`StoreState`] just holds the parts, the WASI context and the resource table.
//!
//! Both contract versions are served by the same state: `v0_1` and `v0_2` differ only in
//! their WIT types, converted at the edge of each file.

pub(crate) mod aws;
pub(crate) mod log;
pub(crate) mod sink;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use aws_engine::{AwsClient, CredentialSource, EngineError};
use tokio::sync::OnceCell;
use wasmtime::component::{HasData, Linker, ResourceTable};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use crate::bindings::{v0_1, v0_2};
use crate::limits::{Limiter, Limits, Tripwire};
use crate::params::ParamValue;
use crate::policy::Policy;

pub use sink::{EmitError, Emitter, ResourceSink};

type AccountFuture = Pin<Box<dyn Future<Output = Result<String, EngineError>> + Send>>;
type Resolver = Box<dyn Fn() -> AccountFuture + Send + Sync>;

/// The account of one scope: known already, or resolved on first use (a 0.2 plugin asks
/// through `aws.account()`; a 0.1 plugin gets it before `collect`). Clones share the
/// answer.
#[derive(Clone)]
pub struct ScopeAccount(Arc<AccountInner>);

struct AccountInner {
    cell: OnceCell<Result<String, EngineError>>,
    resolve: Option<Resolver>,
}

impl std::fmt::Debug for ScopeAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.now() {
            Some(id) => write!(f, "ScopeAccount({id})"),
            None => f.write_str("ScopeAccount(unresolved)"),
        }
    }
}

impl ScopeAccount {
    /// An account id known already.
    pub fn known(id: impl Into<String>) -> Self {
        ScopeAccount(Arc::new(AccountInner {
            cell: OnceCell::new_with(Some(Ok(id.into()))),
            resolve: None,
        }))
    }

    /// An account resolved by `resolve` the first time anyone asks.
    pub fn lazy<F, Fut>(resolve: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<String, EngineError>> + Send + 'static,
    {
        ScopeAccount(Arc::new(AccountInner {
            cell: OnceCell::new(),
            resolve: Some(Box::new(move || Box::pin(resolve()))),
        }))
    }

    /// The account of `creds`: what it says already, else the client's identity lookup
    /// (the access-key mapping, or one GetCallerIdentity in `region`) on first use.
    pub fn of_credentials(client: AwsClient, creds: Arc<CredentialSource>, region: &str) -> Self {
        if let Some(id) = creds.known_account() {
            return Self::known(id);
        }
        let region = region.to_string();
        Self::lazy(move || {
            let (client, creds, region) = (client.clone(), creds.clone(), region.clone());
            async move { Ok(client.identity(&creds, &region).await?.account) }
        })
    }

    /// The id, if known now (nothing is resolved).
    pub fn now(&self) -> Option<&str> {
        match self.0.cell.get() {
            Some(Ok(id)) => Some(id),
            _ => None,
        }
    }

    /// The id, resolved on first use; the same answer (or error) afterwards.
    pub async fn get(&self) -> Result<&str, EngineError> {
        let r = self
            .0
            .cell
            .get_or_init(|| async {
                match &self.0.resolve {
                    Some(f) => f().await,
                    None => Err(EngineError::credentials("the scope's account is unknown")),
                }
            })
            .await;
        match r {
            Ok(id) => Ok(id),
            Err(e) => Err(e.clone()),
        }
    }
}

/// What one `collect` runs against.
#[derive(Clone)]
pub struct ScopeContext {
    /// The account of the credentials in use.
    pub account: ScopeAccount,
    /// The region, e.g. "eu-west-1" (the partition's global region for global plugins).
    pub region: String,
    /// "aws", "aws-cn", ...
    pub partition: String,
    /// The plugin's name (for log lines).
    pub plugin: String,
    /// The client and credentials; `None` while only the manifest is read (every AWS call
    /// is then refused).
    pub aws: Option<(AwsClient, Arc<CredentialSource>)>,
}

impl ScopeContext {
    /// The context `manifest()` runs in: no AWS, no account.
    pub fn manifest_only() -> Self {
        ScopeContext {
            account: ScopeAccount::known(""),
            region: String::new(),
            partition: String::new(),
            plugin: String::new(),
            aws: None,
        }
    }

    /// `account/region`, or the region alone while the account is not known.
    pub fn label(&self) -> String {
        match self.account.now() {
            Some(a) if !a.is_empty() => format!("{a}/{}", self.region),
            _ => self.region.clone(),
        }
    }
}

/// Everything one store holds: each interface's state, WASI, the resource table, the
/// memory limiter and the tripwire every limit reports to.
pub(crate) struct StoreState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub(crate) limiter: Limiter,
    pub(crate) aws: aws::AwsState,
    pub(crate) sink: sink::SinkState,
    pub(crate) log: log::LogState,
    pub(crate) trip: Tripwire,
}

impl StoreState {
    pub(crate) fn new(
        ctx: ScopeContext,
        policy: Policy,
        emitter: Option<Emitter>,
        limits: &Limits,
        params: Arc<Vec<(String, ParamValue)>>,
    ) -> Self {
        let trip = Tripwire::new(limits.timeout);
        let prefix = if ctx.plugin.is_empty() {
            "plugin".to_string()
        } else {
            format!("{} {}", ctx.plugin, ctx.label())
        };
        let log = log::LogState::new(prefix, limits.max_log_bytes, trip.clone());
        // Empty context: no env, args, preopens; sockets and name lookup disabled.
        let wasi = WasiCtxBuilder::new()
            .stdout(log.stream())
            .stderr(log.stream())
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
                trip: trip.clone(),
            },
            aws: aws::AwsState::new(ctx, policy, limits, params),
            sink: sink::SinkState::new(emitter, limits),
            log,
            trip,
        }
    }

    fn aws_view(&mut self) -> aws::AwsView<'_> {
        aws::AwsView {
            aws: &mut self.aws,
            table: &mut self.table,
            sink: &mut self.sink,
            trip: &self.trip,
        }
    }

    fn sink_view(&mut self) -> sink::SinkView<'_> {
        sink::SinkView {
            sink: &mut self.sink,
            trip: &self.trip,
        }
    }

    fn log_view(&mut self) -> log::LogView<'_> {
        log::LogView {
            log: &mut self.log,
            trip: &self.trip,
        }
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

/// The `aws` interface's view of the store.
struct AwsIface;
impl HasData for AwsIface {
    type Data<'a> = aws::AwsView<'a>;
}

/// The `sink` interface's view of the store.
struct SinkIface;
impl HasData for SinkIface {
    type Data<'a> = sink::SinkView<'a>;
}

/// The `log` interface's view of the store.
struct LogIface;
impl HasData for LogIface {
    type Data<'a> = log::LogView<'a>;
}

/// The `types` interfaces have no functions; they still need a (stateless) host.
struct TypesIface;
impl HasData for TypesIface {
    type Data<'a> = TypesHost;
}

/// The host of the function-less `types` interfaces.
pub(crate) struct TypesHost;
impl v0_1::mrhost::plugin::types::Host for TypesHost {}
impl v0_2::mrhost::plugin::types::Host for TypesHost {}

/// Add WASI p2 and every served contract version's imports to `linker`.
pub(crate) fn link(linker: &mut Linker<StoreState>) -> wasmtime::Result<()> {
    wasmtime_wasi::p2::add_to_linker_async(linker)?;
    v0_1::mrhost::plugin::types::add_to_linker::<_, TypesIface>(linker, |_| TypesHost)?;
    v0_1::mrhost::plugin::aws::add_to_linker::<_, AwsIface>(linker, StoreState::aws_view)?;
    v0_1::mrhost::plugin::sink::add_to_linker::<_, SinkIface>(linker, StoreState::sink_view)?;
    v0_1::mrhost::plugin::log::add_to_linker::<_, LogIface>(linker, StoreState::log_view)?;
    v0_2::mrhost::plugin::types::add_to_linker::<_, TypesIface>(linker, |_| TypesHost)?;
    v0_2::mrhost::plugin::aws::add_to_linker::<_, AwsIface>(linker, StoreState::aws_view)?;
    v0_2::mrhost::plugin::sink::add_to_linker::<_, SinkIface>(linker, StoreState::sink_view)?;
    v0_2::mrhost::plugin::log::add_to_linker::<_, LogIface>(linker, StoreState::log_view)?;
    Ok(())
}
