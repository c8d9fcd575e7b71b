//! `approov-proxy` configuration: a multi-route TOML file (prefixes, both
//! key placements, per-route limits, 404 outside every route), and missing
//! or contradictory settings, each a clear message and exit code 2 before
//! anything listens, never quoting a key.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use bytes::Bytes;
use common::upstream::{PROXY, Upstream, full, get, send, start_proxy};
use common::{Finished, SECRET, command, run};

const KEY: &str = "KEY-that-must-never-show";

/// Writes `text` to a fresh file under the target's temporary directory.
fn write_config(text: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "proxy-{}-{}.toml",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&path, text).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routes_file_sends_each_prefix_to_its_upstream_with_its_key() {
    let nasa = Upstream::start();
    let weather = Upstream::start();
    let config = write_config(&format!(
        r#"
        [[route]]
        name = "nasa"
        prefix = "/nasa"
        upstream = "{nasa}"
        key_env = "TEST_NASA_KEY"
        key_query_param = "api_key"

        [[route]]
        name = "weather"
        prefix = "/weather/"
        upstream = "{weather}/v2"
        key_env = "TEST_WEATHER_KEY"
        key_header = "X-Api-Key"
        rate_limit_per_device_per_minute = 1

        [[route]]
        name = "nasa-images"
        prefix = "/nasa/images"
        upstream = "{weather}/images"
        key_env = "TEST_NASA_KEY"
        key_header = "Authorization"
        "#,
        nasa = nasa.url(),
        weather = weather.url(),
    ));
    let proxy = start_proxy(&[
        ("PROXY_CONFIG", config.to_str().unwrap()),
        ("TEST_NASA_KEY", "nasa-KEY-1"),
        ("TEST_WEATHER_KEY", "weather-KEY-2"),
    ]);

    let res = get(
        proxy.addr,
        "/nasa/planetary/apod?date=today",
        Some("d"),
        &[],
    )
    .await;
    assert_eq!(res.status, 200, "{res:?}");
    let seen = nasa.single();
    assert_eq!(seen.path, "/planetary/apod");
    assert_eq!(seen.query.as_deref(), Some("date=today&api_key=nasa-KEY-1"));
    assert!(seen.headers.get("x-api-key").is_none());

    let res = get(proxy.addr, "/weather/forecast?city=Paris", Some("d"), &[]).await;
    assert_eq!(res.status, 200, "{res:?}");
    let seen = weather.single();
    assert_eq!(seen.path, "/v2/forecast");
    assert_eq!(seen.query.as_deref(), Some("city=Paris"));
    assert_eq!(seen.header_values("x-api-key"), ["weather-KEY-2"]);

    // This route allows one request per device per minute.
    let res = get(proxy.addr, "/weather", Some("d"), &[]).await;
    assert_eq!(res.status, 429, "{res:?}");
    assert!(res.headers.contains_key("retry-after"));
    // ... and the other routes are not limited.
    assert_eq!(get(proxy.addr, "/nasa", Some("d"), &[]).await.status, 200);
    assert_eq!(nasa.recorded().last().unwrap().path, "/");

    // The longest prefix wins.
    let res = get(proxy.addr, "/nasa/images/1.jpg", Some("d"), &[]).await;
    assert_eq!(res.status, 200, "{res:?}");
    let seen = weather.recorded().pop().unwrap();
    assert_eq!(seen.path, "/images/1.jpg");
    assert_eq!(seen.header_values("authorization"), ["nasa-KEY-1"]);

    // Outside every route, or a prefix that is not a whole segment: 404,
    // token or not, and nothing is forwarded.
    let before = (nasa.recorded().len(), weather.recorded().len());
    for path in ["/other", "/nasax/y", "/"] {
        let res = get(proxy.addr, path, Some("d"), &[]).await;
        assert_eq!(res.status, 404, "{path}: {res:?}");
        assert_eq!(res.headers["content-type"], "application/json");
    }
    let res = send(proxy.addr, "GET", "/other", &[], full(Bytes::new())).await;
    assert_eq!(res.status, 404);
    assert_eq!(before, (nasa.recorded().len(), weather.recorded().len()));

    // Route names appear in the log lines, keys never.
    let lines = tokio::task::block_in_place(|| {
        proxy
            .stderr_until(|line| line.contains("route=\"nasa-images\"") && line.contains("request"))
    });
    assert!(
        lines
            .iter()
            .any(|l| l.contains("route=\"weather\"") && l.contains("status=429"))
    );
    let (_, stderr) = tokio::task::block_in_place(|| proxy.stop());
    for key in ["nasa-KEY-1", "weather-KEY-2"] {
        assert!(!stderr.contains(key), "{key} logged:\n{stderr}");
    }
    std::fs::remove_file(config).unwrap();
}

