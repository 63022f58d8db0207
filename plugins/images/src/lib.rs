//! AMIs the account owns (ec2 DescribeImages, Owners self), one item per image.

use mrhost_plugin_sdk::prelude::*;

struct Images;

impl Plugin for Images {
    fn manifest() -> PluginManifest {
        manifest("images", "ec2:image")
            .describe("AMIs the account owns (ec2 DescribeImages, Owners self), one item per image")
            .operation("ec2:DescribeImages")
            .id_field("ImageId")
            .columns(&["ImageId", "Name", "State", "CreationDate"])
            .build()
    }

    fn collect(_scope: Scope) -> Result<(), Error> {
        emit_items(
            "ec2",
            "DescribeImages",
            json!({"Owners": ["self"]}),
            "Images",
        )?;
        Ok(())
    }
}

export_plugin!(Images);
