//! The protocol conformance runner: every case of a directory of botocore-format protocol
//! vectors (`input/*.json`, `output/*.json`, optional `ignore-list.json`) through the real
//! serializer and parser, with no network.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use base64::Engine as _;
use serde_json::{json, Value};

use aws_engine::error::EngineError;
use aws_engine::model::{ServiceModel, ShapeRef, ShapeType};
use aws_engine::protocol::{self, xml, WireResponse};
use aws_engine::timestamp::Timestamp;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Pass,
    Fail(String),
    Skip(String),
}

#[derive(Debug, Clone)]
pub struct CaseResult {
    pub protocol: String,
    /// "input" or "output".
    pub kind: &'static str,
    pub id: String,
    pub outcome: Outcome,
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

    fn suite(&self, proto: &str, kind: &str, desc: &str) -> bool {
        [proto, "*"].iter().any(|p| {
            self.suites
                .contains(&(p.to_string(), kind.to_string(), desc.to_string()))
        })
    }

    fn case(&self, proto: &str, kind: &str, id: &str) -> bool {
        [proto, "*"].iter().any(|p| {
            self.cases
                .contains(&(p.to_string(), kind.to_string(), id.to_string()))
        })
    }
}

/// Run every vector file in `dir` (`input/<protocol>.json`, `output/<protocol>.json`).
pub fn run_dir(dir: &Path) -> Result<Vec<CaseResult>, String> {
    let ignore = IgnoreList::load(dir);
    let mut results = Vec::new();
    for kind in ["input", "output"] {
        let sub = dir.join(kind);
        let mut files: Vec<_> = std::fs::read_dir(&sub)
            .map_err(|e| format!("{}: {e}", sub.display()))?
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        for file in files {
            let proto = file.file_stem().unwrap().to_string_lossy().to_string();
            let text =
                std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            let suites: Vec<Value> =
                serde_json::from_str(&text).map_err(|e| format!("{}: {e}", file.display()))?;
            for suite in &suites {
                let desc = suite["description"].as_str().unwrap_or_default();
                for case in suite["cases"].as_array().into_iter().flatten() {
                    let id = case["id"].as_str().unwrap_or_default().to_string();
                    let outcome =
                        if ignore.suite(&proto, kind, desc) || ignore.case(&proto, kind, &id) {
                            Outcome::Skip("in ignore-list.json".into())
                        } else {
                            let r = std::panic::catch_unwind(|| run_case(kind, suite, case));
                            match r {
                                Ok(Ok(())) => Outcome::Pass,
                                Ok(Err(Skip(why))) => Outcome::Skip(why),
                                Ok(Err(Failed(why))) => Outcome::Fail(why),
                                Err(_) => Outcome::Fail("panicked".into()),
                            }
                        };
                    results.push(CaseResult {
                        protocol: proto.clone(),
                        kind,
                        id,
                        outcome,
                    });
                }
            }
        }
    }
    Ok(results)
}

/// One line per protocol: `rest-json  input 110/113 passed, 0 failed, 3 skipped | output ...`.
pub fn summary(results: &[CaseResult]) -> Vec<String> {
    let mut by: BTreeMap<&str, [[usize; 3]; 2]> = BTreeMap::new();
    for r in results {
        let e = by.entry(&r.protocol).or_default();
        let k = usize::from(r.kind == "output");
        let i = match r.outcome {
            Outcome::Pass => 0,
            Outcome::Fail(_) => 1,
            Outcome::Skip(_) => 2,
        };
        e[k][i] += 1;
    }
    by.iter()
        .map(|(p, c)| {
            format!(
                "{p:<20} input: {} passed, {} failed, {} skipped | output: {} passed, {} failed, {} skipped",
                c[0][0], c[0][1], c[0][2], c[1][0], c[1][1], c[1][2]
            )
        })
        .collect()
}

enum CaseError {
    Skip(String),
    Failed(String),
}
use CaseError::{Failed, Skip};

fn fail<T>(msg: impl Into<String>) -> Result<T, CaseError> {
    Err(Failed(msg.into()))
}

fn model_for(suite: &Value, case: &Value) -> Result<ServiceModel, CaseError> {
    let given = &case["given"];
    let name = given["name"].as_str().unwrap_or("Op");
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
        .map_err(|e| Failed(format!("model: {e}")))
}

