//! NAT gateways (ec2 DescribeNatGateways), one item per gateway.

use mrhost_plugin_sdk::prelude::*;

struct NatGateways;

impl Plugin for NatGateways {
    fn manifest() -> PluginManifest {
        manifest("nat-gateways", "ec2:natgateway")
            .describe("NAT gateways (ec2 DescribeNatGateways), one item per gateway")
            .operation("ec2:DescribeNatGateways")
            .id_field("NatGatewayId")
            .columns(&[
                "NatGatewayId",
                "VpcId",
                "SubnetId",
                "State",
                "ConnectivityType",
            ])
            .build()
    }

    fn collect(_scope: Scope) -> Result<(), Error> {
        emit_items("ec2", "DescribeNatGateways", json!({}), "NatGateways")?;
        Ok(())
    }
}

export_plugin!(NatGateways);
