//! `approov-proxy` and the client's own credentials: `Cookie`,
//! `Authorization`, `Proxy-Authorization`, `Signature` and
//! `Signature-Input` stay with the proxy unless the route names them, and
//! the key header is always the proxy's, even when the client sends one
//! that the route lets through.
#![allow(clippy::unwrap_used)]

mod common;

use bytes::Bytes;
use common::Server;
use common::upstream::{Recorded, Upstream, full, send, start_keyed_proxy, token};

const KEY: &str = "credentials-KEY-never-shown";

const CREDENTIALS: [(&str, &str); 6] = [
    ("Cookie", "session=user-cookie"),
    ("Authorization", "Bearer user-session"),
    ("Proxy-Authorization", "Basic dXNlcjpwYXNz"),
    ("Signature", "install=:c2lnbmF0dXJl:"),
    ("Signature-Input", "install=(\"@method\");created=1"),
    ("X-Other", "kept"),
];

fn proxy_for(upstream: &Upstream, key_header: &str, extra: &[(&str, &str)]) -> Server {
    start_keyed_proxy(&upstream.url(), KEY, ("API_KEY_HEADER", key_header), extra)
}

/// Sends the credentials (and `extra`) with a valid token; returns what
/// the upstream received.
async fn forwarded(proxy: &Server, upstream: &Upstream, extra: &[(&str, &str)]) -> Recorded {
    let t = token(Some("device-c"));
    let mut headers = vec![("Approov-Token", t.as_str())];
    headers.extend_from_slice(&CREDENTIALS);
    headers.extend_from_slice(extra);
    let before = upstream.recorded().len();
    let res = send(proxy.addr, "GET", "/x", &headers, full(Bytes::new())).await;
    assert_eq!(res.status, 200, "{res:?}");
    let recorded = upstream.recorded();
    assert_eq!(recorded.len(), before + 1);
    recorded.into_iter().last().unwrap()
}

fn stop(proxy: Server) {
    let (_, stderr) = tokio::task::block_in_place(|| proxy.stop());
    assert!(!stderr.contains(KEY), "key logged:\n{stderr}");
    for (_, value) in CREDENTIALS {
        assert!(!stderr.contains(value), "{value} logged:\n{stderr}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_credentials_are_not_forwarded_by_default() {
    let upstream = Upstream::start();
    let proxy = proxy_for(&upstream, "X-Api-Key", &[]);
    let seen = forwarded(&proxy, &upstream, &[]).await;
    for name in [
        "cookie",
        "authorization",
        "proxy-authorization",
        "signature",
        "signature-input",
    ] {
        assert!(seen.headers.get(name).is_none(), "{name}: {seen:#?}");
    }
    assert_eq!(seen.header_values("x-other"), ["kept"]);
    assert_eq!(seen.header_values("x-api-key"), [KEY]);
    stop(proxy);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forward_client_headers_lets_the_named_ones_through() {
    let upstream = Upstream::start();
    let proxy = proxy_for(
        &upstream,
        "X-Api-Key",
        &[("FORWARD_CLIENT_HEADERS", "authorization, Cookie")],
    );
    let seen = forwarded(&proxy, &upstream, &[]).await;
    assert_eq!(seen.header_values("authorization"), ["Bearer user-session"]);
    assert_eq!(seen.header_values("cookie"), ["session=user-cookie"]);
    for name in ["proxy-authorization", "signature", "signature-input"] {
        assert!(seen.headers.get(name).is_none(), "{name}: {seen:#?}");
    }
    assert_eq!(seen.header_values("x-api-key"), [KEY]);
    stop(proxy);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_key_header_is_always_the_proxys_even_when_let_through() {
    let upstream = Upstream::start();
    // The key goes in Authorization, and the route lets the client's
    // Authorization through: the client's value must still not reach the
    // upstream.
    let proxy = proxy_for(
        &upstream,
        "Authorization",
        &[(
            "FORWARD_CLIENT_HEADERS",
            "Authorization,Signature,Signature-Input",
        )],
    );
    let seen = forwarded(
        &proxy,
        &upstream,
        &[("authorization", "Bearer second-client-value")],
    )
    .await;
    assert_eq!(seen.header_values("authorization"), [KEY]);
    assert_eq!(seen.header_values("signature"), ["install=:c2lnbmF0dXJl:"]);
    assert_eq!(seen.header_values("signature-input").len(), 1);
    assert!(seen.headers.get("cookie").is_none());
    assert!(seen.headers.get("proxy-authorization").is_none());
    stop(proxy);
}
