//! Findings: SQL checks shipped as data (`host/assets/checks/*.sql`, embedded in the
//! binary) and the user's own (`--checks DIR`), each a `.sql` file with a header:
//!
//! ```sql
//! -- id: volumes-unencrypted
//! -- title: Unencrypted EBS volumes
//! -- severity: medium
//! -- needs: volumes.Encrypted
//! -- description: EBS volumes without encryption at rest.
//! --   An indented comment line continues the field above it.
//! SELECT _account, _region, VolumeId FROM volumes WHERE Encrypted = 0
//! ```
//!
//! The SQL is SQLite's, over the estate as of the sync shown (one table per type, the
//! columns `mrhost query --from` sees; booleans are 0/1, nested values JSON text). `needs`
//! lists the tables (`table`) and columns (`table.Column`) the check reads: when one is
//! absent from the inventory the check is "not evaluated" rather than failed, so checks
//! written for richer plugins wait for them. A check never writes: on a SQLite inventory it
//! runs on the read-only connection, and for PostgreSQL and Parquet on a scratch in-memory
//! SQLite copy of the tables it needs.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use rusqlite::types::Value as Sql;
use serde::Serialize;
use serde_json::Value;

use super::{clip, ReportError};
use crate::inventory::sqlite::quote;
use crate::inventory::Store;

/// The bundled checks, by file name.
pub const BUNDLED: &[(&str, &str)] = &[
    (
        "iam-access-keys-old.sql",
        include_str!("../../assets/checks/iam-access-keys-old.sql"),
    ),
    (
        "iam-users-without-mfa.sql",
        include_str!("../../assets/checks/iam-users-without-mfa.sql"),
    ),
    (
        "images-public.sql",
        include_str!("../../assets/checks/images-public.sql"),
    ),
    (
        "instances-imdsv1.sql",
        include_str!("../../assets/checks/instances-imdsv1.sql"),
    ),
    (
        "rds-public.sql",
        include_str!("../../assets/checks/rds-public.sql"),
    ),
    (
        "rds-unencrypted.sql",
        include_str!("../../assets/checks/rds-unencrypted.sql"),
    ),
    (
        "s3-buckets-unencrypted.sql",
        include_str!("../../assets/checks/s3-buckets-unencrypted.sql"),
    ),
    (
        "sg-open-admin-ports.sql",
        include_str!("../../assets/checks/sg-open-admin-ports.sql"),
    ),
    (
        "sg-open-database-ports.sql",
        include_str!("../../assets/checks/sg-open-database-ports.sql"),
    ),
    (
        "snapshots-public.sql",
        include_str!("../../assets/checks/snapshots-public.sql"),
    ),
    (
        "snapshots-unencrypted.sql",
        include_str!("../../assets/checks/snapshots-unencrypted.sql"),
    ),
    (
        "volumes-unencrypted.sql",
        include_str!("../../assets/checks/volumes-unencrypted.sql"),
    ),
    (
        "vpcs-default.sql",
        include_str!("../../assets/checks/vpcs-default.sql"),
    ),
];

/// Rows of a check's result kept in the page (the count covers all of them).
pub const MAX_FINDING_ROWS: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    High,
    Medium,
    Low,
}

/// A table, or one column of it, that a check reads.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Need {
    pub table: String,
    pub column: Option<String>,
}

impl Need {
    fn label(&self) -> String {
        match &self.column {
            Some(c) => format!("{}.{c}", self.table),
            None => self.table.clone(),
        }
    }
}

/// One check, parsed.
#[derive(Debug, Clone)]
pub struct Check {
    pub id: String,
    pub title: String,
    pub severity: Severity,
    pub description: String,
    pub needs: Vec<Need>,
    pub sql: String,
    /// Where it came from: `bundled:NAME.sql` or the file's path.
    pub file: String,
}

