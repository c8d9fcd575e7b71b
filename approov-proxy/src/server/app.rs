//! The service: `/health`, the forward-auth endpoint when configured,
//! then every other request matched to a route by prefix (the same route
//! as sent and as upstreams read the path, else `400`), its token checked
//! by the core's [`Gate`], and forwarded. One line is logged per request.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use approov_core::{ApproovOutcome, Decision, Gate, Verifier};
use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use http::{HeaderName, HeaderValue, Method, StatusCode, header};
use tokio::net::TcpListener;
use tower::ServiceExt as _;

use super::listen;
use crate::config::Config;
use crate::error::{ProxyConfigError, StartError};
use crate::forward_auth::AuthEndpoint;
use crate::limit::RouteLimit;
use crate::limit::shared::SharedLimit;
use crate::proxy::client::{UpstreamClient, upstream_client};
use crate::proxy::{self, KeyPlacement, Upstreams, path, reply};
use crate::route::HEALTH_PATH;
use crate::route::table::{RouteState, route_of};
use crate::telemetry::log::{self, DeviceHash, RequestInfo, TARGET};
use approov_core::http::{HttpHeaders, rejection_response, unauthorized};

/// The proxy, ready to serve: routes, their rate limiters, the upstream
/// client. Turn it into an axum [`Router`] with [`Proxy::router`].
///
/// ```
/// use approov_proxy::{Config, Proxy};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let vars = [
///     ("APPROOV_BASE64_SECRET", "dGVzdC1zZWNyZXQtZm9yLWFwcHJvb3YtZXhhbXBsZXM="),
///     ("UPSTREAM_URL", "https://api.nasa.gov"),
///     ("API_KEY", "DEMO_KEY"),
///     ("API_KEY_QUERY_PARAM", "api_key"),
/// ];
/// let var = |name: &str| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string());
/// let config = Config::from_vars(var)?;
/// let proxy = Proxy::new(&config)?;
/// let app: axum::Router = proxy.router(config.verifier()?);
/// # drop(app);
/// # Ok(())
/// # }
/// ```
pub struct Proxy {
    routes: Arc<[RouteState]>,
    client: UpstreamClient,
    report_only: bool,
    shared_limit: Option<Arc<SharedLimit>>,
    /// The forward-auth endpoint, when `AUTH_ENDPOINT` is set.
    auth: Option<AuthEndpoint>,
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let routes: Vec<_> = self.routes.iter().map(|s| &s.route).collect();
        f.debug_struct("Proxy")
            .field("routes", &routes)
            .field("report_only", &self.report_only)
            .finish_non_exhaustive()
    }
}

/// Shared by every request.
struct Shared {
    /// Longest prefix first, so the first match is the most specific.
    routes: Arc<[RouteState]>,
    client: UpstreamClient,
    gate: Gate,
    token_header: HeaderName,
    /// The forward-auth endpoint and its router, when configured.
    auth: Option<(AuthEndpoint, Router)>,
}

impl Proxy {
    /// Builds the upstream client and the rate limiters of `config`'s
    /// routes and forward-auth endpoint.
    pub fn new(config: &Config) -> Result<Self, ProxyConfigError> {
        let config = &config.proxy;
        let shared_limit = config
            .redis
            .clone()
            .map(|redis| Arc::new(SharedLimit::new(redis)));
        let mut routes: Vec<RouteState> = config
            .routes
            .iter()
            .map(|route| RouteState {
                limit: route.rate_limit.map(|n| {
                    RouteLimit::new(route.forwarding.name.clone(), n, shared_limit.clone())
                }),
                route: route.clone(),
            })
            .collect();
        routes.sort_by_key(|s| std::cmp::Reverse(s.route.prefix.len()));
        Ok(Self {
            routes: routes.into(),
            client: upstream_client()?,
            report_only: config.report_only,
            shared_limit,
            auth: config.forward_auth.clone().map(AuthEndpoint::new),
        })
    }

