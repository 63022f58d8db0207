//! The protocol conformance runner: every case of a directory of botocore-format protocol
//! vectors (`input/*.json`, `output/*.json`, optional `ignore-list.json`) through the real
//! serializer and parser, with no network.
//!
//! It checks what botocore's own runner (`tests/unit/test_protocols.py`) checks, the way it
//! checks it, so a vector botocore passes is a vector the engine must pass:
//! - input: the method, the URI with its query string (exactly), the host when the vector
//!   names one; the expected headers (query/ec2 `Content-Type` with `; charset=utf-8`,
//!   rest-xml's and non-JSON rest-json `Content-Type` not checked, list headers compared
//!   without the space after commas) and the forbidden ones; the body — JSON by value,
//!   XML canonicalized with text trimmed, CBOR by decoded value, anything else byte for byte
//!   (form bodies re-encoded as botocore's runner encodes its dict);
//! - output: the parsed result, or for error cases `Error.Code`, `Error.Message` and the
//!   members of the modeled error shape botocore finds for the code.
//!
//! Each case is reported per class of check (`uri`, `headers`, `body` for input; `result`
//! or `error` for output), named by file, suite and case index (`suite:case`, as botocore
//! numbers them) and its id when it has one.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use base64::Engine as _;
use serde_json::{json, Value};

use aws_engine::error::EngineError;
use aws_engine::model::{ServiceModel, ShapeRef, ShapeType};
use aws_engine::protocol::{self, WireResponse};
use aws_engine::timestamp::Timestamp;

mod xmlcmp;

/// A vector directory that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ConformanceError {
    #[error("{path}: {message}")]
    Read { path: String, message: String },
}

/// What one check of one case came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Pass,
    Fail(String),
    Skip(String),
}

/// A class of check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Check {
    Uri,
    Headers,
    Body,
    Result,
    Error,
}

impl Check {
    pub fn name(self) -> &'static str {
        match self {
            Check::Uri => "uri",
            Check::Headers => "headers",
            Check::Body => "body",
            Check::Result => "result",
            Check::Error => "error",
        }
    }
}

#[derive(Debug, Clone)]
pub struct CaseResult {
    /// The file's stem: `ec2`, `rest-json`, `smithy-rpc-v2-cbor`, ...
    pub protocol: String,
    /// "input" or "output".
    pub kind: &'static str,
    /// The suite's index in its file and the case's index in its suite.
    pub suite: usize,
    pub case: usize,
    /// The suite's description.
    pub description: String,
    /// The case's id ("" when the vector has none).
    pub id: String,
    /// The whole case: `Fail` if any check failed (the first failure's reason).
    pub outcome: Outcome,
    /// Each check that applies to the case.
    pub checks: Vec<(Check, Outcome)>,
}

impl CaseResult {
    /// `rest-json input 12:3 (RestJsonFoo)`.
    pub fn name(&self) -> String {
        let id = if self.id.is_empty() {
            format!("\"{}\"", self.description)
        } else {
            self.id.clone()
        };
        format!(
            "{} {} {}:{} {id}",
            self.protocol, self.kind, self.suite, self.case
        )
    }
}

#[derive(Default)]
struct IgnoreList {
    suites: HashSet<(String, String, String)>,
    cases: HashSet<(String, String, String)>,
}

impl IgnoreList {
    fn load(dir: &Path) -> Self {
        let mut out = IgnoreList::default();
        let Ok(text) = std::fs::read_to_string(dir.join("ignore-list.json")) else {
            return out;
        };
        let Ok(v) = serde_json::from_str::<Value>(&text) else {
            return out;
        };
        let mut add = |proto: &str, section: &Value| {
            for kind in ["input", "output"] {
                for s in section[kind]["suites"].as_array().into_iter().flatten() {
                    out.suites.insert((
                        proto.into(),
                        kind.into(),
                        s.as_str().unwrap_or_default().into(),
                    ));
                }
                for c in section[kind]["cases"].as_array().into_iter().flatten() {
                    out.cases.insert((
                        proto.into(),
                        kind.into(),
                        c.as_str().unwrap_or_default().into(),
                    ));
                }
            }
        };
        add("*", &v["general"]);
        for (proto, section) in v["protocols"].as_object().into_iter().flatten() {
            add(proto, section);
        }
        out
    }

