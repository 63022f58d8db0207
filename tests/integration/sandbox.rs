//! The hostile-plugin suite: purpose-built plugins that misbehave in eu-west-2 and behave
//! in eu-west-1. Each case asserts the precise outcome — contained, a typed error naming
//! the limit, the other scope's results intact, the process's memory bounded — and prints
//! what it measured (time to kill, peak RSS).

use serde_json::{json, Value};

use crate::common::*;

const REGIONS: &str = "eu-west-1,eu-west-2";

struct Outcome {
    run: Run,
    peak_mib: u64,
    items: Vec<Value>,
}

/// Run a hostile plugin over both regions with ndjson output, measuring the process.
fn hostile(moto: &Moto, plugin_name: &str, extra: &[&str]) -> Outcome {
    // moto builds its EC2 world on the first request (seconds on a busy machine): do that
    // before the clock starts, so the well-behaved scope is measured, not moto's start-up.
    moto.boto3(vec![
        b3("eu-west-1", "ec2", "DescribeVpcs", json!({})),
        b3("eu-west-2", "ec2", "DescribeVpcs", json!({})),
    ]);
    let p = plugin(plugin_name);
    let mut args = vec![
        "run",
        path_str(&p),
        "--regions",
        REGIONS,
        "-o",
        "ndjson",
        "--endpoint-url",
        &moto.url,
    ];
    args.extend_from_slice(extra);
    let (run, peak_kib) = mrhost_measured(&args, |_| {});
    let items = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("ndjson line"))
        .collect();
    let o = Outcome {
        run,
        peak_mib: peak_kib / 1024,
        items,
    };
    eprintln!(
        "hostile {plugin_name}: exit {}, {:.2?} wall, peak RSS {} MiB, error: {}",
        o.run.code,
        o.run.elapsed,
        o.peak_mib,
        o.run
            .stderr
            .lines()
            .find(|l| l.contains("error:"))
            .unwrap_or("-")
    );
    o
}

/// The scope in eu-west-2 failed with `needle` in its one error line; eu-west-1's VPCs
/// (the default one) all arrived.
fn contained(o: &Outcome, needle: &str) {
    assert_eq!(
        o.run.code,
        3,
        "partial failure expected; stderr:\n{}",
        tail(&o.run.stderr)
    );
    let errors: Vec<&str> = o
        .run
        .stderr
        .lines()
        .filter(|l| l.starts_with("mrhost: error:"))
        .collect();
    assert_eq!(errors.len(), 1, "one error line:\n{}", tail(&o.run.stderr));
    assert!(
        errors[0].contains("/eu-west-2") && errors[0].contains(needle),
        "{}",
        errors[0]
    );
    let west1: Vec<&Value> = o
        .items
        .iter()
        .filter(|v| v["RequestRegion"] == "eu-west-1")
        .collect();
    assert_eq!(west1.len(), 1, "eu-west-1's default VPC must be there");
    assert!(west1[0]["VpcId"].as_str().unwrap().starts_with("vpc-"));
}

