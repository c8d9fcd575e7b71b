#![doc = include_str!("../README.md")]
//!
//! # The library
//!
//! The binary is a few lines over this library: [`Invocation::from_args`]
//! answers `--help` and `--version`, [`Config::from_env`] reads and checks
//! the whole environment, [`Server::check`] is `approov-proxy check`
//! (key files read, nothing bound, a [`Config::summary`] without secrets),
//! [`Server::start`] binds and announces the listeners, [`Server::serve`]
//! serves until SIGTERM. To run the proxy
//! inside a program of your own, take the pieces: [`Proxy::new`] and
//! [`Proxy::router`] (or [`Proxy::service`]) build the application,
//! [`serve`] runs it with the connection limits and the graceful shutdown.
//! The route types ([`Route`], [`Upstream`], [`ApiKey`], [`KeyPlacement`],
//! [`AllowedMethods`], [`ForwardedClientHeaders`]) show what was
//! configured; [`metrics`] names the series.
//!
//! # Layout
//!
//! - `config/`: the one [`Config`], read from the environment and the
//!   routes file, with the parsing helpers and the forward-auth, Redis and
//!   serving settings; `settings.rs` is the table of every variable, which
//!   `--help` prints and the tests hold the parser and the README to.
//! - `cli.rs`: the command line ([`Invocation`]).
//! - `claims.rs`: the `Approov-Claim-*` headers, for the forward-auth
//!   answer and for forwarded requests (`UPSTREAM_CLAIMS`).
//! - `route/`: the routes, their methods, and the table that finds a
//!   path's route as sent and as upstreams read it.
//! - `proxy/`: forwarding to an upstream and its rules: hop-by-hop and
//!   client credential headers, the key and its query placement, path
//!   checks, body stall timeouts, the proxy's own replies, the client.
//! - `forward_auth/`: the endpoint answering nginx, Traefik and Envoy.
//! - `limit/`: the per-device rate limit, in process and shared through
//!   Redis (one server or a Cluster, plain or TLS) with its connection
//!   pool and leased slices of device budgets.
//! - `server/`: the application and its dispatch, the listeners, workers,
//!   connection limits, CPU affinity, the metrics listener and start-up.
//! - `telemetry/`: the request log line, the metrics and their recorder.
//! - `error.rs`: the errors.
//!
//! One proxied request: the listener (`server`) accepts it on a worker;
//! the dispatch (`server/app.rs`) answers `/health` and the forward-auth
//! endpoint, else finds the route (`route`) and refuses a method or path
//! it never forwards; `Gate::check` checks the token; the route's rate
//! limit (`limit`) may answer `429`; `proxy` forwards it with the key and
//! streams back the reply, and `telemetry` writes its log line.
//!
//! # Why each dependency
//! - `approov-core` (with `http`, `jwks-url` and `watch-key-files`): the
//!   token check, its `HeaderMap` view and the `401` every adapter
//!   answers, key files re-read on SIGHUP and on a timer, and JWKS URLs.
//!   No adapter crate: the proxy calls the core's `Gate` directly.
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
//! - `redis` (`tokio-comp`, `script`, `cluster-async`): the limit shared
//!   by replicas: the protocol on a few connections of our own, each
//!   reading a bounded answer, and the GCRA Lua script (leasing slices) run by `EVALSHA`;
//!   with `REDIS_CLUSTER_URLS` its cluster client routes each decision to
//!   the node of its key, over node connections of our own too. The
//!   crate's TLS features are left out: `rediss://` is our socket too.
//! - `crc16` (already under `redis`'s cluster client): a key's hash slot,
//!   so a Redis Cluster node that fails backs off only its own devices.
//! - `tokio-rustls` (ring, no aws-lc-rs), `webpki-roots`: TLS to Redis
//!   (`rediss://`) with the same rustls as the upstreams, the webpki roots
//!   unless `REDIS_TLS_CA_FILE` names a private CA.
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
//!   and signals, and (`sync`) the channel on which a device's requests
//!   wait for the one Redis call leasing its next slice.
//! - `clap` (`std`, `help`, `usage`, `error-context`; no derive, no
//!   `env`): the command line, `--help`, `--version`, the `check`
//!   subcommand and the usage errors with exit code 2. The settings are
//!   environment variables only (never arguments, which `ps` shows), so
//!   `--help` prints them from the proxy's own settings table rather than
//!   as clap arguments.
//! - `mimalloc` (the binary only): its global allocator; each request
//!   allocates and frees a few dozen small buffers over two HTTP
//!   exchanges, which mimalloc's thread-local free lists serve 3–5 %
//!   faster end to end than glibc's malloc (BENCHMARKS.md).
//! - `core_affinity` (Linux only): reads the CPUs the process may run on
//!   and pins each worker thread to one of them (`WORKER_CPU_AFFINITY`),
//!   without unsafe code of our own.

mod claims;
mod cli;
mod config;
mod error;
mod forward_auth;
mod limit;
mod proxy;
mod route;
mod server;
mod telemetry;

pub use cli::Invocation;
pub use config::{
    Config, CpuAffinity, DEFAULT_CLIENT_BODY_TIMEOUT, DEFAULT_LISTEN_ADDR,
    DEFAULT_UPSTREAM_BODY_TIMEOUT, DEFAULT_UPSTREAM_TIMEOUT, ServeLimits,
};
pub use error::{CONFIG_ERROR_EXIT, ProxyConfigError, StartError};
pub use proxy::{ApiKey, ForwardedClientHeaders, KeyPlacement, Upstream};
pub use route::{AllowedMethods, Route};
pub use server::app::{Proxy, ProxyService};
pub use server::listen::{announce, listen, watch_keys};
pub use server::metrics::start as serve_metrics;
pub use server::start::Server;
pub use server::{Drained, serve, shutdown_signal};
pub use telemetry::log::{LogFormat, TARGET as LOG_TARGET, init_logging};
pub use telemetry::metrics;
