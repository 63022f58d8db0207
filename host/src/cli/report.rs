//! The end of every command: skipped accounts and failed scopes, one line each, the
//! summary, and the exit code.

use plugin_host::escape::escape_controls as esc;

use super::exit;
use crate::pipeline::ScopeFailure;
use crate::plan::{self, SkippedAccount};

/// Print skipped accounts, per-scope failures (one line each) and the summary; pick the
/// exit code. Failures whose code matches --ignore-error-codes are warnings.
pub fn report(
    failures: &[(String, ScopeFailure)],
    skipped: &[SkippedAccount],
    total: usize,
    what: &str,
    ignore: &[String],
) -> i32 {
    let mut failed = 0;
    let mut ignored = 0;
    for s in skipped {
        if s.failure && !plan::code_ignored(s.code.as_deref(), ignore) {
            eprintln!(
                "mrhost: error: account {} skipped: {}",
                esc(&s.account),
                esc(&s.reason)
            );
            failed += 1;
        } else {
            eprintln!(
                "mrhost: warning: account {} skipped: {}",
                esc(&s.account),
                esc(&s.reason)
            );
        }
    }
    for (label, f) in failures {
        if plan::code_ignored(f.code.as_deref(), ignore) {
            eprintln!(
                "mrhost: warning: {} {label} skipped: {}",
                esc(what),
                esc(&f.message)
            );
            ignored += 1;
        } else {
            eprintln!("mrhost: error: {} {label}: {}", esc(what), esc(&f.message));
            failed += 1;
        }
    }
    let ok = total - failures.len();
    if failed == 0 {
        if ignored > 0 {
            eprintln!("mrhost: {ok} of {total} scopes succeeded; {ignored} skipped for ignored error codes");
        }
        exit::OK
    } else if ok == 0 {
        // Nothing succeeded.
        exit::ERROR
    } else {
        eprintln!("mrhost: {failed} failed, {ok} of {total} scopes succeeded; the successful scopes' results are complete");
        exit::PARTIAL
    }
}
