//! `ApproovService` as a plain tower service: accessors, `Clone`/`Debug`,
//! extensions, the response body, the inner service's errors, and the
//! layer's token-scheme options.
#![allow(clippy::unwrap_used)]

mod common;

use std::convert::Infallible;

use approov_core::{ApproovClaims, ApproovOutcome};
use approov_tower::{ApproovBody, ApproovLayer, ApproovService};
use bytes::Bytes;
use common::*;
use http::{Request, Response, StatusCode};
use http_body::Body as _;
use http_body_util::{BodyExt, Full};
use tower::{Layer, Service, ServiceExt, service_fn};

async fn ok(request: Request<()>) -> Result<Response<Full<Bytes>>, Infallible> {
    let outcome = request.extensions().get::<ApproovOutcome>().is_some();
    let claims = request.extensions().get::<ApproovClaims>().is_some();
    Ok(Response::new(Full::from(format!(
        "outcome={outcome} claims={claims}"
    ))))
}

fn with_token(token: &str) -> Request<()> {
    Request::get("/")
        .header("Approov-Token", token)
        .body(())
        .unwrap()
}

async fn text(body: ApproovBody<Full<Bytes>>) -> String {
    String::from_utf8(body.collect().await.unwrap().to_bytes().to_vec()).unwrap()
}

#[tokio::test]
async fn new_uses_the_default_settings() {
    let service = ApproovService::new(service_fn(ok), strict_verifier());
    let response = service.clone().oneshot(Request::new(())).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(response.body().is_rejection());
    assert_eq!(response.body().size_hint().exact(), Some(2));
    assert_eq!(text(response.into_body()).await, "{}");

    let response = service.oneshot(with_token(&strict_token())).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(!response.body().is_rejection());
    assert_eq!(text(response.into_body()).await, "outcome=true claims=true");
}

#[tokio::test]
async fn layer_constructor_matches_the_layer_type() {
    let service = ApproovService::layer(strict_verifier())
        .rejection_response(echo_kind)
        .layer(service_fn(ok));
    let response = service.oneshot(with_token("a.b")).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(response.headers()[REASON_HEADER], "malformed");
    assert_eq!(text(response.into_body()).await, "rejected");
}

#[test]
fn accessors_reach_the_inner_service() {
    let mut service = ApproovLayer::new(strict_verifier()).layer(7_u32);
    assert_eq!(*service.get_ref(), 7);
    *service.get_mut() = 8;
    assert_eq!(service.into_inner(), 8);
}

#[test]
fn debug_names_the_settings_and_hides_the_secret() {
    let layer = ApproovLayer::new(strict_verifier())
        .report_only(true)
        .rejection_response(echo_kind);
    let text = format!("{:?}", layer.clone().layer(()));
    assert!(text.contains("ApproovService"), "{text}");
    assert!(text.contains("report_only: true"), "{text}");
    assert!(text.contains("custom"), "{text}");
    assert!(!text.contains(SECRET), "{text}");
    assert!(layer.gate().is_report_only());
}

#[tokio::test]
async fn inner_errors_pass_through_unchanged() {
    #[derive(Debug, PartialEq)]
    struct Boom;
    let failing = service_fn(|_: Request<()>| async { Err::<Response<Full<Bytes>>, _>(Boom) });
    let mut service = ApproovLayer::new(strict_verifier()).layer(failing);
    let service = service.ready().await.unwrap();
    assert_eq!(
        service.call(with_token(&strict_token())).await.unwrap_err(),
        Boom
    );
    // A rejection is a response, not an error, even when the inner service fails.
    let response = service.call(Request::new(())).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_verified_token_returns_the_claims_in_the_extensions() {
    let inspect = service_fn(|request: Request<()>| async move {
        let claims = request
            .extensions()
            .get::<ApproovClaims>()
            .cloned()
            .unwrap();
        let outcome = request
            .extensions()
            .get::<ApproovOutcome>()
            .cloned()
            .unwrap();
        assert_eq!(outcome, ApproovOutcome::Verified(claims.clone()));
        Ok::<_, Infallible>(Response::new(Full::from(claims.did().unwrap().to_owned())))
    });
    let response = ApproovLayer::new(strict_verifier())
        .layer(inspect)
        .oneshot(with_token(&strict_token()))
        .await
        .unwrap();
    assert_eq!(text(response.into_body()).await, DID);
}

#[tokio::test]
async fn the_token_scheme_options_check_their_input_and_turn_off() {
    let layer = ApproovLayer::new(verifier())
        .token_header("Authorization")
        .unwrap()
        .token_scheme("Bearer")
        .unwrap();
    assert_eq!(layer.verifier().token_scheme(), Some("Bearer"));
    assert!(
        ApproovLayer::new(verifier())
            .token_scheme("Bear er")
            .is_err()
    );
    assert!(ApproovLayer::new(verifier()).token_scheme("").is_err());
    assert!(
        ApproovLayer::new(verifier())
            .token_header("Approov Token")
            .is_err()
    );
    // And off again: the bare token in `Authorization`.
    let bare = layer.without_token_scheme();
    assert_eq!(bare.verifier().token_scheme(), None);
    let response = bare
        .layer(service_fn(ok))
        .oneshot(
            Request::get("/")
                .header("authorization", token())
                .body(())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(text(response.into_body()).await, "outcome=true claims=true");
}
