//! `mrhost sync [SOURCES...] [--to DEST]`: every source over the whole plan into an
//! inventory, in one run, with history; `--resume`, `--shard i/N`, `--sync-id`,
//! `--keep`, `--keep-days`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use aws_engine::catalogue::{self, ModelType};
use aws_engine::AwsClient;

use crate::cli::args::SyncArgs;
use crate::cli::report::report;
use crate::cli::{setup, Ctx};
use crate::inventory::schema::{model_spec, plugin_spec};
use crate::inventory::store::{redact, SyncStart};
use crate::inventory::sync::{self as inv_sync, SyncJob, SyncSource};
use crate::inventory::{Destination, Store};
use crate::pipeline::Source;
use crate::plan::PendingPlan;

/// Where the bundled plugins are: `plugins/` beside the binary, `../share/mrhost/plugins`
/// from it, `./plugins`, then the source tree's. The one place that knows.
pub fn bundled_plugin_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(exe_dir) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf))
    {
        dirs.push(exe_dir.join("plugins"));
        dirs.push(exe_dir.join("../share/mrhost/plugins"));
    }
    dirs.push(PathBuf::from("plugins"));
    dirs.push(PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../plugins"
    )));
    dirs
}

fn wasm_files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "wasm") && p.is_file())
        .collect();
    out.sort();
    out
}

/// What a SOURCES argument names, before anything is loaded.
enum Named {
    Plugin(PathBuf),
    Model(ModelType),
}

