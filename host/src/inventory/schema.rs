//! The logical schema every destination holds: one table per resource type, typed columns
//! (from the model's output shape when the type has one, otherwise inferred from the
//! values), and the columns mrhost adds (`_id`, `_account`, `_region`, `_sync_id`,
//! `_fetched_at`, `_hash`, `_valid_from`, `_valid_to`, `_tags`, `_json`).
//!
//! [`declared_columns`] is the one place a type's columns come from, so the plugin
//! contract's declared schemas can take over there.

use std::collections::{BTreeSet, HashMap};

use aws_engine::catalogue::{last_segment, ModelType};
use aws_engine::model::{ServiceModel, ShapeType};
use aws_engine::Models;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// The type of a column, the same logical set in every destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Bool,
    Int,
    Float,
    Timestamp,
    Text,
    Json,
}

impl Kind {
    #[cfg(test)]
    pub const ALL: [Kind; 6] = [
        Kind::Bool,
        Kind::Int,
        Kind::Float,
        Kind::Timestamp,
        Kind::Text,
        Kind::Json,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Bool => "bool",
            Kind::Int => "int",
            Kind::Float => "float",
            Kind::Timestamp => "timestamp",
            Kind::Text => "text",
            Kind::Json => "json",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Some(match s {
            "bool" => Kind::Bool,
            "int" => Kind::Int,
            "float" => Kind::Float,
            "timestamp" => Kind::Timestamp,
            "text" => Kind::Text,
            "json" => Kind::Json,
            _ => return None,
        })
    }
}

/// One column of a type's table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    pub kind: Kind,
    pub description: String,
}

impl Column {
    pub fn new(name: &str, kind: Kind, description: &str) -> Column {
        Column {
            name: name.to_string(),
            kind,
            description: description.to_string(),
        }
    }
}

/// The columns mrhost adds in front of a type's own (`_tags` only where the type has
/// tags) and `_json` after them.
pub fn meta_columns(tags: bool) -> Vec<Column> {
    let mut cols = vec![
        Column::new(
            "_id",
            Kind::Text,
            "the resource's id (id field, or a hash of its content)",
        ),
        Column::new(
            "_account",
            Kind::Text,
            "account the resource was fetched in",
        ),
        Column::new("_region", Kind::Text, "region the resource was fetched in"),
        Column::new("_sync_id", Kind::Int, "the sync that wrote this version"),
        Column::new(
            "_fetched_at",
            Kind::Timestamp,
            "when this version was fetched",
        ),
        Column::new("_hash", Kind::Text, "content hash of this version"),
        Column::new(
            "_valid_from",
            Kind::Int,
            "first sync this version was seen in",
        ),
        Column::new(
            "_valid_to",
            Kind::Int,
            "sync that no longer saw this version (NULL: current)",
        ),
    ];
    if tags {
        cols.push(Column::new("_tags", Kind::Json, "tags as a map"));
    }
    cols
}

/// Names a type's own column may not take (compared case-insensitively: SQLite's names are).
pub fn is_reserved(name: &str) -> bool {
    name.starts_with('_')
        || name.eq_ignore_ascii_case("RequestRegion")
        || name.eq_ignore_ascii_case("RequestAccount")
}

/// What the inventory knows about one resource type.
#[derive(Debug, Clone)]
pub struct TypeSpec {
    /// The table name (`vpcs`, `ec2_route_tables`).
    pub table: String,
    /// The field holding each item's id, when known.
    pub id_field: Option<String>,
    /// Columns declared by the model shape (or, later, the plugin's schema).
    pub declared: Vec<Column>,
    /// Whether items carry tags (`_tags`), known from the shape; values can add it.
    pub tags: bool,
    /// Runs once per account.
    pub global: bool,
}

