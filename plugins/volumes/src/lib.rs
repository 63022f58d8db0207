//! EBS volumes (ec2 DescribeVolumes), one item per volume.

use mrhost_plugin_sdk::prelude::*;

struct Volumes;

impl Plugin for Volumes {
    fn manifest() -> PluginManifest {
        manifest("volumes", "ec2:volume")
            .describe("EBS volumes (ec2 DescribeVolumes), one item per volume")
            .operation("ec2:DescribeVolumes")
            .id_field("VolumeId")
            .columns(&[
                "VolumeId",
                "Size",
                "VolumeType",
                "State",
                "AvailabilityZone",
            ])
            .build()
    }

    fn collect(_scope: Scope) -> Result<(), Error> {
        emit_items("ec2", "DescribeVolumes", json!({}), "Volumes")?;
        Ok(())
    }
}

export_plugin!(Volumes);
