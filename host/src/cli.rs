//! The command line: clap definitions and each command's body. Errors become one line on
//! stderr and an exit code (see [`ExitCode`]).

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use serde_json::Value;

use crate::engine::cache::{CacheMode, ResponseCache};
use crate::engine::AwsClient;
use crate::output::{self, Format, Query, ResourceSink};
use crate::plugin::{cache, Limits, Plugin, PluginRuntime, ScopeKind};
use crate::progress::Progress;
use crate::run::{self, Counters, ScopeFailure};
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
    /// A model-derived resource type (every paginated read operation), no plugin needed.
    List(ListArgs),
    /// SQL over the resources of the plugins and types a query names (table = plugin name,
    /// or service_resource).
    Query(QueryArgs),
    /// Inspect plugins.
    #[command(subcommand)]
    Plugins(PluginsCommand),
    /// The response cache.
    #[command(subcommand)]
    Cache(CacheCommand),
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
    #[command(flatten)]
    pub cache: CacheArgs,
}

#[derive(Args, Debug, Clone)]
pub struct CacheArgs {
    /// Don't use the response cache.
    #[arg(long, env = "MRHOST_NO_CACHE", value_parser = clap::builder::FalseyValueParser::new())]
    pub no_cache: bool,
    /// Ignore cached responses, but store fresh ones.
    #[arg(long)]
    pub refresh: bool,
    /// Seconds a cached read response stays valid, counted from when it was stored.
    #[arg(long, default_value_t = 300)]
    pub cache_ttl: u64,
    /// Largest size of the response cache, MiB (the oldest entries go first).
    #[arg(long, default_value_t = 512)]
    pub cache_max_mib: u64,
}

impl CacheArgs {
    fn open(&self) -> Option<Arc<ResponseCache>> {
        if self.no_cache {
            return None;
        }
        let mode = if self.refresh {
            CacheMode::Refresh
        } else {
            CacheMode::Normal
        };
        match ResponseCache::open(
            &ResponseCache::default_path(),
            Duration::from_secs(self.cache_ttl),
            mode,
            self.cache_max_mib << 20,
        ) {
            Ok(c) => Some(Arc::new(c)),
            Err(e) => {
                tracing::warn!("response cache disabled: {e}");
                None
            }
        }
    }
}

#[derive(Args, Debug, Clone)]
pub struct OutputArgs {
    /// json, ndjson, table, csv, yaml or sqlite:FILE (default: table on a terminal, json otherwise;
    /// call: json).
    #[arg(long, short = 'o')]
    pub output: Option<Format>,
    /// JMESPath applied to the result, as the AWS CLI's --query (ndjson: to each line).
    #[arg(long)]
    pub query: Option<String>,
    /// Columns for table and csv (dotted paths such as State.Name), comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub columns: Vec<String>,
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
    #[command(flatten)]
    pub out: OutputArgs,
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
    /// Allow an operation the read-only default refuses (a write, or a read that hands out
    /// secrets) that the plugin declares: service:Operation, repeatable.
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
    #[command(flatten)]
    pub out: OutputArgs,
}

#[derive(Args, Debug)]
pub struct QueryArgs {
    /// SQL; each plugin it names is a table (security-groups -> security_groups) with a
    /// column per top-level field, region, account and _json.
    pub sql: String,
    /// Directories of plugins (.wasm) the tables come from.
    #[arg(long, default_value = "plugins")]
    pub plugins: Vec<PathBuf>,
    #[command(flatten)]
    pub scope: ScopeArgs,
    #[command(flatten)]
    pub out: OutputArgs,
    #[command(flatten)]
    pub sandbox: SandboxArgs,
}

#[derive(Args, Debug)]
pub struct ListArgs {
    /// Service (botocore name).
    pub service: Option<String>,
    /// Resource type (route-tables, functions, roles...) or its operation name.
    pub resource: Option<String>,
    /// Print the catalogue of types (of one service when given): service, resource,
    /// operation, result key, required params.
    #[arg(long)]
    pub available: bool,
    /// Parameters for the operation (required for types that need them).
    #[arg(long)]
    pub params: Option<String>,
    /// Use the bundled plugin for this type instead (its richer output).
    #[arg(long)]
    pub plugin: bool,
    /// Where bundled plugins are looked for.
    #[arg(long, default_value = "plugins")]
    pub plugins: PathBuf,
    /// Print {region: [resources]} instead of a flat list.
    #[arg(long)]
    pub group_by_region: bool,
    #[command(flatten)]
    pub scope: ScopeArgs,
    #[command(flatten)]
    pub out: OutputArgs,
    #[command(flatten)]
    pub sandbox: SandboxArgs,
}

