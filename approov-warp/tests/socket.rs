//! One real server on 127.0.0.1: the filter behind warp's own HTTP/1.1
//! stack, spoken to with raw bytes (repeated headers and obs-text included).

use std::time::Duration;

use approov_core::mint::TokenBuilder;
use approov_core::{TokenBinding, Verifier};
use approov_warp::{ApproovClaims, ApproovFilter};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use warp::Filter;

const SECRET: &str = "c29ja2V0LXRlc3Qtc2VjcmV0LWZvci1hcHByb292LXdhcnAtMDEyMzQ1Njc4OQ==";
/// Bound on every network step, so a hang fails the test instead of CI.
const LIMIT: Duration = Duration::from_secs(10);

/// Sends one request (`Connection: close`) and returns the raw response.
async fn exchange(addr: std::net::SocketAddr, head: &[u8]) -> String {
    let mut stream = tokio::time::timeout(LIMIT, TcpStream::connect(addr))
        .await
        .expect("connect in time")
        .expect("connect");
    let mut request = head.to_vec();
    request.extend_from_slice(b"Host: 127.0.0.1\r\nConnection: close\r\n\r\n");
    stream.write_all(&request).await.expect("write");
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

#[tokio::test]
async fn over_a_real_socket() {
    let approov = ApproovFilter::new(
        Verifier::builder()
            .secret_base64(SECRET)
            .build()
            .expect("verifier"),
    );
    let bound = approov
        .clone()
        .token_binding(TokenBinding::new(["Authorization"]).expect("binding"));
    let routes = warp::path!("hello")
        .and(approov.protect())
        .map(|| "Hello, World!")
        .or(warp::path!("device")
            .and(bound.claims())
            .map(|c: ApproovClaims| c.did().unwrap_or_default().to_owned()))
        .or(warp::path!("health").map(|| "ok"))
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

    let token = TokenBuilder::approov_example()
        .sign_hs256_base64(SECRET)
        .expect("token");
    let bound_token = TokenBuilder::approov_example()
        .pay_for(["Bearer abc"])
        .sign_hs256_base64(SECRET)
        .expect("token");

    let ok = exchange(
        addr,
        format!("GET /hello HTTP/1.1\r\nApproov-Token: {token}\r\n").as_bytes(),
    )
    .await;
    assert_eq!(status(&ok), "200", "{ok}");
    assert_eq!(body(&ok), "Hello, World!");

    let missing = exchange(addr, b"GET /hello HTTP/1.1\r\n").await;
    assert_eq!(status(&missing), "401", "{missing}");
    let lower = missing.to_ascii_lowercase();
    assert!(
        lower.contains("\r\ncontent-type: application/json\r\n"),
        "{missing}"
    );
    assert!(
        lower.contains("\r\nwww-authenticate: approov\r\n"),
        "{missing}"
    );
    assert_eq!(body(&missing), "{}");

    let twice =
        format!("GET /hello HTTP/1.1\r\nApproov-Token: {token}\r\napproov-token: {token}\r\n");
    let twice = exchange(addr, twice.as_bytes()).await;
    assert_eq!(status(&twice), "401", "{twice}");

    // obs-text in the token header: hyper accepts the bytes, we refuse them.
    let mut raw = b"GET /hello HTTP/1.1\r\nApproov-Token: ".to_vec();
    raw.extend_from_slice(token.as_bytes());
    raw.extend_from_slice(b"\xff\xfe\r\n");
    let raw = exchange(addr, &raw).await;
    assert_eq!(status(&raw), "401", "{raw}");

    let device = format!(
        "GET /device HTTP/1.1\r\nApproov-Token: {bound_token}\r\nAuthorization: Bearer abc\r\n"
    );
    let device = exchange(addr, device.as_bytes()).await;
    assert_eq!(status(&device), "200", "{device}");
    assert_eq!(body(&device), "ExampleApproovTokenDID==");
    let stolen = format!(
        "GET /device HTTP/1.1\r\nApproov-Token: {bound_token}\r\nAuthorization: Bearer xyz\r\n"
    );
    assert_eq!(status(&exchange(addr, stolen.as_bytes()).await), "401");

    let health = exchange(addr, b"GET /health HTTP/1.1\r\n").await;
    assert_eq!(status(&health), "200", "{health}");
    let nowhere = exchange(addr, b"GET /nowhere HTTP/1.1\r\n").await;
    assert_eq!(status(&nowhere), "404", "{nowhere}");

    stop.send(()).expect("server still running");
    tokio::time::timeout(LIMIT, server)
        .await
        .expect("server stops in time")
        .expect("server task");
}
