//! Every way a token can be refused, through the middleware: each test
//! asserts the 401 response and the reason's kind.

mod common;

use actix_web::http::header::HeaderValue;
use actix_web::test::{self, TestRequest};
use actix_web::{App, web};
use approov_actix::ApproovMiddleware;
use approov_core::mint::TokenBuilder;
use approov_core::{ManualClock, RejectionKind, Verifier};
use common::*;
use std::time::Duration;

/// Sends `req` to an app enforcing Approov with `verifier`.
async fn through(verifier: Verifier, req: TestRequest) -> Reply {
    let app = test::init_service(
        App::new()
            .wrap(with_reason(ApproovMiddleware::new(verifier)))
            .default_service(web::to(echo_outcome)),
    )
    .await;
    send(&app, req.to_request()).await
}

/// Sends a GET with this `Approov-Token` value.
async fn with_token(value: impl Into<Vec<u8>>) -> Reply {
    let value = HeaderValue::from_bytes(&value.into()).expect("a value actix can carry");
    through(
        verifier(),
        TestRequest::get().insert_header(("Approov-Token", value)),
    )
    .await
}

#[actix_web::test]
async fn a_valid_token_reaches_the_handler() {
    with_token(token()).await.assert_ok("verified device-1");
}

#[actix_web::test]
async fn no_token_header_is_missing() {
    through(verifier(), TestRequest::get())
        .await
        .assert_rejected(RejectionKind::Missing);
}

#[actix_web::test]
async fn an_empty_token_is_missing() {
    with_token("").await.assert_rejected(RejectionKind::Missing);
}

#[actix_web::test]
async fn garbage_is_malformed() {
    for garbage in ["not-a-token", "a.b.c", "a.b", "....", "Bearer", "eyJ.eyJ.x"] {
        let reply = with_token(garbage).await;
        reply.assert_rejected(RejectionKind::Malformed);
    }
}

#[actix_web::test]
async fn a_bearer_prefix_is_malformed() {
    // The token goes in the header raw; `Bearer x` has a space.
    with_token(format!("Bearer {}", token()))
        .await
        .assert_rejected(RejectionKind::Malformed);
}

#[actix_web::test]
async fn an_expired_token_is_expired() {
    let expired = sign(&claims().exp((NOW - 1) as f64));
    with_token(expired)
        .await
        .assert_rejected(RejectionKind::Expired);
    let at_the_second = sign(&claims().exp(NOW as f64));
    with_token(at_the_second)
        .await
        .assert_rejected(RejectionKind::Expired);
}

#[actix_web::test]
async fn a_token_expires_when_the_clock_passes_exp() {
    let clock = ManualClock::at_unix(NOW);
    let app = test::init_service(
        App::new()
            .wrap(with_reason(ApproovMiddleware::new(verifier_with(
                clock.clone(),
            ))))
            .default_service(web::to(echo_outcome)),
    )
    .await;
    let token = token();
    let req = || TestRequest::get().insert_header(("Approov-Token", token.as_str()));
    send(&app, req().to_request())
        .await
        .assert_ok("verified device-1");
    clock.advance(Duration::from_secs(300));
    send(&app, req().to_request())
        .await
        .assert_rejected(RejectionKind::Expired);
}

#[actix_web::test]
async fn a_token_not_valid_yet_is_not_yet_valid() {
    let early = sign(&claims().claim("nbf", NOW + 60));
    with_token(early)
        .await
        .assert_rejected(RejectionKind::NotYetValid);
}

#[actix_web::test]
async fn a_token_signed_with_another_secret_is_a_bad_signature() {
    let forged = claims().sign_hs256_base64(OTHER_SECRET).expect("sign");
    with_token(forged)
        .await
        .assert_rejected(RejectionKind::Signature);
}

#[actix_web::test]
async fn alg_none_is_refused() {
    let unsigned = claims().header("alg", "none").unsigned();
    with_token(unsigned)
        .await
        .assert_rejected(RejectionKind::Algorithm);
}

#[actix_web::test]
async fn hs512_is_refused_when_hs256_is_configured() {
    let hs512 = sign(&claims().header("alg", "HS512"));
    with_token(hs512)
        .await
        .assert_rejected(RejectionKind::Algorithm);
}

