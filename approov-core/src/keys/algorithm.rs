//! The JWS algorithms a verifier can be configured with.

use std::fmt;

/// A JWS signature algorithm (RFC 7518 names).
///
/// HMAC is HS256 only: that is what Approov account secrets sign with, and
/// accepting HS384/HS512 with the same secret would only widen what an
/// attacker may try. ES512 is absent because the crypto backend (`ring`)
/// has no P-521.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Algorithm {
    /// HMAC with SHA-256 (the Approov default).
    HS256,
    /// RSASSA-PKCS1-v1_5 with SHA-256 (the Approov keyset default).
    RS256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RS384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RS512,
    /// RSASSA-PSS with SHA-256.
    PS256,
    /// RSASSA-PSS with SHA-384.
    PS384,
    /// RSASSA-PSS with SHA-512.
    PS512,
    /// ECDSA on P-256 with SHA-256.
    ES256,
    /// ECDSA on P-384 with SHA-384.
    ES384,
}

/// What a token's `alg` says, before checking it against the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenAlg {
    Known(Algorithm),
    /// `none`.
    None,
    /// A real algorithm we do not implement (HS384, HS512, ES512, EdDSA, …)
    /// or a name we have never heard of.
    Unsupported,
}

impl Algorithm {
    /// Every algorithm this crate can verify.
    pub const ALL: [Algorithm; 9] = [
        Self::HS256,
        Self::RS256,
        Self::RS384,
        Self::RS512,
        Self::PS256,
        Self::PS384,
        Self::PS512,
        Self::ES256,
        Self::ES384,
    ];

    /// The name used in a JWS `alg` header, e.g. `"RS256"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::HS256 => "HS256",
            Self::RS256 => "RS256",
            Self::RS384 => "RS384",
            Self::RS512 => "RS512",
            Self::PS256 => "PS256",
            Self::PS384 => "PS384",
            Self::PS512 => "PS512",
            Self::ES256 => "ES256",
            Self::ES384 => "ES384",
        }
    }

    /// Looks an algorithm up by its JWS name (exact, case-sensitive as RFC
    /// 7515 requires).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == name)
    }

    pub(crate) fn parse_token_alg(name: &str) -> TokenAlg {
        match Self::from_name(name) {
            Some(alg) => TokenAlg::Known(alg),
            None if name == "none" => TokenAlg::None,
            None => TokenAlg::Unsupported,
        }
    }

    pub(crate) const fn is_rsa(self) -> bool {
        matches!(
            self,
            Self::RS256 | Self::RS384 | Self::RS512 | Self::PS256 | Self::PS384 | Self::PS512
        )
    }

    /// A bit per algorithm, for the verifier's "configured algorithms" set.
    pub(crate) const fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
