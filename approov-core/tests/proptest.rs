//! Property tests of the verifier: arbitrary input never panics and is
//! never accepted; any mutation of a valid token is rejected (before its
//! payload is read); a known claim of the wrong JSON type is always a
//! `claim` rejection; random claim sets get the verdict of a simple model;
//! and token binding accepts exactly the hashed header values.
#![cfg(feature = "mint")]

use approov_core::mint::{SigningKey, TokenBuilder};
use approov_core::{
    Algorithm, ClaimProblem, ManualClock, Rejection, RejectionKind, TokenBinding, Verifier,
};
use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{Map, Value};
use std::sync::LazyLock;

const NOW: u64 = 1_700_000_000;
const SECRET: &str = "cHJvcHRlc3Qtc2VjcmV0LWZvci1hcHByb292LWNvcmU=";
/// Large enough that the biggest generated token is not cut off by length,
/// so the mutations reach the decoder and the signature check.
const MAX_LEN: usize = 16 * 1024;

/// The claims the verifier reads with a type; anything else is free-form.
const KNOWN: [&str; 12] = [
    "exp", "iat", "nbf", "ip", "did", "arc", "pay", "ipk", "mskid", "iss", "sub", "aud",
];

fn keys_dir() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/keys")
}

fn read_key(name: &str) -> String {
    std::fs::read_to_string(keys_dir().join(name)).expect("key fixture")
}

/// HS256 secret and the P-256 fixture key, fixed clock, no binding.
static VERIFIER: LazyLock<Verifier> = LazyLock::new(|| builder().build().expect("verifier"));

fn builder() -> approov_core::VerifierBuilder {
    Verifier::builder()
        .secret_base64(SECRET)
        .public_key_pem(Algorithm::ES256, &read_key("p256.pub.pem"))
        .clock(ManualClock::at_unix(NOW))
        .max_token_len(MAX_LEN)
}

/// The same with a cache of verified tokens: it must agree with
/// [`VERIFIER`] on every token, whatever it has seen before.
static CACHED: LazyLock<Verifier> = LazyLock::new(|| {
    builder()
        .cache_verified_tokens(256)
        .build()
        .expect("cached verifier")
});

static HS256: LazyLock<SigningKey> =
    LazyLock::new(|| SigningKey::hs256_base64(SECRET).expect("HS256 key"));

static ES256: LazyLock<SigningKey> = LazyLock::new(|| {
    SigningKey::from_pkcs8_pem(Algorithm::ES256, &read_key("p256.key")).expect("ES256 key")
});

/// `cases` by default; `PROPTEST_CASES` (as for proptest's own default
/// configuration) runs them long, e.g. `PROPTEST_CASES=1000000`.
fn config(cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(cases);
    ProptestConfig {
        cases,
        // Failures print their minimal input; no regression files are
        // written into the source tree.
        failure_persistence: None,
        // The wrong-type strategy filters out well-typed values.
        max_global_rejects: 100_000,
        ..ProptestConfig::default()
    }
}

/// Verifies `token` directly and through the request header, and checks
/// that the two agree, and that the cached verifier agrees (twice: stored,
/// then from the cache).
fn check_both(token: &[u8]) -> Result<approov_core::ApproovClaims, Rejection> {
    let direct = VERIFIER.verify(token);
    for _ in 0..2 {
        match (&direct, &CACHED.verify(token)) {
            (Ok(a), Ok(b)) => assert_eq!(a, b),
            (Err(a), Err(b)) => assert_eq!(a.kind(), b.kind()),
            (a, b) => panic!("the cached verifier disagrees: {a:?} against {b:?}"),
        }
    }
    let via_header = VERIFIER.verify_request(&[("Approov-Token", token)]);
    match (&direct, &via_header) {
        (Ok(a), Ok(b)) => assert_eq!(a, b),
        (Err(_), Err(_)) => {}
        (Err(e), Ok(_)) => panic!("verify_request accepted what verify refused ({e})"),
        // The header path only adds the visible-ASCII rule.
        (Ok(_), Err(e)) => assert!(
            !token.iter().all(u8::is_ascii_graphic),
            "verify accepted, verify_request refused a visible-ASCII token: {e}"
        ),
    }
    direct
}

/// Equal within a few rounding steps: the verifier may read a fractional
/// `exp` one step off (see `fractional_exp_is_read_exactly`).
fn same_time(a: f64, b: f64) -> bool {
    (a - b).abs() <= 4.0 * f64::EPSILON * a.abs().max(b.abs())
}

