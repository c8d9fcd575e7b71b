//! The second step of a request's check: its body, read only once the
//! head passed, under the limit and deadline the [`Gate`](crate::Gate)
//! hands out with it.

use std::fmt;
use std::time::Duration;

use crate::gate::{Decision, forward, refused};
use crate::signing::{BodyNeeds, DigestProblem};
use crate::{ApproovOutcome, Rejection};

/// Why a body that had to be read could not be: the request is refused
/// with [`status`](Self::status) and `{}`, without calling the inner
/// service, in report-only mode too (nothing can be handed on of a body
/// that was not kept). Logged by the core (target `approov`) with its
/// [`kind`](Self::kind).
///
/// ```
/// use approov_core::BodyProblem;
/// use std::time::Duration;
///
/// assert_eq!(BodyProblem::TooLarge { limit: 1024 }.status(), 413);
/// assert_eq!(BodyProblem::Unreadable.status(), 400);
/// let slow = BodyProblem::TimedOut { after: Duration::from_secs(30) };
/// assert_eq!((slow.status(), slow.kind()), (408, "body_timeout"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BodyProblem {
    /// The body is longer than the limit: its `Content-Length` said so, or
    /// it passed the limit while being read. `413 Payload Too Large`.
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// Reading the body failed: the client broke off or sent a malformed
    /// chunked encoding. `400 Bad Request`: the fault is the client's.
    Unreadable,
    /// The body was not read in full within the deadline. `408 Request
    /// Timeout`.
    TimedOut {
        /// The deadline.
        after: Duration,
    },
}

impl BodyProblem {
    /// The HTTP status to answer with: 413, 400 or 408.
    pub const fn status(self) -> u16 {
        match self {
            Self::TooLarge { .. } => 413,
            Self::Unreadable => 400,
            Self::TimedOut { .. } => 408,
        }
    }

    /// The stable name logged with it: `body_too_large`, `body_unreadable`
    /// or `body_timeout`.
    pub const fn kind(self) -> &'static str {
        match self {
            Self::TooLarge { .. } => "body_too_large",
            Self::Unreadable => "body_unreadable",
            Self::TimedOut { .. } => "body_timeout",
        }
    }

    /// Logs it, once, where every rejection is logged.
    pub(crate) fn log(self) -> Self {
        tracing::warn!(
            target: "approov",
            kind = self.kind(),
            status = self.status(),
            "request body refused: {self}"
        );
        self
    }
}

impl fmt::Display for BodyProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge { limit } => write!(f, "it is longer than the {limit}-byte limit"),
            Self::Unreadable => f.write_str("it could not be read"),
            Self::TimedOut { after } => {
                write!(f, "it was not read within {} ms", after.as_millis())
            }
        }
    }
}

impl std::error::Error for BodyProblem {}

/// The body step of a request the head step let through: read the whole
/// body, at most [`max_len`](Self::max_len) bytes within
/// [`timeout`](Self::timeout), then call [`finish`](Self::finish) with the
/// bytes or with what went wrong, and hand the same bytes on.
///
/// Given by [`Gate::check_head`](crate::Gate::check_head) (a
/// `Content-Digest` must be checked) and [`Gate::read_body`](crate::Gate::read_body)
/// (the adapter hands the body on as bytes anyway).
pub struct BodyCheck {
    outcome: ApproovOutcome,
    needs: BodyNeeds,
    max_len: usize,
    timeout: Duration,
    report_only: bool,
    /// The head step already counted the request (a read-only body step).
    counted: bool,
}

impl BodyCheck {
    pub(crate) fn new(
        outcome: ApproovOutcome,
        needs: BodyNeeds,
        max_len: usize,
        timeout: Duration,
        report_only: bool,
    ) -> Self {
        Self {
            outcome,
            needs,
            max_len,
            timeout,
            report_only,
            counted: false,
        }
    }

    /// For a body step after a head step that decided (and counted) the
    /// request: only a body refusal is counted, in its own counter.
    pub(crate) fn counted(mut self) -> Self {
        self.counted = true;
        self
    }

    /// The most bytes to read; one more is [`BodyProblem::TooLarge`].
    pub fn max_len(&self) -> usize {
        self.max_len
    }

    /// How long reading may take, from the first read to the end of the
    /// body; past it, [`BodyProblem::TimedOut`].
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The problem to pass to [`finish`](Self::finish) when the read
    /// passed [`max_len`](Self::max_len).
    pub fn too_large(&self) -> BodyProblem {
        BodyProblem::TooLarge {
            limit: self.max_len,
        }
    }

    /// The problem to pass to [`finish`](Self::finish) when the read
    /// passed the [`timeout`](Self::timeout).
    pub fn timed_out(&self) -> BodyProblem {
        BodyProblem::TimedOut {
            after: self.timeout,
        }
    }

    /// The decision, given the whole body or why it could not be read:
    /// [`Decision::Forward`] (hand on the same bytes),
    /// [`Decision::Reject`] (the body does not match its `Content-Digest`)
    /// or [`Decision::RefuseBody`]. Logs any refusal.
    pub fn finish(mut self, body: Result<&[u8], BodyProblem>) -> Decision {
        // A body that had to be empty is refused for that, however it ended.
        let not_empty = match body {
            Ok(body) => !body.is_empty(),
            Err(problem) => matches!(problem, BodyProblem::TooLarge { .. }),
        };
        if let Some(rejection) = self.needs.empty_or.take().filter(|_| not_empty) {
            return self.refuse(rejection);
        }
        let body = match body {
            Ok(body) => body,
            Err(problem) => {
                crate::metrics::body_refused(problem, !self.counted);
                return Decision::RefuseBody(problem.log());
            }
        };
        match self.needs.digests.as_ref().map(|d| d.check(body)) {
            Some(Err(rejection)) => self.refuse(rejection),
            _ => self.forward(),
        }
    }

    /// Without a body: the decision of [`Gate::check_message`](crate::Gate::check_message)
    /// when it was given none.
    pub(crate) fn finish_unread(self) -> Decision {
        if self.needs.digests.is_some() {
            self.refuse(Rejection::DigestInvalid(DigestProblem::BodyNotBuffered))
        } else {
            self.forward()
        }
    }

    fn forward(self) -> Decision {
        if self.counted {
            Decision::Forward(self.outcome)
        } else {
            forward(self.outcome)
        }
    }

    fn refuse(self, rejection: Rejection) -> Decision {
        refused(rejection, self.report_only)
    }
}

impl fmt::Debug for BodyCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BodyCheck")
            .field("checks_digest", &self.needs.digests.is_some())
            .field("must_be_empty", &self.needs.empty_or.is_some())
            .field("max_len", &self.max_len)
            .field("timeout", &self.timeout)
            .field("report_only", &self.report_only)
            .finish_non_exhaustive()
    }
}