    fn ignored(&self, proto: &str, kind: &str, desc: &str, id: &str) -> bool {
        [proto, "*"].iter().any(|p| {
            self.suites
                .contains(&(p.to_string(), kind.to_string(), desc.to_string()))
                || (!id.is_empty()
                    && self
                        .cases
                        .contains(&(p.to_string(), kind.to_string(), id.to_string())))
        })
    }
}

/// Run every vector file in `dir` (`input/<protocol>.json`, `output/<protocol>.json`).
pub fn run_dir(dir: &Path) -> Result<Vec<CaseResult>, ConformanceError> {
    let ignore = IgnoreList::load(dir);
    let mut results = Vec::new();
    let read_err = |path: &Path, e: &dyn std::fmt::Display| ConformanceError::Read {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    for kind in ["input", "output"] {
        let sub = dir.join(kind);
        let mut files: Vec<_> = std::fs::read_dir(&sub)
            .map_err(|e| read_err(&sub, &e))?
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        for file in files {
            let proto = file
                .file_stem()
                .map(|s| s.to_string_lossy().to_string())
                .unwrap_or_default();
            let text = std::fs::read_to_string(&file).map_err(|e| read_err(&file, &e))?;
            let suites: Vec<Value> =
                serde_json::from_str(&text).map_err(|e| read_err(&file, &e))?;
            for (si, suite) in suites.iter().enumerate() {
                let desc = suite["description"].as_str().unwrap_or_default();
                for (ci, case) in suite["cases"].as_array().into_iter().flatten().enumerate() {
                    let id = case["id"].as_str().unwrap_or_default().to_string();
                    let checks = if ignore.ignored(&proto, kind, desc, &id) {
                        vec![]
                    } else {
                        let r = std::panic::catch_unwind(|| run_case(kind, suite, case));
                        match r {
                            Ok(checks) => checks,
                            Err(_) => vec![(
                                if kind == "input" {
                                    Check::Body
                                } else {
                                    Check::Result
                                },
                                Outcome::Fail("panicked".into()),
                            )],
                        }
                    };
                    let outcome = if checks.is_empty() {
                        Outcome::Skip("in ignore-list.json".into())
                    } else {
                        checks
                            .iter()
                            .find_map(|(c, o)| match o {
                                Outcome::Fail(why) => {
                                    Some(Outcome::Fail(format!("{}: {why}", c.name())))
                                }
                                _ => None,
                            })
                            .unwrap_or(Outcome::Pass)
                    };
                    results.push(CaseResult {
                        protocol: proto.clone(),
                        kind,
                        suite: si,
                        case: ci,
                        description: desc.to_string(),
                        id,
                        outcome,
                        checks,
                    });
                }
            }
        }
    }
    Ok(results)
}

/// One line per protocol and kind: cases passed/failed/skipped, then each class of check.
/// `rest-json  input: 101 passed, 0 failed, 12 skipped (uri 101/101, headers 101/101, body 101/101)`.
pub fn summary(results: &[CaseResult]) -> Vec<String> {
    #[derive(Default)]
    struct Tally {
        cases: [usize; 3],
        checks: BTreeMap<Check, (usize, usize)>,
    }
    let mut by: BTreeMap<(&str, &str), Tally> = BTreeMap::new();
    for r in results {
        let t = by.entry((&r.protocol, r.kind)).or_default();
        t.cases[match r.outcome {
            Outcome::Pass => 0,
            Outcome::Fail(_) => 1,
            Outcome::Skip(_) => 2,
        }] += 1;
        for (c, o) in &r.checks {
            let e = t.checks.entry(*c).or_default();
            e.1 += 1;
            if *o == Outcome::Pass {
                e.0 += 1;
            }
        }
    }
    by.iter()
        .map(|((p, k), t)| {
            let checks: Vec<String> = t
                .checks
                .iter()
                .map(|(c, (pass, all))| format!("{} {pass}/{all}", c.name()))
                .collect();
            format!(
                "{p:<40} {k:<6} {:>4} passed, {} failed, {} skipped ({})",
                t.cases[0],
                t.cases[1],
                t.cases[2],
                checks.join(", ")
            )
        })
        .collect()
}

/// The first `n` failing cases, one line each: name, class and reason.
pub fn failures(results: &[CaseResult], n: usize) -> Vec<String> {
    results
        .iter()
        .filter_map(|r| match &r.outcome {
            Outcome::Fail(why) => Some(format!("FAIL {}: {why}", r.name())),
            _ => None,
        })
        .take(n)
        .collect()
}

fn model_for(suite: &Value, case: &Value) -> Result<ServiceModel, String> {
    let given = &case["given"];
    let name = given["name"].as_str().unwrap_or("OperationName");
    let mut metadata = suite["metadata"].clone();
    if metadata.get("apiVersion").is_none() {
        metadata["apiVersion"] = json!("2020-01-01");
    }
    let service = json!({
        "metadata": metadata,
        "operations": {name: given},
        "shapes": suite["shapes"],
    });
    ServiceModel::from_json("conformance", service, json!({}), "vectors".into())
        .map_err(|e| format!("model: {e}"))
}

fn run_case(kind: &str, suite: &Value, case: &Value) -> Vec<(Check, Outcome)> {
    let classes: &[Check] = if kind == "input" {
        &[Check::Uri, Check::Headers, Check::Body]
    } else if case.get("error").is_some() {
        &[Check::Error]
    } else {
        &[Check::Result]
    };
    let all = |o: Outcome| classes.iter().map(|c| (*c, o.clone())).collect();
    let model = match model_for(suite, case) {
        Ok(m) => m,
        Err(e) => return all(Outcome::Fail(e)),
    };
    let proto = model.protocol().to_string();
    if !protocol::SUPPORTED.contains(&proto.as_str()) {
        return all(Outcome::Fail(format!(
            "protocol {proto} is not implemented"
        )));
    }
    let Some(op) = model.operations.values().next() else {
        return all(Outcome::Fail("no operation".into()));
    };
    if kind == "input" {
        check_input(&model, op, suite, case)
    } else {
        vec![(classes[0], check_output(&model, op, case).into())]
    }
}

impl From<Result<(), String>> for Outcome {
    fn from(r: Result<(), String>) -> Self {
        match r {
            Ok(()) => Outcome::Pass,
            Err(e) => Outcome::Fail(e),
        }
    }
}

fn check_input(
    model: &ServiceModel,
    op: &aws_engine::Operation,
    suite: &Value,
    case: &Value,
) -> Vec<(Check, Outcome)> {
    let params = case.get("params").cloned().unwrap_or(json!({}));
    let expected = &case["serialized"];
    let req = match protocol::serialize_request(model, op, &params) {
        Ok(r) => r,
        Err(e) => {
            let why = Outcome::Fail(format!("serialize failed: {e}"));
            return vec![
                (Check::Uri, why.clone()),
                (Check::Headers, why.clone()),
                (Check::Body, why),
            ];
        }
    };
    let proto = model.protocol();
    vec![
        (Check::Uri, check_uri(&req, expected, suite).into()),
        (
            Check::Headers,
            check_headers(model, op, proto, &req, expected).into(),
        ),
        (Check::Body, check_body(proto, &req, expected).into()),
    ]
}

fn check_uri(req: &protocol::WireRequest, expected: &Value, suite: &Value) -> Result<(), String> {
    let want = expected["uri"].as_str().unwrap_or_default();
    if req.path != want {
        return Err(format!("uri {} != {want}", req.path));
    }
    if let Some(m) = expected["method"].as_str() {
        if m != req.method {
            return Err(format!("method {} != {m}", req.method));
        }
    }
    if let Some(host) = expected["host"].as_str() {
        let endpoint = suite["clientEndpoint"]
            .as_str()
            .unwrap_or("https://example.com");
        let base = endpoint.split_once("://").map_or(endpoint, |(_, h)| h);
        let base = base.split('/').next().unwrap_or(base);
        let got = format!("{}{base}", req.host_prefix.as_deref().unwrap_or_default());
        if got != host {
            return Err(format!("host {got} != {host}"));
        }
    }
    Ok(())
}

fn check_headers(
    model: &ServiceModel,
    op: &aws_engine::Operation,
    proto: &str,
    req: &protocol::WireRequest,
    expected: &Value,
) -> Result<(), String> {
    // The input's list-typed header members (botocore's `_clean_list_header_values`).
    let mut list_headers: Vec<(String, bool)> = Vec::new();
    if let Some(input) = op.input.as_ref().and_then(|i| model.shape(&i.shape).ok()) {
        for member in input.members.values() {
            let Some(name) = &member.location_name else {
                continue;
            };
            let Ok(target) = model.shape(&member.shape) else {
                continue;
            };
            if member.location.as_deref() == Some("header") && target.kind == ShapeType::List {
                let ts = target
                    .member
                    .as_ref()
                    .and_then(|m| model.shape(&m.shape).ok())
                    .is_some_and(|s| s.kind == ShapeType::Timestamp);
                list_headers.push((name.to_ascii_lowercase(), ts));
            }
        }
    }
    let list_header = |name: &str| {
        list_headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, ts)| *ts)
    };
    for (k, v) in expected["headers"].as_object().into_iter().flatten() {
        let mut want = v.as_str().unwrap_or_default().to_string();
        if k.eq_ignore_ascii_case("content-type") {
            match proto {
                "query" | "ec2" if !want.contains("charset=utf-8") => {
                    want.push_str("; charset=utf-8")
                }
                "rest-xml" => continue,
                "rest-json" if want != "application/json" => continue,
                _ => {}
            }
        }
        let mut got = req.header(k).map(str::to_string);
        if let Some(ts) = list_header(k) {
            want = want.replace(", ", ",");
            if ts {
                got = got.map(|g| g.replace(", ", ","));
            }
        }
        match got {
            Some(g) if g == want => {}
            g => return Err(format!("header {k}: {g:?} != {want:?}")),
        }
    }
    for k in expected["forbidHeaders"].as_array().into_iter().flatten() {
        let k = k.as_str().unwrap_or_default();
        if req.header(k).is_some() {
            return Err(format!("header {k} must not be sent"));
        }
    }
    Ok(())
}

