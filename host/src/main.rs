//! mrhost: one query over every AWS region and account at once; resource types are
//! sandboxed WebAssembly components.
//!
//! The binary: [`cli`] (arguments, commands, exit codes), [`plan`] (the accounts and
//! regions of one invocation), [`pipeline`] (sources, fan-out, tagging), [`render`] (output
//! formats), [`sql`] and [`progress`]. The AWS client is the `aws-engine` crate, the plugin
//! runtime the `plugin-host` crate.

mod cli;
mod inventory;
mod pipeline;
mod plan;
mod progress;
mod render;
mod report;
mod serve;
mod sql;

use clap::Parser;

/// mimalloc, not glibc's malloc: the per-resource path allocates and frees small values
/// (JSON maps, strings) on several threads, and glibc's arenas spent a quarter of `sync`'s
/// CPU at 1,000 accounts in malloc, free and consolidation (BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use cli::{exit, Cli};
use tracing_subscriber::EnvFilter;

fn main() {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            if !e.use_stderr() {
                // --help, --version.
                let _ = e.print();
                std::process::exit(exit::OK);
            }
            eprintln!("mrhost: error: {}", cli::usage_line(&e));
            std::process::exit(exit::USAGE);
        }
    };
    let level = match (cli.quiet, cli.verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_env("MRHOST_LOG").unwrap_or_else(|_| {
        // Our own crate at the chosen level; dependencies one notch quieter.
        EnvFilter::new(format!("warn,mrhost={level},plugin={level}"))
    });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .without_time()
        .init();

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("mrhost: error: starting the async runtime: {e}");
            std::process::exit(exit::ERROR);
        }
    };
    let code = runtime.block_on(cli::dispatch(cli)).unwrap_or_else(|e| {
        // A closed pipe (`mrhost ... | head`) is how the reader says it has enough.
        let broken_pipe = e.chain().any(|c| {
            c.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
        });
        if broken_pipe {
            return exit::OK;
        }
        // One line: the error and its causes, joined.
        let mut msg = e.to_string();
        for cause in e.chain().skip(1) {
            let c = cause.to_string();
            if !msg.contains(&c) {
                msg.push_str(": ");
                msg.push_str(&c);
            }
        }
        // Error text can carry a server's or a plugin's words: every control character
        // escaped, so it stays one line and cannot drive the terminal.
        eprintln!(
            "mrhost: error: {}",
            plugin_host::escape::escape_controls(&msg.replace('\n', " "))
        );
        // A wrong command line (a flag, a profile, an account the Organization does not
        // have, ...) found before any call: exit 2, as clap's own errors.
        if cli::is_usage(&e) {
            exit::USAGE
        } else {
            exit::ERROR
        }
    });
    // Don't wait for idle pooled connections or the epoch thread.
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    std::process::exit(code);
}
