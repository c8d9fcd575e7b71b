//! What `approov-proxy check` prints: the configuration as read, by
//! setting names and values that are no secret. Never a key, the Approov
//! secret or a Redis password: keys are shown by where they go, the
//! Approov settings by name, Redis by its address.

use std::fmt::Write as _;

use super::Config;
use crate::error::StartError;
use crate::limit::shared::{RedisTarget, RedisTls};

/// The Approov variables that are a key source other than the JWKS URL.
const LOCAL_KEY_SOURCES: [&str; 5] = [
    "APPROOV_BASE64_SECRET",
    "APPROOV_BASE64URL_SECRET",
    "APPROOV_BASE64_SECRET_FILE",
    "APPROOV_JWKS_FILE",
    "APPROOV_PUBLIC_KEY_FILE",
];

impl Config {
    /// Builds the verifier as start-up does, reading every key file (and
    /// checking the secret's length), but without fetching
    /// `APPROOV_JWKS_URL`, whose syntax [`from_vars`](Self::from_vars)
    /// has checked: a check calls nothing.
    pub fn check_keys(&self) -> Result<(), StartError> {
        let jwks_url = "APPROOV_JWKS_URL";
        if !self.approov.has(jwks_url) {
            self.approov.builder()?.build()?;
        } else if LOCAL_KEY_SOURCES.iter().any(|name| self.approov.has(name)) {
            // Its option goes with it: alone it is a configuration error.
            let left_out = [jwks_url, "APPROOV_JWKS_START_WITHOUT_KEYS"];
            self.approov.builder_without(&left_out)?.build()?;
        }
        Ok(())
    }

    /// A few lines saying what was configured: the Approov settings set
    /// (names only), the listener and its limits, every route with its
    /// upstream, key placement (never the key) and claims, forward-auth,
    /// Redis (its address, never the URL), metrics and logs.
    ///
    /// ```
    /// use approov_proxy::Config;
    ///
    /// let vars = [
    ///     ("APPROOV_BASE64_SECRET", "dGVzdC1zZWNyZXQtZm9yLWFwcHJvb3YtZXhhbXBsZXM="),
    ///     ("UPSTREAM_URL", "https://api.internal"),
    ///     ("UPSTREAM_CLAIMS", "did"),
    /// ];
    /// let var = |name: &str| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string());
    /// let summary = Config::from_vars(var)?.summary();
    /// assert!(summary.contains("route \"default\": / -> https://api.internal, key none, claims upstream did"));
    /// assert!(!summary.contains("dGVzdC1zZWNyZXQ"));
    /// # Ok::<(), approov_proxy::StartError>(())
    /// ```
    pub fn summary(&self) -> String {
        let mut out = String::new();
        let p = &self.proxy;
        let mode = match (p.routes.is_empty(), &p.forward_auth) {
            (false, Some(_)) => "proxy and forward-auth",
            (true, Some(_)) => "forward-auth only",
            _ => "proxy",
        };
        let _ = writeln!(out, "mode: {mode}");
        let _ = writeln!(
            out,
            "approov: {} set; report-only {}",
            self.approov.names().collect::<Vec<_>>().join(", "),
            if p.report_only { "on" } else { "off" }
        );
        let l = self.limits();
        let _ = writeln!(
            out,
            "listen: {} (max {} connections, {} requests per connection, {} workers, \
             CPU affinity {}; timeouts: header read {} s, idle {} s, send {} s, drain {} s)",
            self.listen_addr(),
            l.max_connections,
            l.max_requests_per_connection,
            l.workers,
            l.cpu_affinity,
            l.header_read_timeout.as_secs(),
            l.idle_timeout.as_secs(),
            l.send_timeout.as_secs(),
            l.drain_timeout.as_secs(),
        );
        for route in &p.routes {
            let claims: Vec<&str> = route.upstream_claims().collect();
            let _ = writeln!(
                out,
                "route \"{}\": {} -> {}, key {}, claims upstream {}, methods {}, \
                 client headers {}, timeouts {} s (body: client {} s, upstream {} s), \
                 rate limit {}",
                route.name(),
                route.prefix(),
                route.upstream(),
                route.key().placement(),
                if claims.is_empty() {
                    "none".to_owned()
                } else {
                    claims.join(",")
                },
                route.allowed_methods(),
                match route.forwarded_client_headers().to_string() {
                    none if none.is_empty() => "none".to_owned(),
                    names => names,
                },
                route.timeout().as_secs(),
                route.client_body_timeout().as_secs(),
                route.upstream_body_timeout().as_secs(),
                match route.rate_limit_per_minute() {
                    Some(n) => format!("{n} per device per minute"),
                    None => "none".to_owned(),
                },
            );
        }
        if let Some(auth) = &p.forward_auth {
            let claims: Vec<&str> = auth.claims.iter().map(|(name, _)| name.as_str()).collect();
            let _ = writeln!(
                out,
                "forward-auth: {} on {} for {}, claims {}, message signing {}",
                auth.endpoint,
                auth.listen_addr
                    .map_or_else(|| "LISTEN_ADDR".to_owned(), |a| a.to_string()),
                format!("{:?}", auth.gateway).to_lowercase(),
                if claims.is_empty() {
                    "none".to_owned()
                } else {
                    claims.join(",")
                },
                if auth.signing.is_some() { "on" } else { "off" },
            );
        }
        if let Some(redis) = &p.redis {
            let place = match &redis.target {
                RedisTarget::Single(_) => format!("Redis at {}", redis.addresses()),
                RedisTarget::Cluster { seeds, .. } => format!(
                    "Redis Cluster ({} seed node{}: {})",
                    seeds.len(),
                    if seeds.len() == 1 { "" } else { "s" },
                    redis.addresses()
                ),
            };
            let tls = match &redis.tls {
                None => String::new(),
                Some(RedisTls {
                    ca_from,
                    client_from,
                    ..
                }) => {
                    let ca = match ca_from {
                        None => "webpki roots".to_owned(),
                        Some(from) => format!("CA from {from}"),
                    };
                    let client = match client_from {
                        None => String::new(),
                        Some(from) => format!(", client certificate from {from}"),
                    };
                    format!(" over TLS ({ca}{client})")
                }
            };
            let _ = writeln!(
                out,
                "rate limit shared through {place}{tls} (timeout {} ms, when unavailable: {})",
                redis.timeout.as_millis(),
                format!("{:?}", redis.when_unavailable).to_lowercase(),
            );
        }
        let _ = writeln!(
            out,
            "metrics: {}",
            self.metrics_addr()
                .map_or_else(|| "off".to_owned(), |a| a.to_string())
        );
        let _ = write!(
            out,
            "log format: {}",
            format!("{:?}", self.log_format()).to_lowercase()
        );
        out
    }
}
