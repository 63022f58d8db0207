//! The command line: [`args`] parses, [`setup`] resolves the arguments into engine,
//! plugin-host and plan settings once, each command lives in [`commands`], and every
//! command ends in [`report`]'s one-line errors and exit code.

pub mod args;
mod commands;
mod execute;
mod report;
mod setup;

use std::io::Write;

use anyhow::Result;
use serde_json::Value;

use crate::render::{self, Format};
pub use args::Cli;
use args::Command;

/// Exit codes: 0 all scopes succeeded; 1 nothing could run (bad input) or every scope
/// failed; 2 command-line usage error; 3 some scopes failed and others succeeded.
pub mod exit {
    /// Every scope succeeded.
    pub const OK: i32 = 0;
    /// Nothing could run, or nothing succeeded.
    pub const ERROR: i32 = 1;
    /// The command line was wrong.
    pub const USAGE: i32 = 2;
    /// Some scopes failed; the others' results are complete.
    pub const PARTIAL: i32 = 3;
}

/// Global options every command sees.
#[derive(Debug, Clone, Copy)]
pub struct Ctx {
    pub quiet: bool,
    pub verbose: u8,
}

/// Write a finished document in the chosen format; a closed pipe ends quietly.
fn print_document(doc: &Value, format: &Format, columns: &[String]) -> Result<()> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    render::render(&mut out, doc, format, columns)?;
    out.flush()?;
    Ok(())
}

pub async fn dispatch(cli: Cli) -> Result<i32> {
    let ctx = Ctx {
        quiet: cli.quiet,
        verbose: cli.verbose,
    };
    match cli.command {
        Command::Run(a) => commands::run::run(ctx, a).await,
        Command::Call(a) => commands::call::call(ctx, a).await,
        Command::Query(a) => commands::query::query(ctx, a).await,
        Command::List(a) => commands::list::list(ctx, a).await,
        Command::Cache(c) => commands::cache::cache(c).await,
        Command::Plugins(c) => commands::plugins::plugins(c).await,
        Command::Policy(a) => commands::policy::policy(ctx, a).await,
        Command::Serve(a) => commands::serve::serve(ctx, a).await,
        Command::Conformance { dir, failures } => {
            commands::conformance::conformance(&dir, failures)
        }
    }
}
