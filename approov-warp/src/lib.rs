//! [Approov](https://approov.io) token verification for [warp].
//!
//! A mobile app protected by Approov sends a short-lived JWT, the *Approov
//! token*, in the `Approov-Token` header of every request. This crate gives
//! warp filters that check it with [`approov_core`] and reject requests
//! without a genuine token, plus a [`recover`] function that answers those
//! rejections with 401 (503 with `retry-after` when the verifier has no
//! usable key at all to judge a token, [`service_unavailable`]).
//!
//! ```
//! use approov_core::mint::{TokenBuilder, generate_secret_base64};
//! use approov_warp::{ApproovFilter, ApproovClaims, Verifier};
//! use warp::Filter;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // At start-up (usually `Verifier::from_env()`, reading APPROOV_BASE64_SECRET):
//! let secret = generate_secret_base64();
//! let approov = ApproovFilter::new(Verifier::builder().secret_base64(&secret).build()?);
//!
//! let hello = warp::path!("hello").and(approov.protect()).map(|| "Hello, World!");
//! let device = warp::path!("device")
//!     .and(approov.claims())
//!     .map(|claims: ApproovClaims| claims.did().unwrap_or_default().to_owned());
//! let health = warp::path!("health").map(|| "ok");
//! // `recover` turns our rejections into 401s: without it warp answers 500.
//! let app = hello.or(device).or(health).recover(approov_warp::recover);
//!
//! // What the app's Approov SDK would send:
//! let token = TokenBuilder::approov_example().sign_hs256_base64(&secret)?;
//! let res = warp::test::request().path("/device").header("approov-token", &token).reply(&app).await;
//! assert_eq!(res.status(), 200);
//! assert_eq!(res.body(), "ExampleApproovTokenDID==");
//!
//! let res = warp::test::request().path("/hello").reply(&app).await;
//! assert_eq!(res.status(), 401);
//! assert_eq!(res.headers()["www-authenticate"], "Approov");
//! assert_eq!(res.body(), "{}");
//!
//! let res = warp::test::request().path("/health").reply(&app).await;
//! assert_eq!(res.status(), 200);
//! # Ok(())
//! # }
//! ```
//!
//! To protect a whole application, with a few exact paths left open, wrap
//! it: [`ApproovFilter::protect_all`] checks the token before any filter of
//! the routes inside, whatever their place in the `or` chain, and includes
//! [`recover`]; [`ApproovFilter::open_paths`] names the paths left open.
//!
//! # The pieces
//! - [`ApproovFilter`]: the configuration (verifier, token binding, token header,
//!   report-only mode, CORS preflight handling, custom rejection response,
//!   message signing).
//! - [`ApproovFilter::outcome`] extracts the [`ApproovOutcome`];
//!   [`ApproovFilter::claims`] extracts the verified [`ApproovClaims`];
//!   [`ApproovFilter::protect`] extracts nothing, to guard a chain:
//!   `approov.protect().and(routes)`.
//! - [`ApproovFilter::signed`] / [`ApproovFilter::signed_claims`]: the same, for
//!   routes that receive a body, extracting the body's bytes too (see
//!   [Message signing](#message-signing)).
//! - [`NoClaims`]: the named rejection, with the core [`Rejection`]
//!   (the reason, for logs) and the response to send; [`BodyRejection`]:
//!   the core's [`BodyProblem`], a body too long (413), unreadable (400) or
//!   too slow (408).
//! - [`recover`]: answers our rejections with their responses and passes
//!   every other rejection on.
//!
//! Each filter asks the core once per request it runs on:
//! [`Gate::check_request`](approov_core::Gate::check_request) or, with message signing,
//! [`Gate::check_message`](approov_core::Gate::check_message) for the
//! filters that leave the body alone, and
//! [`Gate::check_head`](approov_core::Gate::check_head) then the body step
//! for [`ApproovFilter::signed`]. The core does the verification, the token
//! binding, the preflight detection, the report-only decision, the body
//! limit and deadline, and the logging (one `tracing` event per rejection
//! or refused body, target `approov`, never the token); this crate only
//! moves the body's bytes and turns the decision into warp's terms.
//!
//! # Message signing
//! With [`ApproovFilter::message_signing`], requests are also checked for HTTP
//! message signatures (RFC 9421) and `Content-Digest` (RFC 9530): an app
//! whose Approov token carries `ipk` signs every request with its
//! installation key, so a stolen token is useless without the device (see
//! [`approov_core::signing`] for what is checked and the options).
//!
//! In warp the body can be taken only once, so routes that receive one use
//! [`ApproovFilter::signed`] or [`ApproovFilter::signed_claims`]. They check the token
//! and the signatures first, from the request's head, so a refused request
//! is answered `401` without its body being read. Only then do they read
//! the body (up to [`MessageSigning`]'s `max_body_len`, 1 MiB by default,
//! within its `body_read_timeout`, 30 s by default), check it against its
//! `Content-Digest` and hand the same bytes to the handler. A longer body
//! is answered `413`, a body that cannot be read `400` and one not read in
//! time `408` (a [`BodyRejection`], which [`recover`] answers), before the
//! handler runs. As they hand the body on as bytes, they read every body
//! under that limit and deadline, digested or not. [`ApproovFilter::outcome`],
//! [`claims`](ApproovFilter::claims) and [`protect`](ApproovFilter::protect) check the
//! signatures of requests without a body; they refuse a `Content-Digest`
//! they cannot check.
//!
//! ```
//! use approov_core::mint::{InstallKey, RequestSigner, TokenBuilder, generate_secret_base64};
//! use approov_warp::{ApproovFilter, ApproovClaims, MessageSigning, SignaturePolicy, Verifier};
//! use bytes::Bytes;
//! use warp::Filter;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let secret = generate_secret_base64();
//! let approov = ApproovFilter::new(Verifier::builder().secret_base64(&secret).build()?)
//!     // Every request must be signed; by default only those whose token has `ipk`.
//!     .message_signing(MessageSigning::builder().policy(SignaturePolicy::Always).build()?);
//!
//! // Method first: a route that takes the body leaves none for the next one.
//! let shapes = warp::path!("shapes")
//!     .and(warp::post())
//!     .and(approov.signed_claims())
//!     .map(|_claims: ApproovClaims, body: Bytes| format!("{} bytes", body.len()));
//! let app = shapes.recover(approov_warp::recover);
//!
//! // What the app's Approov SDK would send:
//! let key = InstallKey::generate()?;
//! let token = TokenBuilder::approov_example().claim("ipk", key.ipk()).sign_hs256_base64(&secret)?;
//! let signed = RequestSigner::new("POST", "http://api.example.com/shapes")?
//!     .header("Approov-Token", &token)
//!     .body(br#"{"shape":"circle"}"#)
//!     .sign_install(&key)
//!     .finish()?;
//! let request = || {
//!     let mut req = warp::test::request().method("POST").path("/shapes");
//!     for (name, value) in &signed.headers {
//!         req = req.header(name.as_str(), value.as_str());
//!     }
//!     req
//! };
//! let res = request().body(br#"{"shape":"circle"}"#).reply(&app).await;
//! assert_eq!((res.status().as_u16(), res.body().as_ref()), (200, b"18 bytes".as_ref()));
//!
//! // Another body under the same signature and Content-Digest:
//! let res = request().body(br#"{"shape":"square"}"#).reply(&app).await;
//! assert_eq!((res.status().as_u16(), res.body().as_ref()), (401, b"{}".as_ref()));
//! # Ok(())
//! # }
//! ```
//!
//! warp does not show filters the request's scheme: the signature base
//! uses `http` unless [`MessageSigningBuilder::public_origin`] (or, behind
//! a proxy that sets them, trusted forwarded headers) says otherwise. Set
//! it when clients reach the server over `https`.
//!
//! # Your own claims
//! Approov can add claims of your own to a token (annotations, custom
//! fields). Read them into your `serde` type with
//! [`ApproovClaims::deserialize`](approov_core::ApproovClaims::deserialize),
//! from the payload that already verified (no second signature check); a
//! missing claim or a wrong type is an error value, never a panic:
//!
//! ```
//! use approov_core::{ApproovClaims, Verifier, mint::TokenBuilder};
//! use approov_warp::ApproovFilter;
//! use warp::Filter;
//!
//! #[derive(serde::Deserialize)]
//! struct Mine {
//!     tier: String,
//! }
//!
//! fn tier(claims: ApproovClaims) -> String {
//!     claims.deserialize::<Mine>().map_or_else(|_| "none".to_owned(), |mine| mine.tier)
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let secret = approov_core::mint::generate_secret_base64();
//! let approov = ApproovFilter::new(Verifier::builder().secret_base64(&secret).build()?);
//! let route = warp::path("tier").and(approov.claims()).map(tier);
//! let token = TokenBuilder::approov_example().claim("tier", "gold").sign_hs256_base64(&secret)?;
//! let response = warp::test::request().path("/tier").header("Approov-Token", token).reply(&route).await;
//! assert_eq!(response.body(), "gold");
//! # Ok(())
//! # }
//! ```
//!
//! # Where to put the filter
//! warp tries the routes joined with `or` one after the other, and each
//! route runs its own filters. Put the path (and method) filters **before**
//! the Approov filter, as above: the token is then checked once, on the
//! route that matched, and unknown paths still get warp's 404. Or protect
//! everything at once with `approov.protect().and(routes)`: then every path,
//! unknown ones included, needs a token, which is the stricter choice.
//! A route that starts with the Approov filter and is followed by others
//! with `or` checks the token again on each of them.
//!
//! When every route rejects, warp keeps all the rejections; [`recover`]
//! finds ours among them, so a protected route answers 401 even when
//! another route would have said 404 or 405.
//!
//! # Why each dependency
//! - `approov-core`: the verification itself, shared by every adapter.
//! - `warp`: the framework (default features off; nothing else is needed).
//! - `bytes`: the body handed to handlers by [`ApproovFilter::signed`].
//! - `http-body`, `http-body-util`, `futures-util`: reading that body under
//!   a limit with `http_body_util::Limited` instead of by hand.
//! - `tokio` (feature `time`): the deadline on that read. warp depends on
//!   all five already.
//!
//! # Serving in production
//! `warp::serve` runs hyper without a timer, so hyper's request-head
//! timeout never fires: a client that trickles header bytes keeps its
//! connection open forever, idle keep-alive connections are never closed,
//! nothing caps the number of connections, and a client that pipelines
//! requests and never reads the answers holds its connection forever.
//! Turn the filter into a service with `warp::service` and serve it
//! through hyper's builder with hyper-util's `TokioTimer`, with a write
//! timeout around each stream (`hyper` features `server`, `http1`;
//! `hyper-util` features `service`, `tokio`; `tokio` feature `sync`;
//! `tokio-io-timeout`):
//!
//! ```no_run
//! use std::convert::Infallible;
//! use std::sync::atomic::{AtomicUsize, Ordering};
//! use std::{io, sync::Arc, time::Duration};
//!
//! use approov_warp::{ApproovFilter, ApproovClaims, Verifier};
//! use hyper::header::{CONNECTION, HeaderValue};
//! use hyper::server::conn::http1;
//! use hyper::service::{Service as _, service_fn};
//! use hyper_util::rt::{TokioIo, TokioTimer};
//! use hyper_util::service::TowerToHyperService;
//! use tokio::{net::TcpListener, sync::Semaphore};
//! use tokio_io_timeout::TimeoutStream;
//! use warp::Filter;
//!
//! # async fn serve() -> Result<(), Box<dyn std::error::Error>> {
//! let approov = ApproovFilter::new(Verifier::from_env()?);
//! let routes = warp::path::end()
//!     .and(approov.claims())
//!     .map(hello)
//!     .recover(approov_warp::recover);
//! let listener = TcpListener::bind("0.0.0.0:8080").await?;
//!
//! let mut http = http1::Builder::new();
//! // A request head must be complete within 30 s. hyper also runs this
//! // timer while a kept-alive connection waits for its next request, so it
//! // closes idle connections too. Without a timer it does nothing.
//! http.timer(TokioTimer::new())
//!     .header_read_timeout(Duration::from_secs(30));
//! // At most 512 connections: one permit each; more wait in the backlog.
//! let permits = Arc::new(Semaphore::new(512));
//! loop {
//!     let permit = Arc::clone(&permits).acquire_owned().await?;
//!     let stream = match listener.accept().await {
//!         Ok((stream, _peer)) => stream,
//!         Err(e) if e.kind() == io::ErrorKind::ConnectionAborted => continue,
//!         // Out of file descriptors or memory: never stop accepting.
//!         Err(_) => {
//!             tokio::time::sleep(Duration::from_secs(1)).await;
//!             continue;
//!         }
//!     };
//!     // A write that waits 60 s on a client that stopped reading fails,
//!     // and hyper closes the connection; without it, a client that
//!     // pipelines requests and never reads holds its slot for ever.
//!     let mut stream = TimeoutStream::new(stream);
//!     stream.set_write_timeout(Some(Duration::from_secs(60)));
//!     let io = TokioIo::new(Box::pin(stream));
//!     // At most 1000 requests per connection: the last answer says
//!     // `Connection: close`, and hyper closes after writing it.
//!     let service = TowerToHyperService::new(warp::service(routes.clone()));
//!     let served = AtomicUsize::new(0);
//!     let service = service_fn(move |request| {
//!         let last = served.fetch_add(1, Ordering::Relaxed) + 1 >= 1000;
//!         let answer = service.call(request);
//!         async move {
//!             let mut response = answer.await?;
//!             if last {
//!                 let close = HeaderValue::from_static("close");
//!                 response.headers_mut().insert(CONNECTION, close);
//!             }
//!             Ok::<_, Infallible>(response)
//!         }
//!     });
//!     let conn = http.serve_connection(io, service);
//!     tokio::spawn(async move {
//!         let _ = conn.await; // timeouts and hang-ups end here
//!         drop(permit);
//!     });
//! }
//! # }
//!
//! fn hello(_claims: ApproovClaims) -> &'static str {
//!     "Hello, World!"
//! }
//! ```
//!
//! For graceful shutdown, wrap each connection in
//! `hyper_util::server::graceful::GracefulShutdown::watch`; for WebSockets,
//! serve it `.with_upgrades()`. The example
//! server `warp-hello` serves this way, with the limits read from
//! `HEADER_READ_TIMEOUT_SECONDS`, `IDLE_TIMEOUT_SECONDS`,
//! `SEND_TIMEOUT_SECONDS`, `MAX_CONNECTIONS` and
//! `MAX_REQUESTS_PER_CONNECTION`.
#![deny(missing_docs, unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod approov_filter;
mod body;
mod filters;
mod message;
mod recover;
mod rejection;
mod signed;

// The core types a user of this crate names, so that one dependency line
// is enough: `approov_warp::Verifier::from_env()`.
/// The whole core crate, for what is not re-exported here.
pub use approov_core;
#[cfg(feature = "dev")]
#[cfg_attr(docsrs, doc(cfg(feature = "dev")))]
pub use approov_core::dev;
pub use approov_core::http::HttpHeaders;
pub use approov_core::signing::{MessageSigning, MessageSigningBuilder, SignaturePolicy};
pub use approov_core::{
    ApproovClaims, ApproovOutcome, BodyProblem, ConfigError, Gate, Rejection, RejectionKind,
    TokenBinding, Verifier, VerifierBuilder, metrics,
};
pub use approov_filter::ApproovFilter;
pub use body::BodyRejection;
pub use recover::recover;
pub use rejection::{NoClaims, service_unavailable, unauthorized};

/// The crate README's Rust blocks, compiled as doctests so that each builds
/// as printed with the dependency lines above it.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
