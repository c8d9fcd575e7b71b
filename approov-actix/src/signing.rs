//! Message signing (RFC 9421) for the middleware: the request as the core
//! sees it, and buffering the body that a `Content-Digest` check needs.

use std::borrow::Cow;

use actix_web::HttpMessage as _;
use actix_web::HttpResponse;
use actix_web::body::{BodyStream, to_bytes_limited};
use actix_web::dev::{Payload, ServiceRequest};
use actix_web::http::header;
use actix_web::web::Bytes;
use approov_core::signing::MessageParts;
use approov_core::{Decision, Gate};

use crate::headers::ActixHeaders;
use crate::response::{payload_too_large_response, unreadable_body_response};

/// Runs [`Gate::check_message`] on `req`, with its buffered `body` when
/// [`Gate::needs_body`] asked for one.
pub(crate) fn check(gate: &Gate, req: &ServiceRequest, body: Option<&[u8]>) -> Decision {
    let headers = ActixHeaders(req.headers());
    let uri = req.uri();
    let target = request_target(uri.path_and_query().map(|p| p.as_str()));
    // Only what the connection itself says: the request line's absolute
    // form (or HTTP/2 pseudo-headers), and whether the listener is TLS.
    // `connection_info()` would also read `Forwarded`/`X-Forwarded-*`,
    // which any client can send; the core reads those only when told to.
    let scheme = uri
        .scheme_str()
        .or_else(|| req.app_config().secure().then_some("https"));
    let parts = MessageParts::new(req.method().as_str(), &target, &headers)
        .with_scheme(scheme)
        .with_authority(uri.authority().map(|a| a.as_str()));
    gate.check_message(&parts, body)
}

/// The request target as RFC 9421 derives `@path` and `@query` from it: an
/// empty path is `/`.
fn request_target(path_and_query: Option<&str>) -> Cow<'_, str> {
    match path_and_query {
        Some(target) if target.starts_with('?') => Cow::Owned(format!("/{target}")),
        Some(target) if !target.is_empty() => Cow::Borrowed(target),
        _ => Cow::Borrowed("/"),
    }
}

/// Whether the request's `Content-Length` already says its body is longer
/// than `limit`, so it can be refused without reading a byte.
pub(crate) fn declared_too_large(req: &ServiceRequest, limit: usize) -> bool {
    req.headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|text| text.trim().parse::<u64>().ok())
        .is_some_and(|len| len > limit as u64)
}

/// Reads the whole body, up to `limit` bytes, and puts the same bytes back
/// as the request's payload so extractors (`web::Bytes`, `web::Json`…) and
/// handlers read exactly what was checked.
///
/// On failure the request keeps no payload and the error is the response
/// to send: 413 for a body over the limit, 400 for a body that could not
/// be read.
pub(crate) async fn buffer(req: &mut ServiceRequest, limit: usize) -> Result<Bytes, HttpResponse> {
    let stream = BodyStream::new(req.take_payload());
    match to_bytes_limited(stream, limit).await {
        Ok(Ok(bytes)) => {
            req.set_payload(Payload::from(bytes.clone()));
            Ok(bytes)
        }
        Ok(Err(_read_error)) => Err(unreadable_body_response()),
        Err(_limit_exceeded) => Err(payload_too_large_response()),
    }
}

#[cfg(test)]
mod tests {
    use super::request_target;

    #[test]
    fn an_empty_path_is_the_root() {
        assert_eq!(request_target(None), "/");
        assert_eq!(request_target(Some("")), "/");
        assert_eq!(request_target(Some("?a=1")), "/?a=1");
        assert_eq!(request_target(Some("/x?a=1")), "/x?a=1");
        assert_eq!(request_target(Some("*")), "*");
    }
}
