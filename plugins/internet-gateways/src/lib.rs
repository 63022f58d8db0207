//! Internet gateways (ec2 DescribeInternetGateways), one item per gateway.

use mrhost_plugin_sdk::prelude::*;

struct InternetGateways;

impl Plugin for InternetGateways {
    fn manifest() -> PluginManifest {
        manifest("internet-gateways", "ec2:internet-gateway")
            .describe("Internet gateways (ec2 DescribeInternetGateways), one item per gateway")
            .operation("ec2:DescribeInternetGateways")
            .id_field("InternetGatewayId")
            .columns(&["InternetGatewayId", "OwnerId", "Attachments"])
            .build()
    }

    fn collect(_scope: Scope) -> Result<(), Error> {
        emit_items(
            "ec2",
            "DescribeInternetGateways",
            json!({}),
            "InternetGateways",
        )?;
        Ok(())
    }
}

export_plugin!(InternetGateways);
