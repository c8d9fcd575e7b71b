//! The details carried by message-signing rejections: which signature, and
//! what was wrong with it. Fixed text only, plus component names that are
//! printed only when they are short and made of safe characters.

use std::fmt;

/// Which of the two Approov message signatures a rejection is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SignatureLabel {
    /// `install`: ECDSA P-256 with the device's key, whose public half is the
    /// token's `ipk` claim.
    Install,
    /// `account`: HMAC-SHA256 with the account message-signing secret named
    /// by the token's `mskid` claim.
    Account,
}

impl SignatureLabel {
    /// The label as it appears in `Signature-Input` and `Signature`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Install => "install",
            Self::Account => "account",
        }
    }

    /// The RFC 9421 algorithm name this label's signature must use.
    pub const fn algorithm(self) -> &'static str {
        match self {
            Self::Install => "ecdsa-p256-sha256",
            Self::Account => "hmac-sha256",
        }
    }
}

impl fmt::Display for SignatureLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A covered component's identifier, as the request wrote it, safe to log.
///
/// The identifier comes from the client, so it is shown only when it is at
/// most 64 characters of `A-Z a-z 0-9 - _ . @ * ; = "`; anything else is
/// shown as `[unprintable component]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ComponentName(Option<Box<str>>);

impl ComponentName {
    const MAX: usize = 64;

    /// Keeps `identifier` only if it is safe to print.
    pub fn new(identifier: &str) -> Self {
        let safe = !identifier.is_empty()
            && identifier.len() <= Self::MAX
            && identifier
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.@*;=\"".contains(&b));
        Self(safe.then(|| identifier.into()))
    }

    /// The identifier, when it was safe to keep.
    pub fn as_str(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

impl fmt::Display for ComponentName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Some(name) => f.write_str(name),
            None => f.write_str("[unprintable component]"),
        }
    }
}

/// Why a message signature is not valid.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SignatureProblem {
    /// `Signature-Input` is not a structured-field dictionary, or the entry
    /// is not an inner list of strings.
    MalformedInput,
    /// The `Signature` entry is neither a byte sequence nor a base64 string.
    MalformedSignature,
    /// `alg` is present and is not this label's algorithm, or not a string.
    Algorithm,
    /// A signature parameter (`created`, `expires`) has the wrong type.
    Parameter,
    /// `created` is required and absent.
    CreatedMissing,
    /// `created` is further in the future than the allowed clock skew.
    CreatedInFuture,
    /// `expires` is before `created`.
    ExpiresBeforeCreated,
    /// A component is listed twice.
    DuplicateComponent(ComponentName),
    /// A covered component is not in the request (an absent header, query
    /// parameter or dictionary key, or no authority).
    ComponentAbsent(ComponentName),
    /// A component the server requires is not covered by the signature.
    NotCovered(ComponentName),
    /// A covered component's value cannot be computed (e.g. a header marked
    /// `sf` that is not a valid structured field, or a repeated `Host`).
    ComponentValue(ComponentName),
    /// The signature does not verify over the signature base.
    Mismatch,
}

impl fmt::Display for SignatureProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MalformedInput => f.write_str("Signature-Input is malformed"),
            Self::MalformedSignature => f.write_str("the Signature value is malformed"),
            Self::Algorithm => f.write_str("alg names another algorithm"),
            Self::Parameter => f.write_str("a signature parameter has the wrong type"),
            Self::CreatedMissing => f.write_str("created is missing"),
            Self::CreatedInFuture => f.write_str("created is in the future"),
            Self::ExpiresBeforeCreated => f.write_str("expires is before created"),
            Self::DuplicateComponent(c) => write!(f, "component {c} is listed twice"),
            Self::ComponentAbsent(c) => write!(f, "covered component {c} is not in the request"),
            Self::NotCovered(c) => write!(f, "required component {c} is not covered"),
            Self::ComponentValue(c) => write!(f, "the value of component {c} cannot be computed"),
            Self::Mismatch => f.write_str("it does not verify"),
        }
    }
}

/// Which message-signing limit a request went beyond
/// ([`MessageSigningBuilder`](super::MessageSigningBuilder) sets them). The
/// limits are checked before any structured field is parsed further or any
/// signature base is built, so a refusal costs little whatever the size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SignatureLimit {
    /// The `Signature-Input` or `Signature` field (all its lines together)
    /// is longer than this many bytes.
    FieldTooLong {
        /// The field's name.
        field: &'static str,
        /// The configured maximum.
        max: usize,
    },
    /// `Signature-Input` or `Signature` has more members than this.
    TooManySignatures {
        /// The configured maximum.
        max: usize,
    },
    /// A signature covers more components than this.
    TooManyComponents {
        /// The configured maximum.
        max: usize,
    },
}

impl fmt::Display for SignatureLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::FieldTooLong { field, max } => write!(f, "{field} is longer than {max} bytes"),
            Self::TooManySignatures { max } => write!(f, "more than {max} signatures"),
            Self::TooManyComponents { max } => write!(f, "more than {max} covered components"),
        }
    }
}

/// Why the key for a message signature cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyProblem {
    /// The token's `ipk` claim is not base64.
    IpkNotBase64,
    /// The token's `ipk` claim is not a DER SubjectPublicKeyInfo.
    IpkNotSpki,
    /// The token's `ipk` claim is a key, but not an uncompressed P-256 point.
    IpkNotP256,
    /// No configured account message-signing secret has the token's `mskid`.
    UnknownMskid,
}

impl fmt::Display for KeyProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::IpkNotBase64 => "the token's ipk claim is not base64",
            Self::IpkNotSpki => "the token's ipk claim is not a SubjectPublicKeyInfo",
            Self::IpkNotP256 => "the token's ipk claim is not a P-256 public key",
            Self::UnknownMskid => "no account message-signing secret matches the token's mskid",
        })
    }
}

/// Why a `Content-Digest` header could not be checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DigestProblem {
    /// The header is not a structured-field dictionary of byte sequences.
    Malformed,
    /// The header names neither `sha-256` nor `sha-512`.
    UnsupportedAlgorithm,
    /// The header must be checked but [`Gate::check_message`](crate::Gate::check_message)
    /// was given no body (use the two steps, which ask for it).
    BodyNotBuffered,
}

impl fmt::Display for DigestProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Malformed => "the header is malformed",
            Self::UnsupportedAlgorithm => "it names neither sha-256 nor sha-512",
            Self::BodyNotBuffered => "the body was not buffered",
        })
    }
}
