#![doc = include_str!("../README.md")]
//!
//! # The library
//!
//! The binary is a few lines over this library: [`Settings`] and
//! [`ProxyConfig`] read and check the environment, [`Proxy::router`] builds
//! the axum application, [`serve::serve`] runs it with the connection
//! limits and the graceful shutdown. Embed these to run the proxy inside
//! a program of your own.
//!
//! # Why each dependency
//! - `approov-core` (with `jwks-url` and `watch-key-files`): the token
//!   check, key files re-read on SIGHUP and on a timer, and JWKS URLs; `approov-tower`: only its `HeaderMap` view and its `401`,
//!   so the proxy answers exactly as the tower layer does.
//! - `axum`, `hyper`, `hyper-util`, `http`, `http-body-util`, `tower`:
//!   the server, the routing of `/health` and the pooled upstream client.
//! - `hyper-rustls`, `rustls` (ring provider), `webpki-roots` through
//!   hyper-rustls: HTTPS to upstreams without OpenSSL.
//! - `tower-http` (`timeout`): the stall timeouts of both bodies.
//! - `tokio-io-timeout`: the send timeout around each accepted stream
//!   (a write that waits too long fails, and hyper closes the
//!   connection); `pin-project-lite`: the answer future that marks a
//!   connection's last answer `Connection: close`.
//! - `governor`: the in-process GCRA per-device limiter.
//! - `redis` (`tokio-comp`, `script`): the limit shared by replicas: the
//!   protocol on a few connections of our own, each reading a bounded
//!   answer, and the GCRA Lua script run by `EVALSHA`.
//! - `form_urlencoded`, `percent-encoding`: the query key placement and
//!   the path checks, by the book rather than by hand.
//! - `ring`: SHA-256 of device ids for logs and limiter keys.
//! - `toml`, `serde`: the routes file; `serde_json`: the JSON error bodies.
//! - `zeroize`: API keys wiped from memory when dropped.
//! - `metrics`, `metrics-exporter-prometheus`: the series and their
//!   Prometheus exposition.
//! - `tracing`, `tracing-subscriber` (`env-filter`, `json`): the logs;
//!   `tracing-appender`: their writing on a thread of its own, so no
//!   worker waits on stderr.
//! - `thiserror`: the configuration errors; `tokio`: the runtime, timers
//!   and signals.
//! - `mimalloc` (the binary only): its global allocator; each request
//!   allocates and frees a few dozen small buffers over two HTTP
//!   exchanges, which mimalloc's thread-local free lists serve 3–5 %
//!   faster end to end than glibc's malloc (BENCHMARKS.md).
//! - `core_affinity` (Linux only): reads the CPUs the process may run on
//!   and pins each worker thread to one of them (`WORKER_CPU_AFFINITY`),
//!   without unsafe code of our own.

mod affinity;
mod app;
mod auth;
mod auth_config;
mod client;
mod config;
mod connection;
mod credentials;
mod error;
mod exporter;
mod file;
mod forward;
mod hop;
mod key;
mod limit;
mod log;
mod methods;
pub mod metrics;
mod path;
mod query;
mod reply;
mod route;
pub mod serve;
mod shared_limit;
mod stall;
mod start;

pub use affinity::CpuAffinity;
pub use app::{Proxy, ProxyService};
pub use config::{
    DEFAULT_CLIENT_BODY_TIMEOUT, DEFAULT_UPSTREAM_BODY_TIMEOUT, DEFAULT_UPSTREAM_TIMEOUT,
    ProxyConfig,
};
pub use credentials::ForwardedClientHeaders;
pub use error::ProxyConfigError;
pub use exporter::start as serve_metrics;
pub use key::{ApiKey, KeyPlacement};
pub use log::TARGET as LOG_TARGET;
pub use methods::AllowedMethods;
pub use route::{Route, Upstream};
pub use start::{
    CONFIG_ERROR_EXIT, DEFAULT_LISTEN_ADDR, LogFormat, ServeLimits, Settings, StartError, announce,
    init_logging, listen, verifier_from_vars, watch_keys,
};
