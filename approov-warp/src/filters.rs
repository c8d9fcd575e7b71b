//! The warp filters that leave the body alone: one gate check per request,
//! translated into warp's extract-or-reject vocabulary.

use std::future::ready;

use approov_core::signing::MessageParts;
use approov_core::{ApproovClaims, ApproovOutcome, Decision, Gate};
use warp::Filter;
use warp::http::{HeaderMap, Method};
use warp::path::FullPath;
use warp::reply::{Reply, Response};

use crate::message::{Target, target};
use crate::rejection::{NoClaims, Responder};
use crate::{ApproovFilter, BodyRejection};
use approov_core::http::HttpHeaders;

impl ApproovFilter {
    /// Checks the request's Approov token and extracts the
    /// [`ApproovOutcome`].
    ///
    /// Enforcing mode: a refused token rejects with an [`NoClaims`]
    /// (answer it with [`recover`](crate::recover)); the outcome is then
    /// `Verified` or, for a CORS preflight, `SkippedPreflight`. Report-only
    /// mode: never rejects, and a refused token shows as `Rejected`.
    ///
    /// With [`message_signing`](Self::message_signing) configured, the
    /// request's message signatures are checked too, but not its body,
    /// which this filter leaves to the handler: a request with a
    /// `Content-Digest` header is refused (`digest_invalid`). Take the
    /// body with [`signed`](Self::signed) on routes that receive one.
    pub fn outcome(
        &self,
    ) -> impl Filter<Extract = (ApproovOutcome,), Error = warp::Rejection> + Clone + use<> {
        gate_filter(self.gate.clone(), self.responder.clone())
    }

    /// Extracts the verified [`ApproovClaims`], rejecting with an
    /// [`NoClaims`] otherwise, **even in report-only mode** (a
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
    /// [`outcome`](Self::outcome), with the outcome dropped.
    pub fn protect(&self) -> impl Filter<Extract = (), Error = warp::Rejection> + Clone + use<> {
        self.outcome().map(|_| ()).untuple_one()
    }

    /// Protects a whole application: every route of `routes`, in whatever
    /// order they were combined, except the
    /// [open paths](Self::open_paths), with our rejections answered
    /// ([`recover`](crate::recover) is included). The token is checked
    /// before any route's own filters run, so an unknown path without a
    /// token is answered 401, not 404. Only what is inside `routes` is
    /// protected: a route `or`-ed on after the result is not.
    ///
    /// ```
    /// use approov_warp::{ApproovFilter, Verifier};
    /// use warp::Filter;
    ///
    /// let verifier = Verifier::builder().secret_base64("YXBwcm9vdi1ycyBleGFtcGxlIHNlY3JldDogMzIgYnl0ZXMgb3IgbW9yZSwgYXMgUkZDIDc1MTggYXNrcw==").build()?;
    /// let approov = ApproovFilter::new(verifier).open_paths(["/health"])?;
    /// let hello = warp::path::end().map(|| "Hello, World!");
    /// let health = warp::path!("health").map(|| "ok");
    /// let app = approov.protect_all(hello.or(health)); // serve `app`
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// It is `approov.protect().and(routes).recover(approov_warp::recover)`,
    /// with the reply made a [`Response`]. A route's own filter inside
    /// (`bound.claims()`, `signed()`) checks the token again: warp gives
    /// filters no way to hand the outer check's claims to an inner one.
    pub fn protect_all<F, R>(
        &self,
        routes: F,
    ) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone + use<F, R>
    where
        F: Filter<Extract = (R,), Error = warp::Rejection> + Clone + Send + Sync + 'static,
        R: Reply,
    {
        self.protect()
            .and(routes)
            .map(Reply::into_response)
            .recover(crate::recover)
            .unify()
    }
}

/// Passes when `on`, rejects with warp's `not_found` otherwise: `or`
/// forgets a `not_found` when the other branch answers, so this chooses a
/// branch of an `or`.
pub(crate) fn when(on: bool) -> impl Filter<Extract = (), Error = warp::Rejection> + Clone {
    warp::any()
        .and_then(move || {
            ready(if on {
                Ok(())
            } else {
                Err(warp::reject::not_found())
            })
        })
        .untuple_one()
}

/// The one place a request meets the gate. `headers_cloned` is the only way
/// warp's public API shows all of a request's headers (repeated ones
/// included, which the core must see to refuse them); see the README for
/// what that clone costs.
///
/// Exactly one of the two branches checks the request, chosen when the
/// filter is built: [`Gate::check_request`] when message signing is off,
/// [`Gate::check_message`] without a body when it is on. The plain branch
/// comes first and the signing one is boxed, so that without message
/// signing a request costs what it did before this choice existed, but for
/// a test of a flag and the `or` (measured with cachegrind through
/// `warp::service`: +0.7% of the instructions of an accepted request,
/// +7% of the much cheaper refused one). With message signing, the plain
/// branch's header clone is wasted, which is nothing next to an ECDSA
/// verification.
fn gate_filter(
    gate: Gate,
    responder: Option<Responder>,
) -> impl Filter<Extract = (ApproovOutcome,), Error = warp::Rejection> + Clone {
    let signing = gate.signing().is_some();
    let plain = {
        let (gate, responder) = (gate.clone(), responder.clone());
        warp::method()
            .and(warp::path::full())
            .and(warp::header::headers_cloned())
            .and_then(move |method: Method, path: FullPath, headers: HeaderMap| {
                ready(if signing {
                    Err(warp::reject::not_found())
                } else {
                    let headers = HttpHeaders(&headers);
                    let parts = MessageParts::new(method.as_str(), path.as_str(), &headers);
                    forward_or_reject(gate.check_request(&parts), responder.as_ref())
                })
            })
    };
    let signed = when(signing).and(
        warp::method()
            .and(warp::header::headers_cloned())
            .and(target())
            .and_then(move |method: Method, map: HeaderMap, target: Target| {
                let headers = HttpHeaders(&map);
                let parts = target.parts(method.as_str(), &headers);
                ready(forward_or_reject(
                    gate.check_message(&parts, None),
                    responder.as_ref(),
                ))
            })
            .boxed(),
    );
    plain.or(signed).unify()
}

/// The decision in warp's terms, for every filter: the outcome, or one of
/// our named rejections ([`NoClaims`], [`BodyRejection`]).
pub(crate) fn forward_or_reject(
    decision: Decision,
    responder: Option<&Responder>,
) -> Result<ApproovOutcome, warp::Rejection> {
    match decision {
        Decision::Forward(outcome) => Ok(outcome),
        Decision::Reject(rejection) => Err(warp::reject::custom(NoClaims::new(
            rejection,
            responder.cloned(),
        ))),
        Decision::RefuseBody(problem) => Err(warp::reject::custom(BodyRejection::from(problem))),
    }
}
