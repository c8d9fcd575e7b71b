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
//!   `.wrap()` it around an `App`, a `web::scope` or a `web::resource`. Each
//!   instance has its own options: token binding
//!   ([`token_binding`](ApproovMiddleware::token_binding)), token header,
//!   [report-only mode](ApproovMiddleware::report_only), CORS preflight
//!   skipping (on by default) and a custom
//!   [rejection response](ApproovMiddleware::rejection_response).
//! - It calls [`approov_core::Gate::check`] once per request, which
//!   verifies the token and logs each rejection through `tracing` (target
//!   `approov`, with the reason's kind and never the token).
//! - A request that is let through carries
//!   [`ApproovOutcome`](approov_core::ApproovOutcome) in its extensions, and
//!   [`ApproovClaims`](approov_core::ApproovClaims) when verified. Handlers
//!   read them with the [`Approov`] and [`Outcome`] extractors (or
//!   `Option<…>` of them, or `web::ReqData`).
//! - A rejection answers [`default_rejection_response`]: 401,
//!   `content-type: application/json`, `www-authenticate: Approov` and `{}`,
//!   as the official Approov backends do. The reason is never sent.
//!
//! # Token binding on some routes only
//! ```
//! use actix_web::{App, HttpResponse, web};
//! use approov_actix::ApproovMiddleware;
//! use approov_core::{TokenBinding, Verifier};
//!
//! # let verifier = Verifier::builder().secret_base64("c2VjcmV0").build()?;
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
#![deny(missing_docs, unsafe_code)]

mod extract;
mod headers;
mod middleware;
mod response;
mod service;

pub use extract::{Approov, Outcome, Unverified};
pub use headers::ActixHeaders;
pub use middleware::ApproovMiddleware;
pub use response::default_rejection_response;
pub use service::{ApproovService, ResponseFuture};
