//! Every operation of every embedded model, end to end without a network: resolved by the
//! name boto3 calls it, minimal valid params built from the input shape (required members
//! with placeholder values), validated and serialized, its endpoint resolved, a synthetic
//! empty response, a typical response (placeholder output values written in the service's
//! protocol) and an unmodeled error response parsed, and each service's catalogue built.
//! Each operation runs under `catch_unwind`; failures and panics are listed by name.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Instant;

use serde_json::{json, Map, Value};

use super::cbor::CborWriter;
use super::json::JsonWriter;
use super::shape::{location, payload};
use super::xml_write::XmlWriter;
use super::WireResponse;
use crate::model::{ServiceModel, ShapeRef, ShapeType};
use crate::{AwsClient, EngineError, Models};

/// A placeholder value of a shape: required members only (`all`: every member, a few
/// levels deep), one item per list and map.
fn placeholder(model: &ServiceModel, r: &ShapeRef, all: bool, depth: usize) -> Option<Value> {
    let shape = model.shape(&r.shape).ok()?;
    Some(match shape.kind {
        ShapeType::Structure if shape.document => json!({"k": "v"}),
        ShapeType::Structure => {
            let mut out = Map::new();
            if shape.union {
                let (name, m) = shape.members.iter().next()?;
                out.insert(name.clone(), placeholder(model, m, all, depth + 1)?);
                return Some(Value::Object(out));
            }
            for (name, m) in &shape.members {
                let wanted = shape.required.contains(name) || (all && depth < 4);
                if !wanted || model.shape(&m.shape).is_ok_and(|s| s.eventstream) {
                    continue;
                }
                if depth > 40 {
                    return None; // a required cycle: give up on this branch
                }
                if let Some(v) = placeholder(model, m, all, depth + 1) {
                    out.insert(name.clone(), v);
                }
            }
            Value::Object(out)
        }
        // An empty list satisfies `required` and ends a cycle through lists.
        ShapeType::List if depth > 30 => json!([]),
        ShapeType::List => {
            let member = shape.member.as_ref()?;
            Value::Array(
                placeholder(model, member, all, depth + 1)
                    .into_iter()
                    .collect(),
            )
        }
        ShapeType::Map => {
            let value = shape.value.as_ref()?;
            let mut m = Map::new();
            if let Some(v) = placeholder(model, value, all, depth + 1) {
                m.insert("k".into(), v);
            }
            Value::Object(m)
        }
        ShapeType::String => Value::String("x".into()),
        ShapeType::Integer | ShapeType::Long => json!(1),
        ShapeType::Float | ShapeType::Double => json!(1.5),
        ShapeType::Boolean => json!(true),
        ShapeType::Timestamp => json!("2024-01-31T12:00:00Z"),
        ShapeType::Blob => json!("x"),
        ShapeType::Other => json!("x"),
    })
}

/// A required member the structure does not have (a model defect: botocore's validator
/// refuses every call of such an operation too), searched along required members.
fn missing_required(model: &ServiceModel, r: &ShapeRef, depth: usize) -> Option<String> {
    let shape = model.shape(&r.shape).ok()?;
    if depth > 40 {
        return None;
    }
    match shape.kind {
        ShapeType::Structure if shape.union => {
            missing_required(model, shape.members.values().next()?, depth + 1)
        }
        ShapeType::Structure => {
            shape
                .required
                .iter()
                .find_map(|name| match shape.members.get(name) {
                    None => Some(format!(
                        "{} requires {name}, which it does not have",
                        r.shape
                    )),
                    Some(m) => missing_required(model, m, depth + 1),
                })
        }
        ShapeType::List => missing_required(model, shape.member.as_ref()?, depth + 1),
        _ => None,
    }
}

