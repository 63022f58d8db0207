//! `mrhost run PLUGIN.wasm`: the vpcs plugin against boto3, fan-out isolation, the sandbox's
//! refusal of undeclared operations, and the compiled-artifact cache.

use serde_json::{json, Value};

use crate::common::*;

const REGIONS: [&str; 3] = ["eu-west-1", "eu-west-2", "us-east-2"];

fn seed_vpcs(moto: &Moto) {
    let calls = REGIONS
        .iter()
        .flat_map(|r| {
            (0..2).map(move |i| {
                b3(r, "ec2", "CreateVpc", json!({"CidrBlock": format!("10.{i}.0.0/16"),
                    "TagSpecifications": [{"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": format!("{r}-{i}")}]}]}))
            })
        })
        .collect();
    moto.boto3(calls);
}

/// boto3's VPCs of each region plus the tags mrhost adds, in region order: the seed's
/// third form.
fn expected_vpcs(moto: &Moto) -> Vec<Value> {
    let per_region = moto.boto3(
        REGIONS
            .iter()
            .map(|r| b3(r, "ec2", "DescribeVpcs", json!({})))
            .collect(),
    );
    let mut out = Vec::new();
    for (r, resp) in REGIONS.iter().zip(per_region) {
        for vpc in resp["Vpcs"].as_array().unwrap().clone() {
            out.push(as_emitted(vpc, r, "123456789012"));
        }
    }
    out
}

#[test]
fn vpcs_plugin_returns_every_vpc_tagged_with_its_region() {
    let Some(moto) = moto() else { return };
    seed_vpcs(&moto);
    let vpcs = plugin("vpcs");
    let ours = moto
        .mrhost(&[
            "run",
            path_str(&vpcs),
            "--regions",
            "eu-west-1,eu-west-2,us-east-2",
        ])
        .ok()
        .json();
    let expected = expected_vpcs(&moto);
    assert_eq!(expected.len(), 9, "2 created + 1 default VPC per region");
    assert_same_json(&ours, &Value::Array(expected.clone()), "vpcs plugin");

    // {region: [...]} with --group-by-region.
    let grouped = moto
        .mrhost(&[
            "run",
            path_str(&vpcs),
            "--regions",
            "eu-west-1,eu-west-2,us-east-2",
            "--group-by-region",
        ])
        .ok()
        .json();
    for r in REGIONS {
        let want: Vec<&Value> = expected
            .iter()
            .filter(|v| v["RequestRegion"] == r)
            .collect();
        assert_eq!(
            grouped[r].as_array().unwrap().iter().collect::<Vec<_>>(),
            want,
            "{r}"
        );
    }

    // ndjson: one object per line, the same set.
    let nd = moto
        .mrhost(&[
            "run",
            path_str(&vpcs),
            "--regions",
            "eu-west-1,eu-west-2,us-east-2",
            "-o",
            "ndjson",
        ])
        .ok();
    let mut lines: Vec<Value> = nd
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut want = expected;
    let key = |v: &Value| v["VpcId"].as_str().unwrap().to_string();
    lines.sort_by_key(key);
    want.sort_by_key(key);
    assert_eq!(lines, want);
}

#[test]
fn a_failing_region_does_not_lose_the_others() {
    let Some(moto) = moto() else { return };
    seed_vpcs(&moto);
    let flaky = plugin("flaky");
    let run = moto.mrhost(&[
        "run",
        path_str(&flaky),
        "--regions",
        "eu-west-1,eu-west-2,us-east-2",
    ]);
    assert_eq!(
        run.code, 3,
        "partial failure exit code; stderr: {}",
        run.stderr
    );
    let got = run.json();
    let regions: Vec<&str> = got
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["RequestRegion"].as_str().unwrap())
        .collect();
    assert_eq!(regions.iter().filter(|r| **r == "eu-west-1").count(), 3);
    assert_eq!(regions.iter().filter(|r| **r == "us-east-2").count(), 3);
    assert!(!regions.contains(&"eu-west-2"));
    let errors: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains("error:"))
        .collect();
    assert_eq!(
        errors.len(),
        1,
        "one error line for the failed scope: {}",
        run.stderr
    );
    assert!(
        errors[0].contains("123456789012/eu-west-2") && errors[0].contains("trapped"),
        "{}",
        errors[0]
    );
}

#[test]
fn undeclared_operations_are_refused_with_a_typed_error() {
    let Some(moto) = moto() else { return };
    let p = plugin("undeclared");
    let run = moto.mrhost(&["run", path_str(&p), "--regions", "eu-west-1"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("denied as expected"), "{}", run.stderr);
    assert!(
        run.stderr.contains("ec2:DescribeSubnets is not declared"),
        "{}",
        run.stderr
    );
    assert_eq!(run.json(), json!([]));
}

#[test]
fn second_run_loads_the_compiled_artifact_from_cache() {
    let Some(moto) = moto() else { return };
    let dir = std::env::temp_dir().join(format!("mrhost-cache-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let vpcs = plugin("vpcs");
    let args = [
        "run",
        path_str(&vpcs),
        "--regions",
        "eu-west-1",
        "--endpoint-url",
        &moto.url,
        "-v",
    ];
    let first = mrhost_with(&args, |c| {
        c.env("MRHOST_CACHE_DIR", &dir);
    })
    .ok();
    let second = mrhost_with(&args, |c| {
        c.env("MRHOST_CACHE_DIR", &dir);
    })
    .ok();
    assert!(first.stderr.contains("cached=false"), "{}", first.stderr);
    assert!(second.stderr.contains("cached=true"), "{}", second.stderr);
    eprintln!(
        "compile cache: first run {:?}, second run {:?}",
        first.elapsed, second.elapsed
    );
    assert_eq!(first.json(), second.json());
    // A changed file is never served stale: a different plugin compiles afresh.
    let other = plugin("flaky");
    let third = mrhost_with(
        &[
            "run",
            path_str(&other),
            "--regions",
            "eu-west-1",
            "--endpoint-url",
            &moto.url,
            "-v",
        ],
        |c| {
            c.env("MRHOST_CACHE_DIR", &dir);
        },
    )
    .ok();
    assert!(third.stderr.contains("cached=false"), "{}", third.stderr);
    let _ = std::fs::remove_dir_all(&dir);
}
