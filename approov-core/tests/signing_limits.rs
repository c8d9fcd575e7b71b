//! Bounded work per signed request (limits on `Signature-Input`,
//! `Signature` and the components they name, checked before any signature
//! base is built) and what a signature must cover when the request has a
//! body (`content-digest`, with a supported algorithm).
#![cfg(feature = "mint")]
#![allow(clippy::unwrap_used)]

use approov_core::mint::{InstallKey, RequestSigner, SignedRequest, TokenBuilder};
use approov_core::signing::{
    ComponentName, DEFAULT_MAX_COMPONENTS, DEFAULT_MAX_SIGNATURE_FIELD_LEN, DEFAULT_MAX_SIGNATURES,
    DigestAlgorithm, DigestProblem, MessageSigning, MessageSigningBuilder, SignatureLabel,
    SignatureLimit, SignatureProblem, content_digest,
};
use approov_core::{
    ApproovOutcome, Decision, Gate, ManualClock, Rejection, RejectionKind, Verifier,
};

const S1: &str =
    "TEST+SECRET/TEST+SECRET/TEST+SECRET/TEST+SECRET/TEST+SECRET/TEST+SECRET/TEST+SECRET/AA==";
const NOW: i64 = 1_700_000_000;
const BODY: &[u8] = br#"{"shape":"circle"}"#;
const ACCOUNT_SECRET: &str = "YWNjb3VudC1tZXNzYWdlLXNpZ25pbmctc2VjcmV0LTAx";

fn gate_with(b: MessageSigningBuilder) -> Gate {
    let clock = ManualClock::at_unix(NOW as u64);
    let verifier = Verifier::builder()
        .secret_base64(S1)
        .clock(clock.clone())
        .build()
        .unwrap();
    Gate::new(verifier).message_signing(b.clock(clock).build().unwrap())
}

fn gate() -> Gate {
    gate_with(MessageSigning::builder())
}

fn token_for(key: &InstallKey) -> String {
    TokenBuilder::new()
        .exp((NOW + 300) as f64)
        .claim("ipk", key.ipk())
        .sign_hs256_base64(S1)
        .unwrap()
}

fn check(gate: &Gate, req: &SignedRequest) -> Decision {
    gate.check_message(&req.parts(), req.body.as_deref())
}

#[track_caller]
fn verified(decision: Decision) {
    assert!(
        matches!(decision, Decision::Forward(ApproovOutcome::Verified(_))),
        "expected Verified, got {decision:?}"
    );
}

