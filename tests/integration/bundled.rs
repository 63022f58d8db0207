//! The bundled plugins (plugins/*) against boto3: resources are created with boto3 in two
//! regions (IAM: once, it is global), each plugin is run over those regions, and its output
//! must be exactly boto3's listing of the same operation, region by region, in the same key
//! order, with the two tags the host adds. The ids the seed created must be among the items,
//! so an empty listing on both sides cannot pass.

use std::collections::HashMap;

use serde_json::{json, Value};

use crate::bundled_security::without_extra_columns;
use crate::common::*;

const ACCOUNT: &str = "123456789012";
const REGIONS: [&str; 2] = ["eu-west-1", "us-east-2"];

/// One plugin and the boto3 call it must agree with.
struct Case {
    plugin: &'static str,
    service: &'static str,
    operation: &'static str,
    /// The parameters the plugin passes (the reference call uses the same).
    params: Value,
    /// Whether botocore has a paginator for the operation (boto3 then builds the full
    /// result over every page).
    paginated: bool,
    /// Where the items are in boto3's response: a dotted path, flattened through lists
    /// ("Reservations.Instances" is every instance of every reservation).
    items: &'static str,
    /// Fields moto computes afresh on every call (so boto3's value and ours differ by the
    /// time between the calls): compared as present-or-absent on both sides only.
    volatile: &'static [&'static str],
}

impl Case {
    fn volatile(mut self, fields: &'static [&'static str]) -> Self {
        self.volatile = fields;
        self
    }
}

/// Blank out `case.volatile` fields of every item, keeping their place in the key order.
fn blank_volatile(items: &mut Value, case: &Case) {
    for item in items.as_array_mut().unwrap() {
        for f in case.volatile {
            if let Some(v) = item.get_mut(*f) {
                assert!(v.is_string(), "{}: {f} is {v}", case.plugin);
                *v = json!("(volatile)");
            }
        }
    }
}

fn case(
    plugin: &'static str,
    service: &'static str,
    operation: &'static str,
    params: Value,
    paginated: bool,
    items: &'static str,
) -> Case {
    Case {
        plugin,
        service,
        operation,
        params,
        paginated,
        items,
        volatile: &[],
    }
}

/// Seed calls, and the ids some of them create.
#[derive(Default)]
struct Seed {
    calls: Vec<Value>,
    /// (call index, plugin, region, path of the id in the response)
    creates: Vec<(usize, &'static str, String, &'static str)>,
}

impl Seed {
    fn call(&mut self, c: Value) {
        self.calls.push(c);
    }

    /// A call that creates a resource `plugin` must list; `id_path` locates its id in the
    /// response, and the path's last part is the id's field in the plugin's items.
    fn creates(&mut self, plugin: &'static str, c: Value, id_path: &'static str) {
        let region = c["region"].as_str().unwrap().to_string();
        self.creates
            .push((self.calls.len(), plugin, region, id_path));
        self.calls.push(c);
    }

    /// Run the calls; every one must succeed. Returns plugin -> [(region, field, id)].
    fn run(self, moto: &Moto) -> HashMap<&'static str, Vec<(String, String, String)>> {
        let results = moto.boto3(self.calls);
        for (i, r) in results.iter().enumerate() {
            assert!(r.get("Error").is_none(), "seed call {i} failed: {r}");
        }
        let mut out: HashMap<_, Vec<_>> = HashMap::new();
        for (i, plugin, region, path) in self.creates {
            let ids = pluck(&results[i], path);
            assert!(
                !ids.is_empty(),
                "seed call {i}: no {path} in {}",
                results[i]
            );
            let field = path.rsplit('.').next().unwrap().to_string();
            for id in ids {
                let id = id.as_str().unwrap().to_string();
                out.entry(plugin)
                    .or_default()
                    .push((region.clone(), field.clone(), id));
            }
        }
        out
    }
}

