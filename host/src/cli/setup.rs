//! From parsed arguments to the objects the commands use — an AWS client, a plugin
//! runtime, a scope request — resolved once per invocation.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Result};
use aws_engine::cache::{CacheMode, ResponseCache};
use aws_engine::{AwsClient, Grants, Models, OpClass};
use plugin_host::{GivenParam, Limits, Plugin, PluginRuntime};

use super::args::{AllowArgs, CacheArgs, LoadArgs, OutputArgs, RetryMode, SandboxArgs, ScopeArgs};
use crate::pipeline::ScopeLimits;
use crate::plan::{self, AccountOptions, ScopeRequest};
use crate::render::Query;

/// Where mrhost keeps what it caches: `$MRHOST_CACHE_DIR`, else `$XDG_CACHE_HOME/mrhost`,
/// else `~/.cache/mrhost`, else the system temp dir.
pub fn cache_root() -> PathBuf {
    if let Some(d) = std::env::var_os("MRHOST_CACHE_DIR") {
        return PathBuf::from(d);
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME") {
        return PathBuf::from(d).join("mrhost");
    }
    if let Some(h) = std::env::var_os("HOME") {
        return PathBuf::from(h).join(".cache").join("mrhost");
    }
    std::env::temp_dir().join("mrhost-cache")
}

/// Where mrhost keeps what it learns about the user's credentials (the access key →
/// account mapping): `$XDG_STATE_HOME/mrhost`, else `~/.local/state/mrhost`; none without
/// either (then nothing is kept).
pub fn state_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("XDG_STATE_HOME").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d).join("mrhost"));
    }
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|h| PathBuf::from(h).join(".local").join("state").join("mrhost"))
}

/// `--allow` and `--allow-write`, checked: class names, or `service:Operation` of a model
/// (snake/kebab-case operation names are accepted and canonicalized).
pub fn grants(models: &Models, args: &AllowArgs) -> Result<Grants> {
    let mut items = Vec::new();
    for (flag, raw) in args
        .allow
        .iter()
        .map(|a| ("--allow", a))
        .chain(args.allow_write.iter().map(|a| ("--allow-write", a)))
    {
        let item = raw.trim();
        if item.is_empty() {
            continue;
        }
        if OpClass::parse(item).is_some() && (flag == "--allow" || item == "write") {
            items.push(item.to_string());
            continue;
        }
        let Some((service, operation)) = item.split_once(':') else {
            bail!("{flag} {item}: not a class (data, secret, billed, write) or service:Operation");
        };
        let model = models
            .service(service)
            .map_err(|e| anyhow::anyhow!("{flag} {item}: {e}"))?;
        let Some(op) = model.operation(operation) else {
            bail!("{flag} {item}: {operation} is not in the {service} model");
        };
        items.push(format!("{}:{}", model.name, op.name));
    }
    Ok(Grants::from_items(items))
}

/// The response cache file.
pub fn response_cache_path() -> PathBuf {
    cache_root().join("responses.sqlite")
}

/// The response cache as `--no-cache`, `--refresh`, `--cache-ttl` and `--cache-max-mib`
/// ask; a cache that cannot be opened is a warning, not an error.
pub fn open_cache(args: &CacheArgs) -> Option<Arc<ResponseCache>> {
    if args.no_cache {
        return None;
    }
    let mode = if args.refresh {
        CacheMode::Refresh
    } else {
        CacheMode::Normal
    };
    match ResponseCache::open(
        &response_cache_path(),
        Duration::from_secs(args.cache_ttl),
        mode,
        args.cache_max_mib << 20,
    ) {
        Ok(c) => Some(Arc::new(c)),
        Err(e) => {
            tracing::warn!("response cache disabled: {e}");
            None
        }
    }
}

/// The AWS client: endpoint override, retries and time-outs, response cache, identity
/// store; what `--allow` lets run (and see unredacted), and the largest response body
/// read (`--max-response-mib`, see [`mib_bytes`]).
pub fn client_with(
    scope: &ScopeArgs,
    allow: &AllowArgs,
    max_response_bytes: u64,
) -> Result<AwsClient> {
    // The endpoint data parses on another core while this one reads the service model.
    aws_engine::model::prepare_endpoints();
    let models = Arc::new(Models::from_env()?);
    let grants = grants(&models, allow)?;
    let retry = aws_engine::RetryConfig {
        max_attempts: scope.max_attempts.max(1),
        attempt_timeout: Duration::from_secs(scope.request_timeout.max(1)),
        call_timeout: Duration::from_secs(scope.call_timeout.max(1)),
        adaptive: matches!(scope.retry_mode, RetryMode::Adaptive),
        ..Default::default()
    };
    Ok(AwsClient::builder()
        .models(models)
        .endpoint_url(scope.endpoint_url.clone())
        .retry(retry)
        .cache(open_cache(&scope.cache))
        .identity_store(state_dir())
        .grants(grants)
        .max_response_bytes(max_response_bytes)
        .max_idle_connections(idle_connections(scope.concurrency))
        .build()?)
}

