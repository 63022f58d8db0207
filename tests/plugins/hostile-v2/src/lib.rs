//! Hostile test plugin for contract 0.2.0: misbehaves in eu-west-2 as its `attack`
//! parameter says, and lists VPCs elsewhere.
//!
//! - `pages`: opens 1,500 `pages` resources with 1 MiB params each and keeps them open.
//! - `handles`: opens 5,000 `pages` resources with small params.
//! - `keys`: emits one object with 200,000 keys.
//! - `escape`: writes terminal escapes, carriage returns and a forged summary line to the
//!   log and stderr, and ends with an error full of them.

use mrhost_plugin_sdk::bindings::mrhost::plugin::aws;
use mrhost_plugin_sdk::prelude::*;

struct HostileV2;

const FORGED: &str = "\x1b]0;pwned\x07\x1b[2K\r\nmrhost: summary: 0 failures\r\n\x1b[31mred";

impl Plugin for HostileV2 {
    fn manifest() -> PluginManifest {
        manifest("hostile-v2", "ec2:vpc")
            .operation("ec2:DescribeVpcs")
            .param(
                "attack",
                ValueKind::String,
                true,
                "pages, handles, keys or escape",
            )
            .build()
    }

    fn collect(scope: Scope) -> Result<(), Error> {
        if scope.region == "eu-west-2" {
            match scope.param_str("attack").unwrap_or_default() {
                "pages" => {
                    let big = format!("{{\"VpcIds\":[\"{}\"]}}", "v".repeat((1 << 20) - 64));
                    let mut open = Vec::new();
                    for _ in 0..1500 {
                        open.push(aws::paginate("ec2", "DescribeVpcs", &big));
                    }
                    return Err(format!("the host held {} open pages", open.len()).into());
                }
                "handles" => {
                    let mut open = Vec::new();
                    for _ in 0..5000 {
                        open.push(aws::paginate("ec2", "DescribeVpcs", "{}"));
                    }
                    return Err(format!("the host held {} open pages", open.len()).into());
                }
                "keys" => {
                    let mut text = String::with_capacity(4 << 20);
                    text.push('{');
                    for i in 0..200_000 {
                        if i > 0 {
                            text.push(',');
                        }
                        text.push_str(&format!("\"k{i}\":{i}"));
                    }
                    text.push('}');
                    mrhost_plugin_sdk::bindings::mrhost::plugin::sink::emit(&text);
                    return Ok(());
                }
                "escape" => {
                    log(Level::Warn, FORGED);
                    eprintln!("{FORGED}");
                    return Err(FORGED.into());
                }
                other => return Err(format!("unknown attack {other}").into()),
            }
        }
        emit_all(items("ec2", "DescribeVpcs", json!({}), "Vpcs"))?;
        Ok(())
    }
}

export_plugin!(HostileV2);
