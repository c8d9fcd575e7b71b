//! Bodies that stop moving. A client that sends its headers and then
//! trickles nothing, or an upstream that sends its head and then nothing,
//! would hold a connection on each side for as long as they like; each
//! body gets a bound on the pause between two of its pieces (tower-http's
//! `TimeoutBody`, like nginx's `client_body_timeout` and
//! `proxy_read_timeout`), and the stall is logged once.

use std::error::Error;
use std::sync::Arc;
use std::time::Duration;

use axum::BoxError;
use axum::body::{Body, Bytes};
use http_body_util::BodyExt as _;
use tower_http::timeout::{TimeoutBody, TimeoutError};

use crate::telemetry::log::TARGET;

/// The client's request body, ending in an error if it pauses longer than
/// `limit`. The upstream request then fails and [`is_stall`] recognises
/// why.
pub(crate) fn client_body(body: Body, limit: Duration, route: Arc<str>) -> Body {
    timed(body, limit, route, "the client's request body stalled")
}

/// The upstream's response body, ending in an error if it pauses longer
/// than `limit`: the server then cuts the client's response short (the
/// status is already sent), which the client sees as a broken body.
pub(crate) fn upstream_body(body: hyper::body::Incoming, limit: Duration, route: Arc<str>) -> Body {
    timed(body, limit, route, "the upstream's response body stalled")
}

/// `body` with at most `limit` between two pieces; a stall is logged once,
/// as `what`.
fn timed<B>(body: B, limit: Duration, route: Arc<str>, what: &'static str) -> Body
where
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    // Nothing to wait for; and `TimeoutBody` would hide that the body is
    // empty, so hyper would send a bodiless DELETE or POST as chunked.
    if body.is_end_stream() {
        return Body::new(body);
    }
    Body::new(TimeoutBody::new(limit, body).map_err(move |error| {
        if error.is::<TimeoutError>() {
            tracing::warn!(
                target: TARGET,
                route = &*route,
                timeout_seconds = limit.as_secs(),
                "{what}"
            );
        }
        error
    }))
}

/// Whether a failed upstream request failed because a body stalled.
pub(crate) fn is_stall(error: &(dyn Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(error) = cause {
        if error.is::<TimeoutError>() {
            return true;
        }
        cause = error.source();
    }
    false
}