    /// With `REDIS_URL`: checks in the background that Redis answers, and
    /// logs whether the rate limit is shared or falls back. The proxy
    /// serves either way. Call it inside the tokio runtime; without one, or
    /// without `REDIS_URL`, it does nothing.
    pub fn check_redis(&self) {
        let Some(shared) = &self.shared_limit else {
            return;
        };
        if !self
            .routes
            .iter()
            .any(|s| s.limit.as_ref().is_some_and(RouteLimit::is_shared))
        {
            tracing::warn!(
                target: TARGET,
                "REDIS_URL is set but no route has a rate limit: Redis is not used"
            );
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let shared = shared.clone();
            runtime.spawn(async move { shared.check().await });
        }
    }

    /// Logs one line per route (never the key), and a warning for each
    /// plain-HTTP upstream off this machine, whose key would cross the
    /// network in clear.
    pub fn log_routes(&self) {
        for state in self.routes.iter() {
            let r = &state.route;
            let f = &r.forwarding;
            let claims: Vec<&str> = r.upstream_claims().collect();
            tracing::info!(
                target: TARGET,
                route = &*f.name,
                prefix = %r.prefix,
                upstream = %f.upstream,
                key = %f.key.placement(),
                timeout_seconds = f.timeout.as_secs(),
                client_body_timeout_seconds = f.client_body_timeout.as_secs(),
                upstream_body_timeout_seconds = f.upstream_body_timeout.as_secs(),
                methods = %r.methods,
                forward_client_headers = %f.client_headers,
                upstream_claims = %claims.join(","),
                rate_limit_per_device_per_minute = r.rate_limit.map(|n| n.get()),
                "route"
            );
            let keyless = *f.key.placement() == KeyPlacement::Keyless;
            if keyless {
                tracing::info!(
                    target: TARGET,
                    route = &*f.name,
                    "no API key configured for this route: requests that pass the token \
                     check are forwarded without one"
                );
            }
            if !f.upstream.is_https() && !f.upstream.is_loopback() {
                if keyless {
                    tracing::warn!(
                        target: TARGET,
                        route = &*f.name,
                        "the upstream is plain http: requests cross the network unencrypted"
                    );
                } else {
                    tracing::warn!(
                        target: TARGET,
                        route = &*f.name,
                        "the upstream is plain http: its API key crosses the network unencrypted"
                    );
                }
            }
        }
        if let Some(auth) = &self.auth {
            auth.log();
            if !self.routes.is_empty() && !self.auth_listens_apart() {
                tracing::warn!(
                    target: TARGET,
                    "the forward-auth endpoint (AUTH_ENDPOINT) is served on the public \
                     listener beside the routes, where any client can ask it about tokens; \
                     set AUTH_LISTEN_ADDR to serve it on a private listener of its own"
                );
            }
        }
        if self.report_only {
            tracing::warn!(
                target: TARGET,
                "APPROOV_REPORT_ONLY is on: requests with a bad token are logged and \
                 still forwarded with the key"
            );
        }
    }

    /// The axum application. Tokens are checked with `verifier` (its token
    /// header and token binding apply); CORS preflights are checked like any
    /// request, since mobile apps send none and a preflight let through
    /// would reach the upstream with the key. The forward-auth endpoint,
    /// when configured, is matched before the routes, unless
    /// `AUTH_LISTEN_ADDR` gives it a listener of its own
    /// ([`Proxy::auth_service`]).
    ///
    /// Each router has an upstream connection pool of its own (a worker
    /// thread's connections stay on that thread); the routes' rate limits
    /// are shared by every router of this proxy.
    pub fn router(&self, verifier: Verifier) -> Router {
        Router::new().fallback_service(self.service(verifier))
    }

    /// The proxy as a hyper or tower service, without axum's router
    /// between the connection and [`Proxy::router`]'s work (what the
    /// binary serves): the same answers, a few allocations fewer per
    /// request.
    ///
    /// With `AUTH_LISTEN_ADDR`, the forward-auth endpoint is not here but
    /// in [`Proxy::auth_service`], for a listener of its own.
    pub fn service(&self, verifier: Verifier) -> ProxyService {
        self.build(verifier, self.routes.clone(), !self.auth_listens_apart())
    }

