//! What every destination does, and the types they share: where the inventory goes
//! ([`Destination`]), one unit of work ([`UnitKey`]), what a commit carries and returns,
//! sync bookkeeping, and the [`Store`] that dispatches to SQLite, PostgreSQL or Parquet.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use serde_json::Value;
use time::OffsetDateTime;

use super::buffer::UnitRows;
use super::schema::{FoundColumns, Prepared, TypeSpec};
use super::{parquet, postgres, sqlite, InventoryError};

/// Where an inventory lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    Sqlite(PathBuf),
    Postgres(String),
    Parquet(PathBuf),
}

impl Destination {
    /// `sqlite:FILE`, `postgres://...` (or `postgresql://`), `parquet:DIR`.
    pub fn parse(s: &str) -> Result<Destination, InventoryError> {
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            return Ok(Destination::Postgres(s.to_string()));
        }
        if let Some(p) = s.strip_prefix("sqlite:") {
            if p.is_empty() {
                return Err(InventoryError::Invalid(
                    "sqlite: needs a file name (sqlite:FILE)".into(),
                ));
            }
            return Ok(Destination::Sqlite(PathBuf::from(p)));
        }
        if let Some(p) = s.strip_prefix("parquet:") {
            if p.is_empty() {
                return Err(InventoryError::Invalid(
                    "parquet: needs a directory (parquet:DIR)".into(),
                ));
            }
            return Ok(Destination::Parquet(PathBuf::from(p)));
        }
        Err(InventoryError::Invalid(format!(
            "unknown destination '{s}': use sqlite:FILE, postgres://USER:PASSWORD@HOST:PORT/DB or parquet:DIR"
        )))
    }

    /// `$XDG_DATA_HOME/mrhost/inventory.sqlite`, else `~/.local/share/mrhost/inventory.sqlite`.
    pub fn default_path() -> PathBuf {
        let base = std::env::var_os("XDG_DATA_HOME")
            .map(PathBuf::from)
            .or_else(|| {
                std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local").join("share"))
            })
            .unwrap_or_else(std::env::temp_dir);
        base.join("mrhost").join("inventory.sqlite")
    }

    /// For messages: the destination without a password.
    pub fn display(&self) -> String {
        match self {
            Destination::Sqlite(p) => format!("sqlite:{}", p.display()),
            Destination::Parquet(p) => format!("parquet:{}", p.display()),
            Destination::Postgres(url) => redact(url),
        }
    }
}

/// A PostgreSQL URL with its password replaced by `***`.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (auth, host) = match rest.rsplit_once('@') {
        Some(x) => x,
        None => return url.to_string(),
    };
    let user = auth.split(':').next().unwrap_or_default();
    if auth.contains(':') {
        format!("{scheme}://{user}:***@{host}")
    } else {
        url.to_string()
    }
}

/// One unit of work: a type in an account and region (global types: the partition's
/// global region).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UnitKey {
    pub table: String,
    pub account: String,
    pub region: String,
}

impl UnitKey {
    pub fn label(&self) -> String {
        format!("{} {}/{}", self.table, self.account, self.region)
    }
}

/// Why a unit (or an account) failed, as `_errors.class` records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    AccessDenied,
    NotOptedIn,
    Throttled,
    Failed,
}

impl ErrorClass {
    pub fn name(self) -> &'static str {
        match self {
            ErrorClass::AccessDenied => "access-denied",
            ErrorClass::NotOptedIn => "not-opted-in",
            ErrorClass::Throttled => "throttled",
            ErrorClass::Failed => "failed",
        }
    }

    /// The class of an AWS error code.
    pub fn of_code(code: Option<&str>) -> ErrorClass {
        let Some(c) = code else {
            return ErrorClass::Failed;
        };
        let lc = c.to_ascii_lowercase();
        if lc.contains("accessdenied")
            || lc.contains("unauthorized")
            || lc == "authorizationerror"
            || lc == "forbidden"
            || lc == "accessdeniedexception"
        {
            ErrorClass::AccessDenied
        } else if lc == "optinrequired"
            || lc == "authfailure"
            || lc == "unrecognizedclientexception"
            || lc == "invalidclienttokenid"
            || lc == "subscriptionrequiredexception"
        {
            ErrorClass::NotOptedIn
        } else if lc.contains("throttl")
            || lc == "requestlimitexceeded"
            || lc.contains("toomanyrequests")
            || lc == "slowdown"
            || lc == "requestthrottled"
        {
            ErrorClass::Throttled
        } else {
            ErrorClass::Failed
        }
    }
}

