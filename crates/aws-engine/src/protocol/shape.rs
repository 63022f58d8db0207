//! What every codec needs from a model and nothing else: a shape seen through one reference
//! to it (botocore merges the reference's traits over the shape), scalars to and from text,
//! percent-encoding, and the nesting limit every reader enforces.
//!
//! This module sits below the codecs (`json`, `xml`, `xml_write`, `form`, `cbor`), which sit
//! below the protocols; nothing here knows a protocol.

use base64::Engine as _;
use serde_json::Value;

use crate::model::{ServiceModel, Shape, ShapeRef, ShapeType, XmlNamespace};
use crate::timestamp::Timestamp;

/// How deep any reader follows nested data (a JSON value, a CBOR item, the shape walk of
/// the params validator) before it gives up with an error instead of growing the stack.
/// serde_json refuses text nested deeper than 128 on its own; the same figure holds for
/// every other reader. At this depth every reader fits in half of tokio's 2 MiB thread
/// stack in a debug build (`tests/readers.rs` runs them on 1 MiB).
pub const MAX_DEPTH: usize = 128;

/// The deepest XML element nesting read (elements, not levels of data: the deepest AWS
/// responses — ec2 instances, CloudFront distributions — nest about a dozen).
pub const MAX_XML_DEPTH: usize = 64;

/// Why a reader refused what it was given. The kind stays typed up to the engine's error
/// ([`ResponseError::TooDeep`](crate::error::ResponseError::TooDeep) or
/// [`Unparsable`](crate::error::ResponseError::Unparsable)); nothing reads it back from
/// the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ReadError {
    /// Nested deeper than the reader follows.
    TooDeep {
        /// What was nested: `the XML body`, `the response`...
        what: &'static str,
        /// The deepest nesting read.
        limit: usize,
    },
    /// Anything else, in one line.
    Invalid(String),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::TooDeep { what, limit } => {
                write!(f, "{what} is nested deeper than {limit} levels")
            }
            ReadError::Invalid(m) => f.write_str(m),
        }
    }
}

impl From<String> for ReadError {
    fn from(m: String) -> Self {
        ReadError::Invalid(m)
    }
}

impl From<&str> for ReadError {
    fn from(m: &str) -> Self {
        ReadError::Invalid(m.to_string())
    }
}

impl ReadError {
    /// The engine's error for the response of `operation` that could not be read.
    pub(crate) fn into_engine(self, operation: &str) -> crate::error::EngineError {
        match self {
            ReadError::TooDeep { what, limit } => crate::error::ResponseError::TooDeep {
                operation: operation.to_string(),
                what: what.to_string(),
                limit,
            }
            .into(),
            ReadError::Invalid(m) => crate::error::EngineError::parse(operation, m),
        }
    }
}

/// The error a reader gives for data nested deeper than it follows.
pub(crate) fn too_deep(what: &'static str, limit: usize) -> ReadError {
    ReadError::TooDeep { what, limit }
}

/// The serialization traits of a shape as seen through one reference to it.
pub(crate) struct Resolved<'a> {
    pub(crate) shape: &'a Shape,
    pub(crate) r: &'a ShapeRef,
}

impl<'a> Resolved<'a> {
    pub(crate) fn new(model: &'a ServiceModel, r: &'a ShapeRef) -> Result<Self, String> {
        Ok(Resolved {
            shape: model.shape(&r.shape).map_err(|e| e.to_string())?,
            r,
        })
    }
    pub(crate) fn location_name(&self) -> Option<&'a str> {
        self.r
            .location_name
            .as_deref()
            .or(self.shape.location_name.as_deref())
    }
    pub(crate) fn flattened(&self) -> bool {
        self.r.flattened || self.shape.flattened
    }
    pub(crate) fn timestamp_format(&self) -> Option<&'a str> {
        self.r
            .timestamp_format
            .as_deref()
            .or(self.shape.timestamp_format.as_deref())
    }
    /// `header`, `headers`, `uri`, `querystring`, `statusCode`, or none (the body).
    pub(crate) fn location(&self) -> Option<&'a str> {
        self.r
            .location
            .as_deref()
            .or(self.shape.location.as_deref())
    }
    pub(crate) fn jsonvalue(&self) -> bool {
        self.r.jsonvalue || self.shape.jsonvalue
    }
    pub(crate) fn xml_attribute(&self) -> bool {
        self.r.xml_attribute || self.shape.xml_attribute
    }
    pub(crate) fn xml_namespace(&self) -> Option<&'a XmlNamespace> {
        self.r
            .xml_namespace
            .as_ref()
            .or(self.shape.xml_namespace.as_ref())
    }
}