fn run_case(kind: &str, suite: &Value, case: &Value) -> Result<(), CaseError> {
    let model = model_for(suite, case)?;
    let proto = model.protocol().to_string();
    if !protocol::SUPPORTED.contains(&proto.as_str()) {
        return Err(Skip(format!("protocol {proto} is not implemented")));
    }
    let op = model
        .operations
        .values()
        .next()
        .ok_or_else(|| Failed("no operation".into()))?;
    if kind == "input" {
        check_input(&model, op, suite, case)
    } else {
        check_output(&model, op, case)
    }
}

fn check_input(
    model: &ServiceModel,
    op: &aws_engine::Operation,
    suite: &Value,
    case: &Value,
) -> Result<(), CaseError> {
    let params = case.get("params").cloned().unwrap_or(json!({}));
    let expected = &case["serialized"];
    let req = match protocol::serialize(model, op, &params) {
        Ok(r) => r,
        Err(e) => return fail(format!("serialize failed: {e}")),
    };
    if let Some(m) = expected["method"].as_str() {
        if !m.eq_ignore_ascii_case(&req.method) {
            return fail(format!("method {} != {m}", req.method));
        }
    }
    if let Some(uri) = expected["uri"].as_str() {
        if !same_uri(uri, &req.path) {
            return fail(format!("uri {} != {uri}", req.path));
        }
    }
    for (k, v) in expected["headers"].as_object().into_iter().flatten() {
        let want = v.as_str().unwrap_or_default();
        match req.header(k) {
            Some(got) if got == want => {}
            got => return fail(format!("header {k}: {got:?} != {want:?}")),
        }
    }
    for k in expected["requireHeaders"].as_array().into_iter().flatten() {
        if req.header(k.as_str().unwrap_or_default()).is_none() {
            return fail(format!("header {k} missing"));
        }
    }
    for k in expected["forbidHeaders"].as_array().into_iter().flatten() {
        if req.header(k.as_str().unwrap_or_default()).is_some() {
            return fail(format!("header {k} must not be sent"));
        }
    }
    if let Some(host) = expected["host"].as_str() {
        let endpoint = suite["clientEndpoint"]
            .as_str()
            .unwrap_or("https://example.com");
        let base = endpoint
            .split("://")
            .nth(1)
            .unwrap_or(endpoint)
            .trim_end_matches('/');
        let got = format!("{}{base}", req.host_prefix.as_deref().unwrap_or_default());
        if got != host {
            return fail(format!("host {got} != {host}"));
        }
    }
    let Some(want_body) = expected["body"].as_str() else {
        return Ok(()); // the vector does not constrain the body
    };
    let got_body = String::from_utf8_lossy(&req.body).into_owned();
    same_body(model.protocol(), &req, want_body, &got_body).map_err(Failed)
}

fn same_uri(want: &str, got: &str) -> bool {
    if want == got {
        return true;
    }
    let split = |u: &str| {
        let (p, q) = u.split_once('?').unwrap_or((u, ""));
        let mut qs: Vec<String> = q
            .split('&')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        qs.sort();
        (p.to_string(), qs)
    };
    split(want) == split(got)
}

