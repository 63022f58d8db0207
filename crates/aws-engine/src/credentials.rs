//! Credentials, resolved as the AWS CLI resolves them, cached and refreshed ahead of expiry.
//! The secret values never leave this module except into the signer.
//!
//! Precedence: an explicit profile (`--profile`) beats environment keys, which beat the rest
//! of the default chain (a profile named by `AWS_PROFILE`, SSO, container, instance
//! metadata). Role hops of a profile (`role_arn` with `source_profile` or
//! `credential_source`) are made by the engine itself ([`AssumeRoleProvider`]), so they
//! go where `--endpoint-url` points and can carry a session policy; the leaf of a chain
//! (static keys, `credential_process`, SSO, web identity) comes from aws-config's providers.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;
use tokio::sync::Mutex;

use super::error::EngineError;
use super::identity::{self, Identity};

/// Refresh temporary credentials this long before they expire.
const REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

/// Role hops a profile may chain before mrhost calls it a loop.
const MAX_CHAIN: usize = 10;

/// AssumeRole calls in flight at once, process-wide. An organisation's plan asks for every
/// member's role at once (up to --concurrency); STS throttles per calling account (about
/// 600 requests/s), so a thousand at once would be throttled in a burst. 64 in flight at a
/// ~100 ms round trip stay near that rate.
const ASSUME_IN_FLIGHT: usize = 64;

/// Rounds of AssumeRole after the engine's own retries came back throttled: STS throttling
/// is waited out (full-jitter backoff, up to 20 s a round) rather than losing the account.
const ASSUME_THROTTLE_ROUNDS: u32 = 8;

fn assume_slots() -> &'static tokio::sync::Semaphore {
    static SLOTS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    SLOTS.get_or_init(|| tokio::sync::Semaphore::new(ASSUME_IN_FLIGHT))
}

/// One identity's credentials: a provider and its cache.
pub struct CredentialSource {
    provider: SharedCredentialsProvider,
    cached: Mutex<Option<Credentials>>,
    /// A human label (profile name, role ARN) for logs and errors; never a key id.
    pub label: String,
    /// The account, when it is known without asking STS (a role's ARN names it).
    known_account: Option<String>,
    /// For a role mrhost assumes: its ARN and the session policy slot the provider reads.
    role: Option<Arc<RoleState>>,
}

impl std::fmt::Debug for CredentialSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialSource")
            .field("label", &self.label)
            .finish()
    }
}

/// What loading a profile gives: its credentials and its configured region, if any.
pub struct LoadedProfile {
    /// The profile's credentials.
    pub credentials: CredentialSource,
    /// The profile's `region`, if it sets one.
    pub region: Option<String>,
}

/// A role mrhost assumes, shared by its [`CredentialSource`] and its provider.
#[derive(Debug)]
struct RoleState {
    role_arn: String,
    /// The STS session policy to pass (`Policy`), once decided.
    policy: std::sync::Mutex<Option<String>>,
    /// Whether credentials were already asked for (a later policy forces a new session).
    assumed: AtomicBool,
}

impl CredentialSource {
    /// A source around any provider; `label` names it in messages.
    pub fn new(provider: SharedCredentialsProvider, label: impl Into<String>) -> Self {
        CredentialSource {
            provider,
            cached: Mutex::new(None),
            label: label.into(),
            known_account: None,
            role: None,
        }
    }

    /// The account these credentials act in, when known without a call (roles).
    pub fn known_account(&self) -> Option<&str> {
        self.known_account.as_deref()
    }

    /// The role ARN, for credentials of a role mrhost assumes.
    pub fn role_arn(&self) -> Option<&str> {
        self.role.as_ref().map(|r| r.role_arn.as_str())
    }

    /// The identity these credentials will have, when known without a call: a role's
    /// principal (see [`Identity::principal`]).
    pub fn expected_identity(&self) -> Option<Identity> {
        self.role_arn().and_then(Identity::from_arn)
    }

