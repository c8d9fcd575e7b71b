//! The warp filters: one gate check per request, translated into warp's
//! extract-or-reject vocabulary.

use std::future::{Ready, ready};

use approov_core::{ApproovClaims, ApproovOutcome, Decision, Gate};
use warp::Filter;
use warp::http::{HeaderMap, Method};

use crate::Approov;
use crate::headers::Headers;
use crate::rejection::{ApproovRejection, Responder};

impl Approov {
    /// Checks the request's Approov token and extracts the
    /// [`ApproovOutcome`].
    ///
    /// Enforcing mode: a refused token rejects with an [`ApproovRejection`]
    /// (answer it with [`recover`](crate::recover)); the outcome is then
    /// `Verified` or, for a CORS preflight, `SkippedPreflight`. Report-only
    /// mode: never rejects, and a refused token shows as `Rejected`.
    pub fn filter(
        &self,
    ) -> impl Filter<Extract = (ApproovOutcome,), Error = warp::Rejection> + Clone + use<> {
        gate_filter(self.gate.clone(), self.responder.clone())
    }

    /// Extracts the verified [`ApproovClaims`], rejecting with an
    /// [`ApproovRejection`] otherwise, **even in report-only mode** (a
    /// handler that asks for claims cannot run without them; such
    /// rejections are logged as enforced).
    ///
    /// A CORS preflight that is let through carries no token and so has no
    /// claims: it is rejected with warp's `not_found`, so that another
    /// route (or `warp::cors()`) can answer it.
    pub fn claims(
        &self,
    ) -> impl Filter<Extract = (ApproovClaims,), Error = warp::Rejection> + Clone + use<> {
        let enforcing = self.gate.clone().report_only(false);
        gate_filter(enforcing, self.responder.clone()).and_then(|outcome| {
            ready(match outcome {
                ApproovOutcome::Verified(claims) => Ok(claims),
                // The gate is enforcing, so only a skipped preflight is left.
                _ => Err(warp::reject::not_found()),
            })
        })
    }

    /// Protects everything chained after it, extracting nothing:
    /// `approov.protect().and(routes)`. The same checks as
    /// [`filter`](Self::filter), with the outcome dropped.
    pub fn protect(&self) -> impl Filter<Extract = (), Error = warp::Rejection> + Clone + use<> {
        self.filter().map(|_| ()).untuple_one()
    }
}

/// The one place a request meets the gate. `headers_cloned` is the only way
/// warp's public API shows all of a request's headers (repeated ones
/// included, which the core must see to refuse them); see the README for
/// what that clone costs.
fn gate_filter(
    gate: Gate,
    responder: Option<Responder>,
) -> impl Filter<Extract = (ApproovOutcome,), Error = warp::Rejection> + Clone {
    warp::method().and(warp::header::headers_cloned()).and_then(
        move |method: Method, headers: HeaderMap| {
            decide(&gate, responder.as_ref(), &method, &headers)
        },
    )
}

fn decide(
    gate: &Gate,
    responder: Option<&Responder>,
    method: &Method,
    headers: &HeaderMap,
) -> Ready<Result<ApproovOutcome, warp::Rejection>> {
    ready(match gate.check(method.as_str(), &Headers(headers)) {
        Decision::Forward(outcome) => Ok(outcome),
        Decision::Reject(rejection) => Err(warp::reject::custom(ApproovRejection::new(
            rejection,
            responder.cloned(),
        ))),
    })
}