/// Idle connections kept per host: as many as the scopes running at once, from 64 up to
/// 512. Past the calls in flight, every call opens a connection and closes it after: at
/// `--concurrency 1024` with 64 kept, one call in five did (13,000 connections in the
/// 1,000-account bench), and a fresh connection reads a large answer in many small pieces.
/// An idle connection keeps its read buffer, up to ~400 KiB after a large answer: 1,024 of
/// them took the same sync's peak RSS from 208 MiB (512) to 250-270 MiB.
fn idle_connections(concurrency: usize) -> usize {
    concurrency.clamp(64, 512)
}

/// `--max-response-mib` in bytes (at least 1 MiB).
pub fn mib_bytes(mib: usize) -> u64 {
    (mib.max(1) as u64).saturating_mul(1 << 20)
}

/// `--max-calls` and `--timeout` of one scope, for the scopes mrhost runs itself (`call`,
/// model-derived types); plugins get theirs from [`limits`].
pub fn scope_limits(max_calls: u64, timeout_secs: u64) -> ScopeLimits {
    ScopeLimits {
        max_calls,
        timeout: Duration::from_secs(timeout_secs.max(1)),
    }
}

/// The sandbox limits of every scope.
pub fn limits(args: &SandboxArgs) -> Limits {
    Limits {
        timeout: Duration::from_secs(args.timeout.max(1)),
        memory: args.memory_limit.max(1) << 20,
        max_resources: args.max_resources,
        max_emitted_bytes: args.max_emit_mib << 20,
        max_log_bytes: args.max_log_kib << 10,
        max_params_bytes: args.max_params_kib << 10,
        max_response_bytes: args.max_response_mib << 20,
        max_calls: args.max_calls,
        call_concurrency: usize::from(args.call_concurrency),
        ..Limits::default()
    }
}

/// What a plugin runtime is built from: the run-time limits (`SandboxArgs`), or none
/// for commands that only load plugins (`LoadArgs`).
pub trait RuntimeArgs {
    fn runtime_limits(&self) -> Limits;
    fn no_compile_cache(&self) -> bool;
}

impl RuntimeArgs for SandboxArgs {
    fn runtime_limits(&self) -> Limits {
        limits(self)
    }
    fn no_compile_cache(&self) -> bool {
        self.no_compile_cache
    }
}

impl RuntimeArgs for LoadArgs {
    fn runtime_limits(&self) -> Limits {
        Limits {
            timeout: Duration::from_secs(self.manifest_timeout.max(1)),
            ..Limits::default()
        }
    }
    fn no_compile_cache(&self) -> bool {
        self.no_compile_cache
    }
}

/// The plugin runtime, with the compiled-artifact cache unless `--no-compile-cache`.
pub fn runtime(args: &impl RuntimeArgs) -> Result<PluginRuntime> {
    let dir = (!args.no_compile_cache()).then(cache_root);
    Ok(PluginRuntime::new(args.runtime_limits(), dir)?)
}

/// Load, check and compile a plugin; logs how long it took and whether it was cached.
/// Its parameters come from the config file's `[plugins.NAME]` table, then `params`
/// (`--param KEY=VALUE`), checked against what it declares.
pub async fn load_plugin_with(
    client: &AwsClient,
    runtime: &PluginRuntime,
    path: &std::path::Path,
    sandbox: &SandboxArgs,
    params: &[String],
) -> Result<Arc<Plugin>> {
    let path = super::plugin_path::resolve(path)?;
    let plugin = runtime
        .load(
            &path,
            client.models(),
            sandbox.plugin_sha256.as_deref(),
            &client.grants().items(),
        )
        .await?;
    tracing::info!(
        plugin = %plugin.manifest.name,
        cached = plugin.from_cache,
        load_ms = plugin.load_time.as_millis() as u64,
        "plugin loaded"
    );
    let mut given = config_plugin_params(&plugin.manifest.name);
    given.extend(params.iter().filter_map(|p| {
        plugin_host::params::parse_assignment(p).map(|(name, value)| GivenParam {
            name,
            value,
            origin: "--param".into(),
        })
    }));
    Ok(plugin.configure(&given)?)
}

