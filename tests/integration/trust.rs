//! Trust: every answer belongs to the identity that asked, and nothing runs that the user did
//! not allow. Two accounts on moto (the second reached through AssumeRole), profiles in a
//! temporary AWS config, environment keys; boto3 (`Session(profile_name=...)` and its
//! default session) as the reference for which identity answers. A recording proxy sees
//! every request.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::{json, Value};

use crate::common::*;

const A: &str = "123456789012";
const B: &str = "222222222222";
const ROLE_B: &str = "arn:aws:iam::222222222222:role/trust-auditor";
const REGION: &str = "eu-west-1";
/// A minimal Lambda deployment package (a zip with one handler).
const LAMBDA_ZIP: &str = "UEsDBBQAAAAAAMqydV2XmWIwIAAAACAAAAASAAAAbGFtYmRhX2Z1bmN0aW9uLnB5ZGVmIGhhbmRsZXIoZSwgYyk6CiAgICByZXR1cm4gZQpQSwECFAMUAAAAAADKsnVdl5liMCAAAAAgAAAAEgAAAAAAAAAAAAAAgAEAAAAAbGFtYmRhX2Z1bmN0aW9uLnB5UEsFBgAAAAABAAEAQAAAAFAAAAAAAA==";

/// A scratch directory of its own for one test (cache, state, config files).
fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mrhost-trust-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Account B's credentials (an AssumeRole from A, as moto keeps accounts apart by key),
/// and one VPC in each account with its own CIDR.
fn two_accounts(moto: &Moto) -> Value {
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
    for r in &out {
        assert!(r.get("Error").is_none(), "seed: {r}");
    }
    out[0]["Credentials"].clone()
}

/// Profiles: `a` (A's keys), `b` (A assumes the role in B: role_arn + source_profile),
/// `a-again` (A's keys once more).
fn write_config(dir: &Path) -> PathBuf {
    let config = dir.join("config");
    std::fs::write(
        &config,
        format!(
            "[profile a]\naws_access_key_id = testing\naws_secret_access_key = testing\nregion = {REGION}\n\
             [profile b]\nrole_arn = {ROLE_B}\nsource_profile = a\nregion = {REGION}\n\
             [profile a-again]\naws_access_key_id = testing\naws_secret_access_key = testing\nregion = {REGION}\n"
        ),
    )
    .unwrap();
    std::fs::write(dir.join("credentials"), "").unwrap();
    config
}

/// Environment changes of one scenario, applied to mrhost and to boto3 alike.
#[derive(Clone, Default)]
struct Env {
    keys: Option<Value>,
    profile_env: Option<&'static str>,
}

impl Env {
    fn apply(&self, c: &mut Command, dir: &Path) {
        c.env("AWS_CONFIG_FILE", dir.join("config"))
            .env("AWS_SHARED_CREDENTIALS_FILE", dir.join("credentials"))
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env_remove("AWS_SESSION_TOKEN")
            .env_remove("AWS_PROFILE");
        if let Some(k) = &self.keys {
            c.env("AWS_ACCESS_KEY_ID", k["AccessKeyId"].as_str().unwrap())
                .env(
                    "AWS_SECRET_ACCESS_KEY",
                    k["SecretAccessKey"].as_str().unwrap(),
                );
            if let Some(t) = k["SessionToken"].as_str() {
                c.env("AWS_SESSION_TOKEN", t);
            }
        }
        if let Some(p) = self.profile_env {
            c.env("AWS_PROFILE", p);
        }
    }
}

/// mrhost with the response cache on, in `dir`, and the scenario's environment.
fn mrhost_in(dir: &Path, env: &Env, args: &[&str]) -> Run {
    mrhost_with(args, |c| {
        c.env_remove("MRHOST_NO_CACHE")
            .env("MRHOST_CACHE_DIR", dir.join("cache"))
            .env("XDG_STATE_HOME", dir.join("state"));
        env.apply(c, dir);
    })
}

