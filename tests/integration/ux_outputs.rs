//! Outputs and queries as AWS CLI users expect them (issue 20: "Outputs", "Queries"), and
//! the output side of the hardening issue (15: terminal injection, `-o sqlite:FILE` that
//! loses nothing). Each test runs the command as the issue writes it, against moto, with
//! boto3 (and jmespath.py, the AWS CLI's JMESPath) as the reference.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{json, Value};

use crate::common::*;

const R1: &str = "eu-west-1";
const R2: &str = "us-east-2";
const REGIONS: &str = "eu-west-1,us-east-2";

/// A tagged VPC and a subnet in each of the two regions (beside moto's default VPCs).
fn seed_vpcs(moto: &Moto) {
    for r in [R1, R2] {
        let out = moto.boto3(vec![b3_save(
            r,
            "ec2",
            "CreateVpc",
            json!({"CidrBlock": "10.9.0.0/16", "TagSpecifications": [{"ResourceType": "vpc",
                "Tags": [{"Key": "Name", "Value": format!("web-{r}")}, {"Key": "team", "Value": "a"}]}]}),
            "vpc",
        )]);
        let vpc = out[0]["Vpc"]["VpcId"].as_str().unwrap().to_string();
        let sub = moto.boto3(vec![b3(
            r,
            "ec2",
            "CreateSubnet",
            json!({"VpcId": vpc, "CidrBlock": "10.9.1.0/24"}),
        )]);
        assert!(sub[0].get("Error").is_none(), "{sub:?}");
    }
}

/// Every VPC boto3 sees in the two regions, as mrhost emits them.
fn boto3_vpcs(moto: &Moto) -> Vec<Value> {
    let mut all = Vec::new();
    for r in [R1, R2] {
        let out = moto.boto3(vec![b3_paged(r, "ec2", "DescribeVpcs", json!({}))]);
        for v in out[0]["Vpcs"].as_array().unwrap() {
            all.push(as_emitted(v.clone(), r, "123456789012"));
        }
    }
    all
}

fn set_of(items: impl IntoIterator<Item = String>) -> BTreeSet<String> {
    items.into_iter().collect()
}

fn csv_rows(text: &str) -> Vec<Vec<String>> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes());
    r.records()
        .map(|x| x.unwrap().iter().map(str::to_string).collect())
        .collect()
}

