//! Sinks and renderers: where resources go once a plugin emits them, and how a result is
//! shown (JSON as the AWS CLI prints it, NDJSON, a table, CSV, or an SQLite file), with an
//! optional JMESPath `--query` as the AWS CLI applies it.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::str::FromStr;

use indexmap::IndexMap;
use serde::Serialize;
use serde_json::Value;

use crate::pipeline::{Emitted, Tagged};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Format {
    /// One JSON document (a list, or an object with --group-by-region), like the AWS CLI.
    Json,
    /// One JSON object per line, written as resources arrive.
    Ndjson,
    /// An aligned table (columns from the plugin's manifest, or --columns).
    Table,
    /// CSV with a header row, same columns as the table.
    Csv,
    /// One YAML document, the JSON document's content in the same order (as the AWS CLI's
    /// `--output yaml`).
    Yaml,
    /// An SQLite database file (one table per resource type), for later SQL.
    Sqlite(PathBuf),
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "json" => Format::Json,
            "ndjson" => Format::Ndjson,
            "table" => Format::Table,
            "csv" => Format::Csv,
            "yaml" => Format::Yaml,
            _ => match s.strip_prefix("sqlite:") {
                Some(path) if !path.is_empty() => Format::Sqlite(PathBuf::from(path)),
                _ => {
                    return Err(format!(
                        "unknown output '{s}': use json, ndjson, table, csv, yaml or sqlite:FILE"
                    ))
                }
            },
        })
    }
}

/// The format when none is given: a table for a person at a terminal, JSON for a pipe.
pub fn default_format() -> Format {
    if std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        Format::Table
    } else {
        Format::Json
    }
}

/// Pretty JSON as the AWS CLI prints it (4-space indent, UTF-8 kept).
pub fn write_pretty<W: Write, T: Serialize + ?Sized>(w: &mut W, v: &T) -> std::io::Result<()> {
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut *w, fmt);
    v.serialize(&mut ser).map_err(std::io::Error::from)?;
    w.write_all(b"\n")
}

/// A compiled `--query`.
pub struct Query(jmespath::Expression<'static>);

impl Query {
    pub fn compile(expr: &str) -> Result<Query, String> {
        jmespath::compile(expr).map(Query).map_err(|e| {
            format!(
                "invalid --query: {}",
                e.to_string().lines().next().unwrap_or_default()
            )
        })
    }

    pub fn apply(&self, v: &Value) -> Result<Value, String> {
        let data = jmespath::Variable::from_serializable(v).map_err(|e| format!("--query: {e}"))?;
        let out = self.0.search(data).map_err(|e| format!("--query: {e}"))?;
        serde_json::to_value(&*out).map_err(|e| format!("--query: {e}"))
    }
}

/// Value at a dotted path (`State.Name`), or the whole key when it has no dots.
fn lookup<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    v.get(path)
        .or_else(|| path.split('.').try_fold(v, |cur, part| cur.get(part)))
}

