//! `mrhost serve`: boto3 and the AWS CLI pointed at a local server in front of moto (a
//! counting proxy between them). The server holds the real credentials; clients sign with
//! the local key it prints. What each test proves:
//! - reads across ec2, query, json, rest-json and rest-xml equal boto3 calling moto
//!   directly, for boto3 and the AWS CLI alike, and a second run sends nothing upstream;
//! - a write is refused with AccessDenied (and moto unchanged) until `--allow write`;
//! - a wrong secret, an unknown key, an expired or missing signature, a tampered body are
//!   refused in the client's protocol; a presigned URL works until it expires; the real
//!   credentials appear in no response, no `-vv` log line and no error;
//! - two local keys mapped to two profiles (two moto accounts) each see their own account;
//! - the listen address, the key file, and Ctrl-C draining.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::*;

const REGION: &str = "eu-west-1";
/// The credentials the server holds: distinctive, so a leak is found by search.
const REAL_KEY: &str = "AKIAMRHOSTREALKEY901";
const REAL_SECRET: &str = "RealSecretKeyNeverShownToClients0123456789";

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mrhost-serve-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// One local key as the server printed it: the environment a client needs.
#[derive(Debug, Clone)]
struct Key {
    name: String,
    comment: String,
    env: Vec<(String, String)>,
}

impl Key {
    fn get(&self, k: &str) -> &str {
        self.env
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("{k} not in the export line: {:?}", self.env))
    }

    fn credentials(&self) -> Value {
        json!({"AccessKeyId": self.get("AWS_ACCESS_KEY_ID"), "SecretAccessKey": self.get("AWS_SECRET_ACCESS_KEY")})
    }
}

/// A running `mrhost serve`.
struct Serve {
    child: Option<Child>,
    url: String,
    keys: Vec<Key>,
    stdout: String,
    stderr: Arc<Mutex<String>>,
}

