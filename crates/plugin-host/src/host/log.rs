//! The `log` interface and the plugin's stdout/stderr: complete lines go to the host log,
//! prefixed with the plugin and scope, every control character escaped; at most
//! `--max-log-kib` per scope, past which the scope is stopped.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use wasmtime_wasi::cli::{IsTerminal, StdoutStream};

use crate::bindings::{v0_1, v0_2};
use crate::escape::{escape_bytes, escape_controls};
use crate::limits::{LimitExceeded, LimitKind, Tripwire};

/// A log level, whatever the contract version.
#[derive(Debug, Clone, Copy)]
enum Level {
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

/// The log state of one store: shared with the WASI stdout/stderr streams.
pub(crate) struct LogState {
    buf: Arc<Mutex<LogBuf>>,
    trip: Tripwire,
}

struct LogBuf {
    prefix: String,
    partial: Vec<u8>,
    written: usize,
    cap: usize,
    dropped: usize,
    /// The last lines the plugin wrote (a panic message, usually), for trap errors.
    last_lines: VecDeque<String>,
}

impl LogBuf {
    /// Take up to the cap; false once past it.
    fn admit(&mut self, n: usize) -> usize {
        let room = self.cap.saturating_sub(self.written);
        let take = n.min(room);
        self.written += take;
        self.dropped += n - take;
        take
    }
}

fn lock(buf: &Mutex<LogBuf>) -> std::sync::MutexGuard<'_, LogBuf> {
    buf.lock().unwrap_or_else(|p| p.into_inner())
}

impl LogState {
    pub(crate) fn new(prefix: String, cap: usize, trip: Tripwire) -> Self {
        LogState {
            buf: Arc::new(Mutex::new(LogBuf {
                prefix: escape_controls(&prefix).into_owned(),
                partial: Vec::new(),
                written: 0,
                cap,
                dropped: 0,
                last_lines: VecDeque::new(),
            })),
            trip,
        }
    }

    /// The stream the WASI context writes the plugin's stdout and stderr to.
    pub(crate) fn stream(&self) -> LogStream {
        LogStream {
            buf: self.buf.clone(),
            trip: self.trip.clone(),
        }
    }

    /// The plugin's last words: its last two stdout/stderr lines (Rust's panic location
    /// and message), escaped, without the RUST_BACKTRACE hint.
    pub(crate) fn last_lines(&self) -> Option<String> {
        let b = lock(&self.buf);
        let kept: Vec<&str> = b.last_lines.iter().map(String::as_str).collect();
        (!kept.is_empty()).then(|| kept.join(" "))
    }

    fn limit(&self) -> LimitExceeded {
        LimitExceeded {
            kind: LimitKind::Log,
            limit: lock(&self.buf).cap as u64,
        }
    }

    /// One `log` call: false (and the limit recorded) past the cap.
    fn log(&self, level: Level, message: &str) -> bool {
        let mut b = lock(&self.buf);
        if b.admit(message.len()) < message.len() {
            drop(b);
            self.trip.trip(self.limit());
            return false;
        }
        let message = escape_controls(message);
        let p = &b.prefix;
        match level {
            Level::Error => tracing::error!(target: "plugin", "[{p}] {message}"),
            Level::Warn => tracing::warn!(target: "plugin", "[{p}] {message}"),
            Level::Info => tracing::info!(target: "plugin", "[{p}] {message}"),
            Level::Debug => tracing::debug!(target: "plugin", "[{p}] {message}"),
            Level::Trace => tracing::trace!(target: "plugin", "[{p}] {message}"),
        }
        true
    }

    /// Write out a last unfinished line and say how much was dropped; at the end of a
    /// scope.
    pub(crate) fn flush(&self) {
        let mut b = lock(&self.buf);
        if !b.partial.is_empty() {
            let text = escape_bytes(&b.partial);
            tracing::info!(target: "plugin", "[{}] {}", b.prefix, text.trim_end());
            b.partial.clear();
        }
        if b.dropped > 0 {
            tracing::warn!(target: "plugin", "[{}] log limit of {} bytes reached; {} bytes dropped", b.prefix, b.cap, b.dropped);
            b.dropped = 0;
        }
    }
}

/// The plugin's stdout/stderr.
#[derive(Clone)]
pub(crate) struct LogStream {
    buf: Arc<Mutex<LogBuf>>,
    trip: Tripwire,
}

impl LogStream {
    /// Accept bytes up to the cap, logging each complete line. Past the cap the limit is
    /// recorded and the write fails, which stops the guest.
    fn write(&self, bytes: &[u8]) -> std::io::Result<()> {
        let mut b = lock(&self.buf);
        let take = b.admit(bytes.len());
        b.partial.extend_from_slice(&bytes[..take]);
        while let Some(nl) = b.partial.iter().position(|c| *c == b'\n') {
            let line: Vec<u8> = b.partial.drain(..=nl).collect();
            let text = escape_bytes(&line[..line.len() - 1]).trim_end().to_string();
            tracing::info!(target: "plugin", "[{}] {}", b.prefix, text);
            if !text.is_empty() && !text.starts_with("note: run with `RUST_BACKTRACE") {
                if b.last_lines.len() == 2 {
                    b.last_lines.pop_front();
                }
                b.last_lines.push_back(text);
            }
        }
        if take < bytes.len() {
            let limit = LimitExceeded {
                kind: LimitKind::Log,
                limit: b.cap as u64,
            };
            drop(b);
            self.trip.trip(limit);
            return Err(std::io::Error::other(limit));
        }
        Ok(())
    }
}

impl IsTerminal for LogStream {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for LogStream {
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(LogWriter(self.clone()))
    }
}

struct LogWriter(LogStream);

impl tokio::io::AsyncWrite for LogWriter {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Poll::Ready(self.0.write(buf).map(|()| buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// The `log` interface's view of the store.
pub(crate) struct LogView<'a> {
    pub(crate) log: &'a mut LogState,
    pub(crate) trip: &'a Tripwire,
}

impl LogView<'_> {
    fn log(&mut self, level: Level, message: &str) -> wasmtime::Result<()> {
        self.trip.check_deadline()?;
        if self.log.log(level, message) {
            Ok(())
        } else {
            Err(self.trip.trip(self.log.limit()))
        }
    }
}

impl v0_1::mrhost::plugin::log::Host for LogView<'_> {
    async fn log(
        &mut self,
        level: v0_1::mrhost::plugin::types::Level,
        message: String,
    ) -> wasmtime::Result<()> {
        use v0_1::mrhost::plugin::types::Level as L;
        let level = match level {
            L::Error => Level::Error,
            L::Warn => Level::Warn,
            L::Info => Level::Info,
            L::Debug => Level::Debug,
            L::Trace => Level::Trace,
        };
        LogView::log(self, level, &message)
    }
}

impl v0_2::mrhost::plugin::log::Host for LogView<'_> {
    async fn log(
        &mut self,
        level: v0_2::mrhost::plugin::types::Level,
        message: String,
    ) -> wasmtime::Result<()> {
        use v0_2::mrhost::plugin::types::Level as L;
        let level = match level {
            L::Error => Level::Error,
            L::Warn => Level::Warn,
            L::Info => Level::Info,
            L::Debug => Level::Debug,
            L::Trace => Level::Trace,
        };
        LogView::log(self, level, &message)
    }
}
