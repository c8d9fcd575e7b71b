//! Checking a request's message signatures against its verified token:
//! the policy, the signature parameters, the signature base and the keys,
//! then `Content-Digest`.

use sfv::{BareItem, Dictionary};

use crate::clock::unix_seconds;
use crate::error::Rejection;
use crate::headers::RequestHeaders;
use crate::token::claims::ApproovClaims;

use super::base::{self, BaseError};
use super::component::Component;
use super::component::FieldForm;
use super::config::{MessageSigning, SignaturePolicy};
use super::digest::{self, CONTENT_DIGEST, DigestAlgorithm, Expected};
use super::fields::{
    EntryError, FieldError, SignatureInput, dictionary, input_entry, signature_entry,
};
use super::keys::{InstallPublicKey, verify_hmac};
use super::message::MessageParts;
use super::origin::{AuthorityProblem, Origin};
use super::problem::{
    ComponentName, DigestProblem, KeyProblem, SignatureLabel, SignatureLimit, SignatureProblem,
};

/// The request's two signature fields, parsed once for both labels.
struct Fields {
    inputs: Result<Option<Dictionary>, FieldError>,
    signatures: Result<Option<Dictionary>, FieldError>,
}

const SIGNATURE_INPUT: (&str, &str) = ("signature-input", "Signature-Input");
const SIGNATURE: (&str, &str) = ("signature", "Signature");

/// What the body step must check, as the head step found.
#[derive(Debug, Default)]
pub(crate) struct BodyNeeds {
    /// The digests the body must match.
    pub(crate) digests: Option<Expected>,
    /// The body must be empty, or this is the rejection: the adapter could
    /// not say whether a body follows, and the signature does not cover
    /// its digest.
    pub(crate) empty_or: Option<Rejection>,
}

impl BodyNeeds {
    /// Whether there is nothing to check: the body may stream on unread.
    pub(crate) fn is_nothing(&self) -> bool {
        self.digests.is_none() && self.empty_or.is_none()
    }
}

/// What a labelled signature needs checked, once its rules have passed.
struct Prepared {
    base: Vec<u8>,
    signature: Vec<u8>,
    covers_digest: bool,
}

impl MessageSigning {
    /// Checks the message signatures of a request whose token verified as
    /// `claims`, and its `Content-Digest` against `body`, the whole body
    /// (`None` when it was not read). `token_header` is the verifier's
    /// token header (required to be covered by default).
    ///
    /// [`Gate::check_message`](crate::Gate::check_message) calls this;
    /// adapters use the gate's two steps,
    /// [`Gate::check_head`](crate::Gate::check_head) and
    /// [`BodyCheck::finish`](crate::BodyCheck::finish), which read the body
    /// only once everything else passed.
    pub fn verify<H: RequestHeaders + ?Sized>(
        &self,
        claims: &ApproovClaims,
        token_header: &str,
        parts: &MessageParts<'_, H>,
        body: Option<&[u8]>,
    ) -> Result<(), Rejection> {
        let parts = match body {
            Some(body) if !body.is_empty() => parts.with_body(true),
            _ => *parts,
        };
        // A non-empty body made the parts say so: `empty_or` cannot apply.
        match self.verify_head(claims, token_header, &parts)?.digests {
            None => Ok(()),
            Some(expected) => {
                let body = body.ok_or(Rejection::DigestInvalid(DigestProblem::BodyNotBuffered))?;
                expected.check(body)
            }
        }
    }

