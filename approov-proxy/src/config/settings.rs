//! Every environment variable the proxy reads, in one table: its group,
//! default and one line of help. `approov-proxy --help` prints this table
//! (see [`crate::cli`]); the tests check that [`Config::from_vars`] asks
//! for no name outside it and every name in it, and that the README's
//! settings tables list the same names in the same groups, so the help,
//! the parser and the README cannot drift apart.
//!
//! [`Config::from_vars`]: super::Config::from_vars

use std::fmt::Write as _;

use super::serve::DEFAULT_LISTEN_ADDR;

/// One environment variable.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Setting {
    pub(crate) name: &'static str,
    /// The value used when unset, as text; empty when there is none.
    pub(crate) default: &'static str,
    /// One line, lower case first, no full stop.
    pub(crate) help: &'static str,
}

/// Settings that belong together, as the README groups them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Group {
    pub(crate) title: &'static str,
    pub(crate) settings: &'static [Setting],
}

const fn s(name: &'static str, default: &'static str, help: &'static str) -> Setting {
    Setting {
        name,
        default,
        help,
    }
}

/// Every setting, by group, in the README's order.
pub(crate) const GROUPS: &[Group] = &[
    Group {
        title: "Approov token check",
        settings: &[
            s(
                "APPROOV_BASE64_SECRET",
                "",
                "the Approov account secret, base64; required unless a key file or JWKS URL is set",
            ),
            s(
                "APPROOV_BASE64URL_SECRET",
                "",
                "the same, under the name some quickstarts use (set only one)",
            ),
            s(
                "APPROOV_BASE64_SECRET_FILE",
                "",
                "a file holding the secret, read again on SIGHUP and every KEY_RELOAD_SECONDS",
            ),
            s(
                "APPROOV_JWKS_FILE",
                "",
                "a JWKS file of public keys, read again like the secret file",
            ),
            s(
                "APPROOV_PUBLIC_KEY_FILE",
                "",
                "a PEM public key file, read again like the secret file",
            ),
            s(
                "APPROOV_PUBLIC_KEY_ALG",
                "RS256",
                "the algorithm of APPROOV_PUBLIC_KEY_FILE",
            ),
            s(
                "APPROOV_JWKS_URL",
                "",
                "a JWKS URL, fetched at start-up and kept current",
            ),
            s(
                "APPROOV_JWKS_START_WITHOUT_KEYS",
                "false",
                "true: start even if the first JWKS fetch fails (503 until one succeeds)",
            ),
            s(
                "KEY_RELOAD_SECONDS",
                "10",
                "how often key files are read again, 1 to 3600",
            ),
            s(
                "APPROOV_TOKEN_HEADER",
                "Approov-Token",
                "the header the token comes in",
            ),
            s(
                "APPROOV_TOKEN_SCHEME",
                "",
                "the scheme before the token in that header, e.g. Bearer (needs APPROOV_TOKEN_HEADER)",
            ),
            s(
                "APPROOV_TOKEN_BINDING_HEADER",
                "",
                "headers the token is bound to (pay claim), comma-separated",
            ),
            s(
                "APPROOV_LEEWAY_SECONDS",
                "0",
                "clock leeway for exp and nbf, whole seconds",
            ),
            s(
                "APPROOV_TOKEN_CACHE_SIZE",
                "10000",
                "verified tokens remembered, 0 for off",
            ),
            s(
                "APPROOV_REPORT_ONLY",
                "false",
                "true: log bad tokens and forward anyway (for a roll-out)",
            ),
        ],
    },
    Group {
        title: "Upstream and routes",
        settings: &[
            s(
                "UPSTREAM_URL",
                "",
                "the API, http(s)://host[:port][/base-path]; not needed with AUTH_ENDPOINT alone",
            ),
            s(
                "API_KEY",
                "",
                "the key added to every forwarded request; unset with both below: no key",
            ),
            s(
                "API_KEY_QUERY_PARAM",
                "",
                "the query parameter the key goes in (or API_KEY_HEADER)",
            ),
            s(
                "API_KEY_HEADER",
                "",
                "the header the key goes in (or API_KEY_QUERY_PARAM)",
            ),
            s(
                "UPSTREAM_CLAIMS",
                "",
                "token claims sent upstream as Approov-Claim-<name>, comma-separated, e.g. did,ip",
            ),
            s(
                "PROXY_CONFIG",
                "",
                "a TOML file of routes, instead of UPSTREAM_URL and the key variables",
            ),
            s(
                "UPSTREAM_TIMEOUT_SECONDS",
                "30",
                "time for the upstream's response head, else 504",
            ),
            s(
                "CLIENT_BODY_TIMEOUT_SECONDS",
                "30",
                "longest pause in a client's request body, else 408",
            ),
            s(
                "UPSTREAM_BODY_TIMEOUT_SECONDS",
                "60",
                "longest pause in the upstream's response body, else it is cut short",
            ),
            s(
                "ALLOWED_METHODS",
                "GET,HEAD,POST,PUT,PATCH,DELETE,OPTIONS",
                "the methods forwarded, else 405",
            ),
            s(
                "FORWARD_CLIENT_HEADERS",
                "",
                "client credential headers forwarded: Authorization, Cookie, Signature, Signature-Input",
            ),
        ],
    },
    Group {
        title: "Rate limit",
        settings: &[
            s(
                "RATE_LIMIT_PER_DEVICE_PER_MINUTE",
                "",
                "requests per minute per device and route, else 429; unset: no limit",
            ),
            s(
                "REDIS_URL",
                "",
                "redis[s]://[user:password@]host[:port][/db] or unix:///path: the limit shared by replicas",
            ),
            s(
                "REDIS_CLUSTER_URLS",
                "",
                "Redis Cluster seed nodes, redis[s]://host:port,...; instead of REDIS_URL",
            ),
            s(
                "REDIS_TLS_CA_FILE",
                "",
                "PEM CA certificates trusted for rediss:// instead of the webpki roots",
            ),
            s(
                "REDIS_TLS_CERT_FILE",
                "",
                "PEM client certificate for rediss:// (tls-auth-clients yes), with the key file",
            ),
            s(
                "REDIS_TLS_KEY_FILE",
                "",
                "PEM private key of REDIS_TLS_CERT_FILE",
            ),
            s(
                "REDIS_TIMEOUT_MS",
                "100",
                "how long one decision waits for Redis, 1 to 10000",
            ),
            s(
                "REDIS_UNAVAILABLE",
                "local",
                "while Redis does not answer: local (limit per proxy) or refuse (503)",
            ),
        ],
    },
    Group {
        title: "Forward-auth",
        settings: &[
            s(
                "AUTH_ENDPOINT",
                "",
                "a path, e.g. /approov/auth: answers nginx, Traefik and Envoy forward-auth checks",
            ),
            s(
                "AUTH_LISTEN_ADDR",
                "",
                "<ip>:<port> of the endpoint's own private listener (recommended)",
            ),
            s(
                "AUTH_GATEWAY",
                "nginx",
                "nginx, traefik or envoy: where the original method and URI are read from",
            ),
            s(
                "AUTH_ORIGINAL_METHOD_HEADER",
                "",
                "the original method's header (nginx: X-Original-Method, Traefik: X-Forwarded-Method)",
            ),
            s(
                "AUTH_ORIGINAL_URI_HEADER",
                "",
                "the original URI's header (nginx: X-Original-URI, Traefik: X-Forwarded-Uri)",
            ),
            s(
                "AUTH_RESPONSE_CLAIMS",
                "did",
                "claims a 200 carries as Approov-Claim-<name>, comma-separated, or none",
            ),
            s(
                "AUTH_MESSAGE_SIGNING",
                "off",
                "off, if-present or required: check the installation message signature",
            ),
            s(
                "AUTH_PUBLIC_ORIGIN",
                "",
                "with message signing: the scheme and host clients call, e.g. https://api.example.com",
            ),
        ],
    },
    Group {
        title: "Listener and limits",
        settings: &[
            s(
                "LISTEN_ADDR",
                DEFAULT_LISTEN_ADDR,
                "<ip>:<port> to listen on; port 0 picks a free one",
            ),
            s(
                "HEADER_READ_TIMEOUT_SECONDS",
                "30",
                "a request head not complete in time closes the connection",
            ),
            s(
                "IDLE_TIMEOUT_SECONDS",
                "60",
                "an idle keep-alive connection is closed after this long",
            ),
            s(
                "SEND_TIMEOUT_SECONDS",
                "60",
                "a connection whose answer makes no write progress this long is closed",
            ),
            s(
                "MAX_CONNECTIONS",
                "512",
                "client connections open at once; more wait in the backlog",
            ),
            s(
                "MAX_REQUESTS_PER_CONNECTION",
                "1000",
                "a connection closes after answering this many requests",
            ),
            s(
                "DRAIN_TIMEOUT_SECONDS",
                "25",
                "on SIGTERM, how long requests in flight may take to finish",
            ),
            s(
                "WORKER_THREADS",
                "",
                "threads serving requests, 1 to 1024; default one per CPU the process may use",
            ),
            s(
                "WORKER_CPU_AFFINITY",
                "auto",
                "auto (pin each worker to a CPU when they match one to one) or off",
            ),
        ],
    },
    Group {
        title: "Logs and metrics",
        settings: &[
            s(
                "METRICS_ADDR",
                "",
                "<ip>:<port> serving Prometheus metrics at GET /metrics; unset: off",
            ),
            s("LOG_FORMAT", "text", "text or json (one object per line)"),
            s("RUST_LOG", "info", "the log filter"),
        ],
    },
];

