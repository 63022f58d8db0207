//! The host's view of a plugin manifest, whatever the contract version: checked against
//! the service models (every declared operation exists), its text free of control
//! characters, its schema (contract 0.2: the model shape, typed extra columns, references)
//! and parameters well-formed.

use aws_engine::schema::{self, Column, ColumnKind, RefBy, Reference, Schema, ShapeName};
use aws_engine::Models;
use serde::Serialize;

use crate::bindings::{v0_1, v0_2};
use crate::params::ParamSpec;

/// Where a plugin runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ScopeKind {
    /// Once per (account, region).
    Regional,
    /// Once per account.
    Global,
}

/// A contract version the host serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Contract {
    /// `mrhost:plugin@0.1.0`.
    V0_1,
    /// `mrhost:plugin@0.2.0`.
    V0_2,
}

impl Contract {
    /// Every version the host serves, oldest first.
    pub const SERVED: [Contract; 2] = [Contract::V0_1, Contract::V0_2];

    /// The package version, `0.2.0`.
    pub fn version(self) -> &'static str {
        match self {
            Contract::V0_1 => "0.1.0",
            Contract::V0_2 => "0.2.0",
        }
    }

    /// The version from an interface name's `@x.y.z`.
    pub fn from_version(v: &str) -> Option<Contract> {
        Contract::SERVED.into_iter().find(|c| c.version() == v)
    }
}

impl std::fmt::Display for Contract {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "mrhost:plugin@{}", self.version())
    }
}

impl Serialize for Contract {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A plugin's manifest, checked.
#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    /// Short unique name, e.g. "vpcs".
    pub name: String,
    /// The plugin's own version.
    pub version: String,
    /// What one emitted item is, e.g. "ec2:vpc".
    pub resource_type: String,
    /// What the plugin emits, in a sentence.
    pub description: String,
    /// Canonical `service:Operation` names (model spelling).
    pub operations: Vec<String>,
    /// Regional or global.
    pub scope_kind: ScopeKind,
    /// The field that identifies an item.
    pub id_field: Option<String>,
    /// Default table/CSV columns.
    pub columns: Vec<String>,
    /// The contract the plugin was built for.
    pub contract: Contract,
    /// The model shape one item is (`ec2:Vpc`), if declared (0.2).
    pub model_shape: Option<String>,
    /// Declared columns besides the model shape's (0.2).
    pub extra_columns: Vec<Column>,
    /// Declared references (0.2); [`Schema::references`] adds the inferred ones.
    pub references: Vec<Reference>,
    /// Declared parameters (0.2).
    pub params: Vec<ParamSpec>,
}

/// A manifest as a plugin sent it, whatever its contract version.
pub(crate) struct RawManifest {
    name: String,
    version: String,
    resource_type: String,
    description: String,
    operations: Vec<String>,
    scope_kind: ScopeKind,
    id_field: Option<String>,
    columns: Vec<String>,
    model_shape: Option<String>,
    extra_columns: Vec<Column>,
    references: Vec<Reference>,
    params: Vec<ParamSpec>,
}

impl From<v0_1::mrhost::plugin::types::PluginManifest> for RawManifest {
    fn from(m: v0_1::mrhost::plugin::types::PluginManifest) -> Self {
        use v0_1::mrhost::plugin::types::ScopeKind as K;
        RawManifest {
            name: m.name,
            version: m.version,
            resource_type: m.resource_type,
            description: m.description,
            operations: m.operations,
            scope_kind: match m.scope_kind {
                K::Regional => ScopeKind::Regional,
                K::Global => ScopeKind::Global,
            },
            id_field: m.id_field,
            columns: m.columns,
            model_shape: None,
            extra_columns: Vec::new(),
            references: Vec::new(),
            params: Vec::new(),
        }
    }
}

fn kind_v2(k: v0_2::mrhost::plugin::types::ValueKind) -> ColumnKind {
    use v0_2::mrhost::plugin::types::ValueKind as V;
    match k {
        V::String => ColumnKind::String,
        V::Bool => ColumnKind::Bool,
        V::Int => ColumnKind::Int,
        V::Float => ColumnKind::Float,
        V::Timestamp => ColumnKind::Timestamp,
        V::Json => ColumnKind::Json,
    }
}

