//! Error responses as botocore reads them, for every protocol: the code and message
//! (`Error.Code`, `Error.Message`), the request id, and the members of the modeled error
//! shape when the model has one for the code. Shared by the protocols; uses the codecs.

use serde_json::{Map, Value};

use super::cbor::{Cbor, CborReader};
use super::json::JsonReader;
use super::shape::scalar;
use super::shape::ReadError;
use super::xml::{self, XmlTree};
use super::WireResponse;
use crate::error::{ApiError, EngineError};
use crate::model::{Operation, ServiceModel, Shape, ShapeRef};

/// The body an error came with, kept for reading the modeled error's members.
pub(crate) enum ErrorBody {
    Json(Value),
    /// An XML body and whether ec2's `<Response><Errors><Error>` nesting applies.
    Xml {
        ec2: bool,
    },
    Cbor(Cbor),
    None,
}

/// What the protocol read from an error response.
pub(crate) struct ParsedError {
    pub(crate) code: String,
    pub(crate) message: String,
    pub(crate) request_id: Option<String>,
    pub(crate) body: ErrorBody,
}

/// botocore's `_is_generic_error_response`: a 5xx whose body is empty or HTML carries no
/// error document; its code is the status and its message the reason phrase.
pub(crate) fn generic(resp: &WireResponse) -> Option<ParsedError> {
    if resp.status < 500 {
        return None;
    }
    let body = resp.body.trim_ascii();
    if !body.is_empty() && !body.starts_with(b"<html>") {
        return None;
    }
    Some(from_status(resp))
}

/// An error known only by its HTTP status.
pub(crate) fn from_status(resp: &WireResponse) -> ParsedError {
    ParsedError {
        code: resp.status.to_string(),
        message: reason(resp.status).to_string(),
        request_id: resp
            .header("x-amzn-requestid")
            .or_else(|| resp.header("x-amz-request-id"))
            .map(str::to_string),
        body: ErrorBody::None,
    }
}

/// The HTTP reason phrase (Python's `http.client.responses`), empty for unknown codes.
pub(crate) fn reason(status: u16) -> &'static str {
    http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("")
}

/// Drop a `namespace#` prefix and a `:uri` suffix from a wire error code.
pub(crate) fn clean_code(code: &str) -> String {
    let code = code.split(':').next().unwrap_or(code);
    code.rsplit('#').next().unwrap_or(code).to_string()
}

/// Text of a JSON value that should be a string (botocore takes whatever is there).
fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// `x-amzn-query-error: Code;Type` replaces the code (awsQueryCompatible services).
pub(crate) fn query_compatible_code(resp: &WireResponse, code: String) -> String {
    match resp.header("x-amzn-query-error").map(|q| q.split(';')) {
        Some(mut parts) => match (parts.next(), parts.next(), parts.next()) {
            (Some(qc), Some(_), None) if !qc.is_empty() => qc.to_string(),
            _ => code,
        },
        None => code,
    }
}

/// A JSON error body (botocore's `BaseJSONParser._do_error_parse`, plus
/// `RestJSONParser._inject_error_code` when `rest`).
pub(crate) fn json_error(resp: &WireResponse, body: Value, rest: bool) -> ParsedError {
    let message = text(body.get("message"))
        .or_else(|| text(body.get("Message")))
        .unwrap_or_default();
    let mut code = text(body.get("__type"))
        .map(|c| clean_code(&c))
        .unwrap_or_else(|| resp.status.to_string());
    code = query_compatible_code(resp, code);
    if rest {
        let injected = resp
            .header("x-amzn-errortype")
            .map(str::to_string)
            .or_else(|| text(body.get("code")).or_else(|| text(body.get("Code"))));
        if let Some(c) = injected {
            code = clean_code(&c);
        }
    }
    ParsedError {
        code,
        message,
        request_id: resp.header("x-amzn-requestid").map(str::to_string),
        body: ErrorBody::Json(body),
    }
}

/// A CBOR error body (botocore's `RpcV2CBORParser._do_error_parse`).
pub(crate) fn cbor_error(resp: &WireResponse, body: Cbor) -> ParsedError {
    let message = body
        .get("message")
        .or_else(|| body.get("Message"))
        .and_then(Cbor::as_str)
        .unwrap_or_default()
        .to_string();
    let code = body
        .get("__type")
        .and_then(Cbor::as_str)
        .map(clean_code)
        .unwrap_or_else(|| resp.status.to_string());
    ParsedError {
        code: query_compatible_code(resp, code),
        message,
        request_id: resp.header("x-amzn-requestid").map(str::to_string),
        body: ErrorBody::Cbor(body),
    }
}

fn tree_text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

/// An XML error body (botocore's `QueryParser`/`EC2QueryParser._do_error_parse` and
/// `RestXMLParser._do_error_parse`). A body that is not XML gives the status, as
/// botocore's rest-xml parser does (query and ec2 would raise; the status is more useful).
pub(crate) fn xml_error(resp: &WireResponse, ec2: bool) -> Result<ParsedError, ReadError> {
    if resp.body.is_empty() {
        return Ok(from_status(resp));
    }
    let tree = match xml::read_tree(&resp.body) {
        Ok(t) => t,
        Err(e @ ReadError::TooDeep { .. }) => return Err(e),
        Err(_) => return Ok(from_status(resp)),
    };
    let XmlTree { root, children, .. } = tree;
    // The `<Error>` element's fields: the root itself for S3's `<Error>` documents, else
    // `Error` (query, rest-xml) or `Errors/Error` (ec2) below the root.
    let error = if root == "Error" {
        Some(children.clone())
    } else {
        let e = match children.get("Errors") {
            Some(Value::Object(errors)) => errors.get("Error"),
            _ => children.get("Error"),
        };
        match e {
            Some(Value::Object(m)) => Some(m.clone()),
            _ => None,
        }
    };
    let field = |k: &str| error.as_ref().and_then(|e| tree_text(e.get(k)));
    let request_id = tree_text(children.get("RequestId"))
        .or_else(|| tree_text(children.get("RequestID")))
        .or_else(|| {
            resp.header("x-amzn-requestid")
                .or_else(|| resp.header("x-amz-request-id"))
                .map(str::to_string)
        });
    Ok(ParsedError {
        code: field("Code").unwrap_or_default(),
        message: field("Message").unwrap_or_default(),
        request_id,
        body: ErrorBody::Xml { ec2 },
    })
}

