//! `mrhost policy`: the least-privilege IAM policy for running plugins and model types.

use anyhow::Result;
use aws_engine::catalogue;
use plugin_host::policy;

use crate::cli::args::PolicyArgs;
use crate::cli::{exit, setup};
use crate::render;

/// The least-privilege IAM policy for the plugins and model types named.
pub async fn policy(args: PolicyArgs) -> Result<i32> {
    let models = aws_engine::Models::from_env()?;
    let runtime = setup::runtime(&args.sandbox)?;
    let mut actions = Vec::new();
    for path in &args.plugins {
        let text = path.to_string_lossy();
        if !path.exists() && !text.ends_with(".wasm") {
            if let Some((service, resource)) = text.split_once(':') {
                let t =
                    catalogue::find(&models, service, resource).map_err(|e| anyhow::anyhow!(e))?;
                actions.push(policy::iam_action(
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
            actions.push(policy::iam_action(&*models.service(service)?, operation));
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
    Ok(exit::OK)
}
