//! `approov-proxy` refusals and failures: 401 without any upstream call,
//! 502 (upstream closed, or not speaking TLS), 504 (slow upstream), 429
//! with `Retry-After`, 400/405 for dangerous requests, report-only mode,
//! token binding, and the per-request log line.
#![allow(clippy::unwrap_used)]

mod common;

use bytes::Bytes;
use common::Server;
use common::upstream::{Upstream, full, get, send, start_keyed_proxy, token};
use serde_json::Value;

const KEY: &str = "the-THIRD-party-KEY-42";

fn proxy_for(url: &str, extra: &[(&str, &str)]) -> Server {
    start_keyed_proxy(url, KEY, ("API_KEY_QUERY_PARAM", "api_key"), extra)
}

/// A JSON error from the proxy itself: the status, the `error` code, and
/// nothing about the key or the upstream.
fn assert_proxy_error(
    res: &common::upstream::TestResponse,
    status: u16,
    code: &str,
    upstream: &str,
) {
    assert_eq!(res.status, status, "{res:?}");
    assert_eq!(res.headers["content-type"], "application/json", "{res:?}");
    let body: Value = serde_json::from_slice(&res.body).unwrap();
    assert_eq!(body["error"], code, "{res:?}");
    let text = res.text();
    for secret in [KEY, upstream, "127.0.0.1"] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
}

