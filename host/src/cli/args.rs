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
    /// Call one AWS operation in every scope: prints a list with one object per scope (the
    /// response's fields after RequestAccount and RequestRegion); --by-account nests them.
    Call(CallArgs),
    /// A model-derived resource type (every paginated read operation), no plugin needed.
    List(ListArgs),
    /// SQL over the resources of the plugins and types a query names (table = plugin name,
    /// or service_resource).
    Query(QueryArgs),
    /// Take every source over every account and region into an inventory (SQLite,
    /// PostgreSQL or Parquet), keeping its history.
    Sync(SyncArgs),
    /// What changed in a stored inventory between two syncs.
    Diff(DiffArgs),
    /// A stored inventory as one self-contained HTML page: counts, where the resources
    /// are, changes, failures, findings (SQL checks) and searchable tables.
    Report(ReportArgs),
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
    /// Print a shell completion script (bash, zsh, fish, ...) or the man page (man).
    Completions(CompletionsArgs),
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

/// Help headings: every command's flags grouped the same way.
pub mod heading {
    pub const SCOPE: &str = "Scope";
    pub const OUTPUT: &str = "Output";
    pub const REQUESTS: &str = "Requests";
    pub const CACHE: &str = "Cache";
    pub const SANDBOX: &str = "Sandbox";
}

/// Upper bounds of the numeric flags: clap refuses larger values in one line (exit 2)
/// before anything runs, and nothing downstream can overflow (`<< 20` of a MiB count,
/// an `Instant` plus a timeout).
pub mod bounds {
    /// 30 days, in seconds: `--timeout`.
    pub const TIMEOUT_SECS: u64 = 30 * 86_400;
    /// One day, in seconds: `--request-timeout`, `--call-timeout`.
    pub const REQUEST_SECS: u64 = 86_400;
    /// Ten years, in seconds: `--cache-ttl`.
    pub const CACHE_TTL_SECS: u64 = 10 * 365 * 86_400;
    /// 4 GiB: a 32-bit WebAssembly memory's maximum (`--memory-limit`,
    /// `--max-response-mib`: a response larger than that cannot reach a plugin).
    pub const WASM_MEMORY_MIB: u64 = 4096;
    /// 1 TiB, in MiB: `--max-emit-mib`, `--cache-max-mib`.
    pub const BIG_MIB: u64 = 1 << 20;
    /// 1 GiB, in KiB: `--max-log-kib`, `--max-params-kib`.
    pub const BIG_KIB: u64 = 1 << 20;
}

fn u64_in(range: std::ops::RangeInclusive<u64>) -> clap::builder::RangedU64ValueParser<u64> {
    clap::builder::RangedU64ValueParser::<u64>::new().range(range)
}

fn usize_in(range: std::ops::RangeInclusive<u64>) -> clap::builder::RangedU64ValueParser<usize> {
    clap::builder::RangedU64ValueParser::<usize>::new().range(range)
}