/// botocore's `ServiceModel.shape_for_error_code`.
fn error_shape<'m>(model: &'m ServiceModel, code: &str) -> Option<(String, &'m Shape)> {
    let name = model.error_shape_for_code(code)?;
    Some((name.to_string(), model.shape(name).ok()?))
}

/// The typed error, with the modeled error's members when the model has the shape.
pub(crate) fn api_error(
    model: &ServiceModel,
    _op: &Operation,
    e: ParsedError,
    resp: &WireResponse,
) -> EngineError {
    let details = error_shape(model, &e.code).and_then(|(name, shape)| {
        let r = ShapeRef {
            shape: name,
            ..Default::default()
        };
        let mut out = match &e.body {
            ErrorBody::Json(body) => JsonReader { model }.structure(&r, body, true).ok()?,
            ErrorBody::Xml { ec2 } => {
                xml::parse_body(model, xml::Root::Error { shape, ec2: *ec2 }, &resp.body).ok()?
            }
            ErrorBody::Cbor(body) => CborReader { model }.structure(&r, body).ok()?,
            ErrorBody::None => Value::Object(Map::new()),
        };
        bound_members(model, shape, resp, &mut out).ok()?;
        Some(out)
    });
    EngineError::Service(Box::new(ApiError {
        code: e.code,
        message: e.message,
        http_status: resp.status,
        request_id: e.request_id,
        details,
    }))
}

/// Members bound to the status code and headers (botocore's `_parse_non_payload_attrs`),
/// added to `out`: shared by REST success parsing and every modeled error.
pub(crate) fn bound_members(
    model: &ServiceModel,
    shape: &Shape,
    resp: &WireResponse,
    out: &mut Value,
) -> Result<(), String> {
    let Value::Object(obj) = out else {
        return Ok(());
    };
    for (name, member) in &shape.members {
        let res = super::shape::Resolved::new(model, member)?;
        match res.location() {
            Some("statusCode") => {
                obj.insert(name.clone(), Value::from(resp.status));
            }
            Some("header") => {
                let header = res.location_name().unwrap_or(name);
                if let Some(v) = resp.header(header) {
                    obj.insert(name.clone(), header_value(model, member, v)?);
                }
            }
            Some("headers") => {
                let prefix = res.location_name().unwrap_or_default().to_ascii_lowercase();
                let mut m = Map::new();
                for (k, v) in &resp.headers {
                    if k.len() >= prefix.len()
                        && k.is_char_boundary(prefix.len())
                        && k[..prefix.len()].eq_ignore_ascii_case(&prefix)
                    {
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

/// A header's text as the member's type (botocore's rest parsers: lists split on commas,
/// `jsonvalue` strings base64 JSON, timestamps in any format).
fn header_value(model: &ServiceModel, r: &ShapeRef, text: &str) -> Result<Value, String> {
    use base64::Engine as _;
    let res = super::shape::Resolved::new(model, r)?;
    match res.shape.kind {
        crate::model::ShapeType::List => {
            let member = res.shape.member.as_ref().ok_or("list without member")?;
            let mres = super::shape::Resolved::new(model, member)?;
            let mut out = Vec::new();
            for item in
                split_header_list(text, mres.shape.kind == crate::model::ShapeType::Timestamp)
            {
                out.push(scalar(mres.shape, mres.timestamp_format(), &item)?);
            }
            Ok(Value::Array(out))
        }
        crate::model::ShapeType::String if res.jsonvalue() => {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(text.trim())
                .map_err(|_| "jsonvalue header is not base64")?;
            serde_json::from_slice(&decoded).map_err(|e| format!("jsonvalue header: {e}"))
        }
        _ => scalar(res.shape, res.timestamp_format(), text),
    }
}

/// Split a comma-separated header list as botocore does (`[e.strip() for e in
/// value.split(',')]`); quoted items (smithy's list headers) keep their commas. HTTP
/// dates contain a comma themselves, so a timestamp list splits after every second comma.
pub(crate) fn split_header_list(text: &str, http_dates: bool) -> Vec<String> {
    if http_dates && text.contains(" GMT") {
        let parts: Vec<&str> = text.split(',').collect();
        return parts
            .chunks(2)
            .map(|c| c.join(",").trim().to_string())
            .collect();
    }
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = text.chars();
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

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(
            split_header_list("2019-12-16T23:48:18Z,2019-12-17T23:48:18Z", true),
            vec!["2019-12-16T23:48:18Z", "2019-12-17T23:48:18Z"]
        );
    }

    #[test]
    fn codes_lose_namespace_and_uri() {
        assert_eq!(
            clean_code("aws.protocoltests#FooError:http://x"),
            "FooError"
        );
        assert_eq!(clean_code("FooError"), "FooError");
    }
}
