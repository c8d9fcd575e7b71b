//! The middleware in a real `HttpServer` on 127.0.0.1, spoken to over raw
//! TCP, so header bytes reach actix exactly as a client sent them.

mod common;

use actix_web::{App, HttpServer, web};
use approov_actix::ApproovMiddleware;
use common::*;
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// One HTTP/1.1 request with these extra header lines (raw bytes), on its
/// own connection; returns the status, the header block and the body.
fn exchange(addr: SocketAddr, extra_headers: &[u8]) -> (u16, String, String) {
    let timeout = Some(Duration::from_secs(10));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(10)).expect("connect");
    stream.set_read_timeout(timeout).expect("read timeout");
    stream.set_write_timeout(timeout).expect("write timeout");
    let mut request = b"GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n".to_vec();
    request.extend_from_slice(extra_headers);
    request.extend_from_slice(b"\r\n");
    stream.write_all(&request).expect("write");
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .expect("read the whole response");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").expect("a header block");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    (status, head.to_ascii_lowercase(), body.to_owned())
}

#[actix_web::test]
async fn over_a_socket_tokens_are_checked_and_bad_bytes_get_401() {
    // The real clock here: the server's workers run on their own threads.
    let verifier = approov_core::Verifier::builder()
        .secret_base64(SECRET)
        .build()
        .expect("verifier");
    let token = approov_core::mint::TokenBuilder::approov_example()
        .sign_hs256_base64(SECRET)
        .expect("sign");
    let server = HttpServer::new(move || {
        App::new()
            .wrap(with_reason(ApproovMiddleware::new(verifier.clone())))
            .default_service(web::to(echo_outcome))
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
        let good = format!("Approov-Token: {token}\r\n");
        let repeated = format!("Approov-Token: {token}\r\napproov-token: {token}\r\n");
        let obs_text = [
            b"Approov-Token: ".as_slice(),
            token.as_bytes(),
            b"\xff\xfe\r\n",
        ]
        .concat();
        vec![
            ("good", exchange(addr, good.as_bytes())),
            ("none", exchange(addr, b"")),
            ("repeated", exchange(addr, repeated.as_bytes())),
            ("obs-text", exchange(addr, &obs_text)),
            ("latin-1", exchange(addr, b"Approov-Token: caf\xe9.x.y\r\n")),
        ]
    })
    .await
    .expect("client thread");
    handle.stop(true).await;
    running.await.expect("server task").expect("server ran");

    let expect = [
        ("good", 200, ""),
        ("none", 401, "missing"),
        ("repeated", 401, "multiple"),
        ("obs-text", 401, "malformed"),
        ("latin-1", 401, "malformed"),
    ];
    for ((name, (status, head, body)), (want_name, want_status, want_reason)) in
        results.iter().zip(expect)
    {
        assert_eq!((*name, *status), (want_name, want_status), "{head}\n{body}");
        if want_status == 200 {
            assert_eq!(body, "verified ExampleApproovTokenDID==");
        } else {
            assert_eq!(body, "{}", "{name}");
            assert!(
                head.contains("\r\nwww-authenticate: approov"),
                "{name}: {head}"
            );
            assert!(
                head.contains("\r\ncontent-type: application/json"),
                "{name}: {head}"
            );
            assert!(
                head.contains(&format!("\r\n{REASON_HEADER}: {want_reason}")),
                "{name}: {head}"
            );
        }
    }
}
