//! JSON bodies: the `json` protocol (awsJson 1.0/1.1) and the body half of `rest-json`.

use base64::Engine as _;
use serde_json::{Map, Value};

use super::xml::Resolved;
use super::{ParsedError, Protocol, WireRequest, WireResponse};
use crate::error::EngineError;
use crate::model::{Operation, ServiceModel, ShapeRef, ShapeType};
use crate::timestamp::Timestamp;

/// boto3-style params → the JSON a service expects.
pub struct JsonWriter<'m> {
    pub model: &'m ServiceModel,
    /// Default timestamp format: `unixtimestamp` for JSON bodies.
    pub default_ts: &'static str,
}

impl JsonWriter<'_> {
    pub fn value(&self, r: &ShapeRef, v: &Value) -> Result<Value, String> {
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
                    let name = member.location_name.clone().unwrap_or_else(|| k.clone());
                    out.insert(name, self.value(member, val)?);
                }
                Value::Object(out)
            }
            ShapeType::List => {
                let member = shape.member.as_ref().ok_or("list without member")?;
                let arr = v.as_array().ok_or("expected a list")?;
                Value::Array(
                    arr.iter()
                        .map(|x| self.value(member, x))
                        .collect::<Result<_, _>>()?,
                )
            }
            ShapeType::Map => {
                let value = shape.value.as_ref().ok_or("map without value")?;
                let obj = v.as_object().ok_or("expected an object")?;
                let mut out = Map::new();
                for (k, x) in obj {
                    out.insert(k.clone(), self.value(value, x)?);
                }
                Value::Object(out)
            }
            ShapeType::Timestamp => {
                let t = timestamp_param(v).ok_or("invalid timestamp")?;
                match res
                    .timestamp_format()
                    .unwrap_or(self.default_ts)
                    .to_ascii_lowercase()
                    .as_str()
                {
                    "iso8601" => Value::String(t.to_iso8601_wire()),
                    "rfc822" => Value::String(t.to_rfc822()),
                    _ => t.to_epoch_value(),
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
    pub fn body_members(&self, r: &ShapeRef, params: &Value) -> Result<Map<String, Value>, String> {
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
            if member.location.is_some() {
                continue;
            }
            let name = member.location_name.clone().unwrap_or_else(|| k.clone());
            out.insert(name, self.value(member, val)?);
        }
        Ok(out)
    }
}

pub fn timestamp_param(v: &Value) -> Option<Timestamp> {
    match v {
        Value::String(s) => Timestamp::parse(s),
        Value::Number(n) => n.as_f64().and_then(Timestamp::from_epoch),
        _ => None,
    }
}

/// JSON from a service → boto3-shaped JSON, driven by the shape.
pub struct JsonReader<'m> {
    pub model: &'m ServiceModel,
}

impl JsonReader<'_> {
    pub fn value(&self, r: &ShapeRef, v: &Value) -> Result<Value, String> {
        let res = Resolved::new(self.model, r)?;
        let shape = res.shape;
        if v.is_null() {
            return Ok(Value::Null);
        }
        Ok(match shape.kind {
            ShapeType::Structure if shape.document => v.clone(),
            ShapeType::Structure => self.structure(r, v, false)?,
            ShapeType::List => {
                let member = shape.member.as_ref().ok_or("list without member")?;
                let arr = v.as_array().ok_or("expected a JSON list")?;
                Value::Array(
                    arr.iter()
                        .map(|x| self.value(member, x))
                        .collect::<Result<_, _>>()?,
                )
            }
            ShapeType::Map => {
                let value = shape.value.as_ref().ok_or("map without value")?;
                let obj = v.as_object().ok_or("expected a JSON object")?;
                let mut out = Map::new();
                for (k, x) in obj {
                    out.insert(k.clone(), self.value(value, x)?);
                }
                Value::Object(out)
            }
            ShapeType::Timestamp => match v {
                Value::Number(n) => n
                    .as_f64()
                    .and_then(Timestamp::from_epoch)
                    .map(|t| Value::String(t.to_isoformat()))
                    .unwrap_or_else(|| v.clone()),
                Value::String(s) => super::xml::timestamp_value(s, None),
                _ => v.clone(),
            },
            _ => v.clone(),
        })
    }

    /// A structure's members in model order; with `body_only`, members bound to headers,
    /// the URI or the status code are left for the REST layer.
    pub fn structure(&self, r: &ShapeRef, v: &Value, body_only: bool) -> Result<Value, String> {
        let shape = self.model.shape(&r.shape).map_err(|e| e.to_string())?;
        let obj = match v {
            Value::Object(o) => o,
            Value::Null => return Ok(Value::Object(Map::new())),
            _ => return Err("expected a JSON object".into()),
        };
        let mut out = Map::new();
        for (name, member) in &shape.members {
            if body_only && super::xml::is_bound_in_response(member) {
                continue;
            }
            let key = member.location_name.as_deref().unwrap_or(name);
            match obj.get(key) {
                None | Some(Value::Null) => {}
                Some(x) => {
                    out.insert(name.clone(), self.value(member, x)?);
                }
            }
        }
        Ok(Value::Object(out))
    }
}

