//! Wire protocols: boto3-style params → HTTP request parts, HTTP response → boto3-shaped
//! JSON. Pure functions of (model, operation, data): no network, so the conformance vectors
//! drive them directly.
//!
//! Layers, each importing only from the ones below it:
//! - [`shape`]: a shape seen through a reference, scalars to and from text, the depth limit;
//! - codecs, one per format: [`json`], [`xml`] (one streaming reader for bodies and error
//!   bodies), [`xml_write`], [`form`] (query/ec2 params), [`cbor`];
//! - [`errors`]: error responses as botocore reads them, for every protocol;
//! - protocols: [`awsjson`], [`rest`] (rest-json and rest-xml), [`query`] (query and ec2),
//!   [`rpcv2cbor`] — no protocol imports another;
//! - this module: choosing the protocol, validation, idempotency tokens, host prefixes.

pub(crate) mod awsjson;
pub(crate) mod cbor;
pub(crate) mod errors;
pub(crate) mod events;
pub(crate) mod eventstream;
#[cfg(test)]
mod every_operation;
pub(crate) mod form;
pub(crate) mod json;
pub(crate) mod query;
pub(crate) mod rest;
pub(crate) mod rpcv2cbor;
pub(crate) mod shape;
pub(crate) mod validate;
pub(crate) mod xml;
#[cfg(test)]
mod xml_dom;
pub(crate) mod xml_write;

pub use shape::{MAX_DEPTH, MAX_XML_DEPTH};

use bytes::Bytes;
use serde_json::Value;

use super::error::EngineError;
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
    /// A parsed success response, or the service's error as `EngineError::Service`.
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
    static JSON: awsjson::AwsJson = awsjson::AwsJson;
    static REST_JSON: rest::Rest = rest::Rest { xml: false };
    static REST_XML: rest::Rest = rest::Rest { xml: true };
    static CBOR: rpcv2cbor::RpcV2Cbor = rpcv2cbor::RpcV2Cbor;
    match model.protocol() {
        "ec2" => Ok(&EC2),
        "query" => Ok(&QUERY),
        "json" => Ok(&JSON),
        "rest-json" => Ok(&REST_JSON),
        "rest-xml" => Ok(&REST_XML),
        "smithy-rpc-v2-cbor" => Ok(&CBOR),
        other => {
            Err(crate::error::ConstructionError::UnsupportedProtocol(other.to_string()).into())
        }
    }
}

/// The request as botocore's serializer makes it: validated, idempotency tokens filled,
/// serialized, host prefix expanded. No `Content-Length` yet (see [`prepare`]); this is
/// what the protocol vectors describe.
pub fn serialize_request(
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
    check_headers(op, &req)?;
    Ok(req)
}

/// The request as it is sent: [`serialize_request`], then [`prepare`].
pub fn serialize(
    model: &ServiceModel,
    op: &Operation,
    params: &Value,
) -> Result<WireRequest, EngineError> {
    let mut req = serialize_request(model, op, params)?;
    prepare(&mut req);
    Ok(req)
}

/// What botocore's `AWSRequestPreparer` adds: `Content-Length` on every request but GET,
/// HEAD and OPTIONS (`0` for an empty body), unless already set.
pub fn prepare(req: &mut WireRequest) {
    let bodyless = ["GET", "HEAD", "OPTIONS"]
        .iter()
        .any(|m| req.method.eq_ignore_ascii_case(m));
    if !bodyless
        && req.header("Content-Length").is_none()
        && req.header("Transfer-Encoding").is_none()
    {
        req.headers
            .push(("Content-Length".into(), req.body.len().to_string()));
    }
}

/// Headers go out exactly as they are signed: a name must be an HTTP token and a value
/// printable ASCII (the signer cannot sign other bytes the way a server reads them), else
/// the call is refused with a one-line error naming the header.
fn check_headers(op: &Operation, req: &WireRequest) -> Result<(), EngineError> {
    for (k, v) in &req.headers {
        let token = !k.is_empty()
            && k.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        if !token {
            return Err(EngineError::invalid(
                &op.name,
                format!("header name {k:?} is not a valid HTTP header name"),
            ));
        }
        if let Some(b) = v
            .bytes()
            .find(|b| !(*b == b'\t' || (0x20..0x7f).contains(b)))
        {
            let what = if b >= 0x80 {
                "non-ASCII characters"
            } else {
                "control characters"
            };
            return Err(EngineError::invalid(
                &op.name,
                format!(
                    "header {k}: the value has {what}, which cannot be signed as sent; use ASCII"
                ),
            ));
        }
    }
    Ok(())
}

/// A response as boto3 returns it (without `ResponseMetadata`), or the service's error as
/// `EngineError::Service`.
pub fn parse(
    model: &ServiceModel,
    op: &Operation,
    resp: &WireResponse,
) -> Result<Value, EngineError> {
    for_service(model)?.parse(model, op, resp)
}

/// A CBOR document as JSON, without a shape (bytes as base64, tag-1 timestamps as ISO 8601
/// text): for tools that compare CBOR bodies, such as the conformance runner.
pub fn cbor_to_json(bytes: &[u8]) -> Result<Value, EngineError> {
    cbor::decode(bytes)
        .and_then(|c| cbor::raw(&c, 0))
        .map_err(|m| m.into_engine("CBOR"))
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
    let h = |r: std::ops::Range<usize>| hex::encode(b.get(r).unwrap_or_default());
    format!(
        "{}-{}-{}-{}-{}",
        h(0..4),
        h(4..6),
        h(6..8),
        h(8..10),
        h(10..16)
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
