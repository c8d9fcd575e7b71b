//! The extractor for handlers: the verified claims. (The outcome of the
//! check, for report-only mode, is `web::ReqData<ApproovOutcome>`.)

use std::fmt;
use std::future::{Ready, ready};
use std::ops::Deref;

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpMessage as _, HttpRequest, HttpResponse, ResponseError};
use approov_core::{ApproovClaims, ApproovOutcome, Rejection};

use crate::response::unauthorized;

/// The claims of the request's verified Approov token, as an extractor.
///
/// Extraction fails with [`NoClaims`] (the default 401 response) unless
/// the [`ApproovMiddleware`](crate::ApproovMiddleware) closest to the route
/// verified the token. That covers report-only mode, where a rejected
/// request still reaches the handler: asking for `Approov` refuses it, while
/// `Option<Approov>` gives `None` and lets the handler decide. A route the
/// middleware does not wrap also gets 401, never a 500.
///
/// ```
/// use actix_web::HttpResponse;
/// use approov_actix::Approov;
///
/// async fn hello(Approov(claims): Approov) -> HttpResponse {
///     HttpResponse::Ok().body(format!("hello, device {}", claims.did().unwrap_or("?")))
/// }
///
/// async fn maybe(approov: Option<Approov>) -> HttpResponse {
///     match approov {
///         Some(_) => HttpResponse::Ok().body("genuine app"),
///         None => HttpResponse::Ok().body("unverified client (report-only mode)"),
///     }
/// }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Approov(pub ApproovClaims);

impl Approov {
    /// The claims.
    pub fn into_inner(self) -> ApproovClaims {
        self.0
    }
}

impl Deref for Approov {
    type Target = ApproovClaims;

    fn deref(&self) -> &ApproovClaims {
        &self.0
    }
}

impl FromRequest for Approov {
    type Error = NoClaims;
    type Future = Ready<Result<Self, NoClaims>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        // The outcome, not the claims extension, is authoritative: it is
        // always written by the innermost middleware.
        let result = match req.extensions().get::<ApproovOutcome>() {
            Some(ApproovOutcome::Verified(claims)) => Ok(Self(claims.clone())),
            Some(ApproovOutcome::Rejected(rejection)) => Err(NoClaims {
                reason: Some(rejection.clone()),
            }),
            _ => Err(NoClaims { reason: None }),
        };
        ready(result)
    }
}

/// The request has no verified Approov token: the error of the [`Approov`]
/// extractor. Its response is [`unauthorized`](crate::unauthorized) (401,
/// `{}`), whatever the middleware's own rejection response is.
#[derive(Debug, Clone, PartialEq)]
pub struct NoClaims {
    reason: Option<Rejection>,
}

impl NoClaims {
    /// Why the token was rejected, when the middleware let the request
    /// through in report-only mode; `None` when no middleware checked it
    /// (a route it does not wrap, or a skipped CORS preflight).
    pub fn reason(&self) -> Option<&Rejection> {
        self.reason.as_ref()
    }
}

impl fmt::Display for NoClaims {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.reason {
            Some(rejection) => write!(f, "no verified Approov token: {rejection}"),
            None => f.write_str("no verified Approov token"),
        }
    }
}

impl std::error::Error for NoClaims {}

impl ResponseError for NoClaims {
    fn status_code(&self) -> StatusCode {
        StatusCode::UNAUTHORIZED
    }

    fn error_response(&self) -> HttpResponse {
        unauthorized()
    }
}
