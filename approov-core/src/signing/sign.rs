//! Signing requests the way Approov SDKs do, for tests and development:
//! `Content-Digest`, then `Signature-Input` and `Signature` with the
//! `install` (ECDSA P-256) and/or `account` (HMAC-SHA256) labels. Enabled
//! by the `mint` feature; re-exported from [`crate::mint`].

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use der::Encode as _;
use ring::hmac;
use ring::rand::SystemRandom;
use ring::signature::{self, KeyPair as _};
use std::fmt;
use std::time::SystemTime;

use crate::clock::unix_seconds;
use crate::error::ConfigError;
use crate::error::Rejection;
use crate::keys::secret::Secret;

use super::base::{self, BaseError};
use super::digest::{CONTENT_DIGEST, DigestAlgorithm, content_digest};
use super::fields::{dictionary, input_entry};
use super::keys::InstallPublicKey;
use super::message::MessageParts;
use super::origin::Origin;
use super::problem::{SignatureLabel, SignatureProblem};

/// An installation's P-256 key pair: the private half signs requests, the
/// public half goes in the token's `ipk` claim ([`InstallKey::ipk`]).
///
/// ```
/// use approov_core::mint::{InstallKey, RequestSigner, TokenBuilder};
///
/// let key = InstallKey::generate()?;
/// let token = TokenBuilder::approov_example().claim("ipk", key.ipk()).unsigned();
/// let signed = RequestSigner::new("GET", "https://api.example.com/shapes")?
///     .header("Approov-Token", &token)
///     .sign_install(&key)
///     .finish()?;
/// assert!(signed.header("Signature-Input").unwrap().starts_with(r#"install=("@method" "@target-uri" "approov-token")"#));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct InstallKey {
    pair: signature::EcdsaKeyPair,
}

impl fmt::Debug for InstallKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("InstallKey(P-256, [redacted])")
    }
}

const OID_EC: spki::ObjectIdentifier = spki::ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const OID_P256: spki::ObjectIdentifier = spki::ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const ECDSA: &signature::EcdsaSigningAlgorithm = &signature::ECDSA_P256_SHA256_FIXED_SIGNING;

impl InstallKey {
    /// A fresh random key pair.
    pub fn generate() -> Result<Self, ConfigError> {
        let pkcs8 =
            signature::EcdsaKeyPair::generate_pkcs8(ECDSA, &SystemRandom::new()).map_err(|_| {
                ConfigError::invalid("InstallKey::generate", "the random source failed")
            })?;
        Self::from_pkcs8_der(pkcs8.as_ref())
    }

    /// A P-256 key from PKCS#8 DER.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, ConfigError> {
        let pair =
            signature::EcdsaKeyPair::from_pkcs8(ECDSA, der, &SystemRandom::new()).map_err(|e| {
                ConfigError::invalid("InstallKey", format!("not a P-256 PKCS#8 key: {e}"))
            })?;
        Ok(Self { pair })
    }

    /// A P-256 key from a PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`).
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, ConfigError> {
        let (label, der) = pem_rfc7468::decode_vec(pem.trim().as_bytes()).map_err(|e| {
            ConfigError::invalid("InstallKey::from_pkcs8_pem", format!("not PEM: {e}"))
        })?;
        if label != "PRIVATE KEY" {
            return Err(ConfigError::invalid(
                "InstallKey::from_pkcs8_pem",
                format!("the PEM label is {label:?}; expected PRIVATE KEY (PKCS#8)"),
            ));
        }
        Self::from_pkcs8_der(&der)
    }

    /// A P-256 key from a SEC1 `ECPrivateKey` (RFC 5915) in DER, the form
    /// of `-----BEGIN EC PRIVATE KEY-----` and of the key pair Approov's
    /// quickstarts publish. It must carry its curve and public key.
    pub fn from_sec1_der(sec1: &[u8]) -> Result<Self, ConfigError> {
        Self::from_pkcs8_der(&pkcs8_from_sec1_p256(sec1)?)
    }

    /// The public key as the token's `ipk` claim: standard base64 of the
    /// DER SubjectPublicKeyInfo.
    pub fn ipk(&self) -> String {
        STANDARD.encode(self.public_spki_der())
    }

    /// The public key as a DER SubjectPublicKeyInfo.
    pub fn public_spki_der(&self) -> Vec<u8> {
        let point = self.pair.public_key().as_ref();
        let encoded = der::asn1::BitStringRef::from_bytes(point).and_then(|key| {
            spki::SubjectPublicKeyInfo {
                algorithm: spki::AlgorithmIdentifier {
                    oid: OID_EC,
                    parameters: Some(OID_P256),
                },
                subject_public_key: key,
            }
            .to_der()
        });
        // A 65-byte point and two OIDs always encode.
        #[allow(clippy::expect_used)]
        encoded.expect("a P-256 SubjectPublicKeyInfo encodes")
    }

    /// The public half, as the verifier reads it.
    pub fn public_key(&self) -> InstallPublicKey {
        // The encoding above is always a valid P-256 SubjectPublicKeyInfo.
        #[allow(clippy::expect_used)]
        InstallPublicKey::from_spki_der(&self.public_spki_der()).expect("own key is P-256")
    }

    fn sign(&self, base: &[u8]) -> Vec<u8> {
        self.pair
            .sign(&SystemRandom::new(), base)
            .map(|s| s.as_ref().to_vec())
            .unwrap_or_default()
    }
}

