//! The shared path of `run` and `list` (a plugin, or a model-derived type): targets from
//! the plan, the fan-out, the output, the report.

use std::io::Write;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use aws_engine::AwsClient;
use plugin_host::{Plugin, ScopeKind};
use serde_json::Value;

use super::args::OutputArgs;
use super::report::report;
use super::{print_view, setup, Ctx};
use crate::pipeline::{self, fanout, Counters, ScopeFailure, ScopeOutcome, Source};
use crate::plan::{PendingPlan, ScopePlan, Target};
use crate::progress::Progress;
use crate::render::{self, Format, OutputWriter};

/// How one source is shown: its table name and default columns, and whether it runs once
/// per account.
pub struct Shape {
    pub table: String,
    pub columns: Vec<String>,
    pub global: bool,
}

impl Shape {
    /// A plugin's: its name as a table, its manifest's columns, its scope kind.
    pub fn of_plugin(plugin: &Plugin) -> Shape {
        Shape {
            table: crate::sql::table_name(&plugin.manifest.name),
            columns: plugin_columns(plugin),
            global: plugin.manifest.scope_kind == ScopeKind::Global,
        }
    }
}

/// Table columns of a plugin: the manifest's (or its id field), then where each resource
/// lives; empty means every field.
fn plugin_columns(plugin: &Plugin) -> Vec<String> {
    let m = &plugin.manifest;
    let mut cols = if m.columns.is_empty() {
        m.id_field.iter().cloned().collect()
    } else {
        m.columns.clone()
    };
    if cols.is_empty() {
        return Vec::new();
    }
    cols.extend(["RequestRegion".to_string(), "RequestAccount".to_string()]);
    cols
}

/// `-o sqlite:FILE` checked before any AWS call: a regular file, SQLite if it exists, and
/// `table` absent from it or written by mrhost.
pub fn check_output(out: &OutputArgs, table: &str) -> Result<()> {
    if let Some(Format::Sqlite(path)) = &out.output {
        crate::sql::check_output(path, &[table.to_string()]).map_err(|e| anyhow::anyhow!(e))?;
    }
    Ok(())
}

/// What a `run` or `list` invocation asked for, besides its source.
pub struct Execution<'a> {
    pub ctx: Ctx,
    pub client: &'a AwsClient,
    pub concurrency: usize,
    pub ignore_error_codes: &'a [String],
    pub out: &'a OutputArgs,
    pub group_by_region: bool,
    /// How resources are shaped (`--raw`).
    pub options: pipeline::Options,
}

/// Everything one source emitted over the targets: the output (streamed already, or
/// holding the document) and how each scope ended.
pub struct SourceRun<W: Write> {
    pub writer: OutputWriter<W>,
    pub outcomes: Vec<ScopeOutcome>,
}

/// Run `source` over `targets`, handing every resource to `writer` as it arrives.
pub async fn fan_out<W: Write>(
    client: &AwsClient,
    source: Source,
    targets: Vec<Target>,
    concurrency: usize,
    writer: OutputWriter<W>,
    counters: &Arc<Counters>,
    options: pipeline::Options,
) -> Result<SourceRun<W>> {
    let (tx, mut rx) = tokio::sync::mpsc::channel(1024);
    let fanout = tokio::spawn(fanout::run_source(
        source,
        client.clone(),
        targets,
        concurrency,
        tx,
        counters.clone(),
        options,
    ));
    let mut writer = writer;
    let mut write_error = None;
    while let Some(e) = rx.recv().await {
        counters
            .resources
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if write_error.is_none() {
            if let Err(err) = writer.push(e) {
                write_error = Some(err);
            }
        }
        if rx.is_empty() && write_error.is_none() {
            if let Err(err) = writer.flush() {
                write_error = Some(err);
            }
        }
    }
    let outcomes = fanout.await.context("fan-out task")?;
    if let Some(e) = write_error {
        return Err(e.into());
    }
    Ok(SourceRun { writer, outcomes })
}

/// The failed scopes, labelled `account/region`.
pub fn failures_of(outcomes: &[ScopeOutcome]) -> Vec<(String, ScopeFailure)> {
    outcomes
        .iter()
        .filter_map(|o| o.result.as_ref().err().map(|f| (o.label(), f.clone())))
        .collect()
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
        _ => "a scalar",
    }
}

impl Execution<'_> {
    /// Scopes from the plan, fan-out, output, report.
    pub async fn run(&self, source: Source, shape: Shape, plan: PendingPlan) -> Result<i32> {
        let query = setup::compile_query(self.out)?;
        let format = self
            .out
            .output
            .clone()
            .unwrap_or_else(render::default_format);
        if let Format::Sqlite(path) = &format {
            crate::sql::check_output(path, std::slice::from_ref(&shape.table))
                .map_err(|e| anyhow::anyhow!(e))?;
        }
        let plan: Arc<ScopePlan> = plan.get().await?;
        let targets = plan.targets(shape.global).await?;
        let skipped = plan.skipped();
        let order = targets
            .iter()
            .map(|t| (t.account.id.clone(), t.region.clone()))
            .collect();
        let total = targets.len();
        let counters = Arc::new(Counters::default());
        let progress =
            Progress::start(total, counters.clone(), self.client.clone(), self.ctx.quiet);
        let writer = OutputWriter::new(
            std::io::BufWriter::new(std::io::stdout().lock()),
            &format,
            self.group_by_region,
            query,
            order,
        );
        let name = source.name();
        let mut done = fan_out(
            self.client,
            source,
            targets,
            self.concurrency,
            writer,
            &counters,
            self.options,
        )
        .await?;
        progress.finish(
            &counters,
            self.client,
            total,
            skipped.len(),
            self.ctx.verbose > 0,
        );
        if let Some(doc) = done.writer.document().map_err(|e| anyhow::anyhow!(e))? {
            match &format {
                Format::Sqlite(path) => {
                    let items = match doc {
                        Value::Array(items) => items,
                        other => bail!(
                            "--output sqlite needs a list of resources, got {}",
                            kind_of(&other)
                        ),
                    };
                    let mut db = crate::sql::Db::output(path, std::slice::from_ref(&shape.table))
                        .map_err(|e| anyhow::anyhow!(e))?;
                    let n = db
                        .load(&shape.table, &items)
                        .map_err(|e| anyhow::anyhow!(e))?;
                    db.finish().map_err(|e| anyhow::anyhow!(e))?;
                    if !self.ctx.quiet {
                        eprintln!(
                            "mrhost: wrote {n} rows to table {} in {}",
                            shape.table,
                            path.display()
                        );
                    }
                }
                f => {
                    let query = setup::compile_query(self.out)?;
                    let view = render::View::for_output(
                        &self.out.columns,
                        &shape.columns,
                        query.as_ref(),
                        self.out.no_truncate,
                        self.ctx.quiet,
                    );
                    print_view(&doc, f, &view)?
                }
            }
        }
        done.writer.flush()?;
        let failures = failures_of(&done.outcomes);
        Ok(report(
            &failures,
            &skipped,
            total,
            &name,
            self.ignore_error_codes,
        ))
    }
}
