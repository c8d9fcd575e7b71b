//! Message signing around a bare hyper 1 service over a real socket on
//! 127.0.0.1: the handler names `ApproovRequestBody<Incoming>`, gets the
//! exact bytes of a signed multi-kilobyte POST, and is never called for a
//! body over the limit (announced or chunked). Bounded: one connection per
//! request, a timeout on the whole.
#![allow(clippy::unwrap_used)]

mod common;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use approov_core::mint::{InstallKey, RequestSigner, SignedRequest};
use approov_core::signing::MessageSigning;
use approov_core::{ApproovClaims, ApproovOutcome};
use approov_tower::ApproovLayer;
use approov_tower::ApproovRequestBody;
use approov_tower::mode::MessageSigned;
use bytes::Bytes;
use common::signing::*;
use common::{REASON_HEADER, describe, echo_kind};
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tower::{Layer, service_fn};

/// Serves until the test's runtime shuts down; counts handler calls.
async fn serve(layer: ApproovLayer<MessageSigned>) -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let handler = move |request: Request<ApproovRequestBody<Incoming>>| {
        counter.fetch_add(1, Ordering::SeqCst);
        async move {
            let said = describe(
                request.extensions().get::<ApproovOutcome>(),
                request.extensions().get::<ApproovClaims>(),
            );
            let buffered = request.body().is_buffered();
            let body = request.into_body().collect().await.unwrap().to_bytes();
            let text = format!(
                "{said} buffered={buffered}\n{}",
                String::from_utf8_lossy(&body)
            );
            Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(text))))
        }
    };
    let service = layer
        .rejection_response(echo_kind)
        .layer(service_fn(handler));
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let service = TowerToHyperService::new(service.clone());
            tokio::spawn(
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service),
            );
        }
    });
    (addr, calls)
}

struct Reply {
    status: StatusCode,
    kind: Option<String>,
    body: String,
}

async fn send<B>(addr: SocketAddr, request: Request<B>) -> Reply
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(connection);
    let response = sender.send_request(request).await.unwrap();
    let status = response.status();
    let kind = response
        .headers()
        .get(REASON_HEADER)
        .map(|v| v.to_str().unwrap().to_owned());
    let body = response.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        kind,
        body: String::from_utf8(body.to_vec()).unwrap(),
    }
}

/// A request to this server, signed with `key`: the socket address is the
/// authority (`Host`), plain http the scheme.
fn signed(addr: SocketAddr, method: &str, key: &InstallKey, body: Option<&[u8]>) -> SignedRequest {
    let mut signer = RequestSigner::new(method, &format!("http://{addr}/shapes"))
        .unwrap()
        .header("Approov-Token", &token_for(key))
        .created(created());
    if let Some(body) = body {
        signer = signer.body(body);
    }
    signer.sign_install(key).finish().unwrap()
}

async fn bounded<F: std::future::Future<Output = ()>>(test: F) {
    tokio::time::timeout(Duration::from_secs(30), test)
        .await
        .expect("the socket test finished in time");
}

#[tokio::test]
async fn a_signed_post_reaches_a_hyper_handler_with_its_exact_bytes() {
    bounded(async {
        let (addr, calls) = serve(default_signing_layer()).await;
        let key = InstallKey::generate().unwrap();
        let body = big_body(64 * 1024);
        let request = signed(addr, "POST", &key, Some(&body));

        let reply = send(addr, to_http::<Full<Bytes>>(&request)).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let (said, received) = reply.body.split_once('\n').unwrap();
        assert_eq!(
            said,
            format!("verified:{SIGNING_DID} claims={SIGNING_DID} buffered=true")
        );
        assert!(received.as_bytes() == body, "the very bytes");

        // Chunked on the wire (no Content-Length): the same.
        let reply = send(addr, to_http_with(&request, Chunks::new(&body, 4000))).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert!(reply.body.ends_with(std::str::from_utf8(&body).unwrap()));

        // Another body under the same signature.
        let reply = send(addr, to_http_with(&request, Full::from("{}"))).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        assert_eq!(reply.kind.as_deref(), Some("digest_mismatch"));
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    })
    .await;
}

#[tokio::test]
async fn a_signed_get_streams_on_unbuffered() {
    bounded(async {
        let (addr, _) = serve(default_signing_layer()).await;
        let key = InstallKey::generate().unwrap();
        let request = signed(addr, "GET", &key, None);
        let reply = send(addr, to_http::<Full<Bytes>>(&request)).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(
            reply.body,
            format!("verified:{SIGNING_DID} claims={SIGNING_DID} buffered=false\n")
        );

        // Signed for another authority than the one the socket was given.
        let mut other = request.clone();
        other.set_header("Host", "api.example.com");
        let reply = send(addr, to_http::<Full<Bytes>>(&other)).await;
        assert_eq!(reply.kind.as_deref(), Some("signature_invalid"));

        let mut unsigned = request;
        unsigned.headers.retain(|(name, _)| name != "Signature");
        let reply = send(addr, to_http::<Full<Bytes>>(&unsigned)).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        assert_eq!(reply.kind.as_deref(), Some("signature_missing"));
    })
    .await;
}

