//! `rest-json` and `rest-xml` (botocore's `BaseRestSerializer`/`BaseRestParser` and their
//! JSON and XML subclasses): members bound to the URI path, the query string, headers and
//! the status code, plus a JSON or XML body or a raw payload.

use base64::Engine as _;
use indexmap::IndexMap;
use serde_json::{Map, Value};

use super::errors::{self, bound_members};
use super::events;
use super::json::{self, JsonReader, JsonWriter};
use super::shape::{
    percent_encode, python_float_str, scalar_text, timestamp_param, ReadError, Resolved,
};
use super::xml;
use super::xml_write::XmlWriter;
use super::{Protocol, WireRequest, WireResponse};
use crate::error::EngineError;
use crate::model::{Operation, ServiceModel, Shape, ShapeRef, ShapeType};

/// The REST protocols; `xml` picks the body codec.
pub(crate) struct Rest {
    pub(crate) xml: bool,
}

/// A label or query-string value as text (botocore's `_get_uri_and_query_string_value`:
/// booleans lower case, timestamps ISO 8601 unless modeled otherwise, floats as Python
/// prints them).
fn uri_value(model: &ServiceModel, r: &ShapeRef, v: &Value) -> Result<String, String> {
    let res = Resolved::new(model, r)?;
    scalar_text(res.shape.kind, res.timestamp_format(), v, "iso8601")
}

/// A header value (botocore's `_convert_header_value`): timestamps as HTTP dates unless
/// modeled otherwise, lists joined with `,` (strings with a comma or a quote quoted),
/// `jsonvalue` strings as base64 of compact JSON.
fn header_value(model: &ServiceModel, r: &ShapeRef, v: &Value) -> Result<String, String> {
    let res = Resolved::new(model, r)?;
    let shape = res.shape;
    Ok(match shape.kind {
        ShapeType::Timestamp => {
            let t = timestamp_param(v).ok_or("invalid timestamp")?;
            // botocore goes through whole epoch seconds first.
            let t = crate::timestamp::Timestamp::from_epoch(t.0.unix_timestamp() as f64)
                .ok_or("invalid timestamp")?;
            super::shape::timestamp_text(&t, res.timestamp_format().unwrap_or("rfc822"))
        }
        ShapeType::List => {
            let member = shape.member.as_ref().ok_or("list without member")?;
            let mres = Resolved::new(model, member)?;
            let mut parts = Vec::new();
            for item in v.as_array().ok_or("expected a list")? {
                if item.is_null() {
                    continue;
                }
                match (mres.shape.kind, item) {
                    (ShapeType::String, Value::String(s)) if s.contains('"') || s.contains(',') => {
                        parts.push(format!("\"{}\"", s.replace('"', "\\\"")));
                    }
                    (ShapeType::String, Value::String(s)) => parts.push(s.clone()),
                    _ => parts.push(header_value(model, member, item)?),
                }
            }
            parts.join(",")
        }
        ShapeType::String if res.jsonvalue() => base64::engine::general_purpose::STANDARD
            .encode(serde_json::to_string(v).map_err(|e| e.to_string())?),
        ShapeType::Float | ShapeType::Double => match v {
            Value::Number(n) if n.is_f64() => python_float_str(n.as_f64().unwrap_or_default()),
            other => scalar_text(shape.kind, None, other, "iso8601")?,
        },
        _ => scalar_text(shape.kind, None, v, "iso8601")?,
    })
}

/// A query-string value given for a `querystring` map: its text, or each item of a list.
fn raw_query_values(v: &Value) -> Vec<String> {
    match v {
        Value::Array(items) => items.iter().flat_map(raw_query_values).collect(),
        Value::String(s) => vec![s.clone()],
        Value::Bool(b) => vec![if *b { "True" } else { "False" }.to_string()],
        Value::Null => vec![],
        other => vec![other.to_string()],
    }
}

