//! `mrhost serve`: a local AWS-compatible endpoint that holds the credentials, caches
//! reads and enforces the operation classes for any client (see [`crate::serve`]).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use aws_engine::inbound::Router;
use aws_engine::{AwsClient, CredentialSource, Identity};
use futures::future::join_all;

use crate::cli::args::ServeArgs;
use crate::cli::{setup, Ctx};
use crate::plan::{self, RegionItem};
use crate::serve::{self, keys, KeyIdentity, Limits, Listening, Server};

/// What one local key stands for.
enum Target {
    /// The identity the scope flags name (the default chain, `--profile`, a role), and
    /// how to call it.
    Account(plan::Account, String),
    Profile(String),
    Role(String),
}

/// Start the server; returns when it has been stopped (Ctrl-C, SIGTERM) and drained.
pub async fn serve(ctx: Ctx, args: ServeArgs) -> Result<i32> {
    let addr = listen_address(&args)?;
    let client = setup::client_with(
        &args.scope,
        &args.allow,
        setup::mib_bytes(args.max_response_mib),
    )?;
    let cache = setup::open_cache(&args.scope.cache);
    let request = setup::scope_request(&client, &args.scope)?;

    // The models' signing-name index is built off the async threads while the keys'
    // credentials resolve.
    let router = Arc::new(Router::new(client.models().clone()));
    let warming = {
        let r = router.clone();
        tokio::task::spawn_blocking(move || {
            let t = Instant::now();
            r.warm();
            t.elapsed()
        })
    };

    let home = home_region(&request);
    let targets = key_targets(&client, &args, &request, home.as_deref()).await?;
    let home = home
        .or_else(|| {
            targets.iter().find_map(|(_, t)| match t {
                Target::Account(a, _) => a.default_region.clone(),
                _ => None,
            })
        })
        .unwrap_or_else(|| "us-east-1".to_string());
    let resolved = resolve_keys(&client, &args, targets, &home).await?;

    let wanted: Vec<(String, String)> = resolved
        .iter()
        .map(|(name, label, _, _)| (name.clone(), label.clone()))
        .collect();
    let dir = setup::state_dir().map(|d| d.join("serve"));
    let local_keys = keys::ensure(dir.as_deref(), &wanted, args.rotate_keys)?;

    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("--listen {addr}"))?;
    let local = listener.local_addr()?;
    let index_time = warming
        .await
        .map_err(|e| anyhow!("indexing the models: {e}"))?;
    tracing::debug!(ms = index_time.as_millis() as u64, "signing names indexed");

    let url_host = if local.ip().is_unspecified() {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else {
        local.ip()
    };
    let url = format!("http://{}", SocketAddr::new(url_host, local.port()));
    let mut identities = Vec::new();
    {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        for ((key, origin), (name, label, creds, identity)) in local_keys.into_iter().zip(resolved)
        {
            writeln!(
                out,
                "# key {name}: {label} (account {}, {})",
                identity.account, identity.arn
            )?;
            writeln!(
                out,
                "export AWS_ENDPOINT_URL={url} AWS_ACCESS_KEY_ID={} AWS_SECRET_ACCESS_KEY={} AWS_SESSION_TOKEN= AWS_REGION={home} AWS_DEFAULT_REGION={home}",
                key.access_key_id, key.secret
            )?;
            if !ctx.quiet {
                match origin {
                    keys::Origin::Reused => tracing::debug!(key = %name, "local key kept from an earlier run"),
                    keys::Origin::Created => tracing::debug!(key = %name, "new local key"),
                    keys::Origin::Rotated => eprintln!("mrhost serve: key {name}: new key pair (--rotate-keys); clients need the line above"),
                    keys::Origin::Ephemeral => eprintln!("mrhost serve: key {name}: no state directory (XDG_STATE_HOME, HOME), so the key pair lasts this run only"),
                }
            }
            identities.push(KeyIdentity {
                name,
                access_key_id: key.access_key_id,
                secret: key.secret,
                creds,
                label,
            });
        }
        out.flush()?;
    }

    if !ctx.quiet {
        let allowed: Vec<String> = std::iter::once("read".to_string())
            .chain(client.grants().items())
            .collect();
        let cache_note = match &cache {
            Some(_) => format!(
                "reads cached {} s in {}",
                args.scope.cache.cache_ttl,
                setup::response_cache_path().display()
            ),
            None => "no response cache".to_string(),
        };
        let keys_note = match &dir {
            Some(d) => format!("keys in {}", d.join("keys.json").display()),
            None => "keys for this run only".to_string(),
        };
        eprintln!(
            "mrhost serve: listening on {url}; allowing {}; {cache_note}; {keys_note}; Ctrl-C stops",
            allowed.join(", ")
        );
    }

    let server = Arc::new(Server::new(
        client.clone(),
        router,
        identities,
        cache,
        Limits {
            max_request_bytes: args.max_request_kib.saturating_mul(1024).max(1),
            max_response_bytes: args.max_response_mib.saturating_mul(1 << 20).max(1),
            body_timeout: Duration::from_secs(args.scope.request_timeout.max(1)),
        },
        local,
    ));
    let listening = Listening {
        max_connections: args.max_connections,
        header_timeout: Duration::from_secs(30),
        drain_timeout: Duration::from_secs(args.drain_timeout),
    };
    let drained = serve::run(server.clone(), listener, listening, stop_signal()).await;
    let c = &server.counters;
    if !ctx.quiet {
        eprintln!(
            "mrhost serve: stopped{}; {} requests: {} from the cache, {} shared with an identical request, {} sent on ({} HTTP requests upstream), {} refused",
            if drained { "" } else { " (some requests were still running at the drain time-out)" },
            c.requests.load(Ordering::Relaxed),
            c.cache_hits.load(Ordering::Relaxed),
            c.coalesced.load(Ordering::Relaxed),
            c.forwarded.load(Ordering::Relaxed),
            server.client().stats().requests.load(Ordering::Relaxed),
            c.refused.load(Ordering::Relaxed),
        );
    }
    Ok(if drained {
        crate::cli::exit::OK
    } else {
        crate::cli::exit::ERROR
    })
}

