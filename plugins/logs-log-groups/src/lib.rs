//! CloudWatch Logs log groups (logs DescribeLogGroups), one item per log group.

use mrhost_plugin_sdk::prelude::*;

struct LogsLogGroups;

impl Plugin for LogsLogGroups {
    fn manifest() -> PluginManifest {
        manifest("logs-log-groups", "logs:log-group")
            .describe("CloudWatch Logs log groups (logs DescribeLogGroups), one item per log group")
            .operation("logs:DescribeLogGroups")
            .id_field("logGroupArn")
            .columns(&[
                "logGroupName",
                "retentionInDays",
                "storedBytes",
                "creationTime",
            ])
            .build()
    }

    fn collect(_scope: Scope) -> Result<(), Error> {
        emit_items("logs", "DescribeLogGroups", json!({}), "logGroups")?;
        Ok(())
    }
}

export_plugin!(LogsLogGroups);