#[derive(Subcommand, Debug)]
pub enum CacheCommand {
    /// Entries, size and services in the response cache.
    Stats,
    /// Empty the response cache.
    Clear,
}

#[derive(Args, Debug)]
pub struct PolicyArgs {
    /// Plugin components (.wasm), or model-derived types as SERVICE:RESOURCE
    /// (ec2:route-tables).
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
    /// The plugins in a directory: name, resource type, scope kind, version.
    List {
        #[arg(default_value = "plugins")]
        dir: PathBuf,
        #[command(flatten)]
        out: OutputArgs,
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
        .cache(scope.cache.open())
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

/// The first half of what a run covers: the region spec (checked before any call) and the
/// accounts, with the unreachable ones skipped. It needs no plugin, so `run` resolves it
/// while the plugin loads.
struct Accounts {
    accounts: Vec<scope::Account>,
    skipped: Vec<SkippedAccount>,
    items: Option<Vec<scope::RegionItem>>,
    default: Option<String>,
}

/// Accounts first (their profiles may name the default region).
async fn accounts(client: &AwsClient, scope: &ScopeArgs) -> Result<Accounts> {
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
    let (accounts, skipped) =
        scope::load_accounts(client, &opts, home.as_deref(), scope.concurrency).await?;
    let default = if items.is_none() { env_region } else { home };
    Ok(Accounts {
        accounts,
        skipped,
        items,
        default,
    })
}

/// Resolving the accounts in the background: the STS round trip (or an organisation's
/// walk and role assumptions) overlaps the plugin's load. Dropping it cancels the work.
struct PendingAccounts(tokio::task::JoinHandle<Result<Accounts>>);

impl PendingAccounts {
    fn start(client: &AwsClient, scope: &ScopeArgs) -> Self {
        let (client, scope) = (client.clone(), scope.clone());
        Self(tokio::spawn(async move { accounts(&client, &scope).await }))
    }

    async fn get(mut self) -> Result<Accounts> {
        (&mut self.0)
            .await
            .map_err(|e| anyhow::anyhow!("resolving the accounts failed: {e}"))?
    }
}

impl Drop for PendingAccounts {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The second half: accounts × regions (or each account's global region).
async fn targets_of(
    client: &AwsClient,
    acc: Accounts,
    global: bool,
) -> Result<(Vec<Target>, Vec<SkippedAccount>)> {
    let Accounts {
        accounts,
        mut skipped,
        items,
        default,
    } = acc;
    let targets = scope::targets(
        client,
        &accounts,
        items.as_deref(),
        default.as_deref(),
        global,
        &mut skipped,
    )
    .await?;
    Ok((targets, skipped))
}

/// What a run covers: accounts, then regions; unreachable accounts come back as skipped.
async fn targets(
    client: &AwsClient,
    scope: &ScopeArgs,
    global: bool,
) -> Result<(Vec<Target>, Vec<SkippedAccount>)> {
    targets_of(client, accounts(client, scope).await?, global).await
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

/// Global options every command sees.
#[derive(Debug, Clone, Copy)]
pub struct Ctx {
    pub quiet: bool,
    pub verbose: u8,
}

/// Write a finished document in the chosen format; a closed pipe ends quietly.
fn print_document(doc: &Value, format: &Format, columns: &[String]) -> Result<()> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    output::render(&mut out, doc, format, columns)?;
    out.flush()?;
    Ok(())
}

fn compile_query(out: &OutputArgs) -> Result<Option<Query>> {
    out.query
        .as_deref()
        .map(Query::compile)
        .transpose()
        .map_err(|e| anyhow::anyhow!(e))
}

/// Table columns of a plugin: --columns, else the manifest's (or its id field), then where
/// each resource lives.
fn plugin_columns(plugin: &Plugin, wanted: &[String]) -> Vec<String> {
    if !wanted.is_empty() {
        return wanted.to_vec();
    }
    let m = &plugin.manifest;
    let mut cols = if m.columns.is_empty() {
        m.id_field.iter().cloned().collect()
    } else {
        m.columns.clone()
    };
    if cols.is_empty() {
        return Vec::new(); // every field
    }
    cols.extend(["RequestRegion".to_string(), "RequestAccount".to_string()]);
    cols
}

/// Everything one plugin emitted over the targets: the sink (streamed already, or holding
/// the document) and how each scope ended.
struct PluginRun<W: Write> {
    sink: ResourceSink<W>,
    outcomes: Vec<run::ScopeOutcome>,
}

async fn fan_out<W: Write>(
    client: &AwsClient,
    source: run::Source,
    targets: Vec<Target>,
    concurrency: usize,
    sink: ResourceSink<W>,
    counters: &Arc<Counters>,
) -> Result<PluginRun<W>> {
    let (tx, mut rx) = tokio::sync::mpsc::channel(1024);
    let fanout = tokio::spawn(run::run_source(
        source,
        client.clone(),
        targets,
        concurrency,
        tx,
        counters.clone(),
    ));
    let mut sink = sink;
    let mut write_error = None;
    while let Some(e) = rx.recv().await {
        counters
            .resources
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if write_error.is_none() {
            if let Err(err) = sink.push(e) {
                write_error = Some(err);
            }
        }
        if rx.is_empty() && write_error.is_none() {
            if let Err(err) = sink.flush() {
                write_error = Some(err);
            }
        }
    }
    let outcomes = fanout.await.context("fan-out task")?;
    if let Some(e) = write_error {
        return Err(e.into());
    }
    Ok(PluginRun { sink, outcomes })
}

fn failures_of(outcomes: &[run::ScopeOutcome]) -> Vec<(String, ScopeFailure)> {
    outcomes
        .iter()
        .filter_map(|o| o.result.as_ref().err().map(|f| (o.label(), f.clone())))
        .collect()
}

/// How one source is shown: its table name and default columns.
struct Shape {
    table: String,
    columns: Vec<String>,
    global: bool,
}

/// The shared path of `run` and `list`: scopes, fan-out, sink, output, report.
async fn execute(
    ctx: Ctx,
    client: &AwsClient,
    source: run::Source,
    shape: Shape,
    scope: &ScopeArgs,
    accounts: PendingAccounts,
    out: &OutputArgs,
    group_by_region: bool,
) -> Result<i32> {
    let query = compile_query(out)?;
    let format = out.output.clone().unwrap_or_else(output::default_format);
    let (targets, skipped) = targets_of(client, accounts.get().await?, shape.global).await?;
    let order = targets
        .iter()
        .map(|t| (t.account.id.clone(), t.region.clone()))
        .collect();
    let total = targets.len();
    let counters = Arc::new(Counters::default());
    let progress = Progress::start(total, counters.clone(), client.clone(), ctx.quiet);
    let sink = ResourceSink::new(
        std::io::BufWriter::new(std::io::stdout().lock()),
        &format,
        group_by_region,
        query,
        order,
    );
    let name = source.name();
    let mut done = fan_out(client, source, targets, scope.concurrency, sink, &counters).await?;
    progress.finish(&counters, client, total, skipped.len(), ctx.verbose > 0);
    if let Some(doc) = done.sink.document().map_err(|e| anyhow::anyhow!(e))? {
        match &format {
            Format::Sqlite(path) => {
                let items = match doc {
                    Value::Array(items) => items,
                    other => bail!(
                        "--output sqlite needs a list of resources, got {}",
                        kind_of(&other)
                    ),
                };
                let mut db = crate::sql::Db::open(Some(path)).map_err(|e| anyhow::anyhow!(e))?;
                let n = db
                    .load(&shape.table, &items)
                    .map_err(|e| anyhow::anyhow!(e))?;
                if !ctx.quiet {
                    eprintln!(
                        "mrhost: wrote {n} rows to table {} in {}",
                        shape.table,
                        path.display()
                    );
                }
            }
            f => {
                let cols = if out.columns.is_empty() {
                    shape.columns.clone()
                } else {
                    out.columns.clone()
                };
                print_document(&doc, f, &cols)?
            }
        }
    }
    done.sink.flush()?;
    let failures = failures_of(&done.outcomes);
    Ok(report(
        &failures,
        &skipped,
        total,
        &name,
        &scope.ignore_error_codes,
    ))
}

async fn load_plugin(
    client: &AwsClient,
    runtime: &PluginRuntime,
    path: &std::path::Path,
    sandbox: &SandboxArgs,
) -> Result<Arc<Plugin>> {
    let plugin = runtime
        .load(
            path,
            client.models(),
            sandbox.plugin_sha256.as_deref(),
            &sandbox.allow_write,
        )
        .await?;
    tracing::info!(
        plugin = %plugin.manifest.name,
        cached = plugin.from_cache,
        load_ms = plugin.load_time.as_millis() as u64,
        "plugin loaded"
    );
    Ok(plugin)
}

fn plugin_shape(plugin: &Plugin) -> Shape {
    Shape {
        table: crate::sql::table_name(&plugin.manifest.name),
        columns: plugin_columns(plugin, &[]),
        global: plugin.manifest.scope_kind == ScopeKind::Global,
    }
}

pub async fn run(ctx: Ctx, args: RunArgs) -> Result<i32> {
    let client = client(&args.scope)?;
    compile_query(&args.out)?;
    let runtime = Arc::new(args.sandbox.runtime()?);
    let accounts = PendingAccounts::start(&client, &args.scope);
    let plugin = load_plugin(&client, &runtime, &args.plugin, &args.sandbox).await?;
    let shape = plugin_shape(&plugin);
    let source = run::Source::Plugin(runtime, plugin);
    execute(
        ctx,
        &client,
        source,
        shape,
        &args.scope,
        accounts,
        &args.out,
        args.group_by_region,
    )
    .await
}

/// A bundled plugin for a model type, by the naming convention of plugins/:
/// `<service>-<resource>.wasm`, or `<resource>.wasm` for ec2.
fn bundled_plugin_for(dir: &std::path::Path, t: &crate::list::ModelType) -> Option<PathBuf> {
    let mut names = vec![format!("{}-{}.wasm", t.service, t.resource)];
    if t.service == "ec2" {
        names.push(format!("{}.wasm", t.resource));
    }
    names.into_iter().map(|n| dir.join(n)).find(|p| p.exists())
}

pub async fn list(ctx: Ctx, args: ListArgs) -> Result<i32> {
    let models = crate::engine::Models::from_env()?;
    if args.available {
        let types = crate::list::catalogue(&models, args.service.as_deref())?;
        let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
        match args.out.output.clone() {
            None => {
                for t in &types {
                    writeln!(stdout, "{}", t.line())?;
                }
            }
            Some(f) => {
                let doc = Value::Array(types.iter().map(|t| t.to_json()).collect());
                output::render(&mut stdout, &doc, &f, &args.out.columns)?;
            }
        }
        stdout.flush()?;
        return Ok(exit::OK);
    }
    let (Some(service), Some(resource)) = (args.service.as_deref(), args.resource.as_deref())
    else {
        bail!("name a resource type (mrhost list SERVICE RESOURCE), or list them with mrhost list --available [SERVICE]");
    };
    let ty = crate::list::find(&models, service, resource).map_err(|e| anyhow::anyhow!(e))?;
    let params: Value = match &args.params {
        Some(p) => serde_json::from_str(p)
            .map_err(|e| anyhow::anyhow!("--params is not valid JSON: {e}"))?,
        None => serde_json::json!({}),
    };
    let missing: Vec<&str> = ty
        .required
        .iter()
        .filter(|r| params.get(r.as_str()).is_none_or(Value::is_null))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        bail!(
            "{} {} ({}) needs --params with {}",
            ty.service,
            ty.resource,
            ty.operation,
            missing.join(", ")
        );
    }
    let client = client(&args.scope)?;
    compile_query(&args.out)?;
    let op = client.operation(&ty.service, &ty.operation)?;
    crate::engine::protocol::validate::validate(&op.model, op.op().input.as_ref(), &params)
        .map_err(|m| anyhow::anyhow!("invalid --params for {}: {m}", op.name))?;
    if let Some(path) = bundled_plugin_for(&args.plugins, &ty) {
        if args.plugin {
            let runtime = Arc::new(args.sandbox.runtime()?);
            let accounts = PendingAccounts::start(&client, &args.scope);
            let plugin = load_plugin(&client, &runtime, &path, &args.sandbox).await?;
            let shape = plugin_shape(&plugin);
            let source = run::Source::Plugin(runtime, plugin);
            return execute(
                ctx,
                &client,
                source,
                shape,
                &args.scope,
                accounts,
                &args.out,
                args.group_by_region,
            )
            .await;
        }
        if !ctx.quiet {
            eprintln!(
                "mrhost: note: the bundled plugin {} covers this type; --plugin uses its output",
                path.display()
            );
        }
    } else if args.plugin {
        bail!(
            "no bundled plugin for {} {} in {}",
            ty.service,
            ty.resource,
            args.plugins.display()
        );
    }
    let shape = Shape {
        table: ty.table(),
        columns: Vec::new(),
        global: ty.global,
    };
    let source = run::Source::Model(Arc::new(ty), Arc::new(params));
    let accounts = PendingAccounts::start(&client, &args.scope);
    execute(
        ctx,
        &client,
        source,
        shape,
        &args.scope,
        accounts,
        &args.out,
        args.group_by_region,
    )
    .await
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
        _ => "a scalar",
    }
}

pub async fn call(ctx: Ctx, args: CallArgs) -> Result<i32> {
    let client = client(&args.scope)?;
    let query = compile_query(&args.out)?;
    let format = args.out.output.clone().unwrap_or(Format::Json);
    if matches!(format, Format::Sqlite(_)) {
        bail!("--output sqlite is for resources: use mrhost run or mrhost query");
    }
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
    let counters = Arc::new(Counters::default());
    let progress = Progress::start(total, counters.clone(), client.clone(), ctx.quiet);
    let mut results = run::run_call(
        client.clone(),
        args.service.clone(),
        op.name.clone(),
        params,
        targets,
        args.scope.concurrency,
        !args.no_paginate,
        counters.clone(),
    )
    .await;
    progress.finish(&counters, &client, total, skipped.len(), ctx.verbose > 0);
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
    let mut doc = Value::Object(out);
    if let Some(q) = &query {
        doc = q.apply(&doc).map_err(|e| anyhow::anyhow!(e))?;
    }
    print_document(&doc, &format, &args.out.columns)?;
    Ok(report(
        &failures,
        &skipped,
        total,
        &format!("{} {}", args.service, op.name),
        &args.scope.ignore_error_codes,
    ))
}

/// The plugins in the directories, by table name (file stem), without loading them.
fn plugin_files(dirs: &[PathBuf]) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    for dir in dirs {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "wasm") {
                if let Some(stem) = p.file_stem().and_then(|s| s.to_str()) {
                    out.push((crate::sql::table_name(stem), p.clone()));
                }
            }
        }
    }
    out.sort();
    out
}

