//! The plugin runtime: wasmtime with the component model, a compiled-artifact cache, one
//! `InstancePre` per plugin shared by every scope, one fresh `Store` per (plugin, scope)
//! with its own limits, and the host side of the WIT contract.

pub mod cache;
mod host;
pub mod manifest;
pub mod policy;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Config, Engine, Store, UpdateDeadline};

pub use host::{EmitError, Emitter, ResourceSink, ScopeContext};
pub use manifest::{Manifest, ScopeKind};
pub use policy::Policy;

use host::StoreState;

/// Host bindings generated from `wit/`.
pub mod bindings {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "plugin",
        imports: { default: async | trappable },
        exports: { default: async },
        with: {
            "mrhost:plugin/aws.pages": super::host::PagesState,
        },
    });
}
use bindings::PluginPre;

/// The WIT package versions this host serves.
pub const SERVED_VERSIONS: &[&str] = &["0.1.0"];
const INTERFACE: &str = "mrhost:plugin/collector";

/// How often the epoch advances; the granularity of deadlines and of yielding.
const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Limits applied to every store (defaults are generous for Python and JS components).
#[derive(Debug, Clone)]
pub struct Limits {
    /// Wall-clock time for one `collect`, AWS calls included.
    pub timeout: Duration,
    /// Linear memory per instance, bytes.
    pub memory: usize,
    pub instances: usize,
    pub tables: usize,
    pub table_elements: usize,
    /// Resources one scope may emit, and their total JSON bytes.
    pub max_resources: u64,
    pub max_emitted_bytes: u64,
    /// Plugin log + stderr bytes kept per scope (the rest is dropped, with a note).
    pub max_log_bytes: usize,
    /// Size of one `params-json` a plugin may send.
    pub max_params_bytes: usize,
    /// Size of one response handed to the guest.
    pub max_response_bytes: usize,
    /// AWS calls one scope may make.
    pub max_calls: u64,
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
        }
    }
}

/// Why a plugin could not be loaded. Each renders as one line.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    #[error("{path}: file not found")]
    NotFound { path: String },
    #[error("{path}: {message}")]
    Read { path: String, message: String },
    #[error("{path}: not a WebAssembly file")]
    NotWasm { path: String },
    #[error("{path}: a core WebAssembly module, not a component; build plugins with `cargo build --target wasm32-wasip2` (or componentize-py / componentize-js)")]
    CoreModule { path: String },
    #[error("{path}: sha256 is {actual}, but --plugin-sha256 expects {expected}")]
    Sha256Mismatch {
        path: String,
        expected: String,
        actual: String,
    },
    #[error("{path}: built for {found}; this host serves mrhost:plugin@{served}")]
    IncompatibleVersion {
        path: String,
        found: String,
        served: String,
    },
    #[error("{path}: not an mrhost plugin: it exports no {INTERFACE} interface")]
    NotAPlugin { path: String },
    #[error("{path}: imports {import}, which the mrhost sandbox does not provide")]
    UnsupportedImport { path: String, import: String },
    #[error("{path}: {message}")]
    Compile { path: String, message: String },
    #[error("{path}: invalid manifest: {message}")]
    Manifest { path: String, message: String },
    #[error("plugin runtime: {0}")]
    Runtime(String),
}

/// Why one scope's `collect` failed. Other scopes are unaffected.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ScopeError {
    /// The plugin returned an error.
    #[error("plugin error: {0}")]
    Plugin(String),
    /// The plugin trapped (a panic, an unreachable, a bad memory access).
    #[error("plugin trapped: {0}")]
    Trap(String),
    /// A sandbox limit was hit; the store was discarded.
    #[error("limit exceeded: {0}")]
    Limit(String),
    /// Could not start the scope (credentials, account lookup, ...).
    #[error("{0}")]
    Setup(String),
}

/// A loaded plugin: its component (compiled or from cache), `InstancePre`, and manifest.
pub struct Plugin {
    pub path: PathBuf,
    pub sha256: String,
    pub manifest: Manifest,
    pub policy: Policy,
    pre: PluginPre<StoreState>,
    /// Whether the compiled artifact came from the cache, and how long loading took.
    pub from_cache: bool,
    pub load_time: Duration,
    /// What the component says produced it (`language`, `processed-by`), if anything.
    pub producers: Vec<(String, String)>,
}

