//! The verifier: built once at start-up, then shared by every request.

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::binding::TokenBinding;
use super::cache::TokenCache;
use super::claims::ApproovClaims;
use super::jws;
use super::scheme::{self, Scheme};
use crate::clock::{Clock, unix_seconds};
use crate::error::{AlgorithmProblem, ConfigError, Rejection, TokenPart};
use crate::headers::{RequestHeaders, check_header_name, single};
use crate::keys::algorithm::Algorithm;
use crate::keys::source::KeySource;
use crate::keys::store::{KeyStore, KeysReloaded, Loaded};

/// The header Approov SDKs send the token in.
pub const DEFAULT_TOKEN_HEADER: &str = "Approov-Token";
/// The default maximum token length in bytes. Approov tokens are a few
/// hundred bytes; anything much longer is refused before any decoding.
pub const DEFAULT_MAX_TOKEN_LEN: usize = 4096;

/// Verifies Approov tokens. Build it once at start-up with
/// [`Verifier::builder`] or [`Verifier::from_env`]; every configuration
/// error surfaces there. It is immutable, `Send + Sync`, and cheap to clone
/// (clones share one `Arc`).
///
/// ```
/// use approov_core::{RejectionKind, Verifier};
///
/// let verifier = Verifier::builder()
///     .secret_base64("TEST+SECRET/TEST+SECRET/TEST+SECRET/TEST+SECRET/TEST+SECRET/TEST+SECRET/TEST+SECRET/AA==")
///     .build()?;
///
/// // A token from Approov's published quickstart tests:
/// let token = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJleHAiOjE5OTk5OTk5OTksImRpZCI6IkV4YW1wbGVBcHByb292VG9rZW5ESUQ9PSJ9.1dR3xFNCWonw3Cdm3UbZRIlfL-IWy_ncnF3aA_hdDps";
/// let claims = verifier.verify(token)?;
/// assert_eq!(claims.did(), Some("ExampleApproovTokenDID=="));
///
/// // Or straight from the request headers (the adapters do this):
/// let rejection = verifier.verify_request(&[("Authorization", "Bearer x")]).unwrap_err();
/// assert_eq!(rejection.kind(), RejectionKind::Missing);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Verifier {
    pub(super) inner: Arc<Inner>,
}

/// What a verifier holds; set by [`VerifierBuilder::build`](super::builder::VerifierBuilder::build).
#[derive(Clone)]
pub(super) struct Inner {
    /// Shared by the verifiers derived from this one, so a reload reaches
    /// every route.
    pub(super) keys: Arc<KeyStore>,
    /// Where keys from outside come from, told of every verification and
    /// refusal; `None` (one check per request) without one.
    pub(super) source: Option<Arc<dyn KeySource>>,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) leeway: f64,
    pub(super) max_len: usize,
    pub(super) issuers: Vec<String>,
    pub(super) audiences: Vec<String>,
    pub(super) token_header: Box<str>,
    pub(super) binding: Option<TokenBinding>,
    pub(super) token_scheme: Option<Scheme>,
    /// Shared by the verifiers derived from this one, which have the same
    /// keys (`with_token_binding`, `with_token_header`).
    pub(super) cache: Option<Arc<TokenCache>>,
    /// Names these token rules (keys, clock, limits, header, scheme; not
    /// the binding, which a gate checks on its own): a gate reuses claims
    /// an outer gate verified only under the same rules.
    pub(super) rules: u64,
}

/// A new [`Inner::rules`] id.
pub(super) fn new_rules_id() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        f.debug_struct("Verifier")
            .field("keys", &i.keys)
            .field("clock", &i.clock)
            .field("leeway_seconds", &i.leeway)
            .field("max_token_len", &i.max_len)
            .field("issuers", &i.issuers)
            .field("audiences", &i.audiences)
            .field("token_header", &i.token_header)
            .field("binding", &i.binding)
            .field("token_scheme", &i.token_scheme)
            .field(
                "token_cache_capacity",
                &i.cache.as_ref().map(|c| c.capacity()),
            )
            .finish()
    }
}