    /// Attach an STS session policy to the role this source assumes (nothing for other
    /// sources). Credentials already fetched without it are dropped, so the next use
    /// assumes the role again with the policy.
    pub async fn set_session_policy(&self, policy: Option<String>) {
        let Some(role) = &self.role else { return };
        if let Ok(mut p) = role.policy.lock() {
            *p = policy;
        }
        if role.assumed.load(Ordering::SeqCst) {
            *self.cached.lock().await = None;
        }
    }

    /// Whether this source assumes a role through the engine (and so takes a session policy).
    pub fn takes_session_policy(&self) -> bool {
        self.role.is_some()
    }

    /// Fixed credentials (tests, library users with their own key handling).
    pub fn fixed(access_key: &str, secret_key: &str, session_token: Option<String>) -> Self {
        let creds = Credentials::new(access_key, secret_key, session_token, None, "mrhost-fixed");
        Self::new(SharedCredentialsProvider::new(creds), "fixed")
    }

    /// A named profile's credentials, or (no profile) environment keys, else the default
    /// chain — in the AWS CLI's order. Role hops are assumed by `client` in `home` (the
    /// profile's region, else us-east-1, when `None`).
    pub async fn load_profile(
        client: &super::AwsClient,
        profile: Option<&str>,
        home: Option<&str>,
    ) -> Result<LoadedProfile, EngineError> {
        let mut region_chain = aws_config::default_provider::region::DefaultRegionChain::builder();
        if let Some(p) = profile {
            region_chain = region_chain.profile_name(p);
        }
        let region = region_chain.build().region().await.map(|r| r.to_string());
        let home = home
            .map(str::to_string)
            .or_else(|| region.clone())
            .unwrap_or_else(|| "us-east-1".into());
        let profiles = load_profile_files().await;

        let credentials = match profile {
            Some(name) => {
                let set = profiles.map_err(|e| {
                    EngineError::credentials(format!("profile {name}: the AWS config files: {e}"))
                })?;
                chain(client, &set, name, &home, 0)?
            }
            None if env_keys_present() => CredentialSource::new(
                SharedCredentialsProvider::new(
                    aws_config::environment::EnvironmentVariableCredentialsProvider::new(),
                ),
                "environment",
            ),
            None => {
                let name = std::env::var("AWS_PROFILE")
                    .or_else(|_| std::env::var("AWS_DEFAULT_PROFILE"))
                    .ok()
                    .filter(|s| !s.is_empty());
                let selected = name.clone().unwrap_or_else(|| "default".into());
                let has_role = profiles.as_ref().ok().is_some_and(|set| {
                    set.get_profile(&selected)
                        .is_some_and(|p| p.get("role_arn").is_some() && !is_web_identity(p))
                });
                match (has_role, profiles) {
                    (true, Ok(set)) => chain(client, &set, &selected, &home, 0)?,
                    _ => {
                        let provider =
                            aws_config::default_provider::credentials::DefaultCredentialsChain::builder()
                                .build()
                                .await;
                        let label = name.map_or_else(
                            || "default credentials".to_string(),
                            |n| format!("profile {n}"),
                        );
                        CredentialSource::new(quiet(provider), label)
                    }
                }
            }
        };
        Ok(LoadedProfile {
            credentials,
            region,
        })
    }

    /// Current credentials, fetched on first use and again shortly before they expire
    /// (`REFRESH_MARGIN`, 5 minutes, ahead: an assumed role is re-assumed during a long run
    /// before its session ends). Every scope of one account shares one source, and one
    /// refresh: concurrent callers wait for the one in flight instead of each asking STS.
    /// When a refresh fails while the credentials held are still valid, those are used
    /// (and the refresh is tried again on the next call).
    pub async fn get(&self) -> Result<Credentials, EngineError> {
        let mut cached = self.cached.lock().await;
        let now = SystemTime::now();
        if let Some(c) = cached.as_ref() {
            let fresh = match c.expiry() {
                None => true,
                Some(exp) => exp > now + REFRESH_MARGIN,
            };
            if fresh {
                return Ok(c.clone());
            }
        }
        if let Some(role) = &self.role {
            role.assumed.store(true, Ordering::SeqCst);
        }
        match self.provider.provide_credentials().await {
            Ok(creds) => {
                *cached = Some(creds.clone());
                Ok(creds)
            }
            Err(e) => {
                let message = describe(&self.label, &e);
                match cached.as_ref() {
                    Some(c) if c.expiry().is_some_and(|exp| exp > now) => {
                        tracing::warn!(
                            "{message} (refreshing; the current credentials stay in use until they expire)"
                        );
                        Ok(c.clone())
                    }
                    _ => Err(EngineError::credentials(message)),
                }
            }
        }
    }
}