/// A success response carrying placeholder output values, written in the protocol.
fn typical_response(model: &ServiceModel, op: &crate::Operation) -> Result<WireResponse, String> {
    let mut resp = WireResponse {
        status: 200,
        ..Default::default()
    };
    let Some(output) = &op.output else {
        return Ok(resp);
    };
    let shape = model.shape(&output.shape).map_err(|e| e.to_string())?;
    let mut value = placeholder(model, output, true, 0).unwrap_or_else(|| json!({}));
    // Members outside the body travel elsewhere; leave them out.
    if let Value::Object(m) = &mut value {
        m.retain(|k, _| {
            shape
                .members
                .get(k)
                .is_some_and(|r| location(model, r).is_none())
        });
    }
    let name = &op.name;
    let body = match model.protocol() {
        "json" => serde_json::to_vec(&JsonWriter { model }.value(output, &value)?)
            .map_err(|e| e.to_string())?,
        "rest-json" => match payload(output, shape) {
            Some(_) => Vec::new(),
            None => serde_json::to_vec(&JsonWriter { model }.value(output, &value)?)
                .map_err(|e| e.to_string())?,
        },
        "smithy-rpc-v2-cbor" => CborWriter { model }.encode(output, &value)?,
        "rest-xml" => match payload(output, shape) {
            Some(_) => Vec::new(),
            None => {
                let mut out = String::new();
                XmlWriter { model }.write(output, &value, &output.shape, &mut out)?;
                out.into_bytes()
            }
        },
        "query" => {
            let wrapper = output
                .result_wrapper
                .clone()
                .unwrap_or_else(|| format!("{name}Result"));
            let mut inner = String::new();
            XmlWriter { model }.write(output, &value, &wrapper, &mut inner)?;
            format!("<{name}Response>{inner}<ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></{name}Response>")
                .into_bytes()
        }
        "ec2" => {
            let mut out = String::new();
            XmlWriter { model }.write(output, &value, &format!("{name}Response"), &mut out)?;
            out.into_bytes()
        }
        other => return Err(format!("no synthetic response for protocol {other}")),
    };
    resp.body = body.into();
    Ok(resp)
}

/// An error response with a code no model has, in the protocol's error format.
fn error_response(model: &ServiceModel) -> WireResponse {
    let (headers, body): (Vec<(String, String)>, Vec<u8>) = match model.protocol() {
        "json" | "rest-json" => (
            vec![],
            br#"{"__type":"NoSuchThingAnywhere","message":"it is not there"}"#.to_vec(),
        ),
        "smithy-rpc-v2-cbor" => {
            // {"__type": "NoSuchThingAnywhere", "message": "it is not there"}
            let mut e = minicbor::Encoder::new(Vec::new());
            let _ = e
                .map(2)
                .and_then(|e| e.str("__type"))
                .and_then(|e| e.str("NoSuchThingAnywhere"))
                .and_then(|e| e.str("message"))
                .and_then(|e| e.str("it is not there"));
            (vec![], e.into_writer())
        }
        "ec2" => (vec![], b"<Response><Errors><Error><Code>NoSuchThingAnywhere</Code><Message>it is not there</Message></Error></Errors><RequestID>r</RequestID></Response>".to_vec()),
        _ => (vec![], b"<ErrorResponse><Error><Type>Sender</Type><Code>NoSuchThingAnywhere</Code><Message>it is not there</Message></Error><RequestId>r</RequestId></ErrorResponse>".to_vec()),
    };
    WireResponse {
        status: 400,
        headers,
        body: body.into(),
    }
}