/// A finished unit's resources, ready to commit.
pub struct UnitCommit<'a> {
    pub sync: i64,
    pub key: &'a UnitKey,
    pub spec: &'a TypeSpec,
    pub found: &'a FoundColumns,
    pub rows: UnitRows,
    pub started: OffsetDateTime,
    pub finished: OffsetDateTime,
    pub calls: u64,
}

/// What a commit changed.
#[derive(Debug, Default, Clone, Copy)]
pub struct UnitCounts {
    pub resources: u64,
    pub added: u64,
    pub changed: u64,
    pub removed: u64,
    /// Resource rows written (added + changed; every row for Parquet).
    pub written: u64,
}

/// A unit (or, with no table, an account) that failed.
#[derive(Debug, Clone)]
pub struct Failure {
    pub table: Option<String>,
    pub account: String,
    pub region: Option<String>,
    pub code: Option<String>,
    pub message: String,
    pub class: ErrorClass,
    pub started: OffsetDateTime,
    pub finished: OffsetDateTime,
}

/// A row of `_syncs`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SyncRow {
    pub id: i64,
    pub started: String,
    pub finished: Option<String>,
    pub command: String,
    pub status: String,
    pub units: i64,
    pub units_failed: i64,
    pub resources: i64,
    pub added: i64,
    pub changed: i64,
    pub removed: i64,
}

/// How a sync begins.
#[derive(Debug, Clone, Copy)]
pub struct SyncStart {
    /// `--sync-id`: join this sync (as a shard, or to finish it), or start it.
    pub requested: Option<i64>,
    /// `--resume`: continue the latest sync (or `requested`).
    pub resume: bool,
}

/// A sync in progress: its id and the units it has committed already (resume, shards).
#[derive(Debug)]
pub struct SyncSession {
    pub id: i64,
    pub done: HashSet<UnitKey>,
    /// An existing sync was continued rather than a new one started.
    pub continued: bool,
}

/// The time format every destination stores: RFC 3339, UTC, microseconds.
pub fn fmt_time(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        t.year(),
        t.month() as u8,
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.microsecond()
    )
}

/// The start of a new sync id: one more than the largest, or `requested` when it is
/// larger than every stored one.
pub fn new_sync_id(
    existing_max: Option<i64>,
    requested: Option<i64>,
) -> Result<i64, InventoryError> {
    match (requested, existing_max) {
        (Some(r), Some(m)) if r <= m => Err(InventoryError::Invalid(format!(
            "--sync-id {r} is not a sync of this inventory and not above its latest ({m}): sync ids only grow"
        ))),
        (Some(r), _) if r <= 0 => Err(InventoryError::Invalid(format!(
            "--sync-id must be a positive integer, not {r}"
        ))),
        (Some(r), _) => Ok(r),
        (None, m) => Ok(m.unwrap_or(0) + 1),
    }
}

/// One resource as it was at some sync, for diffs.
#[derive(Debug, Clone)]
pub struct Version {
    pub table: String,
    pub account: String,
    pub region: String,
    pub id: String,
    pub hash: String,
    pub json: Value,
}

/// What is open for a unit before a commit, and what each incoming row is.
pub struct Classifier {
    /// Looked up for every row the writer takes: foldhash rather than SipHash. It is
    /// seeded at random per process, and a source (a plugin) never sees its hashes, so
    /// collisions cannot be aimed at it.
    open: foldhash::HashMap<String, (String, bool)>,
    pub counts: UnitCounts,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The same id and content as the open version: nothing to write.
    Unchanged,
    /// The id was met already in this unit: ignored.
    Duplicate,
    /// New id: write.
    Added,
    /// Same id, new content: write, and close the old version.
    Changed,
}

impl Classifier {
    pub fn new(open: HashMap<String, String>) -> Classifier {
        Classifier {
            open: open.into_iter().map(|(k, h)| (k, (h, false))).collect(),
            counts: UnitCounts::default(),
        }
    }

    pub fn classify(&mut self, p: &Prepared) -> Verdict {
        self.classify_id(&p.id, &p.hash)
    }

