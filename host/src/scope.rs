//! Scopes: which accounts (credentials) and which regions a run covers.
//!
//! Accounts come from the default credential chain, from `--profile a,b,c` (one account
//! each), from an AWS Organization (`--org-role ROLE`: every ACTIVE member account, the role
//! assumed in each), or from an explicit list (`--accounts ID,ID --role ROLE`). Regions are
//! names, globs (`eu-*`, `us-??st-1`), `all` (the partition's regions) or `enabled` (what
//! each account's ec2 DescribeRegions says it can use). Every name is checked before any
//! call is made.

use std::collections::BTreeSet;
use std::sync::Arc;

use futures::stream::{self, StreamExt};
use serde_json::{json, Value};

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

/// An account that takes no part in the run, and why.
#[derive(Debug, Clone)]
pub struct SkippedAccount {
    /// Account id, or the profile name when the id is unknown.
    pub account: String,
    pub reason: String,
    /// The AWS error code behind it, if any.
    pub code: Option<String>,
    /// Expected skips (SUSPENDED members, excluded accounts) are not failures.
    pub failure: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ScopeSetupError {
    #[error("unknown region '{region}'{suggestion}")]
    UnknownRegion { region: String, suggestion: String },
    #[error("region pattern '{0}' matches no region")]
    EmptyGlob(String),
    #[error("no region given: pass --regions, or set MRHOST_REGIONS, AWS_REGION or a region in the profile")]
    NoRegion,
    #[error("{0}")]
    Options(String),
    #[error("{0}")]
    Engine(#[from] EngineError),
}

/// Where accounts come from, and how to reach them.
#[derive(Debug, Clone, Default)]
pub struct AccountOptions {
    pub profiles: Vec<String>,
    /// `--org-role`: assume this role in every ACTIVE account of the Organization.
    pub org_role: Option<String>,
    /// Account ids or OU ids (`ou-...`, walked recursively) to include / exclude.
    pub org_include: Vec<String>,
    pub org_exclude: Vec<String>,
    pub org_include_management: bool,
    /// `--accounts ID,ID` with `--role ROLE`.
    pub accounts: Vec<String>,
    pub role: Option<String>,
    pub session_name: String,
    pub external_id: Option<String>,
}

/// One item of `--regions`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegionItem {
    All,
    Enabled,
    Glob(String),
    Name(String),
}

/// Parse `--regions` and check every name and pattern against the partition data.
pub fn parse_regions(client: &AwsClient, spec: &str) -> Result<Vec<RegionItem>, ScopeSetupError> {
    let endpoints = client.models().endpoints()?;
    let known: Vec<(String, String)> = all_regions(&endpoints);
    let mut items = Vec::new();
    for raw in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let item = match raw {
            "all" => RegionItem::All,
            "enabled" => RegionItem::Enabled,
            g if g.contains(['*', '?', '[']) => {
                if !known.iter().any(|(r, _)| glob_match(g, r)) {
                    return Err(ScopeSetupError::EmptyGlob(g.to_string()));
                }
                RegionItem::Glob(g.to_string())
            }
            name => {
                if !known.iter().any(|(k, _)| k == name) {
                    let suggestion =
                        crate::util::nearest(name, known.iter().map(|(k, _)| k.as_str()), 4)
                            .map(|s| format!(" (did you mean {s}?)"))
                            .unwrap_or_default();
                    return Err(ScopeSetupError::UnknownRegion {
                        region: name.to_string(),
                        suggestion,
                    });
                }
                RegionItem::Name(name.to_string())
            }
        };
        if !items.contains(&item) {
            items.push(item);
        }
    }
    if items.is_empty() {
        return Err(ScopeSetupError::NoRegion);
    }
    Ok(items)
}

