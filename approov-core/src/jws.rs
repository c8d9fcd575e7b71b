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
    let header = decode(header_b64, &mut header_buf).ok_or(malformed(TokenPart::Header))?;
    // RFC 7515 §4: the header is a JSON object. serde's derived
    // `Deserialize` would also read the fields from a JSON array, in order.
    if header.trim_ascii_start().first() != Some(&b'{') {
        return Err(malformed(TokenPart::Header));
    }
    let header: Header<'_> =
        serde_json::from_slice(header).map_err(|_| malformed(TokenPart::Header))?;
    if header.crit.is_some() {
        return Err(Rejection::Crit);
    }
    let alg = match header
        .alg
        .as_ref()
        .map(|a| Algorithm::parse_token_alg(&a.0))
    {
        None => return Err(Rejection::Algorithm(AlgorithmProblem::Missing)),
        Some(TokenAlg::None) => return Err(Rejection::Algorithm(AlgorithmProblem::None)),
        Some(TokenAlg::Unsupported) => {
            return Err(Rejection::Algorithm(AlgorithmProblem::Unsupported));
        }
        Some(TokenAlg::Known(alg)) if algorithms & alg.bit() == 0 => {
            return Err(Rejection::Algorithm(AlgorithmProblem::NotConfigured(alg)));
        }
        Some(TokenAlg::Known(alg)) => alg,
    };

    if sig_b64.is_empty() {
        return Err(Rejection::Signature);
    }
    let mut sig_buf = [0u8; SIG_BUF];
    let sig = decode(sig_b64, &mut sig_buf).ok_or(malformed(TokenPart::Signature))?;
    let kid = header.kid.as_ref().map(|k| k.0.as_ref());
    keys.verify(alg, kid, signing_input, sig)?;

    // Decoded straight into the heap buffer the claims keep.
    let payload = URL_SAFE_NO_PAD
        .decode(payload_b64)
        .map_err(|_| malformed(TokenPart::Payload))?;
    ApproovClaims::parse(payload)
}

/// Strict base64url without padding into `buf`; `None` when the input is
/// not canonical base64url or does not fit.
fn decode<'b>(input: &[u8], buf: &'b mut [u8]) -> Option<&'b [u8]> {
    let len = URL_SAFE_NO_PAD.decode_slice(input, buf).ok()?;
    Some(&buf[..len])
}
