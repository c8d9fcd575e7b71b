//! The forward-auth settings (`AUTH_*`), read and checked at start-up.

use std::net::SocketAddr;
use std::num::NonZeroU32;

use approov_core::signing::{MessageSigning, SignaturePolicy};
use http::HeaderName;

use crate::claims::{self, ClaimHeaders};
use crate::error::ProxyConfigError;
use crate::route::HEALTH_PATH;

/// Which gateway calls the endpoint, and so where the original request's
/// method and target are read from. Configured, never guessed: a client
/// could otherwise add the headers of another convention that the gateway
/// passes on untouched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Gateway {
    /// nginx `auth_request`: `X-Original-Method` and `X-Original-URI`, which
    /// the `location` must set.
    Nginx,
    /// Traefik `ForwardAuth`: `X-Forwarded-Method`, `X-Forwarded-Uri`,
    /// which Traefik sets.
    Traefik,
    /// Envoy `ext_authz` (HTTP service): the request's own method, and its
    /// path and query after the endpoint, which is the `path_prefix`.
    Envoy,
}

/// What `AUTH_MESSAGE_SIGNING` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AuthSigning {
    Off,
    IfPresent,
    Required,
}

/// The forward-auth endpoint's configuration.
#[derive(Debug, Clone)]
pub(crate) struct AuthConfig {
    /// The endpoint path, e.g. `/approov/auth`: no trailing `/`.
    pub(crate) endpoint: String,
    pub(crate) gateway: Gateway,
    /// Where the original method and target are, for nginx and Traefik.
    pub(crate) method_header: HeaderName,
    pub(crate) uri_header: HeaderName,
    /// Where the original authority is, for `@authority` in signatures.
    pub(crate) host_header: HeaderName,
    /// `(claim name, response header)` pairs.
    pub(crate) claims: ClaimHeaders,
    /// Message signing, when `AUTH_MESSAGE_SIGNING` is not `off`.
    pub(crate) signing: Option<MessageSigning>,
    pub(crate) rate_limit: Option<NonZeroU32>,
    /// `AUTH_LISTEN_ADDR`: the endpoint's own listener, when set; the
    /// public listener then does not serve it.
    pub(crate) listen_addr: Option<SocketAddr>,
}

