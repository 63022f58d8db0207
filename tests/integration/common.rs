//! Test fixtures: a moto server on a free loopback port (one per test, so tests never share
//! state), boto3 as the reference client, the mrhost binary, and the plugins it runs.

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn in_ci() -> bool {
    std::env::var("CI")
        .map(|v| v == "true" || v == "1")
        .unwrap_or(false)
}

/// The Python that has moto and boto3: `MRHOST_PYTHON`, else the repo's `.venv`.
pub fn python() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("MRHOST_PYTHON") {
        return Some(PathBuf::from(p));
    }
    let p = repo_root().join(".venv/bin/python");
    p.exists().then_some(p)
}

/// Dummy credentials and a region, IMDS off: nothing may reach 169.254.169.254 or AWS.
pub fn safe_env(cmd: &mut Command) {
    for (k, _) in std::env::vars() {
        if k.starts_with("AWS_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", empty_file("config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", empty_file("credentials"))
        .env("TZ", "UTC")
        // Each test starts from its own moto: cached answers from another test would lie.
        // The cache tests turn it back on.
        .env("MRHOST_NO_CACHE", "1")
        // What mrhost learns about keys stays in the test's scratch directory.
        .env("XDG_STATE_HOME", cache_dir().join("state"))
        .env_remove("MRHOST_REGIONS")
        .env_remove("MRHOST_LOG");
}

/// An empty file in the test's scratch directory (stands in for ~/.aws/config).
fn empty_file(name: &str) -> PathBuf {
    let p = cache_dir().join(format!("empty-{name}"));
    if !p.exists() {
        std::fs::write(&p, "").unwrap();
    }
    p
}

pub struct Moto {
    child: Child,
    pub port: u16,
    pub url: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Start moto, or return `None` (test skipped, said out loud) when moto is not installed —
/// except under `CI=true`, where a missing moto fails the test.
pub fn moto() -> Option<Moto> {
    let Some(py) = python() else {
        if in_ci() {
            panic!("moto is required under CI=true: no .venv/bin/python (run scripts/setup.sh) and no MRHOST_PYTHON");
        }
        eprintln!("SKIPPED: moto not installed (run scripts/setup.sh)");
        return None;
    };
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cmd = Command::new(&py);
    cmd.args([
        "-m",
        "moto.server",
        "-H",
        "127.0.0.1",
        "-p",
        &port.to_string(),
    ])
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    safe_env(&mut cmd);
    let child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) if !in_ci() => {
            eprintln!("SKIPPED: cannot start moto: {e}");
            return None;
        }
        Err(e) => panic!("cannot start moto with {}: {e}", py.display()),
    };
    let moto = Moto {
        child,
        port,
        url: format!("http://127.0.0.1:{port}"),
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "moto did not start on port {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Some(moto)
}

/// Create an Organization on moto (in us-east-1) with `n` member accounts, member `i` with
/// the e-mail `{email}{i}@example.com` and the name `{name}{i}`; their ids, in order.
pub fn create_org(moto: &Moto, n: usize, email: &str, name: &str) -> Vec<String> {
    let mut calls = vec![b3(
        "us-east-1",
        "organizations",
        "CreateOrganization",
        json!({"FeatureSet": "ALL"}),
    )];
    for i in 0..n {
        calls.push(b3(
            "us-east-1",
            "organizations",
            "CreateAccount",
            json!({"Email": format!("{email}{i}@example.com"), "AccountName": format!("{name}{i}")}),
        ));
    }
    moto.boto3(calls)[1..]
        .iter()
        .map(|r| {
            r["CreateAccountStatus"]["AccountId"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

/// A call for boto3 (see tests/py/aws.py).
pub fn b3(region: &str, service: &str, operation: &str, params: Value) -> Value {
    json!({"region": region, "service": service, "operation": operation, "params": params})
}

pub fn b3_paged(region: &str, service: &str, operation: &str, params: Value) -> Value {
    json!({"region": region, "service": service, "operation": operation, "params": params, "paginate": true})
}

pub fn b3_save(region: &str, service: &str, operation: &str, params: Value, save: &str) -> Value {
    json!({"region": region, "service": service, "operation": operation, "params": params, "save": save})
}

impl Moto {
    /// Run calls through boto3 against this server; one result per call.
    pub fn boto3(&self, calls: Vec<Value>) -> Vec<Value> {
        self.boto3_with(calls, |_| {})
    }

    /// [`Moto::boto3`] with changes to boto3's environment (profiles, keys).
    pub fn boto3_with(&self, calls: Vec<Value>, extra: impl FnOnce(&mut Command)) -> Vec<Value> {
        boto3_at(&self.url, calls, extra)
    }

    /// Run mrhost against this server.
    pub fn mrhost(&self, args: &[&str]) -> Run {
        let mut full: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        if !full.iter().any(|a| a == "--endpoint-url") && !matches!(args.first(), Some(&"plugins"))
        {
            full.push("--endpoint-url".into());
            full.push(self.url.clone());
        }
        mrhost(&full.iter().map(String::as_str).collect::<Vec<_>>())
    }
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    /// `mrhost call`'s list of scopes (`[{RequestAccount, RequestRegion, ...response}]`)
    /// as `{region: response}`, for tests of one account that look a region up.
    pub fn by_region(&self) -> Value {
        let mut out = serde_json::Map::new();
        let doc = self.json();
        let items = doc.as_array().unwrap_or_else(|| {
            panic!("call prints a list of scopes: {}", self.stdout);
        });
        for item in items {
            let mut m = item.as_object().cloned().expect("a scope is an object");
            m.shift_remove("RequestAccount");
            let region = m
                .shift_remove("RequestRegion")
                .and_then(|r| r.as_str().map(str::to_string))
                .expect("each scope has RequestRegion");
            out.insert(region, Value::Object(m));
        }
        Value::Object(out)
    }

    pub fn ok(self) -> Self {
        assert_eq!(
            self.code, 0,
            "mrhost failed:\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

/// The per-process compile cache, so tests don't write to the user's cache.
pub fn cache_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("mrhost-test-cache-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    })
    .clone()
}

/// Run mrhost and sample its peak resident memory (VmHWM) while it runs; KiB.
pub fn mrhost_measured(args: &[&str], extra: impl FnOnce(&mut Command)) -> (Run, u64) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mrhost"));
    cmd.args(args)
        .current_dir(repo_root())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    safe_env(&mut cmd);
    cmd.env("MRHOST_CACHE_DIR", cache_dir());
    extra(&mut cmd);
    let started = Instant::now();
    let mut child = cmd.spawn().expect("run mrhost");
    let pid = child.id();
    // Drain the pipes on threads so a chatty run never blocks on a full pipe.
    let mut out_pipe = child.stdout.take().unwrap();
    let mut err_pipe = child.stderr.take().unwrap();
    let out_t = std::thread::spawn(move || {
        let mut s = Vec::new();
        std::io::Read::read_to_end(&mut out_pipe, &mut s).unwrap();
        s
    });
    let err_t = std::thread::spawn(move || {
        let mut s = Vec::new();
        std::io::Read::read_to_end(&mut err_pipe, &mut s).unwrap();
        s
    });
    let mut peak = 0u64;
    let status = loop {
        if let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
            if let Some(kb) = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            {
                peak = peak.max(kb);
            }
        }
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let run = Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out_t.join().unwrap()).into_owned(),
        stderr: String::from_utf8_lossy(&err_t.join().unwrap()).into_owned(),
        elapsed: started.elapsed(),
    };
    (run, peak)
}

pub fn mrhost(args: &[&str]) -> Run {
    mrhost_with(args, |_| {})
}

pub fn mrhost_with(args: &[&str], extra: impl FnOnce(&mut Command)) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mrhost"));
    cmd.args(args).current_dir(repo_root());
    safe_env(&mut cmd);
    cmd.env("MRHOST_CACHE_DIR", cache_dir());
    extra(&mut cmd);
    let started = Instant::now();
    let out: Output = cmd.output().expect("run mrhost");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: started.elapsed(),
    }
}

/// Build every plugin (bundled and test-only) once per test process; returns the path of
/// one. Runs the same script as the README's commands.
pub fn plugin(name: &str) -> PathBuf {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let status = Command::new("bash")
            .arg(repo_root().join("scripts/build-plugins.sh"))
            .current_dir(repo_root())
            .status()
            .expect("run scripts/build-plugins.sh");
        assert!(status.success(), "building plugins failed");
    });
    for dir in ["plugins", "tests/plugins"] {
        let p = repo_root().join(dir).join(format!("{name}.wasm"));
        if p.exists() {
            return p;
        }
    }
    panic!("no plugin {name}.wasm after building");
}

/// Equal as JSON, and every object's keys in the same order (boto3's dicts follow the
/// model's member order; so must mrhost's output).
pub fn assert_same_json(ours: &Value, reference: &Value, context: &str) {
    if ours != reference {
        panic!(
            "{context}: mrhost and boto3 differ at {}\nmrhost: {}\nboto3:  {}",
            first_diff(ours, reference, "$"),
            serde_json::to_string(ours).unwrap(),
            serde_json::to_string(reference).unwrap()
        );
    }
    check_order(ours, reference, context, "$");
}

/// Where two JSON values first differ, with both sides.
pub fn first_diff(a: &Value, b: &Value, path: &str) -> String {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, v) in x {
                match y.get(k) {
                    None => return format!("{path}.{k}: only in mrhost ({v})"),
                    Some(w) if v != w => return first_diff(v, w, &format!("{path}.{k}")),
                    _ => {}
                }
            }
            for (k, w) in y {
                if !x.contains_key(k) {
                    return format!("{path}.{k}: only in boto3 ({w})");
                }
            }
            format!("{path}: ?")
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                if v != w {
                    return first_diff(v, w, &format!("{path}[{i}]"));
                }
            }
            format!("{path}: ?")
        }
        _ => format!("{path}: mrhost {a} / boto3 {b}"),
    }
}

