//! Forwarding one request that passed the Approov check and its route's
//! rate limit: build the upstream request (key and claim headers in;
//! token, hop-by-hop, method-override, client credential and client
//! `Approov-Claim-*` headers out), send it with a deadline on the response
//! head, stream the answer back; both bodies may pause only so long
//! (`stall`). The rules live beside it: [`hop`] and
//! [`credentials`] (the headers never forwarded, and those a route lets
//! through), [`key`] and [`query`] (where the key goes), [`path`] (the
//! paths forwarded, and how upstreams read them), [`reply`] (the proxy's
//! own answers) and [`client`] (the pooled upstream client).

pub(crate) mod client;
pub(crate) mod credentials;
pub(crate) mod hop;
pub(crate) mod key;
pub(crate) mod path;
pub(crate) mod query;
pub(crate) mod reply;
pub(crate) mod stall;
mod upstream;

use std::error::Error;
use std::sync::Arc;
use std::time::Duration;

use approov_core::ApproovClaims;
use axum::extract::Request;
use axum::response::Response;
use http::Version;
use http::header::{self, HeaderName};

pub use credentials::ForwardedClientHeaders;
pub use key::{ApiKey, KeyPlacement};
pub use upstream::Upstream;

use crate::claims::{self, ClaimHeaders};
use crate::telemetry::log::TARGET;
use crate::telemetry::metrics;
use client::UpstreamClient;
use hop::METHOD_OVERRIDE_HEADERS;
use path::PathProblem;

/// How one route forwards: to which upstream, with which key, and within
/// which timeouts.
#[derive(Debug, Clone)]
pub(crate) struct Forwarding {
    /// The route's name, in logs and metrics.
    pub(crate) name: Arc<str>,
    pub(crate) upstream: Upstream,
    pub(crate) key: ApiKey,
    /// The claims sent upstream as `Approov-Claim-<name>` headers.
    pub(crate) claims: ClaimHeaders,
    /// How long the upstream may take to send its response head.
    pub(crate) timeout: Duration,
    pub(crate) client_headers: ForwardedClientHeaders,
    pub(crate) client_body_timeout: Duration,
    pub(crate) upstream_body_timeout: Duration,
}

/// The rest of `path` after `prefix` (empty or starting with `/`), or
/// `None` when the path is not under it; prefixes match whole segments.
pub(crate) fn strip_prefix<'a>(prefix: &str, path: &'a str) -> Option<&'a str> {
    if prefix == "/" {
        return Some(path);
    }
    let rest = path.strip_prefix(prefix)?;
    (rest.is_empty() || rest.starts_with('/')).then_some(rest)
}

/// What every forward needs besides the route.
pub(crate) struct Upstreams<'a> {
    pub(crate) client: &'a UpstreamClient,
    /// The configured token header; the default one is removed as well.
    pub(crate) token_header: &'a HeaderName,
}

/// Sends `request`, under the route `prefix`, to `route`'s upstream and
/// returns its answer, or the proxy's own when the upstream fails.
pub(crate) async fn forward(
    route: &Forwarding,
    prefix: &str,
    up: Upstreams<'_>,
    claims: Option<&ApproovClaims>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let Some(rest) = strip_prefix(prefix, parts.uri.path()) else {
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
            || hop::same_to_cgi(name.as_str(), up.token_header.as_str())
            || hop::same_to_cgi(name.as_str(), approov_core::DEFAULT_TOKEN_HEADER)
            || METHOD_OVERRIDE_HEADERS.contains(&name.as_str())
            || route.client_headers.holds_back(name)
            // Only the proxy says what the token claims, with or without
            // `UPSTREAM_CLAIMS`: a backend may read them from a gateway.
            || claims::is_claim_header(name)
            // Replaced below; its other spellings are removed with it.
            || route.key.is_header(name)
    });
    claims::claim_headers(&route.claims, claims, &mut headers);
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

    let sent = metrics::on().then(std::time::Instant::now);
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
                metrics::upstream(&route.name, sent.elapsed());
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