/// Every setting, in order.
pub(crate) fn all() -> impl Iterator<Item = &'static Setting> {
    GROUPS.iter().flat_map(|group| group.settings)
}

/// Whether `name` is a setting of the table.
#[cfg(test)]
pub(crate) fn is_listed(name: &str) -> bool {
    all().any(|setting| setting.name == name)
}

/// The settings part of `--help`: a heading per group, then one line per
/// setting: its name, its help and its default.
pub(crate) fn help() -> String {
    let width = all().map(|s| s.name.len()).max().unwrap_or(0);
    let mut out = String::from(
        "Settings (environment variables; none is ever printed, a bad one stops \
         start-up with exit code 2):\n",
    );
    for group in GROUPS {
        let _ = write!(out, "\n{}:\n", group.title);
        for setting in group.settings {
            let _ = write!(out, "  {:<width$}  {}", setting.name, setting.help);
            if !setting.default.is_empty() {
                let _ = write!(out, " [default: {}]", setting.default);
            }
            out.push('\n');
        }
    }
    out.push_str(
        "\nRoutes files (PROXY_CONFIG), forward-auth and every value's rules: see the README.",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_help_is_one_line() {
        let mut names: Vec<_> = all().map(|s| s.name).collect();
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), count, "a setting is listed twice");
        for setting in all() {
            assert!(!setting.help.contains('\n'), "{}", setting.name);
            assert!(!setting.help.ends_with('.'), "{}", setting.name);
        }
        let help = help();
        for setting in all() {
            assert_eq!(help.matches(&format!("  {} ", setting.name)).count(), 1);
        }
    }
}
