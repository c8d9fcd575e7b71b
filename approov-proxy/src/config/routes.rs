//! The routes: the single upstream of `UPSTREAM_URL`, or the routes file
//! (`PROXY_CONFIG`): TOML, one `[[route]]` table per route.
//!
//! The file names the environment variable holding each key, never the key
//! itself, so it can live in version control.

use std::collections::HashSet;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use super::env::{rate_limit_from, timeout_from};
use super::redis::FileRedis;
use crate::claims::{self, ClaimHeaders};
use crate::error::ProxyConfigError;
use crate::proxy::{ApiKey, ForwardedClientHeaders, Forwarding, KeyPlacement, Upstream};
use crate::route::{AllowedMethods, HEALTH_PATH, Route, normalise_prefix};

/// The file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RoutesFile {
    #[serde(default, rename = "route")]
    pub(crate) routes: Vec<RouteEntry>,
    /// The Redis the per-device limit is shared through (`REDIS_URL`).
    pub(crate) redis_url: Option<String>,
    /// Or the Redis Cluster's seed nodes, comma-separated
    /// (`REDIS_CLUSTER_URLS`).
    pub(crate) redis_cluster_urls: Option<String>,
    /// The CA certificates trusted for `rediss://` (`REDIS_TLS_CA_FILE`).
    pub(crate) redis_tls_ca_file: Option<String>,
    /// The client certificate for `rediss://` (`REDIS_TLS_CERT_FILE`).
    pub(crate) redis_tls_cert_file: Option<String>,
    /// Its private key (`REDIS_TLS_KEY_FILE`).
    pub(crate) redis_tls_key_file: Option<String>,
}

/// One `[[route]]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RouteEntry {
    pub(crate) name: Option<String>,
    pub(crate) prefix: String,
    pub(crate) upstream: String,
    pub(crate) key_env: Option<String>,
    pub(crate) key_query_param: Option<String>,
    pub(crate) key_header: Option<String>,
    pub(crate) timeout_seconds: Option<u64>,
    pub(crate) client_body_timeout_seconds: Option<u64>,
    pub(crate) upstream_body_timeout_seconds: Option<u64>,
    pub(crate) rate_limit_per_device_per_minute: Option<u32>,
    pub(crate) allowed_methods: Option<Vec<String>>,
    pub(crate) forward_client_headers: Option<Vec<String>>,
    pub(crate) upstream_claims: Option<Vec<String>>,
}

/// Parses the file's text. Syntax errors give the line and column and
/// toml's message, never the offending line itself: someone may have
/// pasted a key into the file by mistake.
pub(crate) fn parse(path: &str, text: &str) -> Result<RoutesFile, ProxyConfigError> {
    let file: RoutesFile = toml::from_str(text).map_err(|e| {
        let at = e.span().map(|span| {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            format!("line {line}, column {column}: ")
        });
        ProxyConfigError::File {
            path: path.to_owned(),
            problem: format!("{}{}", at.unwrap_or_default(), e.message().trim_end()),
        }
    })?;
    if file.routes.is_empty() {
        return Err(ProxyConfigError::File {
            path: path.to_owned(),
            problem: "no [[route]] table; add one per upstream (see the example in \
                      examples/README.md)"
                .to_owned(),
        });
    }
    Ok(file)
}

/// The variables of the single upstream: with `AUTH_ENDPOINT`, any of them
/// set means an upstream is wanted, so the others are required.
pub(super) const SINGLE_UPSTREAM: [&str; 6] = [
    "UPSTREAM_URL",
    "API_KEY",
    "API_KEY_QUERY_PARAM",
    "API_KEY_HEADER",
    "FORWARD_CLIENT_HEADERS",
    "UPSTREAM_CLAIMS",
];

/// Settings from the environment that apply to every route.
pub(super) struct Defaults {
    pub(super) timeout: Duration,
    pub(super) client_body_timeout: Duration,
    pub(super) upstream_body_timeout: Duration,
    pub(super) rate_limit: Option<NonZeroU32>,
    pub(super) token_header: Option<String>,
    pub(super) methods: AllowedMethods,
    /// `UPSTREAM_CLAIMS`: the claims sent upstream as headers.
    pub(super) claims: ClaimHeaders,
}

impl Defaults {
    /// The Approov token header's name, as configured.
    fn token_header(&self) -> &str {
        self.token_header
            .as_deref()
            .unwrap_or(approov_core::DEFAULT_TOKEN_HEADER)
    }
}

