//! Why a request was turned away, and why a configuration was refused.
//!
//! Neither type ever holds the token, a claim value or a secret: every
//! field is either fixed text chosen here or a name from the server's own
//! configuration (a header name, an environment variable name).

use std::fmt;

use crate::signing::{
    ComponentName, DigestProblem, KeyProblem, SignatureLabel, SignatureLimit, SignatureProblem,
};
use crate::token::sdk_status::SdkStatus;

/// A stable, machine-readable name for a [`Rejection`], for logs and metrics.
///
/// The strings returned by [`RejectionKind::as_str`] are part of the public
/// contract: they do not change between patch or minor releases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum RejectionKind {
    /// `missing`: the request carries no token (no header, or an empty one).
    Missing,
    /// `multiple`: the token header appears more than once.
    Multiple,
    /// `too_long`: the token is longer than the configured maximum.
    TooLong,
    /// `malformed`: not a compact JWS: wrong segments, bad base64url, bad
    /// JSON, bytes outside visible ASCII.
    Malformed,
    /// `algorithm`: `alg` missing, `none`, unknown, or not configured.
    Algorithm,
    /// `crit`: the header has a `crit` parameter (RFC 7515 §4.1.11).
    Crit,
    /// `unknown_key`: no configured key matches the token's `kid`.
    UnknownKey,
    /// `signature`: the signature does not verify.
    Signature,
    /// `expired`: `exp` has passed.
    Expired,
    /// `not_yet_valid`: `nbf` is still in the future.
    NotYetValid,
    /// `claim`: a claim is missing, of the wrong JSON type, or repeated.
    Claim,
    /// `issuer`: `iss` is not one of the configured issuers.
    Issuer,
    /// `audience`: `aud` names none of the configured audiences.
    Audience,
    /// `binding_header`: a bound header is absent, repeated or empty.
    BindingHeader,
    /// `binding_missing`: token binding is required but the token has no `pay`.
    BindingMissing,
    /// `binding`: `pay` does not match the bound headers.
    Binding,
    /// `signature_missing`: a required message signature (RFC 9421) is not
    /// in the request, or the token has no `ipk` when one is always required.
    SignatureMissing,
    /// `signature_invalid`: a message signature is malformed, violates a
    /// parameter rule, or does not verify.
    SignatureInvalid,
    /// `signature_expired`: a message signature is older than the maximum
    /// age, or its `expires` has passed.
    SignatureExpired,
    /// `signature_unsupported`: a message signature covers a component (or
    /// uses a component parameter) this verifier does not implement.
    SignatureUnsupported,
    /// `signature_key`: the token's `ipk` is not a P-256 key, or no account
    /// secret matches its `mskid`.
    SignatureKey,
    /// `signature_limit`: `Signature-Input` or `Signature` is longer, or
    /// names more signatures or components, than the configured limits.
    SignatureLimit,
    /// `digest_mismatch`: `Content-Digest` does not match the body.
    DigestMismatch,
    /// `digest_invalid`: `Content-Digest` is malformed, names no supported
    /// algorithm, or the body was not available to check it.
    DigestInvalid,
    /// `scheme`: a token scheme is configured
    /// ([`VerifierBuilder::token_scheme`](crate::VerifierBuilder::token_scheme),
    /// e.g. `Authorization: Bearer <token>`) and the token header's value
    /// does not start with that scheme, or the scheme is not followed by
    /// exactly one space and one token. (The scheme alone, with no token,
    /// is `missing`.)
    Scheme,
    /// `sdk_status`: in place of a token, the request carries a token fetch
    /// status of the Approov SDK (`NO_NETWORK`, `MITM_DETECTED`, …): the
    /// app could not get a token. See [`SdkStatus`] for which values count;
    /// the status (or `other`) is logged and counted with it.
    SdkStatus,
    /// `keys_unavailable`: the verifier has no usable key at all (a JWKS
    /// URL not fetched yet, started with
    /// `JwksUrl::start_without_keys`, feature `jwks-url`),
    /// so the token cannot be judged. Answered `503 Service Unavailable`
    /// with `Retry-After` ([`Rejection::status`]), not 401.
    KeysUnavailable,
}

