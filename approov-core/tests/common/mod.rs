//! Shared helpers for the rejection, option, config and redaction tests:
//! hand-made HS256 tokens from raw JSON (so duplicate keys and wrong types
//! can be expressed exactly), a fixed clock, and header lists.
//!
//! Tokens are signed here with `ring` and encoded with `base64`, both
//! already dependencies of approov-core, so these tests need no `mint`
//! feature and sign bytes the verifier never produced itself. That is also
//! why this crate does not use the workspace's shared fixtures
//! (`approov_conformance::fixtures`): as a dev-dependency it would turn on
//! `mint` for every test build of the core, and the core's tests without
//! features would test nothing different. [`NOW`] is the same instant.

// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use approov_core::{ManualClock, Verifier, VerifierBuilder};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::hmac;

/// The raw account secret. ASCII on purpose, so a leak of the raw bytes is
/// as visible in text output as a leak of its base64.
pub const SECRET_RAW: &[u8] = b"Raw-Account-Secret-0123456789xyz";

/// Another secret, for "signed with the wrong key" cases.
pub const OTHER_SECRET_RAW: &[u8] = b"Some-Other-Secret-9876543210abcd";

/// The fixed "now" of every verifier built by [`builder`].
pub const NOW: u64 = 1_700_000_000;

/// The default JOSE header of an Approov token.
pub const HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

/// [`SECRET_RAW`] in standard padded base64, as `APPROOV_BASE64_SECRET` holds it.
pub fn secret_b64() -> String {
    STANDARD.encode(SECRET_RAW)
}

/// [`OTHER_SECRET_RAW`] in standard padded base64.
pub fn other_secret_b64() -> String {
    STANDARD.encode(OTHER_SECRET_RAW)
}

/// Unpadded base64url, as JWS segments are encoded.
pub fn b64url(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// HMAC-SHA256 of `input` with `secret`, base64url.
pub fn mac(input: &str, secret: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    b64url(hmac::sign(&key, input.as_bytes()))
}

/// A compact JWS over already-encoded segments, signed with `secret`.
pub fn sign_segments(header_b64: &str, payload_b64: &str, secret: &[u8]) -> String {
    let input = format!("{header_b64}.{payload_b64}");
    let sig = mac(&input, secret);
    format!("{input}.{sig}")
}

/// A compact JWS of the raw `header` and `payload` texts, signed with `secret`.
pub fn sign_raw(header: &str, payload: impl AsRef<[u8]>, secret: &[u8]) -> String {
    sign_segments(&b64url(header), &b64url(payload), secret)
}

/// A token with the default header and `payload`, signed with [`SECRET_RAW`].
pub fn token(payload: &str) -> String {
    sign_raw(HEADER, payload, SECRET_RAW)
}

/// A token with `header` and a valid payload, signed with [`SECRET_RAW`].
pub fn token_with_header(header: &str) -> String {
    sign_raw(header, valid_payload(), SECRET_RAW)
}

/// A payload that verifies at [`NOW`]: `exp` five minutes later.
pub fn valid_payload() -> String {
    format!(
        r#"{{"exp":{},"ip":"1.2.3.4","did":"ExampleApproovTokenDID=="}}"#,
        NOW + 300
    )
}

/// A token that verifies with [`verifier`].
pub fn valid_token() -> String {
    token(&valid_payload())
}

/// A payload valid at [`NOW`] with one more member, given as raw JSON text
/// (`"name":value`), inserted after `exp`.
pub fn payload_with(member: &str) -> String {
    format!(r#"{{"exp":{},{member}}}"#, NOW + 300)
}

/// A builder with [`SECRET_RAW`] and a clock stopped at [`NOW`].
pub fn builder() -> VerifierBuilder {
    Verifier::builder()
        .secret_base64(&secret_b64())
        .clock(ManualClock::at_unix(NOW))
}

/// A builder with [`SECRET_RAW`] and the given clock.
pub fn builder_with_clock(clock: &ManualClock) -> VerifierBuilder {
    Verifier::builder()
        .secret_base64(&secret_b64())
        .clock(clock.clone())
}

/// The default verifier of these tests.
pub fn verifier() -> Verifier {
    builder().build().expect("the test verifier builds")
}

/// Request headers carrying `token` in `Approov-Token`, plus `extra`.
pub fn request<'a>(token: &'a str, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut headers = vec![("Approov-Token", token)];
    headers.extend_from_slice(extra);
    headers
}

/// `token` with one bit of its decoded signature flipped, re-encoded
/// canonically (so the result is still well-formed base64url).
pub fn flip_signature_bit(token: &str) -> String {
    let (input, sig) = token.rsplit_once('.').expect("a compact JWS");
    let mut bytes = URL_SAFE_NO_PAD.decode(sig).expect("base64url signature");
    bytes[0] ^= 0x01;
    format!("{input}.{}", b64url(bytes))
}

/// A valid token exactly `len` bytes long, padded with an unknown claim
/// (and, when base64 lengths demand it, a longer `typ` in the header).
pub fn valid_token_of_len(len: usize) -> String {
    let b64_len = |bytes: usize| (bytes * 4).div_ceil(3);
    let payload = |fill: usize| format!(r#"{{"exp":{},"fill":"{}"}}"#, NOW + 300, "f".repeat(fill));
    for typ_pad in 0..3 {
        let header = format!(r#"{{"alg":"HS256","typ":"JWT{}"}}"#, "x".repeat(typ_pad));
        // header "." payload "." 43-character HMAC-SHA256 signature
        let fixed = b64_len(header.len()) + 1 + 1 + 43;
        for fill in 0..len {
            let total = fixed + b64_len(payload(fill).len());
            if total == len {
                let token = sign_raw(&header, payload(fill), SECRET_RAW);
                assert_eq!(token.len(), len, "length arithmetic");
                return token;
            }
            if total > len {
                break;
            }
        }
    }
    panic!("no token of {len} bytes");
}
