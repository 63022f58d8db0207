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
            .contains("built for mrhost:plugin@0.9.0; this host serves mrhost:plugin@0.1.0, mrhost:plugin@0.2.0"),
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

#[test]
fn open_pages_cannot_make_the_host_hold_more_than_the_memory_limit() {
    let Some(moto) = moto() else { return };
    // 1,500 open pages with 1 MiB of params each: 1.5 GiB if the host kept them all.
    let o = hostile(
        &moto,
        "hostile-v2",
        &["--param", "attack=pages", "--memory-limit", "64"],
    );
    contained(
        &o,
        "limit exceeded: host memory limit of 64 MiB per scope for the parameters of open pages and queued calls",
    );
    assert!(
        o.peak_mib < 400,
        "process memory bounded: peak {} MiB",
        o.peak_mib
    );
}

#[test]
fn open_pages_and_batches_are_capped_in_number() {
    let Some(moto) = moto() else { return };
    let o = hostile(&moto, "hostile-v2", &["--param", "attack=handles"]);
    contained(
        &o,
        "limit exceeded: limit of 1024 open pages and batches per scope",
    );
}

#[test]
fn an_object_with_200000_keys_is_emitted_in_linear_time_within_the_deadline() {
    let Some(moto) = moto() else { return };
    let o = hostile(
        &moto,
        "hostile-v2",
        &["--param", "attack=keys", "--timeout", "5"],
    );
    assert_eq!(o.run.code, 0, "{}", tail(&o.run.stderr));
    let big = o
        .items
        .iter()
        .find(|v| v["RequestRegion"] == "eu-west-2")
        .expect("the big object was emitted");
    assert_eq!(big.as_object().unwrap().len(), 200_002);
    assert_eq!(big["k199999"], 199_999);
    assert!(
        o.run.elapsed < std::time::Duration::from_secs(10),
        "{:?}",
        o.run.elapsed
    );
}

#[test]
fn plugin_text_is_escaped_before_it_reaches_stderr() {
    let Some(moto) = moto() else { return };
    let o = hostile(&moto, "hostile-v2", &["--param", "attack=escape", "-v"]);
    contained(
        &o,
        "plugin error: \\x1b]0;pwned\\x07\\x1b[2K\\r\\nmrhost: summary: 0 failures",
    );
    let err = &o.run.stderr;
    assert!(!err.contains('\x1b'), "an ESC reached stderr:\n{err}");
    assert!(!err.contains('\r'), "a CR reached stderr:\n{err}");
    assert!(!err.contains('\x07'), "a BEL reached stderr:\n{err}");
    // -v prints the real summary; the forged one never starts a line.
    for line in err.lines() {
        assert!(
            !line.starts_with("mrhost: summary: 0 failures"),
            "a forged line: {line}"
        );
    }
    assert!(
        err.lines()
            .filter(|l| l.starts_with("mrhost: summary"))
            .count()
            <= 1
    );
    // What the plugin logged and wrote to stderr is there, escaped, on its own line.
    let logged = err
        .lines()
        .filter(|l| {
            l.contains("[hostile-v2 123456789012/eu-west-2]") && l.contains("\\x1b]0;pwned")
        })
        .count();
    assert!(logged >= 2, "log and stderr lines, escaped:\n{err}");
}

