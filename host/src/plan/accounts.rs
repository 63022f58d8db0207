//! Accounts: the default credential chain, `--profile a,b,c` (one account each), an AWS
//! Organization (`--org-role ROLE`: every ACTIVE member, the role assumed in each), or an
//! explicit list (`--accounts ID,ID --role ROLE`).

use std::collections::BTreeSet;
use std::sync::Arc;

use aws_engine::{AwsClient, ConstructionError, CredentialSource, EngineError};
use futures::stream::{self, StreamExt};
use serde_json::json;

use super::regions::partition;
use super::PlanError;

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

/// Where accounts come from, and how to reach them.
#[derive(Debug, Clone, Default)]
pub struct AccountOptions {
    pub profiles: Vec<String>,
    /// `--org-role`: assume this role in every ACTIVE account of the Organization.
    pub org_role: Option<String>,
    /// Account ids, account names or OU ids (`ou-...`, walked recursively) to include /
    /// exclude; an id or name the Organization does not have is an error.
    pub org_include: Vec<String>,
    pub org_exclude: Vec<String>,
    pub org_include_management: bool,
    /// `--accounts ID,ID` with `--role ROLE` (ids read from `@FILE` items included).
    pub accounts: Vec<String>,
    /// Accounts an `@FILE` list names that are not ACTIVE: (id, status), reported as
    /// expected skips.
    pub accounts_inactive: Vec<(String, String)>,
    pub role: Option<String>,
    pub session_name: String,
    pub external_id: Option<String>,
    /// `--shard i/N`: only the accounts of shard i of N (see [`in_shard`]), chosen before
    /// any role is assumed.
    pub shard: Option<(u32, u32)>,
}

/// Whether an account belongs to shard `i` of `n`: a stable hash of its id (the first
/// eight bytes of its SHA-256) modulo `n`, so N processes split an estate disjointly and
/// completely, whatever order they list it in.
pub fn in_shard(account: &str, shard: Option<(u32, u32)>) -> bool {
    use sha2::{Digest, Sha256};
    let Some((i, n)) = shard else { return true };
    let d = Sha256::digest(account.as_bytes());
    let mut b = [0u8; 8];
    b.copy_from_slice(&d[..8]);
    u64::from_be_bytes(b) % u64::from(n.max(1)) == u64::from(i)
}

/// Whether `s` is an AWS account id: 12 ASCII digits.
pub fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

pub(super) fn skip_for(account: &str, what: &str, e: &EngineError) -> SkippedAccount {
    SkippedAccount {
        account: account.to_string(),
        reason: format!("{what}: {e}"),
        code: e.code().map(str::to_string),
        failure: true,
    }
}

/// One profile (or the default chain) as an account: its id and principal from the role
/// it assumes (no call: the role is assumed on first use, after a session policy can be
/// attached), or from the access key (the mapping kept from earlier runs, else one
/// GetCallerIdentity).
async fn profile_account(
    client: &AwsClient,
    name: Option<String>,
    loaded: aws_engine::credentials::LoadedProfile,
    home_hint: Option<&str>,
) -> Result<(Account, String), SkippedAccount> {
    let label = name.clone().unwrap_or_else(|| "default".into());
    let fail = |e: &EngineError| SkippedAccount {
        account: label.clone(),
        reason: e.to_string(),
        code: e.code().map(str::to_string),
        failure: true,
    };
    let region = home_hint
        .map(str::to_string)
        .or_else(|| loaded.region.clone())
        .unwrap_or_else(|| "us-east-1".into());
    let creds = Arc::new(loaded.credentials);
    let who = match creds.expected_identity() {
        Some(role) => role,
        None => client
            .identity(&creds, &region)
            .await
            .map_err(|e| match e {
                EngineError::Construction(ConstructionError::Credentials(_)) => fail(&e),
                other => skip_for(
                    &label,
                    &format!("{}: GetCallerIdentity", creds.label),
                    &other,
                ),
            })?,
    };
    Ok((
        Account {
            id: who.account.clone(),
            label,
            creds,
            default_region: loaded.region,
        },
        who.principal(),
    ))
}

