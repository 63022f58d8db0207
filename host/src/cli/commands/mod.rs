//! One file per command.

pub mod cache;
pub mod call;
pub mod completions;
pub mod conformance;
pub mod diff;
pub mod list;
pub mod plugins;
pub mod policy;
pub mod query;
pub mod report;
pub mod run;
pub mod serve;
pub mod sync;
