//! The vpcs plugin written in Python (componentize-py) and JavaScript (componentize-js)
//! with the SDK helper modules (plugins/sdk-python, plugins/sdk-js), built from source by
//! scripts/build-examples.sh, against the Rust one and boto3: the same VPCs, the same JSON,
//! whatever the language; and with `--param dns=true`, two DNS attributes each, fetched
//! with concurrent calls (contract 0.2).

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use serde_json::{json, Value};

use crate::common::*;

const REGIONS: [&str; 2] = ["eu-west-1", "us-east-2"];

/// Build the other-language examples once per test process (the same script as the
/// README's); returns `examples/<lang>/<name>.wasm`.
fn example(lang: &str, name: &str) -> PathBuf {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let status = Command::new("bash")
            .arg(repo_root().join("scripts/build-examples.sh"))
            .current_dir(repo_root())
            .status()
            .expect("run scripts/build-examples.sh");
        assert!(status.success(), "building the example plugins failed");
    });
    let p = repo_root()
        .join("examples")
        .join(lang)
        .join(format!("{name}.wasm"));
    assert!(p.exists(), "no {} after building", p.display());
    p
}

/// `cached=...` and `load_ms=...` of the "plugin loaded" line that `-v` prints.
fn load_info(stderr: &str) -> (bool, u64) {
    let line = stderr
        .lines()
        .find(|l| l.contains("plugin loaded"))
        .unwrap_or_else(|| panic!("no 'plugin loaded' line in:\n{stderr}"));
    let field = |name: &str| -> String {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(name))
            .unwrap_or_else(|| panic!("no {name} in {line:?}"))
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect()
    };
    (
        field("cached=") == "true",
        field("load_ms=").parse().unwrap(),
    )
}

/// Equal as JSON and in every object's key order (compared through the serialized form:
/// the host's serde_json keeps insertion order).
fn assert_same_items(ours: &Value, want: &Value, who: &str) {
    assert!(
        ours == want
            && serde_json::to_string(ours).unwrap() == serde_json::to_string(want).unwrap(),
        "{who} did not emit the expected items\n{who}: {}\nexpected: {}",
        serde_json::to_string_pretty(ours).unwrap(),
        serde_json::to_string_pretty(want).unwrap()
    );
}