fn tail(s: &str) -> String {
    s.lines()
        .rev()
        .take(10)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_plugin_that_loops_forever_is_killed_at_its_deadline() {
    let Some(moto) = moto() else { return };
    let o = hostile(&moto, "hostile-loop", &["--timeout", "5"]);
    contained(&o, "limit exceeded: deadline of 5s exceeded");
    assert!(
        o.run.elapsed.as_secs_f64() < 15.0,
        "killed promptly: {:?}",
        o.run.elapsed
    );
}

#[test]
fn a_plugin_that_eats_memory_hits_its_memory_limit() {
    let Some(moto) = moto() else { return };
    let o = hostile(&moto, "hostile-memory", &["--memory-limit", "64"]);
    contained(&o, "limit exceeded: memory limit of 64 MiB per instance");
    assert!(
        o.peak_mib < 400,
        "process memory bounded: peak {} MiB",
        o.peak_mib
    );
}

#[test]
fn a_plugin_that_emits_without_end_is_stopped_at_the_resource_limit() {
    let Some(moto) = moto() else { return };
    let o = hostile(&moto, "hostile-emit", &["--max-resources", "1000"]);
    contained(
        &o,
        "limit exceeded: resource limit of 1000 emitted resources per scope",
    );
    let junk = o
        .items
        .iter()
        .filter(|v| v["RequestRegion"] == "eu-west-2")
        .count();
    assert!(junk <= 1000, "{junk} junk resources got out");
    assert!(
        o.peak_mib < 400,
        "process memory bounded: peak {} MiB",
        o.peak_mib
    );
}

#[test]
fn a_plugin_that_panics_traps_alone() {
    let Some(moto) = moto() else { return };
    let o = hostile(&moto, "flaky", &[]);
    contained(&o, "plugin trapped");
}

#[test]
fn a_plugin_that_logs_without_end_is_stopped_at_the_log_limit() {
    let Some(moto) = moto() else { return };
    let o = hostile(&moto, "hostile-log", &["--max-log-kib", "64", "-v"]);
    contained(&o, "limit exceeded: log limit of 65536 bytes per scope");
    assert!(
        o.run.stderr.len() < 256 << 10,
        "host stderr bounded: {} bytes",
        o.run.stderr.len()
    );
}

#[test]
fn undeclared_and_write_operations_are_refused_unless_allowed() {
    let Some(moto) = moto() else { return };
    let before = moto.boto3(vec![b3("eu-west-1", "ec2", "DescribeVpcs", json!({}))])[0]["Vpcs"]
        .as_array()
        .unwrap()
        .len();
    let p = plugin("hostile-write");
    let denied = moto.mrhost(&["run", path_str(&p), "--regions", "eu-west-1"]);
    assert_eq!(denied.code, 1, "{}", denied.stderr);
    assert!(
        denied.stderr.contains("write denied: ec2:CreateVpc is a write operation (has an effect); run with --allow write (or --allow-write) or --allow ec2:CreateVpc"),
        "{}",
        denied.stderr
    );
    let after = moto.boto3(vec![b3("eu-west-1", "ec2", "DescribeVpcs", json!({}))])[0]["Vpcs"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(before, after, "nothing was created");

    let allowed = moto
        .mrhost(&[
            "run",
            path_str(&p),
            "--regions",
            "eu-west-1",
            "--allow-write",
            "ec2:CreateVpc",
        ])
        .ok();
    let created = allowed.json();
    assert_eq!(created[0]["CidrBlock"], "10.66.0.0/16");
    let now = moto.boto3(vec![b3("eu-west-1", "ec2", "DescribeVpcs", json!({}))])[0]["Vpcs"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(now, before + 1);

    // An undeclared operation is refused even when it is a read (tests/plugins/undeclared).
    let p = plugin("undeclared");
    let run = moto.mrhost(&["run", path_str(&p), "--regions", "eu-west-1"]);
    assert!(
        run.stderr
            .contains("ec2:DescribeSubnets is not declared in the plugin manifest"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_huge_params_string_gets_a_typed_error() {
    let Some(moto) = moto() else { return };
    let p = plugin("hostile-params");
    let run = moto.mrhost(&["run", path_str(&p), "--regions", "eu-west-1"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let line = run
        .stderr
        .lines()
        .find(|l| l.contains("error:"))
        .unwrap_or_default();
    assert!(
        line.contains("invalid-request: params-json is 167772")
            && line.ends_with("bytes; the limit is 1048576 bytes"),
        "{line}"
    );
}

#[test]
fn nothing_outside_the_aws_interface_is_reachable_and_no_credential_leaks() {
    let Some(moto) = moto() else { return };
    let secret = "mrhost-test-secret-0f9e8d7c6b5a";
    let token = "mrhost-test-session-token-1a2b3c4d";
    let key_id = "AKIAMRHOSTLEAKTEST01";
    let p = plugin("hostile-snoop");
    let run = mrhost_with(
        &[
            "run",
            path_str(&p),
            "--regions",
            "eu-west-1",
            "--endpoint-url",
            &moto.url,
            "-vv",
        ],
        |c| {
            c.env("AWS_ACCESS_KEY_ID", key_id)
                .env("AWS_SECRET_ACCESS_KEY", secret)
                .env("AWS_SESSION_TOKEN", token)
                .env("MRHOST_CANARY", "visible-to-the-host-only");
        },
    )
    .ok();
    let report = &run.json()[0];
    assert_eq!(report["env"], json!([]), "no environment variables");
    assert!(
        report["args"].as_array().unwrap().len() <= 1,
        "no arguments: {}",
        report["args"]
    );
    for f in report["files"].as_array().unwrap() {
        assert!(
            f.as_str().unwrap().contains("ERR"),
            "file access must fail: {f}"
        );
    }
    // WASI reports "/" as the working directory, but there is nothing there.
    assert!(
        !report["cwd"].as_str().unwrap().contains("work"),
        "{}",
        report["cwd"]
    );
    for field in ["root_dir", "udp", "dns"] {
        assert!(
            report[field].as_str().unwrap().starts_with("ERR"),
            "{field}: {}",
            report[field]
        );
    }
    for t in report["tcp"].as_array().unwrap() {
        assert!(
            t.as_str().unwrap().contains("ERR"),
            "sockets must fail: {t}"
        );
    }
    // The AWS interface still works, and hands over nothing secret.
    assert!(report["response"]["Vpcs"].is_array());
    for text in [&run.stdout, &run.stderr] {
        for needle in [secret, token, key_id, "visible-to-the-host-only"] {
            assert!(!text.contains(needle), "{needle} leaked");
        }
    }
}

#[test]
fn incompatible_or_non_component_plugins_get_one_line() {
    let future = plugin("future-version");
    let run = mrhost(&["run", path_str(&future), "--regions", "eu-west-1"]);
    assert_eq!(run.code, 1);
    assert_eq!(run.stderr.trim().lines().count(), 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("built for mrhost:plugin@0.2.0; this host serves mrhost:plugin@0.1.0"),
        "{}",
        run.stderr
    );
    let core = std::env::temp_dir().join(format!("mrhost-core-module-{}.wasm", std::process::id()));
    std::fs::write(&core, b"\0asm\x01\0\0\0").unwrap();
    let run = mrhost(&["plugins", "inspect", path_str(&core)]);
    assert_eq!(run.code, 1);
    assert_eq!(run.stderr.trim().lines().count(), 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("a core WebAssembly module, not a component"),
        "{}",
        run.stderr
    );
    let _ = std::fs::remove_file(core);
    // A pinned hash that does not match is refused before anything runs.
    let vpcs = plugin("vpcs");
    let run = mrhost(&["run", path_str(&vpcs), "--plugin-sha256", &"0".repeat(64)]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("but --plugin-sha256 expects 0000"),
        "{}",
        run.stderr
    );
}

#[test]
fn every_bundled_plugin_can_be_inspected_and_gets_a_least_privilege_policy() {
    let dir = repo_root().join("plugins");
    plugin("vpcs"); // builds them all
    let mut wasm: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "wasm"))
        .collect();
    wasm.sort();
    assert!(wasm.len() >= 20, "bundled plugins: {}", wasm.len());
    for p in &wasm {
        let info = mrhost(&["plugins", "inspect", path_str(p)]).ok().json();
        let name = p.file_stem().unwrap().to_str().unwrap();
        assert_eq!(info["manifest"]["name"], name, "{}", p.display());
        assert_eq!(info["sha256"].as_str().unwrap().len(), 64);
        let ops = info["manifest"]["operations"].as_array().unwrap();
        assert!(!ops.is_empty());
        let policy = mrhost(&["policy", path_str(p)]).ok().json();
        let actions = &policy["Statement"][0]["Action"];
        assert_eq!(
            actions.as_array().unwrap().len(),
            ops.len(),
            "{name}: {actions}"
        );
    }
    let policy = mrhost(&["policy", "plugins/vpcs.wasm"]).ok().json();
    assert_eq!(policy["Statement"].as_array().unwrap().len(), 1);
    assert_eq!(
        policy["Statement"][0]["Action"],
        json!(["ec2:DescribeVpcs"])
    );
    let info = mrhost(&["plugins", "inspect", "plugins/vpcs.wasm"])
        .ok()
        .json();
    assert!(
        info["producers"]["language"].to_string().contains("Rust"),
        "producer section: {}",
        info["producers"]
    );
}
