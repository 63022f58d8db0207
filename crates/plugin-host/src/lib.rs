//! The mrhost plugin runtime: WebAssembly components behind the `mrhost:plugin` WIT
//! contract (versions 0.1.0 and 0.2.0, served side by side), sandboxed and limited.
//!
//! - [`PluginRuntime`]: one wasmtime engine and linker, an epoch ticker, the compile cache
//!   ([`cache`]: private, authenticated); [`PluginRuntime::load`] reads, verifies,
//!   compiles and checks a plugin ([`Plugin`], with its [`Manifest`]);
//!   [`PluginRuntime::collect`] runs one scope in a fresh store.
//! - The host side of the imports, one file and one store view per interface: `aws`
//!   (calls, pages, concurrent batches, the account), `sink` (emitted resources, handed
//!   to the embedder's [`ResourceSink`]), `log`.
//! - [`Limits`] and the one way a limit hit is reported, [`LimitExceeded`].
//! - [`policy`]: the permission check every call passes; [`params`]: declared, typed
//!   plugin parameters; [`escape`]: plugin text made safe for a terminal.
//!
//! ```no_run
//! # async fn demo(sink: plugin_host::Emitter) -> Result<(), Box<dyn std::error::Error>> {
//! use plugin_host::{Limits, PluginRuntime, ScopeAccount, ScopeContext};
//! let models = aws_engine::Models::from_env()?;
//! let runtime = PluginRuntime::new(Limits::default(), None)?;
//! let plugin = runtime
//!     .load("plugins/vpcs.wasm".as_ref(), &models, None, &[])
//!     .await?;
//! let ctx = ScopeContext {
//!     account: ScopeAccount::known("123456789012"),
//!     region: "eu-west-1".into(),
//!     partition: "aws".into(),
//!     plugin: plugin.manifest.name.clone(),
//!     aws: None, // a real run passes the client and the credentials
//! };
//! let stats = runtime.collect(&plugin, ctx, sink).await?;
//! println!("{} resources", stats.resources);
//! # Ok(()) }
//! ```

#![warn(missing_docs, unreachable_pub)]

mod bindings;
pub mod cache;
pub mod escape;
mod host;
mod limits;
mod loader;
pub mod manifest;
pub mod params;
// Being rewritten with operation classes; documented with that rewrite.
#[allow(missing_docs)]
pub mod policy;
mod runtime;

pub use host::{EmitError, Emitter, ResourceSink, ScopeAccount, ScopeContext};
pub use limits::{LimitExceeded, LimitKind, Limits};
pub use loader::{served, Plugin, PluginError, MAX_PLUGIN_BYTES};
pub use manifest::{Contract, Manifest, ScopeKind};
pub use params::{GivenParam, ParamError, ParamSpec, ParamValue};
pub use policy::Policy;
pub use runtime::{CollectStats, PluginRuntime, ScopeError};
