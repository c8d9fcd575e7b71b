//! `actix-hello`: an actix-web 4 API protected by Approov with
//! `approov-actix`.
//!
//! `GET /` needs a valid Approov token, `GET /token-binding` also needs the
//! token bound to the `Authorization` header, `GET` and `POST
//! /message-signing` also need the app's HTTP message signature (RFC 9421,
//! with the body's `Content-Digest` checked when sent), `GET /health` is
//! open.
//!
//! The Approov part comes first (the verifier, the middleware, the
//! handlers); serving with production limits, metrics and configuration
//! follow below the divider. This file is the whole server: copy it to
//! `src/main.rs` of a new crate with these dependencies (CI builds it
//! exactly that way):
//!
//! ```toml
//! [dependencies]
//! actix-web = { version = "4", default-features = false, features = ["macros"] }
//! approov-actix = { version = "0.1", features = ["dev", "jwks-url", "watch-key-files"] }
//! metrics-exporter-prometheus = { version = "0.18", default-features = false }
//! serde_json = "1"
//! socket2 = { version = "0.6", features = ["all"] }
//! tracing = "0.1"
//! tracing-subscriber = { version = "0.3", features = ["env-filter"] }
//! ```
//!
//! Run: `APPROOV_BASE64_SECRET=... cargo run` (here: `cargo run -p
//! approov-examples --bin actix-hello`). Without a key it makes a
//! development secret and prints a token and a curl line (delete the line
//! marked "Development only" for production). Variables: `Config` below
//! and `VerifierBuilder::from_env`; bad ones exit 2 naming what to fix.

use std::any::Any;
use std::cell::Cell;
use std::io::{self, IsTerminal as _, Write as _};
use std::net::{SocketAddr, TcpListener};
use std::num::NonZero;
use std::process::ExitCode;
use std::time::Duration;

use actix_web::dev::{Extensions, Server, Service as _};
use actix_web::http::ConnectionType;
use actix_web::{App, HttpResponse, HttpServer, web};
use approov_actix::{
    Approov, ApproovMiddleware, MessageSigning, SignaturePolicy, TokenBinding, VerifierBuilder,
};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use serde_json::json;
use tracing_subscriber::EnvFilter;

/// The API and what each route needs, for every worker's `App`: the
/// middleware to wrap it in and its routes. `var` reads the environment
/// (`APPROOV_BASE64_SECRET` or a key file or JWKS, `APPROOV_TOKEN_HEADER`...).
fn api(
    var: impl Fn(&str) -> Option<String>,
    config: &Config,
) -> Result<
    (
        ApproovMiddleware,
        impl Fn(&mut web::ServiceConfig) + Clone + Send + 'static,
    ),
    String,
> {
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

    let approov = ApproovMiddleware::new(verifier);
    let binding = TokenBinding::new(["Authorization"]).map_err(|e| e.to_string())?;
    let bound = approov.clone().token_binding(binding);
    // /message-signing: signed by the app installation whose key the token
    // names (`ipk`); a `Content-Digest`, when sent, must match the body.
    let signing = MessageSigning::builder()
        .policy(SignaturePolicy::Always)
        .body_read_timeout(config.body_read_timeout)
        .build()
        .map_err(|e| e.to_string())?;
    let signed = approov.clone().message_signing(signing);
    // Wrapping the App protects every route of it, in whatever order they
    // are registered, except exactly `/health` (unknown paths: 401 without
    // a token). A resource's own middleware adds binding or message
    // signing, taking the App's verified token rather than checking it again.
    let approov = approov.open_paths(["/health"]).map_err(|e| e.to_string())?;
    let routes = move |routes: &mut web::ServiceConfig| {
        routes
            .service(web::resource("/").get(hello))
            .service(web::resource("/health").get(health))
            .service(
                web::resource("/token-binding")
                    .wrap(bound.clone())
                    .get(hello),
            )
            .service(
                web::resource("/message-signing")
                    .wrap(signed.clone())
                    .get(hello)
                    .post(hello),
            );
    };
    Ok((approov, routes))
}

/// Runs only for requests with a genuine Approov token.
async fn hello(Approov(_claims): Approov) -> HttpResponse {
    // `_claims.did()`, `.ip()`... identify the device, e.g. for rate limits.
    HttpResponse::Ok().json(json!({ "message": "Hello, World!" }))
}

async fn health() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

// ---------------------------------------------------------------------------
// Serving: start-up, production limits, metrics and configuration. Nothing
// below is Approov-specific.

#[actix_web::main]
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
    let server = match start() {
        Ok(server) => server,
        Err(message) => {
            // Bad configuration: one line naming what to fix, exit code 2.
            let _ = writeln!(io::stderr(), "{}: {message}", env!("CARGO_BIN_NAME"));
            return ExitCode::from(2);
        }
    };
    match server.await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(
                io::stderr(),
                "{}: the server stopped: {e}",
                env!("CARGO_BIN_NAME")
            );
            ExitCode::FAILURE
        }
    }
}

