//! The shared adapter options through warp: report-only mode, CORS
//! preflights, a custom rejection response, another token header and
//! scheme, and the claims reaching the handler.

mod common;

use approov_core::{ApproovClaims, ApproovOutcome, RejectionKind};
use approov_warp::ApproovFilter;
use common::*;
use warp::Filter;
use warp::http::{Response, StatusCode};

fn approov() -> ApproovFilter {
    ApproovFilter::new(verifier())
}

fn preflight() -> Req {
    Req::get("/")
        .method("OPTIONS")
        .header("Origin", "https://app.example")
        .header("Access-Control-Request-Method", "POST")
}

#[tokio::test]
async fn report_only_lets_refused_tokens_through_marked() {
    let app = reporting(&approov());
    let res = send(&app, &Req::get("/").token("garbage")).await;
    assert_eq!(
        (res.status, res.body.as_str()),
        (StatusCode::OK, "malformed")
    );
    let res = send(&app, &Req::get("/")).await;
    assert_eq!((res.status, res.body.as_str()), (StatusCode::OK, "missing"));
    let res = send(&app, &Req::get("/").token(&token())).await;
    assert_eq!(
        (res.status, res.body.as_str()),
        (StatusCode::OK, "verified")
    );
}

#[tokio::test]
async fn report_only_protect_passes_everything() {
    let app = protected(&approov().report_only(true));
    for req in [
        Req::get("/"),
        Req::get("/").token("x"),
        Req::get("/").token(&token()),
    ] {
        let res = send(&app, &req).await;
        assert_eq!((res.status, res.body.as_str()), (StatusCode::OK, "ok"));
    }
}

#[tokio::test]
async fn claims_require_a_verified_token_even_in_report_only_mode() {
    let approov = approov().report_only(true);
    let app = boxed(
        approov
            .claims()
            .map(|claims: ApproovClaims| claims.did().unwrap_or_default().to_owned())
            .recover(approov_warp::recover),
    );
    send(&app, &Req::get("/")).await.assert_default_rejection();
    send(&app, &Req::get("/").token("garbage"))
        .await
        .assert_default_rejection();
    let res = send(&app, &Req::get("/").token(&token())).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.body, "ExampleApproovTokenDID==");

    // And the reason is the real one.
    let err = warp::test::request()
        .header("approov-token", "garbage")
        .filter(&approov.claims())
        .await
        .expect_err("refused");
    let ours = err.find::<approov_warp::NoClaims>().expect("ours");
    assert_eq!(ours.kind(), RejectionKind::Malformed);
}

#[tokio::test]
async fn claims_reach_the_handler() {
    let app = boxed(
        warp::path!("me")
            .and(approov().claims())
            .map(|claims: ApproovClaims| {
                format!(
                    "{} {} {}",
                    claims.did().unwrap_or("-"),
                    claims.ip().unwrap_or("-"),
                    claims.exp()
                )
            })
            .recover(approov_warp::recover),
    );
    let res = send(&app, &Req::get("/me").token(&token())).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(
        res.body,
        format!("ExampleApproovTokenDID== 1.2.3.4 {}", NOW + 300)
    );
}

#[tokio::test]
async fn the_outcome_carries_the_claims() {
    let outcome = warp::test::request()
        .header("approov-token", token())
        .filter(&approov().outcome())
        .await
        .expect("verified");
    let ApproovOutcome::Verified(claims) = outcome else {
        panic!("expected Verified, got {outcome:?}");
    };
    assert_eq!(claims.ip(), Some("1.2.3.4"));
}

#[tokio::test]
async fn cors_preflight_is_skipped_by_default() {
    let res = send(&protected(&approov()), &preflight()).await;
    assert_eq!((res.status, res.body.as_str()), (StatusCode::OK, "ok"));
    let res = send(&reporting(&approov()), &preflight()).await;
    assert_eq!(res.body, "preflight");
}

