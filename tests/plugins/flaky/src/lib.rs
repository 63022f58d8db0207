//! Test plugin: lists VPCs like `vpcs`, but panics (a trap) in eu-west-2, so tests can
//! show one scope failing while the others finish.
use mrhost_plugin_sdk::prelude::*;

struct Flaky;

impl Plugin for Flaky {
    fn manifest() -> PluginManifest {
        manifest("flaky", "ec2:vpc")
            .operation("ec2:DescribeVpcs")
            .id_field("VpcId")
            .build()
    }

    fn collect(scope: Scope) -> Result<(), Error> {
        if scope.region == "eu-west-2" {
            panic!("flaky plugin fails in eu-west-2 on purpose");
        }
        emit_all(items("ec2", "DescribeVpcs", json!({}), "Vpcs"))?;
        Ok(())
    }
}

export_plugin!(Flaky);
