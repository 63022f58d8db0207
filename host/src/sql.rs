//! Resources in SQLite: one table per resource type, top-level fields as columns (nested
//! values as JSON text, so `json_extract` reaches inside), `region` and `account` first and
//! the whole object in `_json`.
//!
//! A file written with `-o sqlite:FILE` is checked before any AWS call (a regular file, not
//! a symlink, SQLite if it exists, and every table mrhost would replace one mrhost wrote —
//! listed in `_mrhost_tables`), written into a copy beside it and renamed over it at the
//! end: a failure leaves the previous content as it was.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use rusqlite::types::{Value as Sql, ValueRef};
use rusqlite::{Connection, OpenFlags};
use serde_json::{Map, Value};

/// The table that lists the tables mrhost created in a file (the only ones it replaces).
const OWNED: &str = "_mrhost_tables";
/// Columns a table may have besides `region`, `account` and `_json` (SQLite's limit is
/// 2000): the other fields are in `_json` only.
const MAX_FIELD_COLUMNS: usize = 1900;
/// Declared column types that tell [`rows_of`] to give values back as JSON types.
const DECL_BOOL: &str = "BOOLEAN";
const DECL_JSON: &str = "JSON";

pub struct Db {
    conn: Connection,
    file: Option<OutFile>,
}

/// A file being written: the copy mrhost writes into, and where it goes when done.
struct OutFile {
    tmp: PathBuf,
    dest: PathBuf,
    done: bool,
}

impl Drop for OutFile {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// The SQL table name of a plugin or resource type: `security-groups` → `security_groups`.
pub fn table_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect()
}

fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

fn to_sql(v: &Value) -> Sql {
    match v {
        Value::Null => Sql::Null,
        Value::Bool(b) => Sql::Integer(i64::from(*b)),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Sql::Integer(i),
            None => Sql::Real(n.as_f64().unwrap_or_default()),
        },
        Value::String(s) => Sql::Text(s.clone()),
        other => Sql::Text(other.to_string()),
    }
}

/// The table of a model-derived type: `ec2_route_tables`.
pub fn model_table(t: &aws_engine::catalogue::ModelType) -> String {
    table_name(&format!("{}_{}", t.service, t.resource))
}

/// Whether `table` exists in the database (SQLite's names are case-insensitive).
fn has_table(conn: &Connection, table: &str) -> Result<bool, String> {
    conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type IN ('table', 'view') AND name = ?1 COLLATE NOCASE",
        [table],
        |r| r.get::<_, i64>(0),
    )
    .map(|n| n > 0)
    .map_err(|e| e.to_string())
}

/// Whether mrhost created `table` in this database.
fn owns_table(conn: &Connection, table: &str) -> Result<bool, String> {
    if !has_table(conn, OWNED)? {
        return Ok(false);
    }
    conn.query_row(
        &format!("SELECT count(*) FROM {OWNED} WHERE name = ?1 COLLATE NOCASE"),
        [table],
        |r| r.get::<_, i64>(0),
    )
    .map(|n| n > 0)
    .map_err(|e| e.to_string())
}

/// Whether `dest` can take `tables`: a regular file or none (never a symlink), SQLite when
/// it exists, and each of the tables absent or one mrhost wrote. Reads only.
pub fn check_output(dest: &Path, tables: &[String]) -> Result<(), String> {
    let shown = dest.display();
    let parent = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !parent.is_dir() {
        return Err(format!("{shown}: no directory {}", parent.display()));
    }
    let meta = match std::fs::symlink_metadata(dest) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(format!("{shown}: {e}")),
    };
    if meta.file_type().is_symlink() {
        return Err(format!(
            "{shown} is a symbolic link: mrhost writes SQLite output only to a regular file"
        ));
    }
    if !meta.is_file() {
        return Err(format!("{shown} is not a regular file"));
    }
    if meta.len() == 0 {
        return Ok(());
    }
    let conn = Connection::open_with_flags(dest, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| format!("{shown}: {e}"))?;
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    })
    .map_err(|e| format!("{shown} is not an SQLite database ({e})"))?;
    for t in tables {
        if has_table(&conn, t)? && !owns_table(&conn, t)? {
            return Err(format!(
                "{shown} already has a table {t} that mrhost did not write: it is left alone (choose another file, or drop the table yourself)"
            ));
        }
    }
    Ok(())
}