impl AuthConfig {
    /// `None` when `AUTH_ENDPOINT` is unset. `var` treats blank as unset.
    pub(crate) fn from_vars(
        var: &impl Fn(&str) -> Option<String>,
        rate_limit: Option<NonZeroU32>,
    ) -> Result<Option<Self>, ProxyConfigError> {
        let Some(endpoint) = var("AUTH_ENDPOINT") else {
            for other in [
                "AUTH_GATEWAY",
                "AUTH_ORIGINAL_METHOD_HEADER",
                "AUTH_ORIGINAL_URI_HEADER",
                "AUTH_RESPONSE_CLAIMS",
                "AUTH_MESSAGE_SIGNING",
                "AUTH_PUBLIC_ORIGIN",
                "AUTH_LISTEN_ADDR",
            ] {
                if var(other).is_some() {
                    return Err(ProxyConfigError::missing(
                        "AUTH_ENDPOINT",
                        format!("{other} is set, but forward-auth is on only with AUTH_ENDPOINT"),
                    ));
                }
            }
            return Ok(None);
        };
        let endpoint = endpoint_path(&endpoint)?;
        let gateway = match var("AUTH_GATEWAY").map(|v| v.trim().to_ascii_lowercase()) {
            None => Gateway::Nginx,
            Some(v) if v == "nginx" => Gateway::Nginx,
            Some(v) if v == "traefik" => Gateway::Traefik,
            Some(v) if v == "envoy" => Gateway::Envoy,
            Some(_) => {
                return Err(ProxyConfigError::invalid(
                    "AUTH_GATEWAY",
                    "it must be nginx, traefik or envoy",
                ));
            }
        };
        let (method, uri, host) = match gateway {
            Gateway::Nginx => ("x-original-method", "x-original-uri", "x-forwarded-host"),
            Gateway::Traefik => ("x-forwarded-method", "x-forwarded-uri", "x-forwarded-host"),
            Gateway::Envoy => ("", "", "host"),
        };
        let header = |setting: &str, default: &'static str| -> Result<_, ProxyConfigError> {
            match var(setting) {
                None if default.is_empty() => Ok(HeaderName::from_static("x-unused")),
                None => Ok(HeaderName::from_static(default)),
                Some(_) if gateway == Gateway::Envoy => Err(ProxyConfigError::conflict(
                    setting,
                    "AUTH_GATEWAY=envoy",
                    "Envoy sends the original method and path as the request's own; unset it",
                )),
                Some(name) => HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| {
                    ProxyConfigError::invalid(setting, "it is not a valid header name")
                }),
            }
        };
        let method_header = header("AUTH_ORIGINAL_METHOD_HEADER", method)?;
        let uri_header = header("AUTH_ORIGINAL_URI_HEADER", uri)?;
        let signing = signing(var)?;
        let listen_addr = var("AUTH_LISTEN_ADDR")
            .map(|value| {
                value.trim().parse::<SocketAddr>().map_err(|_| {
                    ProxyConfigError::invalid(
                        "AUTH_LISTEN_ADDR",
                        "it is not <ip>:<port>; use a private address only the gateway \
                         reaches, e.g. 127.0.0.1:8081 or 10.0.0.5:8081 (port 0 picks a free port)",
                    )
                })
            })
            .transpose()?;
        Ok(Some(Self {
            endpoint,
            gateway,
            method_header,
            uri_header,
            host_header: HeaderName::from_static(host),
            claims: response_claims(var("AUTH_RESPONSE_CLAIMS").as_deref())?,
            signing,
            rate_limit,
            listen_addr,
        }))
    }

    /// Refuses a route the endpoint would hide: routes are matched after
    /// the endpoint, so a route at or under it would never be reached.
    pub(crate) fn check_route_prefix(
        &self,
        prefix: &str,
        setting: &str,
    ) -> Result<(), ProxyConfigError> {
        let under = prefix
            .strip_prefix(&self.endpoint)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
        if under {
            return Err(ProxyConfigError::conflict(
                setting,
                "AUTH_ENDPOINT",
                format!(
                    "the route prefix {prefix} is at or under the forward-auth endpoint {}, \
                     which is matched first; move one of them",
                    self.endpoint
                ),
            ));
        }
        Ok(())
    }
}

/// An absolute path of plain segments, not `/health` or under it.
fn endpoint_path(value: &str) -> Result<String, ProxyConfigError> {
    let path = value.trim().trim_end_matches('/');
    let plain = |segment: &str| {
        !segment.is_empty()
            && segment != "."
            && segment != ".."
            && segment
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
    };
    if !value.trim().starts_with('/') || path.is_empty() || !path[1..].split('/').all(plain) {
        return Err(ProxyConfigError::invalid(
            "AUTH_ENDPOINT",
            "it must be a path such as /approov/auth: segments of letters, digits, \
             '-', '.', '_' and '~', not / alone",
        ));
    }
    if path == HEALTH_PATH || path.starts_with("/health/") {
        return Err(ProxyConfigError::invalid(
            "AUTH_ENDPOINT",
            "/health is the proxy's own health check; choose another path",
        ));
    }
    Ok(path.to_owned())
}

/// `did` when unset; `none` for no header; else comma-separated claim
/// names, each copied into `Approov-Claim-<name>`.
fn response_claims(value: Option<&str>) -> Result<ClaimHeaders, ProxyConfigError> {
    let value = value.unwrap_or("did").trim();
    if value.eq_ignore_ascii_case("none") {
        return Ok(ClaimHeaders::new());
    }
    claims::parse_names(
        value.split(','),
        "AUTH_RESPONSE_CLAIMS",
        "separated by commas, e.g. did,ip, or none",
    )
}

