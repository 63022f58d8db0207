//! SNS topics (sns ListTopics), one item per topic as ListTopics returns it.

use mrhost_plugin_sdk::prelude::*;

struct SnsTopics;

impl Plugin for SnsTopics {
    fn manifest() -> PluginManifest {
        manifest("sns-topics", "sns:topic")
            .describe("SNS topics (sns ListTopics), one item per topic as ListTopics returns it")
            .operation("sns:ListTopics")
            .id_field("TopicArn")
            .columns(&["TopicArn"])
            .build()
    }

    fn collect(_scope: Scope) -> Result<(), Error> {
        emit_items("sns", "ListTopics", json!({}), "Topics")?;
        Ok(())
    }
}

export_plugin!(SnsTopics);
