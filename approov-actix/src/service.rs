//! The per-request work: the gate's decision on the request's head, then
//! the inner service or the response. Only a request whose body message
//! signing must check (it has a `Content-Digest`, and its token and
//! signatures passed) gets a boxed future, which reads the body first.

use std::fmt;
use std::future::{Future, Ready, ready};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use actix_web::body::EitherBody;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, forward_ready};
use actix_web::{HttpMessage as _, HttpResponse};
use approov_core::signing::MessageParts;
use approov_core::{ApproovClaims, ApproovOutcome, Decision, Gate, HeadDecision, VerifiedBy};
use pin_project_lite::pin_project;

use crate::headers::HttpHeaders;
use crate::response::{Respond, body_problem_response, rejection_response};
use crate::signing;

/// The service [`ApproovMiddleware`](crate::ApproovMiddleware) wraps around
/// the inner one. Built by actix-web; there is no need to name it.
pub struct ApproovService<S> {
    // Shared with the future that reads a body before calling it.
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
        let respond = self.respond.as_ref();
        let by = self.gate.verified_by();
        if self.gate.signing().is_none() {
            let decision = {
                let headers = HttpHeaders(req.headers());
                // The path (open paths), and what an outer middleware verified.
                let extensions = req.extensions();
                let parts = MessageParts::new(req.method().as_str(), req.uri().path(), &headers)
                    .with_verified(
                        extensions.get::<ApproovClaims>(),
                        extensions.get::<VerifiedBy>().copied(),
                    );
                self.gate.check_request(&parts)
            };
            return decided(&*self.service, respond, req, decision, by);
        }
        let check = match signing::check_head(&self.gate, &req) {
            HeadDecision::Decided(decision) => {
                return decided(&*self.service, respond, req, decision, by);
            }
            HeadDecision::ReadBody(check) => check,
        };
        let service = Rc::clone(&self.service);
        let respond = self.respond.clone();
        ResponseFuture::reading(Box::pin(async move {
            let mut req = req;
            let decision = signing::check_body(&mut req, check).await;
            decided(&*service, respond.as_ref(), req, decision, by).await
        }))
    }
}

/// Carries out `decision`: calls the inner service (the payload as it is:
/// untouched, or the bytes the body step read) or answers without it.
fn decided<S, B>(
    service: &S,
    respond: Option<&Respond>,
    req: ServiceRequest,
    decision: Decision,
    by: VerifiedBy,
) -> ResponseFuture<S::Future, B, S::Error>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>>,
{
    let response = match decision {
        Decision::Forward(outcome) => {
            record(&req, outcome, by);
            return ResponseFuture::inner(service.call(req));
        }
        Decision::Reject(rejection) => rejection_response(respond, &rejection),
        Decision::RefuseBody(problem) => body_problem_response(problem),
    };
    ResponseFuture::answered(answer(req, response))
}

/// Puts the outcome (and, when verified, the claims, with the
/// [`VerifiedBy`] an inner middleware needs to take them) in the request's
/// extensions for the extractors.
fn record(req: &ServiceRequest, outcome: ApproovOutcome, by: VerifiedBy) {
    let mut extensions = req.extensions_mut();
    // An outer Approov middleware may have verified the request under other
    // rules; only this (innermost) outcome counts.
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

/// Answers `req` with `response`, without calling the inner service.
fn answer<B>(req: ServiceRequest, response: HttpResponse) -> ServiceResponse<EitherBody<B>> {
    let (request, _payload) = req.into_parts();
    ServiceResponse::new(request, response).map_into_right_body()
}

/// The future of a request whose body is read before the decision.
type Reading<B, E> = Pin<Box<dyn Future<Output = Result<ServiceResponse<EitherBody<B>>, E>>>>;

pin_project! {
    /// The response future of [`ApproovService`]: the inner service's
    /// future, or the middleware's own response, ready at once; no
    /// allocation. Only a request whose body message signing must check
    /// (it has a `Content-Digest`, and its token and signatures passed)
    /// gets a boxed future that reads the body first.
    pub struct ResponseFuture<F, B, E> {
        #[pin]
        state: State<F, B, E>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F, B, E> {
        Inner { #[pin] future: F },
        Answered { response: Ready<Result<ServiceResponse<EitherBody<B>>, E>> },
        Reading { future: Reading<B, E> },
    }
}

impl<F, B, E> ResponseFuture<F, B, E> {
    fn inner(future: F) -> Self {
        Self {
            state: State::Inner { future },
        }
    }

    fn answered(response: ServiceResponse<EitherBody<B>>) -> Self {
        Self {
            state: State::Answered {
                response: ready(Ok(response)),
            },
        }
    }

    fn reading(future: Reading<B, E>) -> Self {
        Self {
            state: State::Reading { future },
        }
    }
}

impl<F, B, E> fmt::Debug for ResponseFuture<F, B, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state {
            State::Inner { .. } => "inner",
            State::Answered { .. } => "answered",
            State::Reading { .. } => "reading",
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
            StateProj::Answered { response } => Pin::new(response).poll(cx),
            StateProj::Reading { future } => future.as_mut().poll(cx),
        }
    }
}
