//! The command line: clap definitions and each command's body. Errors become one line on
//! stderr and an exit code (see [`ExitCode`]).

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use serde_json::Value;

use crate::engine::AwsClient;
use crate::output::{self, Format, ResourceSink};
use crate::plugin::{cache, Limits, PluginRuntime, ScopeKind};
use crate::run::{self, ScopeFailure};
use crate::scope::{self, SkippedAccount, Target};

/// Exit codes: 0 all scopes succeeded; 1 nothing could run (bad input) or every scope
/// failed; 2 command-line usage error; 3 some scopes failed and others succeeded.
pub mod exit {
    pub const OK: i32 = 0;
    pub const ERROR: i32 = 1;
    pub const USAGE: i32 = 2;
    pub const PARTIAL: i32 = 3;
}

#[derive(Parser, Debug)]
#[command(
    name = "mrhost",
    version,
    about = "Query AWS across every region and account at once; resource types are sandboxed WebAssembly plugins."
)]
pub struct Cli {
    /// More logging on stderr (-v info, -vv debug, -vvv trace); MRHOST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Only errors on stderr.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run a plugin in every scope and print the resources it emits.
    Run(RunArgs),
    /// Call one AWS operation in every scope: prints {region: response}.
    Call(CallArgs),
    /// Inspect plugins.
    #[command(subcommand)]
    Plugins(PluginsCommand),
    /// Print the least-privilege IAM policy for running these plugins.
    Policy(PolicyArgs),
    /// Run AWS protocol conformance vectors (botocore format) through the engine.
    #[command(hide = true)]
    Conformance {
        /// Directory with input/*.json, output/*.json and optionally ignore-list.json.
        dir: PathBuf,
        /// Also list every failing case.
        #[arg(long)]
        failures: bool,
    },
}

#[derive(Args, Debug, Clone)]
pub struct ScopeArgs {
    /// Regions, comma-separated: names, globs (eu-*), all, enabled. Default: MRHOST_REGIONS,
    /// else `regions = ...` in ~/.config/mrhost/config, else the profile's region.
    #[arg(long, short = 'r', env = "MRHOST_REGIONS")]
    pub regions: Option<String>,
    /// AWS config profiles, comma-separated: one account each (default: the default chain).
    /// With --org-role or --accounts: the one profile to start from.
    #[arg(long, value_delimiter = ',')]
    pub profile: Vec<String>,
    /// Every ACTIVE account of the AWS Organization, assuming this role in each.
    #[arg(long)]
    pub org_role: Option<String>,
    /// Only these accounts or OUs (ou-..., walked recursively), comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub org_include: Vec<String>,
    /// Not these accounts or OUs, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub org_exclude: Vec<String>,
    /// Also visit the Organization's management account.
    #[arg(long)]
    pub org_include_management: bool,
    /// These account ids, comma-separated, assuming --role in each.
    #[arg(long, value_delimiter = ',')]
    pub accounts: Vec<String>,
    /// Role to assume in each of --accounts (a name, or an ARN with {account}).
    #[arg(long)]
    pub role: Option<String>,
    /// Session name for assumed roles.
    #[arg(long, default_value = "mrhost")]
    pub role_session_name: String,
    /// External id for assumed roles.
    #[arg(long)]
    pub external_id: Option<String>,
    /// Error codes (globs) that count as warnings: the scope is skipped, not failed.
    #[arg(long, value_delimiter = ',', default_value = crate::scope::DEFAULT_IGNORED_CODES)]
    pub ignore_error_codes: Vec<String>,
    /// Send every request to this endpoint (e.g. a local moto server).
    #[arg(long)]
    pub endpoint_url: Option<String>,
    /// Scopes running at once.
    #[arg(long, default_value_t = 32)]
    pub concurrency: usize,
    /// Attempts per request, the first included (throttling and 5xx are retried).
    #[arg(long, default_value_t = 3)]
    pub max_attempts: u32,
    /// Seconds allowed for one HTTP attempt.
    #[arg(long, default_value_t = 60)]
    pub request_timeout: u64,
    /// Seconds allowed for one call, retries included.
    #[arg(long, default_value_t = 600)]
    pub call_timeout: u64,
    /// standard: retry throttling and transient errors with backoff; adaptive: also pace
    /// requests per account, region and service once a service throttles.
    #[arg(long, value_enum, default_value = "adaptive")]
    pub retry_mode: RetryMode,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum RetryMode {
    Standard,
    Adaptive,
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// The plugin component (.wasm).
    pub plugin: PathBuf,
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value = "json")]
    pub output: Format,
    /// Print {region: [resources]} instead of a flat list.
    #[arg(long)]
    pub group_by_region: bool,
    #[command(flatten)]
    pub sandbox: SandboxArgs,
}

