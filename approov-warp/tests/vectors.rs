//! The tokens published in Approov's official quickstarts, through a warp
//! route (`approov_core::mint::PUBLISHED_VECTORS`).

mod common;

use approov_core::{RejectionKind, TokenBinding, Verifier};
use approov_warp::ApproovFilter;
use common::*;
use serde_json::Value;
use warp::http::StatusCode;

fn vectors() -> Value {
    let text = approov_core::mint::PUBLISHED_VECTORS;
    serde_json::from_str(text).expect("vectors are JSON")
}

/// The named vector's token, its verifier (system clock: the published
/// tokens expire in 2033, or expired long ago) and its binding detail.
fn vector(name: &str) -> (String, Verifier, Value) {
    let all = vectors();
    let entry = all["tokens"]
        .as_array()
        .expect("tokens")
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("no vector {name}"))
        .clone();
    let secret_name = entry["secret"].as_str().expect("secret name");
    let secret = all["secrets"][secret_name]["base64"]
        .as_str()
        .expect("secret");
    let verifier = Verifier::builder()
        .secret_base64(secret)
        .build()
        .expect("verifier");
    let token = entry["token"].as_str().expect("token").to_owned();
    (token, verifier, entry["detail"].clone())
}

fn with_detail_headers(mut req: Req, detail: &Value) -> Req {
    for (name, value) in detail["headers"].as_object().expect("headers") {
        req = req.header(name, value.as_str().expect("value"));
    }
    req
}

fn binding_of(detail: &Value) -> TokenBinding {
    let names = detail["binding_headers"]
        .as_array()
        .expect("binding_headers");
    TokenBinding::new(names.iter().map(|n| n.as_str().expect("name"))).expect("binding")
}

#[tokio::test]
async fn good_full_is_accepted_and_its_claims_reach_the_handler() {
    let (token, verifier, _) = vector("good_full");
    let approov = ApproovFilter::new(verifier);
    assert_accepted(&approov, &Req::get("/").token(&token)).await;

    use warp::Filter as _;
    let app = boxed(
        approov
            .claims()
            .map(|c: approov_core::ApproovClaims| {
                format!("{} {}", c.did().unwrap_or("-"), c.ip().unwrap_or("-"))
            })
            .recover(approov_warp::recover),
    );
    let res = send(&app, &Req::get("/").token(&token)).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.body, "ExampleApproovTokenDID== 1.2.3.4");
}

#[tokio::test]
async fn good_min_and_fractional_exp_are_accepted() {
    for name in ["good_min", "fractional_exp"] {
        let (token, verifier, _) = vector(name);
        assert_accepted(&ApproovFilter::new(verifier), &Req::get("/").token(&token)).await;
    }
}

#[tokio::test]
async fn bad_signature() {
    let (token, verifier, _) = vector("bad_signature");
    let req = Req::get("/").token(&token);
    assert_rejected(
        &ApproovFilter::new(verifier),
        &req,
        RejectionKind::Signature,
    )
    .await;
}

#[tokio::test]
async fn expired() {
    for name in ["expired", "expired_fractional"] {
        let (token, verifier, _) = vector(name);
        let req = Req::get("/").token(&token);
        assert_rejected(&ApproovFilter::new(verifier), &req, RejectionKind::Expired).await;
    }
}

#[tokio::test]
async fn no_exp_and_no_alg() {
    let (token, verifier, _) = vector("no_exp");
    let req = Req::get("/").token(&token);
    assert_rejected(&ApproovFilter::new(verifier), &req, RejectionKind::Claim).await;
    let (token, verifier, _) = vector("no_alg_enc_header");
    let req = Req::get("/").token(&token);
    assert_rejected(
        &ApproovFilter::new(verifier),
        &req,
        RejectionKind::Algorithm,
    )
    .await;
}

#[tokio::test]
async fn good_full_with_binding_and_its_headers() {
    let (token, verifier, detail) = vector("good_full_with_binding");
    let approov = ApproovFilter::new(verifier).token_binding(binding_of(&detail));
    let req = with_detail_headers(Req::get("/").token(&token), &detail);
    assert_accepted(&approov, &req).await;

    // Another user's session with the same token:
    let stolen = Req::get("/")
        .token(&token)
        .header("Authorization", "Bearer another_user")
        .header("X-Device-Id", "my-device-id");
    assert_rejected(&approov, &stolen, RejectionKind::Binding).await;
    // A bound header left out:
    let partial = Req::get("/")
        .token(&token)
        .header("Authorization", "Bearer myauth_token");
    assert_rejected(&approov, &partial, RejectionKind::BindingHeader).await;
}

#[tokio::test]
async fn wrong_binding_is_refused_only_where_bound() {
    let (token, verifier, detail) = vector("wrong_binding");
    let req = with_detail_headers(Req::get("/").token(&token), &detail);
    let approov = ApproovFilter::new(verifier);
    assert_accepted(&approov, &req).await;
    let bound = approov.token_binding(binding_of(&detail));
    assert_rejected(&bound, &req, RejectionKind::Binding).await;
}
