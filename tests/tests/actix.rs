//! The conformance table against approov-actix, in-process through
//! `actix_web::test`.

use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{App, HttpResponse, test, web};
use approov_actix::{ApproovMiddleware, ApproovOutcome};
use approov_conformance::{
    Answer, BEARER_HEADER, BEARER_SCHEME, CUSTOM_BODY, CUSTOM_STATUS, Case, HELLO_BODY,
    OUTCOME_HEADER, REASON_HEADER, Route, all_requests, binding, check, message_signing,
    outcome_name, pair_binding, verifier,
};

async fn hello() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(HELLO_BODY)
}

/// Answers only when the body arrived intact after the adapter buffered it.
async fn hello_with_body(body: web::Bytes) -> HttpResponse {
    if body.is_empty() {
        return HttpResponse::BadRequest().finish();
    }
    hello().await
}

async fn echo(outcome: Option<web::ReqData<ApproovOutcome>>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((OUTCOME_HEADER, outcome_name(outcome.as_deref())))
        .body(HELLO_BODY)
}

/// The bearer routes set the scheme through the middleware's own options.
fn bearer(v: approov_core::Verifier) -> ApproovMiddleware {
    ApproovMiddleware::new(v)
        .token_header(BEARER_HEADER)
        .and_then(|m| m.token_scheme(BEARER_SCHEME))
        .expect("bearer options")
}

fn middleware(route: Route) -> ApproovMiddleware {
    let v = verifier();
    match route {
        Route::Bearer => bearer(v),
        Route::BearerReportOnly => bearer(v).report_only(true),
        Route::BoundPair => ApproovMiddleware::new(v).token_binding(pair_binding()),
        Route::BoundPairReportOnly => ApproovMiddleware::new(v)
            .token_binding(pair_binding())
            .report_only(true),
        Route::Plain => ApproovMiddleware::new(v),
        Route::Bound => ApproovMiddleware::new(v).token_binding(binding()),
        Route::ReportOnly => ApproovMiddleware::new(v).report_only(true),
        Route::BoundReportOnly => ApproovMiddleware::new(v)
            .token_binding(binding())
            .report_only(true),
        Route::Custom => ApproovMiddleware::new(v).rejection_response(|r| {
            HttpResponse::build(StatusCode::from_u16(CUSTOM_STATUS).expect("status"))
                .insert_header((REASON_HEADER, r.kind().as_str()))
                .body(CUSTOM_BODY)
        }),
        Route::NoPreflightSkip => ApproovMiddleware::new(v).skip_cors_preflight(false),
        Route::MessageSigning => ApproovMiddleware::new(v).message_signing(message_signing(false)),
        Route::MessageSigningAccount => {
            ApproovMiddleware::new(v).message_signing(message_signing(true))
        }
        Route::Health => unreachable!("not protected"),
    }
}

fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(Route::Health.path(), web::get().to(|| async { "ok" }));
    for route in Route::ALL {
        if route == Route::Health {
            continue;
        }
        let resource = web::resource(route.path()).wrap(middleware(route));
        let resource = match route {
            r if r.is_report_only() => resource
                .route(web::get().to(echo))
                .route(web::method(Method::OPTIONS).to(echo)),
            Route::MessageSigning | Route::MessageSigningAccount => resource
                .route(web::get().to(hello))
                .route(web::post().to(hello_with_body)),
            _ => resource
                .route(web::get().to(hello))
                .route(web::method(Method::OPTIONS).to(hello)),
        };
        cfg.service(resource);
    }
}

async fn send(
    app: &impl Service<actix_http::Request, Response = ServiceResponse, Error = actix_web::Error>,
    case: &Case,
) -> Answer {
    let mut request = test::TestRequest::default()
        .method(Method::from_bytes(case.method.as_bytes()).expect("method"))
        .uri(case.route.path())
        .set_payload(case.body.clone())
        .to_request();
    for (name, value) in &case.headers {
        request.headers_mut().append(
            HeaderName::from_bytes(name.as_bytes()).expect("header name"),
            HeaderValue::from_bytes(value).expect("header bytes the http crate accepts"),
        );
    }
    let response = test::call_service(app, request).await;
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("?").to_owned()))
        .collect();
    let body = test::read_body(response).await.to_vec();
    Answer {
        status,
        headers,
        body,
    }
}

#[actix_web::test]
async fn every_case_gives_the_expected_answer() {
    let app = test::init_service(App::new().configure(configure)).await;
    let mut failures = Vec::new();
    for case in all_requests() {
        if let Err(e) = check(&case, &send(&app, &case).await) {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