impl RejectionKind {
    /// The kind as a short `snake_case` string, e.g. `"expired"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Missing => "missing",
            Self::Multiple => "multiple",
            Self::TooLong => "too_long",
            Self::Malformed => "malformed",
            Self::Algorithm => "algorithm",
            Self::Crit => "crit",
            Self::UnknownKey => "unknown_key",
            Self::Signature => "signature",
            Self::Expired => "expired",
            Self::NotYetValid => "not_yet_valid",
            Self::Claim => "claim",
            Self::Issuer => "issuer",
            Self::Audience => "audience",
            Self::BindingHeader => "binding_header",
            Self::BindingMissing => "binding_missing",
            Self::Binding => "binding",
            Self::SignatureMissing => "signature_missing",
            Self::SignatureInvalid => "signature_invalid",
            Self::SignatureExpired => "signature_expired",
            Self::SignatureUnsupported => "signature_unsupported",
            Self::SignatureKey => "signature_key",
            Self::SignatureLimit => "signature_limit",
            Self::DigestMismatch => "digest_mismatch",
            Self::DigestInvalid => "digest_invalid",
            Self::Scheme => "scheme",
            Self::SdkStatus => "sdk_status",
            Self::KeysUnavailable => "keys_unavailable",
        }
    }
}

impl fmt::Display for RejectionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which part of a compact JWS a structural problem was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenPart {
    /// The whole token (segment count, characters).
    Token,
    /// The protected header.
    Header,
    /// The payload (claims set).
    Payload,
    /// The signature.
    Signature,
}

impl fmt::Display for TokenPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Token => "token",
            Self::Header => "header",
            Self::Payload => "payload",
            Self::Signature => "signature",
        })
    }
}

/// What was wrong with the `alg` header parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AlgorithmProblem {
    /// The header has no `alg`.
    Missing,
    /// `alg` is `none` (an unsecured JWS).
    None,
    /// `alg` names an algorithm this crate does not implement.
    Unsupported,
    /// `alg` is known but no configured key uses it (e.g. HS512 when only an
    /// HS256 secret is configured, or HS256 when only public keys are).
    NotConfigured(crate::keys::algorithm::Algorithm),
}

impl fmt::Display for AlgorithmProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing => f.write_str("the header has no alg"),
            Self::None => f.write_str("alg is none"),
            Self::Unsupported => f.write_str("alg names an unsupported algorithm"),
            Self::NotConfigured(alg) => write!(f, "no configured key uses {alg}"),
        }
    }
}

/// What was wrong with a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ClaimProblem {
    /// A required claim is absent.
    Missing,
    /// The claim has the wrong JSON type (`null` included).
    WrongType,
    /// The claim appears more than once in the payload.
    Repeated,
}

impl fmt::Display for ClaimProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Missing => "is missing",
            Self::WrongType => "has the wrong JSON type",
            Self::Repeated => "appears more than once",
        })
    }
}

/// What was wrong with a bound header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HeaderProblem {
    /// The header is absent.
    Missing,
    /// The header appears more than once.
    Repeated,
    /// The header's value is empty.
    Empty,
}

impl fmt::Display for HeaderProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Missing => "is missing",
            Self::Repeated => "appears more than once",
            Self::Empty => "is empty",
        })
    }
}

/// What was wrong with a token header that must hold `<scheme> <token>`
/// ([`VerifierBuilder::token_scheme`](crate::VerifierBuilder::token_scheme)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SchemeProblem {
    /// The value does not start with the configured scheme: another scheme
    /// (e.g. `Basic`), or none (a bare token).
    Other,
    /// The scheme is not followed by exactly one space and then one token
    /// with no space in it: several spaces, a tab, or more than one token.
    Format,
}

impl fmt::Display for SchemeProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Other => "it does not start with the configured scheme",
            Self::Format => "the scheme is not followed by exactly one space and one token",
        })
    }
}

