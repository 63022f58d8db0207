//! A model-driven AWS client: any operation of any service in the botocore models,
//! boto3-style JSON in, boto3-shaped JSON out. It is the engine under mrhost's plugin
//! runtime and CLI, and usable on its own as a library — the Rust MultiRegionClient: no
//! wasmtime, no CLI, no terminal.
//!
//! ```no_run
//! # async fn demo() -> Result<(), aws_engine::EngineError> {
//! use std::sync::Arc;
//! use aws_engine::{AwsClient, CredentialSource};
//!
//! let client = AwsClient::builder().build()?;
//! let creds = Arc::new(CredentialSource::load_profile(&client, None, None).await?.credentials);
//! for region in ["eu-west-1", "eu-west-2"] {
//!     // One call, as boto3's `ec2.describe_vpcs()` ...
//!     let one = client
//!         .call(&creds, region, "ec2", "DescribeVpcs", &serde_json::json!({}))
//!         .await?;
//!     // ... or every page merged, as boto3's paginator's `build_full_result()`.
//!     let all = client
//!         .paginate_all(&creds, region, "ec2", "DescribeVpcs", &serde_json::json!({}))
//!         .await?;
//!     println!("{region}: {} / {}", one["Vpcs"], all["Vpcs"]);
//! }
//! # Ok(()) }
//! ```
//!
//! The path of one call: [`AwsClient::operation`] finds it in the [`model`]s;
//! [`protocol`] serializes the params for the service's wire protocol; [`endpoint`]
//! resolves where it goes; the transport signs it (SigV4) and sends it, retrying as
//! [`retry`] decides; [`protocol`] parses the answer; [`quirks`]-level fixes and
//! [`classify`]-level redaction apply; the [`cache`] may answer reads. Errors are typed by
//! the stage that failed ([`EngineError`]).

#![warn(missing_docs, unreachable_pub)]

pub mod cache;
pub mod catalogue;
pub mod classify;
pub mod credentials;
pub mod endpoint;
pub mod error;
pub mod forward;
mod http;
pub mod identity;
pub mod inbound;
pub mod model;
pub mod paginate;
pub mod protocol;
pub mod quirks;
pub mod retry;
pub mod schema;
pub mod sigv4_verify;
pub mod suggest;
mod throttle;
pub mod timestamp;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use sha2::Digest;

pub use classify::{Access, Grants, OpClass};
pub use credentials::CredentialSource;
pub use endpoint::{Endpoint, EndpointOverrides};
pub use error::{
    ApiError, ConstructionError, DispatchError, DispatchKind, EngineError, ResponseError,
    TimeoutError,
};
pub use http::{https_client, HyperClient};
pub use identity::{Identity, IdentityStore};
pub use model::{Models, Operation, ServiceModel};

/// Retry and timeout settings (boto3's "standard" retry mode by default, with adaptive
/// pacing).
#[derive(Debug, Clone)]
pub struct RetryConfig {
    /// Total attempts including the first (boto3 standard mode: 3).
    pub max_attempts: u32,
    /// Base of the exponential backoff.
    pub base_delay: Duration,
    /// Cap of a single backoff sleep (boto3: 20 s).
    pub max_backoff: Duration,
    /// Time allowed for one attempt (connect + response).
    pub attempt_timeout: Duration,
    /// Time allowed for a whole call, retries and backoff included.
    pub call_timeout: Duration,
    /// Pace requests per (identity, region, service) once a service throttles (boto3's
    /// "adaptive" mode); off means "standard" mode only. STS is always paced, per
    /// calling identity over every region (its limits are account-wide): that is what
    /// keeps AssumeRole into hundreds of accounts within them.
    pub adaptive: bool,
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            max_attempts: 3,
            base_delay: Duration::from_millis(500),
            max_backoff: Duration::from_secs(20),
            attempt_timeout: Duration::from_secs(60),
            call_timeout: Duration::from_secs(600),
            adaptive: true,
        }
    }
}

/// The largest response body read by default (256 MiB, mrhost's `--max-response-mib`
/// default).
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 256 << 20;

