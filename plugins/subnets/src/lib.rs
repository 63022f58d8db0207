//! Subnets (ec2 DescribeSubnets), one item per subnet.

use mrhost_plugin_sdk::prelude::*;

struct Subnets;

impl Plugin for Subnets {
    fn manifest() -> PluginManifest {
        manifest("subnets", "ec2:subnet")
            .describe("Subnets (ec2 DescribeSubnets), one item per subnet")
            .operation("ec2:DescribeSubnets")
            .id_field("SubnetId")
            .columns(&[
                "SubnetId",
                "VpcId",
                "CidrBlock",
                "AvailabilityZone",
                "State",
            ])
            .build()
    }

    fn collect(_scope: Scope) -> Result<(), Error> {
        emit_items("ec2", "DescribeSubnets", json!({}), "Subnets")?;
        Ok(())
    }
}

export_plugin!(Subnets);
