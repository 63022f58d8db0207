//! The security columns of the bundled plugins against boto3 on moto: moto is seeded with
//! what makes those columns non-trivial (MFA devices, access keys, console passwords, public
//! access blocks, public bucket policies, encrypted volumes, public and shared snapshots,
//! key rotation, function URLs, encrypted topics and queues, rotating secrets), each plugin
//! runs over two regions (global ones once per account), and its output must be exactly what
//! tests/py/security_reference.py computes with boto3: the same listing and enrichment calls,
//! the same columns computed in Python, in the same key order, with the columns the host adds.
//! Then the values the seed set are checked where they show (so agreeing on nothing cannot
//! pass), as are the null/false values of what is not configured.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::{json, Value};

use crate::common::*;

const ACCOUNT: &str = "123456789012";
const REGIONS: [&str; 2] = ["eu-west-1", "us-east-2"];
/// Where global plugins run (the partition's global region).
const GLOBAL: &str = "us-east-1";
/// A minimal Lambda deployment package (a zip with one handler).
const LAMBDA_ZIP: &str = "UEsDBBQAAAAAAMqydV2XmWIwIAAAACAAAAASAAAAbGFtYmRhX2Z1bmN0aW9uLnB5ZGVmIGhhbmRsZXIoZSwgYyk6CiAgICByZXR1cm4gZQpQSwECFAMUAAAAAADKsnVdl5liMCAAAAAgAAAAEgAAAAAAAAAAAAAAgAEAAAAAbGFtYmRhX2Z1bmN0aW9uLnB5UEsFBgAAAAABAAEAQAAAAFAAAAAAAA==";

/// The columns each upgraded plugin adds to what AWS returns. bundled.rs and
/// bundled_more.rs compare the rest with boto3's plain listing; this file compares all.
pub const EXTRA_COLUMNS: &[(&str, &[&str])] = &[
    (
        "iam-users",
        &[
            "MfaDevices",
            "MfaEnabled",
            "AccessKeys",
            "ActiveAccessKeys",
            "ConsoleAccess",
            "AttachedPolicyNames",
            "InlinePolicyNames",
            "GroupNames",
        ],
    ),
    (
        "iam-roles",
        &["TrustedPrincipals", "RoleLastUsed", "LastUsedDate"],
    ),
    (
        "s3-buckets",
        &[
            "PublicAccessBlock",
            "PublicAccessBlocked",
            "PolicyIsPublic",
            "Encryption",
            "EncryptionRules",
            "Versioning",
            "MfaDelete",
            "LoggingEnabled",
            "Logging",
            "ObjectOwnership",
        ],
    ),
    (
        "instances",
        &["StateName", "Imdsv2Required", "InstanceProfileArn"],
    ),
    ("security-groups", &["OpenToWorld", "OpenToWorldCount"]),
    ("snapshots", &["Public", "SharedWithAccounts"]),
    ("kms-keys", &["KeyRotationEnabled", "KeyPolicy"]),
    (
        "lambda-functions",
        &[
            "EnvironmentVariableNames",
            "FunctionUrl",
            "FunctionUrlAuthType",
        ],
    ),
    ("sns-topics", &["Policy", "KmsMasterKeyId", "Encrypted"]),
    ("sqs-queues", &["PolicyDocument", "Encrypted"]),
    (
        "secretsmanager-secrets",
        &["RotationActive", "RotationDays"],
    ),
];

/// `items` (a plugin's output) without the columns the plugin adds: what the plain listing
/// comparisons of bundled.rs and bundled_more.rs check.
pub fn without_extra_columns(plugin: &str, items: &mut Value) {
    let Some((_, cols)) = EXTRA_COLUMNS.iter().find(|(p, _)| *p == plugin) else {
        return;
    };
    for item in items.as_array_mut().into_iter().flatten() {
        if let Some(o) = item.as_object_mut() {
            for c in *cols {
                o.shift_remove(*c);
            }
        }
    }
}

/// Run the seed calls; each must succeed except the ones named in `may_fail` (by index).
fn seed(moto: &Moto, calls: Vec<Value>, may_fail: &[usize]) {
    for (i, r) in moto.boto3(calls).iter().enumerate() {
        assert!(
            r.get("Error").is_none() || may_fail.contains(&i),
            "seed call {i} failed: {r}"
        );
    }
}

