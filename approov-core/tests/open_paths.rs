//! `Gate::open_paths` (exact paths let through unchecked, everything else
//! checked) and the reuse of an outer gate's verification by an inner one
//! (`MessageParts::with_verified`), counted through a local recorder.
#![cfg(feature = "mint")]
#![allow(clippy::unwrap_used)]

use approov_core::metrics::{REJECTIONS, REQUESTS, TOKEN_CACHE};
use approov_core::mint::{InstallKey, RequestSigner, TokenBuilder};
use approov_core::signing::{MessageParts, MessageSigning, SignaturePolicy};
use approov_core::{
    ApproovClaims, ApproovOutcome, ConfigError, Decision, Gate, HeadDecision, MAX_OPEN_PATH_LEN,
    MAX_OPEN_PATHS, ManualClock, RejectionKind, TokenBinding, Verifier, binding_hash,
};
use metrics_util::debugging::{DebugValue, DebuggingRecorder};

const SECRET: &str =
    "YXBwcm9vdi1ycyBleGFtcGxlIHNlY3JldDogMzIgYnl0ZXMgb3IgbW9yZSwgYXMgUkZDIDc1MTggYXNrcw==";
const NOW: u64 = 1_700_000_000;

fn verifier() -> Verifier {
    Verifier::builder()
        .secret_base64(SECRET)
        .clock(ManualClock::at_unix(NOW))
        .cache_verified_tokens(16)
        .build()
        .unwrap()
}

fn token() -> String {
    TokenBuilder::new()
        .exp((NOW + 300) as f64)
        .sign_hs256_base64(SECRET)
        .unwrap()
}

const NO_HEADERS: [(&str, &str); 0] = [];

#[track_caller]
fn outcome(decision: Decision) -> Result<ApproovOutcome, RejectionKind> {
    match decision {
        Decision::Forward(outcome) => Ok(outcome),
        Decision::Reject(rejection) => Err(rejection.kind()),
        Decision::RefuseBody(problem) => panic!("unexpected body refusal {problem}"),
    }
}

#[test]
fn only_the_exact_path_is_open() {
    let gate = Gate::new(verifier())
        .open_paths(["/health", "/status/live"])
        .unwrap();
    let check =
        |target: &str| outcome(gate.check_request(&MessageParts::new("GET", target, &NO_HEADERS)));
    for open in ["/health", "/health?probe=1", "/health?", "/status/live"] {
        assert_eq!(check(open), Ok(ApproovOutcome::OpenPath), "{open}");
    }
    for checked in [
        "/",
        "",
        "/health/",
        "/Health",
        "/HEALTH",
        "//health",
        "/health/..",
        "/health/.",
        "/./health",
        "/%68ealth",
        "/health%2F",
        "/health%3F",
        "/health%23",
        "/healthz",
        "/heal",
        "/health;x",
        "/status",
        "/status/live/",
        "health",
    ] {
        assert_eq!(check(checked), Err(RejectionKind::Missing), "{checked:?}");
    }
    // The other methods too: the path alone decides.
    let post = gate.check_request(&MessageParts::new("POST", "/health", &NO_HEADERS));
    assert_eq!(outcome(post), Ok(ApproovOutcome::OpenPath));
    // `check` knows no path: nothing is open.
    assert_eq!(
        outcome(gate.check("GET", &NO_HEADERS)),
        Err(RejectionKind::Missing)
    );
    // A token on an open path is not even read: a bad one passes too.
    let bad = [("Approov-Token", "not-a-token")];
    let open = gate.check_request(&MessageParts::new("GET", "/health", &bad));
    assert_eq!(outcome(open), Ok(ApproovOutcome::OpenPath));
}

#[test]
fn open_paths_add_up_and_are_listed() {
    let gate = Gate::new(verifier())
        .open_paths(["/a"])
        .unwrap()
        .open_paths(vec![String::from("/b"), String::from("/a")])
        .unwrap();
    assert_eq!(gate.open_path_list().collect::<Vec<_>>(), ["/a", "/b"]);
    assert_eq!(Gate::new(verifier()).open_path_list().count(), 0);
}

#[test]
fn a_path_requests_cannot_have_is_refused_at_start_up() {
    let long = format!("/{}", "a".repeat(MAX_OPEN_PATH_LEN));
    for (path, says) in [
        ("health", "must start with `/`"),
        ("", "must start with `/`"),
        ("/health?x=1", "must not hold `?` or `#`"),
        ("/health#top", "must not hold `?` or `#`"),
        ("/he alth", "visible ASCII"),
        ("/h\u{e9}alth", "visible ASCII"),
        ("/health\n", "visible ASCII"),
        (long.as_str(), "longer than 1024 bytes"),
    ] {
        let error = Gate::new(verifier()).open_paths([path]).unwrap_err();
        let message = error.to_string();
        assert!(matches!(error, ConfigError::Invalid { .. }));
        assert!(
            message.starts_with("open_paths is not usable: "),
            "{message}"
        );
        assert!(message.contains(says), "{path:?}: {message}");
    }
    let many: Vec<String> = (0..=MAX_OPEN_PATHS).map(|i| format!("/p{i}")).collect();
    let error = Gate::new(verifier()).open_paths(&many).unwrap_err();
    assert!(error.to_string().contains("at most 64 paths"), "{error}");
    assert!(
        Gate::new(verifier())
            .open_paths(&many[..MAX_OPEN_PATHS])
            .is_ok()
    );
}

