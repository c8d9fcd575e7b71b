//! [Approov](https://approov.io) token verification for
//! [tower](https://docs.rs/tower): one [`ApproovLayer`] in front of an axum
//! router, a hyper service or a tonic server, and every request without a
//! genuine Approov token is answered `401` before it reaches your code.
//!
//! ```
//! use approov_core::{ApproovClaims, Verifier, mint::TokenBuilder};
//! use approov_tower::ApproovLayer;
//! use axum::{Extension, Router, body::Body, routing::get};
//! use http::{Request, StatusCode};
//! use tower::{Layer as _, ServiceExt as _}; // `layer`, `oneshot`
//!
//! async fn hello(Extension(claims): Extension<ApproovClaims>) -> String {
//!     format!("Hello, device {}!", claims.did().unwrap_or("?"))
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // At start-up. In production `Verifier::from_env()?` reads APPROOV_BASE64_SECRET;
//! // here a fresh secret lets us mint a token.
//! let secret = approov_core::mint::generate_secret_base64();
//! let verifier = Verifier::builder().secret_base64(&secret).build()?;
//!
//! let router = Router::new()
//!     .route("/", get(hello))
//!     .route("/health", get(|| async { "ok" }));
//! // The whole router, whatever order its routes were added in, except
//! // exactly `/health`. (With feature `axum`, `.protect(router)` does the
//! // same and serves with `axum::serve(listener, app.into_make_service())`.)
//! let app = ApproovLayer::new(verifier).open_paths(["/health"])?.layer(router);
//!
//! // The open path: no token needed.
//! let response = app.clone().oneshot(Request::get("/health").body(Body::empty())?).await?;
//! assert_eq!(response.status(), StatusCode::OK);
//!
//! // No token: 401 with `{}`, and the handler never runs.
//! let response = app.clone().oneshot(Request::get("/").body(Body::empty())?).await?;
//! assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
//! assert_eq!(response.headers()["www-authenticate"], "Approov");
//! let body = axum::body::to_bytes(Body::new(response.into_body()), 1024).await?;
//! assert_eq!(body, "{}");
//!
//! // A genuine token: the handler runs and sees the claims.
//! let token = TokenBuilder::approov_example().sign_hs256_base64(&secret)?;
//! let request = Request::get("/").header("Approov-Token", token).body(Body::empty())?;
//! let response = app.oneshot(request).await?;
//! assert_eq!(response.status(), StatusCode::OK);
//! let body = axum::body::to_bytes(Body::new(response.into_body()), 1024).await?;
//! assert_eq!(body, "Hello, device ExampleApproovTokenDID==!");
//! # Ok(())
//! # }
//! ```
//!
//! # What the layer does
//! Per request it calls [`Gate::check_request`](approov_core::Gate::check_request)
//! once with the method, path and headers; open paths, verification, token
//! binding, report-only mode, CORS preflight detection and logging (through `tracing`, target
//! `approov`, never the token) all happen in `approov-core`. Then:
//! - **forwarded** requests carry an [`ApproovOutcome`] in their extensions,
//!   and [`ApproovClaims`] when the token verified. In axum, read them with
//!   `Extension<ApproovClaims>`, `Extension<ApproovOutcome>`, or the
//!   `Approov` extractor (feature `axum`); elsewhere with
//!   `request.extensions().get::<ApproovClaims>()`.
//! - **rejected** requests get `401`, `content-type: application/json`,
//!   `www-authenticate: Approov` and body `{}`
//!   ([`response::unauthorized`]); gRPC requests (`content-type:
//!   application/grpc…`) get a trailers-only `grpc-status: 16`
//!   (UNAUTHENTICATED) instead ([`response::grpc_unauthenticated`]). A
//!   request the verifier cannot judge because it has no usable key at all
//!   (`keys_unavailable`: a JWKS URL not fetched yet, started with
//!   `start_without_keys`) gets `503` with `retry-after: 10` and `{}`
//!   instead ([`response::service_unavailable`]; gRPC: `grpc-status: 14`
//!   UNAVAILABLE, [`response::grpc_unavailable`]). Replace them all with
//!   [`ApproovLayer::rejection_response`].
//!
//! The response body is [`ApproovBody<B>`]: the inner body `B` or the
//! layer's own answer, with `Data = Bytes` and `B`'s error type.
//!
//! # Protecting the whole application
//! `ApproovLayer::protect` (feature `axum`) wraps the finished router, so
//! the token is checked before routing: every route is protected whatever
//! order it was added in, and so is the fallback. A `Router`'s own `layer`
//! or `route_layer` covers only the routes added before it: use those for
//! what one route adds (token binding, message signing). Such an inner
//! layer takes the outer layer's verified token (it finds the claims and a
//! [`VerifiedBy`](approov_core::VerifiedBy) in the request's extensions)
//! and checks only what it adds, when both come from the same verifier.
//! [`ApproovLayer::open_paths`] leaves exact paths open.
//!
//! # Options
//! See [`ApproovLayer`]: open paths, token binding per layer (so per route with axum's
//! `route_layer`), another token header, report-only mode, CORS preflight
//! handling, a custom rejection response, and message signing.
//!
//! # Message signing
//! [`ApproovLayer::message_signing`] also checks the request's HTTP message
//! signatures (RFC 9421: the `install` signature made with the key whose
//! public half is the token's `ipk`, and `account` signatures) and its
//! `Content-Digest` (RFC 9530), as configured by a
//! [`MessageSigning`] (see
//! [`approov_core::signing`] for what is checked):
//!
//! ```
//! use approov_core::mint::{InstallKey, RequestSigner, TokenBuilder};
//! use approov_core::signing::{MessageSigning, SignaturePolicy};
//! use approov_core::Verifier;
//! use approov_tower::ApproovLayer;
//! use axum::{Router, body::{Body, Bytes}, routing::post};
//! use http::{Request, StatusCode};
//! use tower::ServiceExt;
//!
//! // The handler reads the very bytes whose Content-Digest was checked.
//! async fn shapes(body: Bytes) -> String {
//!     format!("{} bytes", body.len())
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let secret = approov_core::mint::generate_secret_base64();
//! let verifier = Verifier::builder().secret_base64(&secret).build()?;
//! // Every request needs an installation signature (so a token without `ipk`
//! // is refused); bodies up to 1 MiB are read to check `Content-Digest`.
//! let signing = MessageSigning::builder().policy(SignaturePolicy::Always).build()?;
//! let app = Router::new()
//!     .route("/shapes", post(shapes))
//!     .route_layer(ApproovLayer::new(verifier).message_signing(signing));
//!
//! // What the app does: a token with its installation key, a signed request.
//! let key = InstallKey::generate()?;
//! let token = TokenBuilder::new().expires_in(300).claim("ipk", key.ipk()).sign_hs256_base64(&secret)?;
//! let signed = RequestSigner::new("POST", "http://api.example.com/shapes")?
//!     .header("Approov-Token", &token)
//!     .body(r#"{"shape":"circle"}"#)
//!     .sign_install(&key)
//!     .finish()?;
//!
//! // As the server receives it: origin-form target, `Host`, the signature headers.
//! let mut request = Request::post(&signed.path_and_query);
//! for (name, value) in &signed.headers {
//!     request = request.header(name, value);
//! }
//! let response = app.clone().oneshot(request.body(Body::from(signed.body.clone().unwrap_or_default()))?).await?;
//! assert_eq!(response.status(), StatusCode::OK);
//! let body = axum::body::to_bytes(response.into_body(), 1024).await?;
//! assert_eq!(body, "18 bytes");
//!
//! // The same token without a signature.
//! let request = Request::post("/shapes").header("Host", "api.example.com").header("Approov-Token", &token);
//! let response = app.oneshot(request.body(Body::from("{}"))?).await?;
//! assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
//! # Ok(())
//! # }
//! ```
//!
//! Per request, in that mode, the layer:
//! 1. reads the method, the path and query, and the scheme and authority
//!    when the client sent them as the target (HTTP/2 `:scheme` and
//!    `:authority`, an absolute-form request line); otherwise the core takes
//!    the authority from `Host`. Behind a proxy, configure
//!    [`public_origin`](approov_core::signing::MessageSigningBuilder::public_origin)
//!    or [`trust_forwarded_headers`](approov_core::signing::MessageSigningBuilder::trust_forwarded_headers).
//!    Under a nested axum router the path is axum's `OriginalUri` (feature
//!    `axum`), which is what the app signed.
//! 2. hands that head to the core's first step,
//!    [`Gate::check_head`](approov_core::Gate::check_head): the token, its
//!    binding, every signature (they cover the `Content-Digest` header, not
//!    the body) and the announced `Content-Length`. A refused request is
//!    answered at once and its body is never read, however much it
//!    announced; a request that needs no digest check goes on with its body
//!    streaming, untouched.
//! 3. only when a `Content-Digest` must be compared with the body, reads
//!    it, up to
//!    [`max_body_len`](approov_core::signing::MessageSigningBuilder::max_body_len)
//!    (1 MiB) within
//!    [`body_read_timeout`](approov_core::signing::MessageSigningBuilder::body_read_timeout)
//!    (30 s), and hands the bytes to the core's second step. A body over
//!    the limit (announced or counted) is answered `413 Payload Too Large`,
//!    one that fails while being read `400 Bad Request`, one that does not
//!    arrive in time `408 Request Timeout`, all with `{}` and without
//!    calling the inner service ([`response::payload_too_large`],
//!    [`response::bad_request`], [`response::request_timeout`]; gRPC
//!    requests get `grpc-status` 8, 3 or 4, trailers-only). Report-only
//!    mode does not change that: a body that cannot be checked cannot be
//!    handed on intact either. The same bytes (and any trailers) go on to
//!    the inner service. The deadline is a tokio timer: the runtime must
//!    have its timer enabled, as every tokio server's has.
//! 4. answers or forwards exactly as in token-only mode: rejections get the
//!    401 or 503 (the gRPC trailers-only `grpc-status: 16` or 14 for gRPC requests, or
//!    your [`rejection_response`](ApproovLayer::rejection_response)), the
//!    reason is logged by the core; forwarded requests carry the outcome and
//!    claims.
//!
//! ## The request body the inner service receives
//! [`message_signing`](ApproovLayer::message_signing) turns an
//! `ApproovLayer` into an `ApproovLayer<`[`MessageSigned`](mode::MessageSigned)`>`,
//! whose services pass the inner service `Request<`[`ApproovRequestBody`]`<ReqBody>>`:
//! the original body, or the buffered bytes. A `ReqBody: From<Bytes>`
//! bound would have kept the type but shut out hyper, whose `Incoming`
//! body cannot be made from bytes; the wrapper works for every body with
//! `Data = Bytes`:
//! - **axum**: routes accept any such body, so `route_layer` and `layer`
//!   work unchanged, and extractors (`Bytes`, `String`, `Json`…) read the
//!   checked bytes.
//! - **tonic**: `Server::builder().layer(…)` works unchanged; the gRPC
//!   router accepts any such body.
//! - **hyper**: the service names it, e.g.
//!   `service_fn(|req: Request<ApproovRequestBody<Incoming>>| …)`.
//!
//! The mode is a type rather than a flag so that the token-only layer keeps
//! its exact types and cost: its inner service still receives
//! `Request<ReqBody>`, whatever `ReqBody` is.
//!
//! ## Cost of message signing
//! On top of the token check: the signature verification itself (an ECDSA
//! P-256 verify per `install` signature, an HMAC per `account` one) and the
//! `Content-Digest` hash. A request whose body is not checked adds no boxed
//! future and keeps its streaming body; axum then boxes the wrapped body
//! once, as it does any body that is not its own. A request with one adds
//! a [`SignedResponseFuture`] state (not boxed) holding a clone of the
//! inner service and of the layer's settings (reference counts), the body
//! in memory (at most the limit per request in flight; copied once into one
//! buffer when it arrived in several chunks), and a copy of any trailers.
//! Token-only layers pay none of this.
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
//! use approov_tower::ApproovLayer;
//! use axum::{Extension, Router, body::Body, http::StatusCode, routing::get};
//! use tower::ServiceExt;
//!
//! #[derive(serde::Deserialize)]
//! struct Mine {
//!     tier: String,
//! }
//!
//! // Or `Approov(claims): Approov` with the `axum` feature.
//! async fn tier(Extension(claims): Extension<ApproovClaims>) -> Result<String, StatusCode> {
//!     let mine: Mine = claims.deserialize().map_err(|_| StatusCode::FORBIDDEN)?;
//!     Ok(mine.tier)
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let secret = approov_core::mint::generate_secret_base64();
//! let verifier = Verifier::builder().secret_base64(&secret).build()?;
//! let app = Router::new().route("/tier", get(tier)).layer(ApproovLayer::new(verifier));
//! let token = TokenBuilder::approov_example().claim("tier", "gold").sign_hs256_base64(&secret)?;
//! let request = http::Request::get("/tier").header("Approov-Token", token).body(Body::empty())?;
//! let body = axum::body::to_bytes(app.oneshot(request).await?.into_body(), 64).await?;
//! assert_eq!(body, "gold");
//! # Ok(())
//! # }
//! ```
//!
//! # hyper and tonic
//! The layer is plain tower, so it also wraps a hyper 1 service
//! (`tower::service_fn` plus `hyper_util::service::TowerToHyperService`) and
//! a tonic 0.14 server (`tonic::transport::Server::builder().layer(ApproovLayer::new(verifier))`);
//! the crate's tests run both over real sockets.
//!
//! # Cost
//! The happy path adds no boxed future and no boxed body:
//! [`ResponseFuture`] and [`ApproovBody`] are enums over the inner types.
//! Its only allocations are `http::Extensions`' own storage for the
//! outcome and claims (shared through an `Arc`, not copied).
//!
//! # Features
//! - `axum`: the `Approov` extractor (and `Option<Approov>`) for axum 0.8,
//!   and message signing behind nested axum routers (`OriginalUri`).
//!
//! # Serving in production
//! `axum::serve` runs hyper without a timer, so hyper's request-head
//! timeout never fires: a client that trickles header bytes keeps its
//! connection open forever, idle keep-alive connections are never closed,
//! nothing caps the number of connections, and a client that pipelines
//! requests and never reads the answers holds its connection forever.
//! Serve through hyper's builder with hyper-util's `TokioTimer` instead,
//! with a write timeout around each stream (`hyper` features `server`,
//! `http1`; `hyper-util` features `service`, `tokio`; `tokio` feature
//! `sync`; `tokio-io-timeout`):
//!
//! ```no_run
//! use std::convert::Infallible;
//! use std::sync::atomic::{AtomicUsize, Ordering};
//! use std::{io, sync::Arc, time::Duration};
//!
//! use approov_core::{ApproovClaims, Verifier};
//! use approov_tower::ApproovLayer;
//! use axum::{Extension, Router, routing::get};
//! use hyper::header::{CONNECTION, HeaderValue};
//! use hyper::server::conn::http1;
//! use hyper::service::{Service as _, service_fn};
//! use hyper_util::rt::{TokioIo, TokioTimer};
//! use hyper_util::service::TowerToHyperService;
//! use tokio::{net::TcpListener, sync::Semaphore};
//! use tokio_io_timeout::TimeoutStream;
//!
//! # async fn hello(Extension(_claims): Extension<ApproovClaims>) -> &'static str { "Hello" }
//! # async fn serve() -> Result<(), Box<dyn std::error::Error>> {
//! let app = Router::new()
//!     .route("/", get(hello))
//!     .layer(ApproovLayer::new(Verifier::from_env()?));
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
//!     let service = TowerToHyperService::new(app.clone());
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
//! ```
//!
//! For graceful shutdown, wrap each connection in
//! `hyper_util::server::graceful::GracefulShutdown::watch`; for WebSockets,
//! serve it `.with_upgrades()`. The example
//! servers (`axum-hello`, `approov-proxy`) serve this way, with the limits
//! read from `HEADER_READ_TIMEOUT_SECONDS`, `IDLE_TIMEOUT_SECONDS`,
//! `SEND_TIMEOUT_SECONDS`, `MAX_CONNECTIONS` and
//! `MAX_REQUESTS_PER_CONNECTION`.
//!
//! # Why each dependency
//! - `approov-core`: every rule; this crate only moves bytes and builds
//!   responses.
//! - `http`, `http-body`, `bytes`, `tower-layer`, `tower-service`: the types
//!   a tower middleware is made of.
//! - `http-body-util`: `Limited` and `collect` to read a body that must be
//!   checked, under the core's limit; `Full` for the layer's own answers.
//! - `pin-project-lite`: response futures as enums of states, unboxed.
//! - `tokio` (feature `time` only): the deadline on reading a body that
//!   must be checked.
//! - `tracing`: the one event this crate logs itself, when the `Approov`
//!   extractor runs on a route without the layer (a setup mistake); every
//!   rejection is logged by the core.
//! - `axum` (optional): the `Approov` extractor and `OriginalUri`.
#![deny(missing_docs, unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod body;
#[cfg(feature = "axum")]
mod extract;
mod future;
mod layer;
pub mod mode;
#[cfg(feature = "axum")]
mod protect;
mod request_body;
pub mod response;
mod service;
mod signed;
mod signed_future;

