//! The bundled plugins beyond EC2, IAM and the first query services: S3, Lambda, DynamoDB,
//! SQS, KMS, Secrets Manager, CloudWatch Logs, ECS and SSM, against boto3 on moto.
//!
//! Resources are created with boto3 in two regions (S3: in several, listed once), each plugin
//! runs over those regions, and its output must be exactly what boto3 gets from the same
//! calls, in the same key order, with the two tags the host adds: the listing for plugins
//! that list, the listing then the detail call for each item for plugins that describe. moto
//! starts every one of these services empty, so the items must also be exactly the ones the
//! seed made, each in the region it was made in (an empty listing on both sides cannot pass).

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::bundled_security::without_extra_columns;
use crate::common::*;

const ACCOUNT: &str = "123456789012";
const REGIONS: [&str; 2] = ["eu-west-1", "us-east-2"];
/// A minimal Lambda deployment package (a zip with one handler).
const LAMBDA_ZIP: &str = "UEsDBBQAAAAAAMqydV2XmWIwIAAAACAAAAASAAAAbGFtYmRhX2Z1bmN0aW9uLnB5ZGVmIGhhbmRsZXIoZSwgYyk6CiAgICByZXR1cm4gZQpQSwECFAMUAAAAAADKsnVdl5liMCAAAAAgAAAAEgAAAAAAAAAAAAAAgAEAAAAAbGFtYmRhX2Z1bmN0aW9uLnB5UEsFBgAAAAABAAEAQAAAAFAAAAAAAA==";

/// Run boto3 calls in one process; every one must succeed.
fn boto3_ok(moto: &Moto, calls: Vec<Value>) -> Vec<Value> {
    let what: Vec<String> = calls
        .iter()
        .map(|c| format!("{}:{} in {}", c["service"], c["operation"], c["region"]))
        .collect();
    let results = moto.boto3(calls);
    for (r, what) in results.iter().zip(&what) {
        assert!(r.get("Error").is_none(), "boto3 {what} failed: {r}");
    }
    results
}

/// boto3 with "paginate": "auto": the full result when botocore paginates the operation.
fn b3_auto(region: &str, service: &str, operation: &str, params: Value) -> Value {
    let mut c = b3(region, service, operation, params);
    c["paginate"] = json!("auto");
    c
}

/// An item as the host emits it: with its scope's region and account.
fn tagged(item: Value, region: &str) -> Value {
    as_emitted(item, region, ACCOUNT)
}

/// What the seed made: plugin -> (region, field, value) of every resource it must list.
#[derive(Default)]
struct Made(BTreeMap<&'static str, Vec<(String, &'static str, String)>>);

impl Made {
    fn add(&mut self, plugin: &'static str, region: &str, field: &'static str, value: &str) {
        self.0
            .entry(plugin)
            .or_default()
            .push((region.to_string(), field, value.to_string()));
    }
}

/// Run `plugin` over `regions`; its items must be `want` exactly (same order, same key
/// order), and exactly the resources the seed made, each in its region.
fn check(moto: &Moto, plugin: &str, regions: &[&str], want: Vec<Value>, made: &Made) -> Vec<Value> {
    let p = crate::common::plugin(plugin);
    let mut ours = moto
        .mrhost(&["run", path_str(&p), "--regions", &regions.join(",")])
        .ok()
        .json();
    // The security columns are compared in bundled_security.rs.
    without_extra_columns(plugin, &mut ours);
    assert_same_json(&ours, &Value::Array(want), plugin);
    let items = ours.as_array().unwrap().clone();
    let made = &made.0[plugin];
    for (region, field, value) in made {
        let n = items
            .iter()
            .filter(|i| i[*field] == value.as_str() && i["RequestRegion"] == region.as_str())
            .count();
        assert_eq!(
            n,
            1,
            "{plugin}: {field} {value} (made in {region}) found {n} times in {}",
            serde_json::to_string_pretty(&items).unwrap()
        );
    }
    assert_eq!(
        items.len(),
        made.len(),
        "{plugin}: moto started empty, so only what the seed made: {}",
        serde_json::to_string_pretty(&items).unwrap()
    );
    items
}

