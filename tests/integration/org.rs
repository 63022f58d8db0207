//! Organisation scale on moto: an Organization with member accounts (one SUSPENDED, one
//! whose AssumeRole is denied by a proxy in front of moto, since moto checks no roles),
//! resources in each account in two regions; --org-role, --profile with a config file of
//! profiles, region globs/all/enabled, and a global plugin once per account.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use serde_json::{json, Value};

use crate::common::*;

const ROLE: &str = "OrgAuditor";
const REGIONS: [&str; 2] = ["eu-west-1", "eu-west-2"];

struct Org {
    /// Members whose resources mrhost must return.
    reachable: Vec<String>,
    suspended: String,
    denied: String,
    /// (account, region, vpc id) as boto3 sees it with each member's own credentials.
    expected: BTreeSet<(String, String, String)>,
    /// Assumed-role credentials per reachable member, from boto3.
    creds: HashMap<String, Value>,
}

fn role_arn(id: &str) -> String {
    format!("arn:aws:iam::{id}:role/{ROLE}")
}

/// An Organization with four members: two reachable, one SUSPENDED, one denied.
fn build_org(moto: &Moto) -> Org {
    let ids = create_org(moto, 4, "m", "member");
    let (reachable, suspended, denied) = (ids[..2].to_vec(), ids[2].clone(), ids[3].clone());
    moto.boto3(vec![b3(
        "us-east-1",
        "organizations",
        "CloseAccount",
        json!({"AccountId": suspended}),
    )]);

    // Resources in each reachable member, created with its own credentials.
    let mut calls = Vec::new();
    for id in &reachable {
        calls.push(b3_save(
            "us-east-1",
            "sts",
            "AssumeRole",
            json!({"RoleArn": role_arn(id), "RoleSessionName": "seed"}),
            &format!("as{id}"),
        ));
        for r in REGIONS {
            calls.push(json!({"region": r, "service": "ec2", "operation": "CreateVpc",
                "params": {"CidrBlock": "10.7.0.0/16"}, "credentials": format!("$as{id}.Credentials")}));
            calls.push(json!({"region": "us-east-1", "service": "iam", "operation": "CreateUser",
                "params": {"UserName": format!("user-{r}")}, "credentials": format!("$as{id}.Credentials")}));
        }
    }
    for r in &reachable {
        for region in REGIONS {
            calls.push(json!({"region": region, "service": "ec2", "operation": "DescribeVpcs", "params": {},
                "credentials": format!("$as{r}.Credentials")}));
        }
    }
    let out = moto.boto3(calls);
    let mut creds = HashMap::new();
    let mut i = 0;
    for id in &reachable {
        creds.insert(id.clone(), out[i]["Credentials"].clone());
        i += 1 + 2 * REGIONS.len();
    }
    let mut expected = BTreeSet::new();
    for id in &reachable {
        for region in REGIONS {
            for v in out[i]["Vpcs"].as_array().unwrap() {
                expected.insert((
                    id.clone(),
                    region.to_string(),
                    v["VpcId"].as_str().unwrap().to_string(),
                ));
            }
            i += 1;
        }
    }
    // Each member: its default VPC and the one created, in both regions.
    assert_eq!(expected.len(), reachable.len() * REGIONS.len() * 2);
    Org {
        reachable,
        suspended,
        denied,
        expected,
        creds,
    }
}

