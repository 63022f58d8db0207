//! `mrhost query SQL`: the plugins and model types a query names, fetched in every scope
//! into SQLite tables, then the SQL over them.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Result};
use aws_engine::catalogue::{self, ModelType};
use plugin_host::ScopeKind;
use serde_json::Value;

use crate::cli::args::QueryArgs;
use crate::cli::execute::{failures_of, fan_out};
use crate::cli::report::report;
use crate::cli::{print_document, setup, Ctx};
use crate::pipeline::{Counters, Source};
use crate::plan::ScopePlan;
use crate::progress::Progress;
use crate::render::{self, Format, OutputWriter};

/// The plugins in the directories, by table name (file stem), without loading them.
pub fn plugin_files(dirs: &[PathBuf]) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    for dir in dirs {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "wasm") {
                if let Some(stem) = p.file_stem().and_then(|s| s.to_str()) {
                    out.push((crate::sql::table_name(stem), p.clone()));
                }
            }
        }
    }
    out.sort();
    out
}

/// `--from DEST [--at SYNC|TIME]`: the SQL over a stored inventory, no AWS call.
async fn query_stored(args: &QueryArgs, dest: &str) -> Result<i32> {
    use crate::inventory::{store::resolve_sync, Destination, Store};
    let jmes = setup::compile_query(&args.out)?;
    let format = args
        .out
        .output
        .clone()
        .unwrap_or_else(render::default_format);
    if matches!(format, Format::Sqlite(_)) {
        bail!("--from reads an inventory; -o sqlite: is for fetched tables");
    }
    let dest = Destination::parse(dest)?;
    let mut store = Store::open_read(&dest).await?;
    let at = match &args.at {
        Some(spec) => Some(resolve_sync(&store.syncs().await?, spec)?),
        None => None,
    };
    let rows = store.query(&args.sql, at).await?;
    let mut doc = Value::Array(rows);
    if let Some(q) = &jmes {
        doc = q.apply(&doc).map_err(|e| anyhow::anyhow!(e))?;
    }
    print_document(&doc, &format, &args.out.columns)?;
    Ok(crate::cli::exit::OK)
}

/// Fetch every table the SQL names, in one plan, then run the SQL.
pub async fn query(ctx: Ctx, args: QueryArgs) -> Result<i32> {
    if let Some(dest) = args.from.clone() {
        return query_stored(&args, &dest).await;
    }
    let client = setup::client_with(
        &args.scope,
        &args.sandbox.allow,
        setup::mib_bytes(args.sandbox.max_response_mib),
    )?;
    let jmes = setup::compile_query(&args.out)?;
    let format = args
        .out
        .output
        .clone()
        .unwrap_or_else(render::default_format);
    // Tables: the plugins in --plugins, then every model-derived type (service_resource).
    let files = plugin_files(&args.plugins);
    let types = catalogue::catalogue(client.models(), None)?;
    let mut tables: Vec<(String, Option<PathBuf>, Option<ModelType>)> = files
        .iter()
        .map(|(n, p)| (n.clone(), Some(p.clone()), None))
        .collect();
    for t in types {
        if !tables
            .iter()
            .any(|(n, _, _)| *n == crate::sql::model_table(&t))
        {
            tables.push((crate::sql::model_table(&t), None, Some(t)));
        }
    }
    let names: Vec<String> =
        crate::sql::referenced(&args.sql, tables.iter().map(|(n, _, _)| n.as_str()))
            .into_iter()
            .map(str::to_string)
            .collect();
    if names.is_empty() {
        let available: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
        bail!(
            "the query names no table; tables here: {}, and any service_resource type (mrhost list --available)",
            if available.is_empty() { "no plugins".to_string() } else { available.join(", ") }
        );
    }
    let runtime = Arc::new(setup::runtime(&args.sandbox)?);
    let request = setup::scope_request(&client, &args.scope)?;
    let plan = ScopePlan::resolve(&client, &request).await?;
    let path = match &format {
        Format::Sqlite(p) => Some(p.clone()),
        _ => None,
    };
    let mut db = crate::sql::Db::open(path.as_deref()).map_err(|e| anyhow::anyhow!(e))?;
    let mut failures = Vec::new();
    let mut total = 0;
    let counters = Arc::new(Counters::default());
    for name in &names {
        let Some((_, file, ty)) = tables.iter().find(|(n, _, _)| n == name) else {
            continue;
        };
        let (source, global) = match (file, ty) {
            (Some(file), _) => {
                let plugin = setup::load_plugin(&client, &runtime, file, &args.sandbox).await?;
                let global = plugin.manifest.scope_kind == ScopeKind::Global;
                (Source::Plugin(runtime.clone(), plugin), global)
            }
            (None, Some(t)) => {
                // The permission check plugins and `list` go through (no --yes here: the
                // user named the class with --allow).
                if let aws_engine::Access::Deny(reason) =
                    client.grants().decide(&t.service, &t.operation)
                {
                    bail!("table {name}: {reason}");
                }
                if !t.required.is_empty() {
                    bail!(
                        "table {name} ({} {}) needs params ({}): use mrhost list with --params",
                        t.service,
                        t.operation,
                        t.required.join(", ")
                    );
                }
                (
                    Source::Model(Arc::new(t.clone()), Arc::new(serde_json::json!({}))),
                    t.global,
                )
            }
            _ => continue,
        };
        let label = source.name();
        let targets = plan.targets(global).await?;
        total += targets.len();
        let order = targets
            .iter()
            .map(|t| (t.account.id.clone(), t.region.clone()))
            .collect();
        let progress = Progress::start(targets.len(), counters.clone(), client.clone(), ctx.quiet);
        let sink = OutputWriter::new(std::io::sink(), &Format::Json, false, None, order);
        let mut done = fan_out(
            &client,
            source,
            targets,
            args.scope.concurrency,
            sink,
            &counters,
            crate::pipeline::Options {
                limits: Some(setup::scope_limits(
                    args.sandbox.max_calls,
                    args.sandbox.timeout,
                )),
                ..Default::default()
            },
        )
        .await?;
        progress.finish(&counters, &client, total, 0, false);
        let items = match done.writer.document().map_err(|e| anyhow::anyhow!(e))? {
            Some(Value::Array(items)) => items,
            _ => Vec::new(),
        };
        db.load(name, &items).map_err(|e| anyhow::anyhow!(e))?;
        failures.extend(
            failures_of(&done.outcomes)
                .into_iter()
                .map(|(l, f)| (format!("{label} {l}"), f)),
        );
    }
    let rows = db.query(&args.sql).map_err(|e| anyhow::anyhow!(e))?;
    match &format {
        Format::Sqlite(p) => {
            if !ctx.quiet {
                eprintln!(
                    "mrhost: wrote the tables to {} ({} rows match the query)",
                    p.display(),
                    rows.len()
                );
            }
        }
        f => {
            let mut doc = Value::Array(rows);
            if let Some(q) = &jmes {
                doc = q.apply(&doc).map_err(|e| anyhow::anyhow!(e))?;
            }
            print_document(&doc, f, &args.out.columns)?;
        }
    }
    Ok(report(
        &failures,
        &plan.skipped(),
        total,
        "query",
        &args.scope.ignore_error_codes,
    ))
}
