//! The proxy's own answers, as small JSON bodies that name no key, no
//! upstream and no internal detail.

use axum::body::Body;
use axum::response::Response;
use http::{HeaderValue, StatusCode, header};

use super::path::PathProblem;

fn json(status: StatusCode, error: &'static str, message: &'static str) -> Response {
    let body = serde_json::json!({ "error": error, "message": message }).to_string();
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// `GET /health`.
pub(crate) fn health() -> Response {
    let mut response = Response::new(Body::from(r#"{"status":"ok"}"#));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// No route's prefix matches the path.
pub(crate) fn not_found() -> Response {
    json(
        StatusCode::NOT_FOUND,
        "not_found",
        "no route of this proxy matches the path",
    )
}

/// The path is one the proxy does not forward (see [`super::path`]).
pub(crate) fn bad_path(problem: PathProblem) -> Response {
    json(StatusCode::BAD_REQUEST, "bad_path", problem.message())
}

/// The route does not forward this method; `allow` lists those it does.
pub(crate) fn method_not_allowed(allow: &HeaderValue) -> Response {
    let mut response = json(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this method is not forwarded; the Allow header lists those that are",
    );
    response.headers_mut().insert(header::ALLOW, allow.clone());
    response
}

/// The device used up its budget; `retry_after` is in whole seconds.
pub(crate) fn rate_limited(retry_after: u64) -> Response {
    let mut response = json(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        "too many requests from this device; retry after the Retry-After delay",
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
    response
}

/// The rate limit is shared through Redis, Redis does not answer, and
/// `REDIS_UNAVAILABLE=refuse` says to refuse rather than limit locally.
pub(crate) fn rate_limit_unavailable() -> Response {
    let mut response = json(
        StatusCode::SERVICE_UNAVAILABLE,
        "rate_limit_unavailable",
        "the rate limit cannot be checked right now; retry after the Retry-After delay",
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(1u64));
    response
}

/// The client's request body stopped arriving before the upstream
/// answered. The connection is closed: the rest of the body is unread.
pub(crate) fn request_timeout() -> Response {
    let mut response = json(
        StatusCode::REQUEST_TIMEOUT,
        "request_timeout",
        "the request body stopped arriving",
    );
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// The upstream could not be reached or broke the exchange.
pub(crate) fn bad_gateway() -> Response {
    json(
        StatusCode::BAD_GATEWAY,
        "bad_gateway",
        "the upstream API could not be reached",
    )
}

/// The upstream did not answer in time.
pub(crate) fn gateway_timeout() -> Response {
    json(
        StatusCode::GATEWAY_TIMEOUT,
        "gateway_timeout",
        "the upstream API did not answer in time",
    )
}
