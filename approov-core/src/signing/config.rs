//! The message-signing policy and options, checked once at start-up.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::clock::Clock;
use crate::clock::SystemClock;
use crate::error::ConfigError;
use crate::keys::secret::Secret;

use super::keys::AccountKeys;
use super::origin::Origin;

/// The default maximum age of a signature's `created`: 300 s. Approov
/// tokens live for minutes, and the app signs each request just before
/// sending it, so a signature older than its token proves nothing more.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(300);
/// The default tolerance for device clocks ahead of the server's: 60 s.
/// Phones keep network time, but not all to the second; a minute lets
/// those through while `max_age` still bounds replay.
pub const DEFAULT_CLOCK_SKEW: Duration = Duration::from_secs(60);
/// The default limit on the body an adapter buffers to check
/// `Content-Digest`: 1 MiB. Larger bodies get `413` from the adapter.
pub const DEFAULT_MAX_BODY_LEN: usize = 1024 * 1024;
/// The default deadline for reading a body whose `Content-Digest` must be
/// checked: 30 s, counted from the first read. A genuine app uploads a
/// megabyte in far less; a client that trickles its body, or stops, would
/// otherwise hold a connection and a buffer for as long as it likes.
pub const DEFAULT_BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// The default limit on the components one signature may cover: 32.
/// Approov SDKs cover four or five; RFC 9421's own examples stay under a
/// dozen. Each component costs a line of the signature base, so the limit
/// bounds the work a client holding a genuine token can ask for.
pub const DEFAULT_MAX_COMPONENTS: usize = 32;
/// The default limit on the members of `Signature-Input` and `Signature`:
/// 4. Approov uses at most two labels (`install`, `account`); a few more
/// leave room for a signature added by another proxy.
pub const DEFAULT_MAX_SIGNATURES: usize = 4;
/// The default limit on the length of `Signature-Input` and of `Signature`
/// (each, all lines together): 8 KiB, far above two signatures with 32
/// components each, far below what a server accepts in a header.
pub const DEFAULT_MAX_SIGNATURE_FIELD_LEN: usize = 8 * 1024;

/// When an installation signature (label `install`) is required.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum SignaturePolicy {
    /// Whenever the token has an `ipk` claim (the app signs only when its
    /// Approov configuration enables message signing). The default.
    #[default]
    IfTokenHasIpk,
    /// Always: a token without `ipk` is rejected (`signature_missing`).
    Always,
    /// Never: no signature and no `Content-Digest` is checked.
    Off,
}

/// Message-signing configuration (RFC 9421 signatures and RFC 9530
/// `Content-Digest`), given to a [`Gate`](crate::Gate) with
/// [`Gate::message_signing`](crate::Gate::message_signing). Immutable and
/// cheap to clone.
///
/// ```
/// use approov_core::signing::{MessageSigning, SignaturePolicy};
/// use std::time::Duration;
///
/// let signing = MessageSigning::builder()
///     .policy(SignaturePolicy::Always)
///     .public_origin("https://api.example.com")
///     .max_age(Duration::from_secs(120))
///     .build()?;
/// assert_eq!(signing.policy(), SignaturePolicy::Always);
/// # Ok::<(), approov_core::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct MessageSigning {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) policy: SignaturePolicy,
    pub(crate) accounts: AccountKeys,
    pub(crate) max_age: Duration,
    pub(crate) clock_skew: Duration,
    pub(crate) require_created: bool,
    pub(crate) public_origin: Option<Origin>,
    pub(crate) trust_forwarded: bool,
    pub(crate) check_digest_when_present: bool,
    /// `None`: `@method`, `@target-uri` and the verifier's token header.
    pub(crate) required: Option<Vec<String>>,
    pub(crate) max_body_len: usize,
    pub(crate) body_read_timeout: Duration,
    pub(crate) limits: Limits,
    pub(crate) require_digest_for_body: bool,
    pub(crate) require_supported_digest: bool,
    pub(crate) clock: Arc<dyn Clock>,
}

/// The per-request bounds on the signature fields.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) components: usize,
    pub(crate) signatures: usize,
    pub(crate) field_len: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            components: DEFAULT_MAX_COMPONENTS,
            signatures: DEFAULT_MAX_SIGNATURES,
            field_len: DEFAULT_MAX_SIGNATURE_FIELD_LEN,
        }
    }
}

