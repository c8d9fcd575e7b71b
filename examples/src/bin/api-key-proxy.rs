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

use std::process::ExitCode;

use approov_examples::proxy::{Proxy, ProxyConfig};
use approov_examples::{Setup, StartError, served};

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
    let listener = match tokio::net::TcpListener::from_std(setup.listener) {
        Ok(listener) => listener,
        Err(e) => return served(Err(e)),
    };
    served(
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown())
            .await,
    )
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
