//! Scopes: which accounts (credentials) and which regions one invocation covers, resolved
//! once into a [`ScopePlan`] that every source of the invocation shares. Every region name
//! and pattern is checked before any call is made.

pub mod account_list;
pub mod accounts;
mod feed;
pub mod regions;

use std::sync::Arc;

use aws_engine::{AwsClient, EngineError};
use futures::stream::{self, StreamExt};

pub use accounts::{Account, AccountOptions, SkippedAccount};
pub use regions::{glob_match, RegionItem};

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
pub enum PlanError {
    #[error("unknown region '{region}'{suggestion}")]
    UnknownRegion { region: String, suggestion: String },
    #[error("region pattern '{0}' matches no region")]
    EmptyGlob(String),
    #[error("no region given: pass --regions, or set MRHOST_REGIONS, AWS_REGION or a region in the profile")]
    NoRegion,
    #[error("{0}")]
    Options(String),
    /// The command line names something that is not there (a profile, an account of the
    /// Organization) or flags that do not go together: found before any resource call.
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Engine(#[from] EngineError),
}

impl PlanError {
    /// Whether the command line is at fault (exit 2) rather than AWS or the network.
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            PlanError::Usage(_)
                | PlanError::UnknownRegion { .. }
                | PlanError::EmptyGlob(_)
                | PlanError::NoRegion
        )
    }
}

/// What the command line asks to cover, before anything is resolved.
#[derive(Debug, Clone)]
pub struct ScopeRequest {
    /// `--regions` (or its default from the environment or config), parsed and checked.
    pub regions: Option<Vec<RegionItem>>,
    /// The region to use when `--regions` is absent (`AWS_REGION`/`AWS_DEFAULT_REGION`).
    pub env_region: Option<String>,
    pub accounts: AccountOptions,
    /// How many accounts are resolved at once.
    pub concurrency: usize,
}

impl ScopeRequest {
    /// The region accounts are first reached in: the first region named in `--regions`,
    /// else the environment's.
    fn home(&self) -> Option<String> {
        let first_named = self.regions.as_ref().and_then(|items| {
            items.iter().find_map(|x| match x {
                RegionItem::Name(n) => Some(n.clone()),
                _ => None,
            })
        });
        first_named.or_else(|| self.env_region.clone())
    }
}

/// One invocation's scopes: the accounts, resolved once, and each account's regions,
/// resolved on first use and then kept (so `query` over ten tables and `sync` over every
/// source reach each account once and report each skipped account once). An
/// Organization's accounts arrive a page at a time (see [`feed`]): `sync` starts on the
/// first while the rest are listed; every other command waits for the whole list.
pub struct ScopePlan {
    client: AwsClient,
    accounts: Arc<feed::Feed>,
    /// Reads the rest of an Organization's list into `accounts`; stopped with the plan.
    lister: Option<tokio::task::JoinHandle<()>>,
    items: Option<Vec<RegionItem>>,
    default_region: Option<String>,
    concurrency: usize,
    /// The STS session policy for every role this plan assumes (see [`Self::restrict`]).
    policy: std::sync::Mutex<Option<String>>,
}

impl ScopePlan {
    /// Resolve the accounts: credentials loaded, identities checked, Organization walked,
    /// roles assumed. Unreachable accounts are kept as skipped.
    pub async fn resolve(client: &AwsClient, request: &ScopeRequest) -> Result<Self, PlanError> {
        let home = request.home();
        let started = accounts::start_accounts(
            client,
            &request.accounts,
            home.as_deref(),
            request.concurrency,
        )
        .await?;
        let default_region = if request.regions.is_none() {
            request.env_region.clone()
        } else {
            home
        };
        let accounts = Arc::new(feed::Feed::default());
        accounts.push(started.accounts, started.skipped);
        let lister = match started.more {
            None => {
                accounts.finish(Ok(()));
                None
            }
            Some(mut more) => {
                let feed = accounts.clone();
                Some(tokio::spawn(async move {
                    let end = feed::EndGuard(feed.clone());
                    while let Some(page) = more.next_page().await {
                        match page {
                            Ok((a, s)) => feed.push(a, s),
                            Err(e) => return end.finish(Err(e.to_string())),
                        }
                    }
                    end.finish(Ok(()))
                }))
            }
        };
        Ok(ScopePlan {
            client: client.clone(),
            accounts,
            lister,
            items: request.regions.clone(),
            default_region,
            concurrency: request.concurrency.max(1),
            policy: std::sync::Mutex::new(None),
        })
    }