fn expand_sources(client: &AwsClient, args: &[String]) -> Result<Vec<Named>> {
    if args.is_empty() {
        let dirs = bundled_plugin_dirs();
        for d in &dirs {
            let files = wasm_files(d);
            if !files.is_empty() {
                return Ok(files.into_iter().map(Named::Plugin).collect());
            }
        }
        bail!(
            "no bundled plugins found (looked in {}); build them with scripts/build-plugins.sh or name the sources",
            dirs.iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let mut out = Vec::new();
    let mut need_params = Vec::new();
    for a in args {
        let p = Path::new(a);
        if p.is_dir() {
            let files = wasm_files(p);
            if files.is_empty() {
                bail!("no plugins (.wasm) in {a}");
            }
            out.extend(files.into_iter().map(Named::Plugin));
        } else if p.is_file() {
            out.push(Named::Plugin(p.to_path_buf()));
        } else if let Some((service, resource)) = a.split_once(':') {
            let t = catalogue::find(client.models(), service, resource)
                .map_err(|e| anyhow::anyhow!("{a}: {e}"))?;
            if !t.required.is_empty() {
                need_params.push(format!("{a} ({})", t.required.join(", ")));
            }
            out.push(Named::Model(t));
        } else {
            bail!("{a}: no such plugin file or directory, and not a service:resource type");
        }
    }
    if !need_params.is_empty() {
        bail!(
            "these types need params and cannot be synced: {} (mrhost list with --params fetches them)",
            need_params.join(", ")
        );
    }
    Ok(out)
}

/// `i/N` with 0 <= i < N.
pub fn parse_shard(s: &str) -> Result<(u32, u32)> {
    let bad = || anyhow::anyhow!("expected I/N with 0 <= I < N, e.g. 0/3");
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    let (i, n): (u32, u32) = (
        i.trim().parse().map_err(|_| bad())?,
        n.trim().parse().map_err(|_| bad())?,
    );
    if n == 0 || i >= n {
        return Err(bad());
    }
    Ok((i, n))
}

/// The command line as `_syncs.command` keeps it, passwords hidden.
fn command_line() -> String {
    std::env::args()
        .map(|a| if a.contains("://") { redact(&a) } else { a })
        .collect::<Vec<_>>()
        .join(" ")
}

pub async fn sync(ctx: Ctx, args: SyncArgs) -> Result<i32> {
    let dest = match &args.to {
        Some(s) => Destination::parse(s)?,
        None => Destination::Sqlite(Destination::default_path()),
    };
    let shard = args.shard;
    let client = setup::client_with(
        &args.scope,
        &args.sandbox.allow,
        setup::mib_bytes(args.sandbox.max_response_mib),
    )?;
    let named = expand_sources(&client, &args.sources)?;
    let mut request = setup::scope_request(&client, &args.scope)?;
    request.accounts.shard = shard;
    // The destination is proved writable, and its tables ours, before any AWS call.
    let mut store = Store::open(&dest).await?;
    let runtime = Arc::new(setup::runtime(&args.sandbox)?);
    let mut sources = Vec::new();
    for n in named {
        let (source, spec) = match n {
            Named::Plugin(path) => {
                let plugin = setup::load_plugin(&client, &runtime, &path, &args.sandbox)
                    .await
                    .with_context(|| format!("loading {}", path.display()))?;
                let spec = plugin_spec(client.models(), &plugin.manifest);
                (Source::Plugin(runtime.clone(), plugin), spec)
            }
            Named::Model(t) => {
                let spec = model_spec(client.models(), &t);
                (
                    Source::Model(Arc::new(t), Arc::new(serde_json::json!({}))),
                    spec,
                )
            }
        };
        if spec.table.starts_with('_') {
            bail!(
                "{}: a table name may not start with '_' (mrhost's own tables do)",
                source.name()
            );
        }
        if let Some(other) = sources
            .iter()
            .find(|s: &&SyncSource| s.spec.table == spec.table)
        {
            bail!(
                "{} and {} would both be table {}: sync one of them",
                other.source.name(),
                source.name(),
                spec.table
            );
        }
        sources.push(SyncSource {
            source,
            spec: Arc::new(spec),
        });
    }
    let specs: Vec<_> = sources.iter().map(|s| (*s.spec).clone()).collect();
    store.prepare_tables(&specs).await?;
    let plan = PendingPlan::start(&client, request).get().await?;
    let session = store
        .begin_sync(
            SyncStart {
                requested: args.sync_id,
                resume: args.resume,
            },
            &command_line(),
        )
        .await?;
    if !ctx.quiet && session.continued {
        eprintln!(
            "mrhost: continuing sync {} ({} units committed already)",
            session.id,
            session.done.len()
        );
    }
    let started = std::time::Instant::now();
    let job = SyncJob {
        client: client.clone(),
        sources,
        concurrency: args.scope.concurrency,
        ignore: args.scope.ignore_error_codes.clone(),
        quiet: ctx.quiet,
    };
    let (mut store, outcome) = inv_sync::run(job, plan, store, &session).await?;
    let s = &outcome.sync;
    if !ctx.quiet {
        let stats = client.stats();
        use std::sync::atomic::Ordering::Relaxed;
        eprintln!(
            "mrhost: sync {} into {}: {} units ({} failed{}) · {} resources · {} rows written ({} added, {} changed, {} removed) · {} API calls ({} throttled) · {:.1?}",
            s.id,
            dest.display(),
            outcome.units,
            outcome.failures.len(),
            if outcome.already_done > 0 {
                format!(", {} done before", outcome.already_done)
            } else {
                String::new()
            },
            outcome.counts.resources,
            outcome.counts.written,
            outcome.counts.added,
            outcome.counts.changed,
            outcome.counts.removed,
            stats.requests.load(Relaxed),
            stats.throttles.load(Relaxed),
            started.elapsed()
        );
    }
    if args.keep.is_some() || args.keep_days.is_some() {
        let pruned = store.prune(args.keep, args.keep_days).await?;
        if !ctx.quiet && !pruned.is_empty() {
            eprintln!(
                "mrhost: pruned {} older sync(s): {}",
                pruned.len(),
                pruned
                    .iter()
                    .map(i64::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    Ok(report(
        &outcome.failures,
        &outcome.skipped,
        outcome.units,
        "sync",
        &args.scope.ignore_error_codes,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse() {
        assert_eq!(parse_shard("0/3").unwrap(), (0, 3));
        assert_eq!(parse_shard("2/3").unwrap(), (2, 3));
        assert!(parse_shard("3/3").is_err());
        assert!(parse_shard("1/0").is_err());
        assert!(parse_shard("x").is_err());
    }
}
