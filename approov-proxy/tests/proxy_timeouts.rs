//! `approov-proxy` and bodies that stall: a client's request body that
//! stops arriving ends in `408` (or, once the response has started, a
//! dropped connection), an upstream's response body that stops arriving
//! ends the client's response; each stall is logged once. Timeouts are set
//! to 1 s; the waits allow far more and nothing sleeps.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{Read as _, Write as _};
use std::net::TcpStream;

use bytes::Bytes;
use common::Server;
use common::upstream::{
    REQUEST_LIMIT, Upstream, channel_body, full, next_data, rest, start_keyed_proxy, start_request,
    token,
};

const KEY: &str = "timeouts-KEY-never-shown";

fn proxy_for(upstream: &Upstream, extra: &[(&str, &str)]) -> Server {
    start_keyed_proxy(&upstream.url(), KEY, ("API_KEY_HEADER", "X-Api-Key"), extra)
}

/// Stops the proxy; `message` must have been logged exactly once (in
/// `earlier`, the lines already read, or after), and never the key or the
/// token.
fn stop_expecting_once(proxy: Server, message: &str, token: &str, earlier: &[String]) {
    let (_, rest) = tokio::task::block_in_place(|| proxy.stop());
    let stderr = format!("{}\n{rest}", earlier.join("\n"));
    assert_eq!(stderr.matches(message).count(), 1, "{message}:\n{stderr}");
    assert!(!stderr.contains(KEY), "key logged:\n{stderr}");
    assert!(!stderr.contains(token), "token logged:\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

fn wait_log(proxy: &Server, needle: &str) -> Vec<String> {
    tokio::task::block_in_place(|| proxy.stderr_until(|line| line.contains(needle)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_body_that_stalls_before_the_answer_gets_408() {
    let upstream = Upstream::start();
    let proxy = proxy_for(&upstream, &[("CLIENT_BODY_TIMEOUT_SECONDS", "1")]);
    let t = token(Some("device-t"));
    let addr = proxy.addr;
    // Raw bytes: 10 of the 100 announced, then nothing, connection open.
    let raw = tokio::task::block_in_place(|| {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream.set_read_timeout(Some(REQUEST_LIMIT)).unwrap();
        let head = format!(
            "POST /upload-gated HTTP/1.1\r\nHost: {addr}\r\nApproov-Token: {t}\r\n\
             Content-Length: 100\r\n\r\n0123456789"
        );
        stream.write_all(head.as_bytes()).unwrap();
        let mut raw = Vec::new();
        // The proxy closes the connection after its answer.
        stream.read_to_end(&mut raw).unwrap();
        String::from_utf8_lossy(&raw).into_owned()
    });
    assert!(raw.starts_with("HTTP/1.1 408 "), "{raw}");
    assert!(raw.contains("\"error\":\"request_timeout\""), "{raw}");
    assert!(
        raw.to_ascii_lowercase().contains("connection: close"),
        "{raw}"
    );
    // The start of the upload did reach the upstream.
    upstream.first_chunk().await;
    let lines = wait_log(&proxy, "approov_proxy: request");
    assert!(lines.last().unwrap().contains("status=408"), "{lines:?}");
    stop_expecting_once(proxy, "the client's request body stalled", &t, &lines);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_body_that_stalls_after_the_answer_started_drops_the_connection() {
    let upstream = Upstream::start();
    let proxy = proxy_for(&upstream, &[("CLIENT_BODY_TIMEOUT_SECONDS", "1")]);
    let t = token(Some("device-t"));
    // The upstream echoes the body as it comes, so the answer has started
    // (status 200 sent) when the client stops sending.
    let (tx, body) = channel_body();
    let res = start_request(proxy.addr, "PUT", "/echo", &[("Approov-Token", &t)], body).await;
    assert_eq!(res.status(), 200);
    tx.send(Bytes::from_static(b"first")).await.unwrap();
    let mut body = res.into_body();
    assert_eq!(next_data(&mut body).await, "first");
    // `tx` stays open and silent: the body must end in an error, not hang.
    let rest = rest(body).await;
    assert!(rest.is_err(), "{rest:?}");
    drop(tx);
    let lines = wait_log(&proxy, "the client's request body stalled");
    stop_expecting_once(proxy, "the client's request body stalled", &t, &lines);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upstream_body_that_stalls_ends_the_clients_response() {
    let upstream = Upstream::start();
    let proxy = proxy_for(&upstream, &[("UPSTREAM_BODY_TIMEOUT_SECONDS", "1")]);
    let t = token(Some("device-t"));
    // `gated` sends its first chunk and then nothing, as it is never released.
    let res = start_request(
        proxy.addr,
        "GET",
        "/gated",
        &[("Approov-Token", &t)],
        full(Bytes::new()),
    )
    .await;
    assert_eq!(res.status(), 200);
    let mut body = res.into_body();
    assert_eq!(next_data(&mut body).await, "first-chunk");
    let rest = rest(body).await;
    assert!(rest.is_err(), "{rest:?}");
    let lines = wait_log(&proxy, "the upstream's response body stalled");
    stop_expecting_once(proxy, "the upstream's response body stalled", &t, &lines);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_that_keep_moving_pass_through_the_timeouts() {
    // Both bodies wrapped, chunk by chunk in both directions, nothing lost
    // or held back. (The limits are not the 1 s of the stall tests: this
    // one must not depend on how fast a loaded machine echoes.)
    let upstream = Upstream::start();
    let proxy = proxy_for(
        &upstream,
        &[
            ("CLIENT_BODY_TIMEOUT_SECONDS", "10"),
            ("UPSTREAM_BODY_TIMEOUT_SECONDS", "10"),
        ],
    );
    let t = token(Some("device-t"));
    let (tx, body) = channel_body();
    let res = start_request(proxy.addr, "PUT", "/echo", &[("Approov-Token", &t)], body).await;
    assert_eq!(res.status(), 200);
    let mut body = res.into_body();
    for i in 0..5 {
        let piece = Bytes::from(format!("piece-{i};"));
        tx.send(piece.clone()).await.unwrap();
        assert_eq!(next_data(&mut body).await, piece);
    }
    drop(tx);
    assert!(rest(body).await.unwrap().is_empty());
    let (_, stderr) = tokio::task::block_in_place(|| proxy.stop());
    assert!(!stderr.contains("stalled"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodiless_requests_stay_bodiless_and_lengths_are_kept() {
    // The body timeout must not turn "no body" into a chunked empty body
    // (some upstreams refuse a DELETE with one), nor drop a length.
    let upstream = Upstream::start();
    let proxy = proxy_for(&upstream, &[]);
    let t = token(Some("device-t"));
    for method in ["DELETE", "OPTIONS", "POST", "GET"] {
        let res = tokio::task::block_in_place(|| {
            common::request(proxy.addr, method, "/x", &[("Approov-Token", &t)])
        });
        assert_eq!(res.status, 200, "{method}: {res:?}");
        let seen = upstream.recorded().pop().unwrap();
        assert!(
            seen.headers.get("transfer-encoding").is_none(),
            "{method}: {seen:#?}"
        );
        assert!(seen.body.is_empty());
        // The upstream's Content-Length comes back as it was.
        assert_eq!(res.header("content-length"), Some("11"), "{res:?}");
    }
    let res = tokio::task::block_in_place(|| {
        common::request_with_body(
            proxy.addr,
            "PUT",
            "/x",
            &[("Approov-Token", t.as_bytes())],
            b"12345",
        )
    });
    assert_eq!(res.status, 200, "{res:?}");
    let seen = upstream.recorded().pop().unwrap();
    assert_eq!(seen.header_values("content-length"), ["5"]);
    assert!(seen.headers.get("transfer-encoding").is_none());
    assert_eq!(seen.body, b"12345");
    tokio::task::block_in_place(|| proxy.stop());
}