pub async fn query(ctx: Ctx, args: QueryArgs) -> Result<i32> {
    let client = client(&args.scope)?;
    let jmes = compile_query(&args.out)?;
    let format = args
        .out
        .output
        .clone()
        .unwrap_or_else(output::default_format);
    // Tables: the plugins in --plugins, then every model-derived type (service_resource).
    let files = plugin_files(&args.plugins);
    let types = crate::list::catalogue(client.models(), None)?;
    let mut tables: Vec<(String, Option<PathBuf>, Option<crate::list::ModelType>)> = files
        .iter()
        .map(|(n, p)| (n.clone(), Some(p.clone()), None))
        .collect();
    for t in types {
        if !tables.iter().any(|(n, _, _)| *n == t.table()) {
            tables.push((t.table(), None, Some(t)));
        }
    }
    let names: Vec<String> =
        crate::sql::referenced(&args.sql, tables.iter().map(|(n, _, _)| n.as_str()))
            .into_iter()
            .map(str::to_string)
            .collect();
    if names.is_empty() {
        let available: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
        bail!(
            "the query names no table; tables here: {}, and any service_resource type (mrhost list --available)",
            if available.is_empty() { "no plugins".to_string() } else { available.join(", ") }
        );
    }
    let runtime = Arc::new(args.sandbox.runtime()?);
    let path = match &format {
        Format::Sqlite(p) => Some(p.clone()),
        _ => None,
    };
    let mut db = crate::sql::Db::open(path.as_deref()).map_err(|e| anyhow::anyhow!(e))?;
    let mut failures = Vec::new();
    let mut skipped_all = Vec::new();
    let mut total = 0;
    let counters = Arc::new(Counters::default());
    for name in &names {
        let (_, file, ty) = tables.iter().find(|(n, _, _)| n == name).unwrap();
        let (source, global) = match (file, ty) {
            (Some(file), _) => {
                let plugin = load_plugin(&client, &runtime, file, &args.sandbox).await?;
                let global = plugin.manifest.scope_kind == ScopeKind::Global;
                (run::Source::Plugin(runtime.clone(), plugin), global)
            }
            (None, Some(t)) => {
                if !t.required.is_empty() {
                    bail!(
                        "table {name} ({} {}) needs params ({}): use mrhost list with --params",
                        t.service,
                        t.operation,
                        t.required.join(", ")
                    );
                }
                (
                    run::Source::Model(Arc::new(t.clone()), Arc::new(serde_json::json!({}))),
                    t.global,
                )
            }
            _ => unreachable!(),
        };
        let label = source.name();
        let (targets, skipped) = targets(&client, &args.scope, global).await?;
        total += targets.len();
        skipped_all.extend(skipped);
        let order = targets
            .iter()
            .map(|t| (t.account.id.clone(), t.region.clone()))
            .collect();
        let progress = Progress::start(targets.len(), counters.clone(), client.clone(), ctx.quiet);
        let sink = ResourceSink::new(std::io::sink(), &Format::Json, false, None, order);
        let mut done = fan_out(
            &client,
            source,
            targets,
            args.scope.concurrency,
            sink,
            &counters,
        )
        .await?;
        progress.finish(&counters, &client, total, 0, false);
        let items = match done.sink.document().map_err(|e| anyhow::anyhow!(e))? {
            Some(Value::Array(items)) => items,
            _ => Vec::new(),
        };
        db.load(name, &items).map_err(|e| anyhow::anyhow!(e))?;
        failures.extend(
            failures_of(&done.outcomes)
                .into_iter()
                .map(|(l, f)| (format!("{label} {l}"), f)),
        );
    }
    let rows = db.query(&args.sql).map_err(|e| anyhow::anyhow!(e))?;
    match &format {
        Format::Sqlite(p) => {
            if !ctx.quiet {
                eprintln!(
                    "mrhost: wrote the tables to {} ({} rows match the query)",
                    p.display(),
                    rows.len()
                );
            }
        }
        f => {
            let mut doc = Value::Array(rows);
            if let Some(q) = &jmes {
                doc = q.apply(&doc).map_err(|e| anyhow::anyhow!(e))?;
            }
            print_document(&doc, f, &args.out.columns)?;
        }
    }
    Ok(report(
        &failures,
        &skipped_all,
        total,
        "query",
        &args.scope.ignore_error_codes,
    ))
}