fn check_order(a: &Value, b: &Value, context: &str, path: &str) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let kx: Vec<&String> = x.keys().collect();
            let ky: Vec<&String> = y.keys().collect();
            assert_eq!(kx, ky, "{context}: key order differs at {path}");
            for (k, v) in x {
                check_order(v, &y[k], context, &format!("{path}.{k}"));
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                check_order(v, w, context, &format!("{path}[{i}]"));
            }
        }
        _ => {}
    }
}

pub fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// An item as mrhost emits it, from boto3's: `TagsMap` and `Name` from its AWS tag list
/// (`Tags`, `TagList` or `TagSet` of `{Key, Value}`: the first present; `Name` from the
/// `Name` tag when the item has no `Name` and the tag's value is a string), then the
/// scope's `RequestRegion` and `RequestAccount`, in that order, as the last keys.
pub fn as_emitted(mut item: Value, region: &str, account: &str) -> Value {
    if let Some(o) = item.as_object_mut() {
        o.shift_remove("RequestRegion");
        o.shift_remove("RequestAccount");
        let list = ["Tags", "TagList", "TagSet"]
            .iter()
            .find_map(|k| o.get(*k))
            .and_then(Value::as_array)
            .cloned();
        let map = list.and_then(|l| {
            l.iter()
                .map(|t| {
                    let k = t.get("Key")?.as_str()?.to_string();
                    Some((k, t.get("Value").cloned().unwrap_or(Value::Null)))
                })
                .collect::<Option<serde_json::Map<String, Value>>>()
        });
        if let Some(map) = map {
            let name = map.get("Name").filter(|v| v.is_string()).cloned();
            o.shift_remove("TagsMap");
            o.insert("TagsMap".into(), Value::Object(map));
            if let Some(name) = name {
                if !o.contains_key("Name") {
                    o.insert("Name".into(), name);
                }
            }
        }
        o.insert("RequestRegion".into(), json!(region));
        o.insert("RequestAccount".into(), json!(account));
    }
    item
}