/// One line: who, and the most telling cause. The whole chain of causes goes to the
/// debug log (`-vv`).
fn describe(label: &str, e: &CredentialsError) -> String {
    let mut chain = vec![e.to_string()];
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        chain.push(s.to_string());
        src = s.source();
    }
    tracing::debug!(
        credentials = label,
        "credential error chain:\n  {}",
        chain.join("\n  ")
    );
    let generic = [
        "the credential provider was not enabled",
        "an error occurred while loading credentials",
        "the credentials provider was not properly configured",
        "unexpected credentials error",
    ];
    let cause = match e {
        CredentialsError::CredentialsNotLoaded(_) if chain.len() <= 2 => {
            "no credentials found (environment keys, AWS config and credentials files, SSO, container or instance metadata)".to_string()
        }
        _ => {
            // The specific messages, outermost first, without aws-config's generic wrappers
            // or what a message repeats of its parent.
            let mut cause = String::new();
            for m in chain.iter().map(|m| one_line(m)) {
                if m.is_empty() || generic.contains(&m.as_str()) || cause.contains(&m) {
                    continue;
                }
                if !cause.is_empty() {
                    cause.push_str(": ");
                }
                cause.push_str(&m);
            }
            if cause.is_empty() {
                e.to_string()
            } else {
                cause
            }
        }
    };
    format!("{label}: {}", one_line(&cause))
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn env_keys_present() -> bool {
    let set = |k: &str| std::env::var(k).is_ok_and(|v| !v.trim().is_empty());
    set("AWS_ACCESS_KEY_ID") && set("AWS_SECRET_ACCESS_KEY")
}

fn is_web_identity(p: &aws_config::profile::Profile) -> bool {
    p.get("web_identity_token_file").is_some()
}

async fn load_profile_files(
) -> Result<aws_config::profile::ProfileSet, aws_config::profile::ProfileFileLoadError> {
    aws_config::profile::load(
        &aws_types::os_shim_internal::Fs::real(),
        &aws_types::os_shim_internal::Env::real(),
        &aws_runtime::env_config::file::EnvConfigFiles::default(),
        None,
    )
    .await
}

/// An aws-config provider whose own log lines (a multi-line warning on every failure) are
/// dropped: the error comes back as one line, and `-vv` logs the whole chain.
#[derive(Debug)]
struct Quiet(SharedCredentialsProvider);

impl ProvideCredentials for Quiet {
    fn provide_credentials<'a>(
        &'a self,
    ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        use tracing::instrument::WithSubscriber;
        aws_credential_types::provider::future::ProvideCredentials::new(
            self.0
                .provide_credentials()
                .with_subscriber(tracing::subscriber::NoSubscriber::default()),
        )
    }
}

fn quiet(p: impl ProvideCredentials + 'static) -> SharedCredentialsProvider {
    SharedCredentialsProvider::new(Quiet(SharedCredentialsProvider::new(p)))
}