/// boto3's items for every case in every region (one boto3 process for all), tagged as the
/// host tags them, concatenated in region order as `mrhost run` prints them.
fn references(moto: &Moto, cases: &[Case], regions: &[&str]) -> Vec<Vec<Value>> {
    let mut calls = Vec::new();
    for c in cases {
        for r in regions {
            calls.push(if c.paginated {
                b3_paged(r, c.service, c.operation, c.params.clone())
            } else {
                b3(r, c.service, c.operation, c.params.clone())
            });
        }
    }
    let results = moto.boto3(calls);
    let mut results = results.into_iter();
    cases
        .iter()
        .map(|c| {
            let mut items = Vec::new();
            for r in regions {
                let resp = results.next().unwrap();
                assert!(
                    resp.get("Error").is_none(),
                    "boto3 {}:{} in {r}: {resp}",
                    c.service,
                    c.operation
                );
                for item in pluck(&resp, c.items) {
                    items.push(as_emitted(item, r, ACCOUNT));
                }
            }
            items
        })
        .collect()
}

/// Run each case's plugin over `regions` and compare with boto3; check the seeded ids are
/// there, in the region they were created in. Returns each plugin's items.
fn check(
    moto: &Moto,
    cases: &[Case],
    regions: &[&str],
    created: &HashMap<&'static str, Vec<(String, String, String)>>,
) -> HashMap<&'static str, Vec<Value>> {
    let expected = references(moto, cases, regions);
    let region_arg = regions.join(",");
    let mut out = HashMap::new();
    for (c, want) in cases.iter().zip(expected) {
        let p = plugin(c.plugin);
        let mut ours = moto
            .mrhost(&["run", path_str(&p), "--regions", &region_arg])
            .ok()
            .json();
        // The security columns are compared in bundled_security.rs.
        without_extra_columns(c.plugin, &mut ours);
        let (mut a, mut b) = (ours.clone(), Value::Array(want));
        blank_volatile(&mut a, c);
        blank_volatile(&mut b, c);
        assert_same_json(&a, &b, c.plugin);
        let items = ours.as_array().unwrap().clone();
        let seeded = created
            .get(c.plugin)
            .unwrap_or_else(|| panic!("{}: the seed creates nothing for it", c.plugin));
        for (region, field, id) in seeded {
            assert!(
                items
                    .iter()
                    .any(|i| i[field.as_str()] == id.as_str() && i["RequestRegion"] == *region),
                "{}: {field} {id} (created in {region}) not found in {}",
                c.plugin,
                serde_json::to_string_pretty(&items).unwrap()
            );
        }
        out.insert(c.plugin, items);
    }
    out
}

