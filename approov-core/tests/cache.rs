//! The verified-token cache: a repeat of a verified token is answered from
//! it, and nothing a fresh verification would refuse gets through it.

mod common;

use std::time::Duration;

use approov_core::{ManualClock, Rejection, TokenBinding, Verifier};
use common::*;

fn cached(clock: &ManualClock, capacity: usize) -> Verifier {
    builder_with_clock(clock)
        .cache_verified_tokens(capacity)
        .build()
        .expect("the cached verifier builds")
}

#[test]
fn off_by_default() {
    let v = verifier();
    v.verify(valid_token()).expect("valid");
    assert_eq!(v.cached_tokens(), 0);
    assert!(format!("{v:?}").contains("token_cache_capacity: None"));
}

#[test]
fn a_verified_token_is_remembered_and_answered_with_the_same_claims() {
    let clock = ManualClock::at_unix(NOW);
    let v = cached(&clock, 100);
    let token = valid_token();
    let first = v.verify(&token).expect("valid");
    assert_eq!(v.cached_tokens(), 1);
    let again = v.verify(&token).expect("valid from the cache");
    assert_eq!(first, again);
    assert_eq!(again.did(), Some("ExampleApproovTokenDID=="));
    assert_eq!(v.cached_tokens(), 1);
}

#[test]
fn a_cached_token_still_expires_and_is_then_forgotten() {
    let clock = ManualClock::at_unix(NOW);
    let v = cached(&clock, 100);
    let token = valid_token(); // exp = NOW + 300
    v.verify(&token).expect("valid");
    clock.set_unix((NOW + 299) as f64);
    v.verify(&token).expect("still valid, from the cache");
    clock.set_unix((NOW + 300) as f64);
    assert_eq!(v.verify(&token).expect_err("refused"), Rejection::Expired);
    assert_eq!(v.cached_tokens(), 0, "an expired token is dropped");
    assert_eq!(v.verify(&token).expect_err("refused"), Rejection::Expired);
}

