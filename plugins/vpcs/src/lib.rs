//! Every VPC of a region, exactly as ec2 DescribeVpcs returns it.

use mrhost_plugin_sdk::prelude::*;

struct Vpcs;

impl Plugin for Vpcs {
    fn manifest() -> PluginManifest {
        manifest("vpcs", "ec2:vpc")
            .describe("VPCs (ec2 DescribeVpcs), one item per VPC")
            .operation("ec2:DescribeVpcs")
            .id_field("VpcId")
            .columns(&["VpcId", "CidrBlock", "IsDefault", "State"])
            .build()
    }

    fn collect(_scope: Scope) -> Result<(), Error> {
        emit_items("ec2", "DescribeVpcs", json!({}), "Vpcs")?;
        Ok(())
    }
}

export_plugin!(Vpcs);
