//! `Content-Digest` (RFC 9530): a dictionary of algorithm names to byte
//! sequences, checked against the body the adapter buffered.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ring::digest;
use sfv::{BareItem, ListEntry};
use subtle::ConstantTimeEq as _;

use crate::error::Rejection;
use crate::headers::RequestHeaders;

use super::fields::{FieldError, dictionary};
use super::problem::DigestProblem;

/// The header's name, lower case.
pub const CONTENT_DIGEST: &str = "content-digest";

/// A digest algorithm of the RFC 9530 registry that this crate implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DigestAlgorithm {
    /// `sha-256`.
    Sha256,
    /// `sha-512`.
    Sha512,
}

impl DigestAlgorithm {
    /// The registry name, e.g. `sha-256`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Sha256 => "sha-256",
            Self::Sha512 => "sha-512",
        }
    }

    pub(crate) fn from_name(name: &str) -> Option<Self> {
        match name {
            "sha-256" => Some(Self::Sha256),
            "sha-512" => Some(Self::Sha512),
            _ => None,
        }
    }

    fn digest(self, body: &[u8]) -> digest::Digest {
        let alg = match self {
            Self::Sha256 => &digest::SHA256,
            Self::Sha512 => &digest::SHA512,
        };
        digest::digest(alg, body)
    }
}

/// The `Content-Digest` header value for `body`, e.g.
/// `sha-256=:GxReGBeVF8yUIjhFWTQcu0WFWAc+ynqbj1vWOA9SRaE=:`.
///
/// ```
/// use approov_core::signing::{DigestAlgorithm, content_digest};
///
/// assert_eq!(
///     content_digest(DigestAlgorithm::Sha256, b"My test message body"),
///     "sha-256=:GxReGBeVF8yUIjhFWTQcu0WFWAc+ynqbj1vWOA9SRaE=:",
/// );
/// ```
pub fn content_digest(alg: DigestAlgorithm, body: &[u8]) -> String {
    format!(
        "{}=:{}:",
        alg.as_str(),
        STANDARD.encode(alg.digest(body).as_ref())
    )
}

/// Whether the request has a `Content-Digest` header.
pub(crate) fn present<H: RequestHeaders + ?Sized>(headers: &H) -> bool {
    headers.header_values(CONTENT_DIGEST).next().is_some()
}

/// Whether the request announces a body: a `Content-Length` other than 0
/// (or one that is not a number, which the server refuses anyway), or a
/// `Transfer-Encoding`.
pub(crate) fn has_body<H: RequestHeaders + ?Sized>(headers: &H) -> bool {
    headers.header_values("transfer-encoding").next().is_some()
        || headers
            .header_values("content-length")
            .any(|v| v.is_empty() || v.iter().any(|&b| b != b'0'))
}

/// The digests a request's `Content-Digest` promises, read from the head
/// before the body: the body is then read only for a request whose token
/// and signatures passed, and checked with [`Expected::check`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Expected(Vec<(DigestAlgorithm, Vec<u8>)>);

impl Expected {
    /// Reads the header: `None` when it is absent, or names no supported
    /// algorithm and `require_supported` is off (unknown algorithms are
    /// skipped, RFC 9530 §2), so there is nothing to check the body
    /// against. A header longer than `max_len` is malformed.
    pub(crate) fn read<H: RequestHeaders + ?Sized>(
        headers: &H,
        max_len: usize,
        require_supported: bool,
    ) -> Result<Option<Self>, Rejection> {
        let invalid = |p| Rejection::DigestInvalid(p);
        let dict = match dictionary(headers, CONTENT_DIGEST, max_len) {
            Ok(Some(dict)) => dict,
            Ok(None) => return Ok(None),
            Err(FieldError::TooLong | FieldError::Malformed) => {
                return Err(invalid(DigestProblem::Malformed));
            }
        };
        let mut digests = Vec::new();
        for (name, entry) in &dict {
            let Some(alg) = DigestAlgorithm::from_name(name.as_str()) else {
                continue;
            };
            let ListEntry::Item(item) = entry else {
                return Err(invalid(DigestProblem::Malformed));
            };
            let BareItem::ByteSequence(expected) = &item.bare_item else {
                return Err(invalid(DigestProblem::Malformed));
            };
            digests.push((alg, expected.clone()));
        }
        match digests.is_empty() {
            false => Ok(Some(Self(digests))),
            true if require_supported => Err(invalid(DigestProblem::UnsupportedAlgorithm)),
            true => Ok(None),
        }
    }

    /// Checks every promised digest against `body`, in constant time.
    pub(crate) fn check(&self, body: &[u8]) -> Result<(), Rejection> {
        for (alg, expected) in &self.0 {
            if !bool::from(alg.digest(body).as_ref().ct_eq(expected)) {
                return Err(Rejection::DigestMismatch);
            }
        }
        Ok(())
    }
}
