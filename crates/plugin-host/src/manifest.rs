//! The host's view of a plugin manifest, checked against the service models.

use serde::Serialize;

use super::bindings::mrhost::plugin::types as wit;
use aws_engine::Models;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ScopeKind {
    Regional,
    Global,
}

#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    pub name: String,
    pub version: String,
    pub resource_type: String,
    pub description: String,
    /// Canonical `service:Operation` names (model spelling).
    pub operations: Vec<String>,
    pub scope_kind: ScopeKind,
    pub id_field: Option<String>,
    pub columns: Vec<String>,
}

impl Manifest {
    /// Validate the plugin's manifest: a usable name, and every declared operation present
    /// in the models (spelled `service:Operation`; snake/kebab-case operation names are
    /// accepted and canonicalized).
    pub fn from_wit(m: wit::PluginManifest, models: &Models) -> Result<Self, String> {
        if m.name.is_empty()
            || !m
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(format!(
                "name '{}' must be non-empty and use only letters, digits, '-' and '_'",
                m.name
            ));
        }
        let mut operations = Vec::new();
        for op in &m.operations {
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
        Ok(Manifest {
            name: m.name,
            version: m.version,
            resource_type: m.resource_type,
            description: m.description,
            operations,
            scope_kind: match m.scope_kind {
                wit::ScopeKind::Regional => ScopeKind::Regional,
                wit::ScopeKind::Global => ScopeKind::Global,
            },
            id_field: m.id_field,
            columns: m.columns,
        })
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
    let len = leb(bytes, pos)? as usize;
    let s = std::str::from_utf8(bytes.get(*pos..*pos + len)?).ok()?;
    *pos += len;
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
        let Some(body) = bytes.get(pos..pos + size as usize) else {
            return;
        };
        pos += size as usize;
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
