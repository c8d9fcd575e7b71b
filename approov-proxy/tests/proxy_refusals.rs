//! `approov-proxy` refusals of what it never forwards, over a real socket
//! with raw HTTP/1.1 bytes (a client library would normalise some of these
//! paths before sending): paths that could climb out of the route's base
//! path, each refused with 400, its reason logged, the upstream never
//! called; and legitimate paths reaching the upstream byte for byte.
#![allow(clippy::unwrap_used)]

mod common;

use common::upstream::{Upstream, start_keyed_proxy, token};
use common::{Response, Server, request};
use serde_json::Value;

const KEY: &str = "refusals-KEY-never-shown";

fn proxy_for(upstream: &Upstream, extra: &[(&str, &str)]) -> Server {
    let url = format!("{}/base", upstream.url());
    start_keyed_proxy(&url, KEY, ("API_KEY_HEADER", "X-Api-Key"), extra)
}

/// One raw request with a valid token (blocking, bounded by the helper's
/// socket timeouts).
fn raw(proxy: &Server, method: &str, path: &str, headers: &[(&str, &str)]) -> Response {
    let t = token(Some("device-r"));
    let mut all = vec![("Approov-Token", t.as_str())];
    all.extend_from_slice(headers);
    tokio::task::block_in_place(|| request(proxy.addr, method, path, &all))
}

/// The proxy's own JSON error, and its log line naming `reason`.
fn assert_refused(proxy: &Server, res: &Response, status: u16, code: &str, reason: &str) {
    assert_eq!(res.status, status, "{res:?}");
    assert_eq!(
        res.header("content-type"),
        Some("application/json"),
        "{res:?}"
    );
    let body: Value = serde_json::from_str(&res.body).unwrap();
    assert_eq!(body["error"], code, "{res:?}");
    assert!(!res.body.contains(KEY), "{res:?}");
    let needle = format!("refused=\"{reason}\"");
    let lines = tokio::task::block_in_place(|| {
        proxy.stderr_until(|line| line.contains("approov_proxy: request"))
    });
    let line = lines.last().unwrap();
    assert!(line.contains(&needle), "{needle} not in {line}");
    assert!(line.contains(&format!("status={status}")), "{line}");
}

