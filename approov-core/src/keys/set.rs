//! Verification keys: the HS256 account secret and public keys from PEM or
//! JWKS, each optionally named by a `kid`, parsed and checked at start-up.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use der::{Decode as _, Reader as _};
use ring::rand::SystemRandom;
use ring::{agreement, hmac, signature};
use serde::Deserialize;
use spki::ObjectIdentifier;
use std::fmt;

use super::algorithm::Algorithm;
use super::secret::Secret;
use crate::error::{ConfigError, Rejection};

const OID_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const OID_RSA_PSS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");
const OID_EC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const OID_P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const OID_P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");

/// ring's RSA verification accepts moduli of 2048 to 8192 bits; anything
/// else would fail on every request, so it is refused at start-up.
const RSA_BITS: std::ops::RangeInclusive<usize> = 2048..=8192;

#[derive(Clone)]
pub(crate) struct HmacKey {
    kid: Option<Box<str>>,
    key: hmac::Key,
}

#[derive(Clone)]
enum Material {
    Rsa(signature::RsaPublicKeyComponents<Vec<u8>>),
    /// An uncompressed SEC1 point (`0x04 ‖ x ‖ y`).
    Ec(Vec<u8>),
}

#[derive(Clone)]
pub(crate) struct PublicKey {
    kid: Option<Box<str>>,
    alg: Algorithm,
    material: Material,
}

/// Every configured key, grouped for the lookup the hot path does.
#[derive(Default, Clone)]
pub(crate) struct KeySet {
    pub(crate) hmac: Vec<HmacKey>,
    pub(crate) public: Vec<PublicKey>,
}

impl fmt::Debug for KeySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Key ids and algorithms are public; the key material is not shown.
        let mut list = f.debug_list();
        for k in &self.hmac {
            list.entry(&format_args!("HS256 kid={:?}", k.kid));
        }
        for k in &self.public {
            list.entry(&format_args!("{} kid={:?}", k.alg, k.kid));
        }
        list.finish()
    }
}

impl HmacKey {
    pub(crate) fn new(kid: Option<&str>, secret: &Secret) -> Self {
        Self {
            kid: kid.map(Into::into),
            key: hmac::Key::new(hmac::HMAC_SHA256, secret.expose()),
        }
    }
}

impl KeySet {
    /// A bit set of the algorithms some key verifies.
    pub(crate) fn algorithms(&self) -> u16 {
        let hs = if self.hmac.is_empty() {
            0
        } else {
            Algorithm::HS256.bit()
        };
        self.public.iter().fold(hs, |acc, k| acc | k.alg.bit())
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.hmac.is_empty() && self.public.is_empty()
    }

    /// Adds copies of `other`'s keys.
    pub(crate) fn extend_from(&mut self, other: &KeySet) {
        self.hmac.extend(other.hmac.iter().cloned());
        self.public.extend(other.public.iter().cloned());
    }

    /// Verifies `sig` over `signing_input` with the keys that may have made
    /// it: those named by the token's `kid`, then those configured without a
    /// `kid` (which accept any). `alg` has already been checked against
    /// [`KeySet::algorithms`].
    pub(crate) fn verify(
        &self,
        alg: Algorithm,
        kid: Option<&str>,
        signing_input: &[u8],
        sig: &[u8],
    ) -> Result<(), Rejection> {
        let mut tried = false;
        if alg == Algorithm::HS256 {
            for key in candidates(&self.hmac, kid, |k| k.kid.as_deref()) {
                tried = true;
                if hmac::verify(&key.key, signing_input, sig).is_ok() {
                    return Ok(());
                }
            }
        } else {
            let fits = |k: &&PublicKey| k.alg == alg;
            for key in candidates(&self.public, kid, |k| k.kid.as_deref()).filter(fits) {
                tried = true;
                if key.verify(signing_input, sig) {
                    return Ok(());
                }
            }
        }
        if tried {
            Err(Rejection::Signature)
        } else {
            Err(Rejection::UnknownKey)
        }
    }
}

/// Keys whose `kid` equals the token's, then keys without a `kid`.
fn candidates<'k, K>(
    keys: &'k [K],
    kid: Option<&'k str>,
    kid_of: impl Fn(&K) -> Option<&str> + Copy + 'k,
) -> impl Iterator<Item = &'k K> + 'k {
    let named = keys
        .iter()
        .filter(move |k| kid.is_some() && kid_of(k) == kid);
    let anonymous = keys.iter().filter(move |k| kid_of(k).is_none());
    named.chain(anonymous)
}