fn bad(file: &str, message: impl Into<String>) -> ReportError {
    ReportError::CheckFile {
        file: file.to_string(),
        message: message.into(),
    }
}

fn is_ident(s: &str) -> bool {
    !s.is_empty()
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !s.starts_with(|c: char| c.is_ascii_digit())
}

/// `TABLE` and `TABLE.COLUMN` names, comma-separated (one `needs:` line or its continuation).
fn parse_needs(file: &str, value: &str, needs: &mut Vec<Need>) -> Result<(), ReportError> {
    for n in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let (table, column) = match n.split_once('.') {
            Some((t, c)) => (t.trim(), Some(c.trim())),
            None => (n, None),
        };
        if !is_ident(table) || column.is_some_and(|c| !is_ident(c)) {
            return Err(bad(
                file,
                format!("needs: '{n}' is not TABLE or TABLE.COLUMN"),
            ));
        }
        needs.push(Need {
            table: table.to_string(),
            column: column.map(str::to_string),
        });
    }
    Ok(())
}

/// Parse one check file.
pub fn parse(file: &str, text: &str) -> Result<Check, ReportError> {
    let mut fields: BTreeMap<&'static str, String> = BTreeMap::new();
    let mut needs: Vec<Need> = Vec::new();
    let mut last: Option<&'static str> = None;
    let mut body_start = text.len();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let here = offset;
        offset += line.len();
        let trimmed = line.trim();
        if trimmed.is_empty() {
            last = None;
            continue;
        }
        let Some(comment) = trimmed.strip_prefix("--") else {
            body_start = here;
            break;
        };
        // `--   more text`: continues the field above.
        let raw = line.trim_start().trim_start_matches('-');
        if let (Some(key), true) = (last, raw.starts_with("  ") && !comment.trim().is_empty()) {
            if key == "needs" {
                parse_needs(file, comment, &mut needs)?;
                continue;
            }
            let v = fields.entry(key).or_default();
            v.push(' ');
            v.push_str(comment.trim());
            continue;
        }
        let comment = comment.trim();
        let Some((key, value)) = comment.split_once(':') else {
            last = None;
            continue; // a plain comment
        };
        let key: &'static str = match key.trim().to_ascii_lowercase().as_str() {
            "id" => "id",
            "title" => "title",
            "severity" => "severity",
            "description" => "description",
            "needs" => {
                parse_needs(file, value, &mut needs)?;
                last = Some("needs");
                continue;
            }
            other => {
                if other.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                    return Err(bad(
                        file,
                        format!(
                            "unknown header field '{other}' (id, title, severity, needs, description)"
                        ),
                    ));
                }
                last = None;
                continue; // prose that happens to hold a colon
            }
        };
        if fields.contains_key(key) {
            return Err(bad(file, format!("'{key}' is given twice")));
        }
        fields.insert(key, value.trim().to_string());
        last = Some(key);
    }
    let mut take = |k: &'static str| -> Result<String, ReportError> {
        fields
            .remove(k)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| bad(file, format!("the header has no '{k}:' line")))
    };
    let id = take("id")?;
    let title = take("title")?;
    let severity = match take("severity")?.to_ascii_lowercase().as_str() {
        "high" => Severity::High,
        "medium" => Severity::Medium,
        "low" => Severity::Low,
        other => {
            return Err(bad(
                file,
                format!("severity '{other}' is not high, medium or low"),
            ))
        }
    };
    let description = take("description")?;
    if !id
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
    {
        return Err(bad(
            file,
            format!("id '{id}': use lower-case letters, digits, '-' and '_'"),
        ));
    }
    if needs.is_empty() {
        return Err(bad(
            file,
            "the header has no 'needs:' line (the tables and columns the SQL reads)",
        ));
    }
    let sql = text
        .get(body_start..)
        .unwrap_or_default()
        .trim()
        .trim_end_matches(';')
        .trim()
        .to_string();
    if sql.is_empty() {
        return Err(bad(file, "no SQL after the header"));
    }
    let first = sql
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_ascii_uppercase();
    if first != "SELECT" && first != "WITH" {
        return Err(bad(file, "the SQL must be one SELECT (or WITH ... SELECT)"));
    }
    needs.sort();
    needs.dedup();
    Ok(Check {
        id,
        title,
        severity,
        description,
        needs,
        sql,
        file: file.to_string(),
    })
}

