//! The forward-auth endpoint (`AUTH_ENDPOINT`): a gateway (nginx
//! `auth_request`, Traefik `ForwardAuth`, Envoy `ext_authz`) asks it about
//! each request it received, passing the request's headers and, in headers
//! of its own or in the path, the original method and target. The answer
//! is `200` (with every chosen claim in an `Approov-Claim-*` header, empty
//! when there is nothing to show, for the gateway to copy upstream over
//! whatever the client sent), `401 {}`, or `429`/`503` with `Retry-After`
//! (`503 {}` too when no key is there to judge the token,
//! `keys_unavailable`; sent to nginx as `403` with `Approov-Status`, see
//! [`for_nginx`]).
//!
//! The original method and target are trusted as the gateway says them:
//! the endpoint must be reachable by the gateway only.

use std::sync::Arc;

use approov_core::signing::MessageParts;
use approov_core::{ApproovOutcome, Decision, Gate, Verifier};
use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use axum::routing::any;
use http::{HeaderMap, HeaderName, HeaderValue, Method};

use crate::claims::claim_headers;
use crate::config::forward_auth::{AuthConfig, Gateway};
use crate::limit::local::DeviceLimiter;
use crate::limit::shared::SharedLimit;
use crate::limit::{DeviceKey, check_limit};
use crate::telemetry::log::{DeviceHash, RequestInfo, TARGET};
use approov_core::http::{HttpHeaders, rejection_response, unauthorized};

/// The route name of the endpoint in logs and metrics.
const ROUTE: &str = "auth";

/// The longest original target accepted, like a common server's request
/// line limit; longer is refused.
const MAX_TARGET_LEN: usize = 8 * 1024;

/// The forward-auth configuration and its rate limiter, made once.
#[derive(Clone)]
pub(crate) struct AuthEndpoint {
    config: AuthConfig,
    limiter: Option<Arc<DeviceLimiter>>,
}

/// What every check shares.
struct Shared {
    config: AuthConfig,
    limiter: Option<Arc<DeviceLimiter>>,
    /// The Redis-shared budget (`REDIS_URL`), when configured.
    shared_limit: Option<Arc<SharedLimit>>,
    gate: Gate,
    route: Arc<str>,
}

impl AuthEndpoint {
    pub(crate) fn new(config: AuthConfig) -> Self {
        Self {
            limiter: config
                .rate_limit
                .map(|n| Arc::new(DeviceLimiter::per_minute(n))),
            config,
        }
    }

    /// Whether a request for `path` is a check for this endpoint: the
    /// endpoint itself, and for Envoy any path under it (the original
    /// path follows the endpoint).
    pub(crate) fn serves(&self, path: &str) -> bool {
        let endpoint = self.config.endpoint.as_str();
        match path.strip_prefix(endpoint) {
            Some("") => true,
            Some(rest) => self.config.gateway == Gateway::Envoy && rest.starts_with('/'),
            None => false,
        }
    }

    /// `AUTH_LISTEN_ADDR`, when the endpoint has a listener of its own.
    pub(crate) fn listen_addr(&self) -> Option<std::net::SocketAddr> {
        self.config.listen_addr
    }

    /// Logs the endpoint's settings at start-up.
    pub(crate) fn log(&self) {
        let c = &self.config;
        let claims: Vec<&str> = c.claims.iter().map(|(name, _)| name.as_str()).collect();
        tracing::info!(
            target: TARGET,
            endpoint = %c.endpoint,
            gateway = ?c.gateway,
            response_claims = %claims.join(","),
            message_signing = ?c.signing.as_ref().map(|s| s.policy()),
            rate_limit_per_device_per_minute = c.rate_limit.map(|n| n.get()),
            auth_listen_addr = c.listen_addr.map(tracing::field::display),
            "forward-auth endpoint"
        );
    }

