//! `mrhost report [--from DEST] [--at SYNC|TIME] [--since SYNC|TIME] [--checks DIR] -o FILE`:
//! a stored inventory as one self-contained HTML page (see `host/src/report`).

use anyhow::{Context, Result};

use crate::cli::args::ReportArgs;
use crate::cli::{exit, Ctx};
use crate::inventory::{Destination, Store};
use crate::report::{checks, data, page};

pub async fn report(ctx: Ctx, args: ReportArgs) -> Result<i32> {
    let dest = match &args.from {
        Some(s) => Destination::parse(s)?,
        None => Destination::Sqlite(Destination::default_path()),
    };
    // Checks first: a bad --checks file is an error before anything is read.
    let user = match &args.checks {
        Some(dir) => checks::load_dir(dir)?,
        None => Vec::new(),
    };
    let checks = checks::merge(checks::bundled()?, user)?;
    let mut store = Store::open_read(&dest).await?;
    let source = dest.display().to_string();
    let opts = data::Options {
        at: args.at.clone(),
        since: args.since.clone(),
        checks,
        max_rows: args.max_rows,
    };
    let report = data::gather(&mut store, &source, &opts).await?;
    let html = page::render(&report)?;
    let out = &args.output;
    // Write beside the target, then rename: a failed run leaves no half page.
    let tmp = out.with_extension(format!(
        "{}.tmp{}",
        out.extension().and_then(|e| e.to_str()).unwrap_or("html"),
        std::process::id()
    ));
    std::fs::write(&tmp, html.as_bytes()).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, out).with_context(|| format!("writing {}", out.display()))?;
    if !ctx.quiet {
        let h = &report.headline;
        let findings: u64 = report.findings.iter().map(|f| f.count).sum();
        let n = |count: u64, one: &str| match count {
            1 => format!("1 {one}"),
            _ => format!("{count} {one}s"),
        };
        match &report.at {
            Some(at) => eprintln!(
                "mrhost: report of sync {} ({}, {}, {}, {}, {}, {}) written to {}",
                at.id,
                n(h.resources, "resource"),
                n(h.types as u64, "type"),
                n(h.accounts as u64, "account"),
                n(h.regions as u64, "region"),
                n(h.failed_units as u64, "failed unit"),
                n(findings, "finding"),
                out.display()
            ),
            None => eprintln!(
                "mrhost: {source} has no sync yet; an empty report written to {}",
                out.display()
            ),
        }
    }
    println!("{}", out.display());
    Ok(exit::OK)
}
