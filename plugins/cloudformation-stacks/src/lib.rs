//! CloudFormation stacks (cloudformation DescribeStacks), one item per stack.

use mrhost_plugin_sdk::prelude::*;

struct CloudformationStacks;

impl Plugin for CloudformationStacks {
    fn manifest() -> PluginManifest {
        manifest("cloudformation-stacks", "cloudformation:stack")
            .describe("CloudFormation stacks (cloudformation DescribeStacks), one item per stack")
            .operation("cloudformation:DescribeStacks")
            .id_field("StackId")
            .columns(&[
                "StackName",
                "StackStatus",
                "CreationTime",
                "LastUpdatedTime",
            ])
            .build()
    }

    fn collect(_scope: Scope) -> Result<(), Error> {
        emit_items("cloudformation", "DescribeStacks", json!({}), "Stacks")?;
        Ok(())
    }
}

export_plugin!(CloudformationStacks);
