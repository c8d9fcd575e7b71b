//! The body under message signing: read only once the token and signatures
//! passed, buffered up to the limit and handed on byte for byte, 413 beyond
//! the limit, 400 when unreadable and 408 when too slow (the handler never
//! runs for any), report-only mode, and no buffering at all when no check
//! needs the body.

mod common;

use std::pin::Pin;
use std::time::Duration;

use actix_web::dev::Payload;
use actix_web::error::PayloadError;
use actix_web::test::{self, TestRequest};
use actix_web::web::Bytes;
use actix_web::{App, HttpResponse, web};
use approov_actix::ApproovMiddleware;
use approov_core::RejectionKind;
use approov_core::mint::{InstallKey, RequestSigner, SignedRequest};
use approov_core::signing::{MessageSigning, SignaturePolicy};
use common::signed::*;
use common::*;
use futures_util::{Stream, StreamExt as _, stream};

fn key() -> InstallKey {
    InstallKey::generate().expect("install key")
}

fn always() -> ApproovMiddleware {
    signed_middleware(MessageSigning::builder().policy(SignaturePolicy::Always))
}

/// Message signing with a body limit of `limit` bytes.
fn limited(limit: usize) -> ApproovMiddleware {
    signed_middleware(
        MessageSigning::builder()
            .policy(SignaturePolicy::Always)
            .max_body_len(limit),
    )
}

/// A signed POST of `body`.
fn signed_with_body(key: &InstallKey, body: &[u8]) -> SignedRequest {
    post(&install_token(key))
        .body(body)
        .sign_install(key)
        .finish()
        .expect("signed")
}

/// Asserts a `{}` JSON answer with `status`, written by the middleware.
#[track_caller]
fn assert_empty_json(reply: &Reply, status: u16) {
    assert_eq!(reply.status, status, "{reply:?}");
    assert_eq!(
        reply.header("content-type"),
        "application/json",
        "{reply:?}"
    );
    assert_eq!(reply.body, "{}", "{reply:?}");
    assert_eq!(
        reply.header(REASON_HEADER),
        "",
        "not a rejection: {reply:?}"
    );
}

/// `req` with its payload replaced by `chunks` streamed one by one, as a
/// chunked body arrives: no `Content-Length`.
fn streamed(req: TestRequest, chunks: Vec<Result<Bytes, PayloadError>>) -> actix_http::Request {
    let body: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> =
        Box::pin(stream::iter(chunks));
    let (req, _) = req.to_request().replace_payload(Payload::from(body));
    req
}

/// The signed request without its body and `Content-Length`, for
/// [`streamed`].
fn head_of(req: &SignedRequest) -> TestRequest {
    let mut head = req.clone();
    head.body = None;
    assert!(head.header("Content-Length").is_none());
    to_test(&head)
}

/// Every byte value, many times over: not UTF-8, not JSON, 48 KiB.
fn binary_body() -> Vec<u8> {
    (0..48 * 1024).map(|i| (i * 7 % 256) as u8).collect()
}

#[actix_web::test]
async fn the_handler_reads_exactly_the_signed_bytes() {
    let body = binary_body();
    let req = signed_with_body(&key(), &body);
    let calls = web::Data::new(Calls::default());
    let app = echo_app(always(), calls.clone()).await;
    let res = test::call_service(&app, to_test(&req).to_request()).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers().get(OUTCOME).expect("outcome"), "verified");
    let echoed = test::read_body(res).await;
    assert_eq!(echoed.len(), body.len());
    assert!(echoed == body, "the handler got other bytes");
    assert_eq!(calls.get(), 1);
}

#[actix_web::test]
async fn a_streamed_body_is_buffered_and_handed_on() {
    let body = binary_body();
    let req = signed_with_body(&key(), &body);
    let chunks = body
        .chunks(5000)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    let calls = web::Data::new(Calls::default());
    let app = echo_app(always(), calls.clone()).await;
    let res = test::call_service(&app, streamed(head_of(&req), chunks)).await;
    assert_eq!(res.status(), 200);
    assert!(
        test::read_body(res).await == body,
        "the handler got other bytes"
    );
}

