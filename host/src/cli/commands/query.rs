//! `mrhost query SQL`: the plugins and model types a query names, fetched in every scope
//! into SQLite tables, then the SQL over them.

use std::path::PathBuf;
use std::sync::Arc;

use std::sync::atomic::Ordering::Relaxed;

use anyhow::{bail, Context, Result};
use aws_engine::catalogue::{self, ModelType};
use futures::stream::{self, StreamExt};
use plugin_host::ScopeKind;
use serde_json::Value;

use crate::cli::args::QueryArgs;
use crate::cli::report::report;
use crate::cli::{print_view, setup, Ctx};
use crate::pipeline::fanout::collect_scope;
use crate::pipeline::{Counters, Emitted, Options, ScopeFailure, Source};
use crate::plan::{ScopePlan, Target};
use crate::progress::Progress;
use crate::render::{self, Format};

/// The table `query -o sqlite:FILE` writes the result to.
const RESULT_TABLE: &str = "result";

/// `--from DEST [--at SYNC|TIME]`: the SQL over a stored inventory, no AWS call.
async fn query_stored(ctx: Ctx, args: &QueryArgs, dest: &str) -> Result<i32> {
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
    let view = render::View::for_output(
        &args.out.columns,
        &[],
        jmes.as_ref(),
        args.out.no_truncate,
        ctx.quiet,
    );
    print_view(&doc, &format, &view)?;
    Ok(crate::cli::exit::OK)
}

/// One table of the query: its name and who fills it.
struct Table {
    name: String,
    source: Source,
    global: bool,
}