    /// Everything [`verify`](Self::verify) checks that the head of the
    /// request shows: the policy, every signature (they cover the
    /// `Content-Digest` header, not the body) and the header itself. What
    /// is left is the body, as the [`BodyNeeds`] returned say.
    pub(crate) fn verify_head<H: RequestHeaders + ?Sized>(
        &self,
        claims: &ApproovClaims,
        token_header: &str,
        parts: &MessageParts<'_, H>,
    ) -> Result<BodyNeeds, Rejection> {
        let i = &*self.inner;
        let mut needs = BodyNeeds::default();
        let install = match i.policy {
            SignaturePolicy::Off => return Ok(needs),
            SignaturePolicy::IfTokenHasIpk => claims.ipk().is_some(),
            SignaturePolicy::Always => true,
        };
        let account = match claims.mskid() {
            Some(mskid) if !i.accounts.is_empty() => {
                Some(i.accounts.get(mskid).ok_or(Rejection::SignatureKey {
                    label: SignatureLabel::Account,
                    problem: KeyProblem::UnknownMskid,
                })?)
            }
            _ => None,
        };
        let headers = parts.headers();
        let mut covers_digest = false;
        if install || account.is_some() {
            let fields = self.read_fields(headers)?;
            let origin = Origin::of_request(i.public_origin.as_ref(), i.trust_forwarded, parts);
            if install {
                let label = SignatureLabel::Install;
                let ipk = claims.ipk().ok_or(Rejection::SignatureMissing { label })?;
                let key = InstallPublicKey::from_ipk(ipk)
                    .map_err(|problem| Rejection::SignatureKey { label, problem })?;
                let p = self.prepare(label, &fields, parts, &origin, token_header)?;
                if i.require_digest_for_body && !p.covers_digest {
                    let component = ComponentName::new("\"content-digest\"");
                    let not_covered = invalid(label, SignatureProblem::NotCovered(component));
                    if parts.has_body() {
                        return Err(not_covered);
                    }
                    // The adapter cannot tell whether a body follows (HTTP/2
                    // needs no `Content-Length`): one must not.
                    if !parts.body_known() {
                        needs.empty_or = Some(not_covered);
                    }
                }
                if !key.verify(&p.base, &p.signature) {
                    return Err(invalid(label, SignatureProblem::Mismatch));
                }
                covers_digest |= p.covers_digest;
            }
            if let Some(key) = account {
                let label = SignatureLabel::Account;
                let p = self.prepare(label, &fields, parts, &origin, token_header)?;
                if !verify_hmac(key, &p.base, &p.signature) {
                    return Err(invalid(label, SignatureProblem::Mismatch));
                }
                covers_digest |= p.covers_digest;
            }
        }
        if covers_digest || (i.check_digest_when_present && digest::present(headers)) {
            needs.digests =
                Expected::read(headers, i.limits.field_len, i.require_supported_digest)?;
        }
        Ok(needs)
    }

    /// The signature base (RFC 9421 §2.5) of the signature labelled `label`
    /// in this request's `Signature-Input`, as this configuration computes
    /// it; `None` when the entry is absent or the base cannot be built.
    /// For diagnosing clients that sign something else than the server sees.
    pub fn signature_base<H: RequestHeaders + ?Sized>(
        &self,
        parts: &MessageParts<'_, H>,
        label: &str,
    ) -> Option<Vec<u8>> {
        let i = &*self.inner;
        let inputs = self
            .read_field(parts.headers(), SIGNATURE_INPUT)
            .ok()?
            .ok()??;
        let input = input_entry(&inputs, label, i.limits.components).ok()??;
        let origin = Origin::of_request(i.public_origin.as_ref(), i.trust_forwarded, parts);
        base::build(parts, &origin, &input).ok()
    }

    /// Reads `Signature-Input` and `Signature`, refusing fields longer than
    /// the limit before parsing them and dictionaries with more members than
    /// the limit before looking at any. A field that does not parse is
    /// reported later, for the label that needs it.
    fn read_fields<H: RequestHeaders + ?Sized>(&self, headers: &H) -> Result<Fields, Rejection> {
        Ok(Fields {
            inputs: self.read_field(headers, SIGNATURE_INPUT)?,
            signatures: self.read_field(headers, SIGNATURE)?,
        })
    }