/// The credentials of profile `name`: a role hop (assumed by the engine) over its source,
/// or a leaf aws-config resolves.
fn chain(
    client: &super::AwsClient,
    set: &aws_config::profile::ProfileSet,
    name: &str,
    home: &str,
    depth: usize,
) -> Result<CredentialSource, EngineError> {
    let err = |m: String| EngineError::credentials(format!("profile {name}: {m}"));
    if depth > MAX_CHAIN {
        return Err(err("the source_profile chain is too long or loops".into()));
    }
    let Some(p) = set.get_profile(name) else {
        return Err(err("not found in the AWS config files".into()));
    };
    let Some(role_arn) = p.get("role_arn").filter(|_| !is_web_identity(p)) else {
        // A leaf: static keys, credential_process, SSO or web identity.
        let provider = aws_config::profile::ProfileFileCredentialsProvider::builder()
            .profile_name(name)
            .build();
        return Ok(CredentialSource::new(
            quiet(provider),
            format!("profile {name}"),
        ));
    };
    if p.get("mfa_serial").is_some() {
        return Err(err(
            "the role needs an MFA code (mfa_serial), which mrhost cannot ask for".into(),
        ));
    }
    let base = match (p.get("source_profile"), p.get("credential_source")) {
        (Some(src), _) if src == name => {
            // Self-reference: the profile's own static keys are the source.
            let (Some(ak), Some(sk)) = (p.get("aws_access_key_id"), p.get("aws_secret_access_key"))
            else {
                return Err(err(
                    "source_profile names itself but the profile has no keys".into(),
                ));
            };
            let keys = Credentials::new(
                ak,
                sk,
                p.get("aws_session_token").map(str::to_string),
                None,
                "mrhost-profile",
            );
            CredentialSource::new(
                SharedCredentialsProvider::new(keys),
                format!("profile {name}"),
            )
        }
        (Some(src), _) => chain(client, set, src, home, depth + 1)?,
        (None, Some("Environment")) => CredentialSource::new(
            SharedCredentialsProvider::new(
                aws_config::environment::EnvironmentVariableCredentialsProvider::new(),
            ),
            "environment",
        ),
        (None, Some("Ec2InstanceMetadata")) => CredentialSource::new(
            SharedCredentialsProvider::new(
                aws_config::imds::credentials::ImdsCredentialsProvider::builder().build(),
            ),
            "instance metadata",
        ),
        (None, Some("EcsContainer")) => CredentialSource::new(
            SharedCredentialsProvider::new(
                aws_config::ecs::EcsCredentialsProvider::builder().build(),
            ),
            "container credentials",
        ),
        (None, Some(other)) => {
            return Err(err(format!("unknown credential_source {other}")));
        }
        (None, None) => {
            return Err(err(
                "role_arn needs source_profile or credential_source".into()
            ))
        }
    };
    let duration = match p.get("duration_seconds") {
        None => None,
        Some(d) => Some(
            d.trim()
                .parse::<u32>()
                .map_err(|_| err(format!("duration_seconds '{d}' is not a number")))?,
        ),
    };
    Ok(CredentialSource::assume_role_with(
        client,
        Arc::new(base),
        RoleRequest {
            role_arn: role_arn.to_string(),
            session_name: p.get("role_session_name").unwrap_or("mrhost").to_string(),
            external_id: p.get("external_id").map(str::to_string),
            duration_seconds: duration,
            region: home.to_string(),
        },
        format!("profile {name}"),
    ))
}

/// What one AssumeRole asks for.
#[derive(Debug, Clone)]
pub struct RoleRequest {
    /// The role to assume.
    pub role_arn: String,
    /// `RoleSessionName`.
    pub session_name: String,
    /// `ExternalId`, when the role requires one.
    pub external_id: Option<String>,
    /// `DurationSeconds` (STS default when unset).
    pub duration_seconds: Option<u32>,
    /// Whose regional STS endpoint answers.
    pub region: String,
}

/// Credentials from `sts:AssumeRole`, requested through the engine itself (the regional STS
/// endpoint: tokens from the global one fail in opt-in regions; `--endpoint-url` applies).
/// [`CredentialSource`]'s cache asks again shortly before they expire. The identity STS
/// names in the answer is recorded as verified, so the response cache needs no
/// GetCallerIdentity for it.
pub struct AssumeRoleProvider {
    client: super::AwsClient,
    base: Arc<CredentialSource>,
    request: RoleRequest,
    state: Arc<RoleState>,
}

impl std::fmt::Debug for AssumeRoleProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AssumeRoleProvider")
            .field("role_arn", &self.request.role_arn)
            .finish()
    }
}