    /// The endpoint's routes (the exact path; for Envoy, everything under
    /// it), checked with `verifier` like the proxied routes.
    pub(crate) fn router(
        &self,
        verifier: Verifier,
        report_only: bool,
        shared_limit: Option<Arc<SharedLimit>>,
    ) -> Router {
        let mut gate = Gate::new(verifier)
            .report_only(report_only)
            .skip_cors_preflight(false);
        if let Some(signing) = &self.config.signing {
            gate = gate.message_signing(signing.clone());
        }
        let endpoint = self.config.endpoint.clone();
        let shared = Arc::new(Shared {
            config: self.config.clone(),
            limiter: self.limiter.clone(),
            shared_limit,
            gate,
            route: Arc::from(ROUTE),
        });
        let mut router = Router::new().route(&endpoint, any(check));
        if shared.config.gateway == Gateway::Envoy {
            router = router
                .route(&format!("{endpoint}/"), any(check))
                .route(&format!("{endpoint}/{{*original}}"), any(check));
        }
        router.with_state(shared)
    }
}

/// Why the original request could not be read from the gateway's request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unreadable {
    Method,
    Target,
}

impl Unreadable {
    fn reason(self) -> &'static str {
        match self {
            Self::Method => "auth_bad_original_method",
            Self::Target => "auth_bad_original_uri",
        }
    }
}

/// The original request, as the gateway describes it.
struct Original<'a> {
    method: &'a str,
    target: &'a str,
    scheme: Option<&'a str>,
    authority: Option<&'a str>,
}

async fn check(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let response = answer(&shared, request).await;
    match shared.config.gateway {
        Gateway::Nginx => for_nginx(response),
        Gateway::Traefik | Gateway::Envoy => response,
    }
}

/// The header that carries the real status of an answer sent to nginx as
/// `403` (see [`for_nginx`]).
const STATUS_HEADER: HeaderName = HeaderName::from_static("approov-status");

/// nginx's `auth_request` accepts only `2xx`, `401` and `403` from the
/// endpoint; any other status becomes a `500` and a line "auth request
/// unexpected status" in nginx's error log. So for nginx a `429` or `503`
/// goes out as `403`, with its real status in `Approov-Status` and its
/// `Retry-After`, which the README's `error_page 403` location turns back
/// into the real answer.
fn for_nginx(mut response: Response) -> Response {
    let status = response.status();
    if status.is_success() || status == http::StatusCode::UNAUTHORIZED {
        return response;
    }
    *response.status_mut() = http::StatusCode::FORBIDDEN;
    response
        .headers_mut()
        .insert(STATUS_HEADER, HeaderValue::from(status.as_u16()));
    response
}

async fn answer(shared: &Shared, request: Request) -> Response {
    let headers = request.headers();
    let original = match original(&shared.config, request.method(), request.uri(), headers) {
        Ok(original) => original,
        Err(unreadable) => {
            // A gateway that passes no usable target is misconfigured, or
            // the request is not from the gateway: deny, in the one answer
            // every gateway understands as "deny".
            let response = unauthorized().map(Body::from);
            return noted(response, shared, None, None, Some(unreadable.reason()));
        }
    };
    let view = HttpHeaders(headers);
    let parts = MessageParts::new(original.method, original.target, &view)
        .with_scheme(original.scheme)
        .with_authority(original.authority);
    // The body never comes to a forward-auth endpoint: a signature whose
    // `Content-Digest` must be compared with it is refused (digest_invalid).
    match shared.gate.check_message(&parts, None) {
        Decision::Forward(outcome) => allowed(shared, outcome).await,
        // 401, or 503 with `Retry-After` when no key could judge the token.
        Decision::Reject(rejection) => {
            let response = rejection_response(&rejection).map(Body::from);
            noted(response, shared, None, Some("rejected"), None)
        }
        Decision::RefuseBody(_) => {
            let response = unauthorized().map(Body::from);
            noted(response, shared, None, Some("rejected"), None)
        }
    }
}

