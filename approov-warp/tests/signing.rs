//! HTTP message signatures through `ApproovFilter::signed_claims` / `signed`: the
//! conformance list of issue #4, each refusal with its status and kind, the
//! handler never called for a refused request, and report-only mode letting
//! it through marked: valid install signatures in both encodings; another
//! method, URI, token or body; missing signatures; expired or future
//! `created`; wrong `alg`; an `ipk` that is not a P-256 key; digest
//! problems; account signatures; the published key pair and token.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::PathBuf;
use std::sync::OnceLock;

use approov_core::mint::{InstallKey, RequestSigner};
use approov_core::signing::{DigestAlgorithm, MessageSigning, SignaturePolicy, content_digest};
use approov_core::{ManualClock, RejectionKind, Secret, Verifier};
use approov_warp::ApproovFilter;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::signing::*;
use common::*;
use serde_json::Value;
use warp::http::StatusCode;

fn vectors() -> &'static Value {
    static V: OnceLock<Value> = OnceLock::new();
    V.get_or_init(|| {
        let text = approov_core::mint::PUBLISHED_VECTORS;
        serde_json::from_str(text).unwrap()
    })
}

// --- Valid signatures -----------------------------------------------------

#[tokio::test]
async fn a_valid_install_signature_passes_as_a_byte_sequence() {
    let key = InstallKey::generate().unwrap();
    let signed = signed_post(&key);
    assert!(signed.header("Signature").unwrap().starts_with("install=:"));
    let res = assert_passes(&signing_approov(), &req_of(&signed), BODY).await;
    assert_eq!(res.header(DID_HEADER), Some(DID));
}

#[tokio::test]
async fn a_valid_install_signature_passes_as_an_sf_string() {
    let key = InstallKey::generate().unwrap();
    let signed = post(&token_for(&key))
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
    assert_passes(&signing_approov(), &req_of(&signed), BODY).await;
}

#[tokio::test]
async fn a_signed_get_without_a_body_passes() {
    let key = InstallKey::generate().unwrap();
    let signed = get(&token_for(&key)).sign_install(&key).finish().unwrap();
    assert_eq!(signed.header("Content-Digest"), None);
    assert_passes(&signing_approov(), &req_of(&signed), b"").await;
}

#[tokio::test]
async fn the_public_origin_gives_the_https_scheme_warp_does_not_show() {
    let key = InstallKey::generate().unwrap();
    let signed = RequestSigner::new("POST", "https://api.example.com/shapes?size=2")
        .unwrap()
        .header("Approov-Token", &token_for(&key))
        .body(BODY)
        .created(NOW as i64)
        .sign_install(&key)
        .finish()
        .unwrap();
    let req = req_of(&signed);
    // warp cannot tell the request came over https: `http` is assumed.
    assert_refused(&signing_approov(), &req, RejectionKind::SignatureInvalid).await;
    let public = approov_with(MessageSigning::builder().public_origin("https://api.example.com"));
    assert_passes(&public, &req, BODY).await;
}

#[tokio::test]
async fn the_authority_of_an_absolute_uri_is_used_without_a_host_header() {
    // HTTP/2 requests carry `:authority` in the URI and often no Host.
    let key = InstallKey::generate().unwrap();
    let signed = get(&token_for(&key))
        .without_header("Host")
        .sign_install(&key)
        .finish()
        .unwrap();
    assert_eq!(signed.header("Host"), None);
    // The request line in absolute form, as hyper gives HTTP/2 requests.
    let mut req = Req::get(URI);
    for (name, value) in &signed.headers {
        req = req.header(name, value);
    }
    assert_passes(&signing_approov(), &req, b"").await;
}

// --- Signatures over something else ---------------------------------------

#[tokio::test]
async fn a_signature_over_another_method_is_refused() {
    let key = InstallKey::generate().unwrap();
    let mut signed = signed_post(&key);
    signed.method = "PUT".into();
    assert_refused(
        &signing_approov(),
        &req_of(&signed),
        RejectionKind::SignatureInvalid,
    )
    .await;
}