    /// [`Classifier::classify`] of a resource's id and content hash.
    pub fn classify_id(&mut self, id: &str, hash: &str) -> Verdict {
        self.counts.resources += 1;
        match self.open.get_mut(id) {
            Some((_, true)) => {
                self.counts.resources -= 1;
                Verdict::Duplicate
            }
            Some((open_hash, seen)) => {
                *seen = true;
                if open_hash == hash {
                    Verdict::Unchanged
                } else {
                    self.counts.changed += 1;
                    self.counts.written += 1;
                    Verdict::Changed
                }
            }
            None => {
                // Only `seen` is read again for an id this unit added.
                self.open.insert(id.to_string(), (String::new(), true));
                self.counts.added += 1;
                self.counts.written += 1;
                Verdict::Added
            }
        }
    }

    /// Ids whose open version is to be closed: the changed ones (passed in) and every id
    /// the unit no longer has.
    pub fn removed(&mut self) -> Vec<String> {
        let gone: Vec<String> = self
            .open
            .iter()
            .filter(|(_, (_, seen))| !seen)
            .map(|(k, _)| k.clone())
            .collect();
        self.counts.removed = gone.len() as u64;
        gone
    }
}

/// An inventory destination, open for writing or reading.
pub enum Store {
    Sqlite(sqlite::SqliteStore),
    Postgres(postgres::PgStore),
    Parquet(parquet::ParquetStore),
}

/// Run a destination's blocking work (SQLite, Parquet files). On the sync's writer thread,
/// a runtime of its own, it runs in place; on a worker of the main runtime, the worker's
/// other tasks are handed to another thread first (`block_in_place`).
fn blocking<R>(f: impl FnOnce() -> R) -> R {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(RuntimeFlavor::MultiThread) => tokio::task::block_in_place(f),
        _ => f(),
    }
}

impl Store {
    /// Open (creating what is missing) and prove it can be written: fails with one line
    /// before any AWS call when it cannot.
    pub async fn open(dest: &Destination) -> Result<Store, InventoryError> {
        Ok(match dest {
            Destination::Sqlite(p) => Store::Sqlite(sqlite::SqliteStore::open(p, true)?),
            Destination::Postgres(url) => {
                Store::Postgres(postgres::PgStore::open(url, true).await?)
            }
            Destination::Parquet(dir) => Store::Parquet(parquet::ParquetStore::open(dir, true)?),
        })
    }

    /// Open an existing inventory to read it.
    pub async fn open_read(dest: &Destination) -> Result<Store, InventoryError> {
        Ok(match dest {
            Destination::Sqlite(p) => Store::Sqlite(sqlite::SqliteStore::open(p, false)?),
            Destination::Postgres(url) => {
                Store::Postgres(postgres::PgStore::open(url, false).await?)
            }
            Destination::Parquet(dir) => Store::Parquet(parquet::ParquetStore::open(dir, false)?),
        })
    }

    /// Check that every type's table is mrhost's (or absent), and learn their columns.
    pub async fn prepare_tables(&mut self, specs: &[TypeSpec]) -> Result<(), InventoryError> {
        match self {
            Store::Sqlite(s) => s.prepare_tables(specs),
            Store::Postgres(s) => s.prepare_tables(specs).await,
            Store::Parquet(s) => s.prepare_tables(specs),
        }
    }

    pub async fn begin_sync(
        &mut self,
        start: SyncStart,
        command: &str,
    ) -> Result<SyncSession, InventoryError> {
        match self {
            Store::Sqlite(s) => s.begin_sync(start, command),
            Store::Postgres(s) => s.begin_sync(start, command).await,
            Store::Parquet(s) => s.begin_sync(start, command),
        }
    }

    /// Write finished units and their records, each unit atomically (SQLite: the whole
    /// batch in one transaction). The counts are in the order of `units`.
    pub async fn commit_units(
        &mut self,
        units: Vec<UnitCommit<'_>>,
    ) -> Result<Vec<UnitCounts>, InventoryError> {
        match self {
            Store::Sqlite(s) => blocking(|| s.commit_units(units)),
            Store::Postgres(s) => {
                let mut counts = Vec::with_capacity(units.len());
                for c in units {
                    counts.push(s.commit_unit(c).await?);
                }
                Ok(counts)
            }
            Store::Parquet(s) => blocking(|| units.into_iter().map(|c| s.commit_unit(c)).collect()),
        }
    }