fn found(items: &Value) -> BTreeSet<(String, String, String)> {
    items
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["RequestAccount"].as_str().unwrap().to_string(),
                v["RequestRegion"].as_str().unwrap().to_string(),
                v["VpcId"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn org_role_covers_every_active_member_and_skips_the_rest() {
    let Some(moto) = moto() else { return };
    let org = build_org(&moto);
    let px = Proxy::start(moto.port, Some(org.denied.clone()), Duration::ZERO);
    let vpcs = plugin("vpcs");
    let run = mrhost(&[
        "run",
        path_str(&vpcs),
        "--org-role",
        ROLE,
        "--regions",
        "eu-west-1,eu-west-2",
        "--endpoint-url",
        &px.url,
    ]);
    // The denied member makes the run partial; everything reachable is there, exactly.
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(found(&run.json()), org.expected, "stderr: {}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "error: account {} skipped: AssumeRole",
            org.denied
        )) && run.stderr.contains("AccessDenied"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(&format!(
            "warning: account {} skipped: account is SUSPENDED",
            org.suspended
        )),
        "{}",
        run.stderr
    );
    // The management account (123456789012) is not visited unless asked.
    assert!(!run.stdout.contains("\"RequestAccount\": \"123456789012\""));

    // --org-exclude drops the denied member: no failure left.
    let run = mrhost(&[
        "run",
        path_str(&vpcs),
        "--org-role",
        ROLE,
        "--org-exclude",
        &org.denied,
        "--regions",
        "eu-west-1,eu-west-2",
        "--endpoint-url",
        &px.url,
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(found(&run.json()), org.expected);

    // --accounts with --role: an explicit list.
    let list = org.reachable.join(",");
    let run = mrhost(&[
        "run",
        path_str(&vpcs),
        "--accounts",
        &list,
        "--role",
        ROLE,
        "--regions",
        "eu-*",
        "--endpoint-url",
        &px.url,
    ])
    .ok();
    let all_eu: BTreeSet<String> = found(&run.json()).into_iter().map(|(_, r, _)| r).collect();
    assert!(
        all_eu.len() > 2 && all_eu.iter().all(|r| r.starts_with("eu-")),
        "{all_eu:?}"
    );

    // A global plugin runs once per account, not once per region.
    let before = px
        .counts
        .lock()
        .unwrap()
        .get("ListUsers")
        .copied()
        .unwrap_or(0);
    let users = plugin("iam-users");
    let run = mrhost(&[
        "run",
        path_str(&users),
        "--org-role",
        ROLE,
        "--org-exclude",
        &org.denied,
        "--regions",
        "eu-west-1,eu-west-2",
        "--endpoint-url",
        &px.url,
    ])
    .ok();
    let after = px
        .counts
        .lock()
        .unwrap()
        .get("ListUsers")
        .copied()
        .unwrap_or(0);
    assert_eq!(
        after - before,
        org.reachable.len(),
        "one ListUsers per account"
    );
    let items = run.json();
    assert_eq!(
        items.as_array().unwrap().len(),
        org.reachable.len() * REGIONS.len()
    );
    assert!(items
        .as_array()
        .unwrap()
        .iter()
        .all(|u| u["RequestRegion"] == "us-east-1"));
}

/// An Organization of more accounts than one `ListAccounts` page holds (20): `sync` starts
/// on the first page's accounts while the rest are listed, `run` waits for the whole list,
/// and both cover every ACTIVE member once, the SUSPENDED ones on every page reported.
#[test]
fn an_organization_of_many_pages_is_covered_whole() {
    let Some(moto) = moto() else { return };
    let ids = create_org(&moto, 47, "p", "paged");
    // One SUSPENDED member on each of the three pages (the management account is first).
    let suspended = [ids[3].clone(), ids[24].clone(), ids[44].clone()];
    moto.boto3(
        suspended
            .iter()
            .map(|id| {
                b3(
                    "us-east-1",
                    "organizations",
                    "CloseAccount",
                    json!({"AccountId": id}),
                )
            })
            .collect(),
    );
    let listed = moto.boto3(vec![b3_paged(
        "us-east-1",
        "organizations",
        "ListAccounts",
        json!({}),
    )]);
    let management = "123456789012";
    let expected: BTreeSet<String> = listed[0]["Accounts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["Status"] == "ACTIVE" && a["Id"] != management)
        .map(|a| a["Id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(expected.len(), 44);
    let px = Proxy::start(moto.port, None, Duration::ZERO);
    let list_calls = || -> usize {
        px.counts
            .lock()
            .unwrap()
            .iter()
            .filter(|(k, _)| k.ends_with(".listaccounts"))
            .map(|(_, n)| n)
            .sum()
    };

    let scratch = crate::inventory::Scratch::new("org-pages");
    let db = scratch.path("inv.sqlite");
    let dest = format!("sqlite:{db}");
    let sync = mrhost(&[
        "sync",
        "ec2:vpcs",
        "--org-role",
        ROLE,
        "--regions",
        "eu-west-1",
        "--to",
        &dest,
        "--endpoint-url",
        &px.url,
    ]);
    assert_eq!(sync.code, 0, "{}", sync.stderr);
    // 48 accounts, 20 a page: three pages, each read once.
    assert_eq!(list_calls(), 3);
    let conn = rusqlite::Connection::open(&db).unwrap();
    let units: Vec<(String, String)> = conn
        .prepare("SELECT account, status FROM _units")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        units.len(),
        expected.len(),
        "one unit per member: {units:?}"
    );
    assert!(units.iter().all(|(_, s)| s == "ok"), "{units:?}");
    let synced: BTreeSet<String> = units.into_iter().map(|(a, _)| a).collect();
    assert_eq!(synced, expected);
    // Each member's default VPC, fetched with its own role.
    let vpc_accounts: BTreeSet<String> = conn
        .prepare("SELECT DISTINCT _account FROM ec2_vpcs")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(vpc_accounts, expected);
    for id in &suspended {
        assert!(
            sync.stderr.contains(&format!(
                "warning: account {id} skipped: account is SUSPENDED"
            )),
            "{id}: {}",
            sync.stderr
        );
    }

    let run = mrhost(&[
        "run",
        path_str(&plugin("vpcs")),
        "--org-role",
        ROLE,
        "--regions",
        "eu-west-1",
        "--endpoint-url",
        &px.url,
    ])
    .ok();
    let ran: BTreeSet<String> = found(&run.json()).into_iter().map(|(a, _, _)| a).collect();
    assert_eq!(ran, expected);
    assert_eq!(list_calls(), 6);

    // An OU with no accounts, included: no account, not every account.
    let root = moto.boto3(vec![b3(
        "us-east-1",
        "organizations",
        "ListRoots",
        json!({}),
    )]);
    let root = root[0]["Roots"][0]["Id"].as_str().unwrap().to_string();
    let ou = moto.boto3(vec![b3(
        "us-east-1",
        "organizations",
        "CreateOrganizationalUnit",
        json!({"ParentId": root, "Name": "empty"}),
    )]);
    let ou = ou[0]["OrganizationalUnit"]["Id"]
        .as_str()
        .unwrap()
        .to_string();
    let run = mrhost(&[
        "run",
        path_str(&plugin("vpcs")),
        "--org-role",
        ROLE,
        "--org-include",
        &ou,
        "--regions",
        "eu-west-1",
        "--endpoint-url",
        &px.url,
    ]);
    assert!(
        !run.stdout.contains("VpcId"),
        "an empty OU includes no account: {} {}",
        run.stdout,
        run.stderr
    );
}

#[test]
fn profiles_from_a_config_file_are_accounts_too() {
    let Some(moto) = moto() else { return };
    let org = build_org(&moto);
    let dir = std::env::temp_dir().join(format!("mrhost-profiles-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut config = String::new();
    let mut credentials = String::new();
    for (i, id) in org.reachable.iter().enumerate() {
        let c = &org.creds[id];
        config.push_str(&format!("[profile member{i}]\nregion = eu-west-1\n"));
        credentials.push_str(&format!(
            "[member{i}]\naws_access_key_id = {}\naws_secret_access_key = {}\naws_session_token = {}\n",
            c["AccessKeyId"].as_str().unwrap(),
            c["SecretAccessKey"].as_str().unwrap(),
            c["SessionToken"].as_str().unwrap()
        ));
    }
    // A profile that does not exist is the command line's mistake (issue 20): one line,
    // exit 2, before any account is reached; the same profiles without it all run.
    std::fs::write(dir.join("config"), &config).unwrap();
    std::fs::write(dir.join("credentials"), &credentials).unwrap();
    let vpcs = plugin("vpcs");
    let with = |profiles: &str| {
        mrhost_with(
            &[
                "run",
                path_str(&vpcs),
                "--profile",
                profiles,
                "--regions",
                "eu-west-1,eu-west-2",
                "--endpoint-url",
                &moto.url,
            ],
            |c| {
                c.env("AWS_CONFIG_FILE", dir.join("config"))
                    .env("AWS_SHARED_CREDENTIALS_FILE", dir.join("credentials"))
                    .env_remove("AWS_ACCESS_KEY_ID")
                    .env_remove("AWS_SECRET_ACCESS_KEY");
            },
        )
    };
    let run = with("member0,member1,nosuchprofile");
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(run.stdout, "");
    assert_eq!(
        run.stderr.trim(),
        "mrhost: error: credentials: profile nosuchprofile: not found in the AWS config files"
    );
    let run = with("member0,member1").ok();
    assert_eq!(found(&run.json()), org.expected, "stderr: {}", run.stderr);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn regions_all_enabled_and_globs_resolve_before_any_call() {
    let Some(moto) = moto() else { return };
    let count = |spec: &str| -> BTreeSet<String> {
        let run = moto
            .mrhost(&["call", "sts", "GetCallerIdentity", "--regions", spec])
            .ok();
        run.by_region()
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect()
    };
    let all = count("all");
    assert!(
        all.len() >= 30 && all.contains("us-east-1") && !all.iter().any(|r| r.starts_with("cn-")),
        "{all:?}"
    );
    let enabled = count("enabled");
    let described = moto.boto3(vec![b3("us-east-1", "ec2", "DescribeRegions", json!({}))]);
    let want: BTreeSet<String> = described[0]["Regions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["OptInStatus"] != "not-opted-in")
        .map(|r| r["RegionName"].as_str().unwrap().to_string())
        // moto lists other partitions' regions too; an aws account uses only its own.
        .filter(|r| !r.starts_with("cn-") && !r.starts_with("us-gov-"))
        .collect();
    assert_eq!(enabled, want);
    assert!(
        !enabled.contains("ap-east-1"),
        "not-opted-in regions are left out"
    );
    assert_eq!(
        count("us-??st-1"),
        ["us-east-1", "us-west-1"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    );
    let eu = count("eu-*");
    assert!(eu.iter().all(|r| r.starts_with("eu-")) && eu.contains("eu-west-3"));
    let bad = moto.mrhost(&[
        "call",
        "sts",
        "GetCallerIdentity",
        "--regions",
        "eu-west-1,xx-*",
    ]);
    assert_eq!(bad.code, 2, "a region pattern is the command line");
    assert_eq!(
        bad.stderr.trim(),
        "mrhost: error: region pattern 'xx-*' matches no region"
    );
}
