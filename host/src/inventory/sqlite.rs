//! The SQLite destination (`sqlite:FILE`, the default): one file, WAL, one transaction per
//! unit.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use rusqlite::types::Value as Sql;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use serde_json::value::RawValue;
use serde_json::Value;

use super::buffer::JsonStr;
use super::checkpoint::{Checkpointer, WRITER_CHECKPOINT};
use super::schema::{cell_raw, meta_columns, Cell, Column, Kind, TableColumns, TypeSpec};
use super::store::{
    fmt_time, new_sync_id, Classifier, Failure, SyncRow, SyncSession, SyncStart, UnitCommit,
    UnitCounts, UnitKey, Verdict, Version,
};
use super::InventoryError;

/// The tables mrhost keeps beside the types' (each registered in `_mrhost_tables`).
pub const META_TABLES: &[&str] = &[
    "_mrhost_meta",
    "_mrhost_tables",
    "_mrhost_columns",
    "_syncs",
    "_units",
    "_errors",
    "_references",
];

/// The meta schema's version (`_mrhost_meta.schema_version`); raise it with a migration.
pub const SCHEMA_VERSION: i64 = 1;

const META_DDL: &str = "
CREATE TABLE IF NOT EXISTS _mrhost_meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS _mrhost_tables (name TEXT PRIMARY KEY, kind TEXT NOT NULL, created TIMESTAMP, tags INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS _mrhost_columns (table_name TEXT NOT NULL, position INTEGER NOT NULL, name TEXT NOT NULL, kind TEXT NOT NULL, PRIMARY KEY (table_name, name));
CREATE TABLE IF NOT EXISTS _syncs (id INTEGER PRIMARY KEY, started TIMESTAMP NOT NULL, finished TIMESTAMP, command TEXT, status TEXT NOT NULL, units INTEGER, units_failed INTEGER, resources INTEGER, added INTEGER, changed INTEGER, removed INTEGER);
CREATE TABLE IF NOT EXISTS _units (sync_id INTEGER NOT NULL, type TEXT NOT NULL, account TEXT NOT NULL, region TEXT NOT NULL, status TEXT NOT NULL, resources INTEGER, added INTEGER, changed INTEGER, removed INTEGER, calls INTEGER, started TIMESTAMP, finished TIMESTAMP, PRIMARY KEY (sync_id, type, account, region));
CREATE TABLE IF NOT EXISTS _errors (sync_id INTEGER NOT NULL, type TEXT, account TEXT, region TEXT, code TEXT, message TEXT, class TEXT NOT NULL, at TIMESTAMP);
CREATE TABLE IF NOT EXISTS _references (from_type TEXT NOT NULL, from_id TEXT NOT NULL, account TEXT NOT NULL, region TEXT NOT NULL, field TEXT NOT NULL, to_type TEXT NOT NULL, to_id TEXT NOT NULL, _valid_from INTEGER NOT NULL, _valid_to INTEGER);
CREATE INDEX IF NOT EXISTS _references_from ON _references (from_type, account, region, from_id) WHERE _valid_to IS NULL;
CREATE INDEX IF NOT EXISTS _references_to ON _references (to_type, to_id);
CREATE INDEX IF NOT EXISTS _errors_sync ON _errors (sync_id);
";

pub fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

/// `CREATE TABLE` for a type's table and its three history indexes, in SQL SQLite and
/// PostgreSQL both accept; `sql_type` names a column kind in the destination's dialect.
///
/// The `_valid_to` index holds only closed versions (`WHERE _valid_to IS NOT NULL`): a
/// sync writes every new version with `_valid_to` NULL, and no query looks those up by
/// it — the open ones have their own index, and every comparison on `_valid_to` (the
/// history's, prune's, a user's `_valid_to = N`) implies `IS NOT NULL`, so both engines
/// use the partial index for it. Tables made before keep their full index.
pub(super) fn create_table_sql(
    table: &str,
    cols: &TableColumns,
    sql_type: fn(Kind) -> &'static str,
) -> String {
    let t = quote(table);
    let defs: Vec<String> = meta_columns(cols.tags)
        .iter()
        .chain(&cols.columns)
        .map(|c| format!("{} {}", quote(&c.name), sql_type(c.kind)))
        .chain([format!("\"_json\" {}", sql_type(Kind::Json))])
        .collect();
    format!(
        "CREATE TABLE {t} ({});
         CREATE INDEX {} ON {t} (_account, _region, _id) WHERE _valid_to IS NULL;
         CREATE INDEX {} ON {t} (_valid_from);
         CREATE INDEX {} ON {t} (_valid_to) WHERE _valid_to IS NOT NULL;",
        defs.join(", "),
        quote(&format!("{table}__open")),
        quote(&format!("{table}__from")),
        quote(&format!("{table}__to")),
    )
}

/// A type table's columns in row order — mrhost's, the type's, `_json` — quoted: what
/// an INSERT or a COPY names.
pub(super) fn row_columns(cols: &TableColumns) -> Vec<String> {
    meta_columns(cols.tags)
        .iter()
        .chain(&cols.columns)
        .map(|c| quote(&c.name))
        .chain([quote("_json")])
        .collect()
}

fn sql_type(k: Kind) -> &'static str {
    match k {
        Kind::Bool => "BOOLEAN",
        Kind::Int => "INTEGER",
        Kind::Float => "REAL",
        Kind::Timestamp => "TIMESTAMP",
        Kind::Text => "TEXT",
        Kind::Json => "JSON",
    }
}

