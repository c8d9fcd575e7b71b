//! Building tokens — valid or deliberately broken — for tests, examples and
//! development servers. Enabled by the `mint` feature.
//!
//! ```
//! use approov_core::{Verifier, mint::TokenBuilder};
//!
//! let secret = approov_core::mint::generate_secret_base64();
//! let verifier = Verifier::builder().secret_base64(&secret).build().unwrap();
//!
//! let token = TokenBuilder::approov_example()
//!     .pay_for(["Bearer my-user-session"])
//!     .sign_hs256_base64(&secret)
//!     .unwrap();
//! let claims = verifier.verify(&token).unwrap();
//! assert_eq!(claims.did(), Some("ExampleApproovTokenDID=="));
//!
//! // Broken on purpose: alg none with no signature.
//! let unsigned = TokenBuilder::approov_example().header("alg", "none").unsigned();
//! assert!(verifier.verify(&unsigned).is_err());
//! ```

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::rand::{SecureRandom as _, SystemRandom};
use ring::{hmac, signature};
use serde_json::{Map, Value, json};
use std::fmt;
use std::time::SystemTime;

use crate::clock::unix_seconds;
use crate::error::ConfigError;
use crate::keys::algorithm::Algorithm;
use crate::keys::secret::Secret;

pub use crate::signing::sign::{InstallKey, MessageKey, RequestSigner, SignedRequest};

/// The test vectors Approov publishes in its quickstarts, as JSON: the
/// example secrets, the tokens of the official quickstarts with the outcome
/// each must get (`tokens`), the token-binding examples, the P-256 key pair
/// behind the published `ipk`, and the `Content-Digest` example. Kept in the
/// crate (`vectors/approov-published.json`) so that every test of the
/// workspace, and yours, reads the same copy.
///
/// ```
/// let vectors: serde_json::Value =
///     serde_json::from_str(approov_core::mint::PUBLISHED_VECTORS).unwrap();
/// assert!(vectors["tokens"].as_array().is_some_and(|t| !t.is_empty()));
/// ```
pub const PUBLISHED_VECTORS: &str = include_str!("../vectors/approov-published.json");

/// A fresh random 32-byte HS256 secret in standard base64, the format of
/// `APPROOV_BASE64_SECRET`. For development servers and tests only.
pub fn generate_secret_base64() -> String {
    let mut bytes = zeroize::Zeroizing::new([0u8; 32]);
    // The OS random source failing is not recoverable.
    #[allow(clippy::expect_used)]
    SystemRandom::new()
        .fill(bytes.as_mut())
        .expect("the operating system's random source failed");
    STANDARD.encode(bytes.as_ref())
}

/// A key that signs tokens.
pub struct SigningKey(KeyKind);

enum KeyKind {
    Hs256(hmac::Key),
    Rsa(signature::RsaKeyPair, Algorithm),
    Ecdsa(signature::EcdsaKeyPair, Algorithm),
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigningKey({}, [redacted])", self.algorithm())
    }
}

impl SigningKey {
    /// An HS256 key from a secret.
    pub fn hs256(secret: &Secret) -> Self {
        Self(KeyKind::Hs256(hmac::Key::new(
            hmac::HMAC_SHA256,
            secret.expose(),
        )))
    }

    /// An HS256 key from a base64 secret (any alphabet, padded or not).
    pub fn hs256_base64(encoded: &str) -> Result<Self, ConfigError> {
        Ok(Self::hs256(&Secret::from_base64(
            encoded,
            "SigningKey::hs256_base64",
        )?))
    }

    /// An RSA or EC key from a PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`)
    /// that signs with `alg`.
    pub fn from_pkcs8_pem(alg: Algorithm, pem: &str) -> Result<Self, ConfigError> {
        let source = "SigningKey::from_pkcs8_pem";
        let (label, der) = pem_rfc7468::decode_vec(pem.trim().as_bytes())
            .map_err(|e| ConfigError::invalid(source, format!("not a PEM private key: {e}")))?;
        if label != "PRIVATE KEY" {
            return Err(ConfigError::invalid(
                source,
                format!("the PEM label is {label:?}; expected PRIVATE KEY (PKCS#8)"),
            ));
        }
        Self::from_pkcs8_der(alg, &der)
    }