/// Counters a run reports in its summary.
#[derive(Debug, Default)]
pub struct Stats {
    /// HTTP requests sent (attempts included).
    pub requests: AtomicU64,
    /// Calls answered from the response cache.
    pub cache_hits: AtomicU64,
    /// Attempts after the first (of any call).
    pub retries: AtomicU64,
    /// Answers that were throttling errors.
    pub throttles: AtomicU64,
}

/// Settings of an [`AwsClient`]; [`AwsClient::builder`] starts one.
pub struct AwsClientBuilder {
    max_idle_connections: usize,
    cache: Option<Arc<cache::ResponseCache>>,
    models: Option<Arc<Models>>,
    endpoint_url: Option<String>,
    retry: RetryConfig,
    identities: Option<IdentityStore>,
    grants: Grants,
    max_response_bytes: u64,
}

impl AwsClientBuilder {
    /// Use these decoded models (default: [`Models::from_env`]).
    pub fn models(mut self, models: Arc<Models>) -> Self {
        self.models = Some(models);
        self
    }
    /// Send every request here (what `--endpoint-url` does), e.g. a local moto server.
    pub fn endpoint_url(mut self, url: Option<String>) -> Self {
        self.endpoint_url = url;
        self
    }
    /// Keep read responses in this cache (none: no caching).
    pub fn cache(mut self, cache: Option<Arc<cache::ResponseCache>>) -> Self {
        self.cache = cache;
        self
    }
    /// Retries and time-outs.
    pub fn retry(mut self, retry: RetryConfig) -> Self {
        self.retry = retry;
        self
    }
    /// Keep the access key → account mapping in this directory (mrhost's state directory;
    /// none: in memory only), so later runs need no GetCallerIdentity to name the account.
    pub fn identity_store(mut self, dir: Option<std::path::PathBuf>) -> Self {
        self.identities = dir.map(|d| IdentityStore::open(&d));
        self
    }
    /// What the user allowed beyond `read`. Redactable `secret` reads that are not allowed
    /// come back with their sensitive values replaced (see [`classify::redact`]).
    pub fn grants(mut self, grants: Grants) -> Self {
        self.grants = grants;
        self
    }
    /// The largest response body read (default [`DEFAULT_MAX_RESPONSE_BYTES`]). A larger
    /// answer fails its call with [`ResponseError::TooLarge`] — by its Content-Length
    /// before it is read, or as soon as it streams past the limit — so a call never holds
    /// more than this of one answer's bytes.
    pub fn max_response_bytes(mut self, bytes: u64) -> Self {
        self.max_response_bytes = bytes;
        self
    }
    /// How many requests the caller runs at once: idle connections kept per host (default
    /// 64). Fewer than the calls in flight, and every call past them opens a connection
    /// and closes it when done (at 1,024 in flight, one call in five did).
    pub fn max_idle_connections(mut self, n: usize) -> Self {
        self.max_idle_connections = n.max(1);
        self
    }
    /// The client (loads the models from the environment unless given).
    pub fn build(self) -> Result<AwsClient, EngineError> {
        let models = match self.models {
            Some(m) => m,
            None => Arc::new(Models::from_env()?),
        };
        let overrides = EndpointOverrides::from_env(self.endpoint_url);
        // Which STS answers who a key is: a key's identity learnt from a test server
        // behind --endpoint-url must never label what real AWS returns.
        let identity_scope = overrides
            .explicit
            .clone()
            .or_else(|| {
                overrides
                    .per_service
                    .iter()
                    .find(|(k, _)| k == "STS")
                    .map(|(_, v)| v.clone())
            })
            .or_else(|| overrides.global.clone())
            .unwrap_or_else(|| "aws".into());
        Ok(AwsClient {
            inner: Arc::new(Inner {
                models,
                http: http::Clients::new(self.max_idle_connections),
                second_http: std::sync::OnceLock::new(),
                overrides,
                identity_scope,
                retry: self.retry,
                stats: Stats::default(),
                quota: throttle::RetryQuota::default(),
                cache: self.cache,
                limiters: throttle::Limiters::default(),
                identities: self.identities.unwrap_or_default(),
                grants: self.grants,
                max_response_bytes: self.max_response_bytes.max(1),
            }),
            second_pool: false,
        })
    }
}

