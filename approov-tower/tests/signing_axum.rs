//! Message signing through the layer in an axum 0.8 `Router`: the issue's
//! conformance list (valid install signatures in both encodings; another
//! method, URI, token or body; missing `Signature`; expired or future
//! `created`; wrong `alg`; an `ipk` that is not P-256; digest mismatch;
//! oversized bodies; account signatures), the published key pair end to
//! end, the exact body reaching the handler, report-only mode, preflights,
//! and nested routers. Every rejection asserts status and kind.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use approov_core::mint::{InstallKey, SignedRequest};
use approov_core::signing::{DigestAlgorithm, MessageSigning, SignaturePolicy, content_digest};
use approov_core::{ApproovClaims, ApproovOutcome, Secret};
use approov_tower::ApproovLayer;
use approov_tower::mode::MessageSigned;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::routing::any;
use axum::{Extension, Router};
use common::signing::*;
use common::{REASON_HEADER, describe, echo_kind};
use http::{Request, StatusCode};
use tower::ServiceExt;

/// Counts handler calls, so tests can tell a 413 never reached it.
#[derive(Clone, Default)]
struct Calls(Arc<AtomicUsize>);

impl Calls {
    fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// Says what the layer decided, then returns the body it received.
async fn echo(
    State(calls): State<Calls>,
    outcome: Option<Extension<ApproovOutcome>>,
    claims: Option<Extension<ApproovClaims>>,
    body: Bytes,
) -> String {
    calls.0.fetch_add(1, Ordering::SeqCst);
    let said = describe(outcome.as_deref(), claims.as_deref());
    format!("{said}\n{}", String::from_utf8_lossy(&body))
}

struct App {
    router: Router,
    calls: Calls,
}

/// `/shapes` (any method) behind `layer`, rejections naming their kind.
fn app(layer: ApproovLayer<MessageSigned>) -> App {
    app_with(layer.rejection_response(echo_kind))
}

/// Like [`app`] with the default rejection response.
fn app_with(layer: ApproovLayer<MessageSigned>) -> App {
    let calls = Calls::default();
    let router = Router::new()
        .route("/shapes", any(echo))
        .route_layer(layer)
        .with_state(calls.clone());
    App { router, calls }
}

#[derive(Debug)]
struct Reply {
    status: StatusCode,
    kind: Option<String>,
    content_type: Option<String>,
    body: String,
}

impl Reply {
    /// The handler's first line: what the layer decided.
    fn said(&self) -> &str {
        self.body.split_once('\n').map_or("", |(said, _)| said)
    }