/// The kind of a model shape.
fn kind_of_shape(model: &ServiceModel, shape: &str) -> Kind {
    match model.shape(shape).map(|s| s.kind) {
        Ok(ShapeType::Boolean) => Kind::Bool,
        Ok(ShapeType::Integer | ShapeType::Long) => Kind::Int,
        Ok(ShapeType::Float | ShapeType::Double) => Kind::Float,
        Ok(ShapeType::Timestamp) => Kind::Timestamp,
        Ok(ShapeType::String | ShapeType::Blob) => Kind::Text,
        _ => Kind::Json,
    }
}

/// The shape of one item of an operation's result key: the list member's shape, found by
/// walking the output shape along the key's path (`DistributionList.Items`).
fn item_shape(model: &ServiceModel, operation: &str, result_key: &str) -> Option<String> {
    let op = model.operation(operation)?;
    let mut shape = op.output.as_ref()?.shape.clone();
    for seg in result_key.split('.') {
        // `Reservations[].Instances`: through the container list to its items.
        let (seg, through) = match seg.strip_suffix("[]") {
            Some(s) => (s, true),
            None => (seg, false),
        };
        let s = model.shape(&shape).ok()?;
        shape = s.members.get(seg)?.shape.clone();
        if through {
            let list = model.shape(&shape).ok()?;
            shape = list.member.as_ref()?.shape.clone();
        }
    }
    let list = model.shape(&shape).ok()?;
    if list.kind != ShapeType::List {
        return None;
    }
    Some(list.member.as_ref()?.shape.clone())
}

/// The columns of an operation's items, in the model's member order, and the name of the
/// item shape. Names-only listings become the one column the item is wrapped in.
pub fn declared_columns(
    models: &Models,
    service: &str,
    operation: &str,
    result_key: &str,
) -> Option<(String, Vec<Column>)> {
    let model = models.service(service).ok()?;
    let item = item_shape(&model, operation, result_key)?;
    let shape = model.shape(&item).ok()?;
    if shape.kind != ShapeType::Structure {
        let name = last_segment(result_key);
        return Some((
            item.clone(),
            vec![Column::new(name, kind_of_shape(&model, &item), "")],
        ));
    }
    let cols = shape
        .members
        .iter()
        .filter(|(name, _)| !is_reserved(name))
        .map(|(name, r)| Column::new(name, kind_of_shape(&model, &r.shape), ""))
        .collect();
    Some((item, cols))
}

/// The member that identifies an item of this shape: `<Shape>Id`, `<Shape>Arn`,
/// `<Shape>Name`, `Arn`, `Id`, then a lone `...Arn` or `...Id`. `None`: a content hash.
pub fn identifier(shape: &str, columns: &[Column]) -> Option<String> {
    let has = |n: &str| columns.iter().any(|c| c.name == n && c.kind == Kind::Text);
    let base = shape.trim_end_matches("Summary").trim_end_matches("Item");
    for cand in [
        format!("{base}Id"),
        format!("{base}Arn"),
        format!("{base}ARN"),
        format!("{base}Name"),
        "Arn".to_string(),
        "ARN".to_string(),
        "Id".to_string(),
    ] {
        if has(&cand) {
            return Some(cand);
        }
    }
    for suffix in ["Arn", "ARN", "Id"] {
        let found: Vec<&Column> = columns
            .iter()
            .filter(|c| c.kind == Kind::Text && c.name.ends_with(suffix))
            .collect();
        if let [one] = found.as_slice() {
            return Some(one.name.clone());
        }
    }
    None
}

/// A model-derived type's spec.
pub fn model_spec(models: &Models, t: &ModelType) -> TypeSpec {
    let table = crate::sql::model_table(t);
    let (declared, id_field) =
        match declared_columns(models, &t.service, &t.operation, &t.result_key) {
            Some((shape, cols)) => {
                let id = identifier(&shape, &cols);
                (cols, id)
            }
            None => (Vec::new(), None),
        };
    TypeSpec {
        table,
        tags: declared.iter().any(|c| is_tag_field(&c.name)),
        id_field,
        declared,
        global: t.global,
    }
}

