//! The model-driven AWS client: any operation of any service in the models, boto3-style
//! JSON in, boto3-shaped JSON out. Usable on its own as a library (the Rust
//! MultiRegionClient); the plugin runtime and the CLI are built on it.
//!
//! ```no_run
//! # async fn demo() -> Result<(), aws_engine::EngineError> {
//! use aws_engine::{AwsClient, CredentialSource};
//! let client = AwsClient::builder().build()?;
//! let creds = std::sync::Arc::new(CredentialSource::load_profile(&client, None, None).await?.credentials);
//! for region in ["eu-west-1", "eu-west-2"] {
//!     let vpcs = client
//!         .paginate_all(&creds, region, "ec2", "DescribeVpcs", &serde_json::json!({}))
//!         .await?;
//!     println!("{region}: {}", vpcs["Vpcs"]);
//! }
//! # Ok(()) }
//! ```

pub mod cache;
pub mod catalogue;
pub mod classify;
pub mod credentials;
pub mod endpoint;
pub mod error;
pub mod forward;
pub mod http;
pub mod identity;
pub mod inbound;
pub mod model;
pub mod paginate;
pub mod protocol;
pub mod quirks;
pub mod schema;
pub mod sigv4_verify;
pub mod suggest;
pub mod throttle;
pub mod timestamp;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use serde_json::Value;

pub use classify::{Access, Grants, OpClass};
pub use credentials::CredentialSource;
pub use endpoint::{Endpoint, EndpointOverrides};
pub use error::{ApiError, EngineError};
pub use identity::{Identity, IdentityStore};
pub use model::{Models, Operation, ServiceModel};

/// Retry and timeout settings (boto3's "standard" retry mode by default).
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
    /// "adaptive" mode); off means "standard" mode only.
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

/// Counters a run reports in its summary.
#[derive(Debug, Default)]
pub struct Stats {
    /// HTTP requests sent (attempts included).
    pub requests: AtomicU64,
    /// Calls answered from the response cache.
    pub cache_hits: AtomicU64,
    pub retries: AtomicU64,
    pub throttles: AtomicU64,
}

pub struct AwsClientBuilder {
    cache: Option<Arc<cache::ResponseCache>>,
    models: Option<Arc<Models>>,
    endpoint_url: Option<String>,
    retry: RetryConfig,
    identities: Option<IdentityStore>,
    grants: Grants,
}

impl AwsClientBuilder {
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
                http: http::Clients::new(),
                overrides,
                identity_scope,
                retry: self.retry,
                stats: Stats::default(),
                quota: throttle::RetryQuota::default(),
                cache: self.cache,
                limiters: throttle::Limiters::default(),
                identities: self.identities.unwrap_or_default(),
                grants: self.grants,
            }),
        })
    }
}

struct Inner {
    models: Arc<Models>,
    http: http::Clients,
    overrides: EndpointOverrides,
    identity_scope: String,
    retry: RetryConfig,
    stats: Stats,
    quota: throttle::RetryQuota,
    limiters: throttle::Limiters,
    cache: Option<Arc<cache::ResponseCache>>,
    identities: IdentityStore,
    grants: Grants,
}

/// Cheap to clone; all clones share the connection pool and the decoded models.
#[derive(Clone)]
pub struct AwsClient {
    inner: Arc<Inner>,
}

/// A resolved operation: its service model and name, checked against the model.
#[derive(Clone)]
pub struct OperationRef {
    pub model: Arc<ServiceModel>,
    /// The name boto3 calls it by (the key in the model's `operations`).
    pub name: String,
    operation: Operation,
}

impl OperationRef {
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

impl AwsClient {
    pub fn builder() -> AwsClientBuilder {
        AwsClientBuilder {
            cache: None,
            models: None,
            endpoint_url: None,
            retry: RetryConfig::default(),
            identities: None,
            grants: Grants::default(),
        }
    }

    pub fn models(&self) -> &Arc<Models> {
        &self.inner.models
    }