fn to_sql(c: Cell) -> Sql {
    match c {
        Cell::Null => Sql::Null,
        Cell::Bool(b) => Sql::Integer(i64::from(b)),
        Cell::Int(i) => Sql::Integer(i),
        Cell::Float(f) => Sql::Real(f),
        Cell::Timestamp(_, s) | Cell::Text(s) | Cell::Json(s) => Sql::Text(s),
    }
}

pub struct SqliteStore {
    /// Before `conn`: dropped (its thread stopped, its connection closed) first.
    checkpointer: Option<Checkpointer>,
    path: PathBuf,
    conn: Connection,
    tables: HashMap<String, TableColumns>,
    /// What writing a unit of each table needs, made when its columns change.
    writers: HashMap<String, TableWriter>,
}

/// A type table's statements and where each top-level field goes, made once per change
/// of its columns rather than once per unit (a unit holds nine resources on average).
struct TableWriter {
    insert: String,
    open: String,
    close: String,
    /// Column name → position in [`TableColumns::columns`], looked up for every field of
    /// every row written (foldhash: SipHash here was 1 % of a large sync's CPU).
    index: foldhash::HashMap<String, usize>,
    tags: bool,
    /// How many of mrhost's own columns come before the type's.
    n_meta: usize,
}

impl TableWriter {
    fn new(table: &str, cols: &TableColumns) -> TableWriter {
        let t = quote(table);
        let names = row_columns(cols);
        let placeholders = vec!["?"; names.len()].join(", ");
        TableWriter {
            insert: format!("INSERT INTO {t} ({}) VALUES ({placeholders})", names.join(", ")),
            open: format!(
                "SELECT _id, _hash FROM {t} WHERE _account = ?1 AND _region = ?2 AND _valid_to IS NULL"
            ),
            close: format!(
                "UPDATE {t} SET _valid_to = ?1 WHERE _account = ?2 AND _region = ?3 AND _id = ?4 AND _valid_to IS NULL AND _valid_from < ?1"
            ),
            index: cols
                .columns
                .iter()
                .enumerate()
                .map(|(i, c)| (c.name.clone(), i))
                .collect(),
            tags: cols.tags,
            n_meta: meta_columns(cols.tags).len(),
        }
    }

    /// Whether the table already has every column this unit found (and `_tags` if it
    /// needs one): then nothing about the table has to change.
    fn covers(&self, spec: &TypeSpec, found: &super::schema::FoundColumns) -> bool {
        (self.tags || !(found.tags || spec.tags))
            && found.order.iter().all(|(n, _)| self.index.contains_key(n))
    }
}