/// (account, VPC id) of what a vpcs run printed.
fn vpcs_of(run: &Run) -> BTreeSet<(String, String)> {
    run.json()
        .as_array()
        .unwrap_or_else(|| panic!("{}", run.stdout))
        .iter()
        .map(|v| {
            (
                v["RequestAccount"].as_str().unwrap().to_string(),
                v["VpcId"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// What boto3 sees with the same environment: (account, VPC id) for `profile` (None: its
/// default session, which resolves the environment as the AWS CLI does).
fn boto3_vpcs(
    moto: &Moto,
    dir: &Path,
    env: &Env,
    profile: Option<&str>,
) -> BTreeSet<(String, String)> {
    let out = moto.boto3_with(
        vec![
            json!({"region": REGION, "service": "sts", "operation": "GetCallerIdentity", "params": {}, "profile": profile}),
            json!({"region": REGION, "service": "ec2", "operation": "DescribeVpcs", "params": {}, "profile": profile}),
        ],
        |c| {
            env.apply(c, dir);
            // boto3's own role assumption (profile b) goes to moto as well.
            c.env("AWS_ENDPOINT_URL_STS", &moto.url);
        },
    );
    let account = out[0]["Account"]
        .as_str()
        .unwrap_or_else(|| panic!("{out:?}"))
        .to_string();
    out[1]["Vpcs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (account.clone(), v["VpcId"].as_str().unwrap().to_string()))
        .collect()
}

/// One way of naming who runs: flags, environment, boto3's equivalent, the account that
/// must answer.
struct Scenario {
    what: &'static str,
    flags: Vec<&'static str>,
    env: Env,
    /// `Session(profile_name=...)`, or boto3's default session.
    boto3_profile: Option<&'static str>,
    account: &'static str,
}

fn count(px: &Proxy, action: &str) -> usize {
    px.counts.lock().unwrap().get(action).copied().unwrap_or(0)
}

#[test]
fn a_warm_cache_answers_each_identity_with_its_own_resources() {
    let Some(moto) = moto() else { return };
    let b_keys = two_accounts(&moto);
    let dir = scratch("identities");
    write_config(&dir);
    let px = Proxy::start(moto.port, None, Duration::ZERO);
    let vpcs = plugin("vpcs");
    let a_keys = json!({"AccessKeyId": "testing", "SecretAccessKey": "testing"});
    let scenario = |what,
                    flags: &[&'static str],
                    keys: Option<&Value>,
                    profile_env,
                    boto3_profile,
                    account| Scenario {
        what,
        flags: flags.to_vec(),
        env: Env {
            keys: keys.cloned(),
            profile_env,
        },
        boto3_profile,
        account,
    };
    let scenarios = [
        scenario("AWS_PROFILE=a", &[], None, Some("a"), None, A),
        scenario("AWS_PROFILE=b", &[], None, Some("b"), None, B),
        scenario(
            "B's keys in the environment",
            &[],
            Some(&b_keys),
            None,
            None,
            B,
        ),
        scenario(
            "A's keys, --profile b",
            &["--profile", "b"],
            Some(&a_keys),
            None,
            Some("b"),
            B,
        ),
        scenario(
            "B's keys beat AWS_PROFILE=a",
            &[],
            Some(&b_keys),
            Some("a"),
            None,
            B,
        ),
        scenario(
            "B's keys, --profile a",
            &["--profile", "a"],
            Some(&b_keys),
            None,
            Some("a"),
            A,
        ),
    ];
    let mut expected = Vec::new();
    for s in &scenarios {
        let want = boto3_vpcs(&moto, &dir, &s.env, s.boto3_profile);
        assert!(
            !want.is_empty() && want.iter().all(|(a, _)| a == s.account),
            "{}: boto3 {want:?}",
            s.what
        );
        expected.push(want);
    }
    assert_ne!(
        expected[0], expected[1],
        "the two accounts hold different VPCs"
    );

    for pass in ["cold", "warm"] {
        for (
            Scenario {
                what, flags, env, ..
            },
            want,
        ) in scenarios.iter().zip(&expected)
        {
            let (vpcs_before, who_before) =
                (count(&px, "DescribeVpcs"), count(&px, "GetCallerIdentity"));
            let mut args = vec![
                "run",
                path_str(&vpcs),
                "--regions",
                REGION,
                "--endpoint-url",
                &px.url,
            ];
            args.extend(flags.iter().copied());
            let run = mrhost_in(&dir, env, &args).ok();
            assert_eq!(&vpcs_of(&run), want, "{pass} cache, {what}: {}", run.stderr);
            if pass == "warm" {
                assert_eq!(
                    count(&px, "DescribeVpcs"),
                    vpcs_before,
                    "{what}: answered from the cache"
                );
                // The first hit waits for one GetCallerIdentity (none for a role: its
                // AssumeRole answer names who it is).
                assert!(count(&px, "GetCallerIdentity") - who_before <= 1, "{what}");
            }
        }
    }

    // No credentials at all: one line, exit 1, even with the cache warm.
    let none = Env::default();
    std::fs::write(dir.join("config"), "").unwrap();
    let run = mrhost_in(
        &dir,
        &none,
        &[
            "run",
            path_str(&vpcs),
            "--regions",
            REGION,
            "--endpoint-url",
            &px.url,
        ],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(run.stdout, "", "nothing printed from the cache");
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("no credentials found"),
        "{}",
        run.stderr
    );
    // A profile that does not exist: one line naming it.
    let run = mrhost_in(
        &dir,
        &none,
        &[
            "run",
            path_str(&vpcs),
            "--regions",
            REGION,
            "--profile",
            "nosuch",
            "--endpoint-url",
            &px.url,
        ],
    );
    assert_eq!(run.code, 2, "a usage error: {}", run.stderr);
    assert_eq!(
        run.stderr.trim(),
        "mrhost: error: credentials: profile nosuch: not found in the AWS config files"
    );

    // The mapping kept between runs: private, and never a key id.
    let state = dir.join("state/mrhost/identities.json");
    let text = std::fs::read_to_string(&state).unwrap();
    assert!(
        !text.contains("testing") && !text.contains(b_keys["AccessKeyId"].as_str().unwrap()),
        "{text}"
    );
    assert!(text.contains(A) && text.contains(B), "{text}");
    assert_eq!(mode(&state), 0o600);
    assert_eq!(mode(state.parent().unwrap()), 0o700);
    let _ = std::fs::remove_dir_all(&dir);
}

fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn explicit_profiles_beat_environment_keys_and_one_identity_runs_once() {
    let Some(moto) = moto() else { return };
    two_accounts(&moto);
    let dir = scratch("profiles");
    write_config(&dir);
    let px = Proxy::start(moto.port, None, Duration::ZERO);
    let vpcs = plugin("vpcs");
    // A's keys in the environment; --profile b,a reads B and A, each once.
    let env = Env {
        keys: Some(json!({"AccessKeyId": "testing", "SecretAccessKey": "testing"})),
        profile_env: None,
    };
    let mut want = boto3_vpcs(&moto, &dir, &env, Some("b"));
    want.extend(boto3_vpcs(&moto, &dir, &env, Some("a")));
    let run = mrhost_in(
        &dir,
        &env,
        &[
            "run",
            path_str(&vpcs),
            "--regions",
            REGION,
            "--profile",
            "b,a",
            "--no-cache",
            "--endpoint-url",
            &px.url,
        ],
    )
    .ok();
    assert_eq!(vpcs_of(&run), want);
    let accounts: BTreeSet<String> = want.iter().map(|(a, _)| a.clone()).collect();
    assert_eq!(accounts, [A, B].iter().map(|s| s.to_string()).collect());
    assert_eq!(
        run.json().as_array().unwrap().len(),
        want.len(),
        "no duplicate rows"
    );
    // The role of profile b was assumed where --endpoint-url points.
    assert_eq!(count(&px, "AssumeRole"), 1);

    // Two profiles, one identity: one warning naming both, every row once.
    let run = mrhost_in(
        &dir,
        &env,
        &[
            "run",
            path_str(&vpcs),
            "--regions",
            REGION,
            "--profile",
            "a,a-again",
            "--no-cache",
            "--endpoint-url",
            &px.url,
        ],
    )
    .ok();
    let a_only: BTreeSet<_> = want.iter().filter(|(acc, _)| acc == A).cloned().collect();
    assert_eq!(vpcs_of(&run), a_only);
    assert_eq!(
        run.json().as_array().unwrap().len(),
        a_only.len(),
        "not duplicated"
    );
    let warnings: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains("one identity"))
        .collect();
    assert_eq!(warnings.len(), 1, "{}", run.stderr);
    assert!(
        warnings[0].contains("a, a-again") && warnings[0].contains("warning"),
        "{}",
        warnings[0]
    );

    // call: each account's own answer under its own id.
    let run = mrhost_in(
        &dir,
        &env,
        &[
            "call",
            "sts",
            "GetCallerIdentity",
            "--regions",
            REGION,
            "--profile",
            "a,b",
            "--no-cache",
            "--endpoint-url",
            &px.url,
            "--by-account",
        ],
    )
    .ok();
    let doc = run.json();
    for id in [A, B] {
        assert_eq!(doc[id][REGION]["Account"], id, "{doc}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Outcome per operation of one op-classes run.
fn outcomes(moto: &Moto, extra: &[&str]) -> Vec<(String, String)> {
    let p = plugin("op-classes");
    let mut args = vec!["run", path_str(&p), "--regions", REGION, "-o", "json"];
    args.extend_from_slice(extra);
    let run = moto.mrhost(&args).ok();
    run.json()
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["Operation"].as_str().unwrap().to_string(),
                r["Outcome"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn queues(moto: &Moto) -> Vec<Value> {
    let out = moto.boto3(vec![b3(REGION, "sqs", "ListQueues", json!({}))]);
    out[0]["QueueUrls"].as_array().cloned().unwrap_or_default()
}

#[test]
fn every_class_but_read_needs_its_allow() {
    let Some(moto) = moto() else { return };
    let seeded = moto.boto3(vec![
        b3(
            REGION,
            "dynamodb",
            "CreateTable",
            json!({"TableName": "mrhost-classes",
            "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "k", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST"}),
        ),
        b3(
            REGION,
            "dynamodb",
            "PutItem",
            json!({"TableName": "mrhost-classes", "Item": {"k": {"S": "customer-row"}}}),
        ),
    ]);
    assert!(
        seeded.iter().all(|r| r.get("Error").is_none()),
        "{seeded:?}"
    );
    let ops = [
        ("ec2:DescribeVpcs", "read"),
        ("dynamodb:Scan", "data"),
        ("sts:GetSessionToken", "secret"),
        ("cloudwatch:GetMetricData", "billed"),
        ("sqs:CreateQueue", "write"),
    ];
    // Nothing allowed: only the read (and the redacted read) run; nothing is created.
    let none = outcomes(&moto, &[]);
    for (op, class) in ops {
        let got = &none.iter().find(|(o, _)| o == op).unwrap().1;
        let want = if class == "read" { "ok" } else { "denied" };
        assert_eq!(got, want, "{op} ({class}) without --allow");
    }
    assert_eq!(
        none.iter()
            .find(|(o, _)| o == "lambda:ListFunctions")
            .unwrap()
            .1,
        "ok"
    );
    assert!(queues(&moto).is_empty(), "a refused write created nothing");

    // Each class alone allows its own operation and nothing else.
    for (op, class) in ops.iter().filter(|(_, c)| *c != "read") {
        let got = outcomes(&moto, &["--allow", class]);
        for (other, other_class) in ops {
            let outcome = &got.iter().find(|(o, _)| o == other).unwrap().1;
            let want = if other_class == "read" || other == *op {
                "ok"
            } else {
                "denied"
            };
            assert_eq!(outcome, want, "{other} with --allow {class}");
        }
    }
    assert_eq!(queues(&moto).len(), 1, "--allow write created the queue");
    // By name, and the --allow-write alias.
    let got = outcomes(&moto, &["--allow", "dynamodb:Scan,sts:GetSessionToken"]);
    assert!(
        got.contains(&("dynamodb:Scan".into(), "ok".into())),
        "{got:?}"
    );
    assert!(
        got.contains(&("sts:GetSessionToken".into(), "ok".into())),
        "{got:?}"
    );
    assert!(
        got.contains(&("sqs:CreateQueue".into(), "denied".into())),
        "{got:?}"
    );
    for flags in [
        &["--allow-write"][..],
        &["--allow-write", "sqs:CreateQueue"][..],
    ] {
        let got = outcomes(&moto, flags);
        assert!(
            got.contains(&("sqs:CreateQueue".into(), "ok".into())),
            "{flags:?}: {got:?}"
        );
        assert!(
            got.contains(&("dynamodb:Scan".into(), "denied".into())),
            "{flags:?}: {got:?}"
        );
    }
    let bad = moto.mrhost(&[
        "run",
        path_str(&plugin("op-classes")),
        "--regions",
        REGION,
        "--allow",
        "everything",
    ]);
    assert_eq!(bad.code, 1);
    assert_eq!(
        bad.stderr.trim(),
        "mrhost: error: --allow everything: not a class (data, secret, billed, write) or service:Operation"
    );

    // inspect and policy show each declared operation's class.
    let p = plugin("op-classes");
    let info = mrhost(&["plugins", "inspect", path_str(&p)]).ok().json();
    assert_eq!(
        info["classes"],
        json!({"ec2:DescribeVpcs": "read", "dynamodb:Scan": "data", "sts:GetSessionToken": "secret",
               "cloudwatch:GetMetricData": "billed", "sqs:CreateQueue": "write",
               "lambda:ListFunctions": "secret (redacted unless --allow secret)"})
    );
    let policy = mrhost(&["policy", path_str(&p)]).ok();
    assert!(
        policy
            .stderr
            .contains("mrhost: class: sqs:CreateQueue write"),
        "{}",
        policy.stderr
    );
    assert!(
        policy.stderr.contains(
            "mrhost: class: lambda:ListFunctions secret (redacted unless --allow secret)"
        ),
        "{}",
        policy.stderr
    );
    assert_eq!(
        policy.json()["Statement"][0]["Action"]
            .as_array()
            .unwrap()
            .len(),
        6
    );
}

#[test]
fn call_and_list_of_a_non_read_need_allow_and_yes() {
    let Some(moto) = moto() else { return };
    let create = [
        "call",
        "sqs",
        "CreateQueue",
        "--params",
        r#"{"QueueName": "made-by-call"}"#,
        "--regions",
        REGION,
    ];
    // No --allow: refused before any call, one line, exit 2.
    let run = moto.mrhost(&create);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(
        run.stderr.trim(),
        "mrhost: error: sqs:CreateQueue is a write operation (has an effect); run with --allow write (or --allow-write) or --allow sqs:CreateQueue to permit it"
    );
    // Allowed, but in a pipe without --yes: refused, one line, exit 2.
    let mut args = create.to_vec();
    args.push("--allow-write");
    let run = moto.mrhost(&args);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(run.stderr.contains("pass --yes"), "{}", run.stderr);
    assert!(queues(&moto).is_empty(), "nothing was created");
    // --allow-write --yes: it runs.
    args.push("--yes");
    let run = moto.mrhost(&args).ok();
    assert!(run.by_region()[REGION]["QueueUrl"]
        .as_str()
        .unwrap()
        .ends_with("made-by-call"));
    assert_eq!(queues(&moto).len(), 1);
    // The secret a read would hand out: refused by class, not only by verb.
    let run = moto.mrhost(&["call", "sts", "GetSessionToken", "--regions", REGION]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--allow secret"), "{}", run.stderr);

    // list: the same decision for a type whose operation is not a read.
    // (EC2 spot requests carry user data: customer data.)
    let spot = ["list", "ec2", "spot-instance-requests", "--regions", REGION];
    let run = moto.mrhost(&spot);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("ec2:DescribeSpotInstanceRequests is a data operation"),
        "{}",
        run.stderr
    );
    // Allowed, it runs: only writes ask for confirmation.
    let mut args = spot.to_vec();
    args.extend(["--allow", "data"]);
    let run = moto.mrhost(&args).ok();
    assert!(run.json().is_array(), "{}", run.stdout);
}

/// A function whose environment holds a secret.
fn lambda_with_secret(moto: &Moto) {
    let out = moto.boto3(vec![
        b3_save(
            "us-east-1",
            "iam",
            "CreateRole",
            json!({"RoleName": "fn-role",
            "AssumeRolePolicyDocument": "{\"Version\":\"2012-10-17\",\"Statement\":[]}"}),
            "role",
        ),
        b3(
            REGION,
            "lambda",
            "CreateFunction",
            json!({"FunctionName": "billing", "Runtime": "python3.12",
            "Role": "$role.Role.Arn", "Handler": "lambda_function.handler",
            "Code": {"ZipFile": format!("$base64:{LAMBDA_ZIP}")},
            "Environment": {"Variables": {"DB_PASSWORD": "hunter2", "MODE": "prod"}}}),
        ),
    ]);
    assert!(out.iter().all(|r| r.get("Error").is_none()), "{out:?}");
}

#[test]
fn a_redacted_read_keeps_names_and_hides_values() {
    let Some(moto) = moto() else { return };
    lambda_with_secret(&moto);
    let run = moto
        .mrhost(&["call", "lambda", "ListFunctions", "--regions", REGION])
        .ok();
    let vars = &run.by_region()[REGION]["Functions"][0]["Environment"]["Variables"];
    assert_eq!(
        vars,
        &json!({"DB_PASSWORD": "<redacted>", "MODE": "<redacted>"})
    );
    assert!(!run.stdout.contains("hunter2"));
    assert!(
        run.stderr.contains("<redacted>"),
        "a note says so: {}",
        run.stderr
    );
    // The bundled plugin gets the redacted response too.
    let fns = plugin("lambda-functions");
    let run = moto
        .mrhost(&["run", path_str(&fns), "--regions", REGION, "-o", "json"])
        .ok();
    assert_eq!(
        run.json()[0]["Environment"]["Variables"]["DB_PASSWORD"],
        "<redacted>"
    );

    // --allow secret: the real values, as boto3 returns them.
    let run = moto
        .mrhost(&[
            "call",
            "lambda",
            "ListFunctions",
            "--regions",
            REGION,
            "--allow",
            "secret",
            "--yes",
        ])
        .ok();
    let want = moto.boto3(vec![
        json!({"region": REGION, "service": "lambda", "operation": "ListFunctions",
        "params": {}, "paginate": "auto"}),
    ]);
    assert_same_json(
        &run.by_region()[REGION],
        &want[0],
        "lambda ListFunctions with --allow secret",
    );
    assert_eq!(
        run.by_region()[REGION]["Functions"][0]["Environment"]["Variables"]["DB_PASSWORD"],
        "hunter2"
    );
}

#[test]
fn the_cache_is_private_and_never_keeps_data_or_secrets() {
    let Some(moto) = moto() else { return };
    lambda_with_secret(&moto);
    moto.boto3(vec![
        b3(
            REGION,
            "dynamodb",
            "CreateTable",
            json!({"TableName": "orders",
            "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "k", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST"}),
        ),
        b3(
            REGION,
            "dynamodb",
            "PutItem",
            json!({"TableName": "orders", "Item": {"k": {"S": "card-4111111111111111"}}}),
        ),
    ]);
    let dir = scratch("cache");
    let cache = dir.join("cache");
    let with_cache = |args: &[&str]| {
        let mut full = args.to_vec();
        full.extend(["--regions", REGION, "--endpoint-url", &moto.url]);
        mrhost_with(&full, |c| {
            c.env_remove("MRHOST_NO_CACHE")
                .env("MRHOST_CACHE_DIR", &cache)
                .env("XDG_STATE_HOME", dir.join("state"));
        })
        .ok()
    };
    with_cache(&["run", path_str(&plugin("vpcs"))]);
    with_cache(&[
        "call",
        "dynamodb",
        "Scan",
        "--params",
        r#"{"TableName": "orders"}"#,
        "--allow",
        "data",
        "--yes",
    ]);
    with_cache(&[
        "call",
        "sts",
        "GetSessionToken",
        "--allow",
        "secret",
        "--yes",
    ]);
    with_cache(&["call", "lambda", "ListFunctions"]);
    with_cache(&[
        "call",
        "lambda",
        "ListFunctions",
        "--allow",
        "secret",
        "--yes",
    ]);

    let file = cache.join("responses.sqlite");
    assert_eq!(mode(&cache), 0o700);
    assert_eq!(mode(&file), 0o600);
    for ext in ["sqlite-wal", "sqlite-shm"] {
        let side = file.with_extension(ext);
        if side.exists() {
            assert_eq!(mode(&side), 0o600, "{}", side.display());
        }
    }
    let db = rusqlite::Connection::open(&file).unwrap();
    let stored: BTreeSet<String> = db
        .prepare("SELECT service || ':' || operation FROM responses")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(stored.contains("ec2:DescribeVpcs"), "{stored:?}");
    for never in [
        "dynamodb:Scan",
        "sts:GetSessionToken",
        "lambda:ListFunctions",
        "sts:GetCallerIdentity",
    ] {
        assert!(!stored.contains(never), "{never} was stored: {stored:?}");
    }
    let bodies: String = db
        .prepare("SELECT body FROM responses")
        .unwrap()
        .query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for secret in [
        "hunter2",
        "card-4111111111111111",
        "SessionToken",
        "<redacted>",
    ] {
        assert!(!bodies.contains(secret), "{secret} in the cache");
    }
    drop(db);

    // The configured bound, not u64::MAX.
    let stats = mrhost_with(&["cache", "stats"], |c| {
        c.env("MRHOST_CACHE_DIR", &cache);
    })
    .ok()
    .json();
    assert_eq!(stats["max_bytes"], 512u64 << 20, "{stats}");

    // A directory others can write to is not used (with a warning); the run still works.
    use std::os::unix::fs::PermissionsExt;
    let shared = dir.join("shared");
    std::fs::create_dir_all(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o777)).unwrap();
    let run = mrhost_with(
        &[
            "run",
            path_str(&plugin("vpcs")),
            "--regions",
            REGION,
            "--endpoint-url",
            &moto.url,
        ],
        |c| {
            c.env_remove("MRHOST_NO_CACHE")
                .env("MRHOST_CACHE_DIR", &shared);
        },
    )
    .ok();
    assert!(
        run.stderr.contains("response cache disabled")
            && run.stderr.contains("writable by group or others"),
        "{}",
        run.stderr
    );
    assert!(!shared.join("responses.sqlite").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

/// The session policy of every AssumeRole the proxy saw, decoded.
fn session_policies(px: &Proxy) -> Vec<Option<Value>> {
    px.requests
        .lock()
        .unwrap()
        .iter()
        .filter(|(action, _)| action == "AssumeRole")
        .map(|(_, body)| {
            body.split('&')
                .find_map(|kv| kv.strip_prefix("Policy="))
                .map(|p| {
                    let text = percent_decode(p);
                    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
                })
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

#[test]
fn every_assume_role_of_a_plugin_run_carries_the_session_policy() {
    let Some(moto) = moto() else { return };
    let dir = scratch("session");
    write_config(&dir);
    let px = Proxy::start(moto.port, None, Duration::ZERO);
    let vpcs = plugin("vpcs");
    let env = Env {
        keys: Some(json!({"AccessKeyId": "testing", "SecretAccessKey": "testing"})),
        profile_env: None,
    };
    let accounts = format!("{B},333333333333");
    let runs: Vec<Vec<&str>> = vec![
        vec![
            "run",
            path_str(&vpcs),
            "--accounts",
            &accounts,
            "--role",
            "trust-auditor",
        ],
        vec!["run", path_str(&vpcs), "--profile", "b"],
        vec![
            "run",
            path_str(&vpcs),
            "--accounts",
            &accounts,
            "--role",
            "trust-auditor",
            "--regions",
            "enabled",
        ],
        vec!["list", "ec2", "subnets", "--profile", "b"],
        vec!["call", "ec2", "DescribeVpcs", "--profile", "b"],
    ];
    let wants = [
        json!(["ec2:DescribeVpcs"]),
        json!(["ec2:DescribeVpcs"]),
        json!(["ec2:DescribeRegions", "ec2:DescribeVpcs"]),
        json!(["ec2:DescribeSubnets"]),
        json!(["ec2:DescribeVpcs"]),
    ];
    for (args, want) in runs.iter().zip(wants) {
        px.requests.lock().unwrap().clear();
        let mut full = args.clone();
        if !full.contains(&"--regions") {
            full.extend(["--regions", REGION]);
        }
        full.extend(["--no-cache", "--endpoint-url", &px.url]);
        let run = mrhost_in(&dir, &env, &full).ok();
        assert!(!run.stdout.trim().is_empty());
        let policies = session_policies(&px);
        let roles = if args.contains(&"--accounts") { 2 } else { 1 };
        assert_eq!(policies.len(), roles, "{args:?}: one AssumeRole per role");
        for p in policies {
            let p = p.unwrap_or_else(|| panic!("{args:?}: an AssumeRole without Policy"));
            assert_eq!(p["Statement"][0]["Action"], want, "{args:?}: {p}");
            assert_eq!(p["Statement"][0]["Effect"], "Allow");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