    /// Attach the STS session policy to every role this plan assumes (before first use:
    /// roles are assumed lazily, each when its account's regions are first asked for).
    /// `None` assumes them without one.
    pub fn restrict(&self, policy: Option<String>) {
        *self.policy.lock().unwrap_or_else(|p| p.into_inner()) = policy;
    }

    /// Whether any account's credentials come from a role mrhost assumes (an
    /// Organization's always do).
    pub fn assumes_roles(&self) -> bool {
        self.lister.is_some()
            || self
                .accounts
                .snapshot()
                .iter()
                .any(|a| a.account.creds.takes_session_policy())
    }

    /// Every account that takes no part: unreachable, or its regions could not be listed.
    /// Each appears once, however many sources ran.
    pub fn skipped(&self) -> Vec<SkippedAccount> {
        let mut out = self.accounts.skipped();
        for entry in self.accounts.snapshot() {
            if let Some(Err(s)) = entry.regions.get() {
                out.push(s.clone());
            }
        }
        out
    }

    /// Accounts × regions, or accounts × their partition's global region for global
    /// sources.
    pub async fn targets(&self, global: bool) -> Result<Vec<Target>, PlanError> {
        let accounts = self.accounts.all().await.map_err(PlanError::Options)?;
        // Every account at once (roles are assumed here, on first use).
        let resolved: Vec<_> = stream::iter(accounts.iter())
            .map(|entry| self.regions_of(entry))
            .buffered(self.concurrency)
            .collect()
            .await;
        let mut out = Vec::new();
        for (entry, regions) in accounts.iter().zip(resolved) {
            let Ok(regions) = regions? else { continue };
            out.extend(self.targets_in(&entry.account, regions, global));
        }
        Ok(out)
    }

    /// Each account's targets — (regional, global) — in the plan's account order, as soon
    /// as that account is resolved (its role assumed, its regions known), so work on the
    /// first accounts starts while later roles are still being assumed and later pages of
    /// an Organization still listed. A skipped account yields nothing; a page of the
    /// Organization that cannot be read ends the stream with its error.
    pub fn targets_by_account(
        &self,
    ) -> impl futures::Stream<Item = Result<(Vec<Target>, Vec<Target>), PlanError>> + '_ {
        self.accounts
            .stream()
            .map(move |entry| async move {
                let entry = entry.map_err(PlanError::Options)?;
                let regions = self.regions_of(&entry).await?;
                Ok(match regions {
                    Ok(regions) => Some((
                        self.targets_in(&entry.account, regions, false),
                        self.targets_in(&entry.account, regions, true),
                    )),
                    Err(_) => None,
                })
            })
            .buffered(self.concurrency)
            .filter_map(|r: Result<Option<_>, PlanError>| async move { r.transpose() })
    }

    /// One account's targets over its regions: each region, or for a global source its
    /// partitions' global regions.
    fn targets_in(&self, account: &Account, regions: &[String], global: bool) -> Vec<Target> {
        let mut out = Vec::new();
        if global {
            let mut parts: Vec<String> = regions
                .iter()
                .map(|r| regions::partition(&self.client, r))
                .collect();
            parts.dedup();
            for p in parts {
                out.push(Target {
                    account: account.clone(),
                    region: regions::global_region(&p).to_string(),
                    partition: p,
                });
            }
        } else {
            for r in regions {
                out.push(Target {
                    partition: regions::partition(&self.client, r),
                    account: account.clone(),
                    region: r.clone(),
                });
            }
        }
        out
    }

    async fn regions_of<'e>(
        &self,
        entry: &'e feed::Entry,
    ) -> Result<&'e Result<Vec<String>, SkippedAccount>, PlanError> {
        let account = &entry.account;
        let home = self
            .default_region
            .clone()
            .or_else(|| account.default_region.clone());
        let items: Vec<RegionItem> = match &self.items {
            Some(items) => items.clone(),
            None => vec![RegionItem::Name(home.clone().ok_or(PlanError::NoRegion)?)],
        };
        let home = home.unwrap_or_else(|| match &items[0] {
            RegionItem::Name(n) => n.clone(),
            _ => "us-east-1".into(),
        });
        Ok(entry
            .regions
            .get_or_init(|| async {
                // A role is assumed now, so an account whose role cannot be assumed is
                // skipped with the reason instead of failing in every region.
                if account.creds.takes_session_policy() {
                    let policy = self
                        .policy
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .clone();
                    if policy.is_some() {
                        account.creds.set_session_policy(policy).await;
                    }
                    account
                        .creds
                        .get()
                        .await
                        .map_err(|e| accounts::skip_for(&account.id, "AssumeRole", &e))?;
                }
                regions::regions_for(&self.client, account, &items, &home)
                    .await
                    .map_err(|e| accounts::skip_for(&account.id, "listing enabled regions", &e))
            })
            .await)
    }
}

