//! The security plugins added for issue 17 (credential report, password policy, groups,
//! CloudTrail, Config, GuardDuty, RDS snapshots, ECR, EKS, ACM, CloudFront, ELB listeners,
//! flow logs, Route 53, Organizations, EBS default encryption), against boto3 on moto.
//!
//! tests/py/new_reference.py seeds moto in two regions (and the global services once) so that
//! every security column has both answers (a trail that logs and one that does not, a public
//! and a shared snapshot, a public and a private repository policy, ...), then computes with
//! boto3 what each plugin must emit: the same calls and the same enrichments, in Python. Each
//! plugin's output must equal it exactly (key order included), and list exactly what the seed
//! made, each in its region (global types once, in us-east-1). The plugins describe items
//! concurrently and emit each as its call completes, so items are compared in a stable order
//! (region, then id). Spot checks then name the security answers the seed set up.
//!
//! Also: `mrhost policy` over every bundled plugin prints the IAM actions of exactly the
//! operations they declare.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::{json, Value};

use crate::common::*;

const ACCOUNT: &str = "123456789012";
const REGIONS: [&str; 2] = ["eu-west-1", "us-east-2"];
const GLOBAL: &str = "us-east-1";

/// Each new plugin, and the field that identifies an item for ordering and spot checks.
const PLUGINS: [(&str, &str); 18] = [
    ("iam-credential-report", "arn"),
    ("iam-password-policy", "PasswordPolicyPresent"),
    ("iam-groups", "Arn"),
    ("cloudtrail-trails", "TrailARN"),
    ("config-recorders", "name"),
    ("guardduty-detectors", "DetectorId"),
    ("rds-db-snapshots", "DBSnapshotArn"),
    ("ecr-repositories", "repositoryArn"),
    ("eks-clusters", "arn"),
    ("acm-certificates", "CertificateArn"),
    ("cloudfront-distributions", "ARN"),
    ("elbv2-listeners", "ListenerArn"),
    ("vpc-flow-logs", "FlowLogId"),
    ("route53-zones", "Id"),
    ("route53-records", "Name"),
    ("organizations-accounts", "Id"),
    ("organizations-policies", "Id"),
    ("ebs-default-encryption", "EbsEncryptionByDefault"),
];

