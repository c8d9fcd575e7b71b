//! Message signing through `Gate::check_message`, as every adapter calls
//! it: the published Approov key pair and `good_ipk` token end to end, and
//! every rejection kind with its reason (valid install signature in both
//! encodings; another method, URI, token or body; missing fields; expired or
//! future `created`; wrong `alg`; unusable `ipk`; `Content-Digest`; account
//! signatures; unsupported components; the policies; forwarded headers).
#![cfg(feature = "mint")]
#![allow(clippy::unwrap_used)]

use approov_core::mint::{InstallKey, RequestSigner, SignedRequest, TokenBuilder};
use approov_core::signing::{
    ComponentName, DigestAlgorithm, KeyProblem, MessageParts, MessageSigning,
    MessageSigningBuilder, SignatureLabel, SignaturePolicy, SignatureProblem, content_digest,
};
use approov_core::{
    ApproovOutcome, Decision, Gate, HeadDecision, ManualClock, Rejection, RejectionKind, Secret,
    Verifier,
};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;
use std::path::PathBuf;
use std::sync::OnceLock;

/// Secret S1 of the published vectors.
const S1: &str =
    "TEST+SECRET/TEST+SECRET/TEST+SECRET/TEST+SECRET/TEST+SECRET/TEST+SECRET/TEST+SECRET/AA==";
const NOW: i64 = 1_700_000_000;
const URI: &str = "https://api.example.com/shapes?size=2&colour=red";
const BODY: &[u8] = br#"{"shape":"circle"}"#;
const ACCOUNT_SECRET: &str = "YWNjb3VudC1tZXNzYWdlLXNpZ25pbmctc2VjcmV0LTAx";

fn vectors() -> &'static Value {
    static V: OnceLock<Value> = OnceLock::new();
    V.get_or_init(|| {
        let text = approov_core::mint::PUBLISHED_VECTORS;
        serde_json::from_str(text).unwrap()
    })
}

fn published_key() -> InstallKey {
    let sec1 = vectors()["ipk_key_pair"]["private_sec1_der_base64"]
        .as_str()
        .unwrap();
    InstallKey::from_sec1_der(&STANDARD.decode(sec1).unwrap()).unwrap()
}

fn clock() -> ManualClock {
    ManualClock::at_unix(NOW as u64)
}

fn verifier(clock: &ManualClock) -> Verifier {
    Verifier::builder()
        .secret_base64(S1)
        .clock(clock.clone())
        .build()
        .unwrap()
}

/// A gate with message signing as configured by `b`, on the fixed clock.
fn gate_with(b: MessageSigningBuilder) -> Gate {
    let clock = clock();
    Gate::new(verifier(&clock)).message_signing(b.clock(clock).build().unwrap())
}

fn gate() -> Gate {
    gate_with(MessageSigning::builder())
}

/// An HS256 (S1) token carrying `key`'s `ipk`.
fn token_for(key: &InstallKey) -> String {
    token_claims(key).sign_hs256_base64(S1).unwrap()
}

fn token_claims(key: &InstallKey) -> TokenBuilder {
    TokenBuilder::new()
        .exp((NOW + 300) as f64)
        .claim("did", "SigningTestDID==")
        .claim("ipk", key.ipk())
}

/// A POST with a body, its Content-Digest, and the token; not yet signed.
fn request(token: &str) -> RequestSigner {
    RequestSigner::new("POST", URI)
        .unwrap()
        .header("Approov-Token", token)
        .header("Content-Type", "application/json")
        .body(BODY)
        .created(NOW)
}

fn check(gate: &Gate, req: &SignedRequest) -> Decision {
    gate.check_message(&req.parts(), req.body.as_deref())
}

#[track_caller]
fn assert_verified(decision: Decision) {
    match decision {
        Decision::Forward(ApproovOutcome::Verified(_)) => {}
        other => panic!("expected Verified, got {other:?}"),
    }
}

#[track_caller]
fn assert_rejected(decision: Decision, kind: RejectionKind) -> Rejection {
    match decision {
        Decision::Reject(r) if r.kind() == kind => {
            // Every rejection answers 401 `{}`; the reason is for logs only.
            assert_eq!(approov_core::response::STATUS, 401);
            r
        }
        other => panic!("expected rejection {kind}, got {other:?}"),
    }
}

fn signed(key: &InstallKey) -> SignedRequest {
    request(&token_for(key)).sign_install(key).finish().unwrap()
}

fn invalid(problem: SignatureProblem) -> Rejection {
    Rejection::SignatureInvalid {
        label: SignatureLabel::Install,
        problem,
    }
}

// --- The published Approov vectors ------------------------------------------