/// tests/py/security_reference.py for each (plugin, regions): the items as mrhost emits them.
fn references(moto: &Moto, runs: &[(&str, &[&str])]) -> Vec<Vec<Value>> {
    let py = python().expect("python");
    let mut cmd = Command::new(py);
    cmd.arg(repo_root().join("tests/py/security_reference.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    safe_env(&mut cmd);
    let mut child = cmd.spawn().expect("run security_reference.py");
    let program = json!({
        "endpoint": moto.url,
        "account": ACCOUNT,
        "runs": runs.iter().map(|(p, r)| json!({"plugin": p, "regions": r})).collect::<Vec<_>>(),
    });
    child
        .stdin
        .take()
        .unwrap()
        .write_all(program.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "security_reference.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let runs: Vec<Vec<(String, Value)>> =
        serde_json::from_slice(&out.stdout).expect("security_reference.py prints JSON");
    runs.into_iter()
        .map(|items| {
            items
                .into_iter()
                .map(|(region, item)| as_emitted(item, &region, ACCOUNT))
                .collect()
        })
        .collect()
}

/// Run each plugin over `regions` (global ones: once, in us-east-1) and require exactly the
/// reference's items; `volatile` fields (moto restamps them per call) are compared as
/// present-or-absent. Returns each plugin's items.
fn check(
    moto: &Moto,
    plugins: &[&'static str],
    global: bool,
    volatile: &[&str],
) -> BTreeMap<&'static str, Vec<Value>> {
    let reference_regions: &[&str] = if global { &[GLOBAL] } else { &REGIONS };
    let runs: Vec<(&str, &[&str])> = plugins.iter().map(|p| (*p, reference_regions)).collect();
    let want = references(moto, &runs);
    let mut got = BTreeMap::new();
    for (p, want) in plugins.iter().zip(want) {
        let path = plugin(p);
        let ours = moto
            .mrhost(&["run", path_str(&path), "--regions", &REGIONS.join(",")])
            .ok()
            .json();
        let (mut a, mut b) = (ours.clone(), Value::Array(want));
        for v in [&mut a, &mut b] {
            for item in v.as_array_mut().unwrap() {
                for f in volatile {
                    if let Some(x) = item.get_mut(*f) {
                        *x = json!("(volatile)");
                    }
                }
            }
        }
        assert_same_json(&a, &b, p);
        let items = ours.as_array().unwrap().clone();
        assert!(!items.is_empty(), "{p}: nothing listed");
        got.insert(*p, items);
    }
    got
}

/// The one item of `items` whose `field` is `value`.
fn find<'a>(items: &'a [Value], field: &str, value: &str) -> &'a Value {
    let found: Vec<&Value> = items.iter().filter(|i| i[field] == value).collect();
    assert_eq!(found.len(), 1, "{field} = {value} in {items:?}");
    found[0]
}

#[test]
fn iam_security_columns_match_boto3() {
    let Some(moto) = moto() else { return };
    let g = GLOBAL;
    let trust = |principal: Value| {
        json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"},
            {"Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::999999999999:root"}, "Action": "sts:AssumeRole"}]})
        .to_string()
    };
    let doc = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Action": "s3:ListBucket", "Resource": "*"}]})
    .to_string();
    let mut calls = vec![
        b3_save(
            g,
            "iam",
            "CreatePolicy",
            json!({"PolicyName": "read-buckets", "PolicyDocument": doc}),
            "policy",
        ),
        b3(g, "iam", "CreateGroup", json!({"GroupName": "admins"})),
        b3(g, "iam", "CreateGroup", json!({"GroupName": "auditors"})),
    ];
    for name in ["alice", "bob", "carol"] {
        calls.push(b3(g, "iam", "CreateUser", json!({"UserName": name})));
    }
    // alice: everything a review looks at.
    calls.extend([
        b3_save(g, "iam", "CreateVirtualMFADevice", json!({"VirtualMFADeviceName": "alice-phone"}), "mfa"),
        b3(g, "iam", "EnableMFADevice", json!({"UserName": "alice", "SerialNumber": "$mfa.VirtualMFADevice.SerialNumber",
            "AuthenticationCode1": "123456", "AuthenticationCode2": "654321"})),
        b3(g, "iam", "CreateLoginProfile", json!({"UserName": "alice", "Password": "c0rrect-Horse-battery"})),
        b3(g, "iam", "AttachUserPolicy", json!({"UserName": "alice", "PolicyArn": "$policy.Policy.Arn"})),
        b3(g, "iam", "PutUserPolicy", json!({"UserName": "alice", "PolicyName": "inline-read", "PolicyDocument": doc})),
        b3(g, "iam", "AddUserToGroup", json!({"UserName": "alice", "GroupName": "admins"})),
        b3(g, "iam", "AddUserToGroup", json!({"UserName": "alice", "GroupName": "auditors"})),
        b3(g, "iam", "CreateAccessKey", json!({"UserName": "alice"})),
        b3_save(g, "iam", "CreateAccessKey", json!({"UserName": "alice"}), "old-key"),
        b3(g, "iam", "UpdateAccessKey", json!({"UserName": "alice", "AccessKeyId": "$old-key.AccessKey.AccessKeyId", "Status": "Inactive"})),
        // carol: one key, nothing else.
        b3(g, "iam", "CreateAccessKey", json!({"UserName": "carol"})),
    ]);
    for (name, principal) in [
        ("app", json!({"Service": "ec2.amazonaws.com"})),
        (
            "cross",
            json!({"AWS": ["arn:aws:iam::210987654321:root", "arn:aws:iam::111122223333:role/ci"]}),
        ),
        ("anyone", json!("*")),
    ] {
        calls.push(b3(
            g,
            "iam",
            "CreateRole",
            json!({"RoleName": name, "AssumeRolePolicyDocument": trust(principal)}),
        ));
    }
    seed(&moto, calls, &[]);

    let got = check(&moto, &["iam-users", "iam-roles"], true, &[]);
    let users = &got["iam-users"];
    assert_eq!(users.len(), 3);
    assert!(users.iter().all(|u| u["RequestRegion"] == GLOBAL));
    let alice = find(users, "UserName", "alice");
    assert_eq!(alice["MfaEnabled"], true, "{alice}");
    assert_eq!(
        alice["MfaDevices"][0]["SerialNumber"],
        format!("arn:aws:iam::{ACCOUNT}:mfa/alice-phone")
    );
    assert_eq!(alice["ConsoleAccess"], true);
    assert_eq!(alice["AccessKeys"].as_array().unwrap().len(), 2);
    assert_eq!(alice["ActiveAccessKeys"], 1);
    assert_eq!(alice["AttachedPolicyNames"], json!(["read-buckets"]));
    assert_eq!(alice["InlinePolicyNames"], json!(["inline-read"]));
    assert_eq!(alice["GroupNames"], json!(["admins", "auditors"]));
    // Never used: no date, and the key's fields are all there.
    let key = &alice["AccessKeys"][0];
    assert!(
        key["AccessKeyId"].is_string() && key["CreateDate"].is_string(),
        "{key}"
    );
    assert!(key["LastUsedDate"].is_null(), "{key}");
    // bob has nothing: false and empty, not null (the calls answered).
    let bob = find(users, "UserName", "bob");
    assert_eq!(
        (
            &bob["MfaEnabled"],
            &bob["ConsoleAccess"],
            &bob["ActiveAccessKeys"],
            &bob["GroupNames"]
        ),
        (&json!(false), &json!(false), &json!(0), &json!([])),
        "{bob}"
    );
    assert_eq!(find(users, "UserName", "carol")["ActiveAccessKeys"], 1);

    let roles = &got["iam-roles"];
    assert_eq!(roles.len(), 3);
    let principals = |name: &str| find(roles, "RoleName", name)["TrustedPrincipals"].clone();
    assert_eq!(principals("app"), json!(["ec2.amazonaws.com"]));
    // Allow statements only: the Deny's principal is not trusted.
    assert_eq!(
        principals("cross"),
        json!([
            "arn:aws:iam::210987654321:root",
            "arn:aws:iam::111122223333:role/ci"
        ])
    );
    assert_eq!(principals("anyone"), json!(["*"]));
    // The trust policy is JSON, not URL-encoded text.
    assert!(find(roles, "RoleName", "app")["AssumeRolePolicyDocument"]["Statement"].is_array());
}