/// `200` with the chosen claims, or `429` when the device is over its
/// budget.
async fn allowed(shared: &Shared, outcome: ApproovOutcome) -> Response {
    let (approov, claims) = match &outcome {
        ApproovOutcome::Verified(claims) => ("verified", Some(claims)),
        ApproovOutcome::Rejected(_) => ("report_only_rejected", None),
        _ => ("-", None),
    };
    let device = claims.and_then(|c| c.did()).map(DeviceHash::of);
    if let Some(response) = over_limit(shared, device).await {
        return noted(response, shared, device, Some(approov), None);
    }
    let mut response = Response::new(Body::empty());
    claim_headers(&shared.config.claims, claims, response.headers_mut());
    noted(response, shared, device, Some(approov), None)
}

/// The per-device rate limit, shared through Redis when configured: the
/// only call to the limiter here.
async fn over_limit(shared: &Shared, device: DeviceKey) -> Option<Response> {
    let (Some(local), Some(n)) = (&shared.limiter, shared.config.rate_limit) else {
        return None;
    };
    check_limit(ROUTE, n, local, shared.shared_limit.as_deref(), device).await
}

fn noted(
    mut response: Response,
    shared: &Shared,
    device: Option<DeviceHash>,
    approov: Option<&'static str>,
    refused: Option<&'static str>,
) -> Response {
    response.extensions_mut().insert(RequestInfo {
        route: Some(shared.route.clone()),
        device,
        approov,
        refused,
    });
    response
}

/// Reads the original request from the gateway's conventions.
fn original<'a>(
    config: &AuthConfig,
    method: &'a Method,
    uri: &'a http::Uri,
    headers: &'a HeaderMap,
) -> Result<Original<'a>, Unreadable> {
    let (method, target) = match config.gateway {
        Gateway::Envoy => {
            let full = uri.path_and_query().map_or("/", |pq| pq.as_str());
            let target = full
                .strip_prefix(config.endpoint.as_str())
                .filter(|rest| rest.starts_with('/'))
                .ok_or(Unreadable::Target)?;
            (method.as_str(), target)
        }
        Gateway::Nginx | Gateway::Traefik => {
            let method = single(headers, &config.method_header)
                .filter(|m| m.len() <= 32 && Method::from_bytes(m.as_bytes()).is_ok())
                .ok_or(Unreadable::Method)?;
            let target = single(headers, &config.uri_header).ok_or(Unreadable::Target)?;
            (method, target)
        }
    };
    let target = usable_target(target).ok_or(Unreadable::Target)?;
    Ok(Original {
        method,
        target,
        scheme: single(headers, &HeaderName::from_static("x-forwarded-proto"))
            .filter(|s| s.eq_ignore_ascii_case("http") || s.eq_ignore_ascii_case("https")),
        authority: single(headers, &config.host_header),
    })
}

/// The one value of a header, as text; `None` when absent, repeated or not
/// visible ASCII.
fn single<'a>(headers: &'a HeaderMap, name: &HeaderName) -> Option<&'a str> {
    let mut values = headers.get_all(name).iter();
    let value = values.next()?;
    if values.next().is_some() {
        return None;
    }
    value.to_str().ok().map(str::trim).filter(|v| !v.is_empty())
}

/// An origin-form target (`/path?query`), of visible ASCII with no
/// fragment, that parses as one, within the length limit.
fn usable_target(target: &str) -> Option<&str> {
    let plain = target.len() <= MAX_TARGET_LEN
        && target.starts_with('/')
        && target.bytes().all(|b| b.is_ascii_graphic() && b != b'#');
    (plain && target.parse::<http::uri::PathAndQuery>().is_ok()).then_some(target)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn targets_must_be_origin_form() {
        for good in ["/", "/a/b?c=d&e", "/%2e%2e/x", "/a?b=/c", "//a"] {
            assert_eq!(usable_target(good), Some(good));
        }
        let long = format!("/{}", "a".repeat(MAX_TARGET_LEN));
        for bad in [
            "",
            "a/b",
            "*",
            "http://h/x",
            "/a b",
            "/a#f",
            "/a\u{7f}",
            "/é",
            long.as_str(),
        ] {
            assert_eq!(usable_target(bad), None, "{bad:?}");
        }
    }
}
