//! `approov-proxy` forwarding, against a mock upstream on 127.0.0.1: the
//! key injected (query and header) in place of any the client sent, the
//! token, `Host` and hop-by-hop headers stripped, method, path, query and
//! bodies preserved and streamed both ways (8 MiB, byte-identical); an
//! answer framed both by `Content-Length` and chunked reaches the client
//! whole.
#![allow(clippy::unwrap_used)]

mod common;

use bytes::Bytes;
use common::raw_upstream::RawUpstream;
use common::upstream::{
    Upstream, channel_body, full, get, pattern, rest, send, start_keyed_proxy, start_proxy,
    start_request, token,
};
use common::{Server, request};

/// The key, with characters that need encoding in a query.
const KEY: &str = "nasa-KEY/with+special=chars&more";
const KEY_ENCODED: &str = "nasa-KEY%2Fwith%2Bspecial%3Dchars%26more";

fn query_proxy(upstream: &Upstream) -> Server {
    start_proxy(&[
        ("UPSTREAM_URL", &upstream.url()),
        ("API_KEY", KEY),
        ("API_KEY_QUERY_PARAM", "api_key"),
    ])
}

fn header_proxy(upstream: &Upstream) -> Server {
    start_proxy(&[
        ("UPSTREAM_URL", &upstream.url()),
        ("API_KEY", "header-KEY-1234"),
        ("API_KEY_HEADER", "X-Api-Key"),
    ])
}

