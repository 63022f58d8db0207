//! SQS queues (sqs ListQueues, then GetQueueAttributes All for each), one item per queue:
//! `{"QueueUrl": ...}` followed by every attribute GetQueueAttributes returns (`QueueArn`,
//! `VisibilityTimeout`, ...), as strings, as SQS returns them.

use mrhost_plugin_sdk::prelude::*;

struct SqsQueues;

impl Plugin for SqsQueues {
    fn manifest() -> PluginManifest {
        manifest("sqs-queues", "sqs:queue")
            .describe("SQS queues (sqs ListQueues, then GetQueueAttributes All each), one item per queue: its URL and attributes")
            .operation("sqs:ListQueues")
            .operation("sqs:GetQueueAttributes")
            .id_field("QueueArn")
            .columns(&["QueueUrl", "ApproximateNumberOfMessages", "VisibilityTimeout", "MessageRetentionPeriod"])
            .build()
    }

    fn collect(_scope: Scope) -> Result<(), Error> {
        // Without MaxResults, ListQueues returns at most 1000 queues and no NextToken.
        for url in items(
            "sqs",
            "ListQueues",
            json!({"MaxResults": 1000}),
            "QueueUrls",
        ) {
            let url = url?;
            let params = json!({"QueueUrl": url, "AttributeNames": ["All"]});
            // None: the queue was deleted since it was listed.
            let Some(mut resp) = call_if_exists("sqs", "GetQueueAttributes", params)? else {
                continue;
            };
            let mut queue = json!({"QueueUrl": url});
            if let (Some(q), Value::Object(attributes)) =
                (queue.as_object_mut(), resp["Attributes"].take())
            {
                q.extend(attributes);
            }
            emit(&queue);
        }
        Ok(())
    }
}

export_plugin!(SqsQueues);