fn signing(
    var: &impl Fn(&str) -> Option<String>,
) -> Result<Option<MessageSigning>, ProxyConfigError> {
    let setting = var("AUTH_MESSAGE_SIGNING").map(|v| v.trim().to_ascii_lowercase());
    let mode = match setting.as_deref() {
        None | Some("off") => AuthSigning::Off,
        Some("if-present") => AuthSigning::IfPresent,
        Some("required") => AuthSigning::Required,
        Some(_) => {
            return Err(ProxyConfigError::invalid(
                "AUTH_MESSAGE_SIGNING",
                "it must be off, if-present (when the token has ipk) or required",
            ));
        }
    };
    let policy = match mode {
        AuthSigning::Off => {
            if var("AUTH_PUBLIC_ORIGIN").is_some() {
                return Err(ProxyConfigError::conflict(
                    "AUTH_PUBLIC_ORIGIN",
                    "AUTH_MESSAGE_SIGNING=off",
                    "the public origin is only used to check message signatures",
                ));
            }
            return Ok(None);
        }
        AuthSigning::IfPresent => SignaturePolicy::IfTokenHasIpk,
        AuthSigning::Required => SignaturePolicy::Always,
    };
    let mut builder = MessageSigning::builder().policy(policy);
    if let Some(origin) = var("AUTH_PUBLIC_ORIGIN") {
        builder = builder.public_origin(origin.trim());
    }
    builder.build().map(Some).map_err(|e| {
        ProxyConfigError::invalid(
            "AUTH_PUBLIC_ORIGIN",
            format!("{e}; use the scheme and host clients call, e.g. https://api.example.com"),
        )
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn read(vars: &[(&str, &str)]) -> Result<Option<AuthConfig>, String> {
        let var = |name: &str| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
                .filter(|v| !v.trim().is_empty())
        };
        AuthConfig::from_vars(&var, None).map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_are_nginx_with_the_device_id() {
        assert!(read(&[]).unwrap().is_none());
        let c = read(&[("AUTH_ENDPOINT", "/approov/auth/")])
            .unwrap()
            .unwrap();
        assert_eq!(c.endpoint, "/approov/auth");
        assert_eq!(c.gateway, Gateway::Nginx);
        assert_eq!(c.method_header, "x-original-method");
        assert_eq!(c.uri_header, "x-original-uri");
        assert_eq!(c.claims.len(), 1);
        assert_eq!(c.claims[0].1, "approov-claim-did");
        assert!(c.signing.is_none());
        assert!(c.listen_addr.is_none());
    }

    #[test]
    fn gateways_and_options() {
        let c = read(&[("AUTH_ENDPOINT", "/a"), ("AUTH_GATEWAY", "Traefik")])
            .unwrap()
            .unwrap();
        assert_eq!(c.uri_header, "x-forwarded-uri");
        let c = read(&[
            ("AUTH_ENDPOINT", "/a"),
            ("AUTH_ORIGINAL_URI_HEADER", "X-Uri"),
            ("AUTH_RESPONSE_CLAIMS", "did, ip,arc"),
            ("AUTH_MESSAGE_SIGNING", "required"),
            ("AUTH_PUBLIC_ORIGIN", "https://api.example.com"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(c.uri_header, "x-uri");
        assert_eq!(c.claims.len(), 3);
        assert_eq!(
            c.signing.unwrap().policy(),
            SignaturePolicy::Always,
            "required"
        );
        let c = read(&[("AUTH_ENDPOINT", "/a"), ("AUTH_RESPONSE_CLAIMS", "none")])
            .unwrap()
            .unwrap();
        assert!(c.claims.is_empty());
        let c = read(&[
            ("AUTH_ENDPOINT", "/a"),
            ("AUTH_LISTEN_ADDR", " 127.0.0.1:0 "),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(c.listen_addr, Some("127.0.0.1:0".parse().unwrap()));
    }

    #[test]
    fn bad_settings_name_the_variable() {
        for (vars, setting) in [
            (
                vec![("AUTH_ENDPOINT", "approov")],
                "AUTH_ENDPOINT is not usable",
            ),
            (vec![("AUTH_ENDPOINT", "/")], "AUTH_ENDPOINT is not usable"),
            (
                vec![("AUTH_ENDPOINT", "/a/../b")],
                "AUTH_ENDPOINT is not usable",
            ),
            (
                vec![("AUTH_ENDPOINT", "/a//b")],
                "AUTH_ENDPOINT is not usable",
            ),
            (
                vec![("AUTH_ENDPOINT", "/{x}")],
                "AUTH_ENDPOINT is not usable",
            ),
            (
                vec![("AUTH_ENDPOINT", "/a%2F")],
                "AUTH_ENDPOINT is not usable",
            ),
            (
                vec![("AUTH_ENDPOINT", "/health")],
                "AUTH_ENDPOINT is not usable",
            ),
            (
                vec![("AUTH_ENDPOINT", "/health/x")],
                "AUTH_ENDPOINT is not usable",
            ),
            (vec![("AUTH_GATEWAY", "nginx")], "AUTH_ENDPOINT is not set"),
            (
                vec![("AUTH_LISTEN_ADDR", "127.0.0.1:8081")],
                "AUTH_ENDPOINT is not set: AUTH_LISTEN_ADDR is set",
            ),
            (
                vec![("AUTH_ENDPOINT", "/a"), ("AUTH_LISTEN_ADDR", "8081")],
                "AUTH_LISTEN_ADDR is not usable",
            ),
            (
                vec![
                    ("AUTH_ENDPOINT", "/a"),
                    ("AUTH_LISTEN_ADDR", "localhost:8081"),
                ],
                "AUTH_LISTEN_ADDR is not usable",
            ),
            (
                vec![("AUTH_ENDPOINT", "/a"), ("AUTH_GATEWAY", "haproxy")],
                "AUTH_GATEWAY is not usable",
            ),
            (
                vec![
                    ("AUTH_ENDPOINT", "/a"),
                    ("AUTH_GATEWAY", "envoy"),
                    ("AUTH_ORIGINAL_URI_HEADER", "x-uri"),
                ],
                "AUTH_ORIGINAL_URI_HEADER and AUTH_GATEWAY=envoy are both set",
            ),
            (
                vec![
                    ("AUTH_ENDPOINT", "/a"),
                    ("AUTH_ORIGINAL_METHOD_HEADER", "a b"),
                ],
                "AUTH_ORIGINAL_METHOD_HEADER is not usable",
            ),
            (
                vec![("AUTH_ENDPOINT", "/a"), ("AUTH_RESPONSE_CLAIMS", "did,a b")],
                "AUTH_RESPONSE_CLAIMS is not usable",
            ),
            (
                vec![("AUTH_ENDPOINT", "/a"), ("AUTH_RESPONSE_CLAIMS", "did,,ip")],
                "AUTH_RESPONSE_CLAIMS is not usable",
            ),
            (
                vec![("AUTH_ENDPOINT", "/a"), ("AUTH_RESPONSE_CLAIMS", "did,DID")],
                "AUTH_RESPONSE_CLAIMS is not usable",
            ),
            (
                vec![("AUTH_ENDPOINT", "/a"), ("AUTH_MESSAGE_SIGNING", "yes")],
                "AUTH_MESSAGE_SIGNING is not usable",
            ),
            (
                vec![("AUTH_ENDPOINT", "/a"), ("AUTH_PUBLIC_ORIGIN", "https://x")],
                "AUTH_PUBLIC_ORIGIN and AUTH_MESSAGE_SIGNING=off are both set",
            ),
            (
                vec![
                    ("AUTH_ENDPOINT", "/a"),
                    ("AUTH_MESSAGE_SIGNING", "if-present"),
                    ("AUTH_PUBLIC_ORIGIN", "not a url"),
                ],
                "AUTH_PUBLIC_ORIGIN is not usable",
            ),
        ] {
            let err = read(&vars).unwrap_err();
            assert!(err.starts_with(setting), "{vars:?}: {err}");
            assert!(!err.contains('\n'), "{err}");
        }
        let many = (0..17)
            .map(|i| format!("c{i}"))
            .collect::<Vec<_>>()
            .join(",");
        let err = read(&[("AUTH_ENDPOINT", "/a"), ("AUTH_RESPONSE_CLAIMS", &many)]).unwrap_err();
        assert!(
            err.starts_with("AUTH_RESPONSE_CLAIMS is not usable"),
            "{err}"
        );
    }

    #[test]
    fn routes_at_or_under_the_endpoint_are_refused() {
        let c = read(&[("AUTH_ENDPOINT", "/approov/auth")])
            .unwrap()
            .unwrap();
        for ok in ["/", "/approov", "/approov/authx", "/api"] {
            assert!(c.check_route_prefix(ok, "p").is_ok(), "{ok}");
        }
        for bad in ["/approov/auth", "/approov/auth/x"] {
            let err = c.check_route_prefix(bad, "p").unwrap_err().to_string();
            assert!(err.starts_with("p and AUTH_ENDPOINT are both set"), "{err}");
        }
    }
}
