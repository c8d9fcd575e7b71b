//! `approov-proxy`: verifies the Approov token of every request, then
//! forwards it with the third-party API key the app must never hold, or
//! answers forward-auth checks for a gateway in front of any backend. A
//! client without a genuine token gets `401` and never reaches the
//! upstream.
//!
//! ```text
//! APPROOV_BASE64_SECRET=... UPSTREAM_URL=https://api.nasa.gov \
//! API_KEY="$NASA_API_KEY" API_KEY_QUERY_PARAM=api_key approov-proxy
//! ```
//!
//! Every setting is described in the crate's README and its library docs.

use std::process::ExitCode;

use approov_proxy::{Proxy, ProxyConfig, Settings, StartError, serve};

// Every request allocates and frees a few dozen small buffers across two
// HTTP exchanges; mimalloc's thread-local free lists serve them faster
// than glibc's malloc (measured in BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

// This thread only accepts connections and waits for signals; the requests
// are served on `WORKER_THREADS` threads of their own (`serve::serve`).
#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    // Everything is checked before the listeners are bound and announced.
    let (listeners, proxy, verifier, settings, _log) = match start() {
        Ok(started) => started,
        Err(e) => return e.exit(),
    };
    let app = || proxy.service(verifier.clone());
    let public = serve::serve(
        listeners.public,
        app,
        settings.limits,
        serve::shutdown_signal(),
    );
    let served = match listeners.auth {
        // The forward-auth endpoint's own listener, with the same limits
        // and the same graceful shutdown; the first to fail stops both.
        Some(auth) => {
            let auth_app = || proxy.auth_service(verifier.clone());
            let auth = serve::serve(auth, auth_app, settings.limits, serve::shutdown_signal());
            tokio::try_join!(public, auth).map(|_drained| ())
        }
        None => public.await.map(|_drained| ()),
    };
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => StartError::Spawn {
            what: "the worker threads",
            source: e,
        }
        .exit(),
    }
}

/// The bound listeners: `LISTEN_ADDR`, and `AUTH_LISTEN_ADDR` when set.
struct Listeners {
    public: tokio::net::TcpListener,
    auth: Option<tokio::net::TcpListener>,
}

type Started = (
    Listeners,
    Proxy,
    approov_core::Verifier,
    Settings,
    tracing_appender::non_blocking::WorkerGuard,
);

fn start() -> Result<Started, StartError> {
    // Non-UTF-8 values are passed on lossily so they fail as unusable
    // values instead of looking unset.
    let var = |name: &str| std::env::var_os(name).map(|v| v.to_string_lossy().into_owned());
    let settings = Settings::from_vars(var)?;
    let log = approov_proxy::init_logging(settings.log_format);
    let proxy = Proxy::new(ProxyConfig::from_vars(var)?)?;
    let verifier = approov_proxy::verifier_from_vars(var)?;
    let (listener, local_addr) = approov_proxy::listen(&settings)?;
    let auth = proxy.listen_auth()?;
    approov_proxy::watch_keys(&verifier, settings.key_reload)?;
    tracing::info!(target: approov_proxy::LOG_TARGET, %local_addr, "starting");
    approov_proxy::announce("listening", local_addr);
    let auth = auth.map(|(auth, auth_addr)| {
        tracing::info!(target: approov_proxy::LOG_TARGET, %auth_addr, "serving forward-auth");
        approov_proxy::announce("forward-auth", auth_addr);
        auth
    });
    if let Some(addr) = settings.metrics_addr {
        approov_proxy::serve_metrics(addr, &settings.limits)?;
    }
    proxy.log_routes();
    proxy.check_redis();
    let listeners = Listeners {
        public: listener,
        auth,
    };
    Ok((listeners, proxy, verifier, settings, log))
}
