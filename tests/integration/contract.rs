//! Contract 0.2 beside 0.1: both versions in one process, concurrent calls under the call
//! budget, the permission check and the per-scope bound, typed collect errors and
//! `--ignore-error-codes`, declared parameters (`--param`, the config file), the tags map
//! and `Name` (and `--raw`), the account resolved only when asked for, and the typed
//! schema `plugins inspect` prints.

use std::io::{BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::*;

/// A proxy in front of moto that records each request's action in arrival order, holds
/// each for `delay`, and counts how many are in flight at once.
struct Recorder {
    url: String,
    actions: Arc<Mutex<Vec<String>>>,
    max_in_flight: Arc<AtomicUsize>,
}

impl Recorder {
    fn start(moto_port: u16, delay: Duration) -> Recorder {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let actions: Arc<Mutex<Vec<String>>> = Arc::default();
        let in_flight = Arc::new(AtomicUsize::new(0));
        let max_in_flight = Arc::new(AtomicUsize::new(0));
        let (a, i, m) = (actions.clone(), in_flight.clone(), max_in_flight.clone());
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let (a, i, m) = (a.clone(), i.clone(), m.clone());
                std::thread::spawn(move || relay(client, moto_port, delay, &a, &i, &m));
            }
        });
        Recorder {
            url,
            actions,
            max_in_flight,
        }
    }

    fn actions(&self) -> Vec<String> {
        self.actions.lock().unwrap().clone()
    }

    fn count(&self, action: &str) -> usize {
        self.actions().iter().filter(|a| *a == action).count()
    }
}

fn relay(
    mut client: TcpStream,
    port: u16,
    delay: Duration,
    actions: &Mutex<Vec<String>>,
    in_flight: &AtomicUsize,
    max_in_flight: &AtomicUsize,
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
        .unwrap_or_default();
    actions.lock().unwrap().push(action);
    let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    max_in_flight.fetch_max(now, Ordering::SeqCst);
    std::thread::sleep(delay);
    let mut resp = Vec::new();
    if let Ok(mut upstream) = TcpStream::connect(("127.0.0.1", port)) {
        let mut req = head.concat();
        req.push_str("Connection: close\r\n\r\n");
        let _ = upstream.write_all(req.as_bytes());
        let _ = upstream.write_all(&body);
        let _ = upstream.read_to_end(&mut resp);
    }
    in_flight.fetch_sub(1, Ordering::SeqCst);
    let _ = client.write_all(&resp);
}

fn ndjson(run: &Run) -> Vec<Value> {
    run.stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("ndjson line"))
        .collect()
}

fn warm(moto: &Moto, regions: &[&str]) {
    moto.boto3(
        regions
            .iter()
            .map(|r| b3(r, "ec2", "DescribeVpcs", json!({})))
            .collect(),
    );
}

/// A config directory with `mrhost/config` holding `text`, for XDG_CONFIG_HOME.
fn config_dir(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mrhost-config-{name}-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("mrhost")).unwrap();
    std::fs::write(dir.join("mrhost/config"), text).unwrap();
    dir
}