#[test]
fn s3_buckets_are_listed_once_with_the_region_of_each() {
    let Some(moto) = moto() else { return };
    // (bucket, the region boto3 creates it from, its LocationConstraint, where it lives)
    let buckets = [
        ("logs-virginia", "us-east-1", None, "us-east-1"),
        ("data-ireland", "eu-west-1", Some("eu-west-1"), "eu-west-1"),
        ("data-ohio", "us-east-2", Some("us-east-2"), "us-east-2"),
        (
            "data-sydney",
            "ap-southeast-2",
            Some("ap-southeast-2"),
            "ap-southeast-2",
        ),
        // The legacy name of eu-west-1: GetBucketLocation answers "EU".
        ("legacy-eu", "us-east-1", Some("EU"), "eu-west-1"),
    ];
    let mut made = Made::default();
    let mut calls = Vec::new();
    for (name, client_region, constraint, _lives_in) in buckets {
        let mut params = json!({"Bucket": name});
        if let Some(c) = constraint {
            params["CreateBucketConfiguration"] = json!({"LocationConstraint": c});
        }
        calls.push(b3(client_region, "s3", "CreateBucket", params));
        // Global: every bucket is listed in the one scope, us-east-1.
        made.add("s3-buckets", "us-east-1", "Name", name);
    }
    boto3_ok(&moto, calls);

    // boto3: the listing, then GetBucketLocation for each bucket.
    let listing = boto3_ok(
        &moto,
        vec![b3_auto("us-east-1", "s3", "ListBuckets", json!({}))],
    );
    let listed = pluck(&listing[0], "Buckets");
    let locations = boto3_ok(
        &moto,
        listed
            .iter()
            .map(|b| {
                b3(
                    "us-east-1",
                    "s3",
                    "GetBucketLocation",
                    json!({"Bucket": b["Name"]}),
                )
            })
            .collect(),
    );
    let mut want = Vec::new();
    for (bucket, location) in listed.into_iter().zip(locations) {
        let name = bucket["Name"].as_str().unwrap().to_string();
        let (_, _, constraint, lives_in) = buckets.iter().find(|b| b.0 == name).unwrap();
        // What the plugin has to interpret: null for us-east-1, "EU" for the legacy one.
        assert_eq!(
            location["LocationConstraint"].as_str(),
            *constraint,
            "{name}: {location}"
        );
        let mut item = bucket;
        item["BucketRegion"] = json!(lives_in);
        want.push(tagged(item, "us-east-1"));
    }
    // Neither region asked for is us-east-1, and there are three: still one scope.
    let items = check(
        &moto,
        "s3-buckets",
        &["eu-west-1", "us-east-2", "ap-southeast-2"],
        want,
        &made,
    );
    // Every bucket once, with its own region (not the scope's).
    for (name, _, _, lives_in) in buckets {
        let b: Vec<&Value> = items.iter().filter(|i| i["Name"] == name).collect();
        assert_eq!(b.len(), 1, "{name}");
        assert_eq!(b[0]["BucketRegion"], lives_in, "{name}");
    }
}

/// A plugin that lists, and the boto3 call it must agree with.
struct Listing {
    plugin: &'static str,
    service: &'static str,
    operation: &'static str,
    /// The parameters the plugin passes (the reference call uses the same).
    params: Value,
    /// Where the items are in the response.
    items: &'static str,
}