/// Every account of a run, the Organization's whole list read (see [`start_accounts`]).
pub async fn load_accounts(
    client: &AwsClient,
    opts: &AccountOptions,
    home_hint: Option<&str>,
    concurrency: usize,
) -> Result<(Vec<Account>, Vec<SkippedAccount>), PlanError> {
    let Started {
        mut accounts,
        mut skipped,
        more,
    } = start_accounts(client, opts, home_hint, concurrency).await?;
    if let Some(mut more) = more {
        while let Some(page) = more.next_page().await {
            let (a, s) = page?;
            accounts.extend(a);
            skipped.extend(s);
        }
    }
    Ok((accounts, skipped))
}

/// A run's accounts as far as they are known when it can start: all of them, or an
/// Organization's first page with the rest still to read.
pub struct Started {
    pub accounts: Vec<Account>,
    pub skipped: Vec<SkippedAccount>,
    /// The rest of the Organization's account list, read a page at a time: at 20 accounts
    /// a page and the Organizations API's few calls a second, a large Organization takes
    /// minutes to list, and the first accounts' work need not wait for the last page.
    pub more: Option<MoreAccounts>,
}

/// Resolve the accounts of a run. Accounts that cannot be reached are returned as skipped
/// (with a reason) rather than failing the run; an unusable default chain is fatal.
/// Profiles that turn out to be one identity run once (the others are reported). Every
/// error the command line or the first page of an Organization can cause comes from here;
/// only a later page of the Organization's list can fail after it returns.
pub async fn start_accounts(
    client: &AwsClient,
    opts: &AccountOptions,
    home_hint: Option<&str>,
    concurrency: usize,
) -> Result<Started, PlanError> {
    let org_mode = opts.org_role.is_some();
    let explicit_mode = !opts.accounts.is_empty();
    // clap checks these too (`requires`, `conflicts_with`); the plan does not rely on it.
    if org_mode && explicit_mode {
        return Err(PlanError::Usage(
            "use either --org-role or --accounts, not both".into(),
        ));
    }
    if explicit_mode && opts.role.is_none() {
        return Err(PlanError::Usage(
            "--accounts needs --role ROLE to assume in each account".into(),
        ));
    }
    if !org_mode
        && (!opts.org_include.is_empty()
            || !opts.org_exclude.is_empty()
            || opts.org_include_management)
    {
        return Err(PlanError::Usage(
            "--org-include, --org-exclude and --org-include-management need --org-role".into(),
        ));
    }
    if (org_mode || explicit_mode) && opts.profiles.len() > 1 {
        return Err(PlanError::Usage(
            "with --org-role or --accounts, --profile names the one profile to start from".into(),
        ));
    }

    // Profiles (or the default chain), each an account.
    if !org_mode && !explicit_mode {
        let names: Vec<Option<String>> = if opts.profiles.is_empty() {
            vec![None]
        } else {
            let mut seen = BTreeSet::new();
            opts.profiles
                .iter()
                .map(|p| p.trim().to_string())
                .filter(|p| !p.is_empty() && seen.insert(p.clone()))
                .map(Some)
                .collect()
        };
        let single = names.len() == 1;
        // Every named profile read from the config files first (no call): a misspelt or
        // unusable one fails the command line before any account is reached.
        let mut loaded = Vec::new();
        for name in names {
            let profile = CredentialSource::load_profile(client, name.as_deref(), home_hint)
                .await
                .map_err(|e| match &name {
                    // The error names the profile ("profile prodd: not found ...").
                    Some(_) => PlanError::Usage(e.to_string()),
                    None => PlanError::Options(e.to_string()),
                })?;
            loaded.push((name, profile));
        }
        let results: Vec<Result<(Account, String), SkippedAccount>> = stream::iter(loaded)
            .map(|(name, profile)| profile_account(client, name, profile, home_hint))
            .buffered(concurrency.max(1))
            .collect()
            .await;
        let mut accounts: Vec<(Account, String)> = Vec::new();
        let mut skipped = Vec::new();
        // Profiles resolving to one identity: (kept label, [all labels], principal).
        let mut same: Vec<(usize, Vec<String>)> = Vec::new();
        for r in results {
            match r {
                Ok((a, _)) if !in_shard(&a.id, opts.shard) => {
                    tracing::debug!(account = %a.id, "in another shard");
                }
                Ok((a, principal)) => {
                    match accounts
                        .iter()
                        .position(|(b, p)| b.id == a.id && *p == principal)
                    {
                        Some(i) => match same.iter_mut().find(|(k, _)| *k == i) {
                            Some((_, labels)) => labels.push(a.label),
                            None => same.push((i, vec![accounts[i].0.label.clone(), a.label])),
                        },
                        None => accounts.push((a, principal)),
                    }
                }
                // With one profile there is nothing else to run: that is fatal.
                Err(s) if single => return Err(PlanError::Options(s.reason)),
                Err(s) => skipped.push(s),
            }
        }
        for (i, labels) in same {
            let (kept, principal) = &accounts[i];
            skipped.push(SkippedAccount {
                account: labels[1..].join(", "),
                reason: format!(
                    "profiles {} are one identity ({principal}, account {}); it runs once, as {}",
                    labels.join(", "),
                    kept.id,
                    kept.label
                ),
                code: None,
                failure: false,
            });
        }
        return Ok(Started {
            accounts: accounts.into_iter().map(|(a, _)| a).collect(),
            skipped,
            more: None,
        });
    }

    // Start from one set of credentials, assume a role in each member account.
    let base_name = opts.profiles.first().cloned();
    let base = CredentialSource::load_profile(client, base_name.as_deref(), home_hint)
        .await
        .map_err(|e| match &base_name {
            Some(_) => PlanError::Usage(e.to_string()),
            None => PlanError::Options(e.to_string()),
        })?;
    let home = home_hint
        .map(str::to_string)
        .or_else(|| base.region.clone())
        .unwrap_or_else(|| "us-east-1".into());
    let base_creds = Arc::new(base.credentials);
    client
        .identity(&base_creds, &home)
        .await
        .map_err(|e| PlanError::Options(format!("starting credentials: {e}")))?;

    let role = match &opts.org_role {
        Some(role) => role.clone(),
        None => opts.role.clone().unwrap_or_default(),
    };
    let mut maker = AccountMaker {
        client: client.clone(),
        base: base_creds.clone(),
        part: partition(client, &home),
        role,
        session_name: opts.session_name.clone(),
        external_id: opts.external_id.clone(),
        home: home.clone(),
        shard: opts.shard,
        seen: BTreeSet::new(),
    };
    let (ids, skipped, rest) = if opts.org_role.is_some() {
        let first = organization_accounts(client, &base_creds, &home, opts).await?;
        (first.ids, first.skipped, first.rest)
    } else {
        let ids: Vec<String> = opts.accounts.iter().map(|a| a.trim().to_string()).collect();
        if let Some(bad) = ids.iter().find(|a| !is_account_id(a)) {
            return Err(PlanError::Usage(format!(
                "--accounts: '{bad}' is not a 12-digit account id"
            )));
        }
        let inactive = opts
            .accounts_inactive
            .iter()
            .filter(|(id, _)| in_shard(id, opts.shard))
            .map(|(id, status)| SkippedAccount {
                account: id.clone(),
                reason: format!("account is {status} (in the account list)"),
                code: None,
                failure: false,
            })
            .collect();
        (ids, inactive, None)
    };
    // The roles are assumed on first use (see `ScopePlan::targets`), once the run's session
    // policy is attached; the account ids are known already.
    Ok(Started {
        accounts: maker.accounts(ids),
        skipped,
        more: rest.map(|rest| MoreAccounts { rest, maker }),
    })
}