/// One upstream from `UPSTREAM_URL`, `API_KEY` and the placement variable.
pub(super) fn route_from_env(
    var: &impl Fn(&str) -> Option<String>,
    defaults: &Defaults,
) -> Result<Route, ProxyConfigError> {
    let upstream = var("UPSTREAM_URL").ok_or_else(|| {
        ProxyConfigError::missing(
            "UPSTREAM_URL",
            "set it to the third-party API's base URL, e.g. https://api.nasa.gov \
             (or set PROXY_CONFIG to a routes file, or AUTH_ENDPOINT alone for \
             forward-auth only)",
        )
    })?;
    let upstream = Upstream::parse(&upstream, "UPSTREAM_URL")?;
    let (query, header) = (var("API_KEY_QUERY_PARAM"), var("API_KEY_HEADER"));
    let key = match var("API_KEY") {
        // None of the three: an upstream that needs no key.
        None if query.is_none() && header.is_none() => ApiKey::keyless(),
        key => {
            let placement = placement(
                query.as_deref(),
                header.as_deref(),
                ("API_KEY_QUERY_PARAM", "API_KEY_HEADER"),
                defaults,
            )?;
            let key = key.ok_or_else(|| {
                ProxyConfigError::missing(
                    "API_KEY",
                    "set it to the third-party API key (or, for an upstream that needs \
                     no key, unset API_KEY_QUERY_PARAM and API_KEY_HEADER too)",
                )
            })?;
            ApiKey::new(&key, placement, "API_KEY")?
        }
    };
    Ok(Route {
        prefix: "/".to_owned(),
        rate_limit: defaults.rate_limit,
        methods: defaults.methods.clone(),
        forwarding: Forwarding {
            name: "default".into(),
            upstream,
            key,
            claims: defaults.claims.clone(),
            timeout: defaults.timeout,
            client_body_timeout: defaults.client_body_timeout,
            upstream_body_timeout: defaults.upstream_body_timeout,
            client_headers: match var("FORWARD_CLIENT_HEADERS") {
                Some(list) => ForwardedClientHeaders::parse_list(
                    &list,
                    "FORWARD_CLIENT_HEADERS",
                    defaults.token_header(),
                )?,
                None => ForwardedClientHeaders::default(),
            },
        },
    })
}

/// Every route of the `PROXY_CONFIG` file; the single-upstream variables
/// must then be unset, so that nobody wonders which one applies.
pub(super) fn routes_from_file(
    path: &str,
    var: &impl Fn(&str) -> Option<String>,
    defaults: &Defaults,
) -> Result<(Vec<Route>, FileRedis), ProxyConfigError> {
    for single in ["UPSTREAM_URL", "API_KEY_QUERY_PARAM", "API_KEY_HEADER"] {
        if var(single).is_some() {
            return Err(ProxyConfigError::conflict(
                "PROXY_CONFIG",
                single,
                format!("with a routes file every upstream is a [[route]] in it; unset {single}"),
            ));
        }
    }
    // Not a default for every route: a client credential should reach only
    // the third parties that were each named to receive it.
    if var("FORWARD_CLIENT_HEADERS").is_some() {
        return Err(ProxyConfigError::conflict(
            "PROXY_CONFIG",
            "FORWARD_CLIENT_HEADERS",
            "with a routes file, name the client headers each route forwards with its \
             forward_client_headers; unset FORWARD_CLIENT_HEADERS",
        ));
    }
    let text = std::fs::read_to_string(path).map_err(|e| ProxyConfigError::File {
        path: path.to_owned(),
        problem: format!("cannot read it: {e}"),
    })?;
    let file = parse(path, &text)?;
    let entries = file.routes;
    let mut names = HashSet::new();
    let mut prefixes = HashSet::new();
    let mut routes = Vec::with_capacity(entries.len());
    for (index, entry) in entries.into_iter().enumerate() {
        let route = route_from_entry(index, entry, path, var, defaults)?;
        let here = format!("route \"{}\" in {path}", route.name());
        if !names.insert(route.forwarding.name.clone()) {
            return Err(ProxyConfigError::invalid(
                here,
                "another route has this name",
            ));
        }
        if !prefixes.insert(route.prefix.clone()) {
            return Err(ProxyConfigError::invalid(
                here,
                format!("another route has the prefix {}", route.prefix),
            ));
        }
        routes.push(route);
    }
    let set = |v: Option<String>| v.filter(|v| !v.trim().is_empty());
    let redis = FileRedis {
        url: set(file.redis_url),
        cluster_urls: set(file.redis_cluster_urls),
        tls_ca_file: set(file.redis_tls_ca_file),
        tls_cert_file: set(file.redis_tls_cert_file),
        tls_key_file: set(file.redis_tls_key_file),
    };
    Ok((routes, redis))
}