    /// An RSA or EC key from PKCS#8 DER that signs with `alg`.
    pub fn from_pkcs8_der(alg: Algorithm, der: &[u8]) -> Result<Self, ConfigError> {
        let source = "SigningKey::from_pkcs8_der";
        let bad = |e: ring::error::KeyRejected| {
            ConfigError::invalid(source, format!("the key does not fit {alg}: {e}"))
        };
        let kind = match alg {
            Algorithm::HS256 => {
                return Err(ConfigError::invalid(
                    source,
                    "HS256 takes a secret (SigningKey::hs256)",
                ));
            }
            Algorithm::ES256 | Algorithm::ES384 => {
                let params = ecdsa_signing(alg);
                let pair = signature::EcdsaKeyPair::from_pkcs8(params, der, &SystemRandom::new())
                    .map_err(bad)?;
                KeyKind::Ecdsa(pair, alg)
            }
            _ => KeyKind::Rsa(signature::RsaKeyPair::from_pkcs8(der).map_err(bad)?, alg),
        };
        Ok(Self(kind))
    }

    /// A fresh random ES256 or ES384 key (ring cannot generate RSA keys).
    pub fn generate_ecdsa(alg: Algorithm) -> Result<Self, ConfigError> {
        if !matches!(alg, Algorithm::ES256 | Algorithm::ES384) {
            return Err(ConfigError::invalid(
                "SigningKey::generate_ecdsa",
                "only ES256 and ES384 keys can be generated",
            ));
        }
        let rng = SystemRandom::new();
        let pkcs8 =
            signature::EcdsaKeyPair::generate_pkcs8(ecdsa_signing(alg), &rng).map_err(|_| {
                ConfigError::invalid("SigningKey::generate_ecdsa", "the random source failed")
            })?;
        Self::from_pkcs8_der(alg, pkcs8.as_ref())
    }

    /// The algorithm this key signs with.
    pub fn algorithm(&self) -> Algorithm {
        match &self.0 {
            KeyKind::Hs256(_) => Algorithm::HS256,
            KeyKind::Rsa(_, alg) | KeyKind::Ecdsa(_, alg) => *alg,
        }
    }

    /// The public half as a JWKS document with one key (none for HS256), to
    /// configure a verifier with [`VerifierBuilder::jwks`](crate::VerifierBuilder::jwks).
    pub fn public_jwks(&self, kid: Option<&str>) -> Option<String> {
        let mut jwk = match &self.0 {
            KeyKind::Hs256(_) => return None,
            KeyKind::Ecdsa(pair, alg) => {
                use signature::KeyPair as _;
                let point = pair.public_key().as_ref();
                let half = (point.len() - 1) / 2;
                let crv = if *alg == Algorithm::ES256 {
                    "P-256"
                } else {
                    "P-384"
                };
                json!({
                    "kty": "EC",
                    "crv": crv,
                    "x": URL_SAFE_NO_PAD.encode(&point[1..1 + half]),
                    "y": URL_SAFE_NO_PAD.encode(&point[1 + half..]),
                })
            }
            KeyKind::Rsa(pair, _) => {
                use signature::KeyPair as _;
                let (n, e) = crate::keys::set::pkcs1_n_e(pair.public_key().as_ref()).ok()?;
                json!({"kty": "RSA", "n": URL_SAFE_NO_PAD.encode(n), "e": URL_SAFE_NO_PAD.encode(e)})
            }
        };
        jwk["alg"] = json!(self.algorithm().as_str());
        if let Some(kid) = kid {
            jwk["kid"] = json!(kid);
        }
        Some(json!({ "keys": [jwk] }).to_string())
    }

    fn sign(&self, input: &[u8]) -> Vec<u8> {
        let rng = SystemRandom::new();
        match &self.0 {
            KeyKind::Hs256(key) => hmac::sign(key, input).as_ref().to_vec(),
            KeyKind::Ecdsa(pair, _) => pair
                .sign(&rng, input)
                .map(|s| s.as_ref().to_vec())
                .unwrap_or_default(),
            KeyKind::Rsa(pair, alg) => {
                let padding: &dyn signature::RsaEncoding = match alg {
                    Algorithm::RS384 => &signature::RSA_PKCS1_SHA384,
                    Algorithm::RS512 => &signature::RSA_PKCS1_SHA512,
                    Algorithm::PS256 => &signature::RSA_PSS_SHA256,
                    Algorithm::PS384 => &signature::RSA_PSS_SHA384,
                    Algorithm::PS512 => &signature::RSA_PSS_SHA512,
                    _ => &signature::RSA_PKCS1_SHA256,
                };
                let mut sig = vec![0; pair.public().modulus_len()];
                match pair.sign(padding, &rng, input, &mut sig) {
                    Ok(()) => sig,
                    Err(_) => Vec::new(),
                }
            }
        }
    }
}

