//! The proxy's configuration, from the environment and optionally a routes
//! file. Everything is checked here, at start-up.

use std::collections::HashSet;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use super::auth_config::AuthConfig;
use super::file::{self, RouteEntry};
use super::route::{self, Route};
use super::shared_limit::RedisConfig;
use super::{
    AllowedMethods, ApiKey, ForwardedClientHeaders, KeyPlacement, ProxyConfigError, Upstream,
};

/// How long an upstream may take to answer when `UPSTREAM_TIMEOUT_SECONDS`
/// is unset.
pub const DEFAULT_UPSTREAM_TIMEOUT: Duration = Duration::from_secs(30);

/// The longest pause allowed between two pieces of a client's request
/// body when `CLIENT_BODY_TIMEOUT_SECONDS` is unset.
pub const DEFAULT_CLIENT_BODY_TIMEOUT: Duration = Duration::from_secs(30);

/// The longest pause allowed between two pieces of the upstream's response
/// body when `UPSTREAM_BODY_TIMEOUT_SECONDS` is unset: longer than for the
/// client, as an API may think between the pieces of a streamed answer.
pub const DEFAULT_UPSTREAM_BODY_TIMEOUT: Duration = Duration::from_secs(60);

/// The longest timeout accepted: a day. Anything longer is a typo.
const MAX_TIMEOUT_SECONDS: u64 = 24 * 3600;

/// The path the proxy answers itself, without a token.
pub(crate) const HEALTH_PATH: &str = "/health";

/// Routes, timeouts, limits and Approov mode, all checked.
///
/// ```
/// use approov_proxy::{KeyPlacement, ProxyConfig};
///
/// let vars = [
///     ("UPSTREAM_URL", "https://api.nasa.gov"),
///     ("API_KEY", "DEMO_KEY"),
///     ("API_KEY_QUERY_PARAM", "api_key"),
///     ("RATE_LIMIT_PER_DEVICE_PER_MINUTE", "60"),
/// ];
/// let var = |name: &str| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string());
/// let config = ProxyConfig::from_vars(var)?;
/// let route = &config.routes()[0];
/// assert_eq!(route.prefix(), "/");
/// assert_eq!(route.key().placement(), &KeyPlacement::Query("api_key".into()));
/// assert_eq!(route.rate_limit_per_minute().map(|n| n.get()), Some(60));
/// assert!(!format!("{config:?}").contains("DEMO_KEY"));
/// # Ok::<(), approov_proxy::ProxyConfigError>(())
/// ```
#[derive(Debug, Clone)]
pub struct ProxyConfig {
    pub(crate) routes: Vec<Route>,
    pub(crate) report_only: bool,
    /// `REDIS_URL`: the per-device limit shared by replicas.
    pub(crate) redis: Option<RedisConfig>,
    /// The forward-auth endpoint (`AUTH_*`, see `auth_config`).
    pub(crate) auth: Option<AuthConfig>,
}

impl ProxyConfig {
    /// Reads the process environment (and the `PROXY_CONFIG` file, if set).
    pub fn from_env() -> Result<Self, ProxyConfigError> {
        // Non-UTF-8 values are passed on lossily so they fail as unusable
        // values instead of looking unset.
        Self::from_vars(|name| std::env::var_os(name).map(|v| v.to_string_lossy().into_owned()))
    }