    /// The forward-auth endpoint alone, and `/health`, for the listener of
    /// `AUTH_LISTEN_ADDR` (see [`Proxy::listen_auth`]); any other path is
    /// `404`. Without `AUTH_ENDPOINT`, only `/health`.
    pub fn auth_service(&self, verifier: Verifier) -> ProxyService {
        self.build(verifier, Arc::from([]), true)
    }

    /// With `AUTH_LISTEN_ADDR`: binds it and returns the listener and its
    /// real address (the port chosen when port 0 was asked), for
    /// [`serve`](crate::serve) with [`Proxy::auth_service`].
    /// `None` without it. Call it inside the tokio runtime.
    pub fn listen_auth(&self) -> Result<Option<(TcpListener, SocketAddr)>, StartError> {
        let Some(addr) = self.auth_listen_addr() else {
            return Ok(None);
        };
        let name = "AUTH_LISTEN_ADDR";
        let bind_error = |source| StartError::Bind { name, addr, source };
        let listener = listen::bind(name, addr)?;
        let local_addr = listener.local_addr().map_err(bind_error)?;
        let listener = TcpListener::from_std(listener).map_err(bind_error)?;
        Ok(Some((listener, local_addr)))
    }

    fn auth_listen_addr(&self) -> Option<SocketAddr> {
        self.auth.as_ref().and_then(AuthEndpoint::listen_addr)
    }

    /// Whether the endpoint has a listener of its own.
    fn auth_listens_apart(&self) -> bool {
        self.auth_listen_addr().is_some()
    }

    /// A service of `routes`, and of the forward-auth endpoint when
    /// configured and `with_auth`.
    fn build(
        &self,
        verifier: Verifier,
        routes: Arc<[RouteState]>,
        with_auth: bool,
    ) -> ProxyService {
        let auth = self.auth.as_ref().filter(|_| with_auth).map(|auth| {
            let router = auth.router(
                verifier.clone(),
                self.report_only,
                self.shared_limit.clone(),
            );
            (auth.clone(), router)
        });
        let token_header = HeaderName::from_bytes(verifier.token_header().as_bytes())
            .unwrap_or_else(|_| HeaderName::from_static("approov-token"));
        let gate = Gate::new(verifier)
            .report_only(self.report_only)
            .skip_cors_preflight(false);
        ProxyService {
            shared: Arc::new(Shared {
                routes,
                // Built once already in `new`, so it cannot fail here.
                client: upstream_client().unwrap_or_else(|_| self.client.clone()),
                gate,
                token_header,
                auth,
            }),
        }
    }
}

/// The proxy's service: see [`Proxy::service`]. Cloning it is cheap (one
/// reference count).
#[derive(Clone)]
pub struct ProxyService {
    shared: Arc<Shared>,
}

impl fmt::Debug for ProxyService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProxyService").finish_non_exhaustive()
    }
}

impl<B> tower::Service<http::Request<B>> for ProxyService
where
    B: hyper::body::Body<Data = axum::body::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let shared = self.shared.clone();
        Box::pin(async move {
            let request = request.map(Body::new);
            Ok(log::logged(request, |request| answer(shared, request)).await)
        })
    }
}

/// `/health`, the forward-auth endpoint, or a route.
async fn answer(shared: Arc<Shared>, request: Request) -> Response {
    let path = request.uri().path();
    if path == HEALTH_PATH {
        return health(request.method());
    }
    if let Some((endpoint, router)) = &shared.auth
        && endpoint.serves(path)
    {
        return match router.clone().oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
    }
    dispatch(&shared, request).await
}

/// `GET` or `HEAD /health`: `200`; another method: `405` with `Allow`.
fn health(method: &Method) -> Response {
    if method == Method::GET || method == Method::HEAD {
        return reply::health();
    }
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("GET,HEAD"));
    response
}