    pub fn stats(&self) -> &Stats {
        &self.inner.stats
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
                    return Err(EngineError::Credentials(format!(
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
                return Err(EngineError::UnknownOperation {
                    service: service.to_string(),
                    operation: operation.to_string(),
                    suggestion,
                });
            }
        };
        Ok(OperationRef {
            name: op.name.clone(),
            model,
            operation: op,
        })
    }

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

    /// The retry loop of one serialized request. A success marks the credentials verified
    /// (they work, and the key's identity is what STS said it is).
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
        let retry = &self.inner.retry;
        let limiter = retry.adaptive.then(|| {
            self.inner
                .limiters
                .get(&format!("{}/{region}/{signing_name}", creds.label))
        });
        let attempts = async {
            let mut attempt = 0;
            let mut spent = 0;
            loop {
                attempt += 1;
                if let Some(l) = &limiter {
                    l.acquire().await;
                }
                let credentials = creds.get().await?;
                let signing = http::Signing {
                    credentials: &credentials,
                    region: &endpoint.signing_region,
                    name: signing_name,
                    content_sha256_header: model.signing_name() == "s3",
                };
                self.inner.stats.requests.fetch_add(1, Ordering::Relaxed);
                let result = match http::send(
                    &self.inner.http,
                    uri.clone(),
                    wire,
                    &signing,
                    retry.attempt_timeout,
                )
                .await
                {
                    Ok(resp) => protocol::parse(model, operation, &resp),
                    Err(e) => Err(e),
                };
                let throttled = matches!(&result, Err(EngineError::Api(a)) if a.is_throttling());
                if throttled {
                    self.inner.stats.throttles.fetch_add(1, Ordering::Relaxed);
                }
                if let Some(l) = &limiter {
                    l.update(throttled);
                }
                match result {
                    Ok(mut v) => {
                        self.inner.quota.release(spent);
                        self.inner
                            .identities
                            .mark_verified(&self.identity_key(credentials.access_key_id()));
                        quirks::after_call(model, operation, &mut v, quirk);
                        if redact {
                            classify::redact(model, operation, &mut v);
                        }
                        return Ok(v);
                    }
                    Err(e) if e.is_retryable() && attempt < retry.max_attempts => {
                        let cost = match e {
                            EngineError::Timeout(_) | EngineError::Transport(_) => {
                                throttle::TIMEOUT_RETRY_COST
                            }
                            _ => throttle::RETRY_COST,
                        };
                        if !self.inner.quota.acquire(cost) {
                            tracing::debug!(operation = %op.name, region, "retry quota exhausted");
                            return Err(e);
                        }
                        spent += cost;
                        self.inner.stats.retries.fetch_add(1, Ordering::Relaxed);
                        let cap = retry
                            .base_delay
                            .saturating_mul(1u32 << (attempt - 1).min(16))
                            .min(retry.max_backoff);
                        // Full jitter: sleep anywhere in [0, cap).
                        let sleep = cap.mul_f64(rand::rng().random::<f64>());
                        tracing::debug!(operation = %op.name, region, attempt, error = %e, ?sleep, "retrying");
                        tokio::time::sleep(sleep).await;
                    }
                    Err(e) => return Err(e),
                }
            }
        };
        match tokio::time::timeout(retry.call_timeout, attempts).await {
            Ok(r) => r,
            Err(_) => Err(EngineError::Timeout(retry.call_timeout)),
        }
    }

    /// Page through a paginated operation; each item of the returned stream is one page.
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
            previous: None,
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
        let Some(p) = op.model.paginators.get(&op.name).cloned() else {
            return self.call_op(creds, region, &op, params).await;
        };
        let mut pages = self.pages(creds.clone(), region, op, params.clone());
        let mut full = paginate::FullResult::new();
        while let Some(page) = pages.next_page().await {
            full.add_page(&p, &page?);
        }
        Ok(full.finish())
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

/// A paginated call in progress (see [`AwsClient::pages`]).
pub struct Pages {
    client: AwsClient,
    creds: Arc<CredentialSource>,
    region: String,
    op: OperationRef,
    params: Value,
    paginator: Option<model::Paginator>,
    previous: Option<Vec<(String, Option<Value>)>>,
    done: bool,
}

impl Pages {
    /// The next page, or `None` after the last one. Operations without a paginator yield
    /// exactly one page.
    pub async fn next_page(&mut self) -> Option<Result<Value, EngineError>> {
        if self.done {
            return None;
        }
        let page = match self
            .client
            .call_op(&self.creds, &self.region, &self.op, &self.params)
            .await
        {
            Ok(p) => p,
            Err(e) => {
                self.done = true;
                return Some(Err(e));
            }
        };
        match self
            .paginator
            .as_ref()
            .and_then(|p| paginate::next_tokens(p, &page))
        {
            None => self.done = true,
            Some(tokens) => {
                if self.previous.as_ref() == Some(&tokens) {
                    self.done = true;
                    return Some(Err(EngineError::Pagination {
                        operation: self.op.name.clone(),
                        message: "the same next token was received twice".into(),
                    }));
                }
                inject_tokens(&mut self.params, &tokens);
                self.previous = Some(tokens);
            }
        }
        Some(Ok(page))
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
