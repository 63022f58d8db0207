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
        }
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
