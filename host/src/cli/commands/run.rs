//! `mrhost run PLUGIN`: a plugin in every scope.

use std::sync::Arc;

use anyhow::Result;

use crate::cli::args::RunArgs;
use crate::cli::execute::{Execution, Shape};
use crate::cli::{setup, Ctx};
use crate::pipeline::{Options, Source};
use crate::plan::PendingPlan;

/// Run the plugin over the plan. The plugin is loaded and its parameters (`--param`, the
/// config file's `[plugins.NAME]` table) checked against its manifest first, so an
/// unknown, mistyped or missing required parameter fails before any call — the account
/// lookups included; roles are assumed afterwards with a session policy of the plugin's
/// declared operations.
pub async fn run(ctx: Ctx, args: RunArgs) -> Result<i32> {
    let client = setup::client_with(
        &args.scope,
        &args.sandbox.allow,
        setup::mib_bytes(args.sandbox.max_response_mib),
    )?;
    setup::compile_query(&args.out)?;
    let runtime = Arc::new(setup::runtime(&args.sandbox)?);
    // The plugin's models decode on another core while the scope resolves (its regions
    // wait for the endpoint data): both were in front of the first call, one after the
    // other.
    if let Ok(path) = crate::cli::plugin_path::resolve(&args.plugin) {
        runtime.prefetch_models(&path, client.models());
    }
    let request = setup::scope_request(&client, &args.scope)?;
    let enabled = setup::lists_enabled_regions(&request);
    let plugin =
        setup::load_plugin_with(&client, &runtime, &args.plugin, &args.sandbox, &args.params)
            .await?;
    crate::cli::execute::check_output(&args.out, &Shape::of_plugin(&plugin).table)?;
    let mut plan = PendingPlan::start(&client, request);
    let (models, operations) = (client.models().clone(), plugin.manifest.operations.clone());
    plan.restrict(move || setup::session_policy(&models, &operations, enabled));
    let shape = Shape::of_plugin(&plugin);
    Execution {
        ctx,
        client: &client,
        concurrency: args.scope.concurrency,
        ignore_error_codes: &args.scope.ignore_error_codes,
        out: &args.out,
        group_by_region: args.group_by_region,
        options: Options {
            raw: args.raw,
            ..Options::default()
        },
    }
    .run(Source::Plugin(runtime, plugin), shape, plan)
    .await
}
