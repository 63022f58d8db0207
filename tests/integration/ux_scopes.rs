//! Issue 20 (finding plugins, scopes, help and packaging) and issue 15 item 9 (bad flags),
//! each command run as the issues write it: against moto on 127.0.0.1 where it calls AWS,
//! with a listener that must see no connection where it must fail before any call.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::common::*;

/// A scratch directory of this test.
fn scratch(name: &str) -> PathBuf {
    let d = cache_dir().join(format!("ux-{name}"));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The run failed with exit 2 and one line on stderr that contains `needle`.
fn usage_error(run: &Run, needle: &str) {
    assert_eq!(
        run.code, 2,
        "exit 2 (usage): stdout {} stderr {}",
        run.stdout, run.stderr
    );
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line: {}", run.stderr);
    assert!(
        lines[0].starts_with("mrhost: error: ") && lines[0].contains(needle),
        "{needle} in {}",
        lines[0]
    );
    assert!(run.stdout.is_empty(), "nothing on stdout: {}", run.stdout);
}

/// An endpoint that records whether anything connected (it never answers).
struct Silent {
    listener: TcpListener,
    url: String,
}

impl Silent {
    fn start() -> Silent {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        listener.set_nonblocking(true).unwrap();
        Silent { listener, url }
    }

    fn connected(&self) -> bool {
        self.listener.accept().is_ok()
    }
}

#[test]
fn bad_flags_are_one_line_usage_errors_before_anything_runs() {
    let vpcs = plugin("vpcs");
    let vpcs = path_str(&vpcs);
    // Issue 15 item 9: no panic (exit 101), no wrap to 0.
    let run = mrhost(&["run", vpcs, "--timeout", "18446744073709551615"]);
    usage_error(&run, "--timeout");
    let run = mrhost(&["run", vpcs, "--memory-limit", "17592186044416"]);
    usage_error(&run, "--memory-limit");
    for flag in ["--max-emit-mib", "--max-response-mib", "--cache-max-mib"] {
        usage_error(&mrhost(&["run", vpcs, flag, "17592186044416"]), flag);
    }
    usage_error(
        &mrhost(&["run", vpcs, "--concurrency", "0"]),
        "--concurrency",
    );
    // A device or a directory is not a plugin: refused at once, not read until killed.
    let run = mrhost(&["run", "/dev/zero"]);
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.trim().lines().count() == 1 && run.stderr.contains("not a regular file"),
        "{}",
        run.stderr
    );
    assert!(run.elapsed.as_secs() < 20, "{:?}", run.elapsed);
    let run = mrhost(&["run", "/tmp"]);
    assert!(run.stderr.contains("not a regular file"), "{}", run.stderr);

    // Scope flags that need each other, or exclude each other.
    let silent = Silent::start();
    let ep = silent.url.as_str();
    usage_error(
        &mrhost(&[
            "list",
            "ec2",
            "vpcs",
            "--accounts",
            "111111111111",
            "--endpoint-url",
            ep,
        ]),
        "--role",
    );
    usage_error(
        &mrhost(&["run", vpcs, "--org-include", "prod-a", "--endpoint-url", ep]),
        "--org-role",
    );
    usage_error(
        &mrhost(&[
            "call",
            "ec2",
            "DescribeVpcs",
            "--org-exclude",
            "ou-ab12-xyz",
            "--endpoint-url",
            ep,
        ]),
        "--org-role",
    );
    usage_error(
        &mrhost(&[
            "list",
            "ec2",
            "vpcs",
            "--org-role",
            "R",
            "--accounts",
            "111111111111",
            "--role",
            "R",
            "--endpoint-url",
            ep,
        ]),
        "cannot be used with",
    );
    usage_error(
        &mrhost(&[
            "list",
            "ec2",
            "vpcs",
            "--regoins",
            "all",
            "--endpoint-url",
            ep,
        ]),
        "--regions",
    );
    usage_error(
        &mrhost(&[
            "call",
            "ec2",
            "DescribeVpcs",
            "--params",
            "{bad",
            "--endpoint-url",
            ep,
        ]),
        "--params is not valid JSON",
    );
    usage_error(
        &mrhost(&[
            "list",
            "ec2",
            "vpcs",
            "--regions",
            "eu-wset-2",
            "--endpoint-url",
            ep,
        ]),
        "did you mean eu-west-2",
    );
    // `--accounts @FILE`: a list that is missing, empty, not a list of ids or with no
    // ACTIVE account is one line naming the file.
    let dir = scratch("account-lists");
    // (None: the file is not there.)
    let bad_lists = [
        (
            "empty.txt",
            Some("# none yet\n"),
            "empty.txt: no account ids in it",
        ),
        (
            "short.txt",
            Some("111111111111\n12345\n"),
            "'12345' is not a 12-digit account id",
        ),
        (
            "broken.json",
            Some("{\"Accounts\": ["),
            "broken.json: not JSON",
        ),
        (
            "numbers.json",
            Some("[111111111111]"),
            "the number 111111111111",
        ),
        (
            "suspended.json",
            Some(r#"{"Accounts": [{"Id": "111111111111", "Status": "SUSPENDED"}]}"#),
            "no ACTIVE account in it (1 not ACTIVE)",
        ),
        ("nowhere.txt", None, "nowhere.txt: No such file"),
    ];
    for (name, text, needle) in bad_lists {
        let path = dir.join(name);
        if let Some(text) = text {
            std::fs::write(&path, text).unwrap();
        }
        let arg = format!("@{}", path.display());
        let run = mrhost(&[
            "list",
            "ec2",
            "vpcs",
            "--accounts",
            &arg,
            "--role",
            "R",
            "--endpoint-url",
            ep,
        ]);
        usage_error(&run, needle);
        assert!(run.stderr.contains("--accounts"), "{}", run.stderr);
    }
    assert!(!silent.connected(), "no call was made");
}

#[test]
fn a_misspelt_profile_fails_before_any_call() {
    let dir = scratch("profiles");
    let config = dir.join("config");
    std::fs::write(&config, "[profile prod]\nregion = eu-west-1\n").unwrap();
    let creds = dir.join("credentials");
    std::fs::write(
        &creds,
        "[prod]\naws_access_key_id = testing\naws_secret_access_key = testing\n",
    )
    .unwrap();
    let silent = Silent::start();
    let env = |c: &mut std::process::Command| {
        c.env("AWS_CONFIG_FILE", &config)
            .env("AWS_SHARED_CREDENTIALS_FILE", &creds);
    };
    for profiles in ["prodd", "prod,prodd"] {
        let run = mrhost_with(
            &[
                "list",
                "ec2",
                "vpcs",
                "--profile",
                profiles,
                "--endpoint-url",
                &silent.url,
            ],
            env,
        );
        usage_error(&run, "profile prodd: not found");
        let run = mrhost_with(
            &[
                "call",
                "sts",
                "GetCallerIdentity",
                "--profile",
                profiles,
                "--endpoint-url",
                &silent.url,
            ],
            env,
        );
        usage_error(&run, "prodd");
    }
    // The one to start an Organization from, too.
    let run = mrhost_with(
        &[
            "list",
            "ec2",
            "vpcs",
            "--profile",
            "prodd",
            "--org-role",
            "R",
            "--endpoint-url",
            &silent.url,
        ],
        env,
    );
    usage_error(&run, "profile prodd: not found");
    assert!(!silent.connected(), "no call was made");
}

/// An Organization with two members named member0 and member1; their ids.
fn org(moto: &Moto) -> Vec<String> {
    create_org(moto, 2, "m", "member")
}

fn accounts_of(items: &Value) -> BTreeSet<String> {
    items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["RequestAccount"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn org_include_takes_account_names_and_unknown_ones_fail_before_any_call() {
    let Some(moto) = moto() else { return };
    let ids = org(&moto);
    let base = [
        "--org-role",
        "OrgAuditor",
        "--regions",
        "eu-west-1",
        "-o",
        "json",
    ];
    let list = |extra: &[&str]| {
        let mut args = vec!["list", "ec2", "vpcs"];
        args.extend(base);
        args.extend(extra);
        moto.mrhost(&args)
    };
    // By name, as the issue writes it, and by id: the same account.
    let by_name = list(&["--org-include", "member0"]).ok().json();
    assert_eq!(accounts_of(&by_name), BTreeSet::from([ids[0].clone()]));
    let by_id = list(&["--org-include", &ids[0]]).ok().json();
    assert_eq!(accounts_of(&by_id), accounts_of(&by_name));
    let excluded = list(&["--org-exclude", "member0"]).ok().json();
    assert_eq!(accounts_of(&excluded), BTreeSet::from([ids[1].clone()]));
    // Unknown names and ids: exit 2, one line naming them, no resource call.
    usage_error(&list(&["--org-include", "prod-a"]), "--org-include prod-a");
    usage_error(&list(&["--org-include", "999999999999"]), "999999999999");
    usage_error(&list(&["--org-exclude", "prod-b"]), "--org-exclude prod-b");

    // call keeps one shape whatever the number of accounts: a list of scopes.
    let one = moto
        .mrhost(&["call", "sts", "GetCallerIdentity", "--regions", "eu-west-1"])
        .ok()
        .json();
    let two = moto
        .mrhost(&[
            "call",
            "sts",
            "GetCallerIdentity",
            "--regions",
            "eu-west-1",
            "--org-role",
            "OrgAuditor",
        ])
        .ok()
        .json();
    for doc in [&one, &two] {
        for item in doc.as_array().expect("a list") {
            let keys: Vec<&String> = item.as_object().unwrap().keys().take(2).collect();
            assert_eq!(keys, ["RequestAccount", "RequestRegion"], "{item}");
            assert_eq!(item["Account"], item["RequestAccount"], "{item}");
        }
    }
    assert_eq!(one.as_array().unwrap().len(), 1);
    assert_eq!(accounts_of(&two), ids.iter().cloned().collect());
    // --by-account: {account: {region: response}}.
    let nested = moto
        .mrhost(&[
            "call",
            "sts",
            "GetCallerIdentity",
            "--regions",
            "eu-west-1",
            "--org-role",
            "OrgAuditor",
            "--by-account",
        ])
        .ok()
        .json();
    for id in &ids {
        assert_eq!(nested[id]["eu-west-1"]["Account"], json!(id), "{nested}");
    }
}

#[test]
fn global_services_run_once_per_account_in_list_and_call() {
    let Some(moto) = moto() else { return };
    moto.boto3(vec![
        b3("us-east-1", "s3", "CreateBucket", json!({"Bucket": "ux-one"})),
        b3(
            "eu-west-1",
            "s3",
            "CreateBucket",
            json!({"Bucket": "ux-two", "CreateBucketConfiguration": {"LocationConstraint": "eu-west-1"}}),
        ),
        b3("us-east-1", "iam", "CreateUser", json!({"UserName": "ux-user"})),
    ]);
    // As the issue writes them.
    let buckets = moto
        .mrhost(&["list", "s3", "buckets", "--regions", "all", "-o", "json"])
        .ok()
        .json();
    let names: Vec<&str> = buckets
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["Name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 2, "each bucket once: {names:?}");
    assert_eq!(
        names.iter().copied().collect::<BTreeSet<_>>(),
        BTreeSet::from(["ux-one", "ux-two"])
    );
    let users = moto
        .mrhost(&["call", "iam", "ListUsers", "--regions", "all"])
        .ok()
        .json();
    let scopes = users.as_array().unwrap();
    assert_eq!(scopes.len(), 1, "one copy, not one per region: {users}");
    assert_eq!(scopes[0]["RequestRegion"], "us-east-1");
    assert_eq!(scopes[0]["Users"][0]["UserName"], "ux-user");
    let all = moto
        .mrhost(&["call", "s3", "ListBuckets", "--regions", "eu-*"])
        .ok()
        .json();
    assert_eq!(all.as_array().unwrap().len(), 1, "{all}");
    assert_eq!(all[0]["Buckets"].as_array().unwrap().len(), 2);
    // A regional service still runs in every region asked for.
    let vpcs = moto
        .mrhost(&[
            "call",
            "ec2",
            "DescribeVpcs",
            "--regions",
            "eu-west-1,eu-west-2",
        ])
        .ok()
        .json();
    let regions: Vec<&str> = vpcs
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["RequestRegion"].as_str().unwrap())
        .collect();
    assert_eq!(regions, ["eu-west-1", "eu-west-2"]);
}

/// A copy of the vpcs plugin under another file name in `dir`.
fn plugin_copy(dir: &Path, file: &str) -> PathBuf {
    let p = dir.join(file);
    std::fs::copy(plugin("vpcs"), &p).unwrap();
    p
}

fn sha256(p: &Path) -> String {
    let py = python().unwrap_or_else(|| PathBuf::from("python3"));
    let out = std::process::Command::new(py)
        .args([
            "-c",
            "import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],'rb').read()).hexdigest())",
        ])
        .arg(p)
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn plugins_are_found_on_the_search_path_not_in_the_working_directory() {
    let dir = scratch("search");
    let (envdir, confdir, data, cwd) = (
        dir.join("env"),
        dir.join("conf-plugins"),
        dir.join("data"),
        dir.join("cwd"),
    );
    for d in [&envdir, &confdir, &data, &cwd.join("plugins")] {
        std::fs::create_dir_all(d).unwrap();
    }
    plugin_copy(&envdir, "env-vpcs.wasm");
    plugin_copy(&confdir, "conf-vpcs.wasm");
    plugin_copy(&cwd.join("plugins"), "cwd-vpcs.wasm");
    std::fs::create_dir_all(dir.join("xdg/mrhost")).unwrap();
    std::fs::write(
        dir.join("xdg/mrhost/config"),
        format!("plugin_path = \"{}\"\n", confdir.display()),
    )
    .unwrap();
    let env = |c: &mut std::process::Command| {
        c.env("MRHOST_PLUGIN_PATH", &envdir)
            .env("XDG_CONFIG_HOME", dir.join("xdg"))
            .env("XDG_DATA_HOME", &data)
            .current_dir(&cwd);
    };
    let listed = mrhost_with(&["plugins", "list", "-o", "json"], env)
        .ok()
        .json();
    let paths: Vec<String> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["path"].as_str().unwrap().to_string())
        .collect();
    let has = |file: &str| paths.iter().any(|p| p.ends_with(file));
    assert!(has("env-vpcs.wasm") && has("conf-vpcs.wasm"), "{paths:?}");
    assert!(
        !has("cwd-vpcs.wasm"),
        "the working directory is not searched: {paths:?}"
    );
    // The bundled set beside the binary's source tree is on it too.
    assert!(has("/plugins/subnets.wasm"), "{paths:?}");
    // `plugins path` prints the order.
    let path = mrhost_with(&["plugins", "path"], env).ok().stdout;
    let order: Vec<&str> = path.lines().collect();
    assert!(order[0].starts_with(envdir.to_str().unwrap()), "{path}");
    assert!(order[1].starts_with(confdir.to_str().unwrap()), "{path}");
    assert!(order[2].contains("mrhost/plugins"), "{path}");
    // A directory that is not there is an error, not `[]`.
    usage_error(
        &mrhost(&["plugins", "list", "/nonexistent"]),
        "/nonexistent",
    );
    // A name runs the plugin found on the path.
    let inspect = mrhost_with(&["plugins", "inspect", "env-vpcs"], env)
        .ok()
        .json();
    assert!(inspect["path"].as_str().unwrap().ends_with("env-vpcs.wasm"));
    usage_error(
        &mrhost_with(&["plugins", "inspect", "no-such-plugin"], env),
        "search path",
    );
}

#[test]
fn a_table_that_is_both_a_plugin_and_a_model_type_is_the_plugin_with_a_note() {
    let Some(moto) = moto() else { return };
    let dir = scratch("shadow");
    plugin_copy(&dir, "ec2-vpcs.wasm");
    let sql = "SELECT count(*) AS n FROM ec2_vpcs";
    let run = moto.mrhost(&[
        "query",
        sql,
        "--regions",
        "eu-west-1",
        "--plugins",
        dir.to_str().unwrap(),
        "-o",
        "json",
    ]);
    let run = run.ok();
    assert!(
        run.stderr.contains("note: table ec2_vpcs is the plugin")
            && run.stderr.contains("ec2-vpcs.wasm")
            && run.stderr.contains("model type ec2 vpcs"),
        "{}",
        run.stderr
    );
    assert_eq!(run.json()[0]["n"], 1, "moto's default VPC");
    // The working directory does not change the answer.
    let elsewhere = mrhost_with(
        &[
            "query",
            sql,
            "--regions",
            "eu-west-1",
            "--endpoint-url",
            &moto.url,
            "-o",
            "json",
        ],
        |c| {
            c.current_dir(&dir).env("MRHOST_PLUGIN_PATH", &dir);
        },
    )
    .ok();
    assert_eq!(elsewhere.json(), run.json());
}

/// Serve `body` once over HTTP on 127.0.0.1; the URL.
fn serve_once(body: Vec<u8>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/vpcs.wasm", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        if let Ok((mut s, _)) = listener.accept() {
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(head.as_bytes());
            let _ = s.write_all(&body);
        }
    });
    url
}

