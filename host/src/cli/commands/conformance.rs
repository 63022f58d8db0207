//! `mrhost conformance DIR`: run AWS protocol test vectors (botocore's format) through the
//! engine's serializers and parsers, and print the figures per protocol and class of check.

use std::path::Path;

use anyhow::Result;

use crate::cli::exit;

/// Run every case of `dir`; name the first 20 failing cases (all of them with `failures`).
pub fn conformance(dir: &Path, failures: bool) -> Result<i32> {
    let results = mrhost_conformance::run_dir(dir)?;
    for line in mrhost_conformance::summary(&results) {
        println!("{line}");
    }
    let limit = if failures { usize::MAX } else { 20 };
    let failed = mrhost_conformance::failures(&results, limit);
    for line in &failed {
        println!("{line}");
    }
    Ok(if failed.is_empty() {
        exit::OK
    } else {
        exit::ERROR
    })
}
