//! The client's own credentials, held back from the third party.
//!
//! What the app sends to authenticate itself to *us* (a session token in
//! `Authorization`, often the very header the Approov token is bound to,
//! cookies, RFC 9421 message signatures) means nothing to the third-party
//! API and must not be handed to it. A route may name the ones its
//! upstream does need.

use std::fmt;

use http::header::HeaderName;

use super::hop::{self, METHOD_OVERRIDE_HEADERS};
use crate::error::ProxyConfigError;

/// Client headers removed unless the route lets them through.
/// (`Proxy-Authorization` is hop-by-hop: always removed, see `hop`.)
const CREDENTIAL_HEADERS: [&str; 4] = ["authorization", "cookie", "signature", "signature-input"];

/// The credential headers a route forwards from the client; none by
/// default.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ForwardedClientHeaders {
    names: Vec<HeaderName>,
}

impl ForwardedClientHeaders {
    /// Parses header names (any case), each one of `Authorization`,
    /// `Cookie`, `Signature` and `Signature-Input`: every other header is
    /// forwarded anyway, or never (hop-by-hop headers, the method
    /// overrides, the Approov token header `token_header`). `setting` names
    /// the list in the error.
    pub fn parse<'a>(
        names: impl IntoIterator<Item = &'a str>,
        setting: &str,
        token_header: &str,
    ) -> Result<Self, ProxyConfigError> {
        let mut out = Vec::new();
        for name in names {
            let name = name.trim();
            let header = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                ProxyConfigError::invalid(
                    setting,
                    format!(
                        "{name:?} is not an HTTP header name; list names such as Authorization"
                    ),
                )
            })?;
            if let Some(problem) = refusal(&header, token_header) {
                return Err(ProxyConfigError::invalid(setting, problem));
            }
            if !out.contains(&header) {
                out.push(header);
            }
        }
        Ok(Self { names: out })
    }

    /// Like [`parse`](Self::parse) for a comma-separated list, as in the
    /// `FORWARD_CLIENT_HEADERS` variable.
    pub fn parse_list(
        value: &str,
        setting: &str,
        token_header: &str,
    ) -> Result<Self, ProxyConfigError> {
        Self::parse(
            value.split(',').filter(|s| !s.trim().is_empty()),
            setting,
            token_header,
        )
    }

    /// The headers let through, lower-case.
    pub fn names(&self) -> &[HeaderName] {
        &self.names
    }

    /// Whether `name` is a credential header the route does not let
    /// through.
    pub(crate) fn holds_back(&self, name: &HeaderName) -> bool {
        CREDENTIAL_HEADERS.contains(&name.as_str()) && !self.names.contains(name)
    }
}

/// Why `name` cannot be listed, if it cannot.
fn refusal(name: &HeaderName, token_header: &str) -> Option<String> {
    // First: with `APPROOV_TOKEN_HEADER=Authorization` the token travels in
    // a credential header, which the list would otherwise accept and the
    // proxy still never forward.
    if name.as_str().eq_ignore_ascii_case(token_header.trim())
        || name
            .as_str()
            .eq_ignore_ascii_case(approov_core::DEFAULT_TOKEN_HEADER)
    {
        return Some(format!(
            "{name} carries the Approov token (APPROOV_TOKEN_HEADER), which is never forwarded"
        ));
    }
    if CREDENTIAL_HEADERS.contains(&name.as_str()) {
        return None;
    }
    Some(if hop::is_hop_by_hop(name) {
        format!("{name} is hop-by-hop (meant for this proxy) and never forwarded")
    } else if METHOD_OVERRIDE_HEADERS.contains(&name.as_str()) {
        format!("{name} is never forwarded: it would get round the allowed methods")
    } else {
        format!(
            "{name} is forwarded anyway; this list only lets through the client \
             credentials held back by default: Authorization, Cookie, Signature, \
             Signature-Input"
        )
    })
}

impl fmt::Debug for ForwardedClientHeaders {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(&self.names).finish()
    }
}

/// The names, comma-separated, or `none`.
impl fmt::Display for ForwardedClientHeaders {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.names.is_empty() {
            return f.write_str("none");
        }
        let names: Vec<&str> = self.names.iter().map(HeaderName::as_str).collect();
        f.write_str(&names.join(", "))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use http::{HeaderMap, HeaderValue};

    fn client_headers() -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in [
            ("authorization", "Bearer session"),
            ("cookie", "a=1"),
            ("cookie", "b=2"),
            ("signature", "install=:c2ln:"),
            ("signature-input", "install=(\"@method\")"),
            ("x-other", "kept"),
        ] {
            headers.append(name, HeaderValue::from_static(value));
        }
        headers
    }

    fn left(headers: &HeaderMap) -> Vec<&str> {
        let mut names: Vec<&str> = headers.keys().map(HeaderName::as_str).collect();
        names.sort_unstable();
        names
    }

    #[test]
    fn none_pass_by_default() {
        let mut headers = client_headers();
        let none = ForwardedClientHeaders::default();
        assert_eq!(none.to_string(), "none");
        hop::remove_where(&mut headers, |n| none.holds_back(n));
        assert_eq!(left(&headers), ["x-other"]);
    }

    #[test]
    fn named_ones_pass_with_every_value() {
        let pass =
            ForwardedClientHeaders::parse_list(" COOKIE,authorization, ", "F", "approov-token")
                .unwrap();
        assert_eq!(pass.to_string(), "cookie, authorization");
        let mut headers = client_headers();
        hop::remove_where(&mut headers, |n| pass.holds_back(n));
        assert_eq!(left(&headers), ["authorization", "cookie", "x-other"]);
        assert_eq!(headers.get_all("cookie").iter().count(), 2);
    }

    #[test]
    fn other_names_fail_naming_the_setting() {
        for (name, words) in [
            ("Proxy-Authorization", "hop-by-hop"),
            ("Connection", "hop-by-hop"),
            ("X-HTTP-Method-Override", "allowed methods"),
            ("Approov-Token", "Approov token"),
            ("X-Token", "Approov token"),
            ("X-Api-Key", "forwarded anyway"),
            ("bad header", "not an HTTP header name"),
        ] {
            let err = ForwardedClientHeaders::parse_list(name, "FORWARD_CLIENT_HEADERS", "X-Token")
                .unwrap_err()
                .to_string();
            assert!(
                err.starts_with("FORWARD_CLIENT_HEADERS is not usable: "),
                "{err}"
            );
            assert!(err.contains(words), "{name}: {err}");
        }
    }

    #[test]
    fn the_token_header_cannot_be_listed_even_when_it_is_a_credential_header() {
        let err = ForwardedClientHeaders::parse_list(
            "Cookie, authorization",
            "FORWARD_CLIENT_HEADERS",
            "Authorization",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with(
                "FORWARD_CLIENT_HEADERS is not usable: authorization carries the Approov token"
            ),
            "{err}"
        );
        // With the default token header, Authorization may be listed.
        assert!(ForwardedClientHeaders::parse_list("Authorization", "F", "Approov-Token").is_ok());
    }
}
