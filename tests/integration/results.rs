//! Results people can use: every output format, --query, SQL over plugins, the response
//! cache (counted at a proxy), and progress on a terminal but not on a pipe.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{json, Value};

use crate::common::*;

const REGIONS: [&str; 3] = ["eu-west-1", "eu-west-2", "us-east-2"];
const REGION_LIST: &str = "eu-west-1,eu-west-2,us-east-2";

/// One extra VPC with a subnet in every region; returns boto3's VPCs per region.
fn seed(moto: &Moto) -> Vec<Value> {
    let mut calls = Vec::new();
    for r in REGIONS {
        calls.push(b3_save(
            r,
            "ec2",
            "CreateVpc",
            json!({"CidrBlock": "10.3.0.0/16"}),
            &format!("v{r}"),
        ));
        calls.push(b3(
            r,
            "ec2",
            "CreateSubnet",
            json!({"VpcId": format!("$v{r}.Vpc.VpcId"), "CidrBlock": "10.3.1.0/24"}),
        ));
    }
    moto.boto3(calls);
    moto.boto3(
        REGIONS
            .iter()
            .map(|r| b3(r, "ec2", "DescribeVpcs", json!({})))
            .collect(),
    )
}

#[test]
fn every_output_format_and_query() {
    let Some(moto) = moto() else { return };
    let per_region = seed(&moto);
    let all: Vec<&Value> = per_region
        .iter()
        .flat_map(|r| r["Vpcs"].as_array().unwrap())
        .collect();
    let vpcs = plugin("vpcs");
    let v = path_str(&vpcs);

    // table: the manifest's columns, then where each resource lives.
    let table = moto
        .mrhost(&["run", v, "--regions", REGION_LIST, "-o", "table"])
        .ok()
        .stdout;
    for header in [
        "VpcId",
        "CidrBlock",
        "IsDefault",
        "State",
        "RequestRegion",
        "RequestAccount",
    ] {
        assert!(table.contains(header), "{header} missing:\n{table}");
    }
    for vpc in &all {
        assert!(table.contains(vpc["VpcId"].as_str().unwrap()));
    }

    // csv: a header and one row per VPC; --columns with a nested path.
    let csv = moto
        .mrhost(&[
            "run",
            v,
            "--regions",
            REGION_LIST,
            "-o",
            "csv",
            "--columns",
            "VpcId,CidrBlockAssociationSet,RequestRegion",
        ])
        .ok()
        .stdout;
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "VpcId,CidrBlockAssociationSet,RequestRegion");
    assert_eq!(lines.len(), all.len() + 1);
    assert!(
        lines[1].contains("\"[{\"\"AssociationId\"\""),
        "nested values as compact JSON: {}",
        lines[1]
    );

    // --query like the AWS CLI docs: the default VPCs' ids.
    let q = moto
        .mrhost(&[
            "run",
            v,
            "--regions",
            REGION_LIST,
            "--query",
            "[?IsDefault].VpcId",
        ])
        .ok()
        .json();
    let want: Vec<&Value> = all
        .iter()
        .filter(|x| x["IsDefault"] == true)
        .map(|x| &x["VpcId"])
        .collect();
    assert_eq!(q.as_array().unwrap().iter().collect::<Vec<_>>(), want);

    // yaml: the JSON document's content, as PyYAML (an independent reader) loads it.
    let doc = moto
        .mrhost(&["run", v, "--regions", REGION_LIST, "-o", "json"])
        .ok()
        .json();
    let yaml = moto
        .mrhost(&["run", v, "--regions", REGION_LIST, "-o", "yaml"])
        .ok()
        .stdout;
    assert!(yaml.starts_with("- "), "a YAML list:\n{yaml}");
    assert_eq!(yaml_as_json(&yaml), doc);

    // ndjson with --query: applied to each line.
    let nd = moto
        .mrhost(&[
            "run",
            v,
            "--regions",
            REGION_LIST,
            "-o",
            "ndjson",
            "--query",
            "CidrBlock",
        ])
        .ok()
        .stdout;
    let mut cidrs: Vec<&str> = nd.lines().collect();
    cidrs.sort();
    let mut want: Vec<String> = all.iter().map(|x| x["CidrBlock"].to_string()).collect();
    want.sort();
    assert_eq!(cidrs, want.iter().map(String::as_str).collect::<Vec<_>>());

    // call with --query and a table.
    let ids = moto
        .mrhost(&[
            "call",
            "ec2",
            "DescribeVpcs",
            "--regions",
            "eu-west-2",
            "--query",
            "[].Vpcs[].VpcId",
        ])
        .ok()
        .json();
    assert_eq!(ids.as_array().unwrap().len(), 2);
    let t = moto
        .mrhost(&[
            "call",
            "ec2",
            "DescribeVpcs",
            "--regions",
            "eu-west-2",
            "--query",
            "[].Vpcs[]",
            "-o",
            "table",
            "--columns",
            "VpcId,State",
        ])
        .ok()
        .stdout;
    assert!(t.contains("VpcId") && t.contains("available"), "{t}");

    // A bad expression is one clear line.
    let bad = moto.mrhost(&["run", v, "--regions", "eu-west-1", "--query", "[?"]);
    assert_eq!(bad.code, 1);
    assert!(
        bad.stderr
            .trim()
            .starts_with("mrhost: error: invalid --query"),
        "{}",
        bad.stderr
    );
}

