//! The body that `signed` / `signed_claims` take: the handler gets its exact
//! bytes however they arrive, a body over the limit is a 413 (and one that
//! cannot be read a 400) without the handler running, in every mode; and
//! the filters without message signing, and around CORS preflights.
#![allow(clippy::unwrap_used)]

mod common;

use approov_core::mint::InstallKey;
use approov_core::signing::{DEFAULT_MAX_BODY_LEN, MessageSigning};
use approov_core::{ApproovOutcome, RejectionKind};
use approov_warp::{ApproovFilter, BodyProblem, BodyRejection, NoClaims};
use bytes::Bytes;
use common::signing::*;
use common::*;
use warp::Filter;
use warp::http::StatusCode;

const LIMIT: usize = 1024;

fn limited() -> ApproovFilter {
    approov_with(MessageSigning::builder().max_body_len(LIMIT))
}

/// A signed POST of `body`.
fn signed_with_body(key: &InstallKey, body: &[u8]) -> Req {
    req_of(
        &post(&token_for(key))
            .body(body)
            .sign_install(key)
            .finish()
            .unwrap(),
    )
}

/// `len` bytes of every value, so a shifted or dropped chunk shows.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

#[track_caller]
fn assert_status(res: &Res, status: StatusCode) {
    assert_eq!(res.status, status, "{res:?}");
    assert_eq!(res.header("content-type"), Some("application/json"));
    assert_eq!(res.header("www-authenticate"), None);
    assert_eq!(res.body, "{}");
}

// --- The exact bytes --------------------------------------------------------

#[tokio::test]
async fn the_handler_gets_the_exact_bytes_of_a_multi_kb_body_in_chunks() {
    let key = InstallKey::generate().unwrap();
    let body = pattern(48 * 1024 + 7);
    let approov = signing_approov();
    let req = signed_with_body(&key, &body);
    assert_passes(&approov, &req, &body).await;
    // The same bytes in uneven chunks, as a network delivers them.
    let chunks = body
        .chunks(4093)
        .map(|c| Chunk::Data(c.to_vec()))
        .chain([Chunk::Data(Vec::new())]);
    assert_passes(&approov, &req.clone().chunks(chunks), &body).await;
}

#[tokio::test]
async fn a_body_of_exactly_the_limit_passes() {
    let key = InstallKey::generate().unwrap();
    let body = pattern(LIMIT);
    let req = signed_with_body(&key, &body).header("Content-Length", &LIMIT.to_string());
    assert_passes(&limited(), &req, &body).await;
}

// --- 413 --------------------------------------------------------------------

