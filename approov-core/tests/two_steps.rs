//! The two steps every adapter takes (`Gate::check_head`, then
//! `BodyCheck::finish`): the body is asked for only once the token, its
//! binding and the signatures passed, under the configured limit and
//! deadline; body problems are their own decision; and `check_message`,
//! rebuilt on the two steps, decides every request as they do (a property
//! test over random requests).
#![cfg(feature = "mint")]
#![allow(clippy::unwrap_used)]

use std::sync::OnceLock;
use std::time::Duration;

use approov_core::mint::{InstallKey, RequestSigner, SignedRequest, TokenBuilder};
use approov_core::signing::{
    DEFAULT_BODY_READ_TIMEOUT, DEFAULT_MAX_BODY_LEN, DigestAlgorithm, MessageParts, MessageSigning,
    MessageSigningBuilder, SignaturePolicy,
};
use approov_core::{
    ApproovOutcome, BodyProblem, Decision, Gate, HeadDecision, ManualClock, RejectionKind, Verifier,
};
use proptest::prelude::*;

const SECRET: &str =
    "YXBwcm9vdi1ycyBleGFtcGxlIHNlY3JldDogMzIgYnl0ZXMgb3IgbW9yZSwgYXMgUkZDIDc1MTggYXNrcw==";
const OTHER_SECRET: &str = "b3RoZXIgc2VjcmV0IG9mIGF0IGxlYXN0IHRoaXJ0eS10d28gYnl0ZXMgbG9uZw==";
const NOW: i64 = 1_700_000_000;
const URI: &str = "https://api.example.com/message-signing";
const BODY: &[u8] = br#"{"shape":"circle"}"#;

fn key() -> &'static InstallKey {
    static KEY: OnceLock<InstallKey> = OnceLock::new();
    KEY.get_or_init(|| InstallKey::generate().unwrap())
}

fn gate_with(signing: MessageSigningBuilder, report_only: bool) -> Gate {
    let clock = ManualClock::at_unix(NOW as u64);
    let verifier = Verifier::builder()
        .secret_base64(SECRET)
        .clock(clock.clone())
        .build()
        .unwrap();
    Gate::new(verifier)
        .report_only(report_only)
        .message_signing(signing.clock(clock).build().unwrap())
}

fn gate() -> Gate {
    gate_with(MessageSigning::builder(), false)
}

fn token(secret: &str, exp: i64, ipk: bool) -> String {
    let mut t = TokenBuilder::new().exp(exp as f64);
    if ipk {
        t = t.claim("ipk", key().ipk());
    }
    t.sign_hs256_base64(secret).unwrap()
}

/// A POST signed by the installation key, covering its `Content-Digest`.
fn signed_post(body: &[u8]) -> SignedRequest {
    RequestSigner::new("POST", URI)
        .unwrap()
        .header("Approov-Token", &token(SECRET, NOW + 300, true))
        .body(body)
        .created(NOW)
        .sign_install(key())
        .finish()
        .unwrap()
}

fn head(gate: &Gate, req: &SignedRequest) -> HeadDecision {
    gate.check_head(&req.parts().with_body(true))
}

#[track_caller]
fn decided_rejection(decision: HeadDecision) -> RejectionKind {
    match decision {
        HeadDecision::Decided(Decision::Reject(r)) => r.kind(),
        other => panic!("expected a rejection from the head, got {other:?}"),
    }
}

#[test]
fn a_refused_token_or_signature_is_decided_without_the_body() {
    // The attack of the issue: a digest, 900,000 bytes announced.
    let mut req = signed_post(BODY);
    req.set_header("Content-Length", "900000");
    let gate = gate();

    let mut no_token = req.clone();
    no_token.headers.retain(|(n, _)| n != "Approov-Token");
    assert_eq!(
        decided_rejection(head(&gate, &no_token)),
        RejectionKind::Missing
    );

    let mut forged = req.clone();
    forged.set_header("Approov-Token", &token(OTHER_SECRET, NOW + 300, true));
    assert_eq!(
        decided_rejection(head(&gate, &forged)),
        RejectionKind::Signature
    );

    let mut bad_signature = req.clone();
    bad_signature.set_header("Signature", &format!("install=:{}:", "A".repeat(88)));
    assert_eq!(
        decided_rejection(head(&gate, &bad_signature)),
        RejectionKind::SignatureInvalid
    );

    let mut malformed_digest = req.clone();
    malformed_digest.set_header("Content-Digest", "sha-256=not-bytes");
    assert!(matches!(
        head(&gate, &malformed_digest),
        HeadDecision::Decided(Decision::Reject(_))
    ));
}

