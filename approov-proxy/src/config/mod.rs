//! The proxy's whole configuration, read and checked in one place at
//! start-up: [`Config::from_env`]. The routes and their upstreams
//! ([`routes`], from the variables or the `PROXY_CONFIG` file), the
//! forward-auth endpoint ([`forward_auth`]), the Redis of the shared rate
//! limit ([`redis`]), the serving limits, workers, metrics and log format
//! ([`serve`]) and the Approov key settings. [`env`] reads the values;
//! the errors are in [`crate::error`]. The parse functions of the route
//! types (methods, client headers, keys, upstream URLs) sit next to their
//! types and are called from here only.

pub(crate) mod env;
pub(crate) mod forward_auth;
pub(crate) mod redis;
pub(crate) mod routes;
pub(crate) mod serve;
pub(crate) mod settings;
mod summary;

use std::cell::RefCell;
use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use approov_core::{Verifier, VerifierBuilder};
use zeroize::Zeroizing;

pub use serve::{CpuAffinity, DEFAULT_LISTEN_ADDR, ServeLimits};

use crate::claims::{self, ClaimHeaders};
use crate::error::{ProxyConfigError, StartError};
use crate::limit::shared::RedisConfig;
use crate::route::{AllowedMethods, Route};
use crate::telemetry::log::LogFormat;
use env::{parse_bool, rate_limit_from, timeout_from};
use forward_auth::AuthConfig;
use routes::{Defaults, SINGLE_UPSTREAM, route_from_env, routes_from_file};
use serve::Settings;

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

/// The Approov variable whose default differs here from the core's.
const CACHE_VAR: &str = "APPROOV_TOKEN_CACHE_SIZE";
/// Tokens of 10 000 devices: about 10 MiB at most. An app sends the same
/// token until it fetches the next, so most checks are cache hits.
const DEFAULT_CACHE_SIZE: &str = "10000";

/// Everything the proxy reads from its environment, checked: routes,
/// upstreams and keys, the forward-auth endpoint, the Redis of the shared
/// rate limit, the listener's address and limits, workers, metrics, log
/// format, and the Approov key settings.
///
/// ```
/// use approov_proxy::{Config, KeyPlacement};
///
/// let vars = [
///     ("APPROOV_BASE64_SECRET", "dGVzdC1zZWNyZXQtZm9yLWFwcHJvb3YtZXhhbXBsZXM="),
///     ("UPSTREAM_URL", "https://api.nasa.gov"),
///     ("API_KEY", "DEMO_KEY"),
///     ("API_KEY_QUERY_PARAM", "api_key"),
///     ("RATE_LIMIT_PER_DEVICE_PER_MINUTE", "60"),
///     ("AUTH_ENDPOINT", "/approov/auth/"),
///     ("AUTH_LISTEN_ADDR", "127.0.0.1:8081"),
/// ];
/// let var = |name: &str| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string());
/// let config = Config::from_vars(var)?;
/// let route = &config.routes()[0];
/// assert_eq!(route.prefix(), "/");
/// assert_eq!(route.key().placement(), &KeyPlacement::Query("api_key".into()));
/// assert_eq!(route.rate_limit_per_minute().map(|n| n.get()), Some(60));
/// assert_eq!(config.auth_endpoint(), Some("/approov/auth"));
/// assert_eq!(config.auth_listen_addr(), Some("127.0.0.1:8081".parse().unwrap()));
/// assert_eq!(config.listen_addr(), "127.0.0.1:8080".parse().unwrap());
/// assert!(!format!("{config:?}").contains("DEMO_KEY"));
/// # Ok::<(), approov_proxy::StartError>(())
/// ```
#[derive(Debug)]
pub struct Config {
    pub(crate) proxy: ProxySettings,
    pub(crate) serve: Settings,
    approov: ApproovVars,
}

impl Config {
    /// Reads the process environment (and the `PROXY_CONFIG` file, if set).
    /// The first unusable setting is the error, named in its message.
    pub fn from_env() -> Result<Self, StartError> {
        // Non-UTF-8 values are passed on lossily so they fail as unusable
        // values instead of looking unset.
        Self::from_vars(|name| std::env::var_os(name).map(|v| v.to_string_lossy().into_owned()))
    }