#[derive(serde::Deserialize)]
struct Shape {
    shape: String,
}

#[actix_web::test]
async fn json_and_payload_extractors_work_after_buffering() {
    let app = test::init_service(
        App::new()
            .wrap(always())
            .route(
                "/shapes",
                web::post().to(|shape: web::Json<Shape>| async move {
                    HttpResponse::Ok().body(shape.into_inner().shape)
                }),
            )
            .route(
                "/stream",
                web::post().to(|payload: web::Payload| async move {
                    match payload.to_bytes_limited(1024).await {
                        Ok(Ok(bytes)) => HttpResponse::Ok().body(bytes),
                        _ => HttpResponse::InternalServerError().finish(),
                    }
                }),
            ),
    )
    .await;
    let key = key();
    let req = signed_post(&key);
    let body = test::call_and_read_body(&app, to_test(&req).to_request()).await;
    assert_eq!(body, "circle");

    let mut req = RequestSigner::new("POST", "http://api.example.com/stream")
        .expect("signer")
        .header("Approov-Token", &install_token(&key))
        .body(BODY)
        .created(CREATED)
        .sign_install(&key)
        .finish()
        .expect("signed");
    let body = test::call_and_read_body(&app, to_test(&req).to_request()).await;
    assert_eq!(body, BODY);
    // The same route refuses what it would have read otherwise.
    req.body = Some(b"{}".to_vec());
    let res = test::call_service(&app, to_test(&req).to_request()).await;
    assert_eq!(res.status(), 401);
    assert_eq!(
        res.headers().get(REASON_HEADER).expect("reason"),
        RejectionKind::DigestMismatch.as_str()
    );
}

#[actix_web::test]
async fn a_body_at_the_limit_passes() {
    let body = [b'x'; 64];
    let req = signed_with_body(&key(), &body);
    assert_passes(limited(64), &req).await;
}

#[actix_web::test]
async fn a_body_over_the_limit_is_413_and_never_reaches_the_handler() {
    let req = signed_with_body(&key(), &[b'x'; 65]);
    // Content-Length says so: refused before reading.
    let (reply, calls) = through(limited(64), to_test(&req).to_request()).await;
    assert_empty_json(&reply, 413);
    assert_eq!(calls, 0);
    // No Content-Length: refused once the 65th byte arrives.
    let chunks = vec![
        Ok(Bytes::from_static(&[b'x'; 40])),
        Ok(Bytes::from_static(&[b'x'; 40])),
    ];
    let (reply, calls) = through(limited(64), streamed(head_of(&req), chunks)).await;
    assert_empty_json(&reply, 413);
    assert_eq!(calls, 0);
}

#[actix_web::test]
async fn a_declared_length_over_the_limit_is_413_without_a_body() {
    let req = signed_post(&key());
    let test = to_test(&req).insert_header(("Content-Length", "10000000000"));
    let (reply, calls) = through(always(), test.to_request()).await;
    assert_empty_json(&reply, 413);
    assert_eq!(calls, 0);
}

#[actix_web::test]
async fn an_unreadable_body_is_400_and_never_reaches_the_handler() {
    let req = signed_post(&key());
    let chunks = vec![
        Ok(Bytes::from_static(b"{\"sha")),
        Err(PayloadError::Incomplete(None)),
    ];
    let (reply, calls) = through(always(), streamed(head_of(&req), chunks)).await;
    assert_empty_json(&reply, 400);
    assert_eq!(calls, 0);
}

#[actix_web::test]
async fn the_token_and_signatures_are_checked_before_the_body() {
    // Bodies over the limit, announced and not: the 401 comes first.
    let key = key();
    let mut no_token = signed_with_body(&key, &[b'x'; 65]);
    no_token
        .headers
        .retain(|(name, _)| !name.eq_ignore_ascii_case("approov-token"));
    let mut bad_signature = signed_with_body(&key, &[b'x'; 65]);
    bad_signature.method = "PUT".into();
    for (req, kind) in [
        (&no_token, RejectionKind::Missing),
        (&bad_signature, RejectionKind::SignatureInvalid),
    ] {
        let (reply, calls) = through(limited(64), to_test(req).to_request()).await;
        reply.assert_rejected(kind);
        assert_eq!(calls, 0);
        let chunks = vec![Ok(Bytes::from_static(&[b'x'; 65]))];
        let (reply, calls) = through(limited(64), streamed(head_of(req), chunks)).await;
        reply.assert_rejected(kind);
        assert_eq!(calls, 0);
    }
}