fn stop(server: Server) -> String {
    let (_, stderr) = tokio::task::block_in_place(|| server.stop());
    assert!(!stderr.contains(KEY), "key logged:\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

fn wait_log(server: &Server, needle: &str) -> Vec<String> {
    tokio::task::block_in_place(|| server.stderr_until(|line| line.contains(needle)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_tokens_get_401_and_the_upstream_is_never_called() {
    let upstream = Upstream::start();
    let proxy = proxy_for(&upstream.url(), &[]);
    let expired = common::token_expiring_in(-60);
    let forged = common::forged_token();
    let cases: [(&[(&str, &str)], &str); 4] = [
        (&[], "missing"),
        (&[("Approov-Token", &expired)], "expired"),
        (&[("Approov-Token", &forged)], "signature"),
        (&[("Approov-Token", "not.a.jwt")], "malformed"),
    ];
    for (headers, kind) in cases {
        for method in ["GET", "POST", "OPTIONS"] {
            let res = send(
                proxy.addr,
                method,
                "/planetary/apod?x=1",
                headers,
                full("body"),
            )
            .await;
            assert_eq!(res.status, 401, "{kind} {method}: {res:?}");
            assert_eq!(res.text(), "{}");
            assert_eq!(res.headers["www-authenticate"], "Approov");
            wait_log(&proxy, &format!("kind=\"{kind}\""));
        }
    }
    // A CORS preflight is checked too: no token, no forwarding.
    let res = send(
        proxy.addr,
        "OPTIONS",
        "/x",
        &[
            ("Origin", "https://a.example"),
            ("Access-Control-Request-Method", "GET"),
        ],
        full(Bytes::new()),
    )
    .await;
    assert_eq!(res.status, 401);
    // Every 401 was answered before anything was sent upstream.
    assert!(upstream.recorded().is_empty(), "{:#?}", upstream.recorded());
    let logs = stop(proxy);
    assert!(
        !logs.contains(&expired) && !logs.contains(&forged),
        "token logged"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_upstream_is_502() {
    // A port that was just free: nothing listens there any more.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let url = format!("http://{closed}");
    let proxy = proxy_for(&url, &[]);
    let res = get(proxy.addr, "/planetary/apod", Some("d"), &[]).await;
    assert_proxy_error(&res, 502, "bad_gateway", &closed.to_string());
    wait_log(&proxy, "the upstream request failed");
    stop(proxy);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_upstreams_use_tls() {
    // The mock speaks plain HTTP: an https:// upstream there fails the TLS
    // handshake (502), which shows the scheme really selects rustls.
    let upstream = Upstream::start();
    let url = format!("https://{}", upstream.addr);
    let proxy = proxy_for(&url, &[]);
    let res = get(proxy.addr, "/x", Some("d"), &[]).await;
    assert_proxy_error(&res, 502, "bad_gateway", &upstream.addr.to_string());
    stop(proxy);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_upstream_is_504() {
    let upstream = Upstream::start();
    let proxy = proxy_for(&upstream.url(), &[("UPSTREAM_TIMEOUT_SECONDS", "1")]);
    let res = get(proxy.addr, "/v1/slow", Some("d"), &[]).await;
    assert_proxy_error(&res, 504, "gateway_timeout", &upstream.addr.to_string());
    // The request did reach the upstream, which never answered.
    assert_eq!(upstream.single().path, "/v1/slow");
    wait_log(&proxy, "no response head in time");
    // The proxy is still fine for the next request.
    let res = get(proxy.addr, "/v1/fast", Some("d"), &[]).await;
    assert_eq!(res.status, 200);
    stop(proxy);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_device_is_rate_limited_with_retry_after() {
    let upstream = Upstream::start();
    let proxy = proxy_for(
        &upstream.url(),
        &[("RATE_LIMIT_PER_DEVICE_PER_MINUTE", "2")],
    );
    for _ in 0..2 {
        assert_eq!(
            get(proxy.addr, "/a", Some("device-a"), &[]).await.status,
            200
        );
    }
    let res = get(proxy.addr, "/a", Some("device-a"), &[]).await;
    assert_proxy_error(&res, 429, "rate_limited", &upstream.addr.to_string());
    let retry: u64 = res.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    // Two per minute: the next request is allowed within 30 s.
    assert!((1..=30).contains(&retry), "Retry-After {retry}");
    assert_eq!(upstream.recorded().len(), 2, "the 429 reached the upstream");

    // Another device has its own budget.
    assert_eq!(
        get(proxy.addr, "/a", Some("device-b"), &[]).await.status,
        200
    );

    // Tokens without `did` share one budget, whatever else differs.
    assert_eq!(get(proxy.addr, "/a", None, &[]).await.status, 200);
    assert_eq!(
        get(proxy.addr, "/a", None, &[("X-Other", "1")])
            .await
            .status,
        200
    );
    assert_eq!(get(proxy.addr, "/a", None, &[]).await.status, 429);
    assert_eq!(upstream.recorded().len(), 5);
    stop(proxy);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dot_segments_trace_and_connect_are_refused() {
    let upstream = Upstream::start();
    let proxy = proxy_for(&format!("{}/v1", upstream.url()), &[]);
    for path in ["/../admin", "/a/%2e%2e/admin", "/a/..%2fadmin", "/./x"] {
        let res = get(proxy.addr, path, Some("d"), &[]).await;
        assert_proxy_error(&res, 400, "bad_path", &upstream.addr.to_string());
    }
    let t = token(Some("d"));
    let res = send(
        proxy.addr,
        "TRACE",
        "/x",
        &[("Approov-Token", &t)],
        full(Bytes::new()),
    )
    .await;
    assert_eq!(res.status, 405);
    assert!(upstream.recorded().is_empty());
    // The base path is kept for good paths.
    assert_eq!(get(proxy.addr, "/items", Some("d"), &[]).await.status, 200);
    assert_eq!(upstream.single().path, "/v1/items");
    stop(proxy);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_only_forwards_bad_tokens_and_logs_them() {
    let upstream = Upstream::start();
    let proxy = proxy_for(&upstream.url(), &[("APPROOV_REPORT_ONLY", "true")]);
    let res = send(proxy.addr, "GET", "/a", &[], full(Bytes::new())).await;
    assert_eq!(res.status, 200, "{res:?}");
    wait_log(&proxy, "kind=\"missing\"");
    let lines = wait_log(&proxy, "approov=\"report_only_rejected\"");
    assert!(lines.last().unwrap().contains("status=200"), "{lines:?}");
    assert_eq!(upstream.single().path, "/a");
    stop(proxy);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_binding_is_enforced() {
    let upstream = Upstream::start();
    let proxy = proxy_for(
        &upstream.url(),
        &[("APPROOV_TOKEN_BINDING_HEADER", "Authorization")],
    );
    let unbound = token(Some("d"));
    let bound = common::bound_token("Bearer session-1");
    let res = send(
        proxy.addr,
        "GET",
        "/a",
        &[
            ("Approov-Token", &unbound),
            ("Authorization", "Bearer session-1"),
        ],
        full(Bytes::new()),
    )
    .await;
    assert_eq!(res.status, 401);
    wait_log(&proxy, "kind=\"binding");
    let res = send(
        proxy.addr,
        "GET",
        "/a",
        &[
            ("Approov-Token", &bound),
            ("Authorization", "Bearer session-2"),
        ],
        full(Bytes::new()),
    )
    .await;
    assert_eq!(res.status, 401);
    assert!(upstream.recorded().is_empty());
    let res = send(
        proxy.addr,
        "GET",
        "/a",
        &[
            ("Approov-Token", &bound),
            ("Authorization", "Bearer session-1"),
        ],
        full(Bytes::new()),
    )
    .await;
    assert_eq!(res.status, 200);
    // The bound header is the user's session: checked here, and not handed
    // to the third party unless FORWARD_CLIENT_HEADERS names it.
    assert!(upstream.single().headers.get("authorization").is_none());
    stop(proxy);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_log_line_per_request_without_query_key_or_token() {
    let upstream = Upstream::start();
    let proxy = proxy_for(&upstream.url(), &[]);
    let t = token(Some("ExampleApproovTokenDID=="));
    let res = send(
        proxy.addr,
        "POST",
        "/planetary/apod?secret-query=1",
        &[("Approov-Token", &t)],
        full("x"),
    )
    .await;
    assert_eq!(res.status, 200);
    let lines = wait_log(&proxy, "approov_proxy: request");
    let line = lines.last().unwrap();
    // The device is a 12-hex-digit hash, never the id itself.
    for field in [
        "method=POST",
        "path=/planetary/apod ",
        "status=200",
        "latency_ms=",
        "route=\"default\"",
        "approov=\"verified\"",
    ] {
        assert!(line.contains(field), "{field} missing in {line}");
    }
    let device = line
        .split("device=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    assert_eq!(device.len(), 12, "{line}");
    assert!(device.chars().all(|c| c.is_ascii_hexdigit()), "{line}");
    assert!(!line.contains("ExampleApproovTokenDID"), "{line}");

    let res = send(proxy.addr, "GET", "/a?q=1", &[], full(Bytes::new())).await;
    assert_eq!(res.status, 401);
    let lines = wait_log(&proxy, "approov_proxy: request");
    let line = lines.last().unwrap();
    for field in [
        "status=401",
        "device=\"-\"",
        "approov=\"rejected\"",
        "path=/a ",
    ] {
        assert!(line.contains(field), "{field} missing in {line}");
    }
    let logs = stop(proxy);
    for secret in [&t, "secret-query", "q=1"] {
        assert!(!logs.contains(secret), "{secret} logged:\n{logs}");
    }
}