/// `--listen`, checked: a loopback address, or any with `--listen-any REASON`.
fn listen_address(args: &ServeArgs) -> Result<SocketAddr> {
    let text = args.listen.trim();
    let addr: SocketAddr = match text.strip_prefix("localhost:") {
        Some(port) => SocketAddr::new(
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            port.parse()
                .map_err(|_| anyhow!("--listen {text}: the port is not a number"))?,
        ),
        None => text.parse().map_err(|_| {
            anyhow!("--listen {text}: not an address and port (such as 127.0.0.1:8080; port 0 picks a free one)")
        })?,
    };
    match &args.listen_any {
        Some(reason) if reason.trim().is_empty() => {
            bail!("--listen-any needs a reason (it is printed as a warning)")
        }
        Some(reason) if !serve::is_loopback(&addr) => {
            eprintln!(
                "mrhost: warning: serving on {addr}, which is not loopback: anyone who can reach it and holds a local key acts with your AWS credentials ({})",
                reason.trim()
            );
        }
        None if !serve::is_loopback(&addr) => bail!(
            "--listen {addr} is not a loopback address; pass --listen-any REASON to serve beyond this machine"
        ),
        _ => {}
    }
    Ok(addr)
}

/// The region clients are told to use: the first region `--regions` names, else the
/// environment's.
fn home_region(request: &plan::ScopeRequest) -> Option<String> {
    request
        .regions
        .as_ref()
        .and_then(|items| {
            items.iter().find_map(|x| match x {
                RegionItem::Name(n) => Some(n.clone()),
                _ => None,
            })
        })
        .or_else(|| request.env_region.clone())
}

/// The keys of this run: `--key NAME=PROFILE|ROLE_ARN`, else one per identity the scope
/// flags name (`default` when there is one).
async fn key_targets(
    client: &AwsClient,
    args: &ServeArgs,
    request: &plan::ScopeRequest,
    home: Option<&str>,
) -> Result<Vec<(String, Target)>> {
    if args.keys.is_empty() {
        let (accounts, skipped) =
            plan::accounts::load_accounts(client, &request.accounts, home, request.concurrency)
                .await?;
        for s in &skipped {
            eprintln!(
                "mrhost: warning: account {} skipped: {}",
                s.account, s.reason
            );
        }
        if accounts.is_empty() {
            bail!("no account to serve: every account was skipped");
        }
        let single = accounts.len() == 1;
        let role_mode =
            request.accounts.org_role.is_some() || !request.accounts.accounts.is_empty();
        return Ok(accounts
            .into_iter()
            .map(|a| {
                let name = if single {
                    "default".to_string()
                } else if role_mode {
                    a.id.clone()
                } else {
                    key_name_from(&a.label)
                };
                let label = match a.creds.role_arn() {
                    Some(arn) => format!("role {arn}"),
                    None if request.accounts.profiles.is_empty() => {
                        "the default credentials".to_string()
                    }
                    None => format!("profile {}", a.label),
                };
                (name, Target::Account(a, label))
            })
            .collect());
    }
    let opts = &request.accounts;
    if opts.org_role.is_some() || !opts.accounts.is_empty() || opts.profiles.len() > 1 {
        bail!("--key names each key's identity: use it without --org-role or --accounts, and with at most one --profile (the credentials role ARNs are assumed with)");
    }
    let mut out: Vec<(String, Target)> = Vec::new();
    for item in &args.keys {
        let Some((name, target)) = item.split_once('=') else {
            bail!("--key {item}: expected NAME=PROFILE or NAME=ROLE_ARN");
        };
        let (name, target) = (name.trim(), target.trim());
        if !keys::valid_name(name) {
            bail!("--key {item}: a key name is 1-64 letters, digits, '-', '_' or '.'");
        }
        if target.is_empty() {
            bail!("--key {item}: no profile or role after '='");
        }
        if out.iter().any(|(n, _)| n == name) {
            bail!("--key {name} is given twice");
        }
        let t = if target.starts_with("arn:") {
            if aws_engine::identity::account_of_arn(target).is_none() || !target.contains(":role/")
            {
                bail!("--key {item}: {target} is not an IAM role ARN");
            }
            Target::Role(target.to_string())
        } else {
            Target::Profile(target.to_string())
        };
        out.push((name.to_string(), t));
    }
    Ok(out)
}

