//! HTTP message signatures (RFC 9421) through the middleware: the issue's
//! conformance list. Every rejection asserts the 401 response, the reason's
//! kind, and that the handler never ran; every pass, that the handler got
//! the signed body.

mod common;

use actix_web::test::TestRequest;
use approov_core::RejectionKind;
use approov_core::mint::{InstallKey, RequestSigner};
use approov_core::signing::{DigestAlgorithm, MessageSigning, SignaturePolicy, content_digest};
use approov_core::{Secret, Verifier};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::signed::*;
use common::*;
use serde_json::Value;
use std::path::PathBuf;

fn key() -> InstallKey {
    InstallKey::generate().expect("install key")
}

fn default_policy() -> approov_actix::ApproovMiddleware {
    signed_middleware(MessageSigning::builder())
}

fn always() -> approov_actix::ApproovMiddleware {
    signed_middleware(MessageSigning::builder().policy(SignaturePolicy::Always))
}

// --- Valid signatures -----------------------------------------------------

#[actix_web::test]
async fn an_install_signature_passes_as_a_byte_sequence() {
    let req = signed_post(&key());
    assert!(
        req.header("Signature")
            .expect("signed")
            .starts_with("install=:")
    );
    assert_passes(default_policy(), &req).await;
    assert_passes(always(), &req).await;
}

#[actix_web::test]
async fn an_install_signature_passes_as_a_string() {
    let key = key();
    let req = post(&install_token(&key))
        .signature_as_string(true)
        .sign_install(&key)
        .finish()
        .expect("signed");
    assert!(
        req.header("Signature")
            .expect("signed")
            .starts_with("install=\"")
    );
    assert_passes(always(), &req).await;
}

#[actix_web::test]
async fn a_signed_get_without_a_body_passes() {
    let key = key();
    let req = RequestSigner::new("GET", URI)
        .expect("signer")
        .header("Approov-Token", &install_token(&key))
        .created(CREATED)
        .sign_install(&key)
        .finish()
        .expect("signed");
    assert_eq!(req.header("Content-Digest"), None);
    assert_passes(always(), &req).await;
}

#[actix_web::test]
async fn an_absolute_target_gives_the_scheme_and_authority() {
    let key = key();
    let req = RequestSigner::new("POST", "https://api.example.com:8443/shapes?size=2")
        .expect("signer")
        .header("Approov-Token", &install_token(&key))
        .body(BODY)
        .created(CREATED)
        .sign_install(&key)
        .finish()
        .expect("signed");
    // `GET https://api.example.com:8443/shapes?size=2 HTTP/1.1`, with a
    // Host that disagrees: the request line's authority is the target's.
    let mut absolute = req.clone();
    absolute.path_and_query = "https://api.example.com:8443/shapes?size=2".into();
    absolute.set_header("Host", "backend.internal");
    assert_passes(always(), &absolute).await;
    // Origin-form over plain http: the scheme signed was https, not http.
    assert_refused(always(), &req, RejectionKind::SignatureInvalid).await;
}

// --- Signatures over something else ---------------------------------------

#[actix_web::test]
async fn a_signature_over_another_method_is_refused() {
    let mut req = signed_post(&key());
    req.method = "PUT".into();
    assert_refused(always(), &req, RejectionKind::SignatureInvalid).await;
}

#[actix_web::test]
async fn a_signature_over_another_uri_is_refused() {
    let key = key();
    for (path, host) in [
        ("/shapes?size=3&colour=red", "api.example.com"),
        ("/other?size=2&colour=red", "api.example.com"),
        ("/shapes?size=2&colour=red", "evil.example.com"),
    ] {
        let mut req = signed_post(&key);
        req.path_and_query = path.into();
        req.set_header("Host", host);
        assert_refused(always(), &req, RejectionKind::SignatureInvalid).await;
    }
}

#[actix_web::test]
async fn a_signature_over_another_token_is_refused() {
    let key = key();
    let mut req = signed_post(&key);
    // Another valid token of the same installation.
    let other = sign(&claims().claim("ipk", key.ipk()).claim("did", "device-2"));
    req.set_header("Approov-Token", &other);
    assert_refused(always(), &req, RejectionKind::SignatureInvalid).await;
}

