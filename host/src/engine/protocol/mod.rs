//! Wire protocols: boto3-style params → HTTP request parts, HTTP response → boto3-shaped
//! JSON. Pure functions of (model, operation, data): no network, so the conformance vectors
//! drive them directly.

pub mod query;
pub mod validate;
pub mod xml;

use bytes::Bytes;
use serde_json::Value;

use super::error::EngineError;
use super::model::{Operation, ServiceModel};

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

/// The protocol implementation for a service (see `ServiceModel::protocol`).
pub fn for_service(model: &ServiceModel) -> Result<&'static dyn Protocol, EngineError> {
    static EC2: query::Query = query::Query { ec2: true };
    static QUERY: query::Query = query::Query { ec2: false };
    match model.protocol() {
        "ec2" => Ok(&EC2),
        "query" => Ok(&QUERY),
        other => Err(EngineError::UnsupportedProtocol(other.to_string())),
    }
}

/// Validate then serialize.
pub fn serialize(
    model: &ServiceModel,
    op: &Operation,
    params: &Value,
) -> Result<WireRequest, EngineError> {
    validate::validate(model, op.input.as_ref(), params)
        .map_err(|m| EngineError::invalid(&op.name, m))?;
    for_service(model)?.serialize(model, op, params)
}

pub fn parse(
    model: &ServiceModel,
    op: &Operation,
    resp: &WireResponse,
) -> Result<Value, EngineError> {
    for_service(model)?.parse(model, op, resp)
}

/// A short description of an error response that carried no parsable error body.
pub fn status_text(resp: &WireResponse) -> String {
    let body = String::from_utf8_lossy(&resp.body);
    let body = body.trim();
    let reason = http::StatusCode::from_u16(resp.status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("error");
    if body.is_empty() {
        reason.to_string()
    } else {
        let mut b: String = body.chars().take(200).collect();
        b = b.replace(['\n', '\r'], " ");
        format!("{reason}: {b}")
    }
}
