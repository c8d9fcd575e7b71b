//! The `Approov` extractor (feature `axum`): claims when verified, the
//! default 401 (never a 500) when not, `None` for `Option<Approov>`.
#![cfg(feature = "axum")]
#![allow(clippy::unwrap_used)]

mod common;

use approov_tower::{Approov, ApproovLayer, NoClaims};
use axum::Router;
use axum::body::Body;
use axum::response::IntoResponse;
use axum::routing::any;
use common::*;
use http::{Request, StatusCode};
use tower::ServiceExt;

async fn required(Approov(claims): Approov) -> String {
    claims.did().unwrap_or("?").to_owned()
}

async fn optional(claims: Option<Approov>) -> String {
    claims.map_or("none".to_owned(), |c| c.did().unwrap_or("?").to_owned())
}

fn app(layer: Option<ApproovLayer>) -> Router {
    let router = Router::new()
        .route("/required", any(required))
        .route("/optional", any(optional));
    match layer {
        Some(layer) => router.layer(layer),
        None => router,
    }
}

async fn get(
    app: &Router,
    uri: &str,
    token: Option<String>,
) -> (StatusCode, Option<String>, String) {
    let mut request = Request::get(uri);
    if let Some(token) = token {
        request = request.header("Approov-Token", token);
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = axum::body::to_bytes(response.into_body(), 1024)
        .await
        .unwrap();
    (status, challenge, String::from_utf8(body.to_vec()).unwrap())
}

fn unauthorized() -> (StatusCode, Option<String>, String) {
    (
        StatusCode::UNAUTHORIZED,
        Some("Approov".to_owned()),
        "{}".to_owned(),
    )
}

#[tokio::test]
async fn verified_claims_are_extracted() {
    let app = app(Some(ApproovLayer::new(strict_verifier())));
    for uri in ["/required", "/optional"] {
        assert_eq!(
            get(&app, uri, Some(strict_token())).await,
            (StatusCode::OK, None, DID.to_owned())
        );
    }
}

#[tokio::test]
async fn report_only_rejection_gives_401_to_required_and_none_to_optional() {
    let app = app(Some(ApproovLayer::new(strict_verifier()).report_only(true)));
    let expired = sign(&strict_claims().exp((NOW - 1) as f64));
    assert_eq!(
        get(&app, "/required", Some(expired.clone())).await,
        unauthorized()
    );
    assert_eq!(get(&app, "/required", None).await, unauthorized());
    assert_eq!(
        get(&app, "/optional", Some(expired)).await,
        (StatusCode::OK, None, "none".to_owned())
    );
    assert_eq!(
        get(&app, "/optional", None).await,
        (StatusCode::OK, None, "none".to_owned())
    );
    assert_eq!(
        get(&app, "/required", Some(strict_token())).await,
        (StatusCode::OK, None, DID.to_owned())
    );
}

#[tokio::test]
async fn preflight_has_no_claims() {
    let app = app(Some(ApproovLayer::new(strict_verifier())));
    let preflight = Request::options("/required")
        .header("Origin", "https://app.example")
        .header("Access-Control-Request-Method", "GET")
        .body(Body::empty())
        .unwrap();
    let response = app.clone().oneshot(preflight).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(response.headers()["www-authenticate"], "Approov");
}

#[tokio::test]
async fn without_a_layer_the_extractor_fails_closed_with_401() {
    let app = app(None);
    assert_eq!(
        get(&app, "/required", Some(strict_token())).await,
        unauthorized()
    );
    assert_eq!(
        get(&app, "/optional", Some(strict_token())).await,
        (StatusCode::OK, None, "none".to_owned())
    );
}

#[tokio::test]
async fn no_claims_rejection_is_the_default_response() {
    let response = NoClaims.into_response();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(
        NoClaims.to_string(),
        "the request has no verified Approov claims"
    );
}