    /// Like [`from_env`](Self::from_env), reading variables through `var`.
    /// For the routes, blank values count as unset; for the serving
    /// settings a blank value is refused (more likely a mistake than a wish
    /// for the default), except a blank `METRICS_ADDR`, which is off.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, StartError> {
        let serve = Settings::from_vars(&var)?;
        let proxy = ProxySettings::from_vars(&var)?;
        let approov = ApproovVars::read(&var)?;
        Ok(Self {
            proxy,
            serve,
            approov,
        })
    }

    /// The verifier of the Approov settings ([`VerifierBuilder::from_vars`]),
    /// remembering verified tokens unless `APPROOV_TOKEN_CACHE_SIZE` says
    /// otherwise (unset means 10000 here). A JWKS URL is fetched now.
    pub fn verifier(&self) -> Result<Verifier, StartError> {
        Ok(self.approov.builder()?.build()?)
    }

    /// The routes, in the order configured.
    pub fn routes(&self) -> &[Route] {
        &self.proxy.routes
    }

    /// Whether `APPROOV_REPORT_ONLY` lets requests with a bad token through
    /// (logged, and still forwarded with the key).
    pub fn report_only(&self) -> bool {
        self.proxy.report_only
    }

    /// The forward-auth endpoint's path (`AUTH_ENDPOINT`), when it is on.
    /// Alone, it needs no upstream.
    pub fn auth_endpoint(&self) -> Option<&str> {
        self.proxy.auth_endpoint()
    }

    /// Where the forward-auth endpoint has a listener of its own
    /// (`AUTH_LISTEN_ADDR`), if it has one; the public listener then does
    /// not serve it. Set only with `AUTH_ENDPOINT`.
    pub fn auth_listen_addr(&self) -> Option<SocketAddr> {
        self.proxy.forward_auth.as_ref().and_then(|a| a.listen_addr)
    }

    /// `LISTEN_ADDR` (default [`DEFAULT_LISTEN_ADDR`]).
    pub fn listen_addr(&self) -> SocketAddr {
        self.serve.listen_addr
    }

    /// The listeners' limits and the workers.
    pub fn limits(&self) -> &ServeLimits {
        &self.serve.limits
    }

    /// How often key files are read again (`KEY_RELOAD_SECONDS`, 1 to 3600,
    /// default 10); SIGHUP reads them at once.
    pub fn key_reload(&self) -> Duration {
        self.serve.key_reload
    }

    /// Where `GET /metrics` is served (`METRICS_ADDR`), if anywhere.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.serve.metrics_addr
    }

    /// How log lines are written (`LOG_FORMAT`).
    pub fn log_format(&self) -> LogFormat {
        self.serve.log_format
    }
}

/// The routes, the forward-auth endpoint and the shared limit's Redis.
#[derive(Debug, Clone)]
pub(crate) struct ProxySettings {
    pub(crate) routes: Vec<Route>,
    pub(crate) report_only: bool,
    /// `REDIS_URL`: the per-device limit shared by replicas.
    pub(crate) redis: Option<RedisConfig>,
    /// The forward-auth endpoint (`AUTH_*`).
    pub(crate) forward_auth: Option<AuthConfig>,
}

impl ProxySettings {
    /// Blank values count as unset.
    fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, ProxyConfigError> {
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
            claims: match var("UPSTREAM_CLAIMS") {
                Some(list) if !list.trim().eq_ignore_ascii_case("none") => claims::parse_names(
                    list.split(','),
                    "UPSTREAM_CLAIMS",
                    "separated by commas, e.g. did,ip, or none",
                )?,
                _ => ClaimHeaders::new(),
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
                let (routes, file_redis) = routes_from_file(&path, &var, &defaults)?;
                (
                    routes,
                    RedisConfig::from_vars(&var, Some((file_redis, path.as_str())))?,
                )
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
                auth.check_route_prefix(&route.prefix, &format!("route \"{}\"", route.name()))?;
            }
        }
        Ok(Self {
            routes,
            report_only,
            redis,
            forward_auth: auth,
        })
    }

    fn auth_endpoint(&self) -> Option<&str> {
        self.forward_auth.as_ref().map(|a| a.endpoint.as_str())
    }

    #[cfg(test)]
    fn routes(&self) -> &[Route] {
        &self.routes
    }

    #[cfg(test)]
    fn report_only(&self) -> bool {
        self.report_only
    }
}

/// The Approov variables as read, so that the verifier is built (and a
/// JWKS URL fetched) once logging is on. Values are wiped when dropped
/// and never printed: one may be the secret.
struct ApproovVars(Vec<(String, Zeroizing<String>)>);