/// JMESPath as the AWS CLI evaluates it: jmespath.py on the same document.
fn jmespath_py(doc: &Value, exprs: &[&str]) -> Vec<Value> {
    let py = python().expect("python");
    let mut child = Command::new(py)
        .args([
            "-W",
            "ignore",
            "-c",
            "import sys, json, jmespath\nd = json.load(sys.stdin)\nprint(json.dumps([jmespath.search(e, d['doc']) for e in d['exprs']]))",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(
        &mut child.stdin.take().unwrap(),
        json!({"doc": doc, "exprs": exprs}).to_string().as_bytes(),
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    serde_json::from_slice::<Vec<Value>>(&out.stdout).unwrap()
}

/// mrhost with stdout on a pseudo-terminal (what a person at a terminal sees); stderr
/// piped. Returns (stdout bytes, stderr).
fn mrhost_on_tty(args: &[&str]) -> (Vec<u8>, String) {
    // (Not a `\` continuation: it would eat the indentation.)
    let script = [
        "import os, pty, subprocess, sys",
        "m, s = pty.openpty()",
        "p = subprocess.run(sys.argv[1:], stdout=s, stderr=subprocess.PIPE)",
        "os.close(s)",
        "out = b''",
        "while True:",
        "    try:",
        "        d = os.read(m, 65536)",
        "    except OSError:",
        "        break",
        "    if not d:",
        "        break",
        "    out += d",
        "sys.stderr.buffer.write(p.stderr)",
        "sys.stdout.buffer.write(out)",
    ]
    .join("\n");
    let mut cmd = Command::new(python().expect("python"));
    cmd.args(["-c", &script, env!("CARGO_BIN_EXE_mrhost")])
        .args(args)
        .current_dir(repo_root());
    safe_env(&mut cmd);
    cmd.env("MRHOST_CACHE_DIR", cache_dir());
    let out = cmd.output().unwrap();
    (
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn scratch(name: &str) -> PathBuf {
    let d = cache_dir().join(format!("ux-{name}"));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn sqlite_rows(path: &Path, sql: &str) -> Vec<Vec<rusqlite::types::Value>> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut stmt = conn.prepare(sql).unwrap();
    let n = stmt.column_count();
    stmt.query_map([], |r| {
        (0..n)
            .map(|i| r.get::<_, rusqlite::types::Value>(i))
            .collect()
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

#[test]
fn query_projections_drive_table_and_csv_columns() {
    let Some(moto) = moto() else { return };
    seed_vpcs(&moto);
    let reference = boto3_vpcs(&moto);
    let vpcs = plugin("vpcs");
    // The command: columns come from the projection, keys in the order written.
    let run = moto
        .mrhost(&[
            "run",
            path_str(&vpcs),
            "--regions",
            REGIONS,
            "--query",
            "[].{region:RequestRegion,id:VpcId}",
            "-o",
            "table",
        ])
        .ok();
    let header = run.stdout.lines().nth(1).unwrap();
    let (r, i) = (header.find("region").unwrap(), header.find("id").unwrap());
    assert!(r < i, "{}", run.stdout);
    for v in &reference {
        let id = v["VpcId"].as_str().unwrap();
        let line = run.stdout.lines().find(|l| l.contains(id)).unwrap();
        assert!(
            line.contains(v["RequestRegion"].as_str().unwrap()),
            "{line}"
        );
    }
    // CSV: the same columns, every row filled.
    let run = moto
        .mrhost(&[
            "run",
            path_str(&vpcs),
            "--regions",
            REGIONS,
            "--query",
            "[].{region:RequestRegion,id:VpcId}",
            "-o",
            "csv",
        ])
        .ok();
    let rows = csv_rows(&run.stdout);
    assert_eq!(rows[0], vec!["region", "id"]);
    assert_eq!(
        set_of(rows[1..].iter().map(|r| r.join(" "))),
        set_of(reference.iter().map(|v| format!(
            "{} {}",
            v["RequestRegion"].as_str().unwrap(),
            v["VpcId"].as_str().unwrap()
        )))
    );
    // Lists of lists are rows, headed by the fields they select.
    let run = moto
        .mrhost(&[
            "list",
            "ec2",
            "vpcs",
            "--region",
            REGIONS,
            "--query",
            "[].[VpcId,CidrBlock]",
            "-o",
            "csv",
        ])
        .ok();
    let rows = csv_rows(&run.stdout);
    assert_eq!(rows[0], vec!["VpcId", "CidrBlock"]);
    assert_eq!(
        set_of(rows[1..].iter().map(|r| r.join(" "))),
        set_of(reference.iter().map(|v| format!(
            "{} {}",
            v["VpcId"].as_str().unwrap(),
            v["CidrBlock"].as_str().unwrap()
        )))
    );
    // JSON keeps the written order too (the JMESPath runtime sorts keys).
    let run = moto
        .mrhost(&[
            "list",
            "ec2",
            "vpcs",
            "--region",
            R1,
            "--query",
            "[].{z:VpcId,a:CidrBlock,m:IsDefault}",
            "-o",
            "json",
        ])
        .ok();
    let (z, a, m) = (
        run.stdout.find("\"z\"").unwrap(),
        run.stdout.find("\"a\"").unwrap(),
        run.stdout.find("\"m\"").unwrap(),
    );
    assert!(z < a && a < m, "{}", run.stdout);
    // A filter keeps each object's own key order (the model's), not the sorted one.
    let run = moto
        .mrhost(&[
            "list",
            "ec2",
            "vpcs",
            "--region",
            R1,
            "--query",
            "[?IsDefault]",
            "-o",
            "json",
        ])
        .ok();
    let ours = run.json();
    let theirs: Vec<&Value> = reference
        .iter()
        .filter(|v| v["RequestRegion"] == R1 && v["IsDefault"] == true)
        .collect();
    assert_eq!(ours.as_array().unwrap().len(), theirs.len());
    assert_same_json(&ours[0], theirs[0], "[?IsDefault]");
}

#[test]
fn the_ten_most_common_aws_cli_query_idioms_work_as_there() {
    let Some(moto) = moto() else { return };
    seed_vpcs(&moto);
    let reference = boto3_vpcs(&moto);
    // The idiom, exactly: a legacy literal (`Name` is not JSON: a string).
    let run = moto
        .mrhost(&[
            "list",
            "ec2",
            "vpcs",
            "--regions",
            REGIONS,
            "--query",
            "[].Tags[?Key==`Name`].Value",
        ])
        .ok();
    let names: BTreeSet<String> = run
        .json()
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|l| l.as_array().unwrap().clone())
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, set_of([format!("web-{R1}"), format!("web-{R2}")]));
    let doc = moto
        .mrhost(&["list", "ec2", "vpcs", "--regions", REGIONS, "-o", "json"])
        .ok()
        .json();
    assert_eq!(
        set_of(
            pluck(&json!({"a": doc}), "a.VpcId")
                .iter()
                .map(|v| v.to_string())
        ),
        set_of(reference.iter().map(|v| v["VpcId"].to_string())),
        "the document the idioms run on is boto3's"
    );
    let idioms = [
        "[].Tags[?Key==`Name`].Value",
        "[].Tags[?Key=='Name'].Value | []",
        "[?Tags[?Key==`Name` && Value==`web-eu-west-1`]].VpcId",
        "[].{id:VpcId,cidr:CidrBlock,name:Tags[?Key==`Name`]|[0].Value}",
        "[].[VpcId,CidrBlock,State]",
        "[?IsDefault].VpcId",
        "[?IsDefault==`false`].VpcId",
        "length([])",
        "sort_by([], &VpcId)[].VpcId",
        "[?starts_with(CidrBlock, `10.`)].VpcId",
        "[0].VpcId",
        "[*].CidrBlockAssociationSet[].CidrBlock",
        "join(', ', [].VpcId)",
        "[?State==`available`] | length(@)",
    ];
    let expected = jmespath_py(&doc, &idioms);
    for (expr, want) in idioms.iter().zip(&expected) {
        let run = moto.mrhost(&[
            "list",
            "ec2",
            "vpcs",
            "--regions",
            REGIONS,
            "--query",
            expr,
            "-o",
            "json",
        ]);
        assert_eq!(run.code, 0, "{expr}: {}", run.stderr);
        assert_eq!(&run.json(), want, "{expr}");
        assert!(!want.is_null(), "{expr} selects something");
    }
}

#[test]
fn text_output_is_the_aws_clis() {
    let Some(moto) = moto() else { return };
    seed_vpcs(&moto);
    let reference = boto3_vpcs(&moto);
    // The scripting idiom: one tab-separated line per row.
    let run = moto
        .mrhost(&[
            "list",
            "ec2",
            "vpcs",
            "--region",
            REGIONS,
            "--query",
            "[].[VpcId,CidrBlock,IsDefault]",
            "-o",
            "text",
        ])
        .ok();
    let py_bool = |v: &Value| if v == &json!(true) { "True" } else { "False" };
    assert_eq!(
        set_of(run.stdout.lines().map(str::to_string)),
        set_of(reference.iter().map(|v| format!(
            "{}\t{}\t{}",
            v["VpcId"].as_str().unwrap(),
            v["CidrBlock"].as_str().unwrap(),
            py_bool(&v["IsDefault"])
        )))
    );
    // Objects: their scalars sorted by key on one line, then each nested list under its
    // upper-cased key (awscli/text.py).
    let run = moto
        .mrhost(&[
            "list",
            "ec2",
            "vpcs",
            "--region",
            R1,
            "--query",
            "[?Name=='web-eu-west-1'].{VpcId:VpcId,CidrBlock:CidrBlock,Tags:Tags}",
            "-o",
            "text",
        ])
        .ok();
    let tagged = reference
        .iter()
        .find(|v| v["Name"] == format!("web-{R1}").as_str())
        .unwrap();
    let mut tags: Vec<(String, String)> = tagged["Tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["Key"].as_str().unwrap().to_string(),
                t["Value"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    tags.sort();
    let mut want = vec![format!(
        "{}\t{}",
        tagged["CidrBlock"].as_str().unwrap(),
        tagged["VpcId"].as_str().unwrap()
    )];
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines[0], want[0]);
    want.extend(tags.iter().map(|(k, v)| format!("TAGS\t{k}\t{v}")));
    let mut got_tags: Vec<String> = lines[1..].iter().map(|s| s.to_string()).collect();
    got_tags.sort();
    let mut want_tags = want[1..].to_vec();
    want_tags.sort();
    assert_eq!(got_tags, want_tags, "{}", run.stdout);
}

#[test]
fn tables_fit_the_terminal_and_no_truncate_keeps_full_values() {
    let Some(moto) = moto() else { return };
    let long = format!("long-{}", "x".repeat(110));
    let out = moto.boto3(vec![b3(
        R1,
        "ec2",
        "CreateVpc",
        json!({"CidrBlock": "10.7.0.0/16", "TagSpecifications": [{"ResourceType": "vpc",
            "Tags": [{"Key": "Name", "Value": long}]}]}),
    )]);
    let id = out[0]["Vpc"]["VpcId"].as_str().unwrap().to_string();
    let args = [
        "list",
        "ec2",
        "vpcs",
        "--region",
        R1,
        "-o",
        "table",
        "--endpoint-url",
        &moto.url,
    ];
    let run = mrhost_with(&args, |c| {
        c.env("COLUMNS", "80");
    })
    .ok();
    for l in run.stdout.lines() {
        assert!(l.chars().count() <= 80, "wider than 80: {l}");
    }
    assert!(run.stdout.contains(&id), "the id is never elided");
    assert!(run.stdout.contains('…'), "{}", run.stdout);
    assert!(!run.stdout.contains(&long));
    let mut wide = args.to_vec();
    wide.push("--no-truncate");
    let run = mrhost_with(&wide, |c| {
        c.env("COLUMNS", "80");
    })
    .ok();
    assert!(run.stdout.contains(&long), "{}", run.stdout);
    assert!(!run.stdout.contains('…'));
}

#[test]
fn empty_results_print_a_note_not_an_empty_frame() {
    let Some(moto) = moto() else { return };
    let run = moto
        .mrhost(&[
            "list",
            "ec2",
            "vpcs",
            "--region",
            R1,
            "--query",
            "[?VpcId=='none']",
            "-o",
            "table",
        ])
        .ok();
    assert_eq!(run.stdout, "");
    assert_eq!(
        run.stderr
            .lines()
            .filter(|l| l.contains("no results"))
            .count(),
        1,
        "{}",
        run.stderr
    );
    // CSV: the header only.
    let run = moto
        .mrhost(&["list", "sns", "topics", "--region", R1, "-o", "csv"])
        .ok();
    assert_eq!(run.stdout, "TopicArn,RequestRegion,RequestAccount\n");
    let run = moto
        .mrhost(&[
            "list",
            "ec2",
            "vpcs",
            "--region",
            R1,
            "--query",
            "[?VpcId=='none']",
            "-o",
            "csv",
            "--columns",
            "VpcId,CidrBlock",
        ])
        .ok();
    assert_eq!(run.stdout, "VpcId,CidrBlock\n");
}

#[test]
fn a_misspelt_column_is_an_error_naming_the_available_ones() {
    let Some(moto) = moto() else { return };
    let run = moto.mrhost(&[
        "list",
        "ec2",
        "vpcs",
        "--region",
        R1,
        "-o",
        "table",
        "--columns",
        "VpcID,CidrBlock",
    ]);
    assert_ne!(run.code, 0);
    assert_eq!(run.stdout, "");
    let line = run
        .stderr
        .lines()
        .find(|l| l.contains("error"))
        .unwrap_or_default();
    assert!(
        line.contains("'VpcID'")
            && line.contains("did you mean VpcId")
            && line.contains("CidrBlock")
            && line.contains("IsDefault"),
        "{}",
        run.stderr
    );
}

#[test]
fn instances_are_listed_as_instances_with_name_and_state() {
    let Some(moto) = moto() else { return };
    moto.boto3(vec![
        b3(
            R1,
            "ec2",
            "RunInstances",
            json!({"ImageId": "ami-12c6146b", "MinCount": 2, "MaxCount": 2,
            "TagSpecifications": [{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "web"}]}]}),
        ),
        b3(
            R2,
            "ec2",
            "RunInstances",
            json!({"ImageId": "ami-12c6146b", "MinCount": 1, "MaxCount": 1}),
        ),
    ]);
    let mut want = Vec::new();
    for r in [R1, R2] {
        let out = moto.boto3(vec![b3_paged(r, "ec2", "DescribeInstances", json!({}))]);
        for i in pluck(&out[0], "Reservations.Instances") {
            want.push(as_emitted(i, r, "123456789012"));
        }
    }
    assert_eq!(want.len(), 3);
    let run = moto
        .mrhost(&[
            "list",
            "ec2",
            "instances",
            "--regions",
            REGIONS,
            "-o",
            "json",
        ])
        .ok();
    let ours = run.json();
    let ours = ours.as_array().unwrap();
    assert_eq!(ours.len(), 3, "instances, not reservations");
    for w in &want {
        let o = ours
            .iter()
            .find(|o| o["InstanceId"] == w["InstanceId"])
            .unwrap();
        assert_same_json(o, w, "instance");
    }
    let run = moto
        .mrhost(&[
            "list",
            "ec2",
            "instances",
            "--regions",
            REGIONS,
            "-o",
            "csv",
        ])
        .ok();
    let rows = csv_rows(&run.stdout);
    assert_eq!(rows[0][..3], ["InstanceId", "Name", "State.Name"]);
    for w in &want {
        let row = rows
            .iter()
            .find(|r| r[0] == w["InstanceId"].as_str().unwrap())
            .unwrap();
        assert_eq!(row[1], w["Name"].as_str().unwrap_or(""));
        assert_eq!(row[2], w["State"]["Name"].as_str().unwrap());
    }
    // The catalogue says where the items are.
    let run = moto.mrhost(&["list", "--available", "ec2"]).ok();
    assert!(run
        .stdout
        .lines()
        .any(|l| l.starts_with("ec2\tinstances\tDescribeInstances\tReservations[].Instances\t")));
}

#[test]
fn query_keeps_json_types_and_duplicate_names() {
    let Some(moto) = moto() else { return };
    seed_vpcs(&moto);
    let reference = boto3_vpcs(&moto);
    let run = moto
        .mrhost(&[
            "query",
            "SELECT VpcId, IsDefault, Tags, State FROM ec2_vpcs",
            "--regions",
            REGIONS,
            "-o",
            "json",
        ])
        .ok();
    let rows = run.json();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), reference.len());
    for v in &reference {
        let row = rows.iter().find(|r| r["VpcId"] == v["VpcId"]).unwrap();
        assert_eq!(row["IsDefault"], v["IsDefault"], "booleans stay booleans");
        assert_eq!(row["Tags"], v.get("Tags").cloned().unwrap_or(Value::Null));
        assert_eq!(row["State"], v["State"]);
    }
    // `map(select(.IsDefault))` selects the default VPCs only.
    let defaults = rows.iter().filter(|r| r["IsDefault"] == true).count();
    assert_eq!(
        defaults,
        reference.iter().filter(|v| v["IsDefault"] == true).count()
    );
    // Two columns of one name: both kept, the second as SQLite names it (`:1`).
    let run = moto
        .mrhost(&[
            "query",
            "SELECT s.SubnetId, s.CidrBlock, v.CidrBlock FROM ec2_subnets s JOIN ec2_vpcs v ON s.VpcId = v.VpcId",
            "--regions",
            REGIONS,
            "-o",
            "json",
        ])
        .ok();
    let rows = run.json();
    let mut subnets = Vec::new();
    for r in [R1, R2] {
        let out = moto.boto3(vec![b3_paged(r, "ec2", "DescribeSubnets", json!({}))]);
        subnets.extend(out[0]["Subnets"].as_array().unwrap().clone());
    }
    assert_eq!(rows.as_array().unwrap().len(), subnets.len());
    for s in &subnets {
        let row = rows
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["SubnetId"] == s["SubnetId"])
            .unwrap();
        let vpc = reference.iter().find(|v| v["VpcId"] == s["VpcId"]).unwrap();
        assert_eq!(row["CidrBlock"], s["CidrBlock"]);
        assert_eq!(row["CidrBlock:1"], vpc["CidrBlock"]);
    }
}

#[test]
fn query_writes_its_result_to_sqlite_and_keeps_tables_on_request() {
    let Some(moto) = moto() else { return };
    seed_vpcs(&moto);
    let reference = boto3_vpcs(&moto);
    let dir = scratch("query-sqlite");
    let db = dir.join("q.db");
    let out = format!("sqlite:{}", db.display());
    moto.mrhost(&[
        "query",
        "SELECT VpcId, CidrBlock FROM ec2_vpcs WHERE IsDefault",
        "--regions",
        REGIONS,
        "-o",
        &out,
    ])
    .ok();
    let rows = sqlite_rows(&db, "SELECT VpcId, CidrBlock FROM result ORDER BY VpcId");
    let mut want: Vec<String> = reference
        .iter()
        .filter(|v| v["IsDefault"] == true)
        .map(|v| v["VpcId"].as_str().unwrap().to_string())
        .collect();
    want.sort();
    let got: Vec<String> = rows
        .iter()
        .map(|r| match &r[0] {
            rusqlite::types::Value::Text(t) => t.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(got, want);
    let tables = sqlite_rows(
        &db,
        "SELECT name FROM sqlite_master WHERE name = 'ec2_vpcs'",
    );
    assert!(
        tables.is_empty(),
        "the source tables only with --keep-tables"
    );
    moto.mrhost(&[
        "query",
        "SELECT VpcId FROM ec2_vpcs WHERE IsDefault",
        "--regions",
        REGIONS,
        "-o",
        &out,
        "--keep-tables",
    ])
    .ok();
    let n = sqlite_rows(&db, "SELECT count(*) FROM ec2_vpcs");
    assert_eq!(
        n[0][0],
        rusqlite::types::Value::Integer(reference.len() as i64)
    );
}

#[test]
fn query_fetches_every_table_in_one_fan_out() {
    let Some(moto) = moto() else { return };
    seed_vpcs(&moto);
    moto.boto3(vec![b3(
        "us-east-1",
        "iam",
        "CreateUser",
        json!({"UserName": "u1"}),
    )]);
    let run = moto
        .mrhost(&[
            "-v",
            "query",
            "SELECT (SELECT count(*) FROM ec2_vpcs) AS v, (SELECT count(*) FROM ec2_subnets) AS s, (SELECT count(*) FROM iam_users) AS u",
            "--regions",
            REGIONS,
            "-o",
            "json",
        ])
        .ok();
    let summaries: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains("mrhost: summary:"))
        .collect();
    assert_eq!(summaries.len(), 1, "{}", run.stderr);
    // Two regional tables in two regions, and IAM once for the account.
    assert!(
        summaries[0].contains(": 5 scopes (5 ok"),
        "{}",
        summaries[0]
    );
    let row = &run.json()[0];
    assert_eq!(row["u"], 1);
    assert_eq!(row["v"], boto3_vpcs(&moto).len());
}

#[test]
fn sqlite_output_never_drops_a_table_mrhost_did_not_write() {
    let Some(moto) = moto() else { return };
    let dir = scratch("sqlite-own");
    let db = dir.join("mine.db");
    {
        let c = rusqlite::Connection::open(&db).unwrap();
        c.execute_batch("CREATE TABLE ec2_vpcs (note TEXT); INSERT INTO ec2_vpcs VALUES ('mine');")
            .unwrap();
    }
    let before = std::fs::read(&db).unwrap();
    let out = format!("sqlite:{}", db.display());
    // Checked before any AWS call: the endpoint is one nobody listens on.
    let run = mrhost(&[
        "list",
        "ec2",
        "vpcs",
        "--region",
        R1,
        "-o",
        &out,
        "--endpoint-url",
        "http://127.0.0.1:1",
    ]);
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("ec2_vpcs") && run.stderr.contains("did not write"),
        "{}",
        run.stderr
    );
    assert_eq!(std::fs::read(&db).unwrap(), before);
    // Not SQLite: found before any call, the file untouched.
    let junk = dir.join("junk.db");
    std::fs::write(&junk, b"not a database, a user's notes\n".repeat(200)).unwrap();
    let run = mrhost(&[
        "list",
        "ec2",
        "vpcs",
        "--region",
        R1,
        "-o",
        &format!("sqlite:{}", junk.display()),
        "--endpoint-url",
        "http://127.0.0.1:1",
    ]);
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("not an SQLite database"),
        "{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read(&junk).unwrap(),
        b"not a database, a user's notes\n".repeat(200)
    );
    // A symlink is not followed.
    let target = dir.join("target.txt");
    std::fs::write(&target, "precious").unwrap();
    let link = dir.join("link.db");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let run = moto.mrhost(&[
        "list",
        "ec2",
        "vpcs",
        "--region",
        R1,
        "-o",
        &format!("sqlite:{}", link.display()),
    ]);
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("symbolic link"), "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious");
}