/// A plugin's spec: its id field, and the model shape of its items when one of its
/// operations lists items that carry that id field (vpcs: ec2 DescribeVpcs → `Vpc`);
/// otherwise the columns come from the values.
pub fn plugin_spec(models: &Models, manifest: &plugin_host::Manifest) -> TypeSpec {
    let table = crate::sql::table_name(&manifest.name);
    let mut declared = Vec::new();
    if let Some(id) = &manifest.id_field {
        for op in &manifest.operations {
            let Some((service, operation)) = op.split_once(':') else {
                continue;
            };
            let Ok(model) = models.service(service) else {
                continue;
            };
            let Some(pag) = model.paginators.get(operation) else {
                continue;
            };
            let [key] = pag.result_key.as_slice() else {
                continue;
            };
            if let Some((_, cols)) = declared_columns(models, service, operation, key) {
                if cols.iter().any(|c| &c.name == id) {
                    declared = cols;
                    break;
                }
            }
        }
    }
    TypeSpec {
        table,
        tags: declared.iter().any(|c| is_tag_field(&c.name)),
        id_field: manifest.id_field.clone(),
        declared,
        global: manifest.scope_kind == plugin_host::ScopeKind::Global,
    }
}

/// The field names tags come in.
const TAG_FIELDS: &[&str] = &["Tags", "TagList", "TagSet", "tags"];

fn is_tag_field(name: &str) -> bool {
    TAG_FIELDS.contains(&name)
}

/// Fields that change on every call without the resource changing (RDS recomputes the
/// latest restorable time continuously): left out of the content hash, so they alone never
/// make a new version.
const VOLATILE: &[&str] = &["LatestRestorableTime"];

/// One resource made ready for a destination: its id, content hash, tags, the item as
/// compact JSON (what `_json` holds and the hash is taken over), and the references it
/// makes (found where the item is still parsed, so the writer need not parse it again).
/// A destination parses the JSON only for the rows it writes, and only its top level:
/// an unchanged resource is never parsed again.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    pub id: String,
    pub hash: String,
    pub tags: Option<Map<String, Value>>,
    pub json: String,
    pub refs: Vec<Reference>,
}

impl Prepared {
    /// The item's fields.
    pub fn item(&self) -> Result<Map<String, Value>, serde_json::Error> {
        serde_json::from_str(&self.json)
    }
}

/// A short content hash (128 bits of SHA-256, hex).
pub fn content_hash(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let d = Sha256::digest(bytes);
    let mut out = String::with_capacity(32);
    for b in d.iter().take(16) {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    out
}

/// Tags as a map, from an AWS tag list (`[{Key, Value}]`, `[{key, value}]`) or a map.
pub fn tags_of(item: &Map<String, Value>) -> Option<Map<String, Value>> {
    for f in TAG_FIELDS {
        match item.get(*f) {
            Some(Value::Array(list)) => {
                let mut m = Map::new();
                for t in list {
                    let k = t.get("Key").or_else(|| t.get("key"));
                    let v = t.get("Value").or_else(|| t.get("value"));
                    if let Some(Value::String(k)) = k {
                        m.insert(k.clone(), v.cloned().unwrap_or(Value::Null));
                    }
                }
                return Some(m);
            }
            Some(Value::Object(o)) => return Some(o.clone()),
            _ => {}
        }
    }
    None
}

/// Strip the scope tags, pick the id, hash the content, map the tags. Returns the item's
/// fields too, for column discovery.
pub fn prepare(
    value: Value,
    id_field: Option<&str>,
) -> Result<(Prepared, Map<String, Value>), &'static str> {
    let Value::Object(mut item) = value else {
        return Err("is not a JSON object");
    };
    item.shift_remove("RequestRegion");
    item.shift_remove("RequestAccount");
    let json = serde_json::to_string(&item).unwrap_or_default();
    let hash = if VOLATILE.iter().any(|f| item.contains_key(*f)) {
        let mut stable = item.clone();
        for f in VOLATILE {
            stable.shift_remove(*f);
        }
        content_hash(&serde_json::to_vec(&stable).unwrap_or_default())
    } else {
        content_hash(json.as_bytes())
    };
    let id = id_field
        .and_then(|f| item.get(f))
        .and_then(|v| match v {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
        .unwrap_or_else(|| format!("hash:{hash}"));
    let tags = tags_of(&item);
    Ok((
        Prepared {
            id,
            hash,
            tags,
            json,
            refs: Vec::new(),
        },
        item,
    ))
}

/// Whether text is an ISO 8601 date-time as the engine writes them.
pub fn looks_like_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 19
        && b[4] == b'-'
        && b[7] == b'-'
        && (b[10] == b'T' || b[10] == b' ')
        && b[13] == b':'
        && b[16] == b':'
        && [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18]
            .iter()
            .all(|&i| b[i].is_ascii_digit())
        && aws_engine::timestamp::Timestamp::parse(s).is_some()
}

/// The kind a value suggests, for columns no model declares.
pub fn infer_kind(v: &Value) -> Option<Kind> {
    Some(match v {
        Value::Null => return None,
        Value::Bool(_) => Kind::Bool,
        Value::Number(n) if n.is_i64() => Kind::Int,
        Value::Number(_) => Kind::Float,
        Value::String(s) if looks_like_timestamp(s) => Kind::Timestamp,
        Value::String(_) => Kind::Text,
        Value::Array(_) | Value::Object(_) => Kind::Json,
    })
}

/// One column value, ready for any destination.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// Microseconds since the epoch, and the text as fetched.
    Timestamp(i64, String),
    Text(String),
    /// JSON text.
    Json(String),
}

