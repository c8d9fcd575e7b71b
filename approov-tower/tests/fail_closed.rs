//! The fail-closed form: the layer wraps the finished router, so every
//! route is protected whenever it was added, except the open paths, which
//! match exactly; a route's own layer (token binding, message signing)
//! inside it takes the outer layer's verification instead of verifying the
//! token again.
#![cfg(feature = "axum")]
#![allow(clippy::unwrap_used)]

mod common;

use approov_core::metrics::REQUESTS;
use approov_core::{ApproovClaims, ApproovOutcome};
use approov_tower::ApproovLayer;
use axum::body::Body;
use axum::routing::get;
use axum::{Extension, Router};
use common::*;
use http::{Request, StatusCode};
use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use tower::{Service, ServiceExt as _};

async fn echo(
    outcome: Option<Extension<ApproovOutcome>>,
    claims: Option<Extension<ApproovClaims>>,
) -> String {
    describe(outcome.as_deref(), claims.as_deref())
}

/// A router whose routes are added in every order around a
/// `route_layer` that protects only `/before`, then wrapped whole.
fn app() -> approov_tower::Protected<Router> {
    let router = Router::new()
        .route("/before", get(echo))
        .route_layer(ApproovLayer::new(strict_verifier()))
        .route("/health", get(echo))
        .route("/after", get(echo))
        .nest("/api", Router::new().route("/health", get(echo)))
        .fallback(echo);
    ApproovLayer::new(strict_verifier())
        .open_paths(["/health"])
        .unwrap()
        .protect(router)
}

async fn call<S>(app: &S, target: &str, token: Option<&str>) -> (StatusCode, String)
where
    S: Service<Request<Body>, Response = axum::response::Response> + Clone,
    S::Error: std::fmt::Debug,
{
    let mut request = Request::get(target);
    if let Some(token) = token {
        request = request.header("Approov-Token", token);
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), 64 * 1024)
        .await
        .unwrap();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn every_route_is_protected_whenever_it_was_added() {
    let app = app();
    for target in ["/before", "/after", "/api/health", "/unknown", "/"] {
        let (status, body) = call(&app, target, None).await;
        assert_eq!(
            (status, body.as_str()),
            (StatusCode::UNAUTHORIZED, "{}"),
            "{target}"
        );
        let (status, body) = call(&app, target, Some(&strict_token())).await;
        assert_eq!(status, StatusCode::OK, "{target}");
        assert!(body.starts_with("verified"), "{target}: {body}");
    }
}

#[tokio::test]
async fn only_the_exact_open_path_is_open() {
    let app = app();
    for open in ["/health", "/health?probe=1"] {
        let (status, body) = call(&app, open, None).await;
        assert_eq!(status, StatusCode::OK, "{open}");
        assert_eq!(body, "open_path claims=none", "{open}");
    }
    // Each of these is checked; without a token, 401 before any routing.
    for checked in [
        "/health/",
        "/HEALTH",
        "/Health",
        "//health",
        "/%68ealth",
        "/health%2F",
        "/health%3Fx",
        "/health/..",
        "/./health",
    ] {
        let (status, body) = call(&app, checked, None).await;
        assert_eq!(
            (status, body.as_str()),
            (StatusCode::UNAUTHORIZED, "{}"),
            "{checked}"
        );
    }
}

/// The requests counted `accepted` since the last call (a snapshot resets
/// the debugging recorder's counters).
fn accepted(recorder: &DebuggingRecorder) -> u64 {
    recorder
        .snapshotter()
        .snapshot()
        .into_vec()
        .into_iter()
        .filter(|(key, ..)| {
            key.key().name() == REQUESTS && key.key().labels().any(|l| l.value() == "accepted")
        })
        .map(|(.., value)| match value {
            DebugValue::Counter(n) => n,
            other => panic!("{other:?}"),
        })
        .sum()
}

#[tokio::test]
async fn a_route_layer_inside_takes_the_outer_verification() {
    let recorder = DebuggingRecorder::new();
    // The test's runtime runs on this thread only, so every count lands here.
    let _recording = metrics::set_default_local_recorder(&recorder);
    // One verifier, as from one `Verifier::from_env()`: the route's layer
    // has the same keys and token rules, and binds.
    let verifier = strict_verifier();
    let router = Router::new().route("/", get(echo)).route(
        "/orders",
        get(echo).route_layer(
            ApproovLayer::new(verifier.clone()).token_binding(authorization_binding()),
        ),
    );
    let app = ApproovLayer::new(verifier).protect(router);
    let bound = bound_token();
    let send = |auth: &'static str| {
        let request = Request::get("/orders")
            .header("Approov-Token", bound.as_str())
            .header("Authorization", auth)
            .body(Body::empty())
            .unwrap();
        app.clone().oneshot(request)
    };
    assert_eq!(send(AUTH).await.unwrap().status(), StatusCode::OK);
    // Verified once, by the outer layer, not again by the route's.
    assert_eq!(accepted(&recorder), 1);
    // The route's binding is still checked.
    assert_eq!(
        send("Bearer someone-else").await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(accepted(&recorder), 1);
    // A route without a layer of its own: one verification too.
    let request = Request::get("/")
        .header("Approov-Token", bound.as_str())
        .body(Body::empty())
        .unwrap();
    assert_eq!(
        app.clone().oneshot(request).await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(accepted(&recorder), 1);
}

#[tokio::test]
async fn the_wrapped_router_serves_with_axum_serve() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        axum::serve(listener, app().into_make_service())
            .await
            .unwrap();
    });
    let get = |path: &'static str| async move {
        let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .unwrap();
        tokio::spawn(conn);
        let request = Request::get(path)
            .header("host", "127.0.0.1")
            .body(http_body_util::Empty::<bytes::Bytes>::new())
            .unwrap();
        sender.send_request(request).await.unwrap().status()
    };
    assert_eq!(get("/health").await, StatusCode::OK);
    assert_eq!(get("/after").await, StatusCode::UNAUTHORIZED);
    assert_eq!(get("/health/").await, StatusCode::UNAUTHORIZED);
    server.abort();
}

#[tokio::test]
async fn a_signing_route_layer_inside_takes_the_outer_verification() {
    use approov_core::mint::InstallKey;
    use approov_core::signing::MessageSigning;
    use axum::body::Bytes;
    use axum::routing::post;
    use common::signing::*;

    let recorder = DebuggingRecorder::new();
    let _recording = metrics::set_default_local_recorder(&recorder);
    let clock = clock();
    let verifier = signing_verifier(&clock);
    let signing = MessageSigning::builder().clock(clock).build().unwrap();
    let approov = ApproovLayer::new(verifier);
    let shapes = post(|body: Bytes| async move { body.len().to_string() });
    let router = Router::new().route(
        "/shapes",
        shapes.route_layer(approov.clone().message_signing(signing)),
    );
    let app = approov.protect(router);
    let key = InstallKey::generate().unwrap();

    // Signed, with a body whose digest the route's layer reads and checks.
    let response = app
        .clone()
        .oneshot(to_http::<Body>(&signed_post(&key)))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body = axum::body::to_bytes(response.into_body(), 1024)
        .await
        .unwrap();
    assert_eq!(body, BODY.len().to_string());
    assert_eq!(accepted(&recorder), 1);

    // Not signed: the outer layer accepts the token, the route's layer
    // refuses the request, and the token was verified once.
    let unsigned = Request::post(PATH)
        .header("Host", HOST)
        .header("Approov-Token", token_for(&key))
        .body(Body::from(BODY))
        .unwrap();
    let response = app.clone().oneshot(unsigned).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(accepted(&recorder), 1);
}
