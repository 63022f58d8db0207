//! Sending one signed request: a pooled hyper client (HTTP/1.1 and HTTP/2, rustls), SigV4
//! from aws-sigv4, a per-attempt timeout, and a bounded response body.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    sign, PayloadChecksumKind, SignableBody, SignableRequest, SigningSettings,
};
use aws_sigv4::sign::v4;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;

use super::error::EngineError;
use super::protocol::{WireRequest, WireResponse};

pub type HyperClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;
type PlainClient = Client<HttpConnector, Full<Bytes>>;

/// Two pools: plain HTTP (local endpoints such as moto) and HTTPS, whose TLS roots are read
/// from the system only when the first https request is made.
pub struct Clients {
    plain: PlainClient,
    tls: std::sync::OnceLock<Result<HyperClient, String>>,
}

impl Clients {
    pub fn new() -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        Clients {
            plain: Client::builder(TokioExecutor::new())
                .pool_idle_timeout(Duration::from_secs(60))
                .pool_max_idle_per_host(64)
                .build(connector),
            tls: std::sync::OnceLock::new(),
        }
    }

    async fn request(
        &self,
        req: http::Request<Full<Bytes>>,
    ) -> Result<http::Response<hyper::body::Incoming>, EngineError> {
        let result = if req.uri().scheme_str() == Some("https") {
            let client = self
                .tls
                .get_or_init(|| build_client().map_err(|e| e.to_string()))
                .as_ref()
                .map_err(|e| EngineError::Transport(e.clone()))?;
            client.request(req).await
        } else {
            self.plain.request(req).await
        };
        result.map_err(|e| {
            let mut msg = e.to_string();
            let mut src = std::error::Error::source(&e);
            while let Some(s) = src {
                msg.push_str(&format!(": {s}"));
                src = s.source();
            }
            EngineError::Transport(msg)
        })
    }
}

impl Default for Clients {
    fn default() -> Self {
        Self::new()
    }
}

/// Largest response body accepted (a defence against a misbehaving endpoint).
pub const MAX_RESPONSE_BYTES: usize = 512 * 1024 * 1024;

pub fn build_client() -> Result<HyperClient, EngineError> {
    let builder = hyper_rustls::HttpsConnectorBuilder::new();
    let builder = match builder.with_native_roots() {
        Ok(b) => b,
        Err(e) => {
            return Err(EngineError::Transport(format!(
                "no TLS root certificates: {e}"
            )))
        }
    };
    let https = builder
        .https_or_http()
        .enable_http1()
        .enable_http2()
        .build();
    Ok(Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(60))
        .pool_max_idle_per_host(64)
        .build(https))
}

pub struct Signing<'a> {
    pub credentials: &'a Credentials,
    pub region: &'a str,
    pub name: &'a str,
    /// S3 signs the payload hash into `x-amz-content-sha256`.
    pub content_sha256_header: bool,
}

/// Join the endpoint and the serialized request, put any host prefix before the host.
pub fn request_url(endpoint_url: &str, req: &WireRequest) -> Result<http::Uri, EngineError> {
    let mut base = endpoint_url.to_string();
    if let Some(prefix) = &req.host_prefix {
        let (scheme, rest) = base
            .split_once("://")
            .ok_or_else(|| EngineError::Endpoint(format!("bad endpoint URL {endpoint_url}")))?;
        base = format!("{scheme}://{prefix}{rest}");
    }
    // The endpoint may carry a base path; the request path is appended to it.
    let url = if req.path.starts_with('/') {
        format!("{}{}", base.trim_end_matches('/'), req.path)
    } else {
        format!("{base}/{}", req.path)
    };
    url.parse::<http::Uri>()
        .map_err(|e| EngineError::Endpoint(format!("bad request URL {url}: {e}")))
}

pub async fn send(
    client: &Clients,
    uri: http::Uri,
    req: &WireRequest,
    signing: &Signing<'_>,
    attempt_timeout: Duration,
) -> Result<WireResponse, EngineError> {
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
        .map_err(|e| EngineError::Transport(format!("building request: {e}")))?;

    // Sign: the signer sees method, URI, headers (host comes from the URI) and the body.
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
        .map_err(|e| EngineError::Transport(format!("signing: {e}")))?
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
    .map_err(|e| EngineError::Transport(format!("signing: {e}")))?;
    let (instructions, _) = sign(signable, &params)
        .map_err(|e| EngineError::Transport(format!("signing: {e}")))?
        .into_parts();
    instructions.apply_to_request_http1x(&mut http_req);

    let fut = async {
        let resp = client.request(http_req).await.map_err(|e| match e {
            EngineError::Transport(msg) => {
                EngineError::Transport(format!("{} {}: {msg}", req.method, host_of(&uri)))
            }
            other => other,
        })?;
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
        let body = Limited::new(resp.into_body(), MAX_RESPONSE_BYTES)
            .collect()
            .await
            .map_err(|e| {
                EngineError::Transport(format!("reading response from {}: {e}", host_of(&uri)))
            })?
            .to_bytes();
        Ok::<_, EngineError>(WireResponse {
            status,
            headers,
            body,
        })
    };
    match tokio::time::timeout(attempt_timeout, fut).await {
        Ok(r) => r,
        Err(_) => Err(EngineError::Timeout(attempt_timeout)),
    }
}

fn host_of(uri: &http::Uri) -> String {
    uri.authority().map(|a| a.to_string()).unwrap_or_default()
}
