//! The response future of the message-signing service: reading the body
//! (when a `Content-Digest` must be checked), then the inner service's
//! future, or a ready answer. An enum of states rather than a boxed future,
//! so nothing is boxed and no `Send` is demanded of the inner types.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use approov_core::Decision;
use bytes::Bytes;
use http::{Request, Response};
use http_body::Body;
use http_body_util::combinators::Collect;
use http_body_util::{Collected, Full, LengthLimitError, Limited};
use pin_project_lite::pin_project;
use tower_service::Service;

use crate::mode::MessageSigned;
use crate::response::BodyProblem;
use crate::service::record_outcome;
use crate::signed::{BoxError, check_message, log_too_large};
use crate::{ApproovBody, ApproovLayer, ApproovRequestBody};

pin_project! {
    /// Response future of [`ApproovService`](crate::ApproovService) in
    /// [`MessageSigned`] mode.
    pub struct SignedResponseFuture<S, B>
    where
        S: Service<Request<ApproovRequestBody<B>>>,
        B: Body,
        B::Error: Into<BoxError>,
    {
        #[pin]
        state: State<S, B>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<S, B>
    where
        S: Service<Request<ApproovRequestBody<B>>>,
        B: Body,
        B::Error: Into<BoxError>,
    {
        Buffering { #[pin] collect: Collect<Limited<B>>, pending: Option<Pending<S>> },
        Inner { #[pin] future: S::Future },
        Answered { response: Option<Response<Full<Bytes>>> },
    }
}

/// What the request needs once its body is read: the service to call (the
/// one that was polled ready), the settings, and the head of the request.
pub(crate) struct Pending<S> {
    pub(crate) inner: S,
    pub(crate) layer: ApproovLayer<MessageSigned>,
    pub(crate) parts: http::request::Parts,
}

impl<S, B> SignedResponseFuture<S, B>
where
    S: Service<Request<ApproovRequestBody<B>>>,
    B: Body,
    B::Error: Into<BoxError>,
{
    pub(crate) fn inner(future: S::Future) -> Self {
        Self::from(State::Inner { future })
    }

    pub(crate) fn answered(response: Response<Full<Bytes>>) -> Self {
        Self::from(State::Answered {
            response: Some(response),
        })
    }

    pub(crate) fn buffering(collect: Collect<Limited<B>>, pending: Pending<S>) -> Self {
        Self::from(State::Buffering {
            collect,
            pending: Some(pending),
        })
    }

    fn from(state: State<S, B>) -> Self {
        Self { state }
    }
}

impl<S> Pending<S> {
    /// The state after the body was read (or failed): the inner service's
    /// future, or the answer.
    fn finish<B>(self, collected: Result<Collected<Bytes>, BoxError>) -> State<S, B>
    where
        S: Service<Request<ApproovRequestBody<B>>>,
        B: Body,
        B::Error: Into<BoxError>,
    {
        let Self {
            mut inner,
            layer,
            mut parts,
        } = self;
        let collected = match collected {
            Ok(collected) => collected,
            Err(error) => {
                let problem = if error.is::<LengthLimitError>() {
                    log_too_large(layer.gate.max_body_len());
                    BodyProblem::TooLarge
                } else {
                    tracing::warn!(
                        target: "approov",
                        "request body could not be read to check its Content-Digest: answered 400 ({error})"
                    );
                    BodyProblem::Unreadable
                };
                return State::Answered {
                    response: Some(problem.respond(&parts.headers)),
                };
            }
        };
        let trailers = collected.trailers().cloned();
        let bytes = collected.to_bytes();
        match check_message(&layer.gate, &parts, Some(&bytes)) {
            Decision::Reject(rejection) => State::Answered {
                response: Some(layer.responder.respond(&rejection, &parts.headers)),
            },
            Decision::Forward(outcome) => {
                record_outcome(&mut parts.extensions, outcome);
                // The handler reads the very bytes the digest was checked against.
                let body = ApproovRequestBody::buffered(bytes, trailers);
                State::Inner {
                    future: inner.call(Request::from_parts(parts, body)),
                }
            }
        }
    }
}

impl<S, B, ResBody> Future for SignedResponseFuture<S, B>
where
    S: Service<Request<ApproovRequestBody<B>>, Response = Response<ResBody>>,
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    type Output = Result<Response<ApproovBody<ResBody>>, S::Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        loop {
            let next = match self.as_mut().project().state.project() {
                StateProj::Buffering { collect, pending } => {
                    let collected = ready!(collect.poll(cx));
                    // Polling a finished future is a caller bug, as with any future.
                    let pending = pending.take().expect("future polled after completion");
                    pending.finish(collected)
                }
                StateProj::Inner { future } => {
                    let response = ready!(future.poll(cx))?;
                    return Poll::Ready(Ok(response.map(ApproovBody::inner)));
                }
                StateProj::Answered { response } => {
                    let response = response.take().expect("future polled after completion");
                    return Poll::Ready(Ok(response.map(ApproovBody::rejection)));
                }
            };
            self.as_mut().project().state.set(next);
        }
    }
}

impl<S, B> fmt::Debug for SignedResponseFuture<S, B>
where
    S: Service<Request<ApproovRequestBody<B>>>,
    B: Body,
    B::Error: Into<BoxError>,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            State::Buffering { .. } => "reading the body",
            State::Inner { .. } => "inner service",
            State::Answered { .. } => "answered",
        };
        f.debug_struct("SignedResponseFuture")
            .field("state", &state)
            .finish()
    }
}
