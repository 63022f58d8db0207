//! The JSON codec: boto3-style params → the JSON a service expects, and JSON from a service
//! → boto3-shaped JSON, both driven by the shape (botocore's `JSONSerializer` and
//! `BaseJSONParser`). Used by the `json` and `rest-json` protocols.

use base64::Engine as _;
use serde_json::{Map, Value};

use super::shape::{
    is_bound_in_response, location, timestamp_param, timestamp_text, wire_name, Resolved,
};
use super::shape::{too_deep, ReadError, MAX_DEPTH};
use crate::model::{ServiceModel, ShapeRef, ShapeType};
use crate::timestamp::Timestamp;

/// boto3-style params → the JSON a service expects.
pub(crate) struct JsonWriter<'m> {
    pub(crate) model: &'m ServiceModel,
}

impl JsonWriter<'_> {
    pub(crate) fn value(&self, r: &ShapeRef, v: &Value) -> Result<Value, String> {
        self.value_at(r, v, 0)
    }

    fn value_at(&self, r: &ShapeRef, v: &Value, depth: usize) -> Result<Value, String> {
        if depth > MAX_DEPTH {
            return Err(too_deep("the parameters", MAX_DEPTH).to_string());
        }
        let res = Resolved::new(self.model, r)?;
        let shape = res.shape;
        Ok(match shape.kind {
            ShapeType::Structure if shape.document => v.clone(),
            ShapeType::Structure => {
                let obj = v.as_object().ok_or("expected an object")?;
                let mut out = Map::new();
                for (k, val) in obj {
                    if val.is_null() {
                        continue;
                    }
                    let member = shape
                        .members
                        .get(k)
                        .ok_or_else(|| format!("unknown member {k}"))?;
                    let name = wire_name(self.model, k, member).to_string();
                    out.insert(name, self.value_at(member, val, depth + 1)?);
                }
                Value::Object(out)
            }
            ShapeType::List => {
                let member = shape.member.as_ref().ok_or("list without member")?;
                let arr = v.as_array().ok_or("expected a list")?;
                Value::Array(
                    arr.iter()
                        .map(|x| self.value_at(member, x, depth + 1))
                        .collect::<Result<_, _>>()?,
                )
            }
            ShapeType::Map => {
                let value = shape.value.as_ref().ok_or("map without value")?;
                let obj = v.as_object().ok_or("expected an object")?;
                let mut out = Map::new();
                for (k, x) in obj {
                    out.insert(k.clone(), self.value_at(value, x, depth + 1)?);
                }
                Value::Object(out)
            }
            ShapeType::Timestamp => {
                let t = timestamp_param(v).ok_or("invalid timestamp")?;
                match res
                    .timestamp_format()
                    .unwrap_or("unixtimestamp")
                    .to_ascii_lowercase()
                    .as_str()
                {
                    "unixtimestamp" => t.to_epoch_value(),
                    other => Value::String(timestamp_text(&t, other)),
                }
            }
            ShapeType::Blob => match v {
                Value::String(s) => {
                    Value::String(base64::engine::general_purpose::STANDARD.encode(s.as_bytes()))
                }
                other => other.clone(),
            },
            _ => v.clone(),
        })
    }

    /// The members of `r` that go into a body (no `location`), as a JSON object.
    pub(crate) fn body_members(
        &self,
        r: &ShapeRef,
        params: &Value,
    ) -> Result<Map<String, Value>, String> {
        let shape = self.model.shape(&r.shape).map_err(|e| e.to_string())?;
        let mut out = Map::new();
        for (k, val) in params.as_object().into_iter().flatten() {
            if val.is_null() {
                continue;
            }
            let member = shape
                .members
                .get(k)
                .ok_or_else(|| format!("unknown member {k}"))?;
            if location(self.model, member).is_some() {
                continue;
            }
            let name = wire_name(self.model, k, member).to_string();
            out.insert(name, self.value_at(member, val, 1)?);
        }
        Ok(out)
    }
}

/// A JSON body as botocore's `_parse_body_as_json` reads it, for success and error
/// responses alike: empty is `{}`, a body that is not JSON becomes `{"message": body}`.
/// Text nested [`MAX_DEPTH`] levels or deeper (serde_json's own limit, the same figure)
/// is an error rather than a message: it is measured before parsing.
pub(crate) fn parse_body(body: &[u8]) -> Result<Value, ReadError> {
    if body.is_empty() {
        return Ok(Value::Object(Map::new()));
    }
    if nesting_reaches(body, MAX_DEPTH) {
        return Err(too_deep("the JSON body", MAX_DEPTH));
    }
    match serde_json::from_slice(body) {
        Ok(v) => Ok(v),
        Err(_) => {
            let mut m = Map::new();
            m.insert(
                "message".into(),
                Value::String(String::from_utf8_lossy(body).into_owned()),
            );
            Ok(Value::Object(m))
        }
    }
}