/// Makes each account of an Organization or an `--accounts` list: the role's ARN in it and
/// credentials that assume that role on first use; accounts of other shards, and repeats,
/// left out.
struct AccountMaker {
    client: AwsClient,
    base: Arc<CredentialSource>,
    part: String,
    role: String,
    session_name: String,
    external_id: Option<String>,
    home: String,
    shard: Option<(u32, u32)>,
    seen: BTreeSet<String>,
}

impl AccountMaker {
    fn accounts(&mut self, ids: Vec<String>) -> Vec<Account> {
        ids.into_iter()
            .filter(|id| in_shard(id, self.shard) && self.seen.insert(id.clone()))
            .map(|id| {
                let arn = if self.role.starts_with("arn:") {
                    self.role.replace("{account}", &id)
                } else {
                    format!(
                        "arn:{}:iam::{id}:role/{}",
                        self.part,
                        self.role.trim_start_matches('/')
                    )
                };
                let creds = Arc::new(CredentialSource::assume_role(
                    &self.client,
                    self.base.clone(),
                    &arn,
                    &self.session_name,
                    self.external_id.clone(),
                    &self.home,
                ));
                Account {
                    id,
                    label: arn,
                    creds,
                    default_region: Some(self.home.clone()),
                }
            })
            .collect()
    }
}

