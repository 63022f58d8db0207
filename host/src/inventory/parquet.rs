//! The Parquet destination (`parquet:DIR`): Hive-style partitions,
//! `DIR/<type>/sync=<id>/account=<id>/region=<r>/part-0.parquet`, one file per unit,
//! written to a temporary name and renamed into place; the unit's `_units` file is written
//! last, so a unit is committed exactly when that file exists. Every sync is a full
//! snapshot (files are immutable); `_syncs`, `_units`, `_errors` and `_references` are
//! Parquet too.
//!
//! Reading (query, diff) loads the files a sync sees into an in-memory SQLite database.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Float64Builder, Int64Builder, MapBuilder, StringBuilder,
    TimestampMicrosecondBuilder,
};
use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type, TimestampMicrosecondType};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use rusqlite::types::Value as Sql;
use serde_json::Value;
use time::OffsetDateTime;

use super::schema::{cell, meta_columns, Cell, Kind, TableColumns, TypeSpec};
use super::sqlite::quote;
use super::store::{
    fmt_time, new_sync_id, Failure, SyncRow, SyncSession, SyncStart, UnitCommit, UnitCounts,
    UnitKey, Version,
};
use super::InventoryError;

/// The file that marks a directory as an mrhost inventory.
const MARKER: &str = "_mrhost.json";
/// Rows per record batch (and per row group: memory stays bounded per unit).
const BATCH_ROWS: usize = 4096;

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> InventoryError {
    let what = what.into();
    move |source| InventoryError::Io { what, source }
}

fn pq(what: impl Into<String>) -> impl FnOnce(parquet::errors::ParquetError) -> InventoryError {
    let what = what.into();
    move |source| InventoryError::Parquet { what, source }
}

fn ar(what: impl Into<String>) -> impl FnOnce(arrow_schema::ArrowError) -> InventoryError {
    let what = what.into();
    move |source| InventoryError::Arrow { what, source }
}

pub struct ParquetStore {
    root: PathBuf,
    tables: HashMap<String, TableColumns>,
    /// Identifies this process's files among other shards' (`_syncs`).
    writer_id: String,
    started: Option<OffsetDateTime>,
    command: String,
}

/// One column being built.
enum Builder {
    Bool(BooleanBuilder),
    Int(Int64Builder),
    Float(Float64Builder),
    Ts(TimestampMicrosecondBuilder),
    Text(StringBuilder),
    Map(Box<MapBuilder<StringBuilder, StringBuilder>>),
}

impl Builder {
    fn new(kind: Kind) -> Builder {
        match kind {
            Kind::Bool => Builder::Bool(BooleanBuilder::new()),
            Kind::Int => Builder::Int(Int64Builder::new()),
            Kind::Float => Builder::Float(Float64Builder::new()),
            Kind::Timestamp => Builder::Ts(TimestampMicrosecondBuilder::new().with_timezone("UTC")),
            Kind::Text | Kind::Json => Builder::Text(StringBuilder::new()),
        }
    }

    fn push(&mut self, c: Cell) {
        match (self, c) {
            (Builder::Bool(b), Cell::Bool(v)) => b.append_value(v),
            (Builder::Bool(b), _) => b.append_null(),
            (Builder::Int(b), Cell::Int(v)) => b.append_value(v),
            (Builder::Int(b), _) => b.append_null(),
            (Builder::Float(b), Cell::Float(v)) => b.append_value(v),
            (Builder::Float(b), _) => b.append_null(),
            (Builder::Ts(b), Cell::Timestamp(us, _)) => b.append_value(us),
            (Builder::Ts(b), _) => b.append_null(),
            (Builder::Text(b), Cell::Text(s) | Cell::Json(s) | Cell::Timestamp(_, s)) => {
                b.append_value(s)
            }
            (Builder::Text(b), _) => b.append_null(),
            (Builder::Map(b), _) => {
                let _ = b.append(false);
            }
        }
    }