fn check_body(proto: &str, req: &protocol::WireRequest, expected: &Value) -> Result<(), String> {
    let got = &req.body;
    if proto == "smithy-rpc-v2-cbor" && !got.is_empty() {
        let want = base64::engine::general_purpose::STANDARD
            .decode(expected["body"].as_str().unwrap_or_default())
            .map_err(|e| format!("expected body is not base64: {e}"))?;
        let a = protocol::cbor_to_json(&want).map_err(|e| format!("expected body: {e}"))?;
        let b = protocol::cbor_to_json(got).map_err(|e| format!("our body: {e}"))?;
        return if json_eq(&a, &b) {
            Ok(())
        } else {
            Err(format!("CBOR body {b} != {a}"))
        };
    }
    let Some(want) = expected["body"].as_str() else {
        return Ok(()); // the vector does not constrain the body
    };
    let got_text = String::from_utf8_lossy(got);
    match proto {
        "json" | "rest-json" => {
            match (
                serde_json::from_str::<Value>(want),
                serde_json::from_slice::<Value>(got),
            ) {
                (Ok(a), Ok(b)) if json_eq(&a, &b) => Ok(()),
                (Ok(a), Ok(b)) => Err(format!("JSON body {b} != {a}")),
                _ if proto == "rest-json" && want.as_bytes() == &got[..] => Ok(()),
                _ => Err(format!("body {got_text:?} != {want:?}")),
            }
        }
        "rest-xml" => match (xmlcmp::canonical(want), xmlcmp::canonical(&got_text)) {
            (Ok(a), Ok(b)) if a == b => Ok(()),
            (Ok(_), Ok(_)) => Err(format!("XML body {got_text} != {want}")),
            _ if want == got_text => Ok(()),
            _ => Err(format!("body {got_text:?} != {want:?}")),
        },
        "query" | "ec2" => {
            let ours = reencode_form(&got_text);
            if ours == want {
                Ok(())
            } else {
                Err(format!("form body {ours} != {want}"))
            }
        }
        _ if want.as_bytes() == &got[..] => Ok(()),
        _ => Err(format!("body {got_text:?} != {want:?}")),
    }
}

