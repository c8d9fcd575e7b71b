//! `AUTH_LISTEN_ADDR`: the forward-auth endpoint on a listener of its own,
//! over real sockets. The public listener then answers the endpoint's path
//! as any other (a route, or `404`), so clients cannot use it as a token
//! oracle; the endpoint's listener has the same limits and the same
//! graceful shutdown; without it, routes beside the endpoint are warned
//! about at start-up; bad values stop the proxy with exit code 2.
#![allow(clippy::unwrap_used)]

mod common;

use approov_conformance::serve_limits::{
    CLOSE_LIMIT, assert_closed_for_a_slow_head, connect, keep_alive_health, stall, wait_for_answer,
    wait_for_close,
};
use bytes::Bytes;
use common::upstream::{TestResponse, Upstream, full, send, start_proxy, token};
use common::{SECRET, Server};

const ENDPOINT: &str = "/approov/auth";
const KEY: &str = "listener-KEY-never-shown";

/// The proxy with the endpoint on `127.0.0.1:0` of its own, beside `extra`.
fn proxy_with_auth_listener(extra: &[(&str, &str)]) -> (Server, std::net::SocketAddr) {
    let mut envs = vec![
        ("AUTH_ENDPOINT", ENDPOINT),
        ("AUTH_LISTEN_ADDR", "127.0.0.1:0"),
    ];
    envs.extend_from_slice(extra);
    let proxy = start_proxy(&envs);
    let auth = tokio::task::block_in_place(|| proxy.forward_auth_addr());
    (proxy, auth)
}

/// An nginx-style check at `addr` for a `GET /api` with `headers`.
async fn check(addr: std::net::SocketAddr, headers: &[(&str, &str)]) -> TestResponse {
    let mut all = vec![("X-Original-Method", "GET"), ("X-Original-URI", "/api")];
    all.extend_from_slice(headers);
    send(addr, "GET", ENDPOINT, &all, full(Bytes::new())).await
}