/// Why a request's Approov token was not accepted.
///
/// Use [`Rejection::kind`] for logs and metrics. The `Display` text is meant
/// for server logs; never send it to the client (the adapters answer `{}`).
/// No variant carries any part of the token, a claim value or a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Rejection {
    /// The request has no token, or an empty one.
    #[error("no Approov token in the request")]
    Missing,
    /// The token header appears more than once.
    #[error("the Approov token header appears more than once")]
    Multiple,
    /// The token is longer than the configured maximum.
    #[error("the Approov token is longer than the maximum of {max} bytes")]
    TooLong {
        /// The configured maximum length in bytes.
        max: usize,
    },
    /// The token is not a well-formed compact JWS.
    #[error("the Approov token is malformed: bad {part}")]
    Malformed {
        /// Where the problem was found.
        part: TokenPart,
    },
    /// The `alg` header parameter is not acceptable.
    #[error("the Approov token's algorithm is not accepted: {0}")]
    Algorithm(AlgorithmProblem),
    /// The header has a `crit` parameter; this verifier understands no
    /// extension, so RFC 7515 §4.1.11 requires a rejection.
    #[error("the Approov token header has a crit parameter")]
    Crit,
    /// No configured key matches the token's `kid` and algorithm.
    #[error("no configured key matches the Approov token's kid")]
    UnknownKey,
    /// The signature does not verify with any candidate key.
    #[error("the Approov token's signature does not verify")]
    Signature,
    /// The token has expired (`exp`, with leeway).
    #[error("the Approov token has expired")]
    Expired,
    /// The token is not valid yet (`nbf`, with leeway).
    #[error("the Approov token is not valid yet")]
    NotYetValid,
    /// A claim is missing, of the wrong type, or repeated.
    #[error("the Approov token's {claim} claim {problem}")]
    Claim {
        /// The claim's name, e.g. `"exp"`.
        claim: &'static str,
        /// What is wrong with it.
        problem: ClaimProblem,
    },
    /// `iss` is absent or not one of the configured issuers.
    #[error("the Approov token's issuer is not accepted")]
    Issuer,
    /// `aud` is absent or names none of the configured audiences.
    #[error("the Approov token's audience is not accepted")]
    Audience,
    /// A header that the token is bound to is absent, repeated or empty.
    #[error("the token binding header {header} {problem}")]
    BindingHeader {
        /// The header's name as configured.
        header: Box<str>,
        /// What is wrong with it.
        problem: HeaderProblem,
    },
    /// Token binding is required but the token has no `pay` claim.
    #[error("token binding is required but the Approov token has no pay claim")]
    BindingMissing,
    /// The `pay` claim does not match the bound headers.
    #[error("the Approov token's pay claim does not match the bound headers")]
    Binding,
    /// A required message signature is absent (no `Signature-Input` or
    /// `Signature` entry with the label), or the policy always requires an
    /// installation signature and the token has no `ipk`.
    #[error("no {label} message signature in the request")]
    SignatureMissing {
        /// Which signature.
        label: SignatureLabel,
    },
    /// A message signature is malformed, breaks a rule, or does not verify.
    #[error("the {label} message signature is not valid: {problem}")]
    SignatureInvalid {
        /// Which signature.
        label: SignatureLabel,
        /// What is wrong with it.
        problem: SignatureProblem,
    },
    /// A message signature is too old, or its `expires` has passed.
    #[error("the {label} message signature has expired")]
    SignatureExpired {
        /// Which signature.
        label: SignatureLabel,
    },
    /// A message signature covers a component this verifier cannot compute.
    #[error("the {label} message signature covers {component}, which is not supported")]
    SignatureUnsupported {
        /// Which signature.
        label: SignatureLabel,
        /// The component identifier (shown only when safe to print).
        component: ComponentName,
    },
    /// The key a message signature needs cannot be used.
    #[error("the {label} message signature cannot be checked: {problem}")]
    SignatureKey {
        /// Which signature.
        label: SignatureLabel,
        /// What is wrong with the key.
        problem: KeyProblem,
    },
    /// The message-signature fields go beyond a configured limit.
    #[error("the message signature fields exceed a limit: {0}")]
    SignatureLimit(SignatureLimit),
    /// `Content-Digest` does not match the body.
    #[error("the Content-Digest header does not match the body")]
    DigestMismatch,
    /// `Content-Digest` cannot be checked.
    #[error("the Content-Digest header cannot be checked: {0}")]
    DigestInvalid(DigestProblem),
    /// The token header does not hold `<scheme> <token>` as configured
    /// ([`VerifierBuilder::token_scheme`](crate::VerifierBuilder::token_scheme)).
    #[error("the Approov token header does not hold the configured scheme and a token: {0}")]
    Scheme(SchemeProblem),
    /// The request carries the Approov SDK's token fetch status instead of
    /// a token: the app could not get one (see [`SdkStatus`]). Only a
    /// known status name is kept; any other value is [`SdkStatus::Other`].
    #[error("the request carries the Approov SDK's token fetch status {0} instead of a token")]
    SdkStatus(SdkStatus),
    /// The verifier has no usable key at all (a JWKS URL whose first fetch
    /// failed, started with
    /// `JwksUrl::start_without_keys`, feature `jwks-url`):
    /// the token cannot be judged until keys arrive. Answered
    /// [`Rejection::status`] 503 with [`Rejection::retry_after`], not 401;
    /// in report-only mode let through like any other rejection. A request
    /// that needs no key to be refused (no token, not a token, `alg: none`)
    /// keeps its own kind.
    #[error("no Approov key is available yet to check the token")]
    KeysUnavailable,
}