impl Verifier {
    /// Verifies one token (the raw header value, no `Bearer ` prefix): its
    /// length, structure, algorithm, signature, claim types, time claims and
    /// any configured issuer and audience. Token binding needs the request's
    /// headers: use [`Verifier::verify_request`] for that.
    pub fn verify(&self, token: impl AsRef<[u8]>) -> Result<ApproovClaims, Rejection> {
        let token = token.as_ref();
        let i = &*self.inner;
        if token.len() > i.max_len {
            return Err(Rejection::TooLong { max: i.max_len });
        }
        if token.is_empty() {
            return Err(Rejection::Missing);
        }
        let keys = i.keys.load();
        if let Some(source) = &i.source {
            source.tick(i.clock.now());
        }
        let Some(cache) = &i.cache else {
            return self.verify_uncached(&keys, token);
        };
        let slot = cache.slot(token);
        let cached = cache.get(slot, token, keys.generation);
        crate::metrics::token_cache(cached.is_some());
        if let Some(claims) = cached {
            // The signature and claim types were checked when it was
            // stored, under the same keys; the time, issuer and audience
            // rules are checked now.
            return match self.check_claims(&claims) {
                Ok(()) => Ok(claims),
                Err(Rejection::Expired) => {
                    cache.remove(slot, token);
                    Err(Rejection::Expired)
                }
                Err(rejection) => Err(rejection),
            };
        }
        let claims = self.verify_uncached(&keys, token)?;
        cache.insert(slot, token, &claims, keys.generation);
        Ok(claims)
    }

    // `inline` (here and on `check_claims`): the token path spans several
    // modules, and so codegen units; the hint keeps it whole in the
    // caller's (scripts/bench-core-ab.sh, BENCHMARKS.md).
    #[inline]
    fn verify_uncached(&self, keys: &Loaded, token: &[u8]) -> Result<ApproovClaims, Rejection> {
        let claims = jws::verify(&keys.keys, keys.algorithms, token)
            .map_err(|rejection| unjudged(rejection, keys));
        if let (Err(rejection), Some(source)) = (&claims, &self.inner.source) {
            source.rejected(rejection, self.inner.clock.now());
        }
        let claims = claims?;
        self.check_claims(&claims)?;
        Ok(claims)
    }

    /// Reads the key files again (the secret file, PEM and JWKS files given
    /// to the builder or by `APPROOV_BASE64_SECRET_FILE`, …) and, when one
    /// changed, swaps the new keys in for this verifier and every verifier
    /// derived from it. Requests in flight finish with the keys they
    /// started with. A file that cannot be read or parsed changes nothing:
    /// the error names the file, and the old keys stay in use. Without key
    /// files it does nothing.
    ///
    /// Call it on SIGHUP and every few seconds (Kubernetes and systemd
    /// replace mounted secrets in place): the example servers do both,
    /// through [`watch_key_files`](Self::watch_key_files), which uses
    /// [`reload_keys_settled`](Self::reload_keys_settled) so that a file
    /// caught half-written is not taken. This method takes what it reads.
    /// Each reload is logged (target `approov`), and each failure once
    /// until it changes or a reload succeeds, so a broken file checked
    /// every few seconds does not flood the log.
    ///
    /// ```
    /// use approov_core::{KeysReloaded, Verifier};
    ///
    /// let dir = std::env::temp_dir().join(format!("approov-doc-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// let file = dir.join("secret");
    /// let old = "b2xkIHNlY3JldCBvZiBhdCBsZWFzdCB0aGlydHktdHdvIGJ5dGVzIGxvbmcu";
    /// std::fs::write(&file, format!("{old}\n"))?;
    /// let verifier = Verifier::builder().secret_base64_file(&file).build()?;
    /// assert_eq!(verifier.reload_keys()?, KeysReloaded::Unchanged);
    ///
    /// // Rotation: the new secret next to the old one, then the old one removed.
    /// let new = "bmV3IHNlY3JldCBvZiBhdCBsZWFzdCB0aGlydHktdHdvIGJ5dGVzIGxvbmcu";
    /// std::fs::write(&file, format!("{new}\n{old}\n"))?;
    /// assert_eq!(verifier.reload_keys()?, KeysReloaded::Reloaded);
    ///
    /// // A broken file changes nothing.
    /// std::fs::write(&file, "not base64!")?;
    /// assert!(verifier.reload_keys().is_err());
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn reload_keys(&self) -> Result<KeysReloaded, ConfigError> {
        self.inner.keys.reload_and_log(None)
    }