#[test]
fn plugins_of_both_contract_versions_run_side_by_side() {
    let Some(moto) = moto() else { return };
    let regions = ["eu-west-1", "us-east-2"];
    moto.boto3(vec![
        b3(
            "eu-west-1",
            "ec2",
            "CreateVpc",
            json!({"CidrBlock": "10.7.0.0/16"}),
        ),
        b3(
            "us-east-2",
            "ec2",
            "CreateVpc",
            json!({"CidrBlock": "10.8.0.0/16"}),
        ),
    ]);
    let v1 = plugin("vpcs-v1");
    let v2 = plugin("contract-v2");
    for (p, want) in [(&v1, "mrhost:plugin@0.1.0"), (&v2, "mrhost:plugin@0.2.0")] {
        let info = mrhost(&["plugins", "inspect", path_str(p)]).ok().json();
        assert_eq!(info["contract"], want, "{info}");
    }
    // The reference: boto3's VPCs, as mrhost emits them.
    let per_region = moto.boto3(
        regions
            .iter()
            .map(|r| b3(r, "ec2", "DescribeVpcs", json!({})))
            .collect(),
    );
    let mut expected = Vec::new();
    for (r, resp) in regions.iter().zip(&per_region) {
        for vpc in resp["Vpcs"].as_array().unwrap() {
            expected.push(as_emitted(vpc.clone(), r, "123456789012"));
        }
    }
    let list = regions.join(",");
    let old = moto
        .mrhost(&["run", path_str(&v1), "--regions", &list, "-o", "json"])
        .ok()
        .json();
    assert_same_json(&old, &Value::Array(expected.clone()), "0.1 plugin");
    let new = moto
        .mrhost(&[
            "run",
            path_str(&v2),
            "--regions",
            &list,
            "--param",
            "mode=vpcs",
            "-o",
            "json",
        ])
        .ok()
        .json();
    let mut new_plain = new.clone();
    for v in new_plain.as_array_mut().unwrap() {
        assert_eq!(v["Described"], true, "each VPC was described again: {v}");
        v.as_object_mut().unwrap().shift_remove("Described");
    }
    let sorted = |v: &Value| {
        let mut a = v.as_array().unwrap().clone();
        a.sort_by_key(|x| x["VpcId"].as_str().unwrap().to_string());
        Value::Array(a)
    };
    assert_eq!(
        sorted(&new_plain),
        sorted(&Value::Array(expected)),
        "0.2 plugin (concurrent describes: any order)"
    );

    // Both in one process: one query joins a 0.1 plugin's table and a 0.2 plugin's, the
    // 0.2 one's parameter from the config file.
    let config = config_dir("side", "[plugins.contract-v2]\nmode = \"vpcs\"\n");
    let run = mrhost_with(
        &[
            "query",
            "SELECT a.VpcId AS v1, b.VpcId AS v2, b.Described AS d FROM vpcs_v1 a JOIN contract_v2 b USING (VpcId) ORDER BY 1",
            "--plugins",
            "tests/plugins",
            "--regions",
            &list,
            "--endpoint-url",
            &moto.url,
            "-o",
            "json",
        ],
        |c| {
            c.env("XDG_CONFIG_HOME", &config);
        },
    )
    .ok();
    let rows = run.json();
    assert_eq!(rows.as_array().unwrap().len(), 4, "{rows}");
    for r in rows.as_array().unwrap() {
        assert_eq!(r["v1"], r["v2"]);
        assert!(r["d"] == json!(true) || r["d"] == json!(1), "{r}");
    }
    let _ = std::fs::remove_dir_all(config);
}