    /// Record a failed unit (or a skipped account) in `_errors` (and `_units`).
    pub async fn record_failure(&mut self, sync: i64, f: &Failure) -> Result<(), InventoryError> {
        match self {
            Store::Sqlite(s) => s.record_failure(sync, f),
            Store::Postgres(s) => s.record_failure(sync, f).await,
            Store::Parquet(s) => s.record_failure(sync, f),
        }
    }

    /// Close the sync's record: status and totals from its units.
    pub async fn finish_sync(
        &mut self,
        sync: i64,
        status: &str,
    ) -> Result<SyncRow, InventoryError> {
        match self {
            Store::Sqlite(s) => s.finish_sync(sync, status),
            Store::Postgres(s) => s.finish_sync(sync, status).await,
            Store::Parquet(s) => s.finish_sync(sync, status),
        }
    }

    /// Drop history older than the last `keep` syncs or `keep_days` days; returns the
    /// syncs dropped.
    pub async fn prune(
        &mut self,
        keep: Option<u32>,
        keep_days: Option<u32>,
    ) -> Result<Vec<i64>, InventoryError> {
        let syncs = self.syncs().await?;
        let doomed = doomed_syncs(&syncs, keep, keep_days, OffsetDateTime::now_utc());
        if doomed.is_empty() {
            return Ok(doomed);
        }
        match self {
            Store::Sqlite(s) => blocking(|| s.prune(&doomed))?,
            Store::Postgres(s) => s.prune(&doomed).await?,
            Store::Parquet(s) => s.prune(&doomed)?,
        }
        Ok(doomed)
    }

    /// The type tables the inventory holds, sorted.
    pub fn tables(&self) -> Vec<String> {
        let mut t: Vec<String> = match self {
            Store::Sqlite(s) => s.table_names(),
            Store::Postgres(s) => s.table_names(),
            Store::Parquet(s) => s.table_names(),
        };
        t.sort();
        t
    }

    /// Every sync, oldest first.
    pub async fn syncs(&mut self) -> Result<Vec<SyncRow>, InventoryError> {
        match self {
            Store::Sqlite(s) => s.syncs(),
            Store::Postgres(s) => s.syncs().await,
            Store::Parquet(s) => s.syncs(),
        }
    }

    /// SQL over the estate as it was at sync `at` (latest when `None`); each row an object.
    pub async fn query(
        &mut self,
        sql: &str,
        at: Option<i64>,
    ) -> Result<Vec<Value>, InventoryError> {
        match self {
            Store::Sqlite(s) => blocking(|| s.query(sql, at)),
            Store::Postgres(s) => s.query(sql, at).await,
            Store::Parquet(s) => blocking(|| s.query(sql, at)),
        }
    }

    /// The versions that differ between syncs `from` and `to` (from < to): those valid at
    /// `from` and not at `to`, and those valid at `to` and not at `from`.
    pub async fn changed_versions(
        &mut self,
        from: i64,
        to: i64,
        table: Option<&str>,
    ) -> Result<(Vec<Version>, Vec<Version>), InventoryError> {
        match self {
            Store::Sqlite(s) => blocking(|| s.changed_versions(from, to, table)),
            Store::Postgres(s) => s.changed_versions(from, to, table).await,
            Store::Parquet(s) => blocking(|| s.changed_versions(from, to, table)),
        }
    }
}

/// A row of `_units`: one unit of a sync, `ok` or `failed`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitRow {
    pub table: String,
    pub account: String,
    pub region: String,
    pub status: String,
    pub resources: i64,
}

/// A row of `_errors`: a failed unit, or (no table) an account that could not be reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorRow {
    pub table: Option<String>,
    pub account: Option<String>,
    pub region: Option<String>,
    pub code: Option<String>,
    pub message: String,
    pub class: String,
}

fn text_of(row: &Value, key: &str) -> Option<String> {
    match row.get(key) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Null) | None => None,
        Some(other) => Some(other.to_string()),
    }
}