impl Serve {
    /// Start it with `args` (plus the scratch directory's cache and state) and wait for the
    /// export lines of `n_keys` keys.
    fn start(dir: &Path, args: &[&str], n_keys: usize, extra: impl FnOnce(&mut Command)) -> Serve {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_mrhost"));
        cmd.arg("serve")
            .args(args)
            .current_dir(repo_root())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        safe_env(&mut cmd);
        cmd.env_remove("MRHOST_NO_CACHE")
            .env("MRHOST_CACHE_DIR", dir.join("cache"))
            .env("XDG_STATE_HOME", dir.join("state"))
            .env("AWS_ACCESS_KEY_ID", REAL_KEY)
            .env("AWS_SECRET_ACCESS_KEY", REAL_SECRET);
        extra(&mut cmd);
        let mut child = cmd.spawn().expect("start mrhost serve");
        let stderr = Arc::new(Mutex::new(String::new()));
        let err_pipe = child.stderr.take().unwrap();
        let sink = stderr.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(err_pipe).lines().map_while(Result::ok) {
                let mut s = sink.lock().unwrap();
                s.push_str(&line);
                s.push('\n');
            }
        });
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        let out_pipe = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(out_pipe).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut stdout = String::new();
        let mut keys = Vec::new();
        let mut comment = String::new();
        let deadline = Instant::now() + Duration::from_secs(120);
        while keys.len() < n_keys {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = match rx.recv_timeout(left) {
                Ok(l) => l,
                Err(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!(
                        "mrhost serve printed {} of {n_keys} keys\nstdout:\n{stdout}\nstderr:\n{}",
                        keys.len(),
                        stderr.lock().unwrap()
                    );
                }
            };
            stdout.push_str(&line);
            stdout.push('\n');
            if let Some(c) = line.strip_prefix("# key ") {
                comment = c.to_string();
            } else if let Some(rest) = line.strip_prefix("export ") {
                let env: Vec<(String, String)> = rest
                    .split_whitespace()
                    .map(|kv| {
                        let (k, v) = kv.split_once('=').unwrap();
                        (k.to_string(), v.to_string())
                    })
                    .collect();
                let name = comment.split(':').next().unwrap_or_default().to_string();
                keys.push(Key {
                    name,
                    comment: comment.clone(),
                    env,
                });
            }
        }
        let url = keys[0].get("AWS_ENDPOINT_URL").to_string();
        Serve {
            child: Some(child),
            url,
            keys,
            stdout,
            stderr,
        }
    }

    fn key(&self, name: &str) -> &Key {
        self.keys
            .iter()
            .find(|k| k.name == name)
            .unwrap_or_else(|| panic!("no key {name}: {:?}", self.keys))
    }

    /// Ctrl-C, then wait: the exit code and everything it wrote to stderr.
    fn stop(mut self) -> (i32, String) {
        let mut child = self.child.take().unwrap();
        let _ = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("mrhost serve did not stop on SIGINT");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        // Let the stderr reader catch up with the last lines.
        std::thread::sleep(Duration::from_millis(200));
        let err = self.stderr.lock().unwrap().clone();
        (status.code().unwrap_or(-1), err)
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Every call with the given credentials.
fn with_credentials(calls: &[Value], creds: &Value) -> Vec<Value> {
    calls
        .iter()
        .map(|c| {
            let mut c = c.clone();
            c["credentials"] = creds.clone();
            c
        })
        .collect()
}

/// The AWS CLI of the venv (awscli is in tests/py/requirements.txt); under CI it must be
/// there, elsewhere its part of a test is skipped, said out loud.
fn aws_cli() -> Option<PathBuf> {
    let cli = python()?.parent()?.join("aws");
    if cli.exists() {
        return Some(cli);
    }
    if in_ci() {
        panic!(
            "the AWS CLI is required under CI=true: {} is missing (run scripts/setup.sh)",
            cli.display()
        );
    }
    eprintln!("SKIPPED: the AWS CLI is not installed in the venv (run scripts/setup.sh)");
    None
}

/// Services for which the AWS CLI v1 sets its own endpoint (the `SSL_COMMON_NAMES` of
/// awscli/customizations/overridesslcommonname.py: `queue.amazonaws.com` and the like) unless
/// `--endpoint-url` is given — it does not read `AWS_ENDPOINT_URL` for them.
const CLI_PINNED_ENDPOINTS: &[&str] = &["sqs", "emr", "rds", "docdb", "neptune", "health"];

/// Run the AWS CLI with exactly the environment the server printed for `key` (plus
/// `--endpoint-url` for the services the CLI pins). An HTTPS proxy that does not exist
/// stops any request that would leave for AWS itself.
fn cli(aws: &Path, key: &Key, args: &[&str]) -> (i32, Value, String) {
    let mut cmd = Command::new(aws);
    cmd.args(args).args(["--output", "json"]);
    if args
        .first()
        .is_some_and(|s| CLI_PINNED_ENDPOINTS.contains(s))
    {
        cmd.args(["--endpoint-url", key.get("AWS_ENDPOINT_URL")]);
    }
    safe_env(&mut cmd);
    // Only how the CLI prints timestamps: ISO 8601 as boto3's `isoformat()` (its default
    // prints the wire text, `...Z` where boto3 gives `+00:00`).
    static CONFIG: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    let config = CONFIG.get_or_init(|| {
        let p = std::env::temp_dir().join(format!("mrhost-serve-cli-{}", std::process::id()));
        std::fs::write(&p, "[default]\ncli_timestamp_format = iso8601\n").unwrap();
        p
    });
    cmd.env("AWS_CONFIG_FILE", config);
    cmd.env("HTTPS_PROXY", "http://127.0.0.1:9")
        .env("https_proxy", "http://127.0.0.1:9");
    for (k, v) in &key.env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run aws");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let json = if stdout.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&stdout).unwrap_or(Value::Null)
    };
    (
        out.status.code().unwrap_or(-1),
        json,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The AWS CLI command for a boto3 call of [`reads`] (`s3` is `s3api`; parameters as
/// `--kebab-case` flags), and the boto3 call it equals (pages merged, as the CLI does).
fn cli_args(call: &Value) -> (Vec<String>, Value) {
    let kebab = |name: &str| {
        let mut out = String::new();
        let chars: Vec<char> = name.chars().collect();
        for (i, c) in chars.iter().enumerate() {
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            let prev_lower = i > 0 && chars[i - 1].is_ascii_lowercase();
            if c.is_ascii_uppercase() && i > 0 && (prev_lower || next_lower) {
                out.push('-');
            }
            out.push(c.to_ascii_lowercase());
        }
        out
    };
    let service = call["service"].as_str().unwrap();
    let operation = call["operation"].as_str().unwrap();
    let region = call["region"].as_str().unwrap();
    let mut args = vec![
        if service == "s3" { "s3api" } else { service }.to_string(),
        kebab(operation).replace("-v-2", "-v2"),
        "--region".to_string(),
        region.to_string(),
    ];
    for (k, v) in call["params"].as_object().unwrap() {
        args.push(format!("--{}", kebab(k)));
        args.push(v.as_str().unwrap().to_string());
    }
    let mut reference = call.clone();
    reference["paginate"] = json!("auto");
    (args, reference)
}

/// [`cli`] for many commands, a few processes at a time; results in order.
fn cli_many(aws: &Path, key: &Key, cases: &[(Vec<String>, Value)]) -> Vec<(i32, Value, String)> {
    let mut out = Vec::new();
    for chunk in cases.chunks(4) {
        let results: Vec<(i32, Value, String)> = std::thread::scope(|s| {
            let handles: Vec<_> = chunk
                .iter()
                .map(|(args, _)| {
                    s.spawn(move || {
                        let args: Vec<&str> = args.iter().map(String::as_str).collect();
                        cli(aws, key, &args)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        out.extend(results);
    }
    out
}

/// Resources in every protocol for the reads to find.
fn seed(moto: &Moto) {
    let out = moto.boto3(vec![
        b3_save(REGION, "ec2", "CreateVpc", json!({"CidrBlock": "10.7.0.0/16"}), "vpc"),
        b3(REGION, "ec2", "CreateSubnet", json!({"VpcId": "$vpc.Vpc.VpcId", "CidrBlock": "10.7.1.0/24"})),
        b3(REGION, "ec2", "CreateSecurityGroup", json!({"GroupName": "serve-sg", "Description": "d", "VpcId": "$vpc.Vpc.VpcId"})),
        b3(REGION, "ec2", "CreateInternetGateway", json!({})),
        b3("us-east-1", "iam", "CreateRole", json!({"RoleName": "serve-role", "AssumeRolePolicyDocument": "{\"Version\":\"2012-10-17\",\"Statement\":[]}"})),
        b3("us-east-1", "iam", "CreateUser", json!({"UserName": "serve-user"})),
        b3(REGION, "sns", "CreateTopic", json!({"Name": "serve-topic"})),
        b3(REGION, "sqs", "CreateQueue", json!({"QueueName": "serve-queue"})),
        b3(REGION, "dynamodb", "CreateTable", json!({"TableName": "serve-table",
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST"})),
        b3(REGION, "logs", "CreateLogGroup", json!({"logGroupName": "/serve/app"})),
        b3(REGION, "ssm", "PutParameter", json!({"Name": "/serve/p", "Value": "v", "Type": "String"})),
        b3(REGION, "kms", "CreateKey", json!({"Description": "serve"})),
        b3(REGION, "events", "PutRule", json!({"Name": "serve-rule", "ScheduleExpression": "rate(5 minutes)"})),
        b3(REGION, "apigateway", "CreateRestApi", json!({"name": "serve-api"})),
        b3(REGION, "iot", "CreateThing", json!({"thingName": "serve-thing"})),
        b3(REGION, "s3", "CreateBucket", json!({"Bucket": "serve-bucket", "CreateBucketConfiguration": {"LocationConstraint": REGION}})),
        b3(REGION, "s3", "PutObject", json!({"Bucket": "serve-bucket", "Key": "dir/a b.txt", "Body": "$base64:aGVsbG8="})),
        b3(REGION, "s3", "PutBucketTagging", json!({"Bucket": "serve-bucket", "Tagging": {"TagSet": [{"Key": "team", "Value": "audit"}]}})),
        b3("us-east-1", "route53", "CreateHostedZone", json!({"Name": "serve.example.com", "CallerReference": "serve-1"})),
    ]);
    for r in &out {
        assert!(r.get("Error").is_none(), "seed: {r}");
    }
}

/// 26 read operations over the five protocols (ec2, query, json, rest-json, rest-xml).
fn reads() -> Vec<Value> {
    vec![
        // ec2
        b3(REGION, "ec2", "DescribeVpcs", json!({})),
        b3(REGION, "ec2", "DescribeSubnets", json!({})),
        b3(REGION, "ec2", "DescribeSecurityGroups", json!({})),
        b3(REGION, "ec2", "DescribeInternetGateways", json!({})),
        b3(REGION, "ec2", "DescribeAvailabilityZones", json!({})),
        // query
        b3("us-east-1", "iam", "ListRoles", json!({})),
        b3("us-east-1", "iam", "ListUsers", json!({})),
        b3(REGION, "sns", "ListTopics", json!({})),
        b3(REGION, "sts", "GetCallerIdentity", json!({})),
        b3(REGION, "rds", "DescribeDBInstances", json!({})),
        // json
        b3(REGION, "sqs", "ListQueues", json!({})),
        b3(REGION, "dynamodb", "ListTables", json!({})),
        b3(
            REGION,
            "dynamodb",
            "DescribeTable",
            json!({"TableName": "serve-table"}),
        ),
        b3(REGION, "logs", "DescribeLogGroups", json!({})),
        b3(REGION, "ssm", "DescribeParameters", json!({})),
        b3(REGION, "kms", "ListKeys", json!({})),
        b3(REGION, "events", "ListRules", json!({})),
        // rest-json
        b3(REGION, "apigateway", "GetRestApis", json!({})),
        b3(REGION, "iot", "ListThings", json!({})),
        b3(REGION, "eks", "ListClusters", json!({})),
        // rest-xml
        b3(REGION, "s3", "ListBuckets", json!({})),
        b3(
            REGION,
            "s3",
            "ListObjectsV2",
            json!({"Bucket": "serve-bucket"}),
        ),
        b3(
            REGION,
            "s3",
            "GetBucketTagging",
            json!({"Bucket": "serve-bucket"}),
        ),
        b3(
            REGION,
            "s3",
            "HeadBucket",
            json!({"Bucket": "serve-bucket"}),
        ),
        b3(
            REGION,
            "s3",
            "GetBucketLocation",
            json!({"Bucket": "serve-bucket"}),
        ),
        b3("us-east-1", "route53", "ListHostedZones", json!({})),
    ]
}

fn assert_no_leak(what: &str, text: &str) {
    for secret in [REAL_KEY, REAL_SECRET] {
        assert!(
            !text.contains(secret),
            "{what} contains a real credential:\n{text}"
        );
    }
}

/// The same calls, in the same order, equal (boto3 through the server and boto3 direct).
fn assert_same_results(calls: &[Value], served: &[Value], direct: &[Value], context: &str) {
    assert_eq!(served.len(), direct.len());
    for ((c, s), d) in calls.iter().zip(served).zip(direct) {
        assert!(d.get("Error").is_none(), "{context}: direct {c}: {d}");
        assert_same_json(
            s,
            d,
            &format!("{context}: {} {}", c["service"], c["operation"]),
        );
    }
}

#[test]
fn boto3_and_the_aws_cli_read_through_serve_as_from_moto_and_a_second_run_is_free() {
    let Some(moto) = moto() else { return };
    seed(&moto);
    let dir = scratch("reads");
    let px = Proxy::start(moto.port, None, Duration::ZERO);
    let srv = Serve::start(&dir, &["--endpoint-url", &px.url, "-vv"], 1, |_| {});
    let key = srv.key("default").clone();
    assert!(
        key.comment.contains("account 123456789012"),
        "{}",
        key.comment
    );
    assert_eq!(key.get("AWS_REGION"), "us-east-1");
    assert_ne!(key.get("AWS_ACCESS_KEY_ID"), REAL_KEY);

    let calls = reads();
    let protocols: std::collections::BTreeSet<String> = calls
        .iter()
        .map(|c| {
            match c["service"].as_str().unwrap() {
                "ec2" => "ec2",
                "iam" | "sns" | "sts" | "rds" => "query",
                "sqs" | "dynamodb" | "logs" | "ssm" | "kms" | "events" => "json",
                "apigateway" | "iot" | "eks" => "rest-json",
                _ => "rest-xml",
            }
            .to_string()
        })
        .collect();
    assert!(calls.len() >= 20 && protocols.len() == 5, "{protocols:?}");
    // The reference: boto3 with the real credentials, to moto through the same proxy (moto
    // writes the host it was asked at into SQS queue URLs), before the counts are taken.
    let direct = boto3_at(&px.url, calls.clone(), |c| {
        c.env("AWS_ACCESS_KEY_ID", REAL_KEY)
            .env("AWS_SECRET_ACCESS_KEY", REAL_SECRET);
    });
    let through = with_credentials(&calls, &key.credentials());

    let before = px.total();
    let cold = boto3_at(&srv.url, through.clone(), |_| {});
    assert_same_results(&calls, &cold, &direct, "cold");
    let upstream_cold = px.total() - before;
    assert!(
        upstream_cold >= calls.len(),
        "every read went upstream once: {upstream_cold}"
    );

    let before = px.total();
    let warm = boto3_at(&srv.url, through.clone(), |_| {});
    assert_same_results(&calls, &warm, &direct, "warm");
    assert_eq!(
        px.total() - before,
        0,
        "the second run is served from the cache"
    );

    // The AWS CLI with exactly the printed environment, for the same reads: the same
    // answers (pages merged as the CLI merges them), and its second run is free too.
    if let Some(aws) = aws_cli() {
        let cases: Vec<(Vec<String>, Value)> = calls.iter().map(cli_args).collect();
        let reference = boto3_at(
            &px.url,
            cases.iter().map(|(_, c)| c.clone()).collect(),
            |c| {
                c.env("AWS_ACCESS_KEY_ID", REAL_KEY)
                    .env("AWS_SECRET_ACCESS_KEY", REAL_SECRET);
            },
        );
        for run in ["cold", "warm"] {
            let before = px.total();
            let outputs = cli_many(&aws, &key, &cases);
            for (((args, _), expected), (code, out, err)) in
                cases.iter().zip(&reference).zip(&outputs)
            {
                assert_eq!(*code, 0, "{run}: aws {args:?}: {err}");
                assert!(
                    expected.get("Error").is_none(),
                    "direct {args:?}: {expected}"
                );
                assert_same_json(out, expected, &format!("{run}: aws {args:?}"));
                assert_no_leak("the AWS CLI's output", &format!("{out}{err}"));
            }
            if run == "warm" {
                assert_eq!(
                    px.total() - before,
                    0,
                    "the CLI's second run is served from the cache"
                );
            }
        }
    }

    let printed = srv.stdout.clone();
    let (code, stderr) = srv.stop();
    assert_eq!(code, 0, "{stderr}");
    assert_no_leak("the -vv log", &stderr);
    assert_no_leak("the printed lines", &printed);
    assert_no_leak("the responses", &serde_json::to_string(&cold).unwrap());
    assert!(
        !stderr.contains(key.get("AWS_SECRET_ACCESS_KEY")),
        "the local secret is not logged"
    );
    assert!(
        stderr.contains("key=default ec2:DescribeVpcs eu-west-1 read -> 200"),
        "{stderr}"
    );
    assert!(stderr.contains("cache"), "{stderr}");
}

/// The AWS error code in a response body, whatever the protocol's document.
fn error_code(body: &str) -> Option<String> {
    if let Ok(v) = serde_json::from_str::<Value>(body) {
        return v["__type"].as_str().map(str::to_string);
    }
    let start = body.find("<Code>")? + "<Code>".len();
    let end = body[start..].find("</Code>")? + start;
    Some(body[start..end].to_string())
}

#[test]
fn a_write_is_refused_with_access_denied_until_it_is_allowed() {
    let Some(moto) = moto() else { return };
    let dir = scratch("writes");
    let px = Proxy::start(moto.port, None, Duration::ZERO);
    let seeded = moto.boto3(vec![
        b3(REGION, "s3", "CreateBucket", json!({"Bucket": "w-bucket", "CreateBucketConfiguration": {"LocationConstraint": REGION}})),
        b3(REGION, "s3", "PutObject", json!({"Bucket": "w-bucket", "Key": "k", "Body": "$base64:aGVsbG8="})),
    ]);
    assert!(
        seeded.iter().all(|r| r.get("Error").is_none()),
        "{seeded:?}"
    );
    let srv = Serve::start(&dir, &["--endpoint-url", &px.url], 1, |_| {});
    let key = srv.key("default").clone();
    let before = px.total();

    // Each refusal in its protocol's shape, with the code that protocol's SDKs know.
    let refused = [
        (
            b3(
                REGION,
                "sqs",
                "CreateQueue",
                json!({"QueueName": "refused-q"}),
            ),
            "AccessDenied",
            "--allow write",
        ),
        (
            b3(
                REGION,
                "ec2",
                "CreateVpc",
                json!({"CidrBlock": "10.9.0.0/16"}),
            ),
            "UnauthorizedOperation",
            "--allow write",
        ),
        (
            b3(
                "us-east-1",
                "iam",
                "CreateUser",
                json!({"UserName": "refused-user"}),
            ),
            "AccessDenied",
            "--allow write",
        ),
        (
            b3(REGION, "dynamodb", "DeleteTable", json!({"TableName": "t"})),
            "AccessDeniedException",
            "--allow write",
        ),
        (
            b3(
                REGION,
                "apigateway",
                "CreateRestApi",
                json!({"name": "refused-api"}),
            ),
            "AccessDeniedException",
            "--allow write",
        ),
        (
            b3(
                REGION,
                "s3",
                "CreateBucket",
                json!({"Bucket": "refused-bucket", "CreateBucketConfiguration": {"LocationConstraint": REGION}}),
            ),
            "AccessDenied",
            "--allow write",
        ),
        // customer data, and a read whose answer holds secrets (the bytes pass through
        // unchanged, so it cannot be redacted: it is refused)
        (
            b3(
                REGION,
                "s3",
                "GetObject",
                json!({"Bucket": "w-bucket", "Key": "k"}),
            ),
            "AccessDenied",
            "--allow data",
        ),
        (
            b3(REGION, "lambda", "ListFunctions", json!({})),
            "AccessDeniedException",
            "--allow secret",
        ),
    ];
    let calls: Vec<Value> = refused.iter().map(|(c, _, _)| c.clone()).collect();
    let out = boto3_at(
        &srv.url,
        with_credentials(&calls, &key.credentials()),
        |_| {},
    );
    for ((call, code, hint), r) in refused.iter().zip(&out) {
        assert_eq!(r["Error"]["Code"], *code, "{call}: {r}");
        let msg = r["Error"]["Message"].as_str().unwrap_or_default();
        assert!(msg.contains(hint), "{call}: {msg}");
    }
    if let Some(aws) = aws_cli() {
        let (code, _, err) = cli(
            &aws,
            &key,
            &[
                "sqs",
                "create-queue",
                "--queue-name",
                "refused-q2",
                "--region",
                REGION,
            ],
        );
        assert_ne!(code, 0);
        assert!(
            err.contains("(AccessDenied)") && err.contains("CreateQueue"),
            "{err}"
        );
    }
    assert_eq!(px.total() - before, 0, "nothing refused reached moto");
    let after = moto.boto3(vec![
        b3(REGION, "sqs", "ListQueues", json!({})),
        b3(
            REGION,
            "ec2",
            "DescribeVpcs",
            json!({"Filters": [{"Name": "cidr", "Values": ["10.9.0.0/16"]}]}),
        ),
        b3("us-east-1", "iam", "ListUsers", json!({})),
        b3(REGION, "s3", "ListBuckets", json!({})),
    ]);
    let text = serde_json::to_string(&after).unwrap();
    for name in ["refused-q", "refused-user", "refused-bucket", "10.9.0.0"] {
        assert!(!text.contains(name), "{name} was created: {text}");
    }
    let (code, stderr) = srv.stop();
    assert_eq!(code, 0, "{stderr}");

    // Allowed: the same key (kept in the state directory) now creates the queue.
    let srv = Serve::start(
        &dir,
        &["--endpoint-url", &px.url, "--allow", "write"],
        1,
        |_| {},
    );
    assert_eq!(
        srv.key("default").get("AWS_ACCESS_KEY_ID"),
        key.get("AWS_ACCESS_KEY_ID"),
        "the key pair survives a restart"
    );
    let out = boto3_at(
        &srv.url,
        with_credentials(
            &[
                b3(
                    REGION,
                    "sqs",
                    "CreateQueue",
                    json!({"QueueName": "allowed-q"}),
                ),
                b3(
                    REGION,
                    "s3",
                    "GetObject",
                    json!({"Bucket": "w-bucket", "Key": "k"}),
                ),
            ],
            &key.credentials(),
        ),
        |_| {},
    );
    assert!(
        out[0]["QueueUrl"]
            .as_str()
            .is_some_and(|u| u.ends_with("/allowed-q")),
        "{out:?}"
    );
    assert_eq!(
        out[1]["Error"]["Code"], "AccessDenied",
        "data stays refused: {out:?}"
    );
    let queues = moto.boto3(vec![b3(REGION, "sqs", "ListQueues", json!({}))]);
    assert!(queues[0].to_string().contains("allowed-q"), "{queues:?}");
    srv.stop();
}

/// Requests signed by botocore's own signers (or not signed), sent with urllib: each case
/// gives method, path, body, headers, service, region, key, secret, a clock shift, presign.
const SIGNER_PY: &str = r#"
import datetime, json, sys, urllib.error, urllib.request
import botocore.auth, botocore.awsrequest, botocore.credentials
now = botocore.auth.get_current_datetime
cfg = json.load(sys.stdin)
out = []
for c in cfg["cases"]:
    body = c.get("body", "")
    req = botocore.awsrequest.AWSRequest(method=c["method"], url=cfg["url"] + c.get("path", "/"),
                                         data=body.encode() if body else None, headers=c.get("headers", {}))
    if c.get("sign", True):
        shift = datetime.timedelta(seconds=c.get("shift", 0))
        botocore.auth.get_current_datetime = lambda *a, **k: now(*a, **k) + shift
        creds = botocore.credentials.Credentials(c["key"], c["secret"])
        if c.get("presign"):
            signer = botocore.auth.SigV4QueryAuth(creds, c["service"], c["region"], expires=c["presign"])
        elif c["service"] == "s3":
            signer = botocore.auth.S3SigV4Auth(creds, c["service"], c["region"])
        else:
            signer = botocore.auth.SigV4Auth(creds, c["service"], c["region"])
        signer.add_auth(req)
    p = req.prepare()
    data = p.body.encode() if isinstance(p.body, str) else p.body
    if c.get("tamper"):
        data = c["tamper"].encode()
    headers = {k: v for k, v in p.headers.items() if k.lower() != "content-length"}
    r = urllib.request.Request(p.url, data=data or None, method=c["method"], headers=headers)
    try:
        resp = urllib.request.urlopen(r, timeout=60)
        status, rh, rb = resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as e:
        status, rh, rb = e.code, e.headers, e.read()
    out.append({"status": status, "headers": {k.lower(): v for k, v in rh.items()},
                "body": rb.decode("utf-8", "replace")})
json.dump(out, sys.stdout)
"#;

fn signed_requests(url: &str, cases: &[Value]) -> Vec<Value> {
    let mut cmd = Command::new(python().expect("python"));
    cmd.args(["-c", SIGNER_PY])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    safe_env(&mut cmd);
    let mut child = cmd.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(json!({"url": url, "cases": cases}).to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn unsigned_badly_signed_expired_and_tampered_requests_are_refused_without_leaking_credentials() {
    let Some(moto) = moto() else { return };
    let dir = scratch("auth");
    let px = Proxy::start(moto.port, None, Duration::ZERO);
    let srv = Serve::start(&dir, &["--endpoint-url", &px.url, "-vv"], 1, |_| {});
    let key = srv.key("default").clone();
    let (ak, sk) = (
        key.get("AWS_ACCESS_KEY_ID"),
        key.get("AWS_SECRET_ACCESS_KEY"),
    );
    let form = json!({"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"});
    let list_users = "Action=ListUsers&Version=2010-05-08";
    let iam = |extra: Value| {
        let mut c = json!({"method": "POST", "body": list_users, "headers": form,
            "service": "iam", "region": "us-east-1", "key": ak, "secret": sk});
        for (k, v) in extra.as_object().unwrap() {
            c[k] = v.clone();
        }
        c
    };
    let cases = vec![
        (iam(json!({})), 200, None),
        (
            iam(json!({"secret": "not-the-secret"})),
            403,
            Some("SignatureDoesNotMatch"),
        ),
        (
            iam(json!({"key": "MRHLNOSUCHKEY0000000"})),
            403,
            Some("InvalidClientTokenId"),
        ),
        (iam(json!({"shift": -3600})), 400, Some("RequestExpired")),
        (iam(json!({"shift": 3600})), 400, Some("RequestExpired")),
        (
            iam(json!({"sign": false})),
            403,
            Some("MissingAuthenticationToken"),
        ),
        (
            iam(json!({"tamper": "Action=CreateUser&UserName=evil&Version=2010-05-08"})),
            403,
            Some("SignatureDoesNotMatch"),
        ),
        (
            iam(
                json!({"method": "GET", "body": "", "headers": {}, "path": "/?Action=ListUsers&Version=2010-05-08", "presign": 300}),
            ),
            200,
            None,
        ),
        (
            iam(
                json!({"method": "GET", "body": "", "headers": {}, "path": "/?Action=ListUsers&Version=2010-05-08", "presign": 60, "shift": -7200}),
            ),
            400,
            Some("RequestExpired"),
        ),
        (
            json!({"method": "POST", "body": "{}", "service": "sqs", "region": REGION, "key": ak, "secret": "wrong",
            "headers": {"X-Amz-Target": "AmazonSQS.ListQueues", "Content-Type": "application/x-amz-json-1.0"}}),
            403,
            Some("InvalidSignatureException"),
        ),
        (
            json!({"method": "POST", "body": "Action=DescribeVpcs&Version=2016-11-15", "headers": form,
            "service": "ec2", "region": REGION, "key": "MRHLNOSUCHKEY0000000", "secret": sk}),
            401,
            Some("AuthFailure"),
        ),
        (
            json!({"method": "GET", "path": "/", "service": "s3", "region": REGION, "key": ak, "secret": "wrong"}),
            403,
            Some("SignatureDoesNotMatch"),
        ),
        (
            json!({"method": "GET", "path": "/", "service": "s3", "region": REGION, "key": ak, "secret": sk}),
            200,
            None,
        ),
    ];
    let results = signed_requests(
        &srv.url,
        &cases.iter().map(|(c, _, _)| c.clone()).collect::<Vec<_>>(),
    );
    for ((case, status, code), r) in cases.iter().zip(&results) {
        assert_eq!(r["status"], *status, "{case}: {r}");
        let body = r["body"].as_str().unwrap();
        if let Some(code) = code {
            assert_eq!(error_code(body).as_deref(), Some(*code), "{case}: {r}");
        }
        assert_no_leak("a response", &r.to_string());
    }
    assert!(
        results[0]["body"]
            .as_str()
            .unwrap()
            .contains("<ListUsersResponse"),
        "{:?}",
        results[0]
    );
    // The JSON refusal of a query-compatible service names the query code too (SQS).
    assert_eq!(
        results[9]["headers"]["x-amzn-query-error"],
        "SignatureDoesNotMatch;Sender"
    );
    // The tampered CreateUser never reached moto.
    assert_eq!(px.counts.lock().unwrap().get("CreateUser"), None);
    let users = moto.boto3(vec![b3("us-east-1", "iam", "ListUsers", json!({}))]);
    assert!(!users[0].to_string().contains("evil"), "{users:?}");

    let printed = srv.stdout.clone();
    let (code, stderr) = srv.stop();
    assert_eq!(code, 0, "{stderr}");
    assert_no_leak("the -vv log", &stderr);
    assert_no_leak("the printed lines", &printed);
    assert!(!stderr.contains(sk), "the local secret is not logged");
    assert!(stderr.contains("refused SignatureDoesNotMatch"), "{stderr}");
}

/// A profile config: `a` with account A's keys, `b` assuming a role into account B.
const ROLE_B: &str = "arn:aws:iam::222222222222:role/serve-auditor";

#[test]
fn two_local_keys_for_two_profiles_each_see_their_own_account() {
    let Some(moto) = moto() else { return };
    let out = moto.boto3(vec![
        b3_save(
            "us-east-1",
            "sts",
            "AssumeRole",
            json!({"RoleArn": ROLE_B, "RoleSessionName": "seed"}),
            "b",
        ),
        b3(
            REGION,
            "ec2",
            "CreateVpc",
            json!({"CidrBlock": "10.1.0.0/16"}),
        ),
        json!({"region": REGION, "service": "ec2", "operation": "CreateVpc",
            "params": {"CidrBlock": "10.2.0.0/16"}, "credentials": "$b.Credentials"}),
    ]);
    assert!(out.iter().all(|r| r.get("Error").is_none()), "{out:?}");
    let b_creds = out[0]["Credentials"].clone();
    let dir = scratch("accounts");
    std::fs::write(
        dir.join("config"),
        format!(
            "[profile a]\naws_access_key_id = testing\naws_secret_access_key = testing\nregion = {REGION}\n\
             [profile b]\nrole_arn = {ROLE_B}\nsource_profile = a\nregion = {REGION}\n"
        ),
    )
    .unwrap();
    std::fs::write(dir.join("credentials"), "").unwrap();
    let px = Proxy::start(moto.port, None, Duration::ZERO);
    let srv = Serve::start(
        &dir,
        &["--endpoint-url", &px.url, "--key", "a=a", "--key", "b=b"],
        2,
        |c| {
            c.env("AWS_CONFIG_FILE", dir.join("config"))
                .env("AWS_SHARED_CREDENTIALS_FILE", dir.join("credentials"));
        },
    );
    let (ka, kb) = (srv.key("a").clone(), srv.key("b").clone());
    assert!(
        ka.comment.contains("account 123456789012"),
        "{}",
        ka.comment
    );
    assert!(
        kb.comment.contains("account 222222222222"),
        "{}",
        kb.comment
    );
    assert_ne!(ka.get("AWS_ACCESS_KEY_ID"), kb.get("AWS_ACCESS_KEY_ID"));

    let calls = [
        b3(REGION, "sts", "GetCallerIdentity", json!({})),
        b3(REGION, "ec2", "DescribeVpcs", json!({})),
    ];
    let direct_a = boto3_at(&moto.url, calls.to_vec(), |_| {});
    let direct_b = boto3_at(&moto.url, with_credentials(&calls, &b_creds), |_| {});
    let cidrs = |r: &Value| -> Vec<String> {
        let mut v: Vec<String> = pluck(r, "Vpcs.CidrBlock")
            .iter()
            .map(|c| c.as_str().unwrap().to_string())
            .collect();
        v.sort();
        v
    };
    assert!(cidrs(&direct_a[1]).contains(&"10.1.0.0/16".to_string()));
    assert!(!cidrs(&direct_a[1]).contains(&"10.2.0.0/16".to_string()));
    assert!(cidrs(&direct_b[1]).contains(&"10.2.0.0/16".to_string()));
    for round in ["cold", "warm"] {
        let before = px.total();
        let a = boto3_at(
            &srv.url,
            with_credentials(&calls, &ka.credentials()),
            |_| {},
        );
        let b = boto3_at(
            &srv.url,
            with_credentials(&calls, &kb.credentials()),
            |_| {},
        );
        assert_eq!(a[0]["Account"], "123456789012", "{round}: {a:?}");
        assert_eq!(b[0]["Account"], "222222222222", "{round}: {b:?}");
        assert_eq!(cidrs(&a[1]), cidrs(&direct_a[1]), "{round}: key a");
        assert_eq!(cidrs(&b[1]), cidrs(&direct_b[1]), "{round}: key b");
        if round == "warm" {
            assert_eq!(
                px.total() - before,
                0,
                "the warm round is cached, per identity"
            );
        }
    }
    srv.stop();
}

/// An upstream that answers STS at once and EC2 after `delay`, saying when an EC2 request
/// has arrived (for catching a request in flight).
fn slow_upstream(delay: Duration) -> (String, std::sync::mpsc::Receiver<()>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let tx = tx.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(conn.try_clone().unwrap());
                let mut conn = conn;
                while let Some((_head, body)) = read_request(&mut reader) {
                    let text = String::from_utf8_lossy(&body);
                    let body = if text.contains("Action=GetCallerIdentity") {
                        "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/slow</Arn><UserId>AIDASLOW</UserId><Account>123456789012</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetCallerIdentityResponse>".to_string()
                    } else {
                        let _ = tx.send(());
                        std::thread::sleep(delay);
                        "<DescribeVpcsResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><requestId>r</requestId><vpcSet/></DescribeVpcsResponse>".to_string()
                    };
                    let resp = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    if conn.write_all(resp.as_bytes()).is_err() {
                        break;
                    }
                }
            });
        }
    });
    (url, rx)
}

#[test]
fn loopback_by_default_keys_kept_private_and_ctrl_c_drains_requests_in_flight() {
    if python().is_none() {
        if in_ci() {
            panic!("boto3 is required under CI=true");
        }
        eprintln!("SKIPPED: no .venv (run scripts/setup.sh)");
        return;
    }
    // Beyond loopback only with a reason.
    let r = mrhost(&["serve", "--listen", "0.0.0.0:0"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(r.stderr.contains("--listen-any"), "{}", r.stderr);
    let r = mrhost(&["serve", "--listen", "somewhere"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("--listen somewhere"), "{}", r.stderr);
    let r = mrhost(&["serve", "--key", "a b=prod"]);
    assert_eq!(r.code, 1, "{}", r.stderr);

    let dir = scratch("drain");
    let (upstream, arrived) = slow_upstream(Duration::from_secs(3));
    let srv = Serve::start(
        &dir,
        &[
            "--endpoint-url",
            &upstream,
            "--listen",
            "0.0.0.0:0",
            "--listen-any",
            "a test lab",
            "-v",
        ],
        1,
        |_| {},
    );
    let key = srv.key("default").clone();
    assert!(srv.stderr.lock().unwrap().contains("a test lab"));

    // The key file: private, reused by the next start, replaced by --rotate-keys.
    use std::os::unix::fs::PermissionsExt;
    let keys_dir = dir.join("state/mrhost/serve");
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&keys_dir), 0o700);
    assert_eq!(mode(&keys_dir.join("keys.json")), 0o600);
    let file = std::fs::read_to_string(keys_dir.join("keys.json")).unwrap();
    assert!(file.contains(key.get("AWS_ACCESS_KEY_ID")));
    assert_no_leak("the keys file", &file);

    // A slow read in flight when Ctrl-C comes still gets its answer.
    let url = srv.url.clone();
    let creds = key.credentials();
    let client = std::thread::spawn(move || {
        boto3_at(
            &url,
            with_credentials(&[b3(REGION, "ec2", "DescribeVpcs", json!({}))], &creds),
            |_| {},
        )
    });
    arrived
        .recv_timeout(Duration::from_secs(120))
        .expect("the read reached the upstream");
    let port = srv.url.rsplit(':').next().unwrap().to_string();
    let (code, stderr) = srv.stop();
    let answer = client.join().unwrap();
    assert_eq!(answer[0]["Vpcs"], json!([]), "{answer:?}\n{stderr}");
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("stopped"), "{stderr}");
    assert!(
        std::net::TcpStream::connect(format!("127.0.0.1:{port}")).is_err(),
        "nothing listens after the stop"
    );

    let again = Serve::start(&dir, &["--endpoint-url", &upstream], 1, |_| {});
    assert_eq!(
        again.key("default").get("AWS_ACCESS_KEY_ID"),
        key.get("AWS_ACCESS_KEY_ID")
    );
    again.stop();
    let rotated = Serve::start(
        &dir,
        &["--endpoint-url", &upstream, "--rotate-keys"],
        1,
        |_| {},
    );
    assert_ne!(
        rotated.key("default").get("AWS_ACCESS_KEY_ID"),
        key.get("AWS_ACCESS_KEY_ID")
    );
    assert_ne!(
        rotated.key("default").get("AWS_SECRET_ACCESS_KEY"),
        key.get("AWS_SECRET_ACCESS_KEY")
    );
    rotated.stop();
}
