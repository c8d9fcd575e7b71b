//! A verifier with no usable key at all (a JWKS URL that refuses every
//! fetch, started with `start_without_keys`) cannot judge a token: every
//! adapter answers 503 with `Retry-After` and `{}` (gRPC: `grpc-status:
//! 14`), lets it through marked in report-only mode, and still judges what
//! needs no key (no token: 401).

use std::convert::Infallible;

use actix_web::dev::{Service, ServiceResponse};
use actix_web::{App, HttpResponse, test, web};
use approov_conformance::fixtures::{keyless_verifier, token};
use approov_conformance::{
    Answer, HELLO_BODY, OUTCOME_HEADER, TOKEN_HEADER, check_keys_unavailable, outcome_name,
};
use approov_core::ApproovOutcome;
use axum::Router;
use axum::body::Body;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::Request;
use http_body_util::BodyExt as _;
use tower::ServiceExt as _;
use warp::Filter as _;

fn answer(status: u16, headers: &http::HeaderMap, body: Vec<u8>) -> Answer {
    Answer {
        status,
        headers: headers
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("?").to_owned()))
            .collect(),
        body,
    }
}

// ---- tower (axum) -------------------------------------------------------------

fn axum_app() -> Router {
    let verifier = keyless_verifier();
    let hello = || async { HELLO_BODY };
    let echo = |outcome: Option<axum::Extension<ApproovOutcome>>| async move {
        let name = outcome_name(outcome.as_ref().map(|o| &o.0));
        ([(OUTCOME_HEADER, name)], HELLO_BODY).into_response()
    };
    Router::new()
        .route("/", get(hello))
        .route_layer(approov_tower::ApproovLayer::new(verifier.clone()))
        .merge(
            Router::new()
                .route("/report-only", get(echo))
                .route_layer(approov_tower::ApproovLayer::new(verifier).report_only(true)),
        )
}

async fn axum_send(app: &Router, path: &str, headers: &[(&str, &str)]) -> Answer {
    let mut request = Request::builder().uri(path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response: Response = app
        .clone()
        .oneshot(request.body(Body::empty()).expect("request"))
        .await
        .expect("infallible");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("body")
        .to_vec();
    answer(status, &headers, body)
}

#[tokio::test(flavor = "current_thread")]
async fn tower_answers_503_with_retry_after() {
    let app = axum_app();
    let token = token();
    let with_token = [(TOKEN_HEADER, token.as_str())];
    if let Err(e) = check_keys_unavailable(&axum_send(&app, "/", &with_token).await) {
        panic!("{e}");
    }
    // What needs no key is judged as ever.
    assert_eq!(axum_send(&app, "/", &[]).await.status, 401);
    assert_eq!(
        axum_send(&app, "/", &[(TOKEN_HEADER, "NO_NETWORK")])
            .await
            .status,
        401
    );
    // Report-only: let through, marked.
    let answer = axum_send(&app, "/report-only", &with_token).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header(OUTCOME_HEADER), Some("keys_unavailable"));
}

#[tokio::test(flavor = "current_thread")]
async fn tower_answers_grpc_with_unavailable() {
    let app = axum_app();
    let token = token();
    let answer = axum_send(
        &app,
        "/",
        &[
            (TOKEN_HEADER, token.as_str()),
            ("content-type", "application/grpc"),
        ],
    )
    .await;
    assert_eq!(answer.status, 200, "trailers-only: {answer:?}");
    assert_eq!(answer.header("grpc-status"), Some("14"));
    assert_eq!(
        answer.header("grpc-message"),
        Some(approov_tower::response::GRPC_UNAVAILABLE_MESSAGE)
    );
    assert!(answer.body.is_empty());
}

// ---- actix -----------------------------------------------------------------------

async fn actix_send(
    app: &impl Service<actix_http::Request, Response = ServiceResponse, Error = actix_web::Error>,
    path: &str,
    headers: &[(&str, &str)],
) -> Answer {
    let mut request = test::TestRequest::get().uri(path);
    for header in headers {
        request = request.insert_header(*header);
    }
    let response = test::call_service(app, request.to_request()).await;
    let status = response.status().as_u16();
    let headers: Vec<(String, String)> = response
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
async fn actix_answers_503_with_retry_after() {
    let verifier = keyless_verifier();
    let app = test::init_service(
        App::new()
            .service(
                web::scope("/report-only")
                    .wrap(approov_actix::ApproovMiddleware::new(verifier.clone()).report_only(true))
                    .route(
                        "",
                        web::get().to(|outcome: Option<web::ReqData<ApproovOutcome>>| async move {
                            HttpResponse::Ok()
                                .insert_header((OUTCOME_HEADER, outcome_name(outcome.as_deref())))
                                .body(HELLO_BODY)
                        }),
                    ),
            )
            .service(
                web::scope("")
                    .wrap(approov_actix::ApproovMiddleware::new(verifier))
                    .route("/", web::get().to(|| async { HELLO_BODY })),
            ),
    )
    .await;
    let token = token();
    let with_token = [(TOKEN_HEADER, token.as_str())];
    if let Err(e) = check_keys_unavailable(&actix_send(&app, "/", &with_token).await) {
        panic!("{e}");
    }
    assert_eq!(actix_send(&app, "/", &[]).await.status, 401);
    let answer = actix_send(&app, "/report-only", &with_token).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header(OUTCOME_HEADER), Some("keys_unavailable"));
}

// ---- warp ------------------------------------------------------------------------

async fn warp_send(
    app: &warp::filters::BoxedFilter<(warp::reply::Response,)>,
    path: &str,
    headers: &[(&str, &str)],
) -> Answer {
    use tower_service::Service as _;
    let mut request = Request::new(http_body_util::Full::new(bytes::Bytes::new()));
    *request.uri_mut() = path.parse().expect("path");
    for (name, value) in headers {
        request.headers_mut().append(
            http::HeaderName::from_bytes(name.as_bytes()).expect("name"),
            http::HeaderValue::from_str(value).expect("value"),
        );
    }
    let response: Result<_, Infallible> = warp::service(app.clone()).call(request).await;
    let (parts, body) = response.expect("infallible").into_parts();
    let body = body.collect().await.expect("body").to_bytes().to_vec();
    answer(parts.status.as_u16(), &parts.headers, body)
}

#[tokio::test(flavor = "current_thread")]
async fn warp_answers_503_with_retry_after() {
    let verifier = keyless_verifier();
    let enforcing = approov_warp::ApproovFilter::new(verifier.clone());
    let report_only = approov_warp::ApproovFilter::new(verifier).report_only(true);
    let app = warp::path::end()
        .and(enforcing.protect())
        .map(|| warp::Reply::into_response(HELLO_BODY))
        .or(warp::path!("report-only")
            .and(report_only.outcome())
            .map(|outcome: ApproovOutcome| {
                warp::Reply::into_response(warp::reply::with_header(
                    HELLO_BODY,
                    OUTCOME_HEADER,
                    outcome_name(Some(&outcome)),
                ))
            }))
        .unify()
        .recover(approov_warp::recover)
        .unify()
        .boxed();
    let token = token();
    let with_token = [(TOKEN_HEADER, token.as_str())];
    if let Err(e) = check_keys_unavailable(&warp_send(&app, "/", &with_token).await) {
        panic!("{e}");
    }
    assert_eq!(warp_send(&app, "/", &[]).await.status, 401);
    let answer = warp_send(&app, "/report-only", &with_token).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header(OUTCOME_HEADER), Some("keys_unavailable"));
}
