//! The message-signing service as a plain tower service: which requests are
//! buffered and which stream on untouched, trailers, early 413s, gRPC
//! answers, the ready-service hand-over, inner errors, and `Debug`.
#![allow(clippy::unwrap_used)]

mod common;

use std::convert::Infallible;
use std::sync::atomic::Ordering;

use approov_core::mint::InstallKey;
use approov_core::signing::MessageSigning;
use approov_core::{ApproovClaims, ApproovOutcome};
use approov_tower::{ApproovBody, ApproovRequestBody};
use bytes::Bytes;
use common::signing::*;
use common::{REASON_HEADER, echo_kind};
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode};
use http_body::Body as _;
use http_body_util::{BodyExt, Full};
use tower::limit::ConcurrencyLimitLayer;
use tower::{Layer, Service, ServiceExt, service_fn};

/// Describes the body it received: buffered or streaming, its bytes, and
/// its trailers.
async fn inspect<B>(
    request: Request<ApproovRequestBody<B>>,
) -> Result<Response<Full<Bytes>>, Infallible>
where
    B: http_body::Body<Data = Bytes>,
    B::Error: std::fmt::Debug,
{
    let verified = request.extensions().get::<ApproovClaims>().is_some();
    let outcome = match request.extensions().get::<ApproovOutcome>() {
        Some(ApproovOutcome::Rejected(r)) => format!("rejected:{}", r.kind()),
        Some(_) => "forwarded".to_owned(),
        None => "none".to_owned(),
    };
    let body = request.into_body();
    let buffered = body.is_buffered();
    let collected = body.collect().await.unwrap();
    let trailer = collected
        .trailers()
        .and_then(|t| t.get("x-trailer"))
        .map(|v| v.to_str().unwrap().to_owned());
    let bytes = collected.to_bytes();
    Ok(Response::new(Full::from(format!(
        "verified={verified} outcome={outcome} buffered={buffered} trailer={trailer:?} body={}",
        String::from_utf8_lossy(&bytes)
    ))))
}

async fn text(body: ApproovBody<Full<Bytes>>) -> String {
    String::from_utf8(body.collect().await.unwrap().to_bytes().to_vec()).unwrap()
}

#[tokio::test]
async fn without_content_digest_the_body_streams_on_unread() {
    let key = InstallKey::generate().unwrap();
    let signed = signer("POST", PATH, &token_for(&key))
        .body(BODY)
        .content_digest(None)
        .sign_install(&key)
        .finish()
        .unwrap();
    let chunks = Chunks::new(BODY, 3);
    let reads = chunks.reads();
    let reads_seen = reads.clone();
    // A body with no digest to check passes only when the signature need
    // not cover one (see the next test for the default).
    let layer = signing_layer(MessageSigning::builder().require_digest_for_body(false));
    let service = layer.layer(service_fn(move |request| {
        // The layer decided without touching the body.
        assert_eq!(reads_seen.load(Ordering::SeqCst), 0);
        inspect::<Chunks>(request)
    }));
    let response = service
        .oneshot(to_http_with(&signed, chunks))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        text(response.into_body()).await,
        format!(
            "verified=true outcome=forwarded buffered=false trailer=None body={}",
            String::from_utf8_lossy(BODY)
        )
    );
    assert!(reads.load(Ordering::SeqCst) > 0, "the handler read it");
}

#[tokio::test]
async fn a_streamed_body_without_a_covered_digest_is_refused_unread() {
    // No `Content-Length`, as over HTTP/2 or chunked: the body itself says
    // there is one, and by default the signature must cover its digest.
    let key = InstallKey::generate().unwrap();
    let signed = signer("POST", PATH, &token_for(&key))
        .body(BODY)
        .content_digest(None)
        .sign_install(&key)
        .finish()
        .unwrap();
    assert!(signed.header("Content-Length").is_none());
    let chunks = Chunks::new(BODY, 3);
    let reads = chunks.reads();
    let service = default_signing_layer()
        .rejection_response(echo_kind)
        .layer(service_fn(inspect::<Chunks>));
    let response = service
        .oneshot(to_http_with(&signed, chunks))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(response.headers()[REASON_HEADER], "signature_invalid");
    assert_eq!(reads.load(Ordering::SeqCst), 0, "refused before reading");
}

#[tokio::test]
async fn with_content_digest_the_handler_gets_the_checked_bytes_and_trailers() {
    let key = InstallKey::generate().unwrap();
    let signed = signed_post(&key);
    let mut trailers = HeaderMap::new();
    trailers.insert("x-trailer", HeaderValue::from_static("kept"));
    let body = Chunks::new(BODY, 5).with_trailers(trailers);
    let service = default_signing_layer().layer(service_fn(inspect::<Chunks>));
    let response = service.oneshot(to_http_with(&signed, body)).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        text(response.into_body()).await,
        format!(
            "verified=true outcome=forwarded buffered=true trailer=Some(\"kept\") body={}",
            String::from_utf8_lossy(BODY)
        )
    );
}

#[tokio::test]
async fn the_buffered_body_reports_its_exact_size() {
    let key = InstallKey::generate().unwrap();
    let signed = signed_post(&key);
    let service = default_signing_layer().layer(service_fn(
        |request: Request<ApproovRequestBody<Full<Bytes>>>| async move {
            let body = request.body();
            let hint = (body.size_hint().exact(), body.is_end_stream());
            Ok::<_, Infallible>(Response::new(Full::from(format!("{hint:?}"))))
        },
    ));
    let response = service.oneshot(to_http(&signed)).await.unwrap();
    assert_eq!(
        text(response.into_body()).await,
        format!("({:?}, false)", Some(BODY.len() as u64))
    );
}