/// Run tests/py/new_reference.py against this moto.
fn reference(moto: &Moto, command: &str, plugins: &[&str]) -> Value {
    let py = python().expect("python");
    let mut cmd = Command::new(py);
    cmd.arg(repo_root().join("tests/py/new_reference.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    safe_env(&mut cmd);
    let mut child = cmd.spawn().expect("run new_reference.py");
    let program =
        json!({"endpoint": moto.url, "regions": REGIONS, "command": command, "plugins": plugins});
    child
        .stdin
        .take()
        .unwrap()
        .write_all(program.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "new_reference.py {command} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("new_reference.py prints JSON")
}

/// Run a plugin over both regions with the extra arguments; its items.
fn run(moto: &Moto, plugin: &str, extra: &[&str]) -> Vec<Value> {
    let p = crate::common::plugin(plugin);
    let regions = REGIONS.join(",");
    let mut args = vec!["run", path_str(&p), "--regions", &regions];
    args.extend_from_slice(extra);
    let out = moto.mrhost(&args).ok().json();
    out.as_array()
        .unwrap_or_else(|| panic!("{plugin}: not a list: {out}"))
        .clone()
}

/// Region, then the id field (then the whole item): the plugins emit each item as its
/// detail call completes.
fn sorted(mut items: Vec<Value>, id: &str) -> Vec<Value> {
    let key = |v: &Value| {
        let region = v["RequestRegion"].as_str().unwrap_or_default().to_string();
        let region_rank = REGIONS
            .iter()
            .position(|r| *r == region)
            .unwrap_or(usize::MAX);
        (region_rank, region, v[id].to_string(), v.to_string())
    };
    items.sort_by_key(key);
    items
}

/// Values that moto makes up anew on every call (so boto3's call and the plugin's differ),
/// checked for shape on both sides and then set equal.
fn settle_volatile(plugin: &str, ours: &mut [Value], want: &mut [Value]) {
    if plugin != "cloudtrail-trails" {
        return;
    }
    // moto's GetTrailStatus answers LatestDeliveryTime = now for a trail that logs.
    for item in ours.iter_mut().chain(want.iter_mut()) {
        let logging = item["IsLogging"] == true;
        let t = &mut item["LatestDeliveryTime"];
        assert_eq!(t.is_string(), logging, "{plugin}: LatestDeliveryTime {t}");
        if logging {
            *t = json!("<now>");
        }
    }
}

#[test]
fn new_security_plugins_match_boto3_in_every_region() {
    let Some(moto) = moto() else { return };
    let names: Vec<&str> = PLUGINS.iter().map(|(p, _)| *p).collect();

    // Before the seed: no password policy is an answer (one item saying so), not a failure;
    // no organization, no trail, no detector: nothing, and no failed scope.
    let policy = run(&moto, "iam-password-policy", &[]);
    assert_eq!(
        policy,
        vec![as_emitted(
            json!({"PasswordPolicyPresent": false}),
            GLOBAL,
            ACCOUNT
        )]
    );
    for plugin in [
        "organizations-accounts",
        "organizations-policies",
        "cloudtrail-trails",
        "guardduty-detectors",
        "config-recorders",
    ] {
        assert_eq!(run(&moto, plugin, &[]), Vec::<Value>::new(), "{plugin}");
    }

    let made = reference(&moto, "seed", &[]);
    moto.boto3(vec![b3(
        GLOBAL,
        "iam",
        "UpdateAccountPasswordPolicy",
        json!({"MinimumPasswordLength": 14, "RequireSymbols": true, "RequireNumbers": true,
               "MaxPasswordAge": 90, "PasswordReusePrevention": 24}),
    )]);

    // Every plugin first (the credential report is generated by the plugin's run), then
    // boto3's view of the same state.
    let mut ours: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
    for plugin in &names {
        let extra: &[&str] = if *plugin == "iam-credential-report" {
            &[
                "--allow",
                "iam:GenerateCredentialReport,iam:GetCredentialReport",
            ]
        } else {
            &[]
        };
        ours.insert(plugin, run(&moto, plugin, extra));
    }
    let expected = reference(&moto, "expect", &names);

    for (plugin, id) in PLUGINS {
        let want: Vec<Value> = expected[plugin]
            .as_array()
            .unwrap_or_else(|| panic!("{plugin}: no reference"))
            .iter()
            .map(|pair| {
                let region = pair[0].as_str().unwrap();
                as_emitted(pair[1].clone(), region, ACCOUNT)
            })
            .collect();
        let mut got = sorted(ours[plugin].clone(), id);
        let mut want = sorted(want, id);
        settle_volatile(plugin, &mut got, &mut want);
        assert_same_json(&Value::Array(got.clone()), &Value::Array(want), plugin);

        // Exactly what the seed made, each in its region.
        if let Some(seeded) = made.get(plugin).and_then(Value::as_array) {
            for entry in seeded {
                let (region, field, value) = (&entry[0], entry[1].as_str().unwrap(), &entry[2]);
                let seeded_n = seeded.iter().filter(|e| *e == entry).count();
                let n = got
                    .iter()
                    .filter(|i| i[field] == *value && i["RequestRegion"] == *region)
                    .count();
                assert_eq!(
                    n, seeded_n,
                    "{plugin}: {field} {value} in {region}: {got:#?}"
                );
            }
            assert_eq!(got.len(), seeded.len(), "{plugin}: only what the seed made");
        }
    }

    // Every value has the type the plugin's schema (model shape plus declared columns)
    // gives its column, and every declared extra column is in each item.
    for (plugin, _) in PLUGINS {
        let info = mrhost(&[
            "plugins",
            "inspect",
            path_str(&crate::common::plugin(plugin)),
        ])
        .ok()
        .json();
        let kinds: BTreeMap<String, String> = info["schema"]["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["name"].as_str().unwrap().into(),
                    c["kind"].as_str().unwrap().into(),
                )
            })
            .collect();
        let extra = info["manifest"]["extra_columns"].as_array().cloned();
        for item in &ours[plugin] {
            for (name, value) in item.as_object().unwrap() {
                let Some(kind) = kinds.get(name) else {
                    continue;
                };
                let fits = match kind.as_str() {
                    _ if value.is_null() => true,
                    "string" | "timestamp" => value.is_string(),
                    "bool" => value.is_boolean(),
                    "int" => value.is_i64() || value.is_u64(),
                    "float" => value.is_number(),
                    _ => true,
                };
                assert!(fits, "{plugin}: {name} is {kind} but {value}");
            }
            for c in extra.iter().flatten() {
                let name = c["name"].as_str().unwrap();
                assert!(item.get(name).is_some(), "{plugin}: no {name} in {item}");
            }
        }
    }

    // The security answers the seed set up, by name.
    let find = |plugin: &str, field: &str, value: Value, region: &str| -> Value {
        ours[plugin]
            .iter()
            .find(|i| i[field] == value && i["RequestRegion"] == region)
            .cloned()
            .unwrap_or_else(|| panic!("{plugin}: no {field} {value} in {region}"))
    };
    // [plugin, region, the item's identifying fields, columns it must have]
    let checks = json!([
        ["iam-credential-report", GLOBAL, {"user": "alice"},
            {"mfa_active": true, "password_enabled": true, "access_key_1_active": true,
             "access_key_2_active": false, "password_next_rotation": null}],
        ["iam-credential-report", GLOBAL, {"user": "bob"},
            {"password_enabled": false, "access_key_1_active": false, "access_key_2_active": true}],
        ["iam-credential-report", GLOBAL, {"user": "carol"},
            {"password_enabled": false, "mfa_active": false, "access_key_1_last_rotated": null}],
        ["iam-password-policy", GLOBAL, {"PasswordPolicyPresent": true},
            {"MinimumPasswordLength": 14, "RequireSymbols": true, "MaxPasswordAge": 90}],
        ["iam-groups", GLOBAL, {"GroupName": "admins"},
            {"Users": ["alice", "bob"], "UserCount": 2, "InlinePolicyNames": ["break-glass"]}],
        ["iam-groups", GLOBAL, {"GroupName": "empty"},
            {"Users": [], "UserCount": 0, "AttachedPolicyArns": [], "InlinePolicyNames": []}],
        ["cloudtrail-trails", "eu-west-1", {"Name": "org-eu-west-1"},
            {"IsLogging": true, "IsMultiRegionTrail": true, "LogFileValidationEnabled": true}],
        ["cloudtrail-trails", "us-east-2", {"Name": "local-us-east-2"},
            {"IsLogging": false, "IsMultiRegionTrail": false, "LatestDeliveryTime": null}],
        ["config-recorders", "eu-west-1", {"name": "default"}, {"Recording": true}],
        ["config-recorders", "us-east-2", {"name": "default"},
            {"Recording": false, "LastStartTime": null}],
        ["guardduty-detectors", "eu-west-1", {"Status": "ENABLED"},
            {"EnabledFeatures": ["S3_DATA_EVENTS", "RDS_LOGIN_EVENTS"]}],
        ["guardduty-detectors", "us-east-2", {"Status": "DISABLED"},
            {"EnabledFeatures": ["S3_DATA_EVENTS", "EKS_AUDIT_LOGS", "RDS_LOGIN_EVENTS"]}],
        ["rds-db-snapshots", "eu-west-1", {"DBSnapshotIdentifier": "reports-snap"},
            {"Public": true, "SharedWithAccounts": ["111122223333"], "Encrypted": false}],
        ["rds-db-snapshots", "us-east-2", {"DBSnapshotIdentifier": "orders-snap"},
            {"Public": false, "SharedWithAccounts": ["444455556666"], "Encrypted": true}],
        ["ecr-repositories", "eu-west-1", {"repositoryName": "app"},
            {"ScanOnPush": true, "TagImmutable": true, "EncryptionType": "KMS",
             "RepositoryPolicy": null, "PolicyPublic": false}],
        ["ecr-repositories", "us-east-2", {"repositoryName": "public-base"},
            {"ScanOnPush": false, "TagImmutable": false, "PolicyPublic": true}],
        ["ecr-repositories", "us-east-2", {"repositoryName": "private-base"},
            {"PolicyPublic": false}],
        ["eks-clusters", "eu-west-1", {"name": "public-api"},
            {"EndpointPublicAccess": true, "PublicAccessCidrs": ["0.0.0.0/0"],
             "EnabledLogTypes": ["api", "audit"]}],
        ["eks-clusters", "us-east-2", {"name": "private-api"},
            {"EndpointPublicAccess": false, "EndpointPrivateAccess": true, "EnabledLogTypes": []}],
        ["elbv2-listeners", "eu-west-1", {"Port": 443},
            {"Protocol": "HTTPS", "SslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
             "Scheme": "internet-facing"}],
        ["elbv2-listeners", "us-east-2", {"Port": 8080}, {"Scheme": "internal", "CertificateArns": []}],
        ["vpc-flow-logs", "eu-west-1", {"TrafficType": "REJECT"}, {"LogDestinationType": "s3"}],
        ["route53-zones", GLOBAL, {"Name": "internal.example."}, {"PrivateZone": true}],
        ["route53-zones", GLOBAL, {"Name": "example.com."}, {"PrivateZone": false, "VPCs": []}],
        ["route53-records", GLOBAL, {"Name": "www.example.com."},
            {"Type": "A", "ZoneName": "example.com.", "PrivateZone": false}],
        ["route53-records", GLOBAL, {"Name": "db.internal.example."}, {"PrivateZone": true}],
        ["organizations-accounts", GLOBAL, {"Name": "dev"}, {"Status": "ACTIVE"}],
        ["organizations-policies", GLOBAL, {"Name": "deny-leave"}, {"TargetCount": 2}],
        ["ebs-default-encryption", "eu-west-1", {}, {"EbsEncryptionByDefault": true}],
        ["ebs-default-encryption", "us-east-2", {}, {"EbsEncryptionByDefault": false}]
    ]);
    for check in checks.as_array().unwrap() {
        let (plugin, region) = (check[0].as_str().unwrap(), check[1].as_str().unwrap());
        let matches = |i: &&Value| {
            i["RequestRegion"] == region
                && check[2]
                    .as_object()
                    .unwrap()
                    .iter()
                    .all(|(k, v)| i[k.as_str()] == *v)
        };
        let found: Vec<&Value> = ours[plugin].iter().filter(matches).collect();
        assert_eq!(
            found.len(),
            1,
            "{plugin}: {} in {region}: {found:?}",
            check[2]
        );
        for (column, want) in check[3].as_object().unwrap() {
            assert_eq!(
                found[0][column.as_str()],
                *want,
                "{plugin} {} in {region}: {column}",
                check[2]
            );
        }
    }
    // Cross-checks between plugins: the private zone's VPC, the HTTPS listener's certificate,
    // the account moved into the OU, the distribution behind a web ACL.
    let zone = find("route53-zones", "Name", json!("internal.example."), GLOBAL);
    assert_eq!(zone["VPCs"][0]["VPCRegion"], REGIONS[0], "{zone}");
    let https = find("elbv2-listeners", "Port", json!(443), "eu-west-1");
    let cert = &https["CertificateArns"][0];
    find(
        "acm-certificates",
        "CertificateArn",
        cert.clone(),
        "eu-west-1",
    );
    let prod = find("organizations-accounts", "Name", json!("prod"), GLOBAL);
    assert!(
        prod["ParentId"].as_str().unwrap().starts_with("ou-"),
        "{prod}"
    );
    let wafs: BTreeSet<String> = ours["cloudfront-distributions"]
        .iter()
        .map(|d| d["WebAclId"].to_string())
        .collect();
    assert_eq!(
        wafs.len(),
        2,
        "one distribution with a web ACL, one without: {wafs:?}"
    );
    assert!(wafs.contains("null"));
}

#[test]
fn the_credential_report_needs_its_grants_and_says_which() {
    let Some(moto) = moto() else { return };
    moto.boto3(vec![b3(
        GLOBAL,
        "iam",
        "CreateUser",
        json!({"UserName": "dave"}),
    )]);
    let p = plugin("iam-credential-report");
    let denied = |extra: &[&str], op: &str, class: &str| {
        let mut args = vec!["run", path_str(&p)];
        args.extend_from_slice(extra);
        let run = moto.mrhost(&args);
        assert_ne!(run.code, 0, "{}", run.stdout);
        assert!(
            run.stderr.contains(&format!(
                "plugin error: denied: iam:{op} is a {class} operation"
            )) && run.stderr.contains(&format!("--allow iam:{op}")),
            "{}",
            run.stderr
        );
    };
    // The report is secret-class, generating one write-class: neither runs by default.
    denied(&[], "GetCredentialReport", "secret");
    // Allowed to read it, but there is none yet: generating it needs its own grant.
    let read_only = ["--allow", "iam:GetCredentialReport"];
    denied(&read_only, "GenerateCredentialReport", "write");
    // With a current report, reading it is all the plugin does.
    moto.boto3(vec![b3(
        GLOBAL,
        "iam",
        "GenerateCredentialReport",
        json!({}),
    )]);
    let mut args = vec!["run", path_str(&p)];
    args.extend_from_slice(&read_only);
    let rows = moto.mrhost(&args).ok().json();
    let users: Vec<&Value> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["user"])
        .collect();
    assert_eq!(users, [&json!("dave")], "{rows}");
    assert_eq!(rows[0]["mfa_active"], false, "{rows}");
}

