//! `api-key-proxy`: a reverse proxy that keeps third-party API keys out of
//! the mobile app.
//!
//! The app calls the proxy with its Approov token and no key. The proxy
//! checks the token with approov-tower's [`ApproovLayer`](approov_tower::ApproovLayer),
//! adds the key, forwards the request to the third-party API and streams the
//! answer back. A request without a genuine token gets `401` and never
//! reaches the upstream, so a scripted client learns nothing, key included.
//!
//! # Configuration
//!
//! | variable | meaning |
//! |---|---|
//! | `APPROOV_BASE64_SECRET` | the Approov account secret; **required** (no development mode: the proxy guards a real key) |
//! | `LISTEN_ADDR` | `<ip>:<port>`, default `127.0.0.1:8080`; port 0 picks a free one; `listening on <ip>:<port>` is printed once bound |
//! | `UPSTREAM_URL` | the third-party API, `http(s)://host[:port][/base-path]`, e.g. `https://api.nasa.gov` |
//! | `API_KEY` | the key |
//! | `API_KEY_QUERY_PARAM` *or* `API_KEY_HEADER` | where the key goes: a query parameter (`api_key`) or a header (`X-Api-Key`); exactly one |
//! | `PROXY_CONFIG` | instead of the three above: a TOML file of routes (below) |
//! | `UPSTREAM_TIMEOUT_SECONDS` | time allowed from sending the request to the upstream's response head, default 30 → else `504` |
//! | `CLIENT_BODY_TIMEOUT_SECONDS` | longest pause between two pieces of a client's request body, default 30 → else `408` (or the connection is dropped if the response has started) |
//! | `UPSTREAM_BODY_TIMEOUT_SECONDS` | longest pause between two pieces of the upstream's response body, default 60 → else the client's response is cut short |
//! | `RATE_LIMIT_PER_DEVICE_PER_MINUTE` | requests per minute per device (token `did`) and route, bursts up to the same number → else `429` with `Retry-After`; unset: no limit |
//! | `ALLOWED_METHODS` | the methods forwarded, comma-separated, default `GET,HEAD,POST,PUT,PATCH,DELETE,OPTIONS` (those are also the only ones accepted); the default list of every route → else `405` |
//! | `FORWARD_CLIENT_HEADERS` | client credential headers to forward, comma-separated, from `Authorization`, `Cookie`, `Signature`, `Signature-Input`; default none (see *What is forwarded*); single upstream only |
//! | `APPROOV_REPORT_ONLY` | `true`: log bad tokens and forward anyway (for a roll-out); default `false` |
//! | `APPROOV_TOKEN_BINDING_HEADER`, `APPROOV_TOKEN_HEADER`, `APPROOV_LEEWAY_SECONDS` | as for every example ([`approov_core::VerifierBuilder::from_env`]) |
//! | `APPROOV_TOKEN_CACHE_SIZE` | as for every example: verified tokens remembered, default 10000, 0 for off |
//! | `RUST_LOG` | log filter, default `info` |
//!
//! The timeouts are whole seconds from 1 to 86400. `UPSTREAM_TIMEOUT_SECONDS`,
//! the two body timeouts, `RATE_LIMIT_PER_DEVICE_PER_MINUTE` and
//! `ALLOWED_METHODS` are also the defaults of every route of a routes file.
//! Missing, contradictory or unusable settings (an unknown method, a
//! header name the allow-list cannot take, a zero timeout) stop the proxy
//! before it listens, with one line on stderr naming the setting, and exit
//! code 2.
//!
//! # Routes file
//!
//! ```toml
//! # PROXY_CONFIG=/etc/api-key-proxy.toml; each key stays in the environment.
//! [[route]]
//! name = "nasa"                       # for logs; default: the prefix
//! prefix = "/nasa"                    # /nasa/planetary/apod -> <upstream>/planetary/apod
//! upstream = "https://api.nasa.gov"
//! key_env = "NASA_API_KEY"            # the variable holding this route's key
//! key_query_param = "api_key"         # or key_header = "X-Api-Key"
//!
//! [[route]]
//! prefix = "/weather"
//! upstream = "https://api.example.com/v2"
//! key_env = "WEATHER_API_KEY"
//! key_header = "X-Api-Key"
//! timeout_seconds = 10                        # default UPSTREAM_TIMEOUT_SECONDS
//! client_body_timeout_seconds = 10            # default CLIENT_BODY_TIMEOUT_SECONDS
//! upstream_body_timeout_seconds = 20          # default UPSTREAM_BODY_TIMEOUT_SECONDS
//! rate_limit_per_device_per_minute = 30       # default RATE_LIMIT_PER_DEVICE_PER_MINUTE
//! allowed_methods = ["GET", "POST"]           # default ALLOWED_METHODS
//! forward_client_headers = ["Authorization"]  # default none
//! ```
//!
//! Prefixes match whole path segments and the longest wins; a prefix of `/`
//! takes everything else. Without a file, the single upstream has prefix `/`.
//!
//! # What is forwarded
//! Only what passed every check below and the Approov token check (or
//! every check below, in report-only mode) is forwarded, and then:
//!
//! | to the upstream | |
//! |---|---|
//! | method | as sent, if the route allows it (see *Methods refused*) |
//! | path | after the route prefix, appended to the upstream's base path, bytes as sent (see *Paths refused*) |
//! | query | as sent, bytes and order kept; with query placement, every parameter named like the key (any case or encoding) is replaced by the key |
//! | body | streamed both ways, never buffered |
//! | `Host` | set from the upstream URL |
//! | the key header (header placement) | always the proxy's key, replacing every client header of that name, even one the route lets through |
//! | `Authorization`, `Cookie`, `Signature`, `Signature-Input` | **not forwarded** (the client's credentials for this server, e.g. the session the token is bound to), unless named in `FORWARD_CLIENT_HEADERS` / `forward_client_headers` |
//! | the Approov token header (configured and default name) | not forwarded |
//! | `X-HTTP-Method-Override`, `X-HTTP-Method`, `X-Method-Override` | not forwarded |
//! | `Expect` | not forwarded (the proxy answers `100 Continue` itself) |
//! | hop-by-hop headers of RFC 9110 §7.6.1: `Connection` and the headers it names, `Keep-Alive`, `Proxy-Connection`, `TE`, `Trailer`, `Transfer-Encoding`, `Upgrade`, `Proxy-Authenticate`, `Proxy-Authorization` | not forwarded |
//! | every other header | forwarded as sent |
//!
//! On the way back, the upstream's status, headers and body are streamed
//! to the client, without its hop-by-hop headers, and with every header
//! value that contains the key redacted.
//!
//! `FORWARD_CLIENT_HEADERS` (single upstream) or a route's
//! `forward_client_headers` may name only `Authorization`, `Cookie`,
//! `Signature` and `Signature-Input`; any other name stops the proxy at
//! start-up (the others are forwarded anyway, or never). With a routes
//! file, `FORWARD_CLIENT_HEADERS` is refused: each route names its own, so
//! a user's credential reaches only the third party it was meant for.
//!
//! # Methods refused
//! Only the route's allowed methods are forwarded: by default `GET`,
//! `HEAD`, `POST`, `PUT`, `PATCH`, `DELETE`, `OPTIONS`, compared exactly
//! (method names are case-sensitive, so `get`, `trace` and `Trace` are
//! not `GET` or `TRACE`). Any other method (`TRACE`, `TRACK`, `DEBUG`,
//! `CONNECT`, `PROPFIND`, …) gets `405 method_not_allowed` with an `Allow`
//! header, before the token check and without calling the upstream; the
//! log line says `refused="method_not_allowed"`. `TRACE` and `CONNECT`
//! cannot be allowed. The method-override headers `X-HTTP-Method-Override`,
//! `X-HTTP-Method` and `X-Method-Override` are never forwarded, so they
//! cannot smuggle another method past the list.
//!
//! # Paths refused
//! Upstreams disagree on how to read a path (Tomcat, Jetty and Spring drop
//! `;` parameters so `..;` is `..`; some split on `\`, decode `%2F` or
//! decode twice), so the proxy answers `400 bad_path`, before the token
//! check and without calling the upstream, any path that:
//! - does not start with `/` (`OPTIONS *`);
//! - has a `%` that does not start a `%XX` escape (`%zz`, `%u002e`);
//! - has an encoded separator, `%2F` or `%5C` (any case);
//! - has a control character once decoded (`%00`, `%0A`, `%7F`, U+0080 to
//!   U+009F);
//! - is not valid UTF-8 once decoded, overlong forms included (`%C0%AE`,
//!   `%C0%AF`, `%E0%80%AE`);
//! - has a segment (split on `/` and `\`) that is `.` or `..` once decoded
//!   and cut at its first `;` (`..`, `%2e%2e`, `.%2E`, `..;x=1`, `.;`).
//!
//! The separator, control and dot checks are made again on the path
//! decoded twice (`%252e%252e`, `%252F`). Empty segments, encoded spaces,
//! `%25`, `;` parameters on other segments and UTF-8 (encoded or literal)
//! are forwarded as they came. The log line's `refused` field names the
//! reason (`path_dot_segment`, `path_encoded_separator`,
//! `path_control_character`, `path_bad_utf8`, `path_bad_escape`,
//! `path_not_absolute`).
//!
//! # Bodies that stall
//! Both bodies are streamed, and each may pause only so long between two
//! pieces (tower-http's `TimeoutBody`; the total time is not limited, so
//! a long upload or download that keeps moving is fine). A client body
//! that pauses longer than the route's client body timeout aborts the
//! upstream request: the client gets `408 request_timeout` (with
//! `Connection: close`) if the upstream had not answered yet, else its
//! connection is dropped mid-response. An upstream body that pauses longer
//! than the route's upstream body timeout ends the client's response the
//! same way (its status has been sent: the body breaks off). Each stall is
//! logged once, as `the client's request body stalled` or `the upstream's
//! response body stalled`, with the route and the timeout.
//!
//! # Answers of the proxy itself
//! `GET /health` → `200 {"status":"ok"}` without a token. A refused path →
//! `400`, a method the route does not allow → `405` with `Allow` (both
//! before the token check). A bad token → `401 {}` (approov-tower's
//! default). No route → `404`. A client body that stalls → `408`. Too many requests
//! from a device → `429` and `Retry-After` (seconds); tokens without a
//! `did` share one budget per route, so leaving `did` out does not escape the
//! limit. Upstream unreachable → `502`, too slow → `504`. These bodies are
//! `{"error": ..., "message": ...}` and never name the upstream or the key.
//!
//! # Logs
//! One line per request (target `api_key_proxy`): method, path without the
//! query, status, latency in ms to the response head, `device` (first 12
//! hex digits of SHA-256 of the token's `did`), route, Approov outcome and
//! `refused` (why the proxy refused the request itself, else `-`). Never
//! the key, the token, the query or any header.

mod app;
mod client;
mod config;
mod credentials;
mod error;
mod file;
mod forward;
mod hop;
mod key;
mod limit;
mod log;
mod methods;
mod path;
mod query;
mod reply;
mod route;
mod stall;

pub use app::Proxy;
pub use config::{
    DEFAULT_CLIENT_BODY_TIMEOUT, DEFAULT_UPSTREAM_BODY_TIMEOUT, DEFAULT_UPSTREAM_TIMEOUT,
    ProxyConfig,
};
pub use credentials::ForwardedClientHeaders;
pub use error::ProxyConfigError;
pub use key::{ApiKey, KeyPlacement};
pub use log::TARGET as LOG_TARGET;
pub use methods::AllowedMethods;
pub use route::{Route, Upstream};
