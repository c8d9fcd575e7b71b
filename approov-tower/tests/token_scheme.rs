//! `Authorization: Bearer <token>` through the layer: a verifier built with
//! a token scheme, the same set through the layer's own options, and a gRPC
//! round trip (the token in `authorization` metadata) on 127.0.0.1.
#![allow(clippy::unwrap_used)]

mod common;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use approov_core::{ApproovOutcome, Rejection, Verifier};
use approov_tower::{ApproovLayer, ApproovService};
use bytes::Bytes;
use common::*;
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use tokio::net::TcpListener;
use tonic::Code;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Channel, Server};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;
use tower::{Layer, ServiceExt, service_fn};

async fn ok(request: Request<()>) -> Result<Response<Full<Bytes>>, Infallible> {
    let outcome = request.extensions().get::<ApproovOutcome>();
    Ok(Response::new(Full::from(describe(outcome, None))))
}

fn bearer_verifier() -> Verifier {
    verifier()
        .with_token_header("Authorization")
        .unwrap()
        .with_token_scheme(Some("Bearer"))
        .unwrap()
}

/// A request's headers.
type Headers = Vec<(&'static str, String)>;

/// Each request (its headers) and what the layer must answer: `None` for
/// 200, else the rejection kind.
fn cases() -> Vec<(Headers, Option<&'static str>)> {
    let token = valid_token();
    let auth = |v: String| vec![("authorization", v)];
    vec![
        (auth(format!("Bearer {token}")), None),
        (auth(format!("bearer {token}")), None),
        (auth("Basic x".into()), Some("scheme")),
        (auth("Bearer".into()), Some("missing")),
        (auth(format!("Bearer  {token}")), Some("scheme")),
        (auth("Bearer a b".into()), Some("scheme")),
        (vec![], Some("missing")),
        (vec![("approov-token", token.clone())], Some("missing")),
    ]
}

async fn assert_cases(layer: ApproovLayer) {
    let service = layer.rejection_response(echo_kind).layer(service_fn(ok));
    for (headers, expected) in cases() {
        let mut request = Request::get("/");
        for (name, value) in &headers {
            request = request.header(*name, value.as_str());
        }
        let response = service
            .clone()
            .oneshot(request.body(()).unwrap())
            .await
            .unwrap();
        match expected {
            None => {
                assert_eq!(response.status(), StatusCode::OK, "{headers:?}");
                let body = response.into_body().collect().await.unwrap().to_bytes();
                assert!(body.starts_with(b"verified:"), "{headers:?}: {body:?}");
            }
            Some(kind) => {
                assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{headers:?}");
                assert_eq!(response.headers()[KIND_HEADER], kind, "{headers:?}");
            }
        }
    }
}

#[tokio::test]
async fn a_verifier_with_a_scheme_reads_bearer_tokens() {
    assert_cases(ApproovLayer::new(bearer_verifier())).await;
}

#[tokio::test]
async fn the_layer_options_set_the_scheme() {
    let layer = ApproovLayer::new(verifier())
        .token_header("Authorization")
        .unwrap()
        .token_scheme("Bearer")
        .unwrap();
    assert_eq!(layer.verifier().token_scheme(), Some("Bearer"));
    assert_cases(layer.clone()).await;
    assert!(
        ApproovLayer::new(verifier())
            .token_scheme("Bear er")
            .is_err()
    );
    assert!(ApproovLayer::new(verifier()).token_scheme("").is_err());
    // And off again: the bare token.
    let bare = layer.without_token_scheme();
    assert_eq!(bare.verifier().token_scheme(), None);
    let service = ApproovService::layer(bare.verifier().clone()).layer(service_fn(ok));
    let request = Request::get("/")
        .header("authorization", valid_token())
        .body(())
        .unwrap();
    let response = service.oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

/// A gRPC rejection that names the kind in `grpc-message`.
fn grpc_echo_kind(rejection: &Rejection) -> Response<&'static str> {
    let mut response = approov_tower::response::grpc_unauthenticated().map(|_| "");
    response.headers_mut().insert(
        "grpc-message",
        HeaderValue::from_static(rejection.kind().as_str()),
    );
    response
}

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

#[tokio::test]
async fn grpc_reads_the_token_from_authorization_metadata() {
    let test = async {
        let layer = ApproovLayer::new(bearer_verifier()).rejection_response(grpc_echo_kind);
        let addr = serve(layer).await;
        let channel = Channel::from_shared(format!("http://{addr}"))
            .unwrap()
            .connect()
            .await
            .unwrap();
        let mut client = HealthClient::new(channel);
        let token = valid_token();
        for (value, kind) in [
            (format!("Bearer {token}"), None),
            (format!("Basic {token}"), Some("scheme")),
            ("Bearer".to_owned(), Some("missing")),
        ] {
            let mut request = tonic::Request::new(HealthCheckRequest {
                service: String::new(),
            });
            request
                .metadata_mut()
                .insert("authorization", value.parse().unwrap());
            let result = client.check(request).await;
            match kind {
                None => assert!(result.is_ok(), "{result:?}"),
                Some(kind) => {
                    let status = result.unwrap_err();
                    assert_eq!(status.code(), Code::Unauthenticated, "{kind}");
                    assert_eq!(status.message(), kind);
                }
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(30), test)
        .await
        .expect("the gRPC test finished in time");
}
