//! The third-party API key and where it goes in the upstream request.

use std::fmt;

use approov_core::Secret;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use zeroize::Zeroizing;

use super::{hop, query};
use crate::error::ProxyConfigError;

/// Where the upstream API expects its key.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyPlacement {
    /// A query parameter, e.g. `api_key` for `https://api.nasa.gov`.
    Query(String),
    /// A request header, e.g. `X-Api-Key`.
    Header(HeaderName),
    /// No key: the route guards an API that needs none (your own, say),
    /// and forwards what passed the token check as it is.
    Keyless,
}

impl KeyPlacement {
    /// A query parameter placement; the name must be non-empty.
    pub fn query(name: &str, setting: &str) -> Result<Self, ProxyConfigError> {
        let name = name.trim();
        if name.is_empty() || name.contains(['&', '=', '#', ';']) {
            return Err(ProxyConfigError::invalid(
                setting,
                "it must be a query parameter name such as api_key (not empty, \
                 without &, =, ; or #)",
            ));
        }
        Ok(Self::Query(name.to_owned()))
    }

    /// A header placement; the name must be a valid header name that the
    /// proxy does not manage itself (`Host`, hop-by-hop headers, framing).
    pub fn header(name: &str, setting: &str) -> Result<Self, ProxyConfigError> {
        let name = HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| {
            ProxyConfigError::invalid(setting, "it must be an HTTP header name such as X-Api-Key")
        })?;
        if hop::is_hop_by_hop(&name)
            || [header::HOST, header::CONTENT_LENGTH, header::EXPECT].contains(&name)
        {
            return Err(ProxyConfigError::invalid(
                setting,
                format!(
                    "{name} is a header the proxy manages itself; use the header the \
                     upstream reads its key from, such as X-Api-Key or Authorization"
                ),
            ));
        }
        Ok(Self::Header(name))
    }
}

/// `query parameter <name>`, `header <name>` or `none`: the name, never
/// the key (for logs and `approov-proxy check`).
impl fmt::Display for KeyPlacement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Query(name) => write!(f, "query parameter {name}"),
            Self::Header(name) => write!(f, "header {name}"),
            Self::Keyless => f.write_str("none"),
        }
    }
}

/// A third-party API key and its placement.
///
/// The key is held in an [`approov_core::Secret`] (wiped on drop) and its
/// `Debug` output is `[redacted]`; nothing in the proxy prints it.
#[derive(Clone)]
pub struct ApiKey {
    secret: Secret,
    placement: KeyPlacement,
    /// Computed once at start-up, marked sensitive (its `Debug` says so).
    header_value: Option<HeaderValue>,
    /// `name=value`, form-encoded, ready to append to a query.
    query_pair: Zeroizing<String>,
}

impl ApiKey {
    /// No key, for an upstream that needs none ([`KeyPlacement::Keyless`]).
    ///
    /// ```
    /// use approov_proxy::{ApiKey, KeyPlacement};
    ///
    /// assert_eq!(ApiKey::keyless().placement(), &KeyPlacement::Keyless);
    /// ```
    pub fn keyless() -> Self {
        Self {
            secret: Secret::from_bytes(Vec::new()),
            placement: KeyPlacement::Keyless,
            header_value: None,
            query_pair: Zeroizing::new(String::new()),
        }
    }

    /// Wraps `value` (surrounding white space ignored, as left by
    /// `$(cat file)`) for `placement`. `setting` names where the value came
    /// from, for the error message, which never quotes the value. With
    /// [`KeyPlacement::Keyless`] the value is not used: see
    /// [`keyless`](Self::keyless).
    pub fn new(
        value: &str,
        placement: KeyPlacement,
        setting: &str,
    ) -> Result<Self, ProxyConfigError> {
        if placement == KeyPlacement::Keyless {
            return Ok(Self::keyless());
        }
        let value = value.trim();
        if value.is_empty() {
            return Err(ProxyConfigError::missing(
                setting,
                "set it to the third-party API key",
            ));
        }
        let mut header_value = None;
        let mut query_pair = Zeroizing::new(String::new());
        match &placement {
            KeyPlacement::Keyless => {}
            KeyPlacement::Header(_) => {
                let mut v = HeaderValue::from_str(value).map_err(|_| {
                    ProxyConfigError::invalid(
                        setting,
                        "the key has characters an HTTP header value cannot carry \
                         (control characters or non-ASCII)",
                    )
                })?;
                v.set_sensitive(true);
                header_value = Some(v);
            }
            KeyPlacement::Query(name) => {
                query_pair.extend(form_urlencoded::byte_serialize(name.as_bytes()));
                query_pair.push('=');
                query_pair.extend(form_urlencoded::byte_serialize(value.as_bytes()));
            }
        }
        Ok(Self {
            secret: Secret::from_bytes(value.as_bytes()),
            placement,
            header_value,
            query_pair,
        })
    }