/// Columns for a table of `items`: `region`, `account` (when `scoped`), then each field
/// that can be a column — not `_json`, no NUL, not a case-insensitive repeat of an earlier
/// one, at most [`MAX_FIELD_COLUMNS`] — with its declared type; every field is in `_json`.
fn columns_of(items: &[Value], scoped: bool) -> Vec<(String, &'static str)> {
    let mut cols: Vec<(String, &'static str)> = Vec::new();
    if scoped {
        cols.push(("region".into(), "TEXT"));
        cols.push(("account".into(), "TEXT"));
    }
    let fixed = cols.len();
    let mut seen: std::collections::HashSet<String> =
        cols.iter().map(|(c, _)| c.to_ascii_lowercase()).collect();
    seen.insert("_json".into());
    for item in items {
        for k in item.as_object().into_iter().flatten().map(|(k, _)| k) {
            if cols.len() - fixed >= MAX_FIELD_COLUMNS {
                break;
            }
            if k.contains('\0') || k.is_empty() || !seen.insert(k.to_lowercase()) {
                continue;
            }
            cols.push((k.clone(), ""));
        }
    }
    for (name, decl) in cols.iter_mut().skip(fixed) {
        let mut kinds = items
            .iter()
            .filter_map(|it| it.get(name.as_str()))
            .filter(|v| !v.is_null());
        let first = kinds.next();
        *decl = match first {
            Some(Value::Bool(_)) if kinds.all(Value::is_boolean) => DECL_BOOL,
            Some(Value::Object(_) | Value::Array(_))
                if kinds.all(|v| v.is_object() || v.is_array()) =>
            {
                DECL_JSON
            }
            _ => "",
        };
    }
    cols.push(("_json".into(), DECL_JSON));
    cols
}

impl Db {
    /// An in-memory database.
    pub fn memory() -> Result<Db, String> {
        Ok(Db {
            conn: Connection::open_in_memory().map_err(|e| e.to_string())?,
            file: None,
        })
    }

    /// A database that replaces `dest` when [`Db::finish`]ed: checked (see
    /// [`check_output`]) for `tables`, and written in a copy beside it until then.
    pub fn output(dest: &Path, tables: &[String]) -> Result<Db, String> {
        check_output(dest, tables)?;
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "output".into());
        let tmp = dest.with_file_name(format!(".{name}.mrhost-{}.tmp", std::process::id()));
        let _ = std::fs::remove_file(&tmp);
        let file = OutFile {
            tmp: tmp.clone(),
            dest: dest.to_path_buf(),
            done: false,
        };
        if std::fs::symlink_metadata(dest).is_ok_and(|m| m.is_file() && m.len() > 0) {
            std::fs::copy(dest, &tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
        }
        let conn = Connection::open(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
        conn.execute_batch(&format!(
            "CREATE TABLE IF NOT EXISTS {OWNED} (name TEXT PRIMARY KEY COLLATE NOCASE)"
        ))
        .map_err(|e| format!("{}: {e}", dest.display()))?;
        Ok(Db {
            conn,
            file: Some(file),
        })
    }

    /// The file written: the copy renamed over the destination. Nothing to do in memory.
    pub fn finish(self) -> Result<(), String> {
        let Db { conn, file } = self;
        conn.close().map_err(|(_, e)| e.to_string())?;
        if let Some(mut f) = file {
            std::fs::rename(&f.tmp, &f.dest).map_err(|e| format!("{}: {e}", f.dest.display()))?;
            f.done = true;
        }
        Ok(())
    }

    /// Create `table` from the items' fields and insert them, with `region` and `account`
    /// from each item's RequestRegion/RequestAccount; returns the row count.
    pub fn load(&mut self, table: &str, items: &[Value]) -> Result<usize, String> {
        self.load_table(table, items, true)
    }

    /// [`Db::load`] without `region` and `account` (a query's result).
    pub fn load_result(&mut self, table: &str, items: &[Value]) -> Result<usize, String> {
        self.load_table(table, items, false)
    }

    fn load_table(&mut self, table: &str, items: &[Value], scoped: bool) -> Result<usize, String> {
        let cols = columns_of(items, scoped);
        let tracked = self.file.is_some();
        let tx = self.conn.transaction().map_err(|e| e.to_string())?;
        let t = quote(table);
        if has_table(&tx, table)? {
            if tracked && !owns_table(&tx, table)? {
                return Err(format!(
                    "table {table} exists and mrhost did not write it: left alone"
                ));
            }
            tx.execute_batch(&format!("DROP TABLE {t}"))
                .map_err(|e| format!("replacing table {table}: {e}"))?;
        }
        let defs: Vec<String> = cols
            .iter()
            .map(|(c, decl)| format!("{} {decl}", quote(c)).trim_end().to_string())
            .collect();
        tx.execute_batch(&format!("CREATE TABLE {t} ({});", defs.join(", ")))
            .map_err(|e| format!("creating table {table}: {e}"))?;
        if tracked {
            tx.execute(
                &format!("INSERT OR IGNORE INTO {OWNED} (name) VALUES (?1)"),
                [table],
            )
            .map_err(|e| e.to_string())?;
        }
        {
            let placeholders = vec!["?"; cols.len()].join(", ");
            let mut stmt = tx
                .prepare(&format!("INSERT INTO {t} VALUES ({placeholders})"))
                .map_err(|e| e.to_string())?;
            for item in items {
                let obj = item.as_object();
                let field = |k: &str| obj.and_then(|o| o.get(k)).map(to_sql).unwrap_or(Sql::Null);
                let row: Vec<Sql> = cols
                    .iter()
                    .enumerate()
                    .map(|(i, (c, _))| match (scoped && i < 2, c.as_str()) {
                        (true, "region") => field("RequestRegion"),
                        (true, "account") => field("RequestAccount"),
                        (_, "_json") if i + 1 == cols.len() => Sql::Text(item.to_string()),
                        (_, k) => field(k),
                    })
                    .collect();
                stmt.execute(rusqlite::params_from_iter(row))
                    .map_err(|e| format!("writing table {table}: {e}"))?;
            }
        }
        tx.commit().map_err(|e| e.to_string())?;
        Ok(items.len())
    }

    /// Run SQL; each row becomes an object keyed by the result's column names.
    pub fn query(&self, sql: &str) -> Result<Vec<Value>, String> {
        rows_of(&self.conn, sql)
    }
}

/// Result column names made unique as SQLite names a view's columns: the second
/// `CidrBlock` is `CidrBlock:1`, the third `CidrBlock:2`.
fn unique_names(names: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(names.len());
    for n in names {
        let mut candidate = n.clone();
        let mut i = 0;
        while out.iter().any(|o| o.eq_ignore_ascii_case(&candidate)) {
            i += 1;
            candidate = format!("{n}:{i}");
        }
        out.push(candidate);
    }
    out
}

/// Run SQL on a connection; each row becomes an object keyed by the result's column names
/// (repeated names get a `:N` suffix). A column declared BOOLEAN or JSON gives booleans
/// and JSON values back, as the resources had them.
pub fn rows_of(conn: &Connection, sql: &str) -> Result<Vec<Value>, String> {
    let mut stmt = conn.prepare(sql).map_err(|e| format!("SQL: {e}"))?;
    let names = unique_names(stmt.column_names().iter().map(|s| s.to_string()).collect());
    let decls: Vec<Option<String>> = stmt
        .columns()
        .iter()
        .map(|c| c.decl_type().map(str::to_ascii_uppercase))
        .collect();
    let mut rows = stmt.query([]).map_err(|e| format!("SQL: {e}"))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(|e| format!("SQL: {e}"))? {
        let mut m = Map::new();
        for (i, n) in names.iter().enumerate() {
            let decl = decls.get(i).and_then(Option::as_deref);
            let v = match row.get_ref(i).map_err(|e| e.to_string())? {
                ValueRef::Null => Value::Null,
                ValueRef::Integer(i) if decl == Some(DECL_BOOL) && (i == 0 || i == 1) => {
                    Value::Bool(i == 1)
                }
                ValueRef::Integer(i) => Value::from(i),
                ValueRef::Real(f) => serde_json::Number::from_f64(f)
                    .map(Value::Number)
                    .unwrap_or(Value::Null),
                ValueRef::Text(t) if decl == Some(DECL_JSON) => serde_json::from_slice(t)
                    .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(t).into_owned())),
                ValueRef::Text(t) => Value::String(String::from_utf8_lossy(t).into_owned()),
                ValueRef::Blob(b) => {
                    Value::String(base64::engine::general_purpose::STANDARD.encode(b))
                }
            };
            m.insert(n.clone(), v);
        }
        out.push(Value::Object(m));
    }
    Ok(out)
}

