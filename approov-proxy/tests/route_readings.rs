//! Routes are chosen on the path as sent and as upstreams read it (escapes
//! decoded, `;` parameters dropped, empty segments merged), over a real
//! socket with raw HTTP/1.1 bytes: a path that would reach another route's
//! policy either way is refused with 400, its reason logged, the upstream
//! never called; other paths are forwarded byte for byte, as before.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use common::upstream::{Upstream, start_proxy, token};
use common::{Response, Server, request};
use serde_json::Value;

const ADMIN_KEY: &str = "admin-KEY-never-shown";
const OTHER_KEY: &str = "other-KEY-never-shown";

/// Writes `text` to a fresh file under the target's temporary directory.
fn write_config(text: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "route-readings-{}-{}.toml",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&path, text).unwrap();
    path
}

/// The issue's set-up: `/v1/admin` (GET only, its own key and limit) and
/// `/` (everything else, another key), on the same upstream.
fn admin_and_root(upstream: &Upstream) -> Server {
    let config = write_config(&format!(
        r#"
        [[route]]
        name = "admin"
        prefix = "/v1/admin"
        upstream = "{url}"
        key_env = "TEST_ADMIN_KEY"
        key_header = "X-Api-Key"
        allowed_methods = ["GET"]
        rate_limit_per_device_per_minute = 100

        [[route]]
        name = "rest"
        prefix = "/"
        upstream = "{url}"
        key_env = "TEST_OTHER_KEY"
        key_header = "X-Api-Key"
        "#,
        url = upstream.url(),
    ));
    start_proxy(&[
        ("PROXY_CONFIG", config.to_str().unwrap()),
        ("TEST_ADMIN_KEY", ADMIN_KEY),
        ("TEST_OTHER_KEY", OTHER_KEY),
    ])
}

/// One raw request with a valid token (blocking, bounded by the helper's
/// socket timeouts).
fn raw(proxy: &Server, method: &str, path: &str) -> Response {
    let t = token(Some("device-r"));
    tokio::task::block_in_place(|| request(proxy.addr, method, path, &[("Approov-Token", &t)]))
}

/// The next request's log line.
fn logged(proxy: &Server) -> String {
    let lines = tokio::task::block_in_place(|| {
        proxy.stderr_until(|line| line.contains("approov_proxy: request"))
    });
    lines.last().unwrap().clone()
}

/// `400 bad_path`, logged as `path_ambiguous_route` under `route`.
fn assert_ambiguous(proxy: &Server, res: &Response, route: &str) {
    assert_eq!(res.status, 400, "{res:?}");
    let body: Value = serde_json::from_str(&res.body).unwrap();
    assert_eq!(body["error"], "bad_path", "{res:?}");
    assert!(
        body["message"].as_str().unwrap().contains("same route"),
        "{res:?}"
    );
    let line = logged(proxy);
    assert!(line.contains("refused=\"path_ambiguous_route\""), "{line}");
    assert!(line.contains("status=400"), "{line}");
    assert!(line.contains(&format!("route=\"{route}\"")), "{line}");
}

