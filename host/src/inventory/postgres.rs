//! The PostgreSQL destination (`postgres://...`): the same tables as SQLite, typed
//! (boolean, bigint, double precision, timestamptz, text, jsonb), new versions loaded with
//! COPY, one transaction per unit. Several processes (shards) can write one database:
//! schema changes take an advisory lock, and each unit touches only its own rows. TLS as
//! the URL's `sslmode` asks (`prefer` by default, `require` for managed services).

use std::collections::{HashMap, HashSet};

use bytes::Bytes;
use futures::SinkExt;
use serde_json::Value;
use tokio_postgres::Client;

use super::schema::{cell, Cell, Column, FoundColumns, Kind, TableColumns, TypeSpec};
use super::sqlite::{create_table_sql, quote, row_columns, META_TABLES, SCHEMA_VERSION};
use super::store::{
    fmt_time, new_sync_id, Classifier, Failure, SyncRow, SyncSession, SyncStart, UnitCommit,
    UnitCounts, UnitKey, Verdict, Version,
};
use super::InventoryError;

/// The advisory lock every schema change holds (any constant: it names mrhost's DDL).
const DDL_LOCK: i64 = 0x6d72_686f_7374;

const META_DDL: &str = "
CREATE TABLE IF NOT EXISTS _mrhost_meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS _mrhost_tables (name TEXT PRIMARY KEY, kind TEXT NOT NULL, created TIMESTAMPTZ, tags BOOLEAN NOT NULL DEFAULT false);
CREATE TABLE IF NOT EXISTS _mrhost_columns (table_name TEXT NOT NULL, position INTEGER NOT NULL, name TEXT NOT NULL, kind TEXT NOT NULL, PRIMARY KEY (table_name, name));
CREATE TABLE IF NOT EXISTS _syncs (id BIGINT PRIMARY KEY, started TIMESTAMPTZ NOT NULL, finished TIMESTAMPTZ, command TEXT, status TEXT NOT NULL, units BIGINT, units_failed BIGINT, resources BIGINT, added BIGINT, changed BIGINT, removed BIGINT);
CREATE TABLE IF NOT EXISTS _units (sync_id BIGINT NOT NULL, type TEXT NOT NULL, account TEXT NOT NULL, region TEXT NOT NULL, status TEXT NOT NULL, resources BIGINT, added BIGINT, changed BIGINT, removed BIGINT, calls BIGINT, started TIMESTAMPTZ, finished TIMESTAMPTZ, PRIMARY KEY (sync_id, type, account, region));
CREATE TABLE IF NOT EXISTS _errors (sync_id BIGINT NOT NULL, type TEXT, account TEXT, region TEXT, code TEXT, message TEXT, class TEXT NOT NULL, at TIMESTAMPTZ);
CREATE TABLE IF NOT EXISTS _references (from_type TEXT NOT NULL, from_id TEXT NOT NULL, account TEXT NOT NULL, region TEXT NOT NULL, field TEXT NOT NULL, to_type TEXT NOT NULL, to_id TEXT NOT NULL, _valid_from BIGINT NOT NULL, _valid_to BIGINT);
CREATE INDEX IF NOT EXISTS _references_from ON _references (from_type, account, region, from_id) WHERE _valid_to IS NULL;
CREATE INDEX IF NOT EXISTS _references_to ON _references (to_type, to_id);
CREATE INDEX IF NOT EXISTS _errors_sync ON _errors (sync_id);
";

fn sql_type(k: Kind) -> &'static str {
    match k {
        Kind::Bool => "BOOLEAN",
        Kind::Int => "BIGINT",
        Kind::Float => "DOUBLE PRECISION",
        Kind::Timestamp => "TIMESTAMPTZ",
        Kind::Text => "TEXT",
        Kind::Json => "JSONB",
    }
}

fn err(what: impl super::What) -> impl FnOnce(tokio_postgres::Error) -> InventoryError {
    move |source| InventoryError::Postgres {
        what: what.text(),
        source,
    }
}

/// COPY's text format: backslash, tab, newline and carriage return escaped.
fn copy_escape(out: &mut Vec<u8>, s: &str) {
    for b in s.bytes() {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            _ => out.push(b),
        }
    }
}

