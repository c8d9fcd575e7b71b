//! Start-up for `api-key-proxy`: configuration from the environment,
//! binding the listener, and clean exits on bad configuration. The example
//! servers (`axum-hello`, `actix-hello`, `warp-hello`) do not use it: each
//! is one file of its own, to copy as it is; they read the same variables.
//! [`proxy`] holds the `api-key-proxy` reverse proxy, built on the same
//! start-up.
//!
//! | variable | meaning |
//! |---|---|
//! | `APPROOV_BASE64_SECRET` (or `APPROOV_BASE64URL_SECRET`) | the account secret; unset: a random development secret, printed with a ready token |
//! | `APPROOV_BASE64_SECRET_FILE`, `APPROOV_JWKS_FILE` | key files instead of (or, for the JWKS, beside) the secret, read again on SIGHUP and every `KEY_RELOAD_SECONDS` (1 to 3600, default 10) by [`approov_core::Verifier::reload_keys`] |
//! | `APPROOV_TOKEN_HEADER`, `APPROOV_TOKEN_SCHEME`, `APPROOV_TOKEN_BINDING_HEADER`, `APPROOV_LEEWAY_SECONDS` | as in [`approov_core::VerifierBuilder::from_env`]; `APPROOV_TOKEN_HEADER=Authorization` with `APPROOV_TOKEN_SCHEME=Bearer` reads `Authorization: Bearer <token>`, as gateways set up from Approov's Google Cloud quickstart send it (then `/token-binding`, bound to `Authorization`, refuses every request: the token cannot be bound to its own header) |
//! | `APPROOV_TOKEN_CACHE_SIZE` | as in [`approov_core::VerifierBuilder::from_env`], except that unset means 10000 here (0 turns the cache off) |
//! | `LISTEN_ADDR` | `<ip>:<port>` to listen on, default `127.0.0.1:8080`; port 0 picks a free port |
//! | `HEADER_READ_TIMEOUT_SECONDS` | a request head (request line and headers) not complete within this many seconds closes the connection (actix-web answers `408` first, and times only the first head of a connection); default 30 |
//! | `IDLE_TIMEOUT_SECONDS` | a keep-alive connection waiting this many seconds for its next request is closed; default 60. The hyper servers (axum, warp, the proxy) time the wait for a request and its head with one timer, so there it is the shorter of this and `HEADER_READ_TIMEOUT_SECONDS` |
//! | `BODY_READ_TIMEOUT_SECONDS` | on `/message-signing`, a body whose `Content-Digest` must be checked (read only once the token and signature passed) not received in full within this many seconds is answered `408` with `{}`; default 30 |
//! | `MAX_CONNECTIONS` | at most this many connections open at once; more wait in the listen backlog until one closes; default 512 (within the usual 1024 open-file limit with an upstream connection each) |
//! | `METRICS_ADDR` | `<ip>:<port>` to serve the [`approov_core::metrics`] counters on, in Prometheus text format at `GET /metrics` (a listener of its own: keep it off the public network); unset or empty: off (the default); port 0 picks a free port |
//! | `RUST_LOG` | log filter, default `info` |
//!
//! Each server binary applies `HEADER_READ_TIMEOUT_SECONDS`,
//! `IDLE_TIMEOUT_SECONDS` and `MAX_CONNECTIONS` itself, in its own serving
//! code ([`ServeLimits`] only reads them): `axum::serve` and `warp::serve`
//! set no request-head or idle timeout and no connection cap.
//!
//! Once the listener is bound, the server prints `listening on <ip>:<port>`
//! (the real port) on stdout, then, with `METRICS_ADDR` set,
//! `metrics on <ip>:<port>`. Bad configuration prints one line on stderr
//! naming what to fix and exits with code 2.
//!
//! # Why `metrics-exporter-prometheus`
//! - `metrics-exporter-prometheus` (without its HTTP listener and push
//!   gateway): the recorder that keeps the core's counters and renders
//!   them in Prometheus text format; the few lines serving `GET /metrics`
//!   are hyper, which the servers already use. Its own listener cannot
//!   report the port it bound (needed for port 0).
//!
//! ```no_run
//! use std::process::ExitCode;
//!
//! fn main() -> ExitCode {
//!     let setup = match approov_examples::Setup::from_env() {
//!         Ok(setup) => setup,
//!         Err(e) => return e.exit(),
//!     };
//!     // Hand `setup.listener`, `setup.verifier` and `setup.limits` to the
//!     // framework here.
//!     # drop(setup);
//!     ExitCode::SUCCESS
//! }
//! ```
#![deny(missing_docs, unsafe_code)]

mod dev;
mod error;
mod keys;
mod limits;
mod listen;
mod logging;
mod metrics;
pub mod proxy;
mod setup;
mod shell;

pub use error::{StartError, served};
pub use limits::ServeLimits;
pub use listen::{DEFAULT_LISTEN_ADDR, curl_url};
pub use setup::Setup;
pub use shell::shell_quote;

/// The exit code for bad configuration (the convention of command-line
/// tools for usage errors, and what `clap` uses).
pub const CONFIG_ERROR_EXIT: u8 = 2;