#[test]
fn concurrent_calls_run_at_once_within_the_bound_the_budget_and_the_permissions() {
    let Some(moto) = moto() else { return };
    warm(&moto, &["eu-west-1"]);
    let p = plugin("contract-v2");
    let delay = Duration::from_millis(200);
    let run_many = |rec: &Recorder, extra: &[&str]| {
        let mut args = vec![
            "run",
            path_str(&p),
            "--regions",
            "eu-west-1",
            "--endpoint-url",
            &rec.url,
            "-o",
            "ndjson",
            "--param",
            "mode=many",
        ];
        args.extend_from_slice(extra);
        let started = Instant::now();
        let run = mrhost(&args);
        (run, started.elapsed())
    };

    // 32 calls, at most 8 at a time: 4 rounds of 200 ms, never more than 8 in flight.
    let rec = Recorder::start(moto.port, delay);
    let (run, took) = run_many(&rec, &["--param", "count=32", "--call-concurrency", "8"]);
    let run = run.ok();
    let items = ndjson(&run);
    assert_eq!(items.len(), 32);
    assert!(items.iter().all(|i| i["Ok"] == true), "{}", run.stdout);
    let mut indexes: Vec<u64> = items.iter().map(|i| i["Index"].as_u64().unwrap()).collect();
    indexes.sort();
    assert_eq!(indexes, (0..32).collect::<Vec<u64>>());
    let max = rec.max_in_flight.load(Ordering::SeqCst);
    assert!(
        (2..=8).contains(&max),
        "at most 8 at once, and more than one: {max}"
    );
    assert_eq!(rec.count("DescribeVpcs"), 32);
    eprintln!("32 calls at 200 ms, 8 at a time: {took:?} (sequential: 6.4 s)");
    assert!(took < Duration::from_millis(4500), "{took:?}");

    // One at a time, the same calls take 32 round trips.
    let rec = Recorder::start(moto.port, delay);
    let (run, took) = run_many(&rec, &["--param", "count=12", "--call-concurrency", "1"]);
    run.ok();
    assert_eq!(rec.max_in_flight.load(Ordering::SeqCst), 1);
    assert!(took >= Duration::from_millis(12 * 200), "{took:?}");

    // Every third call is undeclared: refused by the permission check, never sent.
    let rec = Recorder::start(moto.port, Duration::ZERO);
    let (run, _) = run_many(&rec, &["--param", "count=9", "--param", "deny_every=3"]);
    let items = ndjson(&run.ok());
    let denied: Vec<u64> = items
        .iter()
        .filter(|i| i["Error"] == "denied")
        .map(|i| i["Index"].as_u64().unwrap())
        .collect();
    let mut denied = denied;
    denied.sort();
    assert_eq!(denied, [2, 5, 8]);
    assert_eq!(rec.count("DescribeSubnets"), 0, "{:?}", rec.actions());
    assert_eq!(rec.count("DescribeVpcs"), 6);

    // A batch opened while another one's results wait: both finish (the waiting results
    // do not hold the scope's slots).
    let rec = Recorder::start(moto.port, Duration::from_millis(20));
    let args = [
        "run",
        path_str(&p),
        "--regions",
        "eu-west-1",
        "--endpoint-url",
        &rec.url,
        "-o",
        "ndjson",
        "--param",
        "mode=nested",
        "--param",
        "count=6",
        "--call-concurrency",
        "2",
        "--timeout",
        "30",
    ];
    let nested = mrhost(&args).ok();
    let items = ndjson(&nested);
    assert_eq!(items.len(), 6);
    assert!(items.iter().all(|i| i["InnerOk"] == 2), "{}", nested.stdout);
    assert!(rec.max_in_flight.load(Ordering::SeqCst) <= 2);

    // The call budget holds for batches: 30 calls under --max-calls 10 stop the scope,
    // and no more than 10 reach the server.
    let rec = Recorder::start(moto.port, Duration::ZERO);
    let (run, _) = run_many(&rec, &["--param", "count=30", "--max-calls", "10"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("limit exceeded: call limit of 10 AWS calls per scope"),
        "{}",
        run.stderr
    );
    assert!(rec.count("DescribeVpcs") <= 10, "{:?}", rec.actions());
}

#[test]
fn typed_collect_errors_carry_the_aws_code_for_ignore_error_codes() {
    let Some(moto) = moto() else { return };
    warm(&moto, &["eu-west-1", "eu-west-3"]);
    let v2 = plugin("contract-v2");
    let fail = |ignore: Option<&str>| {
        let mut args = vec![
            "run",
            path_str(&v2),
            "--regions",
            "eu-west-1",
            "--param",
            "mode=fail",
        ];
        if let Some(i) = ignore {
            args.extend(["--ignore-error-codes", i]);
        }
        moto.mrhost(&args)
    };
    let run = fail(None);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "mrhost: error: contract-v2 123456789012/eu-west-1: plugin error: InvalidVpcID.NotFound: "
        ),
        "{}",
        run.stderr
    );
    let run = fail(Some("InvalidVpcID.*"));
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("mrhost: warning: contract-v2 123456789012/eu-west-1 skipped: plugin error: InvalidVpcID.NotFound"),
        "{}",
        run.stderr
    );
    // A code that does not match stays an error.
    assert_eq!(fail(Some("AccessDenied")).code, 1);

    // A 0.1 plugin's "Code: message" string keeps working the same way.
    let v1 = plugin("vpcs-v1");
    let both = "eu-west-1,eu-west-3";
    let run = moto.mrhost(&["run", path_str(&v1), "--regions", both]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    let run = moto.mrhost(&[
        "run",
        path_str(&v1),
        "--regions",
        both,
        "--ignore-error-codes",
        "InvalidVpcID.NotFound",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn parameters_are_typed_and_checked_before_any_call() {
    let Some(moto) = moto() else { return };
    let p = plugin("contract-v2");
    let rec = Recorder::start(moto.port, Duration::ZERO);
    let run = |args: &[&str], config: Option<&PathBuf>| {
        let mut all = vec![
            "run",
            path_str(&p),
            "--regions",
            "eu-west-1",
            "--endpoint-url",
            &rec.url,
            "-o",
            "ndjson",
        ];
        all.extend_from_slice(args);
        mrhost_with(&all, |c| {
            if let Some(dir) = config {
                c.env("XDG_CONFIG_HOME", dir);
            }
        })
    };
    for (args, line) in [
        (
            vec!["--param", "mode=params", "--param", "colour=red"],
            "plugin contract-v2: unknown parameter 'colour' (from --param); it declares: mode, count, deny_every, flag, ratio, since, filter",
        ),
        (
            vec![],
            "plugin contract-v2: missing required parameter 'mode' (string); give it with --param mode=VALUE",
        ),
        (
            vec!["--param", "mode=params", "--param", "count=many"],
            "plugin contract-v2: parameter 'count' (from --param) must be int, got 'many'",
        ),
        (
            vec!["--param", "mode=params", "--param", "filter={oops"],
            "plugin contract-v2: parameter 'filter' (from --param) must be json, got '{oops'",
        ),
    ] {
        let r = run(&args, None);
        assert_eq!(r.code, 1, "{args:?}: {}", r.stderr);
        assert_eq!(
            r.stderr.trim(),
            format!("mrhost: error: {line}"),
            "{args:?}"
        );
    }
    assert!(
        rec.actions().is_empty(),
        "no call was made: {:?}",
        rec.actions()
    );
    // Not KEY=VALUE: a usage error.
    assert_eq!(run(&["--param", "oops"], None).code, 2);

    // Typed values reach the plugin; the config file's table first, --param over it.
    let config = config_dir(
        "params",
        "regions = \"eu-west-1\"\n\n[plugins.contract-v2]\nmode = \"params\"\nflag = true\ncount = 3 # three\nratio = \"0.25\"\n\n[plugins.other]\ncount = \"not this one\"\n",
    );
    let r = run(
        &[
            "--param",
            "count=7",
            "--param",
            "since=2024-05-01T10:00:00Z",
            "--param",
            "filter={\"Name\": \"x\"}",
        ],
        Some(&config),
    )
    .ok();
    let got = &ndjson(&r)[0];
    assert_eq!(got["mode"], json!({"string": "params"}));
    assert_eq!(got["flag"], json!({"bool": true}));
    assert_eq!(got["count"], json!({"int": 7}));
    assert_eq!(got["ratio"], json!({"float": 0.25}));
    assert_eq!(got["since"], json!({"timestamp": "2024-05-01T10:00:00Z"}));
    assert_eq!(got["filter"], json!({"json": "{\"Name\": \"x\"}"}));
    // A wrong value in the config file names where it came from.
    let bad = config_dir(
        "bad",
        "[plugins.contract-v2]\nmode = \"params\"\nflag = maybe\n",
    );
    let r = run(&[], Some(&bad));
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("parameter 'flag' (from [plugins.contract-v2] in ")
            && r.stderr.contains("must be bool, got 'maybe'"),
        "{}",
        r.stderr
    );
    // A plugin that declares no parameters refuses any.
    let v1 = plugin("vpcs-v1");
    let r = moto.mrhost(&[
        "run",
        path_str(&v1),
        "--regions",
        "eu-west-1",
        "--param",
        "a=1",
    ]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("unknown parameter 'a' (from --param); it declares no parameters"),
        "{}",
        r.stderr
    );
    for d in [config, bad] {
        let _ = std::fs::remove_dir_all(d);
    }
}

#[test]
fn tag_lists_get_a_map_and_a_name_in_every_output_unless_raw() {
    let Some(moto) = moto() else { return };
    let r = "eu-west-1";
    moto.boto3(vec![b3(
        r,
        "ec2",
        "CreateVpc",
        json!({"CidrBlock": "10.9.0.0/16", "TagSpecifications": [{"ResourceType": "vpc",
            "Tags": [{"Key": "Name", "Value": "web"}, {"Key": "team", "Value": "blue"}]}]}),
    )]);
    let vpcs = plugin("vpcs");
    let tagged = |items: &Value| -> Value {
        items
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["CidrBlock"] == "10.9.0.0/16")
            .cloned()
            .unwrap_or_else(|| panic!("no 10.9.0.0/16 in {items}"))
    };
    let json_run = moto
        .mrhost(&["run", path_str(&vpcs), "--regions", r, "-o", "json"])
        .ok()
        .json();
    let web = tagged(&json_run);
    assert_eq!(web["TagsMap"], json!({"Name": "web", "team": "blue"}));
    assert_eq!(web["Name"], "web");
    let keys: Vec<&str> = web
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        &keys[keys.len() - 4..],
        ["TagsMap", "Name", "RequestRegion", "RequestAccount"],
        "added at the end, the AWS list kept: {web}"
    );
    assert!(web["Tags"].is_array());
    // The default VPC has an empty tag list: an empty map, no Name.
    let default = json_run
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["IsDefault"] == true)
        .unwrap();
    assert_eq!(default["TagsMap"], json!({}));
    assert!(default.get("Name").is_none());

    // The same in NDJSON (the spliced fast path), CSV, and for a model-derived type.
    let nd = moto
        .mrhost(&["run", path_str(&vpcs), "--regions", r, "-o", "ndjson"])
        .ok();
    let nd = Value::Array(ndjson(&nd));
    assert_eq!(tagged(&nd), web);
    let csv = moto
        .mrhost(&[
            "run",
            path_str(&vpcs),
            "--regions",
            r,
            "-o",
            "csv",
            "--columns",
            "VpcId,Name,TagsMap.team",
        ])
        .ok();
    assert!(
        csv.stdout.lines().any(|l| l.ends_with(",web,blue")),
        "{}",
        csv.stdout
    );
    let listed = moto
        .mrhost(&["list", "ec2", "vpcs", "--regions", r, "-o", "json"])
        .ok()
        .json();
    assert_eq!(tagged(&listed)["TagsMap"], web["TagsMap"]);
    assert_eq!(tagged(&listed)["Name"], "web");

    // --raw: exactly as AWS returned it, besides the scope tags.
    let raw = moto
        .mrhost(&[
            "run",
            path_str(&vpcs),
            "--regions",
            r,
            "-o",
            "json",
            "--raw",
        ])
        .ok()
        .json();
    let reference = moto.boto3(vec![b3(r, "ec2", "DescribeVpcs", json!({}))]);
    let mut want = Vec::new();
    for v in reference[0]["Vpcs"].as_array().unwrap() {
        let mut v = v.clone();
        v["RequestRegion"] = json!(r);
        v["RequestAccount"] = json!("123456789012");
        want.push(v);
    }
    assert_same_json(&raw, &Value::Array(want), "--raw");
    let raw_list = moto
        .mrhost(&[
            "list",
            "ec2",
            "vpcs",
            "--regions",
            r,
            "-o",
            "ndjson",
            "--raw",
        ])
        .ok();
    assert!(!raw_list.stdout.contains("TagsMap"));
}

