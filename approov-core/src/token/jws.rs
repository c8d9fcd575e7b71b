//! The compact-JWS hot path: split, decode and check one token.
//!
//! This is the one place where we do not hand the whole job to a JWT crate.
//! `jsonwebtoken::decode` spends most of its time on work an Approov token
//! does not need (owned header parsing, a generic `Validation`, a fresh HMAC
//! key and heap buffers per call, the claims parsed twice) and cannot read a
//! fractional `exp`. Here the common HS256 headers are recognised by their
//! bytes (any other is base64url-decoded into a stack buffer and parsed),
//! the signature is decoded by `base64-simd` (into a stack buffer, but for
//! RSA's), the MAC is ring's pre-keyed HMAC-SHA256 with its constant-time
//! compare, and the payload is decoded once into the heap buffer the claims keep, read by
//! `serde_json` without copying (string claims are ranges of it); see
//! `BENCHMARKS.md` for the measured difference. The order of checks is
//! deliberate: nothing of the payload is decoded or parsed before its
//! signature has verified.
//!
//! Fuzzed by the proptest suite in `tests/proptest.rs`.

use base64_simd::{AsOut as _, URL_SAFE_NO_PAD};
use serde::Deserialize;

use super::claims::{ApproovClaims, StrictStr};
use super::sdk_status::SdkStatus;
use crate::error::{AlgorithmProblem, Rejection, TokenPart};
use crate::keys::algorithm::{Algorithm, TokenAlg};
use crate::keys::set::KeySet;

/// Any header we accept fits here.
const HEADER_BUF: usize = 512;
/// The longest signature of any algorithm we support: RSA with an 8192-bit
/// key.
const MAX_SIG: usize = 1024;

/// The headers Approov's HS256 tokens carry, base64url-encoded as they
/// appear in tokens: `{"alg":"HS256","typ":"JWT"}` (the SDK and most
/// quickstarts), `{"typ":"JWT","alg":"HS256"}` (some backends' examples) and
/// `{"alg":"HS256"}`. An exact match means exactly that JSON, so decoding and
/// parsing it again on every request would only cost time (about a tenth of
/// a verify); any other header takes the general path below.
const KNOWN_HS256_HEADERS: [&[u8]; 3] = [
    b"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9",
    b"eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9",
    b"eyJhbGciOiJIUzI1NiJ9",
];

#[derive(Deserialize)]
struct Header<'a> {
    #[serde(borrow, default, deserialize_with = "some")]
    alg: Option<StrictStr<'a>>,
    #[serde(borrow, default, deserialize_with = "some")]
    kid: Option<StrictStr<'a>>,
    /// Any `crit` at all is refused: we implement no extension.
    #[serde(default, deserialize_with = "some")]
    crit: Option<serde::de::IgnoredAny>,
}

/// `Option<T>` that refuses `null` instead of reading it as absent.
fn some<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

/// Verifies one compact JWS and returns its claims. Time and issuer rules
/// are the caller's.
pub(crate) fn verify(
    keys: &KeySet,
    algorithms: u16,
    token: &[u8],
) -> Result<ApproovClaims, Rejection> {
    let malformed = |part| Rejection::malformed(part);
    // Header and signature are short, so scan for their dots from each end.
    let (Some(first), Some(second)) = (
        token.iter().position(|b| *b == b'.'),
        token.iter().rposition(|b| *b == b'.'),
    ) else {
        // No dot: not a token. The Approov SDK sends its fetch status
        // (`NO_NETWORK`, …) in its place when it could not get one; that
        // is told apart here, on the rejection path only.
        return Err(
            SdkStatus::classify(token).map_or(malformed(TokenPart::Token), Rejection::SdkStatus)
        );
    };
    if first == second {
        return Err(malformed(TokenPart::Token));
    }
    let header_b64 = &token[..first];
    let payload_b64 = &token[first + 1..second];
    let sig_b64 = &token[second + 1..];
    let signing_input = &token[..second];

    // base64url has no `.`, so a payload with one means more than three
    // segments. Whatever else is wrong, that is what a rejection reports;
    // scanning the long payload only on the failure paths keeps the scan
    // (about 3% of a verify) off the path of valid tokens.
    let segments = |rejection| {
        if payload_b64.contains(&b'.') {
            malformed(TokenPart::Token)
        } else {
            rejection
        }
    };
    check_header_and_signature(keys, algorithms, header_b64, signing_input, sig_b64)
        .map_err(segments)?;
    // Decoded straight into the heap buffer the claims keep, and only now:
    // nothing of the payload is touched before its signature verifies.
    let payload = URL_SAFE_NO_PAD
        .decode_to_vec(payload_b64)
        .map_err(|_| segments(malformed(TokenPart::Payload)))?;
    ApproovClaims::parse(payload)
}