/// Remove every member named in `keys`, at any depth.
pub fn strip_keys(v: &mut Value, keys: &[&str]) {
    match v {
        Value::Object(m) => {
            for k in keys {
                m.shift_remove(*k);
            }
            for x in m.values_mut() {
                strip_keys(x, keys);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| strip_keys(x, keys)),
        _ => {}
    }
}

/// A proxy in front of moto: counts requests per `Action`/`X-Amz-Target`, can refuse
/// sts:AssumeRole into one account with AccessDenied (moto checks no roles), and can add a
/// fixed delay per request (a WAN round trip).
pub struct Proxy {
    pub url: String,
    pub counts: Arc<Mutex<HashMap<String, usize>>>,
    /// Every request seen: its action and its body (form-encoded for query protocols).
    pub requests: Arc<Mutex<Vec<(String, String)>>>,
}

impl Proxy {
    pub fn start(moto_port: u16, deny_account: Option<String>, delay: Duration) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let counts: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
        let requests: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
        let (c2, r2) = (counts.clone(), requests.clone());
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let deny = deny_account
                    .clone()
                    .unwrap_or_else(|| "no-account-denied".into());
                let (counts, requests) = (c2.clone(), r2.clone());
                std::thread::spawn(move || {
                    std::thread::sleep(delay);
                    forward(client, moto_port, &deny, &counts, &requests)
                });
            }
        });
        Proxy {
            url,
            counts,
            requests,
        }
    }

    /// Requests seen so far, all actions together.
    pub fn total(&self) -> usize {
        self.counts.lock().unwrap().values().sum()
    }
}

