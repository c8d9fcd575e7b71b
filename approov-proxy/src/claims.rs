//! The `Approov-Claim-<Name>` headers, one rule for both places they are
//! sent: in the forward-auth endpoint's `200` (`AUTH_RESPONSE_CLAIMS`) and
//! on every forwarded request (`UPSTREAM_CLAIMS`, a route's
//! `upstream_claims`). The names are checked at start-up; a value is the
//! verified token's claim when it is a safe header value, else empty.
//! At the bottom of the crate beside `error.rs`: config, forwarding and
//! the endpoint all use it.

use approov_core::ApproovClaims;
use http::{HeaderMap, HeaderName, HeaderValue};

use crate::error::ProxyConfigError;

/// At most this many claims are sent as headers: each costs a lookup and
/// a header per request.
pub(crate) const MAX_CLAIMS: usize = 16;

/// The longest claim value copied into a header.
pub(crate) const MAX_CLAIM_VALUE_LEN: usize = 1024;

/// The longest claim name accepted.
const MAX_NAME_LEN: usize = 64;

/// Every claim header's name starts with this (header names are
/// lower case in `http`).
const HEADER_PREFIX: &str = "approov-claim-";

/// The chosen claims: `(claim name, header)` pairs, in the order named.
pub(crate) type ClaimHeaders = Vec<(String, HeaderName)>;

/// Whether `name` is an `Approov-Claim-*` header, which only the proxy
/// may set: one a client sent is never forwarded. `_` counts as `-`:
/// CGI, WSGI and Rack backends read `Approov_Claim_Did` and
/// `Approov-Claim-Did` alike (`HTTP_APPROOV_CLAIM_DID`), so a client must
/// not get either spelling through.
pub(crate) fn is_claim_header(name: &HeaderName) -> bool {
    let name = name.as_str().as_bytes();
    name.len() >= HEADER_PREFIX.len()
        && name
            .iter()
            .zip(HEADER_PREFIX.as_bytes())
            .all(|(got, want)| got == want || (*got == b'_' && *want == b'-'))
}

/// Checks claim names (letters, digits, `_` and `-`, at most 64 bytes,
/// none twice, at most [`MAX_CLAIMS`]) and makes their headers. `setting`
/// and `form` (how a valid value looks there) go into the error.
pub(crate) fn parse_names<'a>(
    names: impl IntoIterator<Item = &'a str>,
    setting: &str,
    form: &str,
) -> Result<ClaimHeaders, ProxyConfigError> {
    let mut claims = ClaimHeaders::new();
    for name in names.into_iter().map(str::trim) {
        if claims.len() == MAX_CLAIMS {
            return Err(ProxyConfigError::invalid(
                setting,
                format!("at most {MAX_CLAIMS} claims"),
            ));
        }
        let usable = !name.is_empty()
            && name.len() <= MAX_NAME_LEN
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        let header = HeaderName::from_bytes(format!("{HEADER_PREFIX}{name}").as_bytes());
        let (true, Ok(header)) = (usable, header) else {
            return Err(ProxyConfigError::invalid(
                setting,
                format!(
                    "it must be claim names (letters, digits, '_' and '-', at most \
                     {MAX_NAME_LEN} each), {form}"
                ),
            ));
        };
        if claims.iter().any(|(_, h)| *h == header) {
            return Err(ProxyConfigError::invalid(
                setting,
                format!("the claim {name} is named twice"),
            ));
        }
        claims.push((name.to_owned(), header));
    }
    Ok(claims)
}

