//! Security groups (ec2 DescribeSecurityGroups), one item per group.

use mrhost_plugin_sdk::prelude::*;

struct SecurityGroups;

impl Plugin for SecurityGroups {
    fn manifest() -> PluginManifest {
        manifest("security-groups", "ec2:security-group")
            .describe("Security groups (ec2 DescribeSecurityGroups), one item per group")
            .operation("ec2:DescribeSecurityGroups")
            .id_field("GroupId")
            .columns(&["GroupId", "GroupName", "VpcId", "Description"])
            .build()
    }

    fn collect(_scope: Scope) -> Result<(), Error> {
        emit_items("ec2", "DescribeSecurityGroups", json!({}), "SecurityGroups")?;
        Ok(())
    }
}

export_plugin!(SecurityGroups);
