//! Message signing in a real `HttpServer` on 127.0.0.1, spoken to over raw
//! TCP: signed bodies sent whole and chunked reach the handler byte for
//! byte, an announced or streamed body over the limit gets 413 without
//! the server waiting for it, and unsigned or altered requests get 401.
//! The token and signatures are checked before the body is read: a refused
//! request is answered at once, with its announced body still unsent and
//! the connection open, and a body that stalls gets 408 at the deadline.

mod common;

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpServer, web};
use approov_actix::ApproovMiddleware;
use approov_core::mint::{InstallKey, SignedRequest};
use approov_core::signing::{MessageSigning, SignaturePolicy};
use common::signed::*;
use common::*;

/// The body limit of the server.
const LIMIT: usize = 32 * 1024;

/// A raw response: status, lower-cased header block, body bytes.
#[derive(Debug)]
struct Raw {
    status: u16,
    head: String,
    body: Vec<u8>,
}

impl Raw {
    fn has(&self, line: &str) -> bool {
        self.head.contains(&format!("\r\n{line}"))
    }
}

/// Writes `head` (request line and headers, without the blank line), then
/// `body`, and reads one response. The response is read up to its
/// `Content-Length`, not to the end of the stream: after refusing a body
/// it has not read, actix lingers before closing.
fn exchange(addr: SocketAddr, head: &str, body: &[u8]) -> Raw {
    exchange_open(addr, &format!("{head}Connection: close\r\n"), body).0
}

/// Writes `head` (without the blank line), then `sent`, which may be only
/// part of the body the head announces, and reads one response while the
/// connection stays open and the client sends nothing more. Also returns
/// how long the response took after the last byte was written.
fn exchange_open(addr: SocketAddr, head: &str, sent: &[u8]) -> (Raw, Duration) {
    let timeout = Some(Duration::from_secs(10));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(10)).expect("connect");
    stream.set_read_timeout(timeout).expect("read timeout");
    stream.set_write_timeout(timeout).expect("write timeout");
    stream
        .write_all(format!("{head}\r\n").as_bytes())
        .expect("write the head");
    stream.write_all(sent).expect("write the body");
    let written = Instant::now();
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    let mut read_more = |raw: &mut Vec<u8>| {
        let n = stream.read(&mut buf).expect("read the response");
        assert!(n > 0, "the connection closed mid-response: {raw:?}");
        raw.extend_from_slice(&buf[..n]);
    };
    let split = loop {
        if let Some(at) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        read_more(&mut raw);
    };
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let length: usize = head
        .split("\r\n")
        .find_map(|line| line.strip_prefix("content-length: "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no content-length in {head}"));
    while raw.len() < split + 4 + length {
        read_more(&mut raw);
    }
    let elapsed = written.elapsed();
    let raw = Raw {
        status,
        head,
        body: raw[split + 4..split + 4 + length].to_vec(),
    };
    (raw, elapsed)
}

/// A one-worker server on 127.0.0.1 with a middleware around
/// [`echo_body`] on every path.
struct Server {
    addr: SocketAddr,
    handle: ServerHandle,
    running: actix_web::rt::task::JoinHandle<std::io::Result<()>>,
}

impl Server {
    fn start(middleware: ApproovMiddleware) -> Self {
        let server = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(Calls::default()))
                .wrap(middleware.clone())
                .default_service(web::to(echo_body))
        })
        .workers(1)
        .disable_signals()
        .shutdown_timeout(1)
        .bind(("127.0.0.1", 0))
        .expect("bind 127.0.0.1:0");
        let addr = server.addrs()[0];
        let server = server.run();
        let handle = server.handle();
        let running = actix_web::rt::spawn(server);
        Self {
            addr,
            handle,
            running,
        }
    }

    async fn stop(self) {
        self.handle.stop(true).await;
        self.running
            .await
            .expect("server task")
            .expect("server ran");
    }
}

/// The request line and headers of `req`, minus `Content-Length` (the
/// caller frames the body).
fn head(req: &SignedRequest) -> String {
    let mut head = format!("{} {} HTTP/1.1\r\n", req.method, req.path_and_query);
    for (name, value) in &req.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head
}