#[tokio::test]
async fn a_body_over_the_limit_is_413_and_the_handler_does_not_run() {
    let key = InstallKey::generate().unwrap();
    let body = pattern(LIMIT + 1);
    let signed = signed_with_body(&key, &body);
    let approov = limited();
    let by_length = signed
        .clone()
        .header("Content-Length", &(LIMIT + 1).to_string());
    // Chunked: no Content-Length, the limit is found while reading.
    let by_reading = signed.chunks([
        Chunk::Data(body[..LIMIT].to_vec()),
        Chunk::Data(body[LIMIT..].to_vec()),
    ]);
    for req in [&by_length, &by_reading] {
        let (app, calls) = signed_app(&approov);
        assert_status(&send(&app, req).await, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(calls.count(), 0);
        // Report-only mode cannot let it through: the body is not there.
        let res = send(&signed_reporting(&approov), req).await;
        assert_status(&res, StatusCode::PAYLOAD_TOO_LARGE);
        // Nor does a custom 401 response change it.
        let (app, calls) = signed_echoing(&approov);
        assert_status(&send(&app, req).await, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(calls.count(), 0);
    }
}

#[tokio::test]
async fn a_content_length_over_the_limit_is_413_before_the_body_is_read() {
    // The body would fail if read: the announced length alone decides.
    let key = InstallKey::generate().unwrap();
    let req = signed_with_body(&key, BODY)
        .header("Content-Length", "1000000000")
        .chunks([Chunk::Error]);
    let (app, calls) = signed_app(&limited());
    assert_status(&send(&app, &req).await, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(calls.count(), 0);
}

#[tokio::test]
async fn a_large_body_without_content_digest_is_401_as_the_signature_does_not_cover_it() {
    // Without Content-Digest the signature is checked first: a refused
    // request is a 401 and its body is never read. A body sent without
    // `Content-Length` (warp cannot tell one is coming) must then be empty:
    // the signature does not cover its digest, and its first byte is
    // enough to refuse it (the same 401 the other adapters give).
    let key = InstallKey::generate().unwrap();
    let big = pattern(LIMIT + 1);
    let signed = post(&token_for(&key))
        .body(BODY)
        .content_digest(None)
        .sign_install(&key)
        .finish()
        .unwrap();
    let (app, calls) = signed_app(&limited());
    send(&app, &req_of(&signed).body(big.clone()))
        .await
        .assert_default_rejection();
    let unsigned = req_of(
        &post(&token_for(&key))
            .content_digest(None)
            .finish()
            .unwrap(),
    );
    // (The body would fail if read.)
    send(&app, &unsigned.chunks([Chunk::Error]))
        .await
        .assert_default_rejection();
    assert_eq!(calls.count(), 0);
}

// --- 400 --------------------------------------------------------------------

#[tokio::test]
async fn a_body_that_cannot_be_read_is_400_and_the_handler_does_not_run() {
    let key = InstallKey::generate().unwrap();
    let req = signed_with_body(&key, BODY).chunks([Chunk::Data(BODY[..4].to_vec()), Chunk::Error]);
    let (app, calls) = signed_app(&signing_approov());
    assert_status(&send(&app, &req).await, StatusCode::BAD_REQUEST);
    assert_eq!(calls.count(), 0);
    let res = send(&signed_reporting(&signing_approov()), &req).await;
    assert_status(&res, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_body_rejections_are_named_for_custom_recover_functions() {
    let approov = limited();
    let routes = approov.signed().map(|_, _| "ok");
    let key = InstallKey::generate().unwrap();
    let signed = post(&token_for(&key)).sign_install(&key).finish().unwrap();
    let mut req = warp::test::request().method("POST").path(PATH);
    for (name, value) in &signed.headers {
        req = req.header(name.as_str(), value.as_str());
    }
    let err = req
        .header("content-length", "1025")
        .filter(&routes)
        .await
        .expect_err("refused");
    let body = err.find::<BodyRejection>().expect("a body rejection");
    assert_eq!(body.problem(), BodyProblem::TooLarge { limit: LIMIT });
    assert_eq!(body.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // Without a token, the same announced body is the token's rejection:
    // the head is checked first.
    let err = warp::test::request()
        .method("POST")
        .path(PATH)
        .header("content-digest", "sha-256=:AAAA:")
        .header("content-length", "1025")
        .filter(&routes)
        .await
        .expect_err("refused");
    assert!(err.find::<BodyRejection>().is_none());
    assert_eq!(
        err.find::<NoClaims>().map(NoClaims::kind),
        Some(RejectionKind::Missing)
    );
}

// --- Without message signing --------------------------------------------------

#[tokio::test]
async fn without_message_signing_signed_is_the_token_check_plus_the_body() {
    let approov = ApproovFilter::new(verifier());
    let (app, calls) = signed_app(&approov);
    let body = pattern(3000);
    let res = send(
        &app,
        &Req::get("/")
            .method("POST")
            .token(&token())
            .body(body.clone()),
    )
    .await;
    assert_eq!((res.status, &res.bytes[..]), (StatusCode::OK, &body[..]));
    // A Content-Digest is not checked: message signing is off.
    let res = send(
        &app,
        &Req::get("/")
            .method("POST")
            .token(&token())
            .header("Content-Digest", "sha-256=:AAAA:")
            .body(body.clone()),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(calls.count(), 2);
    // Every token rejection is the usual 401.
    assert_refused(
        &approov,
        &Req::get("/").method("POST"),
        RejectionKind::Missing,
    )
    .await;
    let expired = sign(&claims().exp((NOW - 1) as f64));
    assert_refused(
        &approov,
        &Req::get("/").token(&expired),
        RejectionKind::Expired,
    )
    .await;
    // The default limit still bounds what is buffered: the read stops
    // past it.
    let res = send(
        &app,
        &Req::get("/")
            .method("POST")
            .token(&token())
            .body(pattern(DEFAULT_MAX_BODY_LEN + 1)),
    )
    .await;
    assert_status(&res, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(calls.count(), 2);
}

// --- CORS preflights ----------------------------------------------------------

fn preflight() -> Req {
    Req::get(PATH)
        .method("OPTIONS")
        .header("Origin", "https://app.example")
        .header("Access-Control-Request-Method", "POST")
}

#[tokio::test]
async fn a_preflight_passes_signed_unchecked_and_signed_claims_not_at_all() {
    let approov = signing_approov();
    let app = boxed(
        approov
            .signed()
            .map(|outcome: ApproovOutcome, body: Bytes| {
                format!("{} {}", outcome_name(&outcome), body.len())
            })
            .recover(approov_warp::recover),
    );
    let res = send(&app, &preflight()).await;
    assert_eq!(
        (res.status, res.body.as_str()),
        (StatusCode::OK, "preflight 0")
    );
    // `signed_claims` has no claims to give: warp's 404, for another route.
    let (app, calls) = signed_app(&approov);
    assert_eq!(send(&app, &preflight()).await.status, StatusCode::NOT_FOUND);
    assert_eq!(calls.count(), 0);
    // Unless preflights are checked like any request.
    let strict = approov.skip_cors_preflight(false);
    assert_refused(&strict, &preflight(), RejectionKind::Missing).await;
}

#[tokio::test]
async fn report_only_hands_on_the_body_of_a_refused_request() {
    let key = InstallKey::generate().unwrap();
    let unsigned = req_of(&post(&token_for(&key)).finish().unwrap());
    let res = send(&signed_reporting(&signing_approov()), &unsigned).await;
    assert_eq!(
        (res.status, res.body),
        (StatusCode::OK, format!("signature_missing {}", BODY.len()))
    );
}