impl AssumeRoleProvider {
    /// One AssumeRole: at most [`ASSUME_IN_FLIGHT`] at once, and a throttled answer (after
    /// the engine's retries) waited out for up to [`ASSUME_THROTTLE_ROUNDS`] more rounds.
    async fn call_paced(
        &self,
        params: &serde_json::Value,
    ) -> Result<serde_json::Value, EngineError> {
        let r = &self.request;
        let mut round = 0u32;
        loop {
            let result = {
                let _slot = assume_slots().acquire().await;
                self.client
                    .call(&self.base, &r.region, "sts", "AssumeRole", params)
                    .await
            };
            match result {
                Err(EngineError::Service(a))
                    if a.is_throttling() && round < ASSUME_THROTTLE_ROUNDS =>
                {
                    round += 1;
                    let cap = Duration::from_millis(500)
                        .saturating_mul(1u32 << round.min(6))
                        .min(Duration::from_secs(20));
                    let sleep = cap.mul_f64(rand::random::<f64>());
                    tracing::debug!(role = %r.role_arn, round, ?sleep, "AssumeRole throttled; waiting");
                    tokio::time::sleep(sleep).await;
                }
                other => return other,
            }
        }
    }

    async fn assume(&self) -> Result<Credentials, EngineError> {
        let r = &self.request;
        let mut params = serde_json::json!({
            "RoleArn": r.role_arn,
            "RoleSessionName": r.session_name,
        });
        if let Some(id) = &r.external_id {
            params["ExternalId"] = serde_json::Value::String(id.clone());
        }
        if let Some(d) = r.duration_seconds {
            params["DurationSeconds"] = serde_json::Value::from(d);
        }
        let policy = self.state.policy.lock().ok().and_then(|p| p.clone());
        if let Some(policy) = policy {
            params["Policy"] = serde_json::Value::String(policy);
        }
        let out = self.call_paced(&params).await?;
        let c = &out["Credentials"];
        let field = |k: &str| c[k].as_str().map(str::to_string);
        let (Some(ak), Some(sk)) = (field("AccessKeyId"), field("SecretAccessKey")) else {
            return Err(EngineError::credentials(format!(
                "AssumeRole {} returned no credentials",
                r.role_arn
            )));
        };
        let who = out["AssumedRoleUser"]["Arn"]
            .as_str()
            .and_then(Identity::from_arn)
            .or_else(|| Identity::from_arn(&r.role_arn));
        if let Some(who) = who {
            self.client
                .identities()
                .remember(&self.client.identity_key(&ak), &who, false);
        }
        let expiry = c["Expiration"]
            .as_str()
            .and_then(super::timestamp::Timestamp::parse)
            .map(|t| {
                SystemTime::UNIX_EPOCH + Duration::from_secs(t.0.unix_timestamp().max(0) as u64)
            });
        Ok(Credentials::new(
            ak,
            sk,
            field("SessionToken"),
            expiry,
            "mrhost-assume-role",
        ))
    }
}

/// Why a role could not be assumed: the engine's own error from the AssumeRole call,
/// kept typed as the credential error's source.
#[derive(Debug, thiserror::Error)]
#[error("{role_arn}: {source}")]
struct AssumeRoleFailed {
    role_arn: String,
    source: EngineError,
}

impl ProvideCredentials for AssumeRoleProvider {
    fn provide_credentials<'a>(
        &'a self,
    ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        aws_credential_types::provider::future::ProvideCredentials::new(async move {
            self.assume().await.map_err(|e| {
                aws_credential_types::provider::error::CredentialsError::provider_error(
                    AssumeRoleFailed {
                        role_arn: self.request.role_arn.clone(),
                        source: e,
                    },
                )
            })
        })
    }
}

impl CredentialSource {
    /// Credentials of `role_arn`, assumed with `base` in `region`'s STS endpoint (lazily,
    /// on first use: a session policy set before then is part of the request).
    pub fn assume_role(
        client: &super::AwsClient,
        base: Arc<CredentialSource>,
        role_arn: &str,
        session_name: &str,
        external_id: Option<String>,
        region: &str,
    ) -> Self {
        let request = RoleRequest {
            role_arn: role_arn.to_string(),
            session_name: session_name.to_string(),
            external_id,
            duration_seconds: None,
            region: region.to_string(),
        };
        Self::assume_role_with(client, base, request, role_arn)
    }