/// A value as a column of this kind can hold it; `Null` when it cannot (the value stays in
/// `_json`).
pub fn cell(kind: Kind, v: Option<&Value>) -> Cell {
    let Some(v) = v else { return Cell::Null };
    match (kind, v) {
        (_, Value::Null) => Cell::Null,
        (Kind::Bool, Value::Bool(b)) => Cell::Bool(*b),
        (Kind::Int, Value::Number(n)) => n.as_i64().map(Cell::Int).unwrap_or(Cell::Null),
        (Kind::Float, Value::Number(n)) => n.as_f64().map(Cell::Float).unwrap_or(Cell::Null),
        (Kind::Timestamp, Value::String(s)) => match aws_engine::timestamp::Timestamp::parse(s) {
            Some(t) => {
                let micros = (t.0.unix_timestamp_nanos() / 1000) as i64;
                Cell::Timestamp(micros, s.clone())
            }
            None => Cell::Null,
        },
        (Kind::Timestamp, Value::Number(n)) => {
            match n
                .as_f64()
                .and_then(aws_engine::timestamp::Timestamp::from_epoch)
            {
                Some(t) => {
                    Cell::Timestamp((t.0.unix_timestamp_nanos() / 1000) as i64, t.to_isoformat())
                }
                None => Cell::Null,
            }
        }
        (Kind::Text, Value::String(s)) => Cell::Text(s.clone()),
        (Kind::Json, other) => Cell::Json(other.to_string()),
        _ => Cell::Null,
    }
}

/// [`cell`] of a top-level field still as JSON text: a JSON column takes the
/// text as it stands (it is serde_json's compact output already, what `to_string` of the
/// parsed value gives back); any other kind parses its one value.
pub fn cell_raw(kind: Kind, v: Option<&RawValue>) -> Cell {
    let Some(v) = v else { return Cell::Null };
    match kind {
        Kind::Json if v.get() == "null" => Cell::Null,
        Kind::Json => Cell::Json(v.get().to_string()),
        _ => match serde_json::from_str::<Value>(v.get()) {
            Ok(x) => cell(kind, Some(&x)),
            Err(_) => Cell::Null,
        },
    }
}

/// A table's own columns (without mrhost's), as they stand in a destination and grow
/// with the values met.
#[derive(Debug, Clone, Default)]
pub struct TableColumns {
    pub columns: Vec<Column>,
    pub tags: bool,
}

