//! Parameter validation before anything is sent, in the spirit of botocore's ParamValidator:
//! unknown names, missing required members and wrong JSON types are refused with a message
//! that names the parameter path. Params nested deeper than [`MAX_DEPTH`] are refused
//! (a recursive shape could otherwise lead the walk as deep as the data goes).

use serde_json::Value;

use super::shape::{too_deep, MAX_DEPTH};
use crate::model::{ServiceModel, ShapeRef, ShapeType};
use crate::timestamp::Timestamp;

pub(crate) fn validate(
    model: &ServiceModel,
    input: Option<&ShapeRef>,
    params: &Value,
) -> Result<(), String> {
    let obj = params
        .as_object()
        .ok_or_else(|| format!("parameters must be a JSON object, got {}", kind(params)))?;
    match input {
        None => match obj.keys().next() {
            Some(k) => Err(format!(
                "unknown parameter \"{k}\": this operation takes no parameters"
            )),
            None => Ok(()),
        },
        Some(r) => check(model, r, params, "", 0),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

fn check(
    model: &ServiceModel,
    r: &ShapeRef,
    v: &Value,
    path: &str,
    depth: usize,
) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err(too_deep("the parameters", MAX_DEPTH).to_string());
    }
    let shape = model.shape(&r.shape).map_err(|e| e.to_string())?;
    let shown = if path.is_empty() { "input" } else { path };
    let wrong = |expected: &str| {
        format!(
            "invalid type for parameter {shown}: expected {expected}, got {}",
            kind(v)
        )
    };
    match shape.kind {
        ShapeType::Structure => {
            if shape.document || r.jsonvalue {
                return Ok(());
            }
            let obj = v.as_object().ok_or_else(|| wrong("an object"))?;
            for (k, val) in obj {
                let member = shape.members.get(k).ok_or_else(|| {
                    let names: Vec<&str> = shape.members.keys().map(String::as_str).collect();
                    let hint = crate::suggest::nearest(k, names.iter().copied(), 3)
                        .map(|n| format!("did you mean \"{n}\"? "))
                        .unwrap_or_default();
                    format!(
                        "unknown parameter \"{}\" in {shown} ({hint}must be one of: {})",
                        k,
                        names.join(", ")
                    )
                })?;
                if val.is_null() {
                    continue;
                }
                check(model, member, val, &join(path, k), depth + 1)?;
            }
            for req in &shape.required {
                if obj.get(req).is_none_or(Value::is_null) {
                    return Err(format!(
                        "missing required parameter \"{}\"",
                        join(path, req)
                    ));
                }
            }
            if shape.union && obj.values().filter(|x| !x.is_null()).count() > 1 {
                return Err(format!(
                    "parameter {shown} is a union: set exactly one member"
                ));
            }
            Ok(())
        }
        ShapeType::List => {
            let arr = v.as_array().ok_or_else(|| wrong("a list"))?;
            let member = shape.member.as_ref().ok_or("list shape without member")?;
            for (i, item) in arr.iter().enumerate() {
                check(model, member, item, &format!("{shown}[{i}]"), depth + 1)?;
            }
            Ok(())
        }
        ShapeType::Map => {
            let obj = v.as_object().ok_or_else(|| wrong("an object"))?;
            let value = shape.value.as_ref().ok_or("map shape without value")?;
            for (k, item) in obj {
                check(model, value, item, &format!("{shown}.{k}"), depth + 1)?;
            }
            Ok(())
        }
        ShapeType::String => match v {
            Value::String(_) => Ok(()),
            _ if r.jsonvalue => Ok(()),
            _ => Err(wrong("a string")),
        },
        ShapeType::Integer | ShapeType::Long => match v {
            Value::Number(n) if n.is_i64() || n.is_u64() => Ok(()),
            _ => Err(wrong("an integer")),
        },
        ShapeType::Float | ShapeType::Double => match v {
            Value::Number(_) => Ok(()),
            Value::String(s) if matches!(s.as_str(), "NaN" | "Infinity" | "-Infinity") => Ok(()),
            _ => Err(wrong("a number")),
        },
        ShapeType::Boolean => match v {
            Value::Bool(_) => Ok(()),
            _ => Err(wrong("true or false")),
        },
        ShapeType::Timestamp => {
            let ok = match v {
                Value::Number(n) => n.as_f64().and_then(Timestamp::from_epoch).is_some(),
                Value::String(s) => Timestamp::parse(s).is_some(),
                _ => false,
            };
            if ok {
                Ok(())
            } else {
                Err(format!(
                    "invalid timestamp for parameter {shown}: use ISO 8601 (2024-01-31T12:00:00Z) or epoch seconds"
                ))
            }
        }
        ShapeType::Blob => match v {
            Value::String(_) => Ok(()),
            _ => Err(wrong("a string (blobs are given as text)")),
        },
        ShapeType::Other => Ok(()),
    }
}
