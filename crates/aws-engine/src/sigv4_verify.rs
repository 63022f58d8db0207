//! Checking a client's AWS Signature Version 4 against a secret we hold: the server side of
//! SigV4, for requests signed in the `Authorization` header or in the query string
//! (presigned URLs).
//!
//! The canonical request is rebuilt from the request as it arrived (method, path and query
//! as sent, the signed headers' values, the payload hash), the signature recomputed with
//! the secret (aws-sigv4's signing-key derivation and HMAC), and compared in constant time.
//! The time of signing must be within a clock-skew window of now (15 minutes, as AWS);
//! a presigned request until it expires. The service and region are the credential
//! scope's. SDKs differ in details AWS tolerates, so a few canonical forms are tried: the
//! path encoded once (S3) or twice after normalisation (every other service), the query
//! re-encoded or as sent.

use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};

/// The payload-hash value that says the body is not signed.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// How far the signing time may be from now (AWS: 15 minutes).
pub const MAX_SKEW: Duration = Duration::from_secs(15 * 60);
/// The longest a presigned request may be valid (AWS: 7 days).
pub const MAX_PRESIGN: u64 = 7 * 24 * 3600;

/// A request as it arrived: the parts SigV4 covers.
#[derive(Debug, Clone, Copy)]
pub struct SignedRequest<'a> {
    /// The HTTP method.
    pub method: &'a str,
    /// Percent-encoded as sent, no query string.
    pub path: &'a str,
    /// The query string as sent (no `?`).
    pub query: &'a str,
    /// Every header, as received.
    pub headers: &'a [(String, String)],
    /// The body.
    pub body: &'a [u8],
}

impl<'a> SignedRequest<'a> {
    fn header_values(&self, name: &str) -> impl Iterator<Item = &'a str> + use<'a> {
        let name = name.to_ascii_lowercase();
        let headers: &'a [(String, String)] = self.headers;
        headers
            .iter()
            .filter(move |(k, _)| k.eq_ignore_ascii_case(&name))
            .map(|(_, v)| v.as_str())
    }

    fn header(&self, name: &str) -> Option<&'a str> {
        self.header_values(name).next()
    }
}

/// What the request's signature claims, before it is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    /// The access key the request claims.
    pub access_key_id: String,
    /// `YYYYMMDD` of the credential scope.
    pub date: String,
    /// The region of the credential scope.
    pub region: String,
    /// The signing name (`ec2`, `s3`, `elasticloadbalancing`, ...).
    pub service: String,
    /// `YYYYMMDDTHHMMSSZ`, from `X-Amz-Date`.
    pub amz_date: String,
    /// Lower-case, in the order the client listed them.
    pub signed_headers: Vec<String>,
    signature: String,
    /// Seconds a presigned request stays valid; `None` for header authorization.
    pub presigned_expires: Option<u64>,
}

impl Authorization {
    fn scope(&self) -> String {
        format!(
            "{}/{}/{}/aws4_request",
            self.date, self.region, self.service
        )
    }
}

/// Why a request is not authenticated. Messages name what was wrong, never a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No `Authorization` header and no presigned query.
    #[error("the request is not signed")]
    Missing,
    /// Signed, but not with AWS4-HMAC-SHA256.
    #[error("unsupported authorization: {0}")]
    Unsupported(String),
    /// The authorization cannot be read.
    #[error("malformed authorization: {0}")]
    Malformed(String),
    /// Signed too long ago (or a presigned URL past its expiry).
    #[error("signature expired: signed at {signed}, now {now}")]
    Expired {
        /// When it was signed.
        signed: String,
        /// The server's time.
        now: String,
    },
    /// Signed in the future, beyond the skew window.
    #[error("signature not yet current: signed at {signed}, now {now}")]
    NotYetValid {
        /// When it was signed.
        signed: String,
        /// The server's time.
        now: String,
    },
    /// The declared payload hash is not the body's.
    #[error("the body does not hash to x-amz-content-sha256")]
    PayloadMismatch,
    /// The signature is not the one the key's secret gives.
    #[error("the request signature does not match the signature calculated with the key's secret")]
    SignatureMismatch,
}