impl TableColumns {
    pub fn from_spec(spec: &TypeSpec) -> TableColumns {
        TableColumns {
            columns: spec.declared.clone(),
            tags: spec.tags,
        }
    }

    /// The columns of a table created now: the type's own, then those its first rows have.
    pub fn for_new_table(spec: &TypeSpec, found: &FoundColumns) -> TableColumns {
        let mut cols = TableColumns::from_spec(spec);
        cols.merge(found);
        cols.tags |= found.tags;
        cols
    }

    pub fn has(&self, name: &str) -> bool {
        self.columns
            .iter()
            .any(|c| c.name.eq_ignore_ascii_case(name))
    }

    /// Add what `found` has and these columns lack; returns the added ones.
    pub fn merge(&mut self, found: &FoundColumns) -> Vec<Column> {
        let mut added = Vec::new();
        for (name, kind) in &found.order {
            if !self.has(name) {
                let c = Column::new(name, *kind, "");
                self.columns.push(c.clone());
                added.push(c);
            }
        }
        added
    }
}

/// The top-level fields met in one unit's items, in the order first met, with the kind
/// of the first non-null value.
#[derive(Debug, Clone, Default)]
pub struct FoundColumns {
    pub order: Vec<(String, Kind)>,
    pub tags: bool,
    seen: BTreeSet<String>,
}

impl FoundColumns {
    pub fn observe(&mut self, p: &Prepared, item: &Map<String, Value>) {
        if p.tags.is_some() {
            self.tags = true;
        }
        for (k, v) in item {
            if is_reserved(k) || self.seen.contains(k) {
                continue;
            }
            if let Some(kind) = infer_kind(v) {
                self.seen.insert(k.clone());
                self.order.push((k.clone(), kind));
            }
        }
    }
}

/// Where references can point: the id field of each synced type, when only one type has
/// it and it is specific enough (`VpcId` → vpcs; `Arn` and `Name` are too generic).
#[derive(Debug, Clone, Default)]
pub struct RefIndex {
    /// (field, table): a handful, so a scan beats hashing every key of every item.
    by_field: Vec<(String, String)>,
}

/// One edge: this resource's field (a dotted path) names that type's resource.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Reference {
    pub field: String,
    pub to_type: String,
    pub to_id: String,
}

impl RefIndex {
    pub fn new(specs: &[TypeSpec]) -> RefIndex {
        let mut count: HashMap<&str, Vec<&str>> = HashMap::new();
        for s in specs {
            if let Some(f) = &s.id_field {
                count.entry(f).or_default().push(&s.table);
            }
        }
        let generic = ["Arn", "ARN", "Name", "Id", "KeyId"];
        let mut by_field: Vec<(String, String)> = count
            .into_iter()
            .filter(|(f, tables)| tables.len() == 1 && !generic.contains(f))
            .map(|(f, tables)| (f.to_string(), tables[0].to_string()))
            .collect();
        by_field.sort();
        RefIndex { by_field }
    }

    /// The type whose id field `key` is.
    fn target(&self, key: &str) -> Option<&str> {
        self.by_field
            .iter()
            .find(|(f, _)| f == key)
            .map(|(_, t)| t.as_str())
    }

