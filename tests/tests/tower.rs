//! The conformance table against approov-tower in an axum router,
//! in-process.

use approov_conformance::{
    Answer, BEARER_HEADER, BEARER_SCHEME, CUSTOM_BODY, CUSTOM_STATUS, Case, HELLO_BODY,
    OUTCOME_HEADER, REASON_HEADER, Route, all_requests, binding, check, message_signing,
    outcome_name, pair_binding, verifier,
};
use approov_core::ApproovOutcome;
use approov_tower::ApproovLayer;
use axum::Router;
use axum::body::Body;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use http::{HeaderName, HeaderValue, Request};
use tower::ServiceExt as _;

async fn hello() -> Response {
    ([("content-type", "application/json")], HELLO_BODY).into_response()
}

/// Answers only when the body arrived intact after the layer buffered it.
async fn hello_with_body(body: axum::body::Bytes) -> Response {
    if body.is_empty() {
        return http::StatusCode::BAD_REQUEST.into_response();
    }
    hello().await
}

async fn echo(outcome: Option<axum::Extension<ApproovOutcome>>) -> Response {
    let name = outcome_name(outcome.as_ref().map(|o| &o.0));
    ([(OUTCOME_HEADER, name)], HELLO_BODY).into_response()
}

/// The bearer routes set the scheme through the layer's own options.
fn bearer(v: approov_core::Verifier) -> ApproovLayer {
    ApproovLayer::new(v)
        .token_header(BEARER_HEADER)
        .and_then(|layer| layer.token_scheme(BEARER_SCHEME))
        .expect("bearer options")
}

fn protected(route: Route, handler: MethodRouter) -> Router {
    let v = verifier();
    let layer = match route {
        Route::Bearer => bearer(v),
        Route::BearerReportOnly => bearer(v).report_only(true),
        Route::BoundPair => ApproovLayer::new(v).token_binding(pair_binding()),
        Route::BoundPairReportOnly => ApproovLayer::new(v)
            .token_binding(pair_binding())
            .report_only(true),
        Route::Plain => ApproovLayer::new(v),
        Route::Bound => ApproovLayer::new(v).token_binding(binding()),
        Route::ReportOnly => ApproovLayer::new(v).report_only(true),
        Route::BoundReportOnly => ApproovLayer::new(v)
            .token_binding(binding())
            .report_only(true),
        Route::Custom => ApproovLayer::new(v).rejection_response(|r| {
            http::Response::builder()
                .status(CUSTOM_STATUS)
                .header(REASON_HEADER, r.kind().as_str())
                .body(CUSTOM_BODY)
                .expect("static response")
        }),
        Route::NoPreflightSkip => ApproovLayer::new(v).skip_cors_preflight(false),
        Route::MessageSigning | Route::MessageSigningAccount => {
            let signing = message_signing(route == Route::MessageSigningAccount);
            return Router::new()
                .route(route.path(), handler)
                .route_layer(ApproovLayer::new(v).message_signing(signing));
        }
        Route::Health => unreachable!("not protected"),
    };
    Router::new()
        .route(route.path(), handler)
        .route_layer(layer)
}

fn app() -> Router {
    let mut app = Router::new().route(Route::Health.path(), get(|| async { "ok" }));
    for route in Route::ALL {
        let handler = match route {
            Route::Health => continue,
            Route::MessageSigning | Route::MessageSigningAccount => {
                get(hello).post(hello_with_body)
            }
            r if r.is_report_only() => get(echo).options(echo),
            _ => get(hello).options(hello),
        };
        app = app.merge(protected(route, handler));
    }
    app
}

async fn send(app: &Router, case: &Case) -> Answer {
    let mut request = Request::builder()
        .method(case.method)
        .uri(case.route.path());
    for (name, value) in &case.headers {
        request = request.header(
            HeaderName::from_bytes(name.as_bytes()).expect("valid header name"),
            HeaderValue::from_bytes(value).expect("header bytes the http crate accepts"),
        );
    }
    let response = app
        .clone()
        .oneshot(
            request
                .body(Body::from(case.body.clone()))
                .expect("request"),
        )
        .await
        .expect("infallible");
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("?").to_owned()))
        .collect();
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("body")
        .to_vec();
    Answer {
        status,
        headers,
        body,
    }
}

#[tokio::test(flavor = "current_thread")]
async fn every_case_gives_the_expected_answer() {
    let app = app();
    let mut failures = Vec::new();
    for case in all_requests() {
        if let Err(e) = check(&case, &send(&app, &case).await) {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