fn chunked(body: &[u8], size: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for chunk in body.chunks(size) {
        out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        out.extend_from_slice(chunk);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

fn signed(addr: SocketAddr, key: &InstallKey, body: &[u8]) -> SignedRequest {
    signed_by(addr, key, key, body)
}

/// A POST of `body` to `/echo` with a token carrying `token_key`, signed
/// with `signing_key`.
fn signed_by(
    addr: SocketAddr,
    token_key: &InstallKey,
    signing_key: &InstallKey,
    body: &[u8],
) -> SignedRequest {
    approov_core::mint::RequestSigner::new("POST", &format!("http://{addr}/echo"))
        .expect("signer")
        .header("Approov-Token", &install_token(token_key))
        .body(body)
        .created(CREATED)
        .sign_install(signing_key)
        .finish()
        .expect("signed")
}

#[actix_web::test]
async fn over_a_socket_signed_bodies_pass_and_oversized_ones_get_413() {
    let middleware = signed_middleware(
        MessageSigning::builder()
            .policy(SignaturePolicy::Always)
            .max_body_len(LIMIT),
    );
    let server = Server::start(middleware);
    let addr = server.addr;

    let results = actix_web::rt::task::spawn_blocking(move || {
        let key = InstallKey::generate().expect("key");
        let body: Vec<u8> = (0..20_000).map(|i| (i % 251) as u8).collect();
        let req = signed(addr, &key, &body);
        let sized = format!("{}Content-Length: {}\r\n", head(&req), body.len());
        let chunked_head = format!("{}Transfer-Encoding: chunked\r\n", head(&req));
        let big = vec![b'x'; LIMIT + 1];
        let big_req = signed(addr, &key, &big);
        let mut altered = body.clone();
        altered[10_000] ^= 1;
        let unsigned = format!(
            "POST /echo HTTP/1.1\r\nHost: {addr}\r\nApproov-Token: {}\r\nContent-Length: 2\r\n",
            install_token(&key)
        );
        vec![
            ("sized", exchange(addr, &sized, &body), body.clone()),
            (
                "chunked",
                exchange(addr, &chunked_head, &chunked(&body, 3000)),
                body.clone(),
            ),
            // Announced, never sent: answered without waiting for it (the
            // client would send it; holding it back shows it is not read).
            (
                "announced",
                exchange(
                    addr,
                    &format!("{}Content-Length: {}\r\n", head(&big_req), big.len()),
                    b"",
                ),
                Vec::new(),
            ),
            (
                "streamed",
                exchange(
                    addr,
                    &format!("{}Transfer-Encoding: chunked\r\n", head(&big_req)),
                    &chunked(&big, 4096),
                ),
                Vec::new(),
            ),
            ("altered", exchange(addr, &sized, &altered), Vec::new()),
            ("unsigned", exchange(addr, &unsigned, b"{}"), Vec::new()),
        ]
    })
    .await
    .expect("client thread");
    server.stop().await;

    let expect = [
        ("sized", 200, ""),
        ("chunked", 200, ""),
        ("announced", 413, ""),
        ("streamed", 413, ""),
        ("altered", 401, "digest_mismatch"),
        ("unsigned", 401, "signature_missing"),
    ];
    for ((name, raw, sent), (want_name, want_status, want_reason)) in results.iter().zip(expect) {
        assert_eq!(
            (*name, raw.status),
            (want_name, want_status),
            "{}",
            raw.head
        );
        match want_status {
            200 => {
                assert!(raw.body == *sent, "{name}: the handler got other bytes");
                assert!(
                    raw.has(&format!("{OUTCOME}: verified")),
                    "{name}: {}",
                    raw.head
                );
            }
            _ => {
                assert_eq!(raw.body, b"{}", "{name}");
                assert!(
                    raw.has("content-type: application/json"),
                    "{name}: {}",
                    raw.head
                );
                if want_status == 401 {
                    assert!(
                        raw.has(&format!("{REASON_HEADER}: {want_reason}")),
                        "{name}: {}",
                        raw.head
                    );
                    assert!(raw.has("www-authenticate: approov"), "{name}: {}", raw.head);
                }
            }
        }
    }
}

/// The body limit of [`patient`]: larger than the bodies announced by the
/// requests refused before their body.
const BIG_LIMIT: usize = 1024 * 1024;
/// The body read deadline of [`patient`].
const READ_TIMEOUT: Duration = Duration::from_millis(300);
/// How soon a response the server need not wait for must arrive.
const PROMPTLY: Duration = Duration::from_secs(5);

/// Message signing with a 1 MiB body limit and a 300 ms read deadline.
fn patient() -> ApproovMiddleware {
    signed_middleware(
        MessageSigning::builder()
            .policy(SignaturePolicy::Always)
            .max_body_len(BIG_LIMIT)
            .body_read_timeout(READ_TIMEOUT),
    )
}

/// Asserts the middleware's own `{}` answer with `status`, not a rejection.
#[track_caller]
fn assert_body_refused(name: &str, raw: &Raw, status: u16) {
    assert_eq!(raw.status, status, "{name}: {}", raw.head);
    assert_eq!(raw.body, b"{}", "{name}: {}", raw.head);
    assert!(
        raw.has("content-type: application/json"),
        "{name}: {}",
        raw.head
    );
    assert!(!raw.has("www-authenticate"), "{name}: {}", raw.head);
    assert!(!raw.has(REASON_HEADER), "{name}: {}", raw.head);
}

#[actix_web::test]
async fn a_refused_request_is_answered_before_its_announced_body_arrives() {
    let server = Server::start(patient());
    let addr = server.addr;
    let results = actix_web::rt::task::spawn_blocking(move || {
        let key = InstallKey::generate().expect("key");
        let other = InstallKey::generate().expect("key");
        let sent = vec![b'x'; 1024];
        let mut no_token = signed(addr, &key, &sent);
        no_token
            .headers
            .retain(|(name, _)| !name.eq_ignore_ascii_case("approov-token"));
        let bad_signature = signed_by(addr, &key, &other, &sent);
        // A large body announced, 1 KB of it sent, then nothing: the
        // connection stays open, the rest never comes.
        let announce = |req: &SignedRequest, len: usize| {
            exchange_open(
                addr,
                &format!("{}Content-Length: {len}\r\n", head(req)),
                &sent,
            )
        };
        vec![
            ("no token", announce(&no_token, 900_000), "missing"),
            (
                "bad signature",
                announce(&bad_signature, 900_000),
                "signature_invalid",
            ),
            // Over the limit too: the token is checked first.
            (
                "no token, over the limit",
                announce(&no_token, 2 * BIG_LIMIT),
                "missing",
            ),
        ]
    })
    .await
    .expect("client thread");
    server.stop().await;

    for (name, (raw, elapsed), reason) in results {
        assert_eq!(raw.status, 401, "{name}: {}", raw.head);
        assert!(
            raw.has(&format!("{REASON_HEADER}: {reason}")),
            "{name}: {}",
            raw.head
        );
        assert!(raw.has("www-authenticate: approov"), "{name}: {}", raw.head);
        assert_eq!(raw.body, b"{}", "{name}");
        assert!(elapsed < PROMPTLY, "{name}: answered after {elapsed:?}");
    }
}

#[actix_web::test]
async fn a_signed_body_that_stalls_is_408_at_the_read_deadline() {
    let server = Server::start(patient());
    let addr = server.addr;
    let results = actix_web::rt::task::spawn_blocking(move || {
        let key = InstallKey::generate().expect("key");
        let body: Vec<u8> = (0..2000).map(|i| (i % 251) as u8).collect();
        let req = signed(addr, &key, &body);
        let sized = format!("{}Content-Length: {}\r\n", head(&req), body.len());
        let chunked_head = format!("{}Transfer-Encoding: chunked\r\n", head(&req));
        // The first of two 1000-byte chunks ("3e8\r\n", the bytes, "\r\n").
        let first_chunk = &chunked(&body, 1000)[..5 + 1000 + 2];
        vec![
            ("sized", exchange_open(addr, &sized, &body[..1000])),
            ("chunked", exchange_open(addr, &chunked_head, first_chunk)),
        ]
    })
    .await
    .expect("client thread");
    server.stop().await;

    for (name, (raw, elapsed)) in results {
        assert_body_refused(name, &raw, 408);
        // The deadline fired, not something sooner; the upper margin is
        // generous (the client's read timeout is 10 s anyway).
        assert!(
            elapsed >= READ_TIMEOUT / 2 && elapsed < Duration::from_secs(10),
            "{name}: answered after {elapsed:?}"
        );
    }
}

#[actix_web::test]
async fn a_signed_request_announcing_too_long_a_body_is_413_unsent() {
    let server = Server::start(patient());
    let addr = server.addr;
    let (raw, elapsed) = actix_web::rt::task::spawn_blocking(move || {
        let key = InstallKey::generate().expect("key");
        let req = signed(addr, &key, b"{}");
        let big = format!("{}Content-Length: {}\r\n", head(&req), BIG_LIMIT + 1);
        exchange_open(addr, &big, b"")
    })
    .await
    .expect("client thread");
    server.stop().await;

    assert_body_refused("announced", &raw, 413);
    assert!(elapsed < PROMPTLY, "answered after {elapsed:?}");
}