#[test]
fn plugins_install_checks_the_pin_and_installs_on_the_search_path() {
    let dir = scratch("install");
    let data = dir.join("data");
    let env = |c: &mut std::process::Command| {
        c.env("XDG_DATA_HOME", &data).env("MRHOST_PLUGIN_PATH", "");
    };
    let vpcs = plugin("vpcs");
    let hash = sha256(&vpcs);
    let installed = data.join("mrhost/plugins/vpcs.wasm");
    // A wrong pin installs nothing.
    let run = mrhost_with(
        &[
            "plugins",
            "install",
            path_str(&vpcs),
            "--sha256",
            &"0".repeat(64),
        ],
        env,
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains(&hash) && !installed.exists(),
        "{}",
        run.stderr
    );
    usage_error(
        &mrhost_with(
            &["plugins", "install", path_str(&vpcs), "--sha256", "xyz"],
            env,
        ),
        "--sha256",
    );
    // A URL needs the pin.
    usage_error(
        &mrhost_with(&["plugins", "install", "http://127.0.0.1:9/vpcs.wasm"], env),
        "--sha256",
    );
    // From a URL with the pin: installed under the plugin's own name.
    let url = serve_once(std::fs::read(&vpcs).unwrap());
    let run = mrhost_with(&["plugins", "install", &url, "--sha256", &hash], env).ok();
    assert!(run.stderr.contains("installed vpcs"), "{}", run.stderr);
    assert_eq!(sha256(&installed), hash);
    // Again: refused without --force; a file works as a URL does.
    let run = mrhost_with(&["plugins", "install", path_str(&vpcs)], env);
    assert_eq!(run.code, 2, "{}", run.stderr);
    mrhost_with(
        &[
            "plugins",
            "install",
            path_str(&vpcs),
            "--force",
            "--sha256",
            &hash,
        ],
        env,
    )
    .ok();
    let listed = mrhost_with(&["plugins", "list", "-o", "json"], env)
        .ok()
        .json();
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["path"] == json!(installed.display().to_string())),
        "{listed}"
    );
    // Not a plugin: refused, nothing left behind.
    let junk = dir.join("junk.wasm");
    std::fs::write(&junk, b"not wasm").unwrap();
    let run = mrhost_with(&["plugins", "install", path_str(&junk)], env);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let left: Vec<_> = std::fs::read_dir(data.join("mrhost/plugins"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, ["vpcs.wasm"]);
}

