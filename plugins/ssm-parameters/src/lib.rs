//! SSM parameters (ssm DescribeParameters), one item per parameter; the values are never read.

use mrhost_plugin_sdk::prelude::*;

struct SsmParameters;

impl Plugin for SsmParameters {
    fn manifest() -> PluginManifest {
        manifest("ssm-parameters", "ssm:parameter")
            .describe("SSM parameters (ssm DescribeParameters), one item per parameter; the values are never read")
            .operation("ssm:DescribeParameters")
            .id_field("Name")
            .columns(&["Name", "Type", "Version", "LastModifiedDate", "Tier"])
            .build()
    }

    fn collect(_scope: Scope) -> Result<(), Error> {
        emit_items(
            "ssm",
            "DescribeParameters",
            json!({"MaxResults": 50}),
            "Parameters",
        )?;
        Ok(())
    }
}

export_plugin!(SsmParameters);
