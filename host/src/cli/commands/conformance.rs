//! `mrhost conformance DIR`: run AWS protocol test vectors (botocore's format) through the
//! engine's serializers and parsers, and print the figures per protocol.

use std::path::Path;

use anyhow::Result;

use crate::cli::exit;

/// Run every case of `dir`; list the failing ones when `failures` is set.
pub fn conformance(dir: &Path, failures: bool) -> Result<i32> {
    let results = mrhost_conformance::run_dir(&dir).map_err(|e| anyhow::anyhow!(e))?;
    for line in mrhost_conformance::summary(&results) {
        println!("{line}");
    }
    let failed: Vec<_> = results
        .iter()
        .filter(|r| matches!(r.outcome, mrhost_conformance::Outcome::Fail(_)))
        .collect();
    if failures {
        for r in &failed {
            if let mrhost_conformance::Outcome::Fail(why) = &r.outcome {
                println!("FAIL {} {} {}: {why}", r.protocol, r.kind, r.id);
            }
        }
    }
    Ok(if failed.is_empty() {
        exit::OK
    } else {
        exit::ERROR
    })
}
