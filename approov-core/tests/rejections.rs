//! Every rejection kind of the HS256 path, and each of its sub-cases, with
//! the exact `Rejection` the verifier must give (issue #2).
//!
//! Each case goes through both `Verifier::verify` (the raw token) and
//! `Verifier::verify_request` (the token in its header), which must agree.

mod common;

use approov_core::{
    Algorithm, AlgorithmProblem, ClaimProblem, DEFAULT_MAX_TOKEN_LEN, HeaderProblem, ManualClock,
    Rejection, RejectionKind, RequestHeaders, SchemeProblem, SdkStatus, TokenBinding, TokenPart,
    Verifier, binding_hash,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE;
use common::*;

/// The rejection for `token`, the same through `verify` and `verify_request`.
fn rejection(verifier: &Verifier, token: &str) -> Rejection {
    let direct = match verifier.verify(token) {
        Ok(_) => panic!("verify accepted a token that must be rejected"),
        Err(r) => r,
    };
    let via_header = request_rejection(verifier, &request(token, &[]));
    assert_eq!(direct, via_header, "verify and verify_request disagree");
    direct
}

fn request_rejection<H: RequestHeaders + ?Sized>(verifier: &Verifier, headers: &H) -> Rejection {
    match verifier.verify_request(headers) {
        Ok(_) => panic!("verify_request accepted a request that must be rejected"),
        Err(r) => r,
    }
}

fn assert_accepted(verifier: &Verifier, token: &str) {
    if let Err(r) = verifier.verify(token) {
        panic!("verify rejected a valid token: {r}");
    }
    if let Err(r) = verifier.verify_request(&request(token, &[])) {
        panic!("verify_request rejected a valid token: {r}");
    }
}

const fn malformed(part: TokenPart) -> Rejection {
    Rejection::Malformed { part }
}

#[test]
fn the_helpers_make_a_token_that_verifies() {
    // Every case below is a small change to this token: it must verify.
    assert_accepted(&verifier(), &valid_token());
}

// ---- missing / multiple ---------------------------------------------------

#[test]
fn missing_when_no_token_header() {
    let v = verifier();
    let none: [(&str, &str); 0] = [];
    assert_eq!(request_rejection(&v, &none), Rejection::Missing);
    let other = [("Authorization", "Bearer x")];
    assert_eq!(request_rejection(&v, &other), Rejection::Missing);
}

#[test]
fn missing_when_token_header_is_empty() {
    let v = verifier();
    assert_eq!(
        request_rejection(&v, &[("Approov-Token", "")]),
        Rejection::Missing
    );
    assert_eq!(v.verify("").expect_err("empty token"), Rejection::Missing);
}

#[test]
fn multiple_when_token_header_is_repeated() {
    let v = verifier();
    let token = valid_token();
    // Even two copies of a valid token: a proxy may have added one.
    let twice = [("Approov-Token", token.as_str()), ("Approov-Token", &token)];
    assert_eq!(request_rejection(&v, &twice), Rejection::Multiple);
    let cases = [("approov-token", token.as_str()), ("APPROOV-TOKEN", "")];
    assert_eq!(request_rejection(&v, &cases), Rejection::Multiple);
}

// ---- too_long -------------------------------------------------------------

#[test]
fn too_long_just_over_the_default_maximum() {
    let v = verifier();
    let token = valid_token_of_len(DEFAULT_MAX_TOKEN_LEN + 1);
    let expected = Rejection::TooLong {
        max: DEFAULT_MAX_TOKEN_LEN,
    };
    assert_eq!(rejection(&v, &token), expected);
    // Refused before any decoding or character check.
    let junk = " ".repeat(DEFAULT_MAX_TOKEN_LEN + 1);
    assert_eq!(
        request_rejection(&v, &[("Approov-Token", junk.as_str())]),
        expected
    );
    assert_eq!(v.verify(&junk).expect_err("junk"), expected);
}

#[test]
fn exactly_the_default_maximum_is_not_too_long() {
    let token = valid_token_of_len(DEFAULT_MAX_TOKEN_LEN);
    assert_accepted(&verifier(), &token);
}

// ---- malformed: structure ---------------------------------------------------

#[test]
fn malformed_segment_counts() {
    let v = verifier();
    let token = valid_token();
    let (h, rest) = token.split_once('.').expect("three segments");
    let (p, s) = rest.split_once('.').expect("three segments");
    let cases = [
        ("one segment", h.to_owned()),
        ("two segments", format!("{h}.{p}")),
        ("four segments", format!("{h}.{p}.{s}.{s}")),
        ("four segments, empty last", format!("{token}.")),
        ("only dots", "...".to_owned()),
    ];
    for (name, token) in cases {
        assert_eq!(rejection(&v, &token), malformed(TokenPart::Token), "{name}");
    }
}

#[test]
fn malformed_bad_base64url_in_each_segment() {
    let v = verifier();
    let header = b64url(HEADER);
    let payload = b64url(valid_payload());
    // `*` and `!` are visible ASCII but in no base64 alphabet. The bad
    // segments are signed, so only the encoding is wrong.
    assert_eq!(
        rejection(&v, &sign_segments("eyJ*", &payload, SECRET_RAW)),
        malformed(TokenPart::Header)
    );
    assert_eq!(
        rejection(&v, &sign_segments(&header, "eyJ!ZXhw", SECRET_RAW)),
        malformed(TokenPart::Payload)
    );
    let token = valid_token();
    let (input, _) = token.rsplit_once('.').expect("three segments");
    assert_eq!(
        rejection(&v, &format!("{input}.abc*def")),
        malformed(TokenPart::Signature)
    );
    // A base64url length that no byte string has (4n+1 characters).
    assert_eq!(
        rejection(&v, &sign_segments("eyJhb", &payload, SECRET_RAW)),
        malformed(TokenPart::Header)
    );
}

#[test]
fn bad_payload_encoding_under_a_bad_signature_is_a_signature_rejection() {
    // Nothing of the payload is decoded before the signature verifies.
    let v = verifier();
    let token = format!("{}.eyJ!ZXhw.{}", b64url(HEADER), mac("x", SECRET_RAW));
    assert_eq!(rejection(&v, &token), Rejection::Signature);
}

#[test]
fn malformed_padding_in_any_segment() {
    let v = verifier();
    // 28 bytes: its padded base64url ends with "==".
    let header = r#"{"alg":"HS256", "typ":"JWT"}"#;
    let padded_header = URL_SAFE.encode(header);
    assert!(padded_header.ends_with('='), "the header needs padding");
    let payload_b64 = b64url(valid_payload());
    assert_eq!(
        rejection(&v, &sign_segments(&padded_header, &payload_b64, SECRET_RAW)),
        malformed(TokenPart::Header)
    );

    let mut payload = valid_payload();
    while payload.len().is_multiple_of(3) {
        payload.insert(1, ' ');
    }
    let padded_payload = URL_SAFE.encode(&payload);
    assert!(padded_payload.ends_with('='), "the payload needs padding");
    assert_eq!(
        rejection(
            &v,
            &sign_segments(&b64url(HEADER), &padded_payload, SECRET_RAW)
        ),
        malformed(TokenPart::Payload)
    );

    // A 32-byte MAC is 43 characters unpadded, 44 with its "=".
    assert_eq!(
        rejection(&v, &format!("{}=", valid_token())),
        malformed(TokenPart::Signature)
    );
}

/// A JSON text built by `make(n)` for the first `n` whose base64url
/// contains `-` or `_`, with those swapped for the standard `+` and `/`.
fn standard_alphabet(make: impl Fn(u32) -> String) -> (String, String) {
    (0..1000)
        .map(make)
        .map(|text| (b64url(&text), text))
        .find(|(enc, _)| enc.contains(['-', '_']))
        .map(|(enc, text)| (enc.replace('-', "+").replace('_', "/"), text))
        .expect("some variant encodes to - or _")
}

#[test]
fn malformed_second_spelling_of_the_signature() {
    // A 32-byte MAC is 43 characters whose last one carries 4 bits and 2
    // zero bits. Setting one of those spells the same bytes differently: a
    // lenient decoder would accept it, giving each token a twin.
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let v = verifier();
    let token = valid_token();
    let (input, sig) = token.rsplit_once('.').expect("three segments");
    let (head, last) = sig.split_at(sig.len() - 1);
    let index = ALPHABET
        .iter()
        .position(|c| *c == last.as_bytes()[0])
        .expect("base64url");
    assert_eq!(index & 3, 0, "the canonical last character has zero bits");
    for extra in 1..4 {
        let twin = char::from(ALPHABET[index | extra]);
        assert_eq!(
            rejection(&v, &format!("{input}.{head}{twin}")),
            malformed(TokenPart::Signature),
            "{twin}"
        );
    }
}

#[test]
fn malformed_standard_alphabet_characters_in_any_segment() {
    let v = verifier();
    let (header, _) = standard_alphabet(|n| format!(r#"{{"alg":"HS256","n":"{n}??>>"}}"#));
    assert_eq!(
        rejection(
            &v,
            &sign_segments(&header, &b64url(valid_payload()), SECRET_RAW)
        ),
        malformed(TokenPart::Header)
    );

    let (payload, _) = standard_alphabet(|n| payload_with(&format!(r#""n":"{n}??>>""#)));
    assert_eq!(
        rejection(&v, &sign_segments(&b64url(HEADER), &payload, SECRET_RAW)),
        malformed(TokenPart::Payload)
    );

    let token = (0..1000)
        .map(|n| token(&payload_with(&format!(r#""n":{n}"#))))
        .find(|t| {
            t.rsplit_once('.')
                .is_some_and(|(_, s)| s.contains(['-', '_']))
        })
        .expect("some signature has - or _");
    let (input, sig) = token.rsplit_once('.').expect("three segments");
    let standard = format!("{input}.{}", sig.replace('-', "+").replace('_', "/"));
    assert_eq!(rejection(&v, &standard), malformed(TokenPart::Signature));
}

#[test]
fn malformed_header_that_is_not_json() {
    let v = verifier();
    for header in ["not json", "", "{", r#"{"alg":"HS256""#, "\u{feff}{}"] {
        assert_eq!(
            rejection(&v, &token_with_header(header)),
            malformed(TokenPart::Header),
            "header {header:?}"
        );
    }
}

#[test]
fn malformed_header_that_is_json_but_not_an_object() {
    let v = verifier();
    for header in ["null", "42", r#""HS256""#, "true", "[{}]", "[1]"] {
        assert_eq!(
            rejection(&v, &token_with_header(header)),
            malformed(TokenPart::Header),
            "header {header:?}"
        );
    }
}

#[test]
fn malformed_header_that_is_a_json_array_naming_an_algorithm() {
    // serde's derived `Deserialize` for `jws::Header` also accepts a JSON
    // array of the fields in order, so `["HS256"]` passes as {"alg":"HS256"}.
    // RFC 7515 §4: the header must be a JSON object.
    let v = verifier();
    for header in [r#"["HS256"]"#, r#"["HS256","kid"]"#, "[]"] {
        assert_eq!(
            v.verify(token_with_header(header)).map(|_| ()),
            Err(malformed(TokenPart::Header)),
            "header {header}"
        );
    }
}

#[test]
fn malformed_payload_that_is_not_json_after_a_valid_signature() {
    let v = verifier();
    let cases: [&[u8]; 8] = [
        b"not json",
        b"",
        b"{",
        br#"{"exp":1700000300"#,
        br#"{"exp":1700000300}x"#,
        br#"{"exp":1700000300}{}"#,
        br#"{"exp":tru}"#,
        b"{\"exp\":1700000300,\"did\":\"\xff\xfe\"}",
    ];
    for payload in cases {
        assert_eq!(
            rejection(&v, &token_bytes(payload)),
            malformed(TokenPart::Payload),
            "payload {:?}",
            String::from_utf8_lossy(payload)
        );
    }
}

fn token_bytes(payload: &[u8]) -> String {
    sign_raw(HEADER, payload, SECRET_RAW)
}

#[test]
fn malformed_header_with_a_repeated_parameter() {
    // Which copy a verifier reads is exactly what an attacker would play on.
    let v = verifier();
    for header in [
        r#"{"alg":"HS256","alg":"none"}"#,
        r#"{"alg":"HS256","alg":"HS256"}"#,
        r#"{"alg":"HS256","kid":"a","kid":"b"}"#,
        r#"{"alg":"HS256","crit":[],"crit":[]}"#,
    ] {
        assert_eq!(
            rejection(&v, &token_with_header(header)),
            malformed(TokenPart::Header),
            "header {header}"
        );
    }
}

#[test]
fn malformed_payload_with_a_number_out_of_range() {
    // Beyond f64: never read as infinity (a token that never expires).
    let v = verifier();
    for payload in [
        r#"{"exp":1e400}"#,
        r#"{"exp":-1e400}"#,
        &payload_with(r#""nbf":1e400"#),
        &payload_with(r#""iat":1e999"#),
    ] {
        assert_eq!(
            rejection(&v, &token(payload)),
            malformed(TokenPart::Payload),
            "payload {payload}"
        );
    }
}

#[test]
fn malformed_payload_that_is_json_but_not_an_object() {
    let v = verifier();
    for payload in [
        "[1700000300]",
        "[]",
        "null",
        "1700000300",
        r#""exp""#,
        "true",
    ] {
        assert_eq!(
            rejection(&v, &token(payload)),
            malformed(TokenPart::Payload),
            "payload {payload}"
        );
    }
}

#[test]
fn malformed_bytes_outside_visible_ascii_in_the_header_value() {
    let v = verifier();
    let token = valid_token();
    let (start, end) = token.split_at(20);
    for byte in [b' ', b'\t', b'\0', b'\r', b'\n', 0x7f, 0x80, 0xc3, 0xff] {
        let mut value = start.as_bytes().to_vec();
        value.push(byte);
        value.extend_from_slice(end.as_bytes());
        let headers: [(&str, &[u8]); 1] = [("Approov-Token", &value)];
        assert_eq!(
            request_rejection(&v, &headers),
            malformed(TokenPart::Token),
            "byte {byte:#04x}"
        );
    }
    for value in [
        format!(" {token}"),
        format!("{token} "),
        format!("Bearer {token}"),
    ] {
        assert_eq!(
            request_rejection(&v, &[("Approov-Token", value.as_str())]),
            malformed(TokenPart::Token),
            "value {value:?}"
        );
    }
}

#[test]
fn malformed_non_utf8_token_header_value() {
    let v = verifier();
    // Invalid UTF-8 on its own (a lone continuation byte, an overlong form).
    for value in [&b"\x80"[..], b"\xc0\xaf", b"eyJ\xffabc.def.ghi"] {
        let headers: [(&str, &[u8]); 1] = [("Approov-Token", value)];
        assert_eq!(request_rejection(&v, &headers), malformed(TokenPart::Token));
        // The raw-token entry point must not panic on it either.
        assert_eq!(
            v.verify(value).expect_err("not a token").kind(),
            RejectionKind::Malformed
        );
    }
}

// ---- algorithm ------------------------------------------------------------

#[test]
fn algorithm_missing() {
    let v = verifier();
    for header in [r#"{"typ":"JWT"}"#, "{}", r#"{"typ":"JWT","enc":"A256GCM"}"#] {
        assert_eq!(
            rejection(&v, &token_with_header(header)),
            Rejection::Algorithm(AlgorithmProblem::Missing),
            "header {header}"
        );
    }
}

#[test]
fn algorithm_null_or_of_the_wrong_json_type_is_a_malformed_header() {
    // The header is parsed strictly: `alg` must be a string, so `null` or a
    // number makes the whole header unreadable, never "no alg".
    let v = verifier();
    for alg in ["null", "256", "true", r#"["HS256"]"#, r#"{"name":"HS256"}"#] {
        let header = format!(r#"{{"alg":{alg},"typ":"JWT"}}"#);
        assert_eq!(
            rejection(&v, &token_with_header(&header)),
            malformed(TokenPart::Header),
            "alg {alg}"
        );
    }
}

#[test]
fn algorithm_none_signed_or_unsigned() {
    let v = verifier();
    let header = r#"{"alg":"none","typ":"JWT"}"#;
    let signed = token_with_header(header);
    let unsigned = format!("{}.", signed.rsplit_once('.').expect("three segments").0);
    for token in [signed, unsigned] {
        assert_eq!(
            rejection(&v, &token),
            Rejection::Algorithm(AlgorithmProblem::None)
        );
    }
}

#[test]
fn algorithm_unsupported_names() {
    let v = verifier();
    // HS384/HS512 would let the same secret sign in more ways; the others
    // are unknown to this crate, misspelt or wrongly cased (RFC 7515 names
    // are case-sensitive).
    for alg in [
        "HS384", "HS512", "ES512", "EdDSA", "RSA-OAEP", "hs256", "HS256 ", "NONE", "None", "",
        "HS-256",
    ] {
        let header = format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#);
        assert_eq!(
            rejection(&v, &token_with_header(&header)),
            Rejection::Algorithm(AlgorithmProblem::Unsupported),
            "alg {alg:?}"
        );
    }
}

#[test]
fn algorithm_known_but_not_configured() {
    let v = verifier();
    for alg in [Algorithm::RS256, Algorithm::PS256, Algorithm::ES256] {
        let header = format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#);
        assert_eq!(
            rejection(&v, &token_with_header(&header)),
            Rejection::Algorithm(AlgorithmProblem::NotConfigured(alg)),
            "alg {alg}"
        );
    }
}

#[test]
fn hs256_token_when_only_a_public_key_is_configured() {
    // The classic confusion attack signs HS256 with the public key's bytes.
    let pem = include_str!("keys/p256.pub.pem");
    let v = Verifier::builder()
        .public_key_pem(Algorithm::ES256, pem)
        .clock(ManualClock::at_unix(NOW))
        .build()
        .expect("an ES256 verifier");
    for key in [pem.as_bytes(), SECRET_RAW] {
        let token = sign_raw(HEADER, valid_payload(), key);
        assert_eq!(
            rejection(&v, &token),
            Rejection::Algorithm(AlgorithmProblem::NotConfigured(Algorithm::HS256))
        );
    }
}

// ---- crit -----------------------------------------------------------------

#[test]
fn crit_in_any_form() {
    let v = verifier();
    for crit in [r#"["exp"]"#, "[]", r#"["b64"]"#, "null", r#""exp""#, "{}"] {
        let header = format!(r#"{{"alg":"HS256","typ":"JWT","crit":{crit}}}"#);
        assert_eq!(
            rejection(&v, &token_with_header(&header)),
            Rejection::Crit,
            "crit {crit}"
        );
    }
    // Checked before the algorithm: even alg none is reported as crit.
    let header = r#"{"alg":"none","crit":[]}"#;
    assert_eq!(rejection(&v, &token_with_header(header)), Rejection::Crit);
}

// ---- unknown_key ----------------------------------------------------------

#[test]
fn unknown_key_when_every_secret_has_a_kid() {
    let v = Verifier::builder()
        .secret_base64_with_kid("k1", &secret_b64())
        .secret_base64_with_kid("k2", &other_secret_b64())
        .clock(ManualClock::at_unix(NOW))
        .build()
        .expect("verifier");
    let with_kid = |kid: &str| {
        let header = format!(r#"{{"alg":"HS256","typ":"JWT","kid":"{kid}"}}"#);
        token_with_header(&header)
    };
    assert_accepted(&v, &with_kid("k1"));
    for kid in ["k3", "K1", "", "k1 "] {
        assert_eq!(
            rejection(&v, &with_kid(kid)),
            Rejection::UnknownKey,
            "kid {kid:?}"
        );
    }
    // No kid at all: no secret may be tried.
    assert_eq!(rejection(&v, &valid_token()), Rejection::UnknownKey);
}

#[test]
fn kid_of_the_wrong_json_type_is_a_malformed_header() {
    let v = verifier();
    for kid in ["null", "1", "[]", "true"] {
        let header = format!(r#"{{"alg":"HS256","typ":"JWT","kid":{kid}}}"#);
        assert_eq!(
            rejection(&v, &token_with_header(&header)),
            malformed(TokenPart::Header),
            "kid {kid}"
        );
    }
}

// ---- signature ------------------------------------------------------------

#[test]
fn signature_with_the_wrong_secret() {
    let token = sign_raw(HEADER, valid_payload(), OTHER_SECRET_RAW);
    assert_eq!(rejection(&verifier(), &token), Rejection::Signature);
}

#[test]
fn signature_with_a_flipped_bit() {
    let token = flip_signature_bit(&valid_token());
    assert_eq!(rejection(&verifier(), &token), Rejection::Signature);
}

#[test]
fn signature_stripped() {
    let token = valid_token();
    let (input, _) = token.rsplit_once('.').expect("three segments");
    assert_eq!(
        rejection(&verifier(), &format!("{input}.")),
        Rejection::Signature
    );
}

#[test]
fn signature_truncated_or_extended() {
    let v = verifier();
    let token = valid_token();
    let (input, sig) = token.rsplit_once('.').expect("three segments");
    // Still canonical base64url, but not 32 bytes.
    for sig in [&sig[..40], &sig[..4], &format!("{sig}AAAA")] {
        assert_eq!(
            rejection(&v, &format!("{input}.{sig}")),
            Rejection::Signature,
            "signature of {} characters",
            sig.len()
        );
    }
}

#[test]
fn signature_of_another_token() {
    let v = verifier();
    let mine = valid_token();
    let other = token(&payload_with(r#""did":"another device""#));
    let (input, _) = mine.rsplit_once('.').expect("three segments");
    let (_, other_sig) = other.rsplit_once('.').expect("three segments");
    assert_eq!(
        rejection(&v, &format!("{input}.{other_sig}")),
        Rejection::Signature
    );
}

#[test]
fn signature_over_a_changed_payload() {
    let v = verifier();
    let token = valid_token();
    let (_, sig) = token.rsplit_once('.').expect("three segments");
    let forged = payload_with(r#""did":"ExampleApproovTokenDID==","ip":"6.6.6.6""#);
    let forged = format!("{}.{}.{sig}", b64url(HEADER), b64url(forged));
    assert_eq!(rejection(&v, &forged), Rejection::Signature);
}

// ---- expired / not_yet_valid ------------------------------------------------

#[test]
fn expired_when_exp_is_in_the_past() {
    let v = verifier();
    for exp in [NOW - 1, NOW - 86_400, 0] {
        let token = token(&format!(r#"{{"exp":{exp}}}"#));
        assert_eq!(rejection(&v, &token), Rejection::Expired, "exp {exp}");
    }
    let negative = token(r#"{"exp":-1}"#);
    assert_eq!(rejection(&v, &negative), Rejection::Expired);
}

#[test]
fn a_token_expires_when_the_clock_passes_exp() {
    // One verifier, its clock moved by hand: accepted until `exp`, refused
    // from then on.
    let clock = ManualClock::at_unix(NOW);
    let v = builder_with_clock(&clock).build().expect("verifier");
    let token = valid_token();
    assert_accepted(&v, &token);
    clock.advance(std::time::Duration::from_secs(299));
    assert_accepted(&v, &token);
    clock.advance(std::time::Duration::from_secs(1));
    assert_eq!(rejection(&v, &token), Rejection::Expired);
    clock.advance(std::time::Duration::from_secs(1));
    assert_eq!(rejection(&v, &token), Rejection::Expired);
}

#[test]
fn expired_when_exp_is_exactly_now() {
    // RFC 7519 §4.1.4: the token must not be accepted "on or after" exp.
    let token = token(&format!(r#"{{"exp":{NOW}}}"#));
    assert_eq!(rejection(&verifier(), &token), Rejection::Expired);
}

#[test]
fn fractional_exp_just_before_and_just_after_now() {
    let clock = ManualClock::at_unix(NOW);
    let v = builder_with_clock(&clock).build().expect("verifier");
    // The shape of real Approov tokens: a fractional NumericDate.
    let token = token(r#"{"exp":4708683205.891912}"#);
    clock.set_unix(4_708_683_205.891);
    assert_accepted(&v, &token);
    clock.set_unix(4_708_683_205.892);
    assert_eq!(rejection(&v, &token), Rejection::Expired);

    let half = token_exp_plus_half();
    clock.set_unix(NOW as f64 + 0.25);
    assert_accepted(&v, &half);
    clock.set_unix(NOW as f64 + 0.75);
    assert_eq!(rejection(&v, &half), Rejection::Expired);
}

fn token_exp_plus_half() -> String {
    token(&format!(r#"{{"exp":{NOW}.5}}"#))
}

#[test]
fn not_yet_valid_when_nbf_is_in_the_future() {
    let v = verifier();
    for nbf in [format!("{}", NOW + 1), format!("{NOW}.001")] {
        let token = token(&payload_with(&format!(r#""nbf":{nbf}"#)));
        assert_eq!(rejection(&v, &token), Rejection::NotYetValid, "nbf {nbf}");
    }
}

#[test]
fn nbf_equal_to_now_or_past_passes() {
    let v = verifier();
    for nbf in [NOW, NOW - 1] {
        assert_accepted(&v, &token(&payload_with(&format!(r#""nbf":{nbf}"#))));
    }
}

#[test]
fn expired_is_reported_before_not_yet_valid() {
    let token = token(&format!(r#"{{"exp":{},"nbf":{}}}"#, NOW - 10, NOW + 10));
    assert_eq!(rejection(&verifier(), &token), Rejection::Expired);
}

// ---- claim ------------------------------------------------------------------

fn claim(claim: &'static str, problem: ClaimProblem) -> Rejection {
    Rejection::Claim { claim, problem }
}

#[test]
fn claim_exp_missing() {
    let v = verifier();
    for payload in [
        "{}",
        r#"{"ip":"1.2.3.4","did":"x"}"#,
        r#"{"EXP":1999999999}"#,
    ] {
        assert_eq!(
            rejection(&v, &token(payload)),
            claim("exp", ClaimProblem::Missing),
            "payload {payload}"
        );
    }
}

const NOT_NUMBERS: [&str; 6] = [
    r#""1999999999""#,
    "true",
    "false",
    "null",
    "{}",
    "[1999999999]",
];

#[test]
fn claim_exp_of_the_wrong_type() {
    let v = verifier();
    for value in NOT_NUMBERS {
        let payload = format!(r#"{{"exp":{value}}}"#);
        assert_eq!(
            rejection(&v, &token(&payload)),
            claim("exp", ClaimProblem::WrongType),
            "exp {value}"
        );
    }
}

#[test]
fn claim_iat_and_nbf_of_the_wrong_type() {
    let v = verifier();
    for name in ["iat", "nbf"] {
        for value in NOT_NUMBERS {
            let payload = payload_with(&format!(r#""{name}":{value}"#));
            assert_eq!(
                rejection(&v, &token(&payload)),
                claim(name, ClaimProblem::WrongType),
                "{name} {value}"
            );
        }
    }
}

/// The claims whose value must be a JSON string.
const STRING_CLAIMS: [&str; 8] = ["ip", "did", "arc", "pay", "ipk", "mskid", "iss", "sub"];

#[test]
fn claim_string_claims_of_the_wrong_type() {
    let v = verifier();
    for name in STRING_CLAIMS {
        for value in ["1", "1.5", "null", "true", "[]", r#"["x"]"#, "{}"] {
            let payload = payload_with(&format!(r#""{name}":{value}"#));
            assert_eq!(
                rejection(&v, &token(&payload)),
                claim(name, ClaimProblem::WrongType),
                "{name} {value}"
            );
        }
    }
}

#[test]
fn claim_aud_of_the_wrong_type() {
    let v = verifier();
    for value in [
        "1",
        "null",
        "true",
        "{}",
        "[1]",
        r#"["approov.io",1]"#,
        r#"["approov.io",null]"#,
        r#"[["approov.io"]]"#,
    ] {
        let payload = payload_with(&format!(r#""aud":{value}"#));
        assert_eq!(
            rejection(&v, &token(&payload)),
            claim("aud", ClaimProblem::WrongType),
            "aud {value}"
        );
    }
}

#[test]
fn claim_repeated() {
    let v = verifier();
    let exp = NOW + 300;
    assert_eq!(
        rejection(&v, &token(&format!(r#"{{"exp":{exp},"exp":{exp}}}"#))),
        claim("exp", ClaimProblem::Repeated)
    );
    // The second copy is the one an attacker would want read: any repeat
    // is refused, whatever its value, even when spelt with an escape.
    assert_eq!(
        rejection(
            &v,
            &token(&format!(r#"{{"exp":{exp},"e\u0078p":9999999999}}"#))
        ),
        claim("exp", ClaimProblem::Repeated)
    );
    for name in STRING_CLAIMS.into_iter().chain(["aud"]) {
        let payload = payload_with(&format!(r#""{name}":"a","{name}":"b""#));
        assert_eq!(
            rejection(&v, &token(&payload)),
            claim(name, ClaimProblem::Repeated),
            "{name}"
        );
    }
    for name in ["iat", "nbf"] {
        let payload = payload_with(&format!(r#""{name}":{NOW},"{name}":{NOW}"#));
        assert_eq!(
            rejection(&v, &token(&payload)),
            claim(name, ClaimProblem::Repeated),
            "{name}"
        );
    }
}

#[test]
fn unknown_claims_of_any_type_or_repeated_are_allowed() {
    let v = verifier();
    let payload = payload_with(r#""tier":null,"tier":1,"x":{"exp":"no"},"y":[null]"#);
    assert_accepted(&v, &token(&payload));
}

#[test]
fn string_claims_read_back_exactly_escapes_included() {
    // The claims that pass are read back byte for byte: plain strings,
    // JSON escapes, non-ASCII text and an empty string.
    let v = verifier();
    let payload = payload_with(
        r#""did":"plain==","ip":"a\"b\\c\u0041","arc":"caf\u00e9 \ud83d\ude00","sub":"","iss":"x/y\/z","mskid":"ключ""#,
    );
    let claims = v.verify(token(&payload)).expect("valid claims");
    assert_eq!(claims.did(), Some("plain=="));
    assert_eq!(claims.ip(), Some("a\"b\\cA"));
    assert_eq!(claims.arc(), Some("caf\u{e9} \u{1f600}"));
    assert_eq!(claims.sub(), Some(""));
    assert_eq!(claims.iss(), Some("x/y/z"));
    assert_eq!(claims.mskid(), Some("ключ"));
    assert_eq!(claims.pay(), None);
    assert_eq!(claims.exp(), (NOW + 300) as f64);
}

// ---- issuer / audience ----------------------------------------------------

#[test]
fn issuer_rejections() {
    let v = builder()
        .issuer("AccountID.approov.io")
        .build()
        .expect("verifier");
    assert_accepted(&v, &token(&payload_with(r#""iss":"AccountID.approov.io""#)));
    for payload in [
        valid_payload(),
        payload_with(r#""iss":"Another.approov.io""#),
        payload_with(r#""iss":"accountid.approov.io""#),
        payload_with(r#""iss":"""#),
    ] {
        assert_eq!(
            rejection(&v, &token(&payload)),
            Rejection::Issuer,
            "{payload}"
        );
    }
}

#[test]
fn audience_rejections() {
    let v = builder().audience("approov.io").build().expect("verifier");
    for aud in [r#""approov.io""#, r#"["other","approov.io"]"#] {
        assert_accepted(&v, &token(&payload_with(&format!(r#""aud":{aud}"#))));
    }
    for payload in [
        valid_payload(),
        payload_with(r#""aud":"other.io""#),
        payload_with(r#""aud":[]"#),
        payload_with(r#""aud":["other.io","APPROOV.IO"]"#),
    ] {
        assert_eq!(
            rejection(&v, &token(&payload)),
            Rejection::Audience,
            "{payload}"
        );
    }
}

// ---- token binding ----------------------------------------------------------

const SESSION: &str = "Bearer user-session";

fn bound_verifier() -> Verifier {
    builder()
        .token_binding(TokenBinding::new(["Authorization"]).expect("binding"))
        .build()
        .expect("verifier")
}

fn bound_token() -> String {
    let pay = binding_hash([SESSION]);
    token(&payload_with(&format!(r#""pay":"{pay}""#)))
}

fn binding_header(problem: HeaderProblem) -> Rejection {
    Rejection::BindingHeader {
        header: "Authorization".into(),
        problem,
    }
}

#[test]
fn binding_accepts_the_bound_request() {
    let token = bound_token();
    let claims = bound_verifier()
        .verify_request(&request(&token, &[("Authorization", SESSION)]))
        .expect("bound request");
    assert_eq!(claims.pay(), Some(binding_hash([SESSION]).as_str()));
}

#[test]
fn binding_header_missing_repeated_or_empty() {
    let v = bound_verifier();
    let token = bound_token();
    let cases = [
        (request(&token, &[]), HeaderProblem::Missing),
        (
            request(
                &token,
                &[("Authorization", SESSION), ("Authorization", SESSION)],
            ),
            HeaderProblem::Repeated,
        ),
        (
            request(&token, &[("authorization", SESSION), ("AUTHORIZATION", "")]),
            HeaderProblem::Repeated,
        ),
        (
            request(&token, &[("Authorization", "")]),
            HeaderProblem::Empty,
        ),
    ];
    for (headers, problem) in cases {
        assert_eq!(
            request_rejection(&v, &headers),
            binding_header(problem),
            "{problem:?}"
        );
    }
}

#[test]
fn binding_missing_when_the_token_has_no_pay() {
    let v = bound_verifier();
    let token = valid_token();
    // Reported as binding_missing whether or not the bound header is there.
    for extra in [&[("Authorization", SESSION)][..], &[]] {
        assert_eq!(
            request_rejection(&v, &request(&token, extra)),
            Rejection::BindingMissing
        );
    }
}

#[test]
fn binding_mismatch() {
    let v = bound_verifier();
    let token = bound_token();
    for value in [
        "Bearer another-session",
        "bearer user-session",
        "Bearer user-session ",
    ] {
        assert_eq!(
            request_rejection(&v, &request(&token, &[("Authorization", value)])),
            Rejection::Binding,
            "{value:?}"
        );
    }
    // A pay that is not even a hash.
    for pay in ["", "x", "not base64!", &binding_hash([SESSION])[..43]] {
        let token = common::token(&payload_with(&format!(r#""pay":"{pay}""#)));
        assert_eq!(
            request_rejection(&v, &request(&token, &[("Authorization", SESSION)])),
            Rejection::Binding,
            "pay {pay:?}"
        );
    }
}

#[test]
fn binding_is_not_checked_by_verify_alone() {
    // `verify` has no request headers: it documents that binding needs
    // `verify_request`, so a bound token with a wrong pay passes it.
    let v = bound_verifier();
    let token = token(&payload_with(r#""pay":"wrong""#));
    assert!(v.verify(&token).is_ok());
}

#[test]
fn every_kind_has_its_stable_name() {
    let cases = [
        (Rejection::Missing, "missing"),
        (Rejection::Multiple, "multiple"),
        (Rejection::TooLong { max: 1 }, "too_long"),
        (malformed(TokenPart::Token), "malformed"),
        (Rejection::Algorithm(AlgorithmProblem::None), "algorithm"),
        (Rejection::Crit, "crit"),
        (Rejection::UnknownKey, "unknown_key"),
        (Rejection::Signature, "signature"),
        (Rejection::Expired, "expired"),
        (Rejection::NotYetValid, "not_yet_valid"),
        (claim("exp", ClaimProblem::Missing), "claim"),
        (Rejection::Issuer, "issuer"),
        (Rejection::Audience, "audience"),
        (binding_header(HeaderProblem::Empty), "binding_header"),
        (Rejection::BindingMissing, "binding_missing"),
        (Rejection::Binding, "binding"),
        (Rejection::Scheme(SchemeProblem::Other), "scheme"),
        (Rejection::SdkStatus(SdkStatus::NoNetwork), "sdk_status"),
        (Rejection::KeysUnavailable, "keys_unavailable"),
    ];
    for (rejection, name) in cases {
        assert_eq!(rejection.kind().as_str(), name);
        assert_eq!(rejection.kind().to_string(), name);
    }
}

// ---- sdk_status: the SDK's fetch status in place of a token -----------------

#[test]
fn sdk_status_every_name_the_sdk_sends() {
    let v = verifier();
    for status in SdkStatus::KNOWN {
        let name = status.as_str();
        let r = rejection(&v, name);
        assert_eq!(r, Rejection::SdkStatus(status), "{name}");
        assert_eq!(r.kind(), RejectionKind::SdkStatus, "{name}");
        assert_eq!(r.kind().as_str(), "sdk_status");
        assert_eq!(r.sdk_status(), Some(status));
        assert_eq!(r.status(), 401, "answered like any other refusal");
        assert!(r.to_string().contains(name), "{r}");
    }
    for (name, status) in [
        ("NO_NETWORK", SdkStatus::NoNetwork),
        ("POOR_NETWORK", SdkStatus::PoorNetwork),
        ("MITM_DETECTED", SdkStatus::MitmDetected),
        ("NO_APPROOV_SERVICE", SdkStatus::NoApproovService),
        ("UNKNOWN_URL", SdkStatus::UnknownUrl),
        ("UNPROTECTED_URL", SdkStatus::UnprotectedUrl),
    ] {
        assert_eq!(rejection(&v, name), Rejection::SdkStatus(status), "{name}");
    }
}

#[test]
fn sdk_status_other_for_an_unknown_word_of_the_shape() {
    let v = verifier();
    let longest = "Q".repeat(SdkStatus::MAX_LEN);
    for value in ["NOT_A_STATUS", "NO_NETWORK_", "X", "NETWORK_GONE", &longest] {
        let r = rejection(&v, value);
        assert_eq!(r, Rejection::SdkStatus(SdkStatus::Other), "{value}");
        assert_eq!(r.sdk_status().map(SdkStatus::as_str), Some("other"));
        assert!(
            !r.to_string().contains(value),
            "never the client's value: {r}"
        );
    }
}

#[test]
fn sdk_status_not_for_other_shapes_which_stay_malformed() {
    let v = verifier();
    let capped = "N".repeat(SdkStatus::MAX_LEN + 1);
    for value in [
        "no_network",
        "No_Network",
        "_NO_NETWORK",
        "NO-NETWORK",
        "NO_NETWORK2",
        "NO_NETWORK.",
        "NO.NETWORK.X",
        capped.as_str(),
    ] {
        let r = rejection(&v, value);
        assert_ne!(r.kind(), RejectionKind::SdkStatus, "{value}");
        assert!(matches!(r, Rejection::Malformed { .. }), "{value}: {r:?}");
    }
    // A space is not visible ASCII: refused before any of this.
    assert_eq!(
        request_rejection(&v, &request("NO NETWORK", &[])),
        malformed(TokenPart::Token)
    );
}

#[test]
fn sdk_status_after_a_token_scheme() {
    let v = verifier()
        .with_token_header("Authorization")
        .expect("a valid header name")
        .with_token_scheme(Some("Bearer"))
        .expect("a valid scheme");
    let headers = [("Authorization", "Bearer MITM_DETECTED")];
    assert_eq!(
        request_rejection(&v, &headers),
        Rejection::SdkStatus(SdkStatus::MitmDetected)
    );
}