struct Inner {
    models: Arc<Models>,
    http: http::Clients,
    /// The pool of [`AwsClient::second_pool`]'s clones, made when first used.
    second_http: std::sync::OnceLock<http::Clients>,
    overrides: EndpointOverrides,
    identity_scope: String,
    retry: RetryConfig,
    stats: Stats,
    quota: throttle::RetryQuota,
    limiters: throttle::Limiters,
    cache: Option<Arc<cache::ResponseCache>>,
    identities: IdentityStore,
    grants: Grants,
    max_response_bytes: u64,
}

/// The client. Cheap to clone; all clones share the connection pool, the decoded models,
/// the retry quota and the rate limiters ([`AwsClient::second_pool`] excepted).
#[derive(Clone)]
pub struct AwsClient {
    inner: Arc<Inner>,
    second_pool: bool,
}

/// A resolved operation: its service model and name, checked against the model.
#[derive(Clone)]
pub struct OperationRef {
    /// The service's model.
    pub model: Arc<ServiceModel>,
    /// The name boto3 calls it by (the key in the model's `operations`).
    pub name: String,
    operation: Operation,
}

impl OperationRef {
    /// The operation's model.
    pub fn op(&self) -> &Operation {
        &self.operation
    }

    /// Check boto3-style params against the operation's input shape, as botocore's
    /// parameter validation does.
    pub fn validate(&self, params: &Value) -> Result<(), EngineError> {
        protocol::validate::validate(&self.model, self.op().input.as_ref(), params)
            .map_err(|m| EngineError::invalid(&self.name, m))
    }
}

/// A point in time a pagination (or a call) must finish by, and the limit it came from
/// (for the error that names it).
#[derive(Debug, Clone, Copy)]
struct Deadline {
    at: Instant,
    limit: Duration,
}

impl Deadline {
    /// Run `fut`, or fail with [`TimeoutError::Deadline`] when the deadline passes first.
    async fn run<T>(
        self,
        fut: impl std::future::Future<Output = Result<T, EngineError>>,
    ) -> Result<T, EngineError> {
        let left = self.at.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(TimeoutError::Deadline(self.limit).into());
        }
        match tokio::time::timeout(left, fut).await {
            Ok(r) => r,
            Err(_) => Err(TimeoutError::Deadline(self.limit).into()),
        }
    }
}

/// Limits a caller puts on one pagination: how many calls it may make and how long it may
/// take (mrhost's `--max-calls` and `--timeout` for a scope). Unlimited by default.
#[derive(Debug, Clone, Copy, Default)]
pub struct Budget {
    max_calls: Option<u64>,
    deadline: Option<Deadline>,
}

impl Budget {
    /// No limit.
    pub fn unlimited() -> Self {
        Budget::default()
    }

    /// At most `calls` calls (pages; retries are not counted). The call that would pass
    /// it fails with [`ConstructionError::CallLimit`] instead of being sent.
    pub fn max_calls(mut self, calls: u64) -> Self {
        self.max_calls = Some(calls);
        self
    }

    /// Finish within `limit` from now; a call still running then fails with
    /// [`TimeoutError::Deadline`].
    pub fn time_limit(mut self, limit: Duration) -> Self {
        self.deadline = Some(Deadline {
            at: Instant::now() + limit,
            limit,
        });
        self
    }
}

/// The adaptive limiter a request is paced by: one per (credentials, region, service);
/// STS's limits are per calling account over every region, so its key has no region.
pub(crate) fn limiter_key(label: &str, region: &str, signing_name: &str) -> String {
    if signing_name == "sts" {
        format!("{label}/*/sts")
    } else {
        format!("{label}/{region}/{signing_name}")
    }
}

impl AwsClient {
    /// A builder with the defaults: models from the environment, no endpoint override,
    /// boto3's standard retries with adaptive pacing, no response cache, nothing allowed
    /// beyond `read`.
    pub fn builder() -> AwsClientBuilder {
        AwsClientBuilder {
            max_idle_connections: http::DEFAULT_MAX_IDLE_PER_HOST,
            cache: None,
            models: None,
            endpoint_url: None,
            retry: RetryConfig::default(),
            identities: None,
            grants: Grants::default(),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
        }
    }