#[test]
fn sqlite_output_keeps_every_key_and_replaces_atomically() {
    let Some(moto) = moto() else { return };
    let dir = scratch("sqlite-keys");
    let db = dir.join("out.db");
    let out = format!("sqlite:{}", db.display());
    // Keys with NUL, differing only in case, and 2,100 of them in one resource.
    let many: Vec<String> = (0..2100).map(|i| format!("k{i}:VpcId")).collect();
    let expr = format!(
        "[].{{\"a\\u0000b\": VpcId, Name: VpcId, name: CidrBlock, RequestRegion: RequestRegion, {}}}",
        many.join(", ")
    );
    moto.mrhost(&[
        "list", "ec2", "vpcs", "--region", R1, "--query", &expr, "-o", &out,
    ])
    .ok();
    let reference = moto.boto3(vec![b3_paged(R1, "ec2", "DescribeVpcs", json!({}))]);
    let vpc = &reference[0]["Vpcs"][0];
    let rows = sqlite_rows(
        &db,
        &format!(
            "SELECT Name, region, _json FROM ec2_vpcs WHERE Name = '{}'",
            vpc["VpcId"].as_str().unwrap()
        ),
    );
    assert_eq!(rows.len(), 1);
    let rusqlite::types::Value::Text(j) = &rows[0][2] else {
        panic!()
    };
    let item: Value = serde_json::from_str(j).unwrap();
    assert_eq!(item["a\u{0}b"], vpc["VpcId"]);
    assert_eq!(item["name"], vpc["CidrBlock"]);
    assert_eq!(item["k2099"], vpc["VpcId"]);
    assert_eq!(item.as_object().unwrap().len(), 2104);
    assert_eq!(rows[0][1], rusqlite::types::Value::Text(R1.into()));
    // A failed run leaves the previous content as it was, and no temporary file.
    let before = std::fs::read(&db).unwrap();
    let run = moto.mrhost(&[
        "list",
        "ec2",
        "vpcs",
        "--region",
        R1,
        "--query",
        "length([])",
        "-o",
        &out,
    ]);
    assert_ne!(run.code, 0);
    assert_eq!(std::fs::read(&db).unwrap(), before);
    // A second successful run replaces the table mrhost wrote.
    moto.mrhost(&["list", "ec2", "vpcs", "--region", R1, "-o", &out])
        .ok();
    let n = sqlite_rows(&db, "SELECT count(*) FROM ec2_vpcs");
    assert_eq!(
        n[0][0],
        rusqlite::types::Value::Integer(reference[0]["Vpcs"].as_array().unwrap().len() as i64)
    );
    let leftovers: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "out.db")
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn terminal_output_escapes_what_servers_send() {
    let Some(moto) = moto() else { return };
    let evil = "\u{1b}]0;pwned\u{7}\u{1b}[31mred\u{1b}]8;;http://evil/\u{7}link";
    // A JSON service carries control characters (XML 1.0 cannot).
    let out = moto.boto3(vec![b3(
        R1,
        "secretsmanager",
        "CreateSecret",
        json!({"Name": "evil", "SecretString": "x", "Description": evil}),
    )]);
    assert!(out[0].get("Error").is_none(), "{out:?}");
    // Tables: always escaped.
    let run = moto
        .mrhost(&[
            "list",
            "secretsmanager",
            "secrets",
            "--region",
            R1,
            "--query",
            "[].{Name:Name,Description:Description}",
            "-o",
            "table",
        ])
        .ok();
    assert!(!run.stdout.contains('\u{1b}'), "{}", run.stdout);
    assert!(run.stdout.contains("\\x1b]0;pwned\\x07"), "{}", run.stdout);
    // CSV and text on a terminal: escaped; in a pipe, the data as it is.
    for fmt in ["csv", "text"] {
        let args = [
            "list",
            "secretsmanager",
            "secrets",
            "--region",
            R1,
            "--query",
            "[].[Name,Description]",
            "-o",
            fmt,
            "--endpoint-url",
            &moto.url,
        ];
        let (tty, err) = mrhost_on_tty(&args);
        assert!(
            !tty.contains(&0x1b),
            "{fmt}: {}",
            String::from_utf8_lossy(&tty)
        );
        assert!(
            String::from_utf8_lossy(&tty).contains("\\x1b[31mred"),
            "{fmt}: {:?} {err}",
            String::from_utf8_lossy(&tty)
        );
        let piped = moto.mrhost(&args[..9]).ok();
        assert!(
            piped.stdout.contains(evil),
            "{fmt} in a pipe keeps the data"
        );
    }
    // A server's error message: one line, escaped.
    let run = moto.mrhost(&[
        "call",
        "ec2",
        "DescribeVpcs",
        "--region",
        R1,
        "--params",
        &json!({"VpcIds": [format!("vpc-1\n\u{1b}[2Jmrhost: summary: 0 failures {evil}")]})
            .to_string(),
    ]);
    assert_ne!(run.code, 0);
    assert!(!run.stderr.contains('\u{1b}'), "{}", run.stderr);
    assert!(
        !run.stderr.lines().any(|l| l.starts_with("mrhost: summary")),
        "{}",
        run.stderr
    );
}
