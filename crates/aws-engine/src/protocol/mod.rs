//! Wire protocols: boto3-style params → HTTP request parts, HTTP response → boto3-shaped
//! JSON. Pure functions of (model, operation, data): no network, so the conformance vectors
//! drive them directly.

pub mod json;
pub mod query;
pub mod rest;
pub mod validate;
pub mod xml;
pub mod xml_stream;

use bytes::Bytes;
use serde_json::Value;

use super::error::{ApiError, EngineError};
use super::model::{Operation, ServiceModel, ShapeRef};

/// A serialized request before it meets an endpoint: method, path with query string,
/// headers, body, and the host prefix some operations put before the endpoint host.
#[derive(Debug, Clone, Default)]
pub struct WireRequest {
    pub method: String,
    /// Path and query string, already percent-encoded: `/`, `/2015-03-31/functions?Marker=x`.
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
    pub host_prefix: Option<String>,
}

impl WireRequest {
    pub fn new(method: &str, path: &str) -> Self {
        WireRequest {
            method: method.to_string(),
            path: path.to_string(),
            ..Default::default()
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone, Default)]
pub struct WireResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

impl WireResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

pub trait Protocol: Send + Sync {
    fn serialize(
        &self,
        model: &ServiceModel,
        op: &Operation,
        params: &Value,
    ) -> Result<WireRequest, EngineError>;
    /// A parsed success response, or the service's error as `EngineError::Api`.
    fn parse(
        &self,
        model: &ServiceModel,
        op: &Operation,
        resp: &WireResponse,
    ) -> Result<Value, EngineError>;
}

pub use crate::model::SUPPORTED_PROTOCOLS as SUPPORTED;

/// The protocol implementation for a service (see `ServiceModel::protocol`).
pub fn for_service(model: &ServiceModel) -> Result<&'static dyn Protocol, EngineError> {
    static EC2: query::Query = query::Query { ec2: true };
    static QUERY: query::Query = query::Query { ec2: false };
    static JSON: json::AwsJson = json::AwsJson;
    static REST_JSON: rest::Rest = rest::Rest { xml: false };
    static REST_XML: rest::Rest = rest::Rest { xml: true };
    match model.protocol() {
        "ec2" => Ok(&EC2),
        "query" => Ok(&QUERY),
        "json" => Ok(&JSON),
        "rest-json" => Ok(&REST_JSON),
        "rest-xml" => Ok(&REST_XML),
        other => Err(EngineError::UnsupportedProtocol(other.to_string())),
    }
}

/// Validate, fill idempotency tokens, serialize, and expand the host prefix.
pub fn serialize(
    model: &ServiceModel,
    op: &Operation,
    params: &Value,
) -> Result<WireRequest, EngineError> {
    validate::validate(model, op.input.as_ref(), params)
        .map_err(|m| EngineError::invalid(&op.name, m))?;
    let mut params = params.clone();
    if let Some(input) = &op.input {
        fill_idempotency_tokens(model, input, &mut params);
    }
    let mut req = for_service(model)?.serialize(model, op, &params)?;
    req.host_prefix = host_prefix(model, op, &params)?;
    if !req.body.is_empty() && req.header("Content-Length").is_none() {
        req.headers
            .push(("Content-Length".into(), req.body.len().to_string()));
    }
    Ok(req)
}

pub fn parse(
    model: &ServiceModel,
    op: &Operation,
    resp: &WireResponse,
) -> Result<Value, EngineError> {
    for_service(model)?.parse(model, op, resp)
}

/// boto3 fills members marked `idempotencyToken` with a fresh UUID when the caller leaves
/// them out.
fn fill_idempotency_tokens(model: &ServiceModel, input: &ShapeRef, params: &mut Value) {
    let Ok(shape) = model.shape(&input.shape) else {
        return;
    };
    let Value::Object(obj) = params else { return };
    for (name, member) in &shape.members {
        if member.idempotency_token && obj.get(name).is_none_or(Value::is_null) {
            obj.insert(name.clone(), Value::String(uuid_v4()));
        }
    }
}