#[actix_web::test]
async fn a_signature_over_another_body_is_refused() {
    // Another body with its own, correct Content-Digest: the signature
    // covers the digest.
    let mut req = signed_post(&key());
    req.body = Some(br#"{"shape":"square"}"#.to_vec());
    req.set_header(
        "Content-Digest",
        &content_digest(DigestAlgorithm::Sha256, br#"{"shape":"square"}"#),
    );
    assert_refused(always(), &req, RejectionKind::SignatureInvalid).await;
}

#[actix_web::test]
async fn a_signature_by_another_key_is_refused() {
    let key = key();
    let req = post(&install_token(&key))
        .sign_install(&InstallKey::generate().expect("other key"))
        .finish()
        .expect("signed");
    assert_refused(always(), &req, RejectionKind::SignatureInvalid).await;
}

// --- Missing signatures ---------------------------------------------------

#[actix_web::test]
async fn a_missing_signature_is_refused() {
    let key = key();
    for header in ["Signature", "Signature-Input"] {
        let mut req = signed_post(&key);
        req.headers.retain(|(name, _)| name != header);
        assert_refused(default_policy(), &req, RejectionKind::SignatureMissing).await;
    }
    let unsigned = post(&install_token(&key)).finish().expect("request");
    assert_refused(default_policy(), &unsigned, RejectionKind::SignatureMissing).await;
}

#[actix_web::test]
async fn a_token_without_ipk_needs_a_signature_only_under_always() {
    let req = post(&token()).finish().expect("request");
    assert_refused(always(), &req, RejectionKind::SignatureMissing).await;
    // The default policy: the app does not sign, the digest still matches.
    assert_passes(default_policy(), &req).await;
}

// --- Time -----------------------------------------------------------------

#[actix_web::test]
async fn an_expired_created_is_refused() {
    // Max age 300 s plus 60 s of skew.
    let key = key();
    let at = |created: i64| {
        post(&install_token(&key))
            .created(created)
            .sign_install(&key)
            .finish()
            .expect("signed")
    };
    assert_passes(always(), &at(CREATED - 360)).await;
    assert_refused(
        always(),
        &at(CREATED - 361),
        RejectionKind::SignatureExpired,
    )
    .await;
}

#[actix_web::test]
async fn a_created_in_the_future_is_refused() {
    let key = key();
    let at = |created: i64| {
        post(&install_token(&key))
            .created(created)
            .sign_install(&key)
            .finish()
            .expect("signed")
    };
    assert_passes(always(), &at(CREATED + 60)).await;
    assert_refused(always(), &at(CREATED + 61), RejectionKind::SignatureInvalid).await;
}

#[actix_web::test]
async fn a_passed_expires_is_refused() {
    let key = key();
    let req = post(&install_token(&key))
        .created(CREATED - 100)
        .expires(CREATED - 61)
        .sign_install(&key)
        .finish()
        .expect("signed");
    assert_refused(always(), &req, RejectionKind::SignatureExpired).await;
}

// --- Algorithm and key ----------------------------------------------------

#[actix_web::test]
async fn a_wrong_alg_is_refused() {
    let key = key();
    for alg in ["hmac-sha256", "ecdsa-p384-sha384", "ES256"] {
        let req = post(&install_token(&key))
            .alg(Some(alg))
            .sign_install(&key)
            .finish()
            .expect("signed");
        assert_refused(always(), &req, RejectionKind::SignatureInvalid).await;
    }
}

/// The base64 body of a PEM file of the core's test keys: the DER, as an
/// `ipk` claim carries it.
fn pem_body(file: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../approov-core/tests/keys")
        .join(file);
    let pem = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    pem.lines().filter(|l| !l.starts_with("-----")).collect()
}

#[actix_web::test]
async fn an_ipk_that_is_not_a_p256_key_is_refused() {
    let key = key();
    for ipk in [
        pem_body("p384.pub.pem"),
        pem_body("rsa2048.pub.pem"),
        STANDARD.encode(b"not DER"),
        "not base64 at all!".to_owned(),
    ] {
        let token = sign(&claims().claim("ipk", ipk.as_str()));
        let req = post(&token).sign_install(&key).finish().expect("signed");
        assert_refused(always(), &req, RejectionKind::SignatureKey).await;
    }
}

// --- Content-Digest -------------------------------------------------------

#[actix_web::test]
async fn a_body_that_does_not_match_its_digest_is_refused() {
    // The signed digest, another body.
    let mut req = signed_post(&key());
    req.body = Some(br#"{"shape":"square"}"#.to_vec());
    assert_refused(always(), &req, RejectionKind::DigestMismatch).await;
    // An unsigned request whose digest is wrong (the default policy still
    // checks a digest that is present).
    let mut req = post(&token()).finish().expect("request");
    req.body = Some(b"{}".to_vec());
    assert_refused(default_policy(), &req, RejectionKind::DigestMismatch).await;
}

#[actix_web::test]
async fn a_malformed_digest_is_refused() {
    let mut req = post(&token()).finish().expect("request");
    req.set_header("Content-Digest", "sha-256=not-a-byte-sequence");
    assert_refused(default_policy(), &req, RejectionKind::DigestInvalid).await;
}

// --- Account signatures ---------------------------------------------------

fn with_account() -> approov_actix::ApproovMiddleware {
    signed_middleware(MessageSigning::builder().account_secret_base64(MSKID, ACCOUNT_SECRET))
}

fn account_token(key: &InstallKey) -> String {
    sign(&claims().claim("ipk", key.ipk()).claim("mskid", MSKID))
}

#[actix_web::test]
async fn a_valid_account_signature_passes() {
    let key = key();
    let secret = Secret::from_base64(ACCOUNT_SECRET, "test").expect("secret");
    let req = post(&account_token(&key))
        .sign_install(&key)
        .sign_account(&secret)
        .finish()
        .expect("signed");
    assert_passes(with_account(), &req).await;
}

#[actix_web::test]
async fn a_wrong_or_missing_account_signature_is_refused() {
    let key = key();
    let wrong = Secret::from_base64("d3Jvbmctc2VjcmV0", "test").expect("secret");
    let req = post(&account_token(&key))
        .sign_install(&key)
        .sign_account(&wrong)
        .finish()
        .expect("signed");
    assert_refused(with_account(), &req, RejectionKind::SignatureInvalid).await;

    let req = post(&account_token(&key))
        .sign_install(&key)
        .finish()
        .expect("signed");
    assert_refused(with_account(), &req, RejectionKind::SignatureMissing).await;
}

// --- The token comes first ------------------------------------------------

#[actix_web::test]
async fn the_token_is_still_checked_first() {
    let key = key();
    let mut req = signed_post(&key);
    req.headers.retain(|(name, _)| name != "Approov-Token");
    assert_refused(always(), &req, RejectionKind::Missing).await;

    let expired = sign(&claims().claim("ipk", key.ipk()).exp(NOW as f64));
    let req = post(&expired).sign_install(&key).finish().expect("signed");
    assert_refused(always(), &req, RejectionKind::Expired).await;
}

#[actix_web::test]
async fn a_cors_preflight_is_let_through_unsigned() {
    let req = TestRequest::default()
        .method(actix_web::http::Method::OPTIONS)
        .uri("/shapes")
        .insert_header(("Access-Control-Request-Method", "POST"))
        .insert_header(("Origin", "https://app.example.com"));
    let (reply, calls) = through(always(), req.to_request()).await;
    assert_eq!((reply.status, reply.header(OUTCOME)), (200, "preflight"));
    assert_eq!(calls, 1);
}

// --- The published Approov vectors ----------------------------------------

fn vectors() -> Value {
    let text = approov_core::mint::PUBLISHED_VECTORS;
    serde_json::from_str(text).expect("vectors are JSON")
}

#[actix_web::test]
async fn the_published_key_pair_and_good_ipk_token_pass_end_to_end() {
    let v = vectors();
    let pair = &v["ipk_key_pair"];
    let sec1 = STANDARD
        .decode(pair["private_sec1_der_base64"].as_str().expect("key"))
        .expect("base64");
    let key = InstallKey::from_sec1_der(&sec1).expect("the published key");
    assert_eq!(
        Some(key.ipk().as_str()),
        pair["public_spki_der_base64"].as_str()
    );
    let case = v["tokens"]
        .as_array()
        .expect("tokens")
        .iter()
        .find(|t| t["name"] == "good_ipk")
        .expect("good_ipk");
    let token = case["token"].as_str().expect("token");
    let secret = v["secrets"][case["secret"].as_str().expect("S1")]["base64"]
        .as_str()
        .expect("secret");
    let example = &v["content_digest_example"];

    let clock = clock();
    let middleware = || {
        let verifier = Verifier::builder()
            .secret_base64(secret)
            .clock(clock.clone())
            .build()
            .expect("verifier");
        let signing = MessageSigning::builder()
            .policy(SignaturePolicy::Always)
            .clock(clock.clone())
            .build()
            .expect("signing");
        with_reason(approov_actix::ApproovMiddleware::new(verifier).message_signing(signing))
    };
    let req = RequestSigner::new("POST", "http://api.example.com/message-signing")
        .expect("signer")
        .header("Approov-Token", token)
        .body(example["body"].as_str().expect("body"))
        .created(CREATED)
        .sign_install(&key)
        .finish()
        .expect("signed");
    assert_eq!(
        req.header("Content-Digest"),
        example["content_digest"].as_str()
    );
    assert_passes(middleware(), &req).await;

    let mut other = req.clone();
    other.body = Some(b"My test message body!".to_vec());
    assert_refused(middleware(), &other, RejectionKind::DigestMismatch).await;
}