#[test]
fn a_passing_head_asks_for_the_body_with_the_limits() {
    let req = signed_post(BODY);
    let HeadDecision::ReadBody(check) = head(&gate(), &req) else {
        panic!("the digest must be checked against the body");
    };
    assert_eq!(check.max_len(), DEFAULT_MAX_BODY_LEN);
    assert_eq!(check.timeout(), DEFAULT_BODY_READ_TIMEOUT);
    assert!(format!("{check:?}").contains("checks_digest: true"));
    assert!(matches!(
        check.finish(Ok(BODY)),
        Decision::Forward(ApproovOutcome::Verified(_))
    ));

    let configured = gate_with(
        MessageSigning::builder()
            .max_body_len(64)
            .body_read_timeout(Duration::from_millis(250)),
        false,
    );
    let HeadDecision::ReadBody(check) = head(&configured, &req) else {
        panic!("the digest must be checked against the body");
    };
    assert_eq!(
        (check.max_len(), check.timeout()),
        (64, Duration::from_millis(250))
    );
    match check.finish(Ok(b"another body")) {
        Decision::Reject(r) => assert_eq!(r.kind(), RejectionKind::DigestMismatch),
        other => panic!("{other:?}"),
    }
}

#[test]
fn body_problems_are_their_own_decision_with_a_status() {
    let req = signed_post(BODY);
    let read = |gate: &Gate| match head(gate, &req) {
        HeadDecision::ReadBody(check) => check,
        other => panic!("{other:?}"),
    };
    for report_only in [false, true] {
        let gate = gate_with(
            MessageSigning::builder().body_read_timeout(Duration::from_secs(2)),
            report_only,
        );
        let check = read(&gate);
        let problems = [
            (check.too_large(), 413, "body_too_large"),
            (BodyProblem::Unreadable, 400, "body_unreadable"),
            (check.timed_out(), 408, "body_timeout"),
        ];
        for (problem, status, kind) in problems {
            assert_eq!((problem.status(), problem.kind()), (status, kind));
            // Refused in report-only mode too: the body is gone.
            match read(&gate).finish(Err(problem)) {
                Decision::RefuseBody(p) => assert_eq!(p, problem),
                other => panic!("{other:?}"),
            }
        }
    }
    assert_eq!(
        BodyProblem::TimedOut {
            after: Duration::from_secs(2)
        }
        .to_string(),
        "it was not read within 2000 ms"
    );
}

#[test]
fn a_content_length_over_the_limit_is_refused_before_reading_only_after_the_token() {
    let gate = gate_with(MessageSigning::builder().max_body_len(64), false);
    let mut req = signed_post(BODY);
    req.set_header("Content-Length", "65");
    assert!(matches!(
        head(&gate, &req),
        HeadDecision::Decided(Decision::RefuseBody(BodyProblem::TooLarge { limit: 64 }))
    ));
    // Every value is read: a second, larger one counts.
    let mut twice = signed_post(BODY);
    twice.headers.push(("Content-Length".into(), "18".into()));
    twice
        .headers
        .push(("Content-Length".into(), "900000".into()));
    assert!(matches!(
        head(&gate, &twice),
        HeadDecision::Decided(Decision::RefuseBody(_))
    ));
    // A refused token is a 401, whatever the body announced.
    req.set_header("Approov-Token", "garbage");
    assert!(matches!(
        head(&gate, &req),
        HeadDecision::Decided(Decision::Reject(_))
    ));
}

