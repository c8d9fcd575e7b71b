//! The warp filters that take the body: HTTP message signatures and
//! `Content-Digest` checked against the buffered body, which is then handed
//! on to the handler (in warp a body can be taken only once).

use std::future::ready;

use approov_core::{ApproovClaims, ApproovOutcome, Gate};
use bytes::{Buf, Bytes};
use futures_util::Stream;
use warp::Filter;
use warp::http::{HeaderMap, Method};

use crate::Approov;
use crate::body::read_limited;
use crate::filters::forward_or_reject;
use crate::headers::Headers;
use crate::message::{Target, target};
use crate::rejection::Responder;

impl Approov {
    /// Like [`filter`](Self::filter), for routes that receive a body: takes
    /// the body, checks the token, the message signatures and
    /// `Content-Digest` against it, and extracts the [`ApproovOutcome`] with
    /// the body's exact bytes, for the handler.
    ///
    /// The body is read up to [`Gate::max_body_len`] bytes (the
    /// [`MessageSigning`](approov_core::signing::MessageSigning) limit,
    /// 1 MiB by default); a longer body, or a `Content-Length` above the
    /// limit, rejects with [`BodyRejection::TooLarge`](crate::BodyRejection)
    /// (413) without reaching the handler, even in report-only mode. A body
    /// that cannot be read rejects with
    /// [`BodyRejection::Unreadable`](crate::BodyRejection) (400).
    /// [`recover`](crate::recover) answers both.
    ///
    /// When the request has a `Content-Digest`, the body is read before the
    /// token is checked (the check needs it); otherwise the token and the
    /// signatures are checked first and a refused request's body is never
    /// read. Without message signing configured this is
    /// [`filter`](Self::filter) plus the body, under the same limit.
    ///
    /// Put the method filter **before** it: warp gives the body to the
    /// first filter that takes it, so a route that takes it and then fails
    /// on the method leaves none for the routes after it.
    pub fn signed(
        &self,
    ) -> impl Filter<Extract = (ApproovOutcome, Bytes), Error = warp::Rejection> + Clone + use<>
    {
        signed_filter(self.gate.clone(), self.responder.clone())
    }

    /// Like [`claims`](Self::claims), for routes that receive a body: the
    /// verified [`ApproovClaims`] and the body's exact bytes, checked as
    /// [`signed`](Self::signed) does. Requires a verified token even in
    /// report-only mode; a CORS preflight that is let through rejects with
    /// warp's `not_found`.
    pub fn signed_claims(
        &self,
    ) -> impl Filter<Extract = (ApproovClaims, Bytes), Error = warp::Rejection> + Clone + use<>
    {
        let enforcing = self.gate.clone().report_only(false);
        signed_filter(enforcing, self.responder.clone())
            .and_then(|outcome, body| {
                ready(match outcome {
                    ApproovOutcome::Verified(claims) => Ok((claims, body)),
                    // The gate is enforcing, so only a skipped preflight is left.
                    _ => Err(warp::reject::not_found()),
                })
            })
            .untuple_one()
    }
}

fn signed_filter(
    gate: Gate,
    responder: Option<Responder>,
) -> impl Filter<Extract = (ApproovOutcome, Bytes), Error = warp::Rejection> + Clone {
    warp::method()
        .and(warp::header::headers_cloned())
        .and(target())
        .and(warp::body::stream())
        .and_then(
            move |method: Method, map: HeaderMap, target: Target, body| {
                let gate = gate.clone();
                let responder = responder.clone();
                async move {
                    check_and_read(&gate, responder.as_ref(), &method, &map, &target, body).await
                }
            },
        )
        .untuple_one()
}

/// Follows the core's adapter flow (see [`approov_core::signing`]).
async fn check_and_read<S, B>(
    gate: &Gate,
    responder: Option<&Responder>,
    method: &Method,
    map: &HeaderMap,
    target: &Target,
    body: S,
) -> Result<(ApproovOutcome, Bytes), warp::Rejection>
where
    S: Stream<Item = Result<B, warp::Error>> + Send,
    B: Buf + Send,
{
    let headers = Headers(map);
    let decide = |body: Option<&[u8]>| {
        let decision = match gate.signing() {
            None => gate.check(method.as_str(), &headers),
            Some(_) => gate.check_message(&target.parts(method.as_str(), &headers), body),
        };
        forward_or_reject(decision, responder)
    };
    let limit = gate.max_body_len();
    if gate.needs_body(&headers) {
        let bytes = read_limited(body, map, limit).await?;
        Ok((decide(Some(&bytes))?, bytes))
    } else {
        let outcome = decide(None)?;
        Ok((outcome, read_limited(body, map, limit).await?))
    }
}