impl From<v0_2::mrhost::plugin::types::PluginManifest> for RawManifest {
    fn from(m: v0_2::mrhost::plugin::types::PluginManifest) -> Self {
        use v0_2::mrhost::plugin::types::{ReferenceBy, ScopeKind as K};
        RawManifest {
            name: m.name,
            version: m.version,
            resource_type: m.resource_type,
            description: m.description,
            operations: m.operations,
            scope_kind: match m.scope_kind {
                K::Regional => ScopeKind::Regional,
                K::Global => ScopeKind::Global,
            },
            id_field: m.id_field,
            columns: m.columns,
            model_shape: m.model_shape,
            extra_columns: m
                .extra_columns
                .into_iter()
                .map(|c| Column {
                    name: c.name,
                    kind: kind_v2(c.kind),
                    description: c.description,
                })
                .collect(),
            references: m
                .references
                .into_iter()
                .map(|r| Reference {
                    field: r.field,
                    target_type: r.target_type,
                    by: match r.by {
                        ReferenceBy::Id => RefBy::Id,
                        ReferenceBy::Arn => RefBy::Arn,
                    },
                })
                .collect(),
            params: m
                .params
                .into_iter()
                .map(|p| ParamSpec {
                    name: p.name,
                    kind: kind_v2(p.kind),
                    required: p.required,
                    description: p.description,
                })
                .collect(),
        }
    }
}

/// Refuse text a terminal would interpret: a manifest is printed by `plugins list` and
/// `inspect`.
fn printable(field: &str, value: &str) -> Result<(), String> {
    if crate::escape::escape_controls(value) != value {
        return Err(format!(
            "{field} '{}' contains a control character",
            crate::escape::escape_controls(value)
        ));
    }
    Ok(())
}

/// Letters, digits, `-` and `_`, at least one.
fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

impl Manifest {
    /// The AWS services the manifest names (its operations' and its model shape's), each
    /// once, in the order first named.
    pub fn services(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let named = self.operations.iter().chain(self.model_shape.iter());
        for s in named.filter_map(|x| x.split_once(':').map(|(s, _)| s)) {
            if !out.iter().any(|o| o == s) {
                out.push(s.to_string());
            }
        }
        out
    }

    /// Check a plugin's manifest: a usable name, printable text, every declared operation
    /// present in the models (spelled `service:Operation`; snake/kebab-case operation
    /// names are accepted and canonicalized), and a well-formed schema and parameters.
    pub(crate) fn check(
        m: RawManifest,
        contract: Contract,
        models: &Models,
    ) -> Result<Self, String> {
        if !is_name(&m.name) {
            return Err(format!(
                "name '{}' must be non-empty and use only letters, digits, '-' and '_'",
                crate::escape::escape_controls(&m.name)
            ));
        }
        for (field, value) in [
            ("version", &m.version),
            ("resource-type", &m.resource_type),
            ("description", &m.description),
        ] {
            printable(field, value)?;
        }
        for v in m.columns.iter().chain(m.id_field.iter()) {
            printable("column", v)?;
        }
        let mut operations = Vec::new();
        for op in &m.operations {
            printable("operation", op)?;
            let (service, operation) = op.split_once(':').ok_or_else(|| {
                format!("operation '{op}' must be written service:Operation, e.g. ec2:DescribeVpcs")
            })?;
            let model = models
                .service(service)
                .map_err(|e| format!("operation '{op}': {e}"))?;
            let canonical = model.operation(operation).ok_or_else(|| {
                let hint = aws_engine::suggest::nearest(
                    operation,
                    model.operations.keys().map(String::as_str),
                    4,
                )
                .map(|s| format!(" (did you mean {s}?)"))
                .unwrap_or_default();
                format!("operation '{op}' is not in the {service} model{hint}")
            })?;
            let full = format!("{service}:{}", canonical.name);
            if !operations.contains(&full) {
                operations.push(full);
            }
        }
        if let Some(shape) = &m.model_shape {
            printable("model-shape", shape)?;
            let name = ShapeName::parse(shape).map_err(|e| e.to_string())?;
            schema::shape_columns(models, &name).map_err(|e| e.to_string())?;
        }
        let mut seen = std::collections::HashSet::new();
        for c in &m.extra_columns {
            printable("column", &c.name)?;
            printable("column description", &c.description)?;
            if c.name.is_empty() || !seen.insert(c.name.as_str()) {
                return Err(format!(
                    "extra column '{}' is empty or declared twice",
                    c.name
                ));
            }
        }
        for r in &m.references {
            printable("reference", &r.field)?;
            printable("reference", &r.target_type)?;
            if r.field.is_empty() || !r.target_type.contains(':') {
                return Err(format!(
                    "reference '{}' -> '{}' must name a field and a service:type",
                    r.field, r.target_type
                ));
            }
        }
        let mut seen = std::collections::HashSet::new();
        for p in &m.params {
            printable("parameter description", &p.description)?;
            if !is_name(&p.name) || !seen.insert(p.name.as_str()) {
                return Err(format!(
                    "parameter '{}' must be a unique name of letters, digits, '-' and '_'",
                    crate::escape::escape_controls(&p.name)
                ));
            }
        }
        Ok(Manifest {
            name: m.name,
            version: m.version,
            resource_type: m.resource_type,
            description: m.description,
            operations,
            scope_kind: m.scope_kind,
            id_field: m.id_field,
            columns: m.columns,
            contract,
            model_shape: m.model_shape,
            extra_columns: m.extra_columns,
            references: m.references,
            params: m.params,
        })
    }
}

