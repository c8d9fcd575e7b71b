//! The axum extractor for verified claims (feature `axum`).

use std::convert::Infallible;
use std::fmt;

use approov_core::{ApproovClaims, ApproovOutcome};
use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::response::{IntoResponse, Response};
use http::request::Parts;

/// The verified claims of the request's Approov token, put there by
/// [`ApproovLayer`](crate::ApproovLayer).
///
/// When the request has no verified claims (report-only mode and a refused
/// token, a CORS preflight, or no layer in front of the handler) the
/// extractor fails with [`NoClaims`], answered with the default 401. Ask
/// for `Option<Approov>` to get `None` instead.
///
/// ```
/// use approov_core::{ApproovOutcome, Verifier, mint::TokenBuilder};
/// use approov_tower::{Approov, ApproovLayer};
/// use axum::{Extension, Router, body::Body, routing::get};
/// use http::{Request, StatusCode};
/// use tower::ServiceExt;
///
/// // Enforcing: the handler runs only for verified tokens, so `Approov` is always there.
/// async fn device(Approov(claims): Approov) -> String {
///     claims.did().unwrap_or("unknown").to_owned()
/// }
///
/// // Report-only: every request comes through; ask for `Option<Approov>`,
/// // or look at the outcome to see why a token was refused.
/// async fn audit(claims: Option<Approov>, Extension(outcome): Extension<ApproovOutcome>) -> String {
///     match (claims, outcome) {
///         (Some(Approov(claims)), _) => format!("verified {:?}", claims.did()),
///         (None, ApproovOutcome::Rejected(rejection)) => format!("rejected: {}", rejection.kind()),
///         (None, _) => "not checked".to_owned(),
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let secret = approov_core::mint::generate_secret_base64();
/// let verifier = Verifier::builder().secret_base64(&secret).build()?;
/// let app = Router::new()
///     .route("/device", get(device))
///     .layer(ApproovLayer::new(verifier.clone()))
///     .merge(Router::new().route("/audit", get(audit)).layer(ApproovLayer::new(verifier).report_only(true)));
///
/// let token = TokenBuilder::approov_example().sign_hs256_base64(&secret)?;
/// let request = Request::get("/device").header("Approov-Token", &token).body(Body::empty())?;
/// let response = app.clone().oneshot(request).await?;
/// assert_eq!(response.status(), StatusCode::OK);
///
/// let request = Request::get("/audit").body(Body::empty())?;
/// let response = app.oneshot(request).await?;
/// let body = axum::body::to_bytes(response.into_body(), 1024).await?;
/// assert_eq!(body, "rejected: missing");
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Approov(pub ApproovClaims);

impl std::ops::Deref for Approov {
    type Target = ApproovClaims;

    fn deref(&self) -> &ApproovClaims {
        &self.0
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Approov {
    type Rejection = NoClaims;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, NoClaims> {
        if let Some(claims) = parts.extensions.get::<ApproovClaims>() {
            return Ok(Self(claims.clone()));
        }
        if parts.extensions.get::<ApproovOutcome>().is_none() {
            // Fail closed, but make the misconfiguration visible: otherwise
            // every request would get a 401 with nothing in the logs.
            tracing::error!(
                target: "approov",
                "the Approov extractor was used on a route without an ApproovLayer"
            );
        }
        Err(NoClaims)
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for Approov {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Option<Self>, Infallible> {
        Ok(parts.extensions.get::<ApproovClaims>().cloned().map(Self))
    }
}

/// The [`Approov`] extractor's rejection: the request has no verified
/// claims. Its response is the default 401
/// ([`response::unauthorized`](crate::response::unauthorized)), never a 5xx.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoClaims;

impl fmt::Display for NoClaims {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the request has no verified Approov claims")
    }
}

impl std::error::Error for NoClaims {}

impl IntoResponse for NoClaims {
    fn into_response(self) -> Response {
        crate::response::unauthorized().map(axum::body::Body::from)
    }
}