/// Members a response carries outside the body (read by the REST layer). A `uri` or
/// `querystring` member of an output shape is read from the body, as botocore does.
pub(crate) fn is_bound_in_response(model: &ServiceModel, member: &ShapeRef) -> bool {
    matches!(
        location(model, member),
        Some("header" | "headers" | "statusCode")
    )
}

/// A member's location, the reference's or else its shape's.
pub(crate) fn location<'a>(model: &'a ServiceModel, member: &'a ShapeRef) -> Option<&'a str> {
    member.location.as_deref().or_else(|| {
        model
            .shape(&member.shape)
            .ok()
            .and_then(|s| s.location.as_deref())
    })
}

/// The member that is the HTTP body: the operation reference's `payload`, else the shape's.
pub(crate) fn payload<'a>(r: &'a ShapeRef, shape: &'a Shape) -> Option<&'a str> {
    r.payload.as_deref().or(shape.payload.as_deref())
}

/// The name a member travels under: its `locationName` (reference, else shape), else its
/// own name.
pub(crate) fn wire_name<'a>(
    model: &'a ServiceModel,
    name: &'a str,
    member: &'a ShapeRef,
) -> &'a str {
    member
        .location_name
        .as_deref()
        .or_else(|| {
            model
                .shape(&member.shape)
                .ok()
                .and_then(|s| s.location_name.as_deref())
        })
        .unwrap_or(name)
}

/// What botocore returns for a union member the model does not know.
pub(crate) fn sdk_unknown_member(tag: &str) -> Value {
    serde_json::json!({"SDK_UNKNOWN_MEMBER": {"name": tag}})
}

/// A timestamp parameter: ISO 8601 text or epoch seconds.
pub(crate) fn timestamp_param(v: &Value) -> Option<Timestamp> {
    match v {
        Value::String(s) => Timestamp::parse(s),
        Value::Number(n) => n.as_f64().and_then(Timestamp::from_epoch),
        _ => None,
    }
}

/// A timestamp in one of the model's formats (`iso8601`, `rfc822`, `unixtimestamp`) as text.
pub(crate) fn timestamp_text(t: &Timestamp, format: &str) -> String {
    match format.to_ascii_lowercase().as_str() {
        "unixtimestamp" => t.to_epoch_value().to_string(),
        "rfc822" => t.to_rfc822(),
        _ => t.to_iso8601_wire(),
    }
}

/// A scalar parameter as text (query strings, form bodies, XML text, headers), as
/// botocore's serializers write it.
pub(crate) fn scalar_text(
    kind: ShapeType,
    ts_format: Option<&str>,
    v: &Value,
    default_ts: &str,
) -> Result<String, String> {
    Ok(match (kind, v) {
        (ShapeType::Boolean, Value::Bool(b)) => if *b { "true" } else { "false" }.to_string(),
        (ShapeType::Timestamp, _) => {
            let t = timestamp_param(v).ok_or("invalid timestamp")?;
            timestamp_text(&t, ts_format.unwrap_or(default_ts))
        }
        (ShapeType::Blob, Value::String(s)) => {
            base64::engine::general_purpose::STANDARD.encode(s.as_bytes())
        }
        (ShapeType::Float | ShapeType::Double, Value::Number(n)) => match n.as_f64() {
            Some(f) if n.is_f64() => python_float_str(f),
            _ => n.to_string(),
        },
        (_, Value::String(s)) => s.clone(),
        (_, Value::Number(n)) => n.to_string(),
        (_, Value::Bool(b)) => if *b { "True" } else { "False" }.to_string(),
        (_, other) => other.to_string(),
    })
}

