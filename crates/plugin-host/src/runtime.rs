//! The runtime: one wasmtime engine and linker (WASI p2 with nothing behind it, and every
//! served contract version), an epoch ticker, the compile cache, and for each (plugin,
//! scope) a fresh store with its own limits, dropped afterwards whatever happened.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine, Store, UpdateDeadline};

use crate::bindings::{v0_1, v0_2};
use crate::cache::{CompileCache, Lookup};
use crate::escape::escape_controls;
use crate::host::{self, Emitter, ScopeContext, StoreState};
use crate::limits::{LimitExceeded, Limits};
use crate::loader::{self, Plugin, PluginError, Pre};
use crate::manifest::{Manifest, RawManifest};
use crate::params::ParamValue;
use crate::policy::Policy;

/// How often the epoch advances; the granularity of deadlines and of yielding.
const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Why one scope's `collect` failed. Other scopes are unaffected.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ScopeError {
    /// The plugin returned an error: 0.2's typed `collect-error` (an AWS code, or a
    /// message), or 0.1's string (whose `Code: message` form gives the code).
    #[error("plugin error: {message}")]
    Plugin {
        /// The AWS error code, when the error is an AWS error.
        code: Option<String>,
        /// One line, escaped.
        message: String,
    },
    /// The plugin trapped (a panic, an unreachable, a bad memory access).
    #[error("plugin trapped: {0}")]
    Trap(String),
    /// A sandbox limit was hit; the store was discarded.
    #[error("limit exceeded: {0}")]
    Limit(LimitExceeded),
    /// The scope's account could not be resolved for a 0.1 plugin (which gets it before
    /// `collect`).
    #[error("account lookup failed: {message}")]
    Account {
        /// The AWS error code, if the service answered with one.
        code: Option<String>,
        /// One line.
        message: String,
    },
}

impl ScopeError {
    /// The AWS error code behind the failure, if any: what `--ignore-error-codes` matches.
    pub fn code(&self) -> Option<&str> {
        match self {
            ScopeError::Plugin { code, .. } | ScopeError::Account { code, .. } => code.as_deref(),
            _ => None,
        }
    }

    /// A 0.1 plugin's error string: `Code: message` gives the code (the 0.1 convention,
    /// kept to this path).
    fn from_v0_1(message: String) -> Self {
        let code = message
            .split_once(':')
            .map(|(c, _)| c.trim())
            .filter(|c| {
                !c.is_empty() && c.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '.')
            })
            .map(str::to_string);
        ScopeError::Plugin {
            code,
            message: escape_controls(&message).into_owned(),
        }
    }

    fn from_v0_2(e: v0_2::mrhost::plugin::types::CollectError) -> Self {
        use v0_2::mrhost::plugin::types::CollectError;
        match e {
            CollectError::Api(a) => ScopeError::Plugin {
                message: escape_controls(&format!("{}: {}", a.code, a.message)).into_owned(),
                code: Some(a.code),
            },
            CollectError::Failed(m) => ScopeError::Plugin {
                code: None,
                message: escape_controls(&m).into_owned(),
            },
        }
    }
}

/// What one successful `collect` did.
#[derive(Debug, Clone, Default)]
pub struct CollectStats {
    /// Resources emitted.
    pub resources: u64,
    /// Their JSON bytes.
    pub bytes: u64,
    /// AWS calls made (pages and batch calls included).
    pub calls: u64,
    /// Wall-clock time.
    pub elapsed: Duration,
}

/// The plugin runtime: load plugins, run their `collect` per scope.
pub struct PluginRuntime {
    engine: Engine,
    linker: Linker<StoreState>,
    /// The limits every store gets.
    pub limits: Limits,
    cache: Option<CompileCache>,
    ticker_stop: Arc<AtomicBool>,
    /// What [`PluginRuntime::prefetch_models`] read, for [`PluginRuntime::load`] to take
    /// instead of reading and hashing the plugin (and its hint) again.
    preread: std::sync::Mutex<Option<Preread>>,
}

/// A plugin as read ahead of its load: its bytes, their sha256 and its services hint.
struct Preread {
    path: PathBuf,
    bytes: Vec<u8>,
    sha256: String,
    hinted: Vec<String>,
}

impl Drop for PluginRuntime {
    fn drop(&mut self) {
        self.ticker_stop.store(true, Ordering::Relaxed);
    }
}

