//! Sinks and renderers: where resources go once a plugin emits them, and how a result is
//! shown (JSON as the AWS CLI prints it, NDJSON, text as the AWS CLI prints it, a table,
//! CSV, YAML, or an SQLite file), with an optional JMESPath `--query` as the AWS CLI
//! applies it (its legacy literals, its projections' key order).

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::str::FromStr;

use indexmap::{IndexMap, IndexSet};
use plugin_host::escape::escape_controls;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::pipeline::{Emitted, Tagged};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Format {
    /// One JSON document (a list, or an object with --group-by-region), like the AWS CLI.
    Json,
    /// One JSON object per line, written as resources arrive.
    Ndjson,
    /// An aligned table (columns from the plugin's manifest, --query's projection, or
    /// --columns), fitted to the terminal's width.
    Table,
    /// CSV with a header row, same columns as the table.
    Csv,
    /// Tab-separated lines exactly as the AWS CLI's `--output text` prints the document.
    Text,
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
            "text" => Format::Text,
            "yaml" => Format::Yaml,
            _ => match s.strip_prefix("sqlite:") {
                Some(path) if !path.is_empty() => Format::Sqlite(PathBuf::from(path)),
                _ => {
                    return Err(format!(
                    "unknown output '{s}': use json, ndjson, table, csv, text, yaml or sqlite:FILE"
                ))
                }
            },
        })
    }
}

/// The format when none is given: a table for a person at a terminal, JSON for a pipe.
pub fn default_format() -> Format {
    if stdout_is_terminal() {
        Format::Table
    } else {
        Format::Json
    }
}

pub fn stdout_is_terminal() -> bool {
    std::io::IsTerminal::is_terminal(&std::io::stdout())
}

/// The width a table must fit: `COLUMNS` when set, else the terminal's (none in a pipe).
pub fn terminal_width() -> Option<usize> {
    if let Some(n) = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|n| *n > 0)
    {
        return Some(n);
    }
    if !stdout_is_terminal() {
        return None;
    }
    rustix::termios::tcgetwinsize(std::io::stdout())
        .ok()
        .map(|w| usize::from(w.ws_col))
        .filter(|n| *n > 0)
}

/// Pretty JSON as the AWS CLI prints it (4-space indent, UTF-8 kept).
pub fn write_pretty<W: Write, T: Serialize + ?Sized>(w: &mut W, v: &T) -> std::io::Result<()> {
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut *w, fmt);
    v.serialize(&mut ser).map_err(std::io::Error::from)?;
    w.write_all(b"\n")
}

/// A compiled `--query`: the expression (its literals read as the AWS CLI reads them), the
/// key order of each multi-select hash as written, and the names of a final multi-select
/// list's elements (`[].[VpcId,CidrBlock]` → VpcId, CidrBlock) for table and CSV headers.
pub struct Query {
    expr: jmespath::Expression<'static>,
    hashes: Vec<Vec<String>>,
    list_names: Option<Vec<String>>,
}

/// The AWS CLI's legacy rule for JMESPath literals (jmespath.py's JEP-12 deprecation
/// path): a backtick literal that is not valid JSON is a string, its leading blanks
/// dropped — so ``[?Key==`Name`]`` compares with the string "Name". Raw strings ('...')
/// and quoted identifiers ("...") are copied as they are.
pub fn legacy_literals(expr: &str) -> String {
    let mut out = String::with_capacity(expr.len() + 8);
    let mut chars = expr.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' => {
                out.push(c);
                while let Some(d) = chars.next() {
                    out.push(d);
                    if d == '\\' {
                        if let Some(e) = chars.next() {
                            out.push(e);
                        }
                        continue;
                    }
                    if d == c {
                        break;
                    }
                }
            }
            '`' => {
                let mut lexeme = String::new();
                let mut closed = false;
                while let Some(d) = chars.next() {
                    if d == '\\' && chars.peek() == Some(&'`') {
                        chars.next();
                        lexeme.push('`');
                        continue;
                    }
                    if d == '`' {
                        closed = true;
                        break;
                    }
                    lexeme.push(d);
                }
                if !closed {
                    // Left for the parser to report.
                    out.push('`');
                    out.push_str(&lexeme);
                    continue;
                }
                let json = if serde_json::from_str::<Value>(&lexeme).is_ok() {
                    lexeme
                } else {
                    match serde_json::from_str::<Value>(&format!("\"{}\"", lexeme.trim_start())) {
                        Ok(v) => v.to_string(),
                        Err(_) => lexeme,
                    }
                };
                out.push('`');
                out.push_str(&json.replace('`', "\\`"));
                out.push('`');
            }
            c => out.push(c),
        }
    }
    out
}

