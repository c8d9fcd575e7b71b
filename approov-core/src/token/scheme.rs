//! Token schemes: the token as the credentials of an
//! `Authorization`-style header, `Authorization: Bearer <token>`, as sent
//! by gateways set up from Approov's Google Cloud quickstart.
//!
//! The options live with the others: [`Verifier::token_scheme`],
//! [`Verifier::with_token_scheme`] and [`VerifierBuilder::token_scheme`]
//! (`APPROOV_TOKEN_SCHEME`).
//!
//! [`Verifier::token_scheme`]: crate::Verifier::token_scheme
//! [`Verifier::with_token_scheme`]: crate::Verifier::with_token_scheme
//! [`VerifierBuilder::token_scheme`]: crate::VerifierBuilder::token_scheme
//!
//! # The accepted form
//! RFC 9110 §11.4 writes `credentials = auth-scheme [ 1*SP token68 ]`. This
//! verifier is stricter: the value must be the configured scheme (compared
//! ASCII case-insensitively), **exactly one** space, then one token with no
//! space in it. Everything else is refused:
//!
//! | header value | rejection |
//! |---|---|
//! | absent, or empty | `missing` |
//! | the scheme alone (`Bearer`, `Bearer `) | `missing` |
//! | another scheme (`Basic x`), or none (a bare token) | `scheme` ([`SchemeProblem::Other`]) |
//! | several spaces, a tab, or more than one token (`Bearer  t`, `Bearer a b`) | `scheme` ([`SchemeProblem::Format`]) |
//! | `Bearer <token>` | the token is verified as usual |
//!
//! One space only, because the Approov SDKs and the gateways write exactly
//! that, and a single accepted spelling of a header leaves nothing for a
//! proxy in front of the server to read differently.

use super::binding::TokenBinding;
use crate::error::{ConfigError, Rejection, SchemeProblem};
use crate::headers::is_tchar;

/// A configured authentication scheme, checked to be an RFC 9110 token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Scheme(Box<str>);

impl Scheme {
    /// Checks `scheme`; `source` names where it came from for the error.
    pub(crate) fn new(scheme: &str, source: &str) -> Result<Self, ConfigError> {
        if scheme.is_empty() {
            return Err(ConfigError::invalid(
                source,
                "it is empty: name the authentication scheme the token comes after, \
                 e.g. Bearer, or leave it unset to read the bare token",
            ));
        }
        if !scheme.bytes().all(is_tchar) {
            return Err(ConfigError::invalid(
                source,
                format!(
                    "{scheme:?} is not an HTTP authentication scheme \
                     (an RFC 9110 token, e.g. Bearer)"
                ),
            ));
        }
        Ok(Self(scheme.into()))
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    /// The token in a header value that must be `<scheme> <token>`.
    pub(crate) fn token<'v>(&self, value: &'v [u8]) -> Result<&'v [u8], Rejection> {
        let scheme = self.0.as_bytes();
        let other = Rejection::Scheme(SchemeProblem::Other);
        let (Some(head), Some(rest)) = (value.get(..scheme.len()), value.get(scheme.len()..))
        else {
            // Shorter than the scheme: empty is `missing`, the rest another scheme.
            return Err(if value.is_empty() {
                Rejection::Missing
            } else {
                other
            });
        };
        if !head.eq_ignore_ascii_case(scheme) {
            return Err(other);
        }
        match rest {
            // The scheme alone: no token.
            [] | [b' '] => Err(Rejection::Missing),
            [b' ', token @ ..] if !token.contains(&b' ') => Ok(token),
            // A longer scheme that starts with ours (`Bearerish x`).
            [b, ..] if is_tchar(*b) => Err(other),
            _ => Err(Rejection::Scheme(SchemeProblem::Format)),
        }
    }
}

/// The token in `value`, after the scheme when one is configured.
pub(crate) fn token<'v>(scheme: Option<&Scheme>, value: &'v [u8]) -> Result<&'v [u8], Rejection> {
    match scheme {
        Some(scheme) => scheme.token(value),
        None => Ok(value),
    }
}

