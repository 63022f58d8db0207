//! The command line as clap parses it, and nothing else: what each command accepts. Turning
//! these into engine, plugin-host and plan settings happens once, in [`super::setup`].

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::render::Format;

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
    /// A local AWS endpoint for any client (boto3, the AWS CLI, SDKs): it holds the
    /// credentials, checks each request's signature against a local key, refuses what the
    /// operation classes do not allow, caches reads, and sends the rest on re-signed.
    Serve(ServeArgs),
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
    #[arg(long, value_delimiter = ',', default_value = crate::plan::DEFAULT_IGNORED_CODES)]
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
    #[command(flatten)]
    pub allow: AllowArgs,
    /// Compile the plugin afresh instead of using the compiled-artifact cache.
    #[arg(long)]
    pub no_compile_cache: bool,
}

/// What may run beyond `read` (docs/operation-classes.md).
#[derive(Args, Debug, Clone, Default)]
pub struct AllowArgs {
    /// Allow a class beyond read (data, secret, billed, write) or one operation
    /// (service:Operation); comma-separated, repeatable. `secret` also turns redaction off.
    #[arg(long, value_delimiter = ',')]
    pub allow: Vec<String>,
    /// Alias: alone, --allow write; with service:Operation, that operation. (Alone before
    /// a positional argument it would take that argument: write --allow write there.)
    #[arg(long, num_args = 0..=1, default_missing_value = "write")]
    pub allow_write: Vec<String>,
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
    pub allow: AllowArgs,
    /// Run an allowed write without asking for confirmation (needed in a pipe).
    #[arg(long, short = 'y')]
    pub yes: bool,
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
    /// Run an allowed write without asking for confirmation (needed in a pipe).
    #[arg(long, short = 'y')]
    pub yes: bool,
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

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port (printed).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: String,
    /// Allow a --listen address that is not loopback; the reason is printed as a warning.
    #[arg(long, value_name = "REASON")]
    pub listen_any: Option<String>,
    /// A local key NAME acting as PROFILE (from the AWS config files) or ROLE_ARN (assumed
    /// with --profile's or the default credentials); repeatable. Default: one key per
    /// identity the scope flags name (`default` when there is one).
    #[arg(long = "key", value_name = "NAME=PROFILE|ROLE_ARN")]
    pub keys: Vec<String>,
    /// Make new local key pairs for this run's keys (clients need the new lines).
    #[arg(long)]
    pub rotate_keys: bool,
    #[command(flatten)]
    pub allow: AllowArgs,
    /// Largest request body accepted, KiB.
    #[arg(long, default_value_t = 10240)]
    pub max_request_kib: usize,
    /// Largest service answer handed back, MiB.
    #[arg(long, default_value_t = 256)]
    pub max_response_mib: usize,
    /// Client connections open at once (more wait).
    #[arg(long, default_value_t = 256)]
    pub max_connections: usize,
    /// Seconds the requests in flight get to finish after Ctrl-C.
    #[arg(long, default_value_t = 30)]
    pub drain_timeout: u64,
    #[command(flatten)]
    pub scope: ScopeArgs,
}
