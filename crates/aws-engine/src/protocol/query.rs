//! The `query` and `ec2` protocols: form-encoded requests, XML responses.

use base64::Engine as _;
use serde_json::Value;

use super::xml::{self, Resolved};
use super::xml_stream;
use super::{ErrorBody, ParsedError, Protocol, WireRequest, WireResponse};
use crate::error::EngineError;
use crate::model::{Operation, ServiceModel, ShapeRef, ShapeType};
use crate::timestamp::Timestamp;

struct FormWriter<'m> {
    model: &'m ServiceModel,
    ec2: bool,
    out: Vec<(String, String)>,
}

impl FormWriter<'_> {
    /// botocore's `_get_serialized_name`; ec2 prefers `queryName`, else capitalizes
    /// `locationName`.
    fn serialized_name(&self, res: &Resolved<'_>, default: &str) -> String {
        if self.ec2 {
            if let Some(q) = &res.r.query_name {
                return q.clone();
            }
            if let Some(n) = res.location_name() {
                let mut c = n.chars();
                return match c.next() {
                    Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
                    None => String::new(),
                };
            }
            default.to_string()
        } else {
            res.location_name().unwrap_or(default).to_string()
        }
    }

    fn write(&mut self, r: &ShapeRef, v: &Value, prefix: &str) -> Result<(), String> {
        let res = Resolved::new(self.model, r)?;
        let shape = res.shape;
        match shape.kind {
            ShapeType::Structure => {
                let obj = v.as_object().ok_or("expected an object")?;
                for (k, val) in obj {
                    if val.is_null() {
                        continue;
                    }
                    let member = shape
                        .members
                        .get(k)
                        .ok_or_else(|| format!("unknown member {k}"))?;
                    let mres = Resolved::new(self.model, member)?;
                    let name = self.serialized_name(&mres, k);
                    let p = if prefix.is_empty() {
                        name
                    } else {
                        format!("{prefix}.{name}")
                    };
                    self.write(member, val, &p)?;
                }
            }
            ShapeType::List => {
                let arr = v.as_array().ok_or("expected a list")?;
                let member = shape.member.as_ref().ok_or("list without member")?;
                if self.ec2 {
                    for (i, item) in arr.iter().enumerate() {
                        self.write(member, item, &format!("{prefix}.{}", i + 1))?;
                    }
                    return Ok(());
                }
                if arr.is_empty() {
                    self.out.push((prefix.to_string(), String::new()));
                    return Ok(());
                }
                let mres = Resolved::new(self.model, member)?;
                let list_prefix = if res.flattened() {
                    match mres.location_name() {
                        Some(_) => {
                            let name = self.serialized_name(&mres, "");
                            match prefix.rfind('.') {
                                Some(p) => format!("{}.{name}", &prefix[..p]),
                                None => name,
                            }
                        }
                        None => prefix.to_string(),
                    }
                } else {
                    format!("{prefix}.{}", mres.location_name().unwrap_or("member"))
                };
                for (i, item) in arr.iter().enumerate() {
                    self.write(member, item, &format!("{list_prefix}.{}", i + 1))?;
                }
            }
            ShapeType::Map => {
                let obj = v.as_object().ok_or("expected an object")?;
                let key = shape.key.as_ref().ok_or("map without key")?;
                let value = shape.value.as_ref().ok_or("map without value")?;
                let full = if res.flattened() {
                    prefix.to_string()
                } else {
                    format!("{prefix}.entry")
                };
                let ksuf = self.serialized_name(&Resolved::new(self.model, key)?, "key");
                let vsuf = self.serialized_name(&Resolved::new(self.model, value)?, "value");
                for (i, (k, val)) in obj.iter().enumerate() {
                    self.write(
                        key,
                        &Value::String(k.clone()),
                        &format!("{full}.{}.{ksuf}", i + 1),
                    )?;
                    self.write(value, val, &format!("{full}.{}.{vsuf}", i + 1))?;
                }
            }
            _ => {
                let text = scalar_text(shape.kind, res.timestamp_format(), v, "iso8601")?;
                self.out.push((prefix.to_string(), text));
            }
        }
        Ok(())
    }
}