#[test]
fn s3_security_columns_match_boto3() {
    let Some(moto) = moto() else { return };
    let g = GLOBAL;
    let public_policy =
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*",
        "Action": "s3:GetObject", "Resource": "arn:aws:s3:::open-data/*"}]})
        .to_string();
    let private_policy = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")},
        "Action": "s3:GetObject", "Resource": "arn:aws:s3:::locked-down/*"}]})
    .to_string();
    let all_on = json!({"BlockPublicAcls": true, "IgnorePublicAcls": true, "BlockPublicPolicy": true, "RestrictPublicBuckets": true});
    let calls = vec![
        b3(
            g,
            "s3",
            "CreateBucket",
            json!({"Bucket": "access-logs", "ACL": "log-delivery-write"}),
        ),
        // open-data: public through its policy, a partial public access block, KMS encryption,
        // versioning, access logging, owner-enforced.
        b3(g, "s3", "CreateBucket", json!({"Bucket": "open-data"})),
        b3(
            g,
            "s3",
            "PutPublicAccessBlock",
            json!({"Bucket": "open-data", "PublicAccessBlockConfiguration":
            {"BlockPublicAcls": true, "IgnorePublicAcls": false, "BlockPublicPolicy": false, "RestrictPublicBuckets": false}}),
        ),
        b3(
            g,
            "s3",
            "PutBucketPolicy",
            json!({"Bucket": "open-data", "Policy": public_policy}),
        ),
        b3(
            g,
            "s3",
            "PutBucketEncryption",
            json!({"Bucket": "open-data", "ServerSideEncryptionConfiguration": {"Rules":
            [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "alias/data"}}]}}),
        ),
        b3(
            g,
            "s3",
            "PutBucketVersioning",
            json!({"Bucket": "open-data", "VersioningConfiguration": {"Status": "Enabled"}}),
        ),
        b3(
            g,
            "s3",
            "PutBucketLogging",
            json!({"Bucket": "open-data", "BucketLoggingStatus":
            {"LoggingEnabled": {"TargetBucket": "access-logs", "TargetPrefix": "open-data/"}}}),
        ),
        b3(
            g,
            "s3",
            "PutBucketOwnershipControls",
            json!({"Bucket": "open-data", "OwnershipControls":
            {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}}),
        ),
        // locked-down (in eu-west-1): every block on, a policy that is not public, AES256,
        // versioning suspended.
        b3(
            "eu-west-1",
            "s3",
            "CreateBucket",
            json!({"Bucket": "locked-down",
            "CreateBucketConfiguration": {"LocationConstraint": "eu-west-1"}}),
        ),
        b3(
            "eu-west-1",
            "s3",
            "PutPublicAccessBlock",
            json!({"Bucket": "locked-down", "PublicAccessBlockConfiguration": all_on}),
        ),
        b3(
            "eu-west-1",
            "s3",
            "PutBucketPolicy",
            json!({"Bucket": "locked-down", "Policy": private_policy}),
        ),
        b3(
            "eu-west-1",
            "s3",
            "PutBucketEncryption",
            json!({"Bucket": "locked-down", "ServerSideEncryptionConfiguration": {"Rules":
            [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}}),
        ),
        b3(
            "eu-west-1",
            "s3",
            "PutBucketVersioning",
            json!({"Bucket": "locked-down", "VersioningConfiguration": {"Status": "Suspended"}}),
        ),
        // plain (in us-east-2): nothing configured.
        b3(
            "us-east-2",
            "s3",
            "CreateBucket",
            json!({"Bucket": "plain-bucket",
            "CreateBucketConfiguration": {"LocationConstraint": "us-east-2"}}),
        ),
    ];
    seed(&moto, calls, &[]);

    let got = check(&moto, &["s3-buckets"], true, &[]);
    let buckets = &got["s3-buckets"];
    assert_eq!(buckets.len(), 4);
    let open = find(buckets, "Name", "open-data");
    assert_eq!(open["PolicyIsPublic"], true, "{open}");
    assert_eq!(open["PublicAccessBlocked"], false);
    assert_eq!(open["PublicAccessBlock"]["BlockPublicAcls"], true);
    assert_eq!(open["Encryption"], "aws:kms");
    assert_eq!(open["Versioning"], "Enabled");
    assert_eq!(open["LoggingEnabled"], true);
    assert_eq!(open["Logging"]["TargetBucket"], "access-logs");
    assert_eq!(open["ObjectOwnership"], "BucketOwnerEnforced");
    let locked = find(buckets, "Name", "locked-down");
    assert_eq!(
        (
            &locked["BucketRegion"],
            &locked["PublicAccessBlocked"],
            &locked["PolicyIsPublic"],
            &locked["Encryption"],
            &locked["Versioning"]
        ),
        (
            &json!("eu-west-1"),
            &json!(true),
            &json!(false),
            &json!("AES256"),
            &json!("Suspended")
        ),
        "{locked}"
    );
    // Nothing configured: each not-found answer is a clear false or null, not a failure.
    let plain = find(buckets, "Name", "plain-bucket");
    assert_eq!(plain["BucketRegion"], "us-east-2");
    assert_eq!(
        (
            &plain["PublicAccessBlock"],
            &plain["PublicAccessBlocked"],
            &plain["PolicyIsPublic"],
            &plain["LoggingEnabled"]
        ),
        (&Value::Null, &json!(false), &json!(false), &json!(false)),
        "{plain}"
    );
    for f in [
        "Encryption",
        "EncryptionRules",
        "Versioning",
        "Logging",
        "ObjectOwnership",
    ] {
        assert!(plain[f].is_null(), "{f}: {plain}");
    }
}