pub async fn cache_cmd(cmd: CacheCommand) -> Result<i32> {
    let c = ResponseCache::open(
        &ResponseCache::default_path(),
        Duration::from_secs(300),
        CacheMode::Normal,
        u64::MAX,
    )
    .map_err(|e| anyhow::anyhow!(e))?;
    match cmd {
        CacheCommand::Stats => output::write_pretty(&mut std::io::stdout().lock(), &c.stats())?,
        CacheCommand::Clear => {
            let n = c.clear().map_err(|e| anyhow::anyhow!(e))?;
            eprintln!("mrhost: removed {n} cached responses");
        }
    }
    Ok(exit::OK)
}

pub async fn plugins(cmd: PluginsCommand) -> Result<i32> {
    match cmd {
        PluginsCommand::List { dir, out, sandbox } => {
            let models = crate::engine::Models::from_env()?;
            let runtime = sandbox.runtime()?;
            let mut rows = Vec::new();
            for (_, path) in plugin_files(std::slice::from_ref(&dir)) {
                match runtime
                    .load(&path, &models, None, &sandbox.allow_write)
                    .await
                {
                    Ok(p) => rows.push(serde_json::json!({
                        "name": p.manifest.name,
                        "resource_type": p.manifest.resource_type,
                        "scope": p.manifest.scope_kind,
                        "version": p.manifest.version,
                        "operations": p.manifest.operations.len(),
                        "path": path.display().to_string(),
                    })),
                    Err(e) => tracing::warn!("{e}"),
                }
            }
            let format = out.output.clone().unwrap_or_else(output::default_format);
            print_document(&Value::Array(rows), &format, &out.columns)?;
            Ok(exit::OK)
        }
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
        let text = path.to_string_lossy();
        if !path.exists() && !text.ends_with(".wasm") {
            if let Some((service, resource)) = text.split_once(':') {
                let t = crate::list::find(&models, service, resource)
                    .map_err(|e| anyhow::anyhow!(e))?;
                actions.push(crate::plugin::policy::iam_action(
                    &*models.service(&t.service)?,
                    &t.operation,
                ));
                continue;
            }
        }
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
    let ctx = Ctx {
        quiet: cli.quiet,
        verbose: cli.verbose,
    };
    match cli.command {
        Command::Run(a) => run(ctx, a).await,
        Command::Call(a) => call(ctx, a).await,
        Command::Query(a) => query(ctx, a).await,
        Command::List(a) => list(ctx, a).await,
        Command::Cache(c) => cache_cmd(c).await,
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