#[test]
fn open_paths_come_before_message_signing_and_the_body() {
    let signing = MessageSigning::builder()
        .policy(SignaturePolicy::Always)
        .build()
        .unwrap();
    let gate = Gate::new(verifier())
        .open_paths(["/health"])
        .unwrap()
        .message_signing(signing);
    let headers = [("Content-Length", "10"), ("Content-Digest", "sha-256=:x:")];
    match gate.check_head(&MessageParts::new("POST", "/health", &headers[..])) {
        HeadDecision::Decided(Decision::Forward(ApproovOutcome::OpenPath)) => {}
        other => panic!("expected the open path, got {other:?}"),
    }
    match gate.check_head(&MessageParts::new("POST", "/health/", &headers[..])) {
        HeadDecision::Decided(Decision::Reject(r)) => assert_eq!(r.kind(), RejectionKind::Missing),
        other => panic!("expected a rejection, got {other:?}"),
    }
}

/// Counter name and its label values → value.
fn counts(recorder: &DebuggingRecorder) -> Vec<(String, Vec<String>, u64)> {
    let mut counts: Vec<_> = recorder
        .snapshotter()
        .snapshot()
        .into_vec()
        .into_iter()
        .filter_map(|(key, _, _, value)| match value {
            DebugValue::Counter(n) if n > 0 => Some((
                key.key().name().to_owned(),
                key.key().labels().map(|l| l.value().to_owned()).collect(),
                n,
            )),
            _ => None,
        })
        .collect();
    counts.sort();
    counts
}

fn count(name: &str, labels: &[&str], n: u64) -> (String, Vec<String>, u64) {
    (
        name.to_owned(),
        labels.iter().map(|l| (*l).to_owned()).collect(),
        n,
    )
}

#[test]
fn an_open_path_is_counted_as_such() {
    let gate = Gate::new(verifier()).open_paths(["/health"]).unwrap();
    let recorder = DebuggingRecorder::new();
    metrics::with_local_recorder(&recorder, || {
        gate.check_request(&MessageParts::new("GET", "/health", &NO_HEADERS));
        gate.check_request(&MessageParts::new("GET", "/health/", &NO_HEADERS));
    });
    assert_eq!(
        counts(&recorder),
        [
            count(REJECTIONS, &["missing", "false"], 1),
            count(REQUESTS, &["open_path"], 1),
            count(REQUESTS, &["rejected"], 1),
        ]
    );
}

/// What an adapter does for a request through an outer gate and then an
/// inner one: the inner gate is given what the outer left in the request.
fn outer_then_inner(
    outer: &Gate,
    inner: &Gate,
    headers: &[(&str, &str)],
) -> Result<ApproovOutcome, RejectionKind> {
    let parts = MessageParts::new("GET", "/orders", headers);
    let (claims, by): (Option<ApproovClaims>, _) = match outcome(outer.check_request(&parts))? {
        ApproovOutcome::Verified(claims) => (Some(claims), Some(outer.verified_by())),
        _ => (None, None),
    };
    outcome(inner.check_request(&parts.with_verified(claims.as_ref(), by)))
}

#[test]
fn an_inner_gate_takes_the_outer_claims_and_checks_its_binding_only() {
    let verifier = verifier();
    let outer = Gate::new(verifier.clone()).open_paths(["/health"]).unwrap();
    let inner =
        Gate::new(verifier.clone()).token_binding(TokenBinding::new(["Authorization"]).unwrap());
    let bound = TokenBuilder::new()
        .exp((NOW + 300) as f64)
        .claim("pay", binding_hash(["Bearer alice"]))
        .sign_hs256_base64(SECRET)
        .unwrap();
    let recorder = DebuggingRecorder::new();
    let results = metrics::with_local_recorder(&recorder, || {
        [
            outer_then_inner(
                &outer,
                &inner,
                &[("Approov-Token", &bound), ("Authorization", "Bearer alice")],
            ),
            outer_then_inner(
                &outer,
                &inner,
                &[("Approov-Token", &bound), ("Authorization", "Bearer bob")],
            ),
            outer_then_inner(&outer, &inner, &[("Approov-Token", &bound)]),
        ]
    });
    assert!(matches!(results[0], Ok(ApproovOutcome::Verified(_))));
    assert_eq!(results[1], Err(RejectionKind::Binding));
    assert_eq!(results[2], Err(RejectionKind::BindingHeader));
    // Three requests, three verifications (one cache miss, two hits; the
    // inner gate looked nothing up), three accepted by the outer gate, two
    // refused by the inner one's binding.
    assert_eq!(
        counts(&recorder),
        [
            count(REJECTIONS, &["binding", "false"], 1),
            count(REJECTIONS, &["binding_header", "false"], 1),
            count(REQUESTS, &["accepted"], 3),
            count(REQUESTS, &["rejected"], 2),
            count(TOKEN_CACHE, &["hit"], 2),
            count(TOKEN_CACHE, &["miss"], 1),
        ]
    );
}