    /// A clone whose requests take a second connection pool, shared by every such clone
    /// and nothing else; all the rest (models, credentials' identities, retry quota,
    /// limiters, statistics) stays shared. For calls driven from another tokio runtime: a
    /// connection serves its requests from the runtime that opened it, so calls from two
    /// runtimes over one pool would wait on each other's schedulers.
    pub fn second_pool(&self) -> AwsClient {
        AwsClient {
            inner: self.inner.clone(),
            second_pool: true,
        }
    }

    /// The connection pool this clone's requests take.
    pub(crate) fn http(&self) -> &http::Clients {
        if self.second_pool {
            self.inner
                .second_http
                .get_or_init(|| http::Clients::new(self.inner.http.max_idle()))
        } else {
            &self.inner.http
        }
    }

    /// The decoded service models.
    pub fn models(&self) -> &Arc<Models> {
        &self.inner.models
    }

    /// Requests, retries, throttles and cache hits so far.
    pub fn stats(&self) -> &Stats {
        &self.inner.stats
    }

    /// The largest response body this client reads.
    pub fn max_response_bytes(&self) -> u64 {
        self.inner.max_response_bytes
    }

    /// Who the access keys this process met are (see [`identity`]).
    pub fn identities(&self) -> &IdentityStore {
        &self.inner.identities
    }

    /// What the user allowed beyond `read`.
    pub fn grants(&self) -> &Grants {
        &self.inner.grants
    }

    /// The identity store's key for an access key id, scoped to the STS this client asks.
    pub fn identity_key(&self, access_key_id: &str) -> String {
        identity::key_hash(&format!("{}\n{access_key_id}", self.inner.identity_scope))
    }

    /// The identity behind `creds`: from the role it assumes, the access-key mapping kept
    /// from earlier runs, or (the first time a key is met) one GetCallerIdentity in
    /// `region`'s STS endpoint. Needs the credentials themselves (a role is assumed).
    pub async fn identity(
        &self,
        creds: &CredentialSource,
        region: &str,
    ) -> Result<Identity, EngineError> {
        let c = creds.get().await?;
        let hash = self.identity_key(c.access_key_id());
        if let Some(known) = self.inner.identities.lookup(&hash) {
            return Ok(known);
        }
        self.verify(creds, &hash, region).await
    }

    /// Ask STS who `creds` are (once per key and process, shared by concurrent callers) and
    /// remember the answer as verified.
    async fn verify(
        &self,
        creds: &CredentialSource,
        hash: &str,
        region: &str,
    ) -> Result<Identity, EngineError> {
        let cell = self.inner.identities.verification(hash);
        let who = cell
            .get_or_try_init(|| async {
                let op = self.operation("sts", "GetCallerIdentity")?;
                let out = self
                    .send(creds, region, &op, &serde_json::json!({}))
                    .await?;
                let account = out["Account"].as_str();
                let arn = out["Arn"].as_str();
                let (Some(account), Some(arn)) = (account, arn) else {
                    return Err(EngineError::credentials(format!(
                        "{}: GetCallerIdentity named no account",
                        creds.label
                    )));
                };
                Ok(Identity {
                    account: account.to_string(),
                    arn: arn.to_string(),
                })
            })
            .await?
            .clone();
        self.inner.identities.remember(hash, &who, true);
        Ok(who)
    }

    /// Look up `service` and `operation` (exact, snake_case or kebab-case names).
    pub fn operation(&self, service: &str, operation: &str) -> Result<OperationRef, EngineError> {
        let model = self.inner.models.service(service)?;
        let op = match model.operation(operation) {
            Some(op) => op.clone(),
            None => {
                let suggestion = crate::suggest::nearest(
                    operation,
                    model.operations.keys().map(String::as_str),
                    4,
                )
                .map(|s| format!(" (did you mean {s}?)"))
                .unwrap_or_default();
                return Err(ConstructionError::UnknownOperation {
                    service: service.to_string(),
                    operation: operation.to_string(),
                    suggestion,
                }
                .into());
            }
        };
        Ok(OperationRef {
            name: op.name.clone(),
            model,
            operation: op,
        })
    }