#[test]
fn ec2_plugins_match_boto3_in_every_region() {
    let Some(moto) = moto() else { return };
    let mut s = Seed::default();
    for r in REGIONS {
        let n = |what: &str| format!("{what}-{r}");
        let tag = |rt: &str, name: &str| json!([{"ResourceType": rt, "Tags": [{"Key": "Name", "Value": name}]}]);
        s.call(b3_save(
            r,
            "ec2",
            "CreateVpc",
            json!({"CidrBlock": "10.0.0.0/16"}),
            &n("vpc"),
        ));
        let vpc = format!("${}.Vpc.VpcId", n("vpc"));
        s.creates(
            "subnets",
            b3_save(
                r,
                "ec2",
                "CreateSubnet",
                json!({"VpcId": vpc, "CidrBlock": "10.0.1.0/24", "TagSpecifications": tag("subnet", "app")}),
                &n("subnet"),
            ),
            "Subnet.SubnetId",
        );
        let subnet = format!("${}.Subnet.SubnetId", n("subnet"));
        s.creates(
            "subnets",
            b3_save(
                r,
                "ec2",
                "CreateSubnet",
                json!({"VpcId": vpc, "CidrBlock": "10.0.2.0/24"}),
                &n("subnet2"),
            ),
            "Subnet.SubnetId",
        );
        s.creates(
            "security-groups",
            b3_save(
                r,
                "ec2",
                "CreateSecurityGroup",
                json!({"GroupName": "web", "Description": "web servers", "VpcId": vpc}),
                &n("sg"),
            ),
            "GroupId",
        );
        let sg = format!("${}.GroupId", n("sg"));
        s.call(b3(
            r,
            "ec2",
            "AuthorizeSecurityGroupIngress",
            json!({"GroupId": sg, "IpPermissions": [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]}),
        ));
        s.creates(
            "route-tables",
            b3(r, "ec2", "CreateRouteTable", json!({"VpcId": vpc})),
            "RouteTable.RouteTableId",
        );
        s.creates(
            "internet-gateways",
            b3_save(
                r,
                "ec2",
                "CreateInternetGateway",
                json!({"TagSpecifications": tag("internet-gateway", "igw")}),
                &n("igw"),
            ),
            "InternetGateway.InternetGatewayId",
        );
        s.call(b3(
            r,
            "ec2",
            "AttachInternetGateway",
            json!({"InternetGatewayId": format!("${}.InternetGateway.InternetGatewayId", n("igw")), "VpcId": vpc}),
        ));
        // Two addresses: one behind a NAT gateway (associated), one free.
        s.creates(
            "addresses",
            b3_save(
                r,
                "ec2",
                "AllocateAddress",
                json!({"Domain": "vpc"}),
                &n("eip"),
            ),
            "AllocationId",
        );
        s.creates(
            "addresses",
            b3(r, "ec2", "AllocateAddress", json!({"Domain": "vpc"})),
            "AllocationId",
        );
        s.creates(
            "nat-gateways",
            b3(
                r,
                "ec2",
                "CreateNatGateway",
                json!({"SubnetId": subnet, "AllocationId": format!("${}.AllocationId", n("eip"))}),
            ),
            "NatGateway.NatGatewayId",
        );
        s.creates(
            "network-interfaces",
            b3(
                r,
                "ec2",
                "CreateNetworkInterface",
                json!({"SubnetId": subnet, "Description": "extra", "Groups": [sg]}),
            ),
            "NetworkInterface.NetworkInterfaceId",
        );
        s.creates(
            "key-pairs",
            b3(r, "ec2", "CreateKeyPair", json!({"KeyName": "ops"})),
            "KeyPairId",
        );
        s.creates(
            "key-pairs",
            b3(
                r,
                "ec2",
                "CreateKeyPair",
                json!({"KeyName": "deploy", "KeyType": "ed25519"}),
            ),
            "KeyPairId",
        );
        // Two reservations (of two and one instances): the plugin flattens them.
        s.creates(
            "instances",
            b3_save(
                r,
                "ec2",
                "RunInstances",
                json!({"ImageId": "ami-12c6146b", "MinCount": 2, "MaxCount": 2, "InstanceType": "t3.micro",
                       "SubnetId": subnet, "TagSpecifications": tag("instance", "web")}),
                &n("run"),
            ),
            "Instances.InstanceId",
        );
        s.creates(
            "instances",
            b3(
                r,
                "ec2",
                "RunInstances",
                json!({"ImageId": "ami-12c6146b", "MinCount": 1, "MaxCount": 1}),
            ),
            "Instances.InstanceId",
        );
        s.creates(
            "volumes",
            b3_save(
                r,
                "ec2",
                "CreateVolume",
                json!({"AvailabilityZone": format!("{r}a"), "Size": 8, "VolumeType": "gp3", "TagSpecifications": tag("volume", "data")}),
                &n("vol"),
            ),
            "VolumeId",
        );
        s.creates(
            "snapshots",
            b3(
                r,
                "ec2",
                "CreateSnapshot",
                json!({"VolumeId": format!("${}.VolumeId", n("vol")), "Description": "nightly"}),
            ),
            "SnapshotId",
        );
        s.creates(
            "images",
            b3(r, "ec2", "CreateImage", json!({"InstanceId": format!("${}.Instances.0.InstanceId", n("run")), "Name": format!("golden-{r}")})),
            "ImageId",
        );
    }
    let created = s.run(&moto);
    assert_eq!(created["instances"].len(), 6, "three instances per region");

    let cases = [
        case(
            "subnets",
            "ec2",
            "DescribeSubnets",
            json!({}),
            true,
            "Subnets",
        ),
        case(
            "security-groups",
            "ec2",
            "DescribeSecurityGroups",
            json!({}),
            true,
            "SecurityGroups",
        ),
        case(
            "instances",
            "ec2",
            "DescribeInstances",
            json!({"MaxResults": 1000}),
            true,
            "Reservations.Instances",
        ),
        case(
            "volumes",
            "ec2",
            "DescribeVolumes",
            json!({}),
            true,
            "Volumes",
        ),
        // moto ignores OwnerIds (it lists the ~1300 snapshots behind its stock AMIs too);
        // the plugin must still agree with boto3 and include the one the seed made.
        case(
            "snapshots",
            "ec2",
            "DescribeSnapshots",
            json!({"OwnerIds": ["self"]}),
            true,
            "Snapshots",
        ),
        case(
            "images",
            "ec2",
            "DescribeImages",
            json!({"Owners": ["self"]}),
            true,
            "Images",
        ),
        case(
            "network-interfaces",
            "ec2",
            "DescribeNetworkInterfaces",
            json!({}),
            true,
            "NetworkInterfaces",
        ),
        case(
            "route-tables",
            "ec2",
            "DescribeRouteTables",
            json!({}),
            true,
            "RouteTables",
        ),
        case(
            "internet-gateways",
            "ec2",
            "DescribeInternetGateways",
            json!({}),
            true,
            "InternetGateways",
        ),
        case(
            "nat-gateways",
            "ec2",
            "DescribeNatGateways",
            json!({}),
            true,
            "NatGateways",
        ),
        case(
            "addresses",
            "ec2",
            "DescribeAddresses",
            json!({}),
            false,
            "Addresses",
        ),
        case(
            "key-pairs",
            "ec2",
            "DescribeKeyPairs",
            json!({}),
            false,
            "KeyPairs",
        ),
    ];
    let got = check(&moto, &cases, &REGIONS, &created);

    // Owners=self works in moto: only the images the seed made, one per region.
    assert_eq!(got["images"].len(), 2);
    assert_eq!(got["addresses"].len(), 4);
    assert_eq!(got["key-pairs"].len(), 4);
    assert_eq!(got["nat-gateways"].len(), 2);
    // Instances are flattened, not reservations: three per region.
    assert_eq!(got["instances"].len(), 6);
    assert!(got["instances"]
        .iter()
        .all(|i| i.get("Instances").is_none() && i["InstanceId"].is_string()));
}