#[test]
fn the_published_key_pair_matches_the_good_ipk_token() {
    let key = published_key();
    let pair = &vectors()["ipk_key_pair"];
    assert_eq!(key.ipk(), pair["public_spki_der_base64"].as_str().unwrap());

    let token = vectors()["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "good_ipk")
        .unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let claims = verifier(&clock()).verify(&token).unwrap();
    assert_eq!(claims.ipk(), Some(key.ipk().as_str()));
}

#[test]
fn the_published_token_and_key_sign_and_verify_end_to_end() {
    let key = published_key();
    let token = vectors()["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "good_ipk")
        .unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let example = &vectors()["content_digest_example"];
    let body = example["body"].as_str().unwrap();
    let req = RequestSigner::new("POST", "https://api.example.com/message-signing")
        .unwrap()
        .header("Approov-Token", &token)
        .body(body)
        .created(NOW)
        .sign_install(&key)
        .finish()
        .unwrap();
    assert_eq!(
        req.header("Content-Digest"),
        example["content_digest"].as_str()
    );
    let gate = gate_with(MessageSigning::builder().policy(SignaturePolicy::Always));
    assert!(matches!(
        gate.check_head(&req.parts()),
        HeadDecision::ReadBody(_)
    ));
    assert_verified(check(&gate, &req));
    // The same request with another body: the digest no longer matches.
    assert_rejected(
        gate.check_message(&req.parts(), Some(b"My test message body!")),
        RejectionKind::DigestMismatch,
    );
}

#[test]
fn the_published_content_digest_example_matches() {
    let example = &vectors()["content_digest_example"];
    assert_eq!(
        content_digest(
            DigestAlgorithm::Sha256,
            example["body"].as_str().unwrap().as_bytes()
        ),
        example["content_digest"].as_str().unwrap()
    );
}

// --- Valid signatures -----------------------------------------------------

#[test]
fn a_valid_install_signature_passes_as_a_byte_sequence_and_as_a_string() {
    let key = InstallKey::generate().unwrap();
    let req = signed(&key);
    assert!(req.header("Signature").unwrap().starts_with("install=:"));
    assert_verified(check(&gate(), &req));

    let req = request(&token_for(&key))
        .signature_as_string(true)
        .sign_install(&key)
        .finish()
        .unwrap();
    assert!(req.header("Signature").unwrap().starts_with("install=\""));
    assert_verified(check(&gate(), &req));
}

#[test]
fn a_get_without_body_needs_no_buffering_and_may_not_smuggle_one() {
    let key = InstallKey::generate().unwrap();
    let req = RequestSigner::new("GET", URI)
        .unwrap()
        .header("Approov-Token", &token_for(&key))
        .created(NOW)
        .sign_install(&key)
        .finish()
        .unwrap();
    let gate = gate();
    // The adapter knows there is no body: decided from the head.
    assert!(matches!(
        gate.check_head(&req.parts().with_body(false)),
        HeadDecision::Decided(Decision::Forward(_))
    ));
    assert_verified(gate.check_message(&req.parts(), None));
    // It cannot tell (HTTP/2 needs no `Content-Length`): the signature
    // does not cover a digest, so the body must be empty, and its first
    // byte is already too many.
    let must_be_empty = || match gate.check_head(&req.parts()) {
        HeadDecision::ReadBody(check) => check,
        other => panic!("{other:?}"),
    };
    assert_eq!(must_be_empty().max_len(), 0);
    assert_verified(must_be_empty().finish(Ok(b"")));
    let check = must_be_empty();
    let too_large = check.too_large();
    assert_rejected(
        check.finish(Err(too_large)),
        RejectionKind::SignatureInvalid,
    );
    assert_rejected(
        must_be_empty().finish(Ok(b"smuggled")),
        RejectionKind::SignatureInvalid,
    );
}

// --- Signatures over something else ---------------------------------------

#[test]
fn another_method_uri_token_or_body_is_rejected() {
    let key = InstallKey::generate().unwrap();
    let gate = gate();
    let mismatch = invalid(SignatureProblem::Mismatch);

    let mut req = signed(&key);
    req.method = "PUT".into();
    assert_eq!(
        assert_rejected(check(&gate, &req), RejectionKind::SignatureInvalid),
        mismatch
    );

    let mut req = signed(&key);
    req.path_and_query = "/shapes?size=3&colour=red".into();
    assert_eq!(
        assert_rejected(check(&gate, &req), RejectionKind::SignatureInvalid),
        mismatch
    );

    let mut req = signed(&key);
    req.set_header("Host", "evil.example.com");
    assert_eq!(
        assert_rejected(check(&gate, &req), RejectionKind::SignatureInvalid),
        mismatch
    );

    let mut req = signed(&key);
    req.scheme = "http".into();
    assert_eq!(
        assert_rejected(check(&gate, &req), RejectionKind::SignatureInvalid),
        mismatch
    );

    // Another valid token of the same installation.
    let mut req = signed(&key);
    let other = token_claims(&key)
        .claim("did", "AnotherDID==")
        .sign_hs256_base64(S1)
        .unwrap();
    req.set_header("Approov-Token", &other);
    assert_eq!(
        assert_rejected(check(&gate, &req), RejectionKind::SignatureInvalid),
        mismatch
    );

    // Another body under the signed Content-Digest.
    let req = signed(&key);
    assert_rejected(
        gate.check_message(&req.parts(), Some(b"{\"shape\":\"square\"}")),
        RejectionKind::DigestMismatch,
    );

    // Another body with its own Content-Digest: the signature covers the digest.
    let mut req = signed(&key);
    req.set_header(
        "Content-Digest",
        &content_digest(DigestAlgorithm::Sha256, b"{}"),
    );
    req.body = Some(b"{}".to_vec());
    assert_eq!(
        assert_rejected(check(&gate, &req), RejectionKind::SignatureInvalid),
        mismatch
    );

    // Signed by another installation's key.
    let other_key = InstallKey::generate().unwrap();
    let req = request(&token_for(&key))
        .sign_install(&other_key)
        .finish()
        .unwrap();
    assert_eq!(
        assert_rejected(check(&gate, &req), RejectionKind::SignatureInvalid),
        mismatch
    );
}

#[test]
fn a_corrupted_signature_value_is_rejected() {
    let key = InstallKey::generate().unwrap();
    let gate = gate();
    let mut req = signed(&key);
    req.set_header("Signature", "install=:AAAA:");
    assert_eq!(
        assert_rejected(check(&gate, &req), RejectionKind::SignatureInvalid),
        invalid(SignatureProblem::Mismatch)
    );
    req.set_header("Signature", "install=\"not base64!\"");
    assert_eq!(
        assert_rejected(check(&gate, &req), RejectionKind::SignatureInvalid),
        invalid(SignatureProblem::MalformedSignature)
    );
    req.set_header("Signature", "install=42");
    assert_eq!(
        assert_rejected(check(&gate, &req), RejectionKind::SignatureInvalid),
        invalid(SignatureProblem::MalformedSignature)
    );
    req.set_header("Signature", "install=:AAAA");
    assert_eq!(
        assert_rejected(check(&gate, &req), RejectionKind::SignatureInvalid),
        invalid(SignatureProblem::MalformedSignature)
    );
    let mut req = signed(&key);
    req.set_header("Signature-Input", "install=\"@method\"");
    assert_eq!(
        assert_rejected(check(&gate, &req), RejectionKind::SignatureInvalid),
        invalid(SignatureProblem::MalformedInput)
    );
    req.set_header("Signature-Input", "install=(@method)");
    assert_eq!(
        assert_rejected(check(&gate, &req), RejectionKind::SignatureInvalid),
        invalid(SignatureProblem::MalformedInput)
    );
}

// --- Missing signatures ---------------------------------------------------

#[test]
fn missing_signature_fields_are_rejected() {
    let key = InstallKey::generate().unwrap();
    let gate = gate();
    let missing = Rejection::SignatureMissing {
        label: SignatureLabel::Install,
    };
    for header in ["Signature", "Signature-Input"] {
        let mut req = signed(&key);
        req.headers.retain(|(n, _)| n != header);
        let r = assert_rejected(check(&gate, &req), RejectionKind::SignatureMissing);
        assert_eq!(r, missing, "without {header}");
    }
    // Entries under another label only.
    let mut req = signed(&key);
    let input = req
        .header("Signature-Input")
        .unwrap()
        .replacen("install=", "other=", 1);
    req.set_header("Signature-Input", &input);
    assert_eq!(
        assert_rejected(check(&gate, &req), RejectionKind::SignatureMissing),
        missing
    );
    let unsigned = request(&token_for(&key)).finish().unwrap();
    assert_eq!(
        assert_rejected(check(&gate, &unsigned), RejectionKind::SignatureMissing),
        missing
    );
    assert_eq!(
        missing.to_string(),
        "no install message signature in the request"
    );
}

// --- Time -----------------------------------------------------------------

#[test]
fn created_must_be_recent_and_not_in_the_future() {
    let key = InstallKey::generate().unwrap();
    let gate = gate(); // max age 300 s, skew 60 s
    let at = |created: i64| {
        let req = request(&token_for(&key))
            .created(created)
            .sign_install(&key)
            .finish()
            .unwrap();
        check(&gate, &req)
    };
    assert_verified(at(NOW - 360));
    assert_rejected(at(NOW - 361), RejectionKind::SignatureExpired);
    assert_verified(at(NOW + 60));
    let r = assert_rejected(at(NOW + 61), RejectionKind::SignatureInvalid);
    assert_eq!(r, invalid(SignatureProblem::CreatedInFuture));

    let strict = gate_with(
        MessageSigning::builder()
            .max_age(std::time::Duration::from_secs(10))
            .clock_skew(std::time::Duration::ZERO),
    );
    let req = request(&token_for(&key))
        .created(NOW - 11)
        .sign_install(&key)
        .finish()
        .unwrap();
    assert_rejected(check(&strict, &req), RejectionKind::SignatureExpired);
}

#[test]
fn expires_is_honoured_and_must_not_precede_created() {
    let key = InstallKey::generate().unwrap();
    let gate = gate(); // skew 60 s
    let req = |created: i64, expires: i64| {
        request(&token_for(&key))
            .created(created)
            .expires(expires)
            .sign_install(&key)
            .finish()
            .unwrap()
    };
    assert_verified(check(&gate, &req(NOW, NOW + 10)));
    assert_verified(check(&gate, &req(NOW - 100, NOW - 60)));
    assert_rejected(
        check(&gate, &req(NOW - 100, NOW - 61)),
        RejectionKind::SignatureExpired,
    );
    let r = assert_rejected(
        check(&gate, &req(NOW, NOW - 1)),
        RejectionKind::SignatureInvalid,
    );
    assert_eq!(r, invalid(SignatureProblem::ExpiresBeforeCreated));
}

#[test]
fn created_is_required_unless_configured_otherwise() {
    let key = InstallKey::generate().unwrap();
    let req = request(&token_for(&key))
        .without_created()
        .sign_install(&key)
        .finish()
        .unwrap();
    let r = assert_rejected(check(&gate(), &req), RejectionKind::SignatureInvalid);
    assert_eq!(r, invalid(SignatureProblem::CreatedMissing));
    assert_verified(check(
        &gate_with(MessageSigning::builder().require_created(false)),
        &req,
    ));
}

#[test]
fn a_created_of_the_wrong_type_is_rejected() {
    let key = InstallKey::generate().unwrap();
    let req = request(&token_for(&key))
        .without_created()
        .param("created", "1700000000")
        .sign_install(&key)
        .finish()
        .unwrap();
    let r = assert_rejected(check(&gate(), &req), RejectionKind::SignatureInvalid);
    assert_eq!(r, invalid(SignatureProblem::Parameter));
}

// --- Algorithm and key ----------------------------------------------------

#[test]
fn alg_must_name_the_labels_algorithm_when_present() {
    let key = InstallKey::generate().unwrap();
    for alg in ["hmac-sha256", "ecdsa-p384-sha384", "ES256"] {
        let req = request(&token_for(&key))
            .alg(Some(alg))
            .sign_install(&key)
            .finish()
            .unwrap();
        let r = assert_rejected(check(&gate(), &req), RejectionKind::SignatureInvalid);
        assert_eq!(r, invalid(SignatureProblem::Algorithm), "{alg}");
    }
    let req = request(&token_for(&key))
        .alg(None)
        .sign_install(&key)
        .finish()
        .unwrap();
    assert_verified(check(&gate(), &req));
}

#[test]
fn an_ipk_that_is_not_a_p256_key_is_rejected() {
    let key = InstallKey::generate().unwrap();
    let p384_pem = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/keys/p384.pub.pem"),
    )
    .unwrap();
    let (_, p384_der) = pem_rfc7468::decode_vec(p384_pem.trim().as_bytes()).unwrap();
    let cases = [
        (STANDARD.encode(&p384_der), KeyProblem::IpkNotP256),
        ("not base64 at all!".to_owned(), KeyProblem::IpkNotBase64),
        (STANDARD.encode(b"not DER"), KeyProblem::IpkNotSpki),
    ];
    for (ipk, problem) in cases {
        let token = token_claims(&key)
            .claim("ipk", ipk.as_str())
            .sign_hs256_base64(S1)
            .unwrap();
        let req = request(&token).sign_install(&key).finish().unwrap();
        let r = assert_rejected(check(&gate(), &req), RejectionKind::SignatureKey);
        assert_eq!(
            r,
            Rejection::SignatureKey {
                label: SignatureLabel::Install,
                problem
            }
        );
    }
}

// --- Content-Digest -------------------------------------------------------

#[test]
fn content_digest_is_checked_when_present_or_covered() {
    let key = InstallKey::generate().unwrap();
    let gate = gate();

    // A body whose digest the signature does not cover: refused by default.
    let req = request(&token_for(&key))
        .content_digest(Some(DigestAlgorithm::Sha512))
        .covering(["@method", "@target-uri", "approov-token"])
        .sign_install(&key)
        .finish()
        .unwrap();
    let r = assert_rejected(check(&gate, &req), RejectionKind::SignatureInvalid);
    assert_eq!(
        r,
        invalid(SignatureProblem::NotCovered(ComponentName::new(
            "\"content-digest\""
        )))
    );
    // Allowed: the header is still checked when present (sha-512 too).
    let uncovered = gate_with(MessageSigning::builder().require_digest_for_body(false));
    let gate = &uncovered;
    assert_verified(check(gate, &req));
    assert_rejected(
        gate.check_message(&req.parts(), Some(b"other")),
        RejectionKind::DigestMismatch,
    );
    // ... unless that option is off too and no signature covers it.
    let lax = gate_with(
        MessageSigning::builder()
            .require_digest_for_body(false)
            .verify_content_digest(false),
    );
    assert_verified(lax.check_message(&req.parts(), Some(b"other")));
    // A covered digest is checked whatever the option says.
    let covered = signed(&key);
    assert_rejected(
        lax.check_message(&covered.parts(), Some(b"other")),
        RejectionKind::DigestMismatch,
    );

    // Present but the adapter did not buffer the body.
    let r = assert_rejected(
        gate.check_message(&covered.parts(), None),
        RejectionKind::DigestInvalid,
    );
    assert_eq!(
        r.to_string(),
        "the Content-Digest header cannot be checked: the body was not buffered"
    );

    // Covered but absent.
    let mut req = signed(&key);
    req.headers.retain(|(n, _)| n != "Content-Digest");
    let r = assert_rejected(check(gate, &req), RejectionKind::SignatureInvalid);
    assert!(
        matches!(r, Rejection::SignatureInvalid { problem: SignatureProblem::ComponentAbsent(ref c), .. } if c.as_str() == Some("\"content-digest\""))
    );

    // Only unknown algorithms, or not a dictionary of byte sequences.
    for value in ["md5=:AAAA:", "sha-256=\"abc\"", "sha-256=:AAAA", "(a b)"] {
        let req = request(&token_for(&key))
            .content_digest(None)
            .header("Content-Digest", value)
            .covering(["@method", "@target-uri", "approov-token"])
            .sign_install(&key)
            .finish()
            .unwrap();
        assert_rejected(check(gate, &req), RejectionKind::DigestInvalid);
    }
    // A known algorithm next to an unknown one is enough.
    let good = content_digest(DigestAlgorithm::Sha256, BODY);
    let req = request(&token_for(&key))
        .content_digest(None)
        .header("Content-Digest", &format!("md5=:AAAA:, {good}"))
        .sign_install(&key)
        .finish()
        .unwrap();
    assert_verified(check(gate, &req));
}

#[test]
fn digest_is_checked_even_for_tokens_without_ipk() {
    let token = TokenBuilder::new()
        .exp((NOW + 300) as f64)
        .sign_hs256_base64(S1)
        .unwrap();
    let req = request(&token).finish().unwrap();
    assert_verified(check(&gate(), &req));
    assert_rejected(
        gate().check_message(&req.parts(), Some(b"x")),
        RejectionKind::DigestMismatch,
    );
}

// --- Account signatures ---------------------------------------------------

fn account_gate() -> Gate {
    gate_with(MessageSigning::builder().account_secret_base64("msk-1", ACCOUNT_SECRET))
}

fn account_token(key: &InstallKey, mskid: &str) -> String {
    token_claims(key)
        .claim("mskid", mskid)
        .sign_hs256_base64(S1)
        .unwrap()
}

#[test]
fn account_signatures_are_checked_by_mskid() {
    let key = InstallKey::generate().unwrap();
    let secret = Secret::from_base64(ACCOUNT_SECRET, "test").unwrap();
    let gate = account_gate();
    let token = account_token(&key, "msk-1");

    let req = request(&token)
        .sign_install(&key)
        .sign_account(&secret)
        .finish()
        .unwrap();
    assert!(
        req.header("Signature-Input")
            .unwrap()
            .contains(", account=(")
    );
    assert_verified(check(&gate, &req));

    let wrong = Secret::from_bytes(b"another secret".to_vec());
    let req = request(&token)
        .sign_install(&key)
        .sign_account(&wrong)
        .finish()
        .unwrap();
    let r = assert_rejected(check(&gate, &req), RejectionKind::SignatureInvalid);
    assert_eq!(
        r,
        Rejection::SignatureInvalid {
            label: SignatureLabel::Account,
            problem: SignatureProblem::Mismatch
        }
    );

    let req = request(&token).sign_install(&key).finish().unwrap();
    let r = assert_rejected(check(&gate, &req), RejectionKind::SignatureMissing);
    assert_eq!(
        r,
        Rejection::SignatureMissing {
            label: SignatureLabel::Account
        }
    );

    // The account signature must say hmac-sha256 when it names its alg.
    let req = request(&token)
        .sign_install(&key)
        .alg(Some("ecdsa-p256-sha256"))
        .sign_account(&secret)
        .finish()
        .unwrap();
    assert_rejected(check(&gate, &req), RejectionKind::SignatureInvalid);

    // An mskid with no configured secret.
    let req = request(&account_token(&key, "msk-2"))
        .sign_install(&key)
        .sign_account(&secret)
        .finish()
        .unwrap();
    let r = assert_rejected(check(&gate, &req), RejectionKind::SignatureKey);
    assert_eq!(
        r,
        Rejection::SignatureKey {
            label: SignatureLabel::Account,
            problem: KeyProblem::UnknownMskid
        }
    );

    // Without account secrets configured, account signatures are not needed.
    let req = request(&token).sign_install(&key).finish().unwrap();
    assert_verified(check(&self::gate(), &req));
}

#[test]
fn an_account_only_token_needs_only_the_account_signature() {
    let secret = Secret::from_base64(ACCOUNT_SECRET, "test").unwrap();
    let token = TokenBuilder::new()
        .exp((NOW + 300) as f64)
        .claim("mskid", "msk-1")
        .sign_hs256_base64(S1)
        .unwrap();
    let req = request(&token).sign_account(&secret).finish().unwrap();
    assert_verified(check(&account_gate(), &req));
}

#[test]
fn account_secrets_are_validated_and_redacted() {
    let err = MessageSigning::builder()
        .account_secret_base64("msk-1", "not base64!")
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("account_secret_base64"), "{err}");
    assert!(
        MessageSigning::builder()
            .account_secret_base64("", ACCOUNT_SECRET)
            .build()
            .is_err()
    );
    let signing = MessageSigning::builder()
        .account_secret_base64("msk-1", ACCOUNT_SECRET)
        .build()
        .unwrap();
    let debug = format!("{signing:?}");
    assert!(
        debug.contains("msk-1") && debug.contains("[redacted]"),
        "{debug}"
    );
    assert!(!debug.contains(ACCOUNT_SECRET), "{debug}");
}