impl PluginRuntime {
    /// A runtime with `limits`; compiled artifacts are cached under `cache_root` (`None`:
    /// no cache). A cache directory that is not private is refused with a warning, and
    /// plugins are compiled without it.
    pub fn new(limits: Limits, cache_root: Option<PathBuf>) -> Result<Self, PluginError> {
        let mut config = Config::new();
        config.wasm_component_model(true);
        config.epoch_interruption(true);
        config.cranelift_opt_level(wasmtime::OptLevel::Speed);
        // No reliance on huge virtual reservations: many stores run at once.
        config.memory_reservation(1 << 32);
        config.memory_guard_size(64 << 10);
        let engine = Engine::new(&config).map_err(|e| PluginError::Runtime(e.to_string()))?;

        let mut linker: Linker<StoreState> = Linker::new(&engine);
        host::link(&mut linker).map_err(|e| PluginError::Runtime(format!("{e:#}")))?;

        let cache = cache_root.and_then(|root| match CompileCache::open(&root, &engine) {
            Ok(c) => Some(c),
            Err(e) => {
                tracing::warn!("compile cache disabled ({e}); plugins are compiled afresh");
                None
            }
        });

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
            cache,
            ticker_stop: stop,
            preread: std::sync::Mutex::new(None),
        })
    }

    /// The wasmtime engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Whether compiled artifacts are cached.
    pub fn caches(&self) -> bool {
        self.cache.is_some()
    }

    /// Start decoding the models a plugin named when it was last loaded (its services
    /// hint), before [`PluginRuntime::load`] is reached: a command that resolves its
    /// scope first (regions wait for the endpoint data) then has the model decoding on
    /// another core meanwhile, instead of after. Best effort: a plugin that cannot be
    /// read, or has no hint, is left for `load` to report.
    pub fn prefetch_models(&self, path: &Path, models: &aws_engine::Models) {
        let Some(cache) = &self.cache else { return };
        let Ok((bytes, sha256)) = loader::read(path, None) else {
            return;
        };
        let hinted = cache.services_hint(&sha256);
        for s in &hinted {
            models.prefetch(s);
        }
        *self.preread.lock().unwrap_or_else(|e| e.into_inner()) = Some(Preread {
            path: path.to_path_buf(),
            bytes,
            sha256,
            hinted,
        });
    }

    /// The plugin at `path` (bytes, sha256, services hint): as prefetched, or read now.
    fn read(
        &self,
        path: &Path,
        expected_sha256: Option<&str>,
    ) -> Result<(Vec<u8>, String, Vec<String>), PluginError> {
        let preread = self
            .preread
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .filter(|r| r.path == path);
        if let Some(r) = preread {
            loader::check_sha256(path, expected_sha256, &r.sha256)?;
            return Ok((r.bytes, r.sha256, r.hinted));
        }
        let (bytes, sha256) = loader::read(path, expected_sha256)?;
        let hinted = self
            .cache
            .as_ref()
            .map(|c| c.services_hint(&sha256))
            .unwrap_or_default();
        Ok((bytes, sha256, hinted))
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
        let (bytes, sha256, hinted) = self.read(path, expected_sha256)?;
        // The models the manifest will need, decoding while the plugin is instantiated
        // and asked for it (what its last load named).
        for s in &hinted {
            models.prefetch(s);
        }
        let producers = crate::manifest::producers(&bytes);
        let (component, from_cache) = self.compile_cached(&bytes, &sha256, &p)?;
        let contract = loader::check_types(&self.engine, &component, &p)?;
        let link_err = |e: wasmtime::Error| PluginError::Compile {
            path: p.clone(),
            message: format!("{e:#}"),
        };
        let instance_pre = self.linker.instantiate_pre(&component).map_err(link_err)?;
        let pre = match contract {
            crate::Contract::V0_1 => {
                Pre::V0_1(v0_1::PluginPre::new(instance_pre).map_err(link_err)?)
            }
            crate::Contract::V0_2 => {
                Pre::V0_2(v0_2::PluginPre::new(instance_pre).map_err(link_err)?)
            }
        };

        // Read the manifest in a throwaway store, under the same limits as a collect.
        let mut store = self.new_store(
            ScopeContext::manifest_only(),
            Policy::default(),
            None,
            Arc::default(),
        );
        let fetch = async {
            let raw: RawManifest = match &pre {
                Pre::V0_1(pre) => {
                    let i = pre.instantiate_async(&mut store).await?;
                    i.mrhost_plugin_collector()
                        .call_manifest(&mut store)
                        .await?
                        .into()
                }
                Pre::V0_2(pre) => {
                    let i = pre.instantiate_async(&mut store).await?;
                    i.mrhost_plugin_collector()
                        .call_manifest(&mut store)
                        .await?
                        .into()
                }
            };
            wasmtime::Result::Ok(raw)
        };
        let raw = match tokio::time::timeout(self.limits.timeout, fetch).await {
            Ok(Ok(m)) => m,
            Ok(Err(e)) => {
                return Err(PluginError::Manifest {
                    path: p,
                    message: format!("manifest() failed: {}", scope_error(&e, &store)),
                })
            }
            Err(_) => {
                return Err(PluginError::Manifest {
                    path: p,
                    message: format!(
                        "manifest() failed: limit exceeded: {}",
                        LimitExceeded::deadline(self.limits.timeout)
                    ),
                })
            }
        };
        let manifest =
            Manifest::check(raw, contract, models).map_err(|message| PluginError::Manifest {
                path: p.clone(),
                message,
            })?;
        if let Some(cache) = &self.cache {
            let services = manifest.services();
            if services != hinted {
                // Only a hint: a run that cannot write it loses nothing but the head start.
                let _ = cache.remember_services(&sha256, &services);
            }
        }
        let policy = Policy::new(
            manifest.operations.iter().cloned(),
            allowed_writes.iter().cloned(),
        );
        Ok(Arc::new(Plugin {
            path: path.to_path_buf(),
            sha256,
            manifest,
            policy,
            pre: Arc::new(pre),
            from_cache,
            load_time: started.elapsed(),
            producers,
            params: Arc::default(),
        }))
    }

    /// The component from authenticated cached native code, or compiled (and cached).
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
        let Some(cache) = &self.cache else {
            return Ok((
                Component::new(&self.engine, bytes).map_err(compile_err)?,
                false,
            ));
        };
        match cache.load(sha256) {
            Lookup::Hit(code) => {
                // SAFETY: these bytes carry a valid HMAC under this user's key, over this
                // wasm's sha256 and this engine's compatibility hash: they are exactly what
                // `precompile_component` of an engine like this one produced for this very
                // wasm, and were written by this user's mrhost into a private directory.
                // They were read into memory once and verified there, so what is
                // deserialized is what was authenticated.
                match unsafe { Component::deserialize(&self.engine, &code) } {
                    Ok(c) => return Ok((c, true)),
                    Err(e) => tracing::warn!("ignoring unusable cached artifact: {e}"),
                }
            }
            Lookup::Miss => {}
            Lookup::Rejected(why) => {
                tracing::warn!("ignoring cached artifact {why}; compiling afresh");
            }
        }
        let compiled = self
            .engine
            .precompile_component(bytes)
            .map_err(compile_err)?;
        if let Err(e) = cache.store(sha256, &compiled) {
            tracing::warn!(path = %cache.artifact_path(sha256).display(), "could not write the compile cache: {e}");
        }
        // SAFETY: these bytes were produced by this very engine a moment ago, in memory.
        let component =
            unsafe { Component::deserialize(&self.engine, &compiled) }.map_err(compile_err)?;
        Ok((component, false))
    }

    fn new_store(
        &self,
        ctx: ScopeContext,
        policy: Policy,
        emitter: Option<Emitter>,
        params: Arc<Vec<(String, ParamValue)>>,
    ) -> Store<StoreState> {
        let state = StoreState::new(ctx, policy, emitter, &self.limits, params);
        let trip = state.trip.clone();
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limiter);
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(move |_| {
            if trip.past_deadline() {
                Err(trip.trip(trip.deadline_limit()))
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
        emitter: Emitter,
    ) -> Result<CollectStats, ScopeError> {
        let account = ctx.account.clone();
        let mut store = self.new_store(
            ctx,
            plugin.policy.clone(),
            Some(emitter),
            plugin.params.clone(),
        );
        let started = Instant::now();
        let run = async {
            match &*plugin.pre {
                Pre::V0_1(pre) => {
                    // A 0.1 scope carries the account: resolve it first.
                    let account = match account.get().await {
                        Ok(a) => a.to_string(),
                        Err(e) => {
                            return Ok(Err(ScopeError::Account {
                                code: e.code().map(str::to_string),
                                message: escape_controls(&e.to_string()).into_owned(),
                            }))
                        }
                    };
                    let scope = v0_1::mrhost::plugin::types::Scope {
                        account,
                        region: store.data().aws.region().to_string(),
                        partition: store.data().aws.partition().to_string(),
                    };
                    let i = pre.instantiate_async(&mut store).await?;
                    let r = i
                        .mrhost_plugin_collector()
                        .call_collect(&mut store, &scope)
                        .await?;
                    Ok(r.map_err(ScopeError::from_v0_1))
                }
                Pre::V0_2(pre) => {
                    let state = store.data();
                    let scope = v0_2::mrhost::plugin::types::Scope {
                        region: state.aws.region().to_string(),
                        partition: state.aws.partition().to_string(),
                        params: state.aws.params.iter().map(wit_param).collect(),
                    };
                    let i = pre.instantiate_async(&mut store).await?;
                    let r = i
                        .mrhost_plugin_collector()
                        .call_collect(&mut store, &scope)
                        .await?;
                    Ok(r.map_err(ScopeError::from_v0_2))
                }
            }
        };
        // Epochs stop guest code; this stops a scope stuck in host calls as well.
        let outcome: Result<wasmtime::Result<Result<(), ScopeError>>, _> =
            tokio::time::timeout(self.limits.timeout + Duration::from_secs(1), run).await;
        // What the plugin emitted last is still held back: it goes out whatever happened,
        // as it would have, had it been sent at once.
        let flushed = store.data_mut().sink.flush().await;
        let state = store.data_mut();
        state.log.flush();
        let stats = CollectStats {
            resources: state.sink.emitted,
            bytes: state.sink.emitted_bytes,
            calls: state.aws.calls,
            elapsed: started.elapsed(),
        };
        match outcome {
            Ok(Ok(Ok(()))) => match flushed {
                Ok(()) => Ok(stats),
                Err(e) => Err(ScopeError::Trap(
                    escape_controls(&e.to_string()).into_owned(),
                )),
            },
            Ok(Ok(Err(e))) => Err(e),
            Ok(Err(e)) => Err(scope_error(&e, &store)),
            Err(_) => Err(ScopeError::Limit(
                store
                    .data()
                    .trip
                    .tripped()
                    .unwrap_or_else(|| LimitExceeded::deadline(self.limits.timeout)),
            )),
        }
    }
}

fn wit_param((name, value): &(String, ParamValue)) -> v0_2::mrhost::plugin::types::Param {
    use v0_2::mrhost::plugin::types::{Param, ParamValue as W};
    Param {
        name: name.clone(),
        value: match value {
            ParamValue::String(s) => W::String(s.clone()),
            ParamValue::Bool(b) => W::Bool(*b),
            ParamValue::Int(i) => W::Int(*i),
            ParamValue::Float(f) => W::Float(*f),
            ParamValue::Timestamp(t) => W::Timestamp(t.clone()),
            ParamValue::Json(j) => W::Json(j.clone()),
        },
    }
}

/// The scope error users see for a wasmtime error: the limit that stopped the guest when
/// one did (carried by the trap, or recorded by the tripwire when it fired outside a host
/// call), else the trap's own one line and the plugin's last words.
fn scope_error(e: &wasmtime::Error, store: &Store<StoreState>) -> ScopeError {
    let state = store.data();
    if let Some(limit) = e
        .chain()
        .find_map(|c| c.downcast_ref::<LimitExceeded>())
        .copied()
        .or_else(|| state.trip.tripped())
    {
        return ScopeError::Limit(limit);
    }
    // The root cause alone: wasmtime's context lines (backtraces) are long.
    let msg = match e.downcast_ref::<wasmtime::Trap>() {
        Some(trap) => trap.to_string(),
        None => e.root_cause().to_string(),
    };
    let mut msg = msg.lines().next().unwrap_or_default().to_string();
    // A panicking Rust plugin prints why just before it traps: keep that.
    if let Some(last) = state.log.last_lines() {
        let last: String = last.chars().take(300).collect();
        msg.push_str(&format!(" (plugin said: {last})"));
    }
    ScopeError::Trap(escape_controls(&msg).into_owned())
}