/// [`load_plugin_with`] without `--param`: the config file's parameters only.
pub async fn load_plugin(
    client: &AwsClient,
    runtime: &PluginRuntime,
    path: &std::path::Path,
    sandbox: &SandboxArgs,
) -> Result<Arc<Plugin>> {
    load_plugin_with(client, runtime, path, sandbox, &[]).await
}

/// `$XDG_CONFIG_HOME/mrhost/config` (or `~/.config/mrhost/config`) and its text.
fn config_file() -> Option<(PathBuf, String)> {
    let dir = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    let path = dir.join("mrhost").join("config");
    let text = std::fs::read_to_string(&path).ok()?;
    Some((path, text))
}

/// The config file's lines as (section, key, value): `key = value` lines, the section
/// being the last `[name]` header before them ("" at the top). Comments (`#`) and blank
/// lines are skipped; values lose their quotes (`"a \"b\""` → `a "b"`).
fn config_entries(text: &str) -> Vec<(String, String, String)> {
    let mut section = String::new();
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name
                .split('.')
                .map(|p| p.trim().trim_matches('"'))
                .collect::<Vec<_>>()
                .join(".");
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let key = k.trim().trim_matches('"').to_string();
        let v = v.trim();
        let value = match v.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
            Some(inner) => inner.replace("\\\"", "\"").replace("\\\\", "\\"),
            None => v
                .split_once(" #")
                .map_or(v, |(before, _)| before)
                .trim()
                .to_string(),
        };
        out.push((section.clone(), key, value));
    }
    out
}

/// The `[plugins.NAME]` table of the config file, as given parameters.
fn config_plugin_params(plugin: &str) -> Vec<GivenParam> {
    let Some((path, text)) = config_file() else {
        return Vec::new();
    };
    let section = format!("plugins.{plugin}");
    config_entries(&text)
        .into_iter()
        .filter(|(s, _, _)| *s == section)
        .map(|(_, name, value)| GivenParam {
            name,
            value,
            origin: format!("[{section}] in {}", path.display()),
        })
        .collect()
}

/// `KEY = ...` at the top of the config file (before any `[table]`).
pub fn config_value(key: &str) -> Option<String> {
    let (_, text) = config_file()?;
    config_entries(&text)
        .into_iter()
        .find(|(s, k, _)| s.is_empty() && k == key)
        .map(|(_, _, v)| v)
}

/// `regions = ...` at the top of the config file.
fn config_regions() -> Option<String> {
    config_value("regions")
}

/// The keys the config file's top level may have.
pub const CONFIG_KEYS: &[&str] = &["regions", "plugin_path"];

/// What in the config file mrhost does not know, one message each: top-level keys other
/// than [`CONFIG_KEYS`], and tables other than `[plugins.NAME]` (whose keys each plugin
/// checks against the parameters it declares).
pub fn config_problems() -> Vec<String> {
    let Some((path, text)) = config_file() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut sections: Vec<String> = Vec::new();
    for (section, key, _) in config_entries(&text) {
        if section.is_empty() {
            if !CONFIG_KEYS.contains(&key.as_str()) {
                out.push(format!(
                    "{}: unknown key '{key}' (known: {}; plugin parameters go in [plugins.NAME])",
                    path.display(),
                    CONFIG_KEYS.join(", ")
                ));
            }
        } else if !section.starts_with("plugins.") && !sections.contains(&section) {
            out.push(format!(
                "{}: unknown table [{section}] (known: [plugins.NAME])",
                path.display()
            ));
            sections.push(section);
        }
    }
    out
}

