//! Hostile test plugin: sends a 16 MiB params string; reports the kind of error it got.
use mrhost_plugin_sdk::bindings::mrhost::plugin::aws;
use mrhost_plugin_sdk::prelude::*;

struct HostileParams;

impl Plugin for HostileParams {
    fn manifest() -> PluginManifest {
        manifest("hostile-params", "ec2:vpc")
            .operation("ec2:DescribeVpcs")
            .build()
    }

    fn collect(_scope: Scope) -> Result<(), Error> {
        let huge = format!("{{\"VpcIds\": [\"{}\"]}}", "v".repeat(16 << 20));
        match aws::call("ec2", "DescribeVpcs", &huge) {
            Err(CallError::InvalidRequest(m)) => Err(format!("invalid-request: {m}").into()),
            Err(other) => Err(format!("unexpected error kind: {}", other.describe()).into()),
            Ok(_) => Err("the host accepted a 16 MiB params string".into()),
        }
    }
}

export_plugin!(HostileParams);
