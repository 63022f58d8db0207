//! Model-derived resource types (`mrhost list SERVICE RESOURCE`) against boto3's paginated
//! `build_full_result()` items plus the scope tags, on moto, across all five protocols.

use serde_json::{json, Value};

use crate::common::*;

const REGIONS: [&str; 2] = ["eu-west-1", "us-east-2"];

fn seed(moto: &Moto) {
    let mut calls = vec![
        b3(
            "us-east-1",
            "iam",
            "CreateUser",
            json!({"UserName": "lister"}),
        ),
        b3(
            "us-east-1",
            "iam",
            "CreateRole",
            json!({"RoleName": "lister-role", "AssumeRolePolicyDocument": "{}"}),
        ),
        b3(
            "us-east-1",
            "route53",
            "CreateHostedZone",
            json!({"Name": "list.example", "CallerReference": "l1"}),
        ),
    ];
    for r in REGIONS {
        calls.extend([
            b3(r, "ec2", "CreateVpc", json!({"CidrBlock": "10.5.0.0/16"})),
            b3(r, "sns", "CreateTopic", json!({"Name": format!("t-{r}")})),
            b3(r, "sqs", "CreateQueue", json!({"QueueName": format!("q-{r}")})),
            b3(r, "dynamodb", "CreateTable", json!({"TableName": format!("tbl-{r}"),
                "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}], "BillingMode": "PAY_PER_REQUEST"})),
            b3(r, "kms", "CreateKey", json!({})),
            b3(r, "logs", "CreateLogGroup", json!({"logGroupName": format!("/l/{r}")})),
            b3(r, "ecr", "CreateRepository", json!({"repositoryName": format!("repo-{r}")})),
            b3(r, "secretsmanager", "CreateSecret", json!({"Name": format!("s-{r}"), "SecretString": "x"})),
            b3(r, "ecs", "CreateCluster", json!({"clusterName": format!("c-{r}")})),
            b3(r, "ssm", "PutParameter", json!({"Name": format!("/p/{r}"), "Value": "v", "Type": "String"})),
            b3(r, "s3", "CreateBucket", json!({"Bucket": format!("list-{r}"), "CreateBucketConfiguration": {"LocationConstraint": r}})),
            b3(r, "cloudformation", "CreateStack", json!({"StackName": format!("st-{}", &r[..2]),
                "TemplateBody": "{\"Resources\": {\"T\": {\"Type\": \"AWS::SNS::Topic\"}}}"})),
        ]);
    }
    for (i, r) in moto.boto3(calls).iter().enumerate() {
        assert!(r.get("Error").is_none(), "seed {i}: {r}");
    }
}

/// (service, resource, operation, result key, global)
const TYPES: &[(&str, &str, &str, &str, bool)] = &[
    (
        "ec2",
        "route-tables",
        "DescribeRouteTables",
        "RouteTables",
        false,
    ),
    ("ec2", "vpcs", "DescribeVpcs", "Vpcs", false),
    ("iam", "roles", "ListRoles", "Roles", true),
    ("iam", "users", "ListUsers", "Users", true),
    ("sns", "topics", "ListTopics", "Topics", false),
    (
        "cloudformation",
        "stacks",
        "DescribeStacks",
        "Stacks",
        false,
    ),
    ("sqs", "queues", "ListQueues", "QueueUrls", false),
    ("dynamodb", "tables", "ListTables", "TableNames", false),
    ("kms", "keys", "ListKeys", "Keys", false),
    (
        "logs",
        "log-groups",
        "DescribeLogGroups",
        "logGroups",
        false,
    ),
    (
        "ecr",
        "repositories",
        "DescribeRepositories",
        "repositories",
        false,
    ),
    (
        "secretsmanager",
        "secrets",
        "ListSecrets",
        "SecretList",
        false,
    ),
    ("ecs", "clusters", "ListClusters", "clusterArns", false),
    (
        "ssm",
        "parameters",
        "DescribeParameters",
        "Parameters",
        false,
    ),
    ("lambda", "functions", "ListFunctions", "Functions", false),
    ("s3", "buckets", "ListBuckets", "Buckets", true),
    (
        "route53",
        "hosted-zones",
        "ListHostedZones",
        "HostedZones",
        true,
    ),
];

#[test]
fn model_types_equal_boto3s_full_result_items() {
    let Some(moto) = moto() else { return };
    seed(&moto);
    let regions = REGIONS.join(",");
    let services: std::collections::BTreeSet<&str> = TYPES.iter().map(|t| t.0).collect();
    assert!(TYPES.len() >= 15 && services.len() >= 8);
    for (service, resource, operation, key, global) in TYPES {
        let ours = moto
            .mrhost(&["list", service, resource, "--regions", &regions])
            .ok()
            .json();
        let scopes: Vec<&str> = if *global {
            vec!["us-east-1"]
        } else {
            REGIONS.to_vec()
        };
        let reference = moto.boto3(
            scopes
                .iter()
                .map(|r| json!({"region": r, "service": service, "operation": operation, "params": {}, "paginate": true}))
                .collect(),
        );
        let mut want = Vec::new();
        for (r, full) in scopes.iter().zip(&reference) {
            assert!(full.get("Error").is_none(), "{service} {operation}: {full}");
            for item in full[*key].as_array().unwrap() {
                let v = match item {
                    Value::Object(_) => item.clone(),
                    other => json!({ *key: other }),
                };
                want.push(as_emitted(v, r, "123456789012"));
            }
        }
        assert!(
            !want.is_empty() || *service == "lambda",
            "{service} {resource}: nothing seeded?"
        );
        let mut ours = ours;
        let mut want = Value::Array(want);
        strip_keys(&mut ours, &["LatestRestorableTime"]);
        strip_keys(&mut want, &["LatestRestorableTime"]);
        assert_same_json(&ours, &want, &format!("mrhost list {service} {resource}"));
    }
}

#[test]
fn the_catalogue_names_and_params_rules() {
    let available = mrhost(&["list", "--available"]).ok().stdout;
    let lines: Vec<&str> = available.lines().collect();
    assert!(lines.len() > 3000, "{}", lines.len());
    assert!(lines.contains(&"ec2\troute-tables\tDescribeRouteTables\tRouteTables\t-"));
    let ec2 = mrhost(&["list", "--available", "ec2", "-o", "json"])
        .ok()
        .json();
    assert!(ec2
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["service"] == "ec2"));
    // A type that needs params fails fast, before any call, naming them.
    let run = mrhost(&[
        "list",
        "ec2",
        "associated-ipv6-pool-cidrs",
        "--regions",
        "eu-west-1",
    ]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stderr.trim(),
        "mrhost: error: ec2 associated-ipv6-pool-cidrs (GetAssociatedIpv6PoolCidrs) needs --params with PoolId"
    );
    let run = mrhost(&["list", "ec2", "route-table"]);
    assert!(
        run.stderr.contains("did you mean route-tables?"),
        "{}",
        run.stderr
    );
    let policy = mrhost(&["policy", "ec2:route-tables", "iam:roles"])
        .ok()
        .json();
    assert_eq!(
        policy["Statement"][0]["Action"],
        json!(["ec2:DescribeRouteTables", "iam:ListRoles"])
    );
}

#[test]
fn bundled_plugins_are_named_and_used_only_when_asked() {
    let Some(moto) = moto() else { return };
    plugin("route-tables");
    let plain = moto
        .mrhost(&["list", "ec2", "route-tables", "--regions", "eu-west-1"])
        .ok();
    assert!(
        plain
            .stderr
            .contains("plugins/route-tables.wasm covers this type"),
        "{}",
        plain.stderr
    );
    let with_plugin = moto
        .mrhost(&[
            "list",
            "ec2",
            "route-tables",
            "--regions",
            "eu-west-1",
            "--plugin",
            "-v",
        ])
        .ok();
    assert!(
        with_plugin.stderr.contains("plugin=route-tables"),
        "{}",
        with_plugin.stderr
    );
    assert_eq!(plain.json(), with_plugin.json());
    // And in SQL, as service_resource.
    let rows = moto
        .mrhost(&[
            "query",
            "SELECT count(*) AS n FROM ec2_route_tables",
            "--regions",
            "eu-west-1,us-east-2",
        ])
        .ok()
        .json();
    assert_eq!(rows[0]["n"], 2, "the main route table of each default VPC");
}

/// A pagination that runs past three pages makes the rest of its calls in the chains lane
/// (another runtime, another connection pool): every page's items still arrive, in order,
/// as boto3 pages them.
#[test]
fn a_long_chain_keeps_every_page_in_order() {
    let Some(moto) = moto() else { return };
    let r = "eu-west-1";
    let vpc = moto.boto3(vec![b3(
        r,
        "ec2",
        "CreateVpc",
        json!({"CidrBlock": "10.9.0.0/16"}),
    )]);
    let vpc_id = vpc[0]["Vpc"]["VpcId"].as_str().expect("a VPC").to_string();
    let calls = (0..23)
        .map(|i| {
            b3(
                r,
                "ec2",
                "CreateSecurityGroup",
                json!({"GroupName": format!("chain-{i:02}"), "Description": "chain", "VpcId": vpc_id}),
            )
        })
        .collect();
    for (i, c) in moto.boto3(calls).iter().enumerate() {
        assert!(c.get("Error").is_none(), "seed {i}: {c}");
    }
    let params = json!({"Filters": [{"Name": "vpc-id", "Values": [vpc_id]}], "MaxResults": 5});
    let p = params.to_string();
    let ours = moto
        .mrhost(&[
            "list",
            "ec2",
            "security-groups",
            "--params",
            &p,
            "--regions",
            r,
        ])
        .ok()
        .json();
    let reference = moto.boto3(vec![b3_paged(r, "ec2", "DescribeSecurityGroups", params)]);
    let groups = reference[0]["SecurityGroups"].as_array().expect("groups");
    // 23 groups and the VPC's default one: five pages of five, the last of four.
    assert_eq!(groups.len(), 24, "{}", reference[0]);
    let want: Vec<Value> = groups
        .iter()
        .map(|g| as_emitted(g.clone(), r, "123456789012"))
        .collect();
    assert_same_json(&ours, &Value::Array(want), "a five-page chain");
}
