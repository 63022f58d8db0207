//! EBS volumes (ec2 DescribeVolumes), one item per volume.

use mrhost_plugin_sdk::prelude::*;

struct Volumes;

impl Plugin for Volumes {
    fn manifest() -> PluginManifest {
        manifest("volumes", "ec2:volume")
            .describe("EBS volumes (ec2 DescribeVolumes), one item per volume, with whether it is encrypted and under which KMS key (Encrypted, KmsKeyId)")
            .operation("ec2:DescribeVolumes")
            .version("0.2.0")
            .model_shape("ec2:Volume")
            .id_field("VolumeId")
            .columns(&[
                "VolumeId",
                "Size",
                "VolumeType",
                "State",
                "Encrypted",
                "KmsKeyId",
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