#[track_caller]
fn rejected(decision: Decision) -> Rejection {
    match decision {
        Decision::Reject(r) => r,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

fn limit(limit: SignatureLimit) -> Rejection {
    Rejection::SignatureLimit(limit)
}

/// A GET whose query has `n` parameters, signed over the usual components
/// and one `@query-param` per parameter: the amplification attack of a
/// client holding a genuine token.
fn query_params_request(key: &InstallKey, n: usize) -> SignedRequest {
    let query: Vec<String> = (0..n).map(|i| format!("a{i}=1")).collect();
    let uri = format!("https://api.example.com/shapes?{}", query.join("&"));
    let mut components = vec![
        "@method".to_owned(),
        "@target-uri".to_owned(),
        "approov-token".to_owned(),
    ];
    components.extend((0..n).map(|i| format!(r#""@query-param";name="a{i}""#)));
    RequestSigner::new("GET", &uri)
        .unwrap()
        .header("Approov-Token", &token_for(key))
        .created(NOW)
        .covering(components)
        .sign_install(key)
        .finish()
        .unwrap()
}

// --- Limits -----------------------------------------------------------------

#[test]
fn the_defaults_are_documented_values() {
    assert_eq!(DEFAULT_MAX_COMPONENTS, 32);
    assert_eq!(DEFAULT_MAX_SIGNATURES, 4);
    assert_eq!(DEFAULT_MAX_SIGNATURE_FIELD_LEN, 8192);
    let debug = format!("{:?}", MessageSigning::default());
    assert!(debug.contains("max_components: 32"), "{debug}");
}

#[test]
fn three_thousand_components_are_refused_by_the_field_length_before_parsing() {
    let key = InstallKey::generate().unwrap();
    let req = query_params_request(&key, 3000);
    assert!(req.header("Signature-Input").unwrap().len() > 8192);
    let r = rejected(check(&gate(), &req));
    assert_eq!(r.kind(), RejectionKind::SignatureLimit);
    assert_eq!(r.kind().as_str(), "signature_limit");
    assert_eq!(
        r,
        limit(SignatureLimit::FieldTooLong {
            field: "Signature-Input",
            max: 8192
        })
    );
    assert_eq!(
        r.to_string(),
        "the message signature fields exceed a limit: Signature-Input is longer than 8192 bytes"
    );
    // With a larger field allowed, the component count stops it.
    let roomy = gate_with(MessageSigning::builder().max_signature_field_len(1 << 20));
    assert_eq!(
        rejected(check(&roomy, &req)),
        limit(SignatureLimit::TooManyComponents { max: 32 })
    );
    // The diagnostic base is not built either.
    assert!(
        roomy
            .signing()
            .unwrap()
            .signature_base(&req.parts(), "install")
            .is_none()
    );
}

#[test]
fn up_to_the_component_limit_verifies_and_one_more_is_refused() {
    let key = InstallKey::generate().unwrap();
    // 3 usual components + 29 query parameters = 32.
    let at_limit = query_params_request(&key, 29);
    verified(check(&gate(), &at_limit));
    let over = query_params_request(&key, 30);
    assert_eq!(
        rejected(check(&gate(), &over)),
        limit(SignatureLimit::TooManyComponents { max: 32 })
    );
    // Configurable both ways.
    let tight = gate_with(MessageSigning::builder().max_components(8));
    assert_eq!(
        rejected(check(&tight, &query_params_request(&key, 6))),
        limit(SignatureLimit::TooManyComponents { max: 8 })
    );
    verified(check(&tight, &query_params_request(&key, 5)));
    let loose = gate_with(MessageSigning::builder().max_components(64));
    verified(check(&loose, &query_params_request(&key, 40)));
}

#[test]
fn more_signatures_than_the_limit_are_refused_in_either_field() {
    let key = InstallKey::generate().unwrap();
    let req = query_params_request(&key, 1);
    let extra = |field: &str, n: usize| {
        let mut r = req.clone();
        let mut value = r.header(field).unwrap().to_owned();
        for i in 0..n {
            let member = if field == "Signature" {
                format!(", x{i}=:AAAA:")
            } else {
                format!(", x{i}=(\"@method\")")
            };
            value.push_str(&member);
        }
        r.set_header(field, &value);
        r
    };
    for field in ["Signature-Input", "Signature"] {
        // install + 3 others = 4: allowed (the others are ignored).
        verified(check(&gate(), &extra(field, 3)));
        assert_eq!(
            rejected(check(&gate(), &extra(field, 4))),
            limit(SignatureLimit::TooManySignatures { max: 4 }),
            "{field}"
        );
    }
    let one = gate_with(MessageSigning::builder().max_signatures(1));
    verified(check(&one, &req));
    assert_eq!(
        rejected(check(&one, &extra("Signature", 1))),
        limit(SignatureLimit::TooManySignatures { max: 1 })
    );
}

#[test]
fn a_long_signature_field_is_refused_whatever_its_lines() {
    let key = InstallKey::generate().unwrap();
    let mut req = query_params_request(&key, 1);
    // Several lines of one field count together (joined with ", ").
    let filler = format!("pad=\"{}\"", "p".repeat(4100));
    req.headers.push(("Signature".into(), filler.clone()));
    req.headers.push(("Signature".into(), filler));
    let r = rejected(check(&gate(), &req));
    assert_eq!(
        r,
        limit(SignatureLimit::FieldTooLong {
            field: "Signature",
            max: 8192
        })
    );
    assert!(
        r.to_string()
            .contains("Signature is longer than 8192 bytes")
    );
    // One line of that size is fine under a larger limit.
    let roomy = gate_with(MessageSigning::builder().max_signature_field_len(16 * 1024));
    verified(check(&roomy, &req));
}

#[test]
fn a_content_digest_over_the_field_limit_is_malformed() {
    let key = InstallKey::generate().unwrap();
    let good = content_digest(DigestAlgorithm::Sha256, BODY);
    let padded = format!("{good}, {}", "x=:AAAA:, ".repeat(900));
    let req = RequestSigner::new("POST", "https://api.example.com/shapes")
        .unwrap()
        .header("Approov-Token", &token_for(&key))
        .body(BODY)
        .content_digest(None)
        .header("Content-Digest", padded.trim_end_matches([',', ' ']))
        .created(NOW)
        .sign_install(&key)
        .finish()
        .unwrap();
    assert_eq!(
        rejected(check(&gate(), &req)),
        Rejection::DigestInvalid(DigestProblem::Malformed)
    );
}

#[test]
fn limits_cost_nothing_when_no_signature_is_needed() {
    // The default policy needs no signature from a token without ipk: the
    // oversized fields are never read.
    let key = InstallKey::generate().unwrap();
    let mut req = query_params_request(&key, 3000);
    let plain = TokenBuilder::new()
        .exp((NOW + 300) as f64)
        .sign_hs256_base64(S1)
        .unwrap();
    req.set_header("Approov-Token", &plain);
    verified(check(&gate(), &req));
}

#[test]
fn limits_that_cannot_work_are_configuration_errors() {
    let err = |b: MessageSigningBuilder| b.build().unwrap_err().to_string();
    let e = err(MessageSigning::builder().max_components(2));
    assert!(e.starts_with("max_components is not usable"), "{e}");
    assert!(e.contains("at least 3"), "{e}");
    let e = err(MessageSigning::builder()
        .required_components(["@method"; 0])
        .max_components(0));
    assert!(e.contains("at least 1"), "{e}");
    let e = err(MessageSigning::builder().max_signatures(0));
    assert!(e.starts_with("max_signatures is not usable"), "{e}");
    let e = err(MessageSigning::builder()
        .account_secret_base64("msk", ACCOUNT_SECRET)
        .max_signatures(1));
    assert!(e.contains("at least 2"), "{e}");
    let e = err(MessageSigning::builder().max_signature_field_len(10));
    assert!(
        e.starts_with("max_signature_field_len is not usable"),
        "{e}"
    );
    assert!(MessageSigning::builder().max_components(3).build().is_ok());
}

// --- A body must be covered by the signature ---------------------------------

fn post(key: &InstallKey) -> RequestSigner {
    RequestSigner::new("POST", "https://api.example.com/shapes")
        .unwrap()
        .header("Approov-Token", &token_for(key))
        .body(BODY)
        .created(NOW)
}

fn not_covered() -> Rejection {
    Rejection::SignatureInvalid {
        label: SignatureLabel::Install,
        problem: SignatureProblem::NotCovered(ComponentName::new("\"content-digest\"")),
    }
}

#[test]
fn a_body_must_be_covered_by_the_installation_signature() {
    let key = InstallKey::generate().unwrap();
    let usual = ["@method", "@target-uri", "approov-token"];
    let uncovered = post(&key)
        .covering(usual)
        .sign_install(&key)
        .finish()
        .unwrap();
    assert_eq!(rejected(check(&gate(), &uncovered)), not_covered());
    // Told by the adapter, by Content-Length or by Transfer-Encoding, even
    // before the body is read.
    for (hint, header) in [
        (Some(true), None),
        (None, Some(("Content-Length", "18"))),
        (None, Some(("Transfer-Encoding", "chunked"))),
    ] {
        let mut req = uncovered.clone();
        if let Some((name, value)) = header {
            req.headers.push((name.into(), value.into()));
        }
        let parts = match hint {
            Some(yes) => req.parts().with_body(yes),
            None => req.parts(),
        };
        assert!(parts.has_body());
        assert_eq!(rejected(gate().check_message(&parts, None)), not_covered());
    }
    // No body: nothing to cover.
    let mut empty = uncovered.clone();
    empty.headers.push(("Content-Length".into(), "0".into()));
    empty.headers.retain(|(n, _)| n != "Content-Digest");
    assert!(!empty.parts().has_body());
    let get = RequestSigner::new("GET", "https://api.example.com/shapes")
        .unwrap()
        .header("Approov-Token", &token_for(&key))
        .header("Content-Length", "0")
        .created(NOW)
        .sign_install(&key)
        .finish()
        .unwrap();
    verified(check(&gate(), &get));
    // Configurable.
    let lax = gate_with(MessageSigning::builder().require_digest_for_body(false));
    verified(check(&lax, &uncovered));
    // Covering the whole field, as sf, or its sha-256 member all count.
    for covered in [
        "content-digest",
        r#""content-digest";sf"#,
        r#""content-digest";key="sha-256""#,
    ] {
        let mut components = usual.map(str::to_owned).to_vec();
        components.push(covered.to_owned());
        let req = post(&key)
            .covering(components)
            .sign_install(&key)
            .finish()
            .unwrap();
        verified(check(&gate(), &req));
    }
}

#[test]
fn covering_an_unsupported_digest_member_does_not_protect_the_body() {
    // The signature covers only the md5 member; the attacker swaps the body
    // and recomputes the sha-256 member it does not cover.
    let key = InstallKey::generate().unwrap();
    let md5 = "md5=:AAAAAAAAAAAAAAAAAAAAAA==:";
    let signed = post(&key)
        .content_digest(None)
        .header(
            "Content-Digest",
            &format!("{md5}, {}", content_digest(DigestAlgorithm::Sha256, BODY)),
        )
        .covering([
            "@method",
            "@target-uri",
            "approov-token",
            r#""content-digest";key="md5""#,
        ])
        .sign_install(&key)
        .finish()
        .unwrap();
    let mut swapped = signed.clone();
    let evil = br#"{"shape":"square"}"#;
    swapped.body = Some(evil.to_vec());
    swapped.set_header(
        "Content-Digest",
        &format!("{md5}, {}", content_digest(DigestAlgorithm::Sha256, evil)),
    );
    assert_eq!(rejected(check(&gate(), &swapped)), not_covered());
    assert_eq!(rejected(check(&gate(), &signed)), not_covered());
}

#[test]
fn a_checked_digest_must_name_a_supported_algorithm_unless_allowed() {
    let key = InstallKey::generate().unwrap();
    let req = post(&key)
        .content_digest(None)
        .header("Content-Digest", "md5=:AAAAAAAAAAAAAAAAAAAAAA==:")
        .sign_install(&key)
        .finish()
        .unwrap();
    // Covered (the signer covers the header), checked, no supported member.
    assert_eq!(
        rejected(check(&gate(), &req)),
        Rejection::DigestInvalid(DigestProblem::UnsupportedAlgorithm)
    );
    let allowed = gate_with(MessageSigning::builder().require_supported_digest(false));
    verified(check(&allowed, &req));
}