/// Finds the route, refuses what the proxy never forwards, checks the
/// token, forwards. The refusals come first: they cost no token check,
/// read no body, and say nothing about the key.
async fn dispatch(shared: &Shared, request: Request) -> Response {
    let target = request.uri().path();
    let Some(index) = route_of(&shared.routes, target) else {
        // No route as sent, but one as an upstream reads it
        // (`/%61pi` beside an `/api` route alone): not a plain 404.
        if let Some(other) = path::readings(target)
            .iter()
            .find_map(|reading| route_of(&shared.routes, reading))
        {
            return ambiguous(&shared.routes[other]);
        }
        return reply::not_found();
    };
    let state = &shared.routes[index];
    let route = &state.route;
    if !route.methods.allows(request.method()) {
        let response = reply::method_not_allowed(route.methods.allow_header());
        return refused(
            response,
            route.forwarding.name.clone(),
            "method_not_allowed",
        );
    }
    if let Err(problem) = path::check(target) {
        return refused(
            reply::bad_path(problem),
            route.forwarding.name.clone(),
            problem.reason(),
        );
    }
    // The route's key, limit and methods apply only if the upstream reads
    // the path under the same route; the bytes are forwarded as sent.
    if path::readings(target)
        .iter()
        .any(|reading| route_of(&shared.routes, reading) != Some(index))
    {
        return ambiguous(state);
    }
    // The token only: the proxy streams bodies and checks no signature,
    // so the gate never asks for the body here. The core logs and counts
    // every rejection with its kind.
    let decision = shared
        .gate
        .check(request.method().as_str(), &HttpHeaders(request.headers()));
    match decision {
        Decision::Forward(outcome) => forward(shared, state, outcome, request).await,
        Decision::Reject(_) | Decision::RefuseBody(_) => {
            // 401, or 503 with `Retry-After` when no key could judge it.
            let response = match &decision {
                Decision::Reject(rejection) => rejection_response(rejection),
                _ => unauthorized(),
            };
            let mut response = response.map(Body::from);
            response.extensions_mut().insert(RequestInfo {
                route: Some(route.forwarding.name.clone()),
                device: None,
                approov: Some("rejected"),
                refused: None,
            });
            response
        }
    }
}

/// Forwards `request` on `state`'s route, which the gate let through with
/// `outcome`, unless the device is over the route's rate limit, and notes
/// what happened for the log line.
async fn forward(
    shared: &Shared,
    state: &RouteState,
    outcome: ApproovOutcome,
    request: Request,
) -> Response {
    let (approov, device) = match &outcome {
        ApproovOutcome::Verified(claims) => ("verified", claims.did().map(DeviceHash::of)),
        ApproovOutcome::Rejected(_) => ("report_only_rejected", None),
        ApproovOutcome::SkippedPreflight => ("preflight", None),
        _ => ("-", None),
    };
    let route = &state.route;
    let refusal = match &state.limit {
        Some(limit) => limit.check(device).await,
        None => None,
    };
    let mut response = match refusal {
        Some(refusal) => refusal,
        None => {
            let up = Upstreams {
                client: &shared.client,
                token_header: &shared.token_header,
            };
            let claims = match &outcome {
                ApproovOutcome::Verified(claims) => Some(claims),
                _ => None,
            };
            proxy::forward(&route.forwarding, &route.prefix, up, claims, request).await
        }
    };
    response.extensions_mut().insert(RequestInfo {
        route: Some(route.forwarding.name.clone()),
        device,
        approov: Some(approov),
        refused: None,
    });
    response
}

/// `400`: the path selects another route once read as an upstream reads
/// it; `state` names a route it selects, for the log line.
fn ambiguous(state: &RouteState) -> Response {
    let problem = path::PathProblem::AmbiguousRoute;
    refused(
        reply::bad_path(problem),
        state.route.forwarding.name.clone(),
        problem.reason(),
    )
}

/// A request the proxy answers itself before any token check: it never
/// reaches the upstream, and the log line says why.
fn refused(mut response: Response, route: Arc<str>, reason: &'static str) -> Response {
    response.extensions_mut().insert(RequestInfo {
        route: Some(route),
        device: None,
        approov: None,
        refused: Some(reason),
    });
    response
}
