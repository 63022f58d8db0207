//! `mrhost list SERVICE RESOURCE`: a model-derived type (every paginated read operation)
//! in every scope, no plugin needed; `--available` prints the catalogue.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Result};
use aws_engine::catalogue::{self, ModelType};
use aws_engine::{Access, OpClass};
use serde_json::Value;

use crate::cli::args::ListArgs;
use crate::cli::execute::{Execution, Shape};
use crate::cli::{exit, setup, Ctx};
use crate::pipeline::Source;
use crate::plan::PendingPlan;
use crate::render;

/// A plugin for a model type on the search path (or in `--plugins`), by the naming
/// convention of plugins/: `<service>-<resource>.wasm`, or `<resource>.wasm` for ec2.
fn bundled_plugin_for(dirs: &[PathBuf], t: &ModelType) -> Result<Option<PathBuf>> {
    let mut names = vec![crate::sql::table_name(&format!(
        "{}-{}",
        t.service, t.resource
    ))];
    if t.service == "ec2" {
        names.push(crate::sql::table_name(&t.resource));
    }
    let files = crate::cli::plugin_path::plugin_files(dirs)?;
    Ok(names
        .iter()
        .find_map(|n| files.iter().find(|(t, _)| t == n).map(|(_, p)| p.clone())))
}

/// The catalogue (`--available`), or one type in every scope.
pub async fn list(ctx: Ctx, args: ListArgs) -> Result<i32> {
    let models = aws_engine::Models::from_env()?;
    if args.available {
        let types = catalogue::catalogue(&models, args.service.as_deref())?;
        let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
        match args.out.output.clone() {
            None => {
                for t in &types {
                    writeln!(stdout, "{}", t.line())?;
                }
            }
            Some(f) => {
                let doc = Value::Array(types.iter().map(|t| t.to_json()).collect());
                render::render(&mut stdout, &doc, &f, &args.out.columns)?;
            }
        }
        stdout.flush()?;
        return Ok(exit::OK);
    }
    let (Some(service), Some(resource)) = (args.service.as_deref(), args.resource.as_deref())
    else {
        bail!("name a resource type (mrhost list SERVICE RESOURCE), or list them with mrhost list --available [SERVICE]");
    };
    let ty = catalogue::find(&models, service, resource)?;
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
    let client = setup::client_with(
        &args.scope,
        &args.sandbox.allow,
        setup::mib_bytes(args.sandbox.max_response_mib),
    )?;
    setup::compile_query(&args.out)?;
    let op = client.operation(&ty.service, &ty.operation)?;
    op.validate(&params)?;
    crate::cli::execute::check_output(&args.out, &crate::sql::model_table(&ty))?;
    let full = format!("{}:{}", op.model.name, op.name);
    // The same decision as for plugins: anything but a read needs --allow, and --yes (or a
    // yes on the terminal) once the scopes are known.
    let confirm = match client.grants().decide(&op.model.name, &op.name) {
        Access::Deny(reason) => {
            eprintln!("mrhost: error: {reason}");
            return Ok(exit::USAGE);
        }
        Access::Allow(OpClass::Read) | Access::Redact => None,
        // A write fanned out over every scope is the most dangerous thing mrhost can do:
        // it is shown and confirmed. Allowed reads of data, secrets or billed operations
        // need only their --allow.
        Access::Allow(OpClass::Write) => Some(OpClass::Write),
        Access::Allow(_) => None,
    };
    let request = setup::scope_request(&client, &args.scope)?;
    let enabled = setup::lists_enabled_regions(&request);
    let execution = Execution {
        ctx,
        client: &client,
        concurrency: args.scope.concurrency,
        ignore_error_codes: &args.scope.ignore_error_codes,
        out: &args.out,
        group_by_region: args.group_by_region,
        options: crate::pipeline::Options {
            raw: args.raw,
            limits: Some(setup::scope_limits(
                args.sandbox.max_calls,
                args.sandbox.timeout,
            )),
            ..Default::default()
        },
    };
    let mut covered_by = None;
    if let Some(path) = bundled_plugin_for(&args.plugins, &ty)? {
        if args.plugin {
            let runtime = Arc::new(setup::runtime(&args.sandbox)?);
            let mut plan = PendingPlan::start(&client, request);
            let plugin = setup::load_plugin(&client, &runtime, &path, &args.sandbox).await?;
            let (models, operations) =
                (client.models().clone(), plugin.manifest.operations.clone());
            plan.restrict(move || setup::session_policy(&models, &operations, enabled));
            let plan = match confirmed(plan, confirm, &full, ty.global, args.yes).await? {
                Ok(plan) => plan,
                Err(code) => return Ok(code),
            };
            let shape = Shape::of_plugin(&plugin);
            return execution
                .run(Source::Plugin(runtime, plugin), shape, plan)
                .await;
        }
        // Said after the run, so an error before any call stays one line.
        covered_by = Some(path);
    } else if args.plugin {
        let dirs = if args.plugins.is_empty() {
            crate::cli::plugin_path::search_path()
        } else {
            args.plugins.clone()
        };
        let dirs: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
        bail!(
            "no plugin for {} {} in {}",
            ty.service,
            ty.resource,
            dirs.join(":")
        );
    }
    let shape = Shape {
        table: crate::sql::model_table(&ty),
        columns: catalogue::default_columns(client.models(), &ty),
        global: ty.global,
    };
    let mut plan = PendingPlan::start(&client, request);
    let models = client.models().clone();
    let operations = vec![full.clone()];
    plan.restrict(move || setup::session_policy(&models, &operations, enabled));
    let plan = match confirmed(plan, confirm, &full, ty.global, args.yes).await? {
        Ok(plan) => plan,
        Err(code) => return Ok(code),
    };
    let code = execution
        .run(Source::Model(Arc::new(ty), Arc::new(params)), shape, plan)
        .await?;
    if let (Some(path), false) = (covered_by, ctx.quiet) {
        eprintln!(
            "mrhost: note: the plugin {} covers this type; --plugin uses its output",
            path.display()
        );
    }
    Ok(code)
}

/// For an allowed write, the plan resolved and its scopes confirmed (`--yes`, or a
/// yes on the terminal); `Err(exit code)` when refused.
async fn confirmed(
    plan: PendingPlan,
    class: Option<OpClass>,
    what: &str,
    global: bool,
    yes: bool,
) -> Result<std::result::Result<PendingPlan, i32>> {
    let Some(class) = class else {
        return Ok(Ok(plan));
    };
    let plan = plan.get().await?;
    let scopes: Vec<String> = plan
        .targets(global)
        .await?
        .iter()
        .map(|t| t.label())
        .collect();
    Ok(setup::confirm_write(what, class, &scopes, yes).map(|()| PendingPlan::ready(plan)))
}