pub fn uuid_v4() -> String {
    let b: [u8; 16] = rand::random();
    let mut b = b;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// The operation's `endpoint.hostPrefix` with its `{Label}`s filled from `hostLabel`
/// members, which must be valid host labels.
fn host_prefix(
    model: &ServiceModel,
    op: &Operation,
    params: &Value,
) -> Result<Option<String>, EngineError> {
    let Some(template) = op.endpoint.as_ref().and_then(|e| e.host_prefix.clone()) else {
        return Ok(None);
    };
    let mut out = template.clone();
    if let Some(input) = &op.input {
        let shape = model.shape(&input.shape)?;
        for (name, member) in &shape.members {
            if !member.host_label {
                continue;
            }
            let value = params.get(name).and_then(Value::as_str).unwrap_or_default();
            let valid = !value.is_empty()
                && value.len() <= 255
                && value
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
            if !valid {
                return Err(EngineError::invalid(
                    &op.name,
                    format!("parameter {name} must contain only alphanumeric characters, hyphen, or period"),
                ));
            }
            out = out.replace(&format!("{{{name}}}"), value);
        }
    }
    Ok(Some(out))
}

/// The body an error came with, for reading the modeled error's members.
pub enum ErrorBody {
    Json(Value),
    /// The `<Error>` element (or the document root when there is none).
    Xml(Option<xml::XmlNode>),
}

pub struct ParsedError {
    pub code: String,
    pub message: String,
    pub request_id: Option<String>,
    pub body: ErrorBody,
}

/// The model's exception shape for an error code: the operation's errors first, then any
/// exception of the service (matched by `error.code` or by shape name).
fn error_shape(model: &ServiceModel, op: &Operation, code: &str) -> Option<ShapeRef> {
    let matches = |name: &str| {
        model.is_exception_shape(name)
            && model.shape(name).is_ok_and(|s| {
                s.error.as_ref().and_then(|e| e.code.as_deref()) == Some(code) || name == code
            })
    };
    if let Some(r) = op.errors.iter().find(|r| matches(&r.shape)) {
        return Some(r.clone());
    }
    model
        .shape_names()
        .find(|name| matches(name))
        .map(|name| ShapeRef {
            shape: name.clone(),
            ..Default::default()
        })
}

/// Build the typed error, with the modeled error's members when the model has the shape.
pub fn api_error(
    model: &ServiceModel,
    op: &Operation,
    e: ParsedError,
    resp: &WireResponse,
) -> EngineError {
    let details = error_shape(model, op, &e.code).and_then(|r| {
        let shape = model.shape(&r.shape).ok()?;
        let mut out = match &e.body {
            ErrorBody::Json(body) => json::JsonReader { model }.structure(&r, body, true).ok()?,
            ErrorBody::Xml(Some(node)) => xml::XmlParser { model }.structure(shape, node).ok()?,
            ErrorBody::Xml(None) => Value::Object(Default::default()),
        };
        rest::parse_bound_members(model, shape, resp, &mut out).ok()?;
        Some(out)
    });
    EngineError::Api(Box::new(ApiError {
        code: e.code,
        message: e.message,
        http_status: resp.status,
        request_id: e.request_id,
        details,
    }))
}

/// A short description of an error response that carried no parsable error body.
pub fn status_text(resp: &WireResponse) -> String {
    let body = String::from_utf8_lossy(&resp.body);
    let body = body.trim();
    let reason = http::StatusCode::from_u16(resp.status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("error");
    if body.is_empty() || body.starts_with('<') {
        reason.to_string()
    } else {
        let mut b: String = body.chars().take(200).collect();
        b = b.replace(['\n', '\r'], " ");
        format!("{reason}: {b}")
    }
}