/// A fresh compile-cache root for one test (not created: mrhost makes it).
fn fresh_cache(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("mrhost-cc-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// The cached artifact of a plugin (by its sha256) under a cache root.
fn artifact(root: &std::path::Path, sha: &str) -> std::path::PathBuf {
    std::fs::read_dir(root.join("compiled"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(sha) && n.ends_with(".cwasm"))
        })
        .unwrap_or_else(|| panic!("no artifact for {sha} in {}", root.display()))
}

fn sha_of(p: &std::path::Path) -> String {
    mrhost(&["plugins", "inspect", path_str(p)]).ok().json()["sha256"]
        .as_str()
        .unwrap()
        .to_string()
}

/// `cached=` of the "plugin loaded" line that `-v` prints.
fn loaded_from_cache(stderr: &str) -> bool {
    let line = stderr
        .lines()
        .find(|l| l.contains("plugin loaded"))
        .unwrap_or_else(|| panic!("no 'plugin loaded' line in:\n{stderr}"));
    line.contains("cached=true")
}

/// The file range of the `.text` section of the ELF image inside an artifact.
fn text_section(bytes: &[u8]) -> std::ops::Range<usize> {
    let elf = bytes
        .windows(4)
        .position(|w| w == b"\x7fELF")
        .expect("an ELF image in the artifact");
    let b = &bytes[elf..];
    let u16_at = |o: usize| u16::from_le_bytes(b[o..o + 2].try_into().unwrap()) as usize;
    let u32_at = |o: usize| u32::from_le_bytes(b[o..o + 4].try_into().unwrap()) as usize;
    let u64_at = |o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap()) as usize;
    let (shoff, shentsize, shnum, shstrndx) =
        (u64_at(0x28), u16_at(0x3a), u16_at(0x3c), u16_at(0x3e));
    let section = |i: usize| shoff + i * shentsize;
    let strtab = u64_at(section(shstrndx) + 0x18);
    for i in 0..shnum {
        let s = section(i);
        let name_at = strtab + u32_at(s);
        if b[name_at..].starts_with(b".text\0") {
            let (off, size) = (u64_at(s + 0x18), u64_at(s + 0x20));
            return elf + off..elf + off + size;
        }
    }
    panic!("no .text section");
}

#[test]
fn another_plugins_artifact_copied_over_a_cached_one_is_recompiled_not_run() {
    let Some(moto) = moto() else { return };
    let root = fresh_cache("foreign");
    let vpcs = plugin("vpcs");
    let other = plugin("hostile-snoop");
    let with_cache = |args: &[&str]| {
        mrhost_with(args, |c| {
            c.env("MRHOST_CACHE_DIR", &root);
        })
    };
    for p in [&vpcs, &other] {
        with_cache(&["plugins", "inspect", path_str(p)]).ok();
    }
    let (vpcs_sha, other_sha) = (sha_of(&vpcs), sha_of(&other));
    std::fs::copy(artifact(&root, &other_sha), artifact(&root, &vpcs_sha)).unwrap();
    // The pin is checked against the .wasm, and the cached code is the pinned plugin's.
    let run = with_cache(&[
        "plugins",
        "inspect",
        path_str(&vpcs),
        "--plugin-sha256",
        &vpcs_sha,
    ]);
    let info = run.ok().json();
    assert_eq!(info["manifest"]["name"], "vpcs");
    let run = with_cache(&[
        "plugins",
        "inspect",
        path_str(&vpcs),
        "--plugin-sha256",
        &other_sha,
    ]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("but --plugin-sha256 expects"),
        "{}",
        run.stderr
    );
    // Again, with a run: the foreign code is refused, the real plugin compiled and run.
    std::fs::copy(artifact(&root, &other_sha), artifact(&root, &vpcs_sha)).unwrap();
    let run = with_cache(&[
        "run",
        path_str(&vpcs),
        "--regions",
        "eu-west-1",
        "--endpoint-url",
        &moto.url,
        "-v",
    ])
    .ok();
    assert!(
        run.stderr
            .contains("failed authentication; compiling afresh"),
        "{}",
        run.stderr
    );
    assert!(!loaded_from_cache(&run.stderr));
    let items = run.json();
    assert!(
        items[0]["VpcId"].as_str().unwrap().starts_with("vpc-"),
        "{items}"
    );
    assert!(
        items[0].get("env").is_none(),
        "hostile-snoop's code ran: {items}"
    );
    let _ = std::fs::remove_dir_all(root);
}

