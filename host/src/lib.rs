//! mrhost: one query over every region and account at once; resource types are sandboxed
//! WebAssembly components.
//!
//! - [`engine`]: the model-driven AWS client (usable alone: the Rust MultiRegionClient).
//! - [`plugin`]: the wasmtime runtime and the host side of the WIT contract.

pub mod cli;
pub mod engine;
pub mod list;
pub mod output;
pub mod plugin;
pub mod progress;
pub mod run;
pub mod scope;
pub mod sql;
pub mod util;