#[test]
fn iam_plugins_run_once_per_account_whatever_the_regions() {
    let Some(moto) = moto() else { return };
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
    .to_string();
    let doc = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Action": "s3:ListBucket", "Resource": "*"}]})
    .to_string();
    let g = "us-east-1";
    let mut s = Seed::default();
    for name in ["alice", "bob"] {
        s.creates(
            "iam-users",
            b3(
                g,
                "iam",
                "CreateUser",
                json!({"UserName": name, "Tags": [{"Key": "team", "Value": "ops"}]}),
            ),
            "User.Arn",
        );
    }
    s.creates(
        "iam-users",
        b3(
            g,
            "iam",
            "CreateUser",
            json!({"UserName": "carol", "Path": "/contractors/"}),
        ),
        "User.Arn",
    );
    // IAM sends policy documents URL-encoded and boto3 decodes them (then parses the
    // JSON). moto sends them as stored, so an escape in the stored text is what shows
    // whether the plugin decodes as boto3 does: "a%2Fb%C3%A9" must come out as "a/bé".
    let escaped = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::210987654321:root"}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"sts:ExternalId": "a%2Fb%C3%A9"}}}]})
    .to_string();
    for (name, trust) in [("app", &trust), ("batch", &escaped)] {
        s.creates(
            "iam-roles",
            b3(g, "iam", "CreateRole", json!({"RoleName": name, "AssumeRolePolicyDocument": trust, "Description": format!("{name} role")})),
            "Role.Arn",
        );
    }
    for name in ["read-buckets", "read-more"] {
        s.creates(
            "iam-policies",
            b3_save(
                g,
                "iam",
                "CreatePolicy",
                json!({"PolicyName": name, "PolicyDocument": doc}),
                name,
            ),
            "Policy.Arn",
        );
    }
    s.call(b3(
        g,
        "iam",
        "AttachRolePolicy",
        json!({"RoleName": "app", "PolicyArn": "$read-buckets.Policy.Arn"}),
    ));
    let created = s.run(&moto);

    let cases = [
        case("iam-users", "iam", "ListUsers", json!({}), true, "Users"),
        case("iam-roles", "iam", "ListRoles", json!({}), true, "Roles"),
        // Scope=Local: only the account's own policies, not the ~1000 AWS-managed ones.
        case(
            "iam-policies",
            "iam",
            "ListPolicies",
            json!({"Scope": "Local"}),
            true,
            "Policies",
        ),
    ];
    // Two regions asked for, neither of them us-east-1: the plugins still run once, in the
    // partition's global region.
    let region_arg = "eu-west-1,eu-west-2";
    let expected = references(&moto, &cases, &[g]);
    for (c, want) in cases.iter().zip(expected) {
        let p = plugin(c.plugin);
        let run = moto
            .mrhost(&["run", path_str(&p), "--regions", region_arg, "-v"])
            .ok();
        let mut ours = run.json();
        without_extra_columns(c.plugin, &mut ours);
        assert_same_json(&ours, &Value::Array(want), c.plugin);
        let items = ours.as_array().unwrap();
        assert!(
            items
                .iter()
                .all(|i| i["RequestRegion"] == g && i["RequestAccount"] == ACCOUNT),
            "{}: {ours}",
            c.plugin
        );
        let mut arns: Vec<&str> = items.iter().map(|i| i["Arn"].as_str().unwrap()).collect();
        arns.sort();
        arns.dedup();
        assert_eq!(
            arns.len(),
            items.len(),
            "{}: duplicates in {ours}",
            c.plugin
        );
        let seeded: Vec<&str> = created[c.plugin]
            .iter()
            .map(|(_, _, id)| id.as_str())
            .collect();
        for id in &seeded {
            assert!(arns.contains(id), "{}: {id} missing from {ours}", c.plugin);
        }
        // moto starts IAM empty: the account's own users, roles and policies are all there is.
        assert_eq!(items.len(), seeded.len(), "{}: {ours}", c.plugin);
    }
    let roles = moto
        .mrhost(&[
            "run",
            path_str(&plugin("iam-roles")),
            "--regions",
            region_arg,
        ])
        .ok()
        .json();
    let batch = roles
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["RoleName"] == "batch")
        .expect("role batch");
    assert_eq!(
        batch["AssumeRolePolicyDocument"]["Statement"][0]["Condition"]["StringEquals"]
            ["sts:ExternalId"],
        "a/bé",
        "{batch}"
    );
    let policies = moto
        .mrhost(&[
            "run",
            path_str(&plugin("iam-policies")),
            "--regions",
            region_arg,
        ])
        .ok()
        .json();
    let attached = |name: &str| {
        policies
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["PolicyName"] == name)
            .map(|p| p["AttachmentCount"].clone())
    };
    assert_eq!(attached("read-buckets"), Some(json!(1)), "{policies}");
    assert_eq!(attached("read-more"), Some(json!(0)), "{policies}");
}

