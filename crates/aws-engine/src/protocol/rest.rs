//! `rest-json` and `rest-xml`: members bound to the URI path, the query string, headers and
//! the status code, plus a JSON or XML body (or a raw payload).

use base64::Engine as _;
use serde_json::{Map, Value};

use super::json::{parse_json_error, timestamp_param, JsonReader, JsonWriter};
use super::query::{parse_xml_error, python_float_str, scalar_text};
use super::xml::{self, Resolved};
use super::xml_stream;
use super::{Protocol, WireRequest, WireResponse};
use crate::error::EngineError;
use crate::model::{Operation, ServiceModel, Shape, ShapeRef, ShapeType, XmlNamespace};

pub struct Rest {
    pub xml: bool,
}

/// RFC 3986 percent-encoding as botocore's `percent_encode` does it: unreserved characters
/// stay, everything else is `%XX`; `keep_slash` for greedy labels.
pub fn percent_encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b'/' if keep_slash => out.push('/'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A scalar for the URI or the query string (timestamps default to ISO 8601).
fn uri_value(model: &ServiceModel, r: &ShapeRef, v: &Value) -> Result<String, String> {
    let res = Resolved::new(model, r)?;
    scalar_text(res.shape.kind, res.timestamp_format(), v, "iso8601")
}

/// A header value (timestamps default to the HTTP date; lists are comma-joined;
/// `jsonvalue` strings travel as base64 JSON).
fn header_value(model: &ServiceModel, r: &ShapeRef, v: &Value) -> Result<String, String> {
    let res = Resolved::new(model, r)?;
    let shape = res.shape;
    Ok(match shape.kind {
        ShapeType::Timestamp => {
            let t = timestamp_param(v).ok_or("invalid timestamp")?;
            match res
                .timestamp_format()
                .unwrap_or("rfc822")
                .to_ascii_lowercase()
                .as_str()
            {
                "iso8601" => t.to_iso8601_wire(),
                "unixtimestamp" => t.to_epoch_value().to_string(),
                _ => t.to_rfc822(),
            }
        }
        ShapeType::List => {
            let member = shape.member.as_ref().ok_or("list without member")?;
            let mres = Resolved::new(model, member)?;
            let mut parts = Vec::new();
            for item in v.as_array().ok_or("expected a list")? {
                if item.is_null() {
                    continue;
                }
                if mres.shape.kind == ShapeType::String {
                    let s = item.as_str().unwrap_or_default();
                    if s.contains('"') || s.contains(',') {
                        parts.push(format!("\"{}\"", s.replace('"', "\\\"")));
                    } else {
                        parts.push(s.to_string());
                    }
                } else {
                    parts.push(header_value(model, member, item)?);
                }
            }
            parts.join(", ")
        }
        ShapeType::String if r.jsonvalue => base64::engine::general_purpose::STANDARD
            .encode(serde_json::to_string(v).unwrap_or_default()),
        ShapeType::Float | ShapeType::Double => match v {
            Value::Number(n) if n.is_f64() => python_float_str(n.as_f64().unwrap_or_default()),
            other => scalar_text(shape.kind, None, other, "iso8601")?,
        },
        _ => scalar_text(shape.kind, None, v, "iso8601")?,
    })
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
        // Keyed like botocore's dict: a map member's entries replace same-named parameters.
        let mut query: indexmap::IndexMap<String, Vec<String>> = indexmap::IndexMap::new();
        let mut body_params = Map::new();
        for (name, v) in params.as_object().into_iter().flatten() {
            if v.is_null() {
                continue;
            }
            let member = shape
                .members
                .get(name)
                .ok_or_else(|| format!("unknown member {name}"))?;
            let key = member.location_name.clone().unwrap_or_else(|| name.clone());
            match member.location.as_deref() {
                Some("uri") => labels.push((key, uri_value(model, member, v)?)),
                Some("querystring") => {
                    let res = Resolved::new(model, member)?;
                    match (res.shape.kind, v) {
                        (ShapeType::Map, Value::Object(m)) => {
                            let value_ref = res.shape.value.as_ref().ok_or("map without value")?;
                            let vres = Resolved::new(model, value_ref)?;
                            for (k, x) in m {
                                let values = match (x, vres.shape.member.as_ref()) {
                                    (Value::Array(items), Some(item_ref)) => items
                                        .iter()
                                        .map(|i| uri_value(model, item_ref, i))
                                        .collect::<Result<Vec<_>, _>>()?,
                                    _ => vec![uri_value(model, value_ref, x)?],
                                };
                                query.insert(k.clone(), values);
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
                    if v.as_array().is_some_and(|a| a.is_empty()) {
                        continue;
                    }
                    req.headers.push((key, header_value(model, member, v)?));
                }
                Some("headers") => {
                    for (k, x) in v.as_object().into_iter().flatten() {
                        req.headers.push((
                            format!("{key}{k}"),
                            x.as_str()
                                .map(str::to_string)
                                .unwrap_or_else(|| x.to_string()),
                        ));
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
                        format!("{}={}", percent_encode(k, false), percent_encode(v, false))
                    })
                })
                .collect();
            req.path
                .push(if req.path.contains('?') { '&' } else { '?' });
            req.path.push_str(&qs.join("&"));
        }
        self.body(model, input, shape, params, &body_params, &mut req)?;
        Ok(req)
    }

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
        if let Some(payload) = &shape.payload {
            let member = shape.members.get(payload).ok_or("payload member missing")?;
            let target = model.shape(&member.shape).map_err(|e| e.to_string())?;
            let value = params.get(payload).filter(|v| !v.is_null());
            match target.kind {
                ShapeType::Blob | ShapeType::String => {
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
                _ => match value {
                    Some(v) => {
                        if self.xml {
                            let name = member.location_name.as_deref().unwrap_or(payload);
                            let mut out = String::new();
                            XmlWriter { model }.write(member, v, name, &mut out)?;
                            req.body = out.into_bytes().into();
                        } else if target.document {
                            req.body = serde_json::to_vec(v).unwrap_or_default().into();
                        } else {
                            let json = JsonWriter {
                                model,
                                default_ts: "unixtimestamp",
                            }
                            .value(member, v)?;
                            req.body = serde_json::to_vec(&json).unwrap_or_default().into();
                        }
                    }
                    None if !self.xml => req.body = b"{}".to_vec().into(),
                    None => {}
                },
            }
        } else if !body_params.is_empty() {
            if self.xml {
                let root = shape.location_name.as_deref().unwrap_or(&input.shape);
                let mut out = String::new();
                XmlWriter { model }.write(
                    input,
                    &Value::Object(body_params.clone()),
                    root,
                    &mut out,
                )?;
                req.body = out.into_bytes().into();
            } else {
                let body = JsonWriter {
                    model,
                    default_ts: "unixtimestamp",
                }
                .body_members(input, &Value::Object(body_params.clone()))?;
                req.body = serde_json::to_vec(&body).unwrap_or_default().into();
            }
        } else if !self.xml && shape.members.values().any(|m| m.location.is_none()) {
            req.body = b"{}".to_vec().into();
        }
        if !req.body.is_empty() && !has_content_type {
            let ct = if self.xml {
                "application/xml"
            } else {
                "application/json"
            };
            req.headers.push(("Content-Type".into(), ct.into()));
        }
        Ok(())
    }
}

/// Fill `{Label}` and `{Label+}` (greedy: slashes kept) in a request URI.
fn render_uri(template: &str, labels: &[(String, String)]) -> Result<String, String> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..].find('}').ok_or("unbalanced URI template")? + open;
        let label = &rest[open + 1..close];
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
        out.push_str(&percent_encode(value, greedy));
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Members bound to the status code and headers, added to `out` (shared by success and
/// modeled-error parsing).
pub fn parse_bound_members(
    model: &ServiceModel,
    shape: &Shape,
    resp: &WireResponse,
    out: &mut Value,
) -> Result<(), String> {
    let Value::Object(obj) = out else {
        return Ok(());
    };
    for (name, member) in &shape.members {
        match member.location.as_deref() {
            Some("statusCode") => {
                obj.insert(name.clone(), Value::from(resp.status));
            }
            Some("header") => {
                let header = member.location_name.as_deref().unwrap_or(name);
                if let Some(v) = resp.header(header) {
                    obj.insert(name.clone(), parse_header(model, member, v)?);
                }
            }
            Some("headers") => {
                let prefix = member
                    .location_name
                    .as_deref()
                    .unwrap_or_default()
                    .to_ascii_lowercase();
                let mut m = Map::new();
                for (k, v) in &resp.headers {
                    if k.to_ascii_lowercase().starts_with(&prefix) {
                        m.insert(k[prefix.len()..].to_string(), Value::String(v.clone()));
                    }
                }
                obj.insert(name.clone(), Value::Object(m));
            }
            _ => {}
        }
    }
    Ok(())
}

fn parse_header(model: &ServiceModel, r: &ShapeRef, text: &str) -> Result<Value, String> {
    let res = Resolved::new(model, r)?;
    match res.shape.kind {
        ShapeType::List => {
            let member = res.shape.member.as_ref().ok_or("list without member")?;
            let mres = Resolved::new(model, member)?;
            let items = split_header_list(text, mres.shape.kind == ShapeType::Timestamp);
            let mut out = Vec::new();
            for i in items {
                out.push(xml::scalar(mres.shape, mres.timestamp_format(), &i)?);
            }
            Ok(Value::Array(out))
        }
        ShapeType::String if r.jsonvalue => {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(text.trim())
                .map_err(|_| "jsonvalue header is not base64")?;
            serde_json::from_slice(&decoded).map_err(|e| format!("jsonvalue header: {e}"))
        }
        _ => xml::scalar(res.shape, res.timestamp_format(), text),
    }
}

/// Split a comma-separated header list; quoted items may hold commas. HTTP dates contain a
/// comma themselves, so a timestamp list splits after every second comma.
fn split_header_list(text: &str, http_dates: bool) -> Vec<String> {
    if http_dates {
        let parts: Vec<&str> = text.split(',').collect();
        return parts
            .chunks(2)
            .map(|c| c.join(",").trim().to_string())
            .collect();
    }
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => quoted = !quoted,
            '\\' if quoted => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            ',' if !quoted => {
                out.push(cur.trim().to_string());
                cur.clear();
            }
            _ => cur.push(c),
        }
    }
    out.push(cur.trim().to_string());
    out
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
        let perr = |m: String| EngineError::parse(&op.name, m);
        if resp.status >= 300 {
            let parsed = if self.xml {
                parse_xml_error(resp)
            } else {
                parse_json_error(resp, true)
            };
            return Err(super::api_error(model, op, parsed, resp));
        }
        if self.xml && model.name == "s3" {
            if let Some(err) = s3_quirks(model, op, resp)? {
                return err;
            }
        }
        let Some(output) = &op.output else {
            return Ok(Value::Object(Map::new()));
        };
        let shape = model.shape(&output.shape)?;
        let mut out = Value::Object(Map::new());
        parse_bound_members(model, shape, resp, &mut out).map_err(perr)?;
        let body_value = if let Some(payload) = &shape.payload {
            let member = shape
                .members
                .get(payload)
                .ok_or_else(|| perr("payload member missing".into()))?;
            let target = model.shape(&member.shape)?;
            match target.kind {
                ShapeType::Blob => Some((
                    payload.clone(),
                    Value::String(base64::engine::general_purpose::STANDARD.encode(&resp.body)),
                )),
                ShapeType::String => Some((
                    payload.clone(),
                    Value::String(String::from_utf8_lossy(&resp.body).into_owned()),
                )),
                _ if resp.body.iter().all(|b| b.is_ascii_whitespace()) => None,
                _ if self.xml => {
                    let root = xml_stream::Root::Ref(member);
                    Some((
                        payload.clone(),
                        xml_stream::parse_body(model, root, &resp.body).map_err(perr)?,
                    ))
                }
                _ => {
                    let body: Value = serde_json::from_slice(&resp.body)
                        .map_err(|e| perr(format!("invalid JSON: {e}")))?;
                    Some((
                        payload.clone(),
                        JsonReader { model }.value(member, &body).map_err(perr)?,
                    ))
                }
            }
            .map(|(k, v)| {
                let mut m = Map::new();
                m.insert(k, v);
                Value::Object(m)
            })
        } else if resp.body.iter().all(|b| b.is_ascii_whitespace()) {
            None
        } else if self.xml {
            let root = xml_stream::Root::Structure {
                shape,
                wrapper: None,
            };
            Some(xml_stream::parse_body(model, root, &resp.body).map_err(perr)?)
        } else {
            let body: Value = serde_json::from_slice(&resp.body)
                .map_err(|e| perr(format!("invalid JSON: {e}")))?;
            Some(
                JsonReader { model }
                    .structure(output, &body, true)
                    .map_err(perr)?,
            )
        };
        // Model order: body members and bound members interleave as the shape lists them.
        let mut merged = Map::new();
        let bound = out.as_object().cloned().unwrap_or_default();
        let body = body_value
            .and_then(|v| v.as_object().cloned())
            .unwrap_or_default();
        for name in shape.members.keys() {
            if let Some(v) = bound.get(name).or_else(|| body.get(name)) {
                merged.insert(name.clone(), v.clone());
            }
        }
        Ok(Value::Object(merged))
    }
}