impl UnitRow {
    fn of(row: &Value) -> UnitRow {
        UnitRow {
            table: text_of(row, "type").unwrap_or_default(),
            account: text_of(row, "account").unwrap_or_default(),
            region: text_of(row, "region").unwrap_or_default(),
            status: text_of(row, "status").unwrap_or_default(),
            resources: row.get("resources").and_then(Value::as_i64).unwrap_or(0),
        }
    }
}

impl ErrorRow {
    fn of(row: &Value) -> ErrorRow {
        ErrorRow {
            table: text_of(row, "type"),
            account: text_of(row, "account"),
            region: text_of(row, "region"),
            code: text_of(row, "code"),
            message: text_of(row, "message").unwrap_or_default(),
            class: text_of(row, "class").unwrap_or_else(|| ErrorClass::Failed.name().into()),
        }
    }
}

impl Store {
    /// The units of one sync (`_units`), in (type, account, region) order.
    pub async fn units(&mut self, sync: i64) -> Result<Vec<UnitRow>, InventoryError> {
        let rows = match self {
            Store::Parquet(s) => s.meta_rows("_units", sync)?,
            _ => {
                self.query(
                    &format!("SELECT type, account, region, status, resources FROM _units WHERE sync_id = {sync}"),
                    Some(sync),
                )
                .await?
            }
        };
        let mut out: Vec<UnitRow> = rows.iter().map(UnitRow::of).collect();
        out.sort_by(|a, b| {
            (&a.table, &a.account, &a.region).cmp(&(&b.table, &b.account, &b.region))
        });
        Ok(out)
    }

    /// The failures of one sync (`_errors`), in (type, account, region) order.
    pub async fn errors(&mut self, sync: i64) -> Result<Vec<ErrorRow>, InventoryError> {
        let rows = match self {
            Store::Parquet(s) => s.meta_rows("_errors", sync)?,
            _ => {
                self.query(
                    &format!("SELECT type, account, region, code, message, class FROM _errors WHERE sync_id = {sync}"),
                    Some(sync),
                )
                .await?
            }
        };
        let mut out: Vec<ErrorRow> = rows.iter().map(ErrorRow::of).collect();
        out.sort_by(|a, b| {
            (&a.table, &a.account, &a.region, &a.code)
                .cmp(&(&b.table, &b.account, &b.region, &b.code))
        });
        Ok(out)
    }
}

/// The syncs `--keep N` / `--keep-days D` drop: all but the newest N, and those started
/// more than D days ago; the newest sync always stays.
pub fn doomed_syncs(
    syncs: &[SyncRow],
    keep: Option<u32>,
    keep_days: Option<u32>,
    now: OffsetDateTime,
) -> Vec<i64> {
    let Some(newest) = syncs.iter().map(|s| s.id).max() else {
        return Vec::new();
    };
    let mut ids: Vec<i64> = syncs.iter().map(|s| s.id).collect();
    ids.sort_unstable();
    let mut doomed = HashSet::new();
    if let Some(k) = keep {
        let k = k.max(1) as usize;
        if ids.len() > k {
            doomed.extend(ids[..ids.len() - k].iter().copied());
        }
    }
    if let Some(d) = keep_days {
        let cutoff = fmt_time(now - time::Duration::days(i64::from(d)));
        doomed.extend(syncs.iter().filter(|s| s.started < cutoff).map(|s| s.id));
    }
    doomed.remove(&newest);
    let mut out: Vec<i64> = doomed.into_iter().collect();
    out.sort_unstable();
    out
}

/// `SYNC|TIME` → a sync id: an integer is a sync id (it must exist), anything else a time
/// (RFC 3339, or a date) and picks the latest sync started at or before it.
pub fn resolve_sync(syncs: &[SyncRow], spec: &str) -> Result<i64, InventoryError> {
    let spec = spec.trim();
    if let Ok(id) = spec.parse::<i64>() {
        return if syncs.iter().any(|s| s.id == id) {
            Ok(id)
        } else {
            Err(InventoryError::Invalid(format!(
                "no sync {id} in this inventory (syncs: {})",
                summarize_ids(syncs)
            )))
        };
    }
    let text = if spec.len() == 10 {
        format!("{spec}T00:00:00Z")
    } else {
        spec.to_string()
    };
    let t = aws_engine::timestamp::Timestamp::parse(&text)
        .filter(|_| text.contains('-'))
        .ok_or_else(|| {
            InventoryError::Invalid(format!(
                "'{spec}' is neither a sync id nor a time (2026-11-30, 2026-11-30T12:00:00Z)"
            ))
        })?;
    let at = fmt_time(t.0);
    syncs
        .iter()
        .filter(|s| s.started <= at)
        .map(|s| s.id)
        .max()
        .ok_or_else(|| InventoryError::Invalid(format!("no sync started at or before {at}")))
}

