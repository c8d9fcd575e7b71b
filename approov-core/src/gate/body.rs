//! The second step of a request's check: its body, read only once the
//! head passed, under the limit and deadline the [`Gate`](crate::Gate)
//! hands out with it.

use std::fmt;
use std::time::Duration;

use super::decision::{ApproovOutcome, BodyProblem, Decision, forward, refused};
use crate::error::Rejection;
use crate::signing::{BodyNeeds, DigestProblem};

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
                crate::metrics::body_refused(problem.refusal(), !self.counted);
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
