//! Tokens in `Authorization: Bearer <token>`: the builder, the environment
//! (`APPROOV_TOKEN_SCHEME`), the derived verifiers, every rejection path
//! with its kind, a token binding over the token's own header (refused at
//! build), message signing covering `authorization`, and the new kind's
//! stable name and redaction.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashMap;

use approov_core::{
    ConfigError, ManualClock, Rejection, RejectionKind, SchemeProblem, TokenBinding, Verifier,
    VerifierBuilder,
};
use common::*;

const SCHEME_VAR: &str = "APPROOV_TOKEN_SCHEME";
const HEADER_VAR: &str = "APPROOV_TOKEN_HEADER";
const BINDING_VAR: &str = "APPROOV_TOKEN_BINDING_HEADER";

/// The test verifier reading `Authorization: Bearer <token>`.
fn bearer() -> Verifier {
    builder()
        .token_header("Authorization")
        .token_scheme("Bearer")
        .build()
        .unwrap()
}

fn from_vars(vars: &[(&str, &str)]) -> Result<VerifierBuilder, ConfigError> {
    let secret = secret_b64();
    let mut all: HashMap<&str, &str> = HashMap::from([("APPROOV_BASE64_SECRET", secret.as_str())]);
    all.extend(vars.iter().copied());
    VerifierBuilder::from_vars(|name| all.get(name).map(|v| (*v).to_owned()))
}

#[track_caller]
fn assert_source(err: &ConfigError, source: &str) {
    match err {
        ConfigError::Invalid { source_name, .. } => assert_eq!(source_name, source, "{err}"),
        other => panic!("expected Invalid from {source}, got {other:?}"),
    }
    assert!(err.to_string().contains(source), "{err}");
}

// --- Accepted -----------------------------------------------------------------

#[test]
fn bearer_and_one_token_verifies_in_any_case_of_the_scheme() {
    let v = bearer();
    assert_eq!(v.token_header(), "Authorization");
    assert_eq!(v.token_scheme(), Some("Bearer"));
    let token = valid_token();
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        let value = format!("{scheme} {token}");
        let claims = v.verify_request(&[("authorization", value.as_str())]);
        assert!(claims.is_ok(), "{scheme}: {claims:?}");
    }
}

#[test]
fn without_a_scheme_nothing_changes() {
    let v = verifier();
    assert_eq!(v.token_scheme(), None);
    let token = valid_token();
    assert!(v.verify_request(&request(&token, &[])).is_ok());
}

// --- Refused, with their kinds ------------------------------------------------

#[test]
fn every_other_header_value_is_refused_with_its_kind() {
    let v = bearer();
    let token = valid_token();
    let scheme = |p| Rejection::Scheme(p);
    let cases: Vec<(String, Rejection)> = vec![
        (String::new(), Rejection::Missing),
        ("Bearer".into(), Rejection::Missing),
        ("Bearer ".into(), Rejection::Missing),
        (format!("Basic {token}"), scheme(SchemeProblem::Other)),
        ("Basic dXNlcjpwYXNz".into(), scheme(SchemeProblem::Other)),
        (token.clone(), scheme(SchemeProblem::Other)),
        (format!("Bearerx {token}"), scheme(SchemeProblem::Other)),
        (format!("Token {token}"), scheme(SchemeProblem::Other)),
        (format!("Bearer  {token}"), scheme(SchemeProblem::Format)),
        (format!("Bearer\t{token}"), scheme(SchemeProblem::Format)),
        (format!("Bearer {token} "), scheme(SchemeProblem::Format)),
        (
            format!("Bearer {token} extra"),
            scheme(SchemeProblem::Format),
        ),
        ("Bearer a b".into(), scheme(SchemeProblem::Format)),
        (format!("Bearer={token}"), scheme(SchemeProblem::Format)),
        // After the scheme, the token is checked as usual.
        (
            "Bearer garbage".into(),
            Rejection::Malformed {
                part: approov_core::TokenPart::Token,
            },
        ),
        (
            format!("Bearer {}", flip_signature_bit(&token)),
            Rejection::Signature,
        ),
    ];
    for (value, expected) in cases {
        let got = v.verify_request(&[("Authorization", value.as_str())]);
        assert_eq!(got.as_ref().err(), Some(&expected), "{value:?}");
    }
}