    /// Like [`from_env`](Self::from_env), reading variables through `var`.
    /// Blank values count as unset.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, ProxyConfigError> {
        let var = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        let defaults = Defaults {
            timeout: timeout_from(var("UPSTREAM_TIMEOUT_SECONDS"), "UPSTREAM_TIMEOUT_SECONDS")?
                .unwrap_or(DEFAULT_UPSTREAM_TIMEOUT),
            rate_limit: rate_limit_from(
                var("RATE_LIMIT_PER_DEVICE_PER_MINUTE"),
                "RATE_LIMIT_PER_DEVICE_PER_MINUTE",
            )?,
            client_body_timeout: timeout_from(
                var("CLIENT_BODY_TIMEOUT_SECONDS"),
                "CLIENT_BODY_TIMEOUT_SECONDS",
            )?
            .unwrap_or(DEFAULT_CLIENT_BODY_TIMEOUT),
            upstream_body_timeout: timeout_from(
                var("UPSTREAM_BODY_TIMEOUT_SECONDS"),
                "UPSTREAM_BODY_TIMEOUT_SECONDS",
            )?
            .unwrap_or(DEFAULT_UPSTREAM_BODY_TIMEOUT),
            token_header: var("APPROOV_TOKEN_HEADER"),
            methods: match var("ALLOWED_METHODS") {
                Some(list) => AllowedMethods::parse_list(&list, "ALLOWED_METHODS")?,
                None => AllowedMethods::default(),
            },
        };
        let report_only = match var("APPROOV_REPORT_ONLY") {
            None => false,
            Some(v) => parse_bool(&v).ok_or_else(|| {
                ProxyConfigError::invalid(
                    "APPROOV_REPORT_ONLY",
                    "it must be true or false (also accepted: 1/0, yes/no, on/off)",
                )
            })?,
        };
        let auth = AuthConfig::from_vars(&var, defaults.rate_limit)?;
        let (routes, redis) = match var("PROXY_CONFIG") {
            Some(path) => {
                let (routes, redis_url) = routes_from_file(&path, &var, &defaults)?;
                let redis_url = redis_url.map(|url| (url, path.as_str()));
                (routes, RedisConfig::from_vars(&var, redis_url)?)
            }
            // Forward-auth alone: no upstream, unless one is half-configured.
            None if auth.is_some() && !SINGLE_UPSTREAM.iter().any(|v| var(v).is_some()) => {
                (Vec::new(), RedisConfig::from_vars(&var, None)?)
            }
            None => (
                vec![route_from_env(&var, &defaults)?],
                RedisConfig::from_vars(&var, None)?,
            ),
        };
        if let Some(auth) = &auth {
            for route in &routes {
                auth.check_route_prefix(&route.prefix, &format!("route \"{}\"", route.name))?;
            }
        }
        Ok(Self {
            routes,
            report_only,
            redis,
            auth,
        })
    }

    /// The forward-auth endpoint's path (`AUTH_ENDPOINT`), when it is on.
    /// Alone, it needs no upstream:
    ///
    /// ```
    /// use approov_proxy::ProxyConfig;
    ///
    /// let vars = [("AUTH_ENDPOINT", "/approov/auth/"), ("AUTH_GATEWAY", "traefik")];
    /// let var = |name: &str| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string());
    /// let config = ProxyConfig::from_vars(var)?;
    /// assert_eq!(config.auth_endpoint(), Some("/approov/auth"));
    /// assert!(config.routes().is_empty());
    /// # Ok::<(), approov_proxy::ProxyConfigError>(())
    /// ```
    pub fn auth_endpoint(&self) -> Option<&str> {
        self.auth.as_ref().map(|a| a.endpoint.as_str())
    }

    /// Where the forward-auth endpoint has a listener of its own
    /// (`AUTH_LISTEN_ADDR`), if it has one; the public listener then does
    /// not serve it. Set only with `AUTH_ENDPOINT`:
    ///
    /// ```
    /// use approov_proxy::ProxyConfig;
    ///
    /// let vars = [("AUTH_ENDPOINT", "/approov/auth"), ("AUTH_LISTEN_ADDR", "127.0.0.1:8081")];
    /// let var = |name: &str| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string());
    /// let config = ProxyConfig::from_vars(var)?;
    /// assert_eq!(config.auth_listen_addr(), Some("127.0.0.1:8081".parse().unwrap()));
    /// # Ok::<(), approov_proxy::ProxyConfigError>(())
    /// ```
    pub fn auth_listen_addr(&self) -> Option<std::net::SocketAddr> {
        self.auth.as_ref().and_then(|a| a.listen_addr)
    }

    /// The routes, in the order configured.
    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// Whether `APPROOV_REPORT_ONLY` lets requests with a bad token through
    /// (logged, and still forwarded with the key).
    pub fn report_only(&self) -> bool {
        self.report_only
    }
}