/// Wraps a SEC1 `ECPrivateKey` for P-256 in a PKCS#8 `PrivateKeyInfo`
/// (RFC 5208), the only form ring reads.
fn pkcs8_from_sec1_p256(sec1: &[u8]) -> Result<Vec<u8>, ConfigError> {
    let bad = |e: der::Error| {
        ConfigError::invalid(
            "InstallKey::from_sec1_der",
            format!("cannot wrap the key: {e}"),
        )
    };
    let algorithm = spki::AlgorithmIdentifier {
        oid: OID_EC,
        parameters: Some(OID_P256),
    };
    let mut body = 0u8.to_der().map_err(bad)?;
    body.extend(algorithm.to_der().map_err(bad)?);
    body.extend(
        der::asn1::OctetStringRef::new(sec1)
            .and_then(|o| o.to_der())
            .map_err(bad)?,
    );
    let len = der::Length::try_from(body.len()).map_err(bad)?;
    let mut out = der::Header::new(der::Tag::Sequence, len)
        .to_der()
        .map_err(bad)?;
    out.extend(body);
    Ok(out)
}

/// A key that signs a request: which label it fills is chosen by
/// [`RequestSigner::sign_as`].
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum MessageKey<'a> {
    /// `ecdsa-p256-sha256` with an installation key.
    Install(&'a InstallKey),
    /// `hmac-sha256` with an account message-signing secret.
    Account(&'a Secret),
}

impl MessageKey<'_> {
    fn label(self) -> SignatureLabel {
        match self {
            Self::Install(_) => SignatureLabel::Install,
            Self::Account(_) => SignatureLabel::Account,
        }
    }

    fn sign(self, base: &[u8]) -> Vec<u8> {
        match self {
            Self::Install(key) => key.sign(base),
            Self::Account(secret) => {
                let key = hmac::Key::new(hmac::HMAC_SHA256, secret.expose());
                hmac::sign(&key, base).as_ref().to_vec()
            }
        }
    }
}

/// What the `alg` signature parameter says.
#[derive(Debug, Clone)]
enum Alg {
    OfKey,
    Omitted,
    Named(String),
}

/// Builds a signed request: method and URI, headers, an optional body
/// (with its `Content-Digest`), then one or more signatures.
///
/// By default each signature covers `@method`, `@target-uri`, and the
/// `approov-token` and `content-digest` headers when present, with
/// `created` set to now and `alg` set to the key's algorithm. Every option
/// applies to the signatures added after it.
///
/// ```
/// use approov_core::mint::{InstallKey, RequestSigner};
///
/// let key = InstallKey::generate()?;
/// let signed = RequestSigner::new("POST", "https://api.example.com/shapes?size=2")?
///     .header("Approov-Token", "eyJ...")
///     .body(br#"{"shape":"circle"}"#)
///     .created(1_700_000_000)
///     .sign_install(&key)
///     .finish()?;
/// assert_eq!(
///     signed.header("Signature-Input"),
///     Some(r#"install=("@method" "@target-uri" "approov-token" "content-digest");alg="ecdsa-p256-sha256";created=1700000000"#),
/// );
/// assert!(signed.header("Content-Digest").unwrap().starts_with("sha-256=:"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct RequestSigner {
    request: SignedRequest,
    digest: Option<DigestAlgorithm>,
    components: Option<Vec<String>>,
    created: Option<i64>,
    expires: Option<i64>,
    alg: Alg,
    params: Vec<(String, String)>,
    as_string: bool,
    inputs: Vec<String>,
    signatures: Vec<String>,
    error: Option<Rejection>,
}

