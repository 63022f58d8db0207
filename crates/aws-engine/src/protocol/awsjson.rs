//! The `json` protocol (awsJson 1.0/1.1, botocore's `JSONSerializer`/`JSONParser`): every
//! operation is a POST of a JSON document named by `X-Amz-Target`.

use serde_json::{Map, Value};

use super::errors;
use super::events;
use super::json::{self, JsonReader, JsonWriter};
use super::shape::ReadError;
use super::{Protocol, WireRequest, WireResponse};
use crate::error::EngineError;
use crate::model::{Operation, ServiceModel};

pub(crate) struct AwsJson;

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
            Some(input) => JsonWriter { model }
                .value(input, params)
                .map_err(|m| EngineError::invalid(&op.name, m))?,
            None => Value::Object(Map::new()),
        };
        req.body = serde_json::to_vec(&body)
            .map_err(|e| EngineError::invalid(&op.name, e.to_string()))?
            .into();
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
                None => {
                    let body = json::parse_body(&resp.body).map_err(perr)?;
                    errors::json_error(resp, body, false)
                }
            };
            return Err(errors::api_error(model, op, parsed, resp));
        }
        let Some(output) = &op.output else {
            return Ok(Value::Object(Map::new()));
        };
        let shape = model.shape(&output.shape)?;
        if let Some((name, stream)) = events::stream_member(model, shape) {
            // The first message is the initial response (the output's other members);
            // the events follow.
            let messages = events::messages(&resp.body).map_err(perr)?;
            let (first, rest) = messages
                .split_first()
                .filter(|(m, _)| {
                    m.header(":event-type").and_then(|v| v.as_str()) == Some("initial-response")
                })
                .ok_or_else(|| perr("First event was not of type initial-response".into()))?;
            let body = json::parse_body(&first.payload).map_err(perr)?;
            let mut out = JsonReader { model }
                .structure(output, &body, false)
                .map_err(perr)?;
            let read = |r: &crate::model::ShapeRef, whole: bool, bytes: &[u8]| {
                let body = json::parse_body(bytes)?;
                if whole {
                    JsonReader { model }.structure(r, &body, false)
                } else {
                    JsonReader { model }.value(r, &body)
                }
            };
            let stream_events = events::events(model, stream, rest, &read).map_err(perr)?;
            if let Value::Object(m) = &mut out {
                m.insert(name.clone(), stream_events);
            }
            return Ok(out);
        }
        let body = json::parse_body(&resp.body).map_err(perr)?;
        JsonReader { model }
            .structure(output, &body, false)
            .map_err(perr)
    }
}