    /// Where the key goes.
    pub fn placement(&self) -> &KeyPlacement {
        &self.placement
    }

    /// Whether the key travels in the header `name`, or in one that
    /// CGI-style servers read as `name` (`X_Api_Key` for `X-Api-Key`).
    pub(crate) fn is_header(&self, name: &HeaderName) -> bool {
        matches!(&self.placement,
            KeyPlacement::Header(key) if super::hop::same_to_cgi(key.as_str(), name.as_str()))
    }

    /// Puts the key in `headers`, replacing every header of the same name
    /// the client sent (names compare case-insensitively).
    pub(crate) fn put_header(&self, headers: &mut HeaderMap) {
        if let (KeyPlacement::Header(name), Some(value)) = (&self.placement, &self.header_value) {
            headers.insert(name.clone(), value.clone());
        }
    }

    /// The upstream query: the client's, with the key parameter set.
    pub(crate) fn query(&self, client_query: Option<&str>) -> Option<String> {
        match &self.placement {
            KeyPlacement::Query(name) => {
                Some(query::with_key(client_query, name, &self.query_pair))
            }
            KeyPlacement::Header(_) | KeyPlacement::Keyless => client_query.map(str::to_owned),
        }
    }

    /// `text` with every occurrence of the key (raw or form-encoded)
    /// replaced by `[redacted]`: a last guard for error messages from other
    /// crates that could, in theory, quote a request.
    pub(crate) fn scrub(&self, text: &str) -> String {
        let raw = String::from_utf8_lossy(self.secret.expose());
        if raw.is_empty() {
            // Keyless: nothing to hide (and "" would match everywhere).
            return text.to_owned();
        }
        let mut out = text.replace(raw.as_ref(), "[redacted]");
        if let Some((_, encoded)) = self.query_pair.split_once('=')
            && !encoded.is_empty()
        {
            out = out.replace(encoded, "[redacted]");
        }
        out
    }
}