impl Schema for Manifest {
    /// The model shape's columns (when declared) with the declared extra columns merged
    /// in, then the host's; without a model shape, the declared columns and the host's.
    fn columns(&self, models: &Models) -> Vec<Column> {
        let base = self
            .model_shape
            .as_deref()
            .and_then(|s| ShapeName::parse(s).ok())
            .and_then(|s| schema::shape_columns(models, &s).ok())
            .unwrap_or_else(|| schema::host_columns(false));
        schema::merge_columns(base, &self.extra_columns)
    }

    /// Those inferred from the model shape, and the declared ones (which win for a field).
    fn references(&self, models: &Models) -> Vec<Reference> {
        let inferred = self
            .model_shape
            .as_deref()
            .and_then(|s| ShapeName::parse(s).ok())
            .map(|s| schema::infer_references(models, &s))
            .unwrap_or_default();
        schema::merge_references(inferred, &self.references)
    }
}

impl Manifest {
    /// Each declared operation with its class, as `plugins inspect` and `policy` show it
    /// (`read`, `data`, `secret`, `secret (redacted unless --allow secret)`, `billed`,
    /// `write`).
    pub fn classes(&self) -> serde_json::Map<String, serde_json::Value> {
        self.operations
            .iter()
            .map(|op| {
                (
                    op.clone(),
                    serde_json::Value::String(super::policy::class_label(op)),
                )
            })
            .collect()
    }
}

/// `producers` custom sections of the component and its core modules: which language and
/// tools built it, as (field, "name version") pairs, de-duplicated.
pub fn producers(bytes: &[u8]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    scan_sections(bytes, 0, &mut out);
    out.dedup();
    out
}

fn leb(bytes: &[u8], pos: &mut usize) -> Option<u64> {
    let mut result = 0u64;
    let mut shift = 0;
    loop {
        let b = *bytes.get(*pos)?;
        *pos += 1;
        result |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(result);
        }
        shift += 7;
        if shift > 63 {
            return None;
        }
    }
}

fn name<'a>(bytes: &'a [u8], pos: &mut usize) -> Option<&'a str> {
    let len = usize::try_from(leb(bytes, pos)?).ok()?;
    let end = pos.checked_add(len)?;
    let s = std::str::from_utf8(bytes.get(*pos..end)?).ok()?;
    *pos = end;
    Some(s)
}