/// Every multi-select hash's keys, in the order written.
fn hash_orders(ast: &jmespath::ast::Ast, out: &mut Vec<Vec<String>>) {
    use jmespath::ast::Ast;
    match ast {
        Ast::MultiHash { elements, .. } => {
            out.push(elements.iter().map(|kv| kv.key.clone()).collect());
            for kv in elements {
                hash_orders(&kv.value, out);
            }
        }
        Ast::Comparison { lhs, rhs, .. }
        | Ast::Projection { lhs, rhs, .. }
        | Ast::And { lhs, rhs, .. }
        | Ast::Or { lhs, rhs, .. }
        | Ast::Subexpr { lhs, rhs, .. } => {
            hash_orders(lhs, out);
            hash_orders(rhs, out);
        }
        Ast::Condition {
            predicate, then, ..
        } => {
            hash_orders(predicate, out);
            hash_orders(then, out);
        }
        Ast::Expref { ast, .. } => hash_orders(ast, out),
        Ast::Flatten { node, .. } | Ast::Not { node, .. } | Ast::ObjectValues { node, .. } => {
            hash_orders(node, out)
        }
        Ast::Function { args, .. } => args.iter().for_each(|a| hash_orders(a, out)),
        Ast::MultiList { elements, .. } => elements.iter().for_each(|a| hash_orders(a, out)),
        Ast::Identity { .. }
        | Ast::Field { .. }
        | Ast::Index { .. }
        | Ast::Literal { .. }
        | Ast::Slice { .. } => {}
    }
}

/// A dotted name for a field path (`State.Name`), when the node is one.
fn path_name(ast: &jmespath::ast::Ast) -> Option<String> {
    use jmespath::ast::Ast;
    match ast {
        Ast::Field { name, .. } => Some(name.clone()),
        Ast::Subexpr { lhs, rhs, .. } => Some(format!("{}.{}", path_name(lhs)?, path_name(rhs)?)),
        _ => None,
    }
}

/// The names of the elements of the multi-select list the expression ends in, if it does.
fn final_list_names(ast: &jmespath::ast::Ast) -> Option<Vec<String>> {
    use jmespath::ast::Ast;
    match ast {
        Ast::Projection { rhs, .. } | Ast::Subexpr { rhs, .. } => final_list_names(rhs),
        Ast::MultiList { elements, .. } => Some(
            elements
                .iter()
                .enumerate()
                .map(|(i, e)| path_name(e).unwrap_or_else(|| format!("Column{}", i + 1)))
                .collect(),
        ),
        _ => None,
    }
}

/// The key orders of the input: each object's own order by its set of keys (an object a
/// query passes through is put back as it was), and every key by first appearance,
/// shallower objects first (for objects a query built from parts).
#[derive(Default)]
struct KeyOrders {
    by_set: HashMap<Vec<String>, Vec<String>>,
    ranks: IndexSet<String>,
}

impl KeyOrders {
    fn of(v: &Value) -> KeyOrders {
        let mut k = KeyOrders::default();
        let mut level: Vec<&Value> = vec![v];
        while !level.is_empty() {
            let mut next = Vec::new();
            for x in level {
                match x {
                    Value::Object(m) => {
                        let order: Vec<String> = m.keys().cloned().collect();
                        for key in &order {
                            if !k.ranks.contains(key.as_str()) {
                                k.ranks.insert(key.clone());
                            }
                        }
                        let mut set = order.clone();
                        set.sort();
                        k.by_set.entry(set).or_insert(order);
                        next.extend(m.values());
                    }
                    Value::Array(a) => next.extend(a.iter()),
                    _ => {}
                }
            }
            level = next;
        }
        k
    }
}

impl Query {
    pub fn compile(expr: &str) -> Result<Query, String> {
        let compiled = jmespath::compile(&legacy_literals(expr)).map_err(|e| {
            format!(
                "invalid --query: {}",
                escape_controls(e.to_string().lines().next().unwrap_or_default())
            )
        })?;
        let mut hashes = Vec::new();
        hash_orders(compiled.as_ast(), &mut hashes);
        let list_names = final_list_names(compiled.as_ast());
        Ok(Query {
            expr: compiled,
            hashes,
            list_names,
        })
    }

