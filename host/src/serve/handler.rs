//! One request: authenticated against the local keys, identified from the models,
//! classified, then answered from the response cache or signed again with the key's real
//! credentials and sent on; the service's answer goes back as it came.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use aws_engine::cache::ResponseCache;
use aws_engine::error::{ConstructionError, ResponseError};
use aws_engine::forward::{Outbound, Target};
use aws_engine::inbound::{InboundError, InboundRequest, Router, WireProtocol};
use aws_engine::sigv4_verify::{self, SignedRequest};
use aws_engine::{Access, AwsClient, CredentialSource, EngineError, Identity, OpClass};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Request, Response};
use tokio::sync::OnceCell;

use super::errors::{self, AwsError, Body, Dialect, Refusal};
use super::stored::{self, Stored};

/// A local key and the real identity it acts as.
pub struct KeyIdentity {
    pub name: String,
    pub access_key_id: String,
    pub(crate) secret: String,
    pub creds: Arc<CredentialSource>,
    /// The profile or role it stands for.
    pub label: String,
}

/// Bounds on what one request may take.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_request_bytes: usize,
    pub max_response_bytes: usize,
    /// Time allowed to receive a request body.
    pub body_timeout: Duration,
}

/// What the server did, for the summary at the end.
#[derive(Debug, Default)]
pub struct Counters {
    pub requests: AtomicU64,
    pub refused: AtomicU64,
    pub cache_hits: AtomicU64,
    pub forwarded: AtomicU64,
    /// Answered by a request identical to one already on its way upstream.
    pub coalesced: AtomicU64,
}

type Flight = Arc<OnceCell<Result<Stored, AwsError>>>;

pub struct Server {
    client: AwsClient,
    router: Arc<Router>,
    keys: HashMap<String, Arc<KeyIdentity>>,
    cache: Option<Arc<ResponseCache>>,
    limits: Limits,
    local: SocketAddr,
    inflight: Mutex<HashMap<String, Flight>>,
    pub counters: Counters,
    /// The cache namespace of raw responses (the models' version, marked).
    namespace: String,
}

/// Request headers not sent on: the client's authentication (replaced), and hop-by-hop
/// headers. `Accept-Encoding` goes too: the service answers uncompressed, one form every
/// client can read from the cache.
const NOT_FORWARDED: &[&str] = &[
    "authorization",
    "x-amz-date",
    "x-amz-security-token",
    "x-amz-content-sha256",
    "host",
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "expect",
    "accept-encoding",
];

/// Response headers not handed back (hop-by-hop; the length is the body's own).
const NOT_RETURNED: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// What one request came to, for the request log.
#[derive(Default)]
struct Log {
    key: Option<String>,
    operation: Option<String>,
    region: Option<String>,
    class: Option<OpClass>,
    source: String,
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

impl Server {
    pub fn new(
        client: AwsClient,
        router: Arc<Router>,
        keys: Vec<KeyIdentity>,
        cache: Option<Arc<ResponseCache>>,
        limits: Limits,
        local: SocketAddr,
    ) -> Self {
        let namespace = format!("{} serve-raw-1", client.models().botocore_version());
        Server {
            keys: keys
                .into_iter()
                .map(|k| (k.access_key_id.clone(), Arc::new(k)))
                .collect(),
            client,
            router,
            cache,
            limits,
            local,
            inflight: Mutex::new(HashMap::new()),
            counters: Counters::default(),
            namespace,
        }
    }

    pub fn client(&self) -> &AwsClient {
        &self.client
    }

    /// Answer one request; every refusal is an AWS-style error in the client's protocol.
    pub async fn handle(
        self: Arc<Self>,
        peer: SocketAddr,
        req: Request<Incoming>,
    ) -> Response<Body> {
        let started = Instant::now();
        self.counters.requests.fetch_add(1, Ordering::Relaxed);
        let request_id = aws_engine::protocol::uuid_v4();
        let method = req.method().to_string();
        let path = req.uri().path().to_string();
        let mut log = Log::default();
        let resp = match self.serve(req, &mut log).await {
            Ok(r) => r,
            Err((e, dialect)) => {
                self.counters.refused.fetch_add(1, Ordering::Relaxed);
                log.source = format!("refused {} ({})", e.code, e.message);
                errors::response(&e, &dialect, &request_id)
            }
        };
        tracing::debug!("{peer} {method} {path}");
        tracing::info!(
            "{peer} key={} {} {} {} -> {} {} ms, {}",
            log.key.as_deref().unwrap_or("-"),
            log.operation.as_deref().unwrap_or("-"),
            log.region.as_deref().unwrap_or("-"),
            log.class.map(|c| c.as_str()).unwrap_or("-"),
            resp.status().as_u16(),
            started.elapsed().as_millis(),
            log.source
        );
        resp
    }