#[derive(Args, Debug, Clone)]
pub struct SandboxArgs {
    /// Seconds one scope's collect may take (AWS calls included).
    #[arg(long, default_value_t = 300)]
    pub timeout: u64,
    /// Linear memory per plugin instance, MiB.
    #[arg(long, default_value_t = 512)]
    pub memory_limit: usize,
    /// Resources one scope may emit.
    #[arg(long, default_value_t = 10_000_000)]
    pub max_resources: u64,
    /// JSON bytes one scope may emit, MiB.
    #[arg(long, default_value_t = 2048)]
    pub max_emit_mib: u64,
    /// Log and stderr bytes one scope may write, KiB.
    #[arg(long, default_value_t = 1024)]
    pub max_log_kib: usize,
    /// Size of one params-json a plugin may send, KiB.
    #[arg(long, default_value_t = 1024)]
    pub max_params_kib: usize,
    /// Size of one response handed to a plugin, MiB.
    #[arg(long, default_value_t = 256)]
    pub max_response_mib: usize,
    /// AWS calls (pages included) one scope may make.
    #[arg(long, default_value_t = 1_000_000)]
    pub max_calls: u64,
    /// Refuse the plugin unless its sha256 is this.
    #[arg(long)]
    pub plugin_sha256: Option<String>,
    /// Allow a non-read operation the plugin declares (service:Operation; repeatable).
    #[arg(long)]
    pub allow_write: Vec<String>,
    /// Compile the plugin afresh instead of using the compiled-artifact cache.
    #[arg(long)]
    pub no_compile_cache: bool,
}

impl SandboxArgs {
    fn limits(&self) -> Limits {
        Limits {
            timeout: Duration::from_secs(self.timeout.max(1)),
            memory: self.memory_limit.max(1) << 20,
            max_resources: self.max_resources,
            max_emitted_bytes: self.max_emit_mib << 20,
            max_log_bytes: self.max_log_kib << 10,
            max_params_bytes: self.max_params_kib << 10,
            max_response_bytes: self.max_response_mib << 20,
            max_calls: self.max_calls,
            ..Limits::default()
        }
    }

    fn runtime(&self) -> Result<PluginRuntime> {
        let dir = (!self.no_compile_cache).then(cache::default_cache_root);
        Ok(PluginRuntime::new(self.limits(), dir)?)
    }
}

#[derive(Args, Debug)]
pub struct CallArgs {
    /// Service (botocore name: ec2, s3, iam, logs, elbv2, ...).
    pub service: String,
    /// Operation (DescribeVpcs, describe_vpcs or describe-vpcs).
    pub operation: String,
    /// boto3-style parameters as a JSON object.
    #[arg(long, default_value = "{}")]
    pub params: String,
    /// One page only (default: all pages merged as the AWS CLI merges them).
    #[arg(long)]
    pub no_paginate: bool,
    #[command(flatten)]
    pub scope: ScopeArgs,
}

#[derive(Args, Debug)]
pub struct PolicyArgs {
    /// Plugin components (.wasm).
    #[arg(required = true)]
    pub plugins: Vec<PathBuf>,
    /// Add sts:AssumeRole for this role in member accounts (as --org-role / --role would).
    #[arg(long)]
    pub role: Vec<String>,
    /// Add the Organizations listing --org-role needs.
    #[arg(long)]
    pub organization: bool,
    /// Add ec2:DescribeRegions, which --regions enabled needs.
    #[arg(long)]
    pub enabled_regions: bool,
    #[command(flatten)]
    pub sandbox: SandboxArgs,
}

