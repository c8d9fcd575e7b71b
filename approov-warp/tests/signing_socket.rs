//! Message signing behind warp's own HTTP/1.1 server on 127.0.0.1: signed
//! bodies sent with `Content-Length` or chunked reach the handler exactly,
//! and a body over the limit is answered 413 whether announced or found
//! while reading, without the client having to send it all.
#![allow(clippy::unwrap_used)]

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use approov_core::mint::{InstallKey, SignedRequest};
use approov_core::signing::MessageSigning;
use approov_warp::ApproovClaims;
use bytes::Bytes;
use common::signing::*;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use warp::Filter;

/// Bound on every network step, so a hang fails the test instead of CI.
const LIMIT: Duration = Duration::from_secs(10);
const MAX_BODY: usize = 4096;

/// The request head of `signed`, without the blank line.
fn head(signed: &SignedRequest, extra: &str) -> Vec<u8> {
    let mut head = format!("{} {} HTTP/1.1\r\n", signed.method, signed.path_and_query);
    for (name, value) in &signed.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("Connection: close\r\n");
    head.push_str(extra);
    head.into_bytes()
}

/// Sends `request` and reads the whole response.
async fn exchange(addr: SocketAddr, request: &[u8]) -> String {
    let mut stream = tokio::time::timeout(LIMIT, TcpStream::connect(addr))
        .await
        .expect("connect in time")
        .expect("connect");
    stream.write_all(request).await.expect("write");
    let mut response = Vec::new();
    tokio::time::timeout(LIMIT, stream.read_to_end(&mut response))
        .await
        .expect("response in time")
        .expect("read");
    String::from_utf8_lossy(&response).into_owned()
}

fn status(response: &str) -> &str {
    response.split(' ').nth(1).unwrap_or("none")
}

fn body(response: &str) -> &str {
    response.split_once("\r\n\r\n").map_or("", |(_, b)| b)
}

fn with_length(signed: &SignedRequest) -> Vec<u8> {
    let body = signed.body.clone().unwrap_or_default();
    let mut req = head(signed, &format!("Content-Length: {}\r\n\r\n", body.len()));
    req.extend_from_slice(&body);
    req
}

fn chunked(signed: &SignedRequest, chunk: usize) -> Vec<u8> {
    let mut req = head(signed, "Transfer-Encoding: chunked\r\n\r\n");
    for piece in signed.body.as_deref().unwrap_or_default().chunks(chunk) {
        req.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        req.extend_from_slice(piece);
        req.extend_from_slice(b"\r\n");
    }
    req.extend_from_slice(b"0\r\n\r\n");
    req
}

#[tokio::test]
async fn over_a_real_socket() {
    let approov = approov_with(MessageSigning::builder().max_body_len(MAX_BODY));
    let routes = warp::path!("shapes")
        .and(warp::post())
        .and(approov.signed_claims())
        .map(|_: ApproovClaims, body: Bytes| warp::http::Response::new(body))
        .recover(approov_warp::recover);
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(
        warp::serve(routes)
            .incoming(listener)
            .graceful(async {
                let _ = stopped.await;
            })
            .run(),
    );

    let key = InstallKey::generate().unwrap();
    let sign = |body: &[u8]| {
        post(&token_for(&key))
            .body(body)
            .sign_install(&key)
            .finish()
            .unwrap()
    };
    let text: Vec<u8> = (0..MAX_BODY).map(|i| b'a' + (i % 26) as u8).collect();

    let ok = exchange(addr, &with_length(&sign(&text))).await;
    assert_eq!(status(&ok), "200", "{ok}");
    assert_eq!(body(&ok).as_bytes(), &text[..]);
    let ok = exchange(addr, &chunked(&sign(&text), 1000)).await;
    assert_eq!(status(&ok), "200", "{ok}");
    assert_eq!(body(&ok).as_bytes(), &text[..]);

    let tampered = {
        let mut signed = sign(&text);
        signed.body = Some(text.iter().rev().copied().collect());
        exchange(addr, &with_length(&signed)).await
    };
    assert_eq!(status(&tampered), "401", "{tampered}");
    assert_eq!(body(&tampered), "{}");

    let over: Vec<u8> = [text.as_slice(), b"!"].concat();
    let chunked_over = exchange(addr, &chunked(&sign(&over), 1000)).await;
    assert_eq!(status(&chunked_over), "413", "{chunked_over}");
    assert_eq!(body(&chunked_over), "{}");
    assert!(
        chunked_over
            .to_ascii_lowercase()
            .contains("\r\ncontent-type: application/json\r\n"),
        "{chunked_over}"
    );
    // Announced too large: answered from the head alone (the client sends
    // no body and still gets its answer in time).
    let announced = head(&sign(&over), "Content-Length: 1000000000\r\n\r\n");
    let announced = exchange(addr, &announced).await;
    assert_eq!(status(&announced), "413", "{announced}");

    stop.send(()).expect("server still running");
    tokio::time::timeout(LIMIT, server)
        .await
        .expect("server stops in time")
        .expect("server task");
}