fn scan_sections(bytes: &[u8], depth: usize, out: &mut Vec<(String, String)>) {
    if depth > 4 || bytes.len() < 8 || &bytes[0..4] != b"\0asm" {
        return;
    }
    let is_component = bytes[4..8] != [1, 0, 0, 0];
    let mut pos = 8;
    while pos < bytes.len() {
        let id = bytes[pos];
        pos += 1;
        let Some(size) = leb(bytes, &mut pos) else {
            return;
        };
        let Some(end) = usize::try_from(size).ok().and_then(|n| pos.checked_add(n)) else {
            return;
        };
        let Some(body) = bytes.get(pos..end) else {
            return;
        };
        pos = end;
        match id {
            0 => {
                let mut p = 0;
                if name(body, &mut p) == Some("producers") {
                    parse_producers(&body[p..], out);
                }
            }
            // Nested core modules (1) and components (4) of a component.
            1 | 4 if is_component => scan_sections(body, depth + 1, out),
            _ => {}
        }
    }
}

fn parse_producers(body: &[u8], out: &mut Vec<(String, String)>) {
    let mut p = 0;
    let Some(fields) = leb(body, &mut p) else {
        return;
    };
    for _ in 0..fields {
        let Some(field) = name(body, &mut p) else {
            return;
        };
        let Some(n) = leb(body, &mut p) else { return };
        for _ in 0..n {
            let (Some(tool), Some(version)) = (name(body, &mut p), name(body, &mut p)) else {
                return;
            };
            let v = format!("{tool} {version}").trim().to_string();
            let entry = (field.to_string(), v);
            if !out.contains(&entry) {
                out.push(entry);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw() -> RawManifest {
        RawManifest {
            name: "vpcs".into(),
            version: "1.0.0".into(),
            resource_type: "ec2:vpc".into(),
            description: "VPCs".into(),
            operations: vec!["ec2:describe-vpcs".into()],
            scope_kind: ScopeKind::Regional,
            id_field: Some("VpcId".into()),
            columns: vec!["VpcId".into()],
            model_shape: Some("ec2:Vpc".into()),
            extra_columns: vec![Column {
                name: "Extra".into(),
                kind: ColumnKind::Int,
                description: "an enrichment".into(),
            }],
            references: vec![],
            params: vec![],
        }
    }

    #[test]
    fn a_manifest_is_checked_and_its_schema_derived() {
        let models = Models::new(vec![]).unwrap();
        let m = Manifest::check(raw(), Contract::V0_2, &models).unwrap();
        assert_eq!(m.operations, ["ec2:DescribeVpcs"]);
        let cols = m.columns(&models);
        let kind = |n: &str| cols.iter().find(|c| c.name == n).map(|c| c.kind);
        assert_eq!(kind("IsDefault"), Some(ColumnKind::Bool));
        assert_eq!(kind("Extra"), Some(ColumnKind::Int));
        assert_eq!(kind("TagsMap"), Some(ColumnKind::Json));
        assert_eq!(Contract::V0_2.to_string(), "mrhost:plugin@0.2.0");
        assert_eq!(Contract::from_version("0.1.0"), Some(Contract::V0_1));
        assert_eq!(Contract::from_version("0.3.0"), None);
    }

    #[test]
    fn text_that_would_drive_a_terminal_is_refused() {
        let models = Models::new(vec![]).unwrap();
        let mut m = raw();
        m.description = "VPCs\x1b]0;title\x07".into();
        let e = Manifest::check(m, Contract::V0_2, &models).unwrap_err();
        assert_eq!(
            e,
            "description 'VPCs\\x1b]0;title\\x07' contains a control character"
        );
        let mut m = raw();
        m.name = "vp\ncs".into();
        assert!(Manifest::check(m, Contract::V0_2, &models)
            .unwrap_err()
            .contains("vp\\ncs"));
        let mut m = raw();
        m.model_shape = Some("ec2:NoSuchShape".into());
        assert!(Manifest::check(m, Contract::V0_2, &models)
            .unwrap_err()
            .contains("no shape NoSuchShape"));
        let mut m = raw();
        m.params = vec![
            ParamSpec {
                name: "a".into(),
                kind: ColumnKind::String,
                required: false,
                description: String::new(),
            };
            2
        ];
        assert!(Manifest::check(m, Contract::V0_2, &models)
            .unwrap_err()
            .contains("unique name"));
    }
}