    /// Where `model`'s requests go in `region` (the overrides applied).
    pub fn endpoint(&self, model: &ServiceModel, region: &str) -> Result<Endpoint, EngineError> {
        endpoint::resolve(&self.inner.models, model, region, &self.inner.overrides)
    }

    /// One call: serialize, sign, send (with retries), parse. Returns the response as boto3
    /// returns it, without `ResponseMetadata`.
    pub async fn call(
        &self,
        creds: &CredentialSource,
        region: &str,
        service: &str,
        operation: &str,
        params: &Value,
    ) -> Result<Value, EngineError> {
        let op = self.operation(service, operation)?;
        self.call_op(creds, region, &op, params).await
    }

    /// [`AwsClient::call`] of an operation already looked up. Reads are answered from the
    /// response cache when the client has one and the answer may be kept.
    pub async fn call_op(
        &self,
        creds: &CredentialSource,
        region: &str,
        op: &OperationRef,
        params: &Value,
    ) -> Result<Value, EngineError> {
        let model = &op.model;
        let operation = op.op();
        let mut params = std::borrow::Cow::Borrowed(params);
        let quirk = quirks::before_call(model, operation, &mut params);
        let wire = protocol::serialize(model, operation, &params)?;
        let endpoint = self.endpoint(model, region)?;
        let mut wire = wire;
        if model.name == "s3" && !endpoint.overridden {
            quirks::s3_virtual_host(&mut wire, &params);
        }
        let uri = http::request_url(&endpoint.url, &wire)?;
        let redact = matches!(
            self.inner.grants.decide(&model.name, &op.name),
            Access::Redact
        );
        // `data` and `secret` answers are never stored, redacted ones neither; nor who the
        // caller is (GetCallerIdentity is how a cached answer is earned).
        let class = classify::classify(&model.name, &op.name).class;
        let cache = self.inner.cache.as_ref().filter(|_| {
            matches!(class, OpClass::Read | OpClass::Billed)
                && !redact
                && !(model.name == "sts" && op.name == "GetCallerIdentity")
        });
        let mut who = None;
        if let Some(cache) = cache {
            // The key names who asks: the credentials' account and principal.
            let c = creds.get().await?;
            let hash = self.identity_key(c.access_key_id());
            let mut id = self.identity(creds, region).await?;
            let key = |id: &Identity, principal: &str| -> Option<Value> {
                cache.get(&cache::CacheKey {
                    endpoint: &endpoint.url,
                    account: &id.account,
                    principal,
                    region,
                    service: &model.name,
                    operation: &op.name,
                    params: &params,
                    model_version: self.inner.models.botocore_version(),
                })
            };
            if let Some(mut hit) = key(&id, &id.principal()) {
                // Served only to credentials this process has seen work, as that identity.
                if !self.inner.identities.is_verified(&hash) {
                    let confirmed = self.verify(creds, &hash, region).await?;
                    if confirmed != id {
                        id = confirmed;
                        hit = match key(&id, &id.principal()) {
                            Some(h) => h,
                            None => Value::Null,
                        };
                    }
                }
                if !hit.is_null() {
                    self.inner.stats.cache_hits.fetch_add(1, Ordering::Relaxed);
                    return Ok(hit);
                }
            }
            who = Some(id);
        }
        let result = self
            .send_wire(creds, region, op, &endpoint, uri, &wire, quirk, redact)
            .await;
        if let (Ok(v), Some(cache), Some(id)) = (&result, cache, &who) {
            cache.put(
                &cache::CacheKey {
                    endpoint: &endpoint.url,
                    account: &id.account,
                    principal: &id.principal(),
                    region,
                    service: &model.name,
                    operation: &op.name,
                    params: &params,
                    model_version: self.inner.models.botocore_version(),
                },
                v,
            );
        }
        result
    }

    /// One call without the response cache: serialize, sign, send (with retries), parse.
    async fn send(
        &self,
        creds: &CredentialSource,
        region: &str,
        op: &OperationRef,
        params: &Value,
    ) -> Result<Value, EngineError> {
        let model = &op.model;
        let operation = op.op();
        let mut params = std::borrow::Cow::Borrowed(params);
        let quirk = quirks::before_call(model, operation, &mut params);
        let mut wire = protocol::serialize(model, operation, &params)?;
        let endpoint = self.endpoint(model, region)?;
        if model.name == "s3" && !endpoint.overridden {
            quirks::s3_virtual_host(&mut wire, &params);
        }
        let uri = http::request_url(&endpoint.url, &wire)?;
        self.send_wire(creds, region, op, &endpoint, uri, &wire, quirk, false)
            .await
    }