/// A routes file with one route, `r` on `/a` (its key from `K`, sent in
/// `X-K`), and `extra` lines appended to it.
fn route_file(extra: &str) -> PathBuf {
    write_config(&format!(
        "[[route]]\nname = \"r\"\nprefix = \"/a\"\nupstream = \"https://a.example\"\n\
         key_env = \"K\"\nkey_header = \"X-K\"\n{extra}"
    ))
}

/// Runs the proxy with `envs` (every proxy variable cleared first, the test
/// secret set unless `envs` overrides it) and expects exit code 2 before it
/// listens.
fn fails(envs: &[(&str, &str)]) -> Finished {
    // `command` clears every variable the proxy reads.
    let mut cmd = command(PROXY);
    cmd.env("APPROOV_BASE64_SECRET", SECRET)
        .env("LISTEN_ADDR", "127.0.0.1:0")
        .envs(envs.iter().copied());
    let out = run(cmd);
    assert_eq!(out.status.code(), Some(2), "{envs:?}: {out:?}");
    assert!(!out.stdout.contains("listening on"), "{out:?}");
    assert!(!out.stderr.contains(KEY), "key in the message: {out:?}");
    assert!(out.stderr.starts_with("approov-proxy: "), "{out:?}");
    assert_eq!(out.stderr.lines().count(), 1, "one line expected: {out:?}");
    out
}

fn assert_says(out: &Finished, words: &[&str]) {
    for word in words {
        assert!(
            out.stderr.contains(word),
            "{word:?} not in {:?}",
            out.stderr
        );
    }
}

const GOOD: [(&str, &str); 3] = [
    ("UPSTREAM_URL", "https://api.nasa.gov"),
    ("API_KEY", KEY),
    ("API_KEY_QUERY_PARAM", "api_key"),
];

fn good_but(changes: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    let mut envs: Vec<_> = GOOD
        .iter()
        .filter(|(k, _)| !changes.iter().any(|(c, _)| c == k))
        .copied()
        .collect();
    envs.extend(changes.iter().filter(|(_, v)| !v.is_empty()));
    envs
}

#[test]
fn both_key_placements_is_a_contradiction() {
    let out = fails(&good_but(&[("API_KEY_HEADER", "X-Api-Key")]));
    assert_says(
        &out,
        &["API_KEY_QUERY_PARAM and API_KEY_HEADER are both set"],
    );
}

#[test]
fn no_key_placement() {
    let out = fails(&good_but(&[("API_KEY_QUERY_PARAM", "")]));
    assert_says(&out, &["API_KEY_QUERY_PARAM or API_KEY_HEADER is not set"]);
}

#[test]
fn no_upstream_url() {
    let out = fails(&good_but(&[("UPSTREAM_URL", "")]));
    assert_says(&out, &["UPSTREAM_URL is not set", "PROXY_CONFIG"]);
}

#[test]
fn bad_upstream_urls() {
    for url in [
        "api.nasa.gov",
        "ftp://api.nasa.gov",
        "https://user:KEY-that-must-never-show@host",
        "https://",
    ] {
        let out = fails(&good_but(&[("UPSTREAM_URL", url)]));
        assert_says(&out, &["UPSTREAM_URL is not usable"]);
    }
}

#[test]
fn missing_key() {
    let out = fails(&good_but(&[("API_KEY", "")]));
    assert_says(&out, &["API_KEY is not set"]);
}

