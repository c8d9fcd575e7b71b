//! Routes: which requests go where. A route is a path prefix, the methods
//! it forwards and its rate limit, and the [`Forwarding`] to its upstream
//! (the upstream, its key, timeouts and client headers); the table finds
//! the route of a path as sent and as upstreams read it.

mod methods;
pub(crate) mod table;

use std::num::NonZeroU32;
use std::time::Duration;

pub use methods::AllowedMethods;

use crate::error::ProxyConfigError;
use crate::proxy::{self, ApiKey, ForwardedClientHeaders, Forwarding, Upstream};

/// The path the proxy answers itself, without a token: no route and no
/// forward-auth endpoint may take it.
pub(crate) const HEALTH_PATH: &str = "/health";

/// One route: requests under `prefix` go to `upstream` with `key`.
#[derive(Debug, Clone)]
pub struct Route {
    pub(crate) prefix: String,
    pub(crate) rate_limit: Option<NonZeroU32>,
    pub(crate) methods: AllowedMethods,
    /// Everything the forwarding needs: name, upstream, key, timeouts.
    pub(crate) forwarding: Forwarding,
}

impl Route {
    /// The route's name, used in logs.
    pub fn name(&self) -> &str {
        &self.forwarding.name
    }

    /// The path prefix, `/` or `/segment[/segment...]` without a trailing `/`.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The upstream base URL.
    pub fn upstream(&self) -> &Upstream {
        &self.forwarding.upstream
    }

    /// The API key and its placement.
    pub fn key(&self) -> &ApiKey {
        &self.forwarding.key
    }

    /// The claims of the verified token sent upstream, each as
    /// `Approov-Claim-<name>` (`UPSTREAM_CLAIMS`, a route's
    /// `upstream_claims`), in the order configured.
    pub fn upstream_claims(&self) -> impl Iterator<Item = &str> {
        self.forwarding.claims.iter().map(|(name, _)| name.as_str())
    }

    /// How long the upstream may take to answer (connect, send, response head).
    pub fn timeout(&self) -> Duration {
        self.forwarding.timeout
    }

    /// The longest pause allowed between two pieces of a client's request
    /// body (else `408`, or the connection is dropped once the response
    /// has started).
    pub fn client_body_timeout(&self) -> Duration {
        self.forwarding.client_body_timeout
    }

    /// The longest pause allowed between two pieces of the upstream's
    /// response body (else the client's response is cut short).
    pub fn upstream_body_timeout(&self) -> Duration {
        self.forwarding.upstream_body_timeout
    }

    /// Requests per minute allowed to one device on this route, if limited.
    pub fn rate_limit_per_minute(&self) -> Option<NonZeroU32> {
        self.rate_limit
    }

    /// The methods forwarded; others get `405`.
    pub fn allowed_methods(&self) -> &AllowedMethods {
        &self.methods
    }

    /// The client credential headers forwarded (none by default).
    pub fn forwarded_client_headers(&self) -> &ForwardedClientHeaders {
        &self.forwarding.client_headers
    }

    /// The rest of `path` after this route's prefix (empty or starting with
    /// `/`), or `None` when the path is not under the prefix. Prefixes match
    /// whole segments: `/nasa` matches `/nasa` and `/nasa/x`, not `/nasax`.
    pub(crate) fn strip<'a>(&self, path: &'a str) -> Option<&'a str> {
        proxy::strip_prefix(&self.prefix, path)
    }
}

/// Checks and normalises a route prefix: starts with `/`, no trailing `/`
/// (except the root), no query, fragment, empty or dot segment. Nor `;`
/// or `\`: routes are chosen on the path as upstreams read it too, where
/// `;` starts a parameter and `\` may be a separator, so such a prefix
/// could never be reached.
pub(crate) fn normalise_prefix(prefix: &str, setting: &str) -> Result<String, ProxyConfigError> {
    let prefix = prefix.trim();
    let trimmed = prefix.trim_end_matches('/');
    let bad = !prefix.starts_with('/')
        || prefix.contains(['?', '#', '%', ' ', ';', '\\'])
        || trimmed
            .split('/')
            .skip(1)
            .any(|s| s.is_empty() || s == "." || s == "..");
    if bad {
        return Err(ProxyConfigError::invalid(
            setting,
            "a prefix is / or /segment[/segment...], e.g. /nasa (no query, \
             percent-escapes, ';', '\\', empty or dot segments)",
        ));
    }
    Ok(if trimmed.is_empty() { "/" } else { trimmed }.to_owned())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::proxy::KeyPlacement;

    fn route(prefix: &str, upstream: &str) -> Route {
        Route {
            prefix: normalise_prefix(prefix, "p").unwrap(),
            rate_limit: None,
            methods: AllowedMethods::default(),
            forwarding: Forwarding {
                name: prefix.into(),
                upstream: Upstream::parse(upstream, "u").unwrap(),
                key: ApiKey::new("k", KeyPlacement::query("api_key", "q").unwrap(), "k").unwrap(),
                claims: Vec::new(),
                timeout: Duration::from_secs(1),
                client_headers: ForwardedClientHeaders::default(),
                client_body_timeout: Duration::from_secs(1),
                upstream_body_timeout: Duration::from_secs(1),
            },
        }
    }

    #[test]
    fn prefixes_match_whole_segments() {
        let r = route("/nasa/", "https://api.nasa.gov");
        assert_eq!(r.prefix(), "/nasa");
        assert_eq!(r.strip("/nasa"), Some(""));
        assert_eq!(r.strip("/nasa/planetary/apod"), Some("/planetary/apod"));
        assert_eq!(r.strip("/nasax"), None);
        assert_eq!(r.strip("/other"), None);
        let root = route("/", "https://api.nasa.gov");
        assert_eq!(root.strip("/anything"), Some("/anything"));
        for bad in [
            "", "nasa", "/a//b", "/a/../b", "/a?x", "/%2e", "/./a", "/a;b", "/a\\b",
        ] {
            assert!(normalise_prefix(bad, "prefix").is_err(), "{bad:?}");
        }
    }
}
