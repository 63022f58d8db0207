//! A model-derived type as a source: page through its operation in one scope and send each
//! item (the paginator's result key), tagged, as a plugin's emit would.

use std::sync::Arc;

use aws_engine::catalogue::{last_segment, take_items, ModelType};
use aws_engine::{AwsClient, Budget, CredentialSource, DispatchError, DispatchKind, EngineError};
use serde_json::{json, Value};

use super::{lane, Emitted, ScopeTags, Tagged};

/// Collect one scope within `budget`; returns (items, calls). A pagination still going
/// after [`lane::AFTER_PAGES`] pages makes the rest of its calls in the chains lane.
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
    let mut items = 0u64;
    while let Some(page) = pages.next_page().await {
        let (n, open) = emit(page?, tags, &t.result_key, tx).await;
        items += n;
        if !open {
            break;
        }
        if pages.calls() == lane::AFTER_PAGES && !pages.is_done() {
            if let Some(lane) = lane::handle() {
                pages.use_second_pool();
                let (tags, key, tx) = (tags.clone(), t.result_key.clone(), tx.clone());
                let rest = lane::run(&lane, async move {
                    let mut items = 0u64;
                    while let Some(page) = pages.next_page().await {
                        let (n, open) = emit(page?, &tags, &key, &tx).await;
                        items += n;
                        if !open {
                            break;
                        }
                    }
                    Ok::<_, EngineError>((items, pages.calls()))
                })
                .await
                .map_err(|e| DispatchError {
                    kind: DispatchKind::Io,
                    target: format!("{}.{}", t.service, t.operation),
                    message: e.to_string(),
                })??;
                return Ok((items + rest.0, rest.1));
            }
        }
    }
    Ok((items, pages.calls()))
}

/// Send one page's items, tagged; returns how many, and whether the receiver still takes
/// them.
async fn emit(
    mut page: Value,
    tags: &ScopeTags,
    result_key: &str,
    tx: &tokio::sync::mpsc::Sender<Emitted>,
) -> (u64, bool) {
    let mut n = 0u64;
    // Containers flattened where the key says so (`Reservations[].Instances`).
    for item in take_items(&mut page, result_key) {
        let value = match item {
            Value::Object(o) => Value::Object(o),
            // Names-only listings (dynamodb ListTables, sqs ListQueues): wrap them.
            other => json!({ last_segment(result_key): other }),
        };
        let Ok(value) = tags.tag_value(value) else {
            continue;
        };
        n += 1;
        if tx.send(tags.emitted(Tagged::Value(value))).await.is_err() {
            return (n, false);
        }
    }
    (n, true)
}
