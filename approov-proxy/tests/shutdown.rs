//! Graceful shutdown over real sockets: on SIGTERM the proxy stops
//! accepting, lets a request in flight finish, and exits 0; a request that
//! outlives `DRAIN_TIMEOUT_SECONDS` is cut off and the proxy exits 0 all
//! the same.
#![cfg(unix)]
#![allow(clippy::unwrap_used)]

mod common;

use std::net::TcpStream;
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::upstream::{
    REQUEST_LIMIT, Upstream, full, next_data, rest, start_proxy, start_request, token,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_in_flight_finishes_after_sigterm_and_new_connections_are_refused() {
    let upstream = Upstream::start();
    let proxy = start_proxy(&[
        ("UPSTREAM_URL", &upstream.url()),
        ("API_KEY", "drain-test-key"),
        ("API_KEY_HEADER", "X-Api-Key"),
        ("DRAIN_TIMEOUT_SECONDS", "60"),
    ]);
    let t = token(Some("device"));
    let headers = [("Approov-Token", t.as_str())];
    // The upstream sends its first chunk, then waits for `release`.
    let response = start_request(proxy.addr, "GET", "/gated", &headers, full(Bytes::new())).await;
    assert_eq!(response.status(), 200);
    let mut body = response.into_body();
    assert_eq!(next_data(&mut body).await, "first-chunk");

    proxy.send_term();
    tokio::task::block_in_place(|| {
        proxy.stderr_until(|line| line.contains("shutting down"));
    });
    // The listener is closed: a new client is refused, not queued.
    let refused = TcpStream::connect_timeout(&proxy.addr, Duration::from_secs(5));
    assert!(
        refused.is_err(),
        "a new connection was accepted after SIGTERM"
    );

    // The request in flight is still served to its end.
    upstream.release();
    assert_eq!(rest(body).await.unwrap(), "second-chunk");
    let (status, stderr) = tokio::task::block_in_place(|| proxy.wait_exit());
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("every request in flight finished"),
        "{stderr}"
    );
    assert!(!stderr.contains("drain-test-key"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_outliving_the_drain_timeout_is_cut_off_and_the_proxy_exits_0() {
    let upstream = Upstream::start();
    let proxy = start_proxy(&[
        ("UPSTREAM_URL", &upstream.url()),
        ("API_KEY", "drain-test-key"),
        ("API_KEY_HEADER", "X-Api-Key"),
        ("DRAIN_TIMEOUT_SECONDS", "1"),
    ]);
    let t = token(Some("device"));
    let addr = proxy.addr;
    // `/slow` never answers.
    let in_flight = tokio::spawn(async move {
        let headers = [("Approov-Token", t.as_str())];
        let client: hyper_util::client::legacy::Client<_, http_body_util::Full<Bytes>> =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build_http();
        let mut request = http::Request::get(format!("http://{addr}/slow"));
        for (name, value) in headers {
            request = request.header(name, value);
        }
        client
            .request(request.body(Default::default()).unwrap())
            .await
    });
    upstream.wait_recorded(1).await;
    let asked = Instant::now();
    proxy.send_term();
    let (status, stderr) = tokio::task::block_in_place(|| proxy.wait_exit());
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("cut off"), "{stderr}");
    // One second of drain, with a generous margin for a busy machine.
    assert!(
        asked.elapsed() < Duration::from_secs(30),
        "{:?}",
        asked.elapsed()
    );
    let answer = tokio::time::timeout(REQUEST_LIMIT, in_flight)
        .await
        .unwrap()
        .unwrap();
    assert!(
        answer.is_err(),
        "the cut-off request got an answer: {answer:?}"
    );
}
