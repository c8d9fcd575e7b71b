//! Hop-by-hop headers (RFC 9110 §7.6.1): they describe one connection, so
//! a proxy removes them in both directions.

use http::header::{self, HeaderMap, HeaderName};

/// The hop-by-hop headers RFC 9110 §7.6.1 lists or mentions, plus the
/// de-facto `Proxy-Connection` and `Keep-Alive`.
const HOP_BY_HOP: [&str; 9] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "proxy-authenticate",
    "proxy-authorization",
];

/// Whether `name` is always hop-by-hop.
pub(crate) fn is_hop_by_hop(name: &HeaderName) -> bool {
    HOP_BY_HOP.contains(&name.as_str())
}

/// Removes, from the upstream's response, the hop-by-hop headers, every
/// header that `Connection` names, and a `Content-Length` sent beside
/// `Transfer-Encoding`: RFC 9112 §6.3 lets the transfer coding frame the
/// body (as hyper's client decoded it), so that length is not the body's,
/// and passed on it would cut the body short for the client. Without it the
/// body goes on chunked.
pub(crate) fn remove_hop_by_hop(headers: &mut HeaderMap) {
    if headers.contains_key(header::TRANSFER_ENCODING) {
        headers.remove(header::CONTENT_LENGTH);
    }
    remove_where(headers, |_| false);
}

/// Removes the hop-by-hop headers, every header that `Connection` names,
/// and every header for which `also` is true, in one pass over the names
/// present: a request usually carries a handful of headers and none of
/// these, so nothing is looked up, parsed or allocated for the long lists
/// of names the proxy never forwards.
pub(crate) fn remove_where(headers: &mut HeaderMap, also: impl Fn(&HeaderName) -> bool) {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .collect();
    let doomed: Vec<HeaderName> = headers
        .keys()
        .filter(|name| is_hop_by_hop(name) || named.contains(name) || also(name))
        .cloned()
        .collect();
    for name in doomed {
        headers.remove(name);
    }
}

/// Headers asking the upstream to treat the request as another method
/// (Rails, Spring's `HiddenHttpMethodFilter`, Google APIs honour some of
/// them): forwarding them would get round the allow-list, so they are
/// always removed.
pub(crate) const METHOD_OVERRIDE_HEADERS: [&str; 3] = [
    "x-http-method-override",
    "x-http-method",
    "x-method-override",
];

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use http::HeaderValue;

    #[test]
    fn removes_listed_and_connection_named_headers() {
        let mut headers = HeaderMap::new();
        for (name, value) in [
            ("Connection", "keep-alive, X-Hop-One"),
            ("connection", "x-hop-two"),
            ("X-Hop-One", "1"),
            ("X-Hop-Two", "2"),
            ("Keep-Alive", "timeout=5"),
            ("Proxy-Connection", "keep-alive"),
            ("TE", "trailers"),
            ("Trailer", "X-Checksum"),
            ("Transfer-Encoding", "chunked"),
            ("Upgrade", "websocket"),
            ("Proxy-Authenticate", "Basic"),
            ("Proxy-Authorization", "Basic eDp5"),
            ("X-End-To-End", "kept"),
            ("Content-Type", "text/plain"),
        ] {
            headers.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_static(value),
            );
        }
        remove_hop_by_hop(&mut headers);
        let mut left: Vec<&str> = headers.keys().map(HeaderName::as_str).collect();
        left.sort_unstable();
        assert_eq!(left, ["content-type", "x-end-to-end"]);
    }

    #[test]
    fn content_length_goes_only_beside_transfer_encoding() {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("5"));
        remove_hop_by_hop(&mut headers);
        assert_eq!(headers[header::CONTENT_LENGTH], "5");
        headers.insert(
            header::TRANSFER_ENCODING,
            HeaderValue::from_static("chunked"),
        );
        remove_hop_by_hop(&mut headers);
        assert!(headers.is_empty(), "{headers:?}");
    }
}