fn stop(proxy: Server, tokens: &[&str]) -> String {
    let (_, stderr) = tokio::task::block_in_place(|| proxy.stop());
    assert!(!stderr.contains(KEY), "key logged:\n{stderr}");
    for t in tokens {
        assert!(!stderr.contains(t), "token logged:\n{stderr}");
    }
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn beside_routes_the_endpoint_answers_only_on_its_own_listener() {
    let upstream = Upstream::start();
    let (proxy, auth) = proxy_with_auth_listener(&[
        ("UPSTREAM_URL", &upstream.url()),
        ("API_KEY", KEY),
        ("API_KEY_HEADER", "X-Api-Key"),
    ]);
    assert_ne!(auth, proxy.addr);
    let t = token(Some("device-1"));
    let with_token = [("Approov-Token", t.as_str())];

    // The endpoint's own listener: the check, and the upstream untouched.
    let res = check(auth, &with_token).await;
    assert_eq!(res.status, 200, "{res:?}");
    assert_eq!(res.headers["approov-claim-did"], "device-1");
    assert_eq!(check(auth, &[]).await.status, 401);
    assert!(upstream.recorded().is_empty(), "{:#?}", upstream.recorded());
    // Nothing else there but /health.
    let res = send(auth, "GET", "/elsewhere", &with_token, full(Bytes::new())).await;
    assert_eq!(res.status, 404, "{res:?}");
    let res = send(auth, "GET", "/health", &[], full(Bytes::new())).await;
    assert_eq!(res.status, 200, "{res:?}");
    assert!(upstream.recorded().is_empty(), "{:#?}", upstream.recorded());

    // The public listener: the endpoint's path is an ordinary route there,
    // forwarded with the key, no oracle answer and no claim header; without
    // a token it is refused as any proxied request is.
    let res = check(proxy.addr, &with_token).await;
    assert_eq!(res.status, 200, "{res:?}");
    assert_eq!(res.text(), r#"{"ok":true}"#);
    assert!(res.headers.get("approov-claim-did").is_none(), "{res:?}");
    let seen = upstream.single();
    assert_eq!(seen.path, ENDPOINT);
    assert_eq!(seen.header_values("x-api-key"), [KEY]);
    let res = check(proxy.addr, &[]).await;
    assert_eq!(res.status, 401, "{res:?}");
    assert_eq!(upstream.recorded().len(), 1);

    let stderr = stop(proxy, &[&t]);
    assert!(
        !stderr.contains("set AUTH_LISTEN_ADDR"),
        "warned although it is set:\n{stderr}"
    );
    let auth_lines = stderr
        .lines()
        .filter(|l| l.contains("route=\"auth\""))
        .count();
    assert_eq!(auth_lines, 2, "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alone_the_public_listener_answers_404_for_the_endpoint() {
    let (proxy, auth) = proxy_with_auth_listener(&[("AUTH_GATEWAY", "envoy")]);
    let t = token(Some("device-2"));
    let headers = [("Approov-Token", t.as_str())];
    let path = format!("{ENDPOINT}/api/items");
    let res = send(auth, "PUT", &path, &headers, full(Bytes::new())).await;
    assert_eq!(res.status, 200, "{res:?}");
    assert_eq!(res.headers["approov-claim-did"], "device-2");
    let res = send(proxy.addr, "PUT", &path, &headers, full(Bytes::new())).await;
    assert_eq!(res.status, 404, "{res:?}");
    assert!(res.headers.get("approov-claim-did").is_none(), "{res:?}");
    let res = send(proxy.addr, "GET", "/health", &[], full(Bytes::new())).await;
    assert_eq!(res.status, 200, "{res:?}");
    stop(proxy, &[&t]);
}

/// Without `AUTH_LISTEN_ADDR`, routes beside the endpoint share the public
/// listener with it: allowed, and warned about once at start-up. The
/// endpoint alone is not warned about: nothing else listens there.
#[test]
fn without_it_routes_beside_the_endpoint_are_warned_about() {
    let upstream = "http://127.0.0.1:9";
    let beside_routes = [
        ("APPROOV_BASE64_SECRET", SECRET),
        ("AUTH_ENDPOINT", ENDPOINT),
        ("UPSTREAM_URL", upstream),
        ("API_KEY", KEY),
        ("API_KEY_HEADER", "X-Api-Key"),
    ];
    let proxy = Server::start_graceful(common::upstream::PROXY, &beside_routes);
    let lines = proxy.stderr_until(|line| line.contains("set AUTH_LISTEN_ADDR"));
    let warning = lines.last().unwrap();
    assert!(warning.contains("WARN"), "{warning}");
    assert!(warning.contains("AUTH_ENDPOINT"), "{warning}");
    let (_, stderr) = proxy.stop();
    assert!(!stderr.contains(KEY), "{stderr}");

    let alone = [
        ("APPROOV_BASE64_SECRET", SECRET),
        ("AUTH_ENDPOINT", ENDPOINT),
    ];
    let proxy = Server::start_graceful(common::upstream::PROXY, &alone);
    // The start-up lines end with the endpoint's own; then stop, so every
    // start-up line has been written.
    proxy.stderr_until(|line| line.contains("forward-auth endpoint"));
    let (_, stderr) = proxy.stop();
    assert!(!stderr.contains("set AUTH_LISTEN_ADDR"), "{stderr}");
}

/// The endpoint's listener has the public one's limits: a request head
/// not complete within `HEADER_READ_TIMEOUT_SECONDS` is cut off there too.
#[test]
fn the_endpoint_listener_has_the_same_limits() {
    let envs = [
        ("APPROOV_BASE64_SECRET", SECRET),
        ("AUTH_ENDPOINT", ENDPOINT),
        ("AUTH_LISTEN_ADDR", "127.0.0.1:0"),
        ("HEADER_READ_TIMEOUT_SECONDS", "1"),
    ];
    let proxy = Server::start_graceful(common::upstream::PROXY, &envs);
    let auth = proxy.forward_auth_addr();
    let mut stream = connect(auth);
    std::io::Write::write_all(&mut stream, b"GET /health HTTP/1.1\r\nHost: x\r\n").unwrap();
    assert_closed_for_a_slow_head(wait_for_close(&mut stream, CLOSE_LIMIT));
    let (_, stderr) = proxy.stop();
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// Gateways that pipeline checks and never read the answers hold the
/// endpoint listener's connections only until `SEND_TIMEOUT_SECONDS`: a
/// fresh check is still answered.
#[test]
fn the_endpoint_listener_cuts_off_clients_that_never_read() {
    let envs = [
        ("APPROOV_BASE64_SECRET", SECRET),
        ("AUTH_ENDPOINT", ENDPOINT),
        ("AUTH_LISTEN_ADDR", "127.0.0.1:0"),
        ("SEND_TIMEOUT_SECONDS", "1"),
        ("MAX_CONNECTIONS", "2"),
        ("MAX_REQUESTS_PER_CONNECTION", "1000000"),
        // As in `serve_limits::clients_that_never_read_are_cut_off`: a
        // connection that ends up idle rather than stalled is freed too.
        ("IDLE_TIMEOUT_SECONDS", "1"),
        ("HEADER_READ_TIMEOUT_SECONDS", "1"),
    ];
    let proxy = Server::start_graceful(common::upstream::PROXY, &envs);
    let auth = proxy.forward_auth_addr();
    let _stalled = [stall(auth, "/health"), stall(auth, "/health")];
    let mut fresh = connect(auth);
    std::io::Write::write_all(&mut fresh, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    assert_eq!(
        wait_for_answer(&mut fresh, CLOSE_LIMIT).as_deref(),
        Some("200"),
        "no answer while two clients that never read held the endpoint listener"
    );
}

/// SIGTERM drains both listeners: an idle keep-alive connection on the
/// endpoint's listener is closed at once, both report that every request
/// finished, and the proxy exits 0.
#[cfg(unix)]
#[test]
fn sigterm_drains_the_endpoint_listener_too() {
    let envs = [
        ("APPROOV_BASE64_SECRET", SECRET),
        ("AUTH_ENDPOINT", ENDPOINT),
        ("AUTH_LISTEN_ADDR", "127.0.0.1:0"),
        ("DRAIN_TIMEOUT_SECONDS", "30"),
    ];
    let proxy = Server::start_graceful(common::upstream::PROXY, &envs);
    let auth = proxy.forward_auth_addr();
    let mut idle = connect(auth);
    assert_eq!(keep_alive_health(&mut idle), 200);
    let (status, stderr) = proxy.terminate();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert_eq!(
        stderr.matches("every request in flight finished").count(),
        2,
        "{stderr}"
    );
    assert!(!stderr.contains("cut off"), "{stderr}");
    let refused = std::net::TcpStream::connect_timeout(&auth, std::time::Duration::from_secs(5));
    assert!(refused.is_err(), "the endpoint listener outlived the proxy");
}

#[test]
fn bad_values_stop_start_up() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let taken_addr = taken.local_addr().unwrap().to_string();
    for (envs, expected) in [
        (
            vec![("AUTH_LISTEN_ADDR", "127.0.0.1:8081")],
            "approov-proxy: AUTH_ENDPOINT is not set: AUTH_LISTEN_ADDR is set",
        ),
        (
            vec![("AUTH_ENDPOINT", ENDPOINT), ("AUTH_LISTEN_ADDR", "8081")],
            "approov-proxy: AUTH_LISTEN_ADDR is not usable",
        ),
        (
            vec![
                ("AUTH_ENDPOINT", ENDPOINT),
                ("AUTH_LISTEN_ADDR", taken_addr.as_str()),
            ],
            "approov-proxy: cannot listen on",
        ),
    ] {
        let mut cmd = common::command(common::upstream::PROXY);
        cmd.env("APPROOV_BASE64_SECRET", SECRET)
            .env("LISTEN_ADDR", "127.0.0.1:0")
            .envs(envs.iter().copied());
        let out = common::run(cmd);
        assert_eq!(out.status.code(), Some(2), "{envs:?}: {out:?}");
        assert!(out.stderr.starts_with(expected), "{envs:?}: {}", out.stderr);
        assert!(out.stderr.contains("AUTH_LISTEN_ADDR"), "{}", out.stderr);
        assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
        assert!(out.stdout.is_empty(), "{}", out.stdout);
    }
    drop(taken);
}
