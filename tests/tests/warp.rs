//! The conformance table against approov-warp, in-process through
//! `warp::service` (which, unlike `warp::test`, keeps repeated headers).

use approov_conformance::{
    Answer, BEARER_HEADER, BEARER_SCHEME, CUSTOM_BODY, CUSTOM_STATUS, Case, HELLO_BODY,
    OUTCOME_HEADER, REASON_HEADER, Route, all_requests, binding, check, message_signing,
    outcome_name, pair_binding, verifier,
};
use approov_core::ApproovOutcome;
use approov_warp::ApproovFilter;
use http_body_util::BodyExt as _;
use std::convert::Infallible;
use tower_service::Service as _;
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::http::{HeaderName, HeaderValue, Request, Response};
use warp::reply::Reply;

type Route_ = BoxedFilter<(warp::reply::Response,)>;

/// The bearer routes set the scheme through the filter's own options.
fn bearer(v: approov_core::Verifier) -> ApproovFilter {
    ApproovFilter::new(v)
        .token_header(BEARER_HEADER)
        .and_then(|a| a.token_scheme(BEARER_SCHEME))
        .expect("bearer options")
}

fn approov(route: Route) -> ApproovFilter {
    let v = verifier();
    match route {
        Route::Bearer => bearer(v),
        Route::BearerReportOnly => bearer(v).report_only(true),
        Route::BoundPair => ApproovFilter::new(v).token_binding(pair_binding()),
        Route::BoundPairReportOnly => ApproovFilter::new(v)
            .token_binding(pair_binding())
            .report_only(true),
        Route::Plain => ApproovFilter::new(v),
        Route::Bound => ApproovFilter::new(v).token_binding(binding()),
        Route::ReportOnly => ApproovFilter::new(v).report_only(true),
        Route::BoundReportOnly => ApproovFilter::new(v)
            .token_binding(binding())
            .report_only(true),
        Route::Custom => ApproovFilter::new(v).rejection_response(|r| {
            Response::builder()
                .status(CUSTOM_STATUS)
                .header(REASON_HEADER, r.kind().as_str())
                .body(CUSTOM_BODY.to_owned())
                .expect("static response")
        }),
        Route::NoPreflightSkip => ApproovFilter::new(v).skip_cors_preflight(false),
        Route::Health | Route::MessageSigning | Route::MessageSigningAccount => {
            unreachable!("configured in `route`")
        }
    }
}

fn path(route: Route) -> BoxedFilter<()> {
    match route {
        Route::Plain => warp::path::end().boxed(),
        Route::Bound => warp::path!("token-binding").boxed(),
        Route::Health => warp::path!("health").boxed(),
        Route::ReportOnly => warp::path!("report-only").boxed(),
        Route::BoundReportOnly => warp::path!("token-binding" / "report-only").boxed(),
        Route::Custom => warp::path!("custom").boxed(),
        Route::NoPreflightSkip => warp::path!("no-preflight-skip").boxed(),
        Route::MessageSigning => warp::path!("message-signing").boxed(),
        Route::MessageSigningAccount => warp::path!("message-signing" / "account").boxed(),
        Route::Bearer => warp::path!("bearer").boxed(),
        Route::BearerReportOnly => warp::path!("bearer" / "report-only").boxed(),
        Route::BoundPair => warp::path!("token-binding" / "pair").boxed(),
        Route::BoundPairReportOnly => warp::path!("token-binding" / "pair" / "report-only").boxed(),
    }
}

fn hello() -> warp::reply::Response {
    warp::reply::with_header(HELLO_BODY, "content-type", "application/json").into_response()
}

fn route(route: Route) -> Route_ {
    let methods = warp::get().or(warp::options()).unify();
    let base = path(route).and(methods);
    match route {
        Route::Health => base.map(|| "ok".into_response()).boxed(),
        r if r.is_report_only() => base
            .and(approov(route).outcome())
            .map(|outcome: ApproovOutcome| {
                warp::reply::with_header(HELLO_BODY, OUTCOME_HEADER, outcome_name(Some(&outcome)))
                    .into_response()
            })
            .boxed(),
        Route::MessageSigning | Route::MessageSigningAccount => {
            let signing = message_signing(route == Route::MessageSigningAccount);
            path(route)
                .and(warp::get().or(warp::post()).unify())
                .and(warp::method())
                .and(
                    ApproovFilter::new(verifier())
                        .message_signing(signing)
                        .signed_claims(),
                )
                .map(|method: warp::http::Method, _claims, body: bytes::Bytes| {
                    // The handler answers only if the buffered body reached it.
                    if method == warp::http::Method::POST && body.is_empty() {
                        return warp::http::StatusCode::BAD_REQUEST.into_response();
                    }
                    hello()
                })
                .boxed()
        }
        _ => base.and(approov(route).protect()).map(hello).boxed(),
    }
}

fn app() -> BoxedFilter<(warp::reply::Response,)> {
    let mut routes = route(Route::Health);
    for r in Route::ALL.into_iter().filter(|r| *r != Route::Health) {
        routes = routes.or(route(r)).unify().boxed();
    }
    routes.recover(approov_warp::recover).unify().boxed()
}

async fn send(app: &BoxedFilter<(warp::reply::Response,)>, case: &Case) -> Answer {
    let mut request = Request::new(http_body_util::Full::new(bytes::Bytes::from(
        case.body.clone(),
    )));
    *request.method_mut() = case.method.parse().expect("method");
    *request.uri_mut() = case.route.path().parse().expect("path");
    for (name, value) in &case.headers {
        request.headers_mut().append(
            HeaderName::from_bytes(name.as_bytes()).expect("header name"),
            HeaderValue::from_bytes(value).expect("header bytes the http crate accepts"),
        );
    }
    let response: Result<_, Infallible> = warp::service(app.clone()).call(request).await;
    let (parts, body) = response.expect("infallible").into_parts();
    let body = body.collect().await.expect("body").to_bytes().to_vec();
    Answer {
        status: parts.status.as_u16(),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("?").to_owned()))
            .collect(),
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
