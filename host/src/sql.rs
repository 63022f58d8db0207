//! Resources in SQLite: one table per resource type, top-level fields as columns (nested
//! values as JSON text, so `json_extract` reaches inside), `region` and `account` first and
//! the whole object in `_json`.

use std::path::Path;

use base64::Engine as _;
use rusqlite::types::{Value as Sql, ValueRef};
use rusqlite::Connection;
use serde_json::{Map, Value};

pub struct Db {
    conn: Connection,
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

impl Db {
    /// An in-memory database, or a file (replacing tables of the same name in it).
    pub fn open(path: Option<&Path>) -> Result<Db, String> {
        let conn = match path {
            Some(p) => Connection::open(p).map_err(|e| format!("{}: {e}", p.display()))?,
            None => Connection::open_in_memory().map_err(|e| e.to_string())?,
        };
        Ok(Db { conn })
    }

    /// Create `table` from the items' fields and insert them; returns the row count.
    pub fn load(&mut self, table: &str, items: &[Value]) -> Result<usize, String> {
        let mut cols: Vec<String> = vec!["region".into(), "account".into()];
        for item in items {
            for k in item.as_object().into_iter().flatten().map(|(k, _)| k) {
                if !cols.iter().any(|c| c.eq_ignore_ascii_case(k)) && k != "_json" {
                    cols.push(k.clone());
                }
            }
        }
        cols.push("_json".into());
        let tx = self.conn.transaction().map_err(|e| e.to_string())?;
        let t = quote(table);
        tx.execute_batch(&format!(
            "DROP TABLE IF EXISTS {t}; CREATE TABLE {t} ({});",
            cols.iter().map(|c| quote(c)).collect::<Vec<_>>().join(", ")
        ))
        .map_err(|e| format!("creating table {table}: {e}"))?;
        {
            let placeholders = vec!["?"; cols.len()].join(", ");
            let mut stmt = tx
                .prepare(&format!("INSERT INTO {t} VALUES ({placeholders})"))
                .map_err(|e| e.to_string())?;
            for item in items {
                let obj = item.as_object();
                let row: Vec<Sql> = cols
                    .iter()
                    .map(|c| match c.as_str() {
                        "region" => obj
                            .and_then(|o| o.get("RequestRegion"))
                            .map(to_sql)
                            .unwrap_or(Sql::Null),
                        "account" => obj
                            .and_then(|o| o.get("RequestAccount"))
                            .map(to_sql)
                            .unwrap_or(Sql::Null),
                        "_json" => Sql::Text(item.to_string()),
                        k => obj.and_then(|o| o.get(k)).map(to_sql).unwrap_or(Sql::Null),
                    })
                    .collect();
                stmt.execute(rusqlite::params_from_iter(row))
                    .map_err(|e| e.to_string())?;
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

/// Run SQL on a connection; each row becomes an object keyed by the result's column names.
pub fn rows_of(conn: &Connection, sql: &str) -> Result<Vec<Value>, String> {
    let mut stmt = conn.prepare(sql).map_err(|e| format!("SQL: {e}"))?;
    let names: Vec<String> = stmt.column_names().iter().map(|s| s.to_string()).collect();
    let mut rows = stmt.query([]).map_err(|e| format!("SQL: {e}"))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(|e| format!("SQL: {e}"))? {
        let mut m = Map::new();
        for (i, n) in names.iter().enumerate() {
            let v = match row.get_ref(i).map_err(|e| e.to_string())? {
                ValueRef::Null => Value::Null,
                ValueRef::Integer(i) => Value::from(i),
                ValueRef::Real(f) => serde_json::Number::from_f64(f)
                    .map(Value::Number)
                    .unwrap_or(Value::Null),
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
        let mut db = Db::open(None).unwrap();
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
            json!({"region": "r1", "VpcId": "v1", "IsDefault": 1, "k": "a", "Extra": null})
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
}