#[tokio::test]
async fn a_signature_over_another_uri_is_refused() {
    let key = InstallKey::generate().unwrap();
    let approov = signing_approov();
    let mut signed = signed_post(&key);
    signed.path_and_query = "/shapes?size=3".into();
    assert_refused(&approov, &req_of(&signed), RejectionKind::SignatureInvalid).await;
    let mut signed = signed_post(&key);
    signed.path_and_query = "/shapes".into();
    assert_refused(&approov, &req_of(&signed), RejectionKind::SignatureInvalid).await;
    let mut signed = signed_post(&key);
    signed.set_header("Host", "evil.example.com");
    assert_refused(&approov, &req_of(&signed), RejectionKind::SignatureInvalid).await;
}

#[tokio::test]
async fn a_signature_over_another_token_is_refused() {
    let key = InstallKey::generate().unwrap();
    let mut signed = signed_post(&key);
    let other = sign(&claims().claim("ipk", key.ipk()).claim("did", "OtherDID=="));
    signed.set_header("Approov-Token", &other);
    assert_refused(
        &signing_approov(),
        &req_of(&signed),
        RejectionKind::SignatureInvalid,
    )
    .await;
}

#[tokio::test]
async fn a_signature_over_another_body_is_refused() {
    let key = InstallKey::generate().unwrap();
    let approov = signing_approov();
    let signed = signed_post(&key);
    // The same signature and Content-Digest, another body.
    let req = req_of(&signed).body(&br#"{"shape":"square"}"#[..]);
    assert_refused(&approov, &req, RejectionKind::DigestMismatch).await;
    // Another body with its own digest: the signature covers the digest.
    let mut signed = signed_post(&key);
    signed.set_header(
        "Content-Digest",
        &content_digest(DigestAlgorithm::Sha256, b"{}"),
    );
    let req = req_of(&signed).body(&b"{}"[..]);
    assert_refused(&approov, &req, RejectionKind::SignatureInvalid).await;
}

#[tokio::test]
async fn a_signature_by_another_installation_is_refused() {
    let key = InstallKey::generate().unwrap();
    let other = InstallKey::generate().unwrap();
    let signed = post(&token_for(&key))
        .sign_install(&other)
        .finish()
        .unwrap();
    assert_refused(
        &signing_approov(),
        &req_of(&signed),
        RejectionKind::SignatureInvalid,
    )
    .await;
}

// --- Missing signatures -----------------------------------------------------

#[tokio::test]
async fn a_missing_signature_is_refused() {
    let key = InstallKey::generate().unwrap();
    let approov = signing_approov();
    for header in ["Signature", "Signature-Input"] {
        let mut signed = signed_post(&key);
        signed.headers.retain(|(name, _)| name != header);
        assert_refused(&approov, &req_of(&signed), RejectionKind::SignatureMissing).await;
    }
    let unsigned = post(&token_for(&key)).finish().unwrap();
    assert_refused(
        &approov,
        &req_of(&unsigned),
        RejectionKind::SignatureMissing,
    )
    .await;
}

#[tokio::test]
async fn the_always_policy_refuses_a_token_without_ipk() {
    let always = approov_with(MessageSigning::builder().policy(SignaturePolicy::Always));
    let unsigned = post(&token()).finish().unwrap();
    assert_refused(&always, &req_of(&unsigned), RejectionKind::SignatureMissing).await;
    // The default policy lets it through (its digest still checked).
    assert_passes(&signing_approov(), &req_of(&unsigned), BODY).await;
}

#[tokio::test]
async fn a_missing_or_bad_token_is_refused_before_the_signature() {
    let key = InstallKey::generate().unwrap();
    let approov = signing_approov();
    let mut signed = signed_post(&key);
    signed.headers.retain(|(name, _)| name != "Approov-Token");
    // The signature covers the token header, which is gone: the token is
    // what the client is told about (in logs), as without message signing.
    assert_refused(&approov, &req_of(&signed), RejectionKind::Missing).await;
    let mut signed = signed_post(&key);
    signed.set_header("Approov-Token", "garbage");
    assert_refused(&approov, &req_of(&signed), RejectionKind::Malformed).await;
}

// --- Time -------------------------------------------------------------------

#[tokio::test]
async fn an_expired_created_is_refused() {
    // Max age 300 s plus 60 s of clock skew.
    let key = InstallKey::generate().unwrap();
    let approov = signing_approov();
    let at = |created: u64| {
        post(&token_for(&key))
            .created(created as i64)
            .sign_install(&key)
            .finish()
            .unwrap()
    };
    assert_passes(&approov, &req_of(&at(NOW - 360)), BODY).await;
    assert_refused(
        &approov,
        &req_of(&at(NOW - 361)),
        RejectionKind::SignatureExpired,
    )
    .await;
}

#[tokio::test]
async fn a_future_created_is_refused() {
    let key = InstallKey::generate().unwrap();
    let approov = signing_approov();
    let at = |created: u64| {
        post(&token_for(&key))
            .created(created as i64)
            .sign_install(&key)
            .finish()
            .unwrap()
    };
    assert_passes(&approov, &req_of(&at(NOW + 60)), BODY).await;
    assert_refused(
        &approov,
        &req_of(&at(NOW + 61)),
        RejectionKind::SignatureInvalid,
    )
    .await;
}

#[tokio::test]
async fn the_signing_clock_moves_with_the_verifier_clock() {
    let clock = ManualClock::at_unix(NOW);
    let verifier = Verifier::builder()
        .secret_base64(SECRET)
        .clock(clock.clone())
        .build()
        .unwrap();
    let signing = MessageSigning::builder()
        .clock(clock.clone())
        .build()
        .unwrap();
    let approov = ApproovFilter::new(verifier).message_signing(signing);
    let key = InstallKey::generate().unwrap();
    let req = req_of(&signed_post(&key));
    assert_passes(&approov, &req, BODY).await;
    clock.advance(std::time::Duration::from_secs(361));
    // The token (exp NOW + 300) has expired first.
    assert_refused(&approov, &req, RejectionKind::Expired).await;
}

// --- Algorithm and key ------------------------------------------------------

#[tokio::test]
async fn a_wrong_alg_is_refused() {
    let key = InstallKey::generate().unwrap();
    let approov = signing_approov();
    for alg in ["hmac-sha256", "ecdsa-p384-sha384", "ES256"] {
        let signed = post(&token_for(&key))
            .alg(Some(alg))
            .sign_install(&key)
            .finish()
            .unwrap();
        assert_refused(&approov, &req_of(&signed), RejectionKind::SignatureInvalid).await;
    }
}

#[tokio::test]
async fn an_ipk_that_is_not_a_p256_key_is_refused() {
    let key = InstallKey::generate().unwrap();
    let p384_pem = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../approov-core/tests/keys/p384.pub.pem"),
    )
    .unwrap();
    let p384_der: String = p384_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    assert!(STANDARD.decode(&p384_der).is_ok());
    let approov = signing_approov();
    for ipk in [p384_der.as_str(), "not base64!", "bm90IERFUg=="] {
        let token = sign(&claims().claim("ipk", ipk));
        let signed = post(&token).sign_install(&key).finish().unwrap();
        assert_refused(&approov, &req_of(&signed), RejectionKind::SignatureKey).await;
    }
}

