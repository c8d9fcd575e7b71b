//! The counters the gate records (`approov_core::metrics`), through a local
//! recorder: a known mix of requests gives exactly the expected counts, and
//! nothing else is recorded.
#![cfg(feature = "mint")]
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use approov_core::metrics::{BODY_REFUSALS, REJECTIONS, REQUESTS, SDK_STATUSES, TOKEN_CACHE};
use approov_core::mint::{InstallKey, RequestSigner, SignedRequest, TokenBuilder};
use approov_core::signing::MessageSigning;
use approov_core::{
    ApproovOutcome, BodyProblem, Decision, Gate, HeadDecision, ManualClock, RejectionKind, Verifier,
};
use metrics_util::debugging::{DebugValue, DebuggingRecorder};

const SECRET: &str =
    "YXBwcm9vdi1ycyBleGFtcGxlIHNlY3JldDogMzIgYnl0ZXMgb3IgbW9yZSwgYXMgUkZDIDc1MTggYXNrcw==";
const NOW: i64 = 1_700_000_000;
const BODY: &[u8] = br#"{"shape":"circle"}"#;

/// Counter name and its labels (`key=value`, in order) → value.
type Counts = BTreeMap<(String, Vec<String>), u64>;

fn counts(recorder: &DebuggingRecorder) -> Counts {
    recorder
        .snapshotter()
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(key, _, _, value)| {
            let DebugValue::Counter(n) = value else {
                panic!("only counters are recorded, got {value:?}");
            };
            let key = key.key();
            let labels = key
                .labels()
                .map(|l| format!("{}={}", l.key(), l.value()))
                .collect();
            ((key.name().to_owned(), labels), n)
        })
        .collect()
}

fn entry(name: &str, labels: &[&str], n: u64) -> ((String, Vec<String>), u64) {
    let labels = labels.iter().map(|l| (*l).to_owned()).collect();
    ((name.to_owned(), labels), n)
}

fn token(exp: i64, ipk: Option<&InstallKey>) -> String {
    let mut t = TokenBuilder::new().exp(exp as f64);
    if let Some(key) = ipk {
        t = t.claim("ipk", key.ipk());
    }
    t.sign_hs256_base64(SECRET).unwrap()
}

fn signed_post(key: &InstallKey) -> SignedRequest {
    RequestSigner::new("POST", "https://api.example.com/message-signing")
        .unwrap()
        .header("Approov-Token", &token(NOW + 300, Some(key)))
        .body(BODY)
        .created(NOW)
        .sign_install(key)
        .finish()
        .unwrap()
}

#[track_caller]
fn read_body(decision: HeadDecision) -> approov_core::BodyCheck {
    match decision {
        HeadDecision::ReadBody(check) => check,
        HeadDecision::Decided(d) => panic!("expected the body to be asked for, got {d:?}"),
    }
}

