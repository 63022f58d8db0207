//! Event-stream responses as botocore's `EventStream` + `BaseEventStreamParser` read them:
//! each message of type `event` becomes `{EventType: {...}}` (members from headers marked
//! `eventheader`, the payload as the `eventpayload` member or as the whole event), an
//! unknown event type `{}`; an `error` or `exception` message ends the stream with its code
//! and message. boto3 hands out a lazy iterator; the engine, whose results are JSON, returns
//! the events as a list. Shared by the protocols; the payload format is theirs.

use base64::Engine as _;
use serde_json::{Map, Value};

use super::eventstream::{self, HeaderValue, Message};
use super::shape::{ReadError, Resolved};
use crate::model::{ServiceModel, ShapeRef, ShapeType};
use crate::timestamp::Timestamp;

/// Reads one payload in the protocol's format: as the structure `r` (`whole`), or as a
/// value of the member `r`.
pub(crate) type PayloadReader<'a> = &'a dyn Fn(&ShapeRef, bool, &[u8]) -> Result<Value, ReadError>;

/// The messages of an event-stream body.
pub(crate) fn messages(body: &[u8]) -> Result<Vec<Message>, ReadError> {
    eventstream::decode(body).map_err(ReadError::Invalid)
}

fn text<'m>(m: &'m Message, name: &str) -> &'m str {
    m.header(name)
        .and_then(HeaderValue::as_str)
        .unwrap_or_default()
}

/// The events of `messages` as members of the event-stream shape `stream`.
pub(crate) fn events(
    model: &ServiceModel,
    stream: &ShapeRef,
    messages: &[Message],
    read: PayloadReader<'_>,
) -> Result<Value, ReadError> {
    let shape = model.shape(&stream.shape).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for m in messages {
        match m
            .header(":message-type")
            .and_then(HeaderValue::as_str)
            .unwrap_or("event")
        {
            "error" => {
                return Err(format!(
                    "the event stream ended with an error: {}: {}",
                    text(m, ":error-code"),
                    text(m, ":error-message")
                )
                .into())
            }
            "exception" => {
                let message = exception_message(m);
                return Err(format!(
                    "the event stream ended with an exception: {}: {message}",
                    text(m, ":exception-type")
                )
                .into());
            }
            _ => {}
        }
        let event_type = text(m, ":event-type");
        let mut event = Map::new();
        if let Some(member) = shape.members.get(event_type) {
            event.insert(event_type.to_string(), one_event(model, member, m, read)?);
        }
        out.push(Value::Object(event));
    }
    Ok(Value::Array(out))
}

/// An exception message's text: its payload's `Message`/`message`, else the payload.
fn exception_message(m: &Message) -> String {
    let body = String::from_utf8_lossy(&m.payload);
    serde_json::from_str::<Value>(&body)
        .ok()
        .and_then(|v| {
            v.get("Message")
                .or_else(|| v.get("message"))
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .unwrap_or_else(|| body.chars().take(200).collect())
}

fn one_event(
    model: &ServiceModel,
    event_ref: &ShapeRef,
    m: &Message,
    read: PayloadReader<'_>,
) -> Result<Value, ReadError> {
    let shape = model.shape(&event_ref.shape).map_err(|e| e.to_string())?;
    let mut out = Map::new();
    for (name, member) in &shape.members {
        if !member.event_header {
            continue;
        }
        if let Some(v) = m.header(name) {
            let kind = Resolved::new(model, member)?.shape.kind;
            let value = match (kind, v) {
                (ShapeType::Timestamp, HeaderValue::Int(ms) | HeaderValue::Time(ms)) => {
                    Timestamp::from_epoch(*ms as f64 / 1000.0)
                        .map(|t| Value::String(t.to_isoformat()))
                        .unwrap_or_else(|| Value::from(*ms))
                }
                _ => v.to_json(),
            };
            out.insert(name.clone(), value);
        }
    }
    match shape.members.iter().find(|(_, m)| m.event_payload) {
        Some((name, member)) => {
            let kind = Resolved::new(model, member)?.shape.kind;
            let value = match kind {
                ShapeType::Blob => {
                    Value::String(base64::engine::general_purpose::STANDARD.encode(&m.payload))
                }
                ShapeType::String => {
                    Value::String(String::from_utf8_lossy(&m.payload).into_owned())
                }
                _ => read(member, false, &m.payload)?,
            };
            out.insert(name.clone(), value);
        }
        None => {
            if let Value::Object(body) = read(event_ref, true, &m.payload)? {
                out.extend(body);
            }
        }
    }
    Ok(Value::Object(out))
}

/// The member of a structure whose shape is an event stream (botocore's
/// `event_stream_name`).
pub(crate) fn stream_member<'m>(
    model: &'m ServiceModel,
    shape: &'m crate::model::Shape,
) -> Option<(&'m String, &'m ShapeRef)> {
    shape
        .members
        .iter()
        .find(|(_, m)| model.shape(&m.shape).is_ok_and(|s| s.eventstream))
}