#[test]
fn missing_approov_secret_is_not_development_mode() {
    // `command` clears APPROOV_BASE64_SECRET.
    let mut cmd = command(PROXY);
    cmd.env("LISTEN_ADDR", "127.0.0.1:0")
        .envs(GOOD.iter().copied());
    let out = run(cmd);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(out.stderr.contains("APPROOV_BASE64_SECRET"), "{out:?}");
    assert!(!out.stderr.contains("DEVELOPMENT SECRET"), "{out:?}");
    assert!(!out.stdout.contains("listening on"), "{out:?}");
}

#[test]
fn bad_numbers_and_flags() {
    for (var, value) in [
        ("UPSTREAM_TIMEOUT_SECONDS", "soon"),
        ("UPSTREAM_TIMEOUT_SECONDS", "0"),
        ("RATE_LIMIT_PER_DEVICE_PER_MINUTE", "0"),
        ("APPROOV_REPORT_ONLY", "perhaps"),
        ("CLIENT_BODY_TIMEOUT_SECONDS", "0"),
        ("CLIENT_BODY_TIMEOUT_SECONDS", "soon"),
        ("UPSTREAM_BODY_TIMEOUT_SECONDS", "0"),
    ] {
        let out = fails(&good_but(&[(var, value)]));
        assert_says(&out, &[&format!("{var} is not usable")]);
    }
}