#[derive(Subcommand, Debug)]
pub enum PluginsCommand {
    /// Print a plugin's manifest, sha256 and producer.
    Inspect {
        plugin: PathBuf,
        #[command(flatten)]
        sandbox: SandboxArgs,
    },
}

fn client(scope: &ScopeArgs) -> Result<AwsClient> {
    let retry = crate::engine::RetryConfig {
        max_attempts: scope.max_attempts.max(1),
        attempt_timeout: Duration::from_secs(scope.request_timeout.max(1)),
        call_timeout: Duration::from_secs(scope.call_timeout.max(1)),
        adaptive: matches!(scope.retry_mode, RetryMode::Adaptive),
        ..Default::default()
    };
    Ok(AwsClient::builder()
        .endpoint_url(scope.endpoint_url.clone())
        .retry(retry)
        .build()?)
}

/// `regions = ...` from `$XDG_CONFIG_HOME/mrhost/config` (or `~/.config/mrhost/config`).
fn config_regions() -> Option<String> {
    let dir = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    let text = std::fs::read_to_string(dir.join("mrhost").join("config")).ok()?;
    text.lines().find_map(|l| {
        let (k, v) = l.split_once('=')?;
        (k.trim() == "regions").then(|| v.trim().trim_matches('"').to_string())
    })
}

/// What a run covers: accounts first (their profiles may name the default region), then
/// regions; unreachable accounts come back as skipped.
async fn targets(
    client: &AwsClient,
    scope: &ScopeArgs,
    global: bool,
) -> Result<(Vec<Target>, Vec<SkippedAccount>)> {
    let env_region = std::env::var("AWS_REGION")
        .or_else(|_| std::env::var("AWS_DEFAULT_REGION"))
        .ok();
    // Every region name and pattern is checked before any call.
    let spec = scope.regions.clone().or_else(config_regions);
    let items = spec
        .as_deref()
        .map(|s| scope::parse_regions(client, s))
        .transpose()?;
    let first_named = items.as_ref().and_then(|i| {
        i.iter().find_map(|x| match x {
            scope::RegionItem::Name(n) => Some(n.clone()),
            _ => None,
        })
    });
    let home = first_named.or(env_region.clone());
    let opts = scope::AccountOptions {
        profiles: scope.profile.clone(),
        org_role: scope.org_role.clone(),
        org_include: scope.org_include.clone(),
        org_exclude: scope.org_exclude.clone(),
        org_include_management: scope.org_include_management,
        accounts: scope.accounts.clone(),
        role: scope.role.clone(),
        session_name: scope.role_session_name.clone(),
        external_id: scope.external_id.clone(),
    };
    let (accounts, mut skipped) =
        scope::load_accounts(client, &opts, home.as_deref(), scope.concurrency).await?;
    let default = if items.is_none() {
        env_region.as_deref()
    } else {
        home.as_deref()
    };
    let targets = scope::targets(
        client,
        &accounts,
        items.as_deref(),
        default,
        global,
        &mut skipped,
    )
    .await?;
    Ok((targets, skipped))
}

