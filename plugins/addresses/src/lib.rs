//! Elastic IP addresses (ec2 DescribeAddresses, not paginated), one item per address.

use mrhost_plugin_sdk::prelude::*;

struct Addresses;

impl Plugin for Addresses {
    fn manifest() -> PluginManifest {
        manifest("addresses", "ec2:elastic-ip")
            .describe(
                "Elastic IP addresses (ec2 DescribeAddresses, not paginated), one item per address",
            )
            .operation("ec2:DescribeAddresses")
            .id_field("AllocationId")
            .columns(&[
                "PublicIp",
                "AllocationId",
                "Domain",
                "InstanceId",
                "NetworkInterfaceId",
            ])
            .build()
    }

    fn collect(_scope: Scope) -> Result<(), Error> {
        // DescribeAddresses has no paginator: one call returns every item.
        let response = call("ec2", "DescribeAddresses", json!({}))?;
        for item in response["Addresses"].as_array().into_iter().flatten() {
            emit(item);
        }
        Ok(())
    }
}

export_plugin!(Addresses);
