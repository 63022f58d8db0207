//! What changed between two syncs: resources added, removed and changed (by type,
//! account, region and id), with the changed fields as paths (`Tags.Name`,
//! `Routes[1].State`).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};

use super::store::Version;

/// One field that differs; `None` where the field is absent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    pub path: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// One resource that differs between the syncs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    #[serde(rename = "type")]
    pub table: String,
    pub account: String,
    pub region: String,
    pub id: String,
    /// `added`, `removed` or `changed`.
    pub change: &'static str,
    pub fields: Vec<FieldChange>,
}

/// Pair the versions by resource: only before → removed, only after → added, both with
/// different content → changed.
pub fn changes(before: Vec<Version>, after: Vec<Version>) -> Vec<Change> {
    type Key = (String, String, String, String);
    let key = |v: &Version| -> Key {
        (
            v.table.clone(),
            v.account.clone(),
            v.region.clone(),
            v.id.clone(),
        )
    };
    let mut old: BTreeMap<Key, Version> = before.into_iter().map(|v| (key(&v), v)).collect();
    let mut out = Vec::new();
    let mut added: BTreeMap<Key, Version> = BTreeMap::new();
    for v in after {
        added.insert(key(&v), v);
    }
    for (k, v) in added {
        match old.remove(&k) {
            Some(o) if o.hash == v.hash => {}
            Some(o) => {
                let fields = field_changes(&o.json, &v.json);
                if !fields.is_empty() {
                    out.push(Change {
                        table: k.0,
                        account: k.1,
                        region: k.2,
                        id: k.3,
                        change: "changed",
                        fields,
                    });
                }
            }
            None => out.push(Change {
                table: k.0,
                account: k.1,
                region: k.2,
                id: k.3,
                change: "added",
                fields: Vec::new(),
            }),
        }
    }
    for (k, _) in old {
        out.push(Change {
            table: k.0,
            account: k.1,
            region: k.2,
            id: k.3,
            change: "removed",
            fields: Vec::new(),
        });
    }
    out.sort_by(|a, b| {
        (&a.table, &a.account, &a.region, &a.id).cmp(&(&b.table, &b.account, &b.region, &b.id))
    });
    out
}

/// A `[{Key, Value}]` list as a map, so tags compare by key (`Tags.Name`).
fn tag_map(v: &Value) -> Option<Map<String, Value>> {
    let list = v.as_array()?;
    let mut m = Map::new();
    for t in list {
        let k = t.get("Key").or_else(|| t.get("key"))?.as_str()?;
        let v = t.get("Value").or_else(|| t.get("value")).cloned();
        if t.as_object().map(|o| o.len()).unwrap_or(0) > 2 {
            return None;
        }
        m.insert(k.to_string(), v.unwrap_or(Value::Null));
    }
    Some(m)
}

/// The fields that differ, as paths.
pub fn field_changes(a: &Value, b: &Value) -> Vec<FieldChange> {
    let mut out = Vec::new();
    walk("", Some(a), Some(b), &mut out);
    out
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn walk(path: &str, a: Option<&Value>, b: Option<&Value>, out: &mut Vec<FieldChange>) {
    match (a, b) {
        (Some(x), Some(y)) if x == y => {}
        (Some(Value::Object(x)), Some(Value::Object(y))) => {
            for (k, v) in x {
                let p = join(path, k);
                let w = y.get(k);
                if let (Some(ma), Some(mb)) = (
                    ["Tags", "TagList", "TagSet", "tags"]
                        .contains(&k.as_str())
                        .then(|| tag_map(v))
                        .flatten(),
                    w.and_then(tag_map),
                ) {
                    walk(&p, Some(&Value::Object(ma)), Some(&Value::Object(mb)), out);
                    continue;
                }
                walk(&p, Some(v), w, out);
            }
            for (k, w) in y {
                if !x.contains_key(k) {
                    walk(&join(path, k), None, Some(w), out);
                }
            }
        }
        (Some(Value::Array(x)), Some(Value::Array(y))) if x.len() == y.len() => {
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                walk(&format!("{path}[{i}]"), Some(v), Some(w), out);
            }
        }
        (x, y) => out.push(FieldChange {
            path: if path.is_empty() {
                "$".into()
            } else {
                path.to_string()
            },
            before: x.cloned(),
            after: y.cloned(),
        }),
    }
}

/// A compact text of the field changes, for tables: `Tags.Name: web → api`.
pub fn summary(fields: &[FieldChange]) -> String {
    let show = |v: &Option<Value>| match v {
        None => "(absent)".to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    fields
        .iter()
        .map(|f| format!("{}: {} → {}", f.path, show(&f.before), show(&f.after)))
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn v(id: &str, hash: &str, json: Value) -> Version {
        Version {
            table: "vpcs".into(),
            account: "1".into(),
            region: "r".into(),
            id: id.into(),
            hash: hash.into(),
            json,
        }
    }

    #[test]
    fn pairs_versions_and_names_the_fields() {
        let before = vec![
            v(
                "a",
                "1",
                json!({"Id": "a", "Tags": [{"Key": "Name", "Value": "web"}, {"Key": "env", "Value": "p"}]}),
            ),
            v("gone", "2", json!({"Id": "gone"})),
        ];
        let after = vec![
            v(
                "a",
                "3",
                json!({"Id": "a", "Tags": [{"Key": "env", "Value": "p"}, {"Key": "Name", "Value": "api"}], "New": [1]}),
            ),
            v("new", "4", json!({"Id": "new"})),
        ];
        let c = changes(before, after);
        assert_eq!(c.len(), 3);
        assert_eq!((c[0].id.as_str(), c[0].change), ("a", "changed"));
        assert_eq!(
            c[0].fields,
            vec![
                FieldChange {
                    path: "Tags.Name".into(),
                    before: Some(json!("web")),
                    after: Some(json!("api"))
                },
                FieldChange {
                    path: "New".into(),
                    before: None,
                    after: Some(json!([1]))
                },
            ]
        );
        assert_eq!((c[1].id.as_str(), c[1].change), ("gone", "removed"));
        assert_eq!((c[2].id.as_str(), c[2].change), ("new", "added"));
        assert_eq!(
            summary(&c[0].fields),
            "Tags.Name: web → api; New: (absent) → [1]"
        );
        let arr = field_changes(
            &json!({"R": [{"S": "a"}, {"S": "b"}]}),
            &json!({"R": [{"S": "a"}, {"S": "c"}]}),
        );
        assert_eq!(arr[0].path, "R[1].S");
    }
}
