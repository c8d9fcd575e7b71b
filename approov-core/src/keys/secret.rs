//! The account secret: decoding and holding it without leaking it.

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use std::fmt;
use zeroize::Zeroizing;

use crate::error::ConfigError;

const LENIENT: GeneralPurposeConfig = GeneralPurposeConfig::new()
    .with_decode_padding_mode(DecodePaddingMode::Indifferent)
    .with_decode_allow_trailing_bits(true);
/// Standard alphabet, padding optional (the Approov CLI's export format).
const STANDARD_LENIENT: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, LENIENT);
/// URL-safe alphabet, padding optional (what some quickstarts document).
const URL_SAFE_LENIENT: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, LENIENT);

/// Secret key bytes, wiped from memory on drop and never printed.
///
/// `Debug` prints `Secret([redacted])`; there is no `Display`.
#[derive(Clone)]
pub struct Secret(Zeroizing<Vec<u8>>);

/// The shortest HMAC-SHA256 secret a verifier accepts: 32 bytes (256
/// bits), as RFC 7518 §3.2 requires of HS256 keys. Approov account
/// secrets are 64 bytes.
pub const MIN_HMAC_SECRET_LEN: usize = 32;

impl Secret {
    /// Wraps raw key bytes.
    pub fn from_bytes(bytes: impl Into<Vec<u8>>) -> Self {
        Self(Zeroizing::new(bytes.into()))
    }

    /// Decodes a base64 secret in the standard or URL-safe alphabet, padded
    /// or not (Approov quickstarts use all four forms). Surrounding white
    /// space, such as the newline a shell `$(cat file)` keeps, is ignored.
    ///
    /// `source_name` says where the value came from (an environment variable
    /// name or a builder method) so the error can name it.
    pub fn from_base64(encoded: &str, source_name: &str) -> Result<Self, ConfigError> {
        let encoded = encoded.trim();
        if encoded.is_empty() {
            return Err(ConfigError::invalid(
                source_name,
                "the secret is empty: set it to the base64 account secret from \
                 `approov secret -getSharedKey`",
            ));
        }
        let engine = if encoded.contains(['-', '_']) {
            &URL_SAFE_LENIENT
        } else {
            &STANDARD_LENIENT
        };
        let bytes = Zeroizing::new(engine.decode(encoded).map_err(|e| {
            // DecodeError's own Display can quote the offending byte: describe
            // the position only, so no character of the secret is printed.
            let problem = match e {
                base64::DecodeError::InvalidByte(offset, _) => {
                    format!("it is not base64: invalid character at offset {offset}")
                }
                base64::DecodeError::InvalidLength(_) => {
                    "it is not base64: its length is impossible for base64".to_owned()
                }
                base64::DecodeError::InvalidLastSymbol(offset, _) => {
                    format!("it is not base64: invalid last character at offset {offset}")
                }
                base64::DecodeError::InvalidPadding => {
                    "it is not base64: invalid padding".to_owned()
                }
            };
            ConfigError::invalid(
                source_name,
                format!(
                    "{problem}. Use the value printed by `approov secret -getSharedKey` \
                     (standard or URL-safe base64, padded or not)"
                ),
            )
        })?);
        if bytes.is_empty() {
            return Err(ConfigError::invalid(
                source_name,
                "the secret decodes to zero bytes",
            ));
        }
        Ok(Self(bytes))
    }

    /// This secret as an HMAC-SHA256 key: refused when shorter than
    /// [`MIN_HMAC_SECRET_LEN`], naming `source_name` (RFC 7518 §3.2: a key
    /// of the hash's size or larger; a shorter one can be guessed offline
    /// from one token). The rule every verifier applies; tools that sign
    /// tokens apply it too.
    ///
    /// ```
    /// use approov_core::Secret;
    /// let short = Secret::from_base64("c2hvcnQ=", "SECRET")?;
    /// let err = short.for_hmac("SECRET").unwrap_err().to_string();
    /// assert!(err.starts_with("SECRET is not usable: the secret is 5 bytes long"), "{err}");
    /// # Ok::<(), approov_core::ConfigError>(())
    /// ```
    ///
    /// # Errors
    /// An empty secret, or one shorter than [`MIN_HMAC_SECRET_LEN`].
    pub fn for_hmac(self, source_name: &str) -> Result<Self, ConfigError> {
        if self.0.is_empty() {
            return Err(ConfigError::invalid(source_name, "the secret is empty"));
        }
        if self.0.len() < MIN_HMAC_SECRET_LEN {
            return Err(ConfigError::invalid(
                source_name,
                format!(
                    "the secret is {} bytes long; HS256 needs at least {MIN_HMAC_SECRET_LEN} \
                     bytes (256 bits, RFC 7518 §3.2). Use the value printed by \
                     `approov secret -getSharedKey`",
                    self.0.len()
                ),
            ));
        }
        Ok(self)
    }

    /// The raw key bytes.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}