impl Rejection {
    /// The stable kind of this rejection.
    pub const fn kind(&self) -> RejectionKind {
        match self {
            Self::Missing => RejectionKind::Missing,
            Self::Multiple => RejectionKind::Multiple,
            Self::TooLong { .. } => RejectionKind::TooLong,
            Self::Malformed { .. } => RejectionKind::Malformed,
            Self::Algorithm(_) => RejectionKind::Algorithm,
            Self::Crit => RejectionKind::Crit,
            Self::UnknownKey => RejectionKind::UnknownKey,
            Self::Signature => RejectionKind::Signature,
            Self::Expired => RejectionKind::Expired,
            Self::NotYetValid => RejectionKind::NotYetValid,
            Self::Claim { .. } => RejectionKind::Claim,
            Self::Issuer => RejectionKind::Issuer,
            Self::Audience => RejectionKind::Audience,
            Self::BindingHeader { .. } => RejectionKind::BindingHeader,
            Self::BindingMissing => RejectionKind::BindingMissing,
            Self::Binding => RejectionKind::Binding,
            Self::SignatureMissing { .. } => RejectionKind::SignatureMissing,
            Self::SignatureInvalid { .. } => RejectionKind::SignatureInvalid,
            Self::SignatureExpired { .. } => RejectionKind::SignatureExpired,
            Self::SignatureUnsupported { .. } => RejectionKind::SignatureUnsupported,
            Self::SignatureKey { .. } => RejectionKind::SignatureKey,
            Self::SignatureLimit(_) => RejectionKind::SignatureLimit,
            Self::DigestMismatch => RejectionKind::DigestMismatch,
            Self::DigestInvalid(_) => RejectionKind::DigestInvalid,
            Self::Scheme(_) => RejectionKind::Scheme,
            Self::SdkStatus(_) => RejectionKind::SdkStatus,
            Self::KeysUnavailable => RejectionKind::KeysUnavailable,
        }
    }

    /// The status the SDK sent in place of a token, for
    /// [`Rejection::SdkStatus`].
    pub const fn sdk_status(&self) -> Option<SdkStatus> {
        match self {
            Self::SdkStatus(status) => Some(*status),
            _ => None,
        }
    }

    /// The HTTP status of the default response:
    /// [`response::STATUS`](crate::response::STATUS) (401), or
    /// [`response::UNAVAILABLE_STATUS`](crate::response::UNAVAILABLE_STATUS)
    /// (503) for [`Rejection::KeysUnavailable`], a request that could not
    /// be judged rather than one refused. Every adapter answers with it.
    ///
    /// ```
    /// use approov_core::Rejection;
    ///
    /// assert_eq!(Rejection::Expired.status(), 401);
    /// assert_eq!(Rejection::KeysUnavailable.status(), 503);
    /// assert_eq!(Rejection::KeysUnavailable.retry_after(), Some("10"));
    /// assert_eq!(Rejection::KeysUnavailable.grpc_status(), "14");
    /// ```
    pub const fn status(&self) -> u16 {
        match self {
            Self::KeysUnavailable => crate::response::UNAVAILABLE_STATUS,
            _ => crate::response::STATUS,
        }
    }

