//! The upstream a route forwards to: its base URL, and the `Host` header
//! and request URI made from it.

use http::uri::{Authority, PathAndQuery, Scheme};
use http::{HeaderValue, Uri};

use crate::error::ProxyConfigError;

/// An upstream base URL: `http(s)://host[:port][/base-path]`. No
/// credentials, query or fragment (keys belong in the route's key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upstream {
    scheme: Scheme,
    authority: Authority,
    /// Without a trailing `/`; empty for the root.
    base_path: String,
    /// The `Host` header for it: the host, and the port unless it is the
    /// scheme's default (what hyper's client would write, made once).
    host: HeaderValue,
}

impl Upstream {
    /// Parses an upstream URL; `setting` names its source for the error,
    /// which never quotes the value (it might hold credentials).
    pub fn parse(value: &str, setting: &str) -> Result<Self, ProxyConfigError> {
        let invalid = |problem: &str| {
            ProxyConfigError::invalid(
                setting,
                format!(
                    "{problem}; it must be http(s)://host[:port][/base-path], \
                     e.g. https://api.nasa.gov or https://api.example.com/v1"
                ),
            )
        };
        let value = value.trim();
        let uri: Uri = value.parse().map_err(|_| invalid("it is not a URL"))?;
        let scheme = match uri.scheme_str() {
            Some(s) if s.eq_ignore_ascii_case("https") => Scheme::HTTPS,
            Some(s) if s.eq_ignore_ascii_case("http") => Scheme::HTTP,
            Some(_) => return Err(invalid("its scheme is neither https nor http")),
            None => return Err(invalid("it has no scheme and host")),
        };
        let authority = uri
            .authority()
            .cloned()
            .ok_or_else(|| invalid("it has no host"))?;
        if authority.as_str().contains('@') {
            return Err(invalid(
                "it holds credentials (user:password@), which the proxy would \
                 send to the upstream unprotected; put the key in its own variable",
            ));
        }
        if authority.host().is_empty() {
            return Err(invalid("it has no host"));
        }
        if uri.query().is_some() || value.contains('#') {
            return Err(invalid("it has a query or fragment"));
        }
        let default_port = if scheme == Scheme::HTTPS { 443 } else { 80 };
        let host = match authority.port_u16() {
            Some(port) if port != default_port => format!("{}:{port}", authority.host()),
            _ => authority.host().to_owned(),
        };
        // An authority's host and port are valid header text.
        let host = HeaderValue::try_from(host).map_err(|_| invalid("its host is unusable"))?;
        Ok(Self {
            scheme,
            authority,
            base_path: uri.path().trim_end_matches('/').to_owned(),
            host,
        })
    }

    /// The `Host` header requests to this upstream carry.
    pub(crate) fn host(&self) -> &HeaderValue {
        &self.host
    }

    /// Whether requests to this upstream travel over TLS.
    pub fn is_https(&self) -> bool {
        self.scheme == Scheme::HTTPS
    }

    /// Whether the host is loopback (`localhost`, `127.x`, `[::1]`).
    pub(crate) fn is_loopback(&self) -> bool {
        let host = self
            .authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']');
        host.eq_ignore_ascii_case("localhost")
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    }

    /// The upstream URI for `rest` (the request path after the route
    /// prefix: empty or starting with `/`) and `query`.
    pub(crate) fn uri(&self, rest: &str, query: Option<&str>) -> Result<Uri, http::Error> {
        let mut target = String::with_capacity(
            self.base_path.len() + rest.len() + query.map_or(0, |q| q.len() + 1) + 1,
        );
        target.push_str(&self.base_path);
        target.push_str(rest);
        if target.is_empty() {
            target.push('/');
        }
        if let Some(query) = query {
            target.push('?');
            target.push_str(query);
        }
        Uri::builder()
            .scheme(self.scheme.clone())
            .authority(self.authority.clone())
            .path_and_query(PathAndQuery::try_from(target)?)
            .build()
    }
}

impl std::fmt::Display for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://{}{}", self.scheme, self.authority, self.base_path)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn upstream_urls() {
        let up = Upstream::parse("https://api.nasa.gov", "U").unwrap();
        assert!(up.is_https());
        assert_eq!(up.to_string(), "https://api.nasa.gov");
        assert_eq!(
            up.uri("/planetary/apod", Some("a=1")).unwrap(),
            "https://api.nasa.gov/planetary/apod?a=1"
        );
        assert_eq!(up.uri("", None).unwrap(), "https://api.nasa.gov/");
        let up = Upstream::parse(" http://127.0.0.1:9000/v1/ ", "U").unwrap();
        assert!(!up.is_https() && up.is_loopback());
        assert_eq!(up.uri("", None).unwrap(), "http://127.0.0.1:9000/v1");
        assert_eq!(up.uri("/x/", None).unwrap(), "http://127.0.0.1:9000/v1/x/");
        assert!(
            Upstream::parse("http://[::1]:80", "U")
                .unwrap()
                .is_loopback()
        );
        assert!(
            !Upstream::parse("https://example.com", "U")
                .unwrap()
                .is_loopback()
        );
    }

    #[test]
    fn the_host_header_leaves_out_the_default_port() {
        for (url, host) in [
            ("https://api.nasa.gov", "api.nasa.gov"),
            ("https://api.nasa.gov:443/v1", "api.nasa.gov"),
            ("http://api.example.com:80", "api.example.com"),
            ("http://api.example.com:443", "api.example.com:443"),
            ("https://127.0.0.1:8443", "127.0.0.1:8443"),
            ("http://[::1]:8080/base", "[::1]:8080"),
        ] {
            assert_eq!(Upstream::parse(url, "U").unwrap().host(), host, "{url}");
        }
    }

    #[test]
    fn bad_upstream_urls_are_named_but_not_quoted() {
        for bad in [
            "",
            "api.nasa.gov",
            "/path",
            "ftp://host",
            "https://",
            "https://user:hunter2@host",
            "https://host/?api_key=hunter2",
            "https://host/#hunter2",
            "https://ho st",
        ] {
            let err = Upstream::parse(bad, "UPSTREAM_URL")
                .unwrap_err()
                .to_string();
            assert!(
                err.starts_with("UPSTREAM_URL is not usable: "),
                "{bad:?}: {err}"
            );
            assert!(!err.contains("hunter2"), "{bad:?}: {err}");
        }
    }
}
