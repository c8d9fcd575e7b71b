//! Lets the core read warp's (`http` 1) header map.

use approov_core::RequestHeaders;
use warp::http::HeaderMap;

/// A borrowed view of a request's headers for [`approov_core`]; the orphan
/// rule keeps us from implementing the core's trait on `HeaderMap` itself.
pub(crate) struct Headers<'h>(pub(crate) &'h HeaderMap);

impl RequestHeaders for Headers<'_> {
    fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        // `get_all` matches names case-insensitively, keeps every value in
        // order (so repeats can be refused), and yields nothing for a name
        // that is not a valid header name.
        self.0.get_all(name).into_iter().map(|v| v.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use warp::http::HeaderValue;

    #[test]
    fn yields_every_value_in_order_case_insensitively() {
        let mut map = HeaderMap::new();
        map.append("approov-token", HeaderValue::from_static("a"));
        map.append("Approov-Token", HeaderValue::from_static("b"));
        map.append("x-other", HeaderValue::from_static("c"));
        let headers = Headers(&map);
        let values: Vec<&[u8]> = headers.header_values("APPROOV-TOKEN").collect();
        assert_eq!(values, [b"a".as_slice(), b"b".as_slice()]);
        assert_eq!(headers.header_values("missing").count(), 0);
    }

    #[test]
    fn invalid_names_and_raw_bytes_do_not_panic() {
        let mut map = HeaderMap::new();
        let raw = HeaderValue::from_bytes(b"\xff\x80tok").expect("obs-text is a valid value");
        map.append("approov-token", raw);
        let headers = Headers(&map);
        assert_eq!(headers.header_values("bad name\n").count(), 0);
        let values: Vec<&[u8]> = headers.header_values("approov-token").collect();
        assert_eq!(values, [b"\xff\x80tok".as_slice()]);
    }
}