// --- Content-Digest -----------------------------------------------------------

#[tokio::test]
async fn a_digest_mismatch_is_refused_even_when_no_signature_covers_it() {
    let key = InstallKey::generate().unwrap();
    let signed = post(&token_for(&key))
        .content_digest(Some(DigestAlgorithm::Sha512))
        .covering(["@method", "@target-uri", "approov-token"])
        .sign_install(&key)
        .finish()
        .unwrap();
    // By default a body must be covered by the signature. The head step
    // knows of the body from its framing, as an HTTP/1.1 server receives it.
    let strict = signing_approov();
    let framed = req_of(&signed).header("Content-Length", &BODY.len().to_string());
    assert_refused(&strict, &framed, RejectionKind::SignatureInvalid).await;
    let approov = approov_with(MessageSigning::builder().require_digest_for_body(false));
    assert_passes(&approov, &req_of(&signed), BODY).await;
    let req = req_of(&signed).body(&b"other"[..]);
    assert_refused(&approov, &req, RejectionKind::DigestMismatch).await;
}

#[tokio::test]
async fn a_malformed_digest_is_refused() {
    let key = InstallKey::generate().unwrap();
    // The signatures below do not cover the body: allowed here, so the
    // digest itself is what is refused.
    let approov = approov_with(MessageSigning::builder().require_digest_for_body(false));
    for value in ["md5=:AAAA:", "sha-256=\"abc\"", "(a b)"] {
        let signed = post(&token_for(&key))
            .content_digest(None)
            .header("Content-Digest", value)
            .covering(["@method", "@target-uri", "approov-token"])
            .sign_install(&key)
            .finish()
            .unwrap();
        assert_refused(&approov, &req_of(&signed), RejectionKind::DigestInvalid).await;
    }
}