/// Print skipped accounts, per-scope failures (one line each) and the summary; pick the
/// exit code. Failures whose code matches --ignore-error-codes are warnings.
fn report(
    failures: &[(String, ScopeFailure)],
    skipped: &[SkippedAccount],
    total: usize,
    what: &str,
    ignore: &[String],
) -> i32 {
    let mut failed = 0;
    let mut ignored = 0;
    for s in skipped {
        if s.failure && !scope::code_ignored(s.code.as_deref(), ignore) {
            eprintln!("mrhost: error: account {} skipped: {}", s.account, s.reason);
            failed += 1;
        } else {
            eprintln!(
                "mrhost: warning: account {} skipped: {}",
                s.account, s.reason
            );
        }
    }
    for (label, f) in failures {
        if scope::code_ignored(f.code.as_deref(), ignore) {
            eprintln!("mrhost: warning: {what} {label} skipped: {}", f.message);
            ignored += 1;
        } else {
            eprintln!("mrhost: error: {what} {label}: {}", f.message);
            failed += 1;
        }
    }
    let ok = total - failures.len();
    if failed == 0 {
        if ignored > 0 {
            eprintln!("mrhost: {ok} of {total} scopes succeeded; {ignored} skipped for ignored error codes");
        }
        exit::OK
    } else if ok == 0 {
        // Nothing succeeded.
        exit::ERROR
    } else {
        eprintln!("mrhost: {failed} failed, {ok} of {total} scopes succeeded; the successful scopes' results are complete");
        exit::PARTIAL
    }
}

pub async fn run(args: RunArgs) -> Result<i32> {
    let client = client(&args.scope)?;
    let runtime = Arc::new(args.sandbox.runtime()?);
    let plugin = runtime
        .load(
            &args.plugin,
            client.models(),
            args.sandbox.plugin_sha256.as_deref(),
            &args.sandbox.allow_write,
        )
        .await?;
    tracing::info!(
        plugin = %plugin.manifest.name,
        cached = plugin.from_cache,
        load_ms = plugin.load_time.as_millis() as u64,
        "plugin loaded"
    );
    let global = plugin.manifest.scope_kind == ScopeKind::Global;
    let (targets, skipped) = targets(&client, &args.scope, global).await?;
    let order = targets
        .iter()
        .map(|t| (t.account.id.clone(), t.region.clone()))
        .collect();
    let (tx, rx) = tokio::sync::mpsc::channel(1024);
    let sink = ResourceSink::new(
        std::io::BufWriter::new(std::io::stdout().lock()),
        args.output,
        args.group_by_region,
        order,
    );
    let total = targets.len();
    let fanout = tokio::spawn(run::run_plugin(
        runtime.clone(),
        plugin.clone(),
        client.clone(),
        targets,
        args.scope.concurrency,
        tx,
    ));
    let written = output::drain(rx, sink).await;
    let outcomes = fanout.await.context("fan-out task")?;
    match written.and_then(|s| s.finish()) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(exit::OK),
        Err(e) => bail!("writing output: {e}"),
    }
    let failures: Vec<(String, ScopeFailure)> = outcomes
        .iter()
        .filter_map(|o| o.result.as_ref().err().map(|f| (o.label(), f.clone())))
        .collect();
    Ok(report(
        &failures,
        &skipped,
        total,
        &plugin.manifest.name,
        &args.scope.ignore_error_codes,
    ))
}

pub async fn call(args: CallArgs) -> Result<i32> {
    let client = client(&args.scope)?;
    let op = client.operation(&args.service, &args.operation)?;
    let params: Value = serde_json::from_str(&args.params)
        .map_err(|e| anyhow::anyhow!("--params is not valid JSON: {e}"))?;
    // Validate once, before any scope runs.
    crate::engine::protocol::validate::validate(&op.model, op.op().input.as_ref(), &params)
        .map_err(|m| anyhow::anyhow!("invalid --params for {}: {m}", op.name))?;
    let (targets, skipped) = targets(&client, &args.scope, false).await?;
    let total = targets.len();
    let multi_account = {
        let mut ids: Vec<&str> = targets.iter().map(|t| t.account.id.as_str()).collect();
        ids.dedup();
        ids.len() > 1
    };
    let order: Vec<(String, String)> = targets
        .iter()
        .map(|t| (t.account.id.clone(), t.region.clone()))
        .collect();
    let mut results = run::run_call(
        client,
        args.service.clone(),
        op.name.clone(),
        params,
        targets,
        args.scope.concurrency,
        !args.no_paginate,
    )
    .await;
    // Print in the order asked for: {region: response}, or {account: {region: response}}.
    results.sort_by_key(|(t, _)| {
        order
            .iter()
            .position(|o| o.0 == t.account.id && o.1 == t.region)
    });
    let mut out = serde_json::Map::new();
    let mut failures = Vec::new();
    for (t, r) in results {
        match r {
            Ok(v) => {
                if multi_account {
                    out.entry(t.account.id.clone())
                        .or_insert_with(|| Value::Object(Default::default()))
                        .as_object_mut()
                        .unwrap()
                        .insert(t.region.clone(), v);
                } else {
                    out.insert(t.region.clone(), v);
                }
            }
            Err(f) => failures.push((t.label(), f)),
        }
    }
    let mut stdout = std::io::stdout().lock();
    match output::write_pretty(&mut stdout, &out).and_then(|_| stdout.flush()) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(exit::OK),
        Err(e) => bail!("writing output: {e}"),
    }
    Ok(report(
        &failures,
        &skipped,
        total,
        &format!("{} {}", args.service, op.name),
        &args.scope.ignore_error_codes,
    ))
}

