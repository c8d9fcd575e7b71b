//! Tokens published in Approov's official quickstarts
//! (`approov_core::mint::PUBLISHED_VECTORS`), sent through the
//! middleware with the real clock.

mod common;

use actix_web::test::{self, TestRequest};
use actix_web::{App, web};
use approov_actix::ApproovMiddleware;
use approov_core::{RejectionKind, TokenBinding, Verifier};
use common::*;
use serde_json::Value;

fn vectors() -> Value {
    let text = approov_core::mint::PUBLISHED_VECTORS;
    serde_json::from_str(text).expect("vectors are JSON")
}

/// The named case: its token, the base64 secret it was made with, and its
/// `detail` (binding headers and values) when it has one.
fn case(v: &Value, name: &str) -> (String, String, Option<Value>) {
    let case = v["tokens"]
        .as_array()
        .expect("tokens")
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no vector {name}"));
    let secret = case["secret"].as_str().expect("secret");
    let b64 = v["secrets"][secret]["base64"].as_str().expect("base64");
    let detail = case["detail"].is_object().then(|| case["detail"].clone());
    (
        case["token"].as_str().expect("token").to_owned(),
        b64.to_owned(),
        detail,
    )
}

fn binding(detail: &Value) -> TokenBinding {
    let names = detail["binding_headers"]
        .as_array()
        .expect("binding_headers")
        .iter()
        .map(|n| n.as_str().expect("name"));
    TokenBinding::new(names).expect("binding")
}

fn request(token: &str, detail: Option<&Value>) -> TestRequest {
    let mut req = TestRequest::get().insert_header(("Approov-Token", token));
    if let Some(detail) = detail {
        for (name, value) in detail["headers"].as_object().expect("headers") {
            req = req.insert_header((name.as_str(), value.as_str().expect("value")));
        }
    }
    req
}

/// Sends the named vector to an app with and without its token binding.
async fn run(name: &str, bound: bool, tweak: impl FnOnce(TestRequest) -> TestRequest) -> Reply {
    let v = vectors();
    let (token, secret, detail) = case(&v, name);
    let verifier = Verifier::builder()
        .secret_base64(&secret)
        .build()
        .expect("verifier");
    let mut middleware = with_reason(ApproovMiddleware::new(verifier));
    if bound {
        middleware = middleware.token_binding(binding(detail.as_ref().expect("detail")));
    }
    let app = test::init_service(
        App::new()
            .wrap(middleware)
            .default_service(web::to(echo_outcome)),
    )
    .await;
    send(&app, tweak(request(&token, detail.as_ref())).to_request()).await
}

#[actix_web::test]
async fn good_full_is_accepted() {
    run("good_full", false, |r| r)
        .await
        .assert_ok("verified ExampleApproovTokenDID==");
}

#[actix_web::test]
async fn good_min_is_accepted() {
    run("good_min", false, |r| r)
        .await
        .assert_ok("verified ExampleApproovTokenDID==");
}

#[actix_web::test]
async fn bad_signature_is_refused() {
    run("bad_signature", false, |r| r)
        .await
        .assert_rejected(RejectionKind::Signature);
}

#[actix_web::test]
async fn expired_is_refused() {
    run("expired", false, |r| r)
        .await
        .assert_rejected(RejectionKind::Expired);
    run("expired_fractional", false, |r| r)
        .await
        .assert_rejected(RejectionKind::Expired);
}

#[actix_web::test]
async fn a_header_without_alg_is_refused() {
    run("no_alg_enc_header", false, |r| r)
        .await
        .assert_rejected(RejectionKind::Algorithm);
}

#[actix_web::test]
async fn good_full_with_binding_is_accepted_with_its_headers() {
    run("good_full_with_binding", true, |r| r)
        .await
        .assert_ok("verified ExampleApproovTokenDID==");
}

#[actix_web::test]
async fn good_full_with_binding_is_refused_with_other_headers() {
    run("good_full_with_binding", true, |r| {
        r.insert_header(("Authorization", "Bearer someone-else"))
    })
    .await
    .assert_rejected(RejectionKind::Binding);
    run("good_full_with_binding", true, |r| {
        r.insert_header(("X-Device-Id", "another-device"))
    })
    .await
    .assert_rejected(RejectionKind::Binding);
}

#[actix_web::test]
async fn fractional_exp_and_its_binding_are_accepted() {
    run("fractional_exp", false, |r| r)
        .await
        .assert_ok("verified -");
    run("binding_fractional", true, |r| r)
        .await
        .assert_ok("verified -");
}

#[actix_web::test]
async fn mismatched_bindings_are_refused_only_when_bound() {
    for name in ["wrong_binding", "mismatching_binding"] {
        run(name, true, |r| r)
            .await
            .assert_rejected(RejectionKind::Binding);
        let reply = run(name, false, |r| r).await;
        assert_eq!(reply.status, 200, "{name}: {reply:?}");
    }
}