/// Read the claimed signature: the `Authorization` header, else the `X-Amz-*` query
/// parameters of a presigned request.
pub fn parse(req: &SignedRequest<'_>) -> Result<Authorization, AuthError> {
    if let Some(h) = req.header("authorization") {
        return parse_header(req, h);
    }
    let q: Vec<(String, String)> = query_pairs(req.query);
    let get = |k: &str| q.iter().find(|(qk, _)| qk == k).map(|(_, v)| v.as_str());
    if get("X-Amz-Signature").is_none() && get("X-Amz-Algorithm").is_none() {
        if get("Signature").is_some() || get("AWSAccessKeyId").is_some() {
            return Err(AuthError::Unsupported(
                "signature version 2; sign with SigV4".into(),
            ));
        }
        return Err(AuthError::Missing);
    }
    let algorithm = get("X-Amz-Algorithm").unwrap_or_default();
    if algorithm != ALGORITHM {
        return Err(AuthError::Unsupported(format!("algorithm {algorithm:?}")));
    }
    let need = |k: &str| {
        get(k)
            .map(str::to_string)
            .ok_or_else(|| AuthError::Malformed(format!("{k} is missing")))
    };
    let (access_key_id, date, region, service) = parse_credential(&need("X-Amz-Credential")?)?;
    let expires: u64 = need("X-Amz-Expires")?
        .parse()
        .map_err(|_| AuthError::Malformed("X-Amz-Expires is not a number".into()))?;
    if expires > MAX_PRESIGN {
        return Err(AuthError::Malformed(format!(
            "X-Amz-Expires must be at most {MAX_PRESIGN} seconds"
        )));
    }
    let auth = Authorization {
        access_key_id,
        date,
        region,
        service,
        amz_date: need("X-Amz-Date")?,
        signed_headers: split_signed_headers(&need("X-Amz-SignedHeaders")?),
        signature: need("X-Amz-Signature")?,
        presigned_expires: Some(expires),
    };
    check_shape(&auth)?;
    Ok(auth)
}

fn parse_header(req: &SignedRequest<'_>, h: &str) -> Result<Authorization, AuthError> {
    let h = h.trim();
    let (algorithm, rest) = h.split_once(' ').unwrap_or((h, ""));
    if algorithm != ALGORITHM {
        let what = if algorithm.starts_with("AWS4-ECDSA") {
            "SigV4a; sign with SigV4 (AWS4-HMAC-SHA256)".to_string()
        } else if algorithm == "AWS" {
            "signature version 2; sign with SigV4".to_string()
        } else {
            format!("algorithm {algorithm:?}")
        };
        return Err(AuthError::Unsupported(what));
    }
    let mut credential = None;
    let mut signed = None;
    let mut signature = None;
    for part in rest.split(',') {
        let Some((k, v)) = part.trim().split_once('=') else {
            continue;
        };
        match k.trim() {
            "Credential" => credential = Some(v.trim().to_string()),
            "SignedHeaders" => signed = Some(v.trim().to_string()),
            "Signature" => signature = Some(v.trim().to_string()),
            _ => {}
        }
    }
    let missing = |k: &str| AuthError::Malformed(format!("the Authorization header has no {k}"));
    let (access_key_id, date, region, service) =
        parse_credential(&credential.ok_or_else(|| missing("Credential"))?)?;
    let amz_date = req
        .header("x-amz-date")
        .map(|d| d.trim().to_string())
        .ok_or_else(|| AuthError::Malformed("X-Amz-Date header is missing".into()))?;
    let auth = Authorization {
        access_key_id,
        date,
        region,
        service,
        amz_date,
        signed_headers: split_signed_headers(&signed.ok_or_else(|| missing("SignedHeaders"))?),
        signature: signature.ok_or_else(|| missing("Signature"))?,
        presigned_expires: None,
    };
    check_shape(&auth)?;
    Ok(auth)
}

/// `AKID/YYYYMMDD/region/service/aws4_request`.
fn parse_credential(c: &str) -> Result<(String, String, String, String), AuthError> {
    let parts: Vec<&str> = c.split('/').collect();
    match parts.as_slice() {
        [key, date, region, service, "aws4_request"]
            if !key.is_empty() && !region.is_empty() && !service.is_empty() =>
        {
            Ok((
                key.to_string(),
                date.to_string(),
                region.to_string(),
                service.to_string(),
            ))
        }
        _ => Err(AuthError::Malformed(
            "the credential must be KEY/YYYYMMDD/REGION/SERVICE/aws4_request".into(),
        )),
    }
}

