//! Bad input: a clear one-line error, a non-zero exit, and nothing else lost.

use serde_json::json;

use crate::common::*;

fn one_line_error(run: &Run, needle: &str) {
    assert_ne!(run.code, 0, "should fail: {}", run.stdout);
    let lines: Vec<&str> = run.stderr.trim().lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "exactly one line on stderr, got:\n{}",
        run.stderr
    );
    assert!(lines[0].starts_with("mrhost: error: "), "{}", lines[0]);
    assert!(
        lines[0].contains(needle),
        "expected '{needle}' in: {}",
        lines[0]
    );
    assert!(run.stdout.is_empty(), "nothing on stdout: {}", run.stdout);
}

#[test]
fn bad_input_gets_one_clear_line() {
    let Some(moto) = moto() else { return };
    one_line_error(
        &moto.mrhost(&["call", "ec2", "DescribeVpc"]),
        "unknown operation 'DescribeVpc' for service ec2 (did you mean DescribeVpcs?)",
    );
    one_line_error(
        &moto.mrhost(&["call", "ec3", "DescribeVpcs"]),
        "unknown service 'ec3'",
    );
    one_line_error(
        &moto.mrhost(&["call", "ec2", "DescribeVpcs", "--params", "{bad"]),
        "--params is not valid JSON",
    );
    one_line_error(
        &moto.mrhost(&[
            "call",
            "ec2",
            "DescribeVpcs",
            "--params",
            r#"{"Filter": []}"#,
        ]),
        "unknown parameter \"Filter\"",
    );
    one_line_error(
        &moto.mrhost(&[
            "call",
            "ec2",
            "DescribeVpcs",
            "--params",
            r#"{"MaxResults": "5"}"#,
        ]),
        "invalid type for parameter MaxResults",
    );
    one_line_error(
        &moto.mrhost(&[
            "call",
            "ec2",
            "DescribeVpcs",
            "--regions",
            "eu-west-1,eu-wset-2",
        ]),
        "unknown region 'eu-wset-2' (did you mean eu-west-2?)",
    );
    let vpcs = plugin("vpcs");
    one_line_error(
        &moto.mrhost(&["run", path_str(&vpcs), "--regions", "mars-north-1"]),
        "unknown region 'mars-north-1'",
    );
    one_line_error(
        &moto.mrhost(&["run", "plugins/does-not-exist.wasm"]),
        "plugins/does-not-exist.wasm: file not found",
    );
    one_line_error(
        &moto.mrhost(&["run", "Cargo.toml"]),
        "Cargo.toml: not a WebAssembly file",
    );
    let core = std::env::temp_dir().join(format!("mrhost-core-{}.wasm", std::process::id()));
    std::fs::write(&core, b"\0asm\x01\0\0\0").unwrap();
    one_line_error(
        &moto.mrhost(&["run", path_str(&core)]),
        "a core WebAssembly module, not a component",
    );
    let _ = std::fs::remove_file(core);
}

#[test]
fn a_region_that_errors_does_not_hide_the_others() {
    let Some(moto) = moto() else { return };
    let created = moto.boto3(vec![b3(
        "eu-west-1",
        "ec2",
        "CreateVpc",
        json!({"CidrBlock": "10.9.0.0/16"}),
    )]);
    let vpc_id = created[0]["Vpc"]["VpcId"].as_str().unwrap().to_string();
    let params = json!({"VpcIds": [vpc_id]}).to_string();
    let run = moto.mrhost(&[
        "call",
        "ec2",
        "DescribeVpcs",
        "--params",
        &params,
        "--regions",
        "eu-west-1,eu-west-2",
    ]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    let out = run.by_region();
    assert_eq!(out["eu-west-1"]["Vpcs"][0]["VpcId"], json!(vpc_id));
    assert!(out.get("eu-west-2").is_none());
    assert!(
        run.stderr.contains("eu-west-2") && run.stderr.contains("InvalidVpcID.NotFound"),
        "{}",
        run.stderr
    );
}
