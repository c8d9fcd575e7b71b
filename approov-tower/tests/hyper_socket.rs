//! The layer around a bare hyper 1 service, over a real socket on
//! 127.0.0.1: every rejection kind, raw header bytes included, and the
//! happy path. Bounded: one connection per request, a timeout on the whole.
#![allow(clippy::unwrap_used)]

mod common;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use approov_core::{ApproovClaims, ApproovOutcome};
use approov_tower::ApproovLayer;
use bytes::Bytes;
use common::*;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tower::{Layer, service_fn};

async fn handler(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let text = describe(
        request.extensions().get::<ApproovOutcome>(),
        request.extensions().get::<ApproovClaims>(),
    );
    Ok(Response::new(Full::new(Bytes::from(text))))
}

/// Serves until the test's runtime shuts down.
async fn serve(layer: ApproovLayer) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let service = layer.layer(service_fn(handler));
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let service = TowerToHyperService::new(service.clone());
            tokio::spawn(
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service),
            );
        }
    });
    addr
}

struct Reply {
    status: StatusCode,
    kind: Option<String>,
    challenge: Option<String>,
    body: String,
}

async fn send(addr: SocketAddr, headers: &[(&'static str, Vec<u8>)]) -> Reply {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(connection);
    let mut request = Request::get("/").header("host", addr.to_string());
    for (name, value) in headers {
        request = request.header(*name, header_value(value));
    }
    let response = sender
        .send_request(request.body(Empty::<Bytes>::new()).unwrap())
        .await
        .unwrap();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let (status, kind, challenge) = (
        response.status(),
        header(REASON_HEADER),
        header("www-authenticate"),
    );
    let body = response.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        kind,
        challenge,
        body: String::from_utf8(body.to_vec()).unwrap(),
    }
}

async fn bounded<F: std::future::Future<Output = ()>>(test: F) {
    tokio::time::timeout(Duration::from_secs(30), test)
        .await
        .expect("the socket test finished in time");
}

#[tokio::test]
async fn every_rejection_over_a_socket() {
    bounded(async {
        let layer = ApproovLayer::new(strict_verifier()).token_binding(authorization_binding());
        let default = serve(layer.clone()).await;
        let echo = serve(layer.rejection_response(echo_kind)).await;
        for case in binding_cases().into_iter().chain(unbound_cases()) {
            let reply = send(default, &case.headers).await;
            assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", case.kind);
            assert_eq!(reply.challenge.as_deref(), Some("Approov"), "{}", case.kind);
            assert_eq!(reply.body, "{}", "{}", case.kind);

            let reply = send(echo, &case.headers).await;
            assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", case.kind);
            assert_eq!(reply.kind.as_deref(), Some(case.kind));
        }
    })
    .await;
}

#[tokio::test]
async fn verified_and_report_only_over_a_socket() {
    bounded(async {
        let bound = [
            ("Approov-Token", bound_token().into_bytes()),
            ("Authorization", AUTH.into()),
        ];
        let layer = ApproovLayer::new(strict_verifier()).token_binding(authorization_binding());

        let enforcing = serve(layer.clone()).await;
        let reply = send(enforcing, &bound).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.body, format!("verified:{DID} claims={DID}"));

        let report = serve(layer.report_only(true)).await;
        let reply = send(report, &[("Approov-Token", b"\x80\xff".to_vec())]).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.body, "rejected:malformed claims=none");
    })
    .await;
}