#[test]
fn listing_plugins_match_boto3_in_every_region() {
    let Some(moto) = moto() else { return };
    let mut made = Made::default();
    let mut calls = vec![b3_save(
        "us-east-1",
        "iam",
        "CreateRole",
        json!({"RoleName": "fn-role", "AssumeRolePolicyDocument": json!({"Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole"}]}).to_string()}),
        "role",
    )];
    for r in REGIONS {
        for (name, runtime, memory) in [("api", "python3.12", 128), ("worker", "python3.11", 512)] {
            let name = format!("{name}-{r}");
            calls.push(b3(r, "lambda", "CreateFunction", json!({"FunctionName": name, "Runtime": runtime,
                "Role": "$role.Role.Arn", "Handler": "lambda_function.handler", "MemorySize": memory,
                "Code": {"ZipFile": format!("$base64:{LAMBDA_ZIP}")},
                "Environment": {"Variables": {"STAGE": "prod"}}, "Tags": {"team": "api"}})));
            made.add("lambda-functions", r, "FunctionName", &name);
        }
        for (name, desc) in [("db-password", "the database"), ("api-token", "")] {
            let mut params = json!({"Name": format!("{name}-{r}"), "SecretString": "s3cr3t",
                "Tags": [{"Key": "team", "Value": "data"}]});
            if !desc.is_empty() {
                params["Description"] = json!(desc);
            }
            calls.push(b3(r, "secretsmanager", "CreateSecret", params));
            made.add("secretsmanager-secrets", r, "Name", &format!("{name}-{r}"));
        }
        for (name, retention) in [("/app/web", Some(14)), ("/app/jobs", None)] {
            calls.push(b3(
                r,
                "logs",
                "CreateLogGroup",
                json!({"logGroupName": name}),
            ));
            if let Some(days) = retention {
                calls.push(b3(
                    r,
                    "logs",
                    "PutRetentionPolicy",
                    json!({"logGroupName": name, "retentionInDays": days}),
                ));
            }
            made.add("logs-log-groups", r, "logGroupName", name);
        }
        for (name, kind) in [("/app/db/host", "String"), ("/app/db/ports", "StringList")] {
            calls.push(b3(
                r,
                "ssm",
                "PutParameter",
                json!({"Name": name, "Value": format!("{r}.example,5432"), "Type": kind,
                       "Description": format!("{kind} in {r}")}),
            ));
            made.add("ssm-parameters", r, "Name", name);
        }
    }
    boto3_ok(&moto, calls);

    let cases = [
        Listing {
            plugin: "lambda-functions",
            service: "lambda",
            operation: "ListFunctions",
            params: json!({}),
            items: "Functions",
        },
        Listing {
            plugin: "secretsmanager-secrets",
            service: "secretsmanager",
            operation: "ListSecrets",
            params: json!({}),
            items: "SecretList",
        },
        Listing {
            plugin: "logs-log-groups",
            service: "logs",
            operation: "DescribeLogGroups",
            params: json!({}),
            items: "logGroups",
        },
        Listing {
            plugin: "ssm-parameters",
            service: "ssm",
            operation: "DescribeParameters",
            params: json!({"MaxResults": 50}),
            items: "Parameters",
        },
    ];
    let mut calls = Vec::new();
    for c in &cases {
        for r in REGIONS {
            calls.push(b3_auto(r, c.service, c.operation, c.params.clone()));
        }
    }
    let mut results = boto3_ok(&moto, calls).into_iter();
    for c in &cases {
        let mut want = Vec::new();
        for r in REGIONS {
            let resp = results.next().unwrap();
            want.extend(pluck(&resp, c.items).into_iter().map(|i| tagged(i, r)));
        }
        if c.plugin == "lambda-functions" {
            // Without --allow secret the host redacts the environment's values; the names
            // stay (tests/integration/trust.rs checks the real values with --allow secret).
            for f in &mut want {
                if let Some(Value::Object(vars)) = f.pointer_mut("/Environment/Variables") {
                    vars.values_mut()
                        .for_each(|v| *v = Value::String("<redacted>".into()));
                }
            }
        }
        check(&moto, c.plugin, &REGIONS, want, &made);
    }
}

