//! `mrhost policy`: the least-privilege IAM policy for running plugins and model types.

use anyhow::Result;
use aws_engine::catalogue;
use plugin_host::policy;

use crate::cli::args::PolicyArgs;
use crate::cli::{exit, setup, Ctx};
use crate::render;

/// The least-privilege IAM policy for the plugins and model types named (stdout), and the
/// class of each operation behind it (stderr, one line each, unless `-q`).
pub async fn policy(ctx: Ctx, args: PolicyArgs) -> Result<i32> {
    let models = aws_engine::Models::from_env()?;
    let grants = setup::grants(&models, &args.sandbox.allow)?.items();
    let runtime = setup::runtime(&args.sandbox)?;
    let mut actions = Vec::new();
    let mut classes: Vec<String> = Vec::new();
    for path in &args.plugins {
        let text = path.to_string_lossy();
        if !path.exists() && !text.ends_with(".wasm") {
            if let Some((service, resource)) = text.split_once(':') {
                let t = catalogue::find(&models, service, resource)?;
                actions.push(policy::iam_action(
                    &*models.service(&t.service)?,
                    &t.operation,
                ));
                classes.push(format!("{}:{}", t.service, t.operation));
                continue;
            }
        }
        let p = runtime.load(path, &models, None, &grants).await?;
        for op in &p.manifest.operations {
            let (service, operation) = op.split_once(':').unwrap_or((op, ""));
            actions.push(policy::iam_action(&*models.service(service)?, operation));
            classes.push(op.clone());
        }
    }
    let needs = policy::RunNeeds {
        assume_roles: args.role.clone(),
        list_organization: args.organization,
        describe_regions: args.enabled_regions,
    };
    render::write_pretty(
        &mut std::io::stdout().lock(),
        &policy::iam_policy(actions, &needs),
    )?;
    if !ctx.quiet {
        classes.dedup();
        for op in classes {
            eprintln!("mrhost: class: {op} {}", policy::class_label(&op));
        }
    }
    Ok(exit::OK)
}