/// Shell-style glob: `*` any run, `?` one character, `[abc]` a set.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    fn rec(p: &[char], t: &[char]) -> bool {
        match p.first() {
            None => t.is_empty(),
            Some('*') => (0..=t.len()).any(|i| rec(&p[1..], &t[i..])),
            Some('?') => !t.is_empty() && rec(&p[1..], &t[1..]),
            Some('[') => match p.iter().position(|c| *c == ']') {
                Some(end) if !t.is_empty() => {
                    p[1..end].contains(&t[0]) && rec(&p[end + 1..], &t[1..])
                }
                _ => false,
            },
            Some(c) => t.first() == Some(c) && rec(&p[1..], &t[1..]),
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    rec(&p, &t)
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

/// The regions of one account: explicit names, globs and `all` within the account's
/// partition, `enabled` from its ec2 DescribeRegions.
pub async fn regions_for(
    client: &AwsClient,
    account: &Account,
    items: &[RegionItem],
    home: &str,
) -> Result<Vec<String>, EngineError> {
    let endpoints = client.models().endpoints()?;
    let part = partition(client, home);
    let in_partition: Vec<String> = all_regions(&endpoints)
        .into_iter()
        .filter(|(_, p)| *p == part)
        .map(|(r, _)| r)
        .collect();
    let mut out: Vec<String> = Vec::new();
    let mut push = |r: String| {
        if !out.contains(&r) {
            out.push(r);
        }
    };
    for item in items {
        match item {
            RegionItem::Name(n) => push(n.clone()),
            RegionItem::All => in_partition.iter().cloned().for_each(&mut push),
            RegionItem::Glob(g) => in_partition
                .iter()
                .filter(|r| glob_match(g, r))
                .cloned()
                .for_each(&mut push),
            RegionItem::Enabled => {
                let resp = client
                    .call(&account.creds, home, "ec2", "DescribeRegions", &json!({}))
                    .await?;
                let mut names: Vec<String> = resp["Regions"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|r| r["OptInStatus"].as_str() != Some("not-opted-in"))
                    .filter_map(|r| r["RegionName"].as_str().map(str::to_string))
                    // Only regions of the account's own partition can be reached with its credentials.
                    .filter(|r| in_partition.contains(r))
                    .collect();
                names.sort();
                names.into_iter().for_each(&mut push);
            }
        }
    }
    Ok(out)
}

/// GetCallerIdentity: proves the credentials work and names the account.
async fn identify(
    client: &AwsClient,
    creds: &Arc<CredentialSource>,
    region: &str,
) -> Result<String, EngineError> {
    let who = client
        .call(creds, region, "sts", "GetCallerIdentity", &json!({}))
        .await?;
    let id = who["Account"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| EngineError::Credentials("GetCallerIdentity returned no account".into()))?;
    creds.set_account(&id);
    Ok(id)
}

fn skip_for(account: &str, what: &str, e: &EngineError) -> SkippedAccount {
    SkippedAccount {
        account: account.to_string(),
        reason: format!("{what}: {e}"),
        code: e.code().map(str::to_string),
        failure: true,
    }
}

/// Resolve the accounts of a run. Accounts that cannot be reached are returned as skipped
/// (with a reason) rather than failing the run; an unusable default chain is fatal.
pub async fn load_accounts(
    client: &AwsClient,
    opts: &AccountOptions,
    home_hint: Option<&str>,
    concurrency: usize,
) -> Result<(Vec<Account>, Vec<SkippedAccount>), ScopeSetupError> {
    let org_mode = opts.org_role.is_some();
    let explicit_mode = !opts.accounts.is_empty();
    if org_mode && explicit_mode {
        return Err(ScopeSetupError::Options(
            "use either --org-role or --accounts, not both".into(),
        ));
    }
    if explicit_mode && opts.role.is_none() {
        return Err(ScopeSetupError::Options(
            "--accounts needs --role ROLE to assume in each account".into(),
        ));
    }
    if (org_mode || explicit_mode) && opts.profiles.len() > 1 {
        return Err(ScopeSetupError::Options(
            "with --org-role or --accounts, --profile names the one profile to start from".into(),
        ));
    }

    // Profiles (or the default chain), each an account.
    if !org_mode && !explicit_mode {
        let names: Vec<Option<String>> = if opts.profiles.is_empty() {
            vec![None]
        } else {
            opts.profiles.iter().cloned().map(Some).collect()
        };
        let single = names.len() == 1;
        let results: Vec<Result<Account, SkippedAccount>> = stream::iter(names)
            .map(|name| async move {
                let label = name.clone().unwrap_or_else(|| "default".into());
                let loaded = CredentialSource::load_profile(name.as_deref())
                    .await
                    .map_err(|e| skip_for(&label, &format!("profile {label}"), &e))?;
                let region = home_hint
                    .map(str::to_string)
                    .or_else(|| loaded.region.clone())
                    .unwrap_or_else(|| "us-east-1".into());
                let creds = Arc::new(loaded.credentials);
                let id = identify(client, &creds, &region).await.map_err(|e| {
                    skip_for(&label, &format!("profile {label}: GetCallerIdentity"), &e)
                })?;
                Ok(Account {
                    id,
                    label,
                    creds,
                    default_region: loaded.region,
                })
            })
            .buffered(concurrency.max(1))
            .collect()
            .await;
        let mut accounts = Vec::new();
        let mut skipped = Vec::new();
        for r in results {
            match r {
                Ok(a) => accounts.push(a),
                // With one profile there is nothing else to run: that is fatal.
                Err(s) if single => return Err(ScopeSetupError::Options(s.reason)),
                Err(s) => skipped.push(s),
            }
        }
        return Ok((accounts, skipped));
    }

    // Start from one set of credentials, assume a role in each member account.
    let base_name = opts.profiles.first().cloned();
    let base = CredentialSource::load_profile(base_name.as_deref())
        .await
        .map_err(|e| ScopeSetupError::Options(e.to_string()))?;
    let home = home_hint
        .map(str::to_string)
        .or_else(|| base.region.clone())
        .unwrap_or_else(|| "us-east-1".into());
    let base_creds = Arc::new(base.credentials);
    identify(client, &base_creds, &home)
        .await
        .map_err(|e| ScopeSetupError::Options(format!("starting credentials: {e}")))?;

    let (ids, mut skipped, role) = if let Some(role) = &opts.org_role {
        let (ids, skipped) = organization_accounts(client, &base_creds, &home, opts).await?;
        (ids, skipped, role.clone())
    } else {
        let ids: Vec<String> = opts.accounts.iter().map(|a| a.trim().to_string()).collect();
        if let Some(bad) = ids
            .iter()
            .find(|a| a.len() != 12 || !a.chars().all(|c| c.is_ascii_digit()))
        {
            return Err(ScopeSetupError::Options(format!(
                "'{bad}' is not a 12-digit account id"
            )));
        }
        (ids, Vec::new(), opts.role.clone().unwrap_or_default())
    };
    let part = partition(client, &home);
    let results: Vec<Result<Account, SkippedAccount>> = stream::iter(ids)
        .map(|id| {
            let base_creds = base_creds.clone();
            let home = home.clone();
            let role = role.clone();
            let part = part.clone();
            async move {
                let arn = if role.starts_with("arn:") {
                    role.replace("{account}", &id)
                } else {
                    format!("arn:{part}:iam::{id}:role/{}", role.trim_start_matches('/'))
                };
                let creds = Arc::new(CredentialSource::assume_role(
                    client,
                    base_creds,
                    &arn,
                    &opts.session_name,
                    opts.external_id.clone(),
                    &home,
                ));
                let got = identify(client, &creds, &home)
                    .await
                    .map_err(|e| skip_for(&id, "AssumeRole", &e))?;
                Ok(Account {
                    id: got,
                    label: arn,
                    creds,
                    default_region: Some(home.clone()),
                })
            }
        })
        .buffered(concurrency.max(1))
        .collect()
        .await;
    let mut accounts = Vec::new();
    for r in results {
        match r {
            Ok(a) => accounts.push(a),
            Err(s) => skipped.push(s),
        }
    }
    Ok((accounts, skipped))
}

/// The Organization's member accounts to visit: ACTIVE ones, filtered by the include and
/// exclude lists (account ids or OU ids), the management account only when asked.
async fn organization_accounts(
    client: &AwsClient,
    creds: &Arc<CredentialSource>,
    home: &str,
    opts: &AccountOptions,
) -> Result<(Vec<String>, Vec<SkippedAccount>), ScopeSetupError> {
    let org_err = |e: EngineError| {
        ScopeSetupError::Options(format!("listing the Organization's accounts: {e}"))
    };
    let org = client
        .call(
            creds,
            home,
            "organizations",
            "DescribeOrganization",
            &json!({}),
        )
        .await
        .map_err(org_err)?;
    let management = org["Organization"]["MasterAccountId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let all = client
        .paginate_all(creds, home, "organizations", "ListAccounts", &json!({}))
        .await
        .map_err(org_err)?;
    let expand = |list: &[String]| {
        let list = list.to_vec();
        async move {
            let mut ids = BTreeSet::new();
            for item in list {
                if item.starts_with("ou-") || item.starts_with("r-") {
                    ids.extend(
                        accounts_under(client, creds, home, &item)
                            .await
                            .map_err(org_err)?,
                    );
                } else {
                    ids.insert(item);
                }
            }
            Ok::<_, ScopeSetupError>(ids)
        }
    };
    let include = expand(&opts.org_include).await?;
    let exclude = expand(&opts.org_exclude).await?;
    let mut ids = Vec::new();
    let mut skipped = Vec::new();
    for a in all["Accounts"].as_array().into_iter().flatten() {
        let id = a["Id"].as_str().unwrap_or_default().to_string();
        let state = a["State"]
            .as_str()
            .or(a["Status"].as_str())
            .unwrap_or("ACTIVE");
        let skip = |reason: String| SkippedAccount {
            account: id.clone(),
            reason,
            code: None,
            failure: false,
        };
        if state != "ACTIVE" {
            skipped.push(skip(format!("account is {state}")));
        } else if id == management && !opts.org_include_management {
            tracing::info!(account = %id, "skipping the management account (--org-include-management to include it)");
        } else if (!include.is_empty() && !include.contains(&id)) || exclude.contains(&id) {
            tracing::debug!(account = %id, "excluded by --org-include/--org-exclude");
        } else {
            ids.push(id);
        }
    }
    Ok((ids, skipped))
}

/// Every account under an OU (or root), recursively.
async fn accounts_under(
    client: &AwsClient,
    creds: &Arc<CredentialSource>,
    home: &str,
    parent: &str,
) -> Result<Vec<String>, EngineError> {
    let mut out = Vec::new();
    let mut queue = vec![parent.to_string()];
    while let Some(p) = queue.pop() {
        let accounts = client
            .paginate_all(
                creds,
                home,
                "organizations",
                "ListAccountsForParent",
                &json!({"ParentId": p}),
            )
            .await?;
        out.extend(
            accounts["Accounts"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|a| a["Id"].as_str().map(str::to_string)),
        );
        let ous = client
            .paginate_all(
                creds,
                home,
                "organizations",
                "ListOrganizationalUnitsForParent",
                &json!({"ParentId": p}),
            )
            .await?;
        queue.extend(
            ous["OrganizationalUnits"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|o| o["Id"].as_str().map(str::to_string)),
        );
    }
    Ok(out)
}

/// Accounts × regions, or accounts × partition global region for global plugins.
pub async fn targets(
    client: &AwsClient,
    accounts: &[Account],
    region_items: Option<&[RegionItem]>,
    default_region: Option<&str>,
    global: bool,
    skipped: &mut Vec<SkippedAccount>,
) -> Result<Vec<Target>, ScopeSetupError> {
    let mut out = Vec::new();
    for account in accounts {
        let home = default_region
            .map(str::to_string)
            .or_else(|| account.default_region.clone());
        let items: Vec<RegionItem> = match region_items {
            Some(i) => i.to_vec(),
            None => vec![RegionItem::Name(
                home.clone().ok_or(ScopeSetupError::NoRegion)?,
            )],
        };
        let home = home.unwrap_or_else(|| match &items[0] {
            RegionItem::Name(n) => n.clone(),
            _ => "us-east-1".into(),
        });
        let regions = match regions_for(client, account, &items, &home).await {
            Ok(r) => r,
            Err(e) => {
                skipped.push(skip_for(&account.id, "listing enabled regions", &e));
                continue;
            }
        };
        if global {
            let mut parts: Vec<String> = regions.iter().map(|r| partition(client, r)).collect();
            parts.dedup();
            for p in parts {
                out.push(Target {
                    account: account.clone(),
                    region: global_region(&p).to_string(),
                    partition: p,
                });
            }
        } else {
            for r in regions {
                out.push(Target {
                    partition: partition(client, &r),
                    account: account.clone(),
                    region: r,
                });
            }
        }
    }
    Ok(out)
}

/// `--ignore-error-codes`: failures with these codes (globs) become warnings.
pub const DEFAULT_IGNORED_CODES: &str =
    "OptInRequired,AuthFailure,UnrecognizedClientException,InvalidClientTokenId";

pub fn code_ignored(code: Option<&str>, patterns: &[String]) -> bool {
    code.is_some_and(|c| patterns.iter().any(|p| glob_match(p, c)))
}

/// The JSON shape of a skipped account, for summaries.
pub fn skipped_json(s: &SkippedAccount) -> Value {
    json!({"account": s.account, "reason": s.reason, "code": s.code})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("eu-*", "eu-west-1"));
        assert!(!glob_match("eu-*", "us-east-1"));
        assert!(glob_match("us-??st-1", "us-east-1"));
        assert!(glob_match("us-??st-1", "us-west-1"));
        assert!(!glob_match("us-??st-1", "us-east-2"));
        assert!(glob_match("ap-*-[12]", "ap-south-2"));
        assert!(glob_match("Throttl*", "ThrottlingException"));
    }

    #[test]
    fn regions_are_checked_before_any_call() {
        let client = AwsClient::builder().build().unwrap();
        assert_eq!(
            parse_regions(&client, "eu-west-1, all,eu-*").unwrap(),
            vec![
                RegionItem::Name("eu-west-1".into()),
                RegionItem::All,
                RegionItem::Glob("eu-*".into())
            ]
        );
        let e = parse_regions(&client, "eu-west-1,eu-wset-2")
            .unwrap_err()
            .to_string();
        assert_eq!(e, "unknown region 'eu-wset-2' (did you mean eu-west-2?)");
        let e = parse_regions(&client, "mars-*").unwrap_err().to_string();
        assert_eq!(e, "region pattern 'mars-*' matches no region");
    }
}
