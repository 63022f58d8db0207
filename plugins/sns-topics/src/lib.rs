//! SNS topics (sns ListTopics, then GetTopicAttributes each, at once), one item per topic:
//! its ARN, its access policy as JSON and its encryption. What may not be read is null.

use mrhost_plugin_sdk::optional;
use mrhost_plugin_sdk::prelude::*;

struct SnsTopics;

impl Plugin for SnsTopics {
    fn manifest() -> PluginManifest {
        manifest("sns-topics", "sns:topic")
            .version("0.2.0")
            .describe("SNS topics (sns ListTopics, then GetTopicAttributes each), one item per topic with its access policy and encryption")
            .operation("sns:ListTopics")
            .operation("sns:GetTopicAttributes")
            .model_shape("sns:Topic")
            .id_field("TopicArn")
            .columns(&["TopicArn", "Encrypted", "KmsMasterKeyId"])
            .column("Policy", ValueKind::Json, "the topic's access policy, parsed; null when it may not be read")
            .column("KmsMasterKeyId", ValueKind::String, "the KMS key that encrypts the topic, null when it is not encrypted")
            .column("Encrypted", ValueKind::Bool, "whether the topic is encrypted at rest (has a KmsMasterKeyId); null when it may not be read")
            .reference("KmsMasterKeyId", "kms:key", ReferenceBy::Id)
            .build()
    }

    fn collect(_scope: Scope) -> Result<(), Error> {
        let topics =
            items("sns", "ListTopics", json!({}), "Topics").collect::<Result<Vec<_>, _>>()?;
        let attributes = call_all(topics.iter().map(|t| {
            request(
                "sns",
                "GetTopicAttributes",
                json!({"TopicArn": t["TopicArn"]}),
            )
        }));
        for (mut topic, answer) in topics.into_iter().zip(attributes) {
            let (policy, key, encrypted) = match answer {
                Ok(mut a) => {
                    let a = a["Attributes"].take();
                    let policy = parse(&a["Policy"], &topic["TopicArn"])?;
                    let key = match a["KmsMasterKeyId"].as_str() {
                        Some(k) if !k.is_empty() => json!(k),
                        _ => Value::Null,
                    };
                    let encrypted = json!(key.is_string());
                    (policy, key, encrypted)
                }
                // Deleted since it was listed.
                Err(e) if e.is_not_found() => continue,
                Err(e) => {
                    optional(Err(e))?;
                    (Value::Null, Value::Null, Value::Null)
                }
            };
            if let Some(o) = topic.as_object_mut() {
                o.insert("Policy".into(), policy);
                o.insert("KmsMasterKeyId".into(), key);
                o.insert("Encrypted".into(), encrypted);
            }
            emit(&topic);
        }
        Ok(())
    }
}

/// A policy attribute (JSON text) as JSON; null when absent or empty.
fn parse(text: &Value, arn: &Value) -> Result<Value, String> {
    match text.as_str() {
        Some(t) if !t.is_empty() => {
            serde_json::from_str(t).map_err(|e| format!("the policy of {arn} is not JSON: {e}"))
        }
        _ => Ok(Value::Null),
    }
}

export_plugin!(SnsTopics);
