//! A model-derived type as a source: page through its operation in one scope and send each
//! item (the paginator's result key), tagged, as a plugin's emit would.

use std::sync::Arc;

use aws_engine::catalogue::{last_segment, take_items, ModelType};
use aws_engine::{AwsClient, Budget, CredentialSource, EngineError};
use serde_json::{json, Value};

use super::{Emitted, ScopeTags, Tagged};

/// Collect one scope within `budget`; returns (items, calls).
#[allow(clippy::too_many_arguments)]
pub async fn collect(
    client: &AwsClient,
    creds: Arc<CredentialSource>,
    tags: &ScopeTags,
    region: &str,
    t: &ModelType,
    params: &Value,
    tx: &tokio::sync::mpsc::Sender<Emitted>,
    budget: Budget,
) -> Result<(u64, u64), EngineError> {
    let op = client.operation(&t.service, &t.operation)?;
    let mut pages = client
        .pages(creds, region, op, params.clone())
        .budget(budget);
    let (mut items, mut calls) = (0u64, 0u64);
    while let Some(page) = pages.next_page().await {
        calls += 1;
        let mut page = page?;
        // Containers flattened where the key says so (`Reservations[].Instances`).
        for item in take_items(&mut page, &t.result_key) {
            let value = match item {
                Value::Object(o) => Value::Object(o),
                // Names-only listings (dynamodb ListTables, sqs ListQueues): wrap them.
                other => json!({ last_segment(&t.result_key): other }),
            };
            let Ok(value) = tags.tag_value(value) else {
                continue;
            };
            items += 1;
            if tx.send(tags.emitted(Tagged::Value(value))).await.is_err() {
                return Ok((items, calls));
            }
        }
    }
    Ok((items, calls))
}
