//! The service: one gate check per request, then forward or answer.

use std::fmt;
use std::task::{Context, Poll};

use approov_core::signing::MessageParts;
use approov_core::{ApproovClaims, ApproovOutcome, VerifiedBy, Verifier};
use http::{Extensions, Request, Response};
use tower_service::Service;

use crate::mode::TokenOnly;
use crate::{ApproovBody, ApproovLayer, HttpHeaders, ResponseFuture};

/// Middleware that checks the Approov token of every request; see
/// [`ApproovLayer`] for the options and the [crate docs](crate) for an
/// example.
///
/// Requests that pass go to the inner service with
/// [`ApproovOutcome`] (always) and [`ApproovClaims`] (when verified) in
/// their extensions; any claims an outer layer put there are removed when
/// this one did not verify the token. Rejected requests are answered here.
/// Rejections are responses, not errors: `Error` is the inner service's.
///
/// `M` is the [mode](crate::mode): with the default [`TokenOnly`] the inner
/// service receives the request unchanged; with
/// [`MessageSigned`](crate::mode::MessageSigned) (from
/// [`ApproovLayer::message_signing`]) it receives
/// `Request<`[`ApproovRequestBody`](crate::ApproovRequestBody)`<ReqBody>>`.
pub struct ApproovService<S, M = TokenOnly> {
    pub(crate) inner: S,
    pub(crate) layer: ApproovLayer<M>,
}

impl<S> ApproovService<S> {
    /// Wraps `inner` with the default settings of [`ApproovLayer::new`].
    /// For other settings, build the layer and call
    /// [`Layer::layer`](tower_layer::Layer::layer) on it.
    pub fn new(inner: S, verifier: Verifier) -> Self {
        Self::from_layer(inner, ApproovLayer::new(verifier))
    }
}

impl<S, M> ApproovService<S, M> {
    pub(crate) fn from_layer(inner: S, layer: ApproovLayer<M>) -> Self {
        Self { inner, layer }
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Consumes `self`, returning the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

// On the unit type so that `ApproovService::layer(verifier)` needs no
// type annotation: the layer does not depend on the service it will wrap.
impl ApproovService<()> {
    /// A layer wrapping services with the default settings; the same as
    /// [`ApproovLayer::new`].
    pub fn layer(verifier: Verifier) -> ApproovLayer {
        ApproovLayer::new(verifier)
    }
}

impl<S: Clone, M> Clone for ApproovService<S, M> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            layer: self.layer.clone(),
        }
    }
}

impl<S: fmt::Debug, M> fmt::Debug for ApproovService<S, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApproovService")
            .field("inner", &self.inner)
            .field("layer", &self.layer)
            .finish()
    }
}

/// Records a forwarded request's outcome where handlers look for it: the
/// outcome always, the claims only when this layer verified them (claims an
/// outer layer left there must not pass for this one's), with the
/// [`VerifiedBy`] an inner layer needs to take them.
#[inline]
pub(crate) fn record_outcome(extensions: &mut Extensions, outcome: ApproovOutcome, by: VerifiedBy) {
    match &outcome {
        ApproovOutcome::Verified(claims) => {
            extensions.insert(claims.clone());
            extensions.insert(by);
        }
        _ => {
            extensions.remove::<ApproovClaims>();
            extensions.remove::<VerifiedBy>();
        }
    }
    extensions.insert(outcome);
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for ApproovService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Response = Response<ApproovBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        let gate = &self.layer.gate;
        let decision = {
            let headers = HttpHeaders(request.headers());
            let extensions = request.extensions();
            // The path alone (open paths), and what an outer layer verified.
            let path = crate::signed::target_uri(request.uri(), extensions).path();
            let parts = MessageParts::new(request.method().as_str(), path, &headers).with_verified(
                extensions.get::<ApproovClaims>(),
                extensions.get::<VerifiedBy>().copied(),
            );
            gate.check_request(&parts)
        };
        match self.layer.responder.decide(decision, request.headers()) {
            Ok(outcome) => {
                record_outcome(request.extensions_mut(), outcome, gate.verified_by());
                ResponseFuture::inner(self.inner.call(request))
            }
            Err(response) => ResponseFuture::rejected(response),
        }
    }
}
