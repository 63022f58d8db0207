//! A model-derived type as a source: page through its operation in one scope and send each
//! item (the paginator's result key), tagged, as a plugin's emit would.

use std::sync::Arc;

use aws_engine::catalogue::{last_segment, take_items, ModelType};
use aws_engine::{
    AwsClient, Budget, CredentialSource, DispatchError, DispatchKind, EngineError, Pages,
};
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
    let key = &t.result_key;
    let (mut items, open) =
        page_through(&mut pages, tags, key, tx, Some(lane::AFTER_PAGES)).await?;
    if open && !pages.is_done() {
        match lane::handle() {
            Some(lane) => {
                pages.use_second_pool();
                let (tags, key, tx) = (tags.clone(), key.clone(), tx.clone());
                let (rest, calls) = lane::run(&lane, async move {
                    let (n, _) = page_through(&mut pages, &tags, &key, &tx, None).await?;
                    Ok::<_, EngineError>((n, pages.calls()))
                })
                .await
                .map_err(|e| DispatchError {
                    kind: DispatchKind::Io,
                    target: format!("{}.{}", t.service, t.operation),
                    message: e.to_string(),
                })??;
                return Ok((items + rest, calls));
            }
            None => items += page_through(&mut pages, tags, key, tx, None).await?.0,
        }
    }
    Ok((items, pages.calls()))
}

/// Page on, sending each page's items, until the pagination ends, the receiver is gone or
/// (with `until`) that many calls have been made; returns the items sent and whether the
/// receiver still takes them.
async fn page_through(
    pages: &mut Pages,
    tags: &ScopeTags,
    result_key: &str,
    tx: &tokio::sync::mpsc::Sender<Emitted>,
    until: Option<u64>,
) -> Result<(u64, bool), EngineError> {
    let mut items = 0u64;
    while until.is_none_or(|u| pages.calls() < u) {
        let Some(page) = pages.next_page().await else {
            break;
        };
        let (n, open) = emit(page?, tags, result_key, tx).await;
        items += n;
        if !open {
            return Ok((items, false));
        }
    }
    Ok((items, true))
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
