//! Plugin parameters (contract 0.2): what a manifest declares ([`ParamSpec`]), what the
//! user gives (`--param key=value`, a `[plugins.NAME]` table in the config file), and the
//! check between them — unknown names, missing required ones and values of the wrong type
//! fail before any call, in one line.

use aws_engine::schema::ColumnKind;
use serde::Serialize;

/// A parameter a plugin declares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParamSpec {
    /// Its name (letters, digits, `-`, `_`).
    pub name: String,
    /// The type of its value.
    pub kind: ColumnKind,
    /// A run without it fails before any call.
    pub required: bool,
    /// What it does.
    pub description: String,
}

/// A checked, typed parameter value.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ParamValue {
    /// Text.
    String(String),
    /// `true` / `false`.
    Bool(bool),
    /// A 64-bit signed integer.
    Int(i64),
    /// A double.
    Float(f64),
    /// ISO 8601 text, checked to parse.
    Timestamp(String),
    /// JSON text, checked to parse.
    Json(String),
}

/// A parameter as the user gave it, before it is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GivenParam {
    /// The name.
    pub name: String,
    /// The value, as text.
    pub value: String,
    /// Where it came from (`--param`, or the config file's path), for error messages.
    pub origin: String,
}

/// Why the parameters given do not fit the plugin. Each renders as one line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParamError {
    /// A name the plugin does not declare.
    #[error("plugin {plugin}: unknown parameter '{name}' (from {origin}); {declared}")]
    Unknown {
        /// The plugin's name.
        plugin: String,
        /// The parameter given.
        name: String,
        /// Where it came from.
        origin: String,
        /// What the plugin declares.
        declared: String,
    },
    /// A required parameter was not given.
    #[error("plugin {plugin}: missing required parameter '{name}' ({kind}); give it with --param {name}=VALUE")]
    Missing {
        /// The plugin's name.
        plugin: String,
        /// The parameter.
        name: String,
        /// Its kind.
        kind: ColumnKind,
    },
    /// A value that is not of the declared kind.
    #[error("plugin {plugin}: parameter '{name}' (from {origin}) must be {kind}, got '{value}'")]
    Type {
        /// The plugin's name.
        plugin: String,
        /// The parameter.
        name: String,
        /// Where it came from.
        origin: String,
        /// The declared kind.
        kind: ColumnKind,
        /// The value given.
        value: String,
    },
}

/// `--param key=value` split at the first `=`; `None` without one (or with an empty key).
pub fn parse_assignment(text: &str) -> Option<(String, String)> {
    let (k, v) = text.split_once('=')?;
    let k = k.trim();
    (!k.is_empty()).then(|| (k.to_string(), v.to_string()))
}

fn typed(kind: ColumnKind, value: &str) -> Option<ParamValue> {
    Some(match kind {
        ColumnKind::String => ParamValue::String(value.to_string()),
        ColumnKind::Bool => match value.to_ascii_lowercase().as_str() {
            "true" => ParamValue::Bool(true),
            "false" => ParamValue::Bool(false),
            _ => return None,
        },
        ColumnKind::Int => ParamValue::Int(value.trim().parse().ok()?),
        ColumnKind::Float => {
            let f: f64 = value.trim().parse().ok()?;
            if !f.is_finite() {
                return None;
            }
            ParamValue::Float(f)
        }
        ColumnKind::Timestamp => {
            aws_engine::timestamp::Timestamp::parse(value.trim())?;
            ParamValue::Timestamp(value.trim().to_string())
        }
        ColumnKind::Json => {
            serde_json::from_str::<serde_json::Value>(value).ok()?;
            ParamValue::Json(value.to_string())
        }
    })
}