/// jsonb refuses the NUL character; it becomes U+FFFD (the value stays readable).
fn jsonb_text(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains("\\u0000") {
        std::borrow::Cow::Owned(s.replace("\\u0000", "\\ufffd"))
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

fn copy_cell(out: &mut Vec<u8>, c: &Cell) {
    match c {
        Cell::Null => out.extend_from_slice(b"\\N"),
        Cell::Bool(b) => out.push(if *b { b't' } else { b'f' }),
        Cell::Int(i) => out.extend_from_slice(i.to_string().as_bytes()),
        Cell::Float(f) => out.extend_from_slice(f.to_string().as_bytes()),
        Cell::Timestamp(_, s) | Cell::Text(s) => copy_escape(out, s),
        Cell::Json(s) => copy_escape(out, &jsonb_text(s)),
    }
}

pub struct PgStore {
    shown: String,
    client: Client,
    schema: String,
    tables: HashMap<String, TableColumns>,
    /// The rows a COPY sends at once.
    batch_bytes: usize,
}

impl PgStore {
    pub async fn open(url: &str, write: bool) -> Result<PgStore, InventoryError> {
        let shown = super::store::redact(url);
        let dest_err = |m: String| InventoryError::Destination(format!("{shown}: {m}"));
        let mut config: tokio_postgres::Config = url
            .parse()
            .map_err(|e: tokio_postgres::Error| dest_err(format!("not a PostgreSQL URL: {e}")))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(std::time::Duration::from_secs(10));
        }
        if config.get_application_name().is_none() {
            config.application_name("mrhost");
        }
        let tls = super::pg_tls::MakeRustls::new().map_err(dest_err)?;
        let (client, connection) = config
            .connect(tls)
            .await
            .map_err(|e| dest_err(full_message(&e)))?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::warn!("PostgreSQL connection: {e}");
            }
        });
        let schema: String = client
            .query_one("SELECT current_schema()::text", &[])
            .await
            .map_err(|e| dest_err(e.to_string()))?
            .try_get::<_, Option<String>>(0)
            .map_err(|e| dest_err(e.to_string()))?
            .ok_or_else(|| dest_err("no current schema (check search_path)".into()))?;
        let mut s = PgStore {
            shown: shown.clone(),
            client,
            schema,
            tables: HashMap::new(),
            batch_bytes: 1 << 20,
        };
        if write {
            s.init_meta().await.map_err(|e| match e {
                InventoryError::Postgres { source, .. } => dest_err(source.to_string()),
                other => other,
            })?;
        } else {
            let has = s.existing_tables().await?.contains("_syncs");
            if !has {
                return Err(InventoryError::Invalid(format!(
                    "{} holds no mrhost inventory",
                    s.shown
                )));
            }
            s.load_registry().await?;
        }
        Ok(s)
    }

    async fn existing_tables(&self) -> Result<HashSet<String>, InventoryError> {
        let rows = self
            .client
            .query(
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema()",
                &[],
            )
            .await
            .map_err(err("listing tables"))?;
        Ok(rows.iter().filter_map(|r| r.try_get(0).ok()).collect())
    }

    async fn init_meta(&mut self) -> Result<(), InventoryError> {
        let existing = self.existing_tables().await?;
        let registered: HashSet<String> = if existing.contains("_mrhost_tables") {
            self.client
                .query("SELECT name FROM _mrhost_tables", &[])
                .await
                .map_err(err("reading _mrhost_tables"))?
                .iter()
                .filter_map(|r| r.try_get(0).ok())
                .collect()
        } else {
            HashSet::new()
        };
        for t in META_TABLES {
            if existing.contains(*t) && !registered.contains(*t) {
                return Err(InventoryError::Foreign(format!(
                    "table {t} in {} was not created by mrhost; refusing to touch it",
                    self.shown
                )));
            }
        }
        let tx = self
            .client
            .transaction()
            .await
            .map_err(err("creating the inventory tables"))?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&DDL_LOCK])
            .await
            .map_err(err("locking the schema"))?;
        tx.batch_execute(META_DDL)
            .await
            .map_err(err("creating the inventory tables"))?;
        for t in META_TABLES {
            tx.execute(
                "INSERT INTO _mrhost_tables (name, kind, created) VALUES ($1, 'meta', now()) ON CONFLICT (name) DO NOTHING",
                &[t],
            )
            .await
            .map_err(err("registering the inventory tables"))?;
        }
        let version: Option<String> = tx
            .query_opt(
                "SELECT value FROM _mrhost_meta WHERE key = 'schema_version'",
                &[],
            )
            .await
            .map_err(err("reading the schema version"))?
            .and_then(|r| r.try_get(0).ok());
        if let Some(v) = version.and_then(|v| v.parse::<i64>().ok()) {
            if v > SCHEMA_VERSION {
                return Err(InventoryError::Invalid(format!(
                    "{} was written by a newer mrhost (schema {v}, this one knows {SCHEMA_VERSION})",
                    self.shown
                )));
            }
        }
        tx.execute(
            "INSERT INTO _mrhost_meta (key, value) VALUES ('schema_version', $1), ('last_opened', now()::text) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            &[&SCHEMA_VERSION.to_string()],
        )
        .await
        .map_err(err("writing the inventory"))?;
        tx.commit().await.map_err(err("writing the inventory"))?;
        self.load_registry().await
    }

    async fn load_registry(&mut self) -> Result<(), InventoryError> {
        let rows = self
            .client
            .query(
                "SELECT t.name, t.tags, c.name, c.kind FROM _mrhost_tables t LEFT JOIN _mrhost_columns c ON c.table_name = t.name WHERE t.kind = 'type' ORDER BY t.name, c.position",
                &[],
            )
            .await
            .map_err(err("reading _mrhost_columns"))?;
        let mut tables: HashMap<String, TableColumns> = HashMap::new();
        for r in rows {
            let table: String = r.try_get(0).map_err(err("reading _mrhost_columns"))?;
            let tags: bool = r.try_get(1).map_err(err("reading _mrhost_columns"))?;
            let name: Option<String> = r.try_get(2).map_err(err("reading _mrhost_columns"))?;
            let kind: Option<String> = r.try_get(3).map_err(err("reading _mrhost_columns"))?;
            let t = tables.entry(table).or_default();
            t.tags = tags;
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

    pub async fn prepare_tables(&mut self, specs: &[TypeSpec]) -> Result<(), InventoryError> {
        // Tables first, then the registry: a table another shard made meanwhile (table and
        // registry row commit together) is in both.
        let existing = self.existing_tables().await?;
        self.load_registry().await?;
        for s in specs {
            if existing.contains(&s.table) && !self.tables.contains_key(&s.table) {
                return Err(InventoryError::Foreign(format!(
                    "table {} in {} was not created by mrhost; refusing to touch it (use another database or schema)",
                    s.table, self.shown
                )));
            }
        }
        Ok(())
    }

    async fn done_units(&self, sync: i64) -> Result<HashSet<UnitKey>, InventoryError> {
        let rows = self
            .client
            .query(
                "SELECT type, account, region FROM _units WHERE sync_id = $1 AND status = 'ok'",
                &[&sync],
            )
            .await
            .map_err(err("reading _units"))?;
        rows.iter()
            .map(|r| {
                Ok(UnitKey {
                    table: r.try_get(0)?,
                    account: r.try_get(1)?,
                    region: r.try_get(2)?,
                })
            })
            .collect::<Result<HashSet<_>, tokio_postgres::Error>>()
            .map_err(err("reading _units"))
    }

    pub async fn begin_sync(
        &mut self,
        start: SyncStart,
        command: &str,
    ) -> Result<SyncSession, InventoryError> {
        let max: Option<i64> = self
            .client
            .query_one("SELECT max(id) FROM _syncs", &[])
            .await
            .and_then(|r| r.try_get(0))
            .map_err(err("reading _syncs"))?;
        let exists = match start.requested {
            Some(id) => {
                self.client
                    .query_one("SELECT count(*) FROM _syncs WHERE id = $1", &[&id])
                    .await
                    .and_then(|r| r.try_get::<_, i64>(0))
                    .map_err(err("reading _syncs"))?
                    > 0
            }
            None => false,
        };
        let continuing = match (start.requested, start.resume) {
            (Some(id), _) if exists => Some(id),
            (Some(id), true) => {
                return Err(InventoryError::Invalid(format!(
                    "--resume: no sync {id} in {}",
                    self.shown
                )))
            }
            (None, true) => Some(max.ok_or_else(|| {
                InventoryError::Invalid(format!("--resume: no sync to resume in {}", self.shown))
            })?),
            _ => None,
        };
        if let Some(id) = continuing {
            self.client
                .execute(
                    "UPDATE _syncs SET status = 'running', finished = NULL WHERE id = $1",
                    &[&id],
                )
                .await
                .map_err(err("updating _syncs"))?;
            return Ok(SyncSession {
                id,
                done: self.done_units(id).await?,
                continued: true,
            });
        }
        let id = new_sync_id(max, start.requested)?;
        // Shards started together with one --sync-id race to create it: one does.
        let n = self
            .client
            .execute(
                "INSERT INTO _syncs (id, started, command, status) VALUES ($1, now(), $2, 'running') ON CONFLICT (id) DO NOTHING",
                &[&id, &command],
            )
            .await
            .map_err(err("writing _syncs"))?;
        Ok(SyncSession {
            id,
            done: if n == 0 {
                self.done_units(id).await?
            } else {
                HashSet::new()
            },
            continued: n == 0,
        })
    }

    /// Create or widen a type's table; under the DDL lock, from the database's registry
    /// (another process may have done it meanwhile).
    async fn ensure_table(
        tx: &tokio_postgres::Transaction<'_>,
        tables: &mut HashMap<String, TableColumns>,
        spec: &TypeSpec,
        found: &FoundColumns,
    ) -> Result<TableColumns, InventoryError> {
        let mut want = FoundColumns::default();
        want.order = spec
            .declared
            .iter()
            .map(|c| (c.name.clone(), c.kind))
            .collect();
        let needs = |cols: &TableColumns| {
            want.order
                .iter()
                .chain(found.order.iter())
                .any(|(n, _)| !cols.has(n))
                || ((found.tags || spec.tags) && !cols.tags)
        };
        if let Some(cols) = tables.get(&spec.table) {
            if !needs(cols) {
                return Ok(cols.clone());
            }
        }
        let ctx = || format!("creating or altering table {}", spec.table);
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&DDL_LOCK])
            .await
            .map_err(err(ctx))?;
        // The registry as it stands now.
        let rows = tx
            .query(
                "SELECT t.tags, c.name, c.kind FROM _mrhost_tables t LEFT JOIN _mrhost_columns c ON c.table_name = t.name WHERE t.name = $1 ORDER BY c.position",
                &[&spec.table],
            )
            .await
            .map_err(err(ctx))?;
        let t = quote(&spec.table);
        let cols = if rows.is_empty() {
            let cols = TableColumns::for_new_table(spec, found);
            tx.batch_execute(&create_table_sql(&spec.table, &cols, sql_type))
                .await
                .map_err(err(ctx))?;
            tx.execute(
                "INSERT INTO _mrhost_tables (name, kind, created, tags) VALUES ($1, 'type', now(), $2)",
                &[&spec.table, &cols.tags],
            )
            .await
            .map_err(err(ctx))?;
            for (i, c) in cols.columns.iter().enumerate() {
                tx.execute(
                    "INSERT INTO _mrhost_columns (table_name, position, name, kind) VALUES ($1, $2, $3, $4)",
                    &[&spec.table, &(i as i32), &c.name, &c.kind.name()],
                )
                .await
                .map_err(err(ctx))?;
            }
            cols
        } else {
            let mut cols = TableColumns::default();
            for r in &rows {
                cols.tags = r.try_get(0).map_err(err(ctx))?;
                let n: Option<String> = r.try_get(1).map_err(err(ctx))?;
                let k: Option<String> = r.try_get(2).map_err(err(ctx))?;
                if let (Some(n), Some(k)) = (n, k.as_deref().and_then(Kind::parse)) {
                    cols.columns.push(Column::new(&n, k, ""));
                }
            }
            let before = cols.columns.len();
            let mut added = cols.merge(&want);
            added.extend(cols.merge(found));
            for (i, c) in added.iter().enumerate() {
                tx.batch_execute(&format!(
                    "ALTER TABLE {t} ADD COLUMN {} {}",
                    quote(&c.name),
                    sql_type(c.kind)
                ))
                .await
                .map_err(err(ctx))?;
                tx.execute(
                    "INSERT INTO _mrhost_columns (table_name, position, name, kind) VALUES ($1, $2, $3, $4)",
                    &[&spec.table, &((before + i) as i32), &c.name, &c.kind.name()],
                )
                .await
                .map_err(err(ctx))?;
            }
            if (found.tags || spec.tags) && !cols.tags {
                tx.batch_execute(&format!("ALTER TABLE {t} ADD COLUMN \"_tags\" JSONB"))
                    .await
                    .map_err(err(ctx))?;
                tx.execute(
                    "UPDATE _mrhost_tables SET tags = true WHERE name = $1",
                    &[&spec.table],
                )
                .await
                .map_err(err(ctx))?;
                cols.tags = true;
            }
            cols
        };
        tables.insert(spec.table.clone(), cols.clone());
        Ok(cols)
    }

    pub async fn commit_unit(
        &mut self,
        mut c: UnitCommit<'_>,
    ) -> Result<UnitCounts, InventoryError> {
        let sync = c.sync;
        let key = c.key;
        let what = || format!("writing {}", key.label());
        let batch_bytes = self.batch_bytes;
        let tx = self.client.transaction().await.map_err(err(what))?;
        let cols = Self::ensure_table(&tx, &mut self.tables, c.spec, c.found).await?;
        let t = quote(&key.table);
        let open: HashMap<String, String> = tx
            .query(
                &format!("SELECT _id, _hash FROM {t} WHERE _account = $1 AND _region = $2 AND _valid_to IS NULL"),
                &[&key.account, &key.region],
            )
            .await
            .map_err(err(what))?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect::<Result<_, tokio_postgres::Error>>()
            .map_err(err(what))?;
        let mut classifier = Classifier::new(open);
        let mut to_close: Vec<String> = Vec::new();
        let fetched = fmt_time(c.finished);
        let names = row_columns(&cols);
        // References go in a second COPY; they are few next to the rows.
        let mut refs: Vec<u8> = Vec::new();
        {
            let sink = tx
                .copy_in(&format!("COPY {t} ({}) FROM STDIN", names.join(", ")))
                .await
                .map_err(err(what))?;
            futures::pin_mut!(sink);
            let mut buf: Vec<u8> = Vec::with_capacity(batch_bytes + 4096);
            while let Some(row) = c.rows.next_row() {
                let p = row.map_err(|e| InventoryError::Io {
                    what: format!("reading back {}", key.label()),
                    source: e,
                })?;
                match classifier.classify(&p) {
                    Verdict::Unchanged | Verdict::Duplicate => continue,
                    Verdict::Changed => to_close.push(p.id.clone()),
                    Verdict::Added => {}
                }
                let item = p.item().map_err(|e| InventoryError::Io {
                    what: format!("reading back {}", key.label()),
                    source: e.into(),
                })?;
                let mut cells = vec![
                    Cell::Text(p.id.clone()),
                    Cell::Text(key.account.clone()),
                    Cell::Text(key.region.clone()),
                    Cell::Int(sync),
                    Cell::Timestamp(0, fetched.clone()),
                    Cell::Text(p.hash.clone()),
                    Cell::Int(sync),
                    Cell::Null,
                ];
                if cols.tags {
                    cells.push(match &p.tags {
                        Some(m) => Cell::Json(Value::Object(m.clone()).to_string()),
                        None => Cell::Null,
                    });
                }
                for col in &cols.columns {
                    cells.push(cell(col.kind, item.get(&col.name)));
                }
                cells.push(Cell::Json(p.json.clone()));
                for (i, cl) in cells.iter().enumerate() {
                    if i > 0 {
                        buf.push(b'\t');
                    }
                    copy_cell(&mut buf, cl);
                }
                buf.push(b'\n');
                for r in &p.refs {
                    for (i, f) in [
                        key.table.as_str(),
                        p.id.as_str(),
                        key.account.as_str(),
                        key.region.as_str(),
                        r.field.as_str(),
                        r.to_type.as_str(),
                        r.to_id.as_str(),
                    ]
                    .iter()
                    .enumerate()
                    {
                        if i > 0 {
                            refs.push(b'\t');
                        }
                        copy_escape(&mut refs, f);
                    }
                    refs.extend_from_slice(format!("\t{sync}\n").as_bytes());
                }
                if buf.len() >= batch_bytes {
                    sink.send(Bytes::from(std::mem::take(&mut buf)))
                        .await
                        .map_err(err(what))?;
                }
            }
            if !buf.is_empty() {
                sink.send(Bytes::from(buf)).await.map_err(err(what))?;
            }
            sink.as_mut().finish().await.map_err(err(what))?;
        }
        if !refs.is_empty() {
            let sink = tx
                .copy_in("COPY _references (from_type, from_id, account, region, field, to_type, to_id, _valid_from) FROM STDIN")
                .await
                .map_err(err(what))?;
            futures::pin_mut!(sink);
            sink.send(Bytes::from(refs)).await.map_err(err(what))?;
            sink.as_mut().finish().await.map_err(err(what))?;
        }
        to_close.extend(classifier.removed());
        if !to_close.is_empty() {
            tx.execute(
                &format!("UPDATE {t} SET _valid_to = $1 WHERE _account = $2 AND _region = $3 AND _id = ANY($4) AND _valid_to IS NULL AND _valid_from < $1"),
                &[&sync, &key.account, &key.region, &to_close],
            )
            .await
            .map_err(err(what))?;
            tx.execute(
                "UPDATE _references SET _valid_to = $1 WHERE from_type = $2 AND account = $3 AND region = $4 AND from_id = ANY($5) AND _valid_to IS NULL AND _valid_from < $1",
                &[&sync, &key.table, &key.account, &key.region, &to_close],
            )
            .await
            .map_err(err(what))?;
        }
        let n = classifier.counts;
        tx.execute(
            "INSERT INTO _units (sync_id, type, account, region, status, resources, added, changed, removed, calls, started, finished)
             VALUES ($1, $2, $3, $4, 'ok', $5, $6, $7, $8, $9, $10::text::timestamptz, $11::text::timestamptz)
             ON CONFLICT (sync_id, type, account, region) DO UPDATE SET status = 'ok', resources = EXCLUDED.resources, added = EXCLUDED.added, changed = EXCLUDED.changed, removed = EXCLUDED.removed, calls = EXCLUDED.calls, started = EXCLUDED.started, finished = EXCLUDED.finished",
            &[
                &sync,
                &key.table,
                &key.account,
                &key.region,
                &(n.resources as i64),
                &(n.added as i64),
                &(n.changed as i64),
                &(n.removed as i64),
                &(c.calls as i64),
                &fmt_time(c.started),
                &fmt_time(c.finished),
            ],
        )
        .await
        .map_err(err(what))?;
        tx.execute(
            "DELETE FROM _errors WHERE sync_id = $1 AND type = $2 AND account = $3 AND region = $4",
            &[&sync, &key.table, &key.account, &key.region],
        )
        .await
        .map_err(err(what))?;
        tx.commit().await.map_err(err(what))?;
        Ok(n)
    }

    pub async fn record_failure(&mut self, sync: i64, f: &Failure) -> Result<(), InventoryError> {
        let what = || "writing _errors".to_string();
        let tx = self.client.transaction().await.map_err(err(what))?;
        tx.execute(
            "DELETE FROM _errors WHERE sync_id = $1 AND type IS NOT DISTINCT FROM $2 AND account = $3 AND region IS NOT DISTINCT FROM $4",
            &[&sync, &f.table, &f.account, &f.region],
        )
        .await
        .map_err(err(what))?;
        tx.execute(
            "INSERT INTO _errors (sync_id, type, account, region, code, message, class, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::text::timestamptz)",
            &[&sync, &f.table, &f.account, &f.region, &f.code, &f.message, &f.class.name(), &fmt_time(f.finished)],
        )
        .await
        .map_err(err(what))?;
        if let (Some(table), Some(region)) = (&f.table, &f.region) {
            tx.execute(
                "INSERT INTO _units (sync_id, type, account, region, status, resources, started, finished) VALUES ($1, $2, $3, $4, 'failed', 0, $5::text::timestamptz, $6::text::timestamptz)
                 ON CONFLICT (sync_id, type, account, region) DO UPDATE SET status = 'failed', resources = 0, started = EXCLUDED.started, finished = EXCLUDED.finished",
                &[&sync, table, &f.account, region, &fmt_time(f.started), &fmt_time(f.finished)],
            )
            .await
            .map_err(err(what))?;
        }
        tx.commit().await.map_err(err(what))
    }

    pub async fn finish_sync(
        &mut self,
        sync: i64,
        status: &str,
    ) -> Result<SyncRow, InventoryError> {
        self.client
            .execute(
                // One pass over the sync's units, not one per total (the SQLite store's
                // six passes took 0.9 s after the last commit at 1,000 accounts).
                "UPDATE _syncs SET finished = now(), status = $2,
                   (units, units_failed, resources, added, changed, removed) = (
                     SELECT count(*), coalesce(sum(CASE WHEN status = 'failed' THEN 1 ELSE 0 END), 0),
                       coalesce(sum(resources), 0), coalesce(sum(added), 0),
                       coalesce(sum(changed), 0), coalesce(sum(removed), 0)
                     FROM _units WHERE sync_id = $1)
                 WHERE id = $1",
                &[&sync, &status],
            )
            .await
            .map_err(err("updating _syncs"))?;
        self.syncs()
            .await?
            .into_iter()
            .find(|s| s.id == sync)
            .ok_or_else(|| InventoryError::Invalid(format!("sync {sync} vanished")))
    }

    pub async fn syncs(&self) -> Result<Vec<SyncRow>, InventoryError> {
        let ts = |c: &str| {
            format!("to_char({c} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
        };
        let rows = self
            .client
            .query(
                &format!(
                    "SELECT id, {}, {}, coalesce(command, ''), status, coalesce(units, 0), coalesce(units_failed, 0), coalesce(resources, 0), coalesce(added, 0), coalesce(changed, 0), coalesce(removed, 0) FROM _syncs ORDER BY id",
                    ts("started"),
                    ts("finished")
                ),
                &[],
            )
            .await
            .map_err(err("reading _syncs"))?;
        rows.iter()
            .map(|r| {
                Ok(SyncRow {
                    id: r.try_get(0)?,
                    started: r.try_get(1)?,
                    finished: r.try_get(2)?,
                    command: r.try_get(3)?,
                    status: r.try_get(4)?,
                    units: r.try_get(5)?,
                    units_failed: r.try_get(6)?,
                    resources: r.try_get(7)?,
                    added: r.try_get(8)?,
                    changed: r.try_get(9)?,
                    removed: r.try_get(10)?,
                })
            })
            .collect::<Result<Vec<_>, tokio_postgres::Error>>()
            .map_err(err("reading _syncs"))
    }

    pub async fn prune(&mut self, doomed: &[i64]) -> Result<(), InventoryError> {
        let Some(&last) = doomed.iter().max() else {
            return Ok(());
        };
        let tx = self.client.transaction().await.map_err(err("pruning"))?;
        for t in self.tables.keys() {
            tx.execute(
                &format!(
                    "DELETE FROM {} WHERE _valid_to IS NOT NULL AND _valid_to <= $1",
                    quote(t)
                ),
                &[&last],
            )
            .await
            .map_err(err("pruning"))?;
        }
        tx.execute(
            "DELETE FROM _references WHERE _valid_to IS NOT NULL AND _valid_to <= $1",
            &[&last],
        )
        .await
        .map_err(err("pruning"))?;
        let ids: Vec<i64> = doomed.to_vec();
        for sql in [
            "DELETE FROM _units WHERE sync_id = ANY($1)",
            "DELETE FROM _errors WHERE sync_id = ANY($1)",
            "DELETE FROM _syncs WHERE id = ANY($1)",
        ] {
            tx.execute(sql, &[&ids]).await.map_err(err("pruning"))?;
        }
        tx.commit().await.map_err(err("pruning"))
    }

    pub async fn query(
        &mut self,
        sql: &str,
        at: Option<i64>,
    ) -> Result<Vec<Value>, InventoryError> {
        let at = match at {
            Some(a) => Some(a),
            None => self
                .client
                .query_one("SELECT max(id) FROM _syncs", &[])
                .await
                .and_then(|r| r.try_get::<_, Option<i64>>(0))
                .map_err(err("reading _syncs"))?,
        };
        if let Some(at) = at {
            let schema = quote(&self.schema);
            let mut ddl = String::new();
            for t in self
                .tables
                .keys()
                .map(String::as_str)
                .chain(["_references"])
            {
                let q = quote(t);
                ddl.push_str(&format!(
                    "CREATE OR REPLACE TEMP VIEW {q} AS SELECT * FROM {schema}.{q} WHERE _valid_from <= {at} AND (_valid_to IS NULL OR _valid_to > {at});"
                ));
            }
            self.client
                .batch_execute(&ddl)
                .await
                .map_err(err("creating views"))?;
        }
        let body = sql.trim().trim_end_matches(';');
        let rows = self
            .client
            .query(&format!("SELECT row_to_json(q)::text FROM ({body}) q"), &[])
            .await
            .map_err(|e| InventoryError::Query(format!("SQL: {}", pg_message(&e))))?;
        rows.iter()
            .map(|r| {
                let text: String = r.try_get(0).map_err(err("reading a row"))?;
                Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
            })
            .collect()
    }

    pub async fn changed_versions(
        &mut self,
        from: i64,
        to: i64,
        table: Option<&str>,
    ) -> Result<(Vec<Version>, Vec<Version>), InventoryError> {
        let mut before = Vec::new();
        let mut after = Vec::new();
        let mut names: Vec<String> = self
            .tables
            .keys()
            .filter(|t| table.is_none_or(|x| x == t.as_str()))
            .cloned()
            .collect();
        names.sort();
        for t in names {
            // Schema-qualified: after a query(), a temp view of one sync shadows the name.
            let q = format!("{}.{}", quote(&self.schema), quote(&t));
            for (sql, out) in [
                (
                    format!("SELECT _account, _region, _id, _hash, _json::text FROM {q} WHERE _valid_from <= $1 AND _valid_to IS NOT NULL AND _valid_to > $1 AND _valid_to <= $2"),
                    &mut before,
                ),
                (
                    format!("SELECT _account, _region, _id, _hash, _json::text FROM {q} WHERE _valid_from > $1 AND _valid_from <= $2 AND (_valid_to IS NULL OR _valid_to > $2)"),
                    &mut after,
                ),
            ] {
                let rows = self
                    .client
                    .query(&sql, &[&from, &to])
                    .await
                    .map_err(err("reading versions"))?;
                for r in rows {
                    let json: String = r.try_get(4).map_err(err("reading versions"))?;
                    out.push(Version {
                        table: t.clone(),
                        account: r.try_get(0).map_err(err("reading versions"))?,
                        region: r.try_get(1).map_err(err("reading versions"))?,
                        id: r.try_get(2).map_err(err("reading versions"))?,
                        hash: r.try_get(3).map_err(err("reading versions"))?,
                        json: serde_json::from_str(&json).unwrap_or(Value::Null),
                    });
                }
            }
        }
        Ok((before, after))
    }
}

/// An error and its causes, on one line.
fn full_message(e: &tokio_postgres::Error) -> String {
    let mut msg = e.to_string();
    let mut cur: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(c) = cur {
        let t = c.to_string();
        if !msg.contains(&t) {
            msg.push_str(": ");
            msg.push_str(&t);
        }
        cur = c.source();
    }
    msg
}

/// The server's message for an error, else the client's.
fn pg_message(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => db.message().to_string(),
        None => e.to_string(),
    }
}