    /// The retry loop of one serialized request (see [`retry`]). A success marks the
    /// credentials verified (they work, and the key's identity is what STS said it is).
    #[allow(clippy::too_many_arguments)]
    async fn send_wire(
        &self,
        creds: &CredentialSource,
        region: &str,
        op: &OperationRef,
        endpoint: &Endpoint,
        uri: ::http::Uri,
        wire: &protocol::WireRequest,
        quirk: quirks::CallContext,
        redact: bool,
    ) -> Result<Value, EngineError> {
        let model = &op.model;
        let operation = op.op();
        let signing_name = endpoint
            .signing_name
            .as_deref()
            .unwrap_or(model.signing_name());
        let config = &self.inner.retry;
        let limiter = (config.adaptive || signing_name == "sts").then(|| {
            self.inner
                .limiters
                .get(&limiter_key(&creds.label, region, signing_name))
        });
        let limits = http::AttemptLimits {
            timeout: config.attempt_timeout,
            max_response_bytes: self.inner.max_response_bytes,
        };
        let attempts = async {
            let mut attempts = retry::Attempts::new(config, &self.inner.quota, limiter);
            loop {
                attempts.before_attempt().await;
                // Credentials are never retried here: a role's AssumeRole has retried on
                // its own, and missing credentials stay missing.
                let credentials = creds.get().await?;
                let signing = http::Signing {
                    credentials: &credentials,
                    region: &endpoint.signing_region,
                    name: signing_name,
                    content_sha256_header: model.signing_name() == "s3",
                };
                self.inner.stats.requests.fetch_add(1, Ordering::Relaxed);
                let result = http::send(self.http(), uri.clone(), wire, &signing, limits, &op.name)
                    .await
                    .and_then(|resp| protocol::parse(model, operation, &resp));
                let e = match result {
                    Ok(mut v) => {
                        attempts.succeeded();
                        self.inner
                            .identities
                            .mark_verified(&self.identity_key(credentials.access_key_id()));
                        quirks::after_call(model, operation, &mut v, quirk);
                        if redact {
                            classify::redact(model, operation, &mut v);
                        }
                        return Ok(v);
                    }
                    Err(e) => e,
                };
                let class = retry::classify(&e);
                if class.is_throttle() {
                    self.inner.stats.throttles.fetch_add(1, Ordering::Relaxed);
                }
                match attempts.failed(class) {
                    retry::Next::GiveUp => return Err(e),
                    retry::Next::RetryAfter(sleep) => {
                        self.inner.stats.retries.fetch_add(1, Ordering::Relaxed);
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

    /// Page through a paginated operation; each item of the returned stream is one page.
    /// Unlimited unless [`Pages::budget`] says otherwise.
    pub fn pages(
        &self,
        creds: Arc<CredentialSource>,
        region: &str,
        op: OperationRef,
        params: Value,
    ) -> Pages {
        let paginator = op.model.paginators.get(&op.name).cloned();
        Pages {
            client: self.clone(),
            creds,
            region: region.to_string(),
            op,
            params,
            paginator,
            seen: HashMap::new(),
            calls: 0,
            budget: Budget::default(),
            done: false,
        }
    }

    /// Every page merged as boto3's `build_full_result()` (and the AWS CLI) merge them; a
    /// single call for operations that have no paginator.
    pub async fn paginate_all(
        &self,
        creds: &Arc<CredentialSource>,
        region: &str,
        service: &str,
        operation: &str,
        params: &Value,
    ) -> Result<Value, EngineError> {
        let op = self.operation(service, operation)?;
        self.pages(creds.clone(), region, op, params.clone())
            .full_result()
            .await
    }
}

fn inject_tokens(params: &mut Value, tokens: &[(String, Option<Value>)]) {
    if let Value::Object(m) = params {
        for (k, v) in tokens {
            match v {
                Some(v) => {
                    m.insert(k.clone(), v.clone());
                }
                None => {
                    m.remove(k);
                }
            }
        }
    }
}

/// A fixed-size digest of a page's next tokens: what a pagination remembers of every
/// token it followed (16 bytes a page, however long the tokens).
fn token_digest(tokens: &[(String, Option<Value>)]) -> [u8; 16] {
    let mut h = sha2::Sha256::new();
    for (k, v) in tokens {
        h.update(k.as_bytes());
        h.update([0]);
        match v {
            Some(v) => h.update(v.to_string().as_bytes()),
            None => h.update([0xff]),
        }
        h.update([0]);
    }
    let full = h.finalize();
    let mut out = [0u8; 16];
    out.copy_from_slice(&full[..16]);
    out
}

/// A paginated call in progress (see [`AwsClient::pages`]). It ends after the last page,
/// at the first error, when a page's next token is one it already followed (a loop:
/// [`ResponseError::PaginationLoop`]), or when its [`Budget`] is spent.
pub struct Pages {
    client: AwsClient,
    creds: Arc<CredentialSource>,
    region: String,
    op: OperationRef,
    params: Value,
    paginator: Option<model::Paginator>,
    /// Digest of every token tuple followed → the page that returned it.
    seen: HashMap<[u8; 16], u64>,
    calls: u64,
    budget: Budget,
    done: bool,
}

impl Pages {
    /// Limit the calls and the time this pagination may take.
    pub fn budget(mut self, budget: Budget) -> Self {
        self.budget = budget;
        self
    }

    /// Make the remaining calls over the client's second pool ([`AwsClient::second_pool`]):
    /// for a pagination that goes on in another runtime.
    pub fn use_second_pool(&mut self) {
        self.client = self.client.second_pool();
    }

    /// Calls made so far (one per page).
    pub fn calls(&self) -> u64 {
        self.calls
    }

    /// The next page, or `None` after the last one. Operations without a paginator yield
    /// exactly one page.
    pub async fn next_page(&mut self) -> Option<Result<Value, EngineError>> {
        if self.done {
            return None;
        }
        let result = self.fetch().await;
        if result.is_err() {
            self.done = true;
        }
        Some(result)
    }

    async fn fetch(&mut self) -> Result<Value, EngineError> {
        if let Some(limit) = self.budget.max_calls {
            if self.calls >= limit {
                return Err(ConstructionError::CallLimit {
                    operation: self.op.name.clone(),
                    limit,
                }
                .into());
            }
        }
        self.calls += 1;
        let call = self
            .client
            .call_op(&self.creds, &self.region, &self.op, &self.params);
        let page = match self.budget.deadline {
            Some(d) => d.run(call).await?,
            None => call.await?,
        };
        match self
            .paginator
            .as_ref()
            .and_then(|p| paginate::next_tokens(p, &page))
        {
            None => self.done = true,
            Some(tokens) => {
                let digest = token_digest(&tokens);
                if let Some(&first_seen) = self.seen.get(&digest) {
                    return Err(ResponseError::PaginationLoop {
                        operation: self.op.name.clone(),
                        page: self.calls,
                        first_seen,
                    }
                    .into());
                }
                self.seen.insert(digest, self.calls);
                inject_tokens(&mut self.params, &tokens);
            }
        }
        Ok(page)
    }

    /// Every remaining page merged as boto3's `build_full_result()` merges them (the one
    /// page itself for an operation without a paginator).
    pub async fn full_result(mut self) -> Result<Value, EngineError> {
        let Some(p) = self.paginator.clone() else {
            return match self.next_page().await {
                Some(r) => r,
                None => Ok(Value::Object(Default::default())),
            };
        };
        let mut full = paginate::FullResult::new();
        while let Some(page) = self.next_page().await {
            full.add_page(&p, &page?);
        }
        Ok(full.finish())
    }

    /// Whether the last page has been handed out (the next `next_page` makes no call).
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// The paginator's result keys (where the items are), if the operation has one.
    pub fn result_keys(&self) -> &[String] {
        self.paginator
            .as_ref()
            .map(|p| p.result_key.as_slice())
            .unwrap_or(&[])
    }
}