#[test]
fn query_service_plugins_match_boto3_in_every_region() {
    let Some(moto) = moto() else { return };
    let template = json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "a stack with nothing in it",
        "Parameters": {"Env": {"Type": "String", "Default": "dev"}},
        "Resources": {"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
        "Outputs": {"EnvOut": {"Value": {"Ref": "Env"}}}
    })
    .to_string();
    let mut s = Seed::default();
    for r in REGIONS {
        for (i, engine) in ["postgres", "mysql"].iter().enumerate() {
            s.creates(
                "rds-db-instances",
                b3(
                    r,
                    "rds",
                    "CreateDBInstance",
                    json!({"DBInstanceIdentifier": format!("db{i}"), "Engine": engine, "DBInstanceClass": "db.t3.micro",
                           "MasterUsername": "admin1", "MasterUserPassword": "correct-horse", "AllocatedStorage": 20,
                           "Tags": [{"Key": "team", "Value": "data"}]}),
                ),
                "DBInstance.DBInstanceArn",
            );
        }
        for name in ["alerts", "events"] {
            s.creates(
                "sns-topics",
                b3(
                    r,
                    "sns",
                    "CreateTopic",
                    json!({"Name": format!("{name}-{r}")}),
                ),
                "TopicArn",
            );
        }
        s.creates(
            "cloudformation-stacks",
            b3(r, "cloudformation", "CreateStack", json!({"StackName": "base", "TemplateBody": template,
                "Parameters": [{"ParameterKey": "Env", "ParameterValue": "prod"}], "Tags": [{"Key": "team", "Value": "infra"}]})),
            "StackId",
        );
        s.creates(
            "cloudformation-stacks",
            b3(
                r,
                "cloudformation",
                "CreateStack",
                json!({"StackName": "other", "TemplateBody": template}),
            ),
            "StackId",
        );
        // Load balancers over two of the default VPC's subnets.
        let subnets = format!("subnets-{r}");
        s.call(b3_save(
            r,
            "ec2",
            "DescribeSubnets",
            json!({"Filters": [{"Name": "default-for-az", "Values": ["true"]}]}),
            &subnets,
        ));
        let pair = json!([
            format!("${subnets}.Subnets.0.SubnetId"),
            format!("${subnets}.Subnets.1.SubnetId")
        ]);
        s.creates(
            "elbv2-load-balancers",
            b3(
                r,
                "elbv2",
                "CreateLoadBalancer",
                json!({"Name": "web", "Subnets": pair}),
            ),
            "LoadBalancers.LoadBalancerArn",
        );
        s.creates(
            "elbv2-load-balancers",
            b3(
                r,
                "elbv2",
                "CreateLoadBalancer",
                json!({"Name": "tcp", "Subnets": pair, "Type": "network", "Scheme": "internal"}),
            ),
            "LoadBalancers.LoadBalancerArn",
        );
    }
    let created = s.run(&moto);
    let cases = [
        case(
            "rds-db-instances",
            "rds",
            "DescribeDBInstances",
            json!({}),
            true,
            "DBInstances",
        )
        // moto stamps LatestRestorableTime with the time of each describe call.
        .volatile(&["LatestRestorableTime"]),
        case("sns-topics", "sns", "ListTopics", json!({}), true, "Topics"),
        case(
            "cloudformation-stacks",
            "cloudformation",
            "DescribeStacks",
            json!({}),
            true,
            "Stacks",
        ),
        case(
            "elbv2-load-balancers",
            "elbv2",
            "DescribeLoadBalancers",
            json!({}),
            true,
            "LoadBalancers",
        ),
    ];
    let got = check(&moto, &cases, &REGIONS, &created);
    // moto starts these services empty: exactly what the seed made, two per region each.
    for c in &cases {
        assert_eq!(got[c.plugin].len(), 4, "{}", c.plugin);
    }
    // A topic is what ListTopics returns: its ARN only.
    assert!(got["sns-topics"]
        .iter()
        .all(|t| t.as_object().unwrap().keys().collect::<Vec<_>>()
            == ["TopicArn", "RequestRegion", "RequestAccount"]));
}
