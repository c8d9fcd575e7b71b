//! The options every adapter offers, defined once, on the [`Gate`]: each
//! adapter's configuration (`ApproovLayer`, `ApproovMiddleware`,
//! `ApproovFilter`) has methods of the same names that call these.

use std::sync::Arc;

use super::check::Gate;
use crate::error::ConfigError;
use crate::token::binding::TokenBinding;

/// The most open paths a gate takes ([`Gate::open_paths`]).
pub const MAX_OPEN_PATHS: usize = 64;
/// The longest open path, in bytes ([`Gate::open_paths`]).
pub const MAX_OPEN_PATH_LEN: usize = 1024;

impl Gate {
    /// Lets requests for exactly these paths through without a token (a
    /// health check, a status page), carrying [`ApproovOutcome::OpenPath`](crate::ApproovOutcome::OpenPath);
    /// every other path is checked. Each call adds to the paths already
    /// given. This is how a layer that protects a whole application leaves
    /// a few routes open: the rule is here, once, not in the route order.
    ///
    /// A path matches only when the request's path (the request target up
    /// to any `?`, as received: not percent-decoded, not normalised) is
    /// byte for byte the same. So with `/health` open, `/health?probe=1`
    /// is open too (the query is not part of the path), while `/health/`,
    /// `/Health`, `//health`, `/health/..`, `/%68ealth` and `/health%3F`
    /// are all checked. Fails at start-up when a path does not start with
    /// `/`, holds `?`, `#` or a byte outside visible ASCII, is longer than
    /// [`MAX_OPEN_PATH_LEN`] bytes, or when there would be more than
    /// [`MAX_OPEN_PATHS`].
    ///
    /// Only [`check_request`](Self::check_request) and
    /// [`check_head`](Self::check_head) see the path;
    /// [`check`](Self::check) knows none and lets no path through.
    ///
    /// ```
    /// use approov_core::{ApproovOutcome, Decision, Gate, Verifier, signing::MessageParts};
    ///
    /// # let verifier = Verifier::builder().secret_base64("YXBwcm9vdi1ycyBleGFtcGxlIHNlY3JldDogMzIgYnl0ZXMgb3IgbW9yZSwgYXMgUkZDIDc1MTggYXNrcw==").build()?;
    /// let gate = Gate::new(verifier).open_paths(["/health"])?;
    /// let no_token: [(&str, &str); 0] = [];
    /// let check = |target| gate.check_request(&MessageParts::new("GET", target, &no_token));
    /// assert!(matches!(check("/health"), Decision::Forward(ApproovOutcome::OpenPath)));
    /// assert!(matches!(check("/health?full=1"), Decision::Forward(ApproovOutcome::OpenPath)));
    /// assert!(matches!(check("/health/"), Decision::Reject(_)));
    /// assert!(Gate::new(gate.verifier().clone()).open_paths(["health"]).is_err());
    /// # Ok::<(), approov_core::ConfigError>(())
    /// ```
    pub fn open_paths<I, S>(mut self, paths: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut open: Vec<Box<str>> = self.open_paths.iter().cloned().collect();
        for path in paths {
            let path = path.as_ref();
            if open.len() >= MAX_OPEN_PATHS {
                return Err(ConfigError::invalid(
                    "open_paths",
                    format!("at most {MAX_OPEN_PATHS} paths can be open"),
                ));
            }
            check_open_path(path)?;
            if !open.iter().any(|p| **p == *path) {
                open.push(path.into());
            }
        }
        self.open_paths = Arc::from(open);
        Ok(self)
    }

    /// The paths let through without a token ([`open_paths`](Self::open_paths)).
    pub fn open_path_list(&self) -> impl Iterator<Item = &str> {
        self.open_paths.iter().map(|p| &**p)
    }

    /// Whether `path` (the request target without its query) is open.
    pub(crate) fn is_open_path(&self, path: &str) -> bool {
        self.open_paths.iter().any(|open| **open == *path)
    }

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

/// A path [`Gate::open_paths`] takes: the exact form requests use.
fn check_open_path(path: &str) -> Result<(), ConfigError> {
    let problem = if !path.starts_with('/') {
        "it must start with `/`, as a request's path does"
    } else if path.len() > MAX_OPEN_PATH_LEN {
        "it is longer than 1024 bytes"
    } else if path.contains(['?', '#']) {
        "it must not hold `?` or `#`: it is compared with the path alone, without the query"
    } else if !path.bytes().all(|b| b.is_ascii_graphic()) {
        "it must be visible ASCII, percent-encoded as requests send it"
    } else {
        return Ok(());
    };
    let shown: String = path.chars().take(64).collect();
    Err(ConfigError::invalid(
        "open_paths",
        format!("{shown:?}: {problem}"),
    ))
}