#[derive(Args, Debug, Clone)]
pub struct ScopeArgs {
    /// Regions, comma-separated: names, globs (eu-*), all, enabled. Default: MRHOST_REGIONS,
    /// else `regions = ...` in ~/.config/mrhost/config, else the profile's region.
    #[arg(long, short = 'r', env = "MRHOST_REGIONS", visible_alias = "region", help_heading = heading::SCOPE)]
    pub regions: Option<String>,
    /// AWS config profiles, comma-separated: one account each (default: the default chain).
    /// With --org-role or --accounts: the one profile to start from.
    #[arg(long, value_delimiter = ',', help_heading = heading::SCOPE)]
    pub profile: Vec<String>,
    /// Every ACTIVE account of the AWS Organization, assuming this role in each.
    #[arg(long, conflicts_with = "accounts", help_heading = heading::SCOPE)]
    pub org_role: Option<String>,
    /// Only these accounts (ids or names) or OUs (ou-..., walked recursively),
    /// comma-separated; needs --org-role. An id or name the Organization does not have is
    /// an error.
    #[arg(long, value_delimiter = ',', requires = "org_role", help_heading = heading::SCOPE)]
    pub org_include: Vec<String>,
    /// Not these accounts (ids or names) or OUs, comma-separated; needs --org-role.
    #[arg(long, value_delimiter = ',', requires = "org_role", help_heading = heading::SCOPE)]
    pub org_exclude: Vec<String>,
    /// Also visit the Organization's management account; needs --org-role.
    #[arg(long, requires = "org_role", help_heading = heading::SCOPE)]
    pub org_include_management: bool,
    /// These account ids, comma-separated, assuming --role in each. `@FILE` (`@-`: standard
    /// input) reads ids from a file: text, JSON lines, or JSON such as `aws organizations
    /// list-accounts` writes (accounts not ACTIVE are skipped) — one listing for every shard.
    #[arg(long, value_delimiter = ',', requires = "role", help_heading = heading::SCOPE)]
    pub accounts: Vec<String>,
    /// Role to assume in each of --accounts (a name, or an ARN with {account}).
    #[arg(long, requires = "accounts", help_heading = heading::SCOPE)]
    pub role: Option<String>,
    /// Session name for assumed roles.
    #[arg(long, default_value = "mrhost", help_heading = heading::SCOPE)]
    pub role_session_name: String,
    /// External id for assumed roles.
    #[arg(long, help_heading = heading::SCOPE)]
    pub external_id: Option<String>,
    /// Error codes (globs) that count as warnings: the scope is skipped, not failed.
    #[arg(long, value_delimiter = ',', default_value = crate::plan::DEFAULT_IGNORED_CODES, help_heading = heading::REQUESTS)]
    pub ignore_error_codes: Vec<String>,
    /// Send every request to this endpoint (e.g. a local moto server).
    #[arg(long, help_heading = heading::REQUESTS)]
    pub endpoint_url: Option<String>,
    /// Scopes running at once.
    #[arg(long, default_value_t = 32, value_parser = usize_in(1..=4096), help_heading = heading::REQUESTS)]
    pub concurrency: usize,
    /// Attempts per request, the first included (throttling and 5xx are retried).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=100), help_heading = heading::REQUESTS)]
    pub max_attempts: u32,
    /// Seconds allowed for one HTTP attempt.
    #[arg(long, default_value_t = 60, value_parser = u64_in(1..=bounds::REQUEST_SECS), help_heading = heading::REQUESTS)]
    pub request_timeout: u64,
    /// Seconds allowed for one call, retries included.
    #[arg(long, default_value_t = 600, value_parser = u64_in(1..=bounds::REQUEST_SECS), help_heading = heading::REQUESTS)]
    pub call_timeout: u64,
    /// standard: retry throttling and transient errors with backoff; adaptive: also pace
    /// requests per account, region and service once a service throttles.
    #[arg(long, value_enum, default_value = "adaptive", help_heading = heading::REQUESTS)]
    pub retry_mode: RetryMode,
    #[command(flatten)]
    pub cache: CacheArgs,
}

/// The default of `--cache-max-mib` (what `cache stats` reports as the bound).
pub const DEFAULT_CACHE_MAX_MIB: u64 = 512;

#[derive(Args, Debug, Clone)]
pub struct CacheArgs {
    /// Don't use the response cache.
    #[arg(long, env = "MRHOST_NO_CACHE", value_parser = clap::builder::FalseyValueParser::new(), help_heading = heading::CACHE)]
    pub no_cache: bool,
    /// Ignore cached responses, but store fresh ones.
    #[arg(long, help_heading = heading::CACHE)]
    pub refresh: bool,
    /// Seconds a cached read response stays valid, counted from when it was stored.
    #[arg(long, default_value_t = 300, value_parser = u64_in(0..=bounds::CACHE_TTL_SECS), help_heading = heading::CACHE)]
    pub cache_ttl: u64,
    /// Largest size of the response cache, MiB (the oldest entries go first).
    #[arg(long, default_value_t = DEFAULT_CACHE_MAX_MIB, value_parser = u64_in(1..=bounds::BIG_MIB), help_heading = heading::CACHE)]
    pub cache_max_mib: u64,
}