impl Rest {
    fn bind(
        &self,
        model: &ServiceModel,
        op: &Operation,
        params: &Value,
    ) -> Result<WireRequest, String> {
        let mut req = WireRequest::new(&op.http.method, "/");
        let Some(input) = &op.input else {
            req.path = op.http.request_uri.clone();
            return Ok(req);
        };
        let shape = model.shape(&input.shape).map_err(|e| e.to_string())?;
        let mut labels: Vec<(String, String)> = Vec::new();
        // Keyed as botocore's dicts: a later value for a name replaces an earlier one in
        // its place.
        let mut query: IndexMap<String, Vec<String>> = IndexMap::new();
        let mut headers: IndexMap<String, String> = IndexMap::new();
        let mut body_params = Map::new();
        for (name, v) in params.as_object().into_iter().flatten() {
            if v.is_null() {
                continue;
            }
            let member = shape
                .members
                .get(name)
                .ok_or_else(|| format!("unknown member {name}"))?;
            let mres = Resolved::new(model, member)?;
            let key = mres.location_name().unwrap_or(name).to_string();
            match mres.location() {
                Some("uri") => labels.push((key, uri_value(model, member, v)?)),
                Some("querystring") => {
                    let res = Resolved::new(model, member)?;
                    match (res.shape.kind, v) {
                        (_, Value::Object(m)) => {
                            for (k, x) in m {
                                query.insert(k.clone(), raw_query_values(x));
                            }
                        }
                        (ShapeType::List, Value::Array(items)) => {
                            let m = res.shape.member.as_ref().ok_or("list without member")?;
                            let values = items
                                .iter()
                                .map(|i| uri_value(model, m, i))
                                .collect::<Result<Vec<_>, _>>()?;
                            query.insert(key, values);
                        }
                        _ => {
                            query.insert(key, vec![uri_value(model, member, v)?]);
                        }
                    }
                }
                Some("header") => {
                    let res = Resolved::new(model, member)?;
                    if res.shape.kind == ShapeType::List
                        && v.as_array().is_some_and(|a| a.is_empty())
                    {
                        continue; // empty lists are not sent
                    }
                    headers.insert(key, header_value(model, member, v)?);
                }
                Some("headers") => {
                    for (k, x) in v.as_object().into_iter().flatten() {
                        let text = match x {
                            Value::String(s) => s.clone(),
                            other => other.to_string(),
                        };
                        headers.insert(format!("{key}{k}"), text);
                    }
                }
                _ => {
                    body_params.insert(name.clone(), v.clone());
                }
            }
        }
        req.path = render_uri(&op.http.request_uri, &labels)?;
        if !query.is_empty() {
            let qs: Vec<String> = query
                .iter()
                .flat_map(|(k, vs)| {
                    vs.iter().map(move |v| {
                        format!("{}={}", percent_encode(k, b""), percent_encode(v, b""))
                    })
                })
                .collect();
            if !qs.is_empty() {
                req.path
                    .push(if req.path.contains('?') { '&' } else { '?' });
                req.path.push_str(&qs.join("&"));
            }
        }
        req.headers = headers.into_iter().collect();
        self.body(model, input, shape, params, &body_params, &mut req)?;
        Ok(req)
    }

    /// botocore's `_serialize_payload` and `_serialize_content_type`.
    fn body(
        &self,
        model: &ServiceModel,
        input: &ShapeRef,
        shape: &Shape,
        params: &Value,
        body_params: &Map<String, Value>,
        req: &mut WireRequest,
    ) -> Result<(), String> {
        let has_content_type = req.header("Content-Type").is_some();
        if let Some(payload) = super::shape::payload(input, shape) {
            let member = shape.members.get(payload).ok_or("payload member missing")?;
            let res = Resolved::new(model, member)?;
            let target = res.shape;
            let value = params.get(payload).filter(|v| !v.is_null());
            if matches!(target.kind, ShapeType::Blob | ShapeType::String) {
                // A raw payload: the bytes as given.
                if let Some(v) = value {
                    req.body = match v {
                        Value::String(s) => s.clone().into_bytes().into(),
                        other => other.to_string().into_bytes().into(),
                    };
                    if !has_content_type {
                        let ct = if target.kind == ShapeType::Blob {
                            "application/octet-stream"
                        } else {
                            "text/plain"
                        };
                        req.headers.push(("Content-Type".into(), ct.into()));
                    }
                }
                return Ok(());
            }
            match value {
                Some(v) if self.xml => {
                    let name = res.location_name().unwrap_or(payload);
                    let mut out = String::new();
                    XmlWriter { model }.write(member, v, name, &mut out)?;
                    req.body = out.into_bytes().into();
                }
                Some(v) if target.document => {
                    req.body = serde_json::to_vec(v).map_err(|e| e.to_string())?.into();
                }
                Some(v) => {
                    let json = JsonWriter { model }.value(member, v)?;
                    req.body = serde_json::to_vec(&json).map_err(|e| e.to_string())?.into();
                }
                None if !self.xml => req.body = b"{}".to_vec().into(),
                None => {}
            }
        } else if !body_params.is_empty() {
            if self.xml {
                // The root element: the input reference's name, else the shape's.
                let root = input
                    .location_name
                    .as_deref()
                    .or(shape.location_name.as_deref())
                    .unwrap_or(&input.shape);
                let mut root_ref = input.clone();
                root_ref.xml_namespace = input
                    .xml_namespace
                    .clone()
                    .or_else(|| shape.xml_namespace.clone());
                let mut out = String::new();
                XmlWriter { model }.write(
                    &root_ref,
                    &Value::Object(body_params.clone()),
                    root,
                    &mut out,
                )?;
                req.body = out.into_bytes().into();
            } else {
                let body = JsonWriter { model }
                    .body_members(input, &Value::Object(body_params.clone()))?;
                req.body = serde_json::to_vec(&body).map_err(|e| e.to_string())?.into();
            }
        } else if !self.xml
            && shape
                .members
                .values()
                .any(|m| super::shape::location(model, m).is_none())
        {
            req.body = b"{}".to_vec().into();
        }
        // rest-json labels a structured body; botocore sends rest-xml bodies untyped.
        if !self.xml && !req.body.is_empty() && !has_content_type {
            req.headers
                .push(("Content-Type".into(), "application/json".into()));
        }
        Ok(())
    }
}