    /// Header names for a result that is a list of lists, from the expression.
    pub fn list_names(&self) -> Option<&[String]> {
        self.list_names.as_deref()
    }

    /// The result, its objects' keys in the order written (multi-select hashes) or the
    /// order they had in the input (everything else): the JMESPath runtime sorts them.
    pub fn apply(&self, v: &Value) -> Result<Value, String> {
        let data = jmespath::Variable::from_serializable(v).map_err(|e| format!("--query: {e}"))?;
        let out = self
            .expr
            .search(data)
            .map_err(|e| format!("--query: {e}"))?;
        let out = serde_json::to_value(&*out).map_err(|e| format!("--query: {e}"))?;
        Ok(self.reorder(out, &KeyOrders::of(v)))
    }

    fn reorder(&self, v: Value, orders: &KeyOrders) -> Value {
        match v {
            Value::Array(a) => {
                Value::Array(a.into_iter().map(|x| self.reorder(x, orders)).collect())
            }
            Value::Object(m) => {
                let mut entries: Vec<(String, Value)> = m
                    .into_iter()
                    .map(|(k, x)| (k, self.reorder(x, orders)))
                    .collect();
                let written = self.hashes.iter().find(|keys| {
                    keys.len() == entries.len()
                        && entries.iter().all(|(k, _)| keys.iter().any(|w| w == k))
                });
                let mut set: Vec<String> = entries.iter().map(|(k, _)| k.clone()).collect();
                set.sort();
                match written.or_else(|| orders.by_set.get(&set)) {
                    Some(keys) => entries.sort_by_key(|(k, _)| keys.iter().position(|w| w == k)),
                    None => entries.sort_by_key(|(k, _)| {
                        orders.ranks.get_index_of(k.as_str()).unwrap_or(usize::MAX)
                    }),
                }
                Value::Object(entries.into_iter().collect::<Map<String, Value>>())
            }
            other => other,
        }
    }
}

/// How a document is shown, beyond its format.
#[derive(Debug, Clone, Default)]
pub struct View {
    /// Columns for table, CSV: dotted paths (`State.Name`); empty: every top-level key.
    pub columns: Vec<String>,
    /// The columns came from `--columns`: a name no item has is an error.
    pub explicit: bool,
    /// Headers for a list of lists (`--query "[].[VpcId,CidrBlock]"`).
    pub list_names: Option<Vec<String>>,
    /// Keep every cell whole instead of fitting the table to `width`.
    pub no_truncate: bool,
    /// The width a table must fit (a terminal's); none: as wide as it needs.
    pub width: Option<usize>,
    /// Escape control characters in CSV and text (stdout is a terminal). Tables always
    /// escape them.
    pub escape: bool,
    /// No note on stderr for an empty result.
    pub quiet: bool,
}

impl View {
    /// Columns given by the caller (a plugin's defaults: unknown ones stay blank).
    pub fn with_columns(columns: &[String]) -> View {
        View {
            columns: columns.to_vec(),
            ..View::default()
        }
    }

    /// What a command line asked for: `--columns` (explicit) or the source's defaults,
    /// none when `--query` reshapes the result; the terminal's width and escaping.
    pub fn for_output(
        columns: &[String],
        defaults: &[String],
        query: Option<&Query>,
        no_truncate: bool,
        quiet: bool,
    ) -> View {
        let explicit = !columns.is_empty();
        View {
            columns: if explicit {
                columns.to_vec()
            } else if query.is_some() {
                Vec::new()
            } else {
                defaults.to_vec()
            },
            explicit,
            list_names: query.and_then(|q| q.list_names().map(<[String]>::to_vec)),
            no_truncate,
            width: terminal_width(),
            escape: stdout_is_terminal(),
            quiet,
        }
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

/// Every top-level key of a list of objects, in order of first appearance.
fn all_keys(items: &[Value]) -> Vec<String> {
    let mut cols: IndexSet<String> = IndexSet::new();
    for item in items {
        for k in item.as_object().into_iter().flatten().map(|(k, _)| k) {
            if !cols.contains(k.as_str()) {
                cols.insert(k.clone());
            }
        }
    }
    cols.into_iter().collect()
}

/// `--columns` names no item has: an error naming the available ones.
fn check_columns(items: &[Value], wanted: &[String]) -> std::io::Result<()> {
    if items.is_empty() {
        return Ok(());
    }
    let available = all_keys(items);
    for c in wanted {
        if items.iter().any(|it| lookup(it, c).is_some()) {
            continue;
        }
        let hint = aws_engine::suggest::nearest(c, available.iter().map(String::as_str), 3)
            .map(|s| format!(" (did you mean {s}?)"))
            .unwrap_or_default();
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!(
                "--columns: no column '{}'{hint}; available: {}",
                escape_controls(c),
                escape_controls(&available.join(", "))
            ),
        ));
    }
    Ok(())
}

