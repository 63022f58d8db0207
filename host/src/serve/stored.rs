//! Responses kept in the response cache: the service's bytes as they came (status, the
//! headers that matter, body), keyed on who asked (the real identity), where (the
//! endpoint) and the canonical request (method, path, sorted query, body hash, the headers
//! that carry parameters) — never on the local key or the real access key.

use std::collections::BTreeMap;

use aws_engine::cache::{CacheKey, ResponseCache};
use aws_engine::Identity;
use base64::Engine;
use bytes::Bytes;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// A response to hand back to a client.
#[derive(Debug, Clone)]
pub struct Stored {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

impl Stored {
    fn to_value(&self) -> Value {
        json!({
            "status": self.status,
            "headers": self.headers,
            "body": base64::engine::general_purpose::STANDARD.encode(&self.body),
        })
    }

    fn from_value(v: &Value) -> Option<Stored> {
        let status = u16::try_from(v.get("status")?.as_u64()?).ok()?;
        let headers = v
            .get("headers")?
            .as_array()?
            .iter()
            .map(|h| {
                let pair = h.as_array()?;
                Some((
                    pair.first()?.as_str()?.to_string(),
                    pair.get(1)?.as_str()?.to_string(),
                ))
            })
            .collect::<Option<Vec<_>>>()?;
        let body = base64::engine::general_purpose::STANDARD
            .decode(v.get("body")?.as_str()?)
            .ok()?;
        Some(Stored {
            status,
            headers,
            body: Bytes::from(body),
        })
    }
}

/// Request headers that say nothing about what is asked: authentication, the SDK's
/// telemetry, transport. Every other header is part of the key (REST services carry
/// parameters in headers).
const NOT_IN_KEY: &[&str] = &[
    "authorization",
    "x-amz-date",
    "date",
    "x-amz-security-token",
    "x-amz-content-sha256",
    "user-agent",
    "x-amz-user-agent",
    "amz-sdk-invocation-id",
    "amz-sdk-request",
    "x-amzn-trace-id",
    "host",
    "content-length",
    "accept-encoding",
    "connection",
    "keep-alive",
    "expect",
    "te",
    "transfer-encoding",
];

/// What identifies one request, apart from who makes it and where it goes.
pub fn canonical_request(
    method: &str,
    path: &str,
    query: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> Value {
    let mut q: Vec<(String, String)> = aws_engine::inbound::form_pairs(query).collect();
    q.sort();
    let mut h: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, v) in headers {
        let k = k.to_ascii_lowercase();
        if NOT_IN_KEY.contains(&k.as_str()) {
            continue;
        }
        h.entry(k).or_default().push(v.trim().to_string());
    }
    json!({
        "serve": 1,
        "method": method.to_ascii_uppercase(),
        "path": path,
        "query": q,
        "headers": h,
        "body_sha256": hex::encode(Sha256::digest(body)),
    })
}

/// One cache entry's address.
pub struct Key<'a> {
    pub endpoint: &'a str,
    pub identity: &'a Identity,
    pub region: &'a str,
    pub service: &'a str,
    pub operation: &'a str,
    pub request: &'a Value,
    /// The models' version, marked as raw bytes (never mistaken for the engine's parsed
    /// entries).
    pub namespace: &'a str,
}

impl Key<'_> {
    fn cache_key<'s>(&'s self, principal: &'s str) -> CacheKey<'s> {
        CacheKey {
            endpoint: self.endpoint,
            account: &self.identity.account,
            principal,
            region: self.region,
            service: self.service,
            operation: self.operation,
            params: self.request,
            model_version: self.namespace,
        }
    }

    /// A digest of the whole key, for telling identical requests in flight apart.
    pub fn digest(&self) -> String {
        let text = format!(
            "{}\n{}\n{}\n{}\n{}\n{}\n{}\n{}",
            self.endpoint,
            self.identity.account,
            self.identity.principal(),
            self.region,
            self.service,
            self.operation,
            self.namespace,
            aws_engine::cache::canonical_json(self.request)
        );
        hex::encode(Sha256::digest(text.as_bytes()))
    }
}

pub fn get(cache: &ResponseCache, key: &Key<'_>) -> Option<Stored> {
    let principal = key.identity.principal();
    let v = cache.get(&key.cache_key(&principal))?;
    Stored::from_value(&v)
}

pub fn put(cache: &ResponseCache, key: &Key<'_>, stored: &Stored) {
    let principal = key.identity.principal();
    cache.put(&key.cache_key(&principal), &stored.to_value());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_ignores_auth_and_telemetry_and_sorts_the_query() {
        let a = canonical_request(
            "get",
            "/b",
            "prefix=x&list-type=2",
            &[
                ("Authorization".into(), "AWS4-HMAC-SHA256 ...".into()),
                ("X-Amz-Date".into(), "20240101T000000Z".into()),
                ("User-Agent".into(), "boto3/1".into()),
                ("x-amz-expected-bucket-owner".into(), "1".into()),
            ],
            b"",
        );
        let b = canonical_request(
            "GET",
            "/b",
            "list-type=2&prefix=x",
            &[
                ("authorization".into(), "other".into()),
                ("user-agent".into(), "aws-cli/1".into()),
                ("X-Amz-Expected-Bucket-Owner".into(), "1".into()),
            ],
            b"",
        );
        assert_eq!(a, b);
        let c = canonical_request(
            "GET",
            "/b",
            "list-type=2&prefix=x",
            &[("x-amz-expected-bucket-owner".into(), "2".into())],
            b"",
        );
        assert_ne!(a, c);
        assert_ne!(a, canonical_request("GET", "/b", "", &[], b"x"));
    }

    #[test]
    fn stored_round_trips() {
        let s = Stored {
            status: 200,
            headers: vec![("content-type".into(), "text/xml".into())],
            body: Bytes::from_static(b"<a>\x00\xff</a>"),
        };
        let back = Stored::from_value(&s.to_value()).unwrap();
        assert_eq!(back.status, 200);
        assert_eq!(back.headers, s.headers);
        assert_eq!(back.body, s.body);
        assert!(Stored::from_value(&json!({"status": 70000})).is_none());
    }
}
