//! The [`VerifierBuilder`]: every option recorded, every check in
//! [`build`](VerifierBuilder::build).

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::binding::TokenBinding;
use super::cache::TokenCache;
use super::scheme::{self, Scheme};
use super::verifier::{DEFAULT_MAX_TOKEN_LEN, DEFAULT_TOKEN_HEADER, Inner, Verifier};
use crate::clock::{Clock, SystemClock};
use crate::error::ConfigError;
use crate::headers::check_header_name;
use crate::keys::algorithm::Algorithm;
use crate::keys::secret::Secret;
use crate::keys::set::{HmacKey, KeySet, PublicKey, public_keys_from_jwks};
use crate::keys::source::StartKeySource;
use crate::keys::store::{KeyFile, KeyStore};

impl Verifier {
    /// Starts a configuration.
    pub fn builder() -> VerifierBuilder {
        VerifierBuilder::default()
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
    pub(super) token_header: Option<String>,
    pub(super) binding: Option<TokenBinding>,
    pub(super) token_scheme: Option<Scheme>,
    cache_capacity: usize,
    /// Keys from outside (a JWKS URL), started by `build`.
    source: Option<Box<dyn StartKeySource>>,
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

    /// Keys from outside (one source; a second replaces the first): the
    /// `jwks_url` option and `APPROOV_JWKS_URL` set it.
    pub(crate) fn key_source(mut self, source: Box<dyn StartKeySource>) -> Self {
        self.source = Some(source);
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
        let (keys, source) = match self.source {
            Some(source) => {
                let (keys, source) = source.start(self.keys, self.files, Arc::clone(&clock))?;
                (keys, Some(source))
            }
            None => (Arc::new(KeyStore::new(self.keys, self.files)?), None),
        };
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
                source,
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
                rules: super::verifier::new_rules_id(),
            }),
        })
    }

    /// Expects the token after the authentication scheme `scheme` in the
    /// token header, as in `Authorization: Bearer <token>`: set
    /// [`token_header`](Self::token_header) to `Authorization` too. Unset
    /// by default (the header holds the bare token, as Approov SDKs send
    /// it in `Approov-Token`). From the environment:
    /// `APPROOV_TOKEN_HEADER=Authorization` with `APPROOV_TOKEN_SCHEME=Bearer`.
    ///
    /// The scheme is compared ASCII case-insensitively and must be followed
    /// by exactly one space and one token; anything else is refused (see
    /// [`RejectionKind::Scheme`](crate::RejectionKind::Scheme) and
    /// [`RejectionKind::Missing`](crate::RejectionKind::Missing)).
    /// [`build`](Self::build) fails when `scheme` is empty or not an RFC
    /// 9110 token, and when the token is also bound to its own header
    /// (token binding over `Authorization` while the token is read from
    /// `Authorization`: `pay` would have to hash the token holding it, so
    /// nothing could pass). With message signing, the token header is
    /// among the components a signature must cover by default, so
    /// signatures must cover `authorization`.
    ///
    /// ```
    /// use approov_core::{RejectionKind, Verifier};
    ///
    /// let verifier = Verifier::builder()
    ///     .secret_base64("TEST+SECRET/TEST+SECRET/TEST+SECRET/TEST+SECRET/TEST+SECRET/TEST+SECRET/TEST+SECRET/AA==")
    ///     .token_header("Authorization")
    ///     .token_scheme("Bearer")
    ///     .build()?;
    /// let token = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJleHAiOjE5OTk5OTk5OTksImRpZCI6IkV4YW1wbGVBcHByb292VG9rZW5ESUQ9PSJ9.1dR3xFNCWonw3Cdm3UbZRIlfL-IWy_ncnF3aA_hdDps";
    /// let bearer = format!("bearer {token}");
    /// let claims = verifier.verify_request(&[("Authorization", bearer.as_str())])?;
    /// assert_eq!(claims.did(), Some("ExampleApproovTokenDID=="));
    ///
    /// let two_spaces = format!("Bearer  {token}");
    /// let err = verifier.verify_request(&[("Authorization", two_spaces.as_str())]).unwrap_err();
    /// assert_eq!(err.kind(), RejectionKind::Scheme);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn token_scheme(mut self, scheme: impl AsRef<str>) -> Self {
        match Scheme::new(scheme.as_ref(), "token_scheme") {
            Ok(scheme) => self.token_scheme = Some(scheme),
            Err(e) => self.errors.push(e),
        }
        self
    }
}