pub async fn plugins(cmd: PluginsCommand) -> Result<i32> {
    match cmd {
        PluginsCommand::Inspect { plugin, sandbox } => {
            let models = crate::engine::Models::from_env()?;
            let runtime = sandbox.runtime()?;
            let p = runtime
                .load(
                    &plugin,
                    &models,
                    sandbox.plugin_sha256.as_deref(),
                    &sandbox.allow_write,
                )
                .await?;
            let producers: serde_json::Map<String, Value> =
                p.producers
                    .iter()
                    .fold(serde_json::Map::new(), |mut m, (k, v)| {
                        let e = m.entry(k.clone()).or_insert_with(|| Value::Array(vec![]));
                        e.as_array_mut().unwrap().push(Value::String(v.clone()));
                        m
                    });
            let info = serde_json::json!({
                "path": p.path.display().to_string(),
                "sha256": p.sha256,
                "manifest": p.manifest,
                "producers": producers,
                "contract": format!("mrhost:plugin@{}", crate::plugin::SERVED_VERSIONS.join(",")),
            });
            output::write_pretty(&mut std::io::stdout().lock(), &info)?;
            Ok(exit::OK)
        }
    }
}

pub async fn policy(args: PolicyArgs) -> Result<i32> {
    let models = crate::engine::Models::from_env()?;
    let runtime = args.sandbox.runtime()?;
    let mut actions = Vec::new();
    for path in &args.plugins {
        let p = runtime
            .load(path, &models, None, &args.sandbox.allow_write)
            .await?;
        for op in &p.manifest.operations {
            let (service, operation) = op.split_once(':').unwrap_or((op, ""));
            actions.push(crate::plugin::policy::iam_action(
                &*models.service(service)?,
                operation,
            ));
        }
    }
    let needs = crate::plugin::policy::RunNeeds {
        assume_roles: args.role.clone(),
        list_organization: args.organization,
        describe_regions: args.enabled_regions,
    };
    output::write_pretty(
        &mut std::io::stdout().lock(),
        &crate::plugin::policy::iam_policy(actions, &needs),
    )?;
    Ok(exit::OK)
}

pub async fn dispatch(cli: Cli) -> Result<i32> {
    match cli.command {
        Command::Run(a) => run(a).await,
        Command::Call(a) => call(a).await,
        Command::Plugins(c) => plugins(c).await,
        Command::Policy(a) => policy(a).await,
        Command::Conformance { dir, failures } => {
            let results =
                crate::engine::conformance::run_dir(&dir).map_err(|e| anyhow::anyhow!(e))?;
            for line in crate::engine::conformance::summary(&results) {
                println!("{line}");
            }
            let failed: Vec<_> = results
                .iter()
                .filter(|r| matches!(r.outcome, crate::engine::conformance::Outcome::Fail(_)))
                .collect();
            if failures {
                for r in &failed {
                    if let crate::engine::conformance::Outcome::Fail(why) = &r.outcome {
                        println!("FAIL {} {} {}: {why}", r.protocol, r.kind, r.id);
                    }
                }
            }
            Ok(if failed.is_empty() {
                exit::OK
            } else {
                exit::ERROR
            })
        }
    }
}