/// The rest of an Organization's account list (see [`Started::more`]).
pub struct MoreAccounts {
    rest: OrgPages,
    maker: AccountMaker,
}

/// The `ListAccounts` pages still to read, and what to keep of each.
struct OrgPages {
    pages: aws_engine::Pages,
    filter: MemberFilter,
}

/// What [`organization_accounts`] read: the accounts to visit and those skipped, of the
/// first page or of the whole list; and the pages still to read, if any.
struct OrgListing {
    ids: Vec<String>,
    skipped: Vec<SkippedAccount>,
    rest: Option<OrgPages>,
}

impl MoreAccounts {
    /// The next page's accounts to visit and those it skips; `None` after the last page.
    pub async fn next_page(
        &mut self,
    ) -> Option<Result<(Vec<Account>, Vec<SkippedAccount>), PlanError>> {
        let page = match self.rest.pages.next_page().await? {
            Ok(page) => page,
            Err(e) => return Some(Err(org_error(e))),
        };
        let (ids, skipped) = self.rest.filter.page(&page);
        Some(Ok((self.maker.accounts(ids), skipped)))
    }
}

fn org_error(e: EngineError) -> PlanError {
    PlanError::Options(format!("listing the Organization's accounts: {e}"))
}

/// Which of a `ListAccounts` page's accounts a run visits: ACTIVE ones, the management
/// account only when asked, and the `--org-include`/`--org-exclude` lists applied.
struct MemberFilter {
    management: String,
    include_management: bool,
    /// `--org-include` as account ids, when given (an OU with no accounts includes none).
    include: Option<BTreeSet<String>>,
    exclude: BTreeSet<String>,
}

impl MemberFilter {
    fn page(&self, page: &serde_json::Value) -> (Vec<String>, Vec<SkippedAccount>) {
        let mut ids = Vec::new();
        let mut skipped = Vec::new();
        for a in page["Accounts"].as_array().into_iter().flatten() {
            let id = a["Id"].as_str().unwrap_or_default().to_string();
            let state = a["State"]
                .as_str()
                .or(a["Status"].as_str())
                .unwrap_or("ACTIVE");
            if state != "ACTIVE" {
                skipped.push(SkippedAccount {
                    account: id,
                    reason: format!("account is {state}"),
                    code: None,
                    failure: false,
                });
            } else if id == self.management && !self.include_management {
                tracing::info!(account = %id, "skipping the management account (--org-include-management to include it)");
            } else if self.include.as_ref().is_some_and(|i| !i.contains(&id))
                || self.exclude.contains(&id)
            {
                tracing::debug!(account = %id, "excluded by --org-include/--org-exclude");
            } else {
                ids.push(id);
            }
        }
        (ids, skipped)
    }
}

/// The Organization's member accounts to visit: ACTIVE ones, filtered by the include and
/// exclude lists (account ids or OU ids), the management account only when asked. Without
/// those lists only the first page is read here, and the rest is returned to be read
/// while the first accounts are at work; with them the whole list is read first, since a
/// name in them is looked up among every member.
async fn organization_accounts(
    client: &AwsClient,
    creds: &Arc<CredentialSource>,
    home: &str,
    opts: &AccountOptions,
) -> Result<OrgListing, PlanError> {
    let org = client
        .call(
            creds,
            home,
            "organizations",
            "DescribeOrganization",
            &json!({}),
        )
        .await
        .map_err(org_error)?;
    let management = org["Organization"]["MasterAccountId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let mut filter = MemberFilter {
        management,
        include_management: opts.org_include_management,
        include: None,
        exclude: BTreeSet::new(),
    };
    let trimmed = |list: &[String]| -> Vec<String> {
        list.iter()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    };
    let (include, exclude) = (trimmed(&opts.org_include), trimmed(&opts.org_exclude));
    let op = client
        .operation("organizations", "ListAccounts")
        .map_err(org_error)?;
    // The API's largest page (and its default): 20 accounts.
    let mut pages = client.pages(creds.clone(), home, op, json!({"MaxResults": 20}));
    if include.is_empty() && exclude.is_empty() {
        let first = match pages.next_page().await {
            Some(page) => page.map_err(org_error)?,
            None => json!({}),
        };
        let (ids, skipped) = filter.page(&first);
        let rest = (!pages.is_done()).then_some(OrgPages { pages, filter });
        return Ok(OrgListing { ids, skipped, rest });
    }
    let all = pages.full_result().await.map_err(org_error)?;
    let members: Vec<(String, String)> = all["Accounts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| {
            let id = a["Id"].as_str()?.to_string();
            let name = a["Name"].as_str().unwrap_or_default().to_string();
            Some((id, name))
        })
        .collect();
    let expand =
        |flag: &'static str, list: Vec<String>| {
            let members = &members;
            async move {
                let mut ids = BTreeSet::new();
                for item in list {
                    if item.starts_with("ou-") || item.starts_with("r-") {
                        ids.extend(accounts_under(client, creds, home, &item).await.map_err(
                            |e| match e.code() {
                                Some(
                                    "ParentNotFoundException"
                                    | "InvalidInputException"
                                    | "OrganizationalUnitNotFoundException",
                                ) => PlanError::Usage(format!(
                                    "{flag} {item}: the Organization has no such OU or root"
                                )),
                                _ => org_error(e),
                            },
                        )?);
                    } else {
                        ids.insert(member_id(flag, &item, members)?);
                    }
                }
                Ok::<_, PlanError>(ids)
            }
        };
    if !include.is_empty() {
        filter.include = Some(expand("--org-include", include).await?);
    }
    filter.exclude = expand("--org-exclude", exclude).await?;
    let (ids, skipped) = filter.page(&all);
    Ok(OrgListing {
        ids,
        skipped,
        rest: None,
    })
}

