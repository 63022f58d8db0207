//! `mrhost report` over a synced moto estate (an Organization of three members × two
//! regions, two syncs with changes between them, a plugin that fails in one region), the
//! page opened in real headless Chromium (tests/py/browser.py over the DevTools pipe): the
//! numbers the page shows equal what boto3 sees on moto and what the database holds;
//! clicking an account in the heat map narrows the tables; a failing check lists its rows;
//! the page makes no network request. PostgreSQL and Parquet inventories of the same estate
//! give the same data document. An empty inventory says so instead of drawing charts.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{json, Value};

use crate::common::*;
use crate::inventory::{Scratch, TempPg};

const ROLE: &str = "ReportAuditor";
const REGIONS: [&str; 2] = ["eu-west-1", "eu-west-2"];
const GLOBAL_REGION: &str = "us-east-1";
/// The plugins synced, and the boto3 listing each one's rows must equal.
const SOURCES: [(&str, &str, &str, &str); 4] = [
    ("vpcs", "DescribeVpcs", "Vpcs", "VpcId"),
    ("volumes", "DescribeVolumes", "Volumes", "VolumeId"),
    (
        "security-groups",
        "DescribeSecurityGroups",
        "SecurityGroups",
        "GroupId",
    ),
    // Lists VPCs like `vpcs`, but traps in eu-west-2: one failing unit per account.
    ("flaky", "DescribeVpcs", "Vpcs", "VpcId"),
];

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Debian's chromium, or `None` (SKIPPED, said out loud); under CI=true a missing browser
/// fails the test.
fn chromium() -> Option<PathBuf> {
    let found = ["chromium", "chromium-browser"].iter().find_map(|name| {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|d| d.join(name))
                .find(|p| p.is_file())
        })
    });
    if found.is_none() {
        assert!(
            !in_ci(),
            "chromium is required under CI=true (scripts/setup-browser.sh, run by scripts/setup.sh)"
        );
        eprintln!("SKIPPED: chromium not installed (scripts/setup-browser.sh)");
    }
    found
}