pub struct PluginRuntime {
    engine: Engine,
    linker: Linker<StoreState>,
    pub limits: Limits,
    cache_dir: Option<PathBuf>,
    ticker_stop: Arc<AtomicBool>,
}

impl Drop for PluginRuntime {
    fn drop(&mut self) {
        self.ticker_stop.store(true, Ordering::Relaxed);
    }
}

impl PluginRuntime {
    /// `cache_dir`: where compiled artifacts live (`None` disables the cache).
    pub fn new(limits: Limits, cache_dir: Option<PathBuf>) -> Result<Self, PluginError> {
        let mut config = Config::new();
        config.wasm_component_model(true);
        config.epoch_interruption(true);
        config.cranelift_opt_level(wasmtime::OptLevel::Speed);
        // No reliance on huge virtual reservations: many stores run at once.
        config.memory_reservation(1 << 32);
        config.memory_guard_size(64 << 10);
        let engine = Engine::new(&config).map_err(|e| PluginError::Runtime(e.to_string()))?;

        let mut linker: Linker<StoreState> = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)
            .map_err(|e| PluginError::Runtime(e.to_string()))?;
        bindings::Plugin::add_to_linker::<StoreState, HasSelf<StoreState>>(&mut linker, |s| s)
            .map_err(|e| PluginError::Runtime(e.to_string()))?;