#[test]
fn an_absent_or_repeated_header_is_missing_or_multiple() {
    let v = bearer();
    let token = valid_token();
    let bearer_value = format!("Bearer {token}");
    let none: [(&str, &str); 0] = [];
    assert_eq!(v.verify_request(&none).unwrap_err(), Rejection::Missing);
    // The token in Approov-Token only: not where this verifier reads it.
    assert_eq!(
        v.verify_request(&request(&token, &[])).unwrap_err(),
        Rejection::Missing
    );
    let twice = [
        ("Authorization", bearer_value.as_str()),
        ("Authorization", bearer_value.as_str()),
    ];
    assert_eq!(v.verify_request(&twice).unwrap_err(), Rejection::Multiple);
}

#[test]
fn the_length_limit_applies_to_the_token_after_the_scheme() {
    let token = valid_token();
    let v = builder()
        .token_header("Authorization")
        .token_scheme("Bearer")
        .max_token_len(token.len())
        .build()
        .unwrap();
    let exact = format!("Bearer {token}");
    assert!(
        v.verify_request(&[("Authorization", exact.as_str())])
            .is_ok()
    );
    let longer = format!("Bearer {token}x");
    assert_eq!(
        v.verify_request(&[("Authorization", longer.as_str())])
            .unwrap_err()
            .kind(),
        RejectionKind::TooLong
    );
}

#[test]
fn non_utf8_and_control_bytes_never_pass() {
    let v = bearer();
    for value in [
        &b"Bearer \xff\xfe"[..],
        b"\xffearer abc",
        b"Bearer a\x00b",
        b"Bearer \x7f",
    ] {
        let headers = [("Authorization", value)];
        let kind = v.verify_request(&headers).unwrap_err().kind();
        assert!(
            matches!(kind, RejectionKind::Malformed | RejectionKind::Scheme),
            "{value:?}: {kind}"
        );
    }
}

// --- Configuration ------------------------------------------------------------

#[test]
fn a_scheme_that_is_not_a_token_fails_the_build_naming_the_option() {
    for bad in ["", "Bear er", "Bearer:", "Bearer\n", "Bé"] {
        let err = builder()
            .token_header("Authorization")
            .token_scheme(bad)
            .build()
            .unwrap_err();
        assert_source(&err, "token_scheme");
        let err = verifier().with_token_scheme(Some(bad)).unwrap_err();
        assert_source(&err, "token_scheme");
    }
}

#[test]
fn with_token_scheme_derives_and_clears() {
    let plain = verifier().with_token_header("Authorization").unwrap();
    let derived = plain.with_token_scheme(Some("Bearer")).unwrap();
    assert_eq!(derived.token_scheme(), Some("Bearer"));
    assert_eq!(plain.token_scheme(), None, "the original is unchanged");
    let token = valid_token();
    let value = format!("Bearer {token}");
    assert!(
        derived
            .verify_request(&[("Authorization", value.as_str())])
            .is_ok()
    );
    let cleared = derived.with_token_scheme(None).unwrap();
    assert_eq!(cleared.token_scheme(), None);
    assert!(
        cleared
            .verify_request(&[("Authorization", token.as_str())])
            .is_ok()
    );
    assert!(format!("{derived:?}").contains("Bearer"), "{derived:?}");
}

#[test]
fn the_environment_sets_the_scheme_with_the_header() {
    let v = from_vars(&[(HEADER_VAR, "Authorization"), (SCHEME_VAR, " Bearer ")])
        .unwrap()
        .clock(ManualClock::at_unix(NOW))
        .build()
        .unwrap();
    assert_eq!(v.token_scheme(), Some("Bearer"));
    let value = format!("bearer {}", valid_token());
    assert!(
        v.verify_request(&[("Authorization", value.as_str())])
            .is_ok()
    );
    // Unset: the bare token.
    let v = from_vars(&[(HEADER_VAR, "Authorization")])
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(v.token_scheme(), None);
}

#[test]
fn the_environment_refuses_a_bad_or_lone_scheme() {
    for bad in ["", "  ", "Bear er", "Bearer:"] {
        let err = from_vars(&[(HEADER_VAR, "Authorization"), (SCHEME_VAR, bad)]).unwrap_err();
        assert_source(&err, SCHEME_VAR);
    }
    // Without APPROOV_TOKEN_HEADER the SDK's bare token would always be refused.
    let err = from_vars(&[(SCHEME_VAR, "Bearer")]).unwrap_err();
    assert_source(&err, SCHEME_VAR);
    assert!(err.to_string().contains(HEADER_VAR), "{err}");
}

