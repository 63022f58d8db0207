//! One file per command.

pub mod cache;
pub mod call;
pub mod conformance;
pub mod list;
pub mod plugins;
pub mod policy;
pub mod query;
pub mod run;
pub mod serve;
