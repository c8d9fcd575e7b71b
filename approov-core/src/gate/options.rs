//! The builder options every adapter shares, written once.

/// Defines, inside an `impl` block of an adapter's configuration type that
/// has a field `gate: Gate`, the options every adapter shares: token
/// binding, the token header and scheme, report-only mode, CORS preflights,
/// and the accessors for the gate and the verifier. Each adapter adds only what is
/// its own (message signing, which may change its type, and the rejection
/// response, which is a framework type).
///
/// Internal to approov-rs: hidden from the docs, and not covered by
/// semver.
#[doc(hidden)]
#[macro_export]
macro_rules! gate_options {
    () => {
        /// Binds tokens to these request headers on the routes this
        /// configuration protects, replacing the verifier's own binding.
        /// The keys stay shared with the verifier, so one verifier can
        /// serve several configurations, some bound and some not.
        pub fn token_binding(mut self, binding: $crate::TokenBinding) -> Self {
            let verifier = self.gate.verifier().with_token_binding(Some(binding));
            self.gate = self.gate.with_verifier(verifier);
            self
        }

        /// Checks tokens without token binding on the routes this
        /// configuration protects, even if the verifier has a binding.
        pub fn without_token_binding(mut self) -> Self {
            let verifier = self.gate.verifier().with_token_binding(None);
            self.gate = self.gate.with_verifier(verifier);
            self
        }

        /// Reads the token from header `name` instead of the verifier's
        /// (`Approov-Token` by default). Fails when `name` is not a valid
        /// header name.
        pub fn token_header(mut self, name: &str) -> Result<Self, $crate::ConfigError> {
            let verifier = self.gate.verifier().with_token_header(name)?;
            self.gate = self.gate.with_verifier(verifier);
            Ok(self)
        }

        /// Expects the token after the authentication scheme `scheme` in
        /// the token header, as in `Authorization: Bearer <token>` (set
        /// [`token_header`](Self::token_header) to `Authorization` too):
        /// the scheme in any case, one space, one token; anything else is
        /// refused (`scheme`, or `missing` for the scheme alone). Fails
        /// when `scheme` is empty or not an RFC 9110 token. See
        /// [`VerifierBuilder::token_scheme`](approov_core::VerifierBuilder::token_scheme).
        pub fn token_scheme(mut self, scheme: &str) -> Result<Self, $crate::ConfigError> {
            let verifier = self.gate.verifier().with_token_scheme(Some(scheme))?;
            self.gate = self.gate.with_verifier(verifier);
            Ok(self)
        }

        /// Reads the bare token from the token header, even if the
        /// verifier expects it after a scheme.
        pub fn without_token_scheme(mut self) -> Self {
            // `None` is always accepted.
            if let Ok(verifier) = self.gate.verifier().with_token_scheme(None) {
                self.gate = self.gate.with_verifier(verifier);
            }
            self
        }

        /// Report-only mode: rejections are logged and the request goes
        /// on, carrying
        /// [`ApproovOutcome::Rejected`](approov_core::ApproovOutcome::Rejected).
        /// For rolling Approov out without turning away users of older app
        /// versions. Off by default. A body that cannot be checked (413,
        /// 400, 408) is refused even so: it cannot be handed on intact.
        pub fn report_only(mut self, yes: bool) -> Self {
            self.gate = self.gate.report_only(yes);
            self
        }

        /// Lets CORS preflights (`OPTIONS` with `Origin` and
        /// `Access-Control-Request-Method`) through without a token, as
        /// browsers never send one; they carry
        /// [`ApproovOutcome::SkippedPreflight`](approov_core::ApproovOutcome::SkippedPreflight).
        /// On by default.
        pub fn skip_cors_preflight(mut self, yes: bool) -> Self {
            self.gate = self.gate.skip_cors_preflight(yes);
            self
        }

        /// The gate: verifier, report-only, preflight and message-signing
        /// settings.
        pub fn gate(&self) -> &$crate::Gate {
            &self.gate
        }

        /// The verifier, with this configuration's token header and
        /// binding.
        pub fn verifier(&self) -> &$crate::Verifier {
            self.gate.verifier()
        }
    };
}