    fn push_map(&mut self, m: Option<&serde_json::Map<String, Value>>) {
        if let Builder::Map(b) = self {
            match m {
                Some(m) => {
                    for (k, v) in m {
                        b.keys().append_value(k);
                        match v {
                            Value::String(s) => b.values().append_value(s),
                            Value::Null => b.values().append_null(),
                            other => b.values().append_value(other.to_string()),
                        }
                    }
                    let _ = b.append(true);
                }
                None => {
                    let _ = b.append(false);
                }
            }
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Builder::Bool(b) => Arc::new(b.finish()),
            Builder::Int(b) => Arc::new(b.finish()),
            Builder::Float(b) => Arc::new(b.finish()),
            Builder::Ts(b) => Arc::new(b.finish()),
            Builder::Text(b) => Arc::new(b.finish()),
            Builder::Map(b) => Arc::new(b.finish()),
        }
    }
}

/// Writes rows of fixed columns to one Parquet file, batch by batch.
struct FileWriter {
    names: Vec<String>,
    builders: Vec<Builder>,
    rows: usize,
    writer: Option<ArrowWriter<File>>,
    file: Option<File>,
    tmp: PathBuf,
    dest: PathBuf,
    total: u64,
}

fn props() -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(BATCH_ROWS * 4))
        .build()
}

impl FileWriter {
    fn new(dest: PathBuf, cols: Vec<(String, Builder)>) -> Result<FileWriter, InventoryError> {
        let dir = dest.parent().map(Path::to_path_buf).unwrap_or_default();
        std::fs::create_dir_all(&dir).map_err(io(format!("creating {}", dir.display())))?;
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
        let file = File::create(&tmp).map_err(io(format!("creating {}", tmp.display())))?;
        let (names, builders) = cols.into_iter().unzip();
        Ok(FileWriter {
            names,
            builders,
            rows: 0,
            writer: None,
            file: Some(file),
            tmp,
            dest,
            total: 0,
        })
    }

    fn row_done(&mut self) -> Result<(), InventoryError> {
        self.rows += 1;
        self.total += 1;
        if self.rows >= BATCH_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), InventoryError> {
        if self.rows == 0 && self.writer.is_some() {
            return Ok(());
        }
        let arrays: Vec<ArrayRef> = self.builders.iter_mut().map(Builder::finish).collect();
        let fields: Vec<Field> = self
            .names
            .iter()
            .zip(&arrays)
            .map(|(n, a)| Field::new(n, a.data_type().clone(), true))
            .collect();
        let schema = Arc::new(Schema::new(fields));
        let batch = RecordBatch::try_new(schema.clone(), arrays).map_err(ar("building a batch"))?;
        if self.writer.is_none() {
            let file = self
                .file
                .take()
                .ok_or_else(|| InventoryError::Invalid("parquet writer used after close".into()))?;
            self.writer = Some(
                ArrowWriter::try_new(file, schema, Some(props()))
                    .map_err(pq(format!("writing {}", self.dest.display())))?,
            );
        }
        if let Some(w) = &mut self.writer {
            w.write(&batch)
                .map_err(pq(format!("writing {}", self.dest.display())))?;
        }
        self.rows = 0;
        Ok(())
    }

    /// Finish the file and move it into place.
    fn close(mut self) -> Result<u64, InventoryError> {
        self.flush()?;
        if let Some(w) = self.writer.take() {
            w.close()
                .map_err(pq(format!("writing {}", self.dest.display())))?;
        }
        std::fs::rename(&self.tmp, &self.dest)
            .map_err(io(format!("renaming into {}", self.dest.display())))?;
        Ok(self.total)
    }
}

impl Drop for FileWriter {
    fn drop(&mut self) {
        if self.tmp.exists() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

fn text_col(name: &str) -> (String, Builder) {
    (name.to_string(), Builder::new(Kind::Text))
}

fn int_col(name: &str) -> (String, Builder) {
    (name.to_string(), Builder::new(Kind::Int))
}

fn ts_col(name: &str) -> (String, Builder) {
    (name.to_string(), Builder::new(Kind::Timestamp))
}

fn ts_cell(t: OffsetDateTime) -> Cell {
    Cell::Timestamp((t.unix_timestamp_nanos() / 1000) as i64, fmt_time(t))
}

fn opt_text(s: Option<&str>) -> Cell {
    s.map(|s| Cell::Text(s.to_string())).unwrap_or(Cell::Null)
}

/// A file name part that cannot hold a path separator.
fn safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn sync_dirs(dir: &Path) -> Vec<(i64, PathBuf)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if let Some(id) = name.strip_prefix("sync=").and_then(|x| x.parse().ok()) {
            out.push((id, e.path()));
        }
    }
    out.sort();
    out
}

