//! Scopes: which accounts (credentials) and which regions a run covers.

use std::sync::Arc;

use serde_json::json;

use crate::engine::endpoint::{all_regions, partition_of};
use crate::engine::{AwsClient, CredentialSource, EngineError};

/// One account: its credentials and id.
#[derive(Clone)]
pub struct Account {
    pub id: String,
    /// Where the credentials came from (profile name, role ARN); never a key.
    pub label: String,
    pub creds: Arc<CredentialSource>,
    /// The region configured for the profile, if any.
    pub default_region: Option<String>,
}

/// One unit of work: an account in a region.
#[derive(Clone)]
pub struct Target {
    pub account: Account,
    pub region: String,
    pub partition: String,
}

impl Target {
    pub fn label(&self) -> String {
        format!("{}/{}", self.account.id, self.region)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ScopeSetupError {
    #[error("unknown region '{region}'{suggestion}")]
    UnknownRegion { region: String, suggestion: String },
    #[error("no region given: pass --regions, or set AWS_REGION or a region in the profile")]
    NoRegion,
    #[error("{0}")]
    Engine(#[from] EngineError),
}

/// Parse and check `--regions` (comma-separated names) against the partition data, before
/// any call is made. `None` means the default region.
pub fn resolve_regions(
    client: &AwsClient,
    spec: Option<&str>,
    default: Option<&str>,
) -> Result<Vec<String>, ScopeSetupError> {
    let endpoints = client.models().endpoints()?;
    let known: Vec<(String, String)> = all_regions(&endpoints);
    let wanted: Vec<String> = match spec {
        Some(s) => s
            .split(',')
            .map(|r| r.trim().to_string())
            .filter(|r| !r.is_empty())
            .collect(),
        None => vec![default.ok_or(ScopeSetupError::NoRegion)?.to_string()],
    };
    if wanted.is_empty() {
        return Err(ScopeSetupError::NoRegion);
    }
    let mut out: Vec<String> = Vec::new();
    for r in wanted {
        if !known.iter().any(|(k, _)| *k == r) {
            let suggestion = crate::util::nearest(&r, known.iter().map(|(k, _)| k.as_str()), 4)
                .map(|s| format!(" (did you mean {s}?)"))
                .unwrap_or_default();
            return Err(ScopeSetupError::UnknownRegion {
                region: r,
                suggestion,
            });
        }
        if !out.contains(&r) {
            out.push(r);
        }
    }
    Ok(out)
}

/// The partition (`aws`, `aws-cn`, ...) of a region.
pub fn partition(client: &AwsClient, region: &str) -> String {
    client
        .models()
        .endpoints()
        .ok()
        .and_then(|e| {
            partition_of(&e, region).and_then(|p| p["partition"].as_str().map(str::to_string))
        })
        .unwrap_or_else(|| "aws".into())
}

/// The region global services are called in, per partition.
pub fn global_region(partition: &str) -> &'static str {
    match partition {
        "aws-cn" => "cn-north-1",
        "aws-us-gov" => "us-gov-west-1",
        "aws-iso" => "us-iso-east-1",
        "aws-iso-b" => "us-isob-east-1",
        _ => "us-east-1",
    }
}

/// Load the credentials of each profile (or the default chain when none is given) and
/// look up each account's id with STS GetCallerIdentity, once per account.
pub async fn load_accounts(
    client: &AwsClient,
    profiles: &[String],
    region_hint: Option<&str>,
) -> Result<Vec<Account>, ScopeSetupError> {
    let names: Vec<Option<&str>> = if profiles.is_empty() {
        vec![None]
    } else {
        profiles.iter().map(|p| Some(p.as_str())).collect()
    };
    let mut accounts = Vec::new();
    for name in names {
        let loaded = CredentialSource::load_profile(name).await?;
        let region = region_hint
            .map(str::to_string)
            .or_else(|| loaded.region.clone())
            .ok_or(ScopeSetupError::NoRegion)?;
        let creds = Arc::new(loaded.credentials);
        let who = client
            .call(&creds, &region, "sts", "GetCallerIdentity", &json!({}))
            .await
            .map_err(|e| match e {
                EngineError::Api(a) => EngineError::Credentials(format!(
                    "{}: GetCallerIdentity failed: {a}",
                    name.unwrap_or("default credentials")
                )),
                other => other,
            })?;
        let id = who["Account"].as_str().unwrap_or_default().to_string();
        accounts.push(Account {
            id,
            label: name.unwrap_or("default").to_string(),
            creds,
            default_region: loaded.region,
        });
    }
    Ok(accounts)
}
