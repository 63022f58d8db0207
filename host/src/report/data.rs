//! The data document the page renders, read from a stored inventory (any destination)
//! through [`Store`]: the field names and meanings are the contract in
//! `host/assets/report/README.md`.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::{Map, Value};
use time::OffsetDateTime;

use super::checks::{self, Check, Finding};
use super::{clip, ReportError};
use crate::inventory::diff::{changes, Change};
use crate::inventory::sqlite::quote;
use crate::inventory::store::{fmt_time, resolve_sync, ErrorClass, SyncRow};
use crate::inventory::Store;

/// Changes listed in the diff table; the rest are counted in `diff_omitted`.
pub const MAX_DIFF_ROWS: usize = 2000;
/// Syncs in the history charts (the newest, up to the sync shown).
pub const MAX_HISTORY: usize = 100;
/// A Parquet inventory keeps full snapshots, not per-sync counts: its history is computed
/// by comparing snapshots, for this many syncs.
pub const MAX_PARQUET_HISTORY: usize = 12;

/// What to report.
#[derive(Debug, Clone)]
pub struct Options {
    /// The sync shown (`--at`): id or time; the latest when `None`.
    pub at: Option<String>,
    /// The diff is from this sync (`--since`) to the one shown.
    pub since: Option<String>,
    pub checks: Vec<Check>,
    /// Rows per type kept in the page.
    pub max_rows: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct SyncInfo {
    pub id: i64,
    pub started: String,
    pub finished: Option<String>,
    pub duration_s: Option<f64>,
    pub status: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Headline {
    pub accounts: usize,
    pub regions: usize,
    pub types: usize,
    pub resources: u64,
    pub failed_units: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Account {
    pub id: String,
    pub name: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HeatCell {
    pub account: String,
    pub region: String,
    pub count: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct TypeCount {
    #[serde(rename = "type")]
    pub table: String,
    pub count: u64,
    pub description: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HistoryEntry {
    pub sync: i64,
    pub finished: Option<String>,
    pub added: u64,
    pub removed: u64,
    pub changed: u64,
    pub resources: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ErrorEntry {
    pub class: String,
    #[serde(rename = "type")]
    pub table: Option<String>,
    pub account: Option<String>,
    pub region: Option<String>,
    pub code: Option<String>,
    pub message: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Table {
    #[serde(rename = "type")]
    pub table: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
    pub total: u64,
    pub omitted: u64,
    pub query_hint: String,
}

/// The whole document.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub generated_at: String,
    pub source: String,
    pub at: Option<SyncInfo>,
    pub since: Option<SyncInfo>,
    pub headline: Headline,
    pub accounts: Vec<Account>,
    pub regions: Vec<String>,
    pub heatmap: Vec<HeatCell>,
    pub types: Vec<TypeCount>,
    pub history: Vec<HistoryEntry>,
    pub diff: Vec<Change>,
    pub diff_omitted: usize,
    pub errors: Vec<ErrorEntry>,
    pub findings: Vec<Finding>,
    pub tables: Vec<Table>,
}

fn seconds_between(a: &str, b: &str) -> Option<f64> {
    let p = |s: &str| aws_engine::timestamp::Timestamp::parse(s).map(|t| t.0);
    let d = p(b)? - p(a)?;
    Some((d.as_seconds_f64() * 10.0).round() / 10.0)
}

fn sync_info(s: &SyncRow) -> SyncInfo {
    SyncInfo {
        id: s.id,
        started: s.started.clone(),
        finished: s.finished.clone(),
        duration_s: s
            .finished
            .as_deref()
            .and_then(|f| seconds_between(&s.started, f)),
        status: s.status.clone(),
    }
}

/// A word for a shell: quoted when it holds anything but safe characters.
fn shell_word(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@,+%".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

fn text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// The item a row's `_json` holds (text in SQLite and Parquet, JSON in PostgreSQL).
fn item_of(v: Option<&Value>) -> Map<String, Value> {
    match v {
        Some(Value::Object(m)) => m.clone(),
        Some(Value::String(s)) => match serde_json::from_str(s) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        },
        _ => Map::new(),
    }
}

/// A type's rows for the page: the items' own fields (from `_json`, so every destination
/// gives the same values and types), fields no row has a value for left out, then
/// `_account` and `_region`.
fn page_table(rows: Vec<Value>) -> (Vec<String>, Vec<Vec<Value>>) {
    let mut order: Vec<String> = Vec::new();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut valued: BTreeSet<String> = BTreeSet::new();
    let mut items = Vec::with_capacity(rows.len());
    for r in &rows {
        let item = item_of(r.get("_json"));
        for (k, v) in &item {
            if seen.insert(k.clone()) {
                order.push(k.clone());
            }
            if !v.is_null() {
                valued.insert(k.clone());
            }
        }
        items.push((item, text(r.get("_account")), text(r.get("_region"))));
    }
    let mut columns: Vec<String> = order.into_iter().filter(|k| valued.contains(k)).collect();
    let out = items
        .into_iter()
        .map(|(mut item, a, r)| {
            let mut row: Vec<Value> = columns
                .iter()
                .map(|c| clip(item.shift_remove(c).unwrap_or(Value::Null)))
                .collect();
            row.push(Value::String(a));
            row.push(Value::String(r));
            row
        })
        .collect();
    columns.push("_account".into());
    columns.push("_region".into());
    (columns, out)
}

/// The per-sync changes of a Parquet inventory (full snapshots), by comparing each sync
/// with the one before.
async fn parquet_history(
    store: &mut Store,
    syncs: &[&SyncRow],
) -> Result<Vec<HistoryEntry>, ReportError> {
    let mut out = Vec::new();
    for (i, s) in syncs.iter().enumerate() {
        let prev = match i.checked_sub(1).and_then(|j| syncs.get(j)) {
            Some(p) => p.id,
            None => 0,
        };
        let (before, after) = store.changed_versions(prev, s.id, None).await?;
        let list = changes(before, after);
        let n = |k: &str| list.iter().filter(|c| c.change == k).count() as u64;
        out.push(HistoryEntry {
            sync: s.id,
            finished: s.finished.clone(),
            added: n("added"),
            removed: n("removed"),
            changed: n("changed"),
            resources: s.resources.max(0) as u64,
        });
    }
    Ok(out)
}

/// Read everything the page shows from the inventory.
pub async fn gather(
    store: &mut Store,
    source: &str,
    opts: &Options,
) -> Result<Report, ReportError> {
    let syncs = store.syncs().await?;
    let mut report = Report {
        generated_at: fmt_time(OffsetDateTime::now_utc()),
        source: source.to_string(),
        at: None,
        since: None,
        headline: Headline::default(),
        accounts: Vec::new(),
        regions: Vec::new(),
        heatmap: Vec::new(),
        types: Vec::new(),
        history: Vec::new(),
        diff: Vec::new(),
        diff_omitted: 0,
        errors: Vec::new(),
        findings: Vec::new(),
        tables: Vec::new(),
    };
    let at = match (&opts.at, syncs.last()) {
        (Some(spec), _) => resolve_sync(&syncs, spec)?,
        (None, Some(last)) => last.id,
        (None, None) => {
            if opts.since.is_some() {
                return Err(ReportError::Invalid(format!(
                    "--since: {source} has no sync yet"
                )));
            }
            return Ok(report); // an empty inventory: the page says so
        }
    };
    let latest = syncs.last().map(|s| s.id) == Some(at);
    let at_row = syncs.iter().find(|s| s.id == at);
    report.at = at_row.map(sync_info);
    if let Some(spec) = &opts.since {
        let since = resolve_sync(&syncs, spec)?;
        if since >= at {
            return Err(ReportError::Invalid(format!(
                "--since {spec} is sync {since}, not before the sync shown ({at})"
            )));
        }
        report.since = syncs.iter().find(|s| s.id == since).map(sync_info);
    }

    // Where the resources are: per type, per account and region.
    let mut heat: BTreeMap<(String, String), u64> = BTreeMap::new();
    let mut accounts: BTreeSet<String> = BTreeSet::new();
    let mut regions: BTreeSet<String> = BTreeSet::new();
    for t in store.tables() {
        let q = quote(&t);
        let counts = store
            .query(
                &format!("SELECT _account AS a, _region AS r, count(*) AS n FROM {q} GROUP BY _account, _region"),
                Some(at),
            )
            .await?;
        let mut total = 0u64;
        for c in &counts {
            let n = c.get("n").and_then(Value::as_u64).unwrap_or(0);
            if n == 0 {
                continue;
            }
            let (a, r) = (text(c.get("a")), text(c.get("r")));
            accounts.insert(a.clone());
            regions.insert(r.clone());
            *heat.entry((a, r)).or_default() += n;
            total += n;
        }
        if total == 0 {
            continue;
        }
        let rows = if opts.max_rows > 0 {
            store
                .query(
                    &format!(
                        "SELECT _account, _region, _json FROM {q} ORDER BY _account, _region, _id LIMIT {}",
                        opts.max_rows
                    ),
                    Some(at),
                )
                .await?
        } else {
            Vec::new()
        };
        let kept = rows.len() as u64;
        let (columns, rows) = page_table(rows);
        let mut hint = format!(
            "mrhost query {} --from {}",
            shell_word(&format!("SELECT * FROM {t}")),
            shell_word(source)
        );
        if !latest {
            hint.push_str(&format!(" --at {at}"));
        }
        report.types.push(TypeCount {
            table: t.clone(),
            count: total,
            description: None,
        });
        report.tables.push(Table {
            table: t,
            columns,
            rows,
            total,
            omitted: total.saturating_sub(kept),
            query_hint: hint,
        });
    }
    report
        .types
        .sort_by(|a, b| b.count.cmp(&a.count).then(a.table.cmp(&b.table)));
    report
        .tables
        .sort_by(|a, b| b.total.cmp(&a.total).then(a.table.cmp(&b.table)));

    // The sync's units and failures: accounts and regions with nothing in them count too.
    let units = store.units(at).await?;
    let ok: BTreeSet<(String, String, String)> = units
        .iter()
        .filter(|u| u.status == "ok")
        .map(|u| (u.table.clone(), u.account.clone(), u.region.clone()))
        .collect();
    for u in &units {
        accounts.insert(u.account.clone());
        regions.insert(u.region.clone());
    }
    for e in store.errors(at).await? {
        // A unit that failed and then succeeded on --resume is no failure.
        if let (Some(t), Some(a), Some(r)) = (&e.table, &e.account, &e.region) {
            if ok.contains(&(t.clone(), a.clone(), r.clone())) {
                continue;
            }
        }
        accounts.extend(e.account.clone().filter(|a| !a.is_empty()));
        regions.extend(e.region.clone().filter(|r| !r.is_empty()));
        let class = match e.class.as_str() {
            c @ ("access-denied" | "not-opted-in" | "throttled" | "failed") => c.to_string(),
            _ => ErrorClass::Failed.name().to_string(),
        };
        report.errors.push(ErrorEntry {
            class,
            table: e.table,
            account: e.account,
            region: e.region,
            code: e.code,
            message: e.message,
        });
    }
    accounts.remove("");
    regions.remove("");
    report.heatmap = heat
        .into_iter()
        .map(|((account, region), count)| HeatCell {
            account,
            region,
            count,
        })
        .collect();
    report.accounts = accounts
        .into_iter()
        .map(|id| Account { id, name: None })
        .collect();
    report.regions = regions.into_iter().collect();
    report.headline = Headline {
        accounts: report.accounts.len(),
        regions: report.regions.len(),
        types: report.types.len(),
        resources: report.types.iter().map(|t| t.count).sum(),
        failed_units: report.errors.len(),
    };

    // History, up to the sync shown.
    let upto: Vec<&SyncRow> = syncs.iter().filter(|s| s.id <= at).collect();
    let window = |n: usize| &upto[upto.len().saturating_sub(n)..];
    let parquet = matches!(store, Store::Parquet(_));
    report.history = match parquet {
        true => parquet_history(store, window(MAX_PARQUET_HISTORY)).await?,
        false => window(MAX_HISTORY)
            .iter()
            .map(|s| HistoryEntry {
                sync: s.id,
                finished: s.finished.clone(),
                added: s.added.max(0) as u64,
                removed: s.removed.max(0) as u64,
                changed: s.changed.max(0) as u64,
                resources: s.resources.max(0) as u64,
            })
            .collect(),
    };

    // The diff since --since, field by field.
    if let Some(since) = &report.since {
        let (before, after) = store.changed_versions(since.id, at, None).await?;
        let mut list = changes(before, after);
        report.diff_omitted = list.len().saturating_sub(MAX_DIFF_ROWS);
        list.truncate(MAX_DIFF_ROWS);
        for c in &mut list {
            for f in &mut c.fields {
                f.before = f.before.take().map(clip);
                f.after = f.after.take().map(clip);
            }
        }
        report.diff = list;
    }

    report.findings = checks::evaluate(store, at, &opts.checks).await?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rows_show_the_items_fields_then_the_scope() {
        let rows = vec![
            json!({"_account": "1", "_region": "r", "_json": "{\"Id\":\"a\",\"Empty\":null,\"Tags\":[{\"Key\":\"k\",\"Value\":\"v\"}]}"}),
            json!({"_account": "2", "_region": "r", "_json": {"Id": "b", "Flag": true, "Empty": null}}),
        ];
        let (cols, rows) = page_table(rows);
        assert_eq!(cols, ["Id", "Tags", "Flag", "_account", "_region"]);
        assert_eq!(
            rows,
            vec![
                vec![
                    json!("a"),
                    json!([{"Key": "k", "Value": "v"}]),
                    json!(null),
                    json!("1"),
                    json!("r")
                ],
                vec![json!("b"), json!(null), json!(true), json!("2"), json!("r")],
            ]
        );
    }

    #[test]
    fn shell_words() {
        assert_eq!(
            shell_word("sqlite:/tmp/inv.sqlite"),
            "sqlite:/tmp/inv.sqlite"
        );
        assert_eq!(shell_word("SELECT * FROM vpcs"), "'SELECT * FROM vpcs'");
        assert_eq!(shell_word("it's"), "'it'\\''s'");
    }

    #[test]
    fn durations() {
        assert_eq!(
            seconds_between("2026-11-30T12:00:00.000000Z", "2026-11-30T12:01:02.250000Z"),
            Some(62.3)
        );
        assert_eq!(seconds_between("x", "2026-11-30T12:00:00Z"), None);
    }
}
