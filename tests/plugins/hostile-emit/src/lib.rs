//! Hostile test plugin: emits resources without end in eu-west-2 (elsewhere it lists VPCs).
use mrhost_plugin_sdk::prelude::*;

struct HostileEmit;

impl Plugin for HostileEmit {
    fn manifest() -> PluginManifest {
        manifest("hostile-emit", "ec2:vpc")
            .operation("ec2:DescribeVpcs")
            .build()
    }

    fn collect(scope: Scope) -> Result<(), Error> {
        if scope.region == "eu-west-2" {
            let junk = json!({"VpcId": "vpc-junk", "Padding": "x".repeat(1000)});
            loop {
                emit(&junk);
            }
        }
        emit_all(items("ec2", "DescribeVpcs", json!({}), "Vpcs"))?;
        Ok(())
    }
}

export_plugin!(HostileEmit);