/// One HTTP/1.1 request from a test server's connection: its head lines (each ending in
/// CRLF, the blank line left out) and its body; `None` when the client went away.
pub fn read_request(reader: &mut impl BufRead) -> Option<(Vec<String>, Vec<u8>)> {
    let mut head = Vec::new();
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return None;
        }
        if line == "\r\n" {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
        head.push(line);
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some((head, body))
}

fn forward(
    mut client: TcpStream,
    port: u16,
    deny: &str,
    counts: &Mutex<HashMap<String, usize>>,
    requests: &Mutex<Vec<(String, String)>>,
) {
    let mut reader = BufReader::new(client.try_clone().unwrap());
    let Some((mut head, body)) = read_request(&mut reader) else {
        return;
    };
    head.retain(|l| !l.to_ascii_lowercase().starts_with("connection:"));
    let text = String::from_utf8_lossy(&body);
    let action = text
        .split('&')
        .find_map(|kv| kv.strip_prefix("Action="))
        .map(str::to_string)
        .or_else(|| {
            head.iter().find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("x-amz-target:")
                    .map(|v| v.trim().to_string())
            })
        })
        .unwrap_or_default();
    *counts.lock().unwrap().entry(action.clone()).or_default() += 1;
    requests
        .lock()
        .unwrap()
        .push((action.clone(), text.to_string()));
    if action == "AssumeRole" && text.contains(deny) {
        let body = "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User is not authorized to perform: sts:AssumeRole</Message></Error><RequestId>p</RequestId></ErrorResponse>";
        let _ = write!(
            client,
            "HTTP/1.1 403 Forbidden\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        return;
    }
    let Ok(mut upstream) = TcpStream::connect(("127.0.0.1", port)) else {
        return;
    };
    let mut req = head.concat();
    req.push_str("Connection: close\r\n\r\n");
    let _ = upstream.write_all(req.as_bytes());
    let _ = upstream.write_all(&body);
    let mut resp = Vec::new();
    let _ = upstream.read_to_end(&mut resp);
    let _ = client.write_all(&resp);
}

/// The values at a dotted path, flattening every list met on the way.
pub fn pluck(v: &Value, path: &str) -> Vec<Value> {
    let (key, rest) = match path.split_once('.') {
        Some((k, r)) => (k, Some(r)),
        None => (path, None),
    };
    let inner = |x: &Value| match rest {
        Some(r) => pluck(x, r),
        None => vec![x.clone()],
    };
    match v.get(key) {
        None | Some(Value::Null) => vec![],
        Some(Value::Array(a)) => a.iter().flat_map(inner).collect(),
        Some(x) => inner(x),
    }
}

/// boto3 (tests/py/aws.py) against any `endpoint` (moto, a proxy, `mrhost serve`), with
/// changes to its environment; one result per call.
pub fn boto3_at(endpoint: &str, calls: Vec<Value>, extra: impl FnOnce(&mut Command)) -> Vec<Value> {
    let py = python().expect("python");
    let mut cmd = Command::new(py);
    cmd.arg(repo_root().join("tests/py/aws.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    safe_env(&mut cmd);
    extra(&mut cmd);
    let mut child = cmd.spawn().expect("run boto3");
    let program = json!({"endpoint": endpoint, "calls": calls});
    child
        .stdin
        .take()
        .unwrap()
        .write_all(program.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "boto3 failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("boto3 output is JSON")
}