// --- Components -----------------------------------------------------------

#[test]
fn unsupported_components_are_rejected_and_named() {
    let key = InstallKey::generate().unwrap();
    let token = token_for(&key);
    let cases = [
        (r#""@status""#, Some(r#""@status""#)),
        (r#""@signature-params""#, Some(r#""@signature-params""#)),
        (r#""@method";req"#, Some(r#""@method";req"#)),
        (r#""content-type";tr"#, Some(r#""content-type";tr"#)),
        (r#""content-type";sf"#, Some(r#""content-type";sf"#)),
        (
            r#""@query-param";name="size";req"#,
            Some(r#""@query-param";name="size";req"#),
        ),
        (r#""@unknown""#, Some(r#""@unknown""#)),
        (
            r#""content-digest";bs;sf"#,
            Some(r#""content-digest";bs;sf"#),
        ),
        (
            r#""@a-very-long-derived-component-name-that-nobody-would-ever-define-here""#,
            None,
        ),
        (r#""@who are you?""#, None),
    ];
    for (component, shown) in cases {
        let input = format!(
            r#"install=("@method" "@target-uri" "approov-token" {component});created={NOW}"#
        );
        let mut req = request(&token).sign_install(&key).finish().unwrap();
        req.set_header("Signature-Input", &input);
        let r = assert_rejected(check(&gate(), &req), RejectionKind::SignatureUnsupported);
        let Rejection::SignatureUnsupported {
            component: name, ..
        } = &r
        else {
            unreachable!()
        };
        assert_eq!(name.as_str(), shown, "{component}");
        let text = r.to_string();
        match shown {
            Some(shown) => assert!(text.contains(shown), "{text}"),
            None => assert!(text.contains("[unprintable component]"), "{text}"),
        }
    }
}

#[test]
fn required_components_must_be_covered() {
    let key = InstallKey::generate().unwrap();
    let token = token_for(&key);
    let req = request(&token)
        .covering(["@method", "@path", "approov-token"])
        .sign_install(&key)
        .finish()
        .unwrap();
    let r = assert_rejected(check(&gate(), &req), RejectionKind::SignatureInvalid);
    assert!(
        matches!(r, Rejection::SignatureInvalid { problem: SignatureProblem::NotCovered(ref c), .. } if c.as_str() == Some("\"@target-uri\""))
    );
    // (The request's body is not covered either: allowed here.)
    let b = || MessageSigning::builder().require_digest_for_body(false);
    let relaxed = gate_with(b().required_components(["@method", "@path"]));
    assert_verified(check(&relaxed, &req));
    let none = gate_with(b().required_components::<[&str; 0], &str>([]));
    let bare = request(&token)
        .covering(["@path"])
        .sign_install(&key)
        .finish()
        .unwrap();
    assert_verified(check(&none, &bare));
}

#[test]
fn every_supported_component_round_trips() {
    let key = InstallKey::generate().unwrap();
    let token = token_for(&key);
    let req = RequestSigner::new(
        "POST",
        "https://API.Example.com:443/a%20b/c?q=1&x=a+b&x=%C3%A7&empty=",
    )
    .unwrap()
    .header("Approov-Token", &token)
    .header("X-Multi", " one ")
    .header("X-Multi", "two")
    .header("X-Empty", "")
    .body(BODY)
    .created(NOW)
    .covering([
        "@method",
        "@target-uri",
        "@authority",
        "@scheme",
        "@request-target",
        "@path",
        "@query",
        r#""@query-param";name="x""#,
        r#""@query-param";name="empty""#,
        "approov-token",
        "x-multi",
        r#""x-multi";bs"#,
        "x-empty",
        r#""content-digest";sf"#,
        r#""content-digest";key="sha-256""#,
    ])
    .sign_install(&key)
    .finish()
    .unwrap();
    let gate = gate();
    assert_verified(check(&gate, &req));
    let base = String::from_utf8(
        gate.signing()
            .unwrap()
            .signature_base(&req.parts(), "install")
            .unwrap(),
    )
    .unwrap();
    let digest = content_digest(DigestAlgorithm::Sha256, BODY);
    let digest_value = digest.strip_prefix("sha-256=").unwrap();
    let expected_start = [
        "\"@method\": POST",
        "\"@target-uri\": https://api.example.com/a%20b/c?q=1&x=a+b&x=%C3%A7&empty=",
        "\"@authority\": api.example.com",
        "\"@scheme\": https",
        "\"@request-target\": /a%20b/c?q=1&x=a+b&x=%C3%A7&empty=",
        "\"@path\": /a%20b/c",
        "\"@query\": ?q=1&x=a+b&x=%C3%A7&empty=",
        "\"@query-param\";name=\"x\": a%20b",
        "\"@query-param\";name=\"x\": %C3%A7",
        "\"@query-param\";name=\"empty\": ",
        &format!("\"approov-token\": {token}"),
        "\"x-multi\": one, two",
        "\"x-multi\";bs: :b25l:, :dHdv:",
        "\"x-empty\": ",
        &format!("\"content-digest\";sf: {digest}"),
        &format!("\"content-digest\";key=\"sha-256\": {digest_value}"),
    ]
    .join("\n");
    assert!(base.starts_with(&expected_start), "{base}");

    // A missing query parameter or dictionary key is an absent component.
    let input = req
        .header("Signature-Input")
        .unwrap()
        .replace("name=\"x\"", "name=\"nope\"");
    let mut missing = req.clone();
    missing.set_header("Signature-Input", &input);
    let r = assert_rejected(check(&gate, &missing), RejectionKind::SignatureInvalid);
    assert!(matches!(
        r,
        Rejection::SignatureInvalid {
            problem: SignatureProblem::ComponentAbsent(_),
            ..
        }
    ));
}

#[test]
fn a_duplicate_component_is_rejected() {
    let key = InstallKey::generate().unwrap();
    let mut req = signed(&key);
    req.set_header(
        "Signature-Input",
        &format!(r#"install=("@method" "@target-uri" "approov-token" "@method");created={NOW}"#),
    );
    let r = assert_rejected(check(&gate(), &req), RejectionKind::SignatureInvalid);
    assert!(matches!(
        r,
        Rejection::SignatureInvalid {
            problem: SignatureProblem::DuplicateComponent(_),
            ..
        }
    ));
}

// --- Policies -------------------------------------------------------------

#[test]
fn policy_always_rejects_a_token_without_ipk() {
    let token = TokenBuilder::new()
        .exp((NOW + 300) as f64)
        .sign_hs256_base64(S1)
        .unwrap();
    let req = request(&token).finish().unwrap();
    let always = gate_with(MessageSigning::builder().policy(SignaturePolicy::Always));
    let r = assert_rejected(check(&always, &req), RejectionKind::SignatureMissing);
    assert_eq!(
        r,
        Rejection::SignatureMissing {
            label: SignatureLabel::Install
        }
    );
    // The default policy lets it through: the app does not sign.
    assert_verified(check(&gate(), &req));
}

#[test]
fn policy_off_ignores_signatures_and_digests() {
    let key = InstallKey::generate().unwrap();
    let mut req = signed(&key);
    req.set_header("Signature", "install=:AAAA:");
    let off = gate_with(MessageSigning::builder().policy(SignaturePolicy::Off));
    let decided = |gate: &Gate| {
        matches!(
            gate.check_head(&req.parts()),
            HeadDecision::Decided(Decision::Forward(_))
        )
    };
    assert!(decided(&off));
    assert_verified(off.check_message(&req.parts(), Some(b"another body")));
    assert!(decided(
        &Gate::new(verifier(&clock())).message_signing(MessageSigning::off())
    ));
    // Without any message-signing configuration, check_message is check.
    let plain = Gate::new(verifier(&clock()));
    assert!(decided(&plain));
    assert_verified(plain.check_message(&req.parts(), None));
}

#[test]
fn the_token_is_still_verified_first() {
    let key = InstallKey::generate().unwrap();
    let mut req = signed(&key);
    req.headers.retain(|(n, _)| n != "Approov-Token");
    assert_rejected(check(&gate(), &req), RejectionKind::Missing);
}

#[test]
fn report_only_and_preflight_are_handled_like_check() {
    let key = InstallKey::generate().unwrap();
    let mut req = signed(&key);
    req.method = "PUT".into();
    let report = gate().report_only(true);
    match check(&report, &req) {
        Decision::Forward(ApproovOutcome::Rejected(r)) => {
            assert_eq!(r.kind(), RejectionKind::SignatureInvalid);
        }
        other => panic!("expected a reported rejection, got {other:?}"),
    }
    let headers = [
        ("Access-Control-Request-Method", "POST"),
        ("Origin", "https://x"),
    ];
    let parts = MessageParts::new("OPTIONS", "/shapes", &headers);
    assert!(matches!(
        gate().check_message(&parts, None),
        Decision::Forward(ApproovOutcome::SkippedPreflight)
    ));
}

// --- Origin behind proxies ------------------------------------------------

/// The signed request as a server behind a proxy sees it: plain http, an
/// internal Host, plus whatever proxy headers are given.
fn behind_proxy(req: &SignedRequest, extra: &[(&str, &str)]) -> SignedRequest {
    let mut seen = req.clone();
    seen.scheme = "http".into();
    seen.set_header("Host", "backend.internal:8080");
    for (n, v) in extra {
        seen.headers.push(((*n).to_owned(), (*v).to_owned()));
    }
    seen
}

#[test]
fn forwarded_headers_are_trusted_only_when_enabled() {
    let key = InstallKey::generate().unwrap();
    let req = signed(&key);
    let xf = [
        ("X-Forwarded-Proto", "https"),
        ("X-Forwarded-Host", "api.example.com"),
    ];
    let fwd = [(
        "Forwarded",
        "for=192.0.2.1;proto=https;host=api.example.com",
    )];
    let trusting = gate_with(MessageSigning::builder().trust_forwarded_headers(true));

    for extra in [&xf[..], &fwd[..]] {
        let seen = behind_proxy(&req, extra);
        assert_rejected(check(&gate(), &seen), RejectionKind::SignatureInvalid);
        assert_verified(check(&trusting, &seen));
    }
    // A client-sent element before the proxy's is not the one read.
    let spoofed = behind_proxy(
        &req,
        &[
            ("X-Forwarded-Host", "evil.example.com, api.example.com"),
            ("X-Forwarded-Proto", "https"),
        ],
    );
    assert_verified(check(&trusting, &spoofed));
    let spoofed = behind_proxy(
        &req,
        &[
            ("X-Forwarded-Host", "api.example.com, evil.example.com"),
            ("X-Forwarded-Proto", "https"),
        ],
    );
    assert_rejected(check(&trusting, &spoofed), RejectionKind::SignatureInvalid);
}

#[test]
fn a_public_origin_overrides_what_the_server_sees() {
    let key = InstallKey::generate().unwrap();
    let req = signed(&key);
    let seen = behind_proxy(&req, &[("X-Forwarded-Host", "evil.example.com")]);
    let public = gate_with(
        MessageSigning::builder()
            .public_origin("https://API.example.com:443/")
            .trust_forwarded_headers(true),
    );
    assert_verified(check(&public, &seen));
    for bad in [
        "api.example.com",
        "ftp://api.example.com",
        "https://",
        "https://a/b",
    ] {
        let err = MessageSigning::builder()
            .public_origin(bad)
            .build()
            .unwrap_err();
        assert!(err.to_string().contains("public_origin"), "{bad}: {err}");
    }
}

#[test]
fn the_authority_comes_from_the_adapter_or_a_single_host_header() {
    let key = InstallKey::generate().unwrap();
    let req = signed(&key);
    let gate = gate();
    // HTTP/2: the adapter gives :authority, there is no Host header.
    let mut h2 = req.clone();
    h2.headers.retain(|(n, _)| n != "Host");
    let parts = h2.parts().with_authority(Some("api.example.com"));
    assert_verified(gate.check_message(&parts, h2.body.as_deref()));
    // No authority at all, or two Host headers.
    let r = assert_rejected(check(&gate, &h2), RejectionKind::SignatureInvalid);
    assert!(matches!(
        r,
        Rejection::SignatureInvalid {
            problem: SignatureProblem::ComponentAbsent(_),
            ..
        }
    ));
    let mut two = req.clone();
    two.headers.push(("Host".into(), "api.example.com".into()));
    let r = assert_rejected(check(&gate, &two), RejectionKind::SignatureInvalid);
    assert!(matches!(
        r,
        Rejection::SignatureInvalid {
            problem: SignatureProblem::ComponentValue(_),
            ..
        }
    ));
}

#[test]
fn rejection_kinds_have_stable_names() {
    let names = [
        (RejectionKind::SignatureMissing, "signature_missing"),
        (RejectionKind::SignatureInvalid, "signature_invalid"),
        (RejectionKind::SignatureExpired, "signature_expired"),
        (RejectionKind::SignatureUnsupported, "signature_unsupported"),
        (RejectionKind::SignatureKey, "signature_key"),
        (RejectionKind::DigestMismatch, "digest_mismatch"),
        (RejectionKind::DigestInvalid, "digest_invalid"),
    ];
    for (kind, name) in names {
        assert_eq!(kind.as_str(), name);
    }
}