fn route_from_entry(
    index: usize,
    entry: RouteEntry,
    path: &str,
    var: &impl Fn(&str) -> Option<String>,
    defaults: &Defaults,
) -> Result<Route, ProxyConfigError> {
    let name = match entry.name.as_deref() {
        Some(name) if name.trim().is_empty() => {
            return Err(ProxyConfigError::invalid(
                format!("route {} in {path}: name", index + 1),
                "it is empty; leave it out to use the prefix as the name",
            ));
        }
        Some(name) => name.trim().to_owned(),
        None => entry.prefix.trim().to_owned(),
    };
    let at = |field: &str| format!("route \"{name}\" in {path}: {field}");
    let prefix = normalise_prefix(&entry.prefix, &at("prefix"))?;
    if prefix == HEALTH_PATH {
        return Err(ProxyConfigError::invalid(
            at("prefix"),
            "/health is the proxy's own health check; choose another prefix",
        ));
    }
    let upstream = Upstream::parse(&entry.upstream, &at("upstream"))?;
    let key = route_key(&entry, &name, path, var, defaults)?;
    let timeout = match entry.timeout_seconds {
        Some(seconds) => {
            timeout_from(Some(seconds.to_string()), &at("timeout_seconds"))?.unwrap_or_default()
        }
        None => defaults.timeout,
    };
    let seconds = |value: Option<u64>, field: &str, default: Duration| match value {
        Some(n) => Ok(timeout_from(Some(n.to_string()), &at(field))?.unwrap_or(default)),
        None => Ok::<_, ProxyConfigError>(default),
    };
    let client_body_timeout = seconds(
        entry.client_body_timeout_seconds,
        "client_body_timeout_seconds",
        defaults.client_body_timeout,
    )?;
    let upstream_body_timeout = seconds(
        entry.upstream_body_timeout_seconds,
        "upstream_body_timeout_seconds",
        defaults.upstream_body_timeout,
    )?;
    let rate_limit = match entry.rate_limit_per_device_per_minute {
        Some(n) => rate_limit_from(Some(n.to_string()), &at("rate_limit_per_device_per_minute"))?,
        None => defaults.rate_limit,
    };
    let methods = match &entry.allowed_methods {
        Some(names) => {
            AllowedMethods::parse(names.iter().map(String::as_str), &at("allowed_methods"))?
        }
        None => defaults.methods.clone(),
    };
    let client_headers = match &entry.forward_client_headers {
        Some(names) => ForwardedClientHeaders::parse(
            names.iter().map(String::as_str),
            &at("forward_client_headers"),
            defaults.token_header(),
        )?,
        None => ForwardedClientHeaders::default(),
    };
    let claims = match &entry.upstream_claims {
        Some(names) => claims::parse_names(
            names.iter().map(String::as_str),
            &at("upstream_claims"),
            "e.g. [\"did\", \"ip\"]",
        )?,
        None => defaults.claims.clone(),
    };
    Ok(Route {
        prefix,
        rate_limit,
        methods,
        forwarding: Forwarding {
            name: Arc::from(name.as_str()),
            upstream,
            key,
            claims,
            timeout,
            client_headers,
            client_body_timeout,
            upstream_body_timeout,
        },
    })
}

/// The route's key: from the variable `key_env` names, placed as
/// `key_query_param` or `key_header` says; none of the three is a route
/// that forwards without a key.
fn route_key(
    entry: &RouteEntry,
    name: &str,
    path: &str,
    var: &impl Fn(&str) -> Option<String>,
    defaults: &Defaults,
) -> Result<ApiKey, ProxyConfigError> {
    let at = |field: &str| format!("route \"{name}\" in {path}: {field}");
    let (query, header) = (
        entry.key_query_param.as_deref(),
        entry.key_header.as_deref(),
    );
    let Some(key_env) = entry.key_env.as_deref().map(str::trim) else {
        if query.is_none() && header.is_none() {
            return Ok(ApiKey::keyless());
        }
        return Err(ProxyConfigError::missing(
            at("key_env"),
            "name the environment variable that holds the route's key (or, for an \
             upstream that needs no key, remove key_query_param and key_header too)",
        ));
    };
    let placement = placement(
        query,
        header,
        (&at("key_query_param"), &at("key_header")),
        defaults,
    )?;
    if key_env.is_empty() {
        return Err(ProxyConfigError::invalid(
            at("key_env"),
            "it must name the environment variable that holds the key",
        ));
    }
    let key_setting = format!("{key_env} (the key_env of route \"{name}\" in {path})");
    let key = var(key_env).ok_or_else(|| {
        ProxyConfigError::missing(&key_setting, "set it to the route's third-party API key")
    })?;
    ApiKey::new(&key, placement, &key_setting)
}