/// S3's departures from the model: `GetBucketLocation`'s body is the bare constraint, and
/// some operations answer 200 with an `<Error>` body.
fn s3_quirks(
    model: &ServiceModel,
    op: &Operation,
    resp: &WireResponse,
) -> Result<Option<Result<Value, EngineError>>, EngineError> {
    if resp.body.is_empty() || !resp.body.trim_ascii_start().starts_with(b"<") {
        return Ok(None);
    }
    let Ok(root) = xml::parse_document(&resp.body) else {
        return Ok(None);
    };
    if op.name == "GetBucketLocation" {
        let mut m = Map::new();
        if !root.text.trim().is_empty() {
            m.insert(
                "LocationConstraint".into(),
                Value::String(root.text.trim().to_string()),
            );
        }
        return Ok(Some(Ok(Value::Object(m))));
    }
    if root.name == "Error" && root.children.iter().any(|c| c.name == "Code") {
        let mut r = resp.clone();
        r.status = 500;
        let parsed = parse_xml_error(&r);
        return Ok(Some(Err(super::api_error(model, op, parsed, &r))));
    }
    Ok(None)
}

/// boto3-style params → an XML body (rest-xml).
pub struct XmlWriter<'m> {
    pub model: &'m ServiceModel,
}

fn escape_text(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn escape_attr(s: &str) -> String {
    escape_text(s).replace('"', "&quot;")
}

fn ns_attr(ns: Option<&XmlNamespace>) -> String {
    match ns {
        None => String::new(),
        Some(XmlNamespace::Uri(u)) => format!(" xmlns=\"{}\"", escape_attr(u)),
        Some(XmlNamespace::Full {
            prefix: Some(p),
            uri,
        }) if !p.is_empty() => {
            format!(" xmlns:{p}=\"{}\"", escape_attr(uri))
        }
        Some(XmlNamespace::Full { uri, .. }) => format!(" xmlns=\"{}\"", escape_attr(uri)),
    }
}

impl XmlWriter<'_> {
    pub fn write(
        &self,
        r: &ShapeRef,
        v: &Value,
        name: &str,
        out: &mut String,
    ) -> Result<(), String> {
        let res = Resolved::new(self.model, r)?;
        let shape = res.shape;
        let ns = ns_attr(r.xml_namespace.as_ref().or(shape.xml_namespace.as_ref()));
        match shape.kind {
            ShapeType::Structure => {
                let obj = v.as_object().ok_or("expected an object")?;
                let mut attrs = String::new();
                let mut inner = String::new();
                for (k, val) in obj {
                    if val.is_null() {
                        continue;
                    }
                    let member = shape
                        .members
                        .get(k)
                        .ok_or_else(|| format!("unknown member {k}"))?;
                    let mname = member.location_name.as_deref().unwrap_or(k);
                    if member.xml_attribute {
                        let text = scalar_text(
                            self.model
                                .shape(&member.shape)
                                .map_err(|e| e.to_string())?
                                .kind,
                            None,
                            val,
                            "iso8601",
                        )?;
                        attrs.push_str(&format!(" {mname}=\"{}\"", escape_attr(&text)));
                        continue;
                    }
                    self.write(member, val, mname, &mut inner)?;
                }
                out.push_str(&format!("<{name}{ns}{attrs}>{inner}</{name}>"));
            }
            ShapeType::List => {
                let member = shape.member.as_ref().ok_or("list without member")?;
                let items = v.as_array().ok_or("expected a list")?;
                if res.flattened() {
                    for item in items {
                        self.write(member, item, name, out)?;
                    }
                } else {
                    let mres = Resolved::new(self.model, member)?;
                    let element = mres.location_name().unwrap_or("member");
                    out.push_str(&format!("<{name}{ns}>"));
                    for item in items {
                        self.write(member, item, element, out)?;
                    }
                    out.push_str(&format!("</{name}>"));
                }
            }
            ShapeType::Map => {
                let key = shape.key.as_ref().ok_or("map without key")?;
                let value = shape.value.as_ref().ok_or("map without value")?;
                let kname = Resolved::new(self.model, key)?
                    .location_name()
                    .unwrap_or("key")
                    .to_string();
                let vname = Resolved::new(self.model, value)?
                    .location_name()
                    .unwrap_or("value")
                    .to_string();
                let obj = v.as_object().ok_or("expected an object")?;
                let flat = res.flattened();
                if !flat {
                    out.push_str(&format!("<{name}{ns}>"));
                }
                for (k, x) in obj {
                    let entry = if flat { name } else { "entry" };
                    out.push_str(&format!("<{entry}>"));
                    self.write(key, &Value::String(k.clone()), &kname, out)?;
                    self.write(value, x, &vname, out)?;
                    out.push_str(&format!("</{entry}>"));
                }
                if !flat {
                    out.push_str(&format!("</{name}>"));
                }
            }
            kind => {
                let text = scalar_text(kind, res.timestamp_format(), v, "iso8601")?;
                out.push_str(&format!("<{name}{ns}>{}</{name}>", escape_text(&text)));
            }
        }
        Ok(())
    }
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
    fn header_lists_split_on_unquoted_commas() {
        assert_eq!(
            split_header_list(r#"a, "b,c", "d\"e""#, false),
            vec!["a", "b,c", "d\"e"]
        );
        assert_eq!(
            split_header_list(
                "Mon, 16 Dec 2019 23:48:18 GMT, Tue, 17 Dec 2019 23:48:18 GMT",
                true
            ),
            vec![
                "Mon, 16 Dec 2019 23:48:18 GMT",
                "Tue, 17 Dec 2019 23:48:18 GMT"
            ]
        );
    }
}