#[test]
fn policy_over_every_bundled_plugin_is_exactly_their_operations() {
    plugin("vpcs"); // builds them all
    let dir = repo_root().join("plugins");
    let mut wasm: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "wasm"))
        .collect();
    wasm.sort();
    for (name, _) in PLUGINS {
        assert!(
            wasm.iter().any(|p| p.file_stem().unwrap() == name),
            "{name} is bundled"
        );
    }
    assert!(wasm.len() >= 45, "bundled plugins: {}", wasm.len());

    // What they declare, from their manifests.
    let mut declared = BTreeSet::new();
    for p in &wasm {
        let info = mrhost(&["plugins", "inspect", path_str(p)]).ok().json();
        for op in info["manifest"]["operations"].as_array().unwrap() {
            declared.insert(op.as_str().unwrap().to_string());
        }
    }
    // The IAM action of each: botocore's signing name (the IAM prefix) and the operation,
    // except where IAM names the action otherwise.
    let services: BTreeSet<&str> = declared
        .iter()
        .map(|op| op.split_once(':').unwrap().0)
        .collect();
    let prefixes = signing_names(&services);
    let renamed: BTreeMap<&str, &str> = [
        ("s3:ListBuckets", "s3:ListAllMyBuckets"),
        ("s3:GetPublicAccessBlock", "s3:GetBucketPublicAccessBlock"),
        ("s3:GetBucketEncryption", "s3:GetEncryptionConfiguration"),
        (
            "s3:GetBucketLifecycleConfiguration",
            "s3:GetLifecycleConfiguration",
        ),
        ("s3:GetBucketReplication", "s3:GetReplicationConfiguration"),
    ]
    .into_iter()
    .collect();
    let want: BTreeSet<String> = declared
        .iter()
        .map(|op| {
            let (service, operation) = op.split_once(':').unwrap();
            // CloudWatch signs as "monitoring"; its IAM prefix is "cloudwatch".
            let prefix = match prefixes[service].as_str() {
                "monitoring" => "cloudwatch",
                p => p,
            };
            let action = format!("{prefix}:{operation}");
            renamed
                .get(action.as_str())
                .map(|a| a.to_string())
                .unwrap_or(action)
        })
        .collect();

    let mut args = vec!["policy"];
    args.extend(wasm.iter().map(|p| path_str(p)));
    let policy = mrhost(&args).ok().json();
    let statements = policy["Statement"].as_array().unwrap();
    assert_eq!(statements.len(), 1, "only the plugins' reads: {policy}");
    assert_eq!(statements[0]["Effect"], "Allow");
    assert_eq!(statements[0]["Resource"], "*");
    let got: BTreeSet<String> = statements[0]["Action"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect();
    let missing: Vec<_> = want.difference(&got).collect();
    let extra: Vec<_> = got.difference(&want).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "policy misses {missing:?} and has more than needed {extra:?}"
    );
}

/// botocore's signing name of each service (the IAM action prefix).
fn signing_names(services: &BTreeSet<&str>) -> BTreeMap<String, String> {
    let py = python().expect("python (botocore) for the IAM prefixes");
    let script = "import json,sys,botocore.session as s\n\
                  x=s.get_session()\n\
                  print(json.dumps({n: x.get_service_model(n).signing_name for n in sys.argv[1:]}))";
    let mut cmd = Command::new(py);
    cmd.arg("-c").arg(script).args(services.iter());
    safe_env(&mut cmd);
    let out = cmd.output().expect("run python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}
