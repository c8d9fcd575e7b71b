//! `axum-hello`: an axum 0.8 API protected by Approov with `approov-tower`.
//!
//! `GET /` needs a valid Approov token, `GET /token-binding` also needs the
//! token bound to the `Authorization` header, `GET` and `POST
//! /message-signing` also need the request signed with the installation key
//! of the token's `ipk` (and its `Content-Digest`, when sent, to match the
//! body), `GET /health` is open.
//!
//! The Approov part comes first (the verifier, the layer, the handlers);
//! serving with production limits, metrics and configuration follow below
//! the divider. This file is the whole server: copy it to `src/main.rs` of
//! a new crate with these dependencies (CI builds it exactly that way):
//!
//! ```toml
//! [dependencies]
//! approov-tower = { version = "0.1", features = ["axum", "dev", "jwks-url", "watch-key-files"] }
//! axum = { version = "0.8", default-features = false, features = ["http1", "json", "tokio"] }
//! hyper = { version = "1", features = ["http1", "server"] }
//! hyper-util = { version = "0.1", features = ["service", "tokio"] }
//! metrics-exporter-prometheus = { version = "0.18", default-features = false }
//! serde_json = "1"
//! tokio = { version = "1", features = ["macros", "net", "rt-multi-thread", "sync", "time"] }
//! tokio-io-timeout = "1"
//! tracing = "0.1"
//! tracing-subscriber = { version = "0.3", features = ["env-filter"] }
//! ```
//!
//! Run: `APPROOV_BASE64_SECRET=... cargo run` (here: `cargo run -p
//! approov-examples --bin axum-hello`). Without a key it makes a development
//! secret and prints a token and a curl line (delete the line marked
//! "Development only" for production). Variables: `Config` below and
//! `VerifierBuilder::from_env`; bad ones exit 2 naming what to fix.

