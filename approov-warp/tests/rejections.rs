//! Every way a token is refused: each case checks the default 401, the
//! reason (through a custom response echoing the kind) and report-only mode.

mod common;

use std::time::Duration;

use approov_core::RejectionKind;
use approov_warp::ApproovFilter;
use common::*;

fn approov() -> ApproovFilter {
    ApproovFilter::new(verifier())
}

#[tokio::test]
async fn a_valid_token_is_accepted() {
    assert_accepted(&approov(), &Req::get("/").token(&token())).await;
}

#[tokio::test]
async fn missing_token() {
    assert_rejected(&approov(), &Req::get("/"), RejectionKind::Missing).await;
}

#[tokio::test]
async fn empty_token() {
    assert_rejected(&approov(), &Req::get("/").token(""), RejectionKind::Missing).await;
}

#[tokio::test]
async fn a_bearer_token_elsewhere_is_not_an_approov_token() {
    let req = Req::get("/").header("Authorization", &format!("Bearer {}", token()));
    assert_rejected(&approov(), &req, RejectionKind::Missing).await;
}

#[tokio::test]
async fn garbage_tokens() {
    for garbage in ["garbage", "a.b", "a.b.c", "...", "Bearer", "!!!.e30.e30"] {
        let req = Req::get("/").token(garbage);
        assert_rejected(&approov(), &req, RejectionKind::Malformed).await;
    }
}

#[tokio::test]
async fn a_bearer_prefix_makes_the_token_malformed() {
    let req = Req::get("/").token(&format!("Bearer {}", token()));
    assert_rejected(&approov(), &req, RejectionKind::Malformed).await;
}

#[tokio::test]
async fn expired_once_the_clock_passes_exp() {
    let (verifier, clock) = verifier_with_clock();
    let approov = ApproovFilter::new(verifier);
    let req = Req::get("/").token(&token());
    assert_accepted(&approov, &req).await;
    clock.advance(Duration::from_secs(301));
    assert_rejected(&approov, &req, RejectionKind::Expired).await;
}

#[tokio::test]
async fn not_yet_valid() {
    let req = Req::get("/").token(&sign(&claims().claim("nbf", NOW + 60)));
    assert_rejected(&approov(), &req, RejectionKind::NotYetValid).await;
}

#[tokio::test]
async fn signed_with_another_secret() {
    let token = claims()
        .sign_hs256_base64(OTHER_SECRET)
        .expect("valid secret");
    assert_rejected(
        &approov(),
        &Req::get("/").token(&token),
        RejectionKind::Signature,
    )
    .await;
}

#[tokio::test]
async fn alg_none() {
    for (alg, signed) in [("none", false), ("none", true), ("None", false)] {
        let builder = claims().header("alg", alg);
        let token = if signed {
            sign(&builder)
        } else {
            builder.unsigned()
        };
        assert_rejected(
            &approov(),
            &Req::get("/").token(&token),
            RejectionKind::Algorithm,
        )
        .await;
    }
}

#[tokio::test]
async fn hs512_when_hs256_is_configured() {
    let token = sign(&claims().header("alg", "HS512"));
    assert_rejected(
        &approov(),
        &Req::get("/").token(&token),
        RejectionKind::Algorithm,
    )
    .await;
}

#[tokio::test]
async fn no_alg() {
    let token = sign(&claims().without_header("alg"));
    assert_rejected(
        &approov(),
        &Req::get("/").token(&token),
        RejectionKind::Algorithm,
    )
    .await;
    // `{}` as header: well-formed JSON, no alg.
    let req = Req::get("/").token("e30.e30.e30");
    assert_rejected(&approov(), &req, RejectionKind::Algorithm).await;
}

#[tokio::test]
async fn crit_header() {
    let token = sign(&claims().header("crit", serde_json::json!(["exp"])));
    assert_rejected(
        &approov(),
        &Req::get("/").token(&token),
        RejectionKind::Crit,
    )
    .await;
}

#[tokio::test]
async fn tampered_payload() {
    let good = token();
    let forged = claims().claim("did", "SomeoneElsesDevice==").unsigned();
    let mut good_parts = good.split('.');
    let mut forged_parts = forged.split('.');
    let token = format!(
        "{}.{}.{}",
        good_parts.next().expect("header"),
        forged_parts.nth(1).expect("payload"),
        good_parts.nth(1).expect("signature"),
    );
    assert_rejected(
        &approov(),
        &Req::get("/").token(&token),
        RejectionKind::Signature,
    )
    .await;
}