/// The names among `candidates` that `sql` mentions as identifiers (table references).
pub fn referenced<'a>(sql: &str, candidates: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let words: Vec<String> = sql
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .map(|w| w.to_ascii_lowercase())
        .collect();
    candidates
        .filter(|c| words.iter().any(|w| w == c))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn loads_fields_as_columns_and_queries() {
        let mut db = Db::memory().unwrap();
        let items = vec![
            json!({"VpcId": "v1", "IsDefault": true, "Tags": [{"Key": "a"}], "RequestRegion": "r1", "RequestAccount": "1"}),
            json!({"VpcId": "v2", "IsDefault": false, "RequestRegion": "r2", "RequestAccount": "1", "Extra": 2.5}),
        ];
        assert_eq!(db.load("vpcs", &items).unwrap(), 2);
        let rows = db
            .query("SELECT region, VpcId, IsDefault, json_extract(Tags, '$[0].Key') AS k, Extra FROM vpcs ORDER BY VpcId")
            .unwrap();
        assert_eq!(
            rows[0],
            json!({"region": "r1", "VpcId": "v1", "IsDefault": true, "k": "a", "Extra": null})
        );
        assert_eq!(rows[1]["Extra"], json!(2.5));
        assert!(db
            .query("SELECT nope FROM vpcs")
            .unwrap_err()
            .starts_with("SQL:"));
        assert_eq!(
            referenced(
                "select * from Vpcs join subnets s",
                ["vpcs", "subnets", "images"].into_iter()
            ),
            vec!["vpcs", "subnets"]
        );
        assert_eq!(table_name("security-groups"), "security_groups");
    }

    #[test]
    fn duplicate_names_get_sqlites_suffix_and_awkward_keys_survive() {
        assert_eq!(
            unique_names(vec!["a".into(), "b".into(), "A".into(), "a".into()]),
            vec!["a", "b", "A:1", "a:2"]
        );
        let mut db = Db::memory().unwrap();
        let mut item = serde_json::Map::new();
        item.insert("a\0b".into(), json!(1));
        item.insert("Name".into(), json!("n"));
        item.insert("name".into(), json!("m"));
        for i in 0..2100 {
            item.insert(format!("k{i}"), json!(i));
        }
        let item = Value::Object(item);
        assert_eq!(db.load("t", std::slice::from_ref(&item)).unwrap(), 1);
        let rows = db.query("SELECT Name, k0, _json FROM t").unwrap();
        assert_eq!(rows[0]["Name"], "n");
        assert_eq!(
            rows[0]["_json"], item,
            "every key in _json, typed back as JSON"
        );
    }

    #[test]
    fn output_files_are_checked_and_replaced_whole() {
        let dir = std::env::temp_dir().join(format!("mrhost-sql-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let dest = dir.join("o.db");
        let mut db = Db::output(&dest, &["t".into()]).unwrap();
        db.load("t", &[json!({"a": 1})]).unwrap();
        drop(db);
        assert!(!dest.exists(), "nothing replaced before finish");
        let mut db = Db::output(&dest, &["t".into()]).unwrap();
        db.load("t", &[json!({"a": 1})]).unwrap();
        db.finish().unwrap();
        let mut db = Db::output(&dest, &["t".into()]).unwrap();
        db.load("t", &[json!({"a": 2}), json!({"a": 3})]).unwrap();
        db.finish().unwrap();
        let conn = Connection::open(&dest).unwrap();
        assert_eq!(
            rows_of(&conn, "SELECT count(*) AS n FROM t").unwrap()[0]["n"],
            2
        );
        conn.execute_batch("CREATE TABLE u (x)").unwrap();
        drop(conn);
        assert!(check_output(&dest, &["u".into()])
            .unwrap_err()
            .contains("did not write"));
        assert!(check_output(&dest, &["t".into()]).is_ok());
        assert_eq!(
            std::fs::read_dir(&dir).unwrap().count(),
            1,
            "no temporary file left"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