#[test]
fn vpcs_in_python_and_javascript_emit_what_the_rust_plugin_does_and_enrich_on_request() {
    let Some(moto) = moto() else { return };
    // Two VPCs per region besides the default one; a tag with non-ASCII text, since each
    // language serializes JSON itself.
    let calls = REGIONS
        .iter()
        .flat_map(|r| {
            (0..2).map(move |i| {
                b3(
                    r,
                    "ec2",
                    "CreateVpc",
                    json!({"CidrBlock": format!("10.{i}.0.0/16"),
                    "TagSpecifications": [{"ResourceType": "vpc", "Tags": [
                        {"Key": "Name", "Value": format!("{r}-{i}")},
                        {"Key": "Note", "Value": "é ü 東京 \"quoted\" \\ back"}]}]}),
                )
            })
        })
        .collect();
    moto.boto3(calls);

    let rust = plugin("vpcs");
    let python = example("python", "vpcs");
    let js = example("js", "vpcs");
    let regions = REGIONS.join(",");
    let run = |p: &PathBuf| moto.mrhost(&["run", path_str(p), "--regions", &regions, "-v"]);

    let rust_run = run(&rust).ok();
    let rust_items = rust_run.json();
    assert_eq!(
        rust_items.as_array().unwrap().len(),
        6,
        "2 created + 1 default VPC in each of 2 regions"
    );
    // The Rust plugin itself against boto3, so "the same as Rust" means "right".
    let per_region = moto.boto3(
        REGIONS
            .iter()
            .map(|r| b3(r, "ec2", "DescribeVpcs", json!({})))
            .collect(),
    );
    let mut expected = Vec::new();
    let mut enriched = Vec::new();
    for (r, resp) in REGIONS.iter().zip(per_region) {
        let vpcs = resp["Vpcs"].as_array().unwrap().clone();
        // What the Python and JavaScript plugins add: DescribeVpcAttribute, twice per VPC.
        let attrs = moto.boto3(
            vpcs.iter()
                .flat_map(|v| {
                    ["enableDnsSupport", "enableDnsHostnames"].map(|a| {
                        b3(
                            r,
                            "ec2",
                            "DescribeVpcAttribute",
                            json!({"VpcId": v["VpcId"], "Attribute": a}),
                        )
                    })
                })
                .collect(),
        );
        for (i, vpc) in vpcs.into_iter().enumerate() {
            expected.push(as_emitted(vpc.clone(), r, "123456789012"));
            let mut with = vpc;
            with["EnableDnsSupport"] = attrs[2 * i]["EnableDnsSupport"]["Value"].clone();
            with["EnableDnsHostnames"] = attrs[2 * i + 1]["EnableDnsHostnames"]["Value"].clone();
            assert!(with["EnableDnsSupport"].is_boolean(), "{with}");
            enriched.push(as_emitted(with, r, "123456789012"));
        }
    }
    assert_same_json(&rust_items, &Value::Array(expected), "rust vpcs plugin");
    let enriched = Value::Array(enriched);

    // A failing call ends the scope with the same one-line error in every language:
    // ec2 goes to a closed port, everything else (the account lookup) to moto.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://127.0.0.1:{}", l.local_addr().unwrap().port())
    };
    let failing = |p: &PathBuf| {
        let run = mrhost_with(&["run", path_str(p), "--regions", REGIONS[0]], |cmd| {
            cmd.env("AWS_ENDPOINT_URL", &moto.url)
                .env("AWS_ENDPOINT_URL_EC2", &closed);
        });
        assert_eq!(run.code, 1, "every scope failed: {}", run.stderr);
        let line = run.stderr.lines().find(|l| l.contains("error:"));
        line.unwrap_or_else(|| panic!("no error line: {}", run.stderr))
            .to_string()
    };
    let rust_error = failing(&rust);
    assert!(
        rust_error.contains("vpcs 123456789012/eu-west-1: plugin error: failed: "),
        "{rust_error}"
    );

    for (who, path, name) in [
        ("python", &python, "vpcs-py"),
        ("javascript", &js, "vpcs-js"),
    ] {
        let first = run(path).ok();
        let (cached, load_ms) = load_info(&first.stderr);
        assert!(
            !cached,
            "{who}: the first load should compile (fresh cache)"
        );
        assert_same_items(&first.json(), &rust_items, who);
        // With the parameter: the DNS attributes, from concurrent calls.
        let dns = moto
            .mrhost(&[
                "run",
                path_str(path),
                "--regions",
                &regions,
                "--param",
                "dns=true",
            ])
            .ok();
        assert_same_items(&dns.json(), &enriched, who);
        assert!(
            first.stderr.contains(&format!("plugin={name}")),
            "{who}: {}",
            first.stderr
        );

        // Second load: from the compile cache, same output.
        let again = run(path).ok();
        let (cached_again, load_ms_again) = load_info(&again.stderr);
        assert!(
            cached_again,
            "{who}: the second load should come from the cache"
        );
        assert_same_items(&again.json(), &rust_items, who);

        let size = std::fs::metadata(path).unwrap().len();
        eprintln!(
            "{who}: {} bytes; first load {load_ms} ms (uncached), then {load_ms_again} ms (cached); run {:?} / {:?}",
            size, first.elapsed, again.elapsed
        );

        // `plugins inspect` reads the component's manifest.
        let info = mrhost(&["plugins", "inspect", path_str(path)]).ok().json();
        let m = &info["manifest"];
        assert_eq!(m["name"], name, "{who}: {info}");
        assert_eq!(m["resource_type"], "ec2:vpc", "{who}");
        assert_eq!(
            m["operations"],
            json!(["ec2:DescribeVpcs", "ec2:DescribeVpcAttribute"]),
            "{who}"
        );
        assert_eq!(m["scope_kind"], "regional", "{who}");
        assert_eq!(m["id_field"], "VpcId", "{who}");
        assert_eq!(
            m["columns"],
            json!(["VpcId", "CidrBlock", "IsDefault", "State"]),
            "{who}"
        );
        assert_eq!(m["model_shape"], "ec2:Vpc", "{who}");
        assert_eq!(info["contract"], "mrhost:plugin@0.2.0", "{who}");
        let cols = info["schema"]["columns"].as_array().unwrap();
        for (name, kind) in [
            ("EnableDnsSupport", "bool"),
            ("IsDefault", "bool"),
            ("VpcId", "string"),
            ("TagsMap", "json"),
        ] {
            assert!(
                cols.iter().any(|c| c["name"] == name && c["kind"] == kind),
                "{who}: {name} {kind} in {cols:?}"
            );
        }

        assert_eq!(
            failing(path).replace(name, "vpcs"),
            rust_error,
            "{who}: a failed call"
        );
    }
}