    /// [`CredentialSource::assume_role`] with every AssumeRole setting.
    pub fn assume_role_with(
        client: &super::AwsClient,
        base: Arc<CredentialSource>,
        request: RoleRequest,
        label: impl Into<String>,
    ) -> Self {
        let state = Arc::new(RoleState {
            role_arn: request.role_arn.clone(),
            policy: std::sync::Mutex::new(None),
            assumed: AtomicBool::new(false),
        });
        let known_account = identity::account_of_arn(&request.role_arn).map(str::to_string);
        let provider = AssumeRoleProvider {
            client: client.clone(),
            base,
            request,
            state: state.clone(),
        };
        CredentialSource {
            provider: SharedCredentialsProvider::new(provider),
            cached: Mutex::new(None),
            label: label.into(),
            known_account,
            role: Some(state),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    /// A provider that counts its calls, takes a while, and hands out credentials that
    /// expire `lifetime` after they are made — or fails once `fail_after` calls are made.
    #[derive(Debug)]
    struct Counting {
        calls: Arc<AtomicUsize>,
        lifetime: Duration,
        fail_after: usize,
    }

    impl ProvideCredentials for Counting {
        fn provide_credentials<'a>(
            &'a self,
        ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
        where
            Self: 'a,
        {
            aws_credential_types::provider::future::ProvideCredentials::new(async move {
                let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
                tokio::time::sleep(Duration::from_millis(50)).await;
                if n > self.fail_after {
                    return Err(CredentialsError::provider_error("STS is down"));
                }
                Ok(Credentials::new(
                    format!("AKID{n}"),
                    "secret",
                    Some("token".into()),
                    Some(SystemTime::now() + self.lifetime),
                    "test",
                ))
            })
        }
    }

    fn source(lifetime: Duration, fail_after: usize) -> (Arc<CredentialSource>, Arc<AtomicUsize>) {
        let calls = Arc::new(AtomicUsize::new(0));
        let provider = Counting {
            calls: calls.clone(),
            lifetime,
            fail_after,
        };
        (
            Arc::new(CredentialSource::new(
                SharedCredentialsProvider::new(provider),
                "test role",
            )),
            calls,
        )
    }

    #[tokio::test]
    async fn concurrent_scopes_of_one_account_share_one_refresh() {
        let (creds, calls) = source(Duration::from_secs(3600), usize::MAX);
        let tasks: Vec<_> = (0..64)
            .map(|_| {
                let c = creds.clone();
                tokio::spawn(async move { c.get().await.map(|c| c.access_key_id().to_string()) })
            })
            .collect();
        for t in tasks {
            assert_eq!(t.await.unwrap().unwrap(), "AKID1");
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn credentials_close_to_expiry_are_refreshed_before_they_expire() {
        // Valid for 4 more minutes: inside the 5-minute margin, so each use renews them.
        let (creds, calls) = source(Duration::from_secs(240), usize::MAX);
        assert_eq!(creds.get().await.unwrap().access_key_id(), "AKID1");
        assert_eq!(creds.get().await.unwrap().access_key_id(), "AKID2");
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        // Valid for an hour: kept.
        let (creds, calls) = source(Duration::from_secs(3600), usize::MAX);
        creds.get().await.unwrap();
        creds.get().await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_failed_refresh_keeps_credentials_that_are_still_valid() {
        let (creds, calls) = source(Duration::from_secs(240), 1);
        assert_eq!(creds.get().await.unwrap().access_key_id(), "AKID1");
        // The refresh fails, the held credentials have 4 minutes left: still used.
        assert_eq!(creds.get().await.unwrap().access_key_id(), "AKID1");
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        // Already expired credentials are not.
        let (creds, _) = source(Duration::ZERO, 1);
        creds.get().await.unwrap();
        let e = creds.get().await.unwrap_err();
        assert!(e.to_string().contains("STS is down"), "{e}");
        assert!(e.to_string().starts_with("credentials: test role"), "{e}");
    }
}