/// Refuses a binding over the header the token itself comes in: `pay`
/// would have to hash the token that holds it, so no token could ever
/// match (with a scheme, `Authorization: Bearer <token>` bound to
/// `Authorization` is exactly that).
pub(crate) fn check_binding(
    token_header: &str,
    binding: Option<&TokenBinding>,
    source: &str,
) -> Result<(), ConfigError> {
    let Some(binding) = binding else {
        return Ok(());
    };
    if binding
        .headers()
        .any(|name| name.eq_ignore_ascii_case(token_header))
    {
        return Err(ConfigError::invalid(
            source,
            format!(
                "it binds the token to {token_header}, the header the token itself is read \
                 from, which no token can match: bind to the headers of the user's session \
                 (e.g. a session cookie or another header) instead"
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    fn bearer() -> Scheme {
        Scheme::new("Bearer", "test").unwrap()
    }

    #[test]
    fn the_scheme_one_space_and_one_token_pass() {
        for (value, token) in [
            ("Bearer abc", "abc"),
            ("bearer abc", "abc"),
            ("BEARER a.b.c", "a.b.c"),
            ("bEaReR x", "x"),
        ] {
            assert_eq!(bearer().token(value.as_bytes()), Ok(token.as_bytes()));
        }
    }

    #[test]
    fn everything_else_is_refused_with_its_kind() {
        let other = Err(Rejection::Scheme(SchemeProblem::Other));
        let format = Err(Rejection::Scheme(SchemeProblem::Format));
        let cases: [(&str, Result<&[u8], Rejection>); 17] = [
            ("", Err(Rejection::Missing)),
            ("Bearer", Err(Rejection::Missing)),
            ("bearer ", Err(Rejection::Missing)),
            ("Bear", other.clone()),
            ("Basic dXNlcjpwYXNz", other.clone()),
            ("abc.def.ghi", other.clone()),
            ("Bearerx abc", other.clone()),
            ("BearerToken abc", other.clone()),
            (" Bearer abc", other.clone()),
            ("Bearer  abc", format.clone()),
            ("Bearer  ", format.clone()),
            ("Bearer a b", format.clone()),
            ("Bearer abc ", format.clone()),
            ("Bearer\tabc", format.clone()),
            ("Bearer,abc", format.clone()),
            ("Bearer: abc", format.clone()),
            ("Bearer=abc", format),
        ];
        for (value, expected) in cases {
            assert_eq!(bearer().token(value.as_bytes()), expected, "{value:?}");
        }
    }

    #[test]
    fn a_scheme_must_be_a_token() {
        for bad in ["", "Bear er", "Bearer:", "Bé", "Bearer\n", " "] {
            let err = Scheme::new(bad, "token_scheme").unwrap_err();
            assert!(err.to_string().contains("token_scheme"), "{err}");
        }
        for good in ["Bearer", "Approov", "DPoP", "x-Token_1"] {
            assert_eq!(Scheme::new(good, "s").unwrap().as_str(), good);
        }
    }

    #[test]
    fn without_a_scheme_the_value_is_the_token() {
        assert_eq!(token(None, b"Bearer x"), Ok(b"Bearer x".as_slice()));
    }

    #[test]
    fn a_binding_over_the_token_header_is_refused() {
        let binding = TokenBinding::new(["X-Device", "authorization"]).unwrap();
        let err = check_binding("Authorization", Some(&binding), "here").unwrap_err();
        assert!(err.to_string().contains("here"), "{err}");
        assert!(check_binding("Approov-Token", Some(&binding), "here").is_ok());
        assert!(check_binding("Authorization", None, "here").is_ok());
    }

    proptest! {
        /// Any bytes at all: never a panic, and a token only for exactly
        /// `<scheme> <token>` (scheme in any case, one space, no space in
        /// a non-empty token), which is then what follows the space.
        #[test]
        fn only_scheme_space_token_passes(value in proptest::collection::vec(any::<u8>(), 0..40)) {
            let result = bearer().token(&value);
            let exact = value.len() > 7
                && value[..6].eq_ignore_ascii_case(b"Bearer")
                && value[6] == b' '
                && !value[7..].contains(&b' ');
            match result {
                Ok(token) => {
                    prop_assert!(exact);
                    prop_assert_eq!(token, &value[7..]);
                }
                Err(rejection) => {
                    prop_assert!(!exact);
                    let kind = rejection.kind().as_str();
                    prop_assert!(kind == "missing" || kind == "scheme", "{}", kind);
                }
            }
        }

        /// Values shaped like the header, to reach the interesting cases
        /// often.
        #[test]
        fn header_shaped_values(
            scheme in "(?i:bearer|basic|bear|bearerx)?",
            spaces in " {0,3}|\t",
            token in "[A-Za-z0-9._ -]{0,12}",
        ) {
            let value = format!("{scheme}{spaces}{token}");
            // Judged on the value itself: the token part may begin with a
            // space, so `Bearer` + `` + ` a` is the exact form too.
            let v = value.as_bytes();
            let exact = v.len() > 7
                && v[..6].eq_ignore_ascii_case(b"Bearer")
                && v[6] == b' '
                && !v[7..].contains(&b' ');
            prop_assert_eq!(bearer().token(value.as_bytes()).is_ok(), exact, "{:?}", value);
        }
    }
}