/// A key name from a profile name (characters a key name may not have become `-`).
fn key_name_from(label: &str) -> String {
    let mut n: String = label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '-'
            }
        })
        .take(64)
        .collect();
    if n.is_empty() {
        n = "key".into();
    }
    n
}

/// Credentials and identity for every key, resolved at once; a key whose credentials do
/// not work stops the start with a one-line error naming it.
async fn resolve_keys(
    client: &AwsClient,
    args: &ServeArgs,
    targets: Vec<(String, Target)>,
    home: &str,
) -> Result<Vec<(String, String, Arc<CredentialSource>, Identity)>> {
    // Roles are assumed with --profile's credentials (or the default chain's).
    let needs_base = targets.iter().any(|(_, t)| matches!(t, Target::Role(_)));
    let base = if needs_base {
        let p = args.scope.profile.first().map(String::as_str);
        let loaded = CredentialSource::load_profile(client, p, Some(home))
            .await
            .map_err(|e| anyhow!("the credentials to assume roles with: {e}"))?;
        Some(Arc::new(loaded.credentials))
    } else {
        None
    };
    let jobs = targets.into_iter().map(|(name, target)| {
        let base = base.clone();
        async move {
            let (label, creds) = match target {
                Target::Account(a, label) => (label, a.creds.clone()),
                Target::Profile(p) => {
                    let loaded = CredentialSource::load_profile(client, Some(&p), Some(home))
                        .await
                        .map_err(|e| anyhow!("--key {name}: {e}"))?;
                    (format!("profile {p}"), Arc::new(loaded.credentials))
                }
                Target::Role(arn) => {
                    let Some(base) = base else {
                        bail!("--key {name}: no credentials to assume {arn} with");
                    };
                    let creds = CredentialSource::assume_role(
                        client,
                        base,
                        &arn,
                        &args.scope.role_session_name,
                        args.scope.external_id.clone(),
                        home,
                    );
                    (format!("role {arn}"), Arc::new(creds))
                }
            };
            let identity = verified_identity(client, &creds, home)
                .await
                .map_err(|e| anyhow!("key {name} ({label}): {e}"))?;
            Ok::<_, anyhow::Error>((name, label, creds, identity))
        }
    });
    join_all(jobs).await.into_iter().collect()
}

/// Who the credentials are, confirmed by STS in this process (a role's AssumeRole answer,
/// else one GetCallerIdentity): the start fails on credentials that do not work.
async fn verified_identity(
    client: &AwsClient,
    creds: &Arc<CredentialSource>,
    region: &str,
) -> Result<Identity, aws_engine::EngineError> {
    let identity = client.identity(creds, region).await?;
    let c = creds.get().await?;
    let hash = client.identity_key(c.access_key_id());
    if client.identities().is_verified(&hash) {
        return Ok(identity);
    }
    let out = client
        .call(
            creds,
            region,
            "sts",
            "GetCallerIdentity",
            &serde_json::json!({}),
        )
        .await?;
    match (out["Account"].as_str(), out["Arn"].as_str()) {
        (Some(account), Some(arn)) => {
            let id = Identity {
                account: account.to_string(),
                arn: arn.to_string(),
            };
            client.identities().remember(&hash, &id, true);
            Ok(id)
        }
        _ => Ok(identity),
    }
}

/// Ctrl-C or SIGTERM.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = match signal(SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
    tracing::info!("stopping: no new connections; finishing the requests in flight");
}