        let stop = Arc::new(AtomicBool::new(false));
        {
            let engine = engine.weak();
            let stop = stop.clone();
            std::thread::Builder::new()
                .name("mrhost-epoch".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(EPOCH_TICK);
                        match engine.upgrade() {
                            Some(e) => e.increment_epoch(),
                            None => break,
                        }
                    }
                })
                .map_err(|e| PluginError::Runtime(e.to_string()))?;
        }
        Ok(PluginRuntime {
            engine,
            linker,
            limits,
            cache_dir,
            ticker_stop: stop,
        })
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Load, check and (through the cache) compile a plugin, then read its manifest.
    pub async fn load(
        &self,
        path: &Path,
        models: &aws_engine::Models,
        expected_sha256: Option<&str>,
        allowed_writes: &[String],
    ) -> Result<Arc<Plugin>, PluginError> {
        let started = Instant::now();
        let p = path.display().to_string();
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(PluginError::NotFound { path: p })
            }
            Err(e) => {
                return Err(PluginError::Read {
                    path: p,
                    message: e.to_string(),
                })
            }
        };
        if bytes.len() < 8 || &bytes[0..4] != b"\0asm" {
            return Err(PluginError::NotWasm { path: p });
        }
        if bytes[4..8] == [1, 0, 0, 0] {
            return Err(PluginError::CoreModule { path: p });
        }
        let sha256 = cache::sha256_hex(&bytes);
        if let Some(want) = expected_sha256 {
            if !want.eq_ignore_ascii_case(&sha256) {
                return Err(PluginError::Sha256Mismatch {
                    path: p,
                    expected: want.to_string(),
                    actual: sha256,
                });
            }
        }
        let producers = manifest::producers(&bytes);

        let (component, from_cache) = self.compile_cached(&bytes, &sha256, &p)?;
        self.check_interface(&component, &p)?;
        let instance_pre = self.linker.instantiate_pre(&component).map_err(|e| {
            let msg = format!("{e:#}");
            match msg.split('`').nth(1).filter(|_| msg.contains("import")) {
                Some(import) => PluginError::UnsupportedImport {
                    path: p.clone(),
                    import: import.to_string(),
                },
                None => PluginError::Compile {
                    path: p.clone(),
                    message: msg,
                },
            }
        })?;
        let pre = PluginPre::new(instance_pre).map_err(|e| PluginError::Compile {
            path: p.clone(),
            message: format!("{e:#}"),
        })?;

        // Read the manifest in a throwaway store, under the same limits as a collect.
        let mut store =
            self.new_store(host::ScopeContext::manifest_only(), Policy::default(), None);
        let fetch = async {
            let instance = pre.instantiate_async(&mut store).await?;
            instance
                .mrhost_plugin_collector()
                .call_manifest(&mut store)
                .await
        };
        let raw = match tokio::time::timeout(self.limits.timeout, fetch).await {
            Ok(Ok(m)) => m,
            Ok(Err(e)) => {
                return Err(PluginError::Manifest {
                    path: p,
                    message: format!("manifest() failed: {}", describe_trap(&e, &store)),
                })
            }
            Err(_) => {
                return Err(PluginError::Manifest {
                    path: p,
                    message: "manifest() did not return in time".into(),
                })
            }
        };
        let manifest =
            Manifest::from_wit(raw, models).map_err(|message| PluginError::Manifest {
                path: p.clone(),
                message,
            })?;
        let policy = Policy::new(
            manifest.operations.iter().cloned(),
            allowed_writes.iter().cloned(),
        );
        Ok(Arc::new(Plugin {
            path: path.to_path_buf(),
            sha256,
            manifest,
            policy,
            pre,
            from_cache,
            load_time: started.elapsed(),
            producers,
        }))
    }

    fn compile_cached(
        &self,
        bytes: &[u8],
        sha256: &str,
        p: &str,
    ) -> Result<(Component, bool), PluginError> {
        let compile_err = |e: wasmtime::Error| PluginError::Compile {
            path: p.to_string(),
            message: format!("{e:#}"),
        };
        let Some(dir) = &self.cache_dir else {
            return Ok((
                Component::new(&self.engine, bytes).map_err(compile_err)?,
                false,
            ));
        };
        let artifact = cache::artifact_path(dir, sha256, &cache::engine_key(&self.engine));
        if artifact.exists() {
            // SAFETY: the file was written by `Engine::precompile_component` of an engine with
            // the same compatibility hash (it is in the file name), atomically, into our own
            // cache directory. wasmtime validates the header before using it.
            match unsafe { Component::deserialize_file(&self.engine, &artifact) } {
                Ok(c) => return Ok((c, true)),
                Err(e) => {
                    tracing::warn!(path = %artifact.display(), "ignoring unusable cached artifact: {e}")
                }
            }
        }
        let compiled = self
            .engine
            .precompile_component(bytes)
            .map_err(compile_err)?;
        if let Err(e) = cache::store(&artifact, &compiled) {
            tracing::warn!(path = %artifact.display(), "could not write the compile cache: {e}");
        }
        // SAFETY: these bytes were produced by this very engine a moment ago.
        let component =
            unsafe { Component::deserialize(&self.engine, &compiled) }.map_err(compile_err)?;
        Ok((component, false))
    }

    /// Refuse components built for another contract version with a clear message.
    fn check_interface(&self, component: &Component, p: &str) -> Result<(), PluginError> {
        let ty = component.component_type();
        let exports: Vec<String> = ty
            .exports(&self.engine)
            .map(|(name, _)| name.to_string())
            .collect();
        let served = SERVED_VERSIONS.join(", ");
        if exports.iter().any(|n| {
            SERVED_VERSIONS
                .iter()
                .any(|v| *n == format!("{INTERFACE}@{v}"))
        }) {
            return Ok(());
        }
        if let Some(other) = exports.iter().find(|n| n.starts_with(INTERFACE)) {
            let found = other.replace("/collector", "");
            return Err(PluginError::IncompatibleVersion {
                path: p.to_string(),
                found,
                served,
            });
        }
        Err(PluginError::NotAPlugin {
            path: p.to_string(),
        })
    }

    fn new_store(
        &self,
        ctx: ScopeContext,
        policy: Policy,
        emitter: Option<host::Emitter>,
    ) -> Store<StoreState> {
        let state = StoreState::new(ctx, policy, emitter, &self.limits);
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limiter);
        let deadline = Instant::now() + self.limits.timeout;
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(move |mut cx| {
            if Instant::now() >= deadline {
                cx.data_mut().deadline_hit = true;
                Ok(UpdateDeadline::Interrupt)
            } else {
                // Yield to the executor every tick so a busy plugin never starves others.
                Ok(UpdateDeadline::Yield(1))
            }
        });
        store
    }

    /// Run `collect` for one scope in a fresh store. Resources go to `emitter` as they
    /// are emitted. The store is dropped afterwards, whatever happened.
    pub async fn collect(
        &self,
        plugin: &Plugin,
        ctx: ScopeContext,
        emitter: host::Emitter,
    ) -> Result<CollectStats, ScopeError> {
        let scope = bindings::mrhost::plugin::types::Scope {
            account: ctx.account.clone(),
            region: ctx.region.clone(),
            partition: ctx.partition.clone(),
        };
        let label = ctx.label();
        let mut store = self.new_store(ctx, plugin.policy.clone(), Some(emitter));
        let started = Instant::now();
        let run = async {
            let instance = plugin.pre.instantiate_async(&mut store).await?;
            instance
                .mrhost_plugin_collector()
                .call_collect(&mut store, &scope)
                .await
        };
        // Epochs stop guest code; this stops a scope stuck in host calls as well.
        let outcome = tokio::time::timeout(self.limits.timeout + Duration::from_secs(1), run).await;
        // What the plugin emitted last is still held back: it goes out whatever happened,
        // as it would have, had it been sent at once.
        let flushed = store.data_mut().flush_emitted().await;
        let state = store.data_mut();
        state.flush_log(&plugin.manifest.name, &label);
        let stats = CollectStats {
            resources: state.emitted,
            bytes: state.emitted_bytes,
            calls: state.calls,
            elapsed: started.elapsed(),
        };
        match outcome {
            Ok(Ok(Ok(()))) if flushed.is_err() => {
                Err(ScopeError::Trap("the output was closed".into()))
            }
            Ok(Ok(Ok(()))) => Ok(stats),
            Ok(Ok(Err(msg))) => Err(ScopeError::Plugin(msg)),
            Ok(Err(e)) => Err(classify(&e, &store, &self.limits)),
            Err(_) => Err(ScopeError::Limit(format!(
                "deadline of {:?} exceeded (plugin timeout)",
                self.limits.timeout
            ))),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct CollectStats {
    pub resources: u64,
    pub bytes: u64,
    pub calls: u64,
    pub elapsed: Duration,
}

fn describe_trap(e: &wasmtime::Error, store: &Store<StoreState>) -> String {
    match classify(e, store, &Limits::default()) {
        ScopeError::Trap(m)
        | ScopeError::Limit(m)
        | ScopeError::Plugin(m)
        | ScopeError::Setup(m) => m,
    }
}

/// Turn a wasmtime error into the scope error users see, naming the limit when one was hit.
fn classify(e: &wasmtime::Error, store: &Store<StoreState>, limits: &Limits) -> ScopeError {
    let state = store.data();
    if let Some(limit) = e.downcast_ref::<host::LimitExceeded>() {
        return ScopeError::Limit(limit.to_string());
    }
    if state.deadline_hit {
        return ScopeError::Limit(format!(
            "deadline of {:?} exceeded (plugin timeout)",
            limits.timeout
        ));
    }
    if let Some(limit) = &state.limiter.exceeded {
        return ScopeError::Limit(limit.clone());
    }
    if state.log.exceeded() {
        return ScopeError::Limit(format!("log limit of {} bytes per scope", state.log.cap()));
    }
    // The root cause alone: wasmtime's context lines (backtraces) are long.
    let mut msg = e.root_cause().to_string();
    if let Some(trap) = e.downcast_ref::<wasmtime::Trap>() {
        msg = trap.to_string();
    }
    let mut msg = msg.lines().next().unwrap_or_default().to_string();
    // A panicking Rust plugin prints why just before it traps: keep that.
    if let Some(last) = state.log.last_line() {
        let last: String = last.chars().take(300).collect();
        msg.push_str(&format!(" (plugin said: {last})"));
    }
    ScopeError::Trap(msg)
}