/// Check `given` (later entries win: the config file first, then `--param`) against
/// `specs`: every name declared, every value of its kind, every required one present.
/// The values in the order the plugin declares them.
pub fn resolve(
    plugin: &str,
    specs: &[ParamSpec],
    given: &[GivenParam],
) -> Result<Vec<(String, ParamValue)>, ParamError> {
    let mut values: Vec<Option<ParamValue>> = vec![None; specs.len()];
    for g in given {
        let Some(i) = specs.iter().position(|s| s.name == g.name) else {
            let declared = if specs.is_empty() {
                "it declares no parameters".to_string()
            } else {
                format!(
                    "it declares: {}",
                    specs
                        .iter()
                        .map(|s| s.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            return Err(ParamError::Unknown {
                plugin: plugin.to_string(),
                name: g.name.clone(),
                origin: g.origin.clone(),
                declared,
            });
        };
        let spec = &specs[i];
        values[i] = Some(typed(spec.kind, &g.value).ok_or_else(|| ParamError::Type {
            plugin: plugin.to_string(),
            name: g.name.clone(),
            origin: g.origin.clone(),
            kind: spec.kind,
            value: g.value.clone(),
        })?);
    }
    let mut out = Vec::new();
    for (spec, value) in specs.iter().zip(values) {
        match value {
            Some(v) => out.push((spec.name.clone(), v)),
            None if spec.required => {
                return Err(ParamError::Missing {
                    plugin: plugin.to_string(),
                    name: spec.name.clone(),
                    kind: spec.kind,
                })
            }
            None => {}
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(name: &str, kind: ColumnKind, required: bool) -> ParamSpec {
        ParamSpec {
            name: name.into(),
            kind,
            required,
            description: String::new(),
        }
    }

    fn given(name: &str, value: &str) -> GivenParam {
        GivenParam {
            name: name.into(),
            value: value.into(),
            origin: "--param".into(),
        }
    }

    #[test]
    fn parameters_are_typed_checked_and_the_last_one_wins() {
        let specs = [
            spec("prefix", ColumnKind::String, true),
            spec("deep", ColumnKind::Bool, false),
            spec("limit", ColumnKind::Int, false),
            spec("since", ColumnKind::Timestamp, false),
            spec("filter", ColumnKind::Json, false),
        ];
        let got = resolve(
            "p",
            &specs,
            &[
                given("limit", "5"),
                given("prefix", "a=b"),
                given("deep", "TRUE"),
                given("limit", "7"),
                given("since", "2024-05-01T10:00:00Z"),
                given("filter", r#"{"a":[1]}"#),
            ],
        )
        .unwrap();
        assert_eq!(
            got,
            vec![
                ("prefix".into(), ParamValue::String("a=b".into())),
                ("deep".into(), ParamValue::Bool(true)),
                ("limit".into(), ParamValue::Int(7)),
                (
                    "since".into(),
                    ParamValue::Timestamp("2024-05-01T10:00:00Z".into())
                ),
                ("filter".into(), ParamValue::Json(r#"{"a":[1]}"#.into())),
            ]
        );
        let e = resolve("p", &specs, &[given("deep", "true")]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "plugin p: missing required parameter 'prefix' (string); give it with --param prefix=VALUE"
        );
        let e = resolve("p", &specs, &[given("prefx", "x")]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "plugin p: unknown parameter 'prefx' (from --param); it declares: prefix, deep, limit, since, filter"
        );
        let e = resolve("p", &specs, &[given("prefix", "x"), given("limit", "ten")]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "plugin p: parameter 'limit' (from --param) must be int, got 'ten'"
        );
        assert!(resolve("p", &specs, &[given("prefix", "x"), given("since", "May")]).is_err());
        assert!(resolve("p", &specs, &[given("prefix", "x"), given("filter", "{")]).is_err());
        let e = resolve("q", &[], &[given("x", "1")]).unwrap_err();
        assert!(e.to_string().ends_with("it declares no parameters"), "{e}");
        assert_eq!(parse_assignment("a=b=c"), Some(("a".into(), "b=c".into())));
        assert_eq!(parse_assignment("=b"), None);
        assert_eq!(parse_assignment("ab"), None);
    }
}