use std::convert::Infallible;
use std::io::{self, IsTerminal as _, Write as _};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use approov_tower::{
    Approov, ApproovLayer, MessageSigning, SignaturePolicy, TokenBinding, VerifierBuilder,
};
use axum::http::header::CONTENT_TYPE;
use axum::{Json, Router, routing::get};
use hyper::header::{CONNECTION, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::{Service as _, service_fn};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use metrics_exporter_prometheus::PrometheusBuilder;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_io_timeout::TimeoutStream;
use tracing_subscriber::EnvFilter;

/// The API and what each route needs, as a `Router` (the protected app is
/// its fallback, so it serves like any router). `var` reads the environment
/// (`APPROOV_BASE64_SECRET` or a key file or JWKS, `APPROOV_TOKEN_HEADER`...).
fn api(var: impl Fn(&str) -> Option<String>, config: &Config) -> Result<Router, String> {
    let mut builder = VerifierBuilder::from_vars(&var).map_err(|e| e.to_string())?;
    if var("APPROOV_TOKEN_CACHE_SIZE").is_none() {
        // An app sends the same token until it fetches the next: remember
        // the verified tokens of 10 000 devices (about 10 MiB at most).
        builder = builder.cache_verified_tokens(10_000);
    }
    let verifier = builder.build().map_err(|e| e.to_string())?;
    // Key files (APPROOV_BASE64_SECRET_FILE, APPROOV_JWKS_FILE, ...) are read
    // again on SIGHUP and every KEY_RELOAD_SECONDS: rotation without restart.
    verifier
        .watch_key_files(config.key_reload)
        .map_err(|e| format!("cannot start the key reload thread: {e}"))?;

    // /message-signing: signed by the app installation whose key the token
    // names (`ipk`); a `Content-Digest`, when sent, must match the body.
    let signing = MessageSigning::builder()
        .policy(SignaturePolicy::Always)
        .body_read_timeout(config.body_read_timeout)
        .build()
        .map_err(|e| e.to_string())?;
    let binding = TokenBinding::new(["Authorization"]).map_err(|e| e.to_string())?;
    let approov = ApproovLayer::new(verifier);
    // A route's own layer adds binding or message signing to the check of
    // the whole app below, taking its verified token rather than checking
    // the token again.
    let routes = Router::new()
        .route("/", get(hello))
        .route("/health", get(health))
        .route(
            "/token-binding",
            get(hello).route_layer(approov.clone().token_binding(binding)),
        )
        .route(
            "/message-signing",
            get(hello)
                .post(hello)
                .route_layer(approov.clone().message_signing(signing)),
        );
    // Every route, whenever it was added, except exactly `/health`: the
    // layer runs before routing, so a path without a token is 401, even an
    // unknown one.
    let approov = approov.open_paths(["/health"]).map_err(|e| e.to_string())?;
    Ok(Router::new().fallback_service(approov.protect(routes)))
}

/// Runs only for requests with a genuine Approov token.
async fn hello(Approov(_claims): Approov) -> Json<Value> {
    // `_claims.did()`, `.ip()`... identify the device, e.g. for rate limits.
    Json(json!({ "message": "Hello, World!" }))
}

async fn health() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

// ---------------------------------------------------------------------------
// Serving: start-up, production limits, metrics and configuration. Nothing
// below is Approov-specific.

#[tokio::main]
async fn main() -> ExitCode {
    // Logs go to stderr (stdout carries only the `listening on` line),
    // filtered by RUST_LOG, default `info`. Rejections are logged by
    // approov-core with their kind, never the token.
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(io::stderr)
        .with_ansi(io::stderr().is_terminal())
        .try_init();
    match start().await {
        Ok((listener, app, config)) => serve(listener, app, config).await,
        Err(message) => {
            let _ = writeln!(io::stderr(), "{}: {message}", env!("CARGO_BIN_NAME"));
            ExitCode::from(2)
        }
    }
}

/// Reads the configuration, binds the listeners and builds the app; every
/// error names the setting to fix.
async fn start() -> Result<(TcpListener, Router, Config), String> {
    let config = Config::from_env()?;
    let listener = bind(config.listen_addr, "LISTEN_ADDR").await?;
    let local_addr = listener.local_addr().map_err(|e| e.to_string())?;
    // Development only: with no key variable set, a random secret, printed
    // on stderr with a ready token and curl line. Delete this line for
    // production: a missing secret then stops start-up, naming the variable.
    let var = approov_tower::dev::secret_unless_configured(env_var, local_addr);
    let app = api(var, &config)?;

    // METRICS_ADDR: `GET /metrics` on a listener of its own, same limits.
    let metrics = match config.metrics_addr {
        Some(addr) => {
            let listener = bind(addr, "METRICS_ADDR").await?;
            let addr = listener.local_addr().map_err(|e| e.to_string())?;
            Some((listener, addr, metrics_app()?))
        }
        None => None,
    };
    tracing::info!(%local_addr, "starting");
    // Scripts and tests wait for this line to learn the port.
    let _ = writeln!(io::stdout(), "listening on {local_addr}");
    if let Some((listener, addr, metrics)) = metrics {
        tokio::spawn(serve(listener, metrics, config));
        let _ = writeln!(io::stdout(), "metrics on {addr}");
    }
    Ok((listener, app, config))
}

/// `GET /metrics`: approov-core's counters (requests by outcome, rejections
/// by kind, cache hits...) in Prometheus text format.
fn metrics_app() -> Result<Router, String> {
    let handle = PrometheusBuilder::new()
        .install_recorder()
        .map_err(|e| format!("cannot export metrics (METRICS_ADDR): {e}"))?;
    approov_tower::metrics::describe();
    let scrape = move || async move {
        handle.run_upkeep();
        let format = "text/plain; version=0.0.4; charset=utf-8";
        ([(CONTENT_TYPE, format)], handle.render())
    };
    Ok(Router::new().route("/metrics", get(scrape)))
}

/// Serves `app` within the limits of `config`, for as long as the process
/// runs. `axum::serve` would do it without limits: no request-head, idle or
/// send timeout and no cap on connections or requests per connection.
async fn serve(listener: TcpListener, app: Router, config: Config) -> ExitCode {
    // HTTP/1.1, as `axum::serve` speaks with axum's `http1` feature.
    // (hyper-util's `auto::Builder` adds HTTP/2, but waits without a timeout
    // for the first bytes that tell the two apart.)
    let mut http = http1::Builder::new();
    // Without a timer hyper ignores `header_read_timeout`. hyper arms it
    // whenever it waits for a request head: on a new connection and on a
    // kept-alive one after each response. So it is the idle keep-alive
    // timeout too, and gets the shorter of the two.
    http.timer(TokioTimer::new())
        .header_read_timeout(config.header_read_timeout.min(config.idle_timeout));
    // One permit per open connection: at the cap the loop stops accepting,
    // and new connections wait in the listen backlog until one closes.
    let permits = Arc::new(Semaphore::new(config.max_connections));
    loop {
        let Ok(permit) = Arc::clone(&permits).acquire_owned().await else {
            return ExitCode::FAILURE;
        };
        let stream = match listener.accept().await {
            Ok((stream, _peer)) => stream,
            Err(e) => {
                accept_failed(e).await;
                continue;
            }
        };
        // SEND_TIMEOUT_SECONDS: a write that waits this long on a client
        // that stopped reading fails, and hyper closes the connection.
        let mut stream = TimeoutStream::new(stream);
        stream.set_write_timeout(Some(config.send_timeout));
        let io = TokioIo::new(Box::pin(stream));
        let service = TowerToHyperService::new(app.clone());
        let served = AtomicUsize::new(0);
        let service = service_fn(move |request| {
            // MAX_REQUESTS_PER_CONNECTION: the last answer says `Connection:
            // close`, and hyper closes the connection once it is written,
            // whatever the client has pipelined behind it.
            let last = served.fetch_add(1, Ordering::Relaxed) + 1 >= config.max_requests;
            let answer = service.call(request);
            async move {
                let mut response = answer.await?;
                if last {
                    let close = HeaderValue::from_static("close");
                    response.headers_mut().insert(CONNECTION, close);
                }
                Ok::<_, Infallible>(response)
            }
        });
        let conn = http.serve_connection(io, service);
        tokio::spawn(async move {
            // Timeouts and clients that hang up end here; nothing to answer.
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection closed");
            }
            drop(permit);
        });
    }
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

/// The server's settings beside the verifier's, from the environment;
/// unset means the default.
#[derive(Clone, Copy)]
struct Config {
    /// `LISTEN_ADDR`, `<ip>:<port>`; default `127.0.0.1:8080`, loopback
    /// only; port 0 picks a free port.
    listen_addr: SocketAddr,
    /// `METRICS_ADDR`: where `GET /metrics` is served, on a listener of its
    /// own (keep it off the public network); unset or empty: off.
    metrics_addr: Option<SocketAddr>,
    /// `HEADER_READ_TIMEOUT_SECONDS`: a request head not complete within
    /// this time closes the connection; default 30 (slow mobile networks).
    header_read_timeout: Duration,
    /// `IDLE_TIMEOUT_SECONDS`: a keep-alive connection waiting this long
    /// for its next request is closed; default 60 (apps send bursts).
    idle_timeout: Duration,
    /// `SEND_TIMEOUT_SECONDS`: a connection whose answer makes no write
    /// progress this long (a client that stopped reading) is closed;
    /// default 60, as nginx's `send_timeout`.
    send_timeout: Duration,
    /// `MAX_CONNECTIONS`: at most this many open at once; default 512,
    /// within the usual limit of 1024 open files.
    max_connections: usize,
    /// `MAX_REQUESTS_PER_CONNECTION`: a connection closes after this many
    /// answers; default 1000, as nginx's `keepalive_requests`.
    max_requests: usize,
    /// `BODY_READ_TIMEOUT_SECONDS`: a body message signing must check that
    /// is not received in full within this time is answered 408; default 30.
    body_read_timeout: Duration,
    /// `KEY_RELOAD_SECONDS`: how often key files are checked; default 10.
    key_reload: Duration,
}

impl Config {
    fn from_env() -> Result<Self, String> {
        let seconds = |name, default| number(name, default, 3600).map(Duration::from_secs);
        Ok(Self {
            listen_addr: match env_var("LISTEN_ADDR") {
                Some(value) => address("LISTEN_ADDR", &value)?,
                None => SocketAddr::from(([127, 0, 0, 1], 8080)),
            },
            metrics_addr: match env_var("METRICS_ADDR").filter(|v| !v.trim().is_empty()) {
                Some(value) => Some(address("METRICS_ADDR", &value)?),
                None => None,
            },
            header_read_timeout: seconds("HEADER_READ_TIMEOUT_SECONDS", 30)?,
            idle_timeout: seconds("IDLE_TIMEOUT_SECONDS", 60)?,
            send_timeout: seconds("SEND_TIMEOUT_SECONDS", 60)?,
            max_connections: number("MAX_CONNECTIONS", 512, 1_000_000)?,
            max_requests: number("MAX_REQUESTS_PER_CONNECTION", 1000, 1_000_000)?,
            body_read_timeout: seconds("BODY_READ_TIMEOUT_SECONDS", 30)?,
            key_reload: seconds("KEY_RELOAD_SECONDS", 10)?,
        })
    }
}

/// A variable; one that is not UTF-8 is read lossily, so it fails as "not
/// a number" or "not base64" instead of looking unset.
fn env_var(name: &str) -> Option<String> {
    std::env::var_os(name).map(|v| v.to_string_lossy().into_owned())
}

/// A whole number from 1 to `max`, `default` when unset.
fn number<N>(name: &str, default: N, max: N) -> Result<N, String>
where
    N: std::str::FromStr + PartialOrd + From<u8> + std::fmt::Display,
{
    let Some(value) = env_var(name) else {
        return Ok(default);
    };
    match value.trim().parse() {
        Ok(n) if n >= N::from(1) && n <= max => Ok(n),
        _ => Err(format!(
            "{name} is not usable: {value:?} is not a whole number from 1 to {max}, e.g. {default}"
        )),
    }
}

fn address(name: &str, value: &str) -> Result<SocketAddr, String> {
    value.trim().parse().map_err(|_| {
        format!(
            "{name} is not usable: {value:?} is not <ip>:<port>; use e.g. 127.0.0.1:8080, \
             0.0.0.0:8080 or [::1]:8080 (port 0 picks a free port)"
        )
    })
}

async fn bind(addr: SocketAddr, name: &str) -> Result<TcpListener, String> {
    TcpListener::bind(addr).await.map_err(|e| {
        format!(
            "cannot listen on {addr} ({name}): {e}; stop whatever uses it or set {name} \
             to another address (port 0 picks a free port)"
        )
    })
}
