//! Sending one signed request: a pooled hyper client (HTTP/1.1 and HTTP/2, rustls), SigV4
//! from aws-sigv4, a per-attempt timeout, and a response body read under the caller's size
//! limit — refused by its Content-Length before a byte of it is read, or as soon as it
//! streams past the limit, so an oversized answer never occupies more than the limit.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    sign, PayloadChecksumKind, SignableBody, SignableRequest, SigningSettings,
};
use aws_sigv4::sign::v4;
use bytes::{Bytes, BytesMut};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;

use crate::error::{
    ConstructionError, DispatchError, DispatchKind, EngineError, ResponseError, TimeoutError,
};
use crate::protocol::{WireRequest, WireResponse};

/// The pooled hyper client (HTTP and HTTPS) every request goes through.
pub type HyperClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;
type PlainClient = Client<HttpConnector, Full<Bytes>>;

/// Two pools: plain HTTP (local endpoints such as moto) and HTTPS, whose TLS roots are read
/// from the system only when the first https request is made.
pub(crate) struct Clients {
    plain: PlainClient,
    tls: std::sync::OnceLock<Result<HyperClient, String>>,
    max_idle: usize,
}

/// Idle connections kept per host when the caller does not say how many it runs at once.
pub(crate) const DEFAULT_MAX_IDLE_PER_HOST: usize = 64;

/// The transport's reason, with its causes, on one line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut msg = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        let s_text = s.to_string();
        if !msg.contains(&s_text) {
            msg.push_str(": ");
            msg.push_str(&s_text);
        }
        src = s.source();
    }
    msg.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl Clients {
    /// Pools keeping up to `max_idle` idle connections per host: as many as the caller
    /// runs requests at once, so a connection is reused rather than closed and opened
    /// again while the calls go on.
    pub(crate) fn new(max_idle: usize) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        Clients {
            plain: Client::builder(TokioExecutor::new())
                .pool_idle_timeout(Duration::from_secs(60))
                .pool_max_idle_per_host(max_idle)
                .build(connector),
            tls: std::sync::OnceLock::new(),
            max_idle,
        }
    }

    pub(crate) fn max_idle(&self) -> usize {
        self.max_idle
    }

    async fn request(
        &self,
        req: http::Request<Full<Bytes>>,
        target: &str,
    ) -> Result<http::Response<hyper::body::Incoming>, EngineError> {
        let result = if req.uri().scheme_str() == Some("https") {
            let client = self
                .tls
                .get_or_init(|| build_tls_client(self.max_idle))
                .as_ref()
                .map_err(|e| ConstructionError::Serialization(e.clone()))?;
            client.request(req).await
        } else {
            self.plain.request(req).await
        };
        result.map_err(|e| {
            DispatchError {
                kind: if e.is_connect() {
                    DispatchKind::Connect
                } else {
                    DispatchKind::Io
                },
                target: target.to_string(),
                message: chain(&e),
            }
            .into()
        })
    }
}

impl Default for Clients {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_IDLE_PER_HOST)
    }
}

/// A pooled HTTP(S) client on the system's roots, for the binary's own downloads
/// (`plugins install URL`): the same stack as the engine's requests.
pub fn https_client() -> Result<HyperClient, ConstructionError> {
    build_tls_client(DEFAULT_MAX_IDLE_PER_HOST).map_err(ConstructionError::Serialization)
}

fn build_tls_client(max_idle: usize) -> Result<HyperClient, String> {
    let builder = hyper_rustls::HttpsConnectorBuilder::new()
        .with_native_roots()
        .map_err(|e| format!("no TLS root certificates: {e}"))?;
    let https = builder
        .https_or_http()
        .enable_http1()
        .enable_http2()
        .build();
    Ok(Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(60))
        .pool_max_idle_per_host(max_idle)
        .build(https))
}

/// Who signs, for what.
pub(crate) struct Signing<'a> {
    pub(crate) credentials: &'a Credentials,
    pub(crate) region: &'a str,
    pub(crate) name: &'a str,
    /// S3 signs the payload hash into `x-amz-content-sha256`.
    pub(crate) content_sha256_header: bool,
}

/// Limits of one attempt.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AttemptLimits {
    /// Connect and answer, body included.
    pub(crate) timeout: Duration,
    /// The largest body read.
    pub(crate) max_response_bytes: u64,
}

/// Join the endpoint and the serialized request, put any host prefix before the host.
pub(crate) fn request_url(endpoint_url: &str, req: &WireRequest) -> Result<http::Uri, EngineError> {
    let mut base = endpoint_url.to_string();
    if let Some(prefix) = &req.host_prefix {
        let (scheme, rest) = base
            .split_once("://")
            .ok_or_else(|| EngineError::endpoint(format!("bad endpoint URL {endpoint_url}")))?;
        base = format!("{scheme}://{prefix}{rest}");
    }
    // The endpoint may carry a base path; the request path is appended to it.
    let url = if req.path.starts_with('/') {
        format!("{}{}", base.trim_end_matches('/'), req.path)
    } else {
        format!("{base}/{}", req.path)
    };
    url.parse::<http::Uri>()
        .map_err(|e| EngineError::endpoint(format!("bad request URL {url}: {e}")))
}

