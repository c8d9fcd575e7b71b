//! The compact-JWS hot path: split, decode and check one token.
//!
//! This is the one place where we do not hand the whole job to a JWT crate.
//! `jsonwebtoken::decode` spends most of its time on work an Approov token
//! does not need (owned header parsing, a generic `Validation`, a fresh HMAC
//! key and heap buffers per call, the claims parsed twice) and cannot read a
//! fractional `exp`. Here the header and signature are base64url-decoded
//! into stack buffers by the `base64` crate, the MAC is ring's pre-keyed
//! HMAC-SHA256 with its constant-time compare, and the payload is decoded
//! once into the heap buffer the claims keep, read by `serde_json` without
//! copying (string claims are ranges of it); see `BENCHMARKS.md` for the
//! measured difference. The order of checks is deliberate: nothing of the
//! payload is parsed before its signature has verified.
//!
//! Fuzzed by the proptest suite in `tests/proptest.rs`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;

use crate::algorithm::TokenAlg;
use crate::claims::StrictStr;
use crate::keys::KeySet;
use crate::{Algorithm, AlgorithmProblem, ApproovClaims, Rejection, TokenPart};

/// Header and signature fit here for every algorithm we support (an
/// 8192-bit RSA signature is 1024 bytes).
const SIG_BUF: usize = 1024;
const HEADER_BUF: usize = 512;

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
    // Header and signature are short, so scan for their dots from each end;
    // the long payload between them is checked with `contains` (memchr).
    let (Some(first), Some(second)) = (
        token.iter().position(|b| *b == b'.'),
        token.iter().rposition(|b| *b == b'.'),
    ) else {
        return Err(malformed(TokenPart::Token));
    };
    if first == second || token[first + 1..second].contains(&b'.') {
        return Err(malformed(TokenPart::Token));
    }
    let header_b64 = &token[..first];
    let payload_b64 = &token[first + 1..second];
    let sig_b64 = &token[second + 1..];
    let signing_input = &token[..second];

    let mut header_buf = [0u8; HEADER_BUF];
    let (alg, header) = if KNOWN_HS256_HEADERS.contains(&header_b64) {
        (Algorithm::HS256, None)
    } else {
        let header = parse_header(header_b64, &mut header_buf)?;
        (header_alg(&header)?, Some(header))
    };
    if algorithms & alg.bit() == 0 {
        return Err(Rejection::Algorithm(AlgorithmProblem::NotConfigured(alg)));
    }

    if sig_b64.is_empty() {
        return Err(Rejection::Signature);
    }
    // HMAC and ECDSA signatures fit 96 bytes (128 base64url characters);
    // only RSA needs the large buffer, whose zeroing is not free.
    let mut small = [0u8; 96];
    let mut large = [0u8; SIG_BUF];
    let sig_buf: &mut [u8] = if sig_b64.len() <= 128 {
        &mut small
    } else {
        &mut large
    };
    let sig = decode(sig_b64, sig_buf).ok_or(malformed(TokenPart::Signature))?;
    let kid = header
        .as_ref()
        .and_then(|h| h.kid.as_ref())
        .map(|k| k.0.as_ref());
    keys.verify(alg, kid, signing_input, sig)?;

    // Decoded straight into the heap buffer the claims keep.
    let payload = URL_SAFE_NO_PAD
        .decode(payload_b64)
        .map_err(|_| malformed(TokenPart::Payload))?;
    ApproovClaims::parse(payload)
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
    let len = URL_SAFE_NO_PAD.decode_slice(input, buf).ok()?;
    Some(&buf[..len])
}