fn same_body(
    proto: &str,
    req: &protocol::WireRequest,
    want: &str,
    got: &str,
) -> Result<(), String> {
    if want.trim().is_empty() && got.trim().is_empty() {
        return Ok(());
    }
    let ct = req.header("Content-Type").unwrap_or_default();
    match proto {
        "ec2" | "query" => {
            let mut a: Vec<&str> = want.split('&').collect();
            let mut b: Vec<&str> = got.split('&').collect();
            a.sort();
            b.sort();
            if a == b {
                Ok(())
            } else {
                Err(format!("form body {got} != {want}"))
            }
        }
        _ if ct.contains("json") || (proto == "json" && !want.trim_start().starts_with('<')) => {
            let a: Value =
                serde_json::from_str(want).map_err(|_| format!("body {got:?} != {want:?}"))?;
            let b: Value =
                serde_json::from_str(got).map_err(|_| format!("body {got:?} != {want:?}"))?;
            if json_eq(&a, &b) {
                Ok(())
            } else {
                Err(format!("JSON body {got} != {want}"))
            }
        }
        _ if want.trim_start().starts_with('<') => {
            let a =
                xml::parse_document(want.as_bytes()).map_err(|e| format!("expected XML: {e}"))?;
            let b =
                xml::parse_document(got.as_bytes()).map_err(|e| format!("our XML {got}: {e}"))?;
            if xml_eq(&a, &b) {
                Ok(())
            } else {
                Err(format!("XML body {got} != {want}"))
            }
        }
        _ if want == got => Ok(()),
        _ => Err(format!("body {got:?} != {want:?}")),
    }
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

fn xml_eq(a: &xml::XmlNode, b: &xml::XmlNode) -> bool {
    let mut aa = a.attrs.clone();
    let mut ba = b.attrs.clone();
    aa.sort();
    ba.sort();
    a.name == b.name
        && aa == ba
        && (a.children.is_empty() == b.children.is_empty())
        && (!a.children.is_empty() || a.text.trim() == b.text.trim())
        && a.children.len() == b.children.len()
        && a.children
            .iter()
            .zip(&b.children)
            .all(|(x, y)| xml_eq(x, y))
}

fn check_output(
    model: &ServiceModel,
    op: &aws_engine::Operation,
    case: &Value,
) -> Result<(), CaseError> {
    let r = &case["response"];
    let resp = WireResponse {
        status: r["status_code"].as_u64().unwrap_or(200) as u16,
        headers: r["headers"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
            .collect(),
        body: r["body"]
            .as_str()
            .unwrap_or_default()
            .as_bytes()
            .to_vec()
            .into(),
    };
    let parsed = protocol::parse(model, op, &resp);
    if case.get("error").is_some() || case.get("errorCode").is_some() {
        let want_code = case["errorCode"].as_str().unwrap_or_default();
        let e = match parsed {
            Err(EngineError::Api(e)) => *e,
            Err(other) => return fail(format!("expected API error {want_code}, got {other}")),
            Ok(v) => return fail(format!("expected API error {want_code}, got {v}")),
        };
        if e.code != want_code {
            return fail(format!("error code {} != {want_code}", e.code));
        }
        if let Some(m) = case["errorMessage"].as_str() {
            if e.message != m {
                return fail(format!("error message {:?} != {m:?}", e.message));
            }
        }
        if let Some(want) = case
            .get("error")
            .filter(|v| v.as_object().is_some_and(|o| !o.is_empty()))
        {
            let got = e.details.unwrap_or(json!({}));
            let shape_name = op
                .errors
                .iter()
                .find(|r| {
                    r.shape == want_code
                        || model
                            .shape(&r.shape)
                            .ok()
                            .and_then(|s| s.error.as_ref())
                            .and_then(|e| e.code.as_deref())
                            == Some(want_code)
                })
                .map(|r| r.shape.clone());
            let Some(shape_name) = shape_name else {
                return fail("no error shape for the code");
            };
            let r = ShapeRef {
                shape: shape_name,
                ..Default::default()
            };
            compare(model, &r, want, &got, "$").map_err(Failed)?;
        }
        return Ok(());
    }
    let got = match parsed {
        Ok(v) => v,
        Err(e) => return fail(format!("parse failed: {e}")),
    };
    let want = case.get("result").cloned().unwrap_or(json!({}));
    match &op.output {
        Some(out) => compare(model, out, &want, &got, "$").map_err(Failed),
        None if got.as_object().is_some_and(|o| o.is_empty()) => Ok(()),
        None => fail(format!("unexpected output {got}")),
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
    match shape.kind {
        ShapeType::Structure if !shape.document => {
            let (Some(w), Some(g)) = (want.as_object(), got.as_object()) else {
                return Err(mismatch());
            };
            for (k, v) in w {
                if k == "ResponseMetadata" {
                    continue;
                }
                let member = shape
                    .members
                    .get(k)
                    .ok_or_else(|| format!("{path}.{k}: not a member"))?;
                match g.get(k) {
                    Some(x) => compare(model, member, v, x, &format!("{path}.{k}"))?,
                    None if v.is_null() => {}
                    None => return Err(format!("{path}.{k}: missing, want {v}")),
                }
            }
            for k in g.keys() {
                if !w.contains_key(k) {
                    return Err(format!("{path}.{k}: unexpected {}", g[k]));
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
