//! `mrhost serve`: a local AWS endpoint that holds the credentials. Clients (boto3, the
//! AWS CLI, any SDK) sign with a local key pair; each request is authenticated
//! ([`aws_engine::sigv4_verify`]), identified from the models
//! ([`aws_engine::inbound`]), allowed or refused by its operation class, answered from the
//! response cache when it is a read, else signed again with the real credentials of the
//! key's identity and sent on through the engine ([`aws_engine::forward`]), so every
//! client shares one retry quota and one adaptive limiter per identity, region and service.
//!
//! - [`keys`]: the local key pairs, kept private in the state directory;
//! - [`handler`]: one request, from bytes to answer;
//! - [`errors`]: refusals shaped as AWS shapes them in each protocol;
//! - [`stored`]: raw responses in the response cache;
//! - this module: the listener, connections, and draining on Ctrl-C.

pub mod errors;
pub mod handler;
pub mod keys;
pub mod stored;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;

pub use handler::{KeyIdentity, Limits, Server};

/// How the listener behaves.
#[derive(Debug, Clone)]
pub struct Listening {
    /// Connections open at once (more wait to be accepted).
    pub max_connections: usize,
    /// Time a client has to send a request's head.
    pub header_timeout: Duration,
    /// Time in-flight requests get to finish after Ctrl-C.
    pub drain_timeout: Duration,
}

/// Accept connections until `shutdown` resolves, then stop accepting and let the requests
/// in flight finish (up to the drain time-out). Returns whether every request finished.
pub async fn run(
    server: Arc<Server>,
    listener: TcpListener,
    listening: Listening,
    shutdown: impl std::future::Future<Output = ()>,
) -> bool {
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(tokio::sync::Semaphore::new(
        listening.max_connections.max(1),
    ));
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            _ = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: pause, don't spin.
                    tracing::warn!("accepting a connection failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let srv = server.clone();
        let service = service_fn(move |req| {
            let srv = srv.clone();
            async move { Ok::<_, Infallible>(srv.handle(peer, req).await) }
        });
        let conn = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(listening.header_timeout)
            .keep_alive(true)
            .serve_connection(TokioIo::new(stream), service);
        let watched = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = watched.await {
                tracing::debug!("connection from {peer}: {e}");
            }
            drop(permit);
        });
    }
    drop(listener);
    let open = graceful.count();
    if open > 0 {
        tracing::info!("draining {open} open connection(s)");
    }
    tokio::select! {
        _ = graceful.shutdown() => true,
        _ = tokio::time::sleep(listening.drain_timeout) => false,
    }
}

/// Whether an address is loopback-only (what `--listen` accepts without `--listen-any`).
pub fn is_loopback(addr: &SocketAddr) -> bool {
    addr.ip().is_loopback()
}