#[test]
fn unknown_config_keys_are_warned_about_by_name() {
    let dir = scratch("config");
    std::fs::create_dir_all(dir.join("mrhost")).unwrap();
    std::fs::write(
        dir.join("mrhost/config"),
        "regions = eu-west-1\nplugins = /opt/plugins\n[plugins.vpcs]\nx = 1\n[output]\nformat = json\n",
    )
    .unwrap();
    let run = mrhost_with(&["plugins", "path"], |c| {
        c.env("XDG_CONFIG_HOME", &dir);
    })
    .ok();
    assert!(
        run.stderr.contains("unknown key 'plugins'") && run.stderr.contains("plugin_path"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("unknown table [output]"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("'regions'"), "{}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 2, "{}", run.stderr);
}

#[test]
fn help_is_grouped_and_each_command_shows_only_its_flags() {
    let help = |args: &[&str]| {
        let mut a = args.to_vec();
        a.push("--help");
        mrhost(&a).ok().stdout
    };
    let run = help(&["run"]);
    for h in ["Scope:", "Output:", "Requests:", "Cache:", "Sandbox:"] {
        assert!(run.contains(h), "run --help has {h}: {run}");
    }
    for cmd in [
        &["plugins", "list"][..],
        &["plugins", "inspect"],
        &["policy"],
    ] {
        let text = help(cmd);
        // A flag's own entry: the line starts with it (or with its short form).
        let offers = |flag: &str| {
            text.lines()
                .map(str::trim_start)
                .any(|l| l.starts_with(&format!("{flag} ")) || l.contains(&format!(", {flag} ")))
        };
        for flag in ["--memory-limit", "--timeout", "--max-calls", "--regions"] {
            assert!(!offers(flag), "{cmd:?} --help has no {flag}: {text}");
        }
        assert!(offers("--allow"), "{cmd:?}: {text}");
    }
    // The README's usage section names only flags the command's --help has.
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let usage = readme
        .split("## Using it")
        .nth(1)
        .and_then(|s| s.split("```sh").nth(1))
        .and_then(|s| s.split("```").next())
        .expect("a usage block");
    let mut checked = 0;
    for line in usage.lines().map(str::trim) {
        let Some(rest) = line.strip_prefix("mrhost ") else {
            continue;
        };
        let words: Vec<&str> = rest.split_whitespace().collect();
        let mut cmd = vec![words[0]];
        if matches!(words[0], "plugins" | "cache") {
            cmd.push(words[1]);
        }
        let text = help(&cmd);
        let flags = line
            .split('#')
            .next()
            .unwrap()
            .split(|c: char| c.is_whitespace() || c == '[' || c == '=')
            .filter(|w| w.starts_with("--"));
        for f in flags {
            assert!(
                text.contains(f),
                "README: `{line}`: {f} is not in mrhost {cmd:?} --help"
            );
            checked += 1;
        }
    }
    assert!(checked >= 15, "{checked} flags checked");
}

#[test]
fn cache_stats_shows_the_real_default_bound() {
    let stats = mrhost(&["cache", "stats"]).ok().json();
    assert_eq!(stats["max_bytes"], json!(512u64 << 20), "{stats}");
}

#[test]
fn completions_and_the_man_page_come_from_the_clap_definitions() {
    let bash = mrhost(&["completions", "bash"]).ok().stdout;
    assert!(
        bash.contains("_mrhost") && bash.contains("--org-include"),
        "bash"
    );
    let zsh = mrhost(&["completions", "zsh"]).ok().stdout;
    assert!(zsh.starts_with("#compdef mrhost"), "zsh");
    let fish = mrhost(&["completions", "fish"]).ok().stdout;
    assert!(fish.contains("complete -c mrhost"), "fish");
    let man = mrhost(&["completions", "man"]).ok().stdout;
    assert!(
        man.contains(".TH mrhost") && man.contains("completions"),
        "man"
    );
    usage_error(&mrhost(&["completions", "tcsh"]), "tcsh");
}