#[derive(Args, Debug, Clone)]
pub struct OutputArgs {
    /// json, ndjson, text, table, csv, yaml or sqlite:FILE (default: table on a terminal, json otherwise;
    /// call: json).
    #[arg(long, short = 'o', help_heading = heading::OUTPUT)]
    pub output: Option<Format>,
    /// JMESPath applied to the result, as the AWS CLI's --query (ndjson: to each line).
    #[arg(long, help_heading = heading::OUTPUT)]
    pub query: Option<String>,
    /// Columns for table and csv (dotted paths such as State.Name), comma-separated.
    #[arg(long, value_delimiter = ',', help_heading = heading::OUTPUT)]
    pub columns: Vec<String>,
    /// Tables: keep every cell whole instead of fitting the terminal's width.
    #[arg(long, help_heading = heading::OUTPUT)]
    pub no_truncate: bool,
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
    /// Print an object of region → list of resources instead of a flat list.
    #[arg(long, help_heading = heading::OUTPUT)]
    pub group_by_region: bool,
    /// A parameter the plugin declares, KEY=VALUE (repeatable); overrides the config
    /// file's [plugins.NAME] table.
    #[arg(long = "param", value_name = "KEY=VALUE", value_parser = parse_param)]
    pub params: Vec<String>,
    /// Items exactly as AWS returned them, besides RequestRegion/RequestAccount: no
    /// TagsMap and Name from the tag list.
    #[arg(long, help_heading = heading::OUTPUT)]
    pub raw: bool,
    #[command(flatten)]
    pub sandbox: SandboxArgs,
}

/// `--param`: KEY=VALUE with a non-empty key.
fn parse_param(s: &str) -> Result<String, String> {
    match plugin_host::params::parse_assignment(s) {
        Some(_) => Ok(s.to_string()),
        None => Err(format!("'{s}' is not KEY=VALUE")),
    }
}

#[derive(Args, Debug, Clone)]
pub struct SandboxArgs {
    /// Seconds one scope's collect may take (AWS calls included).
    #[arg(long, default_value_t = 300, value_parser = u64_in(1..=bounds::TIMEOUT_SECS), help_heading = heading::SANDBOX)]
    pub timeout: u64,
    /// Linear memory per plugin instance, MiB (at most 4096, a 32-bit memory's maximum).
    #[arg(long, default_value_t = 512, value_parser = usize_in(1..=bounds::WASM_MEMORY_MIB), help_heading = heading::SANDBOX)]
    pub memory_limit: usize,
    /// Resources one scope may emit.
    #[arg(long, default_value_t = 10_000_000, value_parser = u64_in(1..=u64::from(u32::MAX)), help_heading = heading::SANDBOX)]
    pub max_resources: u64,
    /// JSON bytes one scope may emit, MiB.
    #[arg(long, default_value_t = 2048, value_parser = u64_in(1..=bounds::BIG_MIB), help_heading = heading::SANDBOX)]
    pub max_emit_mib: u64,
    /// Log and stderr bytes one scope may write, KiB.
    #[arg(long, default_value_t = 1024, value_parser = usize_in(1..=bounds::BIG_KIB), help_heading = heading::SANDBOX)]
    pub max_log_kib: usize,
    /// Size of one params-json a plugin may send, KiB.
    #[arg(long, default_value_t = 1024, value_parser = usize_in(1..=bounds::BIG_KIB), help_heading = heading::SANDBOX)]
    pub max_params_kib: usize,
    /// Size of one AWS response, MiB: a larger answer fails its call, refused by its
    /// Content-Length or as it streams in, before parsing (also what a plugin is handed).
    #[arg(long, default_value_t = 256, value_parser = usize_in(1..=bounds::WASM_MEMORY_MIB), help_heading = heading::SANDBOX)]
    pub max_response_mib: usize,
    /// AWS calls (pages included) one scope may make.
    #[arg(long, default_value_t = 1_000_000, value_parser = u64_in(1..=u64::from(u32::MAX)), help_heading = heading::SANDBOX)]
    pub max_calls: u64,
    /// Calls one scope's plugin may have running at once (contract 0.2 call-many).
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=1024), help_heading = heading::SANDBOX)]
    pub call_concurrency: u16,
    /// Refuse the plugin unless its sha256 is this.
    #[arg(long, help_heading = heading::SANDBOX)]
    pub plugin_sha256: Option<String>,
    #[command(flatten)]
    pub allow: AllowArgs,
    /// Compile the plugin afresh instead of using the compiled-artifact cache.
    #[arg(long, help_heading = heading::SANDBOX)]
    pub no_compile_cache: bool,
}

