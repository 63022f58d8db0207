//! Sending on a request that arrived from elsewhere (a client of `mrhost serve`): signed
//! again with real credentials and sent through the engine's transport, its retries
//! (boto3's standard mode, the shared retry quota) and its adaptive limiter (one per
//! credentials, region and signing name — shared with every other request of the process),
//! the response handed back as the service sent it: status, headers, body bytes.

use std::sync::atomic::Ordering;

use crate::error::{EngineError, TimeoutError};
use crate::protocol::{WireRequest, WireResponse};
use crate::{http, quirks, retry, AwsClient, CredentialSource, Endpoint, OperationRef};
use bytes::Bytes;

/// A request to send on, as the client made it minus its authentication.
#[derive(Debug, Clone)]
pub struct Outbound {
    /// The HTTP method.
    pub method: String,
    /// Path and query string, percent-encoded as the client sent them.
    pub path_and_query: String,
    /// Headers to send (no `Authorization`, `X-Amz-Date`, security token, `Host`, or
    /// hop-by-hop headers: the caller removes those).
    pub headers: Vec<(String, String)>,
    /// The body, as the client sent it.
    pub body: Bytes,
    /// Put before the endpoint's host (the operation's host prefix as the client applied it).
    pub host_prefix: Option<String>,
}

/// The service's answer, untouched.
#[derive(Debug, Clone)]
pub struct Forwarded {
    /// The HTTP status.
    pub status: u16,
    /// Every header, as received.
    pub headers: Vec<(String, String)>,
    /// The body bytes.
    pub body: Bytes,
    /// HTTP attempts made (1 without retries).
    pub attempts: u32,
}

/// Where an [`Outbound`] request goes: the endpoint, and the full URL.
#[derive(Debug, Clone)]
pub struct Target {
    /// The endpoint resolved for the operation and region.
    pub endpoint: Endpoint,
    /// The full URL.
    pub uri: ::http::Uri,
}

impl AwsClient {
    /// The endpoint and URL a request for `op` in `region` is sent to (S3 buckets as
    /// virtual hosts on AWS's own endpoints, as the engine sends its own requests).
    pub fn forward_target(
        &self,
        op: &OperationRef,
        region: &str,
        out: &Outbound,
    ) -> Result<Target, EngineError> {
        let endpoint = self.endpoint(&op.model, region)?;
        let mut wire = WireRequest::new(&out.method, &out.path_and_query);
        wire.host_prefix = out.host_prefix.clone();
        if op.model.name == "s3" && !endpoint.overridden {
            let bucket = out
                .path_and_query
                .trim_start_matches('/')
                .split(['/', '?'])
                .next()
                .unwrap_or_default();
            let bucket = percent_encoding::percent_decode_str(bucket)
                .decode_utf8_lossy()
                .into_owned();
            if !bucket.is_empty() {
                quirks::s3_virtual_host(&mut wire, &serde_json::json!({ "Bucket": bucket }));
            }
        }
        let uri = http::request_url(&endpoint.url, &wire)?;
        Ok(Target { endpoint, uri })
    }

    /// Sign `out` with `creds` and send it to `target`, retrying throttling and transient
    /// failures as every engine call does. The last answer is returned whatever its status;
    /// an error only when no answer came (connection failures, time-outs).
    pub async fn forward(
        &self,
        creds: &CredentialSource,
        region: &str,
        op: &OperationRef,
        target: &Target,
        out: &Outbound,
    ) -> Result<Forwarded, EngineError> {
        let model = &op.model;
        let endpoint = &target.endpoint;
        let signing_name = endpoint
            .signing_name
            .as_deref()
            .unwrap_or(model.signing_name());
        let wire = WireRequest {
            method: out.method.clone(),
            path: String::new(),
            headers: out.headers.clone(),
            body: out.body.clone(),
            host_prefix: None,
        };
        let inner = &self.inner;
        let config = &inner.retry;
        let limiter = (config.adaptive || signing_name == "sts").then(|| {
            inner
                .limiters
                .get(&crate::limiter_key(&creds.label, region, signing_name))
        });
        let limits = http::AttemptLimits {
            timeout: config.attempt_timeout,
            max_response_bytes: inner.max_response_bytes,
        };
        let attempts = async {
            let mut attempts = retry::Attempts::new(config, &inner.quota, limiter);
            loop {
                attempts.before_attempt().await;
                let credentials = creds.get().await?;
                let signing = http::Signing {
                    credentials: &credentials,
                    region: &endpoint.signing_region,
                    name: signing_name,
                    content_sha256_header: model.signing_name() == "s3",
                };
                inner.stats.requests.fetch_add(1, Ordering::Relaxed);
                let sent = http::send(
                    self.http(),
                    target.uri.clone(),
                    &wire,
                    &signing,
                    limits,
                    &op.name,
                )
                .await;
                // Whether to try again: the error the service answered with, read as the
                // engine reads it, or the failure to get an answer.
                let failure: Option<EngineError> = match &sent {
                    Ok(resp) if resp.status < 300 => None,
                    Ok(resp) => Some(service_error(op, resp)),
                    Err(e) => Some(e.clone()),
                };
                let Some(e) = failure else {
                    attempts.succeeded();
                    inner
                        .identities
                        .mark_verified(&self.identity_key(credentials.access_key_id()));
                    return sent.map(|r| answer(r, attempts.attempt()));
                };
                let class = retry::classify(&e);
                if class.is_throttle() {
                    inner.stats.throttles.fetch_add(1, Ordering::Relaxed);
                }
                match attempts.failed(class) {
                    // The last answer goes back as the service gave it; no answer is an error.
                    retry::Next::GiveUp => return sent.map(|r| answer(r, attempts.attempt())),
                    retry::Next::RetryAfter(sleep) => {
                        inner.stats.retries.fetch_add(1, Ordering::Relaxed);
                        tracing::debug!(operation = %op.name, region, attempt = attempts.attempt(), error = %e, ?sleep, "retrying");
                        tokio::time::sleep(sleep).await;
                    }
                }
            }
        };
        match tokio::time::timeout(config.call_timeout, attempts).await {
            Ok(r) => r,
            Err(_) => Err(TimeoutError::Call(config.call_timeout).into()),
        }
    }
}

fn answer(resp: WireResponse, attempts: u32) -> Forwarded {
    Forwarded {
        status: resp.status,
        headers: resp.headers,
        body: resp.body,
        attempts,
    }
}

/// The error an unsuccessful response carries, as the engine reads it (for the retry
/// decision); an unreadable one is known by its status.
fn service_error(op: &OperationRef, resp: &WireResponse) -> EngineError {
    match crate::protocol::parse(&op.model, op.op(), resp) {
        Err(e @ EngineError::Service(_)) => e,
        _ => EngineError::Service(Box::new(crate::ApiError {
            code: resp.status.to_string(),
            message: String::new(),
            http_status: resp.status,
            request_id: None,
            details: None,
        })),
    }
}