/// Stops the proxy; its output must hold no key, token or panic.
fn assert_clean_logs(server: Server, secrets: &[&str]) {
    let (stdout, stderr) = tokio::task::block_in_place(|| server.stop());
    for secret in secrets.iter().chain(&[KEY, KEY_ENCODED, "header-KEY-1234"]) {
        assert!(!stderr.contains(secret), "{secret:?} logged:\n{stderr}");
        assert!(!stdout.contains(secret), "{secret:?} printed:\n{stdout}");
    }
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_key_is_injected_replacing_the_clients() {
    let upstream = Upstream::start();
    let proxy = query_proxy(&upstream);
    let path =
        "/planetary/apod?date=2024-01-01&api_key=client-key&thumbs=true&API_KEY=x&api%5Fkey=y";
    let res = get(proxy.addr, path, Some("device-1"), &[]).await;
    assert_eq!(res.status, 200, "{res:?}");
    assert_eq!(res.text(), r#"{"ok":true}"#);
    let seen = upstream.single();
    assert_eq!(seen.path, "/planetary/apod");
    assert_eq!(
        seen.query.as_deref(),
        Some(format!("date=2024-01-01&thumbs=true&api_key={KEY_ENCODED}").as_str())
    );
    assert!(seen.headers.get("x-api-key").is_none());
    assert_clean_logs(proxy, &[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn header_key_is_injected_replacing_the_clients() {
    let upstream = Upstream::start();
    let proxy = header_proxy(&upstream);
    let t = token(Some("device-1"));
    let headers = [
        ("Approov-Token", t.as_str()),
        ("x-api-key", "client-key-1"),
        ("X-API-KEY", "client-key-2"),
    ];
    let res = send(
        proxy.addr,
        "GET",
        "/v1/thing?api_key=kept",
        &headers,
        full(Bytes::new()),
    )
    .await;
    assert_eq!(res.status, 200, "{res:?}");
    let seen = upstream.single();
    assert_eq!(seen.header_values("x-api-key"), ["header-KEY-1234"]);
    // With header placement the query is the client's, untouched.
    assert_eq!(seen.query.as_deref(), Some("api_key=kept"));
    assert_clean_logs(proxy, &[&t]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_host_and_hop_by_hop_headers_are_not_forwarded() {
    let upstream = Upstream::start();
    let proxy = header_proxy(&upstream);
    let t = token(Some("device-1"));
    let addr = proxy.addr;
    // Raw HTTP/1.1, so that every header reaches the proxy as written.
    let res = tokio::task::block_in_place(|| {
        request(
            addr,
            "GET",
            "/x",
            &[
                ("Approov-Token", &t),
                ("Connection", "X-Hop-A, x-hop-b"),
                ("X-Hop-A", "1"),
                ("X-Hop-B", "2"),
                ("Keep-Alive", "timeout=5"),
                ("Proxy-Connection", "keep-alive"),
                ("TE", "trailers"),
                ("Trailer", "X-Checksum"),
                ("Proxy-Authorization", "Basic dXNlcjpwYXNz"),
                ("Proxy-Authenticate", "Basic"),
                ("Upgrade", "websocket"),
                ("X-End-To-End", "kept"),
                ("Authorization", "Bearer user-session"),
            ],
        )
    });
    assert_eq!(res.status, 200, "{res:?}");
    let seen = upstream.single();
    for name in [
        "approov-token",
        "x-hop-a",
        "x-hop-b",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "proxy-authorization",
        "proxy-authenticate",
        "upgrade",
        "transfer-encoding",
    ] {
        assert!(
            seen.headers.get(name).is_none(),
            "{name} forwarded: {seen:#?}"
        );
    }
    // `Host` names the upstream, not the proxy.
    assert_eq!(seen.header_values("host"), [upstream.addr.to_string()]);
    assert_eq!(seen.header_values("x-end-to-end"), ["kept"]);
    // The client's own credentials stay here too (proxy_credentials.rs).
    assert!(seen.headers.get("authorization").is_none(), "{seen:#?}");
    // And on the way back: the upstream's hop-by-hop headers stop here.
    assert_eq!(res.header("x-upstream"), Some("yes"), "{res:?}");
    for name in ["x-resp-hop", "keep-alive", "proxy-authenticate"] {
        assert!(res.header(name).is_none(), "{name} passed back: {res:?}");
    }
    assert_clean_logs(proxy, &[&t]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn method_path_query_and_body_are_preserved() {
    let upstream = Upstream::start();
    let proxy = query_proxy(&upstream);
    let t = token(Some("device-1"));
    let headers = [
        ("Approov-Token", t.as_str()),
        ("Content-Type", "text/plain"),
    ];
    for (i, method) in ["POST", "PUT", "PATCH", "DELETE", "GET"].iter().enumerate() {
        let body = format!("body of {method} é");
        let path = format!("/v1/items/{i}/sub%20dir/?b=2&a=%C3%A9+x&flag");
        let res = send(proxy.addr, method, &path, &headers, full(body.clone())).await;
        assert_eq!(res.status, 200, "{method}: {res:?}");
        let seen = upstream.recorded().pop().unwrap();
        assert_eq!(seen.method.as_str(), *method);
        assert_eq!(seen.path, format!("/v1/items/{i}/sub%20dir/"));
        assert_eq!(
            seen.query.as_deref(),
            Some(format!("b=2&a=%C3%A9+x&flag&api_key={KEY_ENCODED}").as_str())
        );
        assert_eq!(seen.body, body.as_bytes());
        assert_eq!(seen.header_values("content-type"), ["text/plain"]);
    }
    assert_eq!(upstream.recorded().len(), 5);
    assert_clean_logs(proxy, &[&t]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_megabyte_bodies_are_byte_identical_both_ways() {
    const SIZE: usize = 8 * 1024 * 1024 + 7;
    let upstream = Upstream::start();
    let proxy = header_proxy(&upstream);
    let t = token(Some("device-1"));
    let headers = [("Approov-Token", t.as_str())];
    let data = pattern(SIZE);

    // Up: the upstream records what it read.
    let res = send(proxy.addr, "POST", "/upload", &headers, full(data.clone())).await;
    assert_eq!(res.status, 200, "{res:?}");
    let seen = upstream.single();
    assert_eq!(seen.body.len(), SIZE);
    assert!(seen.body == data, "upload altered");

    // Down: the upstream streams it.
    let res = send(
        proxy.addr,
        "GET",
        &format!("/big/{SIZE}"),
        &headers,
        full(Bytes::new()),
    )
    .await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body.len(), SIZE);
    assert!(res.body == data, "download altered");

    // Both at once: the upstream echoes the upload as it arrives.
    let res = send(proxy.addr, "PUT", "/echo", &headers, full(data.clone())).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body.len(), SIZE);
    assert!(res.body == data, "echo altered");
    assert_clean_logs(proxy, &[&t]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_are_streamed_not_buffered() {
    let upstream = Upstream::start();
    let proxy = header_proxy(&upstream);
    let t = token(Some("device-1"));
    let headers = [("Approov-Token", t.as_str())];

    // Down: the first chunk reaches the client while the upstream is still
    // holding back the second, which a buffering proxy could not do.
    let res = start_request(proxy.addr, "GET", "/gated", &headers, full(Bytes::new())).await;
    assert_eq!(res.status(), 200);
    let mut body = res.into_body();
    assert_eq!(common::upstream::next_data(&mut body).await, "first-chunk");
    upstream.release();
    let rest = common::upstream::rest(body).await.unwrap();
    assert_eq!(rest, "second-chunk");

    // Up: the upstream gets the first chunk before the client has sent the
    // second.
    let (tx, body) = channel_body();
    let addr = proxy.addr;
    let headers_owned = [("Approov-Token".to_owned(), t.clone())];
    let pending = tokio::spawn(async move {
        let headers: Vec<(&str, &str)> = headers_owned
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        send(addr, "POST", "/upload-gated", &headers, body).await
    });
    tx.send(Bytes::from_static(b"part-one;")).await.unwrap();
    upstream.first_chunk().await;
    tx.send(Bytes::from_static(b"part-two")).await.unwrap();
    drop(tx);
    let res = pending.await.unwrap();
    assert_eq!(res.status, 200, "{res:?}");
    assert_eq!(res.text(), "uploaded");
    let uploads: Vec<_> = upstream
        .recorded()
        .into_iter()
        .filter(|r| r.path == "/upload-gated")
        .collect();
    assert_eq!(uploads.len(), 1);
    assert_eq!(uploads[0].body, b"part-one;part-two");
    assert_clean_logs(proxy, &[&t]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_is_open_and_never_forwarded() {
    let upstream = Upstream::start();
    let proxy = query_proxy(&upstream);
    let res = send(proxy.addr, "GET", "/health", &[], full(Bytes::new())).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.text(), r#"{"status":"ok"}"#);
    assert_eq!(res.headers["content-type"], "application/json");
    assert!(upstream.recorded().is_empty());
    assert_clean_logs(proxy, &[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_key_never_comes_back_in_response_headers() {
    let upstream = Upstream::start();
    for proxy in [query_proxy(&upstream), header_proxy(&upstream)] {
        let res = get(proxy.addr, "/a/echo-key?x=1", Some("device-1"), &[]).await;
        assert_eq!(res.status, 301, "{res:?}");
        let location = res.headers["location"].to_str().unwrap().to_owned();
        let received = res.headers["x-received-key"].to_str().unwrap().to_owned();
        for text in [&location, &received] {
            assert!(!text.contains("KEY"), "{text}");
        }
        assert!(
            location.starts_with("https://elsewhere.example/a/echo-key?x=1"),
            "{location}"
        );
        assert_clean_logs(proxy, &[]);
    }
}

/// RFC 9112 §6.3: when an upstream sends both `Transfer-Encoding: chunked`
/// and `Content-Length`, the chunked framing wins. The client gets the
/// whole body, whether the stale length is shorter or longer than it,
/// never the first `Content-Length` bytes and a closed connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunked_answer_with_a_content_length_reaches_the_client_whole() {
    const BODY: &str = "the whole body, in three chunks, not a prefix of it";
    // `/<n>` answers with `Content-Length: <n>` beside the chunks.
    let upstream = RawUpstream::start(|path| {
        let length = path.trim_start_matches('/');
        let mut answer = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {length}\r\n\
             transfer-encoding: chunked\r\nconnection: close\r\n\r\n"
        );
        for chunk in [&BODY[..10], &BODY[10..30], &BODY[30..]] {
            answer.push_str(&format!("{:x}\r\n{chunk}\r\n", chunk.len()));
        }
        answer.push_str("0\r\n\r\n");
        answer.into_bytes()
    });
    let proxy = start_keyed_proxy(
        &upstream.url(),
        "header-KEY-1234",
        ("API_KEY_HEADER", "X-Api-Key"),
        &[],
    );
    let token = token(Some("framing-did=="));
    for length in [5, BODY.len() + 100] {
        let path = format!("/{length}");
        let response = start_request(
            proxy.addr,
            "GET",
            &path,
            &[("Approov-Token", &token)],
            full(Bytes::new()),
        )
        .await;
        let (head, body) = response.into_parts();
        assert_eq!(head.status, 200, "{head:?}");
        let body = rest(body).await;
        assert_eq!(
            body.as_deref().map(String::from_utf8_lossy).ok(),
            Some(BODY.into()),
            "Content-Length {length}: {body:?}"
        );
        let stale = head
            .headers
            .get("content-length")
            .is_some_and(|v| v.as_bytes() != BODY.len().to_string().as_bytes());
        assert!(!stale, "the upstream's length kept: {head:?}");
    }
    assert_clean_logs(proxy, &[&token]);
}
