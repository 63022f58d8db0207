//! Refusals as AWS would answer them, in the protocol the client speaks, so every SDK
//! raises its usual error with the usual code: the query protocol's `<ErrorResponse>`,
//! ec2's `<Response><Errors>`, JSON's `__type` (with `x-amzn-query-error` for services
//! that are query-compatible), rest-json's `x-amzn-ErrorType`, S3's `<Error>`, and a CBOR
//! map for smithy-rpc-v2-cbor.

use aws_engine::inbound::WireProtocol;
use aws_engine::sigv4_verify::AuthError;
use bytes::Bytes;
use http_body_util::Full;

pub type Body = Full<Bytes>;

/// How the client speaks, for shaping an error.
#[derive(Debug, Clone, Copy)]
pub struct Dialect {
    pub protocol: WireProtocol,
    /// S3's error document (`<Error>` at the root) rather than `<ErrorResponse>`.
    pub s3: bool,
    /// A JSON service that still answers query-protocol error codes (SQS).
    pub query_compatible: bool,
    /// A HEAD request: status and headers only.
    pub head: bool,
}

/// One refusal: HTTP status, AWS error code, message.
#[derive(Debug, Clone)]
pub struct AwsError {
    pub status: u16,
    pub code: String,
    pub message: String,
    /// The code's query-protocol twin (for `x-amzn-query-error`).
    pub query_code: Option<String>,
}

impl AwsError {
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> Self {
        AwsError {
            status,
            code: code.to_string(),
            message: message.into(),
            query_code: None,
        }
    }
}

/// Why a request was refused before it reached AWS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    MissingAuth,
    UnknownKey,
    BadSignature,
    Expired,
    MalformedAuth,
    PayloadMismatch,
    AccessDenied,
}

/// The code AWS uses for a refusal, in the client's protocol.
pub fn code(refusal: Refusal, d: &Dialect) -> (u16, &'static str) {
    use Refusal::*;
    use WireProtocol::*;
    let jsonish = matches!(d.protocol, Json | RestJson | Cbor);
    match refusal {
        MissingAuth if d.s3 => (403, "AccessDenied"),
        MissingAuth if jsonish => (403, "MissingAuthenticationTokenException"),
        MissingAuth => (403, "MissingAuthenticationToken"),
        UnknownKey if d.s3 => (403, "InvalidAccessKeyId"),
        UnknownKey if d.protocol == Ec2 => (401, "AuthFailure"),
        UnknownKey if jsonish => (403, "UnrecognizedClientException"),
        UnknownKey => (403, "InvalidClientTokenId"),
        BadSignature if jsonish => (403, "InvalidSignatureException"),
        BadSignature => (403, "SignatureDoesNotMatch"),
        Expired if d.s3 => (403, "RequestTimeTooSkewed"),
        Expired if jsonish => (403, "InvalidSignatureException"),
        Expired => (400, "RequestExpired"),
        MalformedAuth if d.s3 => (400, "AuthorizationHeaderMalformed"),
        MalformedAuth if jsonish => (403, "IncompleteSignatureException"),
        MalformedAuth => (403, "IncompleteSignature"),
        PayloadMismatch if d.s3 => (400, "XAmzContentSHA256Mismatch"),
        PayloadMismatch if jsonish => (403, "InvalidSignatureException"),
        PayloadMismatch => (403, "SignatureDoesNotMatch"),
        AccessDenied if d.protocol == Ec2 => (403, "UnauthorizedOperation"),
        AccessDenied if jsonish => (403, "AccessDeniedException"),
        AccessDenied => (403, "AccessDenied"),
    }
}

/// The query-protocol code a query-compatible JSON service reports for a refusal.
fn query_twin(refusal: Refusal) -> Option<&'static str> {
    Some(match refusal {
        Refusal::AccessDenied => "AccessDenied",
        Refusal::UnknownKey => "InvalidClientTokenId",
        Refusal::BadSignature | Refusal::PayloadMismatch => "SignatureDoesNotMatch",
        Refusal::Expired => "RequestExpired",
        Refusal::MissingAuth => "MissingAuthenticationToken",
        Refusal::MalformedAuth => "IncompleteSignature",
    })
}

pub fn refusal(refusal: Refusal, d: &Dialect, message: impl Into<String>) -> AwsError {
    let (status, c) = code(refusal, d);
    AwsError {
        status,
        code: c.to_string(),
        message: message.into(),
        query_code: query_twin(refusal).map(str::to_string),
    }
}

/// The refusal an authentication failure is.
pub fn auth_refusal(e: &AuthError) -> Refusal {
    match e {
        AuthError::Missing => Refusal::MissingAuth,
        AuthError::Unsupported(_) | AuthError::Malformed(_) => Refusal::MalformedAuth,
        AuthError::Expired { .. } | AuthError::NotYetValid { .. } => Refusal::Expired,
        AuthError::PayloadMismatch => Refusal::PayloadMismatch,
        AuthError::SignatureMismatch => Refusal::BadSignature,
    }
}

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// A CBOR text string (major type 3).
fn cbor_text(out: &mut Vec<u8>, s: &str) {
    let n = s.len() as u64;
    match n {
        0..=23 => out.push(0x60 | n as u8),
        24..=0xff => out.extend([0x78, n as u8]),
        0x100..=0xffff => {
            out.push(0x79);
            out.extend((n as u16).to_be_bytes());
        }
        _ => {
            out.push(0x7a);
            out.extend((n as u32).to_be_bytes());
        }
    }
    out.extend(s.as_bytes());
}

