//! Which scheme and authority the client addressed: what `@scheme`,
//! `@authority` and `@target-uri` are computed from. Behind a proxy the
//! server sees another origin than the app signed, hence the configured
//! public origin and the (opt-in) forwarded headers.

use crate::error::ConfigError;
use crate::headers::RequestHeaders;

use super::message::MessageParts;

/// A scheme and authority, normalised as RFC 9421 §2.2.3 asks: lower case,
/// default port removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Origin {
    pub(crate) scheme: String,
    pub(crate) authority: Option<String>,
}

/// Why no authority could be found for the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AuthorityProblem {
    /// Neither the adapter, the forwarded headers nor `Host` give one.
    Absent,
    /// `Host` appears more than once.
    Repeated,
}

impl Origin {
    pub(crate) fn new(scheme: &str, authority: Option<&str>) -> Self {
        let scheme = scheme.to_ascii_lowercase();
        let authority = authority.map(|a| {
            let a = a.to_ascii_lowercase();
            let default = match scheme.as_str() {
                "https" => Some(":443"),
                "http" => Some(":80"),
                _ => None,
            };
            match default.and_then(|port| a.strip_suffix(port)) {
                Some(stripped) => stripped.to_owned(),
                None => a,
            }
        });
        Self { scheme, authority }
    }

    /// Parses `https://api.example.com[:port]` (a trailing `/` allowed).
    pub(crate) fn parse_public(origin: &str) -> Result<Self, ConfigError> {
        let bad = |why: &str| {
            ConfigError::invalid(
                "public_origin",
                format!("{why}; expected e.g. https://api.example.com"),
            )
        };
        let (scheme, rest) = origin
            .trim()
            .split_once("://")
            .ok_or_else(|| bad("it has no scheme"))?;
        if !scheme.eq_ignore_ascii_case("https") && !scheme.eq_ignore_ascii_case("http") {
            return Err(bad("the scheme must be http or https"));
        }
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if !is_authority(authority) {
            return Err(bad(
                "the authority is empty or has a path, query or bad characters",
            ));
        }
        Ok(Self::new(scheme, Some(authority)))
    }

    /// The origin of this request: the public origin when configured, else
    /// trusted forwarded headers, else what the adapter saw (`Host` for the
    /// authority, `http` for an unknown scheme).
    pub(crate) fn of_request<H: RequestHeaders + ?Sized>(
        public: Option<&Self>,
        trust_forwarded: bool,
        parts: &MessageParts<'_, H>,
    ) -> Result<Self, (Self, AuthorityProblem)> {
        if let Some(public) = public {
            return Ok(public.clone());
        }
        let headers = parts.headers();
        let forwarded = trust_forwarded.then(|| Forwarded::read(headers));
        let forwarded = forwarded.unwrap_or_default();
        let scheme = forwarded
            .proto
            .as_deref()
            .or(parts.scheme())
            .unwrap_or("http");
        let authority = match forwarded.host.as_deref().or(parts.authority()) {
            Some(a) => Ok(a.to_owned()),
            None => {
                let mut hosts = headers.header_values("host");
                match (hosts.next(), hosts.next()) {
                    (Some(h), None) => std::str::from_utf8(h)
                        .ok()
                        .map(str::trim)
                        .filter(|h| is_authority(h))
                        .map(str::to_owned)
                        .ok_or(AuthorityProblem::Absent),
                    (Some(_), Some(_)) => Err(AuthorityProblem::Repeated),
                    (None, _) => Err(AuthorityProblem::Absent),
                }
            }
        };
        match authority {
            Ok(a) => Ok(Self::new(scheme, Some(&a))),
            Err(problem) => Err((Self::new(scheme, None), problem)),
        }
    }
}

/// Host and port characters only: no user info, path, query or spaces.
fn is_authority(a: &str) -> bool {
    !a.is_empty()
        && a.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~:[]!$&'()*+,;=%".contains(&b))
}

/// What the nearest proxy said about the original request.
#[derive(Debug, Default)]
struct Forwarded {
    proto: Option<String>,
    host: Option<String>,
}

impl Forwarded {
    /// `Forwarded` (RFC 7239) wins over `X-Forwarded-Proto`/`-Host`. Only
    /// the last element of each is read: it is the one the nearest proxy,
    /// the trusted one, added; earlier ones may come from the client.
    fn read<H: RequestHeaders + ?Sized>(headers: &H) -> Self {
        let mut out = Self::default();
        if let Some(last) = last_element(headers, "forwarded") {
            for pair in split_outside_quotes(&last, ';') {
                let Some((key, value)) = pair.split_once('=') else {
                    continue;
                };
                let value = unquote(value.trim());
                match key.trim().to_ascii_lowercase().as_str() {
                    "proto" => out.proto = Some(value),
                    "host" => out.host = Some(value),
                    _ => {}
                }
            }
        }
        if out.proto.is_none() {
            out.proto = last_element(headers, "x-forwarded-proto");
        }
        if out.host.is_none() {
            out.host = last_element(headers, "x-forwarded-host");
        }
        out.proto = out
            .proto
            .filter(|p| p.eq_ignore_ascii_case("https") || p.eq_ignore_ascii_case("http"));
        out.host = out.host.filter(|h| is_authority(h));
        out
    }
}

/// The last comma-separated element over every line of header `name`.
fn last_element<H: RequestHeaders + ?Sized>(headers: &H, name: &str) -> Option<String> {
    let line = headers.header_values(name).last()?;
    let line = std::str::from_utf8(line).ok()?;
    split_outside_quotes(line, ',')
        .into_iter()
        .next_back()
        .map(|e| e.trim().to_owned())
        .filter(|e| !e.is_empty())
}

fn split_outside_quotes(s: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in s.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            c if c == sep && !quoted => {
                parts.push(&s[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
}

fn unquote(v: &str) -> String {
    match v.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
        Some(inner) => {
            let mut out = String::with_capacity(inner.len());
            let mut escaped = false;
            for c in inner.chars() {
                if c == '\\' && !escaped {
                    escaped = true;
                } else {
                    out.push(c);
                    escaped = false;
                }
            }
            out
        }
        None => v.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_case_and_default_ports() {
        let o = Origin::new("HTTPS", Some("API.Example.com:443"));
        assert_eq!(o.authority.as_deref(), Some("api.example.com"));
        let o = Origin::new("http", Some("example.com:8080"));
        assert_eq!(o.authority.as_deref(), Some("example.com:8080"));
        let o = Origin::new("http", Some("[::1]:80"));
        assert_eq!(o.authority.as_deref(), Some("[::1]"));
    }

    #[test]
    fn reads_the_last_forwarded_element() {
        let headers = [(
            "Forwarded",
            r#"host=evil.example;proto=http, for=1.2.3.4;host="api.example.com";proto=https"#,
        )];
        let f = Forwarded::read(&headers);
        assert_eq!(f.host.as_deref(), Some("api.example.com"));
        assert_eq!(f.proto.as_deref(), Some("https"));
    }
}