fn stop(proxy: Server) -> String {
    let (_, stderr) = tokio::task::block_in_place(|| proxy.stop());
    assert!(!stderr.contains(KEY), "key logged:\n{stderr}");
    // Every token here is a JWT, whose header starts `{"` = `eyJ`.
    assert!(!stderr.contains("eyJ"), "token logged:\n{stderr}");
    assert!(!stderr.contains("secret-query"), "query logged:\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paths_that_escape_the_base_path_are_refused_before_the_upstream() {
    let upstream = Upstream::start();
    let proxy = proxy_for(&upstream, &[]);
    for (path, reason) in [
        // The issue's examples.
        ("/..;/admin", "path_dot_segment"),
        ("/..;/admin?secret-query=1", "path_dot_segment"),
        ("/%2e%2e;/admin", "path_dot_segment"),
        ("/..%00/admin", "path_control_character"),
        ("/%c0%ae%c0%ae/admin", "path_bad_utf8"),
        ("/a/..;/..;/admin", "path_dot_segment"),
        // And their relatives.
        ("/../admin", "path_dot_segment"),
        ("/a/./b", "path_dot_segment"),
        ("/.%2e/admin", "path_dot_segment"),
        ("/%2E./admin", "path_dot_segment"),
        ("/a/..;x=1/admin", "path_dot_segment"),
        ("/a/.;/b", "path_dot_segment"),
        ("/a\\..\\admin", "path_dot_segment"),
        ("/%252e%252e/admin", "path_dot_segment"),
        ("/a/..%2fadmin", "path_encoded_separator"),
        ("/a%2Fb", "path_encoded_separator"),
        ("/a%5cb", "path_encoded_separator"),
        ("/a%0a", "path_control_character"),
        ("/%c0%af", "path_bad_utf8"),
        ("/%e0%80%ae", "path_bad_utf8"),
        ("/a%zz", "path_bad_escape"),
        ("/%u002e%u002e/admin", "path_bad_escape"),
        ("*", "path_not_absolute"),
    ] {
        let method = if path == "*" { "OPTIONS" } else { "GET" };
        let res = raw(&proxy, method, path, &[]);
        assert_refused(&proxy, &res, 400, "bad_path", reason);
        if reason == "path_dot_segment" {
            assert!(res.body.contains(". or .. segments"), "{res:?}");
        }
    }
    assert!(upstream.recorded().is_empty(), "{:#?}", upstream.recorded());
    stop(proxy);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legitimate_paths_reach_the_upstream_intact() {
    let upstream = Upstream::start();
    let proxy = proxy_for(&upstream, &[]);
    for path in [
        "/a%20b",
        "/100%25",
        "/caf%C3%A9",
        "/café",
        "/a//b/",
        "/.well-known/x",
        "/a..b/...",
        "/a;v=1/b",
    ] {
        let res = raw(&proxy, "GET", path, &[]);
        assert_eq!(res.status, 200, "{path}: {res:?}");
        let seen = upstream.recorded().pop().unwrap();
        assert_eq!(seen.path, format!("/base{path}"));
    }
    assert_eq!(upstream.recorded().len(), 8);
    stop(proxy);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn methods_outside_the_allow_list_get_405_before_the_upstream() {
    let upstream = Upstream::start();
    let proxy = proxy_for(&upstream, &[]);
    for (method, target) in [
        ("TRACE", "/x"),
        ("TRACE", "/x?secret-query=1"),
        ("trace", "/x"),
        ("Trace", "/x"),
        ("TRACK", "/x"),
        ("DEBUG", "/x"),
        ("PROPFIND", "/x"),
        ("get", "/x"),
        ("CONNECT", "upstream.example:443"),
    ] {
        let res = raw(&proxy, method, target, &[]);
        assert_refused(
            &proxy,
            &res,
            405,
            "method_not_allowed",
            "method_not_allowed",
        );
        assert_eq!(
            res.header("allow"),
            Some("GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"),
            "{method}: {res:?}"
        );
    }
    assert!(upstream.recorded().is_empty(), "{:#?}", upstream.recorded());
    // The seven default methods are forwarded.
    for method in ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] {
        let res = raw(&proxy, method, "/x", &[]);
        assert_eq!(res.status, 200, "{method}: {res:?}");
        assert_eq!(upstream.recorded().pop().unwrap().method.as_str(), method);
    }
    stop(proxy);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allowed_methods_narrows_the_list() {
    let upstream = Upstream::start();
    let proxy = proxy_for(&upstream, &[("ALLOWED_METHODS", "get, POST")]);
    for method in ["PUT", "DELETE", "OPTIONS", "TRACE"] {
        let res = raw(&proxy, method, "/x", &[]);
        assert_refused(
            &proxy,
            &res,
            405,
            "method_not_allowed",
            "method_not_allowed",
        );
        assert_eq!(res.header("allow"), Some("GET, POST"), "{res:?}");
    }
    // A HEAD answer has no body; the status, Allow and log say it all.
    let res = raw(&proxy, "HEAD", "/x", &[]);
    assert_eq!((res.status, res.header("allow")), (405, Some("GET, POST")));
    let lines = tokio::task::block_in_place(|| {
        proxy.stderr_until(|line| line.contains("approov_proxy: request"))
    });
    assert!(
        lines
            .last()
            .unwrap()
            .contains("refused=\"method_not_allowed\"")
    );
    assert!(upstream.recorded().is_empty(), "{:#?}", upstream.recorded());
    for method in ["GET", "POST"] {
        assert_eq!(raw(&proxy, method, "/x", &[]).status, 200, "{method}");
    }
    assert_eq!(upstream.recorded().len(), 2);
    stop(proxy);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn method_override_headers_are_not_forwarded() {
    let upstream = Upstream::start();
    let proxy = proxy_for(&upstream, &[]);
    let res = raw(
        &proxy,
        "POST",
        "/x",
        &[
            ("X-HTTP-Method-Override", "DELETE"),
            ("X-HTTP-Method", "TRACE"),
            ("X-Method-Override", "PROPFIND"),
            ("x-http-method-override", "PUT"),
            ("X-Other", "kept"),
        ],
    );
    assert_eq!(res.status, 200, "{res:?}");
    let seen = upstream.single();
    assert_eq!(seen.method, "POST");
    for name in [
        "x-http-method-override",
        "x-http-method",
        "x-method-override",
    ] {
        assert!(seen.headers.get(name).is_none(), "{name}: {seen:#?}");
    }
    assert_eq!(seen.header_values("x-other"), ["kept"]);
    stop(proxy);
}

/// CGI-style servers (PHP, WSGI, Rack) read `X_Api_Key` as `X-Api-Key`:
/// the underscored spelling of a header the proxy removes or sets must not
/// reach the upstream either, or a client could forge claims, override the
/// method or send a key of its own beside the route's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn underscored_spellings_of_removed_headers_are_not_forwarded() {
    let upstream = Upstream::start();
    let proxy = proxy_for(&upstream, &[("UPSTREAM_CLAIMS", "did")]);
    let res = raw(
        &proxy,
        "POST",
        "/x",
        &[
            ("X_HTTP_Method_Override", "DELETE"),
            ("Approov_Claim_Did", "forged-device"),
            ("approov_claim_ip", "1.2.3.4"),
            ("X_Api_Key", "the-client-s-own-key"),
            ("Approov_Token", "forged"),
            ("Keep_Alive", "timeout=5"),
            ("X_Other_Thing", "kept"),
        ],
    );
    assert_eq!(res.status, 200, "{res:?}");
    let seen = upstream.single();
    assert_eq!(seen.method, "POST");
    for name in [
        "x_http_method_override",
        "approov_claim_did",
        "approov_claim_ip",
        "x_api_key",
        "approov_token",
        "keep_alive",
    ] {
        assert!(seen.headers.get(name).is_none(), "{name}: {seen:#?}");
    }
    assert_eq!(seen.header_values("approov-claim-did"), ["device-r"]);
    assert_eq!(seen.header_values("x-api-key"), [KEY]);
    assert_eq!(seen.header_values("x_other_thing"), ["kept"]);
    stop(proxy);
}

/// The other way round: a key header and a token header configured with
/// underscores; their dashed spellings from the client are not forwarded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashed_spellings_of_underscored_names_are_not_forwarded() {
    let upstream = Upstream::start();
    let url = format!("{}/base", upstream.url());
    let proxy = start_keyed_proxy(
        &url,
        KEY,
        ("API_KEY_HEADER", "X_Api_Key"),
        &[("APPROOV_TOKEN_HEADER", "X_Approov_Token")],
    );
    let t = token(Some("device-u"));
    let res = tokio::task::block_in_place(|| {
        request(
            proxy.addr,
            "GET",
            "/x",
            &[
                ("X_Approov_Token", t.as_str()),
                ("X-Approov-Token", "forged"),
                ("X-Api-Key", "the-client-s-own-key"),
            ],
        )
    });
    assert_eq!(res.status, 200, "{res:?}");
    let seen = upstream.single();
    for name in ["x_approov_token", "x-approov-token", "x-api-key"] {
        assert!(seen.headers.get(name).is_none(), "{name}: {seen:#?}");
    }
    assert_eq!(seen.header_values("x_api_key"), [KEY]);
    stop(proxy);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_bytes_that_are_not_utf8_never_reach_the_upstream() {
    use std::io::{Read as _, Write as _};
    let upstream = Upstream::start();
    let proxy = proxy_for(&upstream, &[]);
    let t = token(Some("device-r"));
    let addr = proxy.addr;
    for path in [
        &b"/\xc0\xae\xc0\xae/admin"[..],
        b"/\xe0\x80\xae/x",
        b"/caf\xe9",
        b"/a\x7f",
    ] {
        let raw = tokio::task::block_in_place(|| {
            let mut stream = std::net::TcpStream::connect(addr).unwrap();
            stream
                .set_read_timeout(Some(common::upstream::REQUEST_LIMIT))
                .unwrap();
            let mut req = b"GET ".to_vec();
            req.extend_from_slice(path);
            req.extend_from_slice(
                format!(" HTTP/1.1\r\nHost: x\r\nApproov-Token: {t}\r\nConnection: close\r\n\r\n")
                    .as_bytes(),
            );
            stream.write_all(&req).unwrap();
            let mut raw = Vec::new();
            let _ = stream.read_to_end(&mut raw);
            String::from_utf8_lossy(&raw).into_owned()
        });
        // hyper may refuse the request line itself; either way a 400.
        assert!(raw.starts_with("HTTP/1.1 400 "), "{path:?}: {raw}");
    }
    assert!(upstream.recorded().is_empty(), "{:#?}", upstream.recorded());
    stop(proxy);
}

/// `/health` is the proxy's own, for probes: `GET` and `HEAD` answer `200`
/// without a token; any other method is `405` with `Allow`, and none of
/// them reaches the upstream.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_answers_get_and_head_and_refuses_other_methods() {
    let upstream = Upstream::start();
    let proxy = proxy_for(&upstream, &[]);
    let ask =
        |method: &str| tokio::task::block_in_place(|| request(proxy.addr, method, "/health", &[]));
    let get = ask("GET");
    assert_eq!(get.status, 200, "{get:?}");
    assert_eq!(get.body, r#"{"status":"ok"}"#);
    assert_eq!(ask("HEAD").status, 200);
    for method in ["POST", "DELETE", "OPTIONS"] {
        let res = ask(method);
        assert_eq!(res.status, 405, "{method}: {res:?}");
        assert_eq!(res.header("allow"), Some("GET,HEAD"), "{method}: {res:?}");
    }
    assert!(upstream.recorded().is_empty());
    let (_, stderr) = tokio::task::block_in_place(|| proxy.stop());
    assert!(!stderr.contains(KEY), "{stderr}");
}