#[test]
fn sql_across_two_plugins_and_three_regions() {
    let Some(moto) = moto() else { return };
    let per_region = seed(&moto);
    plugin("vpcs");
    let rows = moto
        .mrhost(&[
            "query",
            "SELECT region, count(*) AS vpcs FROM vpcs GROUP BY region ORDER BY region",
            "--regions",
            REGION_LIST,
        ])
        .ok()
        .json();
    let mut want: BTreeMap<&str, usize> = BTreeMap::new();
    for (r, resp) in REGIONS.iter().zip(&per_region) {
        want.insert(r, resp["Vpcs"].as_array().unwrap().len());
    }
    let got: BTreeMap<&str, usize> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["region"].as_str().unwrap(),
                r["vpcs"].as_u64().unwrap() as usize,
            )
        })
        .collect();
    assert_eq!(got, want);

    // A join across two plugins: subnets per VPC, for the non-default VPCs.
    let sql = "SELECT v.region, v.VpcId, count(s.SubnetId) AS subnets FROM vpcs v JOIN subnets s ON s.VpcId = v.VpcId \
               WHERE v.IsDefault = 0 GROUP BY v.region, v.VpcId ORDER BY v.region";
    let db = std::env::temp_dir().join(format!("mrhost-sql-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&db);
    let joined = moto
        .mrhost(&["query", sql, "--regions", REGION_LIST])
        .ok()
        .json();
    assert_eq!(joined.as_array().unwrap().len(), 3);
    assert!(
        joined.as_array().unwrap().iter().all(|r| r["subnets"] == 1),
        "{joined}"
    );

    // --output sqlite:FILE keeps a real database: the result, and with --keep-tables the
    // tables it was computed from.
    let out = format!("sqlite:{}", db.display());
    moto.mrhost(&[
        "query",
        sql,
        "--regions",
        REGION_LIST,
        "-o",
        &out,
        "--keep-tables",
    ])
    .ok();
    let conn = rusqlite::Connection::open(&db).unwrap();
    let n: i64 = conn
        .query_row("SELECT count(*) FROM result WHERE subnets = 1", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(n, 3);
    let n: i64 = conn
        .query_row("SELECT count(*) FROM vpcs", [], |r| r.get(0))
        .unwrap();
    let total: usize = per_region
        .iter()
        .map(|r| r["Vpcs"].as_array().unwrap().len())
        .sum();
    assert_eq!(n as usize, total);
    let cidr: String = conn
        .query_row(
            "SELECT json_extract(_json, '$.CidrBlock') FROM vpcs WHERE IsDefault = 0 LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(cidr, "10.3.0.0/16");
    let _ = std::fs::remove_file(&db);

    let none = moto.mrhost(&["query", "SELECT 1 FROM nothing_here"]);
    assert_eq!(none.code, 1);
    assert!(
        none.stderr
            .contains("the query names no table; tables here:"),
        "{}",
        none.stderr
    );
}

fn cached_run(proxy: &Proxy, dir: &std::path::Path, extra: &[&str]) -> Run {
    let p = plugin("paged-instances");
    let mut args = vec![
        "run",
        path_str(&p),
        "--regions",
        REGION_LIST,
        "--endpoint-url",
        &proxy.url,
    ];
    args.extend_from_slice(extra);
    mrhost_with(&args, |c| {
        c.env_remove("MRHOST_NO_CACHE").env("MRHOST_CACHE_DIR", dir);
    })
}

#[test]
fn the_response_cache_answers_repeated_runs_without_requests() {
    let Some(moto) = moto() else { return };
    // Thirty instances per region: six pages of five, behind a 300 ms round trip.
    let calls = REGIONS
        .iter()
        .map(|r| {
            b3(
                r,
                "ec2",
                "RunInstances",
                json!({"ImageId": "ami-12c6146b", "MinCount": 1, "MaxCount": 1}),
            )
        })
        .cycle()
        .take(90)
        .collect();
    moto.boto3(calls);
    let proxy = Proxy::start(moto.port, None, Duration::from_millis(300));
    let dir = std::env::temp_dir().join(format!("mrhost-response-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);

    let first = cached_run(&proxy, &dir, &[]).ok();
    let requests = proxy.total();
    assert!(requests >= 10, "pages and identity: {requests}");
    let second = cached_run(&proxy, &dir, &[]).ok();
    // One request: the GetCallerIdentity that earns this process its cached answers (the
    // account itself came from the identity store, with no request).
    assert_eq!(
        proxy.total(),
        requests + 1,
        "the second run sent one request"
    );
    assert_eq!(
        proxy
            .counts
            .lock()
            .unwrap()
            .get("GetCallerIdentity")
            .copied(),
        Some(2),
        "one GetCallerIdentity per run"
    );
    assert_eq!(first.json(), second.json());
    let ratio = first.elapsed.as_secs_f64() / second.elapsed.as_secs_f64();
    eprintln!(
        "response cache: first run {:?}, second {:?}, {ratio:.1}x",
        first.elapsed, second.elapsed
    );
    assert!(ratio >= 3.0, "cached run {ratio:.1}x faster");

    // --refresh asks again (and stores); a short TTL expires entries.
    cached_run(&proxy, &dir, &["--refresh"]).ok();
    assert!(proxy.total() > requests);
    let before = proxy.total();
    std::thread::sleep(Duration::from_secs(2));
    cached_run(&proxy, &dir, &["--cache-ttl", "1"]).ok();
    assert!(proxy.total() > before, "expired entries are fetched again");

    // Two processes on one cache at once.
    let a = std::thread::spawn({
        let (proxy_url, dir) = (proxy.url.clone(), dir.clone());
        move || {
            let p = plugin("paged-instances");
            mrhost_with(
                &[
                    "run",
                    path_str(&p),
                    "--regions",
                    REGION_LIST,
                    "--endpoint-url",
                    &proxy_url,
                    "--refresh",
                ],
                |c| {
                    c.env_remove("MRHOST_NO_CACHE")
                        .env("MRHOST_CACHE_DIR", &dir);
                },
            )
        }
    });
    let b = cached_run(&proxy, &dir, &["--refresh"]);
    let a = a.join().unwrap();
    assert_eq!((a.code, b.code), (0, 0), "{}\n{}", a.stderr, b.stderr);
    assert_eq!(a.json(), b.json());

    // A truncated cache file is moved aside and rebuilt.
    let file = dir.join("responses.sqlite");
    let len = std::fs::metadata(&file).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&file)
        .unwrap()
        .set_len(len / 3)
        .unwrap();
    for ext in ["sqlite-wal", "sqlite-shm"] {
        let _ = std::fs::remove_file(file.with_extension(ext));
    }
    let recovered = cached_run(&proxy, &dir, &[]).ok();
    assert!(
        recovered.stderr.contains("is unusable") && recovered.stderr.contains("moved it to"),
        "{}",
        recovered.stderr
    );
    assert_eq!(recovered.json(), first.json());

    let stats = mrhost_with(&["cache", "stats"], |c| {
        c.env("MRHOST_CACHE_DIR", &dir);
    })
    .ok()
    .json();
    assert!(
        stats["entries"].as_u64().unwrap() > 0 && stats["services"]["ec2"].as_u64().unwrap() > 0,
        "{stats}"
    );
    mrhost_with(&["cache", "clear"], |c| {
        c.env("MRHOST_CACHE_DIR", &dir);
    })
    .ok();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn progress_shows_on_a_terminal_and_not_in_a_pipe() {
    let Some(moto) = moto() else { return };
    let vpcs = plugin("vpcs");
    let cmd = format!(
        "{} run {} --regions {REGION_LIST} --endpoint-url {} -o json",
        env!("CARGO_BIN_EXE_mrhost"),
        path_str(&vpcs),
        moto.url
    );
    // `script` gives mrhost a pseudo-terminal for stdout and stderr.
    let mut c = std::process::Command::new("script");
    c.args(["-q", "-e", "-c", &cmd, "/dev/null"]);
    safe_env(&mut c);
    c.env("MRHOST_CACHE_DIR", cache_dir());
    let out = c.output().expect("script(1)");
    let tty = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{tty}");
    assert!(
        tty.contains("scopes "),
        "a progress line on the terminal:\n{tty}"
    );
    assert!(
        tty.contains("mrhost: summary: 3 scopes (3 ok, 0 failed, 0 skipped)"),
        "{tty}"
    );

    let piped = moto
        .mrhost(&["run", path_str(&vpcs), "--regions", REGION_LIST])
        .ok();
    assert!(
        !piped.stderr.contains("scopes ") && !piped.stderr.contains("summary"),
        "{}",
        piped.stderr
    );
    let quiet_tty = {
        let mut c = std::process::Command::new("script");
        c.args(["-q", "-e", "-c", &format!("{cmd} --quiet"), "/dev/null"]);
        safe_env(&mut c);
        c.env("MRHOST_CACHE_DIR", cache_dir());
        String::from_utf8_lossy(&c.output().unwrap().stdout).into_owned()
    };
    assert!(!quiet_tty.contains("summary"), "{quiet_tty}");
}

/// A YAML document read by PyYAML and written back as JSON.
fn yaml_as_json(yaml: &str) -> Value {
    use std::io::Write;
    let py = python().expect("python with PyYAML (the .venv)");
    let mut child = std::process::Command::new(py)
        .args([
            "-c",
            "import sys, json, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(yaml.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "PyYAML could not read:\n{yaml}");
    serde_json::from_slice(&out.stdout).unwrap()
}
