//! Start-up configuration: `VerifierBuilder::from_vars` variable by
//! variable, the secret's accepted encodings, and every `ConfigError` a
//! builder or a `TokenBinding` can raise, with a message that names the
//! source and says what to fix.

mod common;

use std::collections::HashMap;

use approov_core::{
    ConfigError, ManualClock, Rejection, Secret, TokenBinding, Verifier, VerifierBuilder,
};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use common::*;

const STD: &str = "APPROOV_BASE64_SECRET";
const URL: &str = "APPROOV_BASE64URL_SECRET";
const HEADER_VAR: &str = "APPROOV_TOKEN_HEADER";
const BINDING_VAR: &str = "APPROOV_TOKEN_BINDING_HEADER";
const LEEWAY_VAR: &str = "APPROOV_LEEWAY_SECONDS";

fn from_vars(vars: &[(&str, &str)]) -> Result<VerifierBuilder, ConfigError> {
    let vars: HashMap<&str, &str> = vars.iter().copied().collect();
    VerifierBuilder::from_vars(|name| vars.get(name).map(|v| (*v).to_owned()))
}

/// The verifier from `vars` (plus the test secret unless one is given),
/// with the clock stopped at [`NOW`].
fn verifier_from(vars: &[(&str, &str)]) -> Verifier {
    let secret = secret_b64();
    let mut all = vec![(STD, secret.as_str())];
    all.retain(|(k, _)| !vars.iter().any(|(name, _)| name == k || *name == URL));
    all.extend_from_slice(vars);
    from_vars(&all)
        .expect("the variables are valid")
        .clock(ManualClock::at_unix(NOW))
        .build()
        .expect("the verifier builds")
}

fn config_error(vars: &[(&str, &str)]) -> ConfigError {
    let secret = secret_b64();
    let mut all = vec![(STD, secret.as_str())];
    all.retain(|(k, _)| !vars.iter().any(|(name, _)| name == k || *name == URL));
    all.extend_from_slice(vars);
    match from_vars(&all) {
        Ok(b) => b.build().expect_err("the configuration must be refused"),
        Err(e) => e,
    }
}

/// Asserts `err` is `Invalid` from `source`, with every `hint` in its message.
fn assert_invalid(err: &ConfigError, source: &str, hints: &[&str]) {
    match err {
        ConfigError::Invalid { source_name, .. } => assert_eq!(source_name, source, "{err}"),
        other => panic!("expected Invalid from {source}, got {other:?}"),
    }
    let text = err.to_string();
    assert!(text.contains(source), "{text:?} names {source}");
    for hint in hints {
        assert!(text.contains(hint), "{text:?} should contain {hint:?}");
    }
}

// ---- the secret variables ---------------------------------------------------

#[test]
fn base64_secret_variable() {
    let v = verifier_from(&[(STD, &secret_b64())]);
    assert!(v.verify(valid_token()).is_ok());
    assert!(v.token_binding().is_none());
    assert_eq!(v.token_header(), "Approov-Token");
}

#[test]
fn base64url_secret_variable() {
    let v = verifier_from(&[(URL, &URL_SAFE_NO_PAD.encode(SECRET_RAW))]);
    assert!(v.verify(valid_token()).is_ok());
}

#[test]
fn both_secret_variables_is_an_error() {
    let secret = secret_b64();
    // Even with the same value: which one wins would be a guess.
    for url in [secret.as_str(), "b3RoZXI"] {
        let err = from_vars(&[(STD, &secret), (URL, url)]).expect_err("both set");
        assert_invalid(&err, URL, &[STD, "only one"]);
    }
}

