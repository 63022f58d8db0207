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

// Option numbers from mimalloc.h (v3; libmimalloc-sys is pinned in Cargo.toml), which the
// crate does not name.
const ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
// They sit where mimalloc.h puts them, between options the crate names.
const _: () = assert!(
    PURGE_DELAY == libmimalloc_sys::mi_option_use_numa_nodes - 1
        && PURGE_DELAY > libmimalloc_sys::mi_option_reserve_os_memory
        && ARENA_EAGER_COMMIT > libmimalloc_sys::mi_option_verbose
        && ARENA_EAGER_COMMIT < libmimalloc_sys::mi_option_large_os_pages
);

/// mimalloc's settings, unless the environment sets them (`MIMALLOC_PURGE_DELAY`,
/// `MIMALLOC_ARENA_EAGER_COMMIT`): freed memory goes back to the OS after 100 ms, not 1 s,
/// and arenas are committed as they are used, not eagerly. A 1,000-account sync frees about
/// as fast as it allocates; with the defaults its resident memory peaked at 230–280 MiB
/// against 167–177 MiB with these, at the same CPU (BENCHMARKS.md).
///
/// The first allocation reserves the allocator's arena with whatever is set at that moment,
/// and the Rust runtime allocates before `main`: on ELF platforms this runs from
/// `.init_array`, before the runtime starts; elsewhere first thing in `main`, where it
/// still sets the purge delay.
extern "C" fn tune_allocator() {
    // SAFETY: plain integer settings, set before any thread starts; `set_default` leaves
    // an option the environment set as it is.
    unsafe {
        libmimalloc_sys::mi_option_set_default(ARENA_EAGER_COMMIT, 0);
        libmimalloc_sys::mi_option_set_default(PURGE_DELAY, 100);
    }
}

#[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
#[used]
#[unsafe(link_section = ".init_array")]
static TUNE_ALLOCATOR: extern "C" fn() = tune_allocator;

fn main() {
    #[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd")))]
    tune_allocator();
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

#[cfg(test)]
mod allocator_tests {
    use super::{ARENA_EAGER_COMMIT, PURGE_DELAY};
    use libmimalloc_sys as mi;

    #[test]
    fn the_allocator_settings_are_in_effect_unless_the_environment_sets_them() {
        // SAFETY: reading an integer option.
        let (delay, eager) = unsafe {
            (
                mi::mi_option_get(PURGE_DELAY),
                mi::mi_option_get(ARENA_EAGER_COMMIT),
            )
        };
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
            assert_eq!(delay, 100);
        }
        if std::env::var_os("MIMALLOC_ARENA_EAGER_COMMIT").is_none() {
            assert_eq!(eager, 0);
        }
    }
}