/// Fill `{Label}` and `{Label+}` in a request URI, each value percent-encoded as botocore
/// encodes it (greedy labels keep `/`). A `.` or `..` segment is sent with its dots
/// percent-encoded, so no server or proxy on the way can take it for a relative step.
pub(crate) fn render_uri(template: &str, labels: &[(String, String)]) -> Result<String, String> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some((head, after)) = rest.split_once('{') {
        out.push_str(head);
        let (label, tail) = after.split_once('}').ok_or("unbalanced URI template")?;
        let (name, greedy) = match label.strip_suffix('+') {
            Some(n) => (n, true),
            None => (label, false),
        };
        let value = labels
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .ok_or_else(|| format!("missing required URI parameter {name}"))?;
        if value.is_empty() {
            return Err(format!("URI parameter {name} must not be empty"));
        }
        let encoded = percent_encode(value, if greedy { b"/" } else { b"" });
        let segments: Vec<&str> = encoded
            .split('/')
            .map(|seg| match seg {
                "." => "%2E",
                ".." => "%2E%2E",
                other => other,
            })
            .collect();
        out.push_str(&segments.join("/"));
        rest = tail;
    }
    out.push_str(rest);
    Ok(out)
}

impl Protocol for Rest {
    fn serialize(
        &self,
        model: &ServiceModel,
        op: &Operation,
        params: &Value,
    ) -> Result<WireRequest, EngineError> {
        self.bind(model, op, params)
            .map_err(|m| EngineError::invalid(&op.name, m))
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
                None if self.xml => errors::xml_error(resp, false).map_err(perr)?,
                None => {
                    let body = json::parse_body(&resp.body).map_err(perr)?;
                    errors::json_error(resp, body, true)
                }
            };
            return Err(errors::api_error(model, op, parsed, resp));
        }
        if self.xml && model.name == "s3" {
            if let Some(r) = s3_quirks(model, op, resp)? {
                return r;
            }
        }
        let Some(output) = &op.output else {
            return Ok(Value::Object(Map::new()));
        };
        let shape = model.shape(&output.shape)?;
        // Members bound to headers and the status come first, then the body's, as in
        // botocore's parsed dict.
        let mut out = Value::Object(Map::new());
        bound_members(model, shape, resp, &mut out).map_err(|m| perr(m.into()))?;
        let Value::Object(mut merged) = out else {
            return Ok(Value::Object(Map::new()));
        };
        if let Some(payload) = super::shape::payload(output, shape) {
            let member = shape
                .members
                .get(payload)
                .ok_or_else(|| perr("payload member missing".into()))?;
            let target = model.shape(&member.shape)?;
            let value = match target.kind {
                _ if target.eventstream => {
                    let messages = events::messages(&resp.body).map_err(perr)?;
                    let read = |r: &ShapeRef, whole: bool, bytes: &[u8]| {
                        self.event_payload(model, r, whole, bytes)
                    };
                    Some(events::events(model, member, &messages, &read).map_err(perr)?)
                }
                ShapeType::Blob => Some(Value::String(
                    base64::engine::general_purpose::STANDARD.encode(&resp.body),
                )),
                ShapeType::String => Some(Value::String(
                    String::from_utf8_lossy(&resp.body).into_owned(),
                )),
                _ if self.xml && resp.body.is_empty() => Some(self.empty_xml(model, member)?),
                _ if self.xml => {
                    Some(xml::parse_body(model, xml::Root::Ref(member), &resp.body).map_err(perr)?)
                }
                _ => {
                    let body = json::parse_body(&resp.body).map_err(perr)?;
                    Some(JsonReader { model }.value(member, &body).map_err(perr)?)
                }
            };
            if let Some(v) = value {
                merged.insert(payload.to_string(), v);
            }
        } else {
            let body = if self.xml {
                if resp.body.is_empty() {
                    Value::Object(Map::new())
                } else {
                    let root = xml::Root::Structure {
                        shape,
                        wrapper: None,
                    };
                    xml::parse_body(model, root, &resp.body).map_err(perr)?
                }
            } else {
                let body = json::parse_body(&resp.body).map_err(perr)?;
                JsonReader { model }
                    .structure(output, &body, true)
                    .map_err(perr)?
            };
            if let Value::Object(b) = body {
                for (k, v) in b {
                    merged.insert(k, v);
                }
            }
        }
        Ok(Value::Object(merged))
    }
}