#[test]
fn an_inner_gate_with_other_token_rules_verifies_again() {
    let verifier = verifier();
    let outer = Gate::new(verifier.clone());
    // Another token header: other rules, so the outer claims are not taken.
    let other_header = Gate::new(verifier.clone())
        .token_header("X-Approov")
        .unwrap();
    let token = token();
    let recorder = DebuggingRecorder::new();
    let result = metrics::with_local_recorder(&recorder, || {
        outer_then_inner(&outer, &other_header, &[("Approov-Token", &token)])
    });
    assert_eq!(result, Err(RejectionKind::Missing));
    // Another verifier altogether (another key set): verified again.
    let other = Gate::new(
        Verifier::builder()
            .secret_base64(SECRET)
            .clock(ManualClock::at_unix(NOW))
            .build()
            .unwrap(),
    );
    let recorder = DebuggingRecorder::new();
    let result = metrics::with_local_recorder(&recorder, || {
        outer_then_inner(&outer, &other, &[("Approov-Token", &token)])
    });
    assert!(matches!(result, Ok(ApproovOutcome::Verified(_))));
    assert_eq!(
        counts(&recorder),
        [
            count(REQUESTS, &["accepted"], 2),
            count(TOKEN_CACHE, &["hit"], 1)
        ]
    );
    // The claims without the rules, or the rules without the claims: nothing is taken.
    let claims = outer.verifier().verify(&token).unwrap();
    let parts = MessageParts::new("GET", "/", &NO_HEADERS);
    let inner = Gate::new(verifier);
    for parts in [
        parts.with_verified(Some(&claims), None),
        parts.with_verified(None, Some(outer.verified_by())),
    ] {
        assert_eq!(
            outcome(inner.check_request(&parts)),
            Err(RejectionKind::Missing)
        );
    }
    // With both, a binding-free inner gate takes them.
    let both = parts.with_verified(Some(&claims), Some(outer.verified_by()));
    assert_eq!(
        outcome(inner.check_request(&both)),
        Ok(ApproovOutcome::Verified(claims))
    );
}

#[test]
fn an_inner_signing_gate_checks_the_signature_of_the_outer_claims() {
    let verifier = verifier();
    let clock = ManualClock::at_unix(NOW);
    let outer = Gate::new(verifier.clone());
    let signing = MessageSigning::builder().clock(clock).build().unwrap();
    let inner = Gate::new(verifier).message_signing(signing);
    let key = InstallKey::generate().unwrap();
    let token = TokenBuilder::new()
        .exp((NOW + 300) as f64)
        .claim("ipk", key.ipk())
        .sign_hs256_base64(SECRET)
        .unwrap();
    let signed = RequestSigner::new("GET", "https://api.example.com/orders")
        .unwrap()
        .header("Approov-Token", &token)
        .created(NOW as i64)
        .sign_install(&key)
        .finish()
        .unwrap();
    let recorder = DebuggingRecorder::new();
    let (good, unsigned) = metrics::with_local_recorder(&recorder, || {
        let run = |parts: MessageParts<'_, [(String, String)]>| {
            let claims = match outcome(outer.check_request(&parts)) {
                Ok(ApproovOutcome::Verified(claims)) => claims,
                other => panic!("outer gate: {other:?}"),
            };
            let parts = parts.with_body(false);
            match inner.check_head(&parts.with_verified(Some(&claims), Some(outer.verified_by()))) {
                HeadDecision::Decided(decision) => outcome(decision),
                HeadDecision::ReadBody(_) => panic!("a GET without a digest needs no body"),
            }
        };
        let good = run(signed.parts());
        let headers: Vec<(String, String)> = vec![("Approov-Token".into(), token.clone())];
        let unsigned = run(MessageParts::new("GET", "/orders", &headers[..]));
        (good, unsigned)
    });
    assert!(matches!(good, Ok(ApproovOutcome::Verified(_))));
    assert_eq!(unsigned, Err(RejectionKind::SignatureMissing));
    assert_eq!(
        counts(&recorder),
        [
            count(REJECTIONS, &["signature_missing", "false"], 1),
            count(REQUESTS, &["accepted"], 2),
            count(REQUESTS, &["rejected"], 1),
            count(TOKEN_CACHE, &["hit"], 1),
            count(TOKEN_CACHE, &["miss"], 1),
        ]
    );
}