/// `str(float)` as Python writes it (`1.0`, `0.1`, `1e+16`, `inf` written as botocore's
/// `Infinity`).
pub(crate) fn python_float_str(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    let s = serde_json::Number::from_f64(f)
        .map(|n| n.to_string())
        .unwrap_or_default();
    if s.contains('e') && !s.contains("e-") && !s.contains("e+") {
        s.replace('e', "e+")
    } else {
        s
    }
}

/// A scalar from its text, shared by XML bodies, headers and query strings.
pub(crate) fn scalar(shape: &Shape, ts_format: Option<&str>, text: &str) -> Result<Value, String> {
    Ok(match shape.kind {
        ShapeType::String | ShapeType::Other => Value::String(text.to_string()),
        ShapeType::Boolean => Value::Bool(text.trim() == "true"),
        ShapeType::Integer | ShapeType::Long => {
            let t = text.trim();
            Value::from(
                t.parse::<i64>()
                    .map_err(|_| format!("'{}' is not an integer", clip(t)))?,
            )
        }
        ShapeType::Float | ShapeType::Double => float_value(text.trim())?,
        ShapeType::Timestamp => timestamp_value(text, ts_format),
        ShapeType::Blob => {
            // Blobs travel base64-encoded; keep that text (the AWS CLI's rendering) after
            // checking it decodes.
            let t = text.trim();
            base64::engine::general_purpose::STANDARD
                .decode(t)
                .map_err(|_| format!("'{}' is not base64", clip(t)))?;
            Value::String(t.to_string())
        }
        ShapeType::Structure | ShapeType::List | ShapeType::Map => {
            return Err("aggregate shape where a scalar was expected".into())
        }
    })
}

/// At most 60 characters of a value quoted in an error message.
pub(crate) fn clip(s: &str) -> String {
    if s.chars().count() <= 60 {
        s.to_string()
    } else {
        s.chars().take(60).collect::<String>() + "..."
    }
}

/// A float from text; NaN and the infinities stay text, as JSON cannot hold them.
pub(crate) fn float_value(t: &str) -> Result<Value, String> {
    match t {
        "NaN" | "Infinity" | "-Infinity" => Ok(Value::String(t.to_string())),
        _ => {
            let f: f64 = t
                .parse()
                .map_err(|_| format!("'{}' is not a number", clip(t)))?;
            Ok(float_json(f))
        }
    }
}

/// A float as JSON: a number, or `"NaN"`/`"Infinity"`/`"-Infinity"`.
pub(crate) fn float_json(f: f64) -> Value {
    if f.is_nan() {
        Value::String("NaN".into())
    } else if f.is_infinite() {
        Value::String(if f > 0.0 { "Infinity" } else { "-Infinity" }.into())
    } else {
        serde_json::Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or(Value::Null)
    }
}

/// A timestamp rendered as boto3's datetime would print; text that is no timestamp is kept.
pub(crate) fn timestamp_value(text: &str, _format: Option<&str>) -> Value {
    match Timestamp::parse(text) {
        Some(t) => Value::String(t.to_isoformat()),
        None => Value::String(text.to_string()),
    }
}

/// Python's `urllib.parse.quote(s, safe=...)` over UTF-8: letters, digits, `_.-~` and the
/// bytes in `safe` stay, everything else is `%XX`.
pub(crate) fn percent_encode(s: &str, safe: &[u8]) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') || safe.contains(&b)
        {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_float_strings() {
        assert_eq!(python_float_str(1.0), "1.0");
        assert_eq!(python_float_str(0.1), "0.1");
        assert_eq!(python_float_str(1.5e300), "1.5e+300");
        assert_eq!(python_float_str(f64::NEG_INFINITY), "-Infinity");
    }

    #[test]
    fn percent_encoding_is_pythons_quote() {
        assert_eq!(percent_encode("a b/c~é", b""), "a%20b%2Fc~%C3%A9");
        assert_eq!(percent_encode("a b/c", b"/"), "a%20b/c");
    }
}