/// The checks shipped with mrhost.
pub fn bundled() -> Result<Vec<Check>, ReportError> {
    BUNDLED
        .iter()
        .map(|(name, text)| parse(&format!("bundled:{name}"), text))
        .collect()
}

/// Every `*.sql` file of a directory, in name order.
pub fn load_dir(dir: &Path) -> Result<Vec<Check>, ReportError> {
    let shown = dir.display().to_string();
    let entries = std::fs::read_dir(dir).map_err(|e| bad(&shown, e.to_string()))?;
    let mut files: Vec<_> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "sql") && p.is_file())
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(bad(&shown, "no .sql files in this directory"));
    }
    files
        .iter()
        .map(|p| {
            let name = p.display().to_string();
            let text = std::fs::read_to_string(p).map_err(|e| bad(&name, e.to_string()))?;
            parse(&name, &text)
        })
        .collect()
}

/// The bundled checks with the user's: a user check with a bundled check's id replaces it;
/// two user checks with one id are an error.
pub fn merge(bundled: Vec<Check>, user: Vec<Check>) -> Result<Vec<Check>, ReportError> {
    let mut seen: HashMap<String, String> = HashMap::new();
    for c in &user {
        if let Some(other) = seen.insert(c.id.clone(), c.file.clone()) {
            return Err(bad(
                &c.file,
                format!("id '{}' is also the id of {other}", c.id),
            ));
        }
    }
    let mut out: Vec<Check> = bundled
        .into_iter()
        .filter(|b| !seen.contains_key(&b.id))
        .collect();
    out.extend(user);
    Ok(out)
}

/// One check's outcome, as the page's `findings` entries are.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub id: String,
    pub title: String,
    pub severity: Severity,
    pub description: String,
    pub file: String,
    /// `evaluated` or `not-evaluated`.
    pub status: &'static str,
    /// What a not-evaluated check needs and the inventory lacks (`table` or `table.Column`).
    pub missing: Vec<String>,
    pub count: u64,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
}

impl Finding {
    fn of(c: &Check) -> Finding {
        Finding {
            id: c.id.clone(),
            title: c.title.clone(),
            severity: c.severity,
            description: c.description.clone(),
            file: c.file.clone(),
            status: "evaluated",
            missing: Vec::new(),
            count: 0,
            columns: Vec::new(),
            rows: Vec::new(),
        }
    }
}

/// The columns each table has, lower-cased; `None`: the table exists but its columns are
/// unknown (a Parquet or PostgreSQL type with no row at this sync; nothing can match).
type Columns = HashMap<String, Option<BTreeSet<String>>>;

fn missing(c: &Check, columns: &Columns) -> Vec<String> {
    c.needs
        .iter()
        .filter(|n| match columns.get(&n.table) {
            None => true,
            Some(None) => false,
            Some(Some(cols)) => n
                .column
                .as_ref()
                .is_some_and(|col| !cols.contains(&col.to_ascii_lowercase())),
        })
        .map(Need::label)
        .collect()
}

/// Result rows as (columns, rows), values in column order.
fn table_of(rows: Vec<Value>) -> (Vec<String>, Vec<Vec<Value>>) {
    let columns: Vec<String> = rows
        .first()
        .and_then(Value::as_object)
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    let rows = rows
        .into_iter()
        .map(|r| match r {
            Value::Object(o) => o.into_iter().map(|(_, v)| clip(v)).collect(),
            other => vec![clip(other)],
        })
        .collect();
    (columns, rows)
}

