//! `mrhost sync` against a moto Organization (3 members × 2 regions) with every bundled
//! plugin: the stored ids equal boto3's per table, account and region; SQLite, PostgreSQL
//! and Parquet hold the same rows (Parquet read back by DuckDB too); a second sync of an
//! unchanged estate writes no resource row; a sync killed with SIGKILL resumes to the
//! result of an uninterrupted one; three shards equal one unsharded sync; changes made
//! between two syncs are exactly what `mrhost diff` reports.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::*;

const ROLE: &str = "InventoryAuditor";
const REGIONS: [&str; 2] = ["eu-west-1", "eu-west-2"];
const GLOBAL_REGION: &str = "us-east-1";

/// A throwaway PostgreSQL server (scripts/pg-temp.sh), stopped when dropped.
pub struct TempPg {
    dir: PathBuf,
}

impl TempPg {
    /// Start one, or `None` (SKIPPED, said out loud) when PostgreSQL is not installed —
    /// except under `CI=true`, where that fails.
    pub fn start() -> Option<TempPg> {
        let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
        let installed = std::fs::read_dir("/usr/lib/postgresql")
            .map(|d| d.flatten().any(|e| e.path().join("bin/pg_ctl").exists()))
            .unwrap_or(false);
        if !installed {
            assert!(
                !ci,
                "PostgreSQL is required under CI=true (scripts/setup-postgres.sh)"
            );
            eprintln!("SKIPPED: PostgreSQL not installed (scripts/setup-postgres.sh)");
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = std::env::temp_dir().join(format!("mrhost-pg-{}-{port}", std::process::id()));
        let out = Command::new("bash")
            .arg(repo_root().join("scripts/pg-temp.sh"))
            .args(["start", path_str(&dir), &port.to_string()])
            .output()
            .expect("run scripts/pg-temp.sh");
        assert!(
            out.status.success(),
            "starting PostgreSQL failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Some(TempPg { dir })
    }

    /// A new, empty database; its URL.
    pub fn createdb(&self, name: &str) -> String {
        let out = Command::new("bash")
            .arg(repo_root().join("scripts/pg-temp.sh"))
            .args(["createdb", path_str(&self.dir), name])
            .output()
            .expect("run scripts/pg-temp.sh");
        assert!(
            out.status.success(),
            "createdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

impl Drop for TempPg {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(repo_root().join("scripts/pg-temp.sh"))
            .args(["stop", path_str(&self.dir)])
            .output();
    }
}

/// A scratch directory for one test, removed when dropped.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        let d = std::env::temp_dir().join(format!("mrhost-inv-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Scratch(d)
    }

    pub fn path(&self, name: &str) -> String {
        self.0.join(name).to_str().unwrap().to_string()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One bundled plugin and the boto3 listing whose ids it must store.
struct Reference {
    plugin: &'static str,
    service: &'static str,
    operation: &'static str,
    params: Value,
    /// Where the items are ("Reservations.Instances" flattens through lists).
    items: &'static str,
    /// The id field of an item; `None`: the items are the ids.
    id: Option<&'static str>,
    global: bool,
    /// Plugins that describe each listed item (their items are richer than the listing).
    detail: bool,
}

fn r(
    plugin: &'static str,
    service: &'static str,
    operation: &'static str,
    params: Value,
    items: &'static str,
    id: Option<&'static str>,
) -> Reference {
    Reference {
        plugin,
        service,
        operation,
        params,
        items,
        id,
        global: false,
        detail: false,
    }
}

fn references() -> Vec<Reference> {
    let global = |mut x: Reference| {
        x.global = true;
        x
    };
    let detail = |mut x: Reference| {
        x.detail = true;
        x
    };
    vec![
        r(
            "addresses",
            "ec2",
            "DescribeAddresses",
            json!({}),
            "Addresses",
            Some("AllocationId"),
        ),
        r(
            "cloudformation-stacks",
            "cloudformation",
            "DescribeStacks",
            json!({}),
            "Stacks",
            Some("StackId"),
        ),
        detail(r(
            "dynamodb-tables",
            "dynamodb",
            "ListTables",
            json!({}),
            "TableNames",
            None,
        )),
        detail(r(
            "ecs-clusters",
            "ecs",
            "ListClusters",
            json!({}),
            "clusterArns",
            None,
        )),
        r(
            "elbv2-load-balancers",
            "elbv2",
            "DescribeLoadBalancers",
            json!({}),
            "LoadBalancers",
            Some("LoadBalancerArn"),
        ),
        global(r(
            "iam-policies",
            "iam",
            "ListPolicies",
            json!({"Scope": "Local"}),
            "Policies",
            Some("Arn"),
        )),
        global(r(
            "iam-roles",
            "iam",
            "ListRoles",
            json!({}),
            "Roles",
            Some("Arn"),
        )),
        global(r(
            "iam-users",
            "iam",
            "ListUsers",
            json!({}),
            "Users",
            Some("Arn"),
        )),
        r(
            "images",
            "ec2",
            "DescribeImages",
            json!({"Owners": ["self"]}),
            "Images",
            Some("ImageId"),
        ),
        r(
            "instances",
            "ec2",
            "DescribeInstances",
            json!({}),
            "Reservations.Instances",
            Some("InstanceId"),
        ),
        r(
            "internet-gateways",
            "ec2",
            "DescribeInternetGateways",
            json!({}),
            "InternetGateways",
            Some("InternetGatewayId"),
        ),
        r(
            "key-pairs",
            "ec2",
            "DescribeKeyPairs",
            json!({}),
            "KeyPairs",
            Some("KeyPairId"),
        ),
        detail(r(
            "kms-keys",
            "kms",
            "ListKeys",
            json!({}),
            "Keys",
            Some("KeyId"),
        )),
        r(
            "lambda-functions",
            "lambda",
            "ListFunctions",
            json!({}),
            "Functions",
            Some("FunctionArn"),
        ),
        r(
            "logs-log-groups",
            "logs",
            "DescribeLogGroups",
            json!({}),
            "logGroups",
            Some("logGroupArn"),
        ),
        r(
            "nat-gateways",
            "ec2",
            "DescribeNatGateways",
            json!({}),
            "NatGateways",
            Some("NatGatewayId"),
        ),
        r(
            "network-interfaces",
            "ec2",
            "DescribeNetworkInterfaces",
            json!({}),
            "NetworkInterfaces",
            Some("NetworkInterfaceId"),
        ),
        r(
            "rds-db-instances",
            "rds",
            "DescribeDBInstances",
            json!({}),
            "DBInstances",
            Some("DBInstanceArn"),
        ),
        r(
            "route-tables",
            "ec2",
            "DescribeRouteTables",
            json!({}),
            "RouteTables",
            Some("RouteTableId"),
        ),
        global(r(
            "s3-buckets",
            "s3",
            "ListBuckets",
            json!({}),
            "Buckets",
            Some("Name"),
        )),
        r(
            "secretsmanager-secrets",
            "secretsmanager",
            "ListSecrets",
            json!({}),
            "SecretList",
            Some("ARN"),
        ),
        r(
            "security-groups",
            "ec2",
            "DescribeSecurityGroups",
            json!({}),
            "SecurityGroups",
            Some("GroupId"),
        ),
        r(
            "snapshots",
            "ec2",
            "DescribeSnapshots",
            json!({"OwnerIds": ["self"]}),
            "Snapshots",
            Some("SnapshotId"),
        ),
        r(
            "sns-topics",
            "sns",
            "ListTopics",
            json!({}),
            "Topics",
            Some("TopicArn"),
        ),
        detail(r(
            "sqs-queues",
            "sqs",
            "ListQueues",
            json!({}),
            "QueueUrls",
            None,
        )),
        r(
            "ssm-parameters",
            "ssm",
            "DescribeParameters",
            json!({}),
            "Parameters",
            Some("Name"),
        ),
        r(
            "subnets",
            "ec2",
            "DescribeSubnets",
            json!({}),
            "Subnets",
            Some("SubnetId"),
        ),
        r(
            "volumes",
            "ec2",
            "DescribeVolumes",
            json!({}),
            "Volumes",
            Some("VolumeId"),
        ),
        r(
            "vpcs",
            "ec2",
            "DescribeVpcs",
            json!({}),
            "Vpcs",
            Some("VpcId"),
        ),
    ]
}

fn table(plugin: &str) -> String {
    plugin.replace('-', "_")
}

fn creds(id: &str) -> String {
    format!("$as{id}.Credentials")
}

/// A call made as a member account.
fn as_member(id: &str, region: &str, service: &str, op: &str, params: Value) -> Value {
    json!({"region": region, "service": service, "operation": op, "params": params,
           "credentials": creds(id), "paginate": "auto"})
}

fn assume(id: &str) -> Value {
    b3_save(
        GLOBAL_REGION,
        "sts",
        "AssumeRole",
        json!({"RoleArn": format!("arn:aws:iam::{id}:role/{ROLE}"), "RoleSessionName": "seed"}),
        &format!("as{id}"),
    )
}

/// An Organization with three members, each with resources in both regions (and IAM and
/// S3 once); returns the member ids.
fn build_estate(moto: &Moto) -> Vec<String> {
    let members = create_org(moto, 3, "inv", "inv");
    let mut calls = Vec::new();
    for id in &members {
        calls.push(assume(id));
        let g = |op: &str, service: &str, params: Value| {
            as_member(id, GLOBAL_REGION, service, op, params)
        };
        calls.push(g(
            "CreateUser",
            "iam",
            json!({"UserName": "alice", "Tags": [{"Key": "team", "Value": "ops"}]}),
        ));
        calls.push(g("CreateRole", "iam", json!({"RoleName": "app", "AssumeRolePolicyDocument": json!({"Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}).to_string()})));
        calls.push(g("CreatePolicy", "iam", json!({"PolicyName": "read", "PolicyDocument": json!({"Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}]}).to_string()})));
        calls.push(g(
            "CreateBucket",
            "s3",
            json!({"Bucket": format!("inv-{id}")}),
        ));
        for region in REGIONS {
            let m =
                |service: &str, op: &str, params: Value| as_member(id, region, service, op, params);
            let save = |mut c: Value, name: &str| {
                c["save"] = json!(format!("{name}{id}{region}"));
                c
            };
            let saved = |name: &str, path: &str| format!("${name}{id}{region}.{path}");
            calls.push(save(
                m("ec2", "CreateVpc", json!({"CidrBlock": "10.1.0.0/16",
                    "TagSpecifications": [{"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "app"}]}]})),
                "vpc",
            ));
            calls.push(m(
                "ec2",
                "CreateSubnet",
                json!({"VpcId": saved("vpc", "Vpc.VpcId"), "CidrBlock": "10.1.1.0/24"}),
            ));
            calls.push(m("ec2", "CreateSecurityGroup", json!({"GroupName": "web", "Description": "web", "VpcId": saved("vpc", "Vpc.VpcId")})));
            calls.push(m(
                "ec2",
                "CreateVolume",
                json!({"AvailabilityZone": format!("{region}a"), "Size": 8}),
            ));
            calls.push(m("ec2", "CreateKeyPair", json!({"KeyName": "ops"})));
            calls.push(m("ec2", "AllocateAddress", json!({"Domain": "vpc"})));
            calls.push(m("ec2", "CreateInternetGateway", json!({})));
            calls.push(m("kms", "CreateKey", json!({"Description": "app key"})));
            calls.push(m("sqs", "CreateQueue", json!({"QueueName": "jobs"})));
            calls.push(m(
                "dynamodb",
                "CreateTable",
                json!({"TableName": "orders", "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}]}),
            ));
            calls.push(m("ecs", "CreateCluster", json!({"clusterName": "main"})));
            calls.push(m("sns", "CreateTopic", json!({"Name": "alerts"})));
            calls.push(m("logs", "CreateLogGroup", json!({"logGroupName": "/app"})));
            calls.push(m(
                "ssm",
                "PutParameter",
                json!({"Name": "/app/db", "Value": "x", "Type": "String"}),
            ));
            calls.push(m(
                "secretsmanager",
                "CreateSecret",
                json!({"Name": "db", "SecretString": "s"}),
            ));
        }
    }
    let out = moto.boto3(calls);
    for (i, o) in out.iter().enumerate() {
        assert!(o.get("Error").is_none(), "seed call {i} failed: {o}");
    }
    members
}

/// (table, account, region) → id → the boto3 item (detail types: the id itself).
type Estate = BTreeMap<(String, String, String), BTreeMap<String, Value>>;

/// What boto3 lists, with each member's own credentials, for every plugin.
fn boto3_estate(moto: &Moto, members: &[String]) -> Estate {
    let refs = references();
    let mut calls = Vec::new();
    let mut keys = Vec::new();
    for id in members {
        calls.push(assume(id));
        keys.push(None);
        for rf in &refs {
            let regions: Vec<&str> = if rf.global {
                vec![GLOBAL_REGION]
            } else {
                REGIONS.to_vec()
            };
            for region in regions {
                calls.push(as_member(
                    id,
                    region,
                    rf.service,
                    rf.operation,
                    rf.params.clone(),
                ));
                keys.push(Some((rf, id.clone(), region.to_string())));
            }
        }
    }
    let out = moto.boto3(calls);
    let mut estate = Estate::new();
    // Detail types: their ids come from a second call per item.
    let mut detail_calls = Vec::new();
    let mut detail_keys = Vec::new();
    for (resp, key) in out.iter().zip(&keys) {
        let Some((rf, account, region)) = key else {
            continue;
        };
        assert!(
            resp.get("Error").is_none(),
            "boto3 {} in {account}/{region}: {resp}",
            rf.operation
        );
        let k = (table(rf.plugin), account.clone(), region.clone());
        let entry = estate.entry(k.clone()).or_default();
        for item in pluck(resp, rf.items) {
            match (rf.plugin, rf.id) {
                ("dynamodb-tables", _) => {
                    detail_calls.push(as_member(
                        account,
                        region,
                        "dynamodb",
                        "DescribeTable",
                        json!({"TableName": item}),
                    ));
                    detail_keys.push((k.clone(), "Table.TableArn"));
                }
                ("sqs-queues", _) => {
                    detail_calls.push(as_member(
                        account,
                        region,
                        "sqs",
                        "GetQueueAttributes",
                        json!({"QueueUrl": item, "AttributeNames": ["QueueArn"]}),
                    ));
                    detail_keys.push((k.clone(), "Attributes.QueueArn"));
                }
                (_, None) => {
                    entry.insert(item.as_str().unwrap().to_string(), item.clone());
                }
                (_, Some(f)) => {
                    let id = item[f].as_str().unwrap().to_string();
                    entry.insert(id, if rf.detail { json!(null) } else { item.clone() });
                }
            }
        }
    }
    if !detail_calls.is_empty() {
        let mut calls: Vec<Value> = members.iter().map(|id| assume(id)).collect();
        let n = calls.len();
        calls.extend(detail_calls);
        let out = moto.boto3(calls);
        for (resp, (k, path)) in out[n..].iter().zip(detail_keys) {
            let id = pluck(resp, path)[0].as_str().unwrap().to_string();
            estate.entry(k).or_default().insert(id, json!(null));
        }
    }
    estate
}

/// The SQL that lists every table's (type, account, region, id, hash).
fn union_sql() -> String {
    references()
        .iter()
        .map(|rf| {
            let t = table(rf.plugin);
            format!(
                "SELECT '{t}' AS t, _account AS a, _region AS r, _id AS id, _hash AS h FROM {t}"
            )
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ")
}

type Rows = BTreeSet<(String, String, String, String, String)>;

/// Every stored resource of the inventory (as of its latest sync, or `at`).
fn stored(moto: &Moto, dest: &str, at: Option<&str>) -> Rows {
    let sql = union_sql();
    let mut args = vec!["query", sql.as_str(), "--from", dest, "-o", "json"];
    if let Some(at) = at {
        args.extend(["--at", at]);
    }
    let run = moto.mrhost(&args).ok();
    run.json()
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            let s = |k: &str| v[k].as_str().unwrap().to_string();
            (s("t"), s("a"), s("r"), s("id"), s("h"))
        })
        .collect()
}

fn ids_of(rows: &Rows) -> BTreeSet<(String, String, String, String)> {
    rows.iter()
        .map(|(t, a, r, id, _)| (t.clone(), a.clone(), r.clone(), id.clone()))
        .collect()
}

fn ids_of_estate(e: &Estate) -> BTreeSet<(String, String, String, String)> {
    e.iter()
        .flat_map(|((t, a, r), ids)| {
            ids.keys()
                .map(move |id| (t.clone(), a.clone(), r.clone(), id.clone()))
        })
        .collect()
}

/// The shard (of `n`) an account id belongs to: the first eight bytes of its SHA-256, big
/// endian, modulo `n` — what `--shard` documents.
fn shard_of(id: &str, n: u64) -> u64 {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(id.as_bytes());
    u64::from_be_bytes(d[..8].try_into().unwrap()) % n
}

fn sync_args<'a>(dest: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec![
        "sync",
        "--org-role",
        ROLE,
        "--regions",
        "eu-west-1,eu-west-2",
        "--to",
        dest,
        // The credential report plugin reads a secret-class report and generates it
        // (write-class) when absent: every bundled plugin runs only with its grants.
        "--allow",
        "iam:GenerateCredentialReport,iam:GetCredentialReport",
    ];
    v.extend_from_slice(extra);
    v
}

/// How many bundled plugins run once per region, and how many once per account.
fn bundled_scope_kinds() -> (usize, usize) {
    plugin("vpcs"); // builds them all
    let (mut regional, mut global) = (0, 0);
    for e in std::fs::read_dir(repo_root().join("plugins"))
        .unwrap()
        .flatten()
    {
        let p = e.path();
        if p.extension().is_some_and(|x| x == "wasm") {
            let info = mrhost(&["plugins", "inspect", path_str(&p)]).ok().json();
            match info["manifest"]["scope_kind"].as_str() {
                Some("global") => global += 1,
                _ => regional += 1,
            }
        }
    }
    (regional, global)
}

/// Every version row in a SQLite inventory, all tables together.
fn sqlite_version_rows(path: &str) -> i64 {
    let conn = rusqlite::Connection::open(path).unwrap();
    references()
        .iter()
        .map(|rf| {
            conn.query_row(
                &format!("SELECT count(*) FROM main.{}", table(rf.plugin)),
                [],
                |r| r.get::<_, i64>(0),
            )
            .unwrap()
        })
        .sum()
}

/// Run a sync that stops after `units` committed units, and SIGKILL it there.
fn sync_killed_after(moto: &Moto, dest: &str, units: usize) {
    let mut full: Vec<String> = sync_args(dest, &[]).iter().map(|s| s.to_string()).collect();
    full.extend(["--endpoint-url".to_string(), moto.url.clone()]);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mrhost"));
    cmd.args(&full)
        .current_dir(repo_root())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    safe_env(&mut cmd);
    cmd.env("MRHOST_CACHE_DIR", cache_dir())
        .env("MRHOST_TEST_PAUSE_AFTER_UNITS", units.to_string());
    let mut child = cmd.spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let want = format!("paused after {units} units");
    let deadline = Instant::now() + Duration::from_secs(300);
    let mut seen = String::new();
    for line in BufReader::new(stderr).lines() {
        let line = line.unwrap();
        seen.push_str(&line);
        seen.push('\n');
        if line.contains(&want) {
            break;
        }
        assert!(Instant::now() < deadline, "no pause: {seen}");
    }
    assert!(
        seen.contains(&want),
        "the sync ended before pausing: {seen}"
    );
    child.kill().unwrap(); // SIGKILL
    let status = child.wait().unwrap();
    assert!(status.code().is_none(), "killed by a signal");
}

/// Unit rows of a sync in a SQLite inventory, by status.
fn unit_status(path: &str, sync: i64) -> BTreeMap<String, i64> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut stmt = conn
        .prepare("SELECT status, count(*) FROM _units WHERE sync_id = ?1 GROUP BY 1")
        .unwrap();
    stmt.query_map([sync], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// Read a Parquet inventory with DuckDB: every (type, account, region, id, hash) of one
/// sync, and the Hive partition values checked against the columns.
fn duckdb_rows(dir: &str, sync: i64) -> Rows {
    let script = r#"
import duckdb, json, os, sys
root, sync = sys.argv[1], int(sys.argv[2])
out = []
for t in sorted(os.listdir(root)):
    if t.startswith("_") or not os.path.isdir(os.path.join(root, t)):
        continue
    glob = os.path.join(root, t, f"sync={sync}", "**", "*.parquet")
    try:
        rows = duckdb.sql(f"SELECT _account, _region, _id, _hash, account, region, CAST(sync AS BIGINT), _sync_id FROM read_parquet('{glob}', hive_partitioning=true, hive_types_autocast=false, union_by_name=true)").fetchall()
    except duckdb.Error:
        continue  # no file in this sync (every unit of the type was empty)
    for a, r, i, h, pa, pr, ps, s in rows:
        assert (a, r, ps) == (pa, pr, s), (t, a, r, pa, pr, ps, s)
        out.append([t, a, r, i, h])
print(json.dumps(out))
"#;
    let out = Command::new(python().unwrap())
        .args(["-c", script, dir, &sync.to_string()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "duckdb: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let s = |i: usize| r[i].as_str().unwrap().to_string();
            (s(0), s(1), s(2), s(3), s(4))
        })
        .collect()
}

#[test]
fn sync_an_organization_into_every_destination_with_history_resume_and_shards() {
    let Some(moto) = moto() else { return };
    let Some(pg) = TempPg::start() else { return };
    let scratch = Scratch::new("org");
    let members = build_estate(&moto);
    let estate = boto3_estate(&moto, &members);
    let want = ids_of_estate(&estate);
    assert!(want.len() > 100, "{}", want.len());
    // Every plugin has a table in every scope it runs in, and seeded resources show up.
    for id in &members {
        for t in [
            "vpcs",
            "subnets",
            "kms_keys",
            "sqs_queues",
            "dynamodb_tables",
            "ecs_clusters",
        ] {
            for region in REGIONS {
                assert!(
                    !estate[&(t.to_string(), id.clone(), region.to_string())].is_empty(),
                    "{t} {id}/{region}"
                );
            }
        }
        assert!(!estate[&(
            "iam_users".to_string(),
            id.clone(),
            GLOBAL_REGION.to_string()
        )]
            .is_empty());
    }

    // 1. SQLite: every table's ids equal boto3's, per account and region.
    let sqlite = format!("sqlite:{}", scratch.path("a.sqlite"));
    let run = moto.mrhost(&sync_args(&sqlite, &[])).ok();
    assert!(run.stderr.contains("sync 1 into"), "{}", run.stderr);
    let a = stored(&moto, &sqlite, None);
    assert_eq!(ids_of(&a), want, "SQLite against boto3");
    let units = unit_status(&scratch.path("a.sqlite"), 1);
    let total_units = units["ok"];
    // Regional plugins × 3 members × 2 regions, global ones × 3 members.
    let (regional, global) = bundled_scope_kinds();
    assert!(regional >= 25 && global >= 4, "{regional} {global}");
    assert_eq!(
        total_units,
        (regional * 3 * 2 + global * 3) as i64,
        "{units:?}"
    );

    // 2. PostgreSQL and Parquet hold the same rows (same ids, same content hashes).
    let pg1 = pg.createdb("inv1");
    moto.mrhost(&sync_args(&pg1, &[])).ok();
    assert_eq!(stored(&moto, &pg1, None), a, "PostgreSQL against SQLite");
    let pq_dir = scratch.path("lake");
    let parquet = format!("parquet:{pq_dir}");
    moto.mrhost(&sync_args(&parquet, &[])).ok();
    assert_eq!(stored(&moto, &parquet, None), a, "Parquet against SQLite");
    // (The tables boto3 has a reference listing for: `a` holds those.)
    let checked: BTreeSet<String> = references().iter().map(|rf| table(rf.plugin)).collect();
    let duck: Rows = duckdb_rows(&pq_dir, 1)
        .into_iter()
        .filter(|row| checked.contains(&row.0))
        .collect();
    assert_eq!(duck, a, "Parquet read by DuckDB");
    // Typed columns: booleans stay booleans in PostgreSQL.
    let typed = moto
        .mrhost(&[
            "query",
            "SELECT \"IsDefault\", _tags FROM vpcs WHERE \"IsDefault\" = false ORDER BY _id LIMIT 1",
            "--from",
            &pg1,
            "-o",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(typed[0]["IsDefault"], json!(false), "{typed}");
    assert_eq!(typed[0]["_tags"], json!({"Name": "app"}), "{typed}");

    // 3. A second sync of the unchanged estate writes no resource row.
    let path_a = scratch.path("a.sqlite");
    let rows_before = sqlite_version_rows(&path_a);
    let run = moto.mrhost(&sync_args(&sqlite, &[])).ok();
    assert!(run.stderr.contains("0 rows written"), "{}", run.stderr);
    assert_eq!(sqlite_version_rows(&path_a), rows_before);
    assert_eq!(stored(&moto, &sqlite, None), a);
    let nothing = mrhost(&["diff", "--inventory", &sqlite, "-o", "json"])
        .ok()
        .json();
    assert_eq!(nothing, json!([]));

    // 4. Killed mid-sync with SIGKILL: what was committed stays; --resume runs only the
    //    units left, in the same sync, and ends where an uninterrupted sync does.
    let killed_path = scratch.path("killed.sqlite");
    let killed = format!("sqlite:{killed_path}");
    sync_killed_after(&moto, &killed, 40);
    let partial = unit_status(&killed_path, 1);
    assert_eq!(partial.get("ok"), Some(&40), "{partial:?}");
    let run = moto.mrhost(&sync_args(&killed, &["--resume"])).ok();
    assert!(
        run.stderr
            .contains("continuing sync 1 (40 units committed already)"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(&format!(
            "{} units (0 failed, 40 done before)",
            total_units - 40
        )),
        "{}",
        run.stderr
    );
    assert_eq!(unit_status(&killed_path, 1)["ok"], total_units);
    assert_eq!(
        stored(&moto, &killed, None),
        a,
        "resumed against uninterrupted"
    );

    // 5. Three shards with one sync id into one PostgreSQL = one unsharded sync. The third
    //    reads its accounts from a list made once (`--accounts @FILE`, the JSON `aws
    //    organizations list-accounts` writes) instead of listing the Organization: the
    //    management account left out (the role is the members'), and a SUSPENDED account
    //    of that shard skipped as one.
    let pg2 = pg.createdb("inv2");
    let listed = moto.boto3(vec![b3(
        GLOBAL_REGION,
        "organizations",
        "ListAccounts",
        json!({}),
    )]);
    let mut listing: Vec<Value> = listed[0]["Accounts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| members.iter().any(|m| a["Id"] == json!(m)))
        .cloned()
        .collect();
    assert_eq!(listing.len(), members.len(), "{listed:?}");
    let suspended = (0u64..)
        .map(|n| format!("{:012}", 999_000_000_000 + n))
        .find(|id| shard_of(id, 3) == 2)
        .unwrap();
    listing.push(json!({"Id": suspended, "Name": "closed", "Status": "SUSPENDED"}));
    let list_path = scratch.path("accounts.json");
    std::fs::write(&list_path, json!({ "Accounts": listing }).to_string()).unwrap();
    let from_list = format!("@{list_path}");
    let shards: Vec<_> = (0..3)
        .map(|i| {
            let shard = format!("{i}/3");
            let mut full: Vec<String> = sync_args(&pg2, &["--shard", &shard, "--sync-id", "7"])
                .iter()
                .map(|s| s.to_string())
                .collect();
            if i == 2 {
                full.splice(
                    1..3,
                    ["--accounts", &from_list, "--role", ROLE].map(String::from),
                );
            }
            full.extend(["--endpoint-url".to_string(), moto.url.clone()]);
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_mrhost"));
            cmd.args(&full)
                .current_dir(repo_root())
                .stdout(Stdio::null())
                .stderr(Stdio::piped());
            safe_env(&mut cmd);
            cmd.env("MRHOST_CACHE_DIR", cache_dir());
            cmd.spawn().unwrap()
        })
        .collect();
    let mut shard_units = 0;
    for (i, child) in shards.into_iter().enumerate() {
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "shard failed: {err}");
        if i == 2 {
            assert!(
                err.contains(&format!(
                    "account {suspended} skipped: account is SUSPENDED (in the account list)"
                )),
                "{err}"
            );
        }
        let n: usize = err
            .split("sync 7 into")
            .nth(1)
            .and_then(|s| s.split(": ").nth(1))
            .and_then(|s| s.split(' ').next())
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no unit count in {err}"));
        shard_units += n;
    }
    assert_eq!(
        shard_units as i64, total_units,
        "shards are disjoint and complete"
    );
    assert_eq!(stored(&moto, &pg2, None), a, "3 shards against one sync");

    // 6. Create, modify and delete between two syncs: diff reports exactly those.
    let (m0, m1, m2) = (&members[0], &members[1], &members[2]);
    let vpc_to_retag = estate[&("vpcs".into(), m2.clone(), "eu-west-1".into())]
        .iter()
        .find(|(_, v)| v["IsDefault"] == json!(false))
        .map(|(id, _)| id.clone())
        .unwrap();
    let sg_to_delete = estate[&("security_groups".into(), m1.clone(), "eu-west-2".into())]
        .iter()
        .find(|(_, v)| v["GroupName"] == json!("web"))
        .map(|(id, _)| id.clone())
        .unwrap();
    let out = moto.boto3(vec![
        assume(m0),
        assume(m1),
        assume(m2),
        as_member(
            m0,
            "eu-west-1",
            "ec2",
            "CreateVpc",
            json!({"CidrBlock": "10.9.0.0/16"}),
        ),
        as_member(
            m1,
            "eu-west-2",
            "ec2",
            "DeleteSecurityGroup",
            json!({"GroupId": sg_to_delete}),
        ),
        as_member(
            m2,
            "eu-west-1",
            "ec2",
            "CreateTags",
            json!({"Resources": [vpc_to_retag], "Tags": [{"Key": "Name", "Value": "renamed"}]}),
        ),
    ]);
    assert!(out.iter().all(|o| o.get("Error").is_none()), "{out:?}");
    let after = boto3_estate(&moto, &members);
    let mut expected = BTreeSet::new();
    for (k, ids) in &after {
        let before = estate.get(k).cloned().unwrap_or_default();
        for (id, item) in ids {
            match before.get(id) {
                None => {
                    expected.insert(("added", k.0.clone(), k.1.clone(), k.2.clone(), id.clone()))
                }
                Some(old) if old != item => {
                    expected.insert(("changed", k.0.clone(), k.1.clone(), k.2.clone(), id.clone()))
                }
                _ => false,
            };
        }
        for id in before.keys().filter(|id| !ids.contains_key(*id)) {
            expected.insert(("removed", k.0.clone(), k.1.clone(), k.2.clone(), id.clone()));
        }
    }
    assert!(expected.contains(&(
        "removed",
        "security_groups".into(),
        m1.clone(),
        "eu-west-2".into(),
        sg_to_delete.clone()
    )));
    assert!(expected.contains(&(
        "changed",
        "vpcs".into(),
        m2.clone(),
        "eu-west-1".into(),
        vpc_to_retag.clone()
    )));
    assert!(expected.iter().any(|e| e.0 == "added" && e.1 == "vpcs"));
    let run = moto.mrhost(&sync_args(&sqlite, &[])).ok();
    assert!(run.stderr.contains("sync 3 into"), "{}", run.stderr);
    let diff = mrhost(&["diff", "--inventory", &sqlite, "-o", "json"])
        .ok()
        .json();
    let got: BTreeSet<(&str, String, String, String, String)> = diff
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let s = |k: &str| c[k].as_str().unwrap().to_string();
            let change = match c["change"].as_str().unwrap() {
                "added" => "added",
                "removed" => "removed",
                _ => "changed",
            };
            (change, s("type"), s("account"), s("region"), s("id"))
        })
        .collect();
    assert_eq!(got, expected, "diff against boto3's before and after");
    let retag = diff
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == json!(vpc_to_retag))
        .unwrap();
    assert!(
        retag["fields"]
            .as_array()
            .unwrap()
            .contains(&json!({"path": "Tags.Name", "before": "app", "after": "renamed"})),
        "{retag}"
    );
    // The same diff by time, and the estate as it was (--at) and as it is.
    assert_eq!(stored(&moto, &sqlite, Some("2")), a);
    assert_eq!(ids_of(&stored(&moto, &sqlite, None)), ids_of_estate(&after));
    let ndjson = mrhost(&[
        "diff",
        "--inventory",
        &sqlite,
        "--from",
        "1",
        "--to",
        "3",
        "-o",
        "ndjson",
        "--type",
        "vpcs",
    ])
    .ok();
    assert!(ndjson
        .stdout
        .lines()
        .all(|l| serde_json::from_str::<Value>(l).unwrap()["type"] == "vpcs"));
    assert_eq!(
        ndjson.stdout.lines().count(),
        expected.iter().filter(|e| e.1 == "vpcs").count()
    );
    // References: a subnet names its VPC.
    let edges = moto
        .mrhost(&["query", "SELECT from_type, field, to_type FROM _references WHERE from_type = 'subnets' AND field = 'VpcId' LIMIT 1", "--from", &sqlite, "-o", "json"])
        .ok()
        .json();
    assert_eq!(
        edges,
        json!([{"from_type": "subnets", "field": "VpcId", "to_type": "vpcs"}])
    );
    drop(pg);
}

/// A single-account moto for the smaller tests.
fn one_account_vpcs(moto: &Moto) {
    let out = moto.boto3(vec![
        b3("eu-west-1", "ec2", "CreateVpc", json!({"CidrBlock": "10.0.0.0/16",
            "TagSpecifications": [{"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "one"}]}]})),
    ]);
    assert!(out[0].get("Error").is_none(), "{out:?}");
}

#[test]
fn bad_destinations_fail_before_any_aws_call() {
    let Some(moto) = moto() else { return };
    let scratch = Scratch::new("bad");
    let px = Proxy::start(moto.port, None, Duration::ZERO);
    let vpcs = plugin("vpcs");
    let not_db = scratch.path("not-a-db");
    std::fs::write(&not_db, "hello, not a database").unwrap();
    let read_only = scratch.path("ro.sqlite");
    std::fs::write(&read_only, "").unwrap();
    let mut perms = std::fs::metadata(&read_only).unwrap().permissions();
    perms.set_readonly(true);
    std::fs::set_permissions(&read_only, perms).unwrap();
    let a_file = scratch.path("a-file");
    std::fs::write(&a_file, "x").unwrap();
    let foreign_dir = scratch.path("foreign");
    std::fs::create_dir_all(&foreign_dir).unwrap();
    std::fs::write(Path::new(&foreign_dir).join("data.csv"), "a,b").unwrap();
    // A database with a table of the same name that mrhost did not create.
    let theirs = scratch.path("theirs.sqlite");
    {
        let c = rusqlite::Connection::open(&theirs).unwrap();
        c.execute_batch("CREATE TABLE vpcs (mine TEXT); INSERT INTO vpcs VALUES ('keep me');")
            .unwrap();
    }
    let dead_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let cases: Vec<(String, &str)> = vec![
        ("mysql://x/y".into(), "unknown destination 'mysql://x/y'"),
        (format!("sqlite:{not_db}"), "file is not a database"),
        (format!("sqlite:{read_only}"), "read-only"),
        (format!("sqlite:{}", scratch.0.display()), "is a directory"),
        (format!("parquet:{a_file}"), "is not a directory"),
        (format!("parquet:{foreign_dir}"), "did not create"),
        (format!("sqlite:{theirs}"), "table vpcs in sqlite:"),
        (
            format!("postgres://mrhost:secret@127.0.0.1:{dead_port}/inv"),
            "Connection refused",
        ),
    ];
    for (dest, msg) in &cases {
        let run = mrhost(&[
            "sync",
            path_str(&vpcs),
            "--regions",
            "eu-west-1",
            "--to",
            dest,
            "--endpoint-url",
            &px.url,
        ]);
        assert_eq!(run.code, 1, "{dest}: {}", run.stderr);
        assert_eq!(
            run.stderr.lines().count(),
            1,
            "{dest}: one line: {}",
            run.stderr
        );
        assert!(run.stderr.contains(msg), "{dest}: {}", run.stderr);
        assert!(
            !run.stderr.contains("secret"),
            "the password is never shown"
        );
        assert_eq!(
            px.total(),
            0,
            "{dest}: no AWS call before the destination is checked"
        );
    }
    let c = rusqlite::Connection::open(&theirs).unwrap();
    let kept: String = c
        .query_row("SELECT mine FROM vpcs", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        kept, "keep me",
        "a table mrhost did not create is untouched"
    );
    // Types that need params are refused up front, by name.
    let run = mrhost(&[
        "sync",
        "ec2:vpcs",
        "ec2:associated-ipv6-pool-cidrs",
        "lambda:aliases",
        "--to",
        &format!("sqlite:{}", scratch.path("x.sqlite")),
        "--endpoint-url",
        &px.url,
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("ec2:associated-ipv6-pool-cidrs (PoolId)")
            && run.stderr.contains("lambda:aliases (FunctionName)"),
        "{}",
        run.stderr
    );
    assert_eq!(px.total(), 0);
    // --shard without --sync-id: usage, before any call.
    let run = mrhost(&[
        "sync",
        path_str(&vpcs),
        "--shard",
        "0/2",
        "--to",
        &format!("sqlite:{}", scratch.path("y.sqlite")),
    ]);
    assert_eq!(run.code, 2, "usage: {}", run.stderr);
    assert!(run.stderr.contains("--sync-id"), "{}", run.stderr);
    let run = mrhost(&["sync", path_str(&vpcs), "--shard", "2/2", "--sync-id", "1"]);
    assert_eq!(run.code, 2, "usage: {}", run.stderr);
    let _ = moto;
}

#[test]
fn model_types_history_and_pruning_in_one_account() {
    let Some(moto) = moto() else { return };
    one_account_vpcs(&moto);
    let scratch = Scratch::new("model");
    let dest = format!("sqlite:{}", scratch.path("m.sqlite"));
    let sync = |extra: &[&str]| {
        let mut a = vec![
            "sync",
            "ec2:vpcs",
            "ec2:route-tables",
            "iam:users",
            "--regions",
            "eu-west-1",
            "--to",
            &dest,
        ];
        a.extend_from_slice(extra);
        moto.mrhost(&a).ok()
    };
    sync(&[]);
    // Columns typed from the model's output shape, the id from its identifier member.
    let rows = moto
        .mrhost(&[
            "query",
            "SELECT _id, VpcId, typeof(IsDefault) AS k, _tags FROM ec2_vpcs ORDER BY IsDefault",
            "--from",
            &dest,
            "-o",
            "json",
        ])
        .ok()
        .json();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(rows
        .iter()
        .all(|r| r["_id"] == r["VpcId"] && r["k"] == "integer"));
    assert_eq!(
        rows[0]["_tags"],
        json!({"Name": "one"}),
        "JSON columns come back as JSON"
    );
    // iam users: global, once, in us-east-1.
    moto.boto3(vec![b3(
        "us-east-1",
        "iam",
        "CreateUser",
        json!({"UserName": "u1"}),
    )]);
    sync(&[]);
    let users = moto
        .mrhost(&[
            "query",
            "SELECT _region, UserName FROM iam_users",
            "--from",
            &dest,
            "-o",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(users, json!([{"_region": "us-east-1", "UserName": "u1"}]));
    let before = moto
        .mrhost(&[
            "query",
            "SELECT count(*) AS n FROM iam_users",
            "--from",
            &dest,
            "--at",
            "1",
            "-o",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(before, json!([{"n": 0}]));
    let diff = mrhost(&["diff", "--inventory", &dest, "-o", "json"])
        .ok()
        .json();
    assert_eq!(diff.as_array().unwrap().len(), 1, "{diff}");
    assert_eq!(diff[0]["change"], "added");
    assert_eq!(diff[0]["type"], "iam_users");
    // Delete the user, sync with --keep 2: sync 1 is pruned, history from 2 on stays.
    moto.boto3(vec![b3(
        "us-east-1",
        "iam",
        "DeleteUser",
        json!({"UserName": "u1"}),
    )]);
    let run = sync(&["--keep", "2"]);
    assert!(
        run.stderr.contains("pruned 1 older sync(s): 1"),
        "{}",
        run.stderr
    );
    let diff = mrhost(&["diff", "--inventory", &dest, "-o", "json"])
        .ok()
        .json();
    assert_eq!(diff[0]["change"], "removed", "{diff}");
    let gone = mrhost(&["diff", "--inventory", &dest, "--from", "1"]);
    assert_eq!(gone.code, 1);
    assert!(gone.stderr.contains("no sync 1"), "{}", gone.stderr);
    let at2 = moto
        .mrhost(&[
            "query",
            "SELECT UserName FROM iam_users",
            "--from",
            &dest,
            "--at",
            "2",
            "-o",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(at2, json!([{"UserName": "u1"}]));
    // --resume of a complete sync has nothing to do.
    let run = sync(&["--resume"]);
    assert!(run.stderr.contains("0 units (0 failed"), "{}", run.stderr);
}

#[test]
fn failed_units_are_recorded_and_close_nothing() {
    let Some(moto) = moto() else { return };
    one_account_vpcs(&moto);
    let scratch = Scratch::new("failed");
    let path = scratch.path("f.sqlite");
    let dest = format!("sqlite:{path}");
    let (flaky, vpcs) = (plugin("flaky"), plugin("vpcs"));
    // flaky traps in eu-west-2: that unit fails, the others are committed; exit 3.
    let run = moto.mrhost(&[
        "sync",
        path_str(&flaky),
        path_str(&vpcs),
        "--regions",
        "eu-west-1,eu-west-2",
        "--to",
        &dest,
    ]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("error: sync flaky 123456789012/eu-west-2"),
        "the failed unit is named: {}",
        run.stderr
    );
    let conn = rusqlite::Connection::open(&path).unwrap();
    let errors: Vec<(String, String, String)> = conn
        .prepare("SELECT type, region, class FROM _errors WHERE sync_id = 1")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        errors,
        vec![(
            "flaky".to_string(),
            "eu-west-2".to_string(),
            "failed".to_string()
        )]
    );
    assert_eq!(
        unit_status(&path, 1),
        BTreeMap::from([("failed".to_string(), 1), ("ok".to_string(), 3)])
    );
    let status: String = conn
        .query_row("SELECT status FROM _syncs WHERE id = 1", [], |r| r.get(0))
        .unwrap();
    assert_eq!(status, "partial");
    let before = moto
        .mrhost(&[
            "query",
            "SELECT _region, _id FROM vpcs ORDER BY 1, 2",
            "--from",
            &dest,
            "-o",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(before.as_array().unwrap().len(), 3, "{before}");
    // Every EC2 call fails now (STS still answers): nothing succeeds, exit 1, and the failed
    // units close nothing: the estate as stored is unchanged.
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let run = mrhost_with(
        &[
            "sync",
            path_str(&vpcs),
            "--regions",
            "eu-west-1,eu-west-2",
            "--to",
            &dest,
            "--max-attempts",
            "1",
        ],
        |c| {
            c.env("AWS_ENDPOINT_URL", &moto.url)
                .env("AWS_ENDPOINT_URL_EC2", format!("http://127.0.0.1:{dead}"));
        },
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        unit_status(&path, 2),
        BTreeMap::from([("failed".to_string(), 2)])
    );
    let after = moto
        .mrhost(&[
            "query",
            "SELECT _region, _id FROM vpcs ORDER BY 1, 2",
            "--from",
            &dest,
            "-o",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(after, before);
    let diff = mrhost(&["diff", "--inventory", &dest, "-o", "json"])
        .ok()
        .json();
    assert_eq!(diff, json!([]));
    // --resume reruns the failed units only, in sync 2, and completes it.
    let run = moto.mrhost(&[
        "sync",
        path_str(&vpcs),
        "--regions",
        "eu-west-1,eu-west-2",
        "--to",
        &dest,
        "--resume",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("continuing sync 2 (0 units committed already)"),
        "{}",
        run.stderr
    );
    assert_eq!(
        unit_status(&path, 2),
        BTreeMap::from([("ok".to_string(), 2)])
    );
    let errors: i64 = conn
        .query_row("SELECT count(*) FROM _errors WHERE sync_id = 2", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(
        errors, 0,
        "a unit that succeeds on resume has no error left"
    );
}
