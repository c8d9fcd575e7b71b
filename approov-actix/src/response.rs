//! The responses the middleware writes itself: the default rejection, the
//! hook for a custom one, and the answer to a body it could not check.

use std::sync::Arc;

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header;
use approov_core::{BodyProblem, Rejection, response};

/// A user-supplied rejection response builder, shared by every worker.
pub(crate) type Respond = Arc<dyn Fn(&Rejection) -> HttpResponse + Send + Sync>;

/// The response the middleware sends on a rejection unless told otherwise:
/// `401 Unauthorized`, `content-type: application/json`,
/// `www-authenticate: Approov` and the body `{}`. Like the official Approov
/// backends, it never says why.
///
/// Start from it in a custom [`rejection_response`](crate::ApproovMiddleware::rejection_response)
/// to keep the defaults and add to them.
///
/// ```
/// let response = approov_actix::unauthorized();
/// assert_eq!(response.status(), 401);
/// assert_eq!(response.headers().get("www-authenticate").unwrap(), "Approov");
/// assert_eq!(response.headers().get("content-type").unwrap(), "application/json");
/// ```
pub fn unauthorized() -> HttpResponse {
    let status = StatusCode::from_u16(response::STATUS).unwrap_or(StatusCode::UNAUTHORIZED);
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, response::CONTENT_TYPE))
        .insert_header((header::WWW_AUTHENTICATE, response::WWW_AUTHENTICATE))
        .body(response::BODY)
}

/// The response the middleware sends, unless told otherwise, when it cannot
/// judge a token because the verifier has no usable key at all
/// (`keys_unavailable`, e.g. a JWKS URL not fetched yet): `503 Service
/// Unavailable`, `content-type: application/json`, `retry-after: 10` and
/// the body `{}`.
///
/// ```
/// let response = approov_actix::service_unavailable();
/// assert_eq!(response.status(), 503);
/// assert_eq!(response.headers().get("retry-after").unwrap(), "10");
/// ```
pub fn service_unavailable() -> HttpResponse {
    let status = StatusCode::from_u16(response::UNAVAILABLE_STATUS)
        .unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, response::CONTENT_TYPE))
        .insert_header((header::RETRY_AFTER, response::RETRY_AFTER))
        .body(response::BODY)
}

/// The rejection response for `rejection`: the custom one when configured,
/// else the default for its [`Rejection::status`] (401, or 503).
pub(crate) fn rejection_response(respond: Option<&Respond>, rejection: &Rejection) -> HttpResponse {
    match respond {
        Some(respond) => respond(rejection),
        None if rejection.status() == response::UNAVAILABLE_STATUS => service_unavailable(),
        None => unauthorized(),
    }
}

/// [`BodyProblem::status`] (413, 400 or 408) with
/// `content-type: application/json` and `{}`: a body message signing had
/// to check was too long, unreadable or too slow. Never the rejection
/// response: the token is not the problem.
pub(crate) fn body_problem_response(problem: BodyProblem) -> HttpResponse {
    let status = StatusCode::from_u16(problem.status()).unwrap_or(StatusCode::BAD_REQUEST);
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, response::CONTENT_TYPE))
        .body(response::BODY)
}
