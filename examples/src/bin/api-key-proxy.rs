//! `api-key-proxy`: the app calls this proxy with its Approov token and no
//! API key; the proxy checks the token, adds the third-party key, forwards
//! the request and streams the answer back. A client without a genuine
//! token gets 401 and never learns the key.
//!
//! ```text
//! APPROOV_BASE64_SECRET=... UPSTREAM_URL=https://api.nasa.gov \
//! API_KEY="$NASA_API_KEY" API_KEY_QUERY_PARAM=api_key \
//!     cargo run -p approov-examples --bin api-key-proxy
//! ```
//!
//! Every setting (routes file, timeouts, rate limit, report-only mode) is
//! described in the `approov_examples::proxy` module docs.

use std::io;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use approov_examples::proxy::{Proxy, ProxyConfig};
use approov_examples::{ServeLimits, Setup, StartError, served};
use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

#[tokio::main]
async fn main() -> ExitCode {
    // Everything is checked before the listener is bound and announced.
    let proxy = match ProxyConfig::from_env().and_then(Proxy::new) {
        Ok(proxy) => proxy,
        Err(e) => return StartError::from(e).exit(),
    };
    let setup = match Setup::from_env_requiring_secret() {
        Ok(setup) => setup,
        Err(e) => return e.exit(),
    };
    proxy.log_routes();
    let app = proxy.router(setup.verifier);
    let listener = match TcpListener::from_std(setup.listener) {
        Ok(listener) => listener,
        Err(e) => return served(Err(e)),
    };
    serve(listener, app, setup.limits).await;
    ExitCode::SUCCESS
}

/// Serves `app` within `limits` until [`shutdown`], then lets requests in
/// flight finish. `axum::serve` would do it without limits: no request-head
/// or idle timeout and no connection cap.
async fn serve(listener: TcpListener, app: Router, limits: ServeLimits) {
    // HTTP/1.1, as `axum::serve` speaks with axum's `http1` feature.
    // (hyper-util's `auto::Builder` adds HTTP/2, but waits without a timeout
    // for the first bytes that tell the two apart.)
    let mut http = http1::Builder::new();
    // Without a timer hyper ignores `header_read_timeout`. hyper arms it
    // whenever it waits for a request head: on a new connection and on a
    // kept-alive one after each response (`State::idle` in hyper's
    // `proto/h1/conn.rs` asks for the next read, which starts the timer). So
    // it is the idle keep-alive timeout too, and gets the shorter of the two.
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout.min(limits.idle_timeout));
    // One permit per open connection: at the cap the loop stops accepting,
    // and new connections wait in the listen backlog until one closes.
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown());
    loop {
        let next = async {
            let permit = Arc::clone(&permits).acquire_owned().await;
            (permit, listener.accept().await)
        };
        let (permit, accepted) = tokio::select! {
            () = &mut shutdown => break,
            next = next => next,
        };
        let Ok(permit) = permit else { break };
        let stream = match accepted {
            Ok((stream, _peer)) => stream,
            Err(e) => {
                accept_failed(e).await;
                continue;
            }
        };
        let service = TowerToHyperService::new(app.clone());
        // Watched: on shutdown an idle connection closes at once, a busy one
        // after its response.
        let conn = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            // Timeouts and clients that hang up end here; nothing to answer.
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection closed");
            }
            drop(permit);
        });
    }
    // No new connections from here on.
    drop(listener);
    graceful.shutdown().await;
}

/// Never stops the server. A connection reset before it was accepted is
/// the client's; anything else (out of file descriptors or memory) pauses
/// the loop for a second so it does not spin while connections close.
async fn accept_failed(e: io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::warn!(error = %e, "accept failed; retrying in 1 s");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// Resolves on Ctrl-C or SIGTERM (what container runtimes send), letting
/// requests in flight finish.
async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
    tracing::info!("shutting down");
}