/// `Approov-Claim-<name>` for every chosen claim: its value when the
/// token has it as a string, number or boolean whose text is a safe header
/// value, else empty (no verified claims, in report-only mode, leaves them
/// all empty). Never the token itself, which is no claim. Replaces any
/// header of the same name already in `out`.
///
/// Always every header: gateways copy only the headers the endpoint's
/// answer has (Envoy's `allowed_upstream_headers` replaces a client's
/// `Approov-Claim-Did` only with one from it), and a backend behind the
/// proxy can tell "no such claim" from "not configured".
pub(crate) fn claim_headers(
    chosen: &[(String, HeaderName)],
    claims: Option<&ApproovClaims>,
    out: &mut HeaderMap,
) {
    for (name, header) in chosen {
        let value = claims
            .and_then(|claims| claims.claim(name))
            .and_then(|v| claim_value(&v))
            .unwrap_or_else(|| HeaderValue::from_static(""));
        out.insert(header.clone(), value);
    }
}

fn claim_value(value: &serde_json::Value) -> Option<HeaderValue> {
    let text = match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => n.to_string(),
        serde_json::Value::Bool(b) => b.to_string(),
        _ => return None,
    };
    // Visible ASCII and inner spaces only: no CR, LF, NUL or other control
    // character can split or end the header at the gateway or upstream.
    let safe = !text.is_empty()
        && text.len() <= MAX_CLAIM_VALUE_LEN
        && text.bytes().all(|b| b == b' ' || b.is_ascii_graphic())
        && text.trim() == text;
    safe.then(|| HeaderValue::from_str(&text).ok()).flatten()
}

#[cfg(test)]
mod tests {

    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn claim_headers_are_recognised_in_either_spelling() {
        for name in [
            "approov-claim-did",
            "approov_claim_did",
            "approov-claim_x",
            "approov_claim-",
        ] {
            assert!(is_claim_header(&HeaderName::from_static(name)), "{name}");
        }
        for name in [
            "approov-claims",
            "approov-clai",
            "x-approov-claim-did",
            "approov-token",
        ] {
            assert!(!is_claim_header(&HeaderName::from_static(name)), "{name}");
        }
    }

    #[test]
    fn claim_values_are_safe_header_values() {
        let ok = |v: serde_json::Value| claim_value(&v).map(|h| h.to_str().unwrap().to_owned());
        assert_eq!(ok(json!("ExampleDID==")).as_deref(), Some("ExampleDID=="));
        assert_eq!(ok(json!("a b")).as_deref(), Some("a b"));
        assert_eq!(ok(json!(12.5)).as_deref(), Some("12.5"));
        assert_eq!(ok(json!(true)).as_deref(), Some("true"));
        for bad in [
            json!("a\r\nX-Injected: 1"),
            json!("a\nb"),
            json!("a\u{0}b"),
            json!("tab\there"),
            json!("é"),
            json!(""),
            json!(" padded "),
            json!("x".repeat(MAX_CLAIM_VALUE_LEN + 1)),
            json!(["a"]),
            json!({"a": 1}),
            json!(null),
        ] {
            assert_eq!(ok(bad.clone()), None, "{bad}");
        }
    }

    #[test]
    fn names_are_checked_and_capped() {
        let c = parse_names(["did", " ip", "Arc_2-x"], "S", "e.g. did").unwrap();
        let headers: Vec<_> = c.iter().map(|(_, h)| h.as_str()).collect();
        assert_eq!(
            headers,
            [
                "approov-claim-did",
                "approov-claim-ip",
                "approov-claim-arc_2-x"
            ]
        );
        assert!(is_claim_header(&c[0].1));
        assert!(!is_claim_header(&HeaderName::from_static("approov-token")));
        let long = "x".repeat(MAX_NAME_LEN + 1);
        for bad in ["", "a b", "a:b", "é", "a.b", long.as_str()] {
            let err = parse_names([bad], "S", "e.g. did").unwrap_err().to_string();
            assert!(err.starts_with("S is not usable"), "{err}");
        }
        let err = parse_names(["did", "DID"], "S", "").unwrap_err();
        assert!(err.to_string().contains("named twice"), "{err}");
        let many: Vec<String> = (0..=MAX_CLAIMS).map(|i| format!("c{i}")).collect();
        let err = parse_names(many.iter().map(String::as_str), "S", "").unwrap_err();
        assert!(err.to_string().contains("at most 16 claims"), "{err}");
    }
}