#[test]
fn report_only_forwards_head_rejections_unread_and_digest_mismatches_read() {
    let gate = gate_with(MessageSigning::builder(), true);
    let mut req = signed_post(BODY);
    req.set_header("Signature", &format!("install=:{}:", "A".repeat(88)));
    assert!(matches!(
        head(&gate, &req),
        HeadDecision::Decided(Decision::Forward(ApproovOutcome::Rejected(_)))
    ));
    let HeadDecision::ReadBody(check) = head(&gate, &signed_post(BODY)) else {
        panic!("the digest must be checked against the body");
    };
    match check.finish(Ok(b"swapped")) {
        Decision::Forward(ApproovOutcome::Rejected(r)) => {
            assert_eq!(r.kind(), RejectionKind::DigestMismatch);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_body_read_only_to_hand_it_on_has_the_same_limits() {
    let gate = gate_with(MessageSigning::builder().max_body_len(8), false);
    let check = gate.read_body(ApproovOutcome::SkippedPreflight);
    assert_eq!(check.max_len(), 8);
    assert!(matches!(
        check.finish(Ok(b"anything")),
        Decision::Forward(ApproovOutcome::SkippedPreflight)
    ));
    let check = gate.read_body(ApproovOutcome::SkippedPreflight);
    let too_large = check.too_large();
    assert!(matches!(
        check.finish(Err(too_large)),
        Decision::RefuseBody(BodyProblem::TooLarge { limit: 8 })
    ));
}

#[test]
fn an_empty_path_is_the_root() {
    let headers = [("Host", "api.example.com")];
    assert_eq!(MessageParts::new("GET", "", &headers[..]).path(), "/");
    let parts = MessageParts::new("GET", "?a=1", &headers[..]);
    assert_eq!((parts.path(), parts.query()), ("/", Some("a=1")));
}

#[test]
fn a_zero_read_timeout_fails_at_build() {
    let err = MessageSigning::builder()
        .body_read_timeout(Duration::ZERO)
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("body_read_timeout"), "{err}");
}

// --- The property: one-shot and two steps decide alike --------------------

/// A decision as a comparable string: what the adapter does, and why.
fn summary(decision: &Decision) -> String {
    match decision {
        Decision::Forward(ApproovOutcome::Verified(_)) => "forward verified".into(),
        Decision::Forward(ApproovOutcome::Rejected(r)) => format!("forward {}", r.kind()),
        Decision::Forward(other) => format!("forward {other:?}"),
        Decision::Reject(r) => format!("reject {}", r.kind()),
        Decision::RefuseBody(p) => format!("refuse {}", p.kind()),
    }
}

/// The two steps as an adapter runs them, reading at most the limit.
fn two_steps(
    gate: &Gate,
    parts: &MessageParts<'_, [(String, String)]>,
    body: &[u8],
) -> (Decision, bool) {
    match gate.check_head(&parts.with_body(!body.is_empty())) {
        HeadDecision::Decided(decision) => (decision, false),
        HeadDecision::ReadBody(check) if body.len() > check.max_len() => {
            let problem = check.too_large();
            (check.finish(Err(problem)), true)
        }
        HeadDecision::ReadBody(check) => (check.finish(Ok(body)), true),
    }
}

#[derive(Debug, Clone)]
struct Shape {
    token: u8,
    sign: u8,
    digest: u8,
    body: u8,
    content_length: u8,
    report_only: bool,
    method: u8,
}

fn shapes() -> impl Strategy<Value = Shape> {
    (
        0..6u8,
        0..4u8,
        0..5u8,
        0..4u8,
        0..3u8,
        any::<bool>(),
        0..3u8,
    )
        .prop_map(
            |(token, sign, digest, body, content_length, report_only, method)| Shape {
                token,
                sign,
                digest,
                body,
                content_length,
                report_only,
                method,
            },
        )
}

fn build(shape: &Shape) -> (SignedRequest, Vec<u8>) {
    let body: Vec<u8> = match shape.body {
        0 => Vec::new(),
        1 => BODY.to_vec(),
        2 => b"another body".to_vec(),
        _ => vec![b'x'; 100],
    };
    let token = match shape.token {
        0 => token(SECRET, NOW + 300, true),
        1 => token(SECRET, NOW + 300, false),
        2 => token(SECRET, NOW - 300, true),
        3 => token(OTHER_SECRET, NOW + 300, true),
        4 => "garbage".to_owned(),
        _ => String::new(),
    };
    let method = ["POST", "GET", "OPTIONS"][usize::from(shape.method)];
    let mut signer = RequestSigner::new(method, URI).unwrap().created(NOW);
    if !token.is_empty() {
        signer = signer.header("Approov-Token", &token);
    }
    if shape.method == 2 {
        signer = signer
            .header("Origin", "https://app.example")
            .header("Access-Control-Request-Method", "POST");
    }
    // The signed body is BODY; the body sent may differ.
    signer = signer.body(BODY);
    signer = match shape.digest {
        0 => signer.content_digest(None),
        1 => signer.content_digest(Some(DigestAlgorithm::Sha256)),
        _ => signer.content_digest(Some(DigestAlgorithm::Sha512)),
    };
    signer = match shape.sign {
        0 => signer.sign_install(key()),
        1 => signer.sign_install(&InstallKey::generate().unwrap()),
        _ => signer,
    };
    let mut req = signer.finish().unwrap();
    match shape.digest {
        3 => req.set_header("Content-Digest", "sha-256=:AAAA:, md5=:AAAA:"),
        4 => req.set_header("Content-Digest", "sha-256=garbage"),
        _ => {}
    }
    match shape.content_length {
        0 => {}
        1 => req.set_header("Content-Length", &body.len().to_string()),
        _ => req.set_header("Content-Length", "900000"),
    }
    (req, body)
}

proptest! {
    // 256 by default (each case signs with ECDSA); `PROPTEST_CASES` runs
    // it long.
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(256)
    ))]

    #[test]
    fn check_message_decides_as_the_two_steps_and_bad_tokens_never_read(shape in shapes()) {
        let gate = gate_with(MessageSigning::builder().max_body_len(64), shape.report_only);
        let (req, body) = build(&shape);
        let parts = req.parts();
        let one_shot = gate.check_message(&parts.with_body(!body.is_empty()), Some(&body));
        let (stepped, read) = two_steps(&gate, &parts, &body);
        prop_assert_eq!(summary(&one_shot), summary(&stepped));
        // A token that is missing, forged, expired or garbage never gets
        // its body read (preflights aside, which carry no token).
        if shape.token >= 2 && shape.method != 2 {
            prop_assert!(!read, "{:?} read the body", shape);
            prop_assert!(summary(&stepped).contains("reject") || shape.report_only);
        }
        // Without message signing, the head step is `check`.
        let plain = Gate::new(gate.verifier().clone()).report_only(shape.report_only);
        let HeadDecision::Decided(head) = plain.check_head(&parts) else {
            panic!("no message signing, no body");
        };
        prop_assert_eq!(summary(&head), summary(&plain.check(&req.method, &req.headers[..])));
        // The policy that never checks signatures never reads a body.
        let off = gate_with(MessageSigning::builder().policy(SignaturePolicy::Off), false);
        prop_assert!(matches!(off.check_head(&parts), HeadDecision::Decided(_)));
    }
}
