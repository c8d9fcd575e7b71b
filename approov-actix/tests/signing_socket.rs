//! Message signing in a real `HttpServer` on 127.0.0.1, spoken to over raw
//! TCP: signed bodies sent whole and chunked reach the handler byte for
//! byte, an announced or streamed body over the limit gets 413 without
//! the server waiting for it, and unsigned or altered requests get 401.

mod common;

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use actix_web::{App, HttpServer, web};
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
    let timeout = Some(Duration::from_secs(10));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(10)).expect("connect");
    stream.set_read_timeout(timeout).expect("read timeout");
    stream.set_write_timeout(timeout).expect("write timeout");
    stream
        .write_all(format!("{head}Connection: close\r\n\r\n").as_bytes())
        .expect("write the head");
    stream.write_all(body).expect("write the body");
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
    Raw {
        status,
        head,
        body: raw[split + 4..split + 4 + length].to_vec(),
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
    approov_core::mint::RequestSigner::new("POST", &format!("http://{addr}/echo"))
        .expect("signer")
        .header("Approov-Token", &install_token(key))
        .body(body)
        .created(CREATED)
        .sign_install(key)
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
    handle.stop(true).await;
    running.await.expect("server task").expect("server ran");

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
                        raw.has(&format!("{REASON}: {want_reason}")),
                        "{name}: {}",
                        raw.head
                    );
                    assert!(raw.has("www-authenticate: approov"), "{name}: {}", raw.head);
                }
            }
        }
    }
}