/// Fetch every table the SQL names in one fan-out over one plan (accounts resolved
/// once, global types once per account), then run the SQL.
pub async fn query(ctx: Ctx, args: QueryArgs) -> Result<i32> {
    if let Some(dest) = args.from.clone() {
        return query_stored(ctx, &args, &dest).await;
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
    if args.keep_tables && !matches!(format, Format::Sqlite(_)) {
        bail!("--keep-tables writes the source tables into -o sqlite:FILE; give one");
    }
    // Tables: the plugins in --plugins, then every model-derived type (service_resource).
    // The plugins come from --plugins, else the search path (crate::cli::plugin_path).
    let files = crate::cli::plugin_path::plugin_files(&args.plugins)?;
    let types = catalogue::catalogue(client.models(), None)?;
    let mut tables: Vec<(String, Option<PathBuf>, Option<ModelType>)> = files
        .iter()
        .map(|(n, p)| (n.clone(), Some(p.clone()), None))
        .collect();
    // Model types whose table name a plugin has: the plugin is the table (noted below).
    let mut shadowed: Vec<(String, String)> = Vec::new();
    for t in types {
        let table = crate::sql::model_table(&t);
        if tables.iter().any(|(n, _, _)| *n == table) {
            shadowed.push((table, format!("{} {}", t.service, t.resource)));
        } else {
            tables.push((table, None, Some(t)));
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
    if !ctx.quiet {
        for (table, ty) in shadowed.iter().filter(|(t, _)| names.contains(t)) {
            if let Some((_, Some(p), _)) = tables.iter().find(|(n, _, _)| n == table) {
                eprintln!(
                    "mrhost: note: table {table} is the plugin {}, not the model type {ty} (mrhost list {ty} gives that one)",
                    p.display()
                );
            }
        }
    }
    // The output file is checked (and its copy made) before any AWS call.
    let mut out_db = match &format {
        Format::Sqlite(p) => {
            let mut written = vec![RESULT_TABLE.to_string()];
            if args.keep_tables {
                written.extend(names.iter().cloned());
            }
            Some(crate::sql::Db::output(p, &written).map_err(|e| anyhow::anyhow!(e))?)
        }
        _ => None,
    };
    let runtime = Arc::new(setup::runtime(&args.sandbox)?);
    let mut sources: Vec<Table> = Vec::new();
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
        sources.push(Table {
            name: name.clone(),
            source,
            global,
        });
    }
    let request = setup::scope_request(&client, &args.scope)?;
    let plan = ScopePlan::resolve(&client, &request).await?;
    let regional = plan.targets(false).await?;
    let global = plan.targets(true).await?;
    // Every (table, scope) unit, round-robin over the tables, under one bound.
    let mut per_table: Vec<std::vec::IntoIter<(usize, Target)>> = sources
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let targets = if s.global { &global } else { &regional };
            targets
                .iter()
                .map(|t| (i, t.clone()))
                .collect::<Vec<_>>()
                .into_iter()
        })
        .collect();
    let mut units = Vec::new();
    loop {
        let before = units.len();
        for it in &mut per_table {
            units.extend(it.next());
        }
        if units.len() == before {
            break;
        }
    }
    let total = units.len();
    let counters = Arc::new(Counters::default());
    let progress = Progress::start(total, counters.clone(), client.clone(), ctx.quiet);
    let mut senders = Vec::new();
    let mut collectors = Vec::new();
    for _ in &sources {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Emitted>(1024);
        let counters = counters.clone();
        senders.push(tx);
        collectors.push(tokio::spawn(async move {
            let mut items: Vec<(String, String, Value)> = Vec::new();
            while let Some(e) = rx.recv().await {
                counters.resources.fetch_add(1, Relaxed);
                items.push((e.account, e.region, e.resource.into_value()));
            }
            items
        }));
    }
    let options = Options {
        limits: Some(setup::scope_limits(
            args.sandbox.max_calls,
            args.sandbox.timeout,
        )),
        ..Default::default()
    };
    let outcomes: Vec<(usize, Target, Result<_, ScopeFailure>)> = stream::iter(units)
        .map(|(i, t)| {
            let options = options;
            let source = sources[i].source.clone();
            let tx = senders[i].clone();
            let client = client.clone();
            let counters = counters.clone();
            async move {
                let r = collect_scope(source, client, &t, tx, options).await;
                counters.scopes_done.fetch_add(1, Relaxed);
                if r.is_err() {
                    counters.scopes_failed.fetch_add(1, Relaxed);
                }
                (i, t, r)
            }
        })
        .buffer_unordered(args.scope.concurrency.max(1))
        .collect()
        .await;
    drop(senders);
    let mut fetched = Vec::new();
    for c in collectors {
        let mut items = c.await.context("collecting a table")?;
        // Scope order, as `run` prints them.
        items.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        fetched.push(items.into_iter().map(|(_, _, v)| v).collect::<Vec<_>>());
    }
    let skipped = plan.skipped();
    progress.finish(&counters, &client, total, skipped.len(), ctx.verbose > 0);
    let failures: Vec<(String, ScopeFailure)> = outcomes
        .into_iter()
        .filter_map(|(i, t, r)| {
            r.err()
                .map(|f| (format!("{} {}", sources[i].source.name(), t.label()), f))
        })
        .collect();
    let work = match (&mut out_db, args.keep_tables) {
        (Some(db), true) => db,
        _ => &mut crate::sql::Db::memory().map_err(|e| anyhow::anyhow!(e))?,
    };
    for (table, items) in sources.iter().zip(&fetched) {
        work.load(&table.name, items)
            .map_err(|e| anyhow::anyhow!(e))?;
    }
    let rows = work.query(&args.sql).map_err(|e| anyhow::anyhow!(e))?;
    let mut doc = Value::Array(rows);
    if let Some(q) = &jmes {
        doc = q.apply(&doc).map_err(|e| anyhow::anyhow!(e))?;
    }
    match (&format, out_db) {
        (Format::Sqlite(p), Some(mut db)) => {
            let Value::Array(rows) = doc else {
                bail!("-o sqlite: needs rows; --query made the result something else");
            };
            let n = db
                .load_result(RESULT_TABLE, &rows)
                .map_err(|e| anyhow::anyhow!(e))?;
            db.finish().map_err(|e| anyhow::anyhow!(e))?;
            if !ctx.quiet {
                eprintln!(
                    "mrhost: wrote the result ({n} rows) to table {RESULT_TABLE} in {}{}",
                    p.display(),
                    if args.keep_tables {
                        format!(", and the tables {}", names.join(", "))
                    } else {
                        String::new()
                    }
                );
            }
        }
        (f, _) => {
            let view = render::View::for_output(
                &args.out.columns,
                &[],
                jmes.as_ref(),
                args.out.no_truncate,
                ctx.quiet,
            );
            print_view(&doc, f, &view)?;
        }
    }
    Ok(report(
        &failures,
        &skipped,
        total,
        "query",
        &args.scope.ignore_error_codes,
    ))
}
