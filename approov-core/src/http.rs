//! The request headers and the default rejection in `http` 1 types
//! (feature `http`), for servers that check requests without an adapter
//! crate: tower, axum, hyper and tonic are on `http` 1 (actix-web, on
//! `http` 0.2, has its own adapter).

use ::http::header::{CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use ::http::{HeaderMap, HeaderValue, Response, StatusCode};
use bytes::Bytes;

use crate::error::Rejection;
use crate::gate::response as defaults;
use crate::headers::RequestHeaders;

/// A borrowed [`http::HeaderMap`] seen as
/// [`RequestHeaders`], so
/// [`Verifier::verify_request`](crate::Verifier::verify_request) and
/// [`Gate::check`](crate::Gate::check) can read it. (The orphan rule
/// keeps the impl off `HeaderMap` itself.)
///
/// ```
/// use approov_core::http::HttpHeaders;
/// use approov_core::{RejectionKind, Verifier};
/// use http::HeaderMap;
///
/// let verifier = Verifier::builder().secret_base64("YXBwcm9vdi1ycyBleGFtcGxlIHNlY3JldDogMzIgYnl0ZXMgb3IgbW9yZSwgYXMgUkZDIDc1MTggYXNrcw==").build()?;
/// let mut headers = HeaderMap::new();
/// headers.append("approov-token", "a".parse()?);
/// headers.append("Approov-Token", "b".parse()?);
/// let rejection = verifier.verify_request(&HttpHeaders(&headers)).unwrap_err();
/// assert_eq!(rejection.kind(), RejectionKind::Multiple);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct HttpHeaders<'a>(pub &'a HeaderMap);

impl RequestHeaders for HttpHeaders<'_> {
    fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        // `get_all` matches names case-insensitively and yields every value in
        // order; a name that is not a valid header name simply matches nothing.
        self.0
            .get_all(name)
            .into_iter()
            .map(|value| value.as_bytes())
    }
}

/// The default rejection: `401 Unauthorized`, `content-type:
/// application/json`, `www-authenticate: Approov`, body `{}` (the
/// [`response`](crate::response) defaults, what the official Approov
/// backends send).
///
/// ```
/// let response = approov_core::http::unauthorized();
/// assert_eq!(response.status(), 401);
/// assert_eq!(response.headers()["content-type"], "application/json");
/// assert_eq!(response.headers()["www-authenticate"], "Approov");
/// assert_eq!(response.body().as_ref(), b"{}");
/// ```
pub fn unauthorized() -> Response<Bytes> {
    let mut response = Response::new(Bytes::from_static(defaults::BODY.as_bytes()));
    *response.status_mut() =
        StatusCode::from_u16(defaults::STATUS).unwrap_or(StatusCode::UNAUTHORIZED);
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static(defaults::CONTENT_TYPE),
    );
    headers.insert(
        WWW_AUTHENTICATE,
        HeaderValue::from_static(defaults::WWW_AUTHENTICATE),
    );
    response
}

/// The answer to a request that could not be judged because the verifier
/// has no usable key at all ([`Rejection::KeysUnavailable`]):
/// `503 Service Unavailable`, `content-type: application/json`,
/// `retry-after: 10` ([`response::RETRY_AFTER`](crate::response::RETRY_AFTER)),
/// body `{}`, and no `WWW-Authenticate`.
///
/// ```
/// let response = approov_core::http::service_unavailable();
/// assert_eq!(response.status(), 503);
/// assert_eq!(response.headers()["retry-after"], "10");
/// assert!(!response.headers().contains_key("www-authenticate"));
/// assert_eq!(response.body().as_ref(), b"{}");
/// ```
pub fn service_unavailable() -> Response<Bytes> {
    let mut response = Response::new(Bytes::from_static(defaults::BODY.as_bytes()));
    *response.status_mut() = StatusCode::from_u16(defaults::UNAVAILABLE_STATUS)
        .unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static(defaults::CONTENT_TYPE),
    );
    headers.insert(RETRY_AFTER, HeaderValue::from_static(defaults::RETRY_AFTER));
    response
}

/// The default response to `rejection`, by its
/// [`status`](Rejection::status): [`unauthorized`] (401), or
/// [`service_unavailable`] (503) when no key was there to judge the token.
///
/// ```
/// use approov_core::Rejection;
///
/// let refused = approov_core::http::rejection_response(&Rejection::Expired);
/// assert_eq!(refused.status(), 401);
/// let unjudged = approov_core::http::rejection_response(&Rejection::KeysUnavailable);
/// assert_eq!(unjudged.status(), 503);
/// ```
pub fn rejection_response(rejection: &Rejection) -> Response<Bytes> {
    if rejection.status() == defaults::UNAVAILABLE_STATUS {
        service_unavailable()
    } else {
        unauthorized()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::{HeaderMap, HeaderValue};

    #[test]
    fn yields_every_value_in_order_case_insensitively() {
        let mut map = HeaderMap::new();
        map.append("approov-token", HeaderValue::from_static("a"));
        map.append("Approov-Token", HeaderValue::from_static("b"));
        map.append("x-other", HeaderValue::from_static("c"));
        let headers = HttpHeaders(&map);
        let values: Vec<&[u8]> = headers.header_values("APPROOV-TOKEN").collect();
        assert_eq!(values, [b"a".as_slice(), b"b".as_slice()]);
        assert_eq!(headers.header_values("missing").count(), 0);
    }

    #[test]
    fn invalid_names_and_raw_bytes_do_not_panic() {
        let mut map = HeaderMap::new();
        let raw = HeaderValue::from_bytes(b"\xff\x80tok").expect("obs-text is a valid value");
        map.append("approov-token", raw);
        let headers = HttpHeaders(&map);
        assert_eq!(headers.header_values("bad name\n").count(), 0);
        let values: Vec<&[u8]> = headers.header_values("approov-token").collect();
        assert_eq!(values, [b"\xff\x80tok".as_slice()]);
    }
}
