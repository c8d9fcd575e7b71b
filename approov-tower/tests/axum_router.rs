//! The layer in an axum 0.8 `Router`: around the whole router, and per
//! route with `route_layer` (one route bound to `Authorization`, one not).
#![allow(clippy::unwrap_used)]

mod common;

use approov_core::{ApproovClaims, ApproovOutcome};
use approov_tower::ApproovLayer;
use axum::body::Body;
use axum::routing::{any, get};
use axum::{Extension, Router};
use common::*;
use http::{Request, Response, StatusCode};
use tower::ServiceExt;

async fn echo(
    outcome: Option<Extension<ApproovOutcome>>,
    claims: Option<Extension<ApproovClaims>>,
) -> String {
    describe(outcome.as_deref(), claims.as_deref())
}

fn request(uri: &str, headers: &[(&'static str, Vec<u8>)]) -> Request<Body> {
    let mut request = Request::get(uri).body(Body::empty()).unwrap();
    for (name, value) in headers {
        request.headers_mut().append(*name, header_value(value));
    }
    request
}

async fn send(app: &Router, request: Request<Body>) -> (Response<Body>, String) {
    let response = app.clone().oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, 64 * 1024).await.unwrap();
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    (Response::from_parts(parts, Body::empty()), text)
}

fn whole_router(layer: ApproovLayer) -> Router {
    Router::new().route("/", any(echo)).layer(layer)
}

/// Default response: 401, JSON `{}`, the challenge, and nothing else said.
fn assert_default_rejection(response: &Response<Body>, body: &str, kind: &str) {
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{kind}");
    assert_eq!(
        response.headers()["content-type"],
        "application/json",
        "{kind}"
    );
    assert_eq!(response.headers()["www-authenticate"], "Approov", "{kind}");
    assert_eq!(body, "{}", "{kind}");
}

async fn assert_rejected(
    app_default: &Router,
    app_echo: &Router,
    app_report: &Router,
    uri: &str,
    case: &Case,
) {
    let (response, body) = send(app_default, request(uri, &case.headers)).await;
    assert_default_rejection(&response, &body, case.kind);

    let (response, _) = send(app_echo, request(uri, &case.headers)).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{}", case.kind);
    assert_eq!(response.headers()[REASON_HEADER], case.kind);

    // Report-only: the handler runs, sees why, and gets no claims.
    let (response, body) = send(app_report, request(uri, &case.headers)).await;
    assert_eq!(response.status(), StatusCode::OK, "{}", case.kind);
    assert_eq!(body, format!("rejected:{} claims=none", case.kind));
}

#[tokio::test]
async fn whole_router_rejects_every_kind_with_401_and_the_right_reason() {
    let layer = ApproovLayer::new(strict_verifier());
    let default = whole_router(layer.clone());
    let echo = whole_router(layer.clone().rejection_response(echo_kind));
    let report = whole_router(layer.report_only(true));
    for case in unbound_cases() {
        assert_rejected(&default, &echo, &report, "/", &case).await;
    }
}

#[tokio::test]
async fn whole_router_with_binding_rejects_binding_kinds() {
    let layer = ApproovLayer::new(strict_verifier()).token_binding(authorization_binding());
    let default = whole_router(layer.clone());
    let echo = whole_router(layer.clone().rejection_response(echo_kind));
    let report = whole_router(layer.report_only(true));
    for case in binding_cases().iter().chain(&unbound_cases()) {
        assert_rejected(&default, &echo, &report, "/", case).await;
    }
}

#[tokio::test]
async fn verified_claims_reach_the_handler() {
    let app = whole_router(ApproovLayer::new(strict_verifier()));
    let (response, body) = send(
        &app,
        request("/", &[("Approov-Token", strict_token().into())]),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(body, format!("verified:{DID} claims={DID}"));
}

#[tokio::test]
async fn report_only_forwards_valid_tokens_as_verified() {
    let app = whole_router(ApproovLayer::new(strict_verifier()).report_only(true));
    let (response, body) = send(
        &app,
        request("/", &[("Approov-Token", strict_token().into())]),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(body, format!("verified:{DID} claims={DID}"));
}

fn per_route(layer: ApproovLayer) -> Router {
    Router::new()
        .route(
            "/bound",
            get(echo).route_layer(layer.clone().token_binding(authorization_binding())),
        )
        .route("/plain", get(echo).route_layer(layer))
        .route("/open", get(echo))
}

#[tokio::test]
async fn route_layer_binds_one_route_and_not_the_other() {
    let layer = ApproovLayer::new(strict_verifier());
    let default = per_route(layer.clone());
    let echo = per_route(layer.clone().rejection_response(echo_kind));
    let report = per_route(layer.report_only(true));

    for case in binding_cases().iter().chain(&unbound_cases()) {
        assert_rejected(&default, &echo, &report, "/bound", case).await;
    }
    for case in unbound_cases() {
        assert_rejected(&default, &echo, &report, "/plain", &case).await;
    }

    // An unbound token passes the plain route and fails the bound one.
    let plain_token = [
        ("Approov-Token", strict_token().into_bytes()),
        ("Authorization", AUTH.into()),
    ];
    let (response, body) = send(&default, request("/plain", &plain_token)).await;
    assert_eq!(
        (response.status(), body.as_str()),
        (
            StatusCode::OK,
            format!("verified:{DID} claims={DID}").as_str()
        )
    );
    let (response, _) = send(&echo, request("/bound", &plain_token)).await;
    assert_eq!(response.headers()[REASON_HEADER], "binding_missing");

    // A bound token with the right session passes both.
    let bound = [
        ("Approov-Token", bound_token().into_bytes()),
        ("Authorization", AUTH.into()),
    ];
    for uri in ["/bound", "/plain"] {
        let (response, body) = send(&default, request(uri, &bound)).await;
        assert_eq!(response.status(), StatusCode::OK, "{uri}");
        assert_eq!(body, format!("verified:{DID} claims={DID}"));
    }

    // Routes without the layer are not checked.
    let (response, body) = send(&default, request("/open", &[])).await;
    assert_eq!(
        (response.status(), body.as_str()),
        (StatusCode::OK, "no-outcome claims=none")
    );
}

#[tokio::test]
async fn router_route_layer_leaves_unknown_paths_404() {
    let app = Router::new()
        .route("/", get(echo))
        .route_layer(ApproovLayer::new(strict_verifier()));
    let (response, _) = send(&app, request("/nowhere", &[])).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let (response, body) = send(&app, request("/", &[])).await;
    assert_default_rejection(&response, &body, "missing");
}

#[tokio::test]
async fn an_inner_layer_that_does_not_verify_removes_outer_claims() {
    let inner = ApproovLayer::new(strict_verifier())
        .token_binding(authorization_binding())
        .report_only(true);
    let app = Router::new()
        .route("/", get(echo).route_layer(inner))
        .layer(ApproovLayer::new(strict_verifier()));
    let (response, body) = send(
        &app,
        request("/", &[("Approov-Token", strict_token().into())]),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(body, "rejected:binding_missing claims=none");
}

fn preflight() -> Request<Body> {
    Request::options("/")
        .header("Origin", "https://app.example")
        .header("Access-Control-Request-Method", "POST")
        .body(Body::empty())
        .unwrap()
}

#[tokio::test]
async fn cors_preflight_is_skipped_by_default() {
    let app = whole_router(ApproovLayer::new(strict_verifier()));
    let (response, body) = send(&app, preflight()).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(body, "preflight claims=none");

    // A plain OPTIONS without the preflight header is still checked.
    let options = Request::options("/").body(Body::empty()).unwrap();
    let (response, body) = send(&app, options).await;
    assert_default_rejection(&response, &body, "missing");
}

#[tokio::test]
async fn cors_preflight_is_checked_when_asked() {
    let app = whole_router(
        ApproovLayer::new(strict_verifier())
            .skip_cors_preflight(false)
            .rejection_response(echo_kind),
    );
    let (response, _) = send(&app, preflight()).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(response.headers()[REASON_HEADER], "missing");
}

#[tokio::test]
async fn custom_rejection_response_is_used() {
    let app = whole_router(
        ApproovLayer::new(strict_verifier()).rejection_response(|rejection| {
            Response::builder()
                .status(StatusCode::FORBIDDEN)
                .header("content-type", "text/plain")
                .header(REASON_HEADER, rejection.kind().as_str())
                .body("go away")
                .unwrap()
        }),
    );
    let expired = sign(&strict_claims().exp((NOW - 5) as f64));
    let (response, body) = send(&app, request("/", &[("Approov-Token", expired.into())])).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(response.headers()["content-type"], "text/plain");
    assert_eq!(response.headers()[REASON_HEADER], "expired");
    assert_eq!(body, "go away");
}

#[tokio::test]
async fn repeated_token_header_is_401_multiple() {
    let app = whole_router(ApproovLayer::new(strict_verifier()).rejection_response(echo_kind));
    let token = strict_token().into_bytes();
    let (response, _) = send(
        &app,
        request(
            "/",
            &[("Approov-Token", token.clone()), ("approov-token", token)],
        ),
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(response.headers()[REASON_HEADER], "multiple");
}

#[tokio::test]
async fn obs_text_token_is_401_malformed_never_5xx() {
    let app = whole_router(ApproovLayer::new(strict_verifier()).rejection_response(echo_kind));
    let mut value = strict_token().into_bytes();
    value.push(0xE9); // Latin-1 'é': obs-text, not UTF-8.
    let (response, _) = send(&app, request("/", &[("Approov-Token", value)])).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(response.headers()[REASON_HEADER], "malformed");
}

#[tokio::test]
async fn grpc_requests_get_a_trailers_only_unauthenticated() {
    let app = whole_router(ApproovLayer::new(strict_verifier()));
    let mut grpc = request(
        "/",
        &[(
            "Approov-Token",
            sign(&strict_claims().exp((NOW - 5) as f64)).into(),
        )],
    );
    grpc.headers_mut()
        .insert("content-type", "application/grpc+proto".parse().unwrap());
    let (response, body) = send(&app, grpc).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/grpc");
    assert_eq!(response.headers()["grpc-status"], "16");
    assert_eq!(
        response.headers()["grpc-message"],
        approov_tower::response::GRPC_MESSAGE
    );
    assert!(!response.headers().contains_key("www-authenticate"));
    assert_eq!(body, "");
}

#[tokio::test]
async fn token_header_can_be_renamed() {
    let app = whole_router(
        ApproovLayer::new(strict_verifier())
            .token_header("X-Approov")
            .unwrap()
            .rejection_response(echo_kind),
    );
    let (response, body) = send(&app, request("/", &[("x-approov", strict_token().into())])).await;
    assert_eq!(
        (response.status(), body),
        (StatusCode::OK, format!("verified:{DID} claims={DID}"))
    );
    let (response, _) = send(
        &app,
        request("/", &[("Approov-Token", strict_token().into())]),
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(response.headers()[REASON_HEADER], "missing");

    assert!(
        ApproovLayer::new(strict_verifier())
            .token_header("bad header")
            .is_err()
    );
}

#[tokio::test]
async fn without_token_binding_drops_the_verifiers_binding() {
    let bound = strict_verifier().with_token_binding(Some(authorization_binding()));
    let strict = whole_router(ApproovLayer::new(bound.clone()).rejection_response(echo_kind));
    let (response, _) = send(
        &strict,
        request("/", &[("Approov-Token", strict_token().into())]),
    )
    .await;
    assert_eq!(response.headers()[REASON_HEADER], "binding_missing");

    let relaxed = whole_router(ApproovLayer::new(bound).without_token_binding());
    let (response, body) = send(
        &relaxed,
        request("/", &[("Approov-Token", strict_token().into())]),
    )
    .await;
    assert_eq!(
        (response.status(), body),
        (StatusCode::OK, format!("verified:{DID} claims={DID}"))
    );
}