impl PublicKey {
    fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        match &self.material {
            Material::Rsa(components) => {
                let params: &signature::RsaParameters = match self.alg {
                    Algorithm::RS256 => &signature::RSA_PKCS1_2048_8192_SHA256,
                    Algorithm::RS384 => &signature::RSA_PKCS1_2048_8192_SHA384,
                    Algorithm::RS512 => &signature::RSA_PKCS1_2048_8192_SHA512,
                    Algorithm::PS256 => &signature::RSA_PSS_2048_8192_SHA256,
                    Algorithm::PS384 => &signature::RSA_PSS_2048_8192_SHA384,
                    Algorithm::PS512 => &signature::RSA_PSS_2048_8192_SHA512,
                    _ => return false,
                };
                components.verify(params, msg, sig).is_ok()
            }
            Material::Ec(point) => {
                let params: &signature::EcdsaVerificationAlgorithm = match self.alg {
                    Algorithm::ES256 => &signature::ECDSA_P256_SHA256_FIXED,
                    Algorithm::ES384 => &signature::ECDSA_P384_SHA384_FIXED,
                    _ => return false,
                };
                signature::UnparsedPublicKey::new(params, point)
                    .verify(msg, sig)
                    .is_ok()
            }
        }
    }

    /// Parses a PEM public key: `PUBLIC KEY` (SubjectPublicKeyInfo, RSA or
    /// EC) or `RSA PUBLIC KEY` (PKCS#1).
    pub(crate) fn from_pem(
        alg: Algorithm,
        kid: Option<&str>,
        pem: &str,
        source: &str,
    ) -> Result<Self, ConfigError> {
        let bad = |problem: String| ConfigError::invalid(source, problem);
        let (label, der) = pem_rfc7468::decode_vec(pem.trim().as_bytes()).map_err(|e| {
            bad(format!(
                "it is not a PEM public key ({e}); expected -----BEGIN PUBLIC KEY-----"
            ))
        })?;
        let material = match label {
            "PUBLIC KEY" => {
                let spki = spki::SubjectPublicKeyInfoRef::from_der(&der).map_err(|e| {
                    bad(format!("the PEM does not hold a SubjectPublicKeyInfo: {e}"))
                })?;
                let bits = spki
                    .subject_public_key
                    .as_bytes()
                    .ok_or_else(|| bad("the public key bit string has unused bits".to_owned()))?;
                let oid = spki.algorithm.oid;
                if oid == OID_RSA {
                    rsa_from_pkcs1(bits).map_err(bad)?
                } else if oid == OID_EC {
                    let curve = spki
                        .algorithm
                        .parameters_oid()
                        .map_err(|_| bad("the EC key names no curve".to_owned()))?;
                    let curve = if curve == OID_P256 {
                        Curve::P256
                    } else if curve == OID_P384 {
                        Curve::P384
                    } else {
                        return Err(bad(format!(
                            "the EC key is on curve {curve}; only P-256 and P-384 are supported"
                        )));
                    };
                    ec_point(curve, bits.to_vec()).map_err(bad)?
                } else if oid == OID_RSA_PSS {
                    return Err(bad(
                        "the key is an RSA-PSS key (OID 1.2.840.113549.1.1.10); export it as a \
                         plain RSA public key (rsaEncryption) and configure PS256/PS384/PS512"
                            .to_owned(),
                    ));
                } else {
                    return Err(bad(format!(
                        "the key's algorithm {oid} is neither RSA nor EC"
                    )));
                }
            }
            "RSA PUBLIC KEY" => rsa_from_pkcs1(&der).map_err(bad)?,
            other => {
                return Err(bad(format!(
                    "the PEM label is {other:?}; expected PUBLIC KEY or RSA PUBLIC KEY \
                     (a public key, never a private one)"
                )));
            }
        };
        Self::new(alg, kid, material).map_err(bad)
    }

    fn new(alg: Algorithm, kid: Option<&str>, material: Material) -> Result<Self, String> {
        let fits = match &material {
            Material::Rsa(_) => alg.is_rsa(),
            Material::Ec(point) => {
                (alg == Algorithm::ES256 && point.len() == Curve::P256.point_len())
                    || (alg == Algorithm::ES384 && point.len() == Curve::P384.point_len())
            }
        };
        if !fits {
            let kind = match &material {
                Material::Rsa(_) => "an RSA key",
                Material::Ec(p) if p.len() == Curve::P256.point_len() => "a P-256 key",
                Material::Ec(_) => "a P-384 key",
            };
            return Err(format!(
                "{kind} cannot verify {alg}: RSA keys verify RS*/PS*, P-256 keys ES256, \
                 P-384 keys ES384"
            ));
        }
        Ok(Self {
            kid: kid.map(Into::into),
            alg,
            material,
        })
    }
}