#[test]
fn detail_plugins_match_boto3_listing_then_describing() {
    let Some(moto) = moto() else { return };
    let mut made = Made::default();
    let mut calls = Vec::new();
    // More clusters than one DescribeClusters call takes, in one region.
    let clusters = |r: &str| if r == REGIONS[0] { 101 } else { 2 };
    for r in REGIONS {
        for (name, extra) in [
            ("orders", json!({"BillingMode": "PAY_PER_REQUEST"})),
            (
                "events",
                json!({"BillingMode": "PROVISIONED",
                "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 2},
                "Tags": [{"Key": "team", "Value": "data"}]}),
            ),
        ] {
            let mut params = json!({"TableName": name,
                "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}]});
            params
                .as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            calls.push(b3(r, "dynamodb", "CreateTable", params));
            made.add("dynamodb-tables", r, "TableName", name);
        }
        for (desc, disable) in [("app key", false), ("old key", true)] {
            let saved = format!("key-{r}-{disable}");
            calls.push(b3_save(
                r,
                "kms",
                "CreateKey",
                json!({"Description": format!("{desc} in {r}")}),
                &saved,
            ));
            if disable {
                calls.push(b3(
                    r,
                    "kms",
                    "DisableKey",
                    json!({"KeyId": format!("${saved}.KeyMetadata.KeyId")}),
                ));
            }
            made.add("kms-keys", r, "Description", &format!("{desc} in {r}"));
        }
        calls.push(b3(
            r,
            "sqs",
            "CreateQueue",
            json!({"QueueName": "jobs", "Attributes": {"VisibilityTimeout": "45", "DelaySeconds": "2"},
                   "tags": {"team": "ops"}}),
        ));
        calls.push(b3(
            r,
            "sqs",
            "CreateQueue",
            json!({"QueueName": "jobs.fifo", "Attributes": {"FifoQueue": "true"}}),
        ));
        for q in ["jobs", "jobs.fifo"] {
            made.add(
                "sqs-queues",
                r,
                "QueueArn",
                &format!("arn:aws:sqs:{r}:{ACCOUNT}:{q}"),
            );
        }
        for i in 0..clusters(r) {
            let name = format!("c{i:03}");
            let mut params = json!({"clusterName": name});
            if i == 0 {
                params["tags"] = json!([{"key": "team", "value": "ops"}]);
            }
            calls.push(b3(r, "ecs", "CreateCluster", params));
            made.add("ecs-clusters", r, "clusterName", &name);
        }
    }
    boto3_ok(&moto, calls);

    // boto3: the listings (with the plugins' parameters), then the detail calls.
    let listings = [
        (
            "dynamodb-tables",
            "dynamodb",
            "ListTables",
            json!({}),
            "TableNames",
        ),
        (
            "kms-keys",
            "kms",
            "ListKeys",
            json!({"Limit": 1000}),
            "Keys",
        ),
        (
            "sqs-queues",
            "sqs",
            "ListQueues",
            json!({"MaxResults": 1000}),
            "QueueUrls",
        ),
        (
            "ecs-clusters",
            "ecs",
            "ListClusters",
            json!({"maxResults": 100}),
            "clusterArns",
        ),
    ];
    let mut calls = Vec::new();
    for (_, service, op, params, _) in &listings {
        for r in REGIONS {
            calls.push(b3_auto(r, service, op, params.clone()));
        }
    }
    let mut listed = boto3_ok(&moto, calls).into_iter();
    // (plugin, region, listed item, detail call)
    let mut details: Vec<(&str, &str, Value, Value)> = Vec::new();
    for (plugin, service, _, _, path) in &listings {
        for r in REGIONS {
            let resp = listed.next().unwrap();
            let items = pluck(&resp, path);
            if *plugin == "ecs-clusters" {
                for batch in items.chunks(100) {
                    let call = b3(
                        r,
                        service,
                        "DescribeClusters",
                        json!({"clusters": batch, "include": ["TAGS", "SETTINGS"]}),
                    );
                    details.push((plugin, r, json!(batch), call));
                }
                continue;
            }
            for item in items {
                let call = match *plugin {
                    "dynamodb-tables" => {
                        b3(r, service, "DescribeTable", json!({"TableName": item}))
                    }
                    "kms-keys" => b3(r, service, "DescribeKey", json!({"KeyId": item["KeyId"]})),
                    "sqs-queues" => b3(
                        r,
                        service,
                        "GetQueueAttributes",
                        json!({"QueueUrl": item, "AttributeNames": ["All"]}),
                    ),
                    _ => unreachable!(),
                };
                details.push((plugin, r, item, call));
            }
        }
    }
    let responses = boto3_ok(&moto, details.iter().map(|d| d.3.clone()).collect());
    let mut want: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
    for ((plugin, r, item, _), resp) in details.iter().zip(responses) {
        let items = match *plugin {
            "dynamodb-tables" => pluck(&resp, "Table"),
            "kms-keys" => pluck(&resp, "KeyMetadata"),
            // The queue's URL, then its attributes.
            "sqs-queues" => {
                let mut q = json!({"QueueUrl": item});
                let attributes = resp["Attributes"].as_object().unwrap().clone();
                q.as_object_mut().unwrap().extend(attributes);
                vec![q]
            }
            "ecs-clusters" => pluck(&resp, "clusters"),
            _ => unreachable!(),
        };
        want.entry(plugin)
            .or_default()
            .extend(items.into_iter().map(|i| tagged(i, r)));
    }
    let mut got = BTreeMap::new();
    for (plugin, ..) in &listings {
        let want = want.remove(plugin).unwrap_or_default();
        got.insert(*plugin, check(&moto, plugin, &REGIONS, want, &made));
    }

    // The disabled keys come out disabled, and the SQS attributes are the ones set.
    for k in &got["kms-keys"] {
        let old = k["Description"].as_str().unwrap().starts_with("old key");
        assert_eq!(
            k["KeyState"],
            if old { "Disabled" } else { "Enabled" },
            "{k}"
        );
    }
    for q in got["sqs-queues"]
        .iter()
        .filter(|q| q["QueueArn"].as_str().unwrap().ends_with(":jobs"))
    {
        assert_eq!(
            (&q["VisibilityTimeout"], &q["DelaySeconds"]),
            (&json!("45"), &json!("2")),
            "{q}"
        );
    }

    // DescribeClusters takes at most 100 clusters: the plugin asks in batches (its debug
    // log says how many each call carried), 101 = 100 + 1.
    let run = moto
        .mrhost(&[
            "run",
            path_str(&plugin("ecs-clusters")),
            "--regions",
            REGIONS[0],
            "-vv",
        ])
        .ok();
    let mut batches: Vec<usize> = run
        .stderr
        .lines()
        .filter_map(|l| l.split("DescribeClusters: ").nth(1))
        .map(|n| n.split(' ').next().unwrap().parse().unwrap())
        .collect();
    batches.sort();
    assert_eq!(batches, [1, 100], "{}", run.stderr);
    assert_eq!(run.json().as_array().unwrap().len(), 101);
}