fn stop(proxy: Server) {
    let (_, stderr) = tokio::task::block_in_place(|| proxy.stop());
    for secret in [ADMIN_KEY, OTHER_KEY, "eyJ"] {
        assert!(!stderr.contains(secret), "{secret} logged:\n{stderr}");
    }
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paths_that_reach_another_route_once_read_are_refused_before_the_upstream() {
    let upstream = Upstream::start();
    let proxy = admin_and_root(&upstream);
    for path in [
        // The issue's three: Tomcat and Spring read each as /v1/admin/users.
        "/v1/%61dmin/users",
        "/v1/admin;x=1/users",
        "//v1/admin/users",
        // And their relatives.
        "/%76%31/admin/users",
        "/v1/admin%3Bx=1/users",
        "/v1;v=2/admin/users",
        "/v1//admin/users",
        "/;x/v1/admin",
        "/v1\\admin/users",
        "/v1/%2561dmin/users",
        "/v1/admin;",
    ] {
        let res = raw(&proxy, "DELETE", path);
        assert_ambiguous(&proxy, &res, "rest");
    }
    assert!(upstream.recorded().is_empty(), "{:#?}", upstream.recorded());
    stop(proxy);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paths_read_alike_are_forwarded_as_sent_under_their_route() {
    let upstream = Upstream::start();
    let proxy = admin_and_root(&upstream);
    // Plain: each route with its own key and methods, as before.
    assert_eq!(raw(&proxy, "GET", "/v1/admin/users").status, 200);
    assert!(logged(&proxy).contains("route=\"admin\""));
    let seen = upstream.recorded().pop().unwrap();
    assert_eq!(seen.path, "/users");
    assert_eq!(seen.header_values("x-api-key"), [ADMIN_KEY]);
    let res = raw(&proxy, "DELETE", "/v1/admin/users");
    assert_eq!(res.status, 405, "{res:?}");
    assert!(logged(&proxy).contains("refused=\"method_not_allowed\""));
    // Escapes, parameters and empty segments that leave the route as it
    // is: forwarded byte for byte with that route's key.
    for (method, path, key, upstream_path) in [
        ("GET", "/v1/admin/us%65rs", ADMIN_KEY, "/us%65rs"),
        ("GET", "/v1/admin/users;v=1", ADMIN_KEY, "/users;v=1"),
        ("GET", "/v1/admin//users", ADMIN_KEY, "//users"),
        (
            "DELETE",
            "/v2/%61dmin/users",
            OTHER_KEY,
            "/v2/%61dmin/users",
        ),
        ("DELETE", "/other;x=1//a", OTHER_KEY, "/other;x=1//a"),
        ("DELETE", "/caf%C3%A9", OTHER_KEY, "/caf%C3%A9"),
    ] {
        let res = raw(&proxy, method, path);
        assert_eq!(res.status, 200, "{path}: {res:?}");
        let seen = upstream.recorded().pop().unwrap();
        assert_eq!(seen.path, upstream_path, "{path}");
        assert_eq!(seen.header_values("x-api-key"), [key], "{path}");
    }
    assert_eq!(upstream.recorded().len(), 7);
    stop(proxy);
}

/// Without a `/` route, a path that matches no route as sent but one as
/// read is refused too, rather than answered `404` (which would say
/// nothing wrong happened); a path that matches none either way is `404`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_root_route_a_disguised_path_is_refused_not_lost() {
    let upstream = Upstream::start();
    let config = write_config(&format!(
        r#"
        [[route]]
        name = "api"
        prefix = "/api"
        upstream = "{url}"
        key_env = "TEST_ADMIN_KEY"
        key_header = "X-Api-Key"
        "#,
        url = upstream.url(),
    ));
    let proxy = start_proxy(&[
        ("PROXY_CONFIG", config.to_str().unwrap()),
        ("TEST_ADMIN_KEY", ADMIN_KEY),
    ]);
    for path in ["/%61pi/x", "//api/x", "/api;v=1/x"] {
        let res = raw(&proxy, "GET", path);
        assert_ambiguous(&proxy, &res, "api");
    }
    let res = raw(&proxy, "GET", "/%61px/x");
    assert_eq!(res.status, 404, "{res:?}");
    assert!(upstream.recorded().is_empty(), "{:#?}", upstream.recorded());
    stop(proxy);
}

#[test]
fn prefixes_an_upstream_would_never_read_stop_start_up() {
    for prefix in ["/v1;x", "/v1\\admin"] {
        let config = write_config(&format!(
            "[[route]]\nprefix = '{prefix}'\nupstream = \"https://api.example.com\"\n\
             key_env = \"TEST_ADMIN_KEY\"\nkey_header = \"X-Api-Key\"\n"
        ));
        let mut cmd = common::command(common::upstream::PROXY);
        cmd.env("APPROOV_BASE64_SECRET", common::SECRET)
            .env("TEST_ADMIN_KEY", ADMIN_KEY)
            .env("PROXY_CONFIG", &config);
        let out = common::run(cmd);
        assert_eq!(out.status.code(), Some(2), "{prefix}: {out:?}");
        assert!(
            out.stderr.starts_with("approov-proxy: route ") && out.stderr.contains("prefix is"),
            "{prefix}: {}",
            out.stderr
        );
        assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
        assert!(!out.stderr.contains(ADMIN_KEY), "{}", out.stderr);
    }
}