    /// One of the two fields, `(lower-case name, name as written)`, within
    /// the length and member limits.
    fn read_field<H: RequestHeaders + ?Sized>(
        &self,
        headers: &H,
        (name, written): (&str, &'static str),
    ) -> Result<Result<Option<Dictionary>, FieldError>, Rejection> {
        let limits = &self.inner.limits;
        match dictionary(headers, name, limits.field_len) {
            Err(FieldError::TooLong) => {
                Err(Rejection::SignatureLimit(SignatureLimit::FieldTooLong {
                    field: written,
                    max: limits.field_len,
                }))
            }
            Ok(Some(dict)) if dict.len() > limits.signatures => Err(Rejection::SignatureLimit(
                SignatureLimit::TooManySignatures {
                    max: limits.signatures,
                },
            )),
            other => Ok(other),
        }
    }

    fn prepare<H: RequestHeaders + ?Sized>(
        &self,
        label: SignatureLabel,
        fields: &Fields,
        parts: &MessageParts<'_, H>,
        origin: &Result<Origin, (Origin, AuthorityProblem)>,
        token_header: &str,
    ) -> Result<Prepared, Rejection> {
        let i = &*self.inner;
        let missing = Rejection::SignatureMissing { label };
        let input = match &fields.inputs {
            Err(_) => return Err(invalid(label, SignatureProblem::MalformedInput)),
            Ok(None) => return Err(missing),
            Ok(Some(dict)) => input_entry(dict, label.as_str(), i.limits.components)
                .map_err(|e| match e {
                    EntryError::TooManyComponents => {
                        Rejection::SignatureLimit(SignatureLimit::TooManyComponents {
                            max: i.limits.components,
                        })
                    }
                    EntryError::Invalid(p) => invalid(label, p),
                })?
                .ok_or_else(|| missing.clone())?,
        };
        let signature = match &fields.signatures {
            Err(_) => return Err(invalid(label, SignatureProblem::MalformedSignature)),
            Ok(None) => return Err(missing),
            Ok(Some(dict)) => signature_entry(dict, label.as_str())
                .map_err(|p| invalid(label, p))?
                .ok_or(missing)?,
        };
        self.check_params(label, &input)?;
        self.check_required(label, &input, token_header)?;
        let base = base::build(parts, origin, &input).map_err(|e| match e {
            BaseError::Unsupported(component) => {
                Rejection::SignatureUnsupported { label, component }
            }
            BaseError::Invalid(problem) => invalid(label, problem),
        })?;
        // A `;key` component covers one member: only a supported
        // algorithm's member protects the body (`;key="md5"` does not).
        let covers_digest = input
            .components
            .iter()
            .any(|item| match Component::parse(item) {
                Ok(Component::Field(CONTENT_DIGEST, FieldForm::Key(key))) => {
                    DigestAlgorithm::from_name(&key).is_some()
                }
                Ok(Component::Field(CONTENT_DIGEST, _)) => true,
                _ => false,
            });
        Ok(Prepared {
            base,
            signature,
            covers_digest,
        })
    }

    /// `alg`, `created` and `expires` (RFC 9421 §2.3). `keyid`, `nonce`,
    /// `tag` and unknown parameters are ignored: they are signed as part of
    /// `@signature-params`, and nothing here depends on them.
    fn check_params(&self, label: SignatureLabel, input: &SignatureInput) -> Result<(), Rejection> {
        let i = &*self.inner;
        let mut alg = None;
        let (mut created, mut expires) = (None, None);
        for (key, value) in &input.params {
            match key.as_str() {
                "alg" => alg = Some(value),
                "created" => created = Some(integer(label, value)?),
                "expires" => expires = Some(integer(label, value)?),
                _ => {}
            }
        }
        if let Some(alg) = alg {
            let matches = matches!(alg, BareItem::String(s) if s.as_str() == label.algorithm());
            if !matches {
                return Err(invalid(label, SignatureProblem::Algorithm));
            }
        }
        let now = unix_seconds(i.clock.now());
        let skew = i.clock_skew.as_secs_f64();
        if let (Some(created), Some(expires)) = (created, expires)
            && expires < created
        {
            return Err(invalid(label, SignatureProblem::ExpiresBeforeCreated));
        }
        match created {
            None if i.require_created => {
                return Err(invalid(label, SignatureProblem::CreatedMissing));
            }
            None => {}
            Some(created) => {
                let created = created as f64;
                if created > now + skew {
                    return Err(invalid(label, SignatureProblem::CreatedInFuture));
                }
                if now - created > i.max_age.as_secs_f64() + skew {
                    return Err(Rejection::SignatureExpired { label });
                }
            }
        }
        if expires.is_some_and(|expires| (expires as f64) + skew < now) {
            return Err(Rejection::SignatureExpired { label });
        }
        Ok(())
    }

    fn check_required(
        &self,
        label: SignatureLabel,
        input: &SignatureInput,
        token_header: &str,
    ) -> Result<(), Rejection> {
        let token_header = token_header.to_ascii_lowercase();
        let defaults = ["@method", "@target-uri", token_header.as_str()];
        let required: Vec<&str> = match &self.inner.required {
            Some(list) => list.iter().map(String::as_str).collect(),
            None => defaults.to_vec(),
        };
        for name in required {
            let covered = input.components.iter().any(|item| {
                item.params.is_empty()
                    && matches!(&item.bare_item, BareItem::String(s) if s.as_str() == name)
            });
            if !covered {
                let component = ComponentName::new(&format!("\"{name}\""));
                return Err(invalid(label, SignatureProblem::NotCovered(component)));
            }
        }
        Ok(())
    }
}

fn integer(label: SignatureLabel, value: &BareItem) -> Result<i64, Rejection> {
    match value {
        BareItem::Integer(n) => Ok(i64::from(*n)),
        _ => Err(invalid(label, SignatureProblem::Parameter)),
    }
}

fn invalid(label: SignatureLabel, problem: SignatureProblem) -> Rejection {
    Rejection::SignatureInvalid { label, problem }
}
