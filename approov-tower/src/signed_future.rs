//! The response future of the message-signing service: reading the body
//! (when the core asked for it), then the inner service's future, or a
//! ready answer. An enum of states rather than a boxed future, so nothing
//! is boxed and no `Send` is demanded of the inner types.

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use approov_core::{BodyCheck, BodyProblem, Decision, VerifiedBy};
use bytes::Bytes;
use http::{Request, Response};
use http_body::Body;
use http_body_util::combinators::Collect;
use http_body_util::{BodyExt as _, Collected, Full, LengthLimitError, Limited};
use pin_project_lite::pin_project;
use tokio::time::{Timeout, error::Elapsed, timeout};
use tower_service::Service;

use crate::response::Responder;
use crate::service::record_outcome;
use crate::{ApproovBody, ApproovRequestBody};

/// The error type [`Limited`] turns body errors into.
pub(crate) type BoxError = Box<dyn StdError + Send + Sync>;

type Read<B> = Timeout<Collect<Limited<B>>>;

pin_project! {
    /// Response future of [`ApproovService`](crate::ApproovService) in
    /// [`MessageSigned`](crate::mode::MessageSigned) mode.
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
        Reading { #[pin] read: Read<B>, pending: Option<Pending<S>> },
        Inner { #[pin] future: S::Future },
        Answered { response: Option<Response<Full<Bytes>>> },
    }
}

/// What the request needs once its body is read: the core's body step, the
/// service to call (the one that was polled ready), the responses, and the
/// head of the request.
struct Pending<S> {
    check: BodyCheck,
    inner: S,
    responder: Responder,
    parts: http::request::Parts,
    by: VerifiedBy,
}

impl<S, B> SignedResponseFuture<S, B>
where
    S: Service<Request<ApproovRequestBody<B>>>,
    B: Body,
    B::Error: Into<BoxError>,
{
    /// Acts on a decision: calls `inner` with the request, or answers.
    pub(crate) fn decided(
        inner: &mut S,
        responder: &Responder,
        decision: Decision,
        mut parts: http::request::Parts,
        body: ApproovRequestBody<B>,
        by: VerifiedBy,
    ) -> Self {
        let state = match responder.decide(decision, &parts.headers) {
            Ok(outcome) => {
                record_outcome(&mut parts.extensions, outcome, by);
                State::Inner {
                    future: inner.call(Request::from_parts(parts, body)),
                }
            }
            Err(response) => State::Answered {
                response: Some(response),
            },
        };
        Self { state }
    }

    /// Reads `body` as `check` says, then finishes the check. The deadline
    /// runs from here: it needs a tokio runtime with its timer enabled,
    /// which every tokio server (axum, hyper, tonic) has.
    pub(crate) fn reading(
        body: B,
        check: BodyCheck,
        inner: S,
        responder: Responder,
        parts: http::request::Parts,
        by: VerifiedBy,
    ) -> Self {
        let read = timeout(
            check.timeout(),
            Limited::new(body, check.max_len()).collect(),
        );
        let pending = Pending {
            check,
            inner,
            responder,
            parts,
            by,
        };
        Self {
            state: State::Reading {
                read,
                pending: Some(pending),
            },
        }
    }
}

impl<S> Pending<S> {
    /// The state after the body was read, or failed to be.
    fn finish<B>(self, read: Result<Result<Collected<Bytes>, BoxError>, Elapsed>) -> State<S, B>
    where
        S: Service<Request<ApproovRequestBody<B>>>,
        B: Body,
        B::Error: Into<BoxError>,
    {
        let Self {
            check,
            mut inner,
            responder,
            parts,
            by,
        } = self;
        let (decision, body) = match read {
            Ok(Ok(collected)) => {
                let trailers = collected.trailers().cloned();
                let bytes = collected.to_bytes();
                // The handler reads the very bytes the digest was checked against.
                (
                    check.finish(Ok(&bytes)),
                    ApproovRequestBody::buffered(bytes, trailers),
                )
            }
            failed => {
                let problem = match failed {
                    Err(_elapsed) => check.timed_out(),
                    Ok(Err(e)) if e.is::<LengthLimitError>() => check.too_large(),
                    _ => BodyProblem::Unreadable,
                };
                // Refused: the empty body is never handed on.
                let none = ApproovRequestBody::buffered(Bytes::new(), None);
                (check.finish(Err(problem)), none)
            }
        };
        SignedResponseFuture::decided(&mut inner, &responder, decision, parts, body, by).state
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
                StateProj::Reading { read, pending } => {
                    let read = ready!(read.poll(cx));
                    // Polling a finished future is a caller bug, as with any future.
                    let pending = pending.take().expect("future polled after completion");
                    pending.finish(read)
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
            State::Reading { .. } => "reading the body",
            State::Inner { .. } => "inner service",
            State::Answered { .. } => "answered",
        };
        f.debug_struct("SignedResponseFuture")
            .field("state", &state)
            .finish()
    }
}
