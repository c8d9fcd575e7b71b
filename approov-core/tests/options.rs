//! Every option of the verifier, the token binding and the gate: each is
//! shown to change the outcome it claims to change, and nothing else.

mod common;

use std::time::{Duration, UNIX_EPOCH};

use approov_core::{
    ApproovOutcome, ConfigError, DEFAULT_MAX_TOKEN_LEN, DEFAULT_TOKEN_HEADER, Decision, Gate,
    HeaderProblem, ManualClock, Rejection, RejectionKind, RequestHeaders, TokenBinding, Verifier,
    binding_hash, is_cors_preflight,
};
use common::*;

fn rejected<H: RequestHeaders + ?Sized>(verifier: &Verifier, headers: &H) -> Rejection {
    match verifier.verify_request(headers) {
        Ok(_) => panic!("accepted a request that must be rejected"),
        Err(r) => r,
    }
}

fn accepted<H: RequestHeaders + ?Sized>(verifier: &Verifier, headers: &H) {
    if let Err(r) = verifier.verify_request(headers) {
        panic!("rejected a request that must be accepted: {r}");
    }
}

fn exp_token(exp: f64) -> String {
    token(&format!(r#"{{"exp":{exp}}}"#))
}

fn nbf_token(nbf: f64) -> String {
    token(&payload_with(&format!(r#""nbf":{nbf}"#)))
}

const NOW_F: f64 = NOW as f64;

// ---- leeway ---------------------------------------------------------------

#[test]
fn leeway_accepts_a_recently_expired_token_and_no_more() {
    let strict = verifier();
    let lenient = builder()
        .leeway(Duration::from_secs(30))
        .build()
        .expect("verifier");
    let recent = exp_token(NOW_F - 10.0);
    assert_eq!(strict.verify(&recent).map(|_| ()), Err(Rejection::Expired));
    assert!(lenient.verify(&recent).is_ok());
    assert!(lenient.verify(exp_token(NOW_F - 29.5)).is_ok());
    // At exactly the leeway the token is as expired as `exp == now` is
    // without one.
    for exp in [NOW_F - 30.0, NOW_F - 31.0, NOW_F - 3600.0] {
        assert_eq!(
            lenient.verify(exp_token(exp)).map(|_| ()),
            Err(Rejection::Expired),
            "exp now{:+}",
            exp - NOW_F
        );
    }
}

#[test]
fn leeway_accepts_a_token_not_yet_valid_by_a_little() {
    let strict = verifier();
    let lenient = builder()
        .leeway(Duration::from_secs(30))
        .build()
        .expect("verifier");
    let early = nbf_token(NOW_F + 10.0);
    assert_eq!(
        strict.verify(&early).map(|_| ()),
        Err(Rejection::NotYetValid)
    );
    assert!(lenient.verify(&early).is_ok());
    assert!(lenient.verify(nbf_token(NOW_F + 30.0)).is_ok());
    assert_eq!(
        lenient.verify(nbf_token(NOW_F + 31.0)).map(|_| ()),
        Err(Rejection::NotYetValid)
    );
}

#[test]
fn leeway_below_a_second() {
    let v = builder()
        .leeway(Duration::from_millis(500))
        .build()
        .expect("verifier");
    assert!(v.verify(exp_token(NOW_F - 0.25)).is_ok());
    assert_eq!(
        v.verify(exp_token(NOW_F - 0.75)).map(|_| ()),
        Err(Rejection::Expired)
    );
}

// ---- max_token_len ----------------------------------------------------------

#[test]
fn max_token_len_custom() {
    let token = valid_token();
    let len = token.len();
    let exact = builder().max_token_len(len).build().expect("verifier");
    accepted(&exact, &request(&token, &[]));
    assert!(exact.verify(&token).is_ok());

    let short = builder().max_token_len(len - 1).build().expect("verifier");
    let expected = Rejection::TooLong { max: len - 1 };
    assert_eq!(rejected(&short, &request(&token, &[])), expected);
    assert_eq!(short.verify(&token).map(|_| ()), Err(expected));
}

#[test]
fn max_token_len_above_the_default() {
    let token = valid_token_of_len(DEFAULT_MAX_TOKEN_LEN + 1000);
    assert_eq!(
        verifier().verify(&token).map(|_| ()),
        Err(Rejection::TooLong {
            max: DEFAULT_MAX_TOKEN_LEN
        })
    );
    let roomy = builder()
        .max_token_len(DEFAULT_MAX_TOKEN_LEN * 2)
        .build()
        .expect("verifier");
    accepted(&roomy, &request(&token, &[]));
}

// ---- issuer / audience ----------------------------------------------------

#[test]
fn several_issuers_each_accepted() {
    let v = builder()
        .issuer("first.approov.io")
        .issuer("second.approov.io")
        .build()
        .expect("verifier");
    for iss in ["first.approov.io", "second.approov.io"] {
        let token = token(&payload_with(&format!(r#""iss":"{iss}""#)));
        let claims = v.verify(&token).expect("configured issuer");
        assert_eq!(claims.iss(), Some(iss));
    }
    let third = token(&payload_with(r#""iss":"third.approov.io""#));
    assert_eq!(v.verify(&third).map(|_| ()), Err(Rejection::Issuer));
}

#[test]
fn no_issuer_configured_accepts_any_or_none() {
    let v = verifier();
    assert!(v.verify(valid_token()).is_ok());
    assert!(v.verify(token(&payload_with(r#""iss":"anyone""#))).is_ok());
}

#[test]
fn several_audiences_each_accepted() {
    let v = builder()
        .audience("api.example.com")
        .audience("approov.io")
        .build()
        .expect("verifier");
    for aud in [
        r#""api.example.com""#,
        r#""approov.io""#,
        r#"["x","approov.io"]"#,
        r#"["api.example.com","approov.io"]"#,
    ] {
        let token = token(&payload_with(&format!(r#""aud":{aud}"#)));
        assert!(v.verify(&token).is_ok(), "aud {aud}");
    }
    let other = token(&payload_with(r#""aud":["x","y"]"#));
    assert_eq!(v.verify(&other).map(|_| ()), Err(Rejection::Audience));
}

#[test]
fn no_audience_configured_accepts_any_or_none() {
    let v = verifier();
    let token = token(&payload_with(r#""aud":["a","b"]"#));
    let claims = v.verify(&token).expect("no audience rule");
    assert_eq!(claims.aud().collect::<Vec<_>>(), ["a", "b"]);
}

// ---- token header -----------------------------------------------------------

#[test]
fn token_header_custom_name_replaces_the_default() {
    let v = builder()
        .token_header("X-Approov")
        .build()
        .expect("verifier");
    assert_eq!(v.token_header(), "X-Approov");
    let token = valid_token();
    accepted(&v, &[("X-Approov", token.as_str())]);
    accepted(&v, &[("x-approov", token.as_str())]);
    // The default header is no longer read, even with a valid token in it.
    assert_eq!(
        rejected(&v, &[(DEFAULT_TOKEN_HEADER, token.as_str())]),
        Rejection::Missing
    );
    // Nor does junk in it matter.
    accepted(
        &v,
        &[
            (DEFAULT_TOKEN_HEADER, "junk"),
            ("X-Approov", token.as_str()),
        ],
    );
}

#[test]
fn token_header_default_name() {
    let v = verifier();
    assert_eq!(v.token_header(), "Approov-Token");
    accepted(&v, &[("approov-token", valid_token().as_str())]);
}

#[test]
fn token_header_invalid_name_fails_the_build() {
    for name in ["", "X Approov", "X-Approov:", "Approov-Token\n", "é"] {
        let err = builder().token_header(name).build().expect_err(name);
        assert!(
            matches!(&err, ConfigError::Invalid { source_name, .. } if source_name == "token_header"),
            "{name:?}: {err:?}"
        );
    }
}

#[test]
fn with_token_header_reads_another_header_and_leaves_the_original() {
    let original = verifier();
    let custom = original.with_token_header("X-Token").expect("valid name");
    let token = valid_token();
    assert_eq!(custom.token_header(), "X-Token");
    assert_eq!(original.token_header(), DEFAULT_TOKEN_HEADER);
    accepted(&custom, &[("X-Token", token.as_str())]);
    assert_eq!(rejected(&custom, &request(&token, &[])), Rejection::Missing);
    accepted(&original, &request(&token, &[]));
    assert_eq!(
        rejected(&original, &[("X-Token", token.as_str())]),
        Rejection::Missing
    );
}

#[test]
fn with_token_header_refuses_an_invalid_name() {
    let err = verifier()
        .with_token_header("X Token")
        .expect_err("space in a header name");
    assert!(matches!(err, ConfigError::Invalid { .. }), "{err:?}");
    assert!(err.to_string().contains("not a valid HTTP header name"));
}

// ---- token binding on a verifier ------------------------------------------

const SESSION: &str = "Bearer user-session";
const DEVICE: &str = "device-42";

fn pay_token(values: &[&str]) -> String {
    let pay = binding_hash(values);
    token(&payload_with(&format!(r#""pay":"{pay}""#)))
}

fn binding(names: &[&str]) -> TokenBinding {
    TokenBinding::new(names).expect("binding")
}

#[test]
fn with_token_binding_some_and_none_on_clones() {
    let unbound = verifier();
    let bound = unbound.with_token_binding(Some(binding(&["Authorization"])));
    let unbound_again = bound.with_token_binding(None);

    assert!(unbound.token_binding().is_none());
    assert_eq!(
        bound
            .token_binding()
            .map(|b| b.headers().collect::<Vec<_>>()),
        Some(vec!["Authorization"])
    );
    assert!(unbound_again.token_binding().is_none());

    let no_pay = valid_token();
    accepted(&unbound, &request(&no_pay, &[]));
    assert_eq!(
        rejected(&bound, &request(&no_pay, &[])),
        Rejection::BindingMissing
    );
    accepted(&unbound_again, &request(&no_pay, &[]));

    // The clones keep the keys and the rules: same secret, same clock.
    let expired = exp_token(NOW_F - 1.0);
    for v in [&unbound, &bound, &unbound_again] {
        assert_eq!(v.verify(&expired).map(|_| ()), Err(Rejection::Expired));
    }
}

#[test]
fn builder_token_binding_applies_in_verify_request() {
    let v = builder()
        .token_binding(binding(&["Authorization"]))
        .build()
        .expect("verifier");
    let token = pay_token(&[SESSION]);
    accepted(&v, &request(&token, &[("Authorization", SESSION)]));
    assert_eq!(
        rejected(&v, &request(&token, &[("Authorization", "Bearer other")])),
        Rejection::Binding
    );
}

#[test]
fn failover_tolerant_accepts_no_pay_but_still_checks_a_pay() {
    let v =
        verifier().with_token_binding(Some(binding(&["Authorization"]).failover_tolerant(true)));
    let no_pay = valid_token();
    accepted(&v, &request(&no_pay, &[("Authorization", SESSION)]));
    // With no pay there is nothing to check the headers against.
    accepted(&v, &request(&no_pay, &[]));

    let good = pay_token(&[SESSION]);
    accepted(&v, &request(&good, &[("Authorization", SESSION)]));
    assert_eq!(
        rejected(&v, &request(&good, &[("Authorization", "Bearer other")])),
        Rejection::Binding
    );
    assert_eq!(
        rejected(&v, &request(&good, &[])),
        Rejection::BindingHeader {
            header: "Authorization".into(),
            problem: HeaderProblem::Missing
        }
    );

    let strict =
        verifier().with_token_binding(Some(binding(&["Authorization"]).failover_tolerant(false)));
    assert_eq!(
        rejected(&strict, &request(&no_pay, &[("Authorization", SESSION)])),
        Rejection::BindingMissing
    );
}

#[test]
fn trim_values_hashes_the_trimmed_value() {
    let token = pay_token(&[SESSION]);
    let untrimmed = " Bearer user-session\t";
    let exact = verifier().with_token_binding(Some(binding(&["Authorization"])));
    assert_eq!(
        rejected(&exact, &request(&token, &[("Authorization", untrimmed)])),
        Rejection::Binding
    );
    let trimming =
        verifier().with_token_binding(Some(binding(&["Authorization"]).trim_values(true)));
    accepted(&trimming, &request(&token, &[("Authorization", untrimmed)]));
    accepted(&trimming, &request(&token, &[("Authorization", SESSION)]));
    // Trimmed to nothing is empty.
    assert_eq!(
        rejected(&trimming, &request(&token, &[("Authorization", "  \t ")])),
        Rejection::BindingHeader {
            header: "Authorization".into(),
            problem: HeaderProblem::Empty
        }
    );
}

#[test]
fn bearer_credential_only_hashes_the_credential() {
    let credential_only = verifier().with_token_binding(Some(
        binding(&["Authorization"]).bearer_credential_only(true),
    ));
    let token = pay_token(&["user-session"]);
    for value in [
        "Bearer user-session",
        "bearer user-session",
        "BEARER user-session",
    ] {
        accepted(
            &credential_only,
            &request(&token, &[("Authorization", value)]),
        );
    }
    // Another scheme is hashed whole.
    let basic = pay_token(&["Basic dXNlcjpwYXNz"]);
    accepted(
        &credential_only,
        &request(&basic, &[("Authorization", "Basic dXNlcjpwYXNz")]),
    );
    // Nothing after the scheme is an empty credential.
    assert_eq!(
        rejected(
            &credential_only,
            &request(&token, &[("Authorization", "Bearer ")])
        ),
        Rejection::BindingHeader {
            header: "Authorization".into(),
            problem: HeaderProblem::Empty
        }
    );
    // Off (the default), the credential alone does not match the whole value.
    let whole = verifier().with_token_binding(Some(binding(&["Authorization"])));
    assert_eq!(
        rejected(&whole, &request(&token, &[("Authorization", SESSION)])),
        Rejection::Binding
    );
}

#[test]
fn trim_values_then_bearer_credential_only() {
    let v = verifier().with_token_binding(Some(
        binding(&["Authorization"])
            .trim_values(true)
            .bearer_credential_only(true),
    ));
    let token = pay_token(&["user-session"]);
    accepted(
        &v,
        &request(&token, &[("Authorization", "  Bearer user-session ")]),
    );
}

#[test]
fn several_bound_headers_hash_in_configured_order() {
    let token = pay_token(&[SESSION, DEVICE]);
    let headers = request(
        &token,
        &[("X-Device-Id", DEVICE), ("Authorization", SESSION)],
    );
    let in_order = verifier().with_token_binding(Some(binding(&["Authorization", "X-Device-Id"])));
    // The request's own header order does not matter; the binding's does.
    accepted(&in_order, &headers);
    assert_eq!(
        in_order
            .token_binding()
            .map(|b| b.headers().collect::<Vec<_>>()),
        Some(vec!["Authorization", "X-Device-Id"])
    );
    let reversed = verifier().with_token_binding(Some(binding(&["X-Device-Id", "Authorization"])));
    assert_eq!(rejected(&reversed, &headers), Rejection::Binding);
    // Each bound header is required.
    assert_eq!(
        rejected(&in_order, &request(&token, &[("Authorization", SESSION)])),
        Rejection::BindingHeader {
            header: "X-Device-Id".into(),
            problem: HeaderProblem::Missing
        }
    );
}

#[test]
fn bound_header_names_match_case_insensitively() {
    let token = pay_token(&[SESSION]);
    let v = verifier().with_token_binding(Some(binding(&["AUTHORIZATION"])));
    accepted(&v, &request(&token, &[("authorization", SESSION)]));
    // The rejection names the header as configured.
    assert_eq!(
        rejected(&v, &request(&token, &[])),
        Rejection::BindingHeader {
            header: "AUTHORIZATION".into(),
            problem: HeaderProblem::Missing
        }
    );
}

#[test]
fn binding_names_are_trimmed() {
    let b = binding(&[" Authorization ", "\tX-Device-Id"]);
    assert_eq!(
        b.headers().collect::<Vec<_>>(),
        ["Authorization", "X-Device-Id"]
    );
}

#[test]
fn binding_check_pay_directly() {
    let b = binding(&["Authorization"]);
    let headers = [("Authorization", SESSION)];
    assert_eq!(
        b.check_pay(Some(&binding_hash([SESSION])), &headers),
        Ok(())
    );
    assert_eq!(b.check_pay(None, &headers), Err(Rejection::BindingMissing));
    assert_eq!(
        b.check_pay(Some("d3Jvbmc="), &headers),
        Err(Rejection::Binding)
    );
}

// ---- keys and kid -----------------------------------------------------------

fn header_with_kid(kid: &str) -> String {
    format!(r#"{{"alg":"HS256","typ":"JWT","kid":"{kid}"}}"#)
}

fn kid_token(kid: Option<&str>, secret: &[u8]) -> String {
    let header = kid.map_or_else(|| HEADER.to_owned(), header_with_kid);
    sign_raw(&header, valid_payload(), secret)
}

fn with_clock(b: approov_core::VerifierBuilder) -> Verifier {
    b.clock(ManualClock::at_unix(NOW))
        .build()
        .expect("verifier")
}

#[test]
fn secret_with_kid_accepts_only_its_kid() {
    let v = with_clock(Verifier::builder().secret_base64_with_kid("k1", &secret_b64()));
    assert!(v.verify(kid_token(Some("k1"), SECRET_RAW)).is_ok());
    assert_eq!(
        v.verify(kid_token(Some("k2"), SECRET_RAW)).map(|_| ()),
        Err(Rejection::UnknownKey)
    );
    // A token without a kid cannot pick a key that requires one.
    assert_eq!(
        v.verify(kid_token(None, SECRET_RAW)).map(|_| ()),
        Err(Rejection::UnknownKey)
    );
    // The right kid, the wrong secret.
    assert_eq!(
        v.verify(kid_token(Some("k1"), OTHER_SECRET_RAW))
            .map(|_| ()),
        Err(Rejection::Signature)
    );
}

#[test]
fn secret_without_kid_accepts_any_kid() {
    let v = verifier();
    // The shapes of kid seen in published Approov tokens, and none at all.
    for kid in [Some("kid_approov"), Some("kid_0001"), Some(""), None] {
        assert!(v.verify(kid_token(kid, SECRET_RAW)).is_ok(), "kid {kid:?}");
    }
}

#[test]
fn kid_secret_and_kidless_secret_together() {
    let v = with_clock(
        Verifier::builder()
            .secret_base64_with_kid("k1", &other_secret_b64())
            .secret_base64(&secret_b64()),
    );
    // The named key is tried first, then the kid-less one.
    assert!(v.verify(kid_token(Some("k1"), OTHER_SECRET_RAW)).is_ok());
    assert!(v.verify(kid_token(Some("k1"), SECRET_RAW)).is_ok());
    assert!(v.verify(kid_token(Some("k9"), SECRET_RAW)).is_ok());
    // A named key is never tried for another kid or for none.
    assert_eq!(
        v.verify(kid_token(Some("k9"), OTHER_SECRET_RAW))
            .map(|_| ()),
        Err(Rejection::Signature)
    );
    assert_eq!(
        v.verify(kid_token(None, OTHER_SECRET_RAW)).map(|_| ()),
        Err(Rejection::Signature)
    );
}

#[test]
fn two_secrets_during_rotation_both_accepted() {
    let v = with_clock(
        Verifier::builder()
            .secret_base64(&secret_b64())
            .secret_base64(&other_secret_b64()),
    );
    assert!(v.verify(kid_token(None, SECRET_RAW)).is_ok());
    assert!(v.verify(kid_token(None, OTHER_SECRET_RAW)).is_ok());
    assert_eq!(
        v.verify(kid_token(None, b"a third secret")).map(|_| ()),
        Err(Rejection::Signature)
    );
    assert_eq!(
        v.algorithms().collect::<Vec<_>>(),
        [approov_core::Algorithm::HS256]
    );
}

#[test]
fn raw_secret_bytes() {
    let v = with_clock(Verifier::builder().secret(approov_core::Secret::from_bytes(SECRET_RAW)));
    assert!(v.verify(valid_token()).is_ok());
}

// ---- clock -------------------------------------------------------------------

#[test]
fn manual_clock_advance_and_set_move_the_verifier() {
    let clock = ManualClock::at_unix(NOW);
    let v = builder_with_clock(&clock).build().expect("verifier");
    let token = valid_token(); // exp = NOW + 300
    assert!(v.verify(&token).is_ok());

    clock.advance(Duration::from_secs(299));
    assert!(v.verify(&token).is_ok());
    clock.advance(Duration::from_secs(1));
    assert_eq!(v.verify(&token).map(|_| ()), Err(Rejection::Expired));

    clock.set(UNIX_EPOCH + Duration::from_secs(NOW));
    assert!(v.verify(&token).is_ok());
    clock.set_unix(NOW_F + 299.999);
    assert!(v.verify(&token).is_ok());
    clock.set_unix(NOW_F + 300.001);
    assert_eq!(v.verify(&token).map(|_| ()), Err(Rejection::Expired));
}

#[test]
fn manual_clock_clones_share_one_time() {
    let clock = ManualClock::at_unix(NOW);
    let copy = clock.clone();
    copy.advance(Duration::from_secs(60));
    assert_eq!(clock.unix_seconds(), NOW_F + 60.0);
    clock.set_unix(1.5);
    assert_eq!(copy.unix_seconds(), 1.5);
}

#[test]
fn clones_of_a_verifier_share_its_clock() {
    let clock = ManualClock::at_unix(NOW);
    let v = builder_with_clock(&clock).build().expect("verifier");
    let copy = v.clone();
    let rebound = v.with_token_binding(None);
    clock.advance(Duration::from_secs(3600));
    for v in [&v, &copy, &rebound] {
        assert_eq!(v.verify(valid_token()).map(|_| ()), Err(Rejection::Expired));
    }
}

// ---- gate --------------------------------------------------------------------

fn outcome(decision: Decision) -> ApproovOutcome {
    match decision {
        Decision::Forward(outcome) => outcome,
        other => panic!("{other:?} where a forward was expected"),
    }
}

fn rejection(decision: Decision) -> Rejection {
    match decision {
        Decision::Reject(r) => r,
        other => panic!("{other:?} where a rejection was expected"),
    }
}

const NO_HEADERS: [(&str, &str); 0] = [];
const PREFLIGHT: [(&str, &str); 2] = [
    ("Origin", "https://app.example"),
    ("Access-Control-Request-Method", "POST"),
];

#[test]
fn gate_enforces_by_default() {
    let gate = Gate::new(verifier());
    assert!(!gate.is_report_only());
    assert_eq!(
        rejection(gate.check("GET", &NO_HEADERS)),
        Rejection::Missing
    );
    let token = valid_token();
    match outcome(gate.check("POST", &request(&token, &[]))) {
        ApproovOutcome::Verified(claims) => {
            assert_eq!(claims.did(), Some("ExampleApproovTokenDID=="));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn gate_report_only_forwards_with_the_rejection() {
    let gate = Gate::new(verifier()).report_only(true);
    assert!(gate.is_report_only());
    assert_eq!(
        outcome(gate.check("GET", &NO_HEADERS)),
        ApproovOutcome::Rejected(Rejection::Missing)
    );
    let expired = exp_token(NOW_F - 1.0);
    assert_eq!(
        outcome(gate.check("GET", &request(&expired, &[]))),
        ApproovOutcome::Rejected(Rejection::Expired)
    );
    let token = valid_token();
    assert!(matches!(
        outcome(gate.check("GET", &request(&token, &[]))),
        ApproovOutcome::Verified(_)
    ));
    // And it can be switched off again.
    let enforcing = gate.report_only(false);
    assert_eq!(
        rejection(enforcing.check("GET", &NO_HEADERS)),
        Rejection::Missing
    );
}

#[test]
fn gate_skips_cors_preflight_by_default() {
    let gate = Gate::new(verifier());
    assert_eq!(
        outcome(gate.check("OPTIONS", &PREFLIGHT)),
        ApproovOutcome::SkippedPreflight
    );
    // Methods are case-sensitive: `options` is not OPTIONS.
    for method in ["options", "Options"] {
        assert_eq!(
            rejection(gate.check(method, &PREFLIGHT)),
            Rejection::Missing,
            "{method}"
        );
        assert!(!is_cors_preflight(method, &PREFLIGHT));
    }
    let lowercase = [
        ("origin", "https://app.example"),
        ("access-control-request-method", "GET"),
    ];
    assert_eq!(
        outcome(gate.check("OPTIONS", &lowercase)),
        ApproovOutcome::SkippedPreflight
    );
    // A preflight is skipped whatever token it carries.
    let mut with_junk = PREFLIGHT.to_vec();
    with_junk.push(("Approov-Token", "junk"));
    assert_eq!(
        outcome(gate.check("OPTIONS", &with_junk)),
        ApproovOutcome::SkippedPreflight
    );
}

#[test]
fn gate_checks_preflights_when_told_not_to_skip_them() {
    let gate = Gate::new(verifier()).skip_cors_preflight(false);
    assert_eq!(
        rejection(gate.check("OPTIONS", &PREFLIGHT)),
        Rejection::Missing
    );
    let both = Gate::new(verifier())
        .skip_cors_preflight(false)
        .report_only(true);
    assert_eq!(
        outcome(both.check("OPTIONS", &PREFLIGHT)),
        ApproovOutcome::Rejected(Rejection::Missing)
    );
}

#[test]
fn options_without_access_control_request_method_is_not_a_preflight() {
    let gate = Gate::new(verifier());
    let origin_only = [("Origin", "https://example.com")];
    assert_eq!(
        rejection(gate.check("OPTIONS", &origin_only)),
        Rejection::Missing
    );
    assert_eq!(
        rejection(gate.check("OPTIONS", &NO_HEADERS)),
        Rejection::Missing
    );
    // Nor is one without Origin, which no browser sends.
    let method_only = [("Access-Control-Request-Method", "POST")];
    assert_eq!(
        rejection(gate.check("OPTIONS", &method_only)),
        Rejection::Missing
    );
    // Nor is another method that carries the headers.
    assert_eq!(rejection(gate.check("GET", &PREFLIGHT)), Rejection::Missing);
    assert!(is_cors_preflight("OPTIONS", &PREFLIGHT));
    assert!(!is_cors_preflight("OPTIONS", &origin_only));
    assert!(!is_cors_preflight("OPTIONS", &method_only));
    assert!(!is_cors_preflight("POST", &PREFLIGHT));
}

#[test]
fn gate_with_verifier_swaps_the_rules() {
    let gate = Gate::new(verifier());
    let token = valid_token();
    assert!(matches!(
        outcome(gate.check("GET", &request(&token, &[]))),
        ApproovOutcome::Verified(_)
    ));
    let bound = gate
        .verifier()
        .with_token_binding(Some(binding(&["Authorization"])));
    let gate = gate.with_verifier(bound);
    assert!(gate.verifier().token_binding().is_some());
    assert_eq!(
        rejection(gate.check("GET", &request(&token, &[("Authorization", SESSION)]))),
        Rejection::BindingMissing
    );
}

#[test]
fn gate_reports_every_kind_through_decision() {
    let gate = Gate::new(verifier());
    let too_long = "a".repeat(DEFAULT_MAX_TOKEN_LEN + 1);
    let cases = [
        (request("a.b", &[]), RejectionKind::Malformed),
        (request(&too_long, &[]), RejectionKind::TooLong),
    ];
    for (headers, kind) in cases {
        assert_eq!(rejection(gate.check("GET", &headers)).kind(), kind);
    }
}
