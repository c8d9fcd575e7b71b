//! The per-request work: one call to the gate, then either the inner
//! service or the rejection response. With message signing and a
//! `Content-Digest`, the body is buffered first (the only path that boxes).

use std::fmt;
use std::future::{Future, Ready, ready};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use actix_web::body::EitherBody;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, forward_ready};
use actix_web::{HttpMessage as _, HttpResponse};
use approov_core::{ApproovClaims, ApproovOutcome, Decision, Gate};
use pin_project_lite::pin_project;

use crate::headers::ActixHeaders;
use crate::response::{Respond, payload_too_large_response, rejection_response};
use crate::signing;

/// The service [`ApproovMiddleware`](crate::ApproovMiddleware) wraps around
/// the inner one. Built by actix-web; there is no need to name it.
pub struct ApproovService<S> {
    // Shared with the future that buffers a body before calling it.
    service: Rc<S>,
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
            service: Rc::new(service),
            gate,
            respond,
        }
    }
}

impl<S, B> Service<ServiceRequest> for ApproovService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, B, S::Error>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        if self.gate.signing().is_some() {
            return self.call_signed(req);
        }
        let decision = self
            .gate
            .check(req.method().as_str(), &ActixHeaders(req.headers()));
        self.decided(req, decision)
    }
}

impl<S, B> ApproovService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>> + 'static,
    B: 'static,
{
    /// Calls the inner service or answers the rejection.
    fn decided(
        &self,
        req: ServiceRequest,
        decision: Decision,
    ) -> ResponseFuture<S::Future, B, S::Error> {
        match decision {
            Decision::Forward(outcome) => {
                record(&req, outcome);
                ResponseFuture::inner(self.service.call(req))
            }
            Decision::Reject(rejection) => {
                let response = rejection_response(self.respond.as_ref(), &rejection);
                ResponseFuture::rejected(answer(req, response))
            }
        }
    }

    /// Message signing: checks at once when the body is not needed,
    /// otherwise buffers it (up to the gate's limit) first.
    fn call_signed(&self, req: ServiceRequest) -> ResponseFuture<S::Future, B, S::Error> {
        if !self.gate.needs_body(&ActixHeaders(req.headers())) {
            let decision = signing::check(&self.gate, &req, None);
            return self.decided(req, decision);
        }
        let limit = self.gate.max_body_len();
        if signing::declared_too_large(&req, limit) {
            return ResponseFuture::rejected(answer(req, payload_too_large_response()));
        }
        let service = Rc::clone(&self.service);
        let gate = self.gate.clone();
        let respond = self.respond.clone();
        ResponseFuture::buffering(Box::pin(async move {
            let mut req = req;
            let body = match signing::buffer(&mut req, limit).await {
                Ok(body) => body,
                Err(response) => return Ok(answer(req, response)),
            };
            match signing::check(&gate, &req, Some(&body)) {
                Decision::Forward(outcome) => {
                    record(&req, outcome);
                    let response = service.call(req).await?;
                    Ok(response.map_into_left_body())
                }
                Decision::Reject(rejection) => {
                    let response = rejection_response(respond.as_ref(), &rejection);
                    Ok(answer(req, response))
                }
            }
        }))
    }
}

/// Puts the outcome (and, when verified, the claims) in the request's
/// extensions for the extractors.
fn record(req: &ServiceRequest, outcome: ApproovOutcome) {
    let mut extensions = req.extensions_mut();
    // An outer Approov middleware may have verified the request under other
    // rules; only this (innermost) outcome counts.
    match &outcome {
        ApproovOutcome::Verified(claims) => {
            extensions.insert(claims.clone());
        }
        _ => {
            extensions.remove::<ApproovClaims>();
        }
    }
    extensions.insert(outcome);
}

/// Answers `req` with `response`, without calling the inner service.
fn answer<B>(req: ServiceRequest, response: HttpResponse) -> ServiceResponse<EitherBody<B>> {
    let (request, _payload) = req.into_parts();
    ServiceResponse::new(request, response).map_into_right_body()
}

/// The future of a request whose body is buffered before the check.
type Buffering<B, E> = Pin<Box<dyn Future<Output = Result<ServiceResponse<EitherBody<B>>, E>>>>;

pin_project! {
    /// The response future of [`ApproovService`]: the inner service's
    /// future, or the rejection response, ready at once; no allocation.
    /// Only a request whose body message signing must check (it has a
    /// `Content-Digest`) gets a boxed future that reads the body first.
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
        Buffering { future: Buffering<B, E> },
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

    fn buffering(future: Buffering<B, E>) -> Self {
        Self {
            state: State::Buffering { future },
        }
    }
}

impl<F, B, E> fmt::Debug for ResponseFuture<F, B, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state {
            State::Inner { .. } => "inner",
            State::Rejected { .. } => "rejected",
            State::Buffering { .. } => "buffering",
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
            StateProj::Buffering { future } => future.as_mut().poll(cx),
        }
    }
}