/// The variables of the single upstream: with `AUTH_ENDPOINT`, any of them
/// set means an upstream is wanted, so the others are required.
const SINGLE_UPSTREAM: [&str; 5] = [
    "UPSTREAM_URL",
    "API_KEY",
    "API_KEY_QUERY_PARAM",
    "API_KEY_HEADER",
    "FORWARD_CLIENT_HEADERS",
];

/// Settings from the environment that apply to every route.
struct Defaults {
    timeout: Duration,
    client_body_timeout: Duration,
    upstream_body_timeout: Duration,
    rate_limit: Option<NonZeroU32>,
    token_header: Option<String>,
    methods: AllowedMethods,
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
fn route_from_env(
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
    let placement = placement(
        var("API_KEY_QUERY_PARAM").as_deref(),
        var("API_KEY_HEADER").as_deref(),
        ("API_KEY_QUERY_PARAM", "API_KEY_HEADER"),
        defaults,
    )?;
    let key = var("API_KEY")
        .ok_or_else(|| ProxyConfigError::missing("API_KEY", "set it to the third-party API key"))?;
    Ok(Route {
        name: "default".into(),
        prefix: "/".to_owned(),
        upstream,
        key: ApiKey::new(&key, placement, "API_KEY")?,
        timeout: defaults.timeout,
        rate_limit: defaults.rate_limit,
        methods: defaults.methods.clone(),
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
    })
}

/// Every route of the `PROXY_CONFIG` file; the single-upstream variables
/// must then be unset, so that nobody wonders which one applies.
fn routes_from_file(
    path: &str,
    var: &impl Fn(&str) -> Option<String>,
    defaults: &Defaults,
) -> Result<(Vec<Route>, Option<String>), ProxyConfigError> {
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
    let file = file::parse(path, &text)?;
    let entries = file.routes;
    let mut names = HashSet::new();
    let mut prefixes = HashSet::new();
    let mut routes = Vec::with_capacity(entries.len());
    for (index, entry) in entries.into_iter().enumerate() {
        let route = route_from_entry(index, entry, path, var, defaults)?;
        let here = format!("route \"{}\" in {path}", route.name);
        if !names.insert(route.name.clone()) {
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
    Ok((routes, file.redis_url.filter(|url| !url.trim().is_empty())))
}

fn route_from_entry(
    index: usize,
    entry: RouteEntry,
    path: &str,
    var: &impl Fn(&str) -> Option<String>,
    defaults: &Defaults,
) -> Result<Route, ProxyConfigError> {
    let name = match entry.name {
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
    let prefix = route::normalise_prefix(&entry.prefix, &at("prefix"))?;
    if prefix == HEALTH_PATH {
        return Err(ProxyConfigError::invalid(
            at("prefix"),
            "/health is the proxy's own health check; choose another prefix",
        ));
    }
    let upstream = Upstream::parse(&entry.upstream, &at("upstream"))?;
    let placement = placement(
        entry.key_query_param.as_deref(),
        entry.key_header.as_deref(),
        (&at("key_query_param"), &at("key_header")),
        defaults,
    )?;
    let key_env = entry.key_env.trim();
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
    Ok(Route {
        name: Arc::from(name.as_str()),
        prefix,
        upstream,
        key: ApiKey::new(&key, placement, &key_setting)?,
        timeout,
        rate_limit,
        methods,
        client_headers,
        client_body_timeout,
        upstream_body_timeout,
    })
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
             (e.g. api_key) or a header (e.g. X-Api-Key)",
        )),
        (Some(name), None) => KeyPlacement::query(name, query_setting),
        (None, Some(name)) => {
            let placement = KeyPlacement::header(name, header_setting)?;
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

fn timeout_from(
    value: Option<String>,
    setting: &str,
) -> Result<Option<Duration>, ProxyConfigError> {
    let Some(value) = value else { return Ok(None) };
    match value.trim().parse::<u64>() {
        Ok(seconds @ 1..=MAX_TIMEOUT_SECONDS) => Ok(Some(Duration::from_secs(seconds))),
        _ => Err(ProxyConfigError::invalid(
            setting,
            format!(
                "it must be a whole number of seconds from 1 to {MAX_TIMEOUT_SECONDS}, e.g. 30"
            ),
        )),
    }
}

fn rate_limit_from(
    value: Option<String>,
    setting: &str,
) -> Result<Option<NonZeroU32>, ProxyConfigError> {
    let Some(value) = value else { return Ok(None) };
    value.trim().parse::<NonZeroU32>().map(Some).map_err(|_| {
        ProxyConfigError::invalid(
            setting,
            "it must be a whole number of requests per minute, at least 1 (leave it \
             unset for no limit)",
        )
    })
}

fn parse_bool(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<ProxyConfig, ProxyConfigError> {
        ProxyConfig::from_vars(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    const BASE: [(&str, &str); 3] = [
        ("UPSTREAM_URL", "https://api.nasa.gov"),
        ("API_KEY", "THE-KEY"),
        ("API_KEY_HEADER", "X-Api-Key"),
    ];

    fn with(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
        let mut vars: Vec<_> = BASE
            .iter()
            .filter(|(k, _)| !extra.iter().any(|(e, _)| e == k))
            .copied()
            .collect();
        vars.extend(extra.iter().filter(|(_, v)| !v.is_empty()));
        vars
    }

    fn error(vars: &[(&str, &str)]) -> String {
        let err = config(vars).unwrap_err().to_string();
        assert!(!err.contains("THE-KEY"), "{err}");
        err
    }

    #[test]
    fn defaults() {
        let c = config(&BASE).unwrap();
        assert!(!c.report_only());
        let r = &c.routes()[0];
        assert_eq!((r.name(), r.prefix()), ("default", "/"));
        assert_eq!(r.timeout(), DEFAULT_UPSTREAM_TIMEOUT);
        assert_eq!(r.rate_limit_per_minute(), None);
        assert_eq!(r.allowed_methods(), &AllowedMethods::default());
        assert!(r.forwarded_client_headers().names().is_empty());
        assert_eq!(r.client_body_timeout(), DEFAULT_CLIENT_BODY_TIMEOUT);
        assert_eq!(r.upstream_body_timeout(), DEFAULT_UPSTREAM_BODY_TIMEOUT);
        assert_eq!(r.upstream().to_string(), "https://api.nasa.gov");
        assert!(matches!(r.key().placement(), KeyPlacement::Header(h) if h == "x-api-key"));
    }

    #[test]
    fn options() {
        let c = config(&with(&[
            ("UPSTREAM_TIMEOUT_SECONDS", "5"),
            ("RATE_LIMIT_PER_DEVICE_PER_MINUTE", "100"),
            ("APPROOV_REPORT_ONLY", "Yes"),
            ("ALLOWED_METHODS", "get,head"),
            ("CLIENT_BODY_TIMEOUT_SECONDS", "2"),
            ("UPSTREAM_BODY_TIMEOUT_SECONDS", "3"),
        ]))
        .unwrap();
        assert_eq!(c.routes()[0].client_body_timeout(), Duration::from_secs(2));
        assert_eq!(
            c.routes()[0].upstream_body_timeout(),
            Duration::from_secs(3)
        );
        assert_eq!(c.routes()[0].allowed_methods().to_string(), "GET, HEAD");
        assert!(c.report_only());
        assert_eq!(c.routes()[0].timeout(), Duration::from_secs(5));
        assert_eq!(c.routes()[0].rate_limit_per_minute().unwrap().get(), 100);
        let c = config(&with(&[("FORWARD_CLIENT_HEADERS", "Authorization,cookie")])).unwrap();
        assert_eq!(
            c.routes()[0].forwarded_client_headers().to_string(),
            "authorization, cookie"
        );
    }

    #[test]
    fn missing_and_contradictory_settings() {
        let err = error(&with(&[("UPSTREAM_URL", "")]));
        assert!(err.starts_with("UPSTREAM_URL is not set"), "{err}");
        let err = error(&with(&[("API_KEY", "")]));
        assert!(err.starts_with("API_KEY is not set"), "{err}");
        let err = error(&with(&[("API_KEY", "  ")]));
        assert!(err.starts_with("API_KEY is not set"), "{err}");
        let err = error(&with(&[("API_KEY_QUERY_PARAM", "api_key")]));
        assert!(
            err.starts_with("API_KEY_QUERY_PARAM and API_KEY_HEADER are both set"),
            "{err}"
        );
        let err = error(&with(&[("API_KEY_HEADER", "")]));
        assert!(
            err.starts_with("API_KEY_QUERY_PARAM or API_KEY_HEADER is not set"),
            "{err}"
        );
        let err = error(&with(&[("API_KEY_HEADER", "Approov-Token")]));
        assert!(err.contains("Approov token header"), "{err}");
        let err = error(&with(&[
            ("APPROOV_TOKEN_HEADER", "X-Token"),
            ("API_KEY_HEADER", "x-token"),
        ]));
        assert!(err.contains("Approov token header"), "{err}");
        let err = error(&with(&[("PROXY_CONFIG", "/nonexistent/proxy.toml")]));
        assert!(
            err.starts_with("PROXY_CONFIG and UPSTREAM_URL are both set"),
            "{err}"
        );
    }

    #[test]
    fn bad_numbers_and_flags() {
        for (var, value) in [
            ("UPSTREAM_TIMEOUT_SECONDS", "0"),
            ("UPSTREAM_TIMEOUT_SECONDS", "1.5"),
            ("UPSTREAM_TIMEOUT_SECONDS", "999999"),
            ("RATE_LIMIT_PER_DEVICE_PER_MINUTE", "0"),
            ("RATE_LIMIT_PER_DEVICE_PER_MINUTE", "-1"),
            ("RATE_LIMIT_PER_DEVICE_PER_MINUTE", "lots"),
            ("APPROOV_REPORT_ONLY", "maybe"),
            ("ALLOWED_METHODS", "GET,CONNECT"),
            ("ALLOWED_METHODS", "FETCH"),
            ("FORWARD_CLIENT_HEADERS", "Proxy-Authorization"),
            ("FORWARD_CLIENT_HEADERS", "X-Api-Key"),
            ("CLIENT_BODY_TIMEOUT_SECONDS", "0"),
            ("CLIENT_BODY_TIMEOUT_SECONDS", "later"),
            ("UPSTREAM_BODY_TIMEOUT_SECONDS", "0"),
            ("UPSTREAM_BODY_TIMEOUT_SECONDS", "86401"),
        ] {
            let err = error(&with(&[(var, value)]));
            assert!(err.starts_with(&format!("{var} is not usable")), "{err}");
        }
    }

    #[test]
    fn forward_auth_alone_or_beside_routes() {
        let c = config(&[("AUTH_ENDPOINT", "/approov/auth")]).unwrap();
        assert!(c.routes().is_empty());
        assert_eq!(c.auth_endpoint(), Some("/approov/auth"));
        let c = config(&with(&[("AUTH_ENDPOINT", "/approov/auth")])).unwrap();
        assert_eq!(c.routes().len(), 1);
        // Half an upstream is still an error, naming what is missing.
        let err = error(&[("AUTH_ENDPOINT", "/a"), ("API_KEY", "THE-KEY")]);
        assert!(err.starts_with("UPSTREAM_URL is not set"), "{err}");
        let err = error(&[]);
        assert!(err.contains("AUTH_ENDPOINT"), "{err}");
        assert_eq!(config(&BASE).unwrap().auth_endpoint(), None);
    }

    #[test]
    fn missing_file() {
        let err = error(&[("PROXY_CONFIG", "/nonexistent/proxy.toml")]);
        assert!(
            err.starts_with("PROXY_CONFIG (/nonexistent/proxy.toml): cannot read it"),
            "{err}"
        );
    }
}
