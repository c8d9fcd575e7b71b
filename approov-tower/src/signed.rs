//! The message-signing service: the token, then the request's signatures
//! and `Content-Digest`, reading the body only when a digest must be
//! checked against it.

use std::error::Error as StdError;
use std::task::{Context, Poll};

use approov_core::signing::MessageParts;
use approov_core::{Decision, Gate};
use bytes::Bytes;
use http::header::CONTENT_LENGTH;
use http::uri::{Authority, PathAndQuery};
use http::{Extensions, HeaderMap, Request, Response, Uri};
use http_body::Body;
use http_body_util::{BodyExt as _, Limited};
use tower_service::Service;

use crate::mode::MessageSigned;
use crate::response::BodyProblem;
use crate::service::record_outcome;
use crate::signed_future::Pending;
use crate::{ApproovBody, ApproovRequestBody, ApproovService, HttpHeaders, SignedResponseFuture};

/// The error type [`Limited`] turns body errors into.
pub(crate) type BoxError = Box<dyn StdError + Send + Sync>;

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for ApproovService<S, MessageSigned>
where
    S: Service<Request<ApproovRequestBody<ReqBody>>, Response = Response<ResBody>> + Clone,
    ReqBody: Body<Data = Bytes>,
    ReqBody::Error: Into<BoxError>,
{
    type Response = Response<ApproovBody<ResBody>>;
    type Error = S::Error;
    type Future = SignedResponseFuture<S, ReqBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let gate = &self.layer.gate;
        if !gate.needs_body(&HttpHeaders(request.headers())) {
            // No digest to check: decide now, and the body streams on untouched.
            let (mut parts, body) = request.into_parts();
            return match check_message(gate, &parts, None) {
                Decision::Reject(rejection) => SignedResponseFuture::answered(
                    self.layer.responder.respond(&rejection, &parts.headers),
                ),
                Decision::Forward(outcome) => {
                    record_outcome(&mut parts.extensions, outcome);
                    let request = Request::from_parts(parts, ApproovRequestBody::original(body));
                    SignedResponseFuture::inner(self.inner.call(request))
                }
            };
        }
        let limit = gate.max_body_len();
        if declared_len(request.headers(), request.body()) > limit as u64 {
            log_too_large(limit);
            return SignedResponseFuture::answered(
                BodyProblem::TooLarge.respond(request.headers()),
            );
        }
        // The service that was polled ready goes with the request; the clone
        // stays here for the next one (the usual tower hand-over).
        let fresh = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, fresh);
        let (parts, body) = request.into_parts();
        SignedResponseFuture::buffering(
            Limited::new(body, limit).collect(),
            Pending {
                inner,
                layer: self.layer.clone(),
                parts,
            },
        )
    }
}

/// The request's parts, seen as the core's [`MessageParts`], checked.
pub(crate) fn check_message(
    gate: &Gate,
    parts: &http::request::Parts,
    body: Option<&[u8]>,
) -> Decision {
    let headers = HttpHeaders(&parts.headers);
    let uri = target_uri(&parts.uri, &parts.extensions);
    // Scheme and authority are in the URI only when the client sent them as
    // the target (HTTP/2 pseudo-headers, an absolute-form request line),
    // which is what RFC 9421 signs; otherwise the core reads `Host`.
    let message = MessageParts::new(
        parts.method.as_str(),
        uri.path_and_query().map_or("/", PathAndQuery::as_str),
        &headers,
    )
    .with_scheme(uri.scheme_str())
    .with_authority(uri.authority().map(Authority::as_str));
    gate.check_message(&message, body)
}

/// The URI the client sent. A nested axum router strips its prefix from
/// the request's URI, but the app signed the whole path, which axum keeps
/// in [`OriginalUri`](axum::extract::OriginalUri).
#[cfg(feature = "axum")]
fn target_uri<'a>(uri: &'a Uri, extensions: &'a Extensions) -> &'a Uri {
    extensions
        .get::<axum::extract::OriginalUri>()
        .map_or(uri, |original| &original.0)
}

#[cfg(not(feature = "axum"))]
fn target_uri<'a>(uri: &'a Uri, _extensions: &'a Extensions) -> &'a Uri {
    uri
}

/// The length the request announces: its `Content-Length`, or what the
/// body knows of its own size. A too-long body is refused before a byte is
/// read; an unreadable header is left to [`Limited`], which counts.
fn declared_len<B: Body>(headers: &HeaderMap, body: &B) -> u64 {
    let content_length = headers
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok())
        .unwrap_or(0);
    content_length.max(body.size_hint().lower())
}

pub(crate) fn log_too_large(limit: usize) {
    tracing::warn!(
        target: "approov",
        limit,
        "request body too large to check its Content-Digest: answered 413"
    );
}