impl Rest {
    /// One event's payload in the body format: the structure `r` (`whole`) or a value of
    /// the member `r`.
    fn event_payload(
        &self,
        model: &ServiceModel,
        r: &ShapeRef,
        whole: bool,
        bytes: &[u8],
    ) -> Result<Value, ReadError> {
        if self.xml {
            if bytes.is_empty() {
                return Ok(Value::Object(Map::new()));
            }
            if whole {
                let shape = model
                    .shape(&r.shape)
                    .map_err(|e| ReadError::Invalid(e.to_string()))?;
                let root = xml::Root::Structure {
                    shape,
                    wrapper: None,
                };
                xml::parse_body(model, root, bytes)
            } else {
                xml::parse_body(model, xml::Root::Ref(r), bytes)
            }
        } else {
            let body = json::parse_body(bytes)?;
            if whole {
                JsonReader { model }.structure(r, &body, true)
            } else {
                JsonReader { model }.value(r, &body)
            }
        }
    }

    /// What botocore makes of an empty XML body for a payload member (an empty element).
    fn empty_xml(&self, model: &ServiceModel, member: &ShapeRef) -> Result<Value, EngineError> {
        let shape = model.shape(&member.shape)?;
        Ok(match shape.kind {
            ShapeType::List => Value::Array(vec![]),
            ShapeType::Structure | ShapeType::Map => Value::Object(Map::new()),
            _ => Value::String(String::new()),
        })
    }
}

/// S3's departures from the model (botocore handlers): `GetBucketLocation`'s body is the
/// bare constraint, and some operations answer 200 with an `<Error>` body.
fn s3_quirks(
    model: &ServiceModel,
    op: &Operation,
    resp: &WireResponse,
) -> Result<Option<Result<Value, EngineError>>, EngineError> {
    if resp.body.is_empty() || !resp.body.trim_ascii_start().starts_with(b"<") {
        return Ok(None);
    }
    if op.name == "GetBucketLocation" {
        let tree = xml::read_tree(&resp.body).map_err(|m| m.into_engine(&op.name))?;
        let mut m = Map::new();
        if !tree.text.trim().is_empty() {
            m.insert(
                "LocationConstraint".into(),
                Value::String(tree.text.trim().to_string()),
            );
        }
        return Ok(Some(Ok(Value::Object(m))));
    }
    if xml::root_name(&resp.body).as_deref() == Some("Error") {
        let is_error = xml::read_tree(&resp.body)
            .map(|t| t.children.contains_key("Code"))
            .unwrap_or(false);
        if is_error {
            let mut r = resp.clone();
            r.status = 500;
            let parsed = errors::xml_error(&r, false).map_err(|m| m.into_engine(&op.name))?;
            return Ok(Some(Err(errors::api_error(model, op, parsed, &r))));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_templates_encode_labels() {
        let labels = vec![
            ("Bucket".to_string(), "b".to_string()),
            ("Key".to_string(), "a b/c".to_string()),
        ];
        assert_eq!(
            render_uri("/{Bucket}/{Key+}", &labels).unwrap(),
            "/b/a%20b/c"
        );
        assert_eq!(
            render_uri("/x/{Key}?tagging", &labels).unwrap(),
            "/x/a%20b%2Fc?tagging"
        );
        assert!(render_uri("/{Missing}", &labels).is_err());
    }

    #[test]
    fn dot_segments_never_leave_unencoded() {
        let labels = vec![
            ("Bucket".to_string(), "..".to_string()),
            (
                "Key".to_string(),
                "../../2015-03-31/functions/./victim".to_string(),
            ),
        ];
        assert_eq!(
            render_uri("/{Bucket}/{Key+}", &labels).unwrap(),
            "/%2E%2E/%2E%2E/%2E%2E/2015-03-31/functions/%2E/victim"
        );
        // Dots inside a segment are ordinary characters.
        let labels = vec![("Key".to_string(), "a..b/.c".to_string())];
        assert_eq!(render_uri("/{Key+}", &labels).unwrap(), "/a..b/.c");
    }
}