/// Parse a JSON body; an empty body is `{}`, a body that is not JSON becomes `{"message": body}`
/// as botocore does.
pub fn body_json(body: &[u8]) -> Value {
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Value::Object(Map::new());
    }
    serde_json::from_slice(body).unwrap_or_else(|_| {
        let mut m = Map::new();
        m.insert(
            "message".into(),
            Value::String(String::from_utf8_lossy(body).into_owned()),
        );
        Value::Object(m)
    })
}

/// Clean a wire error code: drop a `namespace#` prefix and a `:uri` suffix.
pub fn clean_code(code: &str) -> String {
    let code = code.split(':').next().unwrap_or(code);
    code.rsplit('#').next().unwrap_or(code).trim().to_string()
}

/// Code and message of a JSON error response (awsJson and rest-json).
pub fn parse_json_error(resp: &WireResponse, rest: bool) -> ParsedError {
    let body = body_json(&resp.body);
    let message = ["message", "Message", "errorMessage"]
        .iter()
        .find_map(|k| body.get(*k).and_then(Value::as_str))
        .unwrap_or_default()
        .to_string();
    let mut code = body
        .get("__type")
        .and_then(Value::as_str)
        .map(str::to_string);
    if let Some(h) = resp.header("x-amzn-errortype") {
        code = Some(h.to_string());
    } else if rest {
        if let Some(c) = body
            .get("code")
            .or_else(|| body.get("Code"))
            .and_then(Value::as_str)
        {
            code = Some(c.to_string());
        }
    }
    let mut code = code
        .map(|c| clean_code(&c))
        .unwrap_or_else(|| resp.status.to_string());
    if let Some(q) = resp.header("x-amzn-query-error") {
        if let Some((qc, _)) = q.split_once(';') {
            if !qc.is_empty() {
                code = qc.to_string();
            }
        }
    }
    ParsedError {
        code,
        message,
        request_id: resp.header("x-amzn-requestid").map(str::to_string),
        body: super::ErrorBody::Json(body),
    }
}

pub struct AwsJson;

impl Protocol for AwsJson {
    fn serialize(
        &self,
        model: &ServiceModel,
        op: &Operation,
        params: &Value,
    ) -> Result<WireRequest, EngineError> {
        let mut req = WireRequest::new(&op.http.method, "/");
        let target = format!(
            "{}.{}",
            model.metadata.target_prefix.as_deref().unwrap_or_default(),
            op.name
        );
        req.headers.push(("X-Amz-Target".into(), target));
        req.headers.push((
            "Content-Type".into(),
            format!(
                "application/x-amz-json-{}",
                model.metadata.json_version.as_deref().unwrap_or("1.0")
            ),
        ));
        if model.metadata.aws_query_compatible.is_some() {
            req.headers
                .push(("x-amzn-query-mode".into(), "true".into()));
        }
        // Always a JSON object, `{}` when there is no input.
        let body = match &op.input {
            Some(input) => JsonWriter {
                model,
                default_ts: "unixtimestamp",
            }
            .value(input, params)
            .map_err(|m| EngineError::invalid(&op.name, m))?,
            None => Value::Object(Map::new()),
        };
        req.body = serde_json::to_vec(&body).unwrap_or_default().into();
        Ok(req)
    }

    fn parse(
        &self,
        model: &ServiceModel,
        op: &Operation,
        resp: &WireResponse,
    ) -> Result<Value, EngineError> {
        if resp.status >= 300 {
            return Err(super::api_error(
                model,
                op,
                parse_json_error(resp, false),
                resp,
            ));
        }
        let Some(output) = &op.output else {
            return Ok(Value::Object(Map::new()));
        };
        let body: Value = if resp.body.iter().all(|b| b.is_ascii_whitespace()) {
            Value::Object(Map::new())
        } else {
            serde_json::from_slice(&resp.body)
                .map_err(|e| EngineError::parse(&op.name, format!("invalid JSON: {e}")))?
        };
        JsonReader { model }
            .structure(output, &body, false)
            .map_err(|m| EngineError::parse(&op.name, m))
    }
}