/// The request as it goes on the wire, signed.
fn signed_request(
    uri: &http::Uri,
    req: &WireRequest,
    signing: &Signing<'_>,
) -> Result<http::Request<Full<Bytes>>, EngineError> {
    let mut builder = http::Request::builder()
        .method(req.method.as_str())
        .uri(uri.clone());
    let mut has_ua = false;
    for (k, v) in &req.headers {
        has_ua |= k.eq_ignore_ascii_case("user-agent");
        builder = builder.header(k.as_str(), v.as_str());
    }
    if !has_ua {
        builder = builder.header("User-Agent", concat!("mrhost/", env!("CARGO_PKG_VERSION")));
    }
    let mut http_req = builder
        .body(Full::new(req.body.clone()))
        .map_err(|e| ConstructionError::Serialization(e.to_string()))?;

    // Sign: the signer sees method, URI, headers (host comes from the URI) and the body.
    let signing_err = |e: &dyn std::error::Error| ConstructionError::Signing(chain(e));
    let identity = signing.credentials.clone().into();
    let mut settings = SigningSettings::default();
    if signing.content_sha256_header {
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        settings.uri_path_normalization_mode =
            aws_sigv4::http_request::UriPathNormalizationMode::Disabled;
        settings.percent_encoding_mode = aws_sigv4::http_request::PercentEncodingMode::Single;
    }
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(signing.region)
        .name(signing.name)
        .time(SystemTime::now())
        .settings(settings)
        .build()
        .map_err(|e| signing_err(&e))?
        .into();
    let header_pairs: Vec<(String, String)> = http_req
        .headers()
        .iter()
        .filter_map(|(k, v)| {
            v.to_str()
                .ok()
                .map(|v| (k.as_str().to_string(), v.to_string()))
        })
        .collect();
    let uri_string = uri.to_string();
    let signable = SignableRequest::new(
        req.method.as_str(),
        uri_string.as_str(),
        header_pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::Bytes(&req.body),
    )
    .map_err(|e| signing_err(&e))?;
    let (instructions, _) = sign(signable, &params)
        .map_err(|e| signing_err(&e))?
        .into_parts();
    instructions.apply_to_request_http1x(&mut http_req);
    Ok(http_req)
}

/// Sign and send one attempt; read the answer's body within `limits`. `operation` names
/// the call in a size error.
pub(crate) async fn send(
    client: &Clients,
    uri: http::Uri,
    req: &WireRequest,
    signing: &Signing<'_>,
    limits: AttemptLimits,
    operation: &str,
) -> Result<WireResponse, EngineError> {
    let http_req = signed_request(&uri, req, signing)?;
    let target = format!("{} {}", req.method, host_of(&uri));
    let fut = async {
        let resp = client.request(http_req, &target).await?;
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = read_body(resp, limits.max_response_bytes, operation, &target).await?;
        Ok::<_, EngineError>(WireResponse {
            status,
            headers,
            body,
        })
    };
    match tokio::time::timeout(limits.timeout, fut).await {
        Ok(r) => r,
        Err(_) => Err(TimeoutError::Attempt(limits.timeout).into()),
    }
}

/// The body, at most `limit` bytes: a larger Content-Length is refused before reading,
/// and a body without one stops being read as soon as it passes the limit. Dropping the
/// response then closes the connection, so nothing more is received.
async fn read_body(
    resp: http::Response<hyper::body::Incoming>,
    limit: u64,
    operation: &str,
    target: &str,
) -> Result<Bytes, EngineError> {
    let too_large = |declared: Option<u64>| -> EngineError {
        ResponseError::TooLarge {
            operation: operation.to_string(),
            limit,
            declared,
        }
        .into()
    };
    let declared = resp
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if let Some(n) = declared.filter(|n| *n > limit) {
        return Err(too_large(Some(n)));
    }
    let mut body = resp.into_body();
    let io = |e: hyper::Error| -> EngineError {
        DispatchError {
            kind: DispatchKind::Io,
            target: target.to_string(),
            message: format!("reading the response: {}", chain(&e)),
        }
        .into()
    };
    if let Some(n) = declared {
        // Reserve what the server declared (within the limit): one allocation, no doubling.
        let mut buf = BytesMut::with_capacity(usize::try_from(n).unwrap_or(0));
        while let Some(frame) = body.frame().await {
            if let Ok(data) = frame.map_err(io)?.into_data() {
                if buf.len() as u64 + data.len() as u64 > limit {
                    return Err(too_large(declared));
                }
                buf.extend_from_slice(&data);
            }
        }
        return Ok(buf.freeze());
    }
    // No length declared: keep the frames as they come and join them once at the end, so
    // memory never holds more than the limit while reading (a growing buffer would hold
    // its old and new copies at each doubling, up to twice the limit and more when the
    // allocator keeps what was freed) and a body over the limit is refused at the limit.
    let mut frames: Vec<Bytes> = Vec::new();
    let mut len = 0u64;
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame.map_err(io)?.into_data() {
            len += data.len() as u64;
            if len > limit {
                return Err(too_large(None));
            }
            if !data.is_empty() {
                frames.push(data);
            }
        }
    }
    Ok(match frames.len() {
        0 => Bytes::new(),
        1 => frames.pop().unwrap_or_default(),
        _ => {
            let mut buf = BytesMut::with_capacity(usize::try_from(len).unwrap_or(0));
            for f in frames {
                buf.extend_from_slice(&f);
            }
            buf.freeze()
        }
    })
}

fn host_of(uri: &http::Uri) -> String {
    uri.authority().map(|a| a.to_string()).unwrap_or_default()
}