/// Rows of a document: a list of objects gives one row per object; a list of lists one
/// row per inner list (the AWS CLI's `[].[A,B]`); a list of scalars one `Value` column; an
/// object becomes key/value rows (each nested list flattened under its key when every
/// value is a list of objects, as `{region: [...]}` is).
fn tabulate(doc: &Value, view: &View) -> std::io::Result<(Vec<String>, Vec<Vec<String>>)> {
    Ok(match doc {
        Value::Array(items) if items.is_empty() => {
            let cols = if !view.columns.is_empty() {
                view.columns.clone()
            } else {
                view.list_names.clone().unwrap_or_default()
            };
            (cols, Vec::new())
        }
        Value::Array(items) if items.iter().all(Value::is_object) => {
            if view.explicit {
                check_columns(items, &view.columns)?;
            }
            let cols = if view.columns.is_empty() {
                all_keys(items)
            } else {
                view.columns.clone()
            };
            let rows = items
                .iter()
                .map(|it| cols.iter().map(|c| cell(lookup(it, c))).collect())
                .collect();
            (cols, rows)
        }
        Value::Array(items) if items.iter().all(Value::is_array) => {
            let width = items
                .iter()
                .filter_map(Value::as_array)
                .map(Vec::len)
                .max()
                .unwrap_or(0);
            let cols = match &view.list_names {
                Some(names) if names.len() == width => names.clone(),
                _ => (1..=width).map(|i| format!("Column{i}")).collect(),
            };
            let rows = items
                .iter()
                .filter_map(Value::as_array)
                .map(|row| (0..width).map(|i| cell(row.get(i))).collect())
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
                .filter_map(Value::as_array)
                .flat_map(|a| a.iter().cloned())
                .collect();
            return tabulate(&Value::Array(all), view);
        }
        Value::Object(m) => (
            vec!["Key".into(), "Value".into()],
            m.iter()
                .map(|(k, v)| vec![k.clone(), cell(Some(v))])
                .collect(),
        ),
        Value::Null => (Vec::new(), Vec::new()),
        scalar => (vec!["Value".into()], vec![vec![cell(Some(scalar))]]),
    })
}

fn empty_note(view: &View) {
    if !view.quiet {
        eprintln!("mrhost: no results");
    }
}