/// The [`RequestHeaders`](approov_core::RequestHeaders) view of an
/// [`http::HeaderMap`] the layer reads every request through; public for
/// handlers that verify by hand. It is the core's
/// [`approov_core::http::HttpHeaders`].
pub use approov_core::http::HttpHeaders;
// The core types a user of this crate names, so that one dependency line
// is enough: `approov_tower::Verifier::from_env()`.
/// The whole core crate, for what is not re-exported here.
pub use approov_core;
#[cfg(feature = "dev")]
#[cfg_attr(docsrs, doc(cfg(feature = "dev")))]
pub use approov_core::dev;
pub use approov_core::signing::{MessageSigning, MessageSigningBuilder, SignaturePolicy};
pub use approov_core::{
    ApproovClaims, ApproovOutcome, ConfigError, Gate, Rejection, RejectionKind, TokenBinding,
    Verifier, VerifierBuilder, metrics,
};
pub use body::ApproovBody;
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub use extract::{Approov, NoClaims};
pub use future::ResponseFuture;
pub use layer::ApproovLayer;
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub use protect::{Protected, ProtectedFuture};
pub use request_body::ApproovRequestBody;
pub use response::unauthorized;
pub use service::ApproovService;
pub use signed_future::SignedResponseFuture;

/// The crate README's Rust blocks, compiled as doctests so that each builds
/// as printed with the dependency lines above it.
#[cfg(all(doctest, feature = "axum"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