#[tokio::test]
async fn stripped_signature() {
    let good = token();
    let stripped = &good[..=good.rfind('.').expect("two dots")];
    assert_rejected(
        &approov(),
        &Req::get("/").token(stripped),
        RejectionKind::Signature,
    )
    .await;
    let two_segments = &good[..good.rfind('.').expect("two dots")];
    let req = Req::get("/").token(two_segments);
    assert_rejected(&approov(), &req, RejectionKind::Malformed).await;
}

#[tokio::test]
async fn wrong_claim_types() {
    let cases = [
        claims().claim("exp", "1900000000"),
        claims().claim("exp", serde_json::Value::Null),
        claims().without_claim("exp"),
        claims().claim("did", 42),
        claims().claim("ip", serde_json::json!(["1.2.3.4"])),
        claims().claim("pay", true),
        claims().claim("nbf", "0"),
    ];
    for builder in cases {
        let req = Req::get("/").token(&sign(&builder));
        assert_rejected(&approov(), &req, RejectionKind::Claim).await;
    }
}

#[tokio::test]
async fn oversized_token() {
    let huge = format!("{}.{}", token(), "A".repeat(5000));
    assert_rejected(
        &approov(),
        &Req::get("/").token(&huge),
        RejectionKind::TooLong,
    )
    .await;

    let padded = sign(&claims().claim("padding", "x".repeat(400)));
    let strict = ApproovFilter::new(
        approov_core::Verifier::builder()
            .secret_base64(SECRET)
            .clock(approov_core::ManualClock::at_unix(NOW))
            .max_token_len(256)
            .build()
            .expect("verifier"),
    );
    assert_rejected(
        &strict,
        &Req::get("/").token(&padded),
        RejectionKind::TooLong,
    )
    .await;
    assert_accepted(&approov(), &Req::get("/").token(&padded)).await;
}

#[tokio::test]
async fn repeated_token_header() {
    let twice = Req::get("/").token(&token()).token(&token());
    assert_rejected(&approov(), &twice, RejectionKind::Multiple).await;
    let with_empty = Req::get("/").token(&token()).token("");
    assert_rejected(&approov(), &with_empty, RejectionKind::Multiple).await;
    // Header names are case-insensitive: these are the same header twice.
    let mixed = Req::get("/")
        .header("approov-token", &token())
        .header("APPROOV-TOKEN", "x");
    assert_rejected(&approov(), &mixed, RejectionKind::Multiple).await;
}

#[tokio::test]
async fn non_utf8_and_obs_text_bytes_are_refused_never_a_5xx() {
    let good = token();
    let cases: [Vec<u8>; 5] = [
        b"\xff\xfe\xfd".to_vec(),
        [good.as_bytes(), b"\x80"].concat(),
        [b"\xc3\xa9".as_slice(), good.as_bytes()].concat(),
        format!("{good} trailing").into_bytes(),
        b"a.b\tc".to_vec(),
    ];
    for bytes in cases {
        let req = Req::get("/").header_bytes("Approov-Token", &bytes);
        assert_rejected(&approov(), &req, RejectionKind::Malformed).await;
    }
}

#[tokio::test]
async fn the_kind_comes_from_the_filter_itself() {
    // Without any response mapping: the rejection warp sees is ours.
    let filter = approov().outcome();
    let err = warp::test::request()
        .header("approov-token", "garbage")
        .filter(&filter)
        .await
        .expect_err("garbage is refused");
    let ours = err.find::<approov_warp::NoClaims>().expect("ours");
    assert_eq!(ours.kind(), RejectionKind::Malformed);
    assert_eq!(ours.rejection().kind(), RejectionKind::Malformed);
    assert!(!ours.has_custom_response());
    // Never any part of the token in what gets logged.
    let expired = sign(&claims().claim("exp", (NOW - 1) as f64));
    let err = warp::test::request()
        .header("approov-token", &expired)
        .filter(&filter)
        .await
        .expect_err("expired");
    let debug = format!("{err:?}");
    assert!(debug.contains("Expired"), "{debug}");
    for segment in expired.split('.') {
        assert!(!debug.contains(segment), "{debug}");
    }
}