#[actix_web::test]
async fn a_crit_header_is_refused() {
    let crit = sign(&claims().header("crit", serde_json::json!(["exp"])));
    with_token(crit).await.assert_rejected(RejectionKind::Crit);
}

#[actix_web::test]
async fn a_tampered_payload_is_a_bad_signature() {
    let genuine = token();
    let other = sign(&claims().claim("did", "someone-else"));
    let parts: Vec<&str> = genuine.split('.').collect();
    let other_payload = other.split('.').nth(1).expect("payload");
    let tampered = format!("{}.{}.{}", parts[0], other_payload, parts[2]);
    with_token(tampered)
        .await
        .assert_rejected(RejectionKind::Signature);
}

#[actix_web::test]
async fn a_stripped_signature_is_refused() {
    let genuine = token();
    let stripped = &genuine[..=genuine.rfind('.').expect("two dots")];
    with_token(stripped)
        .await
        .assert_rejected(RejectionKind::Signature);
}

#[actix_web::test]
async fn claims_of_the_wrong_type_are_refused() {
    let cases = [
        claims().claim("exp", "soon"),
        claims().claim("exp", serde_json::Value::Null),
        claims().claim("did", 42),
        claims().claim("ip", serde_json::json!(["1.2.3.4"])),
        claims().claim("pay", true),
        claims().claim("nbf", "now"),
    ];
    for case in &cases {
        with_token(sign(case))
            .await
            .assert_rejected(RejectionKind::Claim);
    }
}

#[actix_web::test]
async fn a_token_without_exp_is_refused() {
    with_token(sign(&claims().without_claim("exp")))
        .await
        .assert_rejected(RejectionKind::Claim);
}

#[actix_web::test]
async fn an_oversized_token_is_too_long() {
    let huge = sign(&claims().claim("filler", "x".repeat(5000)));
    with_token(huge)
        .await
        .assert_rejected(RejectionKind::TooLong);
    with_token("a".repeat(70_000))
        .await
        .assert_rejected(RejectionKind::TooLong);
}

#[actix_web::test]
async fn a_repeated_token_header_is_refused_even_when_both_are_valid() {
    let token = token();
    let req = TestRequest::get()
        .append_header(("Approov-Token", token.as_str()))
        .append_header(("approov-token", token.as_str()));
    through(verifier(), req)
        .await
        .assert_rejected(RejectionKind::Multiple);
}

#[actix_web::test]
async fn non_ascii_token_bytes_are_malformed_never_a_server_error() {
    let token = token();
    let cases: [Vec<u8>; 4] = [
        [token.as_bytes(), b"\xff"].concat(),
        b"\x80\x81\xfe\xff".to_vec(),
        "caf\u{e9}.b.c".as_bytes().to_vec(),
        [b"a\tb.", token.as_bytes()].concat(),
    ];
    for value in cases {
        with_token(value)
            .await
            .assert_rejected(RejectionKind::Malformed);
    }
}

#[actix_web::test]
async fn the_default_response_says_nothing_about_the_reason() {
    let app = test::init_service(
        App::new()
            .wrap(ApproovMiddleware::new(verifier()))
            .default_service(web::to(echo_outcome)),
    )
    .await;
    let expired = sign(&claims().exp((NOW - 1) as f64));
    for req in [
        TestRequest::get(),
        TestRequest::post().insert_header(("Approov-Token", expired.as_str())),
    ] {
        let reply = send(&app, req.to_request()).await;
        reply.assert_default_401();
        assert_eq!(
            reply.headers.len(),
            2,
            "only content-type and www-authenticate: {reply:?}"
        );
    }
}

#[actix_web::test]
async fn minted_example_tokens_verify_with_the_system_clock() {
    // The rest of this file uses a stopped clock; this checks the real one.
    let verifier = Verifier::builder()
        .secret_base64(SECRET)
        .build()
        .expect("verifier");
    let token = TokenBuilder::approov_example()
        .sign_hs256_base64(SECRET)
        .expect("sign");
    through(
        verifier,
        TestRequest::get().insert_header(("Approov-Token", token)),
    )
    .await
    .assert_ok("verified ExampleApproovTokenDID==");
}
