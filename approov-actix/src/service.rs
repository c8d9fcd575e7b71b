//! The per-request work: one call to the gate, then either the inner
//! service or the rejection response.

use std::fmt;
use std::future::{Future, Ready, ready};
use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::HttpMessage as _;
use actix_web::body::EitherBody;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, forward_ready};
use approov_core::{ApproovClaims, ApproovOutcome, Decision, Gate};
use pin_project_lite::pin_project;

use crate::headers::ActixHeaders;
use crate::response::{Respond, default_rejection_response};

/// The service [`ApproovMiddleware`](crate::ApproovMiddleware) wraps around
/// the inner one. Built by actix-web; there is no need to name it.
pub struct ApproovService<S> {
    service: S,
    gate: Gate,
    respond: Option<Respond>,
}

impl<S> fmt::Debug for ApproovService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApproovService")
            .field("gate", &self.gate)
            .finish_non_exhaustive()
    }
}

impl<S> ApproovService<S> {
    pub(crate) fn new(service: S, gate: Gate, respond: Option<Respond>) -> Self {
        Self {
            service,
            gate,
            respond,
        }
    }
}

impl<S, B> Service<ServiceRequest> for ApproovService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>>,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, B, S::Error>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let decision = self
            .gate
            .check(req.method().as_str(), &ActixHeaders(req.headers()));
        let response = match decision {
            Decision::Forward(outcome) => {
                let mut extensions = req.extensions_mut();
                // An outer Approov middleware may have verified the request
                // under other rules; only this (innermost) outcome counts.
                match &outcome {
                    ApproovOutcome::Verified(claims) => {
                        extensions.insert(claims.clone());
                    }
                    _ => {
                        extensions.remove::<ApproovClaims>();
                    }
                }
                extensions.insert(outcome);
                drop(extensions);
                return ResponseFuture::inner(self.service.call(req));
            }
            Decision::Reject(rejection) => match &self.respond {
                Some(respond) => respond(&rejection),
                None => default_rejection_response(),
            },
        };
        let (request, _payload) = req.into_parts();
        ResponseFuture::rejected(ServiceResponse::new(request, response).map_into_right_body())
    }
}

pin_project! {
    /// The response future of [`ApproovService`]: the inner service's
    /// future, or the rejection response, ready at once. No allocation.
    pub struct ResponseFuture<F, B, E> {
        #[pin]
        state: State<F, B, E>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F, B, E> {
        Inner { #[pin] future: F },
        Rejected { response: Ready<Result<ServiceResponse<EitherBody<B>>, E>> },
    }
}

impl<F, B, E> ResponseFuture<F, B, E> {
    fn inner(future: F) -> Self {
        Self {
            state: State::Inner { future },
        }
    }

    fn rejected(response: ServiceResponse<EitherBody<B>>) -> Self {
        Self {
            state: State::Rejected {
                response: ready(Ok(response)),
            },
        }
    }
}

impl<F, B, E> fmt::Debug for ResponseFuture<F, B, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state {
            State::Inner { .. } => "inner",
            State::Rejected { .. } => "rejected",
        };
        f.debug_struct("ResponseFuture")
            .field("state", &state)
            .finish()
    }
}

impl<F, B, E> Future for ResponseFuture<F, B, E>
where
    F: Future<Output = Result<ServiceResponse<B>, E>>,
{
    type Output = Result<ServiceResponse<EitherBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProj::Inner { future } => future
                .poll(cx)
                .map(|result| result.map(ServiceResponse::map_into_left_body)),
            StateProj::Rejected { response } => Pin::new(response).poll(cx),
        }
    }
}
