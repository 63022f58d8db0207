//! `mrhost run PLUGIN`: a plugin in every scope.

use std::sync::Arc;

use anyhow::Result;

use crate::cli::args::RunArgs;
use crate::cli::execute::{Execution, Shape};
use crate::cli::{setup, Ctx};
use crate::pipeline::{Options, Source};
use crate::plan::PendingPlan;

/// Run the plugin over the plan. The accounts resolve while the plugin loads — unless
/// parameters are given (`--param`, or `[plugins.*]` tables in the config file): then
/// they are checked against the plugin's manifest first, so a wrong one fails before any
/// call.
pub async fn run(ctx: Ctx, args: RunArgs) -> Result<i32> {
    let client = setup::client(&args.scope)?;
    setup::compile_query(&args.out)?;
    let request = setup::scope_request(&client, &args.scope)?;
    let runtime = Arc::new(setup::runtime(&args.sandbox)?);
    let check_first = !args.params.is_empty() || setup::config_has_plugin_tables();
    let mut plan = (!check_first).then(|| PendingPlan::start(&client, request.clone()));
    let plugin =
        setup::load_plugin_with(&client, &runtime, &args.plugin, &args.sandbox, &args.params)
            .await?;
    let plan = plan
        .take()
        .unwrap_or_else(|| PendingPlan::start(&client, request));
    let shape = Shape::of_plugin(&plugin);
    Execution {
        ctx,
        client: &client,
        concurrency: args.scope.concurrency,
        ignore_error_codes: &args.scope.ignore_error_codes,
        out: &args.out,
        group_by_region: args.group_by_region,
        options: Options { raw: args.raw },
    }
    .run(Source::Plugin(runtime, plugin), shape, plan)
    .await
}
