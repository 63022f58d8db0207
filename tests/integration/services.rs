//! boto3 parity beyond EC2: one operation of each protocol family's common services through
//! `mrhost call`, region by region, against resources created first.

use serde_json::{json, Value};

use crate::common::*;

const REGIONS: [&str; 2] = ["eu-west-1", "us-east-2"];
const VOLATILE: &[&str] = &["LatestRestorableTime"];
/// A minimal Lambda deployment package (a zip with one handler).
const LAMBDA_ZIP: &str = "UEsDBBQAAAAAAMqydV2XmWIwIAAAACAAAAASAAAAbGFtYmRhX2Z1bmN0aW9uLnB5ZGVmIGhhbmRsZXIoZSwgYyk6CiAgICByZXR1cm4gZQpQSwECFAMUAAAAAADKsnVdl5liMCAAAAAgAAAAEgAAAAAAAAAAAAAAgAEAAAAAbGFtYmRhX2Z1bmN0aW9uLnB5UEsFBgAAAAABAAEAQAAAAFAAAAAAAA==";

fn seed(moto: &Moto) {
    let mut calls = vec![
        b3(
            "us-east-1",
            "iam",
            "CreateUser",
            json!({"UserName": "alice", "Tags": [{"Key": "team", "Value": "blue"}]}),
        ),
        b3("us-east-1", "iam", "CreateUser", json!({"UserName": "bob"})),
        b3_save(
            "us-east-1",
            "iam",
            "CreateRole",
            json!({"RoleName": "lambda-role", "AssumeRolePolicyDocument": "{\"Version\":\"2012-10-17\",\"Statement\":[]}"}),
            "role",
        ),
        b3(
            "us-east-1",
            "iam",
            "CreatePolicy",
            json!({"PolicyName": "p1", "PolicyDocument": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:ListBucket\",\"Resource\":\"*\"}]}"}),
        ),
        b3(
            "us-east-1",
            "route53",
            "CreateHostedZone",
            json!({"Name": "example.com", "CallerReference": "ref-1"}),
        ),
    ];
    for r in REGIONS {
        let bucket = format!("bucket-{r}");
        calls.extend([
            b3(r, "sns", "CreateTopic", json!({"Name": format!("topic-{r}")})),
            b3(r, "sqs", "CreateQueue", json!({"QueueName": format!("queue-{r}")})),
            b3(r, "dynamodb", "CreateTable", json!({"TableName": "orders",
                "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}], "BillingMode": "PAY_PER_REQUEST"})),
            b3(r, "kms", "CreateKey", json!({"Description": format!("key in {r}")})),
            b3(r, "logs", "CreateLogGroup", json!({"logGroupName": format!("/app/{r}")})),
            b3(r, "secretsmanager", "CreateSecret", json!({"Name": format!("secret-{r}"), "SecretString": "s3cr3t"})),
            b3(r, "lambda", "CreateFunction", json!({"FunctionName": format!("fn-{r}"), "Runtime": "python3.12",
                "Role": "$role.Role.Arn", "Handler": "lambda_function.handler", "Code": {"ZipFile": format!("$base64:{LAMBDA_ZIP}")}})),
            b3(r, "s3", "CreateBucket", json!({"Bucket": bucket, "CreateBucketConfiguration": {"LocationConstraint": r}})),
            b3(r, "s3", "PutObject", json!({"Bucket": bucket, "Key": "a/b c.txt", "Body": "hello"})),
            b3(r, "s3", "PutObject", json!({"Bucket": bucket, "Key": "z.json", "Body": "{}"})),
            b3(r, "rds", "CreateDBInstance", json!({"DBInstanceIdentifier": format!("db-{r}"), "DBInstanceClass": "db.t3.micro",
                "Engine": "postgres", "MasterUsername": "admin", "MasterUserPassword": "password123", "AllocatedStorage": 20})),
            b3(r, "cloudformation", "CreateStack", json!({"StackName": format!("stack-{r}"),
                "TemplateBody": "{\"Resources\": {\"Topic\": {\"Type\": \"AWS::SNS::Topic\"}}}"})),
            b3_save(r, "ec2", "DescribeSubnets", json!({}), "subnets"),
            b3(r, "elbv2", "CreateLoadBalancer", json!({"Name": format!("lb-{}", &r[..2]),
                "Subnets": ["$subnets.Subnets.0.SubnetId", "$subnets.Subnets.1.SubnetId"]})),
            b3(r, "ecs", "CreateCluster", json!({"clusterName": format!("cluster-{r}")})),
            b3(r, "ssm", "PutParameter", json!({"Name": format!("/app/{r}/db"), "Value": "x", "Type": "String"})),
        ]);
    }
    for (i, r) in moto.boto3(calls).iter().enumerate() {
        assert!(r.get("Error").is_none(), "seed call {i} failed: {r}");
    }
}

/// `mrhost call` in every region equals boto3 (pages merged when botocore paginates).
fn parity(moto: &Moto, service: &str, operation: &str, params: Value) {
    let p = params.to_string();
    let regions = REGIONS.join(",");
    let ours = moto
        .mrhost(&[
            "call",
            service,
            operation,
            "--params",
            &p,
            "--regions",
            &regions,
        ])
        .ok()
        .by_region();
    // Global services and account-wide operations run once per account, in us-east-1.
    let global = matches!(service, "iam" | "route53" | "cloudfront" | "organizations")
        || (service, operation) == ("s3", "ListBuckets");
    if global {
        let keys: Vec<&String> = ours.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["us-east-1"], "{service} {operation} runs once");
    }
    let calls = REGIONS
        .iter()
        .map(|r| json!({"region": r, "service": service, "operation": operation, "params": params, "paginate": "auto"}))
        .collect();
    let reference = moto.boto3(calls);
    for (r, want) in REGIONS.iter().zip(&reference) {
        assert!(
            want.get("Error").is_none(),
            "boto3 {service} {operation} in {r}: {want}"
        );
        let scope = if global { "us-east-1" } else { r };
        let (mut ours, mut want) = (ours[scope].clone(), want.clone());
        // moto computes these per request ("now"), so two calls never agree.
        strip_keys(&mut ours, VOLATILE);
        strip_keys(&mut want, VOLATILE);
        assert_same_json(&ours, &want, &format!("{service} {operation} in {r}"));
    }
}

#[test]
fn common_services_match_boto3() {
    let Some(moto) = moto() else { return };
    seed(&moto);
    // query
    parity(&moto, "iam", "ListUsers", json!({}));
    parity(&moto, "iam", "ListRoles", json!({}));
    parity(&moto, "iam", "ListPolicies", json!({"Scope": "Local"}));
    parity(&moto, "sts", "GetCallerIdentity", json!({}));
    parity(&moto, "sns", "ListTopics", json!({}));
    parity(&moto, "rds", "DescribeDBInstances", json!({}));
    parity(&moto, "cloudformation", "ListStacks", json!({}));
    parity(&moto, "elbv2", "DescribeLoadBalancers", json!({}));
    // json
    parity(&moto, "sqs", "ListQueues", json!({}));
    parity(&moto, "dynamodb", "ListTables", json!({}));
    parity(
        &moto,
        "dynamodb",
        "DescribeTable",
        json!({"TableName": "orders"}),
    );
    parity(&moto, "kms", "ListKeys", json!({}));
    parity(&moto, "logs", "DescribeLogGroups", json!({}));
    parity(&moto, "secretsmanager", "ListSecrets", json!({}));
    parity(&moto, "ecs", "ListClusters", json!({}));
    parity(&moto, "ssm", "DescribeParameters", json!({}));
    // rest-json
    parity(&moto, "lambda", "ListFunctions", json!({}));
    // rest-xml
    parity(&moto, "s3", "ListBuckets", json!({}));
    parity(&moto, "route53", "ListHostedZones", json!({}));
    for r in REGIONS {
        let params = json!({"Bucket": format!("bucket-{r}")});
        let p = params.to_string();
        let ours = moto
            .mrhost(&[
                "call",
                "s3",
                "ListObjectsV2",
                "--params",
                &p,
                "--regions",
                r,
            ])
            .ok()
            .by_region();
        let want = moto.boto3(vec![json!({"region": r, "service": "s3", "operation": "ListObjectsV2", "params": params, "paginate": "auto"})]);
        assert_same_json(&ours[r], &want[0], &format!("s3 ListObjectsV2 in {r}"));
        assert_eq!(ours[r]["Contents"].as_array().unwrap().len(), 2);
    }
}

/// Any operation of any service in the models works without code: ECR is in no other test.
#[test]
fn a_service_no_test_mentions_works_from_the_models() {
    let Some(moto) = moto() else { return };
    moto.boto3(vec![b3(
        "eu-west-1",
        "ecr",
        "CreateRepository",
        json!({"repositoryName": "app/web"}),
    )]);
    parity_one(&moto, "ecr", "DescribeRepositories");
}

fn parity_one(moto: &Moto, service: &str, operation: &str) {
    let ours = moto
        .mrhost(&["call", service, operation, "--regions", "eu-west-1"])
        .ok()
        .by_region();
    let want = moto.boto3(vec![json!({"region": "eu-west-1", "service": service, "operation": operation, "params": {}, "paginate": "auto"})]);
    assert_same_json(
        &ours["eu-west-1"],
        &want[0],
        &format!("{service} {operation}"),
    );
}