#[derive(Clone, Copy)]
enum Curve {
    P256,
    P384,
}

impl Curve {
    const fn point_len(self) -> usize {
        match self {
            Self::P256 => 65,
            Self::P384 => 97,
        }
    }

    fn from_jwk(crv: &str) -> Option<Self> {
        match crv {
            "P-256" => Some(Self::P256),
            "P-384" => Some(Self::P384),
            _ => None,
        }
    }
}

fn ec_point(curve: Curve, point: Vec<u8>) -> Result<Material, String> {
    if point.len() != curve.point_len() || point.first() != Some(&0x04) {
        return Err("the EC public key is not an uncompressed point on its curve".to_owned());
    }
    // ring validates a point only when it uses it; a key agreement with a
    // throw-away key is its public way to ask "is this point on the curve?",
    // so a bad key fails here rather than on every request.
    let agreement = match curve {
        Curve::P256 => &agreement::ECDH_P256,
        Curve::P384 => &agreement::ECDH_P384,
    };
    let on_curve = agreement::EphemeralPrivateKey::generate(agreement, &SystemRandom::new())
        .and_then(|ours| {
            agreement::agree_ephemeral(
                ours,
                &agreement::UnparsedPublicKey::new(agreement, &point),
                |_| (),
            )
        })
        .is_ok();
    if !on_curve {
        return Err("the EC public key's point is not on its curve".to_owned());
    }
    Ok(Material::Ec(point))
}

fn rsa_from_pkcs1(der: &[u8]) -> Result<Material, String> {
    let parse = || -> der::Result<(Vec<u8>, Vec<u8>)> {
        let mut reader = der::SliceReader::new(der)?;
        let pair = reader.sequence(|r| {
            let n = der::asn1::UintRef::decode(r)?;
            let e = der::asn1::UintRef::decode(r)?;
            Ok::<_, der::Error>((n.as_bytes().to_vec(), e.as_bytes().to_vec()))
        })?;
        reader.finish()?;
        Ok(pair)
    };
    let (n, e) = parse().map_err(|e| format!("the RSA public key does not parse: {e}"))?;
    rsa_components(n, e)
}

fn rsa_components(n: Vec<u8>, e: Vec<u8>) -> Result<Material, String> {
    let n = strip_leading_zeros(n);
    let bits = n
        .first()
        .map_or(0, |b| n.len() * 8 - b.leading_zeros() as usize);
    if !RSA_BITS.contains(&bits) {
        return Err(format!(
            "the RSA modulus has {bits} bits; 2048 to 8192 are supported"
        ));
    }
    if n.last().is_some_and(|b| b % 2 == 0) {
        return Err("the RSA modulus is even, so it is not an RSA modulus".to_owned());
    }
    let e = strip_leading_zeros(e);
    // ring's limits: an odd exponent from 3 to 2^33 - 1.
    let value = (e.len() <= 5).then(|| e.iter().fold(0u64, |acc, b| acc << 8 | u64::from(*b)));
    if !value.is_some_and(|v| (3..(1 << 33)).contains(&v) && v % 2 == 1) {
        return Err(
            "the RSA public exponent must be odd and between 3 and 2^33 - 1 (usually 65537)"
                .to_owned(),
        );
    }
    Ok(Material::Rsa(signature::RsaPublicKeyComponents { n, e }))
}

fn strip_leading_zeros(mut v: Vec<u8>) -> Vec<u8> {
    let zeros = v.iter().take_while(|b| **b == 0).count();
    v.drain(..zeros);
    v
}

#[derive(Deserialize)]
struct Jwks {
    keys: Vec<Jwk>,
}

#[derive(Deserialize)]
struct Jwk {
    kty: String,
    kid: Option<String>,
    alg: Option<String>,
    #[serde(rename = "use")]
    use_: Option<String>,
    n: Option<String>,
    e: Option<String>,
    crv: Option<String>,
    x: Option<String>,
    y: Option<String>,
}

/// Parses a JWKS document (`{"keys":[…]}`) into public keys.
///
/// A key's `alg` is used when present; otherwise an EC key gets the
/// algorithm of its curve and an RSA key gets RS256 (Approov's keyset
/// default). Keys marked `"use":"enc"` are skipped. Any other key this crate
/// cannot verify with is a configuration error rather than silently ignored.
pub(crate) fn public_keys_from_jwks(
    json: &str,
    source: &str,
) -> Result<Vec<PublicKey>, ConfigError> {
    let jwks = parse_jwks(json, source)?;
    let mut keys = Vec::with_capacity(jwks.keys.len());
    for (index, jwk) in jwks.keys.iter().enumerate() {
        match jwk_key(jwk) {
            Ok(Some(key)) => keys.push(key),
            Ok(None) => {}
            Err(problem) => {
                return Err(ConfigError::invalid(
                    source,
                    format!("{}: {problem}", jwk_name(index, jwk)),
                ));
            }
        }
    }
    if keys.is_empty() {
        return Err(ConfigError::invalid(
            source,
            "the JWKS has no signature keys",
        ));
    }
    Ok(keys)
}

