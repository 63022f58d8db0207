//! Test plugin for contract 0.2.0: what its `mode` parameter says.
//!
//! - `vpcs`: every VPC, each described again by its own DescribeVpcs call, the calls
//!   running at once (`enrich`); emits each VPC with `Described: true`.
//! - `many`: `count` DescribeVpcs calls at once, every `deny_every`-th one an undeclared
//!   DescribeSubnets instead; emits one `{Index, Ok, Error}` per result in completion order.
//! - `fail`: asks for a VPC that does not exist; `?` ends the scope with the typed error.
//! - `account`: one DescribeVpcs, then the account (resolved on demand); emits it.
//! - `params`: emits the parameters as the plugin received them.
//! - `nested`: `count` calls at once; for each result, as it comes, two more calls at once
//!   (a batch inside a batch); emits one item per outer result.

use mrhost_plugin_sdk::prelude::*;
use mrhost_plugin_sdk::ParamValue;

struct ContractV2;

impl Plugin for ContractV2 {
    fn manifest() -> PluginManifest {
        manifest("contract-v2", "ec2:vpc")
            .describe(
                "Exercises contract 0.2: concurrent calls, typed errors, parameters, the account",
            )
            .operation("ec2:DescribeVpcs")
            .model_shape("ec2:Vpc")
            .id_field("VpcId")
            .columns(&["VpcId", "Described"])
            .column(
                "Described",
                ValueKind::Bool,
                "described again by its own call",
            )
            .reference("DhcpOptionsId", "ec2:dhcp-options", ReferenceBy::Id)
            .param(
                "mode",
                ValueKind::String,
                true,
                "vpcs, many, nested, fail, account or params",
            )
            .param("count", ValueKind::Int, false, "calls for mode=many")
            .param(
                "deny_every",
                ValueKind::Int,
                false,
                "every Nth call of mode=many is undeclared",
            )
            .param("flag", ValueKind::Bool, false, "echoed by mode=params")
            .param("ratio", ValueKind::Float, false, "echoed by mode=params")
            .param(
                "since",
                ValueKind::Timestamp,
                false,
                "echoed by mode=params",
            )
            .param("filter", ValueKind::Json, false, "echoed by mode=params")
            .build()
    }

    fn collect(scope: Scope) -> Result<(), Error> {
        match scope.param_str("mode").unwrap_or_default() {
            "vpcs" => {
                let vpcs = items("ec2", "DescribeVpcs", json!({}), "Vpcs")
                    .collect::<Result<Vec<_>, _>>()?;
                for (mut vpc, again) in enrich(vpcs, |v| {
                    request("ec2", "DescribeVpcs", json!({"VpcIds": [v["VpcId"]]}))
                }) {
                    let again = again?;
                    if again["Vpcs"][0]["VpcId"] != vpc["VpcId"] {
                        return Err("a described VPC came back for the wrong item".into());
                    }
                    vpc["Described"] = json!(true);
                    emit(&vpc);
                }
            }
            "many" => {
                let count = scope.param_int("count").unwrap_or(10).max(0) as usize;
                let deny_every = scope.param_int("deny_every").unwrap_or(0).max(0) as usize;
                let requests = (0..count).map(|i| {
                    if deny_every > 0 && i % deny_every == deny_every - 1 {
                        request("ec2", "DescribeSubnets", json!({}))
                    } else {
                        request("ec2", "DescribeVpcs", json!({}))
                    }
                });
                for (index, result) in call_many(requests) {
                    let error = result.as_ref().err().map(|e| match e {
                        CallError::Denied(_) => "denied".to_string(),
                        other => other.describe(),
                    });
                    emit(&json!({"Index": index, "Ok": result.is_ok(), "Error": error}));
                }
            }
            "nested" => {
                let count = scope.param_int("count").unwrap_or(6).max(0) as usize;
                let outer = (0..count).map(|_| request("ec2", "DescribeVpcs", json!({})));
                for (index, result) in call_many(outer) {
                    result?;
                    let inner = call_all((0..2).map(|_| request("ec2", "DescribeVpcs", json!({}))));
                    let ok = inner.iter().filter(|r| r.is_ok()).count();
                    emit(&json!({"Index": index, "InnerOk": ok}));
                }
            }
            "fail" => {
                call(
                    "ec2",
                    "DescribeVpcs",
                    json!({"VpcIds": ["vpc-0000000000000dead"]}),
                )?;
            }
            "account" => {
                let first = call("ec2", "DescribeVpcs", json!({}))?;
                let account = scope.account()?;
                emit(&json!({"Account": account, "Vpcs": first["Vpcs"].as_array().map(Vec::len)}));
            }
            "params" => {
                let mut out = mrhost_plugin_sdk::serde_json::Map::new();
                for p in &scope.params {
                    let v = match &p.value {
                        ParamValue::String(s) => json!({"string": s}),
                        ParamValue::Bool(b) => json!({"bool": b}),
                        ParamValue::Int(i) => json!({"int": i}),
                        ParamValue::Float(f) => json!({"float": f}),
                        ParamValue::Timestamp(t) => json!({"timestamp": t}),
                        ParamValue::Json(j) => json!({"json": j}),
                    };
                    out.insert(p.name.clone(), v);
                }
                emit(&Value::Object(out));
            }
            other => return Err(format!("unknown mode '{other}'").into()),
        }
        Ok(())
    }
}

export_plugin!(ContractV2);