#[tokio::test]
async fn an_oversized_body_gets_413_over_the_wire() {
    bounded(async {
        let limit = 2048;
        let (addr, calls) =
            serve(signing_layer(MessageSigning::builder().max_body_len(limit))).await;
        let key = InstallKey::generate().unwrap();
        let body = big_body(limit + 1);
        let request = signed(addr, "POST", &key, Some(&body));

        // With Content-Length.
        let reply = send(addr, to_http::<Full<Bytes>>(&request)).await;
        assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(reply.body, "{}");
        // Chunked.
        let reply = send(addr, to_http_with(&request, Chunks::new(&body, 512))).await;
        assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(reply.body, "{}");
        assert_eq!(calls.load(Ordering::SeqCst), 0);
    })
    .await;
}

/// Writes `request`'s head with `Content-Length: announced` and the first
/// `sent` bytes of `body`, keeps the connection open, and returns the
/// status line and body of the answer, or `None` when none came within
/// `wait`.
async fn partial(
    addr: SocketAddr,
    request: &SignedRequest,
    announced: usize,
    body: &[u8],
    wait: Duration,
) -> Option<(String, String)> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut head = format!("{} {} HTTP/1.1\r\n", request.method, request.path_and_query);
    for (name, value) in &request.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("Content-Length: {announced}\r\n\r\n"));
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(wait, async {
        let mut buf = [0u8; 4096];
        loop {
            let n = stream.read(&mut buf).await.unwrap_or(0);
            if n == 0 {
                break;
            }
            answer.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&answer);
            if let Some((head, rest)) = text.split_once("\r\n\r\n") {
                let len = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length: "))
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    .unwrap_or(0);
                if rest.len() >= len {
                    break;
                }
            }
        }
    })
    .await;
    read.ok()?;
    let text = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = text.split_once("\r\n\r\n")?;
    Some((head.lines().next()?.to_owned(), body.to_owned()))
}

#[tokio::test]
async fn a_refused_request_is_answered_before_its_body_arrives() {
    bounded(async {
        let (addr, calls) = serve(default_signing_layer()).await;
        let key = InstallKey::generate().unwrap();
        let body = big_body(900_000);
        let request = signed(addr, "POST", &key, Some(&body));
        let wait = Duration::from_secs(5);

        // No token: 900,000 bytes announced, 1 KB sent, the rest never.
        let mut no_token = request.clone();
        no_token.headers.retain(|(n, _)| n != "Approov-Token");
        let answer = partial(addr, &no_token, body.len(), &body[..1024], wait).await;
        let (status, _) = answer.expect("answered without waiting for the body");
        assert!(status.contains(" 401 "), "{status}");

        // A genuine token, a bad signature.
        let mut forged = request.clone();
        forged.set_header("Signature", &format!("install=:{}:", "A".repeat(88)));
        let answer = partial(addr, &forged, body.len(), &body[..1024], wait).await;
        let (status, _) = answer.expect("answered without waiting for the body");
        assert!(status.contains(" 401 "), "{status}");
        assert_eq!(calls.load(Ordering::SeqCst), 0);
    })
    .await;
}

#[tokio::test]
async fn a_body_that_stalls_gets_408_after_the_read_timeout() {
    bounded(async {
        let timeout = Duration::from_millis(300);
        let layer = signing_layer(MessageSigning::builder().body_read_timeout(timeout));
        let (addr, calls) = serve(layer).await;
        let key = InstallKey::generate().unwrap();
        let body = big_body(4096);
        let request = signed(addr, "POST", &key, Some(&body));
        // Half the body, then nothing: the deadline fires, with a margin.
        let answer = partial(
            addr,
            &request,
            body.len(),
            &body[..2048],
            Duration::from_secs(10),
        )
        .await;
        let (status, answer) = answer.expect("answered after the read timeout");
        assert!(status.contains(" 408 "), "{status}");
        assert_eq!(answer, "{}");
        assert_eq!(calls.load(Ordering::SeqCst), 0);

        // A Content-Length over the limit is refused before any body byte.
        let big = signed(addr, "POST", &key, Some(&big_body(2 * 1024 * 1024)));
        let answer = partial(addr, &big, 2 * 1024 * 1024, b"", Duration::from_secs(5)).await;
        let (status, answer) = answer.expect("answered at once");
        assert!(status.contains(" 413 "), "{status}");
        assert_eq!(answer, "{}");
    })
    .await;
}
