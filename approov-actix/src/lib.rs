//! [Approov](https://approov.io) token verification for
//! [actix-web](https://actix.rs): a middleware that answers 401 to every
//! request without a genuine Approov token, and extractors that hand the
//! verified claims to your handlers.
//!
//! ```
//! use actix_web::{App, HttpResponse, test, web};
//! use approov_actix::{Approov, ApproovMiddleware};
//! use approov_core::{Verifier, mint::TokenBuilder};
//!
//! async fn hello(Approov(claims): Approov) -> HttpResponse {
//!     HttpResponse::Ok().body(format!("hello, device {}", claims.did().unwrap_or("?")))
//! }
//!
//! # actix_web::rt::System::new().block_on(async {
//! // At start-up; in a real server `Verifier::from_env()?` reads APPROOV_BASE64_SECRET.
//! let secret = approov_core::mint::generate_secret_base64();
//! let verifier = Verifier::builder().secret_base64(&secret).build()?;
//!
//! let app = test::init_service(
//!     App::new()
//!         .wrap(ApproovMiddleware::new(verifier))
//!         .route("/", web::get().to(hello)),
//! )
//! .await;
//!
//! // A request from the genuine app (a token minted here for the example):
//! let token = TokenBuilder::approov_example().sign_hs256_base64(&secret)?;
//! let req = test::TestRequest::get().uri("/").insert_header(("Approov-Token", token));
//! let body = test::call_and_read_body(&app, req.to_request()).await;
//! assert_eq!(body, "hello, device ExampleApproovTokenDID==");
//!
//! // Anything else gets 401 with the body `{}`, before reaching the handler:
//! let res = test::call_service(&app, test::TestRequest::get().uri("/").to_request()).await;
//! assert_eq!(res.status(), 401);
//! assert_eq!(res.headers().get("www-authenticate").unwrap(), "Approov");
//! assert_eq!(test::read_body(res).await, "{}");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! # What it does
//! - [`ApproovMiddleware`] is a [`Transform`](actix_web::dev::Transform):
//!   `.wrap()` it around an `App`, a `web::scope` or a `web::resource`.
//!   Around the `App` it covers every route, resource, scope and service of
//!   it, whatever order they are registered in, but the exact paths of
//!   [`open_paths`](ApproovMiddleware::open_paths); a `wrap` on a scope or
//!   resource covers only that one, so use it for what one resource adds
//!   (binding, message signing): that inner middleware takes the outer
//!   one's verified token (the claims and a
//!   [`VerifiedBy`](approov_core::VerifiedBy) in the request's extensions,
//!   from the same verifier) and checks only what it adds. Each
//!   instance has its own options: token binding
//!   ([`token_binding`](ApproovMiddleware::token_binding)), token header,
//!   [report-only mode](ApproovMiddleware::report_only), CORS preflight
//!   skipping (on by default), a custom
//!   [rejection response](ApproovMiddleware::rejection_response) and
//!   [message signing](ApproovMiddleware::message_signing).
//! - It asks [`approov_core::Gate::check_request`] about each request (with
//!   message signing, [`Gate::check_head`](approov_core::Gate::check_head),
//!   then [`BodyCheck::finish`](approov_core::BodyCheck::finish) when the
//!   body must be checked), which verifies the token and logs each
//!   rejection through `tracing` (target `approov`, with the reason's kind
//!   and never the token).
//! - A request that is let through carries
//!   [`ApproovOutcome`] in its extensions, and
//!   [`ApproovClaims`] when verified. Handlers
//!   read them with the [`Approov`] extractor (or `Option<Approov>`) and
//!   `web::ReqData<ApproovOutcome>`.
//! - A rejection answers [`unauthorized`]: 401,
//!   `content-type: application/json`, `www-authenticate: Approov` and `{}`,
//!   as the official Approov backends do. The reason is never sent. A
//!   request the verifier cannot judge because it has no usable key at all
//!   (`keys_unavailable`: a JWKS URL not fetched yet, started with
//!   `start_without_keys`) answers [`service_unavailable`] instead: 503,
//!   `retry-after: 10`, `{}`.
//!
//! # Message signing
//! With [`ApproovMiddleware::message_signing`], requests must also carry
//! the HTTP message signature (RFC 9421) the app makes with its
//! installation key, whose public half is the token's `ipk` claim (see
//! [`approov_core::signing`]). Per request, the middleware:
//! 1. calls [`Gate::check_head`](approov_core::Gate::check_head) with the
//!    method, target, `Host` and headers: the token, its binding, every
//!    signature, the `Content-Digest` header and the announced
//!    `Content-Length`. A bad token or signature is answered 401 `{}` at
//!    once, without reading a byte of the body;
//! 2. only when a `Content-Digest` must be compared with the body, reads
//!    it, up to [`Gate::max_body_len`](approov_core::Gate::max_body_len)
//!    within [`Gate::body_read_timeout`](approov_core::Gate::body_read_timeout),
//!    checks it, and gives the handler the same bytes. A body over the
//!    limit (or a `Content-Length` saying so) is answered 413 `{}`, one that
//!    cannot be read 400 `{}`, one not read by the deadline 408 `{}`, in
//!    report-only mode too;
//! 3. treats the decision like a token check: 401 `{}` on rejection, or
//!    the extensions and the handler.
//!
//! Without message signing the middleware never touches the body and
//! allocates nothing per request.
//!
//! ```
//! use actix_web::{App, HttpResponse, test, web};
//! use approov_actix::ApproovMiddleware;
//! use approov_core::mint::{InstallKey, RequestSigner, TokenBuilder};
//! use approov_core::signing::{MessageSigning, SignaturePolicy};
//! use approov_core::Verifier;
//!
//! # actix_web::rt::System::new().block_on(async {
//! let secret = approov_core::mint::generate_secret_base64();
//! let verifier = Verifier::builder().secret_base64(&secret).build()?;
//! let signing = MessageSigning::builder().policy(SignaturePolicy::Always).build()?;
//! let app = test::init_service(
//!     App::new()
//!         .wrap(ApproovMiddleware::new(verifier).message_signing(signing))
//!         .route("/shapes", web::post().to(|body: web::Bytes| async move {
//!             HttpResponse::Ok().body(body)
//!         })),
//! )
//! .await;
//!
//! // The app: a token carrying its installation key, and a signed request.
//! let key = InstallKey::generate()?;
//! let token = TokenBuilder::approov_example().claim("ipk", key.ipk()).sign_hs256_base64(&secret)?;
//! let signed = RequestSigner::new("POST", "http://api.example.com/shapes")?
//!     .header("Approov-Token", &token)
//!     .body(r#"{"shape":"circle"}"#)
//!     .sign_install(&key)
//!     .finish()?;
//! let mut req = test::TestRequest::post().uri(&signed.path_and_query);
//! for (name, value) in &signed.headers {
//!     req = req.insert_header((name.as_str(), value.as_str()));
//! }
//! let req = req.set_payload(signed.body.clone().unwrap_or_default());
//! let body = test::call_and_read_body(&app, req.to_request()).await;
//! assert_eq!(body, r#"{"shape":"circle"}"#);
//!
//! // The same token without the signature: 401.
//! let req = test::TestRequest::post()
//!     .uri("/shapes")
//!     .insert_header(("Host", "api.example.com"))
//!     .insert_header(("Approov-Token", token.as_str()));
//! let res = test::call_service(&app, req.to_request()).await;
//! assert_eq!(res.status(), 401);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! # Your own claims
//! Approov can add claims of your own to a token (annotations, custom
//! fields). Read them into your `serde` type with
//! [`ApproovClaims::deserialize`](approov_core::ApproovClaims::deserialize),
//! from the payload that already verified (no second signature check); a
//! missing claim or a wrong type is an error value, never a panic:
//!
//! ```
//! use actix_web::{App, HttpResponse, test, web};
//! use approov_actix::{Approov, ApproovMiddleware};
//! use approov_core::{Verifier, mint::TokenBuilder};
//!
//! #[derive(serde::Deserialize)]
//! struct Mine {
//!     tier: String,
//! }
//!
//! async fn tier(Approov(claims): Approov) -> HttpResponse {
//!     match claims.deserialize::<Mine>() {
//!         Ok(mine) => HttpResponse::Ok().body(mine.tier),
//!         Err(_) => HttpResponse::Forbidden().finish(),
//!     }
//! }
//!
//! # actix_web::rt::System::new().block_on(async {
//! let secret = approov_core::mint::generate_secret_base64();
//! let verifier = Verifier::builder().secret_base64(&secret).build()?;
//! let app = test::init_service(
//!     App::new().service(web::resource("/tier").wrap(ApproovMiddleware::new(verifier)).to(tier)),
//! )
//! .await;
//! let token = TokenBuilder::approov_example().claim("tier", "gold").sign_hs256_base64(&secret)?;
//! let request = test::TestRequest::get().uri("/tier").insert_header(("Approov-Token", token));
//! let body = test::call_and_read_body(&app, request.to_request()).await;
//! assert_eq!(body, "gold");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! # Token binding on some routes only
//! ```
//! use actix_web::{App, HttpResponse, web};
//! use approov_actix::ApproovMiddleware;
//! use approov_core::{TokenBinding, Verifier};
//!
//! # let verifier = Verifier::builder().secret_base64("YXBwcm9vdi1ycyBleGFtcGxlIHNlY3JldDogMzIgYnl0ZXMgb3IgbW9yZSwgYXMgUkZDIDc1MTggYXNrcw==").build()?;
//! let approov = ApproovMiddleware::new(verifier);
//! let app = App::new()
//!     .service(web::resource("/").wrap(approov.clone()).to(HttpResponse::Ok))
//!     .service(
//!         web::resource("/token-binding")
//!             .wrap(approov.token_binding(TokenBinding::new(["Authorization"])?))
//!             .to(HttpResponse::Ok),
//!     )
//!     .service(web::resource("/health").to(HttpResponse::Ok));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Serving in production
//! actix-web already bounds the request head (5 s) and idle keep-alive
//! (5 s) and caps connections (25 000 per worker thread). Set them to what
//! your service needs, where the next reader sees them. Three gaps:
//! - actix-http 3 times only the first request head of each connection, so
//!   a client can trickle the head of a later request on a kept-alive
//!   connection forever; where that matters more than speed, turn
//!   keep-alive off (`.keep_alive(actix_web::http::KeepAlive::Disabled)`).
//! - It has no write timeout: a client that pipelines requests and never
//!   reads the answers holds its connection forever. On Linux the kernel's
//!   `TCP_USER_TIMEOUT`, set on each connection as it opens (`socket2`
//!   with feature `all`), closes a connection whose answer has waited that
//!   long for the client to take it.
//! - It has no cap on requests per connection: count them in the
//!   connection's data and mark the last answer `Connection: close`
//!   (actix-http still answers the requests it had already read).
//!
//! ```no_run
//! use std::{any::Any, cell::Cell, time::Duration};
//!
//! use actix_web::dev::{Extensions, Service as _};
//! use actix_web::http::ConnectionType;
//! use actix_web::{App, HttpResponse, HttpServer, web};
//! use approov_actix::ApproovMiddleware;
//! use approov_core::Verifier;
//!
//! /// The requests a connection has made.
//! #[derive(Default)]
//! struct Served(Cell<usize>);
//!
//! fn on_connect(connection: &dyn Any, data: &mut Extensions) {
//!     // An answer the client has not taken for 60 s closes the connection.
//!     #[cfg(target_os = "linux")]
//!     if let Some(stream) = connection.downcast_ref::<actix_web::rt::net::TcpStream>() {
//!         let _ = socket2::SockRef::from(stream)
//!             .set_tcp_user_timeout(Some(Duration::from_secs(60)));
//!     }
//!     data.insert(Served::default());
//! }
//!
//! # async fn serve() -> Result<(), Box<dyn std::error::Error>> {
//! let approov = ApproovMiddleware::new(Verifier::from_env()?);
//! HttpServer::new(move || {
//!     App::new()
//!         // At most 1000 requests per connection.
//!         .wrap_fn(|request, service| {
//!             let last = request.conn_data::<Served>().is_some_and(|served| {
//!                 served.0.set(served.0.get() + 1);
//!                 served.0.get() >= 1000
//!             });
//!             let answer = service.call(request);
//!             async move {
//!                 let mut response = answer.await?;
//!                 if last {
//!                     let head = response.response_mut().head_mut();
//!                     head.set_connection_type(ConnectionType::Close);
//!                 }
//!                 Ok(response)
//!             }
//!         })
//!         .service(web::resource("/").wrap(approov.clone()).to(HttpResponse::Ok))
//! })
//! // A request head not complete in 30 s: 408 and the connection closes.
//! .client_request_timeout(Duration::from_secs(30))
//! // A kept-alive connection idle for 60 s is closed.
//! .keep_alive(Duration::from_secs(60))
//! // A client that does not close its side after our last response.
//! .client_disconnect_timeout(Duration::from_secs(1))
//! // Before `bind`, which captures it.
//! .on_connect(on_connect)
//! // The cap is per worker: 2 workers × 256 = 512 connections at most.
//! .workers(2)
//! .max_connections(256)
//! .bind(("0.0.0.0", 8080))?
//! .run()
//! .await?;
//! # Ok(())
//! # }
//! ```
//!
//! The example server `actix-hello` serves this way, with the limits read
//! from `HEADER_READ_TIMEOUT_SECONDS`, `IDLE_TIMEOUT_SECONDS`,
//! `SEND_TIMEOUT_SECONDS`, `MAX_CONNECTIONS` and
//! `MAX_REQUESTS_PER_CONNECTION`.
#![deny(missing_docs, unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod extract;
mod headers;
mod middleware;
mod response;
mod service;
mod signing;

// The core types a user of this crate names, so that one dependency line
// is enough: `approov_actix::Verifier::from_env()`.
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
pub use extract::{Approov, NoClaims};
pub use headers::HttpHeaders;
pub use middleware::ApproovMiddleware;
pub use response::{service_unavailable, unauthorized};
pub use service::{ApproovService, ResponseFuture};

/// The crate README's Rust blocks, compiled as doctests so that each builds
/// as printed with the dependency lines above it.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
