//! The command line: [`args`] parses, [`setup`] resolves the arguments into engine,
//! plugin-host and plan settings once, each command lives in [`commands`], and every
//! command ends in [`report`]'s one-line errors and exit code.

pub mod args;
mod commands;
mod execute;
mod plugin_path;
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

/// A wrong command line found after clap parsed it (a flag's value, a profile, an
/// account): one line, exit 2 ([`exit::USAGE`]).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Usage(pub String);

/// `Err(Usage)` from a message.
pub fn usage<T>(msg: impl Into<String>) -> Result<T> {
    Err(Usage(msg.into()).into())
}

/// Whether an error is the user's command line: [`Usage`], or a scope the flags named
/// that cannot be (an unknown region, profile or account).
pub fn is_usage(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.is::<Usage>()
            || c.downcast_ref::<crate::plan::PlanError>()
                .is_some_and(crate::plan::PlanError::is_usage)
    })
}

/// A clap error as one line: its message and its tip, without the usage block.
pub fn usage_line(e: &clap::Error) -> String {
    let text = e.render().to_string();
    let mut msg = String::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with("Usage:") || line.starts_with("For more information")
        {
            continue;
        }
        let line = line.strip_prefix("error: ").unwrap_or(line);
        if !msg.is_empty() {
            msg.push_str(if msg.ends_with(':') { " " } else { "; " });
        }
        msg.push_str(line);
    }
    msg.push_str(" (see --help)");
    msg
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

/// Write a finished document in the chosen format, shown as `view` says.
fn print_view(doc: &Value, format: &Format, view: &render::View) -> Result<()> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    render::render_view(&mut out, doc, format, view)?;
    out.flush()?;
    Ok(())
}

pub async fn dispatch(cli: Cli) -> Result<i32> {
    let ctx = Ctx {
        quiet: cli.quiet,
        verbose: cli.verbose,
    };
    if !ctx.quiet {
        for problem in setup::config_problems() {
            eprintln!("mrhost: warning: {problem}");
        }
    }
    match cli.command {
        Command::Run(a) => commands::run::run(ctx, a).await,
        Command::Call(a) => commands::call::call(ctx, a).await,
        Command::Query(a) => commands::query::query(ctx, a).await,
        Command::List(a) => commands::list::list(ctx, a).await,
        Command::Sync(a) => commands::sync::sync(ctx, a).await,
        Command::Diff(a) => commands::diff::diff(ctx, a).await,
        Command::Report(a) => commands::report::report(ctx, a).await,
        Command::Cache(c) => commands::cache::cache(c).await,
        Command::Plugins(c) => commands::plugins::plugins(c).await,
        Command::Policy(a) => commands::policy::policy(ctx, a).await,
        Command::Serve(a) => commands::serve::serve(ctx, a).await,
        Command::Completions(a) => commands::completions::completions(&a),
        Command::Conformance { dir, failures } => {
            commands::conformance::conformance(&dir, failures)
        }
    }
}