impl RequestSigner {
    /// A request to `uri` (absolute: `https://host[:port]/path?query`), with
    /// a `Host` header for its authority.
    pub fn new(method: &str, uri: &str) -> Result<Self, ConfigError> {
        let bad = || {
            ConfigError::invalid(
                "RequestSigner::new",
                format!("{uri:?} is not an absolute http(s) URI"),
            )
        };
        let (scheme, rest) = uri.split_once("://").ok_or_else(bad)?;
        let split = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, path_and_query) = rest.split_at(split);
        if authority.is_empty() || scheme.is_empty() {
            return Err(bad());
        }
        let path_and_query = match path_and_query {
            "" => "/".to_owned(),
            p if p.starts_with('?') => format!("/{p}"),
            p => p.to_owned(),
        };
        Ok(Self {
            request: SignedRequest {
                method: method.to_owned(),
                scheme: scheme.to_owned(),
                authority: authority.to_owned(),
                path_and_query,
                headers: vec![("Host".to_owned(), authority.to_owned())],
                body: None,
            },
            digest: Some(DigestAlgorithm::Sha256),
            components: None,
            created: Some(unix_seconds(SystemTime::now()).floor() as i64),
            expires: None,
            alg: Alg::OfKey,
            params: Vec::new(),
            as_string: false,
            inputs: Vec::new(),
            signatures: Vec::new(),
            error: None,
        })
    }

    /// Adds a header line.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.request
            .headers
            .push((name.to_owned(), value.to_owned()));
        self
    }

    /// Removes every line of header `name` (e.g. `Host`).
    pub fn without_header(mut self, name: &str) -> Self {
        self.request
            .headers
            .retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self
    }

    /// Sets the body and its `Content-Digest` header (sha-256 unless
    /// [`content_digest`](Self::content_digest) says otherwise).
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.request.body = Some(body.into());
        self.refresh_digest();
        self
    }

    /// The `Content-Digest` algorithm for the body, or `None` for no header.
    pub fn content_digest(mut self, alg: Option<DigestAlgorithm>) -> Self {
        self.digest = alg;
        self.refresh_digest();
        self
    }

    fn refresh_digest(&mut self) {
        self.request
            .headers
            .retain(|(n, _)| !n.eq_ignore_ascii_case(CONTENT_DIGEST));
        if let (Some(alg), Some(body)) = (self.digest, &self.request.body) {
            let value = content_digest(alg, body);
            self.request
                .headers
                .push(("Content-Digest".to_owned(), value));
        }
    }

    /// The covered components, in order: names such as `@method` or
    /// `content-type`, or full identifiers such as `"@query-param";name="id"`.
    pub fn covering<I, S>(mut self, components: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.components = Some(
            components
                .into_iter()
                .map(|c| {
                    let c = c.as_ref();
                    if c.starts_with('"') {
                        c.to_owned()
                    } else {
                        quote(c)
                    }
                })
                .collect(),
        );
        self
    }

    /// Sets `created` (seconds after the Unix epoch). Default: now.
    pub fn created(mut self, unix_seconds: i64) -> Self {
        self.created = Some(unix_seconds);
        self
    }

    /// Leaves `created` out.
    pub fn without_created(mut self) -> Self {
        self.created = None;
        self
    }

    /// Sets `expires` (seconds after the Unix epoch). Default: none.
    pub fn expires(mut self, unix_seconds: i64) -> Self {
        self.expires = Some(unix_seconds);
        self
    }

    /// Sets `alg` to `name` (`Some`) or leaves it out (`None`). Default:
    /// the key's algorithm.
    pub fn alg(mut self, name: Option<&str>) -> Self {
        self.alg = name.map_or(Alg::Omitted, |n| Alg::Named(n.to_owned()));
        self
    }

    /// Adds a string signature parameter, e.g. `keyid`, `nonce` or `tag`.
    pub fn param(mut self, name: &str, value: &str) -> Self {
        self.params.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Sends the signatures as sf-strings of base64 (`"…"`), as some
    /// shipping clients do, instead of byte sequences (`:…:`).
    pub fn signature_as_string(mut self, yes: bool) -> Self {
        self.as_string = yes;
        self
    }

    /// Adds the `install` signature.
    pub fn sign_install(self, key: &InstallKey) -> Self {
        self.sign_as(SignatureLabel::Install.as_str(), MessageKey::Install(key))
    }

    /// Adds the `account` signature.
    pub fn sign_account(self, secret: &Secret) -> Self {
        self.sign_as(
            SignatureLabel::Account.as_str(),
            MessageKey::Account(secret),
        )
    }

    /// Adds a signature with any label (e.g. `sig-b25` of RFC 9421).
    pub fn sign_as(mut self, label: &str, key: MessageKey<'_>) -> Self {
        if self.error.is_none() {
            match self.signature(label, key) {
                Ok((input, signature)) => {
                    self.inputs.push(input);
                    self.signatures.push(signature);
                }
                Err(e) => self.error = Some(e),
            }
        }
        self
    }

    fn signature(&self, label: &str, key: MessageKey<'_>) -> Result<(String, String), Rejection> {
        let fail = |problem| Rejection::SignatureInvalid {
            label: key.label(),
            problem,
        };
        let components = match &self.components {
            Some(list) => list.clone(),
            None => {
                let has = |name: &str| {
                    self.request
                        .headers
                        .iter()
                        .any(|(n, _)| n.eq_ignore_ascii_case(name))
                };
                let mut list = vec![quote("@method"), quote("@target-uri")];
                for header in ["approov-token", CONTENT_DIGEST] {
                    if has(header) {
                        list.push(quote(header));
                    }
                }
                list
            }
        };
        let mut member = format!("{label}=({})", components.join(" "));
        match &self.alg {
            Alg::OfKey => member.push_str(&format!(";alg={}", quote(key.label().algorithm()))),
            Alg::Named(name) => member.push_str(&format!(";alg={}", quote(name))),
            Alg::Omitted => {}
        }
        if let Some(created) = self.created {
            member.push_str(&format!(";created={created}"));
        }
        if let Some(expires) = self.expires {
            member.push_str(&format!(";expires={expires}"));
        }
        for (name, value) in &self.params {
            member.push_str(&format!(";{name}={}", quote(value)));
        }
        let field = [("signature-input", member.as_str())];
        // The signer has no limits: tests use it to build oversized requests.
        let dict = dictionary(&field[..], "signature-input", usize::MAX)
            .ok()
            .flatten()
            .ok_or_else(|| fail(SignatureProblem::MalformedInput))?;
        let input = input_entry(&dict, label, usize::MAX)
            .map_err(|_| fail(SignatureProblem::MalformedInput))?
            .ok_or_else(|| fail(SignatureProblem::MalformedInput))?;
        let origin = Origin::new(&self.request.scheme, Some(&self.request.authority));
        let base =
            base::build(&self.request.parts(), &Ok(origin), &input).map_err(|e| match e {
                BaseError::Unsupported(component) => Rejection::SignatureUnsupported {
                    label: key.label(),
                    component,
                },
                BaseError::Invalid(problem) => fail(problem),
            })?;
        let sig = STANDARD.encode(key.sign(&base));
        let signature = if self.as_string {
            format!("{label}=\"{sig}\"")
        } else {
            format!("{label}=:{sig}:")
        };
        Ok((format!("{label}={}", input.serialized), signature))
    }

    /// The request with its `Signature-Input` and `Signature` headers, or
    /// why a signature could not be made (e.g. a covered header is absent).
    pub fn finish(self) -> Result<SignedRequest, Rejection> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let mut request = self.request;
        if !self.inputs.is_empty() {
            request
                .headers
                .push(("Signature-Input".to_owned(), self.inputs.join(", ")));
            request
                .headers
                .push(("Signature".to_owned(), self.signatures.join(", ")));
        }
        Ok(request)
    }
}

/// A request built by [`RequestSigner`]: everything an adapter would see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedRequest {
    /// The method, e.g. `POST`.
    pub method: String,
    /// The scheme the client addressed, e.g. `https`.
    pub scheme: String,
    /// The authority the client addressed, e.g. `api.example.com`.
    pub authority: String,
    /// The request target, e.g. `/shapes?size=2`.
    pub path_and_query: String,
    /// Every header line, in order, signature headers last.
    pub headers: Vec<(String, String)>,
    /// The body, if any.
    pub body: Option<Vec<u8>>,
}

impl SignedRequest {
    /// The first value of header `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Replaces every line of header `name` with one line holding `value`
    /// (to tamper with a signed request in tests).
    pub fn set_header(&mut self, name: &str, value: &str) {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.headers.push((name.to_owned(), value.to_owned()));
    }

    /// The request as an adapter hands it to the core: method, target,
    /// headers, and the scheme (the authority comes from `Host`).
    pub fn parts(&self) -> MessageParts<'_, [(String, String)]> {
        MessageParts::new(&self.method, &self.path_and_query, &self.headers[..])
            .with_scheme(Some(&self.scheme))
    }
}

/// `text` as an RFC 8941 string (quotes and backslashes escaped).
fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}