#[tokio::test]
async fn cors_preflight_is_checked_when_skipping_is_disabled() {
    let strict = approov().skip_cors_preflight(false);
    assert_rejected(&strict, &preflight(), RejectionKind::Missing).await;
}

#[tokio::test]
async fn options_without_preflight_headers_is_checked() {
    let plain_options = Req::get("/").method("OPTIONS");
    assert_rejected(&approov(), &plain_options, RejectionKind::Missing).await;
}

#[tokio::test]
async fn claims_on_a_skipped_preflight_fall_through_to_other_routes() {
    let approov = approov();
    let app = boxed(
        approov
            .claims()
            .map(|_: ApproovClaims| "claims")
            .or(warp::options().map(|| "preflight answered elsewhere"))
            .recover(approov_warp::recover),
    );
    let res = send(&app, &preflight()).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.body, "preflight answered elsewhere");
}

#[tokio::test]
async fn custom_rejection_response() {
    let approov = approov().rejection_response(|rejection| {
        Response::builder()
            .status(StatusCode::FORBIDDEN)
            .header("content-type", "text/plain")
            .header(REASON_HEADER, rejection.kind().as_str())
            .body(String::from("go away"))
            .expect("valid response")
    });
    let res = send(&protected(&approov), &Req::get("/").token("garbage")).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(res.header("content-type"), Some("text/plain"));
    assert_eq!(res.header(REASON_HEADER), Some("malformed"));
    assert_eq!(res.header("www-authenticate"), None);
    assert_eq!(res.body, "go away");
    // Accepted requests are untouched by it.
    let res = send(&protected(&approov), &Req::get("/").token(&token())).await;
    assert_eq!((res.status, res.body.as_str()), (StatusCode::OK, "ok"));
}

#[tokio::test]
async fn custom_response_can_be_any_reply() {
    let approov = approov().rejection_response(|_| {
        warp::reply::with_status(warp::reply::json(&"nope"), StatusCode::UNAUTHORIZED)
    });
    let res = send(&protected(&approov), &Req::get("/")).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    assert_eq!(res.header("content-type"), Some("application/json"));
    assert_eq!(res.body, "\"nope\"");
}

#[tokio::test]
async fn another_token_header() {
    let approov = approov().token_header("X-Approov").expect("valid name");
    assert_eq!(approov.verifier().token_header(), "X-Approov");
    assert_accepted(&approov, &Req::get("/").header("x-approov", &token())).await;
    // The default header is no longer read.
    assert_rejected(
        &approov,
        &Req::get("/").token(&token()),
        RejectionKind::Missing,
    )
    .await;
}

#[test]
fn an_invalid_token_header_name_is_a_configuration_error() {
    for bad in ["", "Approov Token", "X-Approov\n", "é"] {
        assert!(approov().token_header(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn debug_shows_the_configuration_without_secrets() {
    let approov = approov().report_only(true).rejection_response(|_| "no");
    let debug = format!("{approov:?}");
    assert!(debug.contains("report_only: true"), "{debug}");
    assert!(debug.contains("custom_response: true"), "{debug}");
    assert!(!debug.contains(SECRET), "{debug}");
    assert!(!debug.contains(&SECRET[..16]), "{debug}");
}

#[tokio::test]
async fn the_token_scheme_options_check_their_input_and_turn_off() {
    let approov = ApproovFilter::new(verifier())
        .token_header("Authorization")
        .and_then(|a| a.token_scheme("Bearer"))
        .expect("valid options");
    assert_eq!(approov.verifier().token_scheme(), Some("Bearer"));
    assert!(
        ApproovFilter::new(verifier())
            .token_scheme("Bear er")
            .is_err()
    );
    assert!(ApproovFilter::new(verifier()).token_scheme("").is_err());
    let bare = approov.without_token_scheme();
    assert_eq!(bare.verifier().token_scheme(), None);
    assert_accepted(&bare, &Req::get("/").header("Authorization", &token())).await;
}