impl Drop for ScopePlan {
    fn drop(&mut self) {
        if let Some(lister) = &self.lister {
            lister.abort();
        }
    }
}

/// A plan being resolved in the background, so the STS round trips (or an organisation's
/// walk) overlap a plugin's load. Dropping it cancels the work. Roles are not assumed
/// while it resolves: [`PendingPlan::restrict`] attaches the session policy first.
pub struct PendingPlan {
    task: tokio::task::JoinHandle<Result<Arc<ScopePlan>, PlanError>>,
    policy: Option<SessionPolicy>,
}

/// Builds the session policy, when the plan turns out to assume roles.
pub type SessionPolicy = Box<dyn FnOnce() -> Option<String> + Send>;

impl PendingPlan {
    /// Start resolving.
    pub fn start(client: &AwsClient, request: ScopeRequest) -> Self {
        let client = client.clone();
        PendingPlan {
            task: tokio::spawn(
                async move { ScopePlan::resolve(&client, &request).await.map(Arc::new) },
            ),
            policy: None,
        }
    }

    /// A plan resolved already.
    pub fn ready(plan: Arc<ScopePlan>) -> Self {
        PendingPlan {
            task: tokio::spawn(async move { Ok(plan) }),
            policy: None,
        }
    }

    /// The STS session policy for every role the plan assumes (see [`ScopePlan::restrict`]),
    /// built only if the plan assumes any.
    pub fn restrict(&mut self, policy: impl FnOnce() -> Option<String> + Send + 'static) {
        self.policy = Some(Box::new(policy));
    }

    /// The resolved plan, its roles restricted by the session policy, if one was given.
    pub async fn get(mut self) -> Result<Arc<ScopePlan>, PlanError> {
        let plan = match (&mut self.task).await {
            Ok(r) => r?,
            Err(e) => {
                return Err(PlanError::Options(format!(
                    "resolving the accounts failed: {e}"
                )))
            }
        };
        if let Some(build) = self.policy.take() {
            if plan.assumes_roles() {
                plan.restrict(build());
            }
        }
        Ok(plan)
    }
}

impl Drop for PendingPlan {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// `--ignore-error-codes`: failures with these codes (globs) become warnings.
pub const DEFAULT_IGNORED_CODES: &str =
    "OptInRequired,AuthFailure,UnrecognizedClientException,InvalidClientTokenId";

pub fn code_ignored(code: Option<&str>, patterns: &[String]) -> bool {
    code.is_some_and(|c| patterns.iter().any(|p| glob_match(p, c)))
}

#[cfg(test)]
mod tests {
    use super::regions::parse_regions;
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
