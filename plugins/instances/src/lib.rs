//! EC2 instances (ec2 DescribeInstances), one item per instance: reservations are
//! flattened, so an item is what boto3 gives under Reservations[].Instances[].

use mrhost_plugin_sdk::prelude::*;

struct Instances;

impl Plugin for Instances {
    fn manifest() -> PluginManifest {
        manifest("instances", "ec2:instance")
            .describe("EC2 instances (ec2 DescribeInstances), one item per instance")
            .operation("ec2:DescribeInstances")
            .id_field("InstanceId")
            .columns(&[
                "InstanceId",
                "InstanceType",
                "ImageId",
                "PrivateIpAddress",
                "LaunchTime",
            ])
            .build()
    }

    fn collect(_scope: Scope) -> Result<(), Error> {
        // The largest page DescribeInstances allows: fewest round trips.
        let params = json!({"MaxResults": 1000});
        emit_items(
            "ec2",
            "DescribeInstances",
            params,
            "Reservations[].Instances",
        )?;
        Ok(())
    }
}

export_plugin!(Instances);