impl fmt::Debug for MessageSigning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        f.debug_struct("MessageSigning")
            .field("policy", &i.policy)
            .field("account_keys", &i.accounts)
            .field("max_age", &i.max_age)
            .field("clock_skew", &i.clock_skew)
            .field("require_created", &i.require_created)
            .field("public_origin", &i.public_origin)
            .field("trust_forwarded_headers", &i.trust_forwarded)
            .field("check_digest_when_present", &i.check_digest_when_present)
            .field("required_components", &i.required)
            .field("max_body_len", &i.max_body_len)
            .field("body_read_timeout", &i.body_read_timeout)
            .field("max_components", &i.limits.components)
            .field("max_signatures", &i.limits.signatures)
            .field("max_signature_field_len", &i.limits.field_len)
            .field("require_digest_for_body", &i.require_digest_for_body)
            .field("require_supported_digest", &i.require_supported_digest)
            .field("clock", &i.clock)
            .finish()
    }
}

impl Default for MessageSigning {
    /// [`SignaturePolicy::IfTokenHasIpk`] with every default.
    fn default() -> Self {
        MessageSigningBuilder::default().finish()
    }
}

impl MessageSigning {
    /// Starts a configuration with the defaults listed on each method.
    pub fn builder() -> MessageSigningBuilder {
        MessageSigningBuilder::default()
    }

    /// Message signing switched off.
    pub fn off() -> Self {
        MessageSigningBuilder::default()
            .policy(SignaturePolicy::Off)
            .finish()
    }

    /// The policy.
    pub fn policy(&self) -> SignaturePolicy {
        self.inner.policy
    }

    /// The largest body read for a `Content-Digest` check; beyond it the
    /// request is refused with `413 Payload Too Large`
    /// ([`BodyProblem::TooLarge`](crate::BodyProblem::TooLarge)).
    pub fn max_body_len(&self) -> usize {
        self.inner.max_body_len
    }

    /// How long reading a body for a `Content-Digest` check may take;
    /// beyond it the request is refused with `408 Request Timeout`
    /// ([`BodyProblem::TimedOut`](crate::BodyProblem::TimedOut)).
    pub fn body_read_timeout(&self) -> Duration {
        self.inner.body_read_timeout
    }
}

/// Configuration for [`MessageSigning`]. Methods record values; every
/// check runs in [`MessageSigningBuilder::build`].
pub struct MessageSigningBuilder {
    policy: SignaturePolicy,
    accounts: AccountKeys,
    errors: Vec<ConfigError>,
    max_age: Duration,
    clock_skew: Duration,
    require_created: bool,
    public_origin: Option<String>,
    trust_forwarded: bool,
    check_digest_when_present: bool,
    required: Option<Vec<String>>,
    max_body_len: usize,
    body_read_timeout: Duration,
    limits: Limits,
    require_digest_for_body: bool,
    require_supported_digest: bool,
    clock: Option<Arc<dyn Clock>>,
}

impl Default for MessageSigningBuilder {
    fn default() -> Self {
        Self {
            policy: SignaturePolicy::default(),
            accounts: AccountKeys::default(),
            errors: Vec::new(),
            max_age: DEFAULT_MAX_AGE,
            clock_skew: DEFAULT_CLOCK_SKEW,
            require_created: true,
            public_origin: None,
            trust_forwarded: false,
            check_digest_when_present: true,
            required: None,
            max_body_len: DEFAULT_MAX_BODY_LEN,
            body_read_timeout: DEFAULT_BODY_READ_TIMEOUT,
            limits: Limits::default(),
            require_digest_for_body: true,
            require_supported_digest: true,
            clock: None,
        }
    }
}

impl fmt::Debug for MessageSigningBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MessageSigningBuilder")
            .field("policy", &self.policy)
            .field("account_keys", &self.accounts)
            .field("errors", &self.errors)
            .finish_non_exhaustive()
    }
}