    /// The references an item makes (its own id left out), each once.
    pub fn references(
        &self,
        table: &str,
        own_id: &str,
        item: &Map<String, Value>,
    ) -> Vec<Reference> {
        if self.by_field.is_empty() {
            return Vec::new();
        }
        // The keys on the way down, borrowed: the dotted path is made only for a match.
        struct Walk<'a, 'v> {
            idx: &'a RefIndex,
            table: &'a str,
            own_id: &'a str,
            path: Vec<&'v str>,
            out: BTreeSet<Reference>,
        }
        impl<'v> Walk<'_, 'v> {
            fn map(&mut self, m: &'v Map<String, Value>) {
                for (k, x) in m {
                    self.path.push(k);
                    if let (Some(to), Value::String(id)) = (self.idx.target(k), x) {
                        if !(id.is_empty() || (to == self.table && id == self.own_id)) {
                            self.out.insert(Reference {
                                field: self.path.join("."),
                                to_type: to.to_string(),
                                to_id: id.clone(),
                            });
                        }
                    }
                    self.value(x);
                    self.path.pop();
                }
            }
            fn value(&mut self, v: &'v Value) {
                match v {
                    Value::Object(m) => self.map(m),
                    Value::Array(a) => {
                        for x in a {
                            self.value(x);
                        }
                    }
                    _ => {}
                }
            }
        }
        let mut w = Walk {
            idx: self,
            table,
            own_id,
            path: Vec::new(),
            out: BTreeSet::new(),
        };
        w.map(item);
        w.out.into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn model_shapes_give_typed_columns_and_an_id() {
        let models = Models::new(vec![]).unwrap();
        let t = aws_engine::catalogue::find(&models, "ec2", "route-tables").unwrap();
        let spec = model_spec(&models, &t);
        assert_eq!(spec.table, "ec2_route_tables");
        assert_eq!(spec.id_field.as_deref(), Some("RouteTableId"));
        assert!(spec.tags);
        let kinds: HashMap<&str, Kind> = spec
            .declared
            .iter()
            .map(|c| (c.name.as_str(), c.kind))
            .collect();
        assert_eq!(kinds["RouteTableId"], Kind::Text);
        assert_eq!(kinds["Routes"], Kind::Json);
        let t = aws_engine::catalogue::find(&models, "ec2", "vpcs").unwrap();
        let spec = model_spec(&models, &t);
        let kinds: HashMap<&str, Kind> = spec
            .declared
            .iter()
            .map(|c| (c.name.as_str(), c.kind))
            .collect();
        assert_eq!(kinds["IsDefault"], Kind::Bool);
        let t = aws_engine::catalogue::find(&models, "iam", "users").unwrap();
        let spec = model_spec(&models, &t);
        let kinds: HashMap<&str, Kind> = spec
            .declared
            .iter()
            .map(|c| (c.name.as_str(), c.kind))
            .collect();
        assert_eq!(kinds["CreateDate"], Kind::Timestamp);
        assert_eq!(spec.id_field.as_deref(), Some("UserId"));
        // Names-only listings: one column.
        let t = aws_engine::catalogue::find(&models, "dynamodb", "tables").unwrap();
        let spec = model_spec(&models, &t);
        assert_eq!(spec.declared.len(), 1);
        assert_eq!(spec.declared[0].name, "TableNames");
    }

    #[test]
    fn prepare_strips_scope_tags_and_maps_tags() {
        let (a, item) = prepare(
            json!({"VpcId": "vpc-1", "Tags": [{"Key": "Name", "Value": "web"}], "RequestRegion": "r", "RequestAccount": "a"}),
            Some("VpcId"),
        )
        .unwrap();
        assert_eq!(a.id, "vpc-1");
        assert_eq!(a.tags.as_ref().unwrap()["Name"], "web");
        assert!(!item.contains_key("RequestRegion"));
        assert_eq!(a.item().unwrap(), item);
        let (b, _) = prepare(json!({"VpcId": "vpc-1", "Tags": [{"Key": "Name", "Value": "web"}], "RequestRegion": "x", "RequestAccount": "y"}), Some("VpcId")).unwrap();
        assert_eq!(a.hash, b.hash, "scope tags are not content");
        let (c, _) = prepare(json!({"X": 1}), Some("VpcId")).unwrap();
        assert!(c.id.starts_with("hash:"));
        // Volatile fields do not change the hash.
        let (d1, _) = prepare(
            json!({"Id": "db", "LatestRestorableTime": "2024-01-01T00:00:00+00:00"}),
            Some("Id"),
        )
        .unwrap();
        let (d2, _) = prepare(
            json!({"Id": "db", "LatestRestorableTime": "2024-01-01T00:05:00+00:00"}),
            Some("Id"),
        )
        .unwrap();
        assert_eq!(d1.hash, d2.hash);
    }