#[test]
fn no_secret_variable_names_approov_base64_secret() {
    let err = from_vars(&[(HEADER_VAR, "X-Token")]).expect_err("no secret");
    assert!(
        matches!(err, ConfigError::MissingVar { var: STD, .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(text.contains(STD), "{text}");
    assert!(text.contains("approov secret -getSharedKey"), "{text}");
}

// ---- APPROOV_TOKEN_HEADER -----------------------------------------------------

#[test]
fn token_header_variable() {
    for value in ["X-Approov", " X-Approov\n"] {
        let v = verifier_from(&[(HEADER_VAR, value)]);
        assert_eq!(v.token_header(), "X-Approov", "{value:?}");
        let token = valid_token();
        assert!(v.verify_request(&[("x-approov", token.as_str())]).is_ok());
        assert_eq!(
            v.verify_request(&request(&token, &[])).map(|_| ()),
            Err(Rejection::Missing)
        );
    }
}

#[test]
fn token_header_variable_invalid() {
    for value in ["X Approov", "X-Approov:", "", "  ", "Approov\u{e9}"] {
        let err = config_error(&[(HEADER_VAR, value)]);
        assert_invalid(&err, HEADER_VAR, &["not a valid HTTP header name"]);
    }
}

// ---- APPROOV_TOKEN_BINDING_HEADER -------------------------------------------

fn bound_headers(v: &Verifier) -> Vec<String> {
    v.token_binding()
        .expect("a binding")
        .headers()
        .map(str::to_owned)
        .collect()
}

#[test]
fn binding_header_variable_list_with_spaces_and_order() {
    let v = verifier_from(&[(BINDING_VAR, "Authorization, X-Device-Id")]);
    assert_eq!(bound_headers(&v), ["Authorization", "X-Device-Id"]);
    let v = verifier_from(&[(BINDING_VAR, " X-Device-Id ,\tAuthorization ")]);
    assert_eq!(bound_headers(&v), ["X-Device-Id", "Authorization"]);
    let v = verifier_from(&[(BINDING_VAR, "Authorization")]);
    assert_eq!(bound_headers(&v), ["Authorization"]);

    // The order is the hashing order.
    let pay = approov_core::binding_hash(["Bearer s", "d"]);
    let token = token(&payload_with(&format!(r#""pay":"{pay}""#)));
    let headers = request(
        &token,
        &[("Authorization", "Bearer s"), ("X-Device-Id", "d")],
    );
    let in_order = verifier_from(&[(BINDING_VAR, "Authorization,X-Device-Id")]);
    assert!(in_order.verify_request(&headers).is_ok());
    let reversed = verifier_from(&[(BINDING_VAR, "X-Device-Id,Authorization")]);
    assert_eq!(
        reversed.verify_request(&headers).map(|_| ()),
        Err(Rejection::Binding)
    );
}

#[test]
fn binding_header_variable_with_empty_entries_is_an_error() {
    for value in [
        "Authorization,,X-Device-Id",
        "Authorization,",
        ",Authorization",
        "Authorization, ,X",
        "",
        " ",
        ",",
    ] {
        let err = config_error(&[(BINDING_VAR, value)]);
        assert_invalid(&err, BINDING_VAR, &[]);
    }
}

#[test]
fn binding_header_variable_with_an_invalid_name_is_an_error() {
    for value in ["Authorization;X-Device-Id", "X Device", "Authorization:"] {
        let err = config_error(&[(BINDING_VAR, value)]);
        assert_invalid(&err, BINDING_VAR, &["not a valid HTTP header name"]);
    }
}

// ---- APPROOV_TOKEN_CACHE_SIZE -----------------------------------------------

#[test]
fn cache_size_variable() {
    const CACHE_VAR: &str = "APPROOV_TOKEN_CACHE_SIZE";
    let token = valid_token();
    for (value, cached) in [("0", 0), (" 100\n", 1), ("1", 1)] {
        let v = verifier_from(&[(CACHE_VAR, value)]);
        v.verify(&token).expect("valid");
        assert_eq!(v.cached_tokens(), cached, "{value:?}");
    }
    assert_eq!(verifier_from(&[]).cached_tokens(), 0);
    for value in ["abc", "-5", "1.5", "", "10k", "99999999999999999999999"] {
        let err = config_error(&[(CACHE_VAR, value)]);
        assert_invalid(&err, CACHE_VAR, &["whole number of tokens"]);
    }
}

// ---- APPROOV_LEEWAY_SECONDS -------------------------------------------------

#[test]
fn leeway_variable() {
    let recent = token(&format!(r#"{{"exp":{}}}"#, NOW - 10));
    let none = verifier_from(&[]);
    assert_eq!(none.verify(&recent).map(|_| ()), Err(Rejection::Expired));
    for value in ["30", " 30\n", "11"] {
        let v = verifier_from(&[(LEEWAY_VAR, value)]);
        assert!(v.verify(&recent).is_ok(), "{value:?}");
    }
    let zero = verifier_from(&[(LEEWAY_VAR, "0")]);
    assert_eq!(zero.verify(&recent).map(|_| ()), Err(Rejection::Expired));
}

#[test]
fn leeway_variable_invalid_or_negative() {
    for value in [
        "abc",
        "-5",
        "1.5",
        "",
        "30s",
        "1e3",
        "99999999999999999999999",
    ] {
        let err = config_error(&[(LEEWAY_VAR, value)]);
        assert_invalid(&err, LEEWAY_VAR, &["whole number of seconds"]);
    }
}

#[test]
fn from_vars_builder_can_still_be_changed() {
    let v = from_vars(&[(STD, &secret_b64())])
        .expect("valid")
        .issuer("AccountID.approov.io")
        .clock(ManualClock::at_unix(NOW))
        .build()
        .expect("verifier");
    assert_eq!(v.verify(valid_token()).map(|_| ()), Err(Rejection::Issuer));
}

// ---- the four base64 forms of a secret ----------------------------------------

/// 32 bytes whose base64 has `+` and `/` (standard) or `-` and `_`
/// (URL-safe) and needs one `=` of padding.
fn awkward_secret() -> Vec<u8> {
    let mut raw = [0xfb, 0xff, 0xbf].repeat(10);
    raw.extend_from_slice(&[0xfb, 0xff]);
    raw
}

#[test]
fn secret_in_all_four_base64_forms_verifies_the_same_token() {
    let raw = awkward_secret();
    let token = sign_raw(HEADER, valid_payload(), &raw);
    let forms = [
        STANDARD.encode(&raw),
        STANDARD_NO_PAD.encode(&raw),
        URL_SAFE.encode(&raw),
        URL_SAFE_NO_PAD.encode(&raw),
    ];
    assert!(forms[0].contains(['+', '/']) && forms[0].ends_with('='));
    assert!(forms[2].contains(['-', '_']) && forms[2].ends_with('='));
    assert!(!forms[1].ends_with('=') && !forms[3].ends_with('='));
    for form in &forms {
        for encoded in [form.clone(), format!("{form}\n"), format!("  {form} ")] {
            let v = Verifier::builder()
                .secret_base64(&encoded)
                .clock(ManualClock::at_unix(NOW))
                .build()
                .expect("every form is accepted");
            assert!(v.verify(&token).is_ok(), "{encoded:?}");
            for var in [STD, URL] {
                let v = from_vars(&[(var, &encoded)])
                    .expect("every form is accepted")
                    .clock(ManualClock::at_unix(NOW))
                    .build()
                    .expect("verifier");
                assert!(v.verify(&token).is_ok(), "{var}={encoded:?}");
            }
            let secret = Secret::from_base64(&encoded, "test").expect("decodes");
            assert_eq!(secret.expose(), raw.as_slice());
        }
    }
}

#[test]
fn secret_with_kid_in_any_form() {
    let raw = awkward_secret();
    let header = r#"{"alg":"HS256","kid":"k1"}"#;
    let token = sign_raw(header, valid_payload(), &raw);
    for form in [URL_SAFE_NO_PAD.encode(&raw), STANDARD.encode(&raw)] {
        let v = Verifier::builder()
            .secret_base64_with_kid("k1", &form)
            .clock(ManualClock::at_unix(NOW))
            .build()
            .expect("verifier");
        assert!(v.verify(&token).is_ok());
    }
}

// ---- bad secrets ----------------------------------------------------------------

#[test]
fn empty_or_blank_secret_is_an_error_naming_its_source() {
    for value in ["", " ", "\n", " \t\r\n "] {
        for var in [STD, URL] {
            let err = from_vars(&[(var, value)]).expect_err("blank secret");
            assert_invalid(&err, var, &["empty", "approov secret -getSharedKey"]);
        }
        let err = Verifier::builder()
            .secret_base64(value)
            .build()
            .expect_err("blank secret");
        assert_invalid(&err, "secret_base64", &["empty"]);
        let err = Verifier::builder()
            .secret_base64_with_kid("k1", value)
            .build()
            .expect_err("blank secret");
        assert_invalid(&err, "secret_base64_with_kid", &["empty"]);
    }
}

#[test]
fn empty_raw_secret_is_an_error() {
    let err = Verifier::builder()
        .secret(Secret::from_bytes(Vec::new()))
        .build()
        .expect_err("empty secret");
    assert_invalid(&err, "secret", &["empty"]);
}

#[test]
fn secret_that_is_not_base64_is_an_error_that_says_what_to_use() {
    let cases = [
        ("c2Vj$cmV0", "invalid character at offset 4"),
        ("c2VjcmV0!", "invalid character"),
        ("c2Vj cmV0", "invalid character"),
        // Both alphabets at once is neither.
        ("ab+c-def", "invalid character"),
        // Five characters: no byte string has that length in base64.
        ("c2Vjc", "length"),
        ("c2VjcmV0====", "not base64"),
    ];
    for (value, problem) in cases {
        let err = from_vars(&[(STD, value)]).expect_err(value);
        assert_invalid(
            &err,
            STD,
            &[
                problem,
                "not base64",
                "approov secret -getSharedKey",
                "URL-safe",
            ],
        );
        let err = Verifier::builder()
            .secret_base64(value)
            .build()
            .expect_err(value);
        assert_invalid(&err, "secret_base64", &[problem]);
    }
}

#[test]
fn padding_only_secret_is_an_error() {
    for value in ["=", "==", "===="] {
        let err = Verifier::builder()
            .secret_base64(value)
            .build()
            .expect_err(value);
        assert_invalid(&err, "secret_base64", &[]);
    }
}

#[test]
fn a_bad_secret_beside_a_good_one_still_fails_the_build() {
    let err = Verifier::builder()
        .secret_base64(&secret_b64())
        .secret_base64("not*base64")
        .build()
        .expect_err("one bad secret");
    assert_invalid(&err, "secret_base64", &["not base64"]);
}

#[test]
fn the_first_problem_is_reported() {
    let err = Verifier::builder()
        .secret_base64("")
        .secret_base64_with_kid("k", "$$$$")
        .token_header("bad header")
        .max_token_len(0)
        .build()
        .expect_err("several problems");
    assert_invalid(&err, "secret_base64", &["empty"]);
}

// ---- other builder and binding errors -------------------------------------------

#[test]
fn no_keys() {
    let err = Verifier::builder().build().expect_err("no keys");
    assert!(matches!(err, ConfigError::NoKeys), "{err:?}");
    let text = err.to_string();
    assert!(text.contains(STD), "{text}");
    // Options without a key are still no key.
    let err = Verifier::builder()
        .issuer("x")
        .token_binding(TokenBinding::new(["Authorization"]).expect("binding"))
        .build()
        .expect_err("no keys");
    assert!(matches!(err, ConfigError::NoKeys), "{err:?}");
}

#[test]
fn token_binding_with_no_header_is_an_error() {
    let err = TokenBinding::new([] as [&str; 0]).expect_err("no headers");
    assert_invalid(
        &err,
        "TokenBinding::new",
        &["at least one header", "Authorization"],
    );
}

#[test]
fn token_binding_with_an_invalid_name_is_an_error() {
    for name in ["", " ", "Bad Header", "X:Y", "X\nY", "(x)", "caf\u{e9}"] {
        let err = TokenBinding::new(["Authorization", name]).expect_err(name);
        assert_invalid(&err, "TokenBinding::new", &[]);
    }
}

#[test]
fn max_token_len_zero_is_an_error() {
    let err = builder().max_token_len(0).build().expect_err("zero");
    assert_invalid(&err, "max_token_len", &["above zero"]);
    assert!(builder().max_token_len(1).build().is_ok());
}

#[test]
fn secret_from_base64_names_the_given_source() {
    let err = Secret::from_base64("!", "MY_SECRET_FILE").expect_err("not base64");
    assert_invalid(&err, "MY_SECRET_FILE", &["not base64"]);
    let secret = Secret::from_base64(&secret_b64(), "MY_SECRET_FILE").expect("valid");
    assert_eq!(secret.expose(), SECRET_RAW);
}

#[test]
fn a_secret_shorter_than_32_bytes_is_refused_at_start_up() {
    let encode = |n: usize| STANDARD.encode(vec![7u8; n]);
    let short = encode(31);
    let err = from_vars(&[(STD, &short)]).expect_err("31 bytes");
    assert_invalid(
        &err,
        "APPROOV_BASE64_SECRET",
        &[
            "31 bytes long",
            "at least 32 bytes",
            "RFC 7518",
            "approov secret -getSharedKey",
        ],
    );
    assert!(!err.to_string().contains(&short), "{err}");
    let err = from_vars(&[(URL, &short)]).expect_err("31 bytes");
    assert_invalid(&err, "APPROOV_BASE64URL_SECRET", &["at least 32 bytes"]);
    for (source, result) in [
        (
            "secret_base64",
            Verifier::builder().secret_base64(&short).build(),
        ),
        (
            "secret_base64_with_kid",
            Verifier::builder()
                .secret_base64_with_kid("k", &short)
                .build(),
        ),
        (
            "secret",
            Verifier::builder()
                .secret(Secret::from_bytes(vec![7u8; 31]))
                .build(),
        ),
    ] {
        assert_invalid(&result.expect_err(source), source, &["31 bytes long"]);
    }
    // Exactly 32 bytes is enough.
    assert!(from_vars(&[(STD, &encode(32))]).is_ok());
    assert_eq!(approov_core::MIN_HMAC_SECRET_LEN, 32);
}

#[test]
fn an_account_message_signing_secret_shorter_than_32_bytes_is_refused() {
    let err = approov_core::signing::MessageSigning::builder()
        .account_secret_base64("msk", "c2hvcnQtYWNjb3VudC1zZWNyZXQ=")
        .build()
        .expect_err("20 bytes");
    assert_invalid(
        &err,
        "account_secret",
        &["20 bytes long", "at least 32 bytes"],
    );
}

/// Without the `jwks-url` feature, `APPROOV_JWKS_URL` is a start-up error
/// saying which feature to enable, never silently ignored.
#[cfg(not(feature = "jwks-url"))]
#[test]
fn jwks_url_without_the_feature_is_an_error() {
    let err = from_vars(&[("APPROOV_JWKS_URL", "https://keys.example.com/jwks.json")])
        .map(|_| ())
        .expect_err("APPROOV_JWKS_URL without the feature")
        .to_string();
    assert!(err.starts_with("APPROOV_JWKS_URL is not usable"), "{err}");
    assert!(err.contains("jwks-url"), "{err}");
}

#[test]
fn config_errors_print_their_message_in_debug_and_convert_to_io_errors() {
    let error = Verifier::builder()
        .secret_base64("short")
        .build()
        .expect_err("a short secret");
    let message = error.to_string();
    assert!(
        message.starts_with("secret_base64 is not usable"),
        "{message}"
    );
    // `expect` and a `main` returning the error print `Debug`: the message.
    assert_eq!(format!("{error:?}"), message);
    assert!(!message.contains("short"));
    let io = std::io::Error::from(error);
    assert_eq!(io.kind(), std::io::ErrorKind::InvalidInput);
    assert_eq!(io.to_string(), message);
    let missing = ConfigError::MissingVar {
        var: "APPROOV_BASE64_SECRET",
        hint: "the account secret",
    };
    assert_eq!(
        format!("{missing:?}"),
        "APPROOV_BASE64_SECRET is not set: the account secret"
    );
}