#[test]
fn ec2_security_columns_match_boto3_in_every_region() {
    let Some(moto) = moto() else { return };
    let mut calls = vec![b3_save(
        GLOBAL,
        "iam",
        "CreateInstanceProfile",
        json!({"InstanceProfileName": "web-profile"}),
        "profile",
    )];
    for r in REGIONS {
        let n = |what: &str| format!("{what}-{r}");
        calls.extend([
            b3_save(r, "ec2", "CreateSecurityGroup", json!({"GroupName": "exposed", "Description": "open to the world"}), &n("sg")),
            b3(r, "ec2", "AuthorizeSecurityGroupIngress", json!({"GroupId": format!("${}.GroupId", n("sg")), "IpPermissions": [
                {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
                {"IpProtocol": "tcp", "FromPort": 8000, "ToPort": 8080, "Ipv6Ranges": [{"CidrIpv6": "::/0"}]},
                {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]},
                {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]})),
            b3_save(r, "ec2", "CreateSecurityGroup", json!({"GroupName": "internal", "Description": "private only"}), &n("sg2")),
            b3(r, "ec2", "AuthorizeSecurityGroupIngress", json!({"GroupId": format!("${}.GroupId", n("sg2")), "IpPermissions": [
                {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}]})),
            // An instance with IMDSv2 required and a profile, and one with neither.
            b3(r, "ec2", "RunInstances", json!({"ImageId": "ami-12c6146b", "MinCount": 1, "MaxCount": 1,
                "IamInstanceProfile": {"Arn": "$profile.InstanceProfile.Arn"}, "MetadataOptions": {"HttpTokens": "required"},
                "TagSpecifications": [{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "hardened"}]}]})),
            b3(r, "ec2", "RunInstances", json!({"ImageId": "ami-12c6146b", "MinCount": 1, "MaxCount": 1,
                "TagSpecifications": [{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "legacy"}]}]})),
            b3_save(r, "ec2", "CreateVolume", json!({"AvailabilityZone": format!("{r}a"), "Size": 8, "Encrypted": true}), &n("enc")),
            b3_save(r, "ec2", "CreateVolume", json!({"AvailabilityZone": format!("{r}a"), "Size": 4}), &n("plain")),
            b3_save(r, "ec2", "CreateSnapshot", json!({"VolumeId": format!("${}.VolumeId", n("plain")), "Description": "public"}), &n("pub")),
            b3(r, "ec2", "ModifySnapshotAttribute", json!({"SnapshotId": format!("${}.SnapshotId", n("pub")),
                "Attribute": "createVolumePermission", "OperationType": "add", "GroupNames": ["all"]})),
            b3_save(r, "ec2", "CreateSnapshot", json!({"VolumeId": format!("${}.VolumeId", n("enc")), "Description": "shared"}), &n("shared")),
            b3(r, "ec2", "ModifySnapshotAttribute", json!({"SnapshotId": format!("${}.SnapshotId", n("shared")),
                "Attribute": "createVolumePermission", "OperationType": "add", "UserIds": ["111122223333"]})),
            b3(r, "ec2", "CreateSnapshot", json!({"VolumeId": format!("${}.VolumeId", n("enc")), "Description": "private"})),
        ]);
    }
    seed(&moto, calls, &[]);

    let got = check(
        &moto,
        &["instances", "security-groups", "volumes", "snapshots"],
        false,
        &[],
    );
    for r in REGIONS {
        let in_region = |p: &str| -> Vec<Value> {
            got[p]
                .iter()
                .filter(|i| i["RequestRegion"] == r)
                .cloned()
                .collect()
        };
        let instances = in_region("instances");
        assert_eq!(instances.len(), 2, "{r}");
        let hardened = find(&instances, "Name", "hardened");
        assert_eq!(hardened["Imdsv2Required"], true, "{hardened}");
        assert_eq!(
            hardened["InstanceProfileArn"],
            format!("arn:aws:iam::{ACCOUNT}:instance-profile/web-profile")
        );
        assert_eq!(hardened["StateName"], "running");
        let legacy = find(&instances, "Name", "legacy");
        assert_eq!(
            (&legacy["Imdsv2Required"], &legacy["InstanceProfileArn"]),
            (&json!(false), &Value::Null),
            "{legacy}"
        );

        let groups = in_region("security-groups");
        let exposed = find(&groups, "GroupName", "exposed");
        assert_eq!(
            exposed["OpenToWorld"],
            json!(["tcp:22", "tcp:8000-8080", "all"]),
            "{exposed}"
        );
        assert_eq!(exposed["OpenToWorldCount"], 3);
        assert_eq!(
            find(&groups, "GroupName", "internal")["OpenToWorld"],
            json!([])
        );

        // The seed's two (the instances' root volumes are attached): one encrypted.
        let volumes: Vec<Value> = in_region("volumes")
            .into_iter()
            .filter(|v| v["Attachments"] == json!([]))
            .collect();
        assert_eq!(volumes.len(), 2, "{volumes:?}");
        for v in &volumes {
            let encrypted = v["Size"] == 8;
            assert_eq!(v["Encrypted"], encrypted, "{v}");
            assert_eq!(v["KmsKeyId"].is_string(), encrypted, "{v}");
        }

        let snapshots = in_region("snapshots");
        let own: Vec<Value> = snapshots
            .iter()
            .filter(|s| s["OwnerId"] == ACCOUNT)
            .cloned()
            .collect();
        assert_eq!(own.len(), 3, "{r}");
        let public = find(&own, "Description", "public");
        assert_eq!(
            (&public["Public"], &public["Encrypted"]),
            (&json!(true), &json!(false)),
            "{public}"
        );
        let shared = find(&own, "Description", "shared");
        assert_eq!(
            (
                &shared["Public"],
                &shared["SharedWithAccounts"],
                &shared["Encrypted"]
            ),
            (&json!(false), &json!(["111122223333"]), &json!(true)),
            "{shared}"
        );
        let private = find(&own, "Description", "private");
        assert_eq!(
            (&private["Public"], &private["SharedWithAccounts"]),
            (&json!(false), &json!([])),
            "{private}"
        );
        // Others' snapshots (moto lists its stock ones whatever OwnerIds says) are not read.
        assert!(snapshots
            .iter()
            .filter(|s| s["OwnerId"] != ACCOUNT)
            .all(|s| s["Public"].is_null()));
    }
}

