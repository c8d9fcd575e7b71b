//! The verifier: built once at start-up, then shared by every request.

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::cache::TokenCache;
use crate::clock::unix_seconds;
use crate::headers::single;
use crate::keys::{HmacKey, KeySet, PublicKey, public_keys_from_jwks};
use crate::reload::{KeyFile, KeyStore, KeysReloaded, Loaded};
// `Authorization: Bearer <token>`: the options and parsing live there.
#[path = "scheme.rs"]
mod scheme;

use crate::{
    Algorithm, ApproovClaims, Clock, ConfigError, Rejection, RequestHeaders, Secret, SystemClock,
    TokenBinding,
};

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
    inner: Arc<Inner>,
}

#[derive(Clone)]
struct Inner {
    /// Shared by the verifiers derived from this one, so a reload reaches
    /// every route.
    keys: Arc<KeyStore>,
    clock: Arc<dyn Clock>,
    leeway: f64,
    max_len: usize,
    issuers: Vec<String>,
    audiences: Vec<String>,
    token_header: Box<str>,
    binding: Option<TokenBinding>,
    token_scheme: Option<scheme::Scheme>,
    /// Shared by the verifiers derived from this one, which have the same
    /// keys (`with_token_binding`, `with_token_header`).
    cache: Option<Arc<TokenCache>>,
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
    /// Starts a configuration.
    pub fn builder() -> VerifierBuilder {
        VerifierBuilder::default()
    }

    /// Builds a verifier from the process environment; see
    /// [`VerifierBuilder::from_env`] for the variables.
    pub fn from_env() -> Result<Self, ConfigError> {
        VerifierBuilder::from_env()?.build()
    }

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
        #[cfg(feature = "jwks-url")]
        if let Some(jwks) = &i.keys.jwks {
            jwks.tick(&*i.clock);
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

    fn verify_uncached(&self, keys: &Loaded, token: &[u8]) -> Result<ApproovClaims, Rejection> {
        let claims = crate::jws::verify(&keys.keys, keys.algorithms, token);
        #[cfg(feature = "jwks-url")]
        if let (Err(rejection), Some(jwks)) = (&claims, &self.inner.keys.jwks) {
            jwks.rejected(rejection, &*self.inner.clock);
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

    /// How many verified tokens the cache holds now; 0 without a cache
    /// ([`VerifierBuilder::cache_verified_tokens`]). For metrics and tests.
    pub fn cached_tokens(&self) -> usize {
        self.inner.cache.as_ref().map_or(0, |c| c.len())
    }

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
    /// only visible ASCII; with a [token scheme](VerifierBuilder::token_scheme)
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
            return Err(Rejection::malformed(crate::TokenPart::Token));
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
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    /// The key files [`reload_keys`](Self::reload_keys) reads (secret,
    /// PEM and JWKS files); none when every key was given as a value.
    pub fn key_files(&self) -> impl Iterator<Item = &Path> {
        self.inner.keys.files()
    }

    pub(crate) fn key_store(&self) -> &KeyStore {
        &self.inner.keys
    }

    /// The algorithms some configured key verifies.
    pub fn algorithms(&self) -> impl Iterator<Item = Algorithm> + '_ {
        let bits = self.inner.keys.load().algorithms;
        Algorithm::ALL
            .into_iter()
            .filter(move |a| bits & a.bit() != 0)
    }
}

/// Configuration for a [`Verifier`]. Methods record values; every check
/// runs in [`VerifierBuilder::build`], which reports the first problem.
#[derive(Default)]
pub struct VerifierBuilder {
    keys: KeySet,
    files: Vec<KeyFile>,
    errors: Vec<ConfigError>,
    clock: Option<Arc<dyn Clock>>,
    leeway: Duration,
    max_len: Option<usize>,
    issuers: Vec<String>,
    audiences: Vec<String>,
    token_header: Option<String>,
    binding: Option<TokenBinding>,
    token_scheme: Option<scheme::Scheme>,
    cache_capacity: usize,
    #[cfg(feature = "jwks-url")]
    pub(crate) jwks: Option<crate::jwks_url::JwksUrl>,
}

impl fmt::Debug for VerifierBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifierBuilder")
            .field("keys", &self.keys)
            .field("key_files", &self.files)
            .field("errors", &self.errors)
            .finish_non_exhaustive()
    }
}

