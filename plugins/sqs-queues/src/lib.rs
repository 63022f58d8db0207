//! SQS queues (sqs ListQueues, then GetQueueAttributes All each, at once), one item per
//! queue: its URL and attributes, with the access policy parsed and whether the queue is
//! encrypted (SQS-managed SSE or a KMS key).

use mrhost_plugin_sdk::prelude::*;

struct SqsQueues;

impl Plugin for SqsQueues {
    fn manifest() -> PluginManifest {
        manifest("sqs-queues", "sqs:queue")
            .version("0.2.0")
            .describe("SQS queues (sqs ListQueues, then GetQueueAttributes All each), one item per queue: its URL and attributes, the access policy parsed and whether it is encrypted")
            .operation("sqs:ListQueues")
            .operation("sqs:GetQueueAttributes")
            .id_field("QueueArn")
            .columns(&["QueueUrl", "Encrypted", "KmsMasterKeyId", "VisibilityTimeout", "MessageRetentionPeriod"])
            .column("QueueUrl", ValueKind::String, "the queue's URL")
            .column("QueueArn", ValueKind::String, "the queue's ARN")
            .column("PolicyDocument", ValueKind::Json, "the queue's access policy (the Policy attribute), parsed; null without one")
            .column("Encrypted", ValueKind::Bool, "whether messages are encrypted at rest (SqsManagedSseEnabled, or a KmsMasterKeyId)")
            .reference("KmsMasterKeyId", "kms:key", ReferenceBy::Id)
            .build()
    }

    fn collect(_scope: Scope) -> Result<(), Error> {
        let urls = items(
            "sqs",
            "ListQueues",
            json!({"MaxResults": 1000}),
            "QueueUrls",
        )
        .collect::<Result<Vec<_>, _>>()?;
        let answers = call_all(urls.iter().map(|url| {
            request(
                "sqs",
                "GetQueueAttributes",
                json!({"QueueUrl": url, "AttributeNames": ["All"]}),
            )
        }));
        for (url, answer) in urls.into_iter().zip(answers) {
            let mut resp = match answer {
                Ok(r) => r,
                // Deleted since it was listed.
                Err(e) if e.is_not_found() => continue,
                Err(e) => return Err(e.into()),
            };
            let mut queue = json!({"QueueUrl": url});
            let Some(q) = queue.as_object_mut() else {
                continue;
            };
            if let Value::Object(attributes) = resp["Attributes"].take() {
                q.extend(attributes);
            }
            let policy = match q.get("Policy").and_then(Value::as_str) {
                Some(t) if !t.is_empty() => serde_json::from_str(t)
                    .map_err(|e| format!("the policy of {url} is not JSON: {e}"))?,
                _ => Value::Null,
            };
            let kms = q
                .get("KmsMasterKeyId")
                .and_then(Value::as_str)
                .is_some_and(|k| !k.is_empty());
            let sse = q.get("SqsManagedSseEnabled").and_then(Value::as_str) == Some("true");
            q.insert("PolicyDocument".into(), policy);
            q.insert("Encrypted".into(), json!(kms || sse));
            emit(&queue);
        }
        Ok(())
    }
}

export_plugin!(SqsQueues);
