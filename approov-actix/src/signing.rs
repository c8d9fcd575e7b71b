//! Message signing (RFC 9421) for the middleware: the request's head as the
//! core sees it, and the body read the core asks for.

use actix_web::HttpMessage as _;
use actix_web::body::{BodyStream, to_bytes_limited};
use actix_web::dev::{Payload, ServiceRequest};
use actix_web::rt::time::timeout;
use approov_core::signing::MessageParts;
use approov_core::{
    ApproovClaims, BodyCheck, BodyProblem, Decision, Gate, HeadDecision, VerifiedBy,
};

use crate::headers::HttpHeaders;

/// Runs [`Gate::check_head`] on the head of `req`; the body is untouched.
pub(crate) fn check_head(gate: &Gate, req: &ServiceRequest) -> HeadDecision {
    let headers = HttpHeaders(req.headers());
    let uri = req.uri();
    // Only what the connection itself says: the request line's absolute
    // form (or HTTP/2 pseudo-headers), and whether the listener is TLS.
    // `connection_info()` would also read `Forwarded`/`X-Forwarded-*`,
    // which any client can send; the core reads those only when told to.
    let scheme = uri
        .scheme_str()
        .or_else(|| req.app_config().secure().then_some("https"));
    let target = uri.path_and_query().map_or("", |p| p.as_str());
    let extensions = req.extensions();
    let parts = MessageParts::new(req.method().as_str(), target, &headers)
        .with_scheme(scheme)
        .with_authority(uri.authority().map(|a| a.as_str()))
        .with_verified(
            extensions.get::<ApproovClaims>(),
            extensions.get::<VerifiedBy>().copied(),
        );
    gate.check_head(&parts)
}

/// The body step: reads the whole body as `check` says (at most
/// [`BodyCheck::max_len`] bytes within [`BodyCheck::timeout`]) and decides.
///
/// The bytes read are put back as the request's payload, so extractors
/// (`web::Bytes`, `web::Json`…) and handlers read exactly what was checked.
pub(crate) async fn check_body(req: &mut ServiceRequest, check: BodyCheck) -> Decision {
    let stream = BodyStream::new(req.take_payload());
    let read = timeout(check.timeout(), to_bytes_limited(stream, check.max_len())).await;
    let body = match read {
        Ok(Ok(Ok(bytes))) => Ok(bytes),
        Ok(Ok(Err(_read_error))) => Err(BodyProblem::Unreadable),
        Ok(Err(_limit_exceeded)) => Err(check.too_large()),
        Err(_elapsed) => Err(check.timed_out()),
    };
    let decision = check.finish(body.as_deref().map_err(|problem| *problem));
    if let Ok(bytes) = body {
        req.set_payload(Payload::from(bytes));
    }
    decision
}