impl MessageSigningBuilder {
    /// When an installation signature is required. Default
    /// [`SignaturePolicy::IfTokenHasIpk`].
    pub fn policy(mut self, policy: SignaturePolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Adds the account message-signing secret for tokens whose `mskid` is
    /// `mskid`, base64 in the standard or URL-safe alphabet, padded or not
    /// (the same rules as the token secret, including its minimum length of
    /// [`MIN_HMAC_SECRET_LEN`](crate::MIN_HMAC_SECRET_LEN)). With at least one account
    /// secret, a token carrying `mskid` needs a valid `account` signature.
    pub fn account_secret_base64(self, mskid: &str, encoded: &str) -> Self {
        let secret = Secret::from_base64(encoded, "account_secret_base64");
        self.account(mskid, secret)
    }

    /// Adds an account message-signing secret given as raw bytes.
    pub fn account_secret(self, mskid: &str, secret: Secret) -> Self {
        self.account(mskid, Ok(secret))
    }

    fn account(mut self, mskid: &str, secret: Result<Secret, ConfigError>) -> Self {
        match secret {
            _ if mskid.is_empty() => self
                .errors
                .push(ConfigError::invalid("account_secret", "the mskid is empty")),
            Ok(secret) => match secret.for_hmac("account_secret") {
                Ok(secret) => self.accounts.push(mskid, &secret),
                Err(e) => self.errors.push(e),
            },
            Err(e) => self.errors.push(e),
        }
        self
    }

    /// How old a signature's `created` may be. Default [`DEFAULT_MAX_AGE`].
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age;
        self
    }

    /// How far a device clock may be off, applied to `created` (in the
    /// future), the maximum age and `expires`. Default [`DEFAULT_CLOCK_SKEW`].
    pub fn clock_skew(mut self, skew: Duration) -> Self {
        self.clock_skew = skew;
        self
    }

    /// Whether a signature without `created` is rejected. Default `true`.
    pub fn require_created(mut self, yes: bool) -> Self {
        self.require_created = yes;
        self
    }

    /// The scheme and authority clients address, e.g.
    /// `https://api.example.com`, used for `@scheme`, `@authority` and
    /// `@target-uri` instead of what the server sees. Set it when a proxy
    /// or load balancer sits in front of the server.
    pub fn public_origin(mut self, origin: &str) -> Self {
        self.public_origin = Some(origin.to_owned());
        self
    }

    /// Reads the scheme and authority from `Forwarded` (RFC 7239), else
    /// `X-Forwarded-Proto` / `X-Forwarded-Host`, taking the last element
    /// (the one the nearest proxy added). Off by default: enable it only
    /// when every request comes through a proxy that sets these headers,
    /// or clients could choose the origin checked. A public origin wins.
    pub fn trust_forwarded_headers(mut self, yes: bool) -> Self {
        self.trust_forwarded = yes;
        self
    }

    /// Whether a `Content-Digest` header is checked against the body even
    /// when no signature covers it. Default `true`. A covered
    /// `Content-Digest` is always checked.
    pub fn verify_content_digest(mut self, yes: bool) -> Self {
        self.check_digest_when_present = yes;
        self
    }

    /// The components every signature must cover, e.g. `["@method",
    /// "@target-uri", "approov-token"]`. By default `@method`,
    /// `@target-uri` and the verifier's token header, which Approov SDKs
    /// always sign; pass an empty list to require nothing.
    pub fn required_components<I, S>(mut self, components: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.required = Some(
            components
                .into_iter()
                .map(|c| c.as_ref().to_ascii_lowercase())
                .collect(),
        );
        self
    }

    /// The largest body read to check `Content-Digest`. Default
    /// [`DEFAULT_MAX_BODY_LEN`]. A `Content-Length` above it is refused
    /// (413) before a byte is read; a body without one is refused as soon
    /// as it passes the limit.
    pub fn max_body_len(mut self, bytes: usize) -> Self {
        self.max_body_len = bytes;
        self
    }

    /// How long reading a body to check `Content-Digest` may take, from the
    /// first read to the last byte. Default [`DEFAULT_BODY_READ_TIMEOUT`];
    /// past it the request is refused with `408` and `{}`. Must not be zero.
    pub fn body_read_timeout(mut self, timeout: Duration) -> Self {
        self.body_read_timeout = timeout;
        self
    }

    /// The most components one signature may cover. Default
    /// [`DEFAULT_MAX_COMPONENTS`]; beyond it the request is refused
    /// (`signature_limit`) before its signature base is built. Must be at
    /// least the number of required components.
    pub fn max_components(mut self, components: usize) -> Self {
        self.limits.components = components;
        self
    }

