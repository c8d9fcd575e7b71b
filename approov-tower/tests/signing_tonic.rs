//! Message signing on a tonic 0.14 server over HTTP/2 on 127.0.0.1, with
//! the `tonic-health` service: a signed gRPC call whose `Content-Digest`
//! covers the framed message succeeds (the buffered body decodes), and
//! rejected or oversized calls get gRPC statuses, never an HTTP error.
#![allow(clippy::unwrap_used)]

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use approov_core::Rejection;
use approov_core::mint::{InstallKey, RequestSigner};
use approov_core::signing::{MessageSigning, SignaturePolicy};
use approov_tower::ApproovLayer;
use approov_tower::mode::MessageSigned;
use common::signing::*;
use http::{HeaderValue, Response};
use tokio::net::TcpListener;
use tonic::Code;
use tonic::metadata::MetadataValue;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Channel, Server};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

const CHECK_PATH: &str = "/grpc.health.v1.Health/Check";
/// The gRPC frame of `HealthCheckRequest { service: "" }`: not compressed,
/// length 0, and an empty protobuf message.
const EMPTY_CHECK_FRAME: [u8; 5] = [0, 0, 0, 0, 0];

async fn serve(layer: ApproovLayer<MessageSigned>) -> SocketAddr {
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

/// A health check carrying the signature headers of `signer`'s request
/// (HTTP/2 sends the authority as `:authority`, so `Host` is left out).
fn check(signer: RequestSigner) -> tonic::Request<HealthCheckRequest> {
    let signed = signer.finish().unwrap();
    let mut request = tonic::Request::new(HealthCheckRequest {
        service: String::new(),
    });
    for (name, value) in &signed.headers {
        if name.eq_ignore_ascii_case("host") {
            continue;
        }
        let name =
            tonic::metadata::MetadataKey::from_bytes(name.to_ascii_lowercase().as_bytes()).unwrap();
        let value: MetadataValue<_> = value.parse().unwrap();
        request.metadata_mut().insert(name, value);
    }
    request
}

fn signer(addr: SocketAddr, key: &InstallKey) -> RequestSigner {
    RequestSigner::new("POST", &format!("http://{addr}{CHECK_PATH}"))
        .unwrap()
        .header("Approov-Token", &token_for(key))
        .created(created())
}

async fn bounded<F: std::future::Future<Output = ()>>(test: F) {
    tokio::time::timeout(Duration::from_secs(30), test)
        .await
        .expect("the gRPC test finished in time");
}

#[tokio::test]
async fn a_signed_grpc_call_with_a_content_digest_succeeds() {
    bounded(async {
        let layer = signing_layer(MessageSigning::builder().policy(SignaturePolicy::Always));
        let addr = serve(layer).await;
        let mut client = client(addr).await;
        let key = InstallKey::generate().unwrap();

        let request = check(
            signer(addr, &key)
                .body(EMPTY_CHECK_FRAME)
                .sign_install(&key),
        );
        let response = client.check(request).await.unwrap();
        assert_eq!(response.into_inner().status, ServingStatus::Serving as i32);

        // Without a body digest: a gRPC call always has a body (its
        // frames), which HTTP/2 announces with no `Content-Length`; the
        // signature must cover its digest, so the call is refused unread.
        let request = check(signer(addr, &key).sign_install(&key));
        let status = client.check(request).await.unwrap_err();
        assert_eq!(status.code(), Code::Unauthenticated);
    })
    .await;
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

#[tokio::test]
async fn rejected_grpc_calls_are_unauthenticated_with_the_right_kind() {
    bounded(async {
        let layer = signing_layer(MessageSigning::builder().policy(SignaturePolicy::Always));
        let default = serve(layer.clone()).await;
        let echo = serve(layer.rejection_response(grpc_echo_kind)).await;
        let key = InstallKey::generate().unwrap();

        let cases = |addr: SocketAddr| {
            let unsigned = check(signer(addr, &key));
            let digest_of_another_body = check(
                signer(addr, &key)
                    .body(*b"\0\0\0\0\x02\x0a\0")
                    .sign_install(&key),
            );
            let signed_for_another_path = check(
                RequestSigner::new(
                    "POST",
                    &format!("http://{addr}/grpc.health.v1.Health/Watch"),
                )
                .unwrap()
                .header("Approov-Token", &token_for(&key))
                .created(created())
                .sign_install(&key),
            );
            [
                (unsigned, "signature_missing"),
                (digest_of_another_body, "digest_mismatch"),
                (signed_for_another_path, "signature_invalid"),
            ]
        };
        let mut client = client(default).await;
        for (request, kind) in cases(default) {
            let status = client.check(request).await.unwrap_err();
            assert_eq!(status.code(), Code::Unauthenticated, "{kind}: {status:?}");
            assert_eq!(status.message(), approov_tower::response::GRPC_MESSAGE);
        }
        let mut client = self::client(echo).await;
        for (request, kind) in cases(echo) {
            let status = client.check(request).await.unwrap_err();
            assert_eq!(status.code(), Code::Unauthenticated, "{kind}: {status:?}");
            assert_eq!(status.message(), kind);
        }
    })
    .await;
}

#[tokio::test]
async fn an_oversized_grpc_body_is_resource_exhausted() {
    bounded(async {
        let addr = serve(signing_layer(MessageSigning::builder().max_body_len(4))).await;
        let mut client = client(addr).await;
        let key = InstallKey::generate().unwrap();
        let request = check(
            signer(addr, &key)
                .body(EMPTY_CHECK_FRAME)
                .sign_install(&key),
        );
        let status = client.check(request).await.unwrap_err();
        assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
        assert_eq!(
            status.message(),
            approov_tower::response::GRPC_TOO_LARGE_MESSAGE
        );
    })
    .await;
}