/// The rejections possible before a signature has verified: nothing about
/// claims, time or binding, since the payload is only read afterwards.
fn before_payload(kind: RejectionKind) -> bool {
    matches!(
        kind,
        RejectionKind::Missing
            | RejectionKind::TooLong
            | RejectionKind::Malformed
            | RejectionKind::Algorithm
            | RejectionKind::Crit
            | RejectionKind::UnknownKey
            | RejectionKind::Signature
            | RejectionKind::SdkStatus
    )
}

// ---------------------------------------------------------------------------
// Arbitrary input.
// ---------------------------------------------------------------------------

/// Base64url headers of real-looking tokens, so random payloads and
/// signatures get past the header checks.
fn header_b64() -> impl Strategy<Value = String> {
    use base64::Engine as _;
    let encode = |h: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(h);
    prop::sample::select(vec![
        encode(r#"{"alg":"HS256","typ":"JWT"}"#),
        encode(r#"{"alg":"ES256"}"#),
        encode(r#"{"alg":"ES256","kid":"k"}"#),
        encode(r#"{"alg":"RS256"}"#),
        encode(r#"{"alg":"none"}"#),
        encode(r#"{"alg":"HS256","crit":["exp"]}"#),
        encode(r#"{"typ":"JWT"}"#),
    ])
}

proptest! {
    #![proptest_config(config(2000))]

    #[test]
    fn arbitrary_bytes_are_never_accepted(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let err = check_both(&bytes).expect_err("random bytes accepted");
        prop_assert!(before_payload(err.kind()), "{:?}", err);
    }

    #[test]
    fn arbitrary_dotted_bytes_are_never_accepted(
        parts in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..120), 1..6)
    ) {
        let token = parts.join(&b'.');
        let err = check_both(&token).expect_err("random segments accepted");
        prop_assert!(before_payload(err.kind()), "{:?}", err);
    }

    #[test]
    fn arbitrary_base64url_segments_are_never_accepted(
        token in "[A-Za-z0-9_-]{0,80}\\.[A-Za-z0-9_-]{0,400}\\.[A-Za-z0-9_-]{0,200}"
    ) {
        let err = check_both(token.as_bytes()).expect_err("random base64url accepted");
        prop_assert!(before_payload(err.kind()), "{:?}", err);
    }

    #[test]
    fn real_headers_with_random_payload_and_signature_are_never_accepted(
        header in header_b64(),
        payload in "[A-Za-z0-9_-]{0,400}",
        signature in "[A-Za-z0-9_-]{0,120}",
    ) {
        let token = format!("{header}.{payload}.{signature}");
        let err = check_both(token.as_bytes()).expect_err("random token accepted");
        prop_assert!(before_payload(err.kind()), "{:?}", err);
    }
}

// ---------------------------------------------------------------------------
// Mutations of valid tokens.
// ---------------------------------------------------------------------------

/// A JSON leaf for free-form claims.
fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (-1e15..1e15f64).prop_map(Value::from),
        ".{0,24}".prop_map(Value::from),
    ]
}

/// Any JSON value, nested at most three levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    json_leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map("[a-z]{0,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

#[derive(Debug, Clone)]
struct ValidToken {
    token: String,
    did: String,
    ip: String,
    exp: f64,
}

fn valid_token() -> impl Strategy<Value = ValidToken> {
    (
        ".{0,40}",
        ".{0,40}",
        prop_oneof![
            (1u64..1_000_000_000).prop_map(|d| (NOW + d) as f64),
            (0.001f64..1e6).prop_map(|d| NOW as f64 + d),
        ],
        prop::collection::btree_map("x_[a-z0-9_]{0,8}", json_value(), 0..5),
        // Sometimes a payload longer than the verifier's stack buffer.
        prop_oneof![4 => Just(0usize), 1 => 1500usize..3000],
        prop::bool::weighted(0.1),
        prop::option::of("[ -~]{0,12}"),
    )
        .prop_map(|(did, ip, exp, extra, padding, es256, kid)| {
            let mut builder = TokenBuilder::new()
                .exp(exp)
                .claim("did", did.as_str())
                .claim("ip", ip.as_str());
            for (name, value) in extra {
                builder = builder.claim(&name, value);
            }
            if padding > 0 {
                builder = builder.claim("x_padding", "p".repeat(padding));
            }
            if let Some(kid) = kid {
                builder = builder.kid(&kid);
            }
            let key = if es256 { &*ES256 } else { &*HS256 };
            ValidToken {
                token: builder.sign(key),
                did,
                ip,
                exp,
            }
        })
}

#[derive(Debug, Clone)]
enum Mutation {
    FlipBit(Index, u8),
    Replace(Index, u8),
    Insert(Index, u8),
    Delete(Index),
    Truncate(Index),
    DuplicateSegment(Index),
    SwapSegments(Index, Index),
}

const BASE64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn mutation() -> impl Strategy<Value = Mutation> {
    // Replacements favour the base64url alphabet (and '.', '='), which get
    // past the decoder and test canonical decoding and the signature.
    let byte = prop_oneof![
        3 => prop::sample::select(BASE64URL),
        1 => Just(b'.'),
        1 => Just(b'='),
        2 => any::<u8>(),
    ];
    prop_oneof![
        (any::<Index>(), 0u8..8).prop_map(|(i, b)| Mutation::FlipBit(i, b)),
        (any::<Index>(), byte.clone()).prop_map(|(i, b)| Mutation::Replace(i, b)),
        (any::<Index>(), byte).prop_map(|(i, b)| Mutation::Insert(i, b)),
        any::<Index>().prop_map(Mutation::Delete),
        any::<Index>().prop_map(Mutation::Truncate),
        any::<Index>().prop_map(Mutation::DuplicateSegment),
        (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Mutation::SwapSegments(a, b)),
    ]
}

fn apply(token: &[u8], m: &Mutation) -> Vec<u8> {
    let mut t = token.to_vec();
    let segments = || token.split(|b| *b == b'.').collect::<Vec<_>>();
    match m {
        Mutation::FlipBit(i, bit) if !t.is_empty() => {
            let i = i.index(t.len());
            t[i] ^= 1 << bit;
        }
        Mutation::Replace(i, b) if !t.is_empty() => {
            let i = i.index(t.len());
            t[i] = *b;
        }
        Mutation::Insert(i, b) => t.insert(i.index(t.len() + 1), *b),
        Mutation::Delete(i) if !t.is_empty() => {
            t.remove(i.index(t.len()));
        }
        Mutation::Truncate(i) if !t.is_empty() => t.truncate(i.index(t.len())),
        Mutation::DuplicateSegment(i) => {
            let mut s = segments();
            let k = i.index(s.len());
            s.insert(k, s[k]);
            t = s.join(&b'.');
        }
        Mutation::SwapSegments(a, b) => {
            let mut s = segments();
            let (a, b) = (a.index(s.len()), b.index(s.len()));
            s.swap(a, b);
            t = s.join(&b'.');
        }
        // Nothing left to change in an empty token.
        _ => {}
    }
    t
}

proptest! {
    #![proptest_config(config(2000))]

    #[test]
    fn mutated_tokens_are_rejected_unless_identical(
        valid in valid_token(),
        mutations in prop::collection::vec(mutation(), 1..4),
    ) {
        let claims = check_both(valid.token.as_bytes()).expect("the unmutated token verifies");
        prop_assert_eq!(claims.did(), Some(valid.did.as_str()));
        prop_assert_eq!(claims.ip(), Some(valid.ip.as_str()));
        prop_assert!(same_time(claims.exp(), valid.exp), "{} != {}", claims.exp(), valid.exp);

        // Each mutation applies to the previous result.
        let mutated = mutations
            .iter()
            .fold(valid.token.clone().into_bytes(), |t, m| apply(&t, m));
        let result = check_both(&mutated);
        if mutated == valid.token.as_bytes() {
            prop_assert!(result.is_ok(), "identical token refused: {:?}", result.err());
        } else {
            let err = result.expect_err("a mutated token was accepted");
            prop_assert!(
                before_payload(err.kind()),
                "unexpected rejection {:?} for {:?}", err, mutations
            );
        }
    }
}

proptest! {
    #![proptest_config(config(2000))]

    /// The JSON number the mint writes (the shortest text that round-trips)
    /// must come back as the same `f64`, from `exp()` and from `claim()`.
    #[test]
    fn fractional_exp_is_read_exactly(delta in 0.001f64..1e9) {
        let exp = NOW as f64 + delta;
        let token = TokenBuilder::new().exp(exp).claim("x_f", delta).sign(&HS256);
        let claims = check_both(token.as_bytes()).expect("valid token");
        prop_assert_eq!(claims.exp(), exp);
        prop_assert_eq!(claims.claim("x_f"), Some(Value::from(delta)));
    }
}

// ---------------------------------------------------------------------------
// JSON-level: re-signed payloads with wrong-typed known claims.
// ---------------------------------------------------------------------------

/// Whether `value` has the JSON type the verifier requires for `claim`.
fn right_type(claim: &str, value: &Value) -> bool {
    match claim {
        "exp" | "iat" | "nbf" => value.is_number(),
        "aud" => {
            value.is_string()
                || value
                    .as_array()
                    .is_some_and(|all| all.iter().all(Value::is_string))
        }
        _ => value.is_string(),
    }
}

fn wrong_typed_claim() -> impl Strategy<Value = (&'static str, Value)> {
    (prop::sample::select(KNOWN.to_vec()), json_value())
        .prop_filter("the value must have the wrong type", |(claim, value)| {
            !right_type(claim, value)
        })
}

fn far_future() -> f64 {
    (NOW + 3600) as f64
}

proptest! {
    #![proptest_config(config(1000))]

    #[test]
    fn a_wrong_typed_known_claim_is_always_a_claim_rejection(
        (claim, value) in wrong_typed_claim(),
        es256 in prop::bool::weighted(0.1),
    ) {
        let builder = TokenBuilder::new()
            .exp(far_future())
            .claim("did", "ExampleApproovTokenDID==")
            .claim(claim, value.clone());
        let key = if es256 { &*ES256 } else { &*HS256 };
        let err = check_both(builder.sign(key).as_bytes())
            .expect_err("a wrong-typed claim was accepted");
        prop_assert_eq!(
            err,
            Rejection::Claim { claim, problem: ClaimProblem::WrongType },
            "claim {} = {}", claim, value
        );
    }

    #[test]
    fn random_claim_sets_get_the_verdict_of_a_simple_model(
        known in prop::collection::btree_map(
            prop::sample::select(KNOWN.to_vec()),
            prop_oneof![
                // Mostly well-typed values, around "now" for the time claims.
                2 => (NOW as f64 - 100.0..NOW as f64 + 100.0).prop_map(Value::from),
                2 => ".{0,16}".prop_map(Value::from),
                1 => prop::collection::vec(".{0,8}".prop_map(Value::from), 0..3).prop_map(Value::from),
                1 => json_value(),
            ],
            0..8,
        ),
        extra in prop::collection::btree_map("x_[a-z]{0,6}", json_value(), 0..3),
    ) {
        let mut claims: Map<String, Value> = Map::new();
        for (name, value) in &known {
            claims.insert((*name).to_owned(), value.clone());
        }
        for (name, value) in &extra {
            claims.insert(name.clone(), value.clone());
        }
        let mut builder = TokenBuilder::new();
        for (name, value) in &claims {
            builder = builder.claim(name, value.clone());
        }
        let signed = builder.sign(&HS256);
        let result = check_both(signed.as_bytes());

        let now = NOW as f64;
        let wrong: Vec<&str> = known
            .iter()
            .filter(|(name, value)| !right_type(name, value))
            .map(|(name, _)| *name)
            .collect();
        let number = |name: &str| known.get(name).and_then(|v| v.as_f64());
        match result {
            // Large random claims can make the token longer than the
            // verifier's limit, which is checked before anything else.
            Err(Rejection::TooLong { max }) => {
                prop_assert_eq!(max, MAX_LEN);
                prop_assert!(signed.len() > max, "{} bytes refused as too long", signed.len());
            }
            Err(Rejection::Claim { claim, problem: ClaimProblem::WrongType }) => {
                prop_assert!(wrong.contains(&claim), "{} blamed, wrong: {:?}", claim, wrong);
            }
            Err(Rejection::Claim { claim: "exp", problem: ClaimProblem::Missing }) => {
                prop_assert!(wrong.is_empty() && !known.contains_key("exp"));
            }
            Err(Rejection::Expired) => {
                prop_assert!(wrong.is_empty());
                prop_assert!(number("exp").is_some_and(|exp| now >= exp));
            }
            Err(Rejection::NotYetValid) => {
                prop_assert!(wrong.is_empty());
                prop_assert!(number("exp").is_some_and(|exp| now < exp));
                prop_assert!(number("nbf").is_some_and(|nbf| now < nbf));
            }
            Ok(verified) => {
                prop_assert!(wrong.is_empty());
                let exp = number("exp").expect("accepted without exp");
                prop_assert!(now < exp);
                prop_assert!(number("nbf").is_none_or(|nbf| nbf <= now));
                prop_assert!(same_time(verified.exp(), exp), "{} != {}", verified.exp(), exp);
                prop_assert_eq!(verified.did(), known.get("did").and_then(Value::as_str));
                prop_assert_eq!(verified.pay(), known.get("pay").and_then(Value::as_str));
                for (name, value) in &extra {
                    // Through serde_json's own text round trip: floats may come
                    // back one rounding step off (`fractional_exp_is_read_exactly`).
                    let reread: Value =
                        serde_json::from_str(&value.to_string()).expect("JSON");
                    let got = verified.claim(name);
                    prop_assert!(
                        got.as_ref().is_some_and(|got| same_json(got, &reread)),
                        "{:?} != {:?}", got, reread
                    );
                }
            }
            Err(other) => prop_assert!(false, "unexpected rejection {:?}", other),
        }
    }
}

// ---------------------------------------------------------------------------
// Token binding.
// ---------------------------------------------------------------------------

fn binding_names(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("X-Bind-{i}")).collect()
}

fn bound_request(token: &str, values: &[Vec<u8>]) -> Vec<(String, Vec<u8>)> {
    let mut headers = vec![("Approov-Token".to_owned(), token.as_bytes().to_vec())];
    for (name, value) in binding_names(values.len()).into_iter().zip(values) {
        headers.push((name, value.clone()));
    }
    headers
}

fn header_values(n: usize) -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(prop::collection::vec(any::<u8>(), 1..40), n)
}

/// `n` bound values and `n` other values.
fn values_and_others() -> impl Strategy<Value = (Vec<Vec<u8>>, Vec<Vec<u8>>)> {
    (1usize..4).prop_flat_map(|n| (header_values(n), header_values(n)))
}

fn binding_verifier(n: usize) -> Verifier {
    VERIFIER.with_token_binding(Some(TokenBinding::new(binding_names(n)).expect("binding")))
}

proptest! {
    #![proptest_config(config(1000))]

    #[test]
    fn binding_accepts_exactly_the_hashed_values(
        (values, others) in values_and_others(),
        tweak in (any::<Index>(), any::<Index>(), 1u8..=255),
    ) {
        let verifier = binding_verifier(values.len());
        let token = TokenBuilder::new()
            .exp(far_future())
            .pay_for(&values)
            .sign(&HS256);
        prop_assert!(verifier.verify_request(&bound_request(&token, &values)).is_ok());

        // The hash covers the concatenation: other values are refused unless
        // they concatenate to the same bytes (a property of Approov's format).
        let result = verifier.verify_request(&bound_request(&token, &others));
        if others.concat() == values.concat() {
            prop_assert!(result.is_ok());
        } else {
            prop_assert_eq!(result.expect_err("other values accepted"), Rejection::Binding);
        }

        // One byte of one value changed.
        let mut changed = values.clone();
        let v = tweak.0.index(changed.len());
        let b = tweak.1.index(changed[v].len());
        changed[v][b] ^= tweak.2;
        let err = verifier
            .verify_request(&bound_request(&token, &changed))
            .expect_err("a changed value was accepted");
        prop_assert_eq!(err.kind().as_str(), "binding");

        // The values in another order.
        if values.len() > 1 {
            let mut reversed = values.clone();
            reversed.reverse();
            let result = verifier.verify_request(&bound_request(&token, &reversed));
            prop_assert_eq!(result.is_ok(), reversed.concat() == values.concat());
        }
    }
}

#[test]
fn binding_hashes_the_concatenation_without_separator() {
    // Approov's `pay` is SHA-256 over the values back to back, so moving the
    // boundary between two values keeps the hash. Documented, not a bug of
    // this crate; the test pins the behaviour so it cannot change silently.
    let verifier = binding_verifier(2);
    let values = [b"Bearer ab".to_vec(), b"cd".to_vec()];
    let token = TokenBuilder::new()
        .exp(far_future())
        .pay_for(&values)
        .sign(&HS256);
    let moved = [b"Bearer a".to_vec(), b"bcd".to_vec()];
    assert!(
        verifier
            .verify_request(&bound_request(&token, &moved))
            .is_ok()
    );
}

/// JSON equality where numbers are equal by value: `0` and `0.0` are the
/// same JSON number (a writer may print either), which `Value`'s own
/// equality tells apart.
fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_json(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w)))
        }
        _ => a == b,
    }
}
