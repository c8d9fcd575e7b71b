//! [`Verifier::from_env`]: the configuration from `APPROOV_*` variables.

use std::time::Duration;

use super::binding::TokenBinding;
use super::builder::VerifierBuilder;
use super::scheme::{Scheme, check_binding};
use super::verifier::Verifier;
use crate::error::ConfigError;
use crate::headers::check_header_name;
use crate::keys::algorithm::Algorithm;
use crate::keys::jwks_url_from_env;
use crate::keys::secret::Secret;

impl Verifier {
    /// Builds a verifier from the process environment; see
    /// [`VerifierBuilder::from_env`] for the variables.
    pub fn from_env() -> Result<Self, ConfigError> {
        VerifierBuilder::from_env()?.build()
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
    /// | `APPROOV_JWKS_START_WITHOUT_KEYS` | `true`: start even when the first fetch of `APPROOV_JWKS_URL` fails (`JwksUrl::start_without_keys`); until a fetch succeeds, a token no other key can judge is `keys_unavailable`, answered 503 with `Retry-After`. Default `false`: that failure stops start-up |
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
        const JWKS_START_WITHOUT_KEYS: &str = "APPROOV_JWKS_START_WITHOUT_KEYS";
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
        let start_without_keys = match var(JWKS_START_WITHOUT_KEYS) {
            None => false,
            Some(_) if var(JWKS_URL).is_none() => {
                return Err(ConfigError::invalid(
                    JWKS_START_WITHOUT_KEYS,
                    format!("it is set but {JWKS_URL} is not: set it only with a JWKS URL"),
                ));
            }
            Some(value) => match value.trim() {
                "true" => true,
                "false" => false,
                _ => {
                    return Err(ConfigError::invalid(
                        JWKS_START_WITHOUT_KEYS,
                        "it must be true or false",
                    ));
                }
            },
        };
        if let Some(url) = var(JWKS_URL) {
            b = b.key_source(jwks_url_from_env(JWKS_URL, url, start_without_keys)?);
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
        scheme_from_vars(b, &var)
    }
}

/// `APPROOV_TOKEN_SCHEME`, read by [`VerifierBuilder::from_vars`] after the
/// other variables.
fn scheme_from_vars(
    mut b: VerifierBuilder,
    var: &impl Fn(&str) -> Option<String>,
) -> Result<VerifierBuilder, ConfigError> {
    const VAR: &str = "APPROOV_TOKEN_SCHEME";
    if let Some(scheme) = var(VAR) {
        if var("APPROOV_TOKEN_HEADER").is_none() {
            return Err(ConfigError::invalid(
                VAR,
                "it is set but APPROOV_TOKEN_HEADER is not, and Approov SDKs send the bare \
                 token in Approov-Token: set APPROOV_TOKEN_HEADER=Authorization too, or unset \
                 APPROOV_TOKEN_SCHEME",
            ));
        }
        b.token_scheme = Some(Scheme::new(scheme.trim(), VAR)?);
    }
    if let Some(header) = &b.token_header {
        check_binding(
            header,
            b.binding.as_ref(),
            "APPROOV_TOKEN_BINDING_HEADER (with APPROOV_TOKEN_HEADER)",
        )?;
    }
    Ok(b)
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