    async fn serve(
        &self,
        req: Request<Incoming>,
        log: &mut Log,
    ) -> Result<Response<Body>, (AwsError, Dialect)> {
        let (parts, body) = req.into_parts();
        let method = parts.method.as_str().to_ascii_uppercase();
        let raw_path = parts.uri.path().to_string();
        let query = parts.uri.query().unwrap_or_default().to_string();
        let mut headers: Vec<(String, String)> = Vec::with_capacity(parts.headers.len());
        let mut unreadable = None;
        for (k, v) in &parts.headers {
            match v.to_str() {
                Ok(s) => headers.push((k.as_str().to_string(), s.to_string())),
                Err(_) => unreadable = Some(k.as_str().to_string()),
            }
        }
        let probe = InboundRequest {
            method: &method,
            path: &raw_path,
            query: &query,
            headers: &headers,
            body: b"",
        };
        let mut d = Dialect {
            protocol: probe.apparent_protocol().unwrap_or(WireProtocol::RestXml),
            s3: false,
            query_compatible: false,
            head: method == "HEAD",
        };
        let apparent = probe.apparent_protocol().is_some();
        let fail = |e: AwsError, d: Dialect| (e, d);

        // The body, within the size limit and the time limit.
        let limit = self.limits.max_request_bytes;
        let too_large = || {
            AwsError::new(
                413,
                "RequestEntityTooLarge",
                format!("mrhost serve: the request body is larger than {limit} bytes (--max-request-kib)"),
            )
        };
        if header(&headers, "content-length")
            .and_then(|l| l.trim().parse::<u64>().ok())
            .is_some_and(|l| l > limit as u64)
        {
            return Err(fail(too_large(), d));
        }
        let body: Bytes = match tokio::time::timeout(
            self.limits.body_timeout,
            Limited::new(body, limit).collect(),
        )
        .await
        {
            Ok(Ok(c)) => c.to_bytes(),
            Ok(Err(_)) => return Err(fail(too_large(), d)),
            Err(_) => {
                return Err(fail(
                    AwsError::new(
                        408,
                        "RequestTimeout",
                        "mrhost serve: the request body did not arrive in time",
                    ),
                    d,
                ))
            }
        };
        if let Some(h) = unreadable {
            return Err(fail(
                AwsError::new(
                    400,
                    "InvalidRequest",
                    format!("mrhost serve: header {h} is not visible ASCII"),
                ),
                d,
            ));
        }

        // Who signed it.
        let signed = SignedRequest {
            method: &method,
            path: &raw_path,
            query: &query,
            headers: &headers,
            body: &body,
        };
        let auth = match sigv4_verify::parse(&signed) {
            Ok(a) => a,
            Err(e) => {
                return Err(fail(
                    errors::refusal(errors::auth_refusal(&e), &d, format!("mrhost serve: {e}")),
                    d,
                ))
            }
        };
        if !apparent {
            d.protocol = self
                .router
                .protocol_of(&auth.service)
                .unwrap_or(WireProtocol::RestXml);
        }
        d.s3 = auth.service == "s3" && d.protocol == WireProtocol::RestXml;
        // A JSON service that answers query codes too (SQS) says so in its refusals of
        // keys and signatures as well, before the operation is known.
        d.query_compatible = d.protocol == WireProtocol::Json
            && self.router.candidates(&auth.service).is_ok_and(|c| {
                c.first()
                    .is_some_and(|m| m.metadata.aws_query_compatible.is_some())
            });
        log.region = Some(auth.region.clone());
        let Some(key) = self.keys.get(&auth.access_key_id).cloned() else {
            return Err(fail(
                errors::refusal(
                    Refusal::UnknownKey,
                    &d,
                    "mrhost serve: the access key id is not one of this server's keys",
                ),
                d,
            ));
        };
        log.key = Some(key.name.clone());
        if let Err(e) = sigv4_verify::verify(&signed, &auth, &key.secret, SystemTime::now()) {
            return Err(fail(
                errors::refusal(errors::auth_refusal(&e), &d, format!("mrhost serve: {e}")),
                d,
            ));
        }

        // What it asks for. A host prefix the client put before our address is an S3
        // bucket (virtual-hosted style) or the operation's own host prefix.
        let mut path = raw_path.clone();
        let mut host_prefix = header(&headers, "host").and_then(|h| self.host_prefix(h));
        if auth.service == "s3" && !raw_path.starts_with("/v20180820") {
            if let Some(bucket) = host_prefix.take() {
                let bucket = bucket.trim_end_matches('.');
                path = if raw_path == "/" {
                    format!("/{bucket}")
                } else {
                    format!("/{bucket}{raw_path}")
                };
            }
        }
        let inbound = InboundRequest {
            method: &method,
            path: &path,
            query: &query,
            headers: &headers,
            body: &body,
        };
        let id = match self.router.identify(&auth.service, &inbound) {
            Ok(id) => id,
            Err(e) => {
                let (status, code) = match &e {
                    InboundError::UnknownOperation {
                        protocol: Some(WireProtocol::Query | WireProtocol::Ec2),
                        ..
                    } => (400, "InvalidAction"),
                    InboundError::UnknownService(_) => (400, "UnknownService"),
                    InboundError::UnknownOperation { .. } => (400, "UnknownOperationException"),
                    InboundError::Engine(_) => (500, "InternalFailure"),
                };
                return Err(fail(
                    AwsError::new(
                        status,
                        code,
                        format!("mrhost serve: {e} (only operations in mrhost's models can be classified and served)"),
                    ),
                    d,
                ));
            }
        };
        d.protocol = id.protocol;
        d.s3 = id.model.name == "s3";
        d.query_compatible =
            id.model.metadata.aws_query_compatible.is_some() && id.protocol == WireProtocol::Json;
        log.operation = Some(format!("{}:{}", id.model.name, id.operation));

        // Whether it may run: its class, and that of every other operation it could be.
        let grants = self.client.grants();
        let class = match grants.decide(&id.model.name, &id.operation) {
            Access::Allow(c) => c,
            Access::Redact => {
                log.class = Some(OpClass::Secret);
                return Err(fail(
                    errors::refusal(
                        Refusal::AccessDenied,
                        &d,
                        format!(
                            "mrhost serve: {}:{} returns secrets, and the server passes the service's bytes through unchanged, so it cannot redact them; start it with --allow secret or --allow {}:{} to permit it",
                            id.model.name, id.operation, id.model.name, id.operation
                        ),
                    ),
                    d,
                ));
            }
            Access::Deny(reason) => {
                log.class =
                    Some(aws_engine::classify::classify(&id.model.name, &id.operation).class);
                return Err(fail(
                    errors::refusal(
                        Refusal::AccessDenied,
                        &d,
                        format!("mrhost serve: {reason} (start the server with it)"),
                    ),
                    d,
                ));
            }
        };
        log.class = Some(class);
        for (m, o) in &id.also {
            if !matches!(grants.decide(&m.name, o), Access::Allow(_)) {
                return Err(fail(
                    errors::refusal(
                        Refusal::AccessDenied,
                        &d,
                        format!(
                            "mrhost serve: this request is {}:{} but also fits {}:{}, which is not allowed",
                            id.model.name, id.operation, m.name, o
                        ),
                    ),
                    d,
                ));
            }
        }

        // Where it goes, signed with the real credentials.
        let internal =
            |e: EngineError| AwsError::new(500, "InternalFailure", format!("mrhost serve: {e}"));
        let op = self
            .client
            .operation(&id.model.name, &id.operation)
            .map_err(|e| fail(internal(e), d))?;
        // A host prefix goes on only where the operation declares one (`endpoint.hostPrefix`):
        // nothing else the client puts in `Host` reaches the upstream's host name.
        let host_prefix = host_prefix.filter(|_| {
            op.op()
                .endpoint
                .as_ref()
                .is_some_and(|e| e.host_prefix.is_some())
        });
        let forward_query = if auth.presigned_expires.is_some() {
            sigv4_verify::strip_presign_params(&query)
        } else {
            query.clone()
        };
        let out = Outbound {
            method: method.clone(),
            path_and_query: if forward_query.is_empty() {
                path.clone()
            } else {
                format!("{path}?{forward_query}")
            },
            headers: headers
                .iter()
                .filter(|(k, _)| !NOT_FORWARDED.contains(&k.to_ascii_lowercase().as_str()))
                .cloned()
                .collect(),
            body: body.clone(),
            host_prefix,
        };
        let target = self
            .client
            .forward_target(&op, &auth.region, &out)
            .map_err(|e| {
                fail(
                    AwsError::new(400, "InvalidRequest", format!("mrhost serve: {e}")),
                    d,
                )
            })?;
        if self.is_self(&target) {
            return Err(fail(
                AwsError::new(
                    508,
                    "LoopDetected",
                    "mrhost serve: the upstream endpoint is this server (unset AWS_ENDPOINT_URL in the server's environment, or pass --endpoint-url)",
                ),
                d,
            ));
        }
        let endpoint = match (target.uri.scheme_str(), target.uri.authority()) {
            (Some(s), Some(a)) => format!("{s}://{a}"),
            _ => target.uri.to_string(),
        };

        // Reads (and billed calls) from the cache, keyed on the real identity.
        let cacheable = matches!(class, OpClass::Read | OpClass::Billed);
        let cache = self.cache.as_ref().filter(|_| cacheable);
        let Some(cache) = cache else {
            log.source = "upstream".into();
            let stored = self
                .send_on(&key, &auth.region, &op, &target, &out)
                .await
                .map_err(|e| fail(e, d))?;
            return Ok(reply(&stored, d.head));
        };
        let identity = self
            .identity_of(&key, &auth.region)
            .await
            .map_err(|e| fail(internal(e), d))?;
        let request = stored::canonical_request(&method, &path, &forward_query, &headers, &body);
        let cache_key = stored::Key {
            endpoint: &endpoint,
            identity: &identity,
            region: &auth.region,
            service: &id.model.name,
            operation: &id.operation,
            request: &request,
            namespace: &self.namespace,
        };
        if let Some(hit) = stored::get(cache, &cache_key) {
            self.counters.cache_hits.fetch_add(1, Ordering::Relaxed);
            log.source = "cache".into();
            return Ok(reply(&hit, d.head));
        }
        // Identical requests in flight share one upstream request.
        let digest = cache_key.digest();
        let flight: Flight = {
            let mut m = match self.inflight.lock() {
                Ok(m) => m,
                Err(p) => p.into_inner(),
            };
            m.entry(digest.clone()).or_default().clone()
        };
        let ran = AtomicBool::new(false);
        let result = flight
            .get_or_init(|| async {
                ran.store(true, Ordering::Relaxed);
                let r = self.send_on(&key, &auth.region, &op, &target, &out).await;
                if let Ok(s) = &r {
                    if s.status < 300 {
                        stored::put(cache, &cache_key, s);
                    }
                }
                r
            })
            .await
            .clone();
        if ran.load(Ordering::Relaxed) {
            let mut m = match self.inflight.lock() {
                Ok(m) => m,
                Err(p) => p.into_inner(),
            };
            if m.get(&digest).is_some_and(|f| Arc::ptr_eq(f, &flight)) {
                m.remove(&digest);
            }
            log.source = "upstream, cache miss".into();
        } else {
            self.counters.coalesced.fetch_add(1, Ordering::Relaxed);
            log.source = "shared an identical request in flight".into();
        }
        let stored = result.map_err(|e| fail(e, d))?;
        Ok(reply(&stored, d.head))
    }