impl VerifierBuilder {
    /// Reads the configuration from the process environment:
    ///
    /// | variable | meaning |
    /// |---|---|
    /// | `APPROOV_BASE64_SECRET` | the account secret, base64 (standard or URL-safe, padded or not) |
    /// | `APPROOV_BASE64URL_SECRET` | the same, under the name some quickstarts use (set only one) |
    /// | `APPROOV_BASE64_SECRET_FILE` | instead, a file holding the secret (one or more, one per line: [`secret_base64_file`](Self::secret_base64_file)), read again by [`Verifier::reload_keys`] |
    /// | `APPROOV_JWKS_FILE` | a JWKS file of public keys ([`jwks_file`](Self::jwks_file)), read again by [`Verifier::reload_keys`]; with it the secret is optional |
    /// | `APPROOV_PUBLIC_KEY_FILE`, `APPROOV_PUBLIC_KEY_ALG` | a PEM public key file ([`public_key_pem_file`](Self::public_key_pem_file)) and its algorithm (default `RS256`, an Approov keyset's), read again by [`Verifier::reload_keys`]; with it the secret is optional |
    /// | `APPROOV_JWKS_URL` | a JWKS URL (`jwks_url`, feature `jwks-url`; without it, setting the variable is an error), fetched at start-up and kept current; with it the secret is optional |
    /// | `APPROOV_TOKEN_HEADER` | the token header, default `Approov-Token` |
    /// | `APPROOV_TOKEN_SCHEME` | the scheme the token comes after in that header ([`token_scheme`](Self::token_scheme)), usually `Bearer` with `APPROOV_TOKEN_HEADER=Authorization`; needs `APPROOV_TOKEN_HEADER`; unset: the bare token |
    /// | `APPROOV_TOKEN_BINDING_HEADER` | comma-separated headers to bind to, in order; unset: no binding |
    /// | `APPROOV_LEEWAY_SECONDS` | leeway for `exp`/`nbf`, a whole number of seconds, default 0 |
    /// | `APPROOV_TOKEN_CACHE_SIZE` | how many verified tokens to remember ([`cache_verified_tokens`](Self::cache_verified_tokens)), a whole number, default 0 (off) |
    ///
    /// The builder can still be changed before [`build`](Self::build).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// Like [`from_env`](Self::from_env), reading variables through `var`
    /// (for tests, or configuration kept elsewhere).
    ///
    /// ```
    /// use approov_core::VerifierBuilder;
    /// use std::collections::HashMap;
    ///
    /// let vars = HashMap::from([
    ///     ("APPROOV_BASE64_SECRET", "YXBwcm9vdi1ycyBleGFtcGxlIHNlY3JldDogMzIgYnl0ZXMgb3IgbW9yZSwgYXMgUkZDIDc1MTggYXNrcw=="),
    ///     ("APPROOV_LEEWAY_SECONDS", "soon"),
    /// ]);
    /// let err = VerifierBuilder::from_vars(|k| vars.get(k).map(|v| v.to_string())).unwrap_err();
    /// assert!(err.to_string().contains("APPROOV_LEEWAY_SECONDS"));
    /// ```
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        const STD: &str = "APPROOV_BASE64_SECRET";
        const URL: &str = "APPROOV_BASE64URL_SECRET";
        const FILE: &str = "APPROOV_BASE64_SECRET_FILE";
        const JWKS_FILE: &str = "APPROOV_JWKS_FILE";
        const JWKS_URL: &str = "APPROOV_JWKS_URL";
        const PEM_FILE: &str = "APPROOV_PUBLIC_KEY_FILE";
        const PEM_ALG: &str = "APPROOV_PUBLIC_KEY_ALG";
        let mut b = Self::default();
        let set: Vec<(&str, String)> = [STD, URL, FILE]
            .into_iter()
            .filter_map(|name| var(name).map(|value| (name, value)))
            .collect();
        match set.as_slice() {
            [] if [JWKS_FILE, JWKS_URL, PEM_FILE]
                .iter()
                .any(|name| var(name).is_some()) => {}
            [] => {
                return Err(ConfigError::MissingVar {
                    var: STD,
                    hint: "set it to the account secret printed by `approov secret -getSharedKey` \
                           (or APPROOV_BASE64_SECRET_FILE to a file holding it, or \
                           APPROOV_JWKS_FILE, APPROOV_JWKS_URL or APPROOV_PUBLIC_KEY_FILE \
                           for asymmetric keys)",
                });
            }
            [(FILE, path)] => b = b.secret_base64_file(path.trim()),
            [(source, encoded)] => {
                // Checked here too, so the error names the variable.
                let secret = Secret::from_base64(encoded, source)?.for_hmac(source)?;
                b = b.secret(secret);
            }
            [(first, _), (second, _), ..] => {
                return Err(ConfigError::invalid(
                    *second,
                    format!("both {first} and {second} are set: set only one"),
                ));
            }
        }
        if let Some(path) = var(JWKS_FILE) {
            b = b.jwks_file(path.trim());
        }
        match (var(PEM_FILE), var(PEM_ALG)) {
            (Some(path), alg) => {
                // RS256 is the default algorithm of an Approov keyset.
                let alg = match alg.as_deref().map(str::trim) {
                    None => Algorithm::RS256,
                    Some(name) => name
                        .parse()
                        .ok()
                        .filter(|a| *a != Algorithm::HS256)
                        .ok_or_else(|| {
                            ConfigError::invalid(
                                PEM_ALG,
                                format!(
                                    "{name:?} is not a public-key algorithm this crate verifies \
                                     (RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384)"
                                ),
                            )
                        })?,
                };
                b = b.public_key_pem_file(alg, None, path.trim());
            }
            (None, Some(_)) => {
                return Err(ConfigError::invalid(
                    PEM_ALG,
                    format!("it is set but {PEM_FILE} is not: set both, or neither"),
                ));
            }
            (None, None) => {}
        }
        if let Some(url) = var(JWKS_URL) {
            #[cfg(feature = "jwks-url")]
            {
                b = b.jwks_url(crate::JwksUrl::new(url).named(JWKS_URL));
            }
            #[cfg(not(feature = "jwks-url"))]
            {
                let _ = url;
                return Err(ConfigError::invalid(
                    JWKS_URL,
                    "this build cannot fetch a JWKS: enable approov-core's `jwks-url` feature",
                ));
            }
        }
        if let Some(name) = var("APPROOV_TOKEN_HEADER") {
            check_header_name(name.trim(), "APPROOV_TOKEN_HEADER")?;
            b = b.token_header(name.trim());
        }
        if let Some(list) = var("APPROOV_TOKEN_BINDING_HEADER") {
            let names: Vec<&str> = list.split(',').map(str::trim).collect();
            b = b.token_binding(TokenBinding::from_names(
                names,
                "APPROOV_TOKEN_BINDING_HEADER",
            )?);
        }
        if let Some(seconds) = var("APPROOV_LEEWAY_SECONDS") {
            let seconds =
                whole_number(&seconds, "APPROOV_LEEWAY_SECONDS", "seconds, e.g. 0 or 30")?;
            b = b.leeway(Duration::from_secs(seconds));
        }
        if let Some(size) = var("APPROOV_TOKEN_CACHE_SIZE") {
            let size = whole_number(
                &size,
                "APPROOV_TOKEN_CACHE_SIZE",
                "tokens, e.g. 0 (off) or 10000",
            )?;
            b = b.cache_verified_tokens(size);
        }
        scheme::from_vars(b, &var)
    }

    /// Adds the HS256 account secret, base64 in the standard or URL-safe
    /// alphabet, padded or not. It accepts tokens with any `kid`, or none.
    ///
    /// It must decode to at least [`MIN_HMAC_SECRET_LEN`](crate::MIN_HMAC_SECRET_LEN) (32) bytes, as
    /// RFC 7518 §3.2 requires; a shorter secret fails [`build`](Self::build).
    pub fn secret_base64(self, encoded: &str) -> Self {
        let source = "secret_base64";
        self.secret_result(None, Secret::from_base64(encoded, source), source)
    }

    /// Adds an HS256 secret that verifies only tokens whose `kid` is `kid`.
    /// At least [`MIN_HMAC_SECRET_LEN`](crate::MIN_HMAC_SECRET_LEN) bytes, like every HS256 secret.
    pub fn secret_base64_with_kid(self, kid: &str, encoded: &str) -> Self {
        let source = "secret_base64_with_kid";
        self.secret_result(Some(kid), Secret::from_base64(encoded, source), source)
    }

    /// Adds an HS256 secret given as raw bytes; it accepts any `kid`. At
    /// least [`MIN_HMAC_SECRET_LEN`](crate::MIN_HMAC_SECRET_LEN) bytes, like every HS256 secret.
    pub fn secret(self, secret: Secret) -> Self {
        self.secret_result(None, Ok(secret), "secret")
    }

    fn secret_result(
        mut self,
        kid: Option<&str>,
        secret: Result<Secret, ConfigError>,
        source: &str,
    ) -> Self {
        match secret.and_then(|s| s.for_hmac(source)) {
            Ok(secret) => self.keys.hmac.push(HmacKey::new(kid, &secret)),
            Err(e) => self.errors.push(e),
        }
        self
    }

    /// Adds a PEM public key (`PUBLIC KEY` or `RSA PUBLIC KEY`) that
    /// verifies `alg` and accepts any `kid`.
    pub fn public_key_pem(self, alg: Algorithm, pem: &str) -> Self {
        self.pem(alg, None, pem, "public_key_pem")
    }

    /// Adds a PEM public key that verifies `alg` for tokens whose `kid` is `kid`.
    pub fn public_key_pem_with_kid(self, alg: Algorithm, kid: &str, pem: &str) -> Self {
        self.pem(alg, Some(kid), pem, "public_key_pem_with_kid")
    }

    /// Adds a PEM public key read from a file, read again by
    /// [`Verifier::reload_keys`].
    pub fn public_key_pem_file(
        mut self,
        alg: Algorithm,
        kid: Option<&str>,
        path: impl AsRef<Path>,
    ) -> Self {
        let path = path.as_ref();
        if alg == Algorithm::HS256 {
            return self.fail(ConfigError::invalid(
                path.display().to_string(),
                "HS256 takes a secret (secret_base64_file), not a public key",
            ));
        }
        self.files.push(KeyFile::Pem {
            alg,
            kid: kid.map(str::to_owned),
            path: path.to_owned(),
        });
        self
    }

    /// Adds the HS256 account secrets of a file: base64 (as for
    /// [`secret_base64`](Self::secret_base64)), one per line, blank lines
    /// and `#` comments skipped. Several lines let a rotation run without
    /// refusing anyone: put the new secret next to the old one, reload,
    /// then remove the old one once every app has new tokens. The file is
    /// read at [`build`](Self::build) and again by
    /// [`Verifier::reload_keys`]. `APPROOV_BASE64_SECRET_FILE` sets it.
    /// Every key file may hold at most 1 MiB; a longer one is refused,
    /// naming it.
    pub fn secret_base64_file(mut self, path: impl AsRef<Path>) -> Self {
        self.files.push(KeyFile::Secret(path.as_ref().to_owned()));
        self
    }

    fn pem(mut self, alg: Algorithm, kid: Option<&str>, pem: &str, source: &str) -> Self {
        if alg == Algorithm::HS256 {
            return self.fail(ConfigError::invalid(
                source,
                "HS256 takes a secret (secret_base64), not a public key",
            ));
        }
        match PublicKey::from_pem(alg, kid, pem, source) {
            Ok(key) => self.keys.public.push(key),
            Err(e) => self.errors.push(e),
        }
        self
    }

    /// Adds every signature key of a JWKS document. A key's `kid` selects
    /// it; its `alg` is used when present (otherwise EC keys get their
    /// curve's algorithm and RSA keys RS256, Approov's keyset default).
    pub fn jwks(mut self, json: &str) -> Self {
        match public_keys_from_jwks(json, "jwks") {
            Ok(keys) => self.keys.public.extend(keys),
            Err(e) => self.errors.push(e),
        }
        self
    }

    /// Adds the keys of a JWKS document read from a file, read again by
    /// [`Verifier::reload_keys`]. `APPROOV_JWKS_FILE` sets it.
    pub fn jwks_file(mut self, path: impl AsRef<Path>) -> Self {
        self.files.push(KeyFile::Jwks(path.as_ref().to_owned()));
        self
    }

    /// Tolerance for clock differences, applied to `exp` and `nbf`. Default 0.
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Tokens longer than this many bytes are refused before any decoding.
    /// Default [`DEFAULT_MAX_TOKEN_LEN`].
    pub fn max_token_len(mut self, bytes: usize) -> Self {
        self.max_len = Some(bytes);
        self
    }

    /// Remembers up to about `capacity` tokens that verified, so that a
    /// token seen again skips its signature check and claims parsing. Off
    /// (0) by default.
    ///
    /// Approov SDKs send the same token with every request until they fetch
    /// the next, so most requests of a busy API repeat a recent token; on
    /// the `BENCHMARKS.md` machine a repeat costs about 0.2 µs instead of
    /// about 1.4 µs for an HS256 verify. Every request still gets the time
    /// rules (a cached token expires on time), the issuer and audience
    /// rules, token binding and message signing. What is stored: every
    /// token that passes [`Verifier::verify`] (signature, claim types, time,
    /// issuer and audience), keyed by its exact bytes, with its claims, as
    /// soon as it passes; that is before token binding and message signing,
    /// which depend on the request and are checked on every request, cached
    /// token or not. So a genuine token sent with the wrong binding is
    /// stored, and still refused on that request and every other like it; a
    /// token that fails `verify` is never stored. The cache holds
    /// the tokens themselves (wiped when evicted) and at most about
    /// `capacity` of them: size it to the number of devices active within
    /// a token's lifetime (about a kilobyte each, the token and its claims).
    /// Clones of the verifier share it. A token not in the cache costs a
    /// keyed hash and a lookup more than without one.
    ///
    /// ```
    /// use approov_core::Verifier;
    ///
    /// let verifier = Verifier::builder()
    ///     .secret_base64("TEST+SECRET/TEST+SECRET/TEST+SECRET/TEST+SECRET/TEST+SECRET/TEST+SECRET/TEST+SECRET/AA==")
    ///     .cache_verified_tokens(10_000)
    ///     .build()?;
    /// let token = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJleHAiOjE5OTk5OTk5OTksImRpZCI6IkV4YW1wbGVBcHByb292VG9rZW5ESUQ9PSJ9.1dR3xFNCWonw3Cdm3UbZRIlfL-IWy_ncnF3aA_hdDps";
    /// let first = verifier.verify(token)?; // verified, then remembered
    /// let again = verifier.verify(token)?; // from the cache
    /// assert_eq!(first, again);
    /// assert_eq!(verifier.cached_tokens(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn cache_verified_tokens(mut self, capacity: usize) -> Self {
        self.cache_capacity = capacity;
        self
    }

    /// Requires `iss` to be `issuer` (call again to accept several).
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuers.push(issuer.into());
        self
    }

    /// Requires `aud` to name `audience` (call again to accept several).
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audiences.push(audience.into());
        self
    }

    /// The header the token is read from. Default `Approov-Token`.
    pub fn token_header(mut self, name: impl Into<String>) -> Self {
        self.token_header = Some(name.into());
        self
    }

    /// Binds tokens to request headers in [`Verifier::verify_request`].
    pub fn token_binding(mut self, binding: TokenBinding) -> Self {
        self.binding = Some(binding);
        self
    }

    /// Reads the time from `clock` instead of the system clock.
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Some(Arc::new(clock));
        self
    }

    fn fail(mut self, e: ConfigError) -> Self {
        self.errors.push(e);
        self
    }

    /// Checks the configuration and builds the verifier.
    pub fn build(mut self) -> Result<Verifier, ConfigError> {
        if !self.errors.is_empty() {
            return Err(self.errors.swap_remove(0));
        }
        let clock = self.clock.unwrap_or_else(|| Arc::new(SystemClock));
        #[cfg(feature = "jwks-url")]
        let keys = match self.jwks {
            Some(url) => crate::jwks_url::start(url, self.keys, self.files, Arc::clone(&clock))?,
            None => Arc::new(KeyStore::new(self.keys, self.files)?),
        };
        #[cfg(not(feature = "jwks-url"))]
        let keys = Arc::new(KeyStore::new(self.keys, self.files)?);
        let token_header = self
            .token_header
            .unwrap_or_else(|| DEFAULT_TOKEN_HEADER.to_owned());
        check_header_name(&token_header, "token_header")?;
        scheme::check_binding(&token_header, self.binding.as_ref(), "token_binding")?;
        let max_len = self.max_len.unwrap_or(DEFAULT_MAX_TOKEN_LEN);
        if max_len == 0 {
            return Err(ConfigError::invalid(
                "max_token_len",
                "it must be above zero",
            ));
        }
        Ok(Verifier {
            inner: Arc::new(Inner {
                keys,
                clock,
                leeway: self.leeway.as_secs_f64(),
                max_len,
                issuers: self.issuers,
                audiences: self.audiences,
                token_header: token_header.into(),
                binding: self.binding,
                token_scheme: self.token_scheme,
                cache: (self.cache_capacity > 0)
                    .then(|| Arc::new(TokenCache::new(self.cache_capacity))),
            }),
        })
    }
}

fn whole_number<N: std::str::FromStr>(
    value: &str,
    var: &'static str,
    what: &str,
) -> Result<N, ConfigError> {
    value
        .trim()
        .parse()
        .map_err(|_| ConfigError::invalid(var, format!("it must be a whole number of {what}")))
}

/// A header name must be an RFC 9110 token, or no request could match it.
pub(crate) fn check_header_name(name: &str, source: &str) -> Result<(), ConfigError> {
    const TCHAR: &[u8] = b"!#$%&'*+-.^_`|~";
    let ok = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || TCHAR.contains(&b));
    if ok {
        Ok(())
    } else {
        Err(ConfigError::invalid(
            source,
            format!("{name:?} is not a valid HTTP header name"),
        ))
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