/// Whether JSON text opens `limit` arrays or objects inside one another (strings skipped)
/// — where serde_json would stop with its recursion limit. One pass, no allocation.
fn nesting_reaches(body: &[u8], limit: usize) -> bool {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in body {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth >= limit {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// JSON from a service → boto3-shaped JSON, driven by the shape.
pub(crate) struct JsonReader<'m> {
    pub(crate) model: &'m ServiceModel,
}

impl JsonReader<'_> {
    pub(crate) fn value(&self, r: &ShapeRef, v: &Value) -> Result<Value, ReadError> {
        self.value_at(r, v, 0)
    }

    fn value_at(&self, r: &ShapeRef, v: &Value, depth: usize) -> Result<Value, ReadError> {
        if depth > MAX_DEPTH {
            return Err(too_deep("the response", MAX_DEPTH));
        }
        let res = Resolved::new(self.model, r)?;
        let shape = res.shape;
        if v.is_null() {
            return Ok(Value::Null);
        }
        Ok(match shape.kind {
            ShapeType::Structure if shape.document => v.clone(),
            ShapeType::Structure => self.structure_at(r, v, false, depth)?,
            ShapeType::List => {
                let member = shape.member.as_ref().ok_or("list without member")?;
                let arr = v.as_array().ok_or("expected a JSON list")?;
                Value::Array(
                    arr.iter()
                        .map(|x| self.value_at(member, x, depth + 1))
                        .collect::<Result<_, _>>()?,
                )
            }
            ShapeType::Map => {
                let value = shape.value.as_ref().ok_or("map without value")?;
                let obj = v.as_object().ok_or("expected a JSON object")?;
                let mut out = Map::new();
                for (k, x) in obj {
                    out.insert(k.clone(), self.value_at(value, x, depth + 1)?);
                }
                Value::Object(out)
            }
            ShapeType::Timestamp => match v {
                Value::Number(n) => n
                    .as_f64()
                    .and_then(Timestamp::from_epoch)
                    .map(|t| Value::String(t.to_isoformat()))
                    .unwrap_or_else(|| v.clone()),
                Value::String(s) => super::shape::timestamp_value(s, None),
                _ => v.clone(),
            },
            _ => v.clone(),
        })
    }

    /// A structure's members in model order; with `body_only`, members bound to headers
    /// or the status code are left for the REST layer.
    pub(crate) fn structure(
        &self,
        r: &ShapeRef,
        v: &Value,
        body_only: bool,
    ) -> Result<Value, ReadError> {
        self.structure_at(r, v, body_only, 0)
    }

    fn structure_at(
        &self,
        r: &ShapeRef,
        v: &Value,
        body_only: bool,
        depth: usize,
    ) -> Result<Value, ReadError> {
        let shape = self.model.shape(&r.shape).map_err(|e| e.to_string())?;
        let obj = match v {
            Value::Object(o) => o,
            Value::Null => return Ok(Value::Object(Map::new())),
            _ => return Err("expected a JSON object".into()),
        };
        if shape.union {
            if let Some(tag) = unknown_union_member(self.model, shape, obj, &r.shape)? {
                return Ok(super::shape::sdk_unknown_member(tag));
            }
        }
        let mut out = Map::new();
        for (name, member) in &shape.members {
            if body_only && is_bound_in_response(self.model, member) {
                continue;
            }
            let key = wire_name(self.model, name, member);
            match obj.get(key) {
                None | Some(Value::Null) => {}
                Some(x) => {
                    out.insert(name.clone(), self.value_at(member, x, depth + 1)?);
                }
            }
        }
        Ok(Value::Object(out))
    }
}

/// botocore's `_has_unknown_tagged_union_member`: a union must have exactly one member set
/// (`__type` and nulls aside); a member the model does not know is returned by its tag.
pub(crate) fn unknown_union_member<'v>(
    model: &ServiceModel,
    shape: &crate::model::Shape,
    obj: &'v Map<String, Value>,
    shape_name: &str,
) -> Result<Option<&'v str>, String> {
    let mut set = obj
        .iter()
        .filter(|(k, v)| k.as_str() != "__type" && !v.is_null());
    let (Some((tag, _)), None) = (set.next(), set.next()) else {
        return Err(format!(
            "Invalid service response: {shape_name} must have one and only one member set."
        ));
    };
    let known = shape
        .members
        .iter()
        .any(|(name, m)| wire_name(model, name, m) == tag);
    Ok((!known).then_some(tag.as_str()))
}
