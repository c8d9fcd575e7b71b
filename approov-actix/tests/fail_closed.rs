//! The fail-closed form: `App::new().wrap(approov)` protects every route,
//! resource, scope and service of the `App`, whatever order they were
//! registered in, except the open paths, which match exactly; a route's
//! own middleware inside it (token binding) takes the outer verification
//! instead of verifying the token again.

mod common;

use actix_web::test::{self, TestRequest};
use actix_web::{App, HttpResponse, web};
use approov_actix::{ApproovMiddleware, TokenBinding};
use approov_core::RejectionKind;
use approov_core::metrics::REQUESTS;
use common::*;
use metrics_util::debugging::{DebugValue, DebuggingRecorder};

const AUTH: &str = "Bearer user-session-1";

async fn get(path: &str, token: Option<&str>) -> Reply {
    let approov = with_reason(ApproovMiddleware::new(verifier()))
        .open_paths(["/health"])
        .expect("open paths");
    // `.wrap` first, then every kind of registration after it.
    let app = test::init_service(
        App::new()
            .wrap(approov)
            .route("/after", web::get().to(echo_outcome))
            .service(web::resource("/health").to(echo_outcome))
            .service(web::scope("/api").route("/health", web::get().to(echo_outcome)))
            .default_service(web::to(echo_outcome)),
    )
    .await;
    let mut req = TestRequest::get().uri(path);
    if let Some(token) = token {
        req = req.insert_header(("Approov-Token", token));
    }
    send(&app, req.to_request()).await
}

#[actix_web::test]
async fn every_route_registered_after_wrap_is_protected() {
    for path in ["/after", "/api/health", "/unknown", "/"] {
        get(path, None)
            .await
            .assert_rejected(RejectionKind::Missing);
        get(path, Some(&token()))
            .await
            .assert_ok("verified ExampleApproovTokenDID==");
    }
}

#[actix_web::test]
async fn only_the_exact_open_path_is_open() {
    for open in ["/health", "/health?probe=1"] {
        get(open, None).await.assert_ok("open path");
    }
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
        get(checked, None)
            .await
            .assert_rejected(RejectionKind::Missing);
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

#[actix_web::test]
async fn a_route_middleware_inside_takes_the_outer_verification() {
    let recorder = DebuggingRecorder::new();
    // actix-web's test runtime runs on this thread only: every count lands here.
    let _recording = metrics::set_default_local_recorder(&recorder);
    // One verifier, as from one `Verifier::from_env()`.
    let verifier = verifier();
    let approov = with_reason(ApproovMiddleware::new(verifier.clone()));
    let bound = approov
        .clone()
        .token_binding(TokenBinding::new(["Authorization"]).expect("binding"));
    let app = test::init_service(
        App::new()
            .wrap(approov)
            .service(web::resource("/orders").wrap(bound).to(echo_outcome))
            .route("/", web::get().to(HttpResponse::Ok)),
    )
    .await;
    let token = sign(&claims().pay_for([AUTH]));
    let orders = |auth: &str| {
        TestRequest::get()
            .uri("/orders")
            .insert_header(("Approov-Token", token.as_str()))
            .insert_header(("Authorization", auth))
            .to_request()
    };
    send(&app, orders(AUTH))
        .await
        .assert_ok("verified ExampleApproovTokenDID==");
    // Verified once, by the App's middleware, not again by the resource's.
    assert_eq!(accepted(&recorder), 1);
    // The resource's binding is still checked.
    send(&app, orders("Bearer someone-else"))
        .await
        .assert_rejected(RejectionKind::Binding);
    assert_eq!(accepted(&recorder), 1);
}