/// A scalar parameter as text (query strings, form bodies, headers).
pub fn scalar_text(
    kind: ShapeType,
    ts_format: Option<&str>,
    v: &Value,
    default_ts: &str,
) -> Result<String, String> {
    Ok(match (kind, v) {
        (ShapeType::Boolean, Value::Bool(b)) => if *b { "true" } else { "false" }.to_string(),
        (ShapeType::Timestamp, _) => {
            let t = match v {
                Value::String(s) => Timestamp::parse(s),
                Value::Number(n) => n.as_f64().and_then(Timestamp::from_epoch),
                _ => None,
            }
            .ok_or("invalid timestamp")?;
            match ts_format
                .unwrap_or(default_ts)
                .to_ascii_lowercase()
                .as_str()
            {
                "unixtimestamp" => t.to_epoch_value().to_string(),
                "rfc822" => t.to_rfc822(),
                _ => t.to_iso8601_wire(),
            }
        }
        (ShapeType::Blob, Value::String(s)) => {
            base64::engine::general_purpose::STANDARD.encode(s.as_bytes())
        }
        (ShapeType::Float | ShapeType::Double, Value::Number(n)) => {
            let f = n.as_f64().unwrap_or_default();
            if n.is_f64() {
                python_float_str(f)
            } else {
                n.to_string()
            }
        }
        (ShapeType::Float | ShapeType::Double, Value::String(s)) => s.clone(),
        (_, Value::String(s)) => s.clone(),
        (_, Value::Number(n)) => n.to_string(),
        (_, Value::Bool(b)) => b.to_string(),
        (_, other) => other.to_string(),
    })
}

/// `str(float)` as Python writes it (`1.0`, `0.1`, `1e+16`).
pub fn python_float_str(f: f64) -> String {
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

/// `application/x-www-form-urlencoded` as Python's `urlencode` writes it.
pub fn form_encode(pairs: &[(String, String)]) -> String {
    let mut s = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            s.push('&');
        }
        s.push_str(&quote_plus(k));
        s.push('=');
        s.push_str(&quote_plus(v));
    }
    s
}

fn quote_plus(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

pub struct Query {
    pub ec2: bool,
}

impl Protocol for Query {
    fn serialize(
        &self,
        model: &ServiceModel,
        op: &Operation,
        params: &Value,
    ) -> Result<WireRequest, EngineError> {
        let mut w = FormWriter {
            model,
            ec2: self.ec2,
            out: vec![
                ("Action".into(), op.name.clone()),
                ("Version".into(), model.metadata.api_version.clone()),
            ],
        };
        if let Some(input) = &op.input {
            w.write(input, params, "")
                .map_err(|m| EngineError::invalid(&op.name, m))?;
        }
        let mut req = WireRequest::new(&op.http.method, "/");
        req.headers.push((
            "Content-Type".into(),
            "application/x-www-form-urlencoded".into(),
        ));
        req.body = form_encode(&w.out).into_bytes().into();
        Ok(req)
    }

    fn parse(
        &self,
        model: &ServiceModel,
        op: &Operation,
        resp: &WireResponse,
    ) -> Result<Value, EngineError> {
        let perr = |m: String| EngineError::parse(&op.name, m);
        if resp.status >= 300 {
            return Err(super::api_error(model, op, parse_xml_error(resp), resp));
        }
        let Some(output) = &op.output else {
            return Ok(Value::Object(Default::default()));
        };
        if resp.body.iter().all(|b| b.is_ascii_whitespace()) {
            return Ok(Value::Object(Default::default()));
        }
        let shape = model.shape(&output.shape)?;
        // Query responses wrap the result in <OperationResult> (the model's resultWrapper).
        let wrapper = output
            .result_wrapper
            .clone()
            .unwrap_or_else(|| format!("{}Result", op.name));
        let root = xml_stream::Root::Structure {
            shape,
            wrapper: (!self.ec2).then_some(wrapper.as_str()),
        };
        xml_stream::parse_body(model, root, &resp.body).map_err(perr)
    }
}

/// Code, message and error element of an XML error body (ec2, query, rest-xml); a body
/// that is not XML falls back to the HTTP status, as botocore does.
pub fn parse_xml_error(resp: &WireResponse) -> ParsedError {
    let root = xml::parse_document(&resp.body).ok();
    if let Some(root) = root {
        if let Some((code, message, request_id)) = xml::error_from_document(&root) {
            let error = root.find("Error").cloned();
            return ParsedError {
                code,
                message,
                request_id,
                body: ErrorBody::Xml(error),
            };
        }
    }
    ParsedError {
        code: resp.status.to_string(),
        message: super::status_text(resp),
        request_id: resp
            .header("x-amzn-requestid")
            .or_else(|| resp.header("x-amz-request-id"))
            .map(str::to_string),
        body: ErrorBody::Xml(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_encoding_matches_python_urlencode() {
        let pairs = vec![
            ("Action".to_string(), "DescribeVpcs".to_string()),
            ("Filter.1.Name".to_string(), "tag:Name".to_string()),
            ("Filter.1.Value.1".to_string(), "a b/c*".to_string()),
        ];
        assert_eq!(
            form_encode(&pairs),
            "Action=DescribeVpcs&Filter.1.Name=tag%3AName&Filter.1.Value.1=a+b%2Fc%2A"
        );
    }

    #[test]
    fn python_float_strings() {
        assert_eq!(python_float_str(1.0), "1.0");
        assert_eq!(python_float_str(0.1), "0.1");
        assert_eq!(python_float_str(1.5e300), "1.5e+300");
    }
}