/// Run steps in the page (tests/py/browser.py); its whole answer.
fn browse(page: &Path, steps: Value) -> Value {
    let mut child = Command::new("python3")
        .arg(repo_root().join("tests/py/browser.py"))
        .arg(page)
        .args(["--script", "-", "--timeout", "120"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run tests/py/browser.py");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(steps.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let answer: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "browser.py printed no JSON ({e}), exit {:?}:\n{}\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert!(
        out.status.success(),
        "a browser step failed: {answer:#}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        answer["requests"],
        json!([]),
        "the page made network requests"
    );
    assert_eq!(answer["exceptions"], json!([]), "the page threw");
    assert_eq!(
        answer["console_errors"],
        json!([]),
        "the page logged errors"
    );
    answer
}

/// The value of each `eval` step, by its index in the steps.
fn values(answer: &Value) -> BTreeMap<u64, Value> {
    answer["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r.get("eval").is_some())
        .map(|r| (r["step"].as_u64().unwrap(), r["value"].clone()))
        .collect()
}

/// The data document embedded in a report page.
fn embedded_data(page: &Path) -> Value {
    let html = std::fs::read_to_string(page).unwrap();
    let start = r#"<script type="application/json" id="mrhost-data">"#;
    let from = html.find(start).expect("the data element") + start.len();
    let len = html[from..]
        .find("</script>")
        .expect("the data element ends");
    serde_json::from_str(&html[from..from + len]).expect("the embedded data is JSON")
}

fn creds(id: &str) -> String {
    format!("$as{id}.Credentials")
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

fn as_member(id: &str, region: &str, op: &str, params: Value) -> Value {
    json!({"region": region, "service": "ec2", "operation": op, "params": params,
           "credentials": creds(id), "paginate": "auto"})
}

/// Run calls as the members (each assumes the role first); every call must succeed.
fn as_members(moto: &Moto, members: &[String], calls: Vec<Value>) -> Vec<Value> {
    let mut all: Vec<Value> = members.iter().map(|id| assume(id)).collect();
    let n = all.len();
    all.extend(calls);
    let out = moto.boto3(all);
    for (i, o) in out.iter().enumerate() {
        assert!(o.get("Error").is_none(), "boto3 call {i} failed: {o}");
    }
    out[n..].to_vec()
}

/// An Organization with three members; in each region of each member a VPC and an
/// unencrypted volume; one encrypted volume; one security group open to the world on SSH.
fn build_estate(moto: &Moto) -> Vec<String> {
    let members = create_org(moto, 3, "rep", "rep");
    let mut calls = Vec::new();
    for (i, id) in members.iter().enumerate() {
        for region in REGIONS {
            calls.push(as_member(
                id,
                region,
                "CreateVpc",
                json!({"CidrBlock": "10.1.0.0/16",
                "TagSpecifications": [{"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "app"}]}]}),
            ));
            calls.push(as_member(
                id,
                region,
                "CreateVolume",
                json!({"AvailabilityZone": format!("{region}a"), "Size": 8}),
            ));
        }
        if i == 0 {
            calls.push(as_member(
                id,
                "eu-west-1",
                "CreateVolume",
                json!({"AvailabilityZone": "eu-west-1a", "Size": 8, "Encrypted": true}),
            ));
            let mut sg = as_member(
                id,
                "eu-west-1",
                "CreateSecurityGroup",
                json!({"GroupName": "bastion", "Description": "ssh from anywhere"}),
            );
            sg["save"] = json!("sg");
            calls.push(sg);
            calls.push(as_member(
                id,
                "eu-west-1",
                "AuthorizeSecurityGroupIngress",
                json!({"GroupId": "$sg.GroupId", "IpPermissions": [{"IpProtocol": "tcp",
                       "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]}),
            ));
        }
    }
    as_members(moto, &members, calls);
    members
}

/// (table, account, region) → the ids boto3 lists there.
type Estate = BTreeMap<(String, String, String), BTreeSet<String>>;

fn boto3_estate(moto: &Moto, members: &[String]) -> (Estate, Vec<Value>, Vec<Value>) {
    let mut calls = Vec::new();
    let mut keys = Vec::new();
    for id in members {
        for region in REGIONS {
            for (plugin, op, items, idf) in SOURCES {
                calls.push(as_member(id, region, op, json!({})));
                keys.push((plugin, items, idf, id.clone(), region));
            }
        }
    }
    let out = as_members(moto, members, calls);
    let mut estate = Estate::new();
    let (mut volumes, mut groups) = (Vec::new(), Vec::new());
    for (resp, (plugin, items, idf, account, region)) in out.iter().zip(keys) {
        if plugin == "flaky" && region == "eu-west-2" {
            continue; // the unit that fails: nothing stored
        }
        let set = estate
            .entry((
                plugin.replace('-', "_"),
                account.clone(),
                region.to_string(),
            ))
            .or_default();
        for item in resp[items].as_array().unwrap() {
            set.insert(item[idf].as_str().unwrap().to_string());
            let mut tagged = item.clone();
            tagged["_account"] = json!(account);
            tagged["_region"] = json!(region);
            match plugin {
                "volumes" => volumes.push(tagged),
                "security-groups" => groups.push(tagged),
                _ => {}
            }
        }
    }
    (estate, volumes, groups)
}

fn ids(e: &Estate) -> BTreeSet<(String, String, String, String)> {
    e.iter()
        .flat_map(|((t, a, r), ids)| {
            ids.iter()
                .map(move |id| (t.clone(), a.clone(), r.clone(), id.clone()))
        })
        .collect()
}

fn sync(moto: &Moto, dest: &str) {
    let plugins: Vec<PathBuf> = SOURCES.iter().map(|(p, ..)| plugin(p)).collect();
    let mut args: Vec<&str> = vec!["sync"];
    args.extend(plugins.iter().map(|p| path_str(p)));
    args.extend([
        "--org-role",
        ROLE,
        "--regions",
        "eu-west-1,eu-west-2",
        "--to",
        dest,
    ]);
    let run = moto.mrhost(&args);
    // flaky's units fail: a partial sync.
    assert_eq!(run.code, 3, "{}", run.stderr);
}

fn report(dest: &str, out: &str, extra: &[&str]) -> Run {
    let mut args = vec!["report", "--from", dest, "-o", out];
    args.extend_from_slice(extra);
    mrhost(&args)
}

/// The data document without what differs between two runs over equal estates (times,
/// where it was read from).
fn comparable(d: Value) -> Value {
    // Objects with their keys sorted, everywhere (nested cells included).
    fn canon(v: Value) -> Value {
        match v {
            Value::Object(m) => {
                let sorted: BTreeMap<String, Value> =
                    m.into_iter().map(|(k, v)| (k, canon(v))).collect();
                Value::Object(sorted.into_iter().collect())
            }
            Value::Array(a) => Value::Array(a.into_iter().map(canon).collect()),
            other => other,
        }
    }
    let mut d = canon(d);
    let o = d.as_object_mut().unwrap();
    for k in ["generated_at", "source"] {
        o.remove(k);
    }
    for k in ["at", "since"] {
        if let Some(s) = o.get_mut(k).and_then(Value::as_object_mut) {
            s.retain(|k, _| k == "id" || k == "status");
        }
    }
    for h in o["history"].as_array_mut().unwrap() {
        h.as_object_mut().unwrap().remove("finished");
    }
    // PostgreSQL's JSONB keeps no key order: a table's rows as maps, its columns as a set.
    for t in o["tables"].as_array_mut().unwrap() {
        let t = t.as_object_mut().unwrap();
        t.remove("query_hint");
        let cols: Vec<String> = t["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_string())
            .collect();
        let mut rows: Vec<String> = t["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let m: BTreeMap<&String, &Value> = cols.iter().zip(r.as_array().unwrap()).collect();
                serde_json::to_string(&m).unwrap()
            })
            .collect();
        rows.sort();
        let mut cols = cols;
        cols.sort();
        t.insert("columns".into(), json!(cols));
        t.insert("rows".into(), json!(rows));
    }
    for c in o["diff"].as_array_mut().unwrap() {
        c["fields"]
            .as_array_mut()
            .unwrap()
            .sort_by_key(|f| f["path"].to_string());
    }
    d
}

#[test]
fn report_of_a_synced_estate_in_a_real_browser() {
    let Some(moto) = moto() else { return };
    let Some(_browser) = chromium() else { return };
    let members = build_estate(&moto);
    let scratch = Scratch::new("report");
    let db = scratch.path("inv.sqlite");
    let dest = format!("sqlite:{db}");
    let pq = format!("parquet:{}", scratch.path("pq"));
    let pg = TempPg::start();
    let pg_url = pg.as_ref().map(|p| p.createdb("report"));
    let dests: Vec<String> = [Some(dest.clone()), Some(pq.clone()), pg_url.clone()]
        .into_iter()
        .flatten()
        .collect();
    for d in &dests {
        sync(&moto, d);
    }
    let (before, ..) = boto3_estate(&moto, &members);

    // Changes between the syncs, all in eu-west-2 (where flaky stores nothing): a VPC added
    // (with its default security group), a volume deleted, a VPC's tag changed.
    let (a, b, c) = (&members[0], &members[1], &members[2]);
    let vols = as_members(
        &moto,
        &members,
        vec![as_member(b, "eu-west-2", "DescribeVolumes", json!({}))],
    );
    let doomed = vols[0]["Volumes"][0]["VolumeId"]
        .as_str()
        .unwrap()
        .to_string();
    let vpcs = as_members(
        &moto,
        &members,
        vec![as_member(
            c,
            "eu-west-2",
            "DescribeVpcs",
            json!({"Filters": [{"Name": "tag:Name", "Values": ["app"]}]}),
        )],
    );
    let retagged = vpcs[0]["Vpcs"][0]["VpcId"].as_str().unwrap().to_string();
    as_members(
        &moto,
        &members,
        vec![
            as_member(
                a,
                "eu-west-2",
                "CreateVpc",
                json!({"CidrBlock": "10.9.0.0/16"}),
            ),
            as_member(b, "eu-west-2", "DeleteVolume", json!({"VolumeId": doomed})),
            as_member(
                c,
                "eu-west-2",
                "CreateTags",
                json!({"Resources": [retagged], "Tags": [{"Key": "Name", "Value": "api"}]}),
            ),
        ],
    );
    for d in &dests {
        sync(&moto, d);
    }
    let (after, volumes, groups) = boto3_estate(&moto, &members);
    let (ids_before, ids_after) = (ids(&before), ids(&after));
    let added = ids_after.difference(&ids_before).count();
    let removed = ids_before.difference(&ids_after).count();
    assert_eq!(removed, 1);
    assert!(added >= 1);

    // What boto3 sees, in the shapes the page shows.
    let mut heat: BTreeMap<(String, String), u64> = BTreeMap::new();
    let mut per_type: BTreeMap<String, u64> = BTreeMap::new();
    for ((t, acc, r), set) in &after {
        *heat.entry((acc.clone(), r.clone())).or_default() += set.len() as u64;
        *per_type.entry(t.clone()).or_default() += set.len() as u64;
    }
    let total: u64 = per_type.values().sum();
    let unencrypted: Vec<&str> = volumes
        .iter()
        .filter(|v| v["Encrypted"] == json!(false))
        .map(|v| v["VolumeId"].as_str().unwrap())
        .collect();
    assert!(!unencrypted.is_empty() && unencrypted.len() < volumes.len());
    let open_ssh: Vec<&str> = groups
        .iter()
        .filter(|g| {
            g["IpPermissions"].as_array().unwrap().iter().any(|p| {
                p["FromPort"] == json!(22)
                    && p["IpRanges"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|r| r["CidrIp"] == json!("0.0.0.0/0"))
            })
        })
        .map(|g| g["GroupId"].as_str().unwrap())
        .collect();
    assert_eq!(open_ssh.len(), 1);
    // And what the database holds (SQLite, read directly).
    let conn = rusqlite::Connection::open(&db).unwrap();
    let db_total: u64 = per_type
        .keys()
        .map(|t| {
            conn.query_row(
                &format!("SELECT count(*) FROM \"{t}\" WHERE _valid_to IS NULL"),
                [],
                |r| r.get::<_, i64>(0),
            )
            .unwrap() as u64
        })
        .sum();
    assert_eq!(db_total, total, "the inventory holds what boto3 lists");
    // The database's own count per account × region, what the heat map must show.
    let mut db_heat: BTreeMap<(String, String), u64> = BTreeMap::new();
    for t in per_type.keys() {
        let mut st = conn
            .prepare(&format!(
                "SELECT _account, _region, count(*) FROM \"{t}\" WHERE _valid_to IS NULL GROUP BY 1, 2"
            ))
            .unwrap();
        let rows = st
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            })
            .unwrap();
        for row in rows {
            let (acc, reg, n) = row.unwrap();
            *db_heat.entry((acc, reg)).or_default() += n as u64;
        }
    }
    assert_eq!(
        db_heat, heat,
        "the inventory holds boto3's estate per account × region"
    );
    let db_failed: u64 = conn
        .query_row(
            "SELECT count(*) FROM _errors WHERE sync_id = (SELECT max(id) FROM _syncs)",
            [],
            |r| r.get::<_, i64>(0),
        )
        .unwrap() as u64;
    assert_eq!(db_failed, 3, "flaky fails in eu-west-2 of each member");

    let page = scratch.0.join("report.html");
    let page_s = path_str(&page).to_string();
    let run = report(&dest, &page_s, &["--since", "1"]).ok();
    assert_eq!(run.stdout.trim(), page_s, "prints the page's path");
    assert!(run.stderr.contains("report of sync 2"), "{}", run.stderr);
    let data = embedded_data(&page);

    // The page in Chromium.
    let acct = a.clone();
    let q = |s: &str| format!("document.querySelector('{s}')");
    let ds = |s: &str, k: &str| format!("{}.dataset.{k}", q(s));
    let mut steps = vec![
        json!({"wait_for": "document.body.dataset.ready", "timeout": 30}),
        json!({"eval": ds("[data-testid=headline-accounts]", "value")}), // 1
        json!({"eval": ds("[data-testid=headline-regions]", "value")}),  // 2
        json!({"eval": ds("[data-testid=headline-types]", "value")}),    // 3
        json!({"eval": ds("[data-testid=headline-resources]", "value")}), // 4
        json!({"eval": ds("[data-testid=headline-failed]", "value")}),   // 5
        // 6: every heat-map cell
        json!({"eval": "[...document.querySelectorAll('[data-testid=heatmap] [data-account][data-region][data-count]')].map(e => [e.dataset.account, e.dataset.region, +e.dataset.count])"}),
        // 7: every type bar
        json!({"eval": "[...document.querySelectorAll('[data-testid=type-bars] [data-type][data-count]')].map(e => [e.dataset.type, +e.dataset.count])"}),
        json!({"eval": ds("[data-testid=errors]", "count")}), // 8
        json!({"eval": "[...document.querySelectorAll('[data-testid=errors] [data-class][data-count]')].map(e => [e.dataset.class, +e.dataset.count])"}), // 9
        // 10: each finding's count
        json!({"eval": "Object.fromEntries([...document.querySelectorAll('[data-testid=findings] [data-finding-id]')].map(e => [e.dataset.findingId, +e.dataset.count]))"}),
        // 11: the rows of the failing SSH check, as the page shows them
        // (its rows are drawn when it is opened: open it, wait for them)
        json!({"eval": "(async () => { const d = document.querySelector('[data-finding-id=sg-open-admin-ports]'); d.querySelector('summary').click(); for (let i = 0; i < 200 && !d.querySelector('td'); i++) await new Promise(r => setTimeout(r, 50)); return [...d.querySelectorAll('td')].map(e => e.textContent); })()"}),
        json!({"eval": ds("[data-testid=history]", "syncs")}), // 12
        json!({"eval": ds("[data-testid=diff-table]", "rows")}), // 13
        json!({"eval": "Object.fromEntries([...document.querySelectorAll('[data-testid=diff-table] [data-change][data-count]')].map(e => [e.dataset.change, +e.dataset.count]))"}), // 14
        json!({"eval": ds("[data-testid=table-vpcs]", "visibleRows")}), // 15
        json!({"eval": "!!document.querySelector('[data-testid=empty-inventory]')"}), // 16
        json!({"screenshot": "target/report.png", "width": 1280}),
        // 18: click the account's label in the heat map
        json!({"click": format!("[data-testid=heatmap] [data-filter-account=\"{acct}\"]")}),
        json!({"eval": ds("[data-testid=filter-status]", "active")}), // 19
        json!({"eval": ds("[data-testid=filter-status]", "account")}), // 20
        json!({"eval": ds("[data-testid=table-vpcs]", "visibleRows")}), // 21
        json!({"eval": ds("[data-testid=table-volumes]", "visibleRows")}), // 22
        // 23: open the vpcs card (only the largest type's is open at first)
        // (set, not clicked: a click toggles, and tables drawn above can move it meanwhile)
        json!({"eval": "document.querySelector('[data-testid=table-vpcs]').open = true"}),
        json!({"wait_for": "document.querySelectorAll('[data-testid=table-vpcs] tbody tr').length > 0", "timeout": 10}),
        // 25: the accounts in the vpcs table's rows now drawn
        json!({"eval": "[...document.querySelectorAll('[data-testid=table-vpcs] tbody tr')].map(r => r.textContent).filter(t => !t.includes(".to_string() + &format!("'{acct}'") + ")).length"}),
        json!({"click": "[data-action=clear-filter]"}),
        json!({"eval": ds("[data-testid=table-vpcs]", "visibleRows")}), // 27
        json!({"viewport": [375, 800]}),
        json!({"wait": 300}),
        json!({"eval": "document.documentElement.scrollWidth"}), // 30
        json!({"screenshot": "target/report-phone.png", "width": 375}),
        // 32: every URL the rendered DOM points at that is not inside the page itself
        json!({"eval": "[...document.querySelectorAll('[src],[href],[action],[srcset],[poster],[data]')].flatMap(e => ['src','href','action','srcset','poster','data'].map(a => e.getAttribute(a)).filter(u => u && !/^(#|data:|blob:|javascript:void)/.test(u)))"}),
        // 33: the Content-Security-Policy the page is under
        json!({"eval": "document.querySelector('meta[http-equiv=Content-Security-Policy]').content"}),
        // 34: each chart's accessible name and the rows of its text alternative (a table)
        json!({"eval": "[...document.querySelectorAll('.chart[role=group]')].map(c => { const l = document.getElementById(c.getAttribute('aria-labelledby') || ''); const t = c.closest('.card').querySelector('.sr-only table'); return [(l ? l.textContent : c.getAttribute('aria-label') || '').trim(), t ? t.querySelectorAll('tbody tr').length : 0]; })"}),
        // 35: the heat map's text alternative, cell by cell: the sum of its numbers
        json!({"eval": "[...document.querySelector('[data-testid=heatmap]').closest('.card').querySelectorAll('.sr-only td')].reduce((s, e) => s + Number(e.textContent.replace(/,/g, '')), 0)"}),
    ];
    // Paths in steps are relative to the browser's cwd: make them absolute.
    for s in &mut steps {
        if let Some(p) = s.get("screenshot").and_then(Value::as_str) {
            s["screenshot"] = json!(path_str(&repo_root().join(p)));
        }
    }
    let answer = browse(&page, json!(steps));
    let v = values(&answer);
    let num = |i: u64| -> u64 {
        match &v[&i] {
            Value::String(s) => s.parse().unwrap_or_else(|_| panic!("step {i}: {s}")),
            Value::Number(n) => n.as_u64().unwrap(),
            other => panic!("step {i}: {other}"),
        }
    };
    let accounts: BTreeSet<&String> = after.keys().map(|(_, a, _)| a).collect();
    assert_eq!(num(1), accounts.len() as u64);
    assert_eq!(num(1), 3);
    assert_eq!(num(2), REGIONS.len() as u64);
    assert_eq!(num(3), per_type.len() as u64);
    assert_eq!(num(4), total);
    assert_eq!(num(5), db_failed);
    let cells: BTreeMap<(String, String), u64> = v[&6]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                (c[0].as_str().unwrap().into(), c[1].as_str().unwrap().into()),
                c[2].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        cells, heat,
        "the heat map is boto3's count per account × region"
    );
    let bars: BTreeMap<String, u64> = v[&7]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c[0].as_str().unwrap().into(), c[1].as_u64().unwrap()))
        .collect();
    assert_eq!(bars, per_type);
    assert_eq!(num(8), 3);
    assert!(
        v[&9].as_array().unwrap().contains(&json!(["failed", 3])),
        "{}",
        v[&9]
    );
    let findings = &v[&10];
    assert_eq!(
        findings["volumes-unencrypted"],
        json!(unencrypted.len()),
        "{findings}"
    );
    assert_eq!(findings["sg-open-admin-ports"], json!(1), "{findings}");
    let cells_shown: Vec<&str> = v[&11]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        cells_shown.contains(&open_ssh[0]) && cells_shown.contains(&a.as_str()),
        "the open group's row: {cells_shown:?}"
    );
    assert_eq!(num(12), 2);
    let changes = &v[&14];
    let diff = &data["diff"];
    assert_eq!(changes["added"], json!(added), "{changes} {diff:#}");
    assert_eq!(changes["removed"], json!(removed), "{changes} {diff:#}");
    assert_eq!(changes["changed"], json!(1), "{changes} {diff:#}");
    assert_eq!(num(13), (added + removed + 1) as u64);
    let changed = data["diff"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["change"] == json!("changed"))
        .unwrap();
    assert_eq!(changed["id"], json!(retagged));
    assert!(
        changed["fields"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["after"].to_string().contains("api")),
        "{changed}"
    );
    let all_vpcs = per_type["vpcs"];
    assert_eq!(num(15), all_vpcs);
    assert_eq!(v[&16], json!(false));
    assert_eq!(v[&19], json!("true"));
    assert_eq!(v[&20], json!(acct));
    let in_acct = |t: &str| -> u64 {
        after
            .iter()
            .filter(|((tt, aa, _), _)| tt == t && aa == &acct)
            .map(|(_, s)| s.len() as u64)
            .sum()
    };
    assert_eq!(
        num(21),
        in_acct("vpcs"),
        "the filter narrows the vpcs table"
    );
    assert!(num(21) < all_vpcs);
    assert_eq!(num(22), in_acct("volumes"));
    assert_eq!(num(25), 0, "every vpcs row drawn is the account's");
    assert_eq!(num(27), all_vpcs, "clearing the filter shows them all");
    assert!(num(30) <= 375, "no sideways scrolling at phone width");
    assert_eq!(
        v[&32],
        json!([]),
        "the page points at nothing outside itself"
    );
    assert!(
        v[&33].as_str().unwrap().starts_with("default-src 'none'"),
        "{}",
        v[&33]
    );
    let charts = v[&34].as_array().unwrap();
    assert!(charts.len() >= 3, "{charts:?}");
    for c in charts {
        assert!(
            !c[0].as_str().unwrap().is_empty() && c[1].as_u64().unwrap() > 0,
            "every chart has a name and a table with its numbers: {charts:?}"
        );
    }
    assert_eq!(v[&35], json!(total), "the heat map's text alternative");
    // Nor does the file: no script, style, image or frame fetched by URL, no http(s) link.
    let html = std::fs::read_to_string(&page).unwrap();
    for bad in [
        "src=\"http",
        "href=\"http",
        "src='http",
        "href='http",
        "@import",
        "<link ",
    ] {
        assert!(!html.contains(bad), "the page holds {bad}");
    }
    let png = std::fs::read(repo_root().join("target/report.png")).unwrap();
    assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000);

    // The same estate in PostgreSQL and Parquet: the same document.
    let reference = comparable(data);
    for d in dests.iter().skip(1) {
        let out = scratch.0.join("other.html");
        report(d, path_str(&out), &["--since", "1"]).ok();
        assert_eq!(
            comparable(embedded_data(&out)),
            reference,
            "{d} gives the SQLite document"
        );
    }
    if pg_url.is_none() {
        eprintln!("SKIPPED: the PostgreSQL half (no PostgreSQL)");
    }

    // --max-rows: the page keeps 2 rows per type, says how many it left out and how to
    // query them, and that command lists them all. A type bar shows only its table.
    let small = scratch.0.join("small.html");
    report(&dest, path_str(&small), &["--max-rows", "2"]).ok();
    let doc = embedded_data(&small);
    let vpcs = doc["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["type"] == json!("vpcs"))
        .unwrap();
    assert_eq!(vpcs["rows"].as_array().unwrap().len(), 2);
    assert_eq!(vpcs["total"], json!(all_vpcs));
    assert_eq!(vpcs["omitted"], json!(all_vpcs - 2));
    let hint = vpcs["query_hint"].as_str().unwrap().to_string();
    let cmd = hint.strip_prefix("mrhost ").expect("a mrhost command");
    let out = Command::new("sh")
        .args(["-c", &format!("\"$MRHOST\" {cmd} -o json")])
        .env("MRHOST", env!("CARGO_BIN_EXE_mrhost"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{hint}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        listed.as_array().map(Vec::len),
        Some(all_vpcs as usize),
        "{hint}"
    );
    let answer = browse(
        &small,
        json!([
            {"wait_for": "document.body.dataset.ready", "timeout": 30},
            {"eval": "document.querySelector('[data-testid=table-vpcs]').dataset.rows"},
            {"eval": "document.querySelector('[data-testid=table-vpcs]').open = true"},
            {"eval": "document.querySelector('[data-testid=table-vpcs] .omitted').textContent"},
            {"eval": "document.querySelector('[data-testid=table-vpcs] .omitted pre').textContent"},
            {"click": "[data-testid=type-bars] [data-filter-type=\"volumes\"]"},
            {"eval": "document.querySelector('[data-testid=filter-status]').dataset.type"},
            {"eval": "[...document.querySelectorAll('[data-testid^=table-]')].map(e => [e.dataset.type, +e.dataset.visibleRows, e.open])"},
        ]),
    );
    let v = values(&answer);
    assert_eq!(v[&1], json!("2"));
    let note = v[&3].as_str().unwrap();
    assert!(
        note.contains(&format!("{} were left out", all_vpcs - 2)),
        "{note}"
    );
    assert_eq!(v[&4], json!(hint));
    assert_eq!(v[&6], json!("volumes"));
    for t in v[&7].as_array().unwrap() {
        let shown = t[1].as_u64().unwrap();
        match t[0].as_str().unwrap() {
            "volumes" => assert!(shown == 2 && t[2] == json!(true), "{t}"),
            _ => assert_eq!(shown, 0, "only the volumes table: {t}"),
        }
    }

    // --at 1 shows the first sync: before the changes, without them in the diff.
    let old = scratch.0.join("old.html");
    report(&dest, path_str(&old), &["--at", "1"]).ok();
    let first = embedded_data(&old);
    assert_eq!(first["at"]["id"], json!(1));
    let before_total: u64 = before.values().map(|s| s.len() as u64).sum();
    assert_eq!(first["headline"]["resources"], json!(before_total));
    assert_eq!(first["history"].as_array().unwrap().len(), 1);

    // Bad requests: one line, non-zero, no page written.
    let none = scratch.0.join("none.html");
    let r = report(&dest, path_str(&none), &["--since", "2"]);
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("--since"), "{}", r.stderr);
    let r = report(&dest, path_str(&none), &["--at", "9"]);
    assert_ne!(r.code, 0, "{}", r.stderr);
    assert!(!none.exists());

    // A user check (--checks DIR) replaces a bundled one by id and adds its own.
    let dir = scratch.0.join("checks");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("big.sql"),
        "-- id: volumes-big\n-- title: Volumes of 8 GiB or more\n-- severity: low\n\
         -- needs: volumes.Size\n-- description: every volume of at least 8 GiB.\n\
         SELECT _account, _region, VolumeId FROM volumes WHERE Size >= 8\n",
    )
    .unwrap();
    let mine = scratch.0.join("mine.html");
    let r = mrhost(&[
        "report",
        "--from",
        &dest,
        "--checks",
        path_str(&dir),
        "-o",
        path_str(&mine),
    ])
    .ok();
    assert!(r.stderr.contains("findings"), "{}", r.stderr);
    let doc = embedded_data(&mine);
    let big = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == json!("volumes-big"))
        .unwrap();
    assert_eq!(big["count"], json!(volumes.len()));
    std::fs::write(dir.join("bad.sql"), "-- id: Bad Id\nSELECT 1\n").unwrap();
    let r = mrhost(&[
        "report",
        "--from",
        &dest,
        "--checks",
        path_str(&dir),
        "-o",
        path_str(&none),
    ]);
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("bad.sql"), "{}", r.stderr);
    assert!(!none.exists());
}

#[test]
fn an_empty_inventory_says_so() {
    let Some(moto) = moto() else { return };
    let Some(_browser) = chromium() else { return };
    let scratch = Scratch::new("report-empty");
    let dest = format!("sqlite:{}", scratch.path("e.sqlite"));
    // A sync of a type the account has none of: a stored sync, no resources.
    let kp = plugin("key-pairs");
    moto.mrhost(&[
        "sync",
        path_str(&kp),
        "--regions",
        "eu-west-1",
        "--to",
        &dest,
    ])
    .ok();
    let page = scratch.0.join("empty.html");
    let run = report(&dest, path_str(&page), &[]).ok();
    assert!(run.stderr.contains("0 resources"), "{}", run.stderr);
    let answer = browse(
        &page,
        json!([
            {"wait_for": "document.body.dataset.ready", "timeout": 30},
            {"eval": "document.querySelector('[data-testid=empty-inventory]').textContent"},
            {"eval": "document.querySelectorAll('[data-testid=heatmap], [data-testid=type-bars], [data-testid^=table-]').length"},
            {"eval": "document.querySelector('[data-testid=headline-resources]').dataset.value"},
        ]),
    );
    let v = values(&answer);
    // The page says it in words: the sync found nothing.
    assert!(
        v[&1].as_str().unwrap().contains("found no resources"),
        "{}",
        v[&1]
    );
    assert_eq!(v[&2], json!(0), "no charts or tables");
    assert_eq!(v[&3], json!("0"));
    // No inventory at all: one line, non-zero.
    let r = report(
        &format!("sqlite:{}", scratch.path("missing.sqlite")),
        path_str(&page),
        &[],
    );
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("no inventory"), "{}", r.stderr);
}

/// Each (rule, world-open source) of the groups whose ports include one of `ports`; `all`:
/// rules for every protocol count too (as sg-open-admin-ports; the database check reads
/// TCP rules only).
fn open_rules(groups: &[Value], ports: &[i64], all: bool, protocols: &[&str]) -> u64 {
    let mut n = 0;
    for g in groups {
        for p in g["IpPermissions"].as_array().unwrap() {
            let proto = p["IpProtocol"].as_str().unwrap_or_default();
            let (from, to) = (p["FromPort"].as_i64(), p["ToPort"].as_i64());
            let hit = (all && proto == "-1")
                || (protocols.contains(&proto)
                    && ports
                        .iter()
                        .any(|x| from.is_some_and(|f| f <= *x) && to.is_some_and(|t| *x <= t)));
            if !hit {
                continue;
            }
            let v4 = p["IpRanges"].as_array().map_or(0, |r| {
                r.iter()
                    .filter(|r| r["CidrIp"] == json!("0.0.0.0/0"))
                    .count()
            });
            let v6 = p["Ipv6Ranges"].as_array().map_or(0, |r| {
                r.iter().filter(|r| r["CidrIpv6"] == json!("::/0")).count()
            });
            n += (v4 + v6) as u64;
        }
    }
    n
}

/// Every bundled check runs on what the bundled plugins store (none is left "not
/// evaluated" for want of a column), and each finds what boto3 says is there.
#[test]
fn bundled_checks_run_on_what_the_bundled_plugins_store() {
    let Some(moto) = moto() else { return };
    let (r, g) = ("eu-west-1", GLOBAL_REGION);
    let ec2 = |op: &str, params: Value| b3(r, "ec2", op, params);
    let ec2_save = |op: &str, params: Value, name: &str| b3_save(r, "ec2", op, params, name);
    let db = |id: &str, encrypted: bool, public: bool| {
        b3(
            r,
            "rds",
            "CreateDBInstance",
            json!({"DBInstanceIdentifier": id, "Engine": "postgres", "DBInstanceClass": "db.t3.micro",
                   "MasterUsername": "admin1", "MasterUserPassword": "correct-horse", "AllocatedStorage": 20,
                   "StorageEncrypted": encrypted, "PubliclyAccessible": public}),
        )
    };
    let calls = vec![
        b3(g, "iam", "CreateUser", json!({"UserName": "alice"})),
        b3(g, "iam", "CreateUser", json!({"UserName": "bob"})),
        b3_save(
            g,
            "iam",
            "CreateVirtualMFADevice",
            json!({"VirtualMFADeviceName": "bob-phone"}),
            "mfa",
        ),
        b3(
            g,
            "iam",
            "EnableMFADevice",
            json!({"UserName": "bob", "SerialNumber": "$mfa.VirtualMFADevice.SerialNumber",
            "AuthenticationCode1": "123456", "AuthenticationCode2": "654321"}),
        ),
        b3(g, "iam", "CreateAccessKey", json!({"UserName": "alice"})),
        b3(
            r,
            "s3",
            "CreateBucket",
            json!({"Bucket": "report-plain",
            "CreateBucketConfiguration": {"LocationConstraint": r}}),
        ),
        b3(
            r,
            "s3",
            "CreateBucket",
            json!({"Bucket": "report-kms",
            "CreateBucketConfiguration": {"LocationConstraint": r}}),
        ),
        b3(
            r,
            "s3",
            "PutBucketEncryption",
            json!({"Bucket": "report-kms", "ServerSideEncryptionConfiguration":
            {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]}}),
        ),
        ec2_save(
            "CreateSecurityGroup",
            json!({"GroupName": "exposed", "Description": "open"}),
            "sg",
        ),
        ec2(
            "AuthorizeSecurityGroupIngress",
            json!({"GroupId": "$sg.GroupId", "IpPermissions": [
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
            {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "Ipv6Ranges": [{"CidrIpv6": "::/0"}]},
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]}),
        ),
        ec2_save(
            "CreateSecurityGroup",
            json!({"GroupName": "internal", "Description": "private"}),
            "sg2",
        ),
        ec2(
            "AuthorizeSecurityGroupIngress",
            json!({"GroupId": "$sg2.GroupId", "IpPermissions": [
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}]}),
        ),
        ec2_save(
            "RunInstances",
            json!({"ImageId": "ami-12c6146b", "MinCount": 1, "MaxCount": 1,
            "MetadataOptions": {"HttpTokens": "required"}}),
            "hardened",
        ),
        ec2_save(
            "RunInstances",
            json!({"ImageId": "ami-12c6146b", "MinCount": 1, "MaxCount": 1,
            "MetadataOptions": {"HttpTokens": "optional"}}),
            "legacy",
        ),
        ec2_save(
            "CreateImage",
            json!({"InstanceId": "$legacy.Instances.0.InstanceId", "Name": "shared-ami"}),
            "ami",
        ),
        ec2(
            "CreateImage",
            json!({"InstanceId": "$hardened.Instances.0.InstanceId", "Name": "own-ami"}),
        ),
        ec2(
            "ModifyImageAttribute",
            json!({"ImageId": "$ami.ImageId",
            "LaunchPermission": {"Add": [{"Group": "all"}]}}),
        ),
        ec2_save(
            "CreateVolume",
            json!({"AvailabilityZone": format!("{r}a"), "Size": 8, "Encrypted": true}),
            "enc",
        ),
        ec2_save(
            "CreateVolume",
            json!({"AvailabilityZone": format!("{r}a"), "Size": 4}),
            "plain",
        ),
        ec2_save(
            "CreateSnapshot",
            json!({"VolumeId": "$plain.VolumeId"}),
            "pub",
        ),
        ec2(
            "ModifySnapshotAttribute",
            json!({"SnapshotId": "$pub.SnapshotId",
            "Attribute": "createVolumePermission", "OperationType": "add", "GroupNames": ["all"]}),
        ),
        ec2("CreateSnapshot", json!({"VolumeId": "$enc.VolumeId"})),
        db("exposed", true, true),
        db("plain", false, false),
    ];
    let out = moto.boto3(calls);
    for (i, o) in out.iter().enumerate() {
        assert!(o.get("Error").is_none(), "seed call {i}: {o}");
    }

    // What boto3 sees.
    let listed = moto.boto3(vec![
        b3(g, "iam", "ListUsers", json!({})),
        b3(r, "s3", "ListBuckets", json!({})),
        ec2("DescribeSecurityGroups", json!({})),
        ec2("DescribeInstances", json!({})),
        ec2("DescribeImages", json!({"Owners": ["self"]})),
        ec2("DescribeSnapshots", json!({"OwnerIds": ["self"]})),
        ec2("DescribeVolumes", json!({})),
        ec2("DescribeVpcs", json!({})),
        b3(r, "rds", "DescribeDBInstances", json!({})),
    ]);
    let list = |i: usize, key: &str| listed[i][key].as_array().unwrap().clone();
    let users = list(0, "Users");
    let buckets = list(1, "Buckets");
    let groups = list(2, "SecurityGroups");
    let instances: Vec<Value> = list(3, "Reservations")
        .iter()
        .flat_map(|res| res["Instances"].as_array().unwrap().clone())
        .collect();
    let (images, snapshots) = (list(4, "Images"), list(5, "Snapshots"));
    let (volumes, vpcs, dbs) = (list(6, "Volumes"), list(7, "Vpcs"), list(8, "DBInstances"));
    let mut per_item = Vec::new();
    for u in &users {
        per_item.push(b3(
            g,
            "iam",
            "ListMFADevices",
            json!({"UserName": u["UserName"]}),
        ));
        per_item.push(b3(
            g,
            "iam",
            "ListAccessKeys",
            json!({"UserName": u["UserName"]}),
        ));
    }
    for b in &buckets {
        per_item.push(b3(
            r,
            "s3",
            "GetBucketEncryption",
            json!({"Bucket": b["Name"]}),
        ));
    }
    for s in &snapshots {
        per_item.push(ec2(
            "DescribeSnapshotAttribute",
            json!({"SnapshotId": s["SnapshotId"], "Attribute": "createVolumePermission"}),
        ));
    }
    let answers = moto.boto3(per_item);
    let (user_answers, rest) = answers.split_at(users.len() * 2);
    let (bucket_answers, snapshot_answers) = rest.split_at(buckets.len());
    let no_mfa = user_answers
        .chunks(2)
        .filter(|a| a[0]["MFADevices"].as_array().is_some_and(Vec::is_empty))
        .count();
    let cutoff = time::OffsetDateTime::now_utc() - time::Duration::days(90);
    let old_keys = user_answers
        .chunks(2)
        .flat_map(|a| a[1]["AccessKeyMetadata"].as_array().unwrap().clone())
        .filter(|k| k["Status"] == json!("Active"))
        .filter(|k| {
            let created = time::OffsetDateTime::parse(
                k["CreateDate"].as_str().unwrap(),
                &time::format_description::well_known::Rfc3339,
            )
            .unwrap();
            created < cutoff
        })
        .count();
    let unencrypted_buckets = bucket_answers
        .iter()
        .filter(|a| {
            a["ServerSideEncryptionConfiguration"]["Rules"][0]["ApplyServerSideEncryptionByDefault"]
                ["SSEAlgorithm"]
                .as_str()
                .is_none_or(str::is_empty)
        })
        .count();
    let public_snapshots = snapshot_answers
        .iter()
        .filter(|a| {
            a["CreateVolumePermissions"]
                .as_array()
                .is_some_and(|p| p.iter().any(|p| p["Group"] == json!("all")))
        })
        .count();
    let count = |items: &[Value], f: &dyn Fn(&Value) -> bool| items.iter().filter(|i| f(i)).count();
    let expected: BTreeMap<&str, u64> = [
        ("iam-users-without-mfa", no_mfa as u64),
        ("iam-access-keys-old", old_keys as u64),
        ("s3-buckets-unencrypted", unencrypted_buckets as u64),
        ("snapshots-public", public_snapshots as u64),
        (
            "snapshots-unencrypted",
            count(&snapshots, &|s| s["Encrypted"] == json!(false)) as u64,
        ),
        (
            "images-public",
            count(&images, &|i| i["Public"] == json!(true)) as u64,
        ),
        (
            "instances-imdsv1",
            count(&instances, &|i| {
                i["MetadataOptions"]["HttpTokens"] == json!("optional")
                    && i["MetadataOptions"]["HttpEndpoint"] != json!("disabled")
            }) as u64,
        ),
        (
            "rds-public",
            count(&dbs, &|d| d["PubliclyAccessible"] == json!(true)) as u64,
        ),
        (
            "rds-unencrypted",
            count(&dbs, &|d| d["StorageEncrypted"] == json!(false)) as u64,
        ),
        (
            "volumes-unencrypted",
            count(&volumes, &|v| v["Encrypted"] == json!(false)) as u64,
        ),
        (
            "vpcs-default",
            count(&vpcs, &|v| v["IsDefault"] == json!(true)) as u64,
        ),
        (
            "sg-open-admin-ports",
            open_rules(&groups, &[22, 3389], true, &["tcp", "6", "udp", "17"]),
        ),
        (
            "sg-open-database-ports",
            open_rules(
                &groups,
                &[3306, 5432, 1433, 1521, 27017, 6379, 9200],
                false,
                &["tcp", "6"],
            ),
        ),
    ]
    .into_iter()
    .collect();
    // The seed makes most of them find something (the rest: moto's defaults decide).
    for id in [
        "iam-users-without-mfa",
        "snapshots-public",
        "images-public",
        "instances-imdsv1",
        "rds-public",
        "rds-unencrypted",
        "sg-open-admin-ports",
        "sg-open-database-ports",
    ] {
        assert!(
            expected[id] > 0,
            "{id}: the seed should make it find something"
        );
    }

    let scratch = Scratch::new("report-checks");
    let dest = format!("sqlite:{}", scratch.path("inv.sqlite"));
    let plugins: Vec<PathBuf> = [
        "iam-users",
        "s3-buckets",
        "security-groups",
        "instances",
        "images",
        "snapshots",
        "volumes",
        "vpcs",
        "rds-db-instances",
    ]
    .iter()
    .map(|p| plugin(p))
    .collect();
    let mut args: Vec<&str> = vec!["sync"];
    args.extend(plugins.iter().map(|p| path_str(p)));
    args.extend(["--regions", r, "--to", &dest]);
    moto.mrhost(&args).ok();
    let page = scratch.0.join("checks.html");
    report(&dest, path_str(&page), &[]).ok();
    let doc = embedded_data(&page);
    let got: BTreeMap<String, (String, u64, Vec<Value>)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["id"].as_str().unwrap().to_string(),
                (
                    f["status"].as_str().unwrap().to_string(),
                    f["count"].as_u64().unwrap(),
                    f["missing"].as_array().unwrap().clone(),
                ),
            )
        })
        .collect();
    assert_eq!(got.len(), expected.len(), "{got:?}");
    for (id, want) in &expected {
        let (status, n, missing) = &got[*id];
        assert_eq!(status, "evaluated", "{id} lacks {missing:?}");
        assert_eq!(n, want, "{id}: the report's count, boto3's");
    }
}
