//! A plan's accounts as a list that grows while it is read: an Organization's are listed a
//! page at a time (20 accounts a page, a few pages a second), and a reader can take each
//! account as it arrives or wait for the whole list.

use std::sync::{Arc, Mutex, MutexGuard};

use futures::stream::{self, Stream};
use tokio::sync::{Notify, OnceCell};

use super::{Account, SkippedAccount};

/// One account of the plan and its regions, resolved on first use and then kept.
pub struct Entry {
    pub account: Account,
    pub regions: OnceCell<Result<Vec<String>, SkippedAccount>>,
}

#[derive(Default)]
struct State {
    entries: Vec<Arc<Entry>>,
    skipped: Vec<SkippedAccount>,
    /// Set once no account will be added: `Err` says why the list is incomplete.
    end: Option<Result<(), String>>,
}

/// The accounts found so far, and whether there will be more.
#[derive(Default)]
pub struct Feed {
    state: Mutex<State>,
    grew: Notify,
}

impl Feed {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// More accounts, and accounts that take no part.
    pub fn push(&self, accounts: Vec<Account>, skipped: Vec<SkippedAccount>) {
        {
            let mut s = self.state();
            s.entries.extend(accounts.into_iter().map(|account| {
                Arc::new(Entry {
                    account,
                    regions: OnceCell::new(),
                })
            }));
            s.skipped.extend(skipped);
        }
        self.grew.notify_waiters();
    }

    /// No account will be added (the first end is kept).
    pub fn finish(&self, end: Result<(), String>) {
        self.state().end.get_or_insert(end);
        self.grew.notify_waiters();
    }

    /// The accounts found so far.
    pub fn snapshot(&self) -> Vec<Arc<Entry>> {
        self.state().entries.clone()
    }

    /// The accounts skipped so far.
    pub fn skipped(&self) -> Vec<SkippedAccount> {
        self.state().skipped.clone()
    }

    /// Wait until `ready` has an answer from the state, re-asking each time it changes.
    async fn wait<T>(&self, mut ready: impl FnMut(&State) -> Option<T>) -> T {
        loop {
            let grew = self.grew.notified();
            tokio::pin!(grew);
            // Registered before the state is read, so a change after the read wakes it.
            grew.as_mut().enable();
            if let Some(out) = ready(&self.state()) {
                return out;
            }
            grew.await;
        }
    }

    /// Every account, once the list is complete; its error if it cannot be.
    pub async fn all(&self) -> Result<Vec<Arc<Entry>>, String> {
        self.wait(|s| match &s.end {
            None => None,
            Some(Ok(())) => Some(Ok(s.entries.clone())),
            Some(Err(e)) => Some(Err(e.clone())),
        })
        .await
    }

    /// Each account as it is found, in order; the list's error, if it ends with one, last.
    pub fn stream(&self) -> impl Stream<Item = Result<Arc<Entry>, String>> + '_ {
        stream::unfold(Some(0usize), move |next| async move {
            let i = next?;
            self.wait(|s| match (s.entries.get(i), &s.end) {
                (Some(e), _) => Some(Some((Ok(e.clone()), Some(i + 1)))),
                (None, None) => None,
                (None, Some(Ok(()))) => Some(None),
                (None, Some(Err(e))) => Some(Some((Err(e.clone()), None))),
            })
            .await
        })
    }
}

/// Ends a feed when its writer stops, however it stops: with the writer's own end, or (if
/// it panicked or was cancelled first) with an error, so no reader waits forever.
pub struct EndGuard(pub Arc<Feed>);

impl EndGuard {
    pub fn finish(self, end: Result<(), String>) {
        self.0.finish(end);
    }
}

impl Drop for EndGuard {
    fn drop(&mut self) {
        self.0.finish(Err(
            "the Organization's account list stopped being read".into()
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_engine::CredentialSource;
    use futures::StreamExt;

    fn account(id: &str) -> Account {
        Account {
            id: id.into(),
            label: id.into(),
            creds: Arc::new(CredentialSource::fixed("AKIDEXAMPLE", "secret", None)),
            default_region: None,
        }
    }

    fn ids(entries: &[Arc<Entry>]) -> Vec<String> {
        entries.iter().map(|e| e.account.id.clone()).collect()
    }

    #[tokio::test]
    async fn a_reader_gets_each_account_before_the_list_is_complete() {
        let feed = Arc::new(Feed::default());
        feed.push(vec![account("1")], vec![]);
        let mut s = Box::pin(feed.stream());
        assert_eq!(s.next().await.unwrap().unwrap().account.id, "1");
        // Nothing more yet, and the list is not complete: the reader waits.
        let waiting = tokio::time::timeout(std::time::Duration::from_millis(50), s.next()).await;
        assert!(
            waiting.is_err(),
            "the reader must wait for the next account"
        );
        let writer = {
            let feed = feed.clone();
            tokio::spawn(async move {
                feed.push(vec![account("2"), account("3")], vec![]);
                feed.finish(Ok(()));
            })
        };
        let rest: Vec<String> = s.map(|e| e.unwrap().account.id.clone()).collect().await;
        assert_eq!(rest, ["2", "3"]);
        writer.await.unwrap();
        assert_eq!(ids(&feed.all().await.unwrap()), ["1", "2", "3"]);
    }

    #[tokio::test]
    async fn a_list_that_fails_part_way_ends_each_reader_with_its_error() {
        let feed = Arc::new(Feed::default());
        feed.push(
            vec![account("1")],
            vec![SkippedAccount {
                account: "9".into(),
                reason: "account is SUSPENDED".into(),
                code: None,
                failure: false,
            }],
        );
        feed.finish(Err(
            "listing the Organization's accounts: page 2 failed".into()
        ));
        let got: Vec<Result<String, String>> = feed
            .stream()
            .map(|e| e.map(|e| e.account.id.clone()))
            .collect()
            .await;
        assert_eq!(
            got,
            [
                Ok("1".to_string()),
                Err("listing the Organization's accounts: page 2 failed".to_string())
            ]
        );
        assert!(feed.all().await.err().unwrap().contains("page 2 failed"));
        assert_eq!(feed.skipped().len(), 1);
    }

    #[tokio::test]
    async fn a_writer_that_stops_without_an_end_still_ends_the_list() {
        let feed = Arc::new(Feed::default());
        let guard = EndGuard(feed.clone());
        let task = tokio::spawn(async move {
            let _guard = guard;
            std::future::pending::<()>().await;
        });
        task.abort();
        let _ = task.await;
        let e = feed.all().await.err().unwrap();
        assert!(e.contains("stopped being read"), "{e}");
    }
}
