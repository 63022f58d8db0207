//! The chains lane: a tokio runtime of its own (one thread, `mrhost-chains`) where a
//! pagination that runs long makes its remaining calls.
//!
//! A scope's pages come one after another, each call waiting for the one before, so a
//! long chain's wall time is its page count × each step's time. On the main runtime a step
//! waits its turn behind every other ready task at every wake-up (the answer's headers, its
//! body, the parse), and with a thousand units in flight on two cores those waits added
//! 70-125 ms to each 140-250 ms call (`bench/org_bench.py`, 1,000 accounts): the longest
//! chains set the sync's wall time. In the lane, a step waits only for the few other long
//! chains. The items still go to the unit's own task on the main runtime, which is
//! throughput work and may lag.
//!
//! The lane's calls take the client's second connection pool ([`AwsClient::second_pool`]):
//! a connection is served by the runtime that opened it.
//!
//! [`AwsClient::second_pool`]: aws_engine::AwsClient::second_pool

use std::future::Future;
use std::sync::OnceLock;

use tokio::runtime::{Handle, Runtime};

/// Pages after which a pagination that is still going moves to the lane.
pub const AFTER_PAGES: u64 = 3;

static LANE: OnceLock<Option<Runtime>> = OnceLock::new();

/// The lane, started when first asked for (none if its thread cannot start: then chains
/// stay where they are).
pub fn handle() -> Option<Handle> {
    LANE.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("mrhost-chains")
            .enable_all()
            .build()
            .ok()
    })
    .as_ref()
    .map(|r| r.handle().clone())
}

/// The lane was shut down under a running chain (not expected: it lives as long as the
/// process).
#[derive(Debug, thiserror::Error)]
#[error("the chains lane stopped")]
pub struct LaneStopped;

/// Run `fut` in the lane and wait for its output. Dropping the wait aborts the lane's
/// task with it, as dropping the future would have; a panic there resumes here.
pub async fn run<T, F>(lane: &Handle, fut: F) -> Result<T, LaneStopped>
where
    T: Send + 'static,
    F: Future<Output = T> + Send + 'static,
{
    struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);
    impl<T> Drop for AbortOnDrop<T> {
        fn drop(&mut self) {
            self.0.abort();
        }
    }
    let mut task = AbortOnDrop(lane.spawn(fut));
    match (&mut task.0).await {
        Ok(v) => Ok(v),
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(_) => Err(LaneStopped),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn runs_on_the_lane_thread_and_returns_its_output() {
        let lane = handle().expect("the lane starts");
        let name = run(&lane, async {
            std::thread::current().name().map(String::from)
        })
        .await
        .expect("not stopped");
        assert_eq!(name.as_deref(), Some("mrhost-chains"));
    }

    #[tokio::test]
    async fn dropping_the_wait_aborts_the_lane_task() {
        let lane = handle().expect("the lane starts");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let wait = run(&lane, async move {
            let _tx = tx; // dropped when the task is aborted
            std::future::pending::<()>().await
        });
        // Poll once so the task is spawned, then drop the wait.
        let _ = tokio::time::timeout(std::time::Duration::from_millis(20), wait).await;
        assert!(
            tokio::time::timeout(std::time::Duration::from_secs(5), rx)
                .await
                .expect("the lane task ended")
                .is_err(),
            "aborted, not completed"
        );
    }
}