/// A form body as botocore's runner writes its dict (`percent_encode_sequence`: spaces as
/// `%20`, not `+`).
fn reencode_form(body: &str) -> String {
    let decode = |s: &str| {
        let s = s.replace('+', " ");
        let bytes = s.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            match (bytes.get(i), hex) {
                (Some(b'%'), Some(b)) => {
                    out.push(b);
                    i += 3;
                }
                (Some(b), _) => {
                    out.push(*b);
                    i += 1;
                }
                (None, _) => break,
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    };
    let encode = |s: &str| {
        let mut out = String::new();
        for b in s.bytes() {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                out.push(char::from(b));
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
        out
    };
    body.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            format!("{}={}", encode(&decode(k)), encode(&decode(v)))
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

fn check_output(
    model: &ServiceModel,
    op: &aws_engine::Operation,
    case: &Value,
) -> Result<(), String> {
    let r = &case["response"];
    // CBOR bodies and event streams are base64 in the vectors (botocore's runner decodes
    // them too).
    let event_stream = op
        .output
        .as_ref()
        .and_then(|o| model.shape(&o.shape).ok())
        .is_some_and(|s| {
            s.members
                .values()
                .any(|m| model.shape(&m.shape).is_ok_and(|t| t.eventstream))
        });
    let cbor = model.protocol() == "smithy-rpc-v2-cbor" || event_stream;
    let body: Vec<u8> = match r.get("body").and_then(Value::as_str) {
        Some(b) if cbor => base64::engine::general_purpose::STANDARD
            .decode(b)
            .map_err(|e| format!("response body is not base64: {e}"))?,
        Some(b) => b.as_bytes().to_vec(),
        None if model.protocol() == "query" => b"<xml/>".to_vec(),
        None => vec![],
    };
    let resp = WireResponse {
        status: r["status_code"]
            .as_u64()
            .and_then(|s| u16::try_from(s).ok())
            .unwrap_or(200),
        headers: r["headers"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
            .collect(),
        body: body.into(),
    };
    let parsed = protocol::parse(model, op, &resp);
    if let Some(want_details) = case.get("error") {
        let want_code = case["errorCode"].as_str().unwrap_or_default();
        let want_message = case["errorMessage"].as_str().unwrap_or_default();
        let e = match parsed {
            Err(EngineError::Service(e)) => *e,
            Err(other) => return Err(format!("expected API error {want_code}, got {other}")),
            Ok(v) => return Err(format!("expected API error {want_code}, got {v}")),
        };
        if e.code != want_code {
            return Err(format!("Error.Code {:?} != {want_code:?}", e.code));
        }
        if e.message != want_message {
            return Err(format!("Error.Message {:?} != {want_message:?}", e.message));
        }
        let got = e.details.unwrap_or(json!({}));
        let shape_name = model.shape_names().find(|name| {
            model.is_exception_shape(name)
                && model.shape(name).is_ok_and(|s| {
                    s.error
                        .as_ref()
                        .and_then(|e| e.code.as_deref())
                        .unwrap_or(name)
                        == want_code
                })
        });
        return match shape_name {
            Some(name) => {
                let r = ShapeRef {
                    shape: name.clone(),
                    ..Default::default()
                };
                compare(model, &r, want_details, &got, "$")
            }
            None if json_eq(want_details, &json!({})) && json_eq(&got, &json!({})) => Ok(()),
            None => Err(format!("error members {got} != {want_details}")),
        };
    }
    let got = parsed.map_err(|e| format!("parse failed: {e}"))?;
    let want = case.get("result").cloned().unwrap_or(json!({}));
    match &op.output {
        Some(out) => compare(model, out, &want, &got, "$"),
        None if got.as_object().is_some_and(|o| o.is_empty()) => Ok(()),
        None => Err(format!("unexpected output {got}")),
    }
}

/// Compare an expected botocore result with ours, knowing the shape: timestamps as
/// instants, blobs as bytes (ours are base64), numbers numerically.
fn compare(
    model: &ServiceModel,
    r: &ShapeRef,
    want: &Value,
    got: &Value,
    path: &str,
) -> Result<(), String> {
    let shape = model.shape(&r.shape).map_err(|e| e.to_string())?;
    let mismatch = || format!("{path}: got {got}, want {want}");
    if want.is_null() && got.is_null() {
        return Ok(());
    }
    match shape.kind {
        // An event stream: a list of {EventType: event}.
        ShapeType::Structure if shape.eventstream => {
            let (Some(w), Some(g)) = (want.as_array(), got.as_array()) else {
                return Err(mismatch());
            };
            if w.len() != g.len() {
                return Err(mismatch());
            }
            for (i, (a, b)) in w.iter().zip(g).enumerate() {
                let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else {
                    return Err(mismatch());
                };
                if a.len() != b.len() {
                    return Err(mismatch());
                }
                for (k, v) in a {
                    let (Some(m), Some(x)) = (shape.members.get(k), b.get(k)) else {
                        return Err(mismatch());
                    };
                    compare(model, m, v, x, &format!("{path}[{i}].{k}"))?;
                }
            }
            Ok(())
        }
        ShapeType::Structure if !shape.document => {
            let (Some(w), Some(g)) = (want.as_object(), got.as_object()) else {
                return Err(mismatch());
            };
            for (k, v) in w {
                if k == "ResponseMetadata" {
                    continue;
                }
                let Some(member) = shape.members.get(k) else {
                    // Not a member (SDK_UNKNOWN_MEMBER): compare as plain JSON.
                    return match g.get(k) {
                        Some(x) if json_eq(v, x) => continue,
                        _ => Err(format!("{path}.{k}: got {:?}, want {v}", g.get(k))),
                    };
                };
                match g.get(k) {
                    Some(x) => compare(model, member, v, x, &format!("{path}.{k}"))?,
                    None if v.is_null() => {}
                    None => return Err(format!("{path}.{k}: missing, want {v}")),
                }
            }
            for (k, v) in g {
                if !w.contains_key(k) {
                    return Err(format!("{path}.{k}: unexpected {v}"));
                }
            }
            Ok(())
        }
        ShapeType::List => {
            let (Some(w), Some(g)) = (want.as_array(), got.as_array()) else {
                return Err(mismatch());
            };
            if w.len() != g.len() {
                return Err(mismatch());
            }
            let m = shape.member.as_ref().ok_or("list without member")?;
            for (i, (a, b)) in w.iter().zip(g).enumerate() {
                compare(model, m, a, b, &format!("{path}[{i}]"))?;
            }
            Ok(())
        }
        ShapeType::Map => {
            let (Some(w), Some(g)) = (want.as_object(), got.as_object()) else {
                return Err(mismatch());
            };
            if w.len() != g.len() {
                return Err(mismatch());
            }
            let m = shape.value.as_ref().ok_or("map without value")?;
            for (k, v) in w {
                let x = g.get(k).ok_or_else(mismatch)?;
                compare(model, m, v, x, &format!("{path}.{k}"))?;
            }
            Ok(())
        }
        ShapeType::Timestamp => {
            let instant = |v: &Value| match v {
                Value::Number(n) => n.as_f64().and_then(Timestamp::from_epoch),
                Value::String(s) => Timestamp::parse(s),
                _ => None,
            };
            match (instant(want), instant(got)) {
                (Some(a), Some(b)) if a.0 == b.0 => Ok(()),
                _ => Err(mismatch()),
            }
        }
        ShapeType::Blob => {
            let decoded = got
                .as_str()
                .and_then(|s| base64::engine::general_purpose::STANDARD.decode(s).ok());
            match (want.as_str(), decoded) {
                (Some(w), Some(g)) if w.as_bytes() == g.as_slice() => Ok(()),
                _ if want == got => Ok(()),
                _ => Err(mismatch()),
            }
        }
        ShapeType::Float | ShapeType::Double => match (want, got) {
            (Value::Number(a), Value::Number(b)) if a.as_f64() == b.as_f64() => Ok(()),
            (Value::String(a), Value::String(b)) if a == b => Ok(()),
            _ => Err(mismatch()),
        },
        _ => {
            if json_eq(want, got) {
                Ok(())
            } else {
                Err(mismatch())
            }
        }
    }
}
