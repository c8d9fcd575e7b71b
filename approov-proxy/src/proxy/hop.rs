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
///
/// A name with underscores goes too when the same name with dashes would:
/// CGI-style servers (PHP, WSGI and Rack servers among them) read
/// `X_Api_Key` and `X-Api-Key` both as `HTTP_X_API_KEY`, so
/// `Approov_Claim_Did` or `X_HTTP_Method_Override` would otherwise reach
/// such a backend as the header the proxy removed. (nginx and Apache drop
/// every underscored name by default; here the others pass.)
pub(crate) fn remove_where(headers: &mut HeaderMap, also: impl Fn(&HeaderName) -> bool) {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .collect();
    let removed = |name: &HeaderName| is_hop_by_hop(name) || named.contains(name) || also(name);
    let doomed: Vec<HeaderName> = headers
        .keys()
        .filter(|name| removed(name) || dashed(name).is_some_and(|dashed| removed(&dashed)))
        .cloned()
        .collect();
    for name in doomed {
        headers.remove(name);
    }
}

/// Whether CGI-style servers read the header names `a` and `b` as one:
/// the same but for case and for `_` against `-`.
pub(crate) fn same_to_cgi(a: &str, b: &str) -> bool {
    let dash = |c: u8| {
        if c == b'_' {
            b'-'
        } else {
            c.to_ascii_lowercase()
        }
    };
    a.len() == b.len() && a.bytes().zip(b.bytes()).all(|(x, y)| dash(x) == dash(y))
}

/// `name` with its underscores made dashes, when it has any: the name a
/// CGI-style server reads it as.
fn dashed(name: &HeaderName) -> Option<HeaderName> {
    let name = name.as_str();
    if !name.contains('_') {
        return None;
    }
    // Dashes for underscores keep a valid header name valid.
    HeaderName::from_bytes(name.replace('_', "-").as_bytes()).ok()
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
    fn underscored_names_go_with_the_dashed_ones() {
        let mut headers = HeaderMap::new();
        for (name, value) in [
            ("Connection", "x-hop"),
            ("X_Hop", "1"),
            ("Transfer_Encoding", "chunked"),
            ("Keep_Alive", "timeout=5"),
            ("X_Removed_Too", "1"),
            ("X_Kept", "kept"),
            ("x_kept_too", "kept"),
        ] {
            headers.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_static(value),
            );
        }
        remove_where(&mut headers, |name| name == "x-removed-too");
        let mut left: Vec<&str> = headers.keys().map(HeaderName::as_str).collect();
        left.sort_unstable();
        assert_eq!(left, ["x_kept", "x_kept_too"]);
    }

    #[test]
    fn cgi_reads_underscores_as_dashes_in_any_case() {
        assert!(same_to_cgi("x_api_key", "X-Api-Key"));
        assert!(same_to_cgi("approov-token", "Approov_Token"));
        assert!(!same_to_cgi("x-api-key", "x-api-keys"));
        assert!(!same_to_cgi("x-api-key", "x.api.key"));
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