fn parquet_files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.extension().is_some_and(|x| x == "parquet")
                && !p
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    out.sort();
    out
}

/// One value of an Arrow array as JSON.
fn arrow_json(a: &dyn Array, i: usize) -> Value {
    if a.is_null(i) {
        return Value::Null;
    }
    match a.data_type() {
        DataType::Boolean => Value::Bool(a.as_boolean().value(i)),
        DataType::Int64 => Value::from(a.as_primitive::<Int64Type>().value(i)),
        DataType::Float64 => serde_json::Number::from_f64(a.as_primitive::<Float64Type>().value(i))
            .map(Value::Number)
            .unwrap_or(Value::Null),
        DataType::Timestamp(TimeUnit::Microsecond, _) => {
            let us = a.as_primitive::<TimestampMicrosecondType>().value(i);
            OffsetDateTime::from_unix_timestamp_nanos(i128::from(us) * 1000)
                .map(|t| Value::String(fmt_time(t)))
                .unwrap_or(Value::Null)
        }
        DataType::Utf8 => Value::String(a.as_string::<i32>().value(i).to_string()),
        DataType::Map(_, _) => {
            let m = a.as_map();
            let entries = m.value(i);
            let keys = entries.column(0);
            let vals = entries.column(1);
            let mut out = serde_json::Map::new();
            for j in 0..entries.len() {
                if let Value::String(k) = arrow_json(keys.as_ref(), j) {
                    out.insert(k, arrow_json(vals.as_ref(), j));
                }
            }
            Value::Object(out)
        }
        _ => Value::Null,
    }
}

/// Every row of a Parquet file, as (column names, values).
fn read_rows(
    path: &Path,
    mut each: impl FnMut(&[String], Vec<Value>) -> Result<(), InventoryError>,
) -> Result<(), InventoryError> {
    let what = || format!("reading {}", path.display());
    let file = File::open(path).map_err(io(what()))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(pq(what()))?
        .with_batch_size(BATCH_ROWS)
        .build()
        .map_err(pq(what()))?;
    for batch in reader {
        let batch = batch.map_err(ar(what()))?;
        let names: Vec<String> = batch
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        for i in 0..batch.num_rows() {
            let row = batch
                .columns()
                .iter()
                .map(|c| arrow_json(c.as_ref(), i))
                .collect();
            each(&names, row)?;
        }
    }
    Ok(())
}