    #[test]
    fn cells_fit_their_kind_or_are_null() {
        assert_eq!(cell(Kind::Bool, Some(&json!(true))), Cell::Bool(true));
        assert_eq!(cell(Kind::Bool, Some(&json!("x"))), Cell::Null);
        assert_eq!(cell(Kind::Int, Some(&json!(5))), Cell::Int(5));
        assert_eq!(
            cell(Kind::Timestamp, Some(&json!("1970-01-01T00:00:01+00:00"))),
            Cell::Timestamp(1_000_000, "1970-01-01T00:00:01+00:00".into())
        );
        assert_eq!(
            cell(Kind::Json, Some(&json!({"a": 1}))),
            Cell::Json("{\"a\":1}".into())
        );
        assert_eq!(
            infer_kind(&json!("2024-05-01T10:00:00+00:00")),
            Some(Kind::Timestamp)
        );
        assert_eq!(infer_kind(&json!("2024")), Some(Kind::Text));
    }

    #[test]
    fn a_cell_from_the_raw_text_is_the_cell_from_the_parsed_value() {
        // What the writer stores from the top-level text must be what it stored from
        // the parsed item, for every kind and every sort of value.
        let (p, item) = prepare(
            json!({
                "Id": "x", "B": true, "I": -7, "F": 0.1, "Big": 18446744073709551615u64,
                "E": 1.0e300, "T": "2024-05-01T10:00:00+00:00", "S": "tab\there \"q\" \u{e9}\u{1}",
                "N": null, "O": {"z": [1, {"y": "\n"}], "a": 2.5}, "A": [], "Ep": 1714557600.5
            }),
            Some("Id"),
        )
        .unwrap();
        let fields: HashMap<String, &RawValue> = serde_json::from_str(&p.json).unwrap();
        for name in item.keys().chain(["Missing".to_string()].iter()) {
            for kind in Kind::ALL {
                assert_eq!(
                    cell_raw(kind, fields.get(name).copied()),
                    cell(kind, item.get(name)),
                    "{name} as {kind:?}"
                );
            }
        }
    }

    #[test]
    fn references_follow_unique_id_fields() {
        let specs = vec![
            TypeSpec {
                table: "vpcs".into(),
                id_field: Some("VpcId".into()),
                declared: vec![],
                tags: false,
                global: false,
            },
            TypeSpec {
                table: "subnets".into(),
                id_field: Some("SubnetId".into()),
                declared: vec![],
                tags: false,
                global: false,
            },
            TypeSpec {
                table: "security_groups".into(),
                id_field: Some("GroupId".into()),
                declared: vec![],
                tags: false,
                global: false,
            },
            TypeSpec {
                table: "iam_users".into(),
                id_field: Some("Arn".into()),
                declared: vec![],
                tags: false,
                global: false,
            },
        ];
        let idx = RefIndex::new(&specs);
        let item = json!({"InstanceId": "i-1", "VpcId": "vpc-1", "SubnetId": "subnet-1", "Arn": "x",
            "SecurityGroups": [{"GroupId": "sg-1"}, {"GroupId": "sg-2"}]});
        let refs = idx.references("instances", "i-1", item.as_object().unwrap());
        let got: Vec<(&str, &str, &str)> = refs
            .iter()
            .map(|r| (r.field.as_str(), r.to_type.as_str(), r.to_id.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("SecurityGroups.GroupId", "security_groups", "sg-1"),
                ("SecurityGroups.GroupId", "security_groups", "sg-2"),
                ("SubnetId", "subnets", "subnet-1"),
                ("VpcId", "vpcs", "vpc-1"),
            ]
        );
        // A type's own id is not a reference.
        let own = idx.references(
            "vpcs",
            "vpc-1",
            json!({"VpcId": "vpc-1"}).as_object().unwrap(),
        );
        assert!(own.is_empty());
    }
}