/// Reads the configuration, binds the listeners and builds the server;
/// every error names the setting to fix.
fn start() -> Result<Server, String> {
    let config = Config::from_env()?;
    let listener = bind(config.listen_addr, "LISTEN_ADDR")?;
    let local_addr = listener.local_addr().map_err(|e| e.to_string())?;

    // Development only: with no key variable set, a random secret, printed
    // on stderr with a ready token and curl line. Delete this line for
    // production: a missing secret then stops start-up, naming the variable.
    let var = approov_actix::dev::secret_unless_configured(env_var, local_addr);
    let (approov, routes) = api(var, &config)?;

    // actix-web caps connections per worker thread: share the cap out
    // (rounded down) so that all workers together stay within it.
    let workers = std::thread::available_parallelism()
        .map_or(1, NonZero::get)
        .min(config.max_connections);
    let max_requests = config.max_requests;
    let server = HttpServer::new(move || {
        App::new()
            .wrap(approov.clone())
            .wrap_fn(move |request, service| {
                // MAX_REQUESTS_PER_CONNECTION: the last answer closes the
                // connection, whatever the client has pipelined behind it.
                let last = request
                    .conn_data::<Served>()
                    .is_some_and(|served| served.next() >= max_requests);
                let answer = service.call(request);
                async move {
                    let mut response = answer.await?;
                    if last {
                        let head = response.response_mut().head_mut();
                        head.set_connection_type(ConnectionType::Close);
                    }
                    Ok(response)
                }
            })
            .configure(routes.clone())
    })
    .workers(workers)
    .max_connections(config.max_connections / workers)
    // A request head not complete in time gets 408 and the connection
    // closes. actix-http 3 times only the first head of a connection: a
    // later one, on a kept-alive connection, is not timed (turn keep-alive
    // off with `KeepAlive::Disabled` if that matters more than speed).
    .client_request_timeout(config.header_read_timeout)
    // A kept-alive connection waiting for its next request closes after this.
    .keep_alive(config.idle_timeout)
    // A client that does not close its side after our last response.
    .client_disconnect_timeout(Duration::from_secs(1))
    .on_connect(on_connect(config.send_timeout))
    .listen(listener)
    .map_err(|e| format!("cannot listen on {local_addr} (LISTEN_ADDR): {e}"))?
    .run();

    // METRICS_ADDR: `GET /metrics` on a listener of its own.
    let metrics = match config.metrics_addr {
        Some(addr) => {
            let listener = bind(addr, "METRICS_ADDR")?;
            let addr = listener.local_addr().map_err(|e| e.to_string())?;
            let handle = PrometheusBuilder::new()
                .install_recorder()
                .map_err(|e| format!("cannot export metrics (METRICS_ADDR): {e}"))?;
            approov_actix::metrics::describe();
            let server = HttpServer::new(move || {
                App::new()
                    .app_data(web::Data::new(handle.clone()))
                    .service(web::resource("/metrics").get(scrape))
            })
            .workers(1)
            .client_request_timeout(config.header_read_timeout)
            .keep_alive(config.idle_timeout)
            .on_connect(on_connect(config.send_timeout))
            .listen(listener)
            .map_err(|e| format!("cannot listen on {addr} (METRICS_ADDR): {e}"))?
            .run();
            Some((addr, server))
        }
        None => None,
    };
    tracing::info!(%local_addr, "starting");
    // Scripts and tests wait for this line to learn the port.
    let _ = writeln!(io::stdout(), "listening on {local_addr}");
    if let Some((addr, server)) = metrics {
        actix_web::rt::spawn(server);
        let _ = writeln!(io::stdout(), "metrics on {addr}");
    }
    Ok(server)
}

/// Runs as each connection opens: SEND_TIMEOUT_SECONDS and the request
/// count of MAX_REQUESTS_PER_CONNECTION.
///
/// actix-http has no write timeout: a client that pipelines requests and
/// never reads the answers would hold its connection for ever. The
/// kernel's `TCP_USER_TIMEOUT` closes a connection whose sent data has
/// waited that long for the client to take it (a zero window included,
/// Linux 5.11 and later), and actix-web then frees its slot.
fn on_connect(send_timeout: Duration) -> impl Fn(&dyn Any, &mut Extensions) + Clone {
    move |connection, data| {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if let Some(stream) = connection.downcast_ref::<actix_web::rt::net::TcpStream>()
            && let Err(e) = socket2::SockRef::from(stream).set_tcp_user_timeout(Some(send_timeout))
        {
            tracing::warn!(error = %e, "cannot set the send timeout of a connection");
        }
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        let _ = (connection, send_timeout);
        data.insert(Served::default());
    }
}

/// The requests a connection has made.
#[derive(Default)]
struct Served(Cell<usize>);

impl Served {
    /// Counts one more request; returns the count.
    fn next(&self) -> usize {
        self.0.set(self.0.get() + 1);
        self.0.get()
    }
}

/// `GET /metrics`: approov-core's counters (requests by outcome, rejections
/// by kind, cache hits...) in Prometheus text format.
async fn scrape(handle: web::Data<PrometheusHandle>) -> HttpResponse {
    handle.run_upkeep();
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(handle.render())
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

/// Binds `addr` (non-blocking, as actix-web expects a std listener to be).
fn bind(addr: SocketAddr, name: &str) -> Result<TcpListener, String> {
    let listener = TcpListener::bind(addr).and_then(|l| l.set_nonblocking(true).map(|()| l));
    listener.map_err(|e| {
        format!(
            "cannot listen on {addr} ({name}): {e}; stop whatever uses it or set {name} \
             to another address (port 0 picks a free port)"
        )
    })
}