impl ParquetStore {
    pub fn open(root: &Path, write: bool) -> Result<ParquetStore, InventoryError> {
        let shown = format!("parquet:{}", root.display());
        let dest_err = |m: String| InventoryError::Destination(format!("{shown}: {m}"));
        let marker = root.join(MARKER);
        if !write {
            if !marker.is_file() {
                return Err(InventoryError::Invalid(format!(
                    "{shown} holds no mrhost inventory"
                )));
            }
        } else {
            if root.exists() && !root.is_dir() {
                return Err(dest_err("is not a directory".into()));
            }
            let non_empty = std::fs::read_dir(root)
                .map(|mut d| d.next().is_some())
                .unwrap_or(false);
            if non_empty && !marker.is_file() {
                return Err(InventoryError::Foreign(format!(
                    "{shown} is a directory mrhost did not create (no {MARKER}); refusing to write into it"
                )));
            }
            std::fs::create_dir_all(root).map_err(|e| dest_err(e.to_string()))?;
            // Proves the directory can be written.
            let probe = root.join(format!(".mrhost-probe-{}", std::process::id()));
            std::fs::write(&probe, b"").map_err(|e| dest_err(e.to_string()))?;
            let _ = std::fs::remove_file(&probe);
            if !marker.is_file() {
                let text = serde_json::json!({"format": "mrhost inventory", "version": super::sqlite::SCHEMA_VERSION, "layout": "<type>/sync=<id>/account=<id>/region=<region>/part-0.parquet"});
                std::fs::write(&marker, text.to_string()).map_err(|e| dest_err(e.to_string()))?;
            }
        }
        let mut tables = HashMap::new();
        for e in std::fs::read_dir(root).into_iter().flatten().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if e.path().is_dir() && !name.starts_with('_') && !name.starts_with('.') {
                tables.insert(name, TableColumns::default());
            }
        }
        Ok(ParquetStore {
            root: root.to_path_buf(),
            tables,
            writer_id: format!(
                "{}-{}",
                OffsetDateTime::now_utc().unix_timestamp_nanos(),
                std::process::id()
            ),
            started: None,
            command: String::new(),
        })
    }

    pub fn table_names(&self) -> Vec<String> {
        self.tables.keys().cloned().collect()
    }

    pub fn prepare_tables(&mut self, specs: &[TypeSpec]) -> Result<(), InventoryError> {
        for s in specs {
            self.tables
                .entry(s.table.clone())
                .or_insert_with(|| TableColumns::from_spec(s));
        }
        Ok(())
    }

    fn done_units(&self, sync: i64) -> HashSet<UnitKey> {
        let dir = self.root.join("_units").join(format!("sync={sync}"));
        let mut out = HashSet::new();
        for p in parquet_files(&dir) {
            let _ = read_rows(&p, |names, row| {
                let get = |n: &str| {
                    names
                        .iter()
                        .position(|x| x == n)
                        .and_then(|i| row.get(i))
                        .and_then(Value::as_str)
                        .map(str::to_string)
                };
                if get("status").as_deref() == Some("ok") {
                    if let (Some(t), Some(a), Some(r)) =
                        (get("type"), get("account"), get("region"))
                    {
                        out.insert(UnitKey {
                            table: t,
                            account: a,
                            region: r,
                        });
                    }
                }
                Ok(())
            });
        }
        out
    }

    fn write_sync_row(
        &self,
        id: i64,
        finished: Option<OffsetDateTime>,
        status: &str,
    ) -> Result<(), InventoryError> {
        let dest = self
            .root
            .join("_syncs")
            .join(format!("sync={id}"))
            .join(format!("part-{}.parquet", self.writer_id));
        let mut w = FileWriter::new(
            dest,
            vec![
                int_col("id"),
                ts_col("started"),
                ts_col("finished"),
                text_col("command"),
                text_col("status"),
            ],
        )?;
        let started = self.started.unwrap_or_else(OffsetDateTime::now_utc);
        let cells = [
            Cell::Int(id),
            ts_cell(started),
            finished.map(ts_cell).unwrap_or(Cell::Null),
            Cell::Text(self.command.clone()),
            Cell::Text(status.to_string()),
        ];
        for (b, c) in w.builders.iter_mut().zip(cells) {
            b.push(c);
        }
        w.row_done()?;
        w.close()?;
        Ok(())
    }

    pub fn begin_sync(
        &mut self,
        start: SyncStart,
        command: &str,
    ) -> Result<SyncSession, InventoryError> {
        let existing: Vec<i64> = sync_dirs(&self.root.join("_syncs"))
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        let max = existing.iter().copied().max();
        let shown = format!("parquet:{}", self.root.display());
        let continuing = match (start.requested, start.resume) {
            (Some(id), _) if existing.contains(&id) => Some(id),
            (Some(id), true) => {
                return Err(InventoryError::Invalid(format!(
                    "--resume: no sync {id} in {shown}"
                )))
            }
            (None, true) => Some(max.ok_or_else(|| {
                InventoryError::Invalid(format!("--resume: no sync to resume in {shown}"))
            })?),
            _ => None,
        };
        self.started = Some(OffsetDateTime::now_utc());
        self.command = command.to_string();
        let (id, continued) = match continuing {
            Some(id) => (id, true),
            None => (new_sync_id(max, start.requested)?, false),
        };
        self.write_sync_row(id, None, "running")?;
        Ok(SyncSession {
            id,
            done: if continued {
                self.done_units(id)
            } else {
                HashSet::new()
            },
            continued,
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn unit_record(
        &self,
        sync: i64,
        key: &UnitKey,
        status: &str,
        n: &UnitCounts,
        calls: u64,
        started: OffsetDateTime,
        finished: OffsetDateTime,
    ) -> Result<(), InventoryError> {
        let dir = self.root.join("_units").join(format!("sync={sync}"));
        let base = format!(
            "{}__{}__{}",
            safe(&key.table),
            safe(&key.account),
            safe(&key.region)
        );
        let mut w = FileWriter::new(
            dir.join(format!("{base}.parquet")),
            vec![
                int_col("sync_id"),
                text_col("type"),
                text_col("account"),
                text_col("region"),
                text_col("status"),
                int_col("resources"),
                int_col("calls"),
                ts_col("started"),
                ts_col("finished"),
            ],
        )?;
        let cells = [
            Cell::Int(sync),
            Cell::Text(key.table.clone()),
            Cell::Text(key.account.clone()),
            Cell::Text(key.region.clone()),
            Cell::Text(status.to_string()),
            Cell::Int(n.resources as i64),
            Cell::Int(calls as i64),
            ts_cell(started),
            ts_cell(finished),
        ];
        for (b, c) in w.builders.iter_mut().zip(cells) {
            b.push(c);
        }
        w.row_done()?;
        w.close()?;
        Ok(())
    }

    pub fn commit_unit(&mut self, mut c: UnitCommit<'_>) -> Result<UnitCounts, InventoryError> {
        let key = c.key;
        let cols = {
            let t = self
                .tables
                .entry(key.table.clone())
                .or_insert_with(|| TableColumns::from_spec(c.spec));
            let mut declared = super::schema::FoundColumns::default();
            declared.order = c
                .spec
                .declared
                .iter()
                .map(|x| (x.name.clone(), x.kind))
                .collect();
            t.merge(&declared);
            t.merge(c.found);
            t.tags |= c.found.tags || c.spec.tags;
            t.clone()
        };
        let part = self
            .root
            .join(&key.table)
            .join(format!("sync={}", c.sync))
            .join(format!("account={}", safe(&key.account)))
            .join(format!("region={}", safe(&key.region)));
        let mut n = UnitCounts::default();
        if c.rows.count > 0 {
            let meta = meta_columns(cols.tags);
            let mut spec_cols: Vec<(String, Builder)> = meta
                .iter()
                .map(|m| {
                    let b = if m.name == "_tags" {
                        Builder::Map(Box::new(MapBuilder::new(
                            None,
                            StringBuilder::new(),
                            StringBuilder::new(),
                        )))
                    } else {
                        Builder::new(m.kind)
                    };
                    (m.name.clone(), b)
                })
                .collect();
            spec_cols.extend(
                cols.columns
                    .iter()
                    .map(|col| (col.name.clone(), Builder::new(col.kind))),
            );
            spec_cols.push(("_json".into(), Builder::new(Kind::Json)));
            let mut w = FileWriter::new(part.join("part-0.parquet"), spec_cols)?;
            let mut refs_w: Option<FileWriter> = None;
            let fetched = ts_cell(c.finished);
            let mut seen = HashSet::new();
            while let Some(row) = c.rows.next_row() {
                let mut p = row.map_err(io(format!("reading back {}", key.label())))?;
                if !seen.insert(p.id.clone()) {
                    continue;
                }
                let item = p
                    .item()
                    .map_err(|e| io(format!("reading back {}", key.label()))(e.into()))?;
                let mut i = 0;
                let mut push = |w: &mut FileWriter, c: Cell| {
                    if let Some(b) = w.builders.get_mut(i) {
                        b.push(c);
                    }
                    i += 1;
                };
                push(&mut w, Cell::Text(p.id.clone()));
                push(&mut w, Cell::Text(key.account.clone()));
                push(&mut w, Cell::Text(key.region.clone()));
                push(&mut w, Cell::Int(c.sync));
                push(&mut w, fetched.clone());
                push(&mut w, Cell::Text(p.hash.clone()));
                push(&mut w, Cell::Int(c.sync));
                push(&mut w, Cell::Null);
                if cols.tags {
                    if let Some(b) = w.builders.get_mut(i) {
                        b.push_map(p.tags.as_ref());
                    }
                    i += 1;
                }
                for col in &cols.columns {
                    let v = cell(col.kind, item.get(&col.name));
                    if let Some(b) = w.builders.get_mut(i) {
                        b.push(v);
                    }
                    i += 1;
                }
                if let Some(b) = w.builders.get_mut(i) {
                    b.push(Cell::Json(p.json.clone()));
                }
                w.row_done()?;
                n.resources += 1;
                let refs = std::mem::take(&mut p.refs);
                if !refs.is_empty() {
                    if refs_w.is_none() {
                        let dest = self
                            .root
                            .join("_references")
                            .join(format!("sync={}", c.sync))
                            .join(format!("account={}", safe(&key.account)))
                            .join(format!("region={}", safe(&key.region)))
                            .join(format!("part-{}.parquet", safe(&key.table)));
                        refs_w = Some(FileWriter::new(
                            dest,
                            [
                                "from_type",
                                "from_id",
                                "account",
                                "region",
                                "field",
                                "to_type",
                                "to_id",
                            ]
                            .iter()
                            .map(|n| text_col(n))
                            .chain([int_col("_valid_from")])
                            .collect(),
                        )?);
                    }
                    if let Some(rw) = &mut refs_w {
                        for r in refs {
                            let cells = [
                                Cell::Text(key.table.clone()),
                                Cell::Text(p.id.clone()),
                                Cell::Text(key.account.clone()),
                                Cell::Text(key.region.clone()),
                                Cell::Text(r.field),
                                Cell::Text(r.to_type),
                                Cell::Text(r.to_id),
                                Cell::Int(c.sync),
                            ];
                            for (b, cl) in rw.builders.iter_mut().zip(cells) {
                                b.push(cl);
                            }
                            rw.row_done()?;
                        }
                    }
                }
            }
            w.close()?;
            if let Some(rw) = refs_w {
                rw.close()?;
            }
        }
        n.added = n.resources;
        n.written = n.resources;
        self.unit_record(c.sync, key, "ok", &n, c.calls, c.started, c.finished)?;
        Ok(n)
    }

    pub fn record_failure(&mut self, sync: i64, f: &Failure) -> Result<(), InventoryError> {
        let dir = self.root.join("_errors").join(format!("sync={sync}"));
        let name = format!(
            "{}__{}__{}.parquet",
            safe(f.table.as_deref().unwrap_or("account")),
            safe(&f.account),
            safe(f.region.as_deref().unwrap_or("all"))
        );
        let mut w = FileWriter::new(
            dir.join(name),
            vec![
                int_col("sync_id"),
                text_col("type"),
                text_col("account"),
                text_col("region"),
                text_col("code"),
                text_col("message"),
                text_col("class"),
                ts_col("at"),
            ],
        )?;
        let cells = [
            Cell::Int(sync),
            opt_text(f.table.as_deref()),
            Cell::Text(f.account.clone()),
            opt_text(f.region.as_deref()),
            opt_text(f.code.as_deref()),
            Cell::Text(f.message.clone()),
            Cell::Text(f.class.name().to_string()),
            ts_cell(f.finished),
        ];
        for (b, c) in w.builders.iter_mut().zip(cells) {
            b.push(c);
        }
        w.row_done()?;
        w.close()?;
        if let (Some(table), Some(region)) = (&f.table, &f.region) {
            let key = UnitKey {
                table: table.clone(),
                account: f.account.clone(),
                region: region.clone(),
            };
            self.unit_record(
                sync,
                &key,
                "failed",
                &UnitCounts::default(),
                0,
                f.started,
                f.finished,
            )?;
        }
        Ok(())
    }

    pub fn finish_sync(&mut self, sync: i64, status: &str) -> Result<SyncRow, InventoryError> {
        self.write_sync_row(sync, Some(OffsetDateTime::now_utc()), status)?;
        self.syncs()?
            .into_iter()
            .find(|s| s.id == sync)
            .ok_or_else(|| InventoryError::Invalid(format!("sync {sync} vanished")))
    }

    /// Every sync: its writers' records merged (first start, last finish, worst status),
    /// totals from its units.
    pub fn syncs(&self) -> Result<Vec<SyncRow>, InventoryError> {
        let mut out = Vec::new();
        for (id, dir) in sync_dirs(&self.root.join("_syncs")) {
            let mut row = SyncRow {
                id,
                started: String::new(),
                finished: None,
                command: String::new(),
                status: "complete".into(),
                units: 0,
                units_failed: 0,
                resources: 0,
                added: 0,
                changed: 0,
                removed: 0,
            };
            let rank = |s: &str| match s {
                "running" => 3,
                "failed" => 2,
                "partial" => 1,
                _ => 0,
            };
            for p in parquet_files(&dir) {
                read_rows(&p, |names, vals| {
                    let get = |n: &str| {
                        names
                            .iter()
                            .position(|x| x == n)
                            .and_then(|i| vals.get(i))
                            .and_then(Value::as_str)
                            .map(str::to_string)
                    };
                    if let Some(s) = get("started") {
                        if row.started.is_empty() || s < row.started {
                            row.started = s;
                        }
                    }
                    match get("finished") {
                        Some(f) if row.finished.as_ref().is_none_or(|x| f > *x) => {
                            row.finished = Some(f)
                        }
                        _ => {}
                    }
                    if let Some(c) = get("command") {
                        row.command = c;
                    }
                    if let Some(s) = get("status") {
                        if rank(&s) > rank(&row.status) {
                            row.status = s;
                        }
                    }
                    Ok(())
                })?;
            }
            for p in parquet_files(&self.root.join("_units").join(format!("sync={id}"))) {
                read_rows(&p, |names, vals| {
                    let get = |n: &str| names.iter().position(|x| x == n).and_then(|i| vals.get(i));
                    row.units += 1;
                    if get("status").and_then(Value::as_str) == Some("failed") {
                        row.units_failed += 1;
                    }
                    let r = get("resources").and_then(Value::as_i64).unwrap_or(0);
                    row.resources += r;
                    row.added += r;
                    Ok(())
                })?;
            }
            out.push(row);
        }
        Ok(out)
    }

    /// Every row a sync wrote to one of the meta tables (`_units`, `_errors`), each as an
    /// object of its columns.
    pub fn meta_rows(&self, table: &str, sync: i64) -> Result<Vec<Value>, InventoryError> {
        let mut out = Vec::new();
        let dir = self.root.join(table).join(format!("sync={sync}"));
        for p in parquet_files(&dir) {
            read_rows(&p, |names, vals| {
                out.push(Value::Object(names.iter().cloned().zip(vals).collect()));
                Ok(())
            })?;
        }
        Ok(out)
    }

    pub fn prune(&mut self, doomed: &[i64]) -> Result<(), InventoryError> {
        let mut dirs: Vec<PathBuf> = vec![
            self.root.join("_syncs"),
            self.root.join("_units"),
            self.root.join("_errors"),
            self.root.join("_references"),
        ];
        dirs.extend(self.tables.keys().map(|t| self.root.join(t)));
        for d in dirs {
            for id in doomed {
                let p = d.join(format!("sync={id}"));
                if p.is_dir() {
                    std::fs::remove_dir_all(&p).map_err(io(format!("removing {}", p.display())))?;
                }
            }
        }
        Ok(())
    }

    /// For each (type, account, region): the latest sync at or before `at` whose unit
    /// committed, and its data file (absent when the unit was empty).
    fn files_at(&self, at: i64, table: Option<&str>) -> Vec<(String, Option<PathBuf>)> {
        let mut latest: BTreeMap<UnitKey, i64> = BTreeMap::new();
        for (id, _) in sync_dirs(&self.root.join("_units")) {
            if id > at {
                continue;
            }
            for k in self.done_units(id) {
                if table.is_some_and(|t| t != k.table) {
                    continue;
                }
                let e = latest.entry(k).or_insert(id);
                *e = (*e).max(id);
            }
        }
        latest
            .into_iter()
            .map(|(k, id)| {
                let p = self
                    .root
                    .join(&k.table)
                    .join(format!("sync={id}"))
                    .join(format!("account={}", safe(&k.account)))
                    .join(format!("region={}", safe(&k.region)))
                    .join("part-0.parquet");
                (k.table, p.is_file().then_some(p))
            })
            .collect()
    }

    fn latest(&self) -> Option<i64> {
        sync_dirs(&self.root.join("_syncs"))
            .last()
            .map(|(id, _)| *id)
    }

    /// The estate at `at` in an in-memory SQLite database, then the SQL.
    pub fn query(&mut self, sql: &str, at: Option<i64>) -> Result<Vec<Value>, InventoryError> {
        let conn =
            rusqlite::Connection::open_in_memory().map_err(|source| InventoryError::Sqlite {
                what: "opening a scratch database".into(),
                source,
            })?;
        let at = at.or_else(|| self.latest()).unwrap_or(0);
        let mut files: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
        for (t, p) in self.files_at(at, None) {
            files.entry(t).or_default().extend(p);
        }
        let wanted: Vec<String> = crate::sql::referenced(sql, files.keys().map(String::as_str))
            .into_iter()
            .map(str::to_string)
            .collect();
        let sq = |what: &str| {
            let what = what.to_string();
            move |source| InventoryError::Sqlite { what, source }
        };
        for t in wanted {
            // A type whose units were all empty still has its table (mrhost's columns).
            let mut columns: Vec<String> = meta_columns(false)
                .iter()
                .map(|c| c.name.clone())
                .chain(["_json".to_string()])
                .collect();
            let mut rows: Vec<(Vec<String>, Vec<Value>)> = Vec::new();
            for p in files.get(&t).into_iter().flatten() {
                read_rows(p, |names, vals| {
                    for n in names {
                        if !columns.iter().any(|c| c.eq_ignore_ascii_case(n)) {
                            columns.push(n.clone());
                        }
                    }
                    rows.push((names.to_vec(), vals));
                    Ok(())
                })?;
            }
            let q = quote(&t);
            let defs: Vec<String> = columns.iter().map(|c| quote(c)).collect();
            conn.execute_batch(&format!("CREATE TABLE {q} ({})", defs.join(", ")))
                .map_err(sq("loading a table"))?;
            for (names, vals) in rows {
                let cols: Vec<String> = names.iter().map(|n| quote(n)).collect();
                let ph = vec!["?"; cols.len()].join(", ");
                let values: Vec<Sql> = vals
                    .into_iter()
                    .map(|v| match v {
                        Value::Null => Sql::Null,
                        Value::Bool(b) => Sql::Integer(i64::from(b)),
                        Value::Number(n) => n
                            .as_i64()
                            .map(Sql::Integer)
                            .unwrap_or_else(|| Sql::Real(n.as_f64().unwrap_or_default())),
                        Value::String(s) => Sql::Text(s),
                        other => Sql::Text(other.to_string()),
                    })
                    .collect();
                conn.execute(
                    &format!("INSERT INTO {q} ({}) VALUES ({ph})", cols.join(", ")),
                    rusqlite::params_from_iter(values),
                )
                .map_err(sq("loading a table"))?;
            }
        }
        crate::sql::rows_of(&conn, sql).map_err(InventoryError::Query)
    }

    fn versions_at(&self, at: i64, table: Option<&str>) -> Result<Vec<Version>, InventoryError> {
        let mut out = Vec::new();
        for (t, p) in self.files_at(at, table) {
            let Some(p) = p else { continue };
            read_rows(&p, |names, vals| {
                let get = |n: &str| {
                    names
                        .iter()
                        .position(|x| x == n)
                        .and_then(|i| vals.get(i))
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string()
                };
                out.push(Version {
                    table: t.clone(),
                    account: get("_account"),
                    region: get("_region"),
                    id: get("_id"),
                    hash: get("_hash"),
                    json: serde_json::from_str(&get("_json")).unwrap_or(Value::Null),
                });
                Ok(())
            })?;
        }
        Ok(out)
    }

    pub fn changed_versions(
        &mut self,
        from: i64,
        to: i64,
        table: Option<&str>,
    ) -> Result<(Vec<Version>, Vec<Version>), InventoryError> {
        let a = self.versions_at(from, table)?;
        let b = self.versions_at(to, table)?;
        let key = |v: &Version| {
            (
                v.table.clone(),
                v.account.clone(),
                v.region.clone(),
                v.id.clone(),
                v.hash.clone(),
            )
        };
        let ka: HashSet<_> = a.iter().map(key).collect();
        let kb: HashSet<_> = b.iter().map(key).collect();
        Ok((
            a.into_iter().filter(|v| !kb.contains(&key(v))).collect(),
            b.into_iter().filter(|v| !ka.contains(&key(v))).collect(),
        ))
    }
}
