//! What a person at a terminal sees while a run goes on (an indicatif line on stderr:
//! scopes, resources, API calls, throttles) and the one-line summary at the end.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::pipeline::Counters;
use aws_engine::AwsClient;

pub struct Progress {
    bar: Option<ProgressBar>,
    ticker: Option<tokio::task::JoinHandle<()>>,
    started: Instant,
}

fn line(c: &Counters, client: &AwsClient) -> String {
    let s = client.stats();
    let failed = c.scopes_failed.load(Relaxed);
    format!(
        "{} resources · {} API calls · {} cached · {} throttled{}",
        c.resources.load(Relaxed),
        s.requests.load(Relaxed),
        s.cache_hits.load(Relaxed),
        s.throttles.load(Relaxed),
        if failed > 0 {
            format!(" · {failed} scopes failed")
        } else {
            String::new()
        }
    )
}

impl Progress {
    /// A live display on stderr when it is a terminal and `--quiet` is off; nothing on a pipe.
    pub fn start(
        total: usize,
        counters: Arc<Counters>,
        client: AwsClient,
        quiet: bool,
    ) -> Progress {
        let tty = std::io::IsTerminal::is_terminal(&std::io::stderr());
        if quiet || !tty || total == 0 {
            return Progress {
                bar: None,
                ticker: None,
                started: Instant::now(),
            };
        }
        let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{spinner} scopes {pos}/{len} [{elapsed}] {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        let b = bar.clone();
        let ticker = tokio::spawn(async move {
            loop {
                b.set_position(counters.scopes_done.load(Relaxed));
                b.set_message(line(&counters, &client));
                b.tick();
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
        Progress {
            bar: Some(bar),
            ticker: Some(ticker),
            started: Instant::now(),
        }
    }

    /// Remove the live line; print the summary when a person is watching (a terminal) or
    /// asked for it (`-v`).
    pub fn finish(
        self,
        counters: &Counters,
        client: &AwsClient,
        total: usize,
        skipped: usize,
        show: bool,
    ) {
        if let Some(t) = self.ticker {
            t.abort();
        }
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
        let tty = std::io::IsTerminal::is_terminal(&std::io::stderr());
        if !(show || (tty && self.bar.is_some())) {
            return;
        }
        let failed = counters.scopes_failed.load(Relaxed) as usize;
        let s = client.stats();
        eprintln!(
            "mrhost: summary: {total} scopes ({} ok, {failed} failed, {skipped} skipped) · {} resources · {} API calls ({} cached, {} retries, {} throttled) · {:.1?}",
            total.saturating_sub(failed),
            counters.resources.load(Relaxed),
            s.requests.load(Relaxed),
            s.cache_hits.load(Relaxed),
            s.retries.load(Relaxed),
            s.throttles.load(Relaxed),
            self.started.elapsed()
        );
    }
}