/// Like [`public_keys_from_jwks`] for a document someone else serves (a
/// JWKS URL): a key this crate cannot verify with (another `kty`, `alg` or
/// curve, an `alg` or `use` that contradicts the key's type, broken key
/// material) is skipped, and named in the returned warnings; a document
/// with no usable key at all is still an error.
#[cfg(feature = "jwks-url")]
pub(crate) fn public_keys_from_jwks_lenient(
    json: &str,
    source: &str,
) -> Result<(Vec<PublicKey>, Vec<String>), ConfigError> {
    let jwks = parse_jwks(json, source)?;
    let mut keys = Vec::with_capacity(jwks.keys.len());
    let mut skipped = Vec::new();
    for (index, jwk) in jwks.keys.iter().enumerate() {
        match jwk_key(jwk) {
            Ok(Some(key)) => keys.push(key),
            Ok(None) => {}
            Err(problem) => skipped.push(format!("{}: {problem}", jwk_name(index, jwk))),
        }
    }
    if keys.is_empty() {
        let mut problem = "the JWKS has no signature key this crate verifies with".to_owned();
        if !skipped.is_empty() {
            problem.push_str(&format!(" (skipped: {})", skipped.join("; ")));
        }
        return Err(ConfigError::invalid(source, problem));
    }
    Ok((keys, skipped))
}

fn parse_jwks(json: &str, source: &str) -> Result<Jwks, ConfigError> {
    serde_json::from_str(json).map_err(|e| {
        ConfigError::invalid(
            source,
            format!("it is not a JWKS document ({{\"keys\":[…]}}): {e}"),
        )
    })
}

fn jwk_name(index: usize, jwk: &Jwk) -> String {
    match &jwk.kid {
        Some(kid) => format!("key {index} (kid {kid:?})"),
        None => format!("key {index}"),
    }
}

/// One JWK as a verification key; `None` for an encryption key.
fn jwk_key(jwk: &Jwk) -> Result<Option<PublicKey>, String> {
    match jwk.use_.as_deref() {
        None | Some("sig") => {}
        Some("enc") => return Ok(None),
        Some(other) => return Err(format!("use {other:?} is neither \"sig\" nor \"enc\"")),
    }
    let b64 = |field: &str, value: &Option<String>| -> Result<Vec<u8>, String> {
        let value = value
            .as_deref()
            .ok_or_else(|| format!("the {field} member is missing"))?;
        URL_SAFE_NO_PAD
            .decode(value)
            .map_err(|_| format!("the {field} member is not base64url"))
    };
    let explicit = match jwk.alg.as_deref() {
        Some(name) => Some(
            Algorithm::from_name(name).ok_or_else(|| format!("alg {name:?} is not supported"))?,
        ),
        None => None,
    };
    let (alg, material) = match jwk.kty.as_str() {
        "RSA" => {
            let material = rsa_components(b64("n", &jwk.n)?, b64("e", &jwk.e)?)?;
            (explicit.unwrap_or(Algorithm::RS256), material)
        }
        "EC" => {
            let crv = jwk.crv.as_deref().unwrap_or_default();
            let curve = Curve::from_jwk(crv)
                .ok_or_else(|| format!("curve {crv:?} is not supported (P-256, P-384)"))?;
            let (x, y) = (b64("x", &jwk.x)?, b64("y", &jwk.y)?);
            let mut point = Vec::with_capacity(1 + x.len() + y.len());
            point.push(0x04);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            let default = match curve {
                Curve::P256 => Algorithm::ES256,
                Curve::P384 => Algorithm::ES384,
            };
            (explicit.unwrap_or(default), ec_point(curve, point)?)
        }
        other => {
            return Err(format!(
                "kty {other:?} is not supported (RSA and EC public keys only)"
            ));
        }
    };
    PublicKey::new(alg, jwk.kid.as_deref(), material).map(Some)
}

/// The modulus and exponent of a PKCS#1 `RSAPublicKey`.
#[cfg(feature = "mint")]
pub(crate) fn pkcs1_n_e(der: &[u8]) -> Result<(Vec<u8>, Vec<u8>), String> {
    match rsa_from_pkcs1(der)? {
        Material::Rsa(c) => Ok((c.n, c.e)),
        Material::Ec(_) => Err("not an RSA key".to_owned()),
    }
}