/// An item's top-level fields, each still as its JSON text, in order: keys borrowed from
/// the item's text where they have no escapes.
struct Fields<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'de> serde::Deserialize<'de> for Fields<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Fields<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut m: A,
            ) -> Result<Fields<'de>, A::Error> {
                let mut out = Vec::with_capacity(m.size_hint().unwrap_or(16));
                while let Some((JsonStr(k), v)) = m.next_entry::<JsonStr<'de>, &'de RawValue>()? {
                    out.push((k, v));
                }
                Ok(Fields(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// Bind one column's value, as [`cell_raw`] makes it, without copying text the statement
/// can take as it stands (JSON columns, and text without escapes).
fn bind_cell(
    st: &mut rusqlite::Statement<'_>,
    i: usize,
    kind: Kind,
    v: Option<&RawValue>,
) -> rusqlite::Result<()> {
    match (kind, v) {
        (_, None) => st.raw_bind_parameter(i, Sql::Null),
        (Kind::Json, Some(v)) if v.get() == "null" => st.raw_bind_parameter(i, Sql::Null),
        (Kind::Json, Some(v)) => st.raw_bind_parameter(i, v.get()),
        (Kind::Text, Some(v)) => match serde_json::from_str::<JsonStr<'_>>(v.get()) {
            Ok(JsonStr(s)) => st.raw_bind_parameter(i, s.as_ref()),
            Err(_) => st.raw_bind_parameter(i, Sql::Null),
        },
        (kind, v) => st.raw_bind_parameter(i, to_sql(cell_raw(kind, v))),
    }
}

fn err(what: impl super::What) -> impl FnOnce(rusqlite::Error) -> InventoryError {
    move |source| InventoryError::Sqlite {
        what: what.text(),
        source,
    }
}

impl SqliteStore {
    pub fn open(path: &Path, write: bool) -> Result<SqliteStore, InventoryError> {
        let shown = format!("sqlite:{}", path.display());
        let dest_err = |m: String| InventoryError::Destination(format!("{shown}: {m}"));
        if !write {
            if !path.is_file() {
                return Err(InventoryError::Invalid(format!(
                    "no inventory at {shown} (mrhost sync --to {shown} makes one)"
                )));
            }
            let conn = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .map_err(|e| dest_err(e.to_string()))?;
            let mut s = SqliteStore {
                checkpointer: None,
                path: path.to_path_buf(),
                conn,
                tables: HashMap::new(),
                writers: HashMap::new(),
            };
            let has: bool = s
                .conn
                .query_row(
                    "SELECT count(*) FROM sqlite_master WHERE name = '_syncs'",
                    [],
                    |r| r.get::<_, i64>(0),
                )
                .map(|n| n > 0)
                .map_err(|e| dest_err(e.to_string()))?;
            if !has {
                return Err(InventoryError::Invalid(format!(
                    "{shown} holds no mrhost inventory"
                )));
            }
            s.load_registry()?;
            return Ok(s);
        }
        if path.is_dir() {
            return Err(dest_err("is a directory".into()));
        }
        if let Ok(m) = std::fs::metadata(path) {
            if m.permissions().readonly() {
                return Err(dest_err("the file is read-only".into()));
            }
        }
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|e| dest_err(format!("creating {}: {e}", parent.display())))?;
        }
        let conn = Connection::open(path).map_err(|e| dest_err(e.to_string()))?;
        conn.busy_timeout(std::time::Duration::from_secs(60))
            .map_err(|e| dest_err(e.to_string()))?;
        // 16 KiB pages for a new file (an existing one keeps its own): a resource's row,
        // its columns and its `_json`, is often more than a 4 KiB page holds. Replaying the
        // scale bench's inserts took 15-20 % less time than with 4 KiB pages, and the file
        // a fifth less room (BENCHMARKS.md, 2026-12-01 seventh session). Set before WAL,
        // which fixes the page size.
        conn.execute_batch(
            "PRAGMA page_size = 16384; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;",
        )
        .map_err(|e| dest_err(e.to_string()))?;
        // Five statements per type and a few for the records: the default cache of 16
        // would re-prepare them on every unit of a many-type sync.
        conn.set_prepared_statement_cache_capacity(256);
        // 4 MiB of page cache instead of SQLite's 2 MiB: the writer touches more pages per
        // commit than 2 MiB holds (each unit's table tail and index leaves, each
        // reference's), and read 11.0-11.3 GiB of them back from the OS in a 1,000-account
        // sync; with 4 MiB, 6.5-6.7 GiB and 1-2 s less system time. 8 MiB read 5.0-5.4 GiB
        // but its peak RSS was ~18 MiB higher, closer to the sync's 256 MiB goal
        // (BENCHMARKS.md, 2026-12-02).
        conn.pragma_update(None, "cache_size", -4096)
            .map_err(|e| dest_err(e.to_string()))?;
        let checkpointer = Checkpointer::start(path);
        if checkpointer.is_some() {
            conn.pragma_update(None, "wal_autocheckpoint", WRITER_CHECKPOINT)
                .map_err(|e| dest_err(e.to_string()))?;
        }
        let mut s = SqliteStore {
            checkpointer,
            path: path.to_path_buf(),
            conn,
            tables: HashMap::new(),
            writers: HashMap::new(),
        };
        s.init_meta().map_err(|e| match e {
            InventoryError::Sqlite { source, .. } => dest_err(source.to_string()),
            other => other,
        })?;
        Ok(s)
    }

    fn existing_tables(&self) -> Result<HashSet<String>, InventoryError> {
        let mut stmt = self
            .conn
            .prepare("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")
            .map_err(err("listing tables"))?;
        let names = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(err("listing tables"))?
            .collect::<Result<HashSet<_>, _>>()
            .map_err(err("listing tables"))?;
        Ok(names)
    }

    /// The meta tables: created when absent, refused when someone else's.
    fn init_meta(&mut self) -> Result<(), InventoryError> {
        let existing = self.existing_tables()?;
        let registered: HashSet<String> = if existing.contains("_mrhost_tables") {
            let mut stmt = self
                .conn
                .prepare("SELECT name FROM _mrhost_tables")
                .map_err(err("reading _mrhost_tables"))?;
            let r = stmt
                .query_map([], |r| r.get::<_, String>(0))
                .map_err(err("reading _mrhost_tables"))?
                .collect::<Result<HashSet<_>, _>>()
                .map_err(err("reading _mrhost_tables"))?;
            r
        } else {
            HashSet::new()
        };
        for t in META_TABLES {
            if existing.contains(*t) && !registered.contains(*t) {
                return Err(InventoryError::Foreign(format!(
                    "table {t} in sqlite:{} was not created by mrhost; refusing to touch it",
                    self.path.display()
                )));
            }
        }
        let tx = self
            .conn
            .transaction()
            .map_err(err("creating the inventory tables"))?;
        tx.execute_batch(META_DDL)
            .map_err(err("creating the inventory tables"))?;
        let now = fmt_time(time::OffsetDateTime::now_utc());
        for t in META_TABLES {
            tx.execute(
                "INSERT OR IGNORE INTO _mrhost_tables (name, kind, created) VALUES (?1, 'meta', ?2)",
                params![t, now],
            )
            .map_err(err("registering the inventory tables"))?;
        }
        let version: Option<String> = tx
            .query_row(
                "SELECT value FROM _mrhost_meta WHERE key = 'schema_version'",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(err("reading the schema version"))?;
        if let Some(v) = version.and_then(|v| v.parse::<i64>().ok()) {
            if v > SCHEMA_VERSION {
                return Err(InventoryError::Invalid(format!(
                    "sqlite:{} was written by a newer mrhost (schema {v}, this one knows {SCHEMA_VERSION})",
                    self.path.display()
                )));
            }
        }
        // Proves the file can be written, whatever existed before.
        tx.execute(
            "INSERT OR REPLACE INTO _mrhost_meta (key, value) VALUES ('schema_version', ?1), ('last_opened', ?2)",
            params![SCHEMA_VERSION.to_string(), now],
        )
        .map_err(err("writing the inventory"))?;
        tx.commit().map_err(err("writing the inventory"))?;
        self.load_registry()
    }

    /// The columns of every type table mrhost made, from its registry.
    fn load_registry(&mut self) -> Result<(), InventoryError> {
        let mut stmt = self
            .conn
            .prepare("SELECT t.name, t.tags, c.name, c.kind FROM _mrhost_tables t LEFT JOIN _mrhost_columns c ON c.table_name = t.name WHERE t.kind = 'type' ORDER BY t.name, c.position")
            .map_err(err("reading _mrhost_columns"))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, Option<String>>(3)?,
                ))
            })
            .map_err(err("reading _mrhost_columns"))?;
        let mut tables: HashMap<String, TableColumns> = HashMap::new();
        for r in rows {
            let (table, tags, name, kind) = r.map_err(err("reading _mrhost_columns"))?;
            let t = tables.entry(table).or_default();
            t.tags = tags != 0;
            if let (Some(n), Some(k)) = (name, kind.as_deref().and_then(Kind::parse)) {
                t.columns.push(Column::new(&n, k, ""));
            }
        }
        self.tables = tables;
        Ok(())
    }

    pub fn table_names(&self) -> Vec<String> {
        self.tables.keys().cloned().collect()
    }

    pub fn prepare_tables(&mut self, specs: &[TypeSpec]) -> Result<(), InventoryError> {
        // Tables first, then the registry: a table another process made meanwhile is in both.
        let existing = self.existing_tables()?;
        self.load_registry()?;
        self.writers.clear();
        for s in specs {
            if existing.contains(&s.table) && !self.tables.contains_key(&s.table) {
                return Err(InventoryError::Foreign(format!(
                    "table {} in sqlite:{} was not created by mrhost; refusing to touch it (sync into another file)",
                    s.table,
                    self.path.display()
                )));
            }
        }
        Ok(())
    }

    fn max_sync(&self) -> Result<Option<i64>, InventoryError> {
        self.conn
            .query_row("SELECT max(id) FROM _syncs", [], |r| r.get(0))
            .map_err(err("reading _syncs"))
    }

    fn done_units(&self, sync: i64) -> Result<HashSet<UnitKey>, InventoryError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT type, account, region FROM _units WHERE sync_id = ?1 AND status = 'ok'",
            )
            .map_err(err("reading _units"))?;
        let rows = stmt
            .query_map([sync], |r| {
                Ok(UnitKey {
                    table: r.get(0)?,
                    account: r.get(1)?,
                    region: r.get(2)?,
                })
            })
            .map_err(err("reading _units"))?
            .collect::<Result<HashSet<_>, _>>()
            .map_err(err("reading _units"))?;
        Ok(rows)
    }

    pub fn begin_sync(
        &mut self,
        start: SyncStart,
        command: &str,
    ) -> Result<SyncSession, InventoryError> {
        let max = self.max_sync()?;
        let exists = |id: i64| -> Result<bool, InventoryError> {
            self.conn
                .query_row("SELECT count(*) FROM _syncs WHERE id = ?1", [id], |r| {
                    r.get::<_, i64>(0)
                })
                .map(|n| n > 0)
                .map_err(err("reading _syncs"))
        };
        let continuing = match (start.requested, start.resume) {
            (Some(id), _) if exists(id)? => Some(id),
            (Some(_), true) => {
                return Err(InventoryError::Invalid(format!(
                    "--resume: no sync {} in sqlite:{}",
                    start.requested.unwrap_or_default(),
                    self.path.display()
                )))
            }
            (None, true) => Some(max.ok_or_else(|| {
                InventoryError::Invalid(format!(
                    "--resume: no sync to resume in sqlite:{}",
                    self.path.display()
                ))
            })?),
            _ => None,
        };
        if let Some(id) = continuing {
            self.conn
                .execute(
                    "UPDATE _syncs SET status = 'running', finished = NULL WHERE id = ?1",
                    [id],
                )
                .map_err(err("updating _syncs"))?;
            return Ok(SyncSession {
                id,
                done: self.done_units(id)?,
                continued: true,
            });
        }
        let id = new_sync_id(max, start.requested)?;
        self.conn
            .execute(
                "INSERT INTO _syncs (id, started, command, status) VALUES (?1, ?2, ?3, 'running')",
                params![id, fmt_time(time::OffsetDateTime::now_utc()), command],
            )
            .map_err(err("writing _syncs"))?;
        Ok(SyncSession {
            id,
            done: HashSet::new(),
            continued: false,
        })
    }

    /// Create or widen a type's table inside `tx`; returns its columns.
    fn ensure_table(
        tx: &rusqlite::Transaction<'_>,
        tables: &mut HashMap<String, TableColumns>,
        spec: &TypeSpec,
        found: &super::schema::FoundColumns,
    ) -> Result<(), InventoryError> {
        let t = quote(&spec.table);
        let ctx = || format!("creating table {}", spec.table);
        match tables.get_mut(&spec.table) {
            None => {
                let now = fmt_time(time::OffsetDateTime::now_utc());
                let cols = TableColumns::for_new_table(spec, found);
                tx.execute_batch(&create_table_sql(&spec.table, &cols, sql_type))
                    .map_err(err(ctx))?;
                tx.execute(
                    "INSERT INTO _mrhost_tables (name, kind, created, tags) VALUES (?1, 'type', ?2, ?3)",
                    params![spec.table, now, i64::from(cols.tags)],
                )
                .map_err(err(ctx))?;
                for (i, c) in cols.columns.iter().enumerate() {
                    tx.execute(
                        "INSERT INTO _mrhost_columns (table_name, position, name, kind) VALUES (?1, ?2, ?3, ?4)",
                        params![spec.table, i as i64, c.name, c.kind.name()],
                    )
                    .map_err(err(ctx))?;
                }
                tables.insert(spec.table.clone(), cols);
                Ok(())
            }
            Some(cols) => {
                let mut declared = super::schema::FoundColumns::default();
                declared.order = spec
                    .declared
                    .iter()
                    .map(|c| (c.name.clone(), c.kind))
                    .collect();
                let before = cols.columns.len();
                let mut added = cols.merge(&declared);
                added.extend(cols.merge(found));
                let ctx = || format!("adding columns to {}", spec.table);
                for (i, c) in added.iter().enumerate() {
                    tx.execute_batch(&format!(
                        "ALTER TABLE {t} ADD COLUMN {} {}",
                        quote(&c.name),
                        sql_type(c.kind)
                    ))
                    .map_err(err(ctx))?;
                    tx.execute(
                        "INSERT INTO _mrhost_columns (table_name, position, name, kind) VALUES (?1, ?2, ?3, ?4)",
                        params![spec.table, (before + i) as i64, c.name, c.kind.name()],
                    )
                    .map_err(err(ctx))?;
                }
                if (found.tags || spec.tags) && !cols.tags {
                    tx.execute_batch(&format!("ALTER TABLE {t} ADD COLUMN \"_tags\" JSON"))
                        .map_err(err(ctx))?;
                    tx.execute(
                        "UPDATE _mrhost_tables SET tags = 1 WHERE name = ?1",
                        [&spec.table],
                    )
                    .map_err(err(ctx))?;
                    cols.tags = true;
                }
                Ok(())
            }
        }
    }

    /// Write finished units and their records in one transaction: all of them or none.
    /// One commit for many units is what keeps the single writer ahead of the fetchers
    /// at thousands of small units a second (the scale bench); a unit is still never
    /// half-written.
    pub fn commit_units(
        &mut self,
        units: Vec<UnitCommit<'_>>,
    ) -> Result<Vec<UnitCounts>, InventoryError> {
        let label = match units.first() {
            Some(c) if units.len() == 1 => c.key.label(),
            _ => format!("{} units", units.len()),
        };
        let what = || format!("writing {label}");
        let tx = self.conn.transaction().map_err(err(what))?;
        let mut counts = Vec::with_capacity(units.len());
        for c in units {
            counts.push(Self::write_unit(
                &tx,
                &mut self.tables,
                &mut self.writers,
                c,
            )?);
        }
        tx.commit().map_err(err(what))?;
        if let Some(c) = &self.checkpointer {
            c.poke();
        }
        Ok(counts)
    }

    /// One unit's rows, closures and record, inside `tx`.
    fn write_unit(
        tx: &rusqlite::Transaction<'_>,
        tables: &mut HashMap<String, TableColumns>,
        writers: &mut HashMap<String, TableWriter>,
        mut c: UnitCommit<'_>,
    ) -> Result<UnitCounts, InventoryError> {
        let sync = c.sync;
        let key = c.key;
        let what = || format!("writing {}", key.label());
        let table = &c.spec.table;
        if !writers
            .get(table)
            .is_some_and(|w| w.covers(c.spec, c.found))
        {
            Self::ensure_table(tx, tables, c.spec, c.found)?;
            if let Some(cols) = tables.get(table) {
                writers.insert(table.clone(), TableWriter::new(table, cols));
            }
        }
        let (Some(cols), Some(w)) = (tables.get(table), writers.get(table)) else {
            return Err(InventoryError::Invalid(format!("table {table} vanished")));
        };
        let open: HashMap<String, String> = {
            let mut stmt = tx.prepare_cached(&w.open).map_err(err(what))?;
            let rows = stmt
                .query_map(params![key.account, key.region], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
                })
                .map_err(err(what))?
                .collect::<Result<HashMap<_, _>, _>>()
                .map_err(err(what))?;
            rows
        };
        let mut classifier = Classifier::new(open);
        let mut to_close = Vec::new();
        let fetched = fmt_time(c.finished);
        {
            let mut insert = tx.prepare_cached(&w.insert).map_err(err(what))?;
            let mut insert_ref = tx
                .prepare_cached(
                    "INSERT INTO _references (from_type, from_id, account, region, field, to_type, to_id, _valid_from) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )
                .map_err(err(what))?;
            // Column → which of the row's fields fills it.
            let mut slots: Vec<Option<usize>> = Vec::with_capacity(cols.columns.len());
            let read_back = |e: std::io::Error| InventoryError::Io {
                what: format!("reading back {}", key.label()),
                source: e,
            };
            while let Some(row) = c.rows.next_raw() {
                let p = row.map_err(read_back)?;
                match classifier.classify_id(&p.id, p.hash) {
                    Verdict::Unchanged | Verdict::Duplicate => continue,
                    Verdict::Changed => to_close.push(p.id.to_string()),
                    Verdict::Added => {}
                }
                let Fields(fields) =
                    serde_json::from_str(p.json).map_err(|e| read_back(std::io::Error::from(e)))?;
                slots.clear();
                slots.resize(cols.columns.len(), None);
                for (f, (k, _)) in fields.iter().enumerate() {
                    if let Some(slot) = w.index.get(k.as_ref()).and_then(|&i| slots.get_mut(i)) {
                        *slot = Some(f);
                    }
                }
                (|| {
                    insert.raw_bind_parameter(1, p.id.as_ref())?;
                    insert.raw_bind_parameter(2, key.account.as_str())?;
                    insert.raw_bind_parameter(3, key.region.as_str())?;
                    insert.raw_bind_parameter(4, sync)?;
                    insert.raw_bind_parameter(5, fetched.as_str())?;
                    insert.raw_bind_parameter(6, p.hash)?;
                    insert.raw_bind_parameter(7, sync)?;
                    insert.raw_bind_parameter(8, Sql::Null)?;
                    if cols.tags {
                        insert.raw_bind_parameter(9, p.tags)?;
                    }
                    for (i, (col, v)) in cols.columns.iter().zip(&slots).enumerate() {
                        let v = v.and_then(|f| fields.get(f)).map(|(_, v)| *v);
                        bind_cell(&mut insert, w.n_meta + 1 + i, col.kind, v)?;
                    }
                    insert.raw_bind_parameter(w.n_meta + cols.columns.len() + 1, p.json)?;
                    insert.raw_execute()
                })()
                .map_err(err(what))?;
                for r in &p.refs {
                    insert_ref
                        .execute(params![
                            key.table,
                            p.id.as_ref(),
                            key.account,
                            key.region,
                            r.field,
                            r.to_type,
                            r.to_id,
                            sync
                        ])
                        .map_err(err(what))?;
                }
            }
            to_close.extend(classifier.removed());
            let mut close = tx.prepare_cached(&w.close).map_err(err(what))?;
            let mut close_refs = tx
                .prepare_cached(
                    "UPDATE _references SET _valid_to = ?1 WHERE from_type = ?2 AND account = ?3 AND region = ?4 AND from_id = ?5 AND _valid_to IS NULL AND _valid_from < ?1",
                )
                .map_err(err(what))?;
            for id in &to_close {
                close
                    .execute(params![sync, key.account, key.region, id])
                    .map_err(err(what))?;
                close_refs
                    .execute(params![sync, key.table, key.account, key.region, id])
                    .map_err(err(what))?;
            }
        }
        let n = classifier.counts;
        tx.prepare_cached(
            "INSERT OR REPLACE INTO _units (sync_id, type, account, region, status, resources, added, changed, removed, calls, started, finished) VALUES (?1, ?2, ?3, ?4, 'ok', ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        )
        .and_then(|mut st| {
            st.execute(params![
                sync,
                key.table,
                key.account,
                key.region,
                n.resources as i64,
                n.added as i64,
                n.changed as i64,
                n.removed as i64,
                c.calls as i64,
                fmt_time(c.started),
                fmt_time(c.finished)
            ])
        })
        .map_err(err(what))?;
        tx.prepare_cached(
            "DELETE FROM _errors WHERE sync_id = ?1 AND type = ?2 AND account = ?3 AND region = ?4",
        )
        .and_then(|mut st| st.execute(params![sync, key.table, key.account, key.region]))
        .map_err(err(what))?;
        Ok(n)
    }

    pub fn record_failure(&mut self, sync: i64, f: &Failure) -> Result<(), InventoryError> {
        let what = || "writing _errors".to_string();
        let tx = self.conn.transaction().map_err(err(what))?;
        tx.execute(
            "DELETE FROM _errors WHERE sync_id = ?1 AND type IS ?2 AND account = ?3 AND region IS ?4",
            params![sync, f.table, f.account, f.region],
        )
        .map_err(err(what))?;
        tx.execute(
            "INSERT INTO _errors (sync_id, type, account, region, code, message, class, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![sync, f.table, f.account, f.region, f.code, f.message, f.class.name(), fmt_time(f.finished)],
        )
        .map_err(err(what))?;
        if let (Some(table), Some(region)) = (&f.table, &f.region) {
            tx.execute(
                "INSERT OR REPLACE INTO _units (sync_id, type, account, region, status, resources, started, finished) VALUES (?1, ?2, ?3, ?4, 'failed', 0, ?5, ?6)",
                params![sync, table, f.account, region, fmt_time(f.started), fmt_time(f.finished)],
            )
            .map_err(err(what))?;
        }
        tx.commit().map_err(err(what))
    }

    pub fn finish_sync(&mut self, sync: i64, status: &str) -> Result<SyncRow, InventoryError> {
        self.conn
            .execute(
                // One pass over the sync's units, in rowid order from its first: they were
                // appended as they committed, so that reads the table's pages in turn.
                // (At 1,000 accounts, 68,517 units in a 1 GB file: a pass per total
                // through the primary key took 0.9 s after the last commit, one such pass
                // 0.2 s, this 0.02 s.) The rowid bound holds for every row of the sync.
                "UPDATE _syncs SET finished = ?2, status = ?3,
                   (units, units_failed, resources, added, changed, removed) = (
                     SELECT count(*), coalesce(sum(CASE WHEN status = 'failed' THEN 1 ELSE 0 END), 0),
                       coalesce(sum(resources), 0), coalesce(sum(added), 0),
                       coalesce(sum(changed), 0), coalesce(sum(removed), 0)
                     FROM _units NOT INDEXED
                     WHERE rowid >= (SELECT min(rowid) FROM _units WHERE sync_id = ?1)
                       AND sync_id = ?1)
                 WHERE id = ?1",
                params![sync, fmt_time(time::OffsetDateTime::now_utc()), status],
            )
            .map_err(err("updating _syncs"))?;
        self.syncs()?
            .into_iter()
            .find(|s| s.id == sync)
            .ok_or_else(|| InventoryError::Invalid(format!("sync {sync} vanished")))
    }

    pub fn syncs(&self) -> Result<Vec<SyncRow>, InventoryError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, started, finished, coalesce(command, ''), status, coalesce(units, 0), coalesce(units_failed, 0), coalesce(resources, 0), coalesce(added, 0), coalesce(changed, 0), coalesce(removed, 0) FROM _syncs ORDER BY id")
            .map_err(err("reading _syncs"))?;
        let rows = stmt
            .query_map([], |r| {
                Ok(SyncRow {
                    id: r.get(0)?,
                    started: r.get(1)?,
                    finished: r.get(2)?,
                    command: r.get(3)?,
                    status: r.get(4)?,
                    units: r.get(5)?,
                    units_failed: r.get(6)?,
                    resources: r.get(7)?,
                    added: r.get(8)?,
                    changed: r.get(9)?,
                    removed: r.get(10)?,
                })
            })
            .map_err(err("reading _syncs"))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(err("reading _syncs"))?;
        Ok(rows)
    }

    pub fn prune(&mut self, doomed: &[i64]) -> Result<(), InventoryError> {
        let Some(&last) = doomed.iter().max() else {
            return Ok(());
        };
        // Versions that ended at or before the newest pruned sync are no longer visible in
        // any kept sync; versions still valid later stay (their start is history).
        let tx = self.conn.transaction().map_err(err("pruning"))?;
        let tables: Vec<String> = self.tables.keys().cloned().collect();
        for t in tables {
            tx.execute(
                &format!(
                    "DELETE FROM {} WHERE _valid_to IS NOT NULL AND _valid_to <= ?1",
                    quote(&t)
                ),
                [last],
            )
            .map_err(err("pruning"))?;
        }
        tx.execute(
            "DELETE FROM _references WHERE _valid_to IS NOT NULL AND _valid_to <= ?1",
            [last],
        )
        .map_err(err("pruning"))?;
        for id in doomed {
            for sql in [
                "DELETE FROM _units WHERE sync_id = ?1",
                "DELETE FROM _errors WHERE sync_id = ?1",
                "DELETE FROM _syncs WHERE id = ?1",
            ] {
                tx.execute(sql, [id]).map_err(err("pruning"))?;
            }
        }
        tx.commit().map_err(err("pruning"))
    }

    /// Shadow each type table with a temporary view of the versions valid at `at`.
    fn views_at(&self, at: Option<i64>) -> Result<(), InventoryError> {
        let at = match at {
            Some(a) => a,
            None => match self.max_sync()? {
                Some(m) => m,
                None => return Ok(()),
            },
        };
        for t in self.tables.keys() {
            self.conn
                .execute_batch(&format!(
                    "DROP VIEW IF EXISTS temp.{q}; CREATE TEMP VIEW {q} AS SELECT * FROM main.{q} WHERE _valid_from <= {at} AND (_valid_to IS NULL OR _valid_to > {at});",
                    q = quote(t)
                ))
                .map_err(err("creating views"))?;
        }
        self.conn
            .execute_batch(&format!(
                "DROP VIEW IF EXISTS temp._references; CREATE TEMP VIEW _references AS SELECT * FROM main._references WHERE _valid_from <= {at} AND (_valid_to IS NULL OR _valid_to > {at});"
            ))
            .map_err(err("creating views"))?;
        Ok(())
    }

    pub fn query(&mut self, sql: &str, at: Option<i64>) -> Result<Vec<Value>, InventoryError> {
        self.views_at(at)?;
        crate::sql::rows_of(&self.conn, sql).map_err(InventoryError::Query)
    }

    pub fn changed_versions(
        &mut self,
        from: i64,
        to: i64,
        table: Option<&str>,
    ) -> Result<(Vec<Version>, Vec<Version>), InventoryError> {
        let mut before = Vec::new();
        let mut after = Vec::new();
        let mut names: Vec<&String> = self
            .tables
            .keys()
            .filter(|t| table.is_none_or(|x| x == t.as_str()))
            .collect();
        names.sort();
        for t in names {
            // `main.`: after a query(), a temp view of one sync shadows the table's name.
            let q = format!("main.{}", quote(t));
            for (sql, out) in [
                (
                    format!("SELECT _account, _region, _id, _hash, _json FROM {q} WHERE _valid_from <= ?1 AND _valid_to IS NOT NULL AND _valid_to > ?1 AND _valid_to <= ?2"),
                    &mut before,
                ),
                (
                    format!("SELECT _account, _region, _id, _hash, _json FROM {q} WHERE _valid_from > ?1 AND _valid_from <= ?2 AND (_valid_to IS NULL OR _valid_to > ?2)"),
                    &mut after,
                ),
            ] {
                let mut stmt = self.conn.prepare(&sql).map_err(err("reading versions"))?;
                let rows = stmt
                    .query_map(params![from, to], |r| {
                        Ok(Version {
                            table: t.clone(),
                            account: r.get(0)?,
                            region: r.get(1)?,
                            id: r.get(2)?,
                            hash: r.get(3)?,
                            json: serde_json::from_str(&r.get::<_, String>(4)?)
                                .unwrap_or(Value::Null),
                        })
                    })
                    .map_err(err("reading versions"))?;
                for r in rows {
                    out.push(r.map_err(err("reading versions"))?);
                }
            }
        }
        Ok((before, after))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::schema::{cell, prepare};
    use serde_json::json;

    #[test]
    fn a_bound_cell_is_the_cell_of_the_parsed_value() {
        // The writer binds text straight from the buffered row: it must store what the
        // parsed item's cell stores, for every kind, value and key spelling.
        let conn = Connection::open_in_memory().unwrap();
        let (p, item) = prepare(
            json!({
                "Id": "x", "B": true, "I": -7, "F": 0.1, "Big": 18446744073709551615u64,
                "E": 1.0e300, "T": "2024-05-01T10:00:00+00:00", "S": "tab\there \"q\" \u{e9}\u{1}",
                "Plain": "no escapes", "N": null, "O": {"z": [1, {"y": "\n"}], "a": 2.5},
                "A": [], "Ep": 1714557600.5, "Key \"quoted\"\t": "k", "Empty": ""
            }),
            Some("Id"),
        )
        .unwrap();
        let Fields(fields) = serde_json::from_str(&p.json).unwrap();
        assert_eq!(fields.len(), item.len());
        let cases = fields
            .iter()
            .map(|(k, v)| (k.to_string(), Some(*v)))
            .chain([("Missing".to_string(), None)]);
        for (name, raw) in cases {
            for kind in Kind::ALL {
                let mut st = conn.prepare("SELECT ?1").unwrap();
                bind_cell(&mut st, 1, kind, raw).unwrap();
                let mut rows = st.raw_query();
                let got: Sql = rows.next().unwrap().unwrap().get(0).unwrap();
                assert_eq!(
                    got,
                    to_sql(cell(kind, item.get(&name))),
                    "{name} as {kind:?}"
                );
            }
        }
    }

    #[test]
    fn field_keys_are_borrowed_unless_escaped() {
        let Fields(f) = serde_json::from_str(r#"{"a":1,"b\"c":[2],"a":3}"#).unwrap();
        assert!(matches!(f[0].0, Cow::Borrowed("a")));
        assert!(matches!(&f[1].0, Cow::Owned(k) if k == "b\"c"));
        assert_eq!(f[1].1.get(), "[2]");
        // Both of a repeated key are kept in order; the writer lets the last one win,
        // as a map would.
        assert_eq!(f[2].1.get(), "3");
        assert!(serde_json::from_str::<Fields>("[1]").is_err());
    }
}