    /// Like [`reload_keys`](Self::reload_keys), but a changed file is taken
    /// only once it has read the same twice, at least `settle` apart: the
    /// first call that sees new content remembers its digest and answers
    /// [`KeysReloaded::Settling`]; a later call, `settle` or more after,
    /// that reads the same content swaps it in. Content that changed again
    /// in between starts the wait over. So a file caught half-written (a
    /// writer that writes in place) is not put in use, where the next read
    /// finds it whole. [`watch_key_files`](Self::watch_key_files) reloads
    /// this way with a settle time of [`KEY_FILE_SETTLE`](crate::KEY_FILE_SETTLE) (or its interval
    /// when shorter).
    ///
    /// The first sight of new content is logged (target `approov`, file
    /// names only); the reload itself is logged and counted as with
    /// `reload_keys`. A file that cannot be read is an error at once.
    ///
    /// ```
    /// use std::time::Duration;
    /// use approov_core::{KeysReloaded, Verifier};
    ///
    /// let dir = std::env::temp_dir().join(format!("approov-settle-doc-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// let file = dir.join("secret");
    /// std::fs::write(&file, "b2xkIHNlY3JldCBvZiBhdCBsZWFzdCB0aGlydHktdHdvIGJ5dGVzIGxvbmcu\n")?;
    /// let verifier = Verifier::builder().secret_base64_file(&file).build()?;
    /// std::fs::write(&file, "bmV3IHNlY3JldCBvZiBhdCBsZWFzdCB0aGlydHktdHdvIGJ5dGVzIGxvbmcu\n")?;
    /// // No settle time, to show the rule: two reads that agree.
    /// assert_eq!(verifier.reload_keys_settled(Duration::ZERO)?, KeysReloaded::Settling);
    /// assert_eq!(verifier.reload_keys_settled(Duration::ZERO)?, KeysReloaded::Reloaded);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`reload_keys`](Self::reload_keys): a file that cannot be read or
    /// parsed (the keys in use stay).
    pub fn reload_keys_settled(&self, settle: Duration) -> Result<KeysReloaded, ConfigError> {
        self.inner.keys.reload_and_log(Some(settle))
    }

    /// How many verified tokens the cache holds now; 0 without a cache
    /// ([`VerifierBuilder::cache_verified_tokens`](crate::VerifierBuilder::cache_verified_tokens)). For metrics and tests.
    pub fn cached_tokens(&self) -> usize {
        self.inner.cache.as_ref().map_or(0, |c| c.len())
    }

    #[inline]
    fn check_claims(&self, claims: &ApproovClaims) -> Result<(), Rejection> {
        let i = &*self.inner;
        let now = unix_seconds(i.clock.now());
        if now - i.leeway >= claims.exp() {
            return Err(Rejection::Expired);
        }
        if claims.nbf().is_some_and(|nbf| now + i.leeway < nbf) {
            return Err(Rejection::NotYetValid);
        }
        if !i.issuers.is_empty()
            && !claims
                .iss()
                .is_some_and(|iss| i.issuers.iter().any(|x| x == iss))
        {
            return Err(Rejection::Issuer);
        }
        if !i.audiences.is_empty() && !claims.aud().any(|a| i.audiences.iter().any(|x| x == a)) {
            return Err(Rejection::Audience);
        }
        Ok(())
    }

    /// Reads the token from the request's headers and verifies it, then
    /// applies token binding when the verifier has one.
    ///
    /// The token header must appear exactly once, be non-empty and contain
    /// only visible ASCII; with a [token scheme](crate::VerifierBuilder::token_scheme)
    /// it must be `<scheme> <token>`, one space apart.
    pub fn verify_request<H: RequestHeaders + ?Sized>(
        &self,
        headers: &H,
    ) -> Result<ApproovClaims, Rejection> {
        let i = &*self.inner;
        let token = single(headers, &i.token_header)
            .map_err(|()| Rejection::Multiple)?
            .ok_or(Rejection::Missing)?;
        let token = scheme::token(i.token_scheme.as_ref(), token)?;
        if token.len() > i.max_len {
            return Err(Rejection::TooLong { max: i.max_len });
        }
        if !visible_ascii(token) {
            return Err(Rejection::malformed(TokenPart::Token));
        }
        let claims = self.verify(token)?;
        if let Some(binding) = &i.binding {
            binding.check(&claims, headers)?;
        }
        Ok(claims)
    }

    /// The name of the header the token is read from.
    pub fn token_header(&self) -> &str {
        &self.inner.token_header
    }

    /// What names this verifier's token rules (everything but the
    /// binding): see [`crate::VerifiedBy`].
    pub(crate) fn rules_id(&self) -> u64 {
        self.inner.rules
    }

    /// The token binding applied by [`Verifier::verify_request`], if any.
    pub fn token_binding(&self) -> Option<&TokenBinding> {
        self.inner.binding.as_ref()
    }

    /// A verifier with the same keys and rules but another token binding
    /// (or none). Use it to bind some routes and not others; the keys are
    /// shared, not copied.
    pub fn with_token_binding(&self, binding: Option<TokenBinding>) -> Self {
        let mut inner = Inner::clone(&self.inner);
        inner.binding = binding;
        Self {
            inner: Arc::new(inner),
        }
    }