#[tokio::test]
async fn a_body_known_to_be_too_large_is_refused_unread() {
    let limit = 16;
    let key = InstallKey::generate().unwrap();
    let signed = signed_post(&key);
    assert!(BODY.len() > limit);
    let layer = signing_layer(MessageSigning::builder().max_body_len(limit));
    // `Full` knows its size: no Content-Length needed to refuse it.
    let mut request = to_http::<Full<Bytes>>(&signed);
    request.headers_mut().remove("content-length");
    let called = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let seen = called.clone();
    let service = layer.layer(service_fn(move |request| {
        seen.store(true, Ordering::SeqCst);
        inspect::<Full<Bytes>>(request)
    }));
    let response = service.oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(response.body().is_rejection());
    assert_eq!(text(response.into_body()).await, "{}");
    assert!(!called.load(Ordering::SeqCst));
}

#[tokio::test]
async fn report_only_still_refuses_a_body_it_cannot_check() {
    let key = InstallKey::generate().unwrap();
    let signed = signed_post(&key);
    let layer = signing_layer(MessageSigning::builder().max_body_len(4)).report_only(true);
    let service = layer.layer(service_fn(inspect::<Chunks>));
    let response = service
        .oneshot(to_http_with(&signed, Chunks::new(BODY, 2)))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

fn grpc(signed: &approov_core::mint::SignedRequest, body: Chunks) -> Request<Chunks> {
    let mut request = to_http_with(signed, body);
    request
        .headers_mut()
        .insert("content-type", HeaderValue::from_static("application/grpc"));
    request
}

#[tokio::test]
async fn grpc_requests_get_trailers_only_answers() {
    let key = InstallKey::generate().unwrap();
    let service = |limit: usize| {
        signing_layer(MessageSigning::builder().max_body_len(limit))
            .layer(service_fn(inspect::<Chunks>))
    };
    let signed = signer("POST", PATH, &token_for(&key))
        .header("Content-Type", "application/grpc")
        .body(BODY)
        .sign_install(&key)
        .finish()
        .unwrap();

    let mut tampered = signed.clone();
    tampered.method = "PUT".into();
    let cases = [
        (service(1024), grpc(&tampered, Chunks::new(BODY, 4)), "16"),
        (service(4), grpc(&signed, Chunks::new(BODY, 4)), "8"),
        (
            service(1024),
            grpc(&signed, Chunks::new(BODY, 4).failing()),
            "3",
        ),
    ];
    for (service, request, status) in cases {
        let response = service.oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "grpc-status {status}");
        assert_eq!(response.headers()["content-type"], "application/grpc");
        assert_eq!(response.headers()["grpc-status"], status);
        assert!(response.headers().contains_key("grpc-message"));
        assert_eq!(text(response.into_body()).await, "", "trailers-only");
    }

    let response = service(1024)
        .oneshot(grpc(&signed, Chunks::new(BODY, 4)))
        .await
        .unwrap();
    assert!(response.headers().get("grpc-status").is_none());
    assert!(
        text(response.into_body())
            .await
            .starts_with("verified=true")
    );
}

#[tokio::test]
async fn a_custom_rejection_response_is_used_for_signature_rejections() {
    let key = InstallKey::generate().unwrap();
    let mut signed = signed_post(&key);
    signed.method = "PUT".into();
    let service = default_signing_layer()
        .rejection_response(echo_kind)
        .layer(service_fn(inspect::<Full<Bytes>>));
    let response = service.oneshot(to_http(&signed)).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(response.headers()[REASON_HEADER], "signature_invalid");
    assert_eq!(text(response.into_body()).await, "rejected");
}

#[tokio::test]
async fn the_service_that_was_ready_handles_the_buffered_request() {
    // A concurrency limit of one panics when called without a permit from
    // `poll_ready`: the buffered request must go to the service polled ready.
    let key = InstallKey::generate().unwrap();
    let limited = ConcurrencyLimitLayer::new(1).layer(service_fn(inspect::<Chunks>));
    let mut service = default_signing_layer().layer(limited);
    for _ in 0..3 {
        let request = to_http_with(&signed_post(&key), Chunks::new(BODY, 4));
        let response = service.ready().await.unwrap().call(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }
}

#[tokio::test]
async fn inner_errors_pass_through_unchanged() {
    #[derive(Debug, PartialEq)]
    struct Boom;
    let failing = service_fn(|_: Request<ApproovRequestBody<Full<Bytes>>>| async {
        Err::<Response<Full<Bytes>>, _>(Boom)
    });
    let mut service = default_signing_layer().layer(failing);
    let key = InstallKey::generate().unwrap();
    let service = service.ready().await.unwrap();
    assert_eq!(
        service.call(to_http(&signed_post(&key))).await.unwrap_err(),
        Boom
    );
    // A rejection is a response, not an error.
    let mut unsigned = signed_post(&key);
    unsigned.headers.retain(|(name, _)| name != "Signature");
    let response = service.call(to_http(&unsigned)).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn debug_names_the_mode_and_hides_the_secrets() {
    let layer =
        signing_layer(MessageSigning::builder().account_secret_base64(MSKID, ACCOUNT_SECRET));
    let service = layer.layer(service_fn(inspect::<Full<Bytes>>));
    let text = format!("{service:?}");
    assert!(text.contains("ApproovService"), "{text}");
    assert!(text.contains("MessageSigning"), "{text}");
    assert!(!text.contains(SECRET), "{text}");
    assert!(!text.contains(ACCOUNT_SECRET), "{text}");

    let mut service = service;
    let key = InstallKey::generate().unwrap();
    let future = service.call(to_http(&signed_post(&key)));
    assert_eq!(
        format!("{future:?}"),
        "SignedResponseFuture { state: \"reading the body\" }"
    );
}