impl ApiKey {
    /// Replaces the key (raw or form-encoded) by `[redacted]` in every
    /// header value of an upstream response.
    pub(crate) fn redact_headers(&self, headers: &mut HeaderMap) {
        let raw = self.secret.expose();
        let encoded = self
            .query_pair
            .split_once('=')
            .map_or(&[][..], |(_, v)| v.as_bytes());
        for value in headers.values_mut() {
            let bytes = value.as_bytes();
            if !contains(bytes, raw) && !contains(bytes, encoded) {
                continue;
            }
            let redacted = replace_all(&replace_all(bytes, raw), encoded);
            if let Ok(new) = HeaderValue::from_bytes(&redacted) {
                *value = new;
            }
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

fn replace_all(haystack: &[u8], needle: &[u8]) -> Vec<u8> {
    if needle.is_empty() {
        return haystack.to_vec();
    }
    let mut out = Vec::with_capacity(haystack.len());
    let mut rest = haystack;
    while !rest.is_empty() {
        if rest.starts_with(needle) {
            out.extend_from_slice(b"[redacted]");
            rest = &rest[needle.len()..];
        } else {
            out.push(rest[0]);
            rest = &rest[1..];
        }
    }
    out
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKey")
            .field("key", &format_args!("[redacted]"))
            .field("placement", &self.placement)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const KEY: &str = "k3y-S3CRET/+=&x";

    #[test]
    fn debug_never_shows_the_key() {
        for placement in [
            KeyPlacement::query("api_key", "T").unwrap(),
            KeyPlacement::header("X-Api-Key", "T").unwrap(),
        ] {
            let key = ApiKey::new(KEY, placement, "API_KEY").unwrap();
            let debug = format!("{key:?} {:#?}", key);
            assert!(!debug.contains("S3CRET"), "{debug}");
            assert!(debug.contains("[redacted]"), "{debug}");
        }
    }

    #[test]
    fn header_key_replaces_every_client_value() {
        let key = ApiKey::new(KEY, KeyPlacement::header("X-Api-Key", "T").unwrap(), "K").unwrap();
        let mut headers = HeaderMap::new();
        headers.append("x-api-key", HeaderValue::from_static("client-1"));
        headers.append("X-API-KEY", HeaderValue::from_static("client-2"));
        key.put_header(&mut headers);
        let values: Vec<_> = headers.get_all("x-api-key").iter().collect();
        assert_eq!(values, [KEY]);
        assert!(values[0].is_sensitive());
    }

    #[test]
    fn query_key_is_form_encoded() {
        let key = ApiKey::new(KEY, KeyPlacement::query("api_key", "T").unwrap(), "K").unwrap();
        assert_eq!(
            key.query(Some("a=1")).unwrap(),
            "a=1&api_key=k3y-S3CRET%2F%2B%3D%26x"
        );
        assert_eq!(key.query(None).unwrap(), "api_key=k3y-S3CRET%2F%2B%3D%26x");
        let scrubbed = key.scrub("GET /?api_key=k3y-S3CRET%2F%2B%3D%26x and k3y-S3CRET/+=&x");
        assert_eq!(scrubbed, "GET /?api_key=[redacted] and [redacted]");
    }

    #[test]
    fn response_headers_never_carry_the_key() {
        let key = ApiKey::new(KEY, KeyPlacement::query("api_key", "T").unwrap(), "K").unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(
            "location",
            HeaderValue::from_static("https://x/a?api_key=k3y-S3CRET%2F%2B%3D%26x&b=1"),
        );
        headers.insert(
            "x-echo",
            HeaderValue::from_static("k3y-S3CRET/+=&x, k3y-S3CRET/+=&x"),
        );
        headers.insert("x-other", HeaderValue::from_static("k3y-S3CRE"));
        key.redact_headers(&mut headers);
        assert_eq!(headers["location"], "https://x/a?api_key=[redacted]&b=1");
        assert_eq!(headers["x-echo"], "[redacted], [redacted]");
        assert_eq!(headers["x-other"], "k3y-S3CRE");
    }

    #[test]
    fn keyless_adds_nothing_and_redacts_nothing() {
        let key = ApiKey::keyless();
        assert_eq!(key.placement(), &KeyPlacement::Keyless);
        let mut headers = HeaderMap::new();
        headers.insert("x-echo", HeaderValue::from_static("kept"));
        key.put_header(&mut headers);
        key.redact_headers(&mut headers);
        assert_eq!(headers.len(), 1);
        assert_eq!(headers["x-echo"], "kept");
        assert_eq!(key.query(Some("a=1")).as_deref(), Some("a=1"));
        assert_eq!(key.query(None), None);
        assert_eq!(key.scrub("error text"), "error text");
        let via_new = ApiKey::new("ignored", KeyPlacement::Keyless, "K").unwrap();
        assert_eq!(via_new.placement(), &KeyPlacement::Keyless);
    }

    #[test]
    fn bad_keys_and_placements_are_refused_without_quoting_the_key() {
        let header = KeyPlacement::header("X-Api-Key", "T").unwrap();
        let err = ApiKey::new("abc\u{1}SECRETPART", header.clone(), "API_KEY").unwrap_err();
        assert!(
            err.to_string().starts_with("API_KEY is not usable"),
            "{err}"
        );
        assert!(!err.to_string().contains("SECRETPART"), "{err}");
        let err = ApiKey::new("  ", header, "API_KEY").unwrap_err();
        assert!(err.to_string().starts_with("API_KEY is not set"), "{err}");
        for bad in ["", "a b", "x:y"] {
            assert!(KeyPlacement::header(bad, "H").is_err(), "{bad:?}");
        }
        for managed in [
            "Host",
            "Connection",
            "transfer-encoding",
            "Content-Length",
            "TE",
        ] {
            let err = KeyPlacement::header(managed, "API_KEY_HEADER").unwrap_err();
            assert!(err.to_string().contains("manages itself"), "{err}");
        }
        for bad in ["", " ", "a&b", "a=b"] {
            assert!(KeyPlacement::query(bad, "Q").is_err(), "{bad:?}");
        }
    }
}