fn split_signed_headers(s: &str) -> Vec<String> {
    s.split(';')
        .filter(|h| !h.is_empty())
        .map(|h| h.trim().to_ascii_lowercase())
        .collect()
}

fn check_shape(a: &Authorization) -> Result<(), AuthError> {
    if parse_amz_date(&a.amz_date).is_none() {
        return Err(AuthError::Malformed(format!(
            "X-Amz-Date {:?} is not YYYYMMDDTHHMMSSZ",
            a.amz_date
        )));
    }
    if !a.amz_date.starts_with(&a.date) || a.date.len() != 8 {
        return Err(AuthError::Malformed(
            "the credential scope's date is not the date of X-Amz-Date".into(),
        ));
    }
    if !a.signed_headers.iter().any(|h| h == "host") {
        return Err(AuthError::Malformed(
            "the host header must be signed".into(),
        ));
    }
    if a.signature.len() != 64 || !a.signature.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AuthError::Malformed(
            "the signature is not 64 hex digits".into(),
        ));
    }
    Ok(())
}

/// `YYYYMMDDTHHMMSSZ` → the time it names.
fn parse_amz_date(s: &str) -> Option<SystemTime> {
    let fmt = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    let t = time::PrimitiveDateTime::parse(s, &fmt).ok()?.assume_utc();
    let secs = u64::try_from(t.unix_timestamp()).ok()?;
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
}

fn format_amz_date(t: SystemTime) -> String {
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let fmt = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| t.format(&fmt).ok())
        .unwrap_or_default()
}

/// Signing names whose canonical URI is the path as sent (no normalisation, encoded once).
fn s3_like(service: &str) -> bool {
    matches!(
        service,
        "s3" | "s3-object-lambda" | "s3-outposts" | "s3express"
    )
}

/// Check the signature of `req` against `secret` at time `now`. `auth` is what [`parse`]
/// read from the same request.
pub fn verify(
    req: &SignedRequest<'_>,
    auth: &Authorization,
    secret: &str,
    now: SystemTime,
) -> Result<(), AuthError> {
    // Time first: an expired request is refused whatever its signature.
    let signed_at = parse_amz_date(&auth.amz_date)
        .ok_or_else(|| AuthError::Malformed("bad X-Amz-Date".into()))?;
    let (earliest, latest) = match auth.presigned_expires {
        Some(expires) => (
            signed_at.checked_sub(MAX_SKEW),
            signed_at.checked_add(Duration::from_secs(expires)),
        ),
        None => (
            signed_at.checked_sub(MAX_SKEW),
            signed_at.checked_add(MAX_SKEW),
        ),
    };
    if earliest.is_some_and(|e| now < e) {
        return Err(AuthError::NotYetValid {
            signed: auth.amz_date.clone(),
            now: format_amz_date(now),
        });
    }
    if latest.is_none_or(|l| now > l) {
        return Err(AuthError::Expired {
            signed: auth.amz_date.clone(),
            now: format_amz_date(now),
        });
    }

    // The payload hash: x-amz-content-sha256 when sent (and then it must be true), else the
    // body's; a presigned request may say UNSIGNED-PAYLOAD (S3's presigned URLs do).
    let body_hash = hex::encode(Sha256::digest(req.body));
    let mut payloads: Vec<String> = Vec::new();
    match req.header("x-amz-content-sha256").map(str::trim) {
        Some(UNSIGNED_PAYLOAD) if s3_like(&auth.service) => {
            payloads.push(UNSIGNED_PAYLOAD.to_string())
        }
        Some(v) if v.starts_with("STREAMING-") => {
            return Err(AuthError::Unsupported(format!(
                "streaming (aws-chunked) payload signing {v}"
            )))
        }
        Some(v) if v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()) => {
            if !v.eq_ignore_ascii_case(&body_hash) {
                return Err(AuthError::PayloadMismatch);
            }
            payloads.push(v.to_string());
        }
        Some(_) => return Err(AuthError::PayloadMismatch),
        None => {
            payloads.push(body_hash);
            if auth.presigned_expires.is_some() {
                payloads.push(UNSIGNED_PAYLOAD.to_string());
            }
        }
    }

    let headers = canonical_headers(req, &auth.signed_headers)?;
    let signed_headers = auth.signed_headers.join(";");
    let uris = canonical_uris(req.path, &auth.service);
    let queries = canonical_queries(req.query, auth.presigned_expires.is_some());

    let key = aws_sigv4::sign::v4::generate_signing_key(
        secret,
        scope_time(&auth.date)?,
        &auth.region,
        &auth.service,
    );
    let scope = auth.scope();
    let mut tried: Vec<String> = Vec::new();
    for uri in &uris {
        for query in &queries {
            for payload in &payloads {
                let creq = format!(
                    "{}\n{uri}\n{query}\n{headers}\n{signed_headers}\n{payload}",
                    req.method.to_ascii_uppercase()
                );
                if tried.contains(&creq) {
                    continue;
                }
                let sts = format!(
                    "{ALGORITHM}\n{}\n{scope}\n{}",
                    auth.amz_date,
                    hex::encode(Sha256::digest(creq.as_bytes()))
                );
                let expected = aws_sigv4::sign::v4::calculate_signature(&key, sts.as_bytes());
                if constant_time_eq(
                    expected.as_bytes(),
                    auth.signature.to_ascii_lowercase().as_bytes(),
                ) {
                    return Ok(());
                }
                tried.push(creq);
            }
        }
    }
    Err(AuthError::SignatureMismatch)
}

