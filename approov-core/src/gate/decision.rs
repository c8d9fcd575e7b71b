//! What an adapter does with a request (and why a body could not be
//! checked), and the counting and logging that goes with each decision.

use std::fmt;
use std::time::Duration;

use crate::error::Rejection;
use crate::metrics;
use crate::token::claims::ApproovClaims;

/// What happened to a request's token, stored in the request's extensions by
/// every adapter so handlers can look (in report-only mode, especially).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ApproovOutcome {
    /// The token verified; the same claims are also in the extensions.
    Verified(ApproovClaims),
    /// Report-only mode: the token was rejected for this reason, and the
    /// request was let through anyway.
    Rejected(Rejection),
    /// A CORS preflight, which carries no token, was let through unchecked.
    SkippedPreflight,
    /// The path is one of the gate's [open paths](crate::Gate::open_paths):
    /// let through unchecked.
    OpenPath,
}

/// What an adapter must do with a request.
///
/// Deliberately exhaustive: an adapter must handle every decision, so a new
/// one is a breaking change rather than a silently forwarded request.
#[derive(Debug)]
pub enum Decision {
    /// Call the inner service; put the outcome (and, when verified, the
    /// claims) in the request's extensions.
    Forward(ApproovOutcome),
    /// Answer with the rejection response and do not call the inner service.
    Reject(Rejection),
    /// The body could not be checked: answer [`BodyProblem::status`](crate::BodyProblem::status) with
    /// `{}` (not the rejection response: the token is not the problem) and
    /// do not call the inner service. Only the message-signing steps give
    /// it; [`Gate::check`](crate::Gate::check) never does.
    RefuseBody(BodyProblem),
}

/// A request let through with this outcome, counted.
pub(crate) fn forward(outcome: ApproovOutcome) -> Decision {
    metrics::forwarded(match outcome {
        ApproovOutcome::Verified(_) => metrics::Passed::Accepted,
        ApproovOutcome::Rejected(_) => metrics::Passed::ReportOnly,
        ApproovOutcome::SkippedPreflight => metrics::Passed::PreflightSkipped,
        ApproovOutcome::OpenPath => metrics::Passed::OpenPath,
    });
    Decision::Forward(outcome)
}

/// A rejection, logged and counted, and what it means in report-only mode
/// or not.
pub(crate) fn refused(rejection: Rejection, report_only: bool) -> Decision {
    log_rejection(&rejection, report_only);
    metrics::rejected(rejection.kind(), report_only);
    if let Some(status) = rejection.sdk_status() {
        metrics::sdk_status(status, report_only);
    }
    if report_only {
        Decision::Forward(ApproovOutcome::Rejected(rejection))
    } else {
        Decision::Reject(rejection)
    }
}

/// Logs one rejection: its stable kind and its description, never the token.
/// An `sdk_status` rejection also has the field `sdk_status`: the SDK's
/// status name, or `other` (never what the client sent).
pub fn log_rejection(rejection: &Rejection, report_only: bool) {
    match rejection.sdk_status() {
        None => tracing::warn!(
            target: "approov",
            kind = rejection.kind().as_str(),
            report_only,
            "Approov token rejected: {rejection}"
        ),
        Some(status) => tracing::warn!(
            target: "approov",
            kind = rejection.kind().as_str(),
            sdk_status = status.as_str(),
            report_only,
            "Approov token rejected: {rejection}"
        ),
    }
}

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

    /// What the body-refusal counter calls it.
    pub(crate) const fn refusal(self) -> metrics::Refusal {
        match self {
            Self::TooLarge { .. } => metrics::Refusal::TooLarge,
            Self::Unreadable => metrics::Refusal::Unreadable,
            Self::TimedOut { .. } => metrics::Refusal::TimedOut,
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
