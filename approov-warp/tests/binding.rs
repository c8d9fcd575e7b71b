//! Token binding through the warp filters: `pay` must match the bound
//! headers, per route.

mod common;

use approov_core::{RejectionKind, TokenBinding, Verifier};
use approov_warp::ApproovFilter;
use common::*;
use warp::Filter;
use warp::http::StatusCode;

const AUTH: &str = "Bearer myauth_token";

fn bound() -> ApproovFilter {
    ApproovFilter::new(verifier())
        .token_binding(TokenBinding::new(["Authorization"]).expect("binding"))
}

fn bound_token(auth: &str) -> String {
    sign(&claims().pay_for([auth]))
}

#[tokio::test]
async fn binding_matches() {
    let req = Req::get("/")
        .token(&bound_token(AUTH))
        .header("Authorization", AUTH);
    assert_accepted(&bound(), &req).await;
}

#[tokio::test]
async fn binding_mismatch() {
    let req = Req::get("/")
        .token(&bound_token(AUTH))
        .header("Authorization", "Bearer someone_else");
    assert_rejected(&bound(), &req, RejectionKind::Binding).await;
}

#[tokio::test]
async fn token_without_pay() {
    let req = Req::get("/").token(&token()).header("Authorization", AUTH);
    assert_rejected(&bound(), &req, RejectionKind::BindingMissing).await;
}

#[tokio::test]
async fn failover_tolerant_binding_accepts_a_token_without_pay() {
    let tolerant = ApproovFilter::new(verifier()).token_binding(
        TokenBinding::new(["Authorization"])
            .expect("binding")
            .failover_tolerant(true),
    );
    let req = Req::get("/").token(&token()).header("Authorization", AUTH);
    assert_accepted(&tolerant, &req).await;
    // A pay that is present is still checked.
    let wrong = Req::get("/")
        .token(&bound_token("Bearer x"))
        .header("Authorization", AUTH);
    assert_rejected(&tolerant, &wrong, RejectionKind::Binding).await;
}

#[tokio::test]
async fn bound_header_missing_repeated_or_empty() {
    let token = bound_token(AUTH);
    let missing = Req::get("/").token(&token);
    assert_rejected(&bound(), &missing, RejectionKind::BindingHeader).await;
    let repeated = Req::get("/")
        .token(&token)
        .header("Authorization", AUTH)
        .header("Authorization", AUTH);
    assert_rejected(&bound(), &repeated, RejectionKind::BindingHeader).await;
    let empty = Req::get("/")
        .token(&bound_token(""))
        .header("Authorization", "");
    assert_rejected(&bound(), &empty, RejectionKind::BindingHeader).await;
}

#[tokio::test]
async fn binding_to_several_headers_in_order() {
    let approov = ApproovFilter::new(verifier())
        .token_binding(TokenBinding::new(["Authorization", "X-Device-Id"]).expect("binding"));
    let token = sign(&claims().pay_for([AUTH, "device-1"]));
    let good = Req::get("/")
        .token(&token)
        .header("X-Device-Id", "device-1")
        .header("Authorization", AUTH);
    assert_accepted(&approov, &good).await;
    let swapped = sign(&claims().pay_for(["device-1", AUTH]));
    let bad = Req::get("/")
        .token(&swapped)
        .header("X-Device-Id", "device-1")
        .header("Authorization", AUTH);
    assert_rejected(&approov, &bad, RejectionKind::Binding).await;
}

#[tokio::test]
async fn one_route_bound_and_another_not() {
    let approov = ApproovFilter::new(verifier());
    let bound = approov
        .clone()
        .token_binding(TokenBinding::new(["Authorization"]).expect("binding"));
    let app = boxed(
        warp::path!("bound")
            .and(bound.protect())
            .map(|| "bound")
            .or(warp::path!("plain").and(approov.protect()).map(|| "plain"))
            .recover(approov_warp::recover),
    );

    // A token without pay: fine where nothing is bound, refused where it is.
    let unbound = token();
    let res = send(&app, &Req::get("/plain").token(&unbound)).await;
    assert_eq!((res.status, res.body.as_str()), (StatusCode::OK, "plain"));
    let res = send(
        &app,
        &Req::get("/bound")
            .token(&unbound)
            .header("Authorization", AUTH),
    )
    .await;
    res.assert_default_rejection();

    let with_pay = bound_token(AUTH);
    let res = send(
        &app,
        &Req::get("/bound")
            .token(&with_pay)
            .header("Authorization", AUTH),
    )
    .await;
    assert_eq!((res.status, res.body.as_str()), (StatusCode::OK, "bound"));
    // The unbound route ignores pay entirely.
    let res = send(&app, &Req::get("/plain").token(&with_pay)).await;
    assert_eq!((res.status, res.body.as_str()), (StatusCode::OK, "plain"));
}

#[tokio::test]
async fn without_token_binding_drops_the_verifiers_binding() {
    let verifier = Verifier::builder()
        .secret_base64(SECRET)
        .clock(approov_core::ManualClock::at_unix(NOW))
        .token_binding(TokenBinding::new(["Authorization"]).expect("binding"))
        .build()
        .expect("verifier");
    let req = Req::get("/").token(&token());
    let strict = ApproovFilter::new(verifier);
    assert_rejected(&strict, &req, RejectionKind::BindingMissing).await;
    let relaxed = strict.clone().without_token_binding();
    assert!(relaxed.verifier().token_binding().is_none());
    assert_accepted(&relaxed, &req).await;
    // The original is untouched.
    assert!(strict.verifier().token_binding().is_some());
}
