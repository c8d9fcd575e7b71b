//! The message-signing service: the request's head goes to the core's
//! first step; the body is read only when the core asks for it.

use std::task::{Context, Poll};

use approov_core::signing::MessageParts;
use approov_core::{ApproovClaims, HeadDecision, VerifiedBy};
use bytes::Bytes;
use http::uri::{Authority, PathAndQuery};
use http::{Extensions, Request, Response, Uri};
use http_body::Body;
use tower_service::Service;

use crate::mode::MessageSigned;
use crate::signed_future::{BoxError, SignedResponseFuture};
use crate::{ApproovBody, ApproovRequestBody, ApproovService, HttpHeaders};

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
        let (parts, body) = request.into_parts();
        let head = {
            let headers = HttpHeaders(&parts.headers);
            let uri = target_uri(&parts.uri, &parts.extensions);
            // Scheme and authority are in the URI only when the client sent
            // them as the target (HTTP/2 pseudo-headers, an absolute-form
            // request line), which is what RFC 9421 signs; otherwise the
            // core reads `Host`. HTTP/2 needs no `Content-Length`, so the
            // body says whether there is one.
            let message = MessageParts::new(
                parts.method.as_str(),
                uri.path_and_query().map_or("/", PathAndQuery::as_str),
                &headers,
            )
            .with_scheme(uri.scheme_str())
            .with_authority(uri.authority().map(Authority::as_str))
            .with_body(!body.is_end_stream())
            .with_verified(
                parts.extensions.get::<ApproovClaims>(),
                parts.extensions.get::<VerifiedBy>().copied(),
            );
            self.layer.gate.check_head(&message)
        };
        let by = self.layer.gate.verified_by();
        match head {
            HeadDecision::Decided(decision) => SignedResponseFuture::decided(
                &mut self.inner,
                &self.layer.responder,
                decision,
                parts,
                ApproovRequestBody::original(body),
                by,
            ),
            HeadDecision::ReadBody(check) => {
                // The service that was polled ready goes with the request;
                // the clone stays here for the next one (the usual tower
                // hand-over).
                let fresh = self.inner.clone();
                let inner = std::mem::replace(&mut self.inner, fresh);
                let responder = self.layer.responder.clone();
                SignedResponseFuture::reading(body, check, inner, responder, parts, by)
            }
        }
    }
}

/// The URI the client sent. A nested axum router strips its prefix from
/// the request's URI, but the app signed the whole path, which axum keeps
/// in [`OriginalUri`](axum::extract::OriginalUri).
#[cfg(feature = "axum")]
pub(crate) fn target_uri<'a>(uri: &'a Uri, extensions: &'a Extensions) -> &'a Uri {
    extensions
        .get::<axum::extract::OriginalUri>()
        .map_or(uri, |original| &original.0)
}

#[cfg(not(feature = "axum"))]
pub(crate) fn target_uri<'a>(uri: &'a Uri, _extensions: &'a Extensions) -> &'a Uri {
    uri
}
