//! Message signing behind warp's own HTTP/1.1 server on 127.0.0.1: signed
//! bodies sent with `Content-Length` or chunked reach the handler exactly,
//! and a body over the limit is answered 413 whether announced or found
//! while reading, without the client having to send it all. A refused
//! token or signature is answered before the body is read, however much
//! body is announced and however little sent; a body that stalls is
//! answered 408 once the read deadline passes.
#![allow(clippy::unwrap_used)]

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use approov_core::mint::{InstallKey, SignedRequest};
use approov_core::signing::MessageSigning;
use approov_warp::{ApproovClaims, ApproovFilter, ApproovOutcome};
use bytes::Bytes;
use common::signing::*;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use warp::{Filter, Reply};

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

/// Connects and sends `request`, leaving the connection open: the client
/// sends nothing more until it drops the stream.
async fn send_part(addr: SocketAddr, request: &[u8]) -> TcpStream {
    let mut stream = tokio::time::timeout(LIMIT, TcpStream::connect(addr))
        .await
        .expect("connect in time")
        .expect("connect");
    stream.write_all(request).await.expect("write");
    stream
}

/// Reads one response, head and `Content-Length` body, within `within`:
/// it does not wait for the server to close the connection.
async fn response_within(stream: &mut TcpStream, within: Duration) -> String {
    let read = async {
        let mut response = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            if let Some(end) = response.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&response[..end]).to_ascii_lowercase();
                let len = head
                    .split("\r\n")
                    .find_map(|line| line.strip_prefix("content-length:"))
                    .map_or(0, |v| v.trim().parse::<usize>().expect("a length"));
                if response.len() >= end + 4 + len {
                    break;
                }
            }
            let n = stream.read(&mut buf).await.expect("read");
            assert!(n > 0, "closed before a whole response: {response:?}");
            response.extend_from_slice(&buf[..n]);
        }
        String::from_utf8_lossy(&response).into_owned()
    };
    tokio::time::timeout(within, read)
        .await
        .expect("a response in time, while the client sends nothing more")
}

/// A warp server on 127.0.0.1 until [`Server::stop`].
struct Server {
    addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl Server {
    async fn start<F>(routes: F) -> Self
    where
        F: Filter<Extract = (warp::reply::Response,), Error = warp::Rejection>
            + Clone
            + Send
            + Sync
            + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(
            warp::serve(routes)
                .incoming(listener)
                .graceful(async {
                    let _ = stopped.await;
                })
                .run(),
        );
        Self { addr, stop, task }
    }

    /// `approov.signed()` in front of a handler echoing the body.
    async fn signed(approov: &ApproovFilter) -> Self {
        let routes = warp::path!("shapes")
            .and(warp::post())
            .and(approov.signed())
            .map(|_: ApproovOutcome, body: Bytes| warp::http::Response::new(body))
            .recover(approov_warp::recover)
            .map(Reply::into_response);
        Self::start(routes).await
    }

    async fn stop(self) {
        self.stop.send(()).expect("server still running");
        tokio::time::timeout(LIMIT, self.task)
            .await
            .expect("server stops in time")
            .expect("server task");
    }
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
    let server = Server::start(routes.map(Reply::into_response)).await;
    let addr = server.addr;

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

    server.stop().await;
}

/// A head announcing `Content-Length: 900000` (under the default 1 MiB
/// limit) and 1 KB of body: the rest never comes.
fn announcing_much_more(signed: &SignedRequest) -> Vec<u8> {
    let mut req = head(signed, "Content-Length: 900000\r\n\r\n");
    req.extend_from_slice(&[b'x'; 1024]);
    req
}

#[tokio::test]
async fn a_refused_token_or_signature_is_answered_before_the_body_is_read() {
    // The default limit and read deadline (30 s): an answer within 5 s
    // cannot come from reading the body.
    let server = Server::signed(&signing_approov()).await;
    let within = Duration::from_secs(5);
    let key = InstallKey::generate().unwrap();

    let mut no_token = signed_post(&key);
    no_token
        .headers
        .retain(|(name, _)| !name.eq_ignore_ascii_case("approov-token"));
    // A valid token with `ipk`, signed by another key.
    let other = InstallKey::generate().unwrap();
    let bad_signature = post(&token_for(&key))
        .sign_install(&other)
        .finish()
        .unwrap();
    for signed in [&no_token, &bad_signature] {
        assert!(
            signed
                .headers
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case("content-digest"))
        );
        let mut stream = send_part(server.addr, &announcing_much_more(signed)).await;
        let res = response_within(&mut stream, within).await;
        assert_eq!(status(&res), "401", "{res}");
        assert_eq!(body(&res), "{}");
        assert!(
            res.to_ascii_lowercase()
                .contains("\r\nwww-authenticate: approov\r\n"),
            "{res}"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn a_signed_body_that_stalls_is_408_after_the_read_deadline() {
    let approov =
        approov_with(MessageSigning::builder().body_read_timeout(Duration::from_millis(300)));
    let server = Server::signed(&approov).await;
    let key = InstallKey::generate().unwrap();
    let signed = signed_post(&key);
    let body_len = BODY.len();
    let mut req = head(&signed, &format!("Content-Length: {body_len}\r\n\r\n"));
    req.extend_from_slice(&BODY[..body_len / 2]);
    let mut stream = send_part(server.addr, &req).await;
    let res = response_within(&mut stream, LIMIT).await;
    assert_eq!(status(&res), "408", "{res}");
    assert_eq!(body(&res), "{}");
    let lower = res.to_ascii_lowercase();
    assert!(
        lower.contains("\r\ncontent-type: application/json\r\n"),
        "{res}"
    );
    assert!(!lower.contains("www-authenticate"), "{res}");
    // The same request sent whole passes.
    let ok = exchange(server.addr, &with_length(&signed)).await;
    assert_eq!((status(&ok), body(&ok).as_bytes()), ("200", BODY), "{ok}");
    server.stop().await;
}

#[tokio::test]
async fn a_signed_request_announcing_a_body_over_the_limit_is_413_unsent() {
    let approov = approov_with(MessageSigning::builder().max_body_len(MAX_BODY));
    let server = Server::signed(&approov).await;
    let key = InstallKey::generate().unwrap();
    let req = head(
        &signed_post(&key),
        &format!("Content-Length: {}\r\n\r\n", MAX_BODY + 1),
    );
    // No byte of the body is sent.
    let mut stream = send_part(server.addr, &req).await;
    let res = response_within(&mut stream, LIMIT).await;
    assert_eq!(status(&res), "413", "{res}");
    assert_eq!(body(&res), "{}");
    assert!(
        res.to_ascii_lowercase()
            .contains("\r\ncontent-type: application/json\r\n"),
        "{res}"
    );
    server.stop().await;
}
