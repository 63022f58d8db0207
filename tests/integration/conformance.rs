//! The AWS protocol conformance vectors (botocore format) through the real serializer and
//! parser, no network. Vectors come from `MRHOST_PROTOCOL_TESTS`, else `../shared/protocol-tests`
//! beside the repo. Any directory in the same format can be run standalone:
//! `MRHOST_PROTOCOL_TESTS=DIR cargo test --test integration conformance -- --nocapture`
//! or `mrhost conformance DIR --failures`.

use mrhost_conformance::{failures, run_dir, summary, Outcome};

use crate::common::repo_root;

/// The protocols the engine claims, and the pass rate each must reach on the cases the
/// vectors' ignore list does not exclude.
const REQUIRED: &[&str] = &[
    "ec2",
    "query",
    "json",
    "json_1_0",
    "rest-json",
    "rest-xml",
    "smithy-rpc-v2-cbor",
];
const MIN_PASS_RATE: f64 = 1.0;

#[test]
fn protocol_vectors_pass() {
    let dir = std::env::var_os("MRHOST_PROTOCOL_TESTS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| repo_root().join("../shared/protocol-tests"));
    if !dir.join("input").is_dir() {
        let ci = std::env::var("CI")
            .map(|v| v == "true" || v == "1")
            .unwrap_or(false);
        assert!(
            !ci,
            "protocol vectors not found at {} (required under CI=true)",
            dir.display()
        );
        eprintln!(
            "SKIPPED: no protocol vectors at {} (set MRHOST_PROTOCOL_TESTS)",
            dir.display()
        );
        return;
    }
    let results = run_dir(&dir).expect("read vectors");
    println!("protocol conformance ({}):", dir.display());
    for line in summary(&results) {
        println!("  {line}");
    }
    for line in failures(&results, usize::MAX) {
        println!("  {line}");
    }
    for proto in REQUIRED {
        for kind in ["input", "output"] {
            let cases: Vec<_> = results
                .iter()
                .filter(|r| r.protocol == *proto && r.kind == kind)
                .collect();
            let run: Vec<_> = cases
                .iter()
                .filter(|r| !matches!(r.outcome, Outcome::Skip(_)))
                .collect();
            let passed = run.iter().filter(|r| r.outcome == Outcome::Pass).count();
            if std::env::var_os("MRHOST_PROTOCOL_TESTS").is_none() {
                assert!(!run.is_empty(), "no {proto} {kind} cases ran");
            }
            if !run.is_empty() {
                let rate = passed as f64 / run.len() as f64;
                assert!(
                    rate >= MIN_PASS_RATE,
                    "{proto} {kind}: {passed}/{} passed ({:.1}%), below {:.0}%",
                    run.len(),
                    rate * 100.0,
                    MIN_PASS_RATE * 100.0
                );
            }
        }
    }
}
