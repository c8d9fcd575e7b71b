//! [Approov](https://approov.io) token verification for [warp].
//!
//! A mobile app protected by Approov sends a short-lived JWT, the *Approov
//! token*, in the `Approov-Token` header of every request. This crate gives
//! warp filters that check it with [`approov_core`] and reject requests
//! without a genuine token, plus a [`recover`] function that answers those
//! rejections with 401.
//!
//! ```
//! use approov_core::mint::{TokenBuilder, generate_secret_base64};
//! use approov_warp::{Approov, ApproovClaims, Verifier};
//! use warp::Filter;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // At start-up (usually `Verifier::from_env()`, reading APPROOV_BASE64_SECRET):
//! let secret = generate_secret_base64();
//! let approov = Approov::new(Verifier::builder().secret_base64(&secret).build()?);
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
//! # The pieces
//! - [`Approov`]: the configuration (verifier, token binding, token header,
//!   report-only mode, CORS preflight handling, custom rejection response).
//! - [`Approov::filter`] extracts the [`ApproovOutcome`];
//!   [`Approov::claims`] extracts the verified [`ApproovClaims`];
//!   [`Approov::protect`] extracts nothing, to guard a chain:
//!   `approov.protect().and(routes)`.
//! - [`ApproovRejection`]: the named rejection, with the core [`Rejection`]
//!   (the reason, for logs) and the response to send.
//! - [`recover`]: answers an [`ApproovRejection`] with its response and
//!   passes every other rejection on.
//!
//! Each filter makes exactly one [`Gate::check`](approov_core::Gate::check)
//! per request it runs on; the core does the verification, the token
//! binding, the preflight detection, the report-only decision and the
//! logging (one `tracing` event per rejection, target `approov`, never the
//! token).
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
#![deny(missing_docs, unsafe_code)]

mod approov;
mod filters;
mod headers;
mod recover;
mod rejection;

pub use approov::Approov;
pub use approov_core::{
    ApproovClaims, ApproovOutcome, ConfigError, Rejection, RejectionKind, TokenBinding, Verifier,
};
pub use recover::recover;
pub use rejection::{ApproovRejection, default_response};