fn ecdsa_signing(alg: Algorithm) -> &'static signature::EcdsaSigningAlgorithm {
    if alg == Algorithm::ES384 {
        &signature::ECDSA_P384_SHA384_FIXED_SIGNING
    } else {
        &signature::ECDSA_P256_SHA256_FIXED_SIGNING
    }
}

/// Builds a token's header and claims, then signs it (or not).
///
/// The header starts as `{"alg":"HS256","typ":"JWT"}`; signing with a key
/// sets `alg` to the key's algorithm unless [`header`](Self::header) set it
/// explicitly, so deliberately mismatched tokens can be made.
#[derive(Debug, Clone)]
pub struct TokenBuilder {
    header: Map<String, Value>,
    claims: Map<String, Value>,
    alg_fixed: bool,
}

impl Default for TokenBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl TokenBuilder {
    /// An empty claims set (no `exp`) and an HS256 header.
    pub fn new() -> Self {
        let mut header = Map::new();
        header.insert("alg".into(), json!("HS256"));
        header.insert("typ".into(), json!("JWT"));
        Self {
            header,
            claims: Map::new(),
            alg_fixed: false,
        }
    }

    /// Claims like Approov's `token -genExample`: `exp` five minutes from
    /// now, `ip` and `did` example values.
    pub fn approov_example() -> Self {
        Self::new()
            .expires_in(300)
            .claim("ip", "1.2.3.4")
            .claim("did", "ExampleApproovTokenDID==")
    }

    /// Sets `exp` to `seconds` after the Unix epoch (may be fractional).
    pub fn exp(self, seconds: f64) -> Self {
        self.claim("exp", seconds)
    }

    /// Sets `exp` to now plus `seconds` (negative: already expired).
    pub fn expires_in(self, seconds: i64) -> Self {
        let now = unix_seconds(SystemTime::now()).floor();
        self.claim("exp", now + seconds as f64)
    }

    /// Sets `pay` to the binding hash of these header values, in order.
    pub fn pay_for<I, V>(self, values: I) -> Self
    where
        I: IntoIterator<Item = V>,
        V: AsRef<[u8]>,
    {
        self.claim("pay", crate::token::binding::binding_hash(values))
    }

    /// Sets any claim, of any JSON type (wrong types included, for tests).
    pub fn claim(mut self, name: &str, value: impl Into<Value>) -> Self {
        let value = value.into();
        // Integral floats are written as integers, as Approov's own tokens do.
        let value = match value.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 9e15 && value.is_f64() => json!(f as i64),
            _ => value,
        };
        self.claims.insert(name.to_owned(), value);
        self
    }

    /// Removes a claim.
    pub fn without_claim(mut self, name: &str) -> Self {
        self.claims.remove(name);
        self
    }

    /// Sets a header parameter (setting `alg` fixes it against the key's).
    pub fn header(mut self, name: &str, value: impl Into<Value>) -> Self {
        if name == "alg" {
            self.alg_fixed = true;
        }
        self.header.insert(name.to_owned(), value.into());
        self
    }

    /// Removes a header parameter.
    pub fn without_header(mut self, name: &str) -> Self {
        if name == "alg" {
            self.alg_fixed = true;
        }
        self.header.remove(name);
        self
    }

    /// Sets `kid` in the header.
    pub fn kid(self, kid: &str) -> Self {
        self.header("kid", kid)
    }

    /// Signs with `key`.
    pub fn sign(&self, key: &SigningKey) -> String {
        let mut header = self.header.clone();
        if !self.alg_fixed {
            header.insert("alg".into(), json!(key.algorithm().as_str()));
        }
        let input = signing_input(&header, &self.claims);
        let sig = key.sign(input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
    }

    /// Signs with an HS256 secret.
    pub fn sign_hs256(&self, secret: &Secret) -> String {
        self.sign(&SigningKey::hs256(secret))
    }

    /// Signs with an HS256 secret given in base64.
    pub fn sign_hs256_base64(&self, encoded: &str) -> Result<String, ConfigError> {
        Ok(self.sign(&SigningKey::hs256_base64(encoded)?))
    }

    /// The token with an empty signature segment (`header.payload.`).
    pub fn unsigned(&self) -> String {
        format!("{}.", signing_input(&self.header, &self.claims))
    }
}

fn signing_input(header: &Map<String, Value>, claims: &Map<String, Value>) -> String {
    let enc = |m: &Map<String, Value>| URL_SAFE_NO_PAD.encode(Value::Object(m.clone()).to_string());
    format!("{}.{}", enc(header), enc(claims))
}