    /// A prefix the client put before this server's address in `Host` (`bucket.` for S3's
    /// virtual-hosted style, an operation's host prefix): host-label characters only.
    fn host_prefix(&self, host: &str) -> Option<String> {
        let host = host.trim().to_ascii_lowercase();
        if host.starts_with('[') {
            return None; // an IPv6 literal carries no prefix
        }
        let name = match host.rsplit_once(':') {
            Some((h, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => h,
            _ => host.as_str(),
        };
        let ip = self.local.ip().to_string();
        for base in [ip.as_str(), "localhost"] {
            if let Some(p) = name.strip_suffix(base) {
                let ok = !p.is_empty()
                    && p.ends_with('.')
                    && p.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
                return ok.then(|| p.to_string());
            }
        }
        None
    }

    /// Whether `target` is this server (an `AWS_ENDPOINT_URL` pointing back at it).
    fn is_self(&self, target: &Target) -> bool {
        let Some(authority) = target.uri.authority() else {
            return false;
        };
        let port = authority.port_u16().unwrap_or(80);
        if port != self.local.port() {
            return false;
        }
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']');
        let local = self.local.ip();
        host == "localhost"
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip == local || ip.is_loopback() || local.is_unspecified())
    }

    /// The identity behind a key's credentials, as of credentials this process has seen
    /// work (a cached answer is served to nothing less).
    async fn identity_of(&self, key: &KeyIdentity, region: &str) -> Result<Identity, EngineError> {
        let c = key.creds.get().await?;
        let hash = self.client.identity_key(c.access_key_id());
        let store = self.client.identities();
        if store.is_verified(&hash) {
            if let Some(id) = store.lookup(&hash) {
                return Ok(id);
            }
        }
        let out = self
            .client
            .call(
                &key.creds,
                region,
                "sts",
                "GetCallerIdentity",
                &serde_json::json!({}),
            )
            .await?;
        let (Some(account), Some(arn)) = (out["Account"].as_str(), out["Arn"].as_str()) else {
            return Err(ConstructionError::Credentials(format!(
                "{}: GetCallerIdentity named no account",
                key.label
            ))
            .into());
        };
        let id = Identity {
            account: account.to_string(),
            arn: arn.to_string(),
        };
        store.remember(&hash, &id, true);
        Ok(id)
    }

