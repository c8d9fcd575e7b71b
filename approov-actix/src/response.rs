//! The responses the middleware writes itself: the default rejection, the
//! hook for a custom one, and the answers to bodies it cannot buffer.

use std::sync::Arc;

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header;
use approov_core::signing::BODY_TOO_LARGE_STATUS;
use approov_core::{Rejection, response};

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
/// let response = approov_actix::default_rejection_response();
/// assert_eq!(response.status(), 401);
/// assert_eq!(response.headers().get("www-authenticate").unwrap(), "Approov");
/// assert_eq!(response.headers().get("content-type").unwrap(), "application/json");
/// ```
pub fn default_rejection_response() -> HttpResponse {
    let status = StatusCode::from_u16(response::STATUS).unwrap_or(StatusCode::UNAUTHORIZED);
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, response::CONTENT_TYPE))
        .insert_header((header::WWW_AUTHENTICATE, response::WWW_AUTHENTICATE))
        .body(response::BODY)
}

/// The rejection response for `rejection`: the custom one when configured,
/// else the default.
pub(crate) fn rejection_response(respond: Option<&Respond>, rejection: &Rejection) -> HttpResponse {
    match respond {
        Some(respond) => respond(rejection),
        None => default_rejection_response(),
    }
}

/// `413 Payload Too Large` with `{}`: a body that message signing must
/// check is longer than [`Gate::max_body_len`](approov_core::Gate::max_body_len).
pub(crate) fn payload_too_large_response() -> HttpResponse {
    let status =
        StatusCode::from_u16(BODY_TOO_LARGE_STATUS).unwrap_or(StatusCode::PAYLOAD_TOO_LARGE);
    empty_json(status)
}

/// `400 Bad Request` with `{}`: the body could not be read (the client
/// broke off, or sent a malformed chunked encoding). Never a 5xx: the
/// fault is the client's.
pub(crate) fn unreadable_body_response() -> HttpResponse {
    empty_json(StatusCode::BAD_REQUEST)
}

fn empty_json(status: StatusCode) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, response::CONTENT_TYPE))
        .body(response::BODY)
}