#[test]
fn refused_tokens_are_never_stored() {
    let clock = ManualClock::at_unix(NOW);
    let v = cached(&clock, 100);
    let not_yet = token(&payload_with(&format!(r#""nbf":{}"#, NOW + 60)));
    let cases = [
        flip_signature_bit(&valid_token()),
        token(&format!(r#"{{"exp":{}}}"#, NOW - 1)),
        not_yet.clone(),
        token(&payload_with(r#""did":7"#)),
        sign_raw(HEADER, valid_payload(), OTHER_SECRET_RAW),
    ];
    for t in &cases {
        for _ in 0..2 {
            assert!(v.verify(t).is_err());
        }
    }
    assert_eq!(v.cached_tokens(), 0);
    // Once its time comes, the not-yet-valid token verifies (and only then
    // is remembered).
    clock.advance(Duration::from_secs(60));
    v.verify(&not_yet).expect("valid now");
    assert_eq!(v.cached_tokens(), 1);
}

#[test]
fn a_token_differing_from_a_cached_one_is_verified_afresh() {
    let clock = ManualClock::at_unix(NOW);
    let v = cached(&clock, 100);
    let token = valid_token();
    v.verify(&token).expect("valid");
    // Other signatures over the same input, one byte more, one byte less.
    let (input, _) = token.rsplit_once('.').expect("three segments");
    let twins = [
        flip_signature_bit(&token),
        format!("{input}.{}", mac("other input", SECRET_RAW)),
        format!("{token}A"),
        token[..token.len() - 1].to_owned(),
    ];
    for twin in twins {
        assert!(v.verify(&twin).is_err(), "{twin}");
    }
}

#[test]
fn a_cached_token_is_refused_while_the_clock_is_before_its_nbf() {
    let clock = ManualClock::at_unix(NOW);
    let v = cached(&clock, 100);
    let token = token(&payload_with(&format!(r#""nbf":{NOW}"#)));
    v.verify(&token).expect("valid from NOW");
    assert_eq!(v.cached_tokens(), 1);
    // A clock set back (e.g. by NTP) must not be overruled by the cache.
    clock.set_unix((NOW - 100) as f64);
    assert_eq!(
        v.verify(&token).expect_err("refused"),
        Rejection::NotYetValid
    );
    clock.set_unix(NOW as f64);
    v.verify(&token).expect("valid again");
}

#[test]
fn a_token_refused_by_the_issuer_rule_is_never_stored() {
    let clock = ManualClock::at_unix(NOW);
    let open = builder_with_clock(&clock)
        .cache_verified_tokens(100)
        .build()
        .expect("builds");
    let token = token(&payload_with(r#""iss":"someone-else""#));
    open.verify(&token).expect("no issuer rule");
    // A verifier with a rule refuses it on every call, cached or not.
    let strict = builder_with_clock(&clock)
        .issuer("approov.io")
        .cache_verified_tokens(100)
        .build()
        .expect("builds");
    for _ in 0..2 {
        assert_eq!(
            strict.verify(&token).expect_err("refused"),
            Rejection::Issuer
        );
    }
    assert_eq!(strict.cached_tokens(), 0);
}

/// A caching verifier binding `Authorization`, and a token bound to
/// `Bearer alice`.
fn bound_to_alice() -> (Verifier, String) {
    let binding = TokenBinding::new(["Authorization"]).expect("binding");
    let v = builder_with_clock(&ManualClock::at_unix(NOW))
        .token_binding(binding)
        .cache_verified_tokens(100)
        .build()
        .expect("builds");
    let pay = approov_core::binding_hash(["Bearer alice"]);
    (v, token(&payload_with(&format!(r#""pay":"{pay}""#))))
}

#[test]
fn token_binding_is_checked_on_every_request_of_a_cached_token() {
    let (v, token) = bound_to_alice();
    v.verify_request(&request(&token, &[("Authorization", "Bearer alice")]))
        .expect("bound to alice");
    assert_eq!(v.cached_tokens(), 1);
    let stolen = request(&token, &[("Authorization", "Bearer mallory")]);
    assert_eq!(
        v.verify_request(&stolen).expect_err("refused").kind(),
        approov_core::RejectionKind::Binding
    );
}

#[test]
fn a_genuine_token_with_the_wrong_binding_is_stored_and_still_refused() {
    // What the docs of `cache_verified_tokens` say: the token is stored once
    // it verifies; binding is a property of the request, checked every time.
    let (v, bound) = bound_to_alice();
    let stolen = request(&bound, &[("Authorization", "Bearer mallory")]);
    for _ in 0..2 {
        assert_eq!(
            v.verify_request(&stolen).expect_err("refused").kind(),
            approov_core::RejectionKind::Binding
        );
        assert_eq!(v.cached_tokens(), 1);
    }
    v.verify_request(&request(&bound, &[("Authorization", "Bearer alice")]))
        .expect("bound to alice");
    // A token refused by `verify` itself is not stored.
    let expired = token(&format!(r#"{{"exp":{}}}"#, NOW - 1));
    assert!(v.verify(&expired).is_err());
    assert_eq!(v.cached_tokens(), 1);
}

#[test]
fn the_cache_stays_within_its_capacity() {
    let clock = ManualClock::at_unix(NOW);
    // 40 rounds up to 48: 16 shards of 3.
    let v = cached(&clock, 40);
    let tokens: Vec<String> = (0..500)
        .map(|i| token(&payload_with(&format!(r#""n":{i}"#))))
        .collect();
    for t in &tokens {
        v.verify(t).expect("valid");
        assert!(v.cached_tokens() <= 48, "{}", v.cached_tokens());
    }
    assert!(v.cached_tokens() > 16, "the cache is used");
    // Evicted or not, every token still verifies.
    for t in &tokens {
        v.verify(t).expect("valid");
    }
    assert!(format!("{v:?}").contains("token_cache_capacity: Some(48)"));
}

#[test]
fn clones_and_derived_verifiers_share_the_cache() {
    let clock = ManualClock::at_unix(NOW);
    let v = cached(&clock, 100);
    let derived = v
        .with_token_header("X-Approov")
        .expect("a valid header name");
    v.clone().verify(valid_token()).expect("valid");
    assert_eq!(derived.cached_tokens(), 1);
}

#[test]
fn neither_debug_nor_errors_show_a_cached_token() {
    let clock = ManualClock::at_unix(NOW);
    let v = cached(&clock, 100);
    let token = valid_token();
    v.verify(&token).expect("valid");
    clock.advance(Duration::from_secs(3600));
    let err = v.verify(&token).expect_err("refused");
    let (_, sig) = token.rsplit_once('.').expect("three segments");
    for shown in [format!("{v:?}"), format!("{err:?}"), err.to_string()] {
        assert!(!shown.contains(sig), "{shown}");
        assert!(!shown.contains("ExampleApproovTokenDID"), "{shown}");
    }
}

#[test]
fn concurrent_use_gives_the_same_answers() {
    let clock = ManualClock::at_unix(NOW);
    let v = cached(&clock, 64);
    let good: Vec<String> = (0..32)
        .map(|i| token(&payload_with(&format!(r#""n":{i}"#))))
        .collect();
    let bad: Vec<String> = good.iter().map(|t| flip_signature_bit(t)).collect();
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..50 {
                    for (g, b) in good.iter().zip(&bad) {
                        assert!(v.verify(g).is_ok());
                        assert!(v.verify(b).is_err());
                    }
                }
            });
        }
    });
}