    /// Send the request on with the key's real credentials; the answer as it came.
    async fn send_on(
        &self,
        key: &KeyIdentity,
        region: &str,
        op: &aws_engine::OperationRef,
        target: &Target,
        out: &Outbound,
    ) -> Result<Stored, AwsError> {
        self.counters.forwarded.fetch_add(1, Ordering::Relaxed);
        match self.client.forward(&key.creds, region, op, target, out).await {
            Ok(f) if f.body.len() > self.limits.max_response_bytes => Err(AwsError::new(
                502,
                "ResponseTooLarge",
                format!(
                    "mrhost serve: the service's answer ({} bytes) is larger than --max-response-mib",
                    f.body.len()
                ),
            )),
            Ok(f) => Ok(Stored {
                status: f.status,
                headers: f
                    .headers
                    .into_iter()
                    .filter(|(k, _)| !NOT_RETURNED.contains(&k.to_ascii_lowercase().as_str()))
                    .collect(),
                body: f.body,
            }),
            Err(EngineError::Timeout(t)) => Err(AwsError::new(
                504,
                "RequestTimeout",
                format!("mrhost serve: the service did not answer: {t}"),
            )),
            Err(e @ EngineError::Response(ResponseError::TooLarge { .. })) => Err(AwsError::new(
                502,
                "ResponseTooLarge",
                format!("mrhost serve: {e} (--max-response-mib)"),
            )),
            Err(e @ EngineError::Construction(ConstructionError::Credentials(_))) => Err(AwsError::new(
                500,
                "InternalFailure",
                format!("mrhost serve: key {}: {e}", key.name),
            )),
            Err(e) => Err(AwsError::new(
                503,
                "ServiceUnavailable",
                format!("mrhost serve: {e}"),
            )),
        }
    }
}

/// The service's answer as an HTTP response: its status, headers and body (no body for
/// HEAD, whose `Content-Length` is the service's).
fn reply(s: &Stored, head: bool) -> Response<Body> {
    let mut r = Response::new(Full::new(if head { Bytes::new() } else { s.body.clone() }));
    *r.status_mut() =
        hyper::StatusCode::from_u16(s.status).unwrap_or(hyper::StatusCode::BAD_GATEWAY);
    let h = r.headers_mut();
    for (k, v) in &s.headers {
        if !head && k.eq_ignore_ascii_case("content-length") {
            continue;
        }
        if let (Ok(name), Ok(value)) = (
            hyper::header::HeaderName::from_bytes(k.as_bytes()),
            hyper::header::HeaderValue::from_str(v),
        ) {
            h.append(name, value);
        }
    }
    r
}