/// A cell: strings bare, null empty, anything nested as compact JSON.
fn cell(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// Columns for a list of objects: the given ones, else every top-level key in order of
/// first appearance.
fn columns_for(items: &[Value], wanted: &[String]) -> Vec<String> {
    if !wanted.is_empty() {
        return wanted.to_vec();
    }
    let mut cols: Vec<String> = Vec::new();
    for item in items {
        for k in item.as_object().into_iter().flatten().map(|(k, _)| k) {
            if !cols.contains(k) {
                cols.push(k.clone());
            }
        }
    }
    cols
}

/// Rows of a document: a list of objects gives one row per object; a list of scalars one
/// `Value` column; an object becomes key/value rows (each nested list flattened under its key
/// when every value is a list of objects, as `{region: [...]}` is).
fn tabulate(doc: &Value, wanted: &[String]) -> (Vec<String>, Vec<Vec<String>>) {
    match doc {
        Value::Array(items) if items.iter().all(Value::is_object) => {
            let cols = columns_for(items, wanted);
            let rows = items
                .iter()
                .map(|it| cols.iter().map(|c| cell(lookup(it, c))).collect())
                .collect();
            (cols, rows)
        }
        Value::Array(items) => (
            vec!["Value".into()],
            items.iter().map(|v| vec![cell(Some(v))]).collect(),
        ),
        Value::Object(m)
            if !m.is_empty()
                && m.values()
                    .all(|v| v.as_array().is_some_and(|a| a.iter().all(Value::is_object))) =>
        {
            let all: Vec<Value> = m
                .values()
                .flat_map(|v| v.as_array().unwrap().iter().cloned())
                .collect();
            tabulate(&Value::Array(all), wanted)
        }
        Value::Object(m) => (
            vec!["Key".into(), "Value".into()],
            m.iter()
                .map(|(k, v)| vec![k.clone(), cell(Some(v))])
                .collect(),
        ),
        scalar => (vec!["Value".into()], vec![vec![cell(Some(scalar))]]),
    }
}

/// Render a whole document in `format` (ndjson: one line per list item).
pub fn render<W: Write>(
    out: &mut W,
    doc: &Value,
    format: &Format,
    columns: &[String],
) -> std::io::Result<()> {
    match format {
        Format::Json | Format::Sqlite(_) => write_pretty(out, doc),
        Format::Yaml => serde_yaml_ng::to_writer(out, doc).map_err(std::io::Error::other),
        Format::Ndjson => {
            match doc {
                Value::Array(items) => {
                    for it in items {
                        serde_json::to_writer(&mut *out, it).map_err(std::io::Error::from)?;
                        out.write_all(b"\n")?;
                    }
                }
                other => {
                    serde_json::to_writer(&mut *out, other).map_err(std::io::Error::from)?;
                    out.write_all(b"\n")?;
                }
            }
            Ok(())
        }
        Format::Table => {
            let (cols, rows) = tabulate(doc, columns);
            let mut t = comfy_table::Table::new();
            t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
            t.set_header(cols);
            for r in rows {
                // Nested values stay on one line, cut short in a table.
                t.add_row(r.into_iter().map(|c| {
                    if c.chars().count() > 60 {
                        format!("{}…", c.chars().take(59).collect::<String>())
                    } else {
                        c
                    }
                }));
            }
            writeln!(out, "{t}")
        }
        Format::Csv => {
            let (cols, rows) = tabulate(doc, columns);
            let mut w = csv::Writer::from_writer(&mut *out);
            w.write_record(&cols).map_err(std::io::Error::other)?;
            for r in rows {
                w.write_record(&r).map_err(std::io::Error::other)?;
            }
            w.flush()
        }
    }
}

/// Collects a run's resources: streams NDJSON as they arrive (applying `--query` to each
/// line), holds them for every other format, ordered by the scopes the user asked for.
pub struct OutputWriter<W: Write> {
    out: W,
    stream: bool,
    query: Option<Query>,
    group_by_region: bool,
    /// (account, region) in the order the user asked for: documents follow it.
    order: Vec<(String, String)>,
    buffered: HashMap<(String, String), Vec<Value>>,
    pub count: u64,
}

impl<W: Write> OutputWriter<W> {
    pub fn new(
        out: W,
        format: &Format,
        group_by_region: bool,
        query: Option<Query>,
        order: Vec<(String, String)>,
    ) -> Self {
        OutputWriter {
            out,
            stream: *format == Format::Ndjson && !group_by_region,
            query,
            group_by_region,
            order,
            buffered: HashMap::new(),
            count: 0,
        }
    }

    pub fn push(&mut self, e: Emitted) -> std::io::Result<()> {
        self.count += 1;
        if self.stream {
            let v = match (&self.query, e.resource) {
                // Already the line serde_json would write: no parse, no rewrite.
                (None, Tagged::Json(text)) => {
                    self.out.write_all(text.as_bytes())?;
                    return self.out.write_all(b"\n");
                }
                (Some(q), r) => q.apply(&r.into_value()).map_err(std::io::Error::other)?,
                (None, r) => r.into_value(),
            };
            if v.is_null() {
                return Ok(());
            }
            serde_json::to_writer(&mut self.out, &v).map_err(std::io::Error::from)?;
            return self.out.write_all(b"\n");
        }
        self.buffered
            .entry((e.account, e.region))
            .or_default()
            .push(e.resource.into_value());
        Ok(())
    }

    pub fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }

    /// The writer back (tests read what was written).
    #[cfg(test)]
    pub fn into_inner(self) -> W {
        self.out
    }

    /// The held resources as one document — a list in scope order, or {region: [...]} —
    /// with `--query` applied. `None` when everything was streamed already.
    pub fn document(&mut self) -> Result<Option<Value>, String> {
        if self.stream {
            return Ok(None);
        }
        let mut ordered: Vec<((String, String), Vec<Value>)> = Vec::new();
        for key in &self.order {
            if let Some(v) = self.buffered.remove(key) {
                ordered.push((key.clone(), v));
            }
        }
        let mut rest: Vec<_> = self.buffered.drain().collect();
        rest.sort_by(|a, b| a.0.cmp(&b.0));
        ordered.extend(rest);
        let doc = if self.group_by_region {
            let mut by_region: IndexMap<String, Vec<Value>> = IndexMap::new();
            for (_, region) in &self.order {
                by_region.entry(region.clone()).or_default();
            }
            for ((_, region), items) in ordered {
                by_region.entry(region).or_default().extend(items);
            }
            serde_json::to_value(by_region).unwrap_or(Value::Null)
        } else {
            Value::Array(ordered.into_iter().flat_map(|(_, v)| v).collect())
        };
        match &self.query {
            Some(q) => q.apply(&doc).map(Some),
            None => Ok(Some(doc)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn em(region: &str, id: &str, default: bool) -> Emitted {
        Emitted {
            account: "1".into(),
            region: region.into(),
            resource: json!({"VpcId": id, "IsDefault": default, "State": {"Name": "ok"}, "RequestRegion": region}).into(),
        }
    }

    fn order() -> Vec<(String, String)> {
        vec![("1".into(), "b".into()), ("1".into(), "a".into())]
    }

    #[test]
    fn documents_follow_the_requested_region_order() {
        let mut s = OutputWriter::new(Vec::new(), &Format::Json, false, None, order());
        s.push(em("a", "v1", true)).unwrap();
        s.push(em("b", "v2", false)).unwrap();
        let doc = s.document().unwrap().unwrap();
        assert_eq!(doc[0]["VpcId"], "v2");
        assert_eq!(doc[1]["VpcId"], "v1");
    }

    #[test]
    fn grouped_by_region_lists_every_region() {
        let mut s = OutputWriter::new(Vec::new(), &Format::Json, true, None, order());
        s.push(em("a", "v1", true)).unwrap();
        let doc = s.document().unwrap().unwrap();
        assert_eq!(doc["b"], json!([]));
        assert_eq!(doc["a"][0]["VpcId"], "v1");
    }

    #[test]
    fn queries_like_the_aws_cli() {
        let mut s = OutputWriter::new(
            Vec::new(),
            &Format::Json,
            false,
            Some(Query::compile("[?IsDefault].VpcId").unwrap()),
            order(),
        );
        s.push(em("a", "v1", true)).unwrap();
        s.push(em("b", "v2", false)).unwrap();
        assert_eq!(s.document().unwrap().unwrap(), json!(["v1"]));
        assert!(Query::compile("[?").is_err());
    }

    #[test]
    fn ndjson_streams_and_queries_each_line() {
        let mut s = OutputWriter::new(
            Vec::new(),
            &Format::Ndjson,
            false,
            Some(Query::compile("VpcId").unwrap()),
            order(),
        );
        s.push(em("a", "v1", true)).unwrap();
        s.push(em("b", "v2", false)).unwrap();
        assert!(s.document().unwrap().is_none());
        assert_eq!(
            String::from_utf8(s.into_inner()).unwrap(),
            "\"v1\"\n\"v2\"\n"
        );
    }

    #[test]
    fn tables_and_csv_use_the_columns_and_render_nested_values_compactly() {
        let doc =
            json!([{"VpcId": "v1", "State": {"Name": "ok"}, "Tags": [{"Key": "a", "Value": "b"}]}]);
        let mut out = Vec::new();
        render(
            &mut out,
            &doc,
            &Format::Csv,
            &["VpcId".into(), "State.Name".into(), "Tags".into()],
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "VpcId,State.Name,Tags\nv1,ok,\"[{\"\"Key\"\":\"\"a\"\",\"\"Value\"\":\"\"b\"\"}]\"\n"
        );
        let mut out = Vec::new();
        render(&mut out, &doc, &Format::Table, &[]).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("VpcId") && text.contains("{\"Name\":\"ok\"}"),
            "{text}"
        );
        assert_eq!(
            "sqlite:/tmp/x.db".parse::<Format>().unwrap(),
            Format::Sqlite("/tmp/x.db".into())
        );
        assert_eq!("yaml".parse::<Format>().unwrap(), Format::Yaml);
        // Strings that would read as other types stay strings; member order is kept.
        let doc =
            json!([{"Z": "true", "A": "123", "M": "", "N": null, "L": [1, 2.5], "S": "a: b"}]);
        let mut out = Vec::new();
        render(&mut out, &doc, &Format::Yaml, &[]).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("- Z: 'true'\n  A: '123'\n"), "{text}");
        assert_eq!(serde_yaml_ng::from_str::<Value>(&text).unwrap(), doc);
        assert!("yml".parse::<Format>().is_err());
    }
}