    /// The most members `Signature-Input` and `Signature` may each have.
    /// Default [`DEFAULT_MAX_SIGNATURES`]; beyond it the request is refused
    /// (`signature_limit`). At least 1, and 2 with account secrets.
    pub fn max_signatures(mut self, signatures: usize) -> Self {
        self.limits.signatures = signatures;
        self
    }

    /// The longest `Signature-Input` or `Signature` field, in bytes, all its
    /// lines together. Default [`DEFAULT_MAX_SIGNATURE_FIELD_LEN`]; a longer
    /// field is refused (`signature_limit`) before it is parsed. The same
    /// bound applies to `Content-Digest`.
    pub fn max_signature_field_len(mut self, bytes: usize) -> Self {
        self.limits.field_len = bytes;
        self
    }

    /// Whether a request with a body (a `Content-Length` other than 0, or a
    /// `Transfer-Encoding`) must have its installation signature cover
    /// `content-digest` (the whole field, or its `sha-256`/`sha-512`
    /// member). Default `true`: without it, a body could be swapped under
    /// a valid signature together with a recomputed `Content-Digest`.
    pub fn require_digest_for_body(mut self, yes: bool) -> Self {
        self.require_digest_for_body = yes;
        self
    }

    /// Whether a `Content-Digest` that is checked (it is covered, or
    /// [`verify_content_digest`](Self::verify_content_digest) is on) and
    /// names no supported algorithm (`sha-256`, `sha-512`) is refused
    /// (`digest_invalid`). Default `true`; `false` lets such a header pass
    /// unchecked, as RFC 9530 §2 allows a recipient to ignore algorithms it
    /// does not know (then the body is not protected by it).
    pub fn require_supported_digest(mut self, yes: bool) -> Self {
        self.require_supported_digest = yes;
        self
    }

    /// Reads the time from `clock` (use the verifier's, e.g. a shared
    /// [`ManualClock`](crate::ManualClock) in tests). Default: the system clock.
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Some(Arc::new(clock));
        self
    }

    /// Checks the configuration and builds it.
    pub fn build(mut self) -> Result<MessageSigning, ConfigError> {
        if !self.errors.is_empty() {
            return Err(self.errors.swap_remove(0));
        }
        self.check_limits()?;
        let origin = match &self.public_origin {
            Some(o) => Some(Origin::parse_public(o)?),
            None => None,
        };
        Ok(self.finish_with(origin))
    }

    fn check_limits(&self) -> Result<(), ConfigError> {
        let l = &self.limits;
        // The default required components are three; a signature covers
        // at least one component.
        let least = self.required.as_ref().map_or(3, Vec::len).max(1);
        if l.components < least {
            return Err(ConfigError::invalid(
                "max_components",
                format!("it must be at least {least} (the required components)"),
            ));
        }
        let labels = if self.accounts.is_empty() { 1 } else { 2 };
        if l.signatures < labels {
            return Err(ConfigError::invalid(
                "max_signatures",
                format!("it must be at least {labels} (one per label checked)"),
            ));
        }
        if self.body_read_timeout.is_zero() {
            return Err(ConfigError::invalid(
                "body_read_timeout",
                "it must be longer than zero, or no body could be read",
            ));
        }
        if l.field_len < 64 {
            return Err(ConfigError::invalid(
                "max_signature_field_len",
                "it must be at least 64 bytes, or no signature fits",
            ));
        }
        Ok(())
    }

    fn finish(self) -> MessageSigning {
        self.finish_with(None)
    }

    fn finish_with(self, public_origin: Option<Origin>) -> MessageSigning {
        MessageSigning {
            inner: Arc::new(Inner {
                policy: self.policy,
                accounts: self.accounts,
                max_age: self.max_age,
                clock_skew: self.clock_skew,
                require_created: self.require_created,
                public_origin,
                trust_forwarded: self.trust_forwarded,
                check_digest_when_present: self.check_digest_when_present,
                required: self.required,
                max_body_len: self.max_body_len,
                body_read_timeout: self.body_read_timeout,
                limits: self.limits,
                require_digest_for_body: self.require_digest_for_body,
                require_supported_digest: self.require_supported_digest,
                clock: self.clock.unwrap_or_else(|| Arc::new(SystemClock)),
            }),
        }
    }
}
