//! Which request methods a route forwards: an allow-list, because an
//! upstream may give any other name a meaning of its own (`TRACE` echoes
//! the request, key included; `trace` or `TRACK` may too; WebDAV's
//! `PROPFIND` lists resources), and the proxy forwards only what it
//! understands.

use std::fmt;

use http::{HeaderValue, Method};

use crate::error::ProxyConfigError;

/// The methods a route may be configured to forward, in `Allow` order.
const KNOWN: [Method; 7] = [
    Method::GET,
    Method::HEAD,
    Method::POST,
    Method::PUT,
    Method::PATCH,
    Method::DELETE,
    Method::OPTIONS,
];

/// A route's allowed methods. Comparison is exact, as RFC 9110 §9.1 says
/// method names are case-sensitive: `get` and `Trace` are not allowed
/// because `GET` is.
#[derive(Clone, PartialEq, Eq)]
pub struct AllowedMethods {
    methods: Vec<Method>,
    /// The `Allow` header of a `405`, built once.
    allow: HeaderValue,
}

impl AllowedMethods {
    /// Parses a list of method names (any case: `get` means `GET`), each
    /// one of `GET`, `HEAD`, `POST`, `PUT`, `PATCH`, `DELETE`, `OPTIONS`.
    /// `setting` names the list in the error.
    pub fn parse<'a>(
        names: impl IntoIterator<Item = &'a str>,
        setting: &str,
    ) -> Result<Self, ProxyConfigError> {
        let mut methods = Vec::new();
        for name in names {
            let name = name.trim();
            let upper = name.to_ascii_uppercase();
            let Some(method) = KNOWN.iter().find(|m| m.as_str() == upper) else {
                let problem = if upper == "TRACE" || upper == "CONNECT" {
                    format!(
                        "{upper} is never forwarded (TRACE would echo the key, CONNECT \
                         asks for a tunnel)"
                    )
                } else {
                    format!(
                        "{name:?} is not a method the proxy forwards; choose from {}",
                        list(&KNOWN)
                    )
                };
                return Err(ProxyConfigError::invalid(setting, problem));
            };
            if !methods.contains(method) {
                methods.push(method.clone());
            }
        }
        if methods.is_empty() {
            return Err(ProxyConfigError::invalid(
                setting,
                format!(
                    "it lists no method; name at least one of {} (or leave it unset for all of them)",
                    list(&KNOWN)
                ),
            ));
        }
        // Keep `Allow` in one stable order, whatever the configured one.
        methods.sort_by_key(|m| KNOWN.iter().position(|k| k == m));
        Ok(Self::from_methods(methods))
    }

    /// Like [`parse`](Self::parse) for a comma-separated list, as in the
    /// `ALLOWED_METHODS` variable.
    pub fn parse_list(value: &str, setting: &str) -> Result<Self, ProxyConfigError> {
        Self::parse(value.split(',').filter(|s| !s.trim().is_empty()), setting)
    }

    fn from_methods(methods: Vec<Method>) -> Self {
        // Method names are tokens, so the joined list is a valid value.
        let allow = HeaderValue::from_str(&list(&methods))
            .unwrap_or_else(|_| HeaderValue::from_static("GET"));
        Self { methods, allow }
    }

    /// Whether `method` is forwarded.
    pub fn allows(&self, method: &Method) -> bool {
        self.methods.contains(method)
    }

    /// The methods, in `Allow` order.
    pub fn methods(&self) -> &[Method] {
        &self.methods
    }

    /// The value of the `Allow` header of a `405`.
    pub(crate) fn allow_header(&self) -> &HeaderValue {
        &self.allow
    }
}

/// `GET`, `HEAD`, `POST`, `PUT`, `PATCH`, `DELETE` and `OPTIONS`.
impl Default for AllowedMethods {
    fn default() -> Self {
        Self::from_methods(KNOWN.to_vec())
    }
}

impl fmt::Debug for AllowedMethods {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(&self.methods).finish()
    }
}

impl fmt::Display for AllowedMethods {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&list(&self.methods))
    }
}

fn list(methods: &[Method]) -> String {
    methods
        .iter()
        .map(Method::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn method(name: &str) -> Method {
        Method::from_bytes(name.as_bytes()).unwrap()
    }

    #[test]
    fn the_default_is_the_seven_usual_methods_exactly() {
        let all = AllowedMethods::default();
        assert_eq!(
            all.allow_header(),
            "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
        );
        for name in ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] {
            assert!(all.allows(&method(name)), "{name}");
        }
        for name in [
            "TRACE", "trace", "Trace", "TRACK", "DEBUG", "CONNECT", "PROPFIND", "get", "Get",
            "MOVE", "LOCK",
        ] {
            assert!(!all.allows(&method(name)), "{name}");
        }
    }

    #[test]
    fn lists_are_parsed_in_any_case_and_order() {
        let m = AllowedMethods::parse_list(" post, get ,GET,", "ALLOWED_METHODS").unwrap();
        assert_eq!(m.methods(), [Method::GET, Method::POST]);
        assert_eq!(m.to_string(), "GET, POST");
        assert!(!m.allows(&Method::PUT));
        assert!(!m.allows(&method("get")));
    }

    #[test]
    fn unknown_dangerous_or_no_methods_fail_naming_the_setting() {
        for (value, words) in [
            ("GET,TRACE", "TRACE is never forwarded"),
            ("connect", "CONNECT is never forwarded"),
            ("GET,PROPFIND", "\"PROPFIND\" is not a method"),
            ("GETT", "not a method"),
            ("", "lists no method"),
            (" , ", "lists no method"),
        ] {
            let err = AllowedMethods::parse_list(value, "ALLOWED_METHODS")
                .unwrap_err()
                .to_string();
            assert!(err.starts_with("ALLOWED_METHODS is not usable: "), "{err}");
            assert!(err.contains(words), "{value:?}: {err}");
        }
    }
}