#[actix_web::test]
async fn a_body_that_stalls_is_408_and_never_reaches_the_handler() {
    let req = signed_post(&key());
    let impatient = || {
        signed_middleware(
            MessageSigning::builder()
                .policy(SignaturePolicy::Always)
                .body_read_timeout(Duration::from_millis(50)),
        )
    };
    // One chunk, then nothing more, ever.
    let stalled = || {
        let first = stream::iter([Ok(Bytes::from_static(b"{\"sha"))]);
        let body: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> =
            Box::pin(first.chain(stream::pending()));
        let (req, _) = head_of(&req)
            .to_request()
            .replace_payload(Payload::from(body));
        req
    };
    for middleware in [impatient(), impatient().report_only(true)] {
        let (reply, calls) = through(middleware, stalled()).await;
        assert_empty_json(&reply, 408);
        assert_eq!(calls, 0);
    }
}

#[actix_web::test]
async fn report_only_forwards_a_bad_signature_with_the_body() {
    let mut req = signed_post(&key());
    req.method = "PUT".into();
    let (reply, calls) = through(always().report_only(true), to_test(&req).to_request()).await;
    reply.assert_ok(BODY);
    assert_eq!(reply.header(OUTCOME), "rejected signature_invalid");
    assert_eq!(calls, 1);
    // A body it could not keep is still refused.
    let req = signed_with_body(&key(), &[b'x'; 65]);
    let (reply, calls) = through(limited(64).report_only(true), to_test(&req).to_request()).await;
    assert_empty_json(&reply, 413);
    assert_eq!(calls, 0);
}

#[actix_web::test]
async fn a_custom_rejection_response_answers_signature_rejections() {
    let mut req = signed_post(&key());
    req.method = "PUT".into();
    let middleware = always()
        .rejection_response(|rejection| HttpResponse::Forbidden().body(rejection.kind().as_str()));
    let (reply, calls) = through(middleware, to_test(&req).to_request()).await;
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (403, "signature_invalid")
    );
    assert_eq!(calls, 0);
}

#[actix_web::test]
async fn without_message_signing_the_body_and_signatures_are_ignored() {
    // A valid token, a digest that does not match, a signature over
    // another method: none of it is looked at, and the body is untouched.
    let mut req = signed_post(&key());
    req.method = "PUT".into();
    req.body = Some(b"another body".to_vec());
    let plain = with_reason(ApproovMiddleware::new(verifier()));
    let (reply, calls) = through(plain, to_test(&req).to_request()).await;
    reply.assert_ok("another body");
    assert_eq!(reply.header(OUTCOME), "verified");
    assert_eq!(calls, 1);
    // Nor with the policy off, nor is the limit applied.
    let off = signed_middleware(
        MessageSigning::builder()
            .policy(SignaturePolicy::Off)
            .max_body_len(4),
    );
    let (reply, calls) = through(off, to_test(&req).to_request()).await;
    reply.assert_ok("another body");
    assert_eq!(calls, 1);
}

#[actix_web::test]
async fn without_content_digest_the_body_is_not_buffered() {
    // The limit only applies when the digest must be checked: a signature
    // that does not cover a body passes (when allowed), and the handler
    // reads the body itself.
    let key = key();
    let req = post(&install_token(&key))
        .content_digest(None)
        .body([b'x'; 100])
        .sign_install(&key)
        .finish()
        .expect("signed");
    assert_eq!(req.header("Content-Digest"), None);
    let lax = signed_middleware(
        MessageSigning::builder()
            .policy(SignaturePolicy::Always)
            .require_digest_for_body(false)
            .max_body_len(64),
    );
    assert_passes(lax, &req).await;
    // By default the body must be covered: refused from the headers alone.
    assert_refused(limited(64), &req, RejectionKind::SignatureInvalid).await;
}