/// Exactly one of a query parameter and a header.
fn placement(
    query: Option<&str>,
    header: Option<&str>,
    (query_setting, header_setting): (&str, &str),
    defaults: &Defaults,
) -> Result<KeyPlacement, ProxyConfigError> {
    match (query, header) {
        (Some(_), Some(_)) => Err(ProxyConfigError::conflict(
            query_setting,
            header_setting,
            "the key goes in one place: keep the one the upstream API documents",
        )),
        (None, None) => Err(ProxyConfigError::missing(
            format!("{query_setting} or {header_setting}"),
            "say where the upstream expects its key: a query parameter \
             (e.g. api_key) or a header (e.g. X-Api-Key); for an upstream that \
             needs no key, set neither and no key",
        )),
        (Some(name), None) => KeyPlacement::query(name, query_setting),
        (None, Some(name)) => {
            let placement = KeyPlacement::header(name, header_setting)?;
            if matches!(&placement, KeyPlacement::Header(h) if claims::is_claim_header(h)) {
                return Err(ProxyConfigError::invalid(
                    header_setting,
                    "Approov-Claim-* headers are the proxy's own (UPSTREAM_CLAIMS); \
                     use the header the upstream reads its key from",
                ));
            }
            if name
                .trim()
                .eq_ignore_ascii_case(defaults.token_header().trim())
            {
                return Err(ProxyConfigError::invalid(
                    header_setting,
                    "it is the Approov token header, which the proxy never forwards",
                ));
            }
            Ok(placement)
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn reads_the_redis_cluster_and_ca_file() {
        let file = parse(
            "f.toml",
            r#"
            redis_cluster_urls = "rediss://10.0.0.1:6379,rediss://10.0.0.2:6379"
            redis_tls_ca_file = "/etc/redis-ca.pem"
            redis_tls_cert_file = "/etc/redis-client.pem"
            redis_tls_key_file = "/etc/redis-client.key"

            [[route]]
            prefix = "/"
            upstream = "https://api.example.com"
            "#,
        )
        .unwrap();
        assert_eq!(
            file.redis_tls_cert_file.as_deref(),
            Some("/etc/redis-client.pem")
        );
        assert_eq!(
            file.redis_tls_key_file.as_deref(),
            Some("/etc/redis-client.key")
        );
        assert_eq!(
            file.redis_cluster_urls.as_deref(),
            Some("rediss://10.0.0.1:6379,rediss://10.0.0.2:6379")
        );
        assert_eq!(file.redis_tls_ca_file.as_deref(), Some("/etc/redis-ca.pem"));
        assert!(file.redis_url.is_none());
    }

    #[test]
    fn reads_routes() {
        let file = parse(
            "f.toml",
            r#"
            redis_url = "redis://127.0.0.1:6379"

            [[route]]
            name = "nasa"
            prefix = "/nasa"
            upstream = "https://api.nasa.gov"
            key_env = "NASA_API_KEY"
            key_query_param = "api_key"

            [[route]]
            prefix = "/weather"
            upstream = "https://api.example.com/v1"
            key_env = "WEATHER_KEY"
            key_header = "X-Api-Key"
            timeout_seconds = 5
            client_body_timeout_seconds = 7
            upstream_body_timeout_seconds = 9
            rate_limit_per_device_per_minute = 10
            allowed_methods = ["GET"]
            forward_client_headers = ["Authorization"]
            "#,
        )
        .unwrap();
        assert_eq!(file.redis_url.as_deref(), Some("redis://127.0.0.1:6379"));
        let routes = file.routes;
        assert_eq!(routes.len(), 2);
        assert_eq!(routes[0].name.as_deref(), Some("nasa"));
        assert_eq!(routes[1].key_header.as_deref(), Some("X-Api-Key"));
        assert_eq!(routes[1].timeout_seconds, Some(5));
        assert_eq!(routes[1].client_body_timeout_seconds, Some(7));
        assert_eq!(routes[1].upstream_body_timeout_seconds, Some(9));
        assert_eq!(routes[0].client_body_timeout_seconds, None);
        assert_eq!(routes[0].allowed_methods, None);
        assert_eq!(
            routes[1].allowed_methods.as_deref(),
            Some(&["GET".to_owned()][..])
        );
    }

    #[test]
    fn errors_give_position_and_never_the_line() {
        let text = "[[route]]\nprefix = \"/a\"\napi_key = \"SECRET-VALUE\"\n";
        let err = parse("f.toml", text).unwrap_err().to_string();
        assert!(
            err.starts_with("PROXY_CONFIG (f.toml): line 3, column 1: "),
            "{err}"
        );
        assert!(err.contains("unknown field `api_key`"), "{err}");
        assert!(!err.contains("SECRET-VALUE"), "{err}");

        let err = parse("f.toml", "[[route]\nprefix = 1")
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 1"), "{err}");

        let err = parse("f.toml", "# nothing\n").unwrap_err().to_string();
        assert!(err.contains("no [[route]] table"), "{err}");
    }
}