    /// The `Retry-After` header of the default response, in seconds
    /// ([`response::RETRY_AFTER`](crate::response::RETRY_AFTER)); only a
    /// 503 ([`status`](Self::status)) has one.
    pub const fn retry_after(&self) -> Option<&'static str> {
        match self {
            Self::KeysUnavailable => Some(crate::response::RETRY_AFTER),
            _ => None,
        }
    }

    /// The `grpc-status` of the default response to a gRPC request:
    /// UNAUTHENTICATED (`16`), or UNAVAILABLE (`14`) with a 503
    /// [`status`](Self::status), which gRPC clients retry.
    pub const fn grpc_status(&self) -> &'static str {
        match self {
            Self::KeysUnavailable => crate::response::GRPC_STATUS_UNAVAILABLE,
            _ => crate::response::GRPC_STATUS_UNAUTHENTICATED,
        }
    }

    pub(crate) const fn malformed(part: TokenPart) -> Self {
        Self::Malformed { part }
    }
}

/// Why a [`Verifier`](crate::Verifier) (or a [`TokenBinding`](crate::TokenBinding))
/// could not be built. Raised at start-up, never per request.
///
/// Messages say what to fix and, where the value came from the
/// environment, name the variable. They never contain the secret or key.
///
/// `Debug` prints the same one-line message as `Display`, so `expect`, `?`
/// in `main() -> Result<(), Box<dyn Error>>` and `{:?}` all show what to
/// fix; and it converts into an [`std::io::Error`] (kind `InvalidInput`),
/// so `?` works in actix-web's usual `main() -> std::io::Result<()>`.
///
/// ```
/// use approov_core::ConfigError;
///
/// let error = ConfigError::MissingVar { var: "APPROOV_BASE64_SECRET", hint: "the account secret" };
/// assert_eq!(format!("{error:?}"), "APPROOV_BASE64_SECRET is not set: the account secret");
/// let io: std::io::Error = error.into();
/// assert_eq!(io.kind(), std::io::ErrorKind::InvalidInput);
/// ```
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// No key of any kind was configured.
    #[error(
        "no key configured: give the Approov secret (APPROOV_BASE64_SECRET, exported with \
         `approov secret -getSharedKey`) or a public key / JWKS"
    )]
    NoKeys,
    /// A required environment variable is not set.
    #[error("{var} is not set: {hint}")]
    MissingVar {
        /// The variable's name.
        var: &'static str,
        /// What to put in it.
        hint: &'static str,
    },
    /// An environment variable (or builder value) is set but unusable.
    #[error("{source_name} is not usable: {problem}")]
    Invalid {
        /// Where the value came from: an environment variable, or a builder
        /// method such as `secret_base64`.
        source_name: String,
        /// What is wrong and what to do about it.
        problem: String,
    },
    /// A key file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file's path.
        path: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
}

// The message, not the variant's fields: what `expect` and a `main` that
// returns the error print. The message never holds a secret.
impl std::fmt::Debug for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

impl From<ConfigError> for std::io::Error {
    fn from(error: ConfigError) -> Self {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, error)
    }
}

impl ConfigError {
    pub(crate) fn invalid(source_name: impl Into<String>, problem: impl Into<String>) -> Self {
        Self::Invalid {
            source_name: source_name.into(),
            problem: problem.into(),
        }
    }
}

// Here rather than beside `Algorithm`, so that the key types do not import
// the errors that name them.
impl std::str::FromStr for crate::keys::algorithm::Algorithm {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_name(s).ok_or_else(|| {
            ConfigError::invalid(
                "algorithm",
                format!(
                    "{s:?} is not one of HS256, RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384"
                ),
            )
        })
    }
}