fn count_of(rows: &[Value]) -> u64 {
    rows.first()
        .and_then(|r| r.get("n"))
        .and_then(Value::as_u64)
        .unwrap_or(0)
}

/// Run the checks over the estate at sync `at`.
pub async fn evaluate(
    store: &mut Store,
    at: i64,
    checks: &[Check],
) -> Result<Vec<Finding>, ReportError> {
    let tables: BTreeSet<String> = store.tables().into_iter().collect();
    let failed = |c: &Check, message: String| ReportError::CheckFailed {
        id: c.id.clone(),
        file: c.file.clone(),
        message,
    };
    let mut out = Vec::new();
    if let Store::Sqlite(_) = store {
        let mut columns: Columns = HashMap::new();
        for t in checks.iter().flat_map(|c| c.needs.iter().map(|n| &n.table)) {
            if columns.contains_key(t) || !tables.contains(t) {
                continue;
            }
            let rows = store
                .query(
                    &format!(
                        "SELECT name FROM pragma_table_info('{}')",
                        t.replace('\'', "''")
                    ),
                    Some(at),
                )
                .await?;
            let cols = rows
                .iter()
                .filter_map(|r| r.get("name").and_then(Value::as_str))
                .map(str::to_ascii_lowercase)
                .collect();
            columns.insert(t.clone(), Some(cols));
        }
        for c in checks {
            let mut f = Finding::of(c);
            f.missing = missing(c, &columns);
            if !f.missing.is_empty() {
                f.status = "not-evaluated";
                out.push(f);
                continue;
            }
            let n = store
                .query(&format!("SELECT count(*) AS n FROM ({})", c.sql), Some(at))
                .await
                .map_err(|e| failed(c, e.to_string()))?;
            f.count = count_of(&n);
            if f.count > 0 {
                let rows = store
                    .query(
                        &format!("SELECT * FROM ({}) LIMIT {MAX_FINDING_ROWS}", c.sql),
                        Some(at),
                    )
                    .await
                    .map_err(|e| failed(c, e.to_string()))?;
                (f.columns, f.rows) = table_of(rows);
            }
            out.push(f);
        }
        return Ok(out);
    }
    // PostgreSQL and Parquet: the tables the checks read, into a scratch SQLite database.
    let wanted: BTreeSet<String> = checks
        .iter()
        .flat_map(|c| {
            c.needs.iter().map(|n| n.table.clone()).chain(
                crate::sql::referenced(&c.sql, tables.iter().map(String::as_str))
                    .into_iter()
                    .map(str::to_string),
            )
        })
        .filter(|t| tables.contains(t))
        .collect();
    let conn = rusqlite::Connection::open_in_memory().map_err(|source| ReportError::Sqlite {
        what: "opening a scratch database for the checks".into(),
        source,
    })?;
    let mut columns: Columns = HashMap::new();
    for t in &wanted {
        let rows = store
            .query(&format!("SELECT * FROM {}", quote(t)), Some(at))
            .await?;
        let declared: Vec<String> = checks
            .iter()
            .flat_map(|c| c.needs.iter())
            .filter(|n| &n.table == t)
            .filter_map(|n| n.column.clone())
            .collect();
        let known = load_scratch(&conn, t, &rows, &declared)?;
        columns.insert(t.clone(), known);
    }
    for c in checks {
        let mut f = Finding::of(c);
        f.missing = missing(c, &columns);
        if !f.missing.is_empty() {
            f.status = "not-evaluated";
            out.push(f);
            continue;
        }
        let n = crate::sql::rows_of(&conn, &format!("SELECT count(*) AS n FROM ({})", c.sql))
            .map_err(|e| failed(c, e))?;
        f.count = count_of(&n);
        if f.count > 0 {
            let rows = crate::sql::rows_of(
                &conn,
                &format!("SELECT * FROM ({}) LIMIT {MAX_FINDING_ROWS}", c.sql),
            )
            .map_err(|e| failed(c, e))?;
            (f.columns, f.rows) = table_of(rows);
        }
        out.push(f);
    }
    Ok(out)
}

