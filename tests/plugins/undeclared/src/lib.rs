//! Test plugin: declares ec2:DescribeVpcs but calls ec2:DescribeSubnets, which the host
//! must refuse with a typed `denied` error.
use mrhost_plugin_sdk::prelude::*;

struct Undeclared;

impl Plugin for Undeclared {
    fn manifest() -> PluginManifest {
        manifest("undeclared", "ec2:subnet")
            .operation("ec2:DescribeVpcs")
            .build()
    }

    fn collect(_scope: Scope) -> Result<(), Error> {
        match call("ec2", "DescribeSubnets", json!({})) {
            Err(CallError::Denied(reason)) => Err(format!("denied as expected: {reason}").into()),
            Err(other) => Err(format!("wrong error kind: {}", other.describe()).into()),
            Ok(_) => Err("the host allowed an undeclared operation".into()),
        }
    }
}

export_plugin!(Undeclared);