/// Everything about one operation; `Err` names the first stage that went wrong.
fn check_operation(client: &AwsClient, service: &str, key: &str) -> Result<(), String> {
    let op = client
        .operation(service, key)
        .map_err(|e| format!("resolve: {e}"))?;
    if op.name != key {
        return Err(format!("resolve: got {}", op.name));
    }
    let model = &op.model;
    let operation = op.op();
    // Event streams going in are not something the engine sends (botocore neither,
    // outside its event-stream clients): listed, not serialized.
    let input_stream = operation
        .input
        .as_ref()
        .and_then(|i| model.shape(&i.shape).ok())
        .is_some_and(|s| {
            s.members
                .values()
                .any(|m| model.shape(&m.shape).is_ok_and(|t| t.eventstream))
        });
    if input_stream {
        return Ok(());
    }
    let params = match &operation.input {
        Some(input) => placeholder(model, input, false, 0).unwrap_or_else(|| json!({})),
        None => json!({}),
    };
    if let Err(e) = super::serialize(model, operation, &params) {
        if let Some(defect) = operation
            .input
            .as_ref()
            .and_then(|i| missing_required(model, i, 0))
        {
            return Err(format!("{MODEL_DEFECT}{defect}"));
        }
        return Err(format!("serialize {params}: {e}"));
    }
    // Resolving may fail for a region a service is not in; it must not panic.
    let _ = client.endpoint(model, "us-east-1");
    let empty = WireResponse {
        status: 200,
        ..Default::default()
    };
    let output_stream = operation
        .output
        .as_ref()
        .and_then(|o| model.shape(&o.shape).ok())
        .is_some_and(|s| super::events::stream_member(model, s).is_some());
    if output_stream {
        // An event stream needs its initial-response message (botocore refuses an empty
        // body too): a verdict, not a panic, is what counts here.
        let _ = super::parse(model, operation, &empty);
    } else {
        super::parse(model, operation, &empty).map_err(|e| format!("parse empty: {e}"))?;
        let typical =
            typical_response(model, operation).map_err(|e| format!("write typical: {e}"))?;
        super::parse(model, operation, &typical).map_err(|e| {
            format!(
                "parse typical {}: {e}",
                String::from_utf8_lossy(&typical.body)
                    .chars()
                    .take(300)
                    .collect::<String>()
            )
        })?;
    }
    match super::parse(model, operation, &error_response(model)) {
        Err(EngineError::Service(e))
            if e.code == "NoSuchThingAnywhere" && e.message == "it is not there" =>
        {
            Ok(())
        }
        other => Err(format!("parse error: {other:?}")),
    }
}

/// The prefix of a failure that is the model's, not the engine's.
const MODEL_DEFECT: &str = "model defect: ";

#[test]
fn every_operation_of_every_model() {
    let started = Instant::now();
    let models = Arc::new(Models::new(vec![]).expect("the embedded models load"));
    let client = AwsClient::builder()
        .models(models.clone())
        .build()
        .expect("client");
    let services = models.service_names();
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(1, 4);
    let chunks: Vec<Vec<String>> = (0..threads)
        .map(|t| services.iter().skip(t).step_by(threads).cloned().collect())
        .collect();
    let results: Vec<(usize, Vec<String>)> = std::thread::scope(|s| {
        let handles: Vec<_> = chunks
            .iter()
            .map(|chunk| {
                let client = client.clone();
                let models = models.clone();
                s.spawn(move || {
                    let mut count = 0;
                    let mut failures = Vec::new();
                    for service in chunk {
                        let model = match models.service(service) {
                            Ok(m) => m,
                            Err(e) => {
                                failures.push(format!("{service}: model: {e}"));
                                continue;
                            }
                        };
                        let keys: Vec<String> = model.operations.keys().cloned().collect();
                        for key in keys {
                            count += 1;
                            let r = catch_unwind(AssertUnwindSafe(|| {
                                check_operation(&client, service, &key)
                            }));
                            match r {
                                Ok(Ok(())) => {}
                                Ok(Err(why)) => failures.push(format!("{service}.{key}: {why}")),
                                Err(_) => failures.push(format!("{service}.{key}: panicked")),
                            }
                        }
                        let r = catch_unwind(AssertUnwindSafe(|| {
                            crate::catalogue::service_types(&models, &model)
                        }));
                        if r.is_err() {
                            failures.push(format!("{service}: catalogue panicked"));
                        }
                    }
                    (count, failures)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or((0, vec!["a worker thread died".into()])))
            .collect()
    });
    let count: usize = results.iter().map(|(c, _)| c).sum();
    let (defects, failures): (Vec<&String>, Vec<&String>) = results
        .iter()
        .flat_map(|(_, f)| f)
        .partition(|f| f.contains(MODEL_DEFECT));
    for d in &defects {
        eprintln!("  not callable, as in botocore: {d}");
    }
    eprintln!(
        "every operation: {count} operations of {} services in {:.1}s, {} failed",
        services.len(),
        started.elapsed().as_secs_f64(),
        failures.len()
    );
    for f in failures.iter().take(40) {
        eprintln!("  {f}");
    }
    assert!(count > 15_000, "only {count} operations");
    assert!(failures.is_empty(), "{} operations failed", failures.len());
}