/// Collects what a plugin emits, untagged.
struct Collect(Arc<Mutex<Vec<String>>>);

impl plugin_host::ResourceSink for Collect {
    fn accept(&mut self, resource_json: String) -> Result<(), plugin_host::EmitError> {
        self.0.lock().unwrap().push(resource_json);
        Ok(())
    }
    fn wants_flush(&self) -> bool {
        false
    }
    fn flush(
        &mut self,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<(), plugin_host::EmitError>> + Send + '_>,
    > {
        Box::pin(async { Ok(()) })
    }
}

#[test]
fn the_account_is_resolved_only_when_a_plugin_asks_for_it() {
    use aws_engine::{AwsClient, CredentialSource};
    use plugin_host::{GivenParam, Limits, PluginRuntime, ScopeAccount, ScopeContext};

    let Some(moto) = moto() else { return };
    warm(&moto, &["eu-west-1"]);
    let v1 = plugin("vpcs-v1");
    let v2 = plugin("contract-v2");
    let tokio = tokio::runtime::Runtime::new().unwrap();
    // One scope with a lazy account; the actions the server saw, in order, and the items.
    let scope = |path: &PathBuf, mode: Option<&str>| -> (Vec<String>, Vec<String>) {
        let rec = Recorder::start(moto.port, Duration::ZERO);
        let items: Arc<Mutex<Vec<String>>> = Arc::default();
        let sink = Collect(items.clone());
        tokio.block_on(async {
            let client = AwsClient::builder()
                .endpoint_url(Some(rec.url.clone()))
                .build()
                .unwrap();
            let creds = Arc::new(CredentialSource::fixed("testing", "testing", None));
            let runtime = PluginRuntime::new(Limits::default(), Some(cache_dir())).unwrap();
            let plugin = runtime
                .load(path, client.models(), None, &[])
                .await
                .unwrap();
            let given: Vec<GivenParam> = mode
                .map(|m| GivenParam {
                    name: "mode".into(),
                    value: m.into(),
                    origin: "test".into(),
                })
                .into_iter()
                .collect();
            let plugin = plugin.configure(&given).unwrap();
            let account = ScopeAccount::of_credentials(client.clone(), creds.clone(), "eu-west-1");
            assert_eq!(account.now(), None, "not known before it is asked for");
            let ctx = ScopeContext {
                account,
                region: "eu-west-1".into(),
                partition: "aws".into(),
                plugin: plugin.manifest.name.clone(),
                aws: Some((client, creds)),
            };
            runtime.collect(&plugin, ctx, Box::new(sink)).await.unwrap();
        });
        let items = items.lock().unwrap().clone();
        (rec.actions(), items)
    };

    // A 0.2 plugin that asks: its first call goes out first, the identity after, once.
    let (actions, items) = scope(&v2, Some("account"));
    assert_eq!(actions, ["DescribeVpcs", "GetCallerIdentity"]);
    let item: Value = serde_json::from_str(&items[0]).unwrap();
    assert_eq!(item["Account"], "123456789012");
    // One that never asks never costs the round trip.
    let (actions, items) = scope(&v2, Some("vpcs"));
    assert!(!items.is_empty());
    assert!(
        !actions.iter().any(|a| a == "GetCallerIdentity"),
        "{actions:?}"
    );
    // A 0.1 plugin gets the account in its scope record: resolved before it starts.
    let (actions, _) = scope(&v1, None);
    assert_eq!(
        actions.first().map(String::as_str),
        Some("GetCallerIdentity")
    );
    assert_eq!(
        actions.iter().filter(|a| *a == "GetCallerIdentity").count(),
        1
    );

    // Through the CLI, the account a plugin asks for is the scope's.
    let run = moto
        .mrhost(&[
            "run",
            path_str(&v2),
            "--regions",
            "eu-west-1",
            "--param",
            "mode=account",
            "-o",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(run[0]["Account"], "123456789012");
    assert_eq!(run[0]["RequestAccount"], "123456789012");
}

#[test]
fn inspect_prints_typed_columns_and_references() {
    let p = plugin("contract-v2");
    let info = mrhost(&["plugins", "inspect", path_str(&p)]).ok().json();
    let cols = info["schema"]["columns"].as_array().unwrap();
    let kind = |name: &str| -> Value {
        cols.iter()
            .find(|c| c["name"] == name)
            .map(|c| c["kind"].clone())
            .unwrap_or_else(|| panic!("no column {name}: {cols:?}"))
    };
    assert_eq!(kind("VpcId"), "string");
    assert_eq!(kind("IsDefault"), "bool");
    assert_eq!(kind("CidrBlockAssociationSet"), "json");
    assert_eq!(kind("Described"), "bool");
    assert_eq!(kind("TagsMap"), "json");
    assert_eq!(kind("Name"), "string");
    assert_eq!(kind("RequestAccount"), "string");
    let described = cols.iter().find(|c| c["name"] == "Described").unwrap();
    assert_eq!(described["description"], "described again by its own call");
    assert!(info["schema"]["references"].as_array().unwrap().contains(
        &json!({"field": "DhcpOptionsId", "target_type": "ec2:dhcp-options", "by": "id"})
    ));
    let params = info["manifest"]["params"].as_array().unwrap();
    assert_eq!(
        params[0],
        json!({"name": "mode", "kind": "string", "required": true, "description": "vpcs, many, nested, fail, account or params"})
    );
    assert_eq!(info["manifest"]["model_shape"], "ec2:Vpc");
    // A 0.1 plugin has no schema of its own: the host's columns only.
    let v1 = mrhost(&["plugins", "inspect", path_str(&plugin("vpcs-v1"))])
        .ok()
        .json();
    let names: Vec<&str> = v1["schema"]["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["RequestRegion", "RequestAccount"]);
}