#[test]
fn routes_file_problems() {
    let bad_toml = write_config("[[route]\nprefix = \"/a\"\n");
    let out = fails(&[("PROXY_CONFIG", bad_toml.to_str().unwrap())]);
    assert_says(&out, &["PROXY_CONFIG (", "line 1"]);

    let pasted_key = write_config(&format!(
        "[[route]]\nprefix = \"/a\"\nupstream = \"https://a.example\"\nkey = \"{KEY}\"\n"
    ));
    let out = fails(&[("PROXY_CONFIG", pasted_key.to_str().unwrap())]);
    assert_says(&out, &["line 4", "unknown field `key`"]);

    let missing_env = write_config(
        "[[route]]\nname = \"nasa\"\nprefix = \"/a\"\nupstream = \"https://a.example\"\n\
         key_env = \"TEST_UNSET_KEY_VAR\"\nkey_header = \"X-Api-Key\"\n",
    );
    let out = fails(&[("PROXY_CONFIG", missing_env.to_str().unwrap())]);
    assert_says(
        &out,
        &["TEST_UNSET_KEY_VAR", "route \"nasa\"", "is not set"],
    );

    let both = route_file("key_query_param = \"api_key\"\n");
    let out = fails(&[("PROXY_CONFIG", both.to_str().unwrap()), ("K", KEY)]);
    assert_says(&out, &["key_query_param", "key_header", "both set"]);

    let duplicate = write_config(
        "[[route]]\nprefix = \"/a\"\nupstream = \"https://a.example\"\nkey_env = \"K\"\nkey_header = \"X-K\"\n\
         [[route]]\nprefix = \"/a/\"\nupstream = \"https://b.example\"\nkey_env = \"K\"\nkey_header = \"X-K\"\n",
    );
    let out = fails(&[("PROXY_CONFIG", duplicate.to_str().unwrap()), ("K", KEY)]);
    assert_says(&out, &["another route"]);

    let out = fails(&[("PROXY_CONFIG", "/nonexistent/approov-proxy.toml")]);
    assert_says(&out, &["cannot read it"]);

    let out = fails(&[
        ("PROXY_CONFIG", both.to_str().unwrap()),
        ("UPSTREAM_URL", "https://api.nasa.gov"),
    ]);
    assert_says(&out, &["PROXY_CONFIG and UPSTREAM_URL are both set"]);

    for file in [bad_toml, pasted_key, missing_env, both, duplicate] {
        std::fs::remove_file(file).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routes_file_sets_allowed_methods_per_route() {
    let upstream = Upstream::start();
    let config = write_config(&format!(
        r#"
        [[route]]
        prefix = "/ro"
        upstream = "{url}/ro"
        key_env = "TEST_KEY"
        key_header = "X-Api-Key"
        allowed_methods = ["GET", "head"]

        [[route]]
        prefix = "/rw"
        upstream = "{url}/rw"
        key_env = "TEST_KEY"
        key_header = "X-Api-Key"
        "#,
        url = upstream.url(),
    ));
    // ALLOWED_METHODS is the list of routes that have none of their own.
    let proxy = start_proxy(&[
        ("PROXY_CONFIG", config.to_str().unwrap()),
        ("TEST_KEY", KEY),
        ("ALLOWED_METHODS", "GET,POST,DELETE"),
    ]);
    let token = common::upstream::token(Some("d"));
    let headers = [("Approov-Token", token.as_str())];
    for (method, path, status, allow) in [
        ("POST", "/ro/x", 405, Some("GET, HEAD")),
        ("DELETE", "/ro/x", 405, Some("GET, HEAD")),
        ("PUT", "/rw/x", 405, Some("GET, POST, DELETE")),
        ("GET", "/ro/x", 200, None),
        ("HEAD", "/ro/x", 200, None),
        ("POST", "/rw/x", 200, None),
        ("DELETE", "/rw/x", 200, None),
    ] {
        let res = send(proxy.addr, method, path, &headers, full(Bytes::new())).await;
        assert_eq!(res.status, status, "{method} {path}: {res:?}");
        let got = res.headers.get("allow").map(|v| v.to_str().unwrap());
        assert_eq!(got, allow, "{method} {path}");
    }
    let seen: Vec<_> = upstream
        .recorded()
        .into_iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(
        seen,
        ["GET /ro/x", "HEAD /ro/x", "POST /rw/x", "DELETE /rw/x"]
    );
    let (_, stderr) = tokio::task::block_in_place(|| proxy.stop());
    assert!(!stderr.contains(KEY), "key logged:\n{stderr}");
    std::fs::remove_file(config).unwrap();
}

#[test]
fn bad_allow_lists_fail_naming_the_setting() {
    for (value, words) in [
        ("GET,TRACE", "TRACE is never forwarded"),
        ("GET, PROPFIND", "\"PROPFIND\" is not a method"),
        (",", "lists no method"),
    ] {
        let out = fails(&good_but(&[("ALLOWED_METHODS", value)]));
        assert_says(&out, &["ALLOWED_METHODS is not usable", words]);
    }
    let file = route_file("allowed_methods = [\"GET\", \"Track\"]\n");
    let out = fails(&[("PROXY_CONFIG", file.to_str().unwrap()), ("K", KEY)]);
    assert_says(
        &out,
        &["route \"r\"", "allowed_methods is not usable", "\"Track\""],
    );
    std::fs::remove_file(file).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routes_file_names_forwarded_client_headers_per_route() {
    let upstream = Upstream::start();
    let config = write_config(&format!(
        r#"
        [[route]]
        prefix = "/signed"
        upstream = "{url}/signed"
        key_env = "TEST_KEY"
        key_header = "X-Api-Key"
        forward_client_headers = ["Signature", "signature-input", "Authorization"]

        [[route]]
        prefix = "/plain"
        upstream = "{url}/plain"
        key_env = "TEST_KEY"
        key_header = "X-Api-Key"
        "#,
        url = upstream.url(),
    ));
    let proxy = start_proxy(&[
        ("PROXY_CONFIG", config.to_str().unwrap()),
        ("TEST_KEY", KEY),
    ]);
    let token = common::upstream::token(Some("d"));
    let headers = [
        ("Approov-Token", token.as_str()),
        ("Authorization", "Bearer s"),
        ("Cookie", "c=1"),
        ("Signature", "install=:AA==:"),
        ("Signature-Input", "install=()"),
    ];
    for path in ["/signed/x", "/plain/x"] {
        let res = send(proxy.addr, "GET", path, &headers, full(Bytes::new())).await;
        assert_eq!(res.status, 200, "{path}: {res:?}");
    }
    let recorded = upstream.recorded();
    let (signed, plain) = (&recorded[0], &recorded[1]);
    assert_eq!(signed.header_values("authorization"), ["Bearer s"]);
    assert_eq!(signed.header_values("signature"), ["install=:AA==:"]);
    assert_eq!(signed.header_values("signature-input"), ["install=()"]);
    assert!(signed.headers.get("cookie").is_none());
    for name in ["authorization", "cookie", "signature", "signature-input"] {
        assert!(plain.headers.get(name).is_none(), "{name}: {plain:#?}");
    }
    tokio::task::block_in_place(|| proxy.stop());
    std::fs::remove_file(config).unwrap();
}

#[test]
fn bad_forward_client_headers_fail_naming_the_setting() {
    for (value, words) in [
        ("Proxy-Authorization", "hop-by-hop"),
        ("X-Api-Key", "forwarded anyway"),
        ("Approov-Token", "Approov token"),
        ("X-HTTP-Method-Override", "allowed methods"),
        ("Bad Header", "not an HTTP header name"),
    ] {
        let out = fails(&good_but(&[("FORWARD_CLIENT_HEADERS", value)]));
        assert_says(&out, &["FORWARD_CLIENT_HEADERS is not usable", words]);
    }
    let file = route_file("forward_client_headers = [\"Cookie\", \"Host\"]\n");
    let path = file.to_str().unwrap();
    let out = fails(&[("PROXY_CONFIG", path), ("K", KEY)]);
    assert_says(
        &out,
        &[
            "route \"r\"",
            "forward_client_headers is not usable",
            "host",
        ],
    );
    // With a routes file, each route names its own.
    let out = fails(&[
        ("PROXY_CONFIG", path),
        ("K", KEY),
        ("FORWARD_CLIENT_HEADERS", "Authorization"),
    ]);
    assert_says(
        &out,
        &["PROXY_CONFIG and FORWARD_CLIENT_HEADERS are both set"],
    );
    std::fs::remove_file(file).unwrap();
}

#[test]
fn zero_body_timeouts_in_the_routes_file_fail_naming_the_field() {
    for field in [
        "client_body_timeout_seconds",
        "upstream_body_timeout_seconds",
    ] {
        let file = route_file(&format!("{field} = 0\n"));
        let out = fails(&[("PROXY_CONFIG", file.to_str().unwrap()), ("K", KEY)]);
        assert_says(&out, &["route \"r\"", &format!("{field} is not usable")]);
        std::fs::remove_file(file).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routes_file_sets_body_timeouts_per_route() {
    let upstream = Upstream::start();
    let config = write_config(&format!(
        r#"
        [[route]]
        prefix = "/"
        upstream = "{url}"
        key_env = "TEST_KEY"
        key_header = "X-Api-Key"
        upstream_body_timeout_seconds = 1
        client_body_timeout_seconds = 1
        "#,
        url = upstream.url(),
    ));
    let proxy = start_proxy(&[
        ("PROXY_CONFIG", config.to_str().unwrap()),
        ("TEST_KEY", KEY),
    ]);
    let token = common::upstream::token(Some("d"));
    // `gated` sends one chunk and then stalls: the route's 1 s ends it.
    let res = common::upstream::start_request(
        proxy.addr,
        "GET",
        "/gated",
        &[("Approov-Token", &token)],
        full(Bytes::new()),
    )
    .await;
    assert_eq!(res.status(), 200);
    let body = common::upstream::rest(res.into_body()).await;
    assert!(body.is_err(), "{body:?}");
    tokio::task::block_in_place(|| {
        proxy.stderr_until(|line| line.contains("the upstream's response body stalled"))
    });
    tokio::task::block_in_place(|| proxy.stop());
    std::fs::remove_file(config).unwrap();
}

/// With the token in `Authorization`, listing `Authorization` among the
/// client headers to forward is a contradiction the proxy refuses at
/// start-up (it would never forward the token header anyway).
#[test]
fn forwarding_the_token_header_is_refused_at_start_up() {
    let mut envs = GOOD.to_vec();
    envs.extend([
        ("APPROOV_TOKEN_HEADER", "Authorization"),
        ("APPROOV_TOKEN_SCHEME", "Bearer"),
        ("FORWARD_CLIENT_HEADERS", "Authorization"),
    ]);
    let out = fails(&envs);
    assert_says(
        &out,
        &["FORWARD_CLIENT_HEADERS", "carries the Approov token"],
    );
}
