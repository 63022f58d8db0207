//! Hostile test plugin: spins forever in eu-west-2 (elsewhere it lists VPCs).
use mrhost_plugin_sdk::prelude::*;

struct HostileLoop;

impl Plugin for HostileLoop {
    fn manifest() -> PluginManifest {
        manifest("hostile-loop", "ec2:vpc")
            .operation("ec2:DescribeVpcs")
            .build()
    }

    fn collect(scope: Scope) -> Result<(), Error> {
        if scope.region == "eu-west-2" {
            let mut x: u64 = 0;
            loop {
                x = std::hint::black_box(x.wrapping_add(1));
            }
        }
        emit_all(items("ec2", "DescribeVpcs", json!({}), "Vpcs"))?;
        Ok(())
    }
}

export_plugin!(HostileLoop);