#[test]
fn flipped_bytes_in_a_cached_artifacts_text_are_recompiled_not_run() {
    let Some(moto) = moto() else { return };
    let root = fresh_cache("flipped");
    let vpcs = plugin("vpcs");
    let run = |v: &str| {
        mrhost_with(
            &[
                "run",
                path_str(&vpcs),
                "--regions",
                "eu-west-1",
                "--endpoint-url",
                &moto.url,
                v,
            ],
            |c| {
                c.env("MRHOST_CACHE_DIR", &root);
            },
        )
    };
    assert!(!loaded_from_cache(&run("-v").ok().stderr));
    assert!(loaded_from_cache(&run("-v").ok().stderr));
    let path = artifact(&root, &sha_of(&vpcs));
    let mut bytes = std::fs::read(&path).unwrap();
    let text = text_section(&bytes);
    assert!(text.len() > 256, "{text:?}");
    for b in &mut bytes[text.start..text.start + 256] {
        *b = 0xCC; // int3: SIGTRAP if it ever ran
    }
    std::fs::write(&path, &bytes).unwrap();
    let after = run("-v");
    assert_eq!(after.code, 0, "{}", after.stderr);
    assert!(
        after.stderr.contains("failed authentication"),
        "{}",
        after.stderr
    );
    assert!(!loaded_from_cache(&after.stderr));
    assert!(after.json()[0]["VpcId"].is_string());
    assert!(loaded_from_cache(&run("-v").ok().stderr), "cached again");
    let _ = std::fs::remove_dir_all(root);
}

#[test]
fn a_cache_directory_other_users_can_write_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let Some(moto) = moto() else { return };
    let vpcs = plugin("vpcs");
    let run = |envs: &dyn Fn(&mut std::process::Command)| {
        mrhost_with(
            &[
                "run",
                path_str(&vpcs),
                "--regions",
                "eu-west-1",
                "--endpoint-url",
                &moto.url,
                "-v",
            ],
            |c| envs(c),
        )
        .ok()
    };
    // World-writable, given as MRHOST_CACHE_DIR.
    let open = fresh_cache("open");
    std::fs::create_dir_all(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
    for _ in 0..2 {
        let r = run(&|c| {
            c.env("MRHOST_CACHE_DIR", &open);
        });
        assert!(
            r.stderr.contains("compile cache disabled")
                && r.stderr.contains("writable by other users"),
            "{}",
            r.stderr
        );
        assert!(!loaded_from_cache(&r.stderr));
    }
    assert!(!open.join("compiled").exists(), "nothing written there");

    // The $TMPDIR/mrhost-cache fallback (no HOME), made first by someone else.
    let tmp = fresh_cache("tmpdir");
    let planted = tmp.join("mrhost-cache");
    std::fs::create_dir_all(&planted).unwrap();
    std::fs::set_permissions(&planted, std::fs::Permissions::from_mode(0o777)).unwrap();
    let r = run(&|c| {
        c.env_remove("MRHOST_CACHE_DIR")
            .env_remove("XDG_CACHE_HOME")
            .env_remove("HOME")
            .env("TMPDIR", &tmp);
    });
    assert!(
        r.stderr.contains("compile cache disabled") && r.stderr.contains(path_str(&planted)),
        "{}",
        r.stderr
    );
    assert!(!planted.join("compiled").exists());

    // Owned by another user (the tests run as root, which can make one).
    let theirs = fresh_cache("theirs");
    std::fs::create_dir_all(&theirs).unwrap();
    if std::os::unix::fs::chown(&theirs, Some(65534), Some(65534)).is_ok() {
        let r = run(&|c| {
            c.env("MRHOST_CACHE_DIR", &theirs);
        });
        assert!(
            r.stderr.contains("belongs to another user (uid 65534)"),
            "{}",
            r.stderr
        );
        assert!(!theirs.join("compiled").exists());
    }
    for d in [open, tmp, theirs] {
        let _ = std::fs::remove_dir_all(d);
    }
}

#[test]
fn a_manifest_that_never_returns_is_stopped_at_the_timeout_given() {
    let p = plugin("hostile-manifest");
    let run = mrhost(&[
        "plugins",
        "inspect",
        path_str(&p),
        "--manifest-timeout",
        "2",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(run.stderr.trim().lines().count(), 1, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "invalid manifest: manifest() failed: limit exceeded: deadline of 2s exceeded (plugin timeout)"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.elapsed < std::time::Duration::from_secs(20),
        "{:?}",
        run.elapsed
    );
}