/// The error document in the client's protocol: content type and body.
fn render(e: &AwsError, d: &Dialect, request_id: &str) -> (&'static str, Vec<u8>) {
    match d.protocol {
        WireProtocol::Ec2 => (
            "text/xml;charset=UTF-8",
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{}</Code><Message>{}</Message></Error></Errors><RequestID>{request_id}</RequestID></Response>",
                xml_escape(&e.code),
                xml_escape(&e.message)
            )
            .into_bytes(),
        ),
        WireProtocol::RestXml if d.s3 => (
            "application/xml",
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{}</Code><Message>{}</Message><RequestId>{request_id}</RequestId></Error>",
                xml_escape(&e.code),
                xml_escape(&e.message)
            )
            .into_bytes(),
        ),
        WireProtocol::Query | WireProtocol::RestXml => (
            "text/xml",
            format!(
                "<ErrorResponse><Error><Type>Sender</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>",
                xml_escape(&e.code),
                xml_escape(&e.message)
            )
            .into_bytes(),
        ),
        WireProtocol::Json => (
            "application/x-amz-json-1.1",
            serde_json::json!({"__type": e.code, "message": e.message})
                .to_string()
                .into_bytes(),
        ),
        WireProtocol::RestJson => (
            "application/json",
            serde_json::json!({"message": e.message})
                .to_string()
                .into_bytes(),
        ),
        WireProtocol::Cbor => {
            let mut b = vec![0xa2];
            cbor_text(&mut b, "__type");
            cbor_text(&mut b, &e.code);
            cbor_text(&mut b, "message");
            cbor_text(&mut b, &e.message);
            ("application/cbor", b)
        }
    }
}

/// The error as an HTTP response in the client's protocol.
pub fn response(e: &AwsError, d: &Dialect, request_id: &str) -> hyper::Response<Body> {
    let (content_type, body) = render(e, d, request_id);
    let mut r = hyper::Response::builder()
        .status(e.status)
        .header("x-amzn-RequestId", request_id)
        .header("x-amz-request-id", request_id)
        .header("content-type", content_type);
    match d.protocol {
        WireProtocol::RestJson => r = r.header("x-amzn-ErrorType", e.code.as_str()),
        WireProtocol::Cbor => r = r.header("smithy-protocol", "rpc-v2-cbor"),
        _ => {}
    }
    if d.query_compatible {
        if let Some(q) = &e.query_code {
            r = r.header("x-amzn-query-error", format!("{q};Sender"));
        }
    }
    let body = if d.head { Vec::new() } else { body };
    r.body(Full::new(Bytes::from(body))).unwrap_or_else(|_| {
        let mut fallback = hyper::Response::new(Full::new(Bytes::new()));
        *fallback.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
        fallback
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(protocol: WireProtocol, s3: bool) -> Dialect {
        Dialect {
            protocol,
            s3,
            query_compatible: false,
            head: false,
        }
    }

    #[test]
    fn codes_follow_the_protocol() {
        assert_eq!(
            code(Refusal::AccessDenied, &d(WireProtocol::Query, false)),
            (403, "AccessDenied")
        );
        assert_eq!(
            code(Refusal::AccessDenied, &d(WireProtocol::Ec2, false)).1,
            "UnauthorizedOperation"
        );
        assert_eq!(
            code(Refusal::AccessDenied, &d(WireProtocol::Json, false)).1,
            "AccessDeniedException"
        );
        assert_eq!(
            code(Refusal::BadSignature, &d(WireProtocol::RestXml, true)).1,
            "SignatureDoesNotMatch"
        );
        assert_eq!(
            code(Refusal::UnknownKey, &d(WireProtocol::RestXml, true)).1,
            "InvalidAccessKeyId"
        );
    }

    #[test]
    fn bodies_escape_and_cbor_is_a_map() {
        let e = AwsError::new(403, "AccessDenied", "a <b> & \"c\"");
        let (ct, body) = render(&e, &d(WireProtocol::Query, false), "rid");
        assert_eq!(ct, "text/xml");
        let text = String::from_utf8(body).unwrap();
        assert!(
            text.contains(
                "<Code>AccessDenied</Code><Message>a &lt;b&gt; &amp; &quot;c&quot;</Message>"
            ),
            "{text}"
        );
        let (_, body) = render(&e, &d(WireProtocol::Cbor, false), "rid");
        assert_eq!(
            aws_engine::protocol::cbor_to_json(&body).unwrap(),
            serde_json::json!({"__type": "AccessDenied", "message": "a <b> & \"c\""})
        );
        let long = AwsError::new(403, "X", "m".repeat(300));
        let (_, body) = render(&long, &d(WireProtocol::Cbor, false), "rid");
        assert_eq!(
            aws_engine::protocol::cbor_to_json(&body).unwrap()["message"],
            serde_json::json!("m".repeat(300))
        );
        let r = response(&e, &d(WireProtocol::RestJson, false), "rid");
        assert_eq!(r.status(), 403);
        assert_eq!(r.headers()["x-amzn-ErrorType"], "AccessDenied");
    }
}