/// What loading a plugin without running it takes (`plugins list|inspect`, `policy`):
/// the pin, the grants its manifest is checked against, the compile cache; none of the
/// run-time limits.
#[derive(Args, Debug, Clone)]
pub struct LoadArgs {
    /// Refuse the plugin unless its sha256 is this.
    #[arg(long)]
    pub plugin_sha256: Option<String>,
    /// Seconds the plugin's manifest() may take (the only plugin code loading runs).
    #[arg(long = "manifest-timeout", default_value_t = 300, value_parser = u64_in(1..=bounds::TIMEOUT_SECS))]
    pub manifest_timeout: u64,
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
    /// Print {account: {region: response}} instead of the list of scopes.
    #[arg(long, help_heading = heading::OUTPUT)]
    pub by_account: bool,
    /// Seconds one scope (an account and region, every page) may take.
    #[arg(long, default_value_t = 300, value_parser = u64_in(1..=bounds::TIMEOUT_SECS), help_heading = heading::REQUESTS)]
    pub timeout: u64,
    /// AWS calls (pages) one scope may make.
    #[arg(long, default_value_t = 1_000_000, value_parser = u64_in(1..=u64::from(u32::MAX)), help_heading = heading::REQUESTS)]
    pub max_calls: u64,
    /// Size of one AWS response, MiB: a larger answer fails its scope, refused by its
    /// Content-Length or as it streams in, before parsing.
    #[arg(long, default_value_t = 256, value_parser = usize_in(1..=bounds::WASM_MEMORY_MIB), help_heading = heading::REQUESTS)]
    pub max_response_mib: usize,
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
    /// Directories of plugins (.wasm) the tables come from (default: the plugin search
    /// path: MRHOST_PLUGIN_PATH, the config's plugin_path, ~/.local/share/mrhost/plugins,
    /// the bundled set beside the binary).
    #[arg(long, value_delimiter = ',')]
    pub plugins: Vec<PathBuf>,
    #[command(flatten)]
    pub scope: ScopeArgs,
    #[command(flatten)]
    pub out: OutputArgs,
    #[command(flatten)]
    pub sandbox: SandboxArgs,
    /// Query a stored inventory instead (sqlite:FILE, postgres://..., parquet:DIR): no
    /// AWS call; tables are its types as of the latest sync.
    #[arg(long, value_name = "DEST")]
    pub from: Option<String>,
    /// With -o sqlite:FILE: write the source tables too, beside the result (table
    /// `result`).
    #[arg(long)]
    pub keep_tables: bool,
    /// With --from: the estate as it was at this sync (id) or time (2026-11-30T12:00:00Z).
    #[arg(long, value_name = "SYNC|TIME", requires = "from")]
    pub at: Option<String>,
}

#[derive(Args, Debug)]
pub struct SyncArgs {
    /// Plugin files, plugin directories, or model-derived types as service:resource
    /// (ec2:route-tables). None: every bundled plugin.
    pub sources: Vec<String>,
    /// Where the inventory goes: sqlite:FILE, postgres://USER:PASSWORD@HOST:PORT/DB or
    /// parquet:DIR (default: sqlite:~/.local/share/mrhost/inventory.sqlite).
    #[arg(long, value_name = "DEST", env = "MRHOST_INVENTORY")]
    pub to: Option<String>,
    /// Continue the latest sync (or --sync-id): run only the units it has not committed.
    #[arg(long)]
    pub resume: bool,
    /// Take only shard I of N of the accounts (a stable hash of the account id); N
    /// processes with one --sync-id cover the estate once.
    #[arg(long, value_name = "I/N", requires = "sync_id", value_parser = parse_shard)]
    pub shard: Option<(u32, u32)>,
    /// The sync's id: shards of one sync share it; an existing id is continued.
    #[arg(long, value_name = "ID")]
    pub sync_id: Option<i64>,
    /// Keep the history of the last N syncs only.
    #[arg(long, value_name = "N")]
    pub keep: Option<u32>,
    /// Keep the history of the last D days only.
    #[arg(long, value_name = "D")]
    pub keep_days: Option<u32>,
    #[command(flatten)]
    pub scope: ScopeArgs,
    #[command(flatten)]
    pub sandbox: SandboxArgs,
}

