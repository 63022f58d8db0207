//! Network interfaces (ec2 DescribeNetworkInterfaces), one item per ENI.

use mrhost_plugin_sdk::prelude::*;

struct NetworkInterfaces;

impl Plugin for NetworkInterfaces {
    fn manifest() -> PluginManifest {
        manifest("network-interfaces", "ec2:network-interface")
            .describe("Network interfaces (ec2 DescribeNetworkInterfaces), one item per ENI")
            .operation("ec2:DescribeNetworkInterfaces")
            .id_field("NetworkInterfaceId")
            .columns(&[
                "NetworkInterfaceId",
                "InterfaceType",
                "SubnetId",
                "PrivateIpAddress",
                "Status",
            ])
            .build()
    }

    fn collect(_scope: Scope) -> Result<(), Error> {
        emit_items(
            "ec2",
            "DescribeNetworkInterfaces",
            json!({}),
            "NetworkInterfaces",
        )?;
        Ok(())
    }
}

export_plugin!(NetworkInterfaces);
