//! Credentials from aws-config's provider chains (env, profiles, SSO, credential_process,
//! assume-role, IMDS), cached and refreshed ahead of expiry. The secret values never leave
//! this module except into the signer.

use std::time::{Duration, SystemTime};

use aws_config::BehaviorVersion;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;
use tokio::sync::Mutex;

use super::error::EngineError;

/// Refresh temporary credentials this long before they expire.
const REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

/// One identity's credentials: a provider and its cache.
pub struct CredentialSource {
    provider: SharedCredentialsProvider,
    cached: Mutex<Option<Credentials>>,
    /// A human label (profile name, role ARN) for logs and the cache key; never a key id.
    pub label: String,
    /// The account id, once GetCallerIdentity has told it.
    account: std::sync::OnceLock<String>,
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
    pub credentials: CredentialSource,
    pub region: Option<String>,
}

impl CredentialSource {
    pub fn new(provider: SharedCredentialsProvider, label: impl Into<String>) -> Self {
        CredentialSource {
            provider,
            cached: Mutex::new(None),
            label: label.into(),
            account: std::sync::OnceLock::new(),
        }
    }

    /// Record the account id these credentials belong to (part of the cache key).
    pub fn set_account(&self, id: &str) {
        let _ = self.account.set(id.to_string());
    }

    pub fn account(&self) -> Option<&str> {
        self.account.get().map(String::as_str)
    }

    /// Fixed credentials (tests, library users with their own key handling).
    pub fn fixed(access_key: &str, secret_key: &str, session_token: Option<String>) -> Self {
        let creds = Credentials::new(access_key, secret_key, session_token, None, "mrhost-fixed");
        Self::new(SharedCredentialsProvider::new(creds), "fixed")
    }

    /// The default chain, or a named profile's, exactly as the AWS CLI and SDKs resolve it.
    pub async fn load_profile(profile: Option<&str>) -> Result<LoadedProfile, EngineError> {
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(p) = profile {
            loader = loader.profile_name(p);
        }
        let conf = loader.load().await;
        let provider = conf.credentials_provider().ok_or_else(|| {
            EngineError::Credentials(match profile {
                Some(p) => format!("profile '{p}' yields no credentials provider"),
                None => "no credentials provider is configured".into(),
            })
        })?;
        Ok(LoadedProfile {
            credentials: CredentialSource::new(provider, profile.unwrap_or("default")),
            region: conf.region().map(|r| r.to_string()),
        })
    }

    /// Current credentials, fetched on first use and again shortly before they expire.
    pub async fn get(&self) -> Result<Credentials, EngineError> {
        let mut cached = self.cached.lock().await;
        if let Some(c) = cached.as_ref() {
            let fresh = match c.expiry() {
                None => true,
                Some(exp) => exp > SystemTime::now() + REFRESH_MARGIN,
            };
            if fresh {
                return Ok(c.clone());
            }
        }
        let creds = self.provider.provide_credentials().await.map_err(|e| {
            let mut msg = format!("{} ({e}", self.label);
            let mut src = std::error::Error::source(&e);
            while let Some(s) = src {
                msg.push_str(&format!(": {s}"));
                src = s.source();
            }
            msg.push(')');
            EngineError::Credentials(msg)
        })?;
        *cached = Some(creds.clone());
        Ok(creds)
    }
}

/// Credentials from `sts:AssumeRole`, requested through the engine itself (the regional STS
/// endpoint: tokens from the global one fail in opt-in regions). [`CredentialSource`]'s
/// cache asks again shortly before they expire.
pub struct AssumeRoleProvider {
    client: super::AwsClient,
    base: std::sync::Arc<CredentialSource>,
    role_arn: String,
    session_name: String,
    external_id: Option<String>,
    region: String,
}

impl std::fmt::Debug for AssumeRoleProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AssumeRoleProvider")
            .field("role_arn", &self.role_arn)
            .finish()
    }
}

impl AssumeRoleProvider {
    async fn assume(&self) -> Result<Credentials, EngineError> {
        let mut params = serde_json::json!({
            "RoleArn": self.role_arn,
            "RoleSessionName": self.session_name,
        });
        if let Some(id) = &self.external_id {
            params["ExternalId"] = serde_json::Value::String(id.clone());
        }
        let out = self
            .client
            .call(&self.base, &self.region, "sts", "AssumeRole", &params)
            .await?;
        let c = &out["Credentials"];
        let field = |k: &str| c[k].as_str().map(str::to_string);
        let (Some(ak), Some(sk)) = (field("AccessKeyId"), field("SecretAccessKey")) else {
            return Err(EngineError::Credentials(format!(
                "AssumeRole {} returned no credentials",
                self.role_arn
            )));
        };
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

impl ProvideCredentials for AssumeRoleProvider {
    fn provide_credentials<'a>(
        &'a self,
    ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        aws_credential_types::provider::future::ProvideCredentials::new(async move {
            self.assume().await.map_err(|e| {
                aws_credential_types::provider::error::CredentialsError::provider_error(format!(
                    "AssumeRole {}: {e}",
                    self.role_arn
                ))
            })
        })
    }
}

impl CredentialSource {
    /// Credentials of `role_arn`, assumed with `base` in `region`'s STS endpoint.
    pub fn assume_role(
        client: &super::AwsClient,
        base: std::sync::Arc<CredentialSource>,
        role_arn: &str,
        session_name: &str,
        external_id: Option<String>,
        region: &str,
    ) -> Self {
        let provider = AssumeRoleProvider {
            client: client.clone(),
            base,
            role_arn: role_arn.to_string(),
            session_name: session_name.to_string(),
            external_id,
            region: region.to_string(),
        };
        CredentialSource::new(SharedCredentialsProvider::new(provider), role_arn)
    }
}
