//! Hostile test plugin: allocates without end in eu-west-2 (elsewhere it lists VPCs).
use mrhost_plugin_sdk::prelude::*;

struct HostileMemory;

impl Plugin for HostileMemory {
    fn manifest() -> PluginManifest {
        manifest("hostile-memory", "ec2:vpc")
            .operation("ec2:DescribeVpcs")
            .build()
    }

    fn collect(scope: Scope) -> Result<(), Error> {
        if scope.region == "eu-west-2" {
            let mut hoard: Vec<Vec<u8>> = Vec::new();
            loop {
                // Touch every page so the memory is really used.
                hoard.push(vec![0xA5; 8 << 20]);
                std::hint::black_box(&hoard);
            }
        }
        emit_all(items("ec2", "DescribeVpcs", json!({}), "Vpcs"))?;
        Ok(())
    }
}

export_plugin!(HostileMemory);