#[test]
fn binding_the_token_to_its_own_header_fails_at_start_up() {
    // From the environment: the error names both variables.
    let err = from_vars(&[
        (HEADER_VAR, "Authorization"),
        (SCHEME_VAR, "Bearer"),
        (BINDING_VAR, "X-Device-Id, authorization"),
    ])
    .unwrap_err();
    assert!(err.to_string().contains(BINDING_VAR), "{err}");
    assert!(err.to_string().contains(HEADER_VAR), "{err}");
    // From the builder, with or without a scheme (no token can hash itself).
    for scheme in [Some("Bearer"), None] {
        let mut b = builder()
            .token_header("Authorization")
            .token_binding(TokenBinding::new(["Authorization"]).unwrap());
        if let Some(scheme) = scheme {
            b = b.token_scheme(scheme);
        }
        assert_source(&b.build().unwrap_err(), "token_binding");
    }
    let err = builder()
        .token_binding(TokenBinding::new(["approov-token"]).unwrap())
        .build()
        .unwrap_err();
    assert_source(&err, "token_binding");
    // Binding other headers is fine.
    let v = builder()
        .token_header("Authorization")
        .token_scheme("Bearer")
        .token_binding(TokenBinding::new(["X-Device-Id"]).unwrap())
        .build()
        .unwrap();
    assert_eq!(v.token_scheme(), Some("Bearer"));
}

#[test]
fn a_derived_verifier_binding_its_own_header_fails_closed() {
    let v = bearer().with_token_binding(Some(TokenBinding::new(["Authorization"]).unwrap()));
    let value = format!("Bearer {}", valid_token());
    let kind = v
        .verify_request(&[("Authorization", value.as_str())])
        .unwrap_err()
        .kind();
    assert_eq!(kind, RejectionKind::BindingMissing);
}

// --- The kind -----------------------------------------------------------------

#[test]
fn the_scheme_kind_has_its_stable_name_and_never_shows_the_token() {
    let token = valid_token();
    let rejection = bearer()
        .verify_request(&[("Authorization", format!("Basic {token}").as_str())])
        .unwrap_err();
    assert_eq!(rejection.kind(), RejectionKind::Scheme);
    assert_eq!(rejection.kind().as_str(), "scheme");
    assert_eq!(rejection.kind().to_string(), "scheme");
    for problem in [SchemeProblem::Other, SchemeProblem::Format] {
        let r = Rejection::Scheme(problem);
        let text = format!("{r} {r:?} {r:#?}");
        assert!(!text.contains(&token[..16]), "{text}");
        assert!(text.contains("scheme"), "{text}");
    }
}

// --- Message signing ----------------------------------------------------------

#[cfg(feature = "mint")]
mod signing {
    use super::*;
    use approov_core::mint::{InstallKey, RequestSigner, TokenBuilder};
    use approov_core::signing::{MessageSigning, SignatureProblem};
    use approov_core::{ApproovOutcome, Decision, Gate};

    const URI: &str = "https://api.example.com/shapes";

    fn gate() -> Gate {
        let clock = ManualClock::at_unix(NOW);
        Gate::new(bearer()).message_signing(MessageSigning::builder().clock(clock).build().unwrap())
    }

    fn token(key: &InstallKey) -> String {
        TokenBuilder::new()
            .exp((NOW + 300) as f64)
            .claim("ipk", key.ipk())
            .sign_hs256(&approov_core::Secret::from_bytes(SECRET_RAW))
    }

    fn check(covering: &[&str]) -> Decision {
        let key = InstallKey::generate().unwrap();
        let value = format!("Bearer {}", token(&key));
        let req = RequestSigner::new("GET", URI)
            .unwrap()
            .header("Authorization", &value)
            .covering(covering)
            .created(NOW as i64)
            .sign_install(&key)
            .finish()
            .unwrap();
        gate().check_message(&req.parts(), None)
    }

    #[test]
    fn a_signature_must_cover_the_authorization_header_by_default() {
        match check(&["@method", "@target-uri", "authorization"]) {
            Decision::Forward(ApproovOutcome::Verified(_)) => {}
            other => panic!("expected Verified, got {other:?}"),
        }
        match check(&["@method", "@target-uri"]) {
            Decision::Reject(Rejection::SignatureInvalid {
                problem: SignatureProblem::NotCovered(component),
                ..
            }) => assert_eq!(component.to_string(), "\"authorization\""),
            other => panic!("expected not covered, got {other:?}"),
        }
    }
}
