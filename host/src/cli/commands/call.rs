//! `mrhost call SERVICE OPERATION`: one operation of any service in every scope,
//! boto3-shaped, pages merged as the AWS CLI merges them.
//!
//! The output has one shape whatever the number of accounts and regions: a list with one
//! object per scope that succeeded, in the order the scopes were asked for, each the
//! response's fields with `RequestAccount` and `RequestRegion` first (as `run` and `list`
//! label resources):
//!
//! ```text
//! [{"RequestAccount": "123456789012", "RequestRegion": "eu-west-1", "Vpcs": [...]}, ...]
//! ```
//!
//! `--by-account` prints `{account: {region: response}}` instead. Global services (iam,
//! organizations, route53, cloudfront, ...) and account-wide operations (s3 ListBuckets)
//! run once per account, in the partition's global region.

use std::sync::Arc;

use anyhow::{bail, Result};
use aws_engine::{Access, OpClass};
use serde_json::Value;

use crate::cli::args::CallArgs;
use crate::cli::report::report;
use crate::cli::{print_document, setup, Ctx};
use crate::pipeline::{fanout, Counters};
use crate::plan::ScopePlan;
use crate::progress::Progress;
use crate::render::Format;

/// Call the operation in every scope and print the list of scopes' responses (or
/// `--by-account`'s nested object). Anything but a read needs `--allow` and a
/// confirmation (`--yes`).
pub async fn call(ctx: Ctx, args: CallArgs) -> Result<i32> {
    let client = setup::client_with(
        &args.scope,
        &args.allow,
        setup::mib_bytes(args.max_response_mib),
    )?;
    let query = setup::compile_query(&args.out)?;
    let format = args.out.output.clone().unwrap_or(Format::Json);
    if matches!(format, Format::Sqlite(_)) {
        bail!("--output sqlite is for resources: use mrhost run or mrhost query");
    }
    let op = client.operation(&args.service, &args.operation)?;
    let params: Value = match serde_json::from_str(&args.params) {
        Ok(p) => p,
        Err(e) => return crate::cli::usage(format!("--params is not valid JSON: {e}")),
    };
    // Validate once, before any scope runs.
    op.validate(&params)?;
    let full = format!("{}:{}", op.model.name, op.name);
    let confirm = match client.grants().decide(&op.model.name, &op.name) {
        Access::Deny(reason) => {
            eprintln!("mrhost: error: {reason}");
            return Ok(crate::cli::exit::USAGE);
        }
        Access::Allow(OpClass::Read) => None,
        // A write fanned out over every scope is the most dangerous thing mrhost can do:
        // it is shown and confirmed. Allowed reads of data, secrets or billed operations
        // need only their --allow.
        Access::Allow(OpClass::Write) => Some(OpClass::Write),
        Access::Allow(_) => None,
        Access::Redact => {
            if !ctx.quiet {
                eprintln!("mrhost: note: {full} returns secrets: their values are <redacted> (--allow secret shows them)");
            }
            None
        }
    };
    let request = setup::scope_request(&client, &args.scope)?;
    let enabled = setup::lists_enabled_regions(&request);
    let plan = ScopePlan::resolve(&client, &request).await?;
    if plan.assumes_roles() {
        plan.restrict(setup::session_policy(
            client.models(),
            std::slice::from_ref(&full),
            enabled,
        ));
    }
    let global = aws_engine::catalogue::once_per_account(client.models(), &op.model, &op.name);
    let targets = plan.targets(global).await?;
    if let Some(class) = confirm {
        let scopes: Vec<String> = targets.iter().map(|t| t.label()).collect();
        if let Err(code) = setup::confirm_write(&full, class, &scopes, args.yes) {
            return Ok(code);
        }
    }
    let skipped = plan.skipped();
    let total = targets.len();
    let order: Vec<(String, String)> = targets
        .iter()
        .map(|t| (t.account.id.clone(), t.region.clone()))
        .collect();
    let counters = Arc::new(Counters::default());
    let progress = Progress::start(total, counters.clone(), client.clone(), ctx.quiet);
    let mut results = fanout::run_call(
        client.clone(),
        op.clone(),
        params,
        targets,
        args.scope.concurrency,
        !args.no_paginate,
        setup::scope_limits(args.max_calls, args.timeout),
        counters.clone(),
    )
    .await;
    progress.finish(&counters, &client, total, skipped.len(), ctx.verbose > 0);
    // Print in the order asked for: the list of scopes, or {account: {region: response}}.
    results.sort_by_key(|(t, _)| {
        order
            .iter()
            .position(|o| o.0 == t.account.id && o.1 == t.region)
    });
    let mut list = Vec::new();
    let mut nested = serde_json::Map::new();
    let mut failures = Vec::new();
    for (t, r) in results {
        match r {
            Ok(v) if args.by_account => {
                if let Value::Object(per_account) = nested
                    .entry(t.account.id.clone())
                    .or_insert_with(|| Value::Object(Default::default()))
                {
                    per_account.insert(t.region.clone(), v);
                }
            }
            Ok(v) => list.push(labelled(&t.account.id, &t.region, v)),
            Err(f) => failures.push((t.label(), f)),
        }
    }
    let mut doc = if args.by_account {
        Value::Object(nested)
    } else {
        Value::Array(list)
    };
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

/// One scope's response as an item of the list: `RequestAccount` and `RequestRegion`
/// first, then the response's own fields (a response that is not an object, which no
/// AWS model has, goes under `Response`).
fn labelled(account: &str, region: &str, response: Value) -> Value {
    let mut m = serde_json::Map::new();
    m.insert("RequestAccount".into(), Value::String(account.to_string()));
    m.insert("RequestRegion".into(), Value::String(region.to_string()));
    match response {
        Value::Object(fields) => m.extend(fields),
        other => {
            m.insert("Response".into(), other);
        }
    }
    Value::Object(m)
}
