//! EBS snapshots the account owns (ec2 DescribeSnapshots, OwnerIds self), one item per snapshot.

use mrhost_plugin_sdk::prelude::*;

struct Snapshots;

impl Plugin for Snapshots {
    fn manifest() -> PluginManifest {
        manifest("snapshots", "ec2:snapshot")
            .describe("EBS snapshots the account owns (ec2 DescribeSnapshots, OwnerIds self), one item per snapshot")
            .operation("ec2:DescribeSnapshots")
            .id_field("SnapshotId")
            .columns(&["SnapshotId", "VolumeId", "VolumeSize", "State", "StartTime"])
            .build()
    }

    fn collect(_scope: Scope) -> Result<(), Error> {
        emit_items(
            "ec2",
            "DescribeSnapshots",
            json!({"OwnerIds": ["self"]}),
            "Snapshots",
        )?;
        Ok(())
    }
}

export_plugin!(Snapshots);
