//! smithy-rpc-v2-cbor (botocore's `RpcV2CBORSerializer`/`RpcV2CBORParser`): every
//! operation is a POST of a CBOR document to `/service/{targetPrefix}/operation/{name}`.

use serde_json::{Map, Value};

use super::cbor::{self, CborReader, CborWriter};
use super::errors;
use super::events;
use super::shape::ReadError;
use super::{Protocol, WireRequest, WireResponse};
use crate::error::EngineError;
use crate::model::{Operation, ServiceModel};

pub(crate) struct RpcV2Cbor;

impl Protocol for RpcV2Cbor {
    fn serialize(
        &self,
        model: &ServiceModel,
        op: &Operation,
        params: &Value,
    ) -> Result<WireRequest, EngineError> {
        let path = format!(
            "/service/{}/operation/{}",
            model.metadata.target_prefix.as_deref().unwrap_or_default(),
            op.name
        );
        let mut req = WireRequest::new("POST", &path);
        if let Some(input) = &op.input {
            req.body = CborWriter { model }
                .encode(input, params)
                .map_err(|m| EngineError::invalid(&op.name, m))?
                .into();
        }
        req.headers
            .push(("smithy-protocol".into(), "rpc-v2-cbor".into()));
        if model.metadata.aws_query_compatible.is_some() {
            req.headers
                .push(("x-amzn-query-mode".into(), "true".into()));
        }
        let media = if op_has_event_stream_output(model, op) {
            "application/vnd.amazon.eventstream"
        } else {
            "application/cbor"
        };
        req.headers.push(("Accept".into(), media.into()));
        if !req.body.is_empty() {
            req.headers.push(("Content-Type".into(), media.into()));
        }
        Ok(req)
    }

    fn parse(
        &self,
        model: &ServiceModel,
        op: &Operation,
        resp: &WireResponse,
    ) -> Result<Value, EngineError> {
        let perr = |e: ReadError| e.into_engine(&op.name);
        if resp.status >= 301 {
            let parsed = match errors::generic(resp) {
                Some(p) => p,
                None if resp.body.is_empty() => {
                    errors::cbor_error(resp, cbor::Cbor::Map(Vec::new()))
                }
                None => errors::cbor_error(resp, cbor::decode(&resp.body).map_err(perr)?),
            };
            return Err(errors::api_error(model, op, parsed, resp));
        }
        let Some(output) = &op.output else {
            return Ok(Value::Object(Map::new()));
        };
        let shape = model.shape(&output.shape)?;
        if let Some((name, stream)) = events::stream_member(model, shape) {
            let messages = events::messages(&resp.body).map_err(perr)?;
            let (first, rest) = messages
                .split_first()
                .filter(|(m, _)| {
                    m.header(":event-type").and_then(|v| v.as_str()) == Some("initial-response")
                })
                .ok_or_else(|| perr("First event was not of type initial-response".into()))?;
            let reader = CborReader { model };
            let mut out = if first.payload.is_empty() {
                Value::Object(Map::new())
            } else {
                let body = cbor::decode(&first.payload).map_err(perr)?;
                reader.structure(output, &body).map_err(perr)?
            };
            let read = |r: &crate::model::ShapeRef, whole: bool, bytes: &[u8]| {
                let body = if bytes.is_empty() {
                    cbor::Cbor::Map(Vec::new())
                } else {
                    cbor::decode(bytes)?
                };
                if whole {
                    reader.structure(r, &body)
                } else {
                    reader.value(r, &body)
                }
            };
            let stream_events = events::events(model, stream, rest, &read).map_err(perr)?;
            if let Value::Object(m) = &mut out {
                m.insert(name.clone(), stream_events);
            }
            return Ok(out);
        }
        if resp.body.is_empty() {
            return Ok(Value::Object(Map::new()));
        }
        let body = cbor::decode(&resp.body).map_err(perr)?;
        CborReader { model }.structure(output, &body).map_err(perr)
    }
}

/// Whether the output has an event-stream member (botocore's `has_event_stream_output`).
fn op_has_event_stream_output(model: &ServiceModel, op: &Operation) -> bool {
    let Some(out) = op.output.as_ref().and_then(|o| model.shape(&o.shape).ok()) else {
        return false;
    };
    out.members
        .values()
        .any(|m| model.shape(&m.shape).is_ok_and(|s| s.eventstream))
}