    /// What the handler received as the body.
    fn received(&self) -> &str {
        self.body.split_once('\n').map_or("", |(_, body)| body)
    }
}

async fn send(app: &App, request: Request<Body>) -> Reply {
    let response = app.router.clone().oneshot(request).await.unwrap();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let (status, kind, content_type) = (
        response.status(),
        header(REASON_HEADER),
        header("content-type"),
    );
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    Reply {
        status,
        kind,
        content_type,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

async fn send_signed(app: &App, signed: &SignedRequest) -> Reply {
    send(app, to_http(signed)).await
}

#[track_caller]
fn assert_verified(reply: &Reply) {
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(
        reply.said(),
        format!("verified:{SIGNING_DID} claims={SIGNING_DID}"),
        "{reply:?}"
    );
}

#[track_caller]
fn assert_rejected(reply: &Reply, kind: &str) {
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{kind}: {reply:?}");
    assert_eq!(reply.kind.as_deref(), Some(kind), "{reply:?}");
}

// --- Valid signatures -----------------------------------------------------

#[tokio::test]
async fn a_valid_install_signature_passes_in_both_encodings() {
    let app = app(default_signing_layer());
    let key = InstallKey::generate().unwrap();

    let signed = signed_post(&key);
    assert!(signed.header("Signature").unwrap().starts_with("install=:"));
    let reply = send_signed(&app, &signed).await;
    assert_verified(&reply);
    assert_eq!(reply.received().as_bytes(), BODY);

    let signed = signer("POST", PATH, &token_for(&key))
        .body(BODY)
        .signature_as_string(true)
        .sign_install(&key)
        .finish()
        .unwrap();
    assert!(
        signed
            .header("Signature")
            .unwrap()
            .starts_with("install=\"")
    );
    assert_verified(&send_signed(&app, &signed).await);
    assert_eq!(app.calls.get(), 2);
}

#[tokio::test]
async fn a_signed_get_without_body_passes() {
    let app = app(default_signing_layer());
    let key = InstallKey::generate().unwrap();
    let signed = signer("GET", PATH, &token_for(&key))
        .sign_install(&key)
        .finish()
        .unwrap();
    assert!(signed.header("Content-Digest").is_none());
    let reply = send_signed(&app, &signed).await;
    assert_verified(&reply);
    assert_eq!(reply.received(), "");
}

#[tokio::test]
async fn the_published_key_pair_and_token_verify_end_to_end() {
    let app = app(signing_layer(
        MessageSigning::builder().policy(SignaturePolicy::Always),
    ));
    let (body, digest) = published_digest_example();
    let signed = signer("POST", "/shapes", &good_ipk_token())
        .body(body.as_str())
        .sign_install(&published_key())
        .finish()
        .unwrap();
    assert_eq!(signed.header("Content-Digest"), Some(digest.as_str()));
    let reply = send_signed(&app, &signed).await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert!(reply.said().starts_with("verified:"), "{reply:?}");
    assert_eq!(reply.received(), body);

    // The same signed request with another body.
    let tampered = to_http_with(&signed, Body::from("My test message body!"));
    assert_rejected(&send(&app, tampered).await, "digest_mismatch");
}

#[tokio::test]
async fn the_handler_receives_the_exact_bytes_of_a_multi_kilobyte_post() {
    let app = app(default_signing_layer());
    let key = InstallKey::generate().unwrap();
    let body = big_body(96 * 1024);
    let signed = signer("POST", PATH, &token_for(&key))
        .header("Content-Type", "application/octet-stream")
        .body(body.clone())
        .sign_install(&key)
        .finish()
        .unwrap();
    // Streamed in odd-sized chunks, as a socket would deliver it.
    let chunks = Chunks::new(&body, 1500);
    let reads = chunks.reads();
    let reply = send(&app, to_http_with(&signed, Body::new(chunks))).await;
    assert_verified(&reply);
    assert_eq!(reply.received().len(), body.len());
    assert!(reply.received().as_bytes() == body, "the very bytes");
    assert!(reads.load(Ordering::SeqCst) > 60, "read in chunks");
}

// --- Signatures over something else ---------------------------------------

#[tokio::test]
async fn a_signature_over_another_method_uri_token_or_body_is_rejected() {
    let app = app(default_signing_layer());
    let key = InstallKey::generate().unwrap();

    let mut signed = signed_post(&key);
    signed.method = "PUT".into();
    assert_rejected(&send_signed(&app, &signed).await, "signature_invalid");

    let mut signed = signed_post(&key);
    signed.path_and_query = "/shapes?size=3".into();
    assert_rejected(&send_signed(&app, &signed).await, "signature_invalid");

    let mut signed = signed_post(&key);
    signed.set_header("Host", "evil.example.com");
    assert_rejected(&send_signed(&app, &signed).await, "signature_invalid");

    // Another valid token of the same installation.
    let mut signed = signed_post(&key);
    let other = token_claims(&key)
        .claim("did", "AnotherDID==")
        .sign_hs256_base64(SECRET)
        .unwrap();
    signed.set_header("Approov-Token", &other);
    assert_rejected(&send_signed(&app, &signed).await, "signature_invalid");

    // Another body under the signed Content-Digest.
    let signed = signed_post(&key);
    let reply = send(&app, to_http_with(&signed, Body::from("{}"))).await;
    assert_rejected(&reply, "digest_mismatch");

    // Another body with its own, unsigned, Content-Digest.
    let mut signed = signed_post(&key);
    signed.set_header(
        "Content-Digest",
        &content_digest(DigestAlgorithm::Sha256, b"{}"),
    );
    let reply = send(&app, to_http_with(&signed, Body::from("{}"))).await;
    assert_rejected(&reply, "signature_invalid");

    assert_eq!(app.calls.get(), 0);
}

#[tokio::test]
async fn a_digest_mismatch_is_rejected_even_when_not_signed() {
    let key = InstallKey::generate().unwrap();
    let signed = signer("POST", PATH, &token_for(&key))
        .body(BODY)
        .content_digest(Some(DigestAlgorithm::Sha512))
        .covering(["@method", "@target-uri", "approov-token"])
        .sign_install(&key)
        .finish()
        .unwrap();
    // By default a body must be covered by the signature.
    let strict = app(default_signing_layer());
    assert_rejected(&send_signed(&strict, &signed).await, "signature_invalid");
    let app = app(signing_layer(
        MessageSigning::builder().require_digest_for_body(false),
    ));
    assert_verified(&send_signed(&app, &signed).await);
    let reply = send(&app, to_http_with(&signed, Body::from("other"))).await;
    assert_rejected(&reply, "digest_mismatch");
}

// --- Missing, stale, or malformed signatures --------------------------------

#[tokio::test]
async fn a_missing_signature_is_rejected() {
    let app = app(default_signing_layer());
    let key = InstallKey::generate().unwrap();
    for header in ["Signature", "Signature-Input"] {
        let mut signed = signed_post(&key);
        signed.headers.retain(|(name, _)| name != header);
        assert_rejected(&send_signed(&app, &signed).await, "signature_missing");
    }
    let unsigned = signer("POST", PATH, &token_for(&key))
        .body(BODY)
        .finish()
        .unwrap();
    assert_rejected(&send_signed(&app, &unsigned).await, "signature_missing");
    assert_eq!(app.calls.get(), 0);
}

#[tokio::test]
async fn an_expired_or_future_created_is_rejected() {
    let app = app(default_signing_layer()); // max age 300 s, skew 60 s
    let key = InstallKey::generate().unwrap();
    let at = |created: i64| {
        signer("POST", PATH, &token_for(&key))
            .body(BODY)
            .created(created)
            .sign_install(&key)
            .finish()
            .unwrap()
    };
    assert_verified(&send_signed(&app, &at(created() - 360)).await);
    assert_rejected(
        &send_signed(&app, &at(created() - 361)).await,
        "signature_expired",
    );
    assert_verified(&send_signed(&app, &at(created() + 60)).await);
    assert_rejected(
        &send_signed(&app, &at(created() + 61)).await,
        "signature_invalid",
    );

    let expired = signer("POST", PATH, &token_for(&key))
        .body(BODY)
        .created(created() - 100)
        .expires(created() - 61)
        .sign_install(&key)
        .finish()
        .unwrap();
    assert_rejected(&send_signed(&app, &expired).await, "signature_expired");
}

#[tokio::test]
async fn a_wrong_alg_is_rejected() {
    let app = app(default_signing_layer());
    let key = InstallKey::generate().unwrap();
    for alg in ["hmac-sha256", "ecdsa-p384-sha384", "ES256"] {
        let signed = signer("POST", PATH, &token_for(&key))
            .body(BODY)
            .alg(Some(alg))
            .sign_install(&key)
            .finish()
            .unwrap();
        assert_rejected(&send_signed(&app, &signed).await, "signature_invalid");
    }
}

#[tokio::test]
async fn an_ipk_that_is_not_a_p256_key_is_rejected() {
    let app = app(default_signing_layer());
    let key = InstallKey::generate().unwrap();
    for ipk in [p384_ipk(), "not base64!".to_owned()] {
        let token = token_claims(&key)
            .claim("ipk", ipk.as_str())
            .sign_hs256_base64(SECRET)
            .unwrap();
        let signed = signer("POST", PATH, &token)
            .body(BODY)
            .sign_install(&key)
            .finish()
            .unwrap();
        assert_rejected(&send_signed(&app, &signed).await, "signature_key");
    }
}

#[tokio::test]
async fn the_token_is_still_checked_first() {
    let app = app(default_signing_layer());
    let key = InstallKey::generate().unwrap();
    let mut signed = signed_post(&key);
    signed.headers.retain(|(name, _)| name != "Approov-Token");
    assert_rejected(&send_signed(&app, &signed).await, "missing");
    let mut signed = signed_post(&key);
    let expired = token_claims(&key)
        .exp((common::NOW - 1) as f64)
        .sign_hs256_base64(SECRET)
        .unwrap();
    signed.set_header("Approov-Token", &expired);
    assert_rejected(&send_signed(&app, &signed).await, "expired");
}

// --- Policies -------------------------------------------------------------

#[tokio::test]
async fn policy_always_needs_ipk_and_the_default_does_not() {
    let always = app(signing_layer(
        MessageSigning::builder().policy(SignaturePolicy::Always),
    ));
    let default = app(default_signing_layer());
    let plain = signer("GET", PATH, &token_without_ipk()).finish().unwrap();
    assert_rejected(&send_signed(&always, &plain).await, "signature_missing");
    assert_verified(&send_signed(&default, &plain).await);
}

#[tokio::test]
async fn the_default_response_is_401_json_with_the_challenge() {
    let app = app_with(default_signing_layer());
    let key = InstallKey::generate().unwrap();
    let mut signed = signed_post(&key);
    signed.method = "PUT".into();
    let response = app
        .router
        .clone()
        .oneshot(to_http::<Body>(&signed))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(response.headers()["www-authenticate"], "Approov");
    let body = axum::body::to_bytes(response.into_body(), 64)
        .await
        .unwrap();
    assert_eq!(body, "{}");
}

// --- Account signatures ---------------------------------------------------

#[tokio::test]
async fn account_signatures_valid_and_wrong() {
    let app = app(signing_layer(
        MessageSigning::builder().account_secret_base64(MSKID, ACCOUNT_SECRET),
    ));
    let key = InstallKey::generate().unwrap();
    let secret = Secret::from_base64(ACCOUNT_SECRET, "test").unwrap();
    let token = token_claims(&key)
        .claim("mskid", MSKID)
        .sign_hs256_base64(SECRET)
        .unwrap();
    let request = || signer("POST", PATH, &token).body(BODY).sign_install(&key);

    let signed = request().sign_account(&secret).finish().unwrap();
    assert_verified(&send_signed(&app, &signed).await);

    let wrong = Secret::from_bytes(b"another account secret".to_vec());
    let signed = request().sign_account(&wrong).finish().unwrap();
    assert_rejected(&send_signed(&app, &signed).await, "signature_invalid");

    let signed = request().finish().unwrap();
    assert_rejected(&send_signed(&app, &signed).await, "signature_missing");
}

// --- Bodies that cannot be checked ------------------------------------------

#[tokio::test]
async fn an_oversized_body_gets_413_and_never_reaches_the_handler() {
    let limit = 1024;
    let app = app_with(signing_layer(MessageSigning::builder().max_body_len(limit)));
    let key = InstallKey::generate().unwrap();
    let body = big_body(limit + 1);
    let signed = signer("POST", PATH, &token_for(&key))
        .body(body.clone())
        .sign_install(&key)
        .finish()
        .unwrap();

    // Announced by Content-Length: refused before a byte is read.
    let chunks = Chunks::new(&body, 100);
    let reads = chunks.reads();
    let mut request = to_http_with(&signed, Body::new(chunks));
    request
        .headers_mut()
        .insert("content-length", (limit + 1).into());
    let reply = send(&app, request).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE, "{reply:?}");
    assert_eq!(reply.content_type.as_deref(), Some("application/json"));
    assert_eq!(reply.body, "{}");
    assert_eq!(reads.load(Ordering::SeqCst), 0, "not read");

    // Streamed without a length: refused once the limit is passed.
    let reply = send(
        &app,
        to_http_with(&signed, Body::new(Chunks::new(&body, 100))),
    )
    .await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE, "{reply:?}");
    assert_eq!(reply.body, "{}");
    assert_eq!(app.calls.get(), 0);

    // Exactly at the limit is fine.
    let body = big_body(limit);
    let signed = signer("POST", PATH, &token_for(&key))
        .body(body.clone())
        .sign_install(&key)
        .finish()
        .unwrap();
    let reply = send(
        &app,
        to_http_with(&signed, Body::new(Chunks::new(&body, 100))),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(app.calls.get(), 1);
}

#[tokio::test]
async fn a_body_that_fails_to_read_gets_400() {
    let app = app_with(default_signing_layer());
    let key = InstallKey::generate().unwrap();
    let signed = signed_post(&key);
    let body = Body::new(Chunks::new(BODY, 4).failing());
    let reply = send(&app, to_http_with(&signed, body)).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{reply:?}");
    assert_eq!(reply.content_type.as_deref(), Some("application/json"));
    assert_eq!(reply.body, "{}");
    assert_eq!(app.calls.get(), 0);
}

// --- Report-only, preflight, nesting ----------------------------------------

#[tokio::test]
async fn report_only_lets_a_bad_signature_through_with_its_reason() {
    let app = app(default_signing_layer().report_only(true));
    let key = InstallKey::generate().unwrap();
    let mut signed = signed_post(&key);
    signed.path_and_query = "/shapes?size=3".into();
    let reply = send_signed(&app, &signed).await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(reply.said(), "rejected:signature_invalid claims=none");
    // The handler still gets the checked body.
    assert_eq!(reply.received().as_bytes(), BODY);
}

#[tokio::test]
async fn a_cors_preflight_is_let_through_unsigned() {
    let app = app(signing_layer(
        MessageSigning::builder().policy(SignaturePolicy::Always),
    ));
    let request = Request::options("/shapes")
        .header("Host", HOST)
        .header("Origin", "https://app.example.com")
        .header("Access-Control-Request-Method", "POST")
        .body(Body::empty())
        .unwrap();
    let reply = send(&app, request).await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(reply.said(), "preflight claims=none");
}

#[cfg(feature = "axum")]
#[tokio::test]
async fn a_nested_router_checks_the_path_the_client_signed() {
    let calls = Calls::default();
    let inner = Router::new()
        .route("/shapes", any(echo))
        .route_layer(default_signing_layer().rejection_response(echo_kind))
        .with_state(calls.clone());
    let app = App {
        router: Router::new().nest("/v1", inner),
        calls,
    };
    let key = InstallKey::generate().unwrap();
    let signed = signer("POST", "/v1/shapes?size=2", &token_for(&key))
        .body(BODY)
        .sign_install(&key)
        .finish()
        .unwrap();
    assert_verified(&send_signed(&app, &signed).await);
    // Signed for the path the nested router sees: not what the client sent.
    let mut stripped = signer("POST", "/shapes?size=2", &token_for(&key))
        .body(BODY)
        .sign_install(&key)
        .finish()
        .unwrap();
    stripped.path_and_query = "/v1/shapes?size=2".into();
    assert_rejected(&send_signed(&app, &stripped).await, "signature_invalid");
}

#[tokio::test]
async fn an_absolute_form_target_gives_scheme_and_authority() {
    let app = app(default_signing_layer());
    let key = InstallKey::generate().unwrap();
    let signed = approov_core::mint::RequestSigner::new("POST", "https://api.example.com/shapes")
        .unwrap()
        .without_header("Host")
        .header("Approov-Token", &token_for(&key))
        .body(BODY)
        .created(created())
        .sign_install(&key)
        .finish()
        .unwrap();
    // As an HTTP/2 server sees it: scheme and authority in the URI, no Host.
    let mut request = to_http::<Body>(&signed);
    *request.uri_mut() = "https://api.example.com/shapes".parse().unwrap();
    assert_verified(&send(&app, request).await);

    let mut request = to_http::<Body>(&signed);
    *request.uri_mut() = "http://api.example.com/shapes".parse().unwrap();
    assert_rejected(&send(&app, request).await, "signature_invalid");
}