#[test]
fn a_known_mix_of_requests_gives_exact_counts() {
    let clock = ManualClock::at_unix(NOW as u64);
    let verifier = Verifier::builder()
        .secret_base64(SECRET)
        .clock(clock.clone())
        .cache_verified_tokens(16)
        .build()
        .unwrap();
    let gate = Gate::new(verifier.clone());
    let report_only = Gate::new(verifier.clone()).report_only(true);
    let signing = |max_body_len| {
        MessageSigning::builder()
            .max_body_len(max_body_len)
            .clock(clock.clone())
            .build()
            .unwrap()
    };
    let signed = Gate::new(verifier.clone()).message_signing(signing(1024));
    let small = Gate::new(verifier).message_signing(signing(4));
    let key = InstallKey::generate().unwrap();
    let post = signed_post(&key);

    let valid = token(NOW + 300, None);
    let expired = token(NOW - 10, None);
    let header = |t: &str| vec![("Approov-Token", t.to_owned())];
    let none: [(&str, &str); 0] = [];
    let preflight = [
        ("Origin", "https://app.example"),
        ("Access-Control-Request-Method", "POST"),
    ];

    let recorder = DebuggingRecorder::new();
    metrics::with_local_recorder(&recorder, || {
        let kind = |d: Decision| match d {
            Decision::Reject(r) => Some(r.kind()),
            Decision::Forward(_) => None,
            Decision::RefuseBody(p) => panic!("unexpected body refusal {p}"),
        };
        // The token step alone: valid twice (a cache miss, then a hit),
        // missing, expired and garbage, and a preflight.
        assert_eq!(kind(gate.check("GET", &header(&valid)[..])), None);
        assert_eq!(kind(gate.check("GET", &header(&valid)[..])), None);
        assert_eq!(kind(gate.check("GET", &none)), Some(RejectionKind::Missing));
        assert_eq!(
            kind(gate.check("GET", &header(&expired)[..])),
            Some(RejectionKind::Expired)
        );
        assert_eq!(
            kind(gate.check("GET", &header("not-a-token")[..])),
            Some(RejectionKind::Malformed)
        );
        assert!(matches!(
            gate.check("OPTIONS", &preflight),
            Decision::Forward(ApproovOutcome::SkippedPreflight)
        ));
        // Report-only: rejected, let through.
        assert!(matches!(
            report_only.check("GET", &none),
            Decision::Forward(ApproovOutcome::Rejected(_))
        ));
        // Both steps: a matching body, a body that does not match its
        // digest, and a body over the limit.
        let head = |gate: &Gate| read_body(gate.check_head(&post.parts().with_body(true)));
        assert_eq!(kind(head(&signed).finish(Ok(BODY))), None);
        assert_eq!(
            kind(head(&signed).finish(Ok(b"{}"))),
            Some(RejectionKind::DigestMismatch)
        );
        let check = head(&small);
        let too_large = check.too_large();
        assert!(matches!(
            check.finish(Err(too_large)),
            Decision::RefuseBody(BodyProblem::TooLarge { limit: 4 })
        ));
        // A read-only body step after a counted head step (warp's
        // `signed` filter): its refusal counts as a body refusal only.
        let read = gate.read_body(ApproovOutcome::SkippedPreflight);
        assert!(matches!(
            read.finish(Err(BodyProblem::Unreadable)),
            Decision::RefuseBody(BodyProblem::Unreadable)
        ));
        let read = gate.read_body(ApproovOutcome::SkippedPreflight);
        assert!(matches!(read.finish(Ok(b"")), Decision::Forward(_)));
    });

    let expected: Counts = [
        // Two valid tokens and the signed request with a matching body.
        entry(REQUESTS, &["outcome=accepted"], 3),
        entry(REQUESTS, &["outcome=rejected"], 4),
        entry(REQUESTS, &["outcome=report_only"], 1),
        entry(REQUESTS, &["outcome=preflight_skipped"], 1),
        entry(REQUESTS, &["outcome=body_refused"], 1),
        entry(REJECTIONS, &["kind=missing", "report_only=false"], 1),
        entry(REJECTIONS, &["kind=expired", "report_only=false"], 1),
        entry(REJECTIONS, &["kind=malformed", "report_only=false"], 1),
        entry(
            REJECTIONS,
            &["kind=digest_mismatch", "report_only=false"],
            1,
        ),
        entry(REJECTIONS, &["kind=missing", "report_only=true"], 1),
        entry(BODY_REFUSALS, &["kind=body_too_large"], 1),
        entry(BODY_REFUSALS, &["kind=body_unreadable"], 1),
        // The valid token's repeat, the signed request's second and third.
        entry(TOKEN_CACHE, &["result=hit"], 3),
        // The first valid token, the expired and garbage ones, the first
        // signed request.
        entry(TOKEN_CACHE, &["result=miss"], 4),
    ]
    .into_iter()
    .collect();
    assert_eq!(counts(&recorder), expected);
}

#[test]
fn sdk_statuses_are_counted_by_name_or_other() {
    let verifier = Verifier::builder().secret_base64(SECRET).build().unwrap();
    let gate = Gate::new(verifier.clone());
    let report_only = Gate::new(verifier).report_only(true);
    let header = |t: &'static str| [("Approov-Token", t)];
    let recorder = DebuggingRecorder::new();
    metrics::with_local_recorder(&recorder, || {
        for token in [
            "NO_NETWORK",
            "NO_NETWORK",
            "MITM_DETECTED",
            "SOMETHING_ELSE",
            "no_network",
        ] {
            assert!(matches!(
                gate.check("GET", &header(token)),
                Decision::Reject(_)
            ));
        }
        assert!(matches!(
            report_only.check("GET", &header("POOR_NETWORK")),
            Decision::Forward(ApproovOutcome::Rejected(_))
        ));
    });
    let expected: Counts = [
        entry(REQUESTS, &["outcome=rejected"], 5),
        entry(REQUESTS, &["outcome=report_only"], 1),
        entry(REJECTIONS, &["kind=sdk_status", "report_only=false"], 4),
        entry(REJECTIONS, &["kind=sdk_status", "report_only=true"], 1),
        entry(REJECTIONS, &["kind=malformed", "report_only=false"], 1),
        entry(SDK_STATUSES, &["status=NO_NETWORK", "report_only=false"], 2),
        entry(
            SDK_STATUSES,
            &["status=MITM_DETECTED", "report_only=false"],
            1,
        ),
        entry(SDK_STATUSES, &["status=other", "report_only=false"], 1),
        entry(
            SDK_STATUSES,
            &["status=POOR_NETWORK", "report_only=true"],
            1,
        ),
    ]
    .into_iter()
    .collect();
    assert_eq!(counts(&recorder), expected);
}

#[test]
fn no_recorder_no_effect_on_decisions() {
    // Without a recorder the same calls decide the same way (and record
    // nowhere): the counters never change a decision.
    let verifier = Verifier::builder()
        .secret_base64(SECRET)
        .cache_verified_tokens(4)
        .build()
        .unwrap();
    let gate = Gate::new(verifier);
    let none: [(&str, &str); 0] = [];
    assert!(matches!(gate.check("GET", &none), Decision::Reject(_)));
    approov_core::metrics::describe();
}