/// An account of the Organization named by id or by name (exact, else the one name equal
/// ignoring case); anything else is a usage error listing a few of the accounts.
fn member_id(flag: &str, item: &str, members: &[(String, String)]) -> Result<String, PlanError> {
    if let Some((id, _)) = members.iter().find(|(id, _)| id == item) {
        return Ok(id.clone());
    }
    let by_name: Vec<&String> = members
        .iter()
        .filter(|(_, n)| n == item)
        .map(|(id, _)| id)
        .collect();
    let by_name = if by_name.is_empty() {
        members
            .iter()
            .filter(|(_, n)| n.eq_ignore_ascii_case(item))
            .map(|(id, _)| id)
            .collect()
    } else {
        by_name
    };
    match by_name.as_slice() {
        [id] => Ok((*id).clone()),
        [] => {
            let known: Vec<String> = members
                .iter()
                .take(8)
                .map(|(id, n)| format!("{n} ({id})"))
                .collect();
            let more = if members.len() > 8 { ", ..." } else { "" };
            let what = if item.len() == 12 && item.chars().all(|c| c.is_ascii_digit()) {
                "account id"
            } else {
                "account id, account name or OU"
            };
            Err(PlanError::Usage(format!(
                "{flag} {item}: the Organization has no such {what} (accounts: {}{more})",
                known.join(", ")
            )))
        }
        ids => Err(PlanError::Usage(format!(
            "{flag} {item}: {} accounts have this name ({}): name one by id",
            ids.len(),
            ids.iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn members() -> Vec<(String, String)> {
        vec![
            ("111111111111".into(), "prod-a".into()),
            ("222222222222".into(), "Prod-B".into()),
            ("333333333333".into(), "twin".into()),
            ("444444444444".into(), "twin".into()),
        ]
    }

    #[test]
    fn org_members_by_id_or_name() {
        let m = members();
        assert_eq!(
            member_id("--org-include", "111111111111", &m).unwrap(),
            "111111111111"
        );
        assert_eq!(
            member_id("--org-include", "prod-a", &m).unwrap(),
            "111111111111"
        );
        assert_eq!(
            member_id("--org-include", "prod-b", &m).unwrap(),
            "222222222222"
        );
        let e = member_id("--org-include", "prod-c", &m).unwrap_err();
        assert!(e.is_usage());
        let e = e.to_string();
        assert!(
            e.starts_with("--org-include prod-c: the Organization has no such"),
            "{e}"
        );
        assert!(e.contains("prod-a (111111111111)"), "{e}");
        let e = member_id("--org-exclude", "999999999999", &m)
            .unwrap_err()
            .to_string();
        assert!(e.contains("no such account id"), "{e}");
        let e = member_id("--org-include", "twin", &m)
            .unwrap_err()
            .to_string();
        assert!(e.contains("2 accounts have this name"), "{e}");
    }
}