/// Create `table` in the scratch database from rows (objects), as SQLite holds an
/// inventory: booleans 0/1, nested values JSON text. Returns its columns (lower-cased), or
/// `None` when there were no rows to learn them from; then the `declared` columns are
/// created so the checks still run (and find nothing).
fn load_scratch(
    conn: &rusqlite::Connection,
    table: &str,
    rows: &[Value],
    declared: &[String],
) -> Result<Option<BTreeSet<String>>, ReportError> {
    let sq = |what: String| move |source| ReportError::Sqlite { what, source };
    let mut cols: Vec<String> = Vec::new();
    let mut lower: BTreeSet<String> = BTreeSet::new();
    for r in rows {
        for k in r.as_object().into_iter().flat_map(|o| o.keys()) {
            if lower.insert(k.to_ascii_lowercase()) {
                cols.push(k.clone());
            }
        }
    }
    let known = (!rows.is_empty()).then(|| lower.clone());
    if rows.is_empty() {
        for c in crate::inventory::schema::meta_columns(true)
            .into_iter()
            .map(|m| m.name)
            .chain(declared.iter().cloned())
            .chain(["_json".to_string()])
        {
            if lower.insert(c.to_ascii_lowercase()) {
                cols.push(c);
            }
        }
    }
    let q = quote(table);
    let defs: Vec<String> = cols.iter().map(|c| quote(c)).collect();
    conn.execute_batch(&format!("CREATE TABLE {q} ({})", defs.join(", ")))
        .map_err(sq(format!("loading {table} for the checks")))?;
    let placeholders = vec!["?"; cols.len()].join(", ");
    let mut stmt = conn
        .prepare(&format!(
            "INSERT INTO {q} ({}) VALUES ({placeholders})",
            defs.join(", ")
        ))
        .map_err(sq(format!("loading {table} for the checks")))?;
    for r in rows {
        let values: Vec<Sql> = cols
            .iter()
            .map(|c| match r.get(c) {
                None | Some(Value::Null) => Sql::Null,
                Some(Value::Bool(b)) => Sql::Integer(i64::from(*b)),
                Some(Value::Number(n)) => n
                    .as_i64()
                    .map(Sql::Integer)
                    .unwrap_or_else(|| Sql::Real(n.as_f64().unwrap_or_default())),
                Some(Value::String(s)) => Sql::Text(s.clone()),
                Some(other) => Sql::Text(other.to_string()),
            })
            .collect();
        stmt.execute(rusqlite::params_from_iter(values))
            .map_err(sq(format!("loading {table} for the checks")))?;
    }
    Ok(known)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bundled_check_parses_and_every_file_is_bundled() {
        let checks = bundled().unwrap();
        let ids: BTreeSet<&str> = checks.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids.len(), checks.len(), "ids are unique");
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/checks");
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".sql"))
            .collect();
        on_disk.sort();
        let listed: Vec<String> = BUNDLED.iter().map(|(n, _)| n.to_string()).collect();
        assert_eq!(on_disk, listed, "BUNDLED lists every file of assets/checks");
        for c in &checks {
            assert_eq!(
                format!("bundled:{}.sql", c.id),
                c.file,
                "a bundled check's file is named by its id"
            );
            assert!(c.description.len() > 40, "{}: a real description", c.id);
        }
    }

    #[test]
    fn bundled_checks_read_only_what_they_declare() {
        // Each check prepares against tables that have only the columns its `needs` names
        // (and mrhost's own): the SQL parses, and a column the inventory lacks makes the
        // check "not evaluated", never a failed report.
        for c in &bundled().unwrap() {
            let conn = rusqlite::Connection::open_in_memory().unwrap();
            let mut tables: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
            for n in &c.needs {
                let cols = tables.entry(&n.table).or_default();
                cols.extend(n.column.as_deref());
            }
            for (t, cols) in &tables {
                let mut defs = vec!["_id", "_account", "_region", "_json"];
                defs.extend(cols);
                conn.execute_batch(&format!("CREATE TABLE {t} ({})", defs.join(", ")))
                    .unwrap();
            }
            conn.prepare(&format!("SELECT count(*) FROM ({})", c.sql))
                .unwrap_or_else(|e| panic!("{}: {e}", c.id));
        }
    }

    #[test]
    fn needs_continue_on_indented_lines() {
        let c = parse(
            "x.sql",
            "-- id: x\n-- title: T\n-- severity: low\n-- needs: a.B,\n--   a.C, d\n\
             -- description: a check of a and d.\nSELECT 1 FROM a, d\n",
        )
        .unwrap();
        let got: Vec<String> = c.needs.iter().map(Need::label).collect();
        assert_eq!(got, ["a.B", "a.C", "d"]);
        assert_eq!(c.description, "a check of a and d.");
    }

    #[test]
    fn headers_are_checked() {
        let ok = "-- id: my-check\n-- title: T\n-- severity: High\n-- needs: vpcs.IsDefault, subnets\n-- description: what it finds\n--   and more.\nSELECT 1 FROM vpcs;\n";
        let c = parse("x.sql", ok).unwrap();
        assert_eq!(c.id, "my-check");
        assert_eq!(c.severity, Severity::High);
        assert_eq!(c.description, "what it finds and more.");
        assert_eq!(
            c.needs,
            vec![
                Need {
                    table: "subnets".into(),
                    column: None
                },
                Need {
                    table: "vpcs".into(),
                    column: Some("IsDefault".into())
                }
            ]
        );
        assert_eq!(c.sql, "SELECT 1 FROM vpcs");
        for (text, msg) in [
            (ok.replace("-- id: my-check\n", ""), "no 'id:' line"),
            (ok.replace("High", "urgent"), "severity 'urgent'"),
            (
                ok.replace("-- needs: vpcs.IsDefault, subnets\n", ""),
                "no 'needs:' line",
            ),
            (ok.replace("vpcs.IsDefault", "vpcs.Is Default"), "needs:"),
            (ok.replace("SELECT 1 FROM vpcs;", ""), "no SQL"),
            (
                ok.replace("SELECT 1 FROM vpcs;", "DELETE FROM vpcs"),
                "one SELECT",
            ),
            (
                ok.replace("-- title: T\n", "-- titel: T\n"),
                "unknown header",
            ),
            (ok.replace("my-check", "My Check"), "lower-case"),
            (
                ok.replacen("-- title: T\n", "-- title: T\n-- title: U\n", 1),
                "twice",
            ),
        ] {
            let e = parse("x.sql", &text).unwrap_err().to_string();
            assert!(e.starts_with("check x.sql: "), "{e}");
            assert!(e.contains(msg), "{msg}: {e}");
        }
    }

    #[test]
    fn user_checks_replace_bundled_ones_by_id() {
        let mk = |id: &str, file: &str| Check {
            id: id.into(),
            title: "t".into(),
            severity: Severity::Low,
            description: "d".into(),
            needs: vec![],
            sql: "SELECT 1".into(),
            file: file.into(),
        };
        let merged = merge(
            vec![mk("a", "bundled:a.sql"), mk("b", "bundled:b.sql")],
            vec![mk("b", "mine/b.sql"), mk("c", "mine/c.sql")],
        )
        .unwrap();
        let files: Vec<&str> = merged.iter().map(|c| c.file.as_str()).collect();
        assert_eq!(files, ["bundled:a.sql", "mine/b.sql", "mine/c.sql"]);
        let e = merge(vec![], vec![mk("c", "x/1.sql"), mk("c", "x/2.sql")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("also the id of x/1.sql"), "{e}");
    }
}
