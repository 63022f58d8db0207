//! The SQLite destination's checkpoints, on a thread of their own.
//!
//! In WAL mode every committed page is written twice: into the WAL by the commit, then
//! into the database by a checkpoint. SQLite's automatic checkpoint runs inside the commit
//! that crosses 1,000 WAL pages, on the committing thread — the sync's single writer,
//! which is the sync's one serial part: at the 1,000-account bench the checkpoints were a
//! fifth of its time, and while it checkpointed every fetched unit waited. Here a second
//! connection checkpoints (`PASSIVE`: it never blocks the writer, which goes on
//! appending) when the writer says it has committed, at most every [`PAUSE`].
//!
//! The writer keeps SQLite's automatic checkpoint, at [`WRITER_CHECKPOINT`] pages instead
//! of 1,000: a checkpoint that runs while the writer commits cannot copy the newest pages,
//! and the WAL restarts from its beginning only once every page has been copied, so the
//! writer's own checkpoint bounds the WAL (and finds most of it copied already). If the
//! thread or its connection cannot start, the writer checkpoints at SQLite's 1,000 pages:
//! nothing depends on this thread but speed.

use std::path::Path;
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::Connection;

/// The least time between two checkpoints: a few MB of WAL at the writer's pace, so each
/// copies many commits' pages at once (a page rewritten by several commits is copied once).
const PAUSE: Duration = Duration::from_millis(200);

/// WAL pages past which the writer checkpoints itself (64 MiB of 16 KiB pages).
pub(super) const WRITER_CHECKPOINT: u32 = 4000;

pub(super) struct Checkpointer {
    /// Dropped to stop the thread.
    poke: Option<SyncSender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Open a second connection to `path` and start checkpointing on its own thread;
    /// `None` if either cannot be had.
    pub(super) fn start(path: &Path) -> Option<Checkpointer> {
        let conn = Connection::open(path).ok()?;
        conn.busy_timeout(Duration::from_secs(5)).ok()?;
        let (poke, rx) = sync_channel::<()>(1);
        let thread = std::thread::Builder::new()
            .name("mrhost-checkpoint".into())
            .spawn(move || run(conn, rx))
            .ok()?;
        Some(Checkpointer {
            poke: Some(poke),
            thread: Some(thread),
        })
    }

    /// The writer committed: checkpoint soon. Never waits (a poke already pending is
    /// enough).
    pub(super) fn poke(&self) {
        if let Some(p) = &self.poke {
            // Full: a poke is pending already. Disconnected: the thread is gone, and the
            // writer's own checkpoint still bounds the WAL.
            let _ = p.try_send(());
        }
    }
}

fn run(conn: Connection, rx: Receiver<()>) {
    let mut pending = false;
    loop {
        if !pending && rx.recv().is_err() {
            return;
        }
        pending = false;
        // A checkpoint that fails (busy, say) is retried at the next poke; the WAL keeps
        // every committed page meanwhile, so nothing is lost by it.
        let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
        // Pokes during the pause fold into the next checkpoint; a closed channel (the
        // store dropped) ends the thread at once.
        let until = Instant::now() + PAUSE;
        loop {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            match rx.recv_timeout(left) {
                Ok(()) => pending = true,
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
    }
}

impl Drop for Checkpointer {
    /// Stop the thread and close its connection before the writer's own closes (the last
    /// connection to close checkpoints what is left and removes the WAL).
    fn drop(&mut self) {
        drop(self.poke.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wal_db(dir: &Path) -> (std::path::PathBuf, Connection) {
        let path = dir.join("c.sqlite");
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(
            "PRAGMA page_size = 16384; PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0;
             CREATE TABLE t (x TEXT);",
        )
        .unwrap();
        (path, conn)
    }

    /// With the writer's own checkpoint off, the committed pages still reach the database
    /// file: this thread copied them.
    #[test]
    fn commits_are_copied_into_the_database_beside_the_writer() {
        let dir = std::env::temp_dir().join(format!("mrhost-ckpt-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (path, conn) = wal_db(&dir);
        let before = std::fs::metadata(&path).unwrap().len();
        let c = Checkpointer::start(&path).unwrap();
        for i in 0..20 {
            conn.execute("INSERT INTO t VALUES (?1)", [format!("{i:0>20000}")])
                .unwrap();
            c.poke();
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::fs::metadata(&path).unwrap().len() < before + 20 * 20_000
            && Instant::now() < deadline
        {
            c.poke();
            std::thread::sleep(Duration::from_millis(20));
        }
        let after = std::fs::metadata(&path).unwrap().len();
        // Stopping is prompt, even with a pause under way.
        let t = Instant::now();
        drop(c);
        assert!(t.elapsed() < PAUSE * 2, "stopping took {:?}", t.elapsed());
        drop(conn);
        let _ = std::fs::remove_dir_all(&dir);
        assert!(
            after >= before + 20 * 20_000,
            "the database file stayed at {after} bytes (from {before})"
        );
    }
}