    /// A verifier with the same keys and rules reading the token from
    /// another header. Fails when `name` is not a valid header name.
    pub fn with_token_header(&self, name: &str) -> Result<Self, ConfigError> {
        check_header_name(name, "token_header")?;
        let mut inner = Inner::clone(&self.inner);
        inner.token_header = name.into();
        inner.rules = new_rules_id();
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    /// The key files [`reload_keys`](Self::reload_keys) reads (secret,
    /// PEM and JWKS files); none when every key was given as a value.
    pub fn key_files(&self) -> impl Iterator<Item = &Path> {
        self.inner.keys.files()
    }

    /// The outside source of keys (a JWKS URL's fetcher), if any.
    #[allow(
        dead_code,
        reason = "read by the sources that report a status (`jwks_status`), not built in every feature set"
    )]
    pub(crate) fn key_source(&self) -> Option<&Arc<dyn KeySource>> {
        self.inner.source.as_ref()
    }

    /// The algorithms some configured key verifies.
    pub fn algorithms(&self) -> impl Iterator<Item = Algorithm> + '_ {
        let bits = self.inner.keys.load().algorithms;
        Algorithm::ALL
            .into_iter()
            .filter(move |a| bits & a.bit() != 0)
    }

    /// The authentication scheme the token comes after in its header
    /// (`Bearer` for `Authorization: Bearer <token>`), if one is
    /// configured; `None` when the header holds the bare token.
    pub fn token_scheme(&self) -> Option<&str> {
        self.inner.token_scheme.as_ref().map(Scheme::as_str)
    }

    /// A verifier with the same keys and rules expecting the token after
    /// `scheme` in its header (see [`VerifierBuilder::token_scheme`](crate::VerifierBuilder::token_scheme)), or
    /// the bare token with `None`. Fails when `scheme` is empty or not an
    /// RFC 9110 token.
    ///
    /// Unlike [`VerifierBuilder::build`](crate::VerifierBuilder::build), the derived verifiers do not
    /// refuse a token binding over the token header itself (the
    /// `with_token_binding` and `with_token_header` options are set one at
    /// a time, in any order); such a verifier fails closed, refusing every
    /// request (`binding` or `binding_missing`), since no `pay` can hash
    /// the very token that holds it.
    ///
    /// ```
    /// use approov_core::{RejectionKind, Verifier};
    ///
    /// let verifier = Verifier::builder()
    ///     .secret_base64("TEST+SECRET/TEST+SECRET/TEST+SECRET/TEST+SECRET/TEST+SECRET/TEST+SECRET/TEST+SECRET/AA==")
    ///     .build()?
    ///     .with_token_header("Authorization")?
    ///     .with_token_scheme(Some("Bearer"))?;
    /// assert_eq!(verifier.token_scheme(), Some("Bearer"));
    /// let basic = [("Authorization", "Basic dXNlcjpwYXNz")];
    /// assert_eq!(verifier.verify_request(&basic).unwrap_err().kind(), RejectionKind::Scheme);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_token_scheme(&self, scheme: Option<&str>) -> Result<Self, ConfigError> {
        let scheme = scheme.map(|s| Scheme::new(s, "token_scheme")).transpose()?;
        let mut inner = Inner::clone(&self.inner);
        inner.token_scheme = scheme;
        inner.rules = new_rules_id();
        Ok(Self {
            inner: Arc::new(inner),
        })
    }
}

/// A token refused for want of a key (`unknown_key`, or an algorithm no key
/// uses) when there is no key at all was not judged: it is
/// `keys_unavailable`, answered 503. Only on the rejection path.
#[cold]
fn unjudged(rejection: Rejection, keys: &Loaded) -> Rejection {
    match rejection {
        Rejection::UnknownKey | Rejection::Algorithm(AlgorithmProblem::NotConfigured(_))
            if keys.keys.is_empty() =>
        {
            Rejection::KeysUnavailable
        }
        other => other,
    }
}

/// Whether every byte is visible ASCII (`!` to `~`). Written without an
/// early exit so that it compiles to a vectorised loop: the short-circuiting
/// `all(u8::is_ascii_graphic)` ran byte by byte, about 0.3 µs of the 2 µs the
/// `MessageSigning/gate_check_token_only` benchmark takes for a token with
/// `ipk`.
fn visible_ascii(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .fold(true, |ok, b| ok & (b.wrapping_sub(b'!') <= b'~' - b'!'))
}