impl ApproovVars {
    /// Reads and checks the variables [`VerifierBuilder::from_vars`] asks
    /// for, with the proxy's default token cache size.
    fn read(var: impl Fn(&str) -> Option<String>) -> Result<Self, StartError> {
        let seen = RefCell::new(Vec::new());
        VerifierBuilder::from_vars(|name| {
            let value = var(name);
            if let Some(value) = &value {
                seen.borrow_mut()
                    .push((name.to_owned(), Zeroizing::new(value.clone())));
            }
            value.or_else(|| (name == CACHE_VAR).then(|| DEFAULT_CACHE_SIZE.to_owned()))
        })?;
        Ok(Self(seen.into_inner()))
    }

    fn builder(&self) -> Result<VerifierBuilder, approov_core::ConfigError> {
        self.builder_without(&[])
    }

    /// The builder as if the variables `left_out` were unset.
    fn builder_without(
        &self,
        left_out: &[&str],
    ) -> Result<VerifierBuilder, approov_core::ConfigError> {
        VerifierBuilder::from_vars(|name| {
            self.0
                .iter()
                .find(|(k, _)| k == name && !left_out.contains(&k.as_str()))
                .map(|(_, v)| v.as_str().to_owned())
                .or_else(|| (name == CACHE_VAR).then(|| DEFAULT_CACHE_SIZE.to_owned()))
        })
    }

    fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(k, _)| k == name)
    }

    /// The names of the variables set, never their values.
    fn names(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_str())
    }
}

