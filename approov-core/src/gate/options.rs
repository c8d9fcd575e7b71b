//! The options every adapter offers, defined once, on the [`Gate`]: each
//! adapter's configuration (`ApproovLayer`, `ApproovMiddleware`,
//! `ApproovFilter`) has methods of the same names that call these.

use super::check::Gate;
use crate::error::ConfigError;
use crate::token::binding::TokenBinding;

impl Gate {
    /// Binds tokens to these request headers on the routes this gate
    /// protects, replacing the verifier's own binding. The keys stay
    /// shared with the verifier, so one verifier can serve several gates,
    /// some bound and some not.
    pub fn token_binding(self, binding: TokenBinding) -> Self {
        let verifier = self.verifier().with_token_binding(Some(binding));
        self.with_verifier(verifier)
    }

    /// Checks tokens without token binding on the routes this gate
    /// protects, even if the verifier has a binding.
    pub fn without_token_binding(self) -> Self {
        let verifier = self.verifier().with_token_binding(None);
        self.with_verifier(verifier)
    }

    /// Reads the token from header `name` instead of the verifier's
    /// (`Approov-Token` by default). Fails when `name` is not a valid
    /// header name.
    pub fn token_header(self, name: &str) -> Result<Self, ConfigError> {
        let verifier = self.verifier().with_token_header(name)?;
        Ok(self.with_verifier(verifier))
    }

    /// Expects the token after the authentication scheme `scheme` in the
    /// token header, as in `Authorization: Bearer <token>` (set
    /// [`token_header`](Self::token_header) to `Authorization` too): the
    /// scheme in any case, one space, one token; anything else is refused
    /// (`scheme`, or `missing` for the scheme alone). Fails when `scheme`
    /// is empty or not an RFC 9110 token. See
    /// [`VerifierBuilder::token_scheme`](crate::VerifierBuilder::token_scheme).
    pub fn token_scheme(self, scheme: &str) -> Result<Self, ConfigError> {
        let verifier = self.verifier().with_token_scheme(Some(scheme))?;
        Ok(self.with_verifier(verifier))
    }

    /// Reads the bare token from the token header, even if the verifier
    /// expects it after a scheme.
    pub fn without_token_scheme(self) -> Self {
        // `None` is always accepted.
        match self.verifier().with_token_scheme(None) {
            Ok(verifier) => self.with_verifier(verifier),
            Err(_) => self,
        }
    }
}
