//! Extractors for handlers: the verified claims, and the outcome of the
//! check (report-only mode, preflights).

use std::fmt;
use std::future::{Ready, ready};
use std::ops::Deref;

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpMessage as _, HttpRequest, HttpResponse, ResponseError};
use approov_core::{ApproovClaims, ApproovOutcome, Rejection};

use crate::response::default_rejection_response;

/// The claims of the request's verified Approov token, as an extractor.
///
/// Extraction fails with [`Unverified`] (the default 401 response) unless
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
    type Error = Unverified;
    type Future = Ready<Result<Self, Unverified>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        // The outcome, not the claims extension, is authoritative: it is
        // always written by the innermost middleware.
        let result = match req.extensions().get::<ApproovOutcome>() {
            Some(ApproovOutcome::Verified(claims)) => Ok(Self(claims.clone())),
            Some(ApproovOutcome::Rejected(rejection)) => Err(Unverified {
                reason: Some(rejection.clone()),
            }),
            _ => Err(Unverified { reason: None }),
        };
        ready(result)
    }
}

/// What the [`ApproovMiddleware`](crate::ApproovMiddleware) closest to the
/// route decided, as an extractor: verified, rejected but let through
/// (report-only mode), or a skipped CORS preflight.
///
/// Extraction fails with [`Unverified`] (401) on a route the middleware
/// does not wrap; `Option<Outcome>` gives `None` there instead. Other
/// middleware can read the same value with
/// `req.extensions().get::<ApproovOutcome>()`, and handlers can also use
/// `web::ReqData<ApproovOutcome>` (which answers 500 when it is absent).
///
/// ```
/// use actix_web::HttpResponse;
/// use approov_actix::Outcome;
/// use approov_core::ApproovOutcome;
///
/// async fn rollout(Outcome(outcome): Outcome) -> HttpResponse {
///     match outcome {
///         ApproovOutcome::Verified(_) => HttpResponse::Ok().body("verified"),
///         ApproovOutcome::Rejected(why) => HttpResponse::Ok().body(why.kind().as_str()),
///         _ => HttpResponse::Ok().body("not checked"),
///     }
/// }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome(pub ApproovOutcome);

impl Outcome {
    /// The outcome.
    pub fn into_inner(self) -> ApproovOutcome {
        self.0
    }
}

impl Deref for Outcome {
    type Target = ApproovOutcome;

    fn deref(&self) -> &ApproovOutcome {
        &self.0
    }
}

impl FromRequest for Outcome {
    type Error = Unverified;
    type Future = Ready<Result<Self, Unverified>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let outcome = req.extensions().get::<ApproovOutcome>().cloned();
        ready(outcome.map(Self).ok_or(Unverified { reason: None }))
    }
}

/// The request has no verified Approov token: the error of the [`Approov`]
/// and [`Outcome`] extractors. Its response is
/// [`default_rejection_response`](crate::default_rejection_response) (401,
/// `{}`), whatever the middleware's own rejection response is.
#[derive(Debug, Clone, PartialEq)]
pub struct Unverified {
    reason: Option<Rejection>,
}

impl Unverified {
    /// Why the token was rejected, when the middleware let the request
    /// through in report-only mode; `None` when no middleware checked it
    /// (a route it does not wrap, or a skipped CORS preflight).
    pub fn reason(&self) -> Option<&Rejection> {
        self.reason.as_ref()
    }
}

impl fmt::Display for Unverified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.reason {
            Some(rejection) => write!(f, "no verified Approov token: {rejection}"),
            None => f.write_str("no verified Approov token"),
        }
    }
}

impl std::error::Error for Unverified {}

impl ResponseError for Unverified {
    fn status_code(&self) -> StatusCode {
        StatusCode::UNAUTHORIZED
    }

    fn error_response(&self) -> HttpResponse {
        default_rejection_response()
    }
}
