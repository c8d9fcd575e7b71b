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
//! use tower::ServiceExt; // for `oneshot`
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
//! let app = Router::new()
//!     .route("/", get(hello))
//!     .layer(ApproovLayer::new(verifier));
//!
//! // No token: 401 with `{}`, and the handler never runs.
//! let response = app.clone().oneshot(Request::get("/").body(Body::empty())?).await?;
//! assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
//! assert_eq!(response.headers()["www-authenticate"], "Approov");
//! let body = axum::body::to_bytes(response.into_body(), 1024).await?;
//! assert_eq!(body, "{}");
//!
//! // A genuine token: the handler runs and sees the claims.
//! let token = TokenBuilder::approov_example().sign_hs256_base64(&secret)?;
//! let request = Request::get("/").header("Approov-Token", token).body(Body::empty())?;
//! let response = app.oneshot(request).await?;
//! assert_eq!(response.status(), StatusCode::OK);
//! let body = axum::body::to_bytes(response.into_body(), 1024).await?;
//! assert_eq!(body, "Hello, device ExampleApproovTokenDID==!");
//! # Ok(())
//! # }
//! ```
//!
//! # What the layer does
//! Per request it calls [`Gate::check`](approov_core::Gate::check) once with
//! the method and headers; verification, token binding, report-only mode,
//! CORS preflight detection and logging (through `tracing`, target
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
//!   (UNAUTHENTICATED) instead ([`response::grpc_unauthenticated`]). Replace
//!   both with [`ApproovLayer::rejection_response`].
//!
//! The response body is [`ApproovBody<B>`]: the inner body `B` or the
//! rejection's, with `Data = Bytes` and `B`'s error type.
//!
//! # Options
//! See [`ApproovLayer`]: token binding per layer (so per route with axum's
//! `route_layer`), another token header, report-only mode, CORS preflight
//! handling, a custom rejection response.
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
//! - `axum`: the `Approov` extractor (and `Option<Approov>`) for axum 0.8.
#![deny(missing_docs, unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod body;
#[cfg(feature = "axum")]
mod extract;
mod future;
mod headers;
mod layer;
pub mod response;
mod service;

pub use approov_core::{
    ApproovClaims, ApproovOutcome, Rejection, RejectionKind, TokenBinding, Verifier,
};
pub use body::ApproovBody;
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub use extract::{Approov, NoClaims};
pub use future::ResponseFuture;
pub use headers::HttpHeaders;
pub use layer::ApproovLayer;
pub use service::ApproovService;