/// The names only.
impl fmt::Debug for ApproovVars {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|(name, _)| name))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::proxy::KeyPlacement;
    use crate::route::AllowedMethods;
    use std::time::Duration;

    /// The routes part only: without an Approov key, as its own tests
    /// need none.
    fn config(vars: &[(&str, &str)]) -> Result<ProxySettings, ProxyConfigError> {
        ProxySettings::from_vars(|name| {
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
        let err = error(&with(&[("API_KEY_HEADER", "Approov-Claim-Did")]));
        assert!(err.starts_with("API_KEY_HEADER is not usable"), "{err}");
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
    fn no_key_variables_is_a_keyless_route_and_some_is_an_error() {
        let c = config(&[("UPSTREAM_URL", "https://api.internal")]).unwrap();
        assert_eq!(c.routes()[0].key().placement(), &KeyPlacement::Keyless);
        assert_eq!(c.routes()[0].upstream_claims().count(), 0);
        let err = error(&[("UPSTREAM_URL", "https://a"), ("API_KEY", "THE-KEY")]);
        assert!(
            err.starts_with("API_KEY_QUERY_PARAM or API_KEY_HEADER is not set"),
            "{err}"
        );
        for placement in ["API_KEY_HEADER", "API_KEY_QUERY_PARAM"] {
            let err = error(&[("UPSTREAM_URL", "https://a"), (placement, "k")]);
            assert!(err.starts_with("API_KEY is not set"), "{err}");
        }
    }

    #[test]
    fn upstream_claims() {
        let c = config(&with(&[("UPSTREAM_CLAIMS", "did, ip")])).unwrap();
        let names: Vec<_> = c.routes()[0].upstream_claims().collect();
        assert_eq!(names, ["did", "ip"]);
        let c = config(&with(&[("UPSTREAM_CLAIMS", "None")])).unwrap();
        assert_eq!(c.routes()[0].upstream_claims().count(), 0);
        for bad in ["did,,ip", "did;ip", "did,did", "a b"] {
            let err = error(&with(&[("UPSTREAM_CLAIMS", bad)]));
            assert!(err.starts_with("UPSTREAM_CLAIMS is not usable"), "{err}");
        }
        // With forward-auth alone, UPSTREAM_CLAIMS asks for an upstream.
        let err = error(&[("AUTH_ENDPOINT", "/a"), ("UPSTREAM_CLAIMS", "did")]);
        assert!(err.starts_with("UPSTREAM_URL is not set"), "{err}");
    }

    /// The settings table (`--help`) and the parser cannot drift: every
    /// name the configuration asks for is in the table, and every name in
    /// the table is asked for (`RUST_LOG` is the log filter's).
    #[test]
    fn every_variable_read_is_in_the_settings_table_and_back() {
        let routes = std::env::temp_dir().join(format!("settings-{}.toml", std::process::id()));
        std::fs::write(
            &routes,
            "[[route]]\nprefix = \"/a\"\nupstream = \"https://a.example\"\n\
             key_env = \"ROUTE_KEY_VAR\"\nkey_header = \"X-K\"\n",
        )
        .unwrap();
        let secret = (
            "APPROOV_BASE64_SECRET",
            "dGVzdC1zZWNyZXQtZm9yLWFwcHJvb3YtZXhhbXBsZXM=",
        );
        let runs: [Vec<(&str, &str)>; 3] = [
            // Forward-auth beside the single upstream, with Redis.
            vec![
                secret,
                ("UPSTREAM_URL", "https://api.nasa.gov"),
                ("AUTH_ENDPOINT", "/auth"),
                ("REDIS_URL", "redis://127.0.0.1:6390"),
                ("APPROOV_TOKEN_HEADER", "Authorization"),
            ],
            // Forward-auth alone.
            vec![secret, ("AUTH_ENDPOINT", "/auth")],
            // A routes file.
            vec![
                secret,
                ("PROXY_CONFIG", routes.to_str().unwrap()),
                ("ROUTE_KEY_VAR", "k"),
            ],
        ];
        let asked = RefCell::new(std::collections::BTreeSet::new());
        for vars in &runs {
            Config::from_vars(|name| {
                asked.borrow_mut().insert(name.to_owned());
                vars.iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            })
            .unwrap();
        }
        std::fs::remove_file(&routes).unwrap();
        let asked = asked.into_inner();
        for name in &asked {
            assert!(
                settings::is_listed(name) || name == "ROUTE_KEY_VAR",
                "{name} is read but not in config/settings.rs (so not in --help)"
            );
        }
        for setting in settings::all() {
            assert!(
                asked.contains(setting.name) || setting.name == "RUST_LOG",
                "{} is in config/settings.rs but never read",
                setting.name
            );
        }
    }

    /// The defaults `--help` shows are the ones applied.
    #[test]
    fn the_defaults_in_the_settings_table_are_applied() {
        let vars = [
            (
                "APPROOV_BASE64_SECRET",
                "dGVzdC1zZWNyZXQtZm9yLWFwcHJvb3YtZXhhbXBsZXM=",
            ),
            ("UPSTREAM_URL", "https://api.internal"),
            ("AUTH_ENDPOINT", "/auth"),
        ];
        let c = Config::from_vars(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
        .unwrap();
        let (l, r) = (c.limits(), &c.routes()[0]);
        let auth = c.proxy.forward_auth.as_ref().unwrap();
        let secs = |d: Duration| d.as_secs().to_string();
        for (name, applied) in [
            ("LISTEN_ADDR", c.listen_addr().to_string()),
            ("HEADER_READ_TIMEOUT_SECONDS", secs(l.header_read_timeout)),
            ("IDLE_TIMEOUT_SECONDS", secs(l.idle_timeout)),
            ("SEND_TIMEOUT_SECONDS", secs(l.send_timeout)),
            ("DRAIN_TIMEOUT_SECONDS", secs(l.drain_timeout)),
            ("MAX_CONNECTIONS", l.max_connections.to_string()),
            (
                "MAX_REQUESTS_PER_CONNECTION",
                l.max_requests_per_connection.to_string(),
            ),
            ("WORKER_CPU_AFFINITY", l.cpu_affinity.to_string()),
            ("KEY_RELOAD_SECONDS", secs(c.key_reload())),
            ("UPSTREAM_TIMEOUT_SECONDS", secs(r.timeout())),
            ("CLIENT_BODY_TIMEOUT_SECONDS", secs(r.client_body_timeout())),
            (
                "UPSTREAM_BODY_TIMEOUT_SECONDS",
                secs(r.upstream_body_timeout()),
            ),
            (
                "ALLOWED_METHODS",
                r.allowed_methods().to_string().replace(", ", ","),
            ),
            ("APPROOV_REPORT_ONLY", c.report_only().to_string()),
            ("APPROOV_TOKEN_CACHE_SIZE", DEFAULT_CACHE_SIZE.to_owned()),
            (
                "REDIS_TIMEOUT_MS",
                redis::DEFAULT_TIMEOUT.as_millis().to_string(),
            ),
            ("LOG_FORMAT", format!("{:?}", c.log_format()).to_lowercase()),
            ("AUTH_GATEWAY", format!("{:?}", auth.gateway).to_lowercase()),
            ("AUTH_RESPONSE_CLAIMS", auth.claims[0].0.clone()),
        ] {
            let setting = settings::all().find(|s| s.name == name).unwrap();
            assert_eq!(setting.default, applied, "{name}");
        }
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