/// Reads the header (or recognises a known one), checks its algorithm is
/// configured, and verifies the signature with the key it selects.
fn check_header_and_signature(
    keys: &KeySet,
    algorithms: u16,
    header_b64: &[u8],
    signing_input: &[u8],
    sig_b64: &[u8],
) -> Result<(), Rejection> {
    if KNOWN_HS256_HEADERS.contains(&header_b64) {
        allowed(algorithms, Algorithm::HS256)?;
        check_signature(keys, Algorithm::HS256, None, signing_input, sig_b64)
    } else {
        // Only here is a header buffer needed: zeroing it is not free.
        let mut header_buf = [0u8; HEADER_BUF];
        let header = parse_header(header_b64, &mut header_buf)?;
        let alg = header_alg(&header)?;
        allowed(algorithms, alg)?;
        let kid = header.kid.as_ref().map(|k| k.0.as_ref());
        check_signature(keys, alg, kid, signing_input, sig_b64)
    }
}

/// Refuses an algorithm the verifier is not configured for.
fn allowed(algorithms: u16, alg: Algorithm) -> Result<(), Rejection> {
    if algorithms & alg.bit() == 0 {
        return Err(Rejection::Algorithm(AlgorithmProblem::NotConfigured(alg)));
    }
    Ok(())
}

/// Decodes the signature and verifies it over the signing input.
fn check_signature(
    keys: &KeySet,
    alg: Algorithm,
    kid: Option<&str>,
    signing_input: &[u8],
    sig_b64: &[u8],
) -> Result<(), Rejection> {
    if sig_b64.is_empty() {
        return Err(Rejection::Signature);
    }
    let malformed = || Rejection::malformed(TokenPart::Signature);
    // HMAC and ECDSA signatures fit 96 bytes (128 base64url characters) on
    // the stack; only RSA's (up to 1024 bytes for 8192-bit keys) take the
    // heap, which costs nothing next to an RSA verify. `max_len` bounds it.
    if sig_b64.len() <= 128 {
        let mut buf = [0u8; 96];
        let sig = decode(sig_b64, &mut buf).ok_or_else(malformed)?;
        keys.verify(alg, kid, signing_input, sig)
    } else {
        // Room for the decoder's upper bound on 1024 bytes (1026); a longer
        // signature than 1024 bytes no supported key could have made.
        let mut buf = vec![0u8; MAX_SIG + 2];
        let sig = decode(sig_b64, &mut buf)
            .filter(|sig| sig.len() <= MAX_SIG)
            .ok_or_else(malformed)?;
        keys.verify(alg, kid, signing_input, sig)
    }
}

/// Decodes and parses a header that is not one of the known ones.
fn parse_header<'b>(header_b64: &[u8], buf: &'b mut [u8]) -> Result<Header<'b>, Rejection> {
    let malformed = Rejection::malformed(TokenPart::Header);
    let header = decode(header_b64, buf).ok_or(malformed.clone())?;
    // RFC 7515 §4: the header is a JSON object. serde's derived
    // `Deserialize` would also read the fields from a JSON array, in order.
    if header.trim_ascii_start().first() != Some(&b'{') {
        return Err(malformed);
    }
    let header: Header<'_> = serde_json::from_slice(header).map_err(|_| malformed)?;
    if header.crit.is_some() {
        return Err(Rejection::Crit);
    }
    Ok(header)
}

/// The algorithm a parsed header names, if it is one we implement.
fn header_alg(header: &Header<'_>) -> Result<Algorithm, Rejection> {
    match header
        .alg
        .as_ref()
        .map(|a| Algorithm::parse_token_alg(&a.0))
    {
        None => Err(Rejection::Algorithm(AlgorithmProblem::Missing)),
        Some(TokenAlg::None) => Err(Rejection::Algorithm(AlgorithmProblem::None)),
        Some(TokenAlg::Unsupported) => Err(Rejection::Algorithm(AlgorithmProblem::Unsupported)),
        Some(TokenAlg::Known(alg)) => Ok(alg),
    }
}

/// Strict base64url without padding into `buf`; `None` when the input is
/// not canonical base64url or does not fit.
fn decode<'b>(input: &[u8], buf: &'b mut [u8]) -> Option<&'b [u8]> {
    // `decode` panics on a short buffer, so check the bound first.
    if URL_SAFE_NO_PAD.estimated_decoded_length(input.len()) > buf.len() {
        return None;
    }
    URL_SAFE_NO_PAD
        .decode(input, buf.as_out())
        .ok()
        .map(|s| &*s)
}
