//! `mrhost call` gives the same JSON as boto3, region by region, for the slice's EC2 calls.

use serde_json::{json, Value};

use crate::common::*;

const REGIONS: [&str; 3] = ["eu-west-1", "eu-west-2", "us-east-2"];

/// Two tagged VPCs with a subnet and a security group each, and running instances, in
/// every region.
fn seed(moto: &Moto) {
    let mut calls = Vec::new();
    for r in REGIONS {
        for i in 0..2 {
            let name = format!("vpc{i}");
            calls.push(b3_save(
                r,
                "ec2",
                "CreateVpc",
                json!({"CidrBlock": format!("10.{i}.0.0/16"),
                       "TagSpecifications": [{"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": format!("{r}-{name}")}, {"Key": "team", "Value": "blue"}]}]}),
                &name,
            ));
            calls.push(b3_save(
                r,
                "ec2",
                "CreateSubnet",
                json!({"VpcId": format!("${name}.Vpc.VpcId"), "CidrBlock": format!("10.{i}.1.0/24")}),
                &format!("subnet{i}"),
            ));
            calls.push(b3(
                r,
                "ec2",
                "CreateSecurityGroup",
                json!({"GroupName": format!("sg{i}"), "Description": "test group", "VpcId": format!("${name}.Vpc.VpcId")}),
            ));
        }
        calls.push(b3(
            r,
            "ec2",
            "RunInstances",
            json!({"ImageId": "ami-12c6146b", "MinCount": 2, "MaxCount": 2, "InstanceType": "t3.micro",
                   "SubnetId": "$subnet0.Subnet.SubnetId",
                   "TagSpecifications": [{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "web"}]}]}),
        ));
    }
    for (i, r) in moto.boto3(calls).iter().enumerate() {
        assert!(r.get("Error").is_none(), "seed call {i} failed: {r}");
    }
}

fn parity(moto: &Moto, operation: &str, params: Value, paginate: bool) {
    let p = params.to_string();
    let mut args = vec![
        "call",
        "ec2",
        operation,
        "--params",
        &p,
        "--regions",
        "eu-west-1,eu-west-2,us-east-2",
    ];
    if !paginate {
        args.push("--no-paginate");
    }
    let ours = moto.mrhost(&args).ok().by_region();
    let calls = REGIONS
        .iter()
        .map(|r| {
            if paginate {
                b3_paged(r, "ec2", operation, params.clone())
            } else {
                b3(r, "ec2", operation, params.clone())
            }
        })
        .collect();
    let reference = moto.boto3(calls);
    assert_eq!(
        ours.as_object().unwrap().len(),
        REGIONS.len(),
        "one entry per region: {ours}"
    );
    for (r, expected) in REGIONS.iter().zip(&reference) {
        assert!(
            expected.get("Error").is_none(),
            "boto3 {operation} in {r}: {expected}"
        );
        assert_same_json(&ours[*r], expected, &format!("{operation} {params} in {r}"));
    }
}

#[test]
fn describe_calls_match_boto3_region_by_region() {
    let Some(moto) = moto() else { return };
    seed(&moto);
    parity(&moto, "DescribeVpcs", json!({}), true);
    parity(&moto, "DescribeSubnets", json!({}), true);
    parity(&moto, "DescribeSecurityGroups", json!({}), true);
    parity(&moto, "DescribeInstances", json!({}), true);
    parity(&moto, "DescribeInstances", json!({}), false);
    parity(
        &moto,
        "DescribeVpcs",
        json!({"Filters": [{"Name": "tag:team", "Values": ["blue"]}, {"Name": "cidr", "Values": ["10.1.0.0/16"]}]}),
        true,
    );
    parity(
        &moto,
        "DescribeVpcs",
        json!({"Filters": [{"Name": "is-default", "Values": ["true"]}]}),
        false,
    );
    // Instances really are running, with launch times rendered as boto3's datetimes.
    let ours = moto
        .mrhost(&["call", "ec2", "DescribeInstances", "--regions", "eu-west-2"])
        .ok()
        .by_region();
    let inst = &ours["eu-west-2"]["Reservations"][0]["Instances"][0];
    assert_eq!(inst["State"]["Name"], "running");
    let launch = inst["LaunchTime"].as_str().unwrap();
    assert!(
        launch.ends_with("+00:00") && launch.contains('T'),
        "{launch}"
    );
}

#[test]
fn pagination_is_followed_and_merged_like_the_cli() {
    let Some(moto) = moto() else { return };
    // Seven reservations; five per page means two pages.
    let calls = (0..7)
        .map(|_| {
            b3(
                "eu-west-1",
                "ec2",
                "RunInstances",
                json!({"ImageId": "ami-12c6146b", "MinCount": 1, "MaxCount": 1}),
            )
        })
        .collect();
    moto.boto3(calls);
    let params = json!({"MaxResults": 5});
    let p = params.to_string();
    let all = moto
        .mrhost(&[
            "call",
            "ec2",
            "DescribeInstances",
            "--params",
            &p,
            "--regions",
            "eu-west-1",
        ])
        .ok()
        .by_region();
    assert_eq!(
        all["eu-west-1"]["Reservations"].as_array().unwrap().len(),
        7
    );
    let reference = moto.boto3(vec![b3_paged(
        "eu-west-1",
        "ec2",
        "DescribeInstances",
        params.clone(),
    )]);
    assert_same_json(
        &all["eu-west-1"],
        &reference[0],
        "paginated DescribeInstances",
    );
    // One page only: five reservations and the token to continue.
    let one = moto
        .mrhost(&[
            "call",
            "ec2",
            "DescribeInstances",
            "--params",
            &p,
            "--regions",
            "eu-west-1",
            "--no-paginate",
        ])
        .ok()
        .by_region();
    assert_eq!(
        one["eu-west-1"]["Reservations"].as_array().unwrap().len(),
        5
    );
    assert!(one["eu-west-1"]["NextToken"].is_string());
    // The same through a plugin: every instance of every page.
    let plugin = plugin("paged-instances");
    let items = moto
        .mrhost(&["run", path_str(&plugin), "--regions", "eu-west-1"])
        .ok()
        .json();
    assert_eq!(items.as_array().unwrap().len(), 7);
}
