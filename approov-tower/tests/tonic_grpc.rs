//! The layer on a tonic 0.14 server: a real gRPC round trip on 127.0.0.1
//! with the `tonic-health` service and client (no protobuf codegen here),
//! the token in `approov-token` metadata or after `Bearer ` in
//! `authorization`.
#![allow(clippy::unwrap_used)]

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use approov_core::Rejection;
use approov_tower::ApproovLayer;
use common::*;
use http::{HeaderValue, Response};
use tokio::net::TcpListener;
use tonic::Code;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Channel, Server};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

async fn serve(layer: ApproovLayer) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (_reporter, health) = tonic_health::server::health_reporter();
    tokio::spawn(
        Server::builder()
            .layer(layer)
            .add_service(health)
            .serve_with_incoming(TcpIncoming::from(listener)),
    );
    addr
}

async fn client(addr: SocketAddr) -> HealthClient<Channel> {
    let channel = Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    HealthClient::new(channel)
}

fn check(token: Option<&str>) -> tonic::Request<HealthCheckRequest> {
    check_with("approov-token", token)
}

/// A health check carrying `value` in the metadata entry `key`.
fn check_with(key: &'static str, value: Option<&str>) -> tonic::Request<HealthCheckRequest> {
    let mut request = tonic::Request::new(HealthCheckRequest {
        service: String::new(),
    });
    if let Some(value) = value {
        request.metadata_mut().insert(key, value.parse().unwrap());
    }
    request
}

/// A gRPC rejection that names the kind in `grpc-message`, for assertions.
fn grpc_echo_kind(rejection: &Rejection) -> Response<&'static str> {
    let mut response = approov_tower::response::grpc_unauthenticated().map(|_| "");
    response.headers_mut().insert(
        "grpc-message",
        HeaderValue::from_static(rejection.kind().as_str()),
    );
    response
}

async fn bounded<F: std::future::Future<Output = ()>>(test: F) {
    tokio::time::timeout(Duration::from_secs(30), test)
        .await
        .expect("the gRPC test finished in time");
}

#[tokio::test]
async fn grpc_without_a_token_is_unauthenticated_and_with_one_succeeds() {
    bounded(async {
        let addr = serve(ApproovLayer::new(strict_verifier())).await;
        let mut client = client(addr).await;

        let status = client.check(check(None)).await.unwrap_err();
        assert_eq!(status.code(), Code::Unauthenticated);
        assert_eq!(status.message(), approov_tower::response::GRPC_MESSAGE);

        let response = client.check(check(Some(&strict_token()))).await.unwrap();
        assert_eq!(response.into_inner().status, ServingStatus::Serving as i32);
    })
    .await;
}

#[tokio::test]
async fn grpc_rejections_carry_the_right_kind_to_a_custom_response() {
    bounded(async {
        let addr =
            serve(ApproovLayer::new(strict_verifier()).rejection_response(grpc_echo_kind)).await;
        let mut client = client(addr).await;
        let expired = sign(&strict_claims().exp((NOW - 1) as f64));
        let forged = strict_claims().sign_hs256_base64(WRONG_SECRET).unwrap();
        for (token, kind) in [
            (None, "missing"),
            (Some(expired.as_str()), "expired"),
            (Some(forged.as_str()), "signature"),
        ] {
            let status = client.check(check(token)).await.unwrap_err();
            assert_eq!(status.code(), Code::Unauthenticated, "{kind}");
            assert_eq!(status.message(), kind);
        }
        let response = client.check(check(Some(&strict_token()))).await.unwrap();
        assert_eq!(response.into_inner().status, ServingStatus::Serving as i32);
    })
    .await;
}

#[tokio::test]
async fn grpc_reads_the_token_from_authorization_metadata() {
    bounded(async {
        let layer = ApproovLayer::new(verifier())
            .token_header("Authorization")
            .and_then(|layer| layer.token_scheme("Bearer"))
            .unwrap()
            .rejection_response(grpc_echo_kind);
        let mut client = client(serve(layer).await).await;
        let token = token();
        for (value, kind) in [
            (format!("Bearer {token}"), None),
            (format!("Basic {token}"), Some("scheme")),
            ("Bearer".to_owned(), Some("missing")),
        ] {
            let result = client
                .check(check_with("authorization", Some(&value)))
                .await;
            match kind {
                None => assert_eq!(
                    result.unwrap().into_inner().status,
                    ServingStatus::Serving as i32
                ),
                Some(kind) => {
                    let status = result.unwrap_err();
                    assert_eq!(status.code(), Code::Unauthenticated, "{kind}");
                    assert_eq!(status.message(), kind);
                }
            }
        }
    })
    .await;
}