fn parse_shard(s: &str) -> Result<(u32, u32), String> {
    super::commands::sync::parse_shard(s).map_err(|e| e.to_string())
}

#[derive(Args, Debug)]
pub struct DiffArgs {
    /// The older sync (id) or time; default: the sync before --to.
    #[arg(long, value_name = "SYNC|TIME")]
    pub from: Option<String>,
    /// The newer sync (id) or time; default: the latest.
    #[arg(long, value_name = "SYNC|TIME")]
    pub to: Option<String>,
    /// Only this type (table name or plugin name).
    #[arg(long = "type", value_name = "T")]
    pub kind: Option<String>,
    /// The inventory (default: sqlite:~/.local/share/mrhost/inventory.sqlite).
    #[arg(long, value_name = "DEST", env = "MRHOST_INVENTORY")]
    pub inventory: Option<String>,
    /// json, ndjson or table (default: table on a terminal, json otherwise).
    #[arg(long, short = 'o')]
    pub output: Option<Format>,
}

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// The inventory: sqlite:FILE, postgres://... or parquet:DIR (default:
    /// sqlite:~/.local/share/mrhost/inventory.sqlite).
    #[arg(long, value_name = "DEST", env = "MRHOST_INVENTORY")]
    pub from: Option<String>,
    /// The sync shown (id) or time (2026-11-30T12:00:00Z); default: the latest.
    #[arg(long, value_name = "SYNC|TIME")]
    pub at: Option<String>,
    /// Also list what changed, field by field, since this sync (id) or time.
    #[arg(long, value_name = "SYNC|TIME")]
    pub since: Option<String>,
    /// A directory of your own checks (*.sql, see host/assets/checks); a check with a
    /// bundled check's id replaces it.
    #[arg(long, value_name = "DIR")]
    pub checks: Option<PathBuf>,
    /// Rows per type kept in the page (the rest are counted, with the query to get them).
    #[arg(long, value_name = "N", default_value_t = 3000)]
    pub max_rows: usize,
    /// The HTML file to write.
    #[arg(long, short = 'o', value_name = "FILE", default_value = "report.html")]
    pub output: PathBuf,
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
    /// Items exactly as AWS returned them, besides RequestRegion/RequestAccount: no
    /// TagsMap and Name from the tag list.
    #[arg(long, help_heading = heading::OUTPUT)]
    pub raw: bool,
    /// Where plugins are looked for (default: the plugin search path).
    #[arg(long, value_delimiter = ',')]
    pub plugins: Vec<PathBuf>,
    /// Print an object of region → list of resources instead of a flat list.
    #[arg(long, help_heading = heading::OUTPUT)]
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
    pub sandbox: LoadArgs,
}

#[derive(Subcommand, Debug)]
pub enum PluginsCommand {
    /// Print a plugin's manifest, sha256 and producer.
    Inspect {
        /// A plugin file, or a plugin's name on the search path.
        plugin: PathBuf,
        #[command(flatten)]
        sandbox: LoadArgs,
    },
    /// The plugins on the search path (or in DIR): name, resource type, scope kind,
    /// version, path. A DIR that does not exist is an error.
    List {
        /// A directory of plugins (default: the search path; `mrhost plugins path`).
        dir: Option<PathBuf>,
        #[command(flatten)]
        out: OutputArgs,
        #[command(flatten)]
        allow: AllowArgs,
        /// Compile the plugins afresh instead of using the compiled-artifact cache.
        #[arg(long)]
        no_compile_cache: bool,
    },
    /// Copy a plugin (a file or an https:// URL) into ~/.local/share/mrhost/plugins, after
    /// checking its sha256 and that it loads.
    Install {
        /// The plugin: a .wasm file or an https:// URL.
        source: String,
        /// The plugin's expected sha256 (hex); required for a URL.
        #[arg(long, value_name = "HEX")]
        sha256: Option<String>,
        /// Replace an installed plugin of the same name.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        sandbox: LoadArgs,
    },
    /// The plugin search path, one directory a line, in the order tables are looked up.
    Path,
}

#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// bash, zsh, fish, elvish, powershell, or man (the man page, roff).
    #[arg(value_parser = ["bash", "zsh", "fish", "elvish", "powershell", "man"])]
    pub shell: String,
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
