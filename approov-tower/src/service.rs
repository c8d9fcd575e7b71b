//! The service: one gate check per request, then forward or answer.

use std::task::{Context, Poll};

use approov_core::{ApproovClaims, ApproovOutcome, Decision, Verifier};
use http::{Request, Response};
use tower_service::Service;

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
#[derive(Debug, Clone)]
pub struct ApproovService<S> {
    inner: S,
    layer: ApproovLayer,
}

impl<S> ApproovService<S> {
    /// Wraps `inner` with the default settings of [`ApproovLayer::new`].
    /// For other settings, build the layer and call
    /// [`Layer::layer`](tower_layer::Layer::layer) on it.
    pub fn new(inner: S, verifier: Verifier) -> Self {
        Self::from_layer(inner, ApproovLayer::new(verifier))
    }

    pub(crate) fn from_layer(inner: S, layer: ApproovLayer) -> Self {
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
        let decision = self
            .layer
            .gate
            .check(request.method().as_str(), &HttpHeaders(request.headers()));
        let outcome = match decision {
            Decision::Forward(outcome) => outcome,
            Decision::Reject(rejection) => {
                let response = self.layer.responder.respond(&rejection, request.headers());
                return ResponseFuture::rejected(response);
            }
        };
        let extensions = request.extensions_mut();
        match &outcome {
            ApproovOutcome::Verified(claims) => {
                extensions.insert(claims.clone());
            }
            _ => {
                extensions.remove::<ApproovClaims>();
            }
        }
        extensions.insert(outcome);
        ResponseFuture::inner(self.inner.call(request))
    }
}