/// Midnight UTC of the scope's date (what the signing key is derived from).
fn scope_time(date: &str) -> Result<SystemTime, AuthError> {
    parse_amz_date(&format!("{date}T000000Z"))
        .ok_or_else(|| AuthError::Malformed("bad credential scope date".into()))
}

/// Equal without an early exit: how long it takes says nothing about where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut diff = 0u8;
    for (x, y) in a.iter().zip(b) {
        diff |= x ^ y;
    }
    std::hint::black_box(diff) == 0
}

/// `name:value\n` for each signed header: every value of the name joined with `,`, each
/// trimmed, runs of spaces collapsed.
fn canonical_headers(req: &SignedRequest<'_>, signed: &[String]) -> Result<String, AuthError> {
    let mut out = String::new();
    for name in signed {
        let values: Vec<String> = req
            .header_values(name)
            .map(|v| v.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        if values.is_empty() {
            return Err(AuthError::Malformed(format!(
                "signed header {name} is not in the request"
            )));
        }
        out.push_str(name);
        out.push(':');
        out.push_str(&values.join(","));
        out.push('\n');
    }
    Ok(out)
}

/// The canonical URI forms to try: S3's is the path as sent; every other service's is the
/// path with dot segments and empty segments removed, then percent-encoded again.
fn canonical_uris(path: &str, service: &str) -> Vec<String> {
    let path = if path.is_empty() { "/" } else { path };
    let as_sent = path.to_string();
    if s3_like(service) {
        return vec![as_sent];
    }
    let double = encode(&remove_dot_segments(path), b"/~");
    if double == as_sent {
        vec![double]
    } else {
        vec![double, as_sent]
    }
}

/// botocore's `remove_dot_segments`: RFC 3986 5.2.4, and empty segments dropped.
fn remove_dot_segments(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            s => out.push(s),
        }
    }
    let first = if path.starts_with('/') { "/" } else { "" };
    let last = if path.ends_with('/') && !out.is_empty() {
        "/"
    } else {
        ""
    };
    format!("{first}{}{last}", out.join("/"))
}

/// Percent-encode every byte but the unreserved ones and `safe`.
fn encode(s: &str, safe: &[u8]) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) || safe.contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The canonical query forms to try: every pair decoded and encoded again by SigV4's rule
/// (what AWS computes), and the pairs as sent, sorted (what botocore signs).
fn canonical_queries(query: &str, presigned: bool) -> Vec<String> {
    let raw: Vec<(&str, &str)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .filter(|(k, _)| !(presigned && *k == "X-Amz-Signature"))
        .collect();
    let mut reencoded: Vec<(String, String)> = raw
        .iter()
        .map(|(k, v)| (encode(&decode(k), b""), encode(&decode(v), b"")))
        .collect();
    reencoded.sort();
    let mut as_sent: Vec<(&str, &str)> = raw.clone();
    as_sent.sort();
    let join = |pairs: Vec<String>| pairs.join("&");
    let a = join(reencoded.iter().map(|(k, v)| format!("{k}={v}")).collect());
    let b = join(as_sent.iter().map(|(k, v)| format!("{k}={v}")).collect());
    if a == b {
        vec![a]
    } else {
        vec![a, b]
    }
}

fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// Query pairs decoded (for reading the presigned parameters).
fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// The query string without the presigned-URL authentication parameters (what is sent on
/// once the request has been checked and is signed again).
pub fn strip_presign_params(query: &str) -> String {
    const AUTH: &[&str] = &[
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Date",
        "X-Amz-Expires",
        "X-Amz-SignedHeaders",
        "X-Amz-Signature",
        "X-Amz-Security-Token",
    ];
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .filter(|p| {
            let k = p.split_once('=').map(|(k, _)| k).unwrap_or(p);
            !AUTH.iter().any(|a| decode(k) == *a)
        })
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_credential_types::Credentials;
    use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};

    const KEY: &str = "MRHLTESTKEY000000001";
    const SECRET: &str = "local/secret+key/for/tests/only/0123456789";

    /// Sign a request with aws-sigv4 (the client side), return its headers.
    #[allow(clippy::too_many_arguments)]
    fn signed(
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        service: &str,
        at: SystemTime,
        secret: &str,
        s3: bool,
        presign: Option<Duration>,
    ) -> (String, Vec<(String, String)>) {
        let creds = Credentials::new(KEY, secret, None, None, "test");
        let identity = creds.into();
        let mut settings = SigningSettings::default();
        if s3 {
            settings.payload_checksum_kind =
                aws_sigv4::http_request::PayloadChecksumKind::XAmzSha256;
            settings.uri_path_normalization_mode =
                aws_sigv4::http_request::UriPathNormalizationMode::Disabled;
            settings.percent_encoding_mode = aws_sigv4::http_request::PercentEncodingMode::Single;
        }
        if let Some(p) = presign {
            settings.signature_location = aws_sigv4::http_request::SignatureLocation::QueryParams;
            settings.expires_in = Some(p);
        }
        let params = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&identity)
            .region("eu-west-1")
            .name(service)
            .time(at)
            .settings(settings)
            .build()
            .unwrap()
            .into();
        let body = if presign.is_some() && s3 {
            SignableBody::UnsignedPayload
        } else {
            SignableBody::Bytes(body)
        };
        let req = SignableRequest::new(method, url, headers.iter().copied(), body).unwrap();
        let (instructions, _) = sign(req, &params).unwrap().into_parts();
        let mut out: Vec<(String, String)> = headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        for (k, v) in instructions.headers() {
            out.push((k.to_string(), v.to_string()));
        }
        let mut url = url.to_string();
        let params: Vec<String> = instructions
            .params()
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k, b""), encode(v, b"")))
            .collect();
        if !params.is_empty() {
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str(&params.join("&"));
        }
        (url, out)
    }

    fn check(
        method: &str,
        url: &str,
        headers: &[(String, String)],
        body: &[u8],
        secret: &str,
        now: SystemTime,
    ) -> Result<Authorization, AuthError> {
        let rest = url.split_once("://").unwrap().1;
        let path_q = &rest[rest.find('/').unwrap()..];
        let (path, query) = path_q.split_once('?').unwrap_or((path_q, ""));
        let req = SignedRequest {
            method,
            path,
            query,
            headers,
            body,
        };
        let auth = parse(&req)?;
        verify(&req, &auth, secret, now)?;
        Ok(auth)
    }

    #[test]
    fn a_signature_made_by_aws_sigv4_verifies_and_names_the_scope() {
        let now = SystemTime::now();
        let body = b"Action=DescribeVpcs&Version=2016-11-15";
        let (url, headers) = signed(
            "POST",
            "http://127.0.0.1:4566/",
            &[
                ("host", "127.0.0.1:4566"),
                (
                    "content-type",
                    "application/x-www-form-urlencoded; charset=utf-8",
                ),
            ],
            body,
            "ec2",
            now,
            SECRET,
            false,
            None,
        );
        let auth = check("POST", &url, &headers, body, SECRET, now).unwrap();
        assert_eq!(auth.access_key_id, KEY);
        assert_eq!(auth.service, "ec2");
        assert_eq!(auth.region, "eu-west-1");
        // Another secret, another body, a stale or future clock: refused.
        assert_eq!(
            check("POST", &url, &headers, body, "wrong", now),
            Err(AuthError::SignatureMismatch)
        );
        assert_eq!(
            check(
                "POST",
                &url,
                &headers,
                b"Action=DeleteVpc&VpcId=vpc-1",
                SECRET,
                now
            ),
            Err(AuthError::SignatureMismatch)
        );
        assert!(matches!(
            check(
                "POST",
                &url,
                &headers,
                body,
                SECRET,
                now + Duration::from_secs(16 * 60)
            ),
            Err(AuthError::Expired { .. })
        ));
        assert!(matches!(
            check(
                "POST",
                &url,
                &headers,
                body,
                SECRET,
                now - Duration::from_secs(16 * 60)
            ),
            Err(AuthError::NotYetValid { .. })
        ));
        // A signed header changed after signing.
        let mut changed = headers.clone();
        for (k, v) in changed.iter_mut() {
            if k.eq_ignore_ascii_case("host") {
                *v = "evil.example:80".into();
            }
        }
        assert_eq!(
            check("POST", &url, &changed, body, SECRET, now),
            Err(AuthError::SignatureMismatch)
        );
        // No signature at all.
        assert_eq!(
            check(
                "POST",
                "http://h/",
                &[("host".into(), "h".into())],
                body,
                SECRET,
                now
            ),
            Err(AuthError::Missing)
        );
    }

    #[test]
    fn rest_paths_and_queries_in_both_encodings() {
        let now = SystemTime::now();
        // lambda: a path with an encoded colon, a query that needs encoding.
        let (url, headers) = signed(
            "GET",
            "http://127.0.0.1:1/2015-03-31/functions/arn%3Aaws%3Alambda%3Aeu-west-1%3A1%3Afunction%3Af/configuration?Qualifier=%24LATEST",
            &[("host", "127.0.0.1:1")],
            b"",
            "lambda",
            now,
            SECRET,
            false,
            None,
        );
        check("GET", &url, &headers, b"", SECRET, now).unwrap();
        // s3: the path as sent, payload hash in x-amz-content-sha256 (checked against the body).
        let (url, headers) = signed(
            "PUT",
            "http://127.0.0.1:1/bucket/a%20b/c.txt?x-id=PutObject",
            &[("host", "127.0.0.1:1")],
            b"hello",
            "s3",
            now,
            SECRET,
            true,
            None,
        );
        check("PUT", &url, &headers, b"hello", SECRET, now).unwrap();
        assert_eq!(
            check("PUT", &url, &headers, b"HELLO", SECRET, now),
            Err(AuthError::PayloadMismatch)
        );
    }

    #[test]
    fn presigned_urls_verify_until_they_expire() {
        let now = SystemTime::now();
        let (url, headers) = signed(
            "GET",
            "http://127.0.0.1:1/bucket/key.txt",
            &[("host", "127.0.0.1:1")],
            b"",
            "s3",
            now,
            SECRET,
            true,
            Some(Duration::from_secs(300)),
        );
        assert!(url.contains("X-Amz-Signature="), "{url}");
        let auth = check("GET", &url, &headers, b"", SECRET, now).unwrap();
        assert_eq!(auth.presigned_expires, Some(300));
        assert!(matches!(
            check(
                "GET",
                &url,
                &headers,
                b"",
                SECRET,
                now + Duration::from_secs(301)
            ),
            Err(AuthError::Expired { .. })
        ));
        assert_eq!(
            check("GET", &url, &headers, b"", "wrong", now),
            Err(AuthError::SignatureMismatch)
        );
        let q = url.split_once('?').unwrap().1;
        assert_eq!(strip_presign_params(&format!("{q}&prefix=a")), "prefix=a");
    }

    #[test]
    fn malformed_and_unsupported_authorization() {
        let h = |v: &str| {
            vec![
                ("host".to_string(), "h".to_string()),
                ("x-amz-date".to_string(), "20240101T000000Z".to_string()),
                ("authorization".to_string(), v.to_string()),
            ]
        };
        let req = |hs: &[(String, String)]| {
            let r = SignedRequest {
                method: "GET",
                path: "/",
                query: "",
                headers: hs,
                body: b"",
            };
            parse(&r)
        };
        assert!(matches!(
            req(&h("AWS AKID:sig")),
            Err(AuthError::Unsupported(_))
        ));
        assert!(matches!(
            req(&h("AWS4-ECDSA-P256-SHA256 Credential=x")),
            Err(AuthError::Unsupported(_))
        ));
        assert!(matches!(
            req(&h("AWS4-HMAC-SHA256 Credential=AKID/20240101/eu-west-1/ec2, SignedHeaders=host, Signature=00")),
            Err(AuthError::Malformed(_))
        ));
        assert!(matches!(
            req(&h(&format!("AWS4-HMAC-SHA256 Credential=AKID/20240102/eu-west-1/ec2/aws4_request, SignedHeaders=host, Signature={}", "0".repeat(64)))),
            Err(AuthError::Malformed(_))
        ));
        assert!(matches!(
            req(&h(&format!("AWS4-HMAC-SHA256 Credential=AKID/20240101/eu-west-1/ec2/aws4_request, SignedHeaders=x-amz-date, Signature={}", "0".repeat(64)))),
            Err(AuthError::Malformed(_))
        ));
        assert!(req(&h(&format!("AWS4-HMAC-SHA256 Credential=AKID/20240101/eu-west-1/ec2/aws4_request, SignedHeaders=host;x-amz-date, Signature={}", "0".repeat(64)))).is_ok());
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(500))]
        /// Any authorization, date, path and query: parsed and checked to an answer, never
        /// a panic, and never accepted without the secret.
        #[test]
        fn any_authorization_is_checked_without_panicking(
            algorithm in "(AWS4-HMAC-SHA256|AWS4-ECDSA-P256-SHA256|AWS|[A-Z0-9-]{0,12})",
            credential in "(MRHL[A-Z0-9]{0,16}|[A-Za-z0-9/]{0,12})(/[0-9]{0,9}(/[a-z0-9-]{0,12}(/[a-z0-9-]{0,10}(/aws4_request)?)?)?)?",
            signed in "(host|x-amz-date|content-type|[a-z-]{0,8})(;(host|x-amz-date|[a-z-]{0,8})){0,4}",
            signature in "[0-9a-fA-F]{0,70}",
            date in "(2[0-9]{3}[01][0-9][0-3][0-9]T[0-2][0-9][0-5][0-9][0-5][0-9]Z|[0-9TZ]{0,18})",
            path in "(/([a-zA-Z0-9._~-]|%[0-9A-Fa-f]{0,2}|\\.\\.){0,6}){0,5}",
            query in "(&?[a-zA-Z0-9%+._-]{0,10}(=[a-zA-Z0-9%+._/-]{0,12})?){0,5}",
            sha in proptest::option::of("(UNSIGNED-PAYLOAD|STREAMING-[A-Z-]{0,10}|[0-9a-f]{64}|[0-9a-z]{0,10})"),
            header_auth in proptest::bool::ANY,
        ) {
            let mut headers = vec![
                ("host".to_string(), "127.0.0.1:1".to_string()),
                ("x-amz-date".to_string(), date.clone()),
            ];
            if let Some(sha) = sha {
                headers.push(("x-amz-content-sha256".to_string(), sha));
            }
            let query = if header_auth {
                headers.push((
                    "authorization".to_string(),
                    format!("{algorithm} Credential={credential}, SignedHeaders={signed}, Signature={signature}"),
                ));
                query
            } else {
                format!(
                    "{query}&X-Amz-Algorithm={algorithm}&X-Amz-Credential={}&X-Amz-Date={date}&X-Amz-Expires=300&X-Amz-SignedHeaders={signed}&X-Amz-Signature={signature}",
                    encode(&credential, b"")
                )
            };
            let req = SignedRequest { method: "GET", path: &path, query: &query, headers: &headers, body: b"" };
            if let Ok(auth) = parse(&req) {
                let now = parse_amz_date(&auth.amz_date).unwrap_or(SystemTime::UNIX_EPOCH);
                // A made-up signature never matches.
                proptest::prop_assert!(verify(&req, &auth, SECRET, now).is_err());
            }
            let _ = strip_presign_params(&query);
        }
    }

    #[test]
    fn dot_segments_as_botocore_removes_them() {
        assert_eq!(remove_dot_segments("/a/./b/../c//d/"), "/a/c/d/");
        assert_eq!(remove_dot_segments("/"), "/");
        assert_eq!(remove_dot_segments(""), "");
    }
}