// --- Account signatures -----------------------------------------------------

fn account_approov() -> ApproovFilter {
    approov_with(MessageSigning::builder().account_secret_base64("msk-1", ACCOUNT_SECRET))
}

fn account_token(key: &InstallKey) -> String {
    sign(&claims().claim("ipk", key.ipk()).claim("mskid", "msk-1"))
}

#[tokio::test]
async fn a_valid_account_signature_passes() {
    let key = InstallKey::generate().unwrap();
    let secret = Secret::from_base64(ACCOUNT_SECRET, "test").unwrap();
    let signed = post(&account_token(&key))
        .sign_install(&key)
        .sign_account(&secret)
        .finish()
        .unwrap();
    assert_passes(&account_approov(), &req_of(&signed), BODY).await;
}

#[tokio::test]
async fn a_wrong_or_missing_account_signature_is_refused() {
    let key = InstallKey::generate().unwrap();
    let approov = account_approov();
    let wrong = Secret::from_bytes(b"another secret".to_vec());
    let signed = post(&account_token(&key))
        .sign_install(&key)
        .sign_account(&wrong)
        .finish()
        .unwrap();
    assert_refused(&approov, &req_of(&signed), RejectionKind::SignatureInvalid).await;
    let signed = post(&account_token(&key))
        .sign_install(&key)
        .finish()
        .unwrap();
    assert_refused(&approov, &req_of(&signed), RejectionKind::SignatureMissing).await;
}

// --- The published Approov vectors ------------------------------------------

#[tokio::test]
async fn the_published_key_pair_and_good_ipk_token_sign_and_verify_end_to_end() {
    let sec1 = vectors()["ipk_key_pair"]["private_sec1_der_base64"]
        .as_str()
        .unwrap();
    let key = InstallKey::from_sec1_der(&STANDARD.decode(sec1).unwrap()).unwrap();
    let token = vectors()["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "good_ipk")
        .unwrap()["token"]
        .as_str()
        .unwrap();
    let s1 = vectors()["secrets"]["S1"]["base64"].as_str().unwrap();
    let example = &vectors()["content_digest_example"];
    let body = example["body"].as_str().unwrap().as_bytes();

    let clock = ManualClock::at_unix(NOW);
    let verifier = Verifier::builder()
        .secret_base64(s1)
        .clock(clock.clone())
        .build()
        .unwrap();
    let signing = MessageSigning::builder()
        .policy(SignaturePolicy::Always)
        .clock(clock)
        .build()
        .unwrap();
    let approov = ApproovFilter::new(verifier).message_signing(signing);

    let signed = RequestSigner::new("POST", "http://api.example.com/message-signing")
        .unwrap()
        .header("Approov-Token", token)
        .body(body)
        .created(NOW as i64)
        .sign_install(&key)
        .finish()
        .unwrap();
    assert_eq!(
        signed.header("Content-Digest"),
        example["content_digest"].as_str()
    );
    let res = assert_passes(&approov, &req_of(&signed), body).await;
    assert_eq!(res.header(DID_HEADER), Some(DID));

    let tampered = req_of(&signed).body(&b"My test message body!"[..]);
    assert_refused(&approov, &tampered, RejectionKind::DigestMismatch).await;
}

// --- The statuses -------------------------------------------------------------

#[tokio::test]
async fn every_refusal_is_a_401_never_a_5xx() {
    // A summary over odd inputs: whatever the signature headers hold, the
    // answer is the default 401 and the handler does not run.
    let key = InstallKey::generate().unwrap();
    let approov = signing_approov();
    let (app, calls) = signed_app(&approov);
    for (name, value) in [
        ("Signature", "install=:AAAA:"),
        ("Signature", "install=42"),
        ("Signature", "install=:AAAA"),
        ("Signature", ""),
        ("Signature-Input", "install=\"@method\""),
        ("Signature-Input", "install=(@method)"),
        ("Signature-Input", "install=(\"@status\");created=1"),
        ("Signature-Input", "((("),
        ("Content-Digest", "sha-256=:AAAA"),
    ] {
        let mut signed = signed_post(&key);
        signed.set_header(name, value);
        let res = send(&app, &req_of(&signed)).await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{name}: {value}");
        res.assert_default_rejection();
    }
    assert_eq!(calls.count(), 0);
}