#[test]
fn service_security_columns_match_boto3_in_every_region() {
    let Some(moto) = moto() else { return };
    let mut calls = vec![b3_save(
        GLOBAL,
        "iam",
        "CreateRole",
        json!({"RoleName": "fn-role", "AssumeRolePolicyDocument": json!({"Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole"}]}).to_string()}),
        "role",
    )];
    let mut may_fail = Vec::new();
    for r in REGIONS {
        let n = |what: &str| format!("{what}-{r}");
        let queue_policy =
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*",
            "Action": "sqs:SendMessage", "Resource": format!("arn:aws:sqs:{r}:{ACCOUNT}:intake")}]})
            .to_string();
        calls.extend([
            b3_save(r, "kms", "CreateKey", json!({"Description": "rotated"}), &n("rotated")),
            b3(r, "kms", "EnableKeyRotation", json!({"KeyId": format!("${}.KeyMetadata.KeyId", n("rotated"))})),
            b3(r, "kms", "CreateKey", json!({"Description": "static"})),
            b3(r, "rds", "CreateDBInstance", json!({"DBInstanceIdentifier": "exposed", "Engine": "postgres",
                "DBInstanceClass": "db.t3.micro", "MasterUsername": "admin1", "MasterUserPassword": "correct-horse",
                "AllocatedStorage": 20, "StorageEncrypted": true, "PubliclyAccessible": true})),
            b3(r, "rds", "CreateDBInstance", json!({"DBInstanceIdentifier": "inside", "Engine": "mysql",
                "DBInstanceClass": "db.t3.micro", "MasterUsername": "admin1", "MasterUserPassword": "correct-horse",
                "AllocatedStorage": 20, "PubliclyAccessible": false})),
            b3(r, "lambda", "CreateFunction", json!({"FunctionName": "public-fn", "Runtime": "python3.12",
                "Role": "$role.Role.Arn", "Handler": "lambda_function.handler",
                "Code": {"ZipFile": format!("$base64:{LAMBDA_ZIP}")},
                "Environment": {"Variables": {"STAGE": "prod", "DB_PASSWORD": "hunter2"}}})),
            b3(r, "lambda", "CreateFunctionUrlConfig", json!({"FunctionName": "public-fn", "AuthType": "NONE"})),
            b3(r, "lambda", "CreateFunction", json!({"FunctionName": "private-fn", "Runtime": "python3.11",
                "Role": "$role.Role.Arn", "Handler": "lambda_function.handler",
                "Code": {"ZipFile": format!("$base64:{LAMBDA_ZIP}")}})),
            b3(r, "sns", "CreateTopic", json!({"Name": "encrypted", "Attributes": {"KmsMasterKeyId": "alias/aws/sns"}})),
            b3(r, "sns", "CreateTopic", json!({"Name": "plain"})),
            b3(r, "sqs", "CreateQueue", json!({"QueueName": "intake", "Attributes": {"SqsManagedSseEnabled": "true", "Policy": queue_policy}})),
            b3(r, "sqs", "CreateQueue", json!({"QueueName": "keyed", "Attributes": {"KmsMasterKeyId": "alias/aws/sqs", "SqsManagedSseEnabled": "false"}})),
            b3(r, "sqs", "CreateQueue", json!({"QueueName": "bare", "Attributes": {"SqsManagedSseEnabled": "false"}})),
            b3(r, "secretsmanager", "CreateSecret", json!({"Name": "rotating", "SecretString": "s3cr3t-value"})),
            b3(r, "secretsmanager", "CreateSecret", json!({"Name": "static", "SecretString": "s3cr3t-value"})),
        ]);
        // moto records the rotation, then fails to invoke the (absent) rotation function.
        may_fail.push(calls.len());
        calls.push(b3(
            r,
            "secretsmanager",
            "RotateSecret",
            json!({"SecretId": "rotating",
            "RotationLambdaARN": format!("arn:aws:lambda:{r}:{ACCOUNT}:function:rotate"),
            "RotationRules": {"AutomaticallyAfterDays": 30}}),
        ));
    }
    seed(&moto, calls, &may_fail);

    let plugins = [
        "kms-keys",
        "rds-db-instances",
        "lambda-functions",
        "sns-topics",
        "sqs-queues",
        "secretsmanager-secrets",
    ];
    // moto stamps LatestRestorableTime with the time of each describe call.
    let got = check(&moto, &plugins, false, &["LatestRestorableTime"]);
    let out = serde_json::to_string(&got).unwrap();
    assert!(
        !out.contains("hunter2") && !out.contains("s3cr3t-value"),
        "a secret value leaked"
    );
    for r in REGIONS {
        let in_region = |p: &str| -> Vec<Value> {
            got[p]
                .iter()
                .filter(|i| i["RequestRegion"] == r)
                .cloned()
                .collect()
        };
        let keys = in_region("kms-keys");
        assert_eq!(keys.len(), 2);
        assert_eq!(
            find(&keys, "Description", "rotated")["KeyRotationEnabled"],
            true
        );
        let fixed = find(&keys, "Description", "static");
        assert_eq!(fixed["KeyRotationEnabled"], false);
        assert_eq!(
            fixed["KeyPolicy"]["Statement"][0]["Principal"]["AWS"],
            format!("arn:aws:iam::{ACCOUNT}:root"),
            "{fixed}"
        );

        let dbs = in_region("rds-db-instances");
        let exposed = find(&dbs, "DBInstanceIdentifier", "exposed");
        assert_eq!(
            (&exposed["StorageEncrypted"], &exposed["PubliclyAccessible"]),
            (&json!(true), &json!(true))
        );
        let inside = find(&dbs, "DBInstanceIdentifier", "inside");
        assert_eq!(
            (&inside["StorageEncrypted"], &inside["PubliclyAccessible"]),
            (&json!(false), &json!(false))
        );

        let fns = in_region("lambda-functions");
        let public = find(&fns, "FunctionName", "public-fn");
        assert_eq!(public["FunctionUrlAuthType"], "NONE", "{public}");
        assert!(public["FunctionUrl"].is_string());
        assert_eq!(
            public["EnvironmentVariableNames"],
            json!(["DB_PASSWORD", "STAGE"])
        );
        let private = find(&fns, "FunctionName", "private-fn");
        assert_eq!(
            (
                &private["FunctionUrlAuthType"],
                &private["EnvironmentVariableNames"]
            ),
            (&Value::Null, &json!([]))
        );

        let topics = in_region("sns-topics");
        let arn = |name: &str| format!("arn:aws:sns:{r}:{ACCOUNT}:{name}");
        let enc = find(&topics, "TopicArn", &arn("encrypted"));
        assert_eq!(
            (&enc["Encrypted"], &enc["KmsMasterKeyId"]),
            (&json!(true), &json!("alias/aws/sns"))
        );
        let plain = find(&topics, "TopicArn", &arn("plain"));
        assert_eq!(
            (&plain["Encrypted"], &plain["KmsMasterKeyId"]),
            (&json!(false), &Value::Null)
        );
        assert!(plain["Policy"]["Statement"].is_array(), "{plain}");

        let queues = in_region("sqs-queues");
        let q = |name: &str| {
            find(
                &queues,
                "QueueArn",
                &format!("arn:aws:sqs:{r}:{ACCOUNT}:{name}"),
            )
            .clone()
        };
        assert_eq!(q("intake")["Encrypted"], true);
        assert_eq!(
            q("intake")["PolicyDocument"]["Statement"][0]["Principal"],
            "*"
        );
        assert_eq!(q("keyed")["Encrypted"], true);
        assert_eq!(
            (&q("bare")["Encrypted"], &q("bare")["PolicyDocument"]),
            (&json!(false), &Value::Null)
        );

        let secrets = in_region("secretsmanager-secrets");
        let rotating = find(&secrets, "Name", "rotating");
        assert_eq!(
            (&rotating["RotationActive"], &rotating["RotationDays"]),
            (&json!(true), &json!(30)),
            "{rotating}"
        );
        let fixed = find(&secrets, "Name", "static");
        assert_eq!(
            (&fixed["RotationActive"], &fixed["RotationDays"]),
            (&json!(false), &Value::Null)
        );
    }
}
