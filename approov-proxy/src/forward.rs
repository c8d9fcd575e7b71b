//! Forwarding one request that passed the Approov check: rate limit, build
//! the upstream request (key in; token, hop-by-hop, method-override and
//! client credential headers out), send it with a deadline on the response
//! head, stream the answer back; both bodies may pause only so long
//! (`stall`).

use std::error::Error;

use approov_core::ApproovOutcome;
use axum::extract::Request;
use axum::response::Response;
use http::Version;
use http::header::{self, HeaderName};

use super::client::UpstreamClient;
use super::limit::DeviceLimiter;
use super::log::{DeviceHash, RequestInfo, TARGET};
use super::methods::METHOD_OVERRIDE_HEADERS;
use super::path::PathProblem;
use super::{Route, hop, reply, stall};

/// A route and its rate limiter.
pub(crate) struct RouteState {
    pub(crate) route: Route,
    pub(crate) limiter: Option<DeviceLimiter>,
    /// The limit shared through Redis (`REDIS_URL`), for limited routes.
    pub(crate) shared: Option<std::sync::Arc<crate::shared_limit::SharedLimit>>,
}

/// What every forward needs besides the route.
pub(crate) struct Upstreams<'a> {
    pub(crate) client: &'a UpstreamClient,
    /// The configured token header; the default one is removed as well.
    pub(crate) token_header: &'a HeaderName,
}

/// Forwards `request` on `state`'s route, which the gate let through with
/// `outcome`, and notes what happened for the log line.
pub(crate) async fn forward(
    state: &RouteState,
    up: Upstreams<'_>,
    outcome: ApproovOutcome,
    request: Request,
) -> Response {
    let (approov, device) = match &outcome {
        ApproovOutcome::Verified(claims) => ("verified", claims.did().map(DeviceHash::of)),
        ApproovOutcome::Rejected(_) => ("report_only_rejected", None),
        ApproovOutcome::SkippedPreflight => ("preflight", None),
        _ => ("-", None),
    };
    let mut response = send(state, up, device, request).await;
    response.extensions_mut().insert(RequestInfo {
        route: Some(state.route.name.clone()),
        device,
        approov: Some(approov),
        refused: None,
    });
    response
}

async fn send(
    state: &RouteState,
    up: Upstreams<'_>,
    device: Option<DeviceHash>,
    request: Request,
) -> Response {
    let route = &state.route;
    if let Some(refusal) = crate::shared_limit::check(state, device).await {
        return refusal;
    }
    let (parts, body) = request.into_parts();
    let Some(rest) = route.strip(parts.uri.path()) else {
        return reply::not_found();
    };
    let query = route.key.query(parts.uri.query());
    let Ok(uri) = route.upstream.uri(rest, query.as_deref()) else {
        // Unreachable for a path that passed `path::check`; refused all the same.
        return reply::bad_path(PathProblem::BadEscape);
    };
    let mut headers = parts.headers;
    hop::remove_where(&mut headers, |name| {
        // `Host` comes from the upstream URL; the client already got its
        // `100 Continue` from this proxy.
        name == header::HOST
            || name == header::EXPECT
            || name == up.token_header
            || name
                .as_str()
                .eq_ignore_ascii_case(approov_core::DEFAULT_TOKEN_HEADER)
            || METHOD_OVERRIDE_HEADERS.contains(&name.as_str())
            || route.client_headers.holds_back(name)
    });
    // Made once per route; hyper's client would format it per request.
    headers.insert(header::HOST, route.upstream.host().clone());
    // Last, so the key header is ours even when the client sent one and
    // the route lets that header through.
    route.key.put_header(&mut headers);

    let body = stall::client_body(body, route.client_body_timeout, route.name.clone());
    let mut upstream = Request::new(body);
    *upstream.method_mut() = parts.method;
    *upstream.uri_mut() = uri;
    *upstream.version_mut() = Version::HTTP_11;
    *upstream.headers_mut() = headers;

    let sent = crate::metrics::on().then(std::time::Instant::now);
    match tokio::time::timeout(route.timeout, up.client.request(upstream)).await {
        Err(_elapsed) => {
            tracing::warn!(
                target: TARGET,
                route = &*route.name,
                timeout_seconds = route.timeout.as_secs(),
                "the upstream sent no response head in time"
            );
            reply::gateway_timeout()
        }
        // Logged once, by the body, when it stalled.
        Ok(Err(error)) if stall::is_stall(&error) => reply::request_timeout(),
        Ok(Err(error)) => {
            tracing::warn!(
                target: TARGET,
                route = &*route.name,
                error = route.key.scrub(&error_chain(&error)),
                "the upstream request failed"
            );
            reply::bad_gateway()
        }
        Ok(Ok(response)) => {
            if let Some(sent) = sent {
                crate::metrics::upstream(&route.name, sent.elapsed());
            }
            let (mut parts, body) = response.into_parts();
            hop::remove_hop_by_hop(&mut parts.headers);
            // A redirect that repeats the query, or a debugging header,
            // would otherwise hand the key to the client.
            route.key.redact_headers(&mut parts.headers);
            let body = stall::upstream_body(body, route.upstream_body_timeout, route.name.clone());
            Response::from_parts(parts, body)
        }
    }
}

/// The error and its sources, `: `-separated, for the operator's log.
fn error_chain(error: &dyn Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
