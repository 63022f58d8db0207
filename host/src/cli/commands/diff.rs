//! `mrhost diff [--from SYNC|TIME] [--to SYNC|TIME] [--type T]`: resources added, removed
//! and changed between two syncs of a stored inventory, with the fields that changed.

use std::io::Write;

use anyhow::{bail, Result};
use serde_json::{json, Value};

use crate::cli::args::DiffArgs;
use crate::cli::{exit, print_document, Ctx};
use crate::inventory::diff::{changes, summary};
use crate::inventory::store::resolve_sync;
use crate::inventory::{Destination, Store};
use crate::render::{self, Format};

pub async fn diff(ctx: Ctx, args: DiffArgs) -> Result<i32> {
    let format = args.output.clone().unwrap_or_else(render::default_format);
    if !matches!(format, Format::Json | Format::Ndjson | Format::Table) {
        bail!("diff prints json, ndjson or table");
    }
    let dest = match &args.inventory {
        Some(s) => Destination::parse(s)?,
        None => Destination::Sqlite(Destination::default_path()),
    };
    let mut store = Store::open_read(&dest).await?;
    let syncs = store.syncs().await?;
    let Some(latest) = syncs.last().map(|s| s.id) else {
        bail!("{} has no sync yet", dest.display());
    };
    let to = match &args.to {
        Some(s) => resolve_sync(&syncs, s)?,
        None => latest,
    };
    // The sync before `to`; none (the first sync) compares with an empty inventory.
    let from = match &args.from {
        Some(s) => resolve_sync(&syncs, s)?,
        None => syncs
            .iter()
            .map(|s| s.id)
            .filter(|id| *id < to)
            .max()
            .unwrap_or(0),
    };
    if from > to {
        bail!("--from ({from}) is after --to ({to})");
    }
    let table = args.kind.as_deref().map(crate::sql::table_name);
    if let Some(t) = &table {
        let known = store.tables();
        if !known.contains(t) {
            bail!(
                "no type {t} in {} (types: {})",
                dest.display(),
                known.join(", ")
            );
        }
    }
    let (before, after) = store.changed_versions(from, to, table.as_deref()).await?;
    let list = changes(before, after);
    if !ctx.quiet {
        let count = |c: &str| list.iter().filter(|x| x.change == c).count();
        eprintln!(
            "mrhost: sync {from} → {to}: {} added, {} removed, {} changed",
            count("added"),
            count("removed"),
            count("changed")
        );
    }
    match format {
        Format::Ndjson => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            for c in &list {
                serde_json::to_writer(&mut out, c)?;
                out.write_all(b"\n")?;
            }
            out.flush()?;
        }
        Format::Json => {
            let doc = serde_json::to_value(&list)?;
            print_document(&doc, &Format::Json, &[])?;
        }
        _ => {
            let rows: Vec<Value> = list
                .iter()
                .map(|c| {
                    json!({"type": c.table, "account": c.account, "region": c.region,
                           "id": c.id, "change": c.change, "fields": summary(&c.fields)})
                })
                .collect();
            let cols: Vec<String> = ["type", "account", "region", "id", "change", "fields"]
                .iter()
                .map(|s| s.to_string())
                .collect();
            print_document(&Value::Array(rows), &Format::Table, &cols)?;
        }
    }
    Ok(exit::OK)
}
