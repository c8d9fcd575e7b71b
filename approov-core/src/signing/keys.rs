//! The keys message signatures are checked with: the installation's P-256
//! public key from the token's `ipk`, and account HMAC secrets by `mskid`.

use der::Decode as _;
use ring::{hmac, signature};
use spki::ObjectIdentifier;
use std::fmt;

use super::fields::decode_base64;
use super::problem::KeyProblem;
use crate::keys::secret::Secret;

const OID_EC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const OID_P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
/// An uncompressed P-256 point: `0x04 ‖ x ‖ y`.
const P256_POINT_LEN: usize = 65;

/// An installation's public key: the P-256 key whose SubjectPublicKeyInfo
/// the Approov token carries, base64, in its `ipk` claim.
///
/// ```
/// use approov_core::signing::InstallPublicKey;
///
/// // The P-256 key of RFC 9421 Appendix B.1.3.
/// let key = InstallPublicKey::from_ipk(
///     "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEqIVYZVLCrPZHGHjP17CTW0/+D9Lfw0EkjqF7xB4FivAxzic30tMM4GF+hR6Dxh71Z50VGGdldkkDXZCnTNnoXQ==",
/// )?;
/// assert!(!key.verify(b"signature base", &[0; 64]));
/// # Ok::<(), approov_core::signing::KeyProblem>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct InstallPublicKey {
    point: Vec<u8>,
}

impl fmt::Debug for InstallPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("InstallPublicKey(P-256)")
    }
}

impl InstallPublicKey {
    /// Reads an `ipk` claim: base64 (standard, padding optional) of a DER
    /// SubjectPublicKeyInfo for an uncompressed P-256 point.
    pub fn from_ipk(ipk: &str) -> Result<Self, KeyProblem> {
        let der = decode_base64(ipk.trim()).ok_or(KeyProblem::IpkNotBase64)?;
        Self::from_spki_der(&der)
    }

    /// Reads a DER SubjectPublicKeyInfo for an uncompressed P-256 point.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, KeyProblem> {
        let spki =
            spki::SubjectPublicKeyInfoRef::from_der(der).map_err(|_| KeyProblem::IpkNotSpki)?;
        let on_p256 = spki.algorithm.oid == OID_EC
            && spki
                .algorithm
                .parameters_oid()
                .is_ok_and(|curve| curve == OID_P256);
        let point = spki
            .subject_public_key
            .as_bytes()
            .filter(|p| on_p256 && p.len() == P256_POINT_LEN && p.first() == Some(&0x04))
            .ok_or(KeyProblem::IpkNotP256)?;
        Ok(Self {
            point: point.to_vec(),
        })
    }

    /// Whether `sig` (64 bytes, `r ‖ s`) is an `ecdsa-p256-sha256` signature
    /// of `base` (RFC 9421 §3.3.4). A point not on the curve never verifies.
    pub fn verify(&self, base: &[u8], sig: &[u8]) -> bool {
        sig.len() == 64
            && signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, &self.point)
                .verify(base, sig)
                .is_ok()
    }
}

/// Account message-signing secrets, each named by the `mskid` it verifies.
#[derive(Clone, Default)]
pub(crate) struct AccountKeys(Vec<(Box<str>, hmac::Key)>);

impl fmt::Debug for AccountKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Key ids are public; the secrets are not shown.
        let mut list = f.debug_list();
        for (id, _) in &self.0 {
            list.entry(&format_args!("mskid={id:?} [redacted]"));
        }
        list.finish()
    }
}

impl AccountKeys {
    pub(crate) fn push(&mut self, mskid: &str, secret: &Secret) {
        self.0.retain(|(id, _)| &**id != mskid);
        self.0.push((
            mskid.into(),
            hmac::Key::new(hmac::HMAC_SHA256, secret.expose()),
        ));
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn get(&self, mskid: &str) -> Option<&hmac::Key> {
        self.0.iter().find(|(id, _)| &**id == mskid).map(|(_, k)| k)
    }
}

/// Whether `sig` is the `hmac-sha256` of `base` (constant time).
pub(crate) fn verify_hmac(key: &hmac::Key, base: &[u8], sig: &[u8]) -> bool {
    hmac::verify(key, base, sig).is_ok()
}