/// The AWS CLI's `str()` of a scalar: `True`, `False`, `None`, numbers and strings bare.
fn text_scalar(v: &Value) -> String {
    match v {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn is_scalar(v: &Value) -> bool {
    !matches!(v, Value::Object(_) | Value::Array(_))
}

/// awscli/text.py, rule for rule: a dict prints its scalars (sorted by key, or the keys
/// scalar in any sibling) tab-separated after its upper-cased identifier, then each
/// nested value under its key; a list of scalars prints on one line (or one
/// `IDENTIFIER\tvalue` line each).
fn text_value(
    out: &mut Vec<String>,
    v: &Value,
    ident: Option<&str>,
    scalar_keys: Option<&[String]>,
) {
    match v {
        Value::Object(m) => {
            let mut scalars: Vec<String> = Vec::new();
            let mut nested: Vec<(&str, &Value)> = Vec::new();
            match scalar_keys {
                None => {
                    let mut keys: Vec<&String> = m.keys().collect();
                    keys.sort();
                    for k in keys {
                        let x = &m[k.as_str()];
                        if is_scalar(x) {
                            scalars.push(text_scalar(x));
                        } else {
                            nested.push((k, x));
                        }
                    }
                }
                Some(sk) => {
                    for k in sk {
                        scalars.push(m.get(k).map_or_else(|| "None".into(), text_scalar));
                    }
                    let mut rest: Vec<&String> = m.keys().filter(|k| !sk.contains(*k)).collect();
                    rest.sort();
                    for k in rest {
                        nested.push((k, &m[k.as_str()]));
                    }
                }
            }
            if !scalars.is_empty() {
                if let Some(i) = ident {
                    scalars.insert(0, i.to_uppercase());
                }
                out.push(scalars.join("\t"));
            }
            for (k, x) in nested {
                text_value(out, x, Some(k), None);
            }
        }
        Value::Array(items) => {
            if items.is_empty() {
                return;
            }
            if items.iter().any(Value::is_object) {
                let mut keys: Vec<String> = items
                    .iter()
                    .filter_map(Value::as_object)
                    .flat_map(|m| {
                        m.iter()
                            .filter(|(_, x)| is_scalar(x))
                            .map(|(k, _)| k.clone())
                    })
                    .collect::<std::collections::BTreeSet<String>>()
                    .into_iter()
                    .collect();
                keys.dedup();
                for it in items {
                    text_value(out, it, ident, Some(&keys));
                }
            } else if items.iter().any(Value::is_array) {
                let scalars: Vec<&Value> = items.iter().filter(|x| is_scalar(x)).collect();
                if !scalars.is_empty() {
                    text_scalars(out, &scalars, ident);
                }
                for it in items.iter().filter(|x| !is_scalar(x)) {
                    text_value(out, it, ident, None);
                }
            } else {
                text_scalars(out, &items.iter().collect::<Vec<_>>(), ident);
            }
        }
        scalar => out.push(text_scalar(scalar)),
    }
}

fn text_scalars(out: &mut Vec<String>, items: &[&Value], ident: Option<&str>) {
    match ident {
        Some(i) => {
            for x in items {
                out.push(format!("{}\t{}", i.to_uppercase(), text_scalar(x)));
            }
        }
        None => out.push(
            items
                .iter()
                .map(|x| text_scalar(x))
                .collect::<Vec<_>>()
                .join("\t"),
        ),
    }
}

/// Render a whole document in `format` with the given columns (ndjson: one line per list
/// item).
pub fn render<W: Write>(
    out: &mut W,
    doc: &Value,
    format: &Format,
    columns: &[String],
) -> std::io::Result<()> {
    render_view(out, doc, format, &View::with_columns(columns))
}

/// Render a whole document in `format`, shown as `view` says.
pub fn render_view<W: Write>(
    out: &mut W,
    doc: &Value,
    format: &Format,
    view: &View,
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
        Format::Text => {
            let mut lines = Vec::new();
            text_value(&mut lines, doc, None, None);
            if lines.is_empty() {
                empty_note(view);
            }
            for l in lines {
                if view.escape {
                    // One line stays one line on a terminal; tabs separate fields.
                    let safe: Vec<String> = l
                        .split('\t')
                        .map(|f| escape_controls(f).into_owned())
                        .collect();
                    writeln!(out, "{}", safe.join("\t"))?;
                } else {
                    writeln!(out, "{l}")?;
                }
            }
            Ok(())
        }
        Format::Table => {
            let (cols, rows) = tabulate(doc, view)?;
            if rows.is_empty() {
                empty_note(view);
                return Ok(());
            }
            let mut t = comfy_table::Table::new();
            t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
            t.set_header(cols.iter().map(|c| escape_controls(c).into_owned()));
            let fit = match view.width {
                Some(w) if !view.no_truncate => {
                    t.set_content_arrangement(comfy_table::ContentArrangement::Dynamic);
                    t.set_width(u16::try_from(w).unwrap_or(u16::MAX));
                    t.set_truncation_indicator("…");
                    true
                }
                _ => false,
            };
            if let (true, Some(w)) = (fit, view.width) {
                // The first column (the id) is never elided while it takes at most half the
                // width.
                let first = rows
                    .iter()
                    .map(|r| r.first().map_or(0, |c| escape_controls(c).chars().count()))
                    .chain(cols.first().map(|c| c.chars().count()))
                    .max()
                    .unwrap_or(0);
                if first + 3 <= w / 2 {
                    if let Some(c) = t.column_mut(0) {
                        c.set_constraint(comfy_table::ColumnConstraint::ContentWidth);
                    }
                }
            }
            for r in rows {
                let mut row =
                    comfy_table::Row::from(r.iter().map(|c| escape_controls(c).into_owned()));
                if fit {
                    // Elided to one line, not wrapped: one resource, one line.
                    row.max_height(1);
                }
                t.add_row(row);
            }
            writeln!(out, "{t}")
        }
        Format::Csv => {
            let (cols, rows) = tabulate(doc, view)?;
            if cols.is_empty() {
                empty_note(view);
                return Ok(());
            }
            let fix = |s: &str| -> String {
                if view.escape {
                    escape_controls(s).into_owned()
                } else {
                    s.to_string()
                }
            };
            let mut w = csv::Writer::from_writer(&mut *out);
            w.write_record(cols.iter().map(|c| fix(c)))
                .map_err(std::io::Error::other)?;
            if rows.is_empty() {
                empty_note(view);
            }
            for r in rows {
                w.write_record(r.iter().map(|c| fix(c)))
                    .map_err(std::io::Error::other)?;
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

    #[test]
    fn literals_follow_the_aws_clis_legacy_rule() {
        assert_eq!(legacy_literals("[?Key==`Name`]"), "[?Key==`\"Name\"`]");
        // Valid JSON stays as it is; raw strings and quoted identifiers are not touched.
        assert_eq!(
            legacy_literals("[?a==`true`] | `[1]`"),
            "[?a==`true`] | `[1]`"
        );
        assert_eq!(legacy_literals("'`x`' && \"`y`\""), "'`x`' && \"`y`\"");
        // Leading blanks dropped, as jmespath.py does; an escaped backtick kept.
        assert_eq!(legacy_literals("` web-1`"), "`\"web-1\"`");
        assert_eq!(legacy_literals("`a\\`b`"), "`\"a\\`b\"`");
        let q = Query::compile("[].Tags[?Key==`Name`].Value").unwrap();
        let doc = json!([{"Tags": [{"Key": "Name", "Value": "web"}, {"Key": "x", "Value": "y"}]}]);
        assert_eq!(q.apply(&doc).unwrap(), json!([["web"]]));
        assert!(Query::compile("[?a==`unterminated").is_err());
    }

    #[test]
    fn projections_keep_the_written_order_and_name_list_columns() {
        let q = Query::compile("[].{z: a, b: c.d, m: m}").unwrap();
        let out = q.apply(&json!([{"a": 1, "c": {"d": 2}, "m": 3}])).unwrap();
        assert_eq!(out.to_string(), r#"[{"z":1,"b":2,"m":3}]"#);
        // Objects passed through keep the input's order.
        let q = Query::compile("[?x]").unwrap();
        let out = q.apply(&json!([{"x": true, "b": 1, "a": 2}])).unwrap();
        assert_eq!(out.to_string(), r#"[{"x":true,"b":1,"a":2}]"#);
        let q = Query::compile("[].[VpcId, State.Name, length(Tags)]").unwrap();
        assert_eq!(
            q.list_names().unwrap(),
            ["VpcId", "State.Name", "Column3"].map(String::from)
        );
    }

    #[test]
    fn text_is_printed_as_awscli_text_py_does() {
        let doc = json!([
            {"VpcId": "v1", "IsDefault": true, "Tags": [{"Key": "Name", "Value": "a"}], "N": null},
            {"VpcId": "v2", "IsDefault": false, "Extra": 2}
        ]);
        let mut out = Vec::new();
        render(&mut out, &doc, &Format::Text, &[]).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "None\tTrue\tNone\tv1\nTAGS\tName\ta\n2\tFalse\tNone\tv2\n"
        );
        let mut out = Vec::new();
        render(&mut out, &json!([["a", 1], ["b", 2.5]]), &Format::Text, &[]).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "a\t1\nb\t2.5\n");
    }

    #[test]
    fn lists_of_lists_are_rows_and_empty_csv_is_its_header() {
        let view = View {
            list_names: Some(vec!["VpcId".into(), "CidrBlock".into()]),
            quiet: true,
            ..View::default()
        };
        let mut out = Vec::new();
        render_view(&mut out, &json!([["v1", "10/8"]]), &Format::Csv, &view).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "VpcId,CidrBlock\nv1,10/8\n"
        );
        let mut out = Vec::new();
        render_view(&mut out, &json!([]), &Format::Csv, &view).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "VpcId,CidrBlock\n");
        let mut out = Vec::new();
        render_view(&mut out, &json!([]), &Format::Table, &view).unwrap();
        assert!(out.is_empty());
        let strict = View {
            columns: vec!["VpcID".into()],
            explicit: true,
            ..View::default()
        };
        let err = render_view(
            &mut Vec::new(),
            &json!([{"VpcId": "v"}]),
            &Format::Table,
            &strict,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("did you mean VpcId") && err.contains("available: VpcId"),
            "{err}"
        );
    }
}
