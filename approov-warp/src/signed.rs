//! The warp filters that take the body: the head of the request checked
//! first, then the body read under the core's limit and deadline, checked
//! against its `Content-Digest` when there is one, and handed on to the
//! handler (in warp a body can be taken only once).

use std::future::ready;

use approov_core::{ApproovClaims, ApproovOutcome, Gate, HeadDecision};
use bytes::{Buf, Bytes};
use futures_util::Stream;
use warp::Filter;
use warp::http::{HeaderMap, Method};

use crate::ApproovFilter;
use crate::body::read;
use crate::filters::forward_or_reject;
use crate::message::{Target, target};
use crate::rejection::Responder;
use approov_core::http::HttpHeaders;

impl ApproovFilter {
    /// Like [`outcome`](Self::outcome), for routes that receive a body:
    /// checks the token, the message signatures and `Content-Digest`, and
    /// extracts the [`ApproovOutcome`] with the body's exact bytes, for the
    /// handler.
    ///
    /// The token and the signatures are checked first, from the request's
    /// head: a refused request is answered (401) without a byte of its body
    /// being read, however long a body it announces. Then the body is read,
    /// up to [`Gate::max_body_len`] bytes (the
    /// [`MessageSigning`](approov_core::signing::MessageSigning) limit,
    /// 1 MiB by default) within [`Gate::body_read_timeout`] (30 s by
    /// default), and compared with its `Content-Digest`, if any. A body
    /// over the limit (or a digested request whose `Content-Length` says
    /// so) rejects with a [`BodyRejection`](crate::BodyRejection) for
    /// `413`, one that cannot be read for `400` and one too slow for `408`,
    /// without reaching the handler, even in report-only mode.
    /// [`recover`](crate::recover) answers them.
    ///
    /// Because this filter hands the body on as [`Bytes`], it reads every
    /// body under that limit and deadline, digested or not, and without
    /// message signing configured too (it is then
    /// [`outcome`](Self::outcome) plus the body). The other approov-rs
    /// adapters stream on the bodies that need no check; here, take a body
    /// that may be larger with `filter()` and `warp::body::*`, on a route
    /// whose requests carry no `Content-Digest`.
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

/// Follows the core's adapter flow (see [`approov_core::signing`]): the
/// head step, then the body step, which is a plain read when the head step
/// forwarded without needing the body (it is handed on all the same).
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
    let headers = HttpHeaders(map);
    let head = match gate.signing() {
        None => HeadDecision::Decided(gate.check(method.as_str(), &headers)),
        Some(_) => gate.check_head(&target.parts(method.as_str(), &headers)),
    };
    let check = match head {
        HeadDecision::Decided(decision) => gate.read_body(forward_or_reject(decision, responder)?),
        HeadDecision::ReadBody(check) => check,
    };
    let bytes = read(body, &check).await;
    let outcome = forward_or_reject(check.finish(bytes.as_deref().map_err(|p| *p)), responder)?;
    // Forwarded, so the read succeeded.
    Ok((outcome, bytes.unwrap_or_default()))
}