/// What the scope flags ask for, with every region name and pattern checked.
pub fn scope_request(client: &AwsClient, scope: &ScopeArgs) -> Result<ScopeRequest> {
    let env_region = std::env::var("AWS_REGION")
        .or_else(|_| std::env::var("AWS_DEFAULT_REGION"))
        .ok();
    let spec = scope.regions.clone().or_else(config_regions);
    let regions = spec
        .as_deref()
        .map(|s| plan::regions::parse_regions(client, s))
        .transpose()?;
    let listed = account_ids(&scope.accounts)?;
    Ok(ScopeRequest {
        regions,
        env_region,
        accounts: AccountOptions {
            profiles: scope.profile.clone(),
            org_role: scope.org_role.clone(),
            org_include: scope.org_include.clone(),
            org_exclude: scope.org_exclude.clone(),
            org_include_management: scope.org_include_management,
            accounts: listed.ids,
            accounts_inactive: listed.inactive,
            role: scope.role.clone(),
            session_name: scope.role_session_name.clone(),
            external_id: scope.external_id.clone(),
            shard: None,
        },
        concurrency: scope.concurrency,
    })
}

/// `--accounts`: the ids given, with each `@FILE` item (`@-`: standard input) replaced by
/// the ids its list names (`plan::account_list`), and the accounts those lists name that
/// are not ACTIVE.
fn account_ids(items: &[String]) -> Result<plan::account_list::AccountList> {
    let mut out = plan::account_list::AccountList::default();
    for item in items {
        let item = item.trim();
        let Some(path) = item.strip_prefix('@') else {
            out.ids.push(item.to_string());
            continue;
        };
        let (label, text) = if path == "-" {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
                .map_err(|e| super::Usage(format!("--accounts @-: reading standard input: {e}")))?;
            ("standard input".to_string(), text)
        } else {
            let text = std::fs::read_to_string(path)
                .map_err(|e| super::Usage(format!("--accounts @{path}: {e}")))?;
            (path.to_string(), text)
        };
        let list = plan::account_list::parse(&label, &text)
            .map_err(|e| super::Usage(format!("--accounts: {e}")))?;
        out.ids.extend(list.ids);
        out.inactive.extend(list.inactive);
    }
    Ok(out)
}

/// `--query`, compiled before any call.
pub fn compile_query(out: &OutputArgs) -> Result<Option<Query>> {
    out.query
        .as_deref()
        .map(Query::compile)
        .transpose()
        .map_err(|e| anyhow::anyhow!(e))
}

/// Whether `--regions` asks each account for its enabled regions (ec2 DescribeRegions with
/// the account's own credentials).
pub fn lists_enabled_regions(request: &ScopeRequest) -> bool {
    request
        .regions
        .as_ref()
        .is_some_and(|items| items.contains(&plan::RegionItem::Enabled))
}

/// The STS session policy for roles mrhost assumes in this run: the IAM actions of
/// `operations` (and `ec2:DescribeRegions` for `--regions enabled`). When STS could not
/// take it, one warning line and no policy.
pub fn session_policy(
    models: &Models,
    operations: &[String],
    enabled_regions: bool,
) -> Option<String> {
    let extra: Vec<String> = if enabled_regions {
        vec!["ec2:DescribeRegions".to_string()]
    } else {
        Vec::new()
    };
    match plugin_host::policy::session_policy(models, operations, &extra) {
        Ok(p) => Some(p),
        Err(e) => {
            tracing::warn!("assuming roles without a session policy: {e}");
            None
        }
    }
}

/// Whether an allowed write may run over `scopes`: `--yes`, or a yes typed
/// on the terminal after seeing the scopes. In a pipe without `--yes`, the one-line
/// refusal is printed and the exit code returned.
pub fn confirm_write(
    what: &str,
    class: OpClass,
    scopes: &[String],
    yes: bool,
) -> std::result::Result<(), i32> {
    use std::io::{BufRead, IsTerminal, Write};
    if yes {
        return Ok(());
    }
    let n = scopes.len();
    if !std::io::stdin().is_terminal() {
        eprintln!(
            "mrhost: error: {what} is a {class} operation and would run in {n} scope{}; pass --yes to run it without a terminal to confirm on",
            if n == 1 { "" } else { "s" }
        );
        return Err(super::exit::USAGE);
    }
    let mut err = std::io::stderr().lock();
    let _ = writeln!(
        err,
        "mrhost: {what} is a {class} operation; it will run in {n} scope{}:",
        if n == 1 { "" } else { "s" }
    );
    for s in scopes.iter().take(20) {
        let _ = writeln!(err, "  {s}");
    }
    if n > 20 {
        let _ = writeln!(err, "  ... and {} more", n - 20);
    }
    let _ = write!(err, "Proceed? [y/N] ");
    let _ = err.flush();
    drop(err);
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    if matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
        Ok(())
    } else {
        eprintln!("mrhost: not run");
        Err(super::exit::ERROR)
    }
}