fn summarize_ids(syncs: &[SyncRow]) -> String {
    match (syncs.first(), syncs.last()) {
        (Some(a), Some(b)) if a.id == b.id => a.id.to_string(),
        (Some(a), Some(b)) => format!("{}..{}", a.id, b.id),
        _ => "none".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: i64, started: &str) -> SyncRow {
        SyncRow {
            id,
            started: started.into(),
            finished: None,
            command: String::new(),
            status: "complete".into(),
            units: 0,
            units_failed: 0,
            resources: 0,
            added: 0,
            changed: 0,
            removed: 0,
        }
    }

    #[test]
    fn destinations_parse_and_hide_passwords() {
        assert_eq!(
            Destination::parse("sqlite:/tmp/x.db").unwrap(),
            Destination::Sqlite("/tmp/x.db".into())
        );
        assert!(matches!(
            Destination::parse("parquet:out").unwrap(),
            Destination::Parquet(_)
        ));
        let pg = Destination::parse("postgres://u:secret@127.0.0.1:5432/inv").unwrap();
        assert_eq!(pg.display(), "postgres://u:***@127.0.0.1:5432/inv");
        let e = Destination::parse("mysql://x").unwrap_err().to_string();
        assert!(e.starts_with("unknown destination 'mysql://x'"), "{e}");
        assert!(Destination::parse("sqlite:").is_err());
    }

    #[test]
    fn syncs_resolve_by_id_or_time() {
        let syncs = vec![
            row(1, "2026-11-01T10:00:00.000000Z"),
            row(2, "2026-11-02T10:00:00.000000Z"),
        ];
        assert_eq!(resolve_sync(&syncs, "2").unwrap(), 2);
        assert!(resolve_sync(&syncs, "3").is_err());
        assert_eq!(resolve_sync(&syncs, "2026-11-01T12:00:00Z").unwrap(), 1);
        assert_eq!(resolve_sync(&syncs, "2026-11-03").unwrap(), 2);
        assert!(resolve_sync(&syncs, "2026-10-01").is_err());
        assert!(resolve_sync(&syncs, "yesterday").is_err());
    }

    #[test]
    fn pruning_keeps_the_newest() {
        let syncs = vec![
            row(1, "2026-11-01T10:00:00.000000Z"),
            row(2, "2026-11-02T10:00:00.000000Z"),
            row(3, "2026-11-03T10:00:00.000000Z"),
        ];
        let now = time::macros::datetime!(2026-11-03 09:00 UTC);
        assert_eq!(doomed_syncs(&syncs, Some(2), None, now), vec![1]);
        assert_eq!(doomed_syncs(&syncs, None, Some(1), now), vec![1]);
        assert_eq!(doomed_syncs(&syncs, None, Some(0), now), vec![1, 2]);
        assert_eq!(doomed_syncs(&syncs, Some(0), None, now), vec![1, 2]);
        assert!(doomed_syncs(&syncs, None, None, now).is_empty());
    }

    #[test]
    fn error_classes() {
        assert_eq!(
            ErrorClass::of_code(Some("AccessDenied")),
            ErrorClass::AccessDenied
        );
        assert_eq!(
            ErrorClass::of_code(Some("UnauthorizedOperation")),
            ErrorClass::AccessDenied
        );
        assert_eq!(
            ErrorClass::of_code(Some("OptInRequired")),
            ErrorClass::NotOptedIn
        );
        assert_eq!(
            ErrorClass::of_code(Some("RequestLimitExceeded")),
            ErrorClass::Throttled
        );
        assert_eq!(
            ErrorClass::of_code(Some("ThrottlingException")),
            ErrorClass::Throttled
        );
        assert_eq!(
            ErrorClass::of_code(Some("InternalError")),
            ErrorClass::Failed
        );
        assert_eq!(ErrorClass::of_code(None), ErrorClass::Failed);
    }
}
