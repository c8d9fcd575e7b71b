//! What the warp adapter adds to a request: the `HeaderMap` clone that
//! `warp::header::headers_cloned` makes, next to the token check itself and
//! to a whole request through `warp::service` with and without the filter;
//! and a request with an HTTP message signature (ECDSA P-256) and a signed
//! body, through `protect` and `signed_claims`.

use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use approov_core::mint::generate_secret_base64;
use approov_core::mint::{InstallKey, RequestSigner, SignedRequest, TokenBuilder};
use approov_core::signing::MessageSigning;
use approov_core::{Gate, Verifier};
use approov_warp::{ApproovClaims, ApproovFilter};
use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use tower_service::Service;
use warp::Filter;
use warp::http::{HeaderMap, HeaderName, HeaderValue, Request};

/// A typical mobile API request's headers, with values sliced out of one
/// shared buffer the way hyper's parser stores them.
fn headers(token: &str) -> Vec<(HeaderName, HeaderValue)> {
    let pairs = [
        ("host", "api.example.com"),
        ("user-agent", "okhttp/4.12.0"),
        ("accept", "application/json"),
        ("accept-encoding", "gzip"),
        ("content-type", "application/json"),
        ("content-length", "0"),
        ("authorization", "Bearer 3f1c9a0e6b8d4e2f9a7c5b3d1e0f2a4c"),
        ("approov-token", token),
        ("x-request-id", "8c1d7f0e-2b4a-4e6f-9d3c-5a7b9e1f0c2d"),
        (
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ),
        ("connection", "keep-alive"),
    ];
    let buffer = Bytes::from(pairs.iter().map(|(_, v)| *v).collect::<String>());
    let mut at = 0;
    pairs
        .iter()
        .map(|(name, value)| {
            let slice = buffer.slice(at..at + value.len());
            at += value.len();
            let value = HeaderValue::from_maybe_shared(slice).expect("valid value");
            (HeaderName::from_static(name), value)
        })
        .collect()
}

fn request(headers: &[(HeaderName, HeaderValue)]) -> Request<String> {
    let mut req = Request::new(String::new());
    *req.uri_mut() = "/hello".parse().expect("valid uri");
    for (name, value) in headers {
        req.headers_mut().append(name.clone(), value.clone());
    }
    req
}

/// The filters here never wait, so one poll finishes a request.
fn call<S: Service<Request<String>>>(service: &mut S, req: Request<String>) -> S::Response {
    let mut fut = pin!(service.call(req));
    match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(Ok(res)) => res,
        _ => panic!("the filter did not finish in one poll"),
    }
}

fn bench(c: &mut Criterion) {
    let secret = generate_secret_base64();
    let verifier = Verifier::builder()
        .secret_base64(&secret)
        .build()
        .expect("valid secret");
    let token = TokenBuilder::approov_example()
        .sign_hs256_base64(&secret)
        .expect("valid secret");
    let pairs = headers(&token);
    let map: HeaderMap = pairs.iter().cloned().collect();

    c.bench_function("headermap_clone_11_headers", |b| {
        b.iter(|| black_box(&map).clone())
    });

    let gate = Gate::new(verifier.clone());
    let as_pairs: Vec<(&str, &[u8])> = pairs
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_bytes()))
        .collect();
    c.bench_function("gate_check_hs256", |b| {
        b.iter(|| gate.check("GET", black_box(&as_pairs)))
    });

    let approov = ApproovFilter::new(verifier);
    let mut bare = warp::service(warp::path!("hello").map(|| "ok"));
    let mut protected = warp::service(
        warp::path!("hello")
            .and(approov.protect())
            .map(|| "ok")
            .recover(approov_warp::recover),
    );
    assert_eq!(call(&mut protected, request(&pairs)).status(), 200);
    c.bench_function("request_without_approov", |b| {
        b.iter(|| call(&mut bare, request(&pairs)))
    });
    c.bench_function("request_with_approov_protect", |b| {
        b.iter(|| call(&mut protected, request(&pairs)))
    });
}

/// `signed` as the server receives it.
fn signed_request(signed: &SignedRequest) -> Request<String> {
    let body = String::from_utf8(signed.body.clone().unwrap_or_default()).expect("text body");
    let mut req = Request::new(body);
    *req.method_mut() = signed.method.parse().expect("valid method");
    *req.uri_mut() = signed.path_and_query.parse().expect("valid uri");
    for (name, value) in &signed.headers {
        let name = HeaderName::from_bytes(name.as_bytes()).expect("valid name");
        req.headers_mut()
            .append(name, HeaderValue::from_str(value).expect("valid value"));
    }
    req
}

fn bench_signing(c: &mut Criterion) {
    let secret = generate_secret_base64();
    let verifier = Verifier::builder()
        .secret_base64(&secret)
        .build()
        .expect("valid secret");
    let signing = MessageSigning::builder().build().expect("defaults");
    let approov = ApproovFilter::new(verifier).message_signing(signing);
    let key = InstallKey::generate().expect("key");
    let token = TokenBuilder::approov_example()
        .claim("ipk", key.ipk())
        .sign_hs256_base64(&secret)
        .expect("valid secret");
    // `created` is now: the signatures stay valid for the 300 s max age.
    let get = RequestSigner::new("GET", "http://api.example.com/hello")
        .expect("uri")
        .header("Approov-Token", &token)
        .sign_install(&key)
        .finish()
        .expect("signed");
    let body = format!(r#"{{"data":"{}"}}"#, "x".repeat(1000));
    let post = RequestSigner::new("POST", "http://api.example.com/hello")
        .expect("uri")
        .header("Approov-Token", &token)
        .body(body.as_bytes())
        .sign_install(&key)
        .finish()
        .expect("signed");

    let mut protected = warp::service(
        warp::path!("hello")
            .and(approov.protect())
            .map(|| "ok")
            .recover(approov_warp::recover),
    );
    let mut with_body = warp::service(
        warp::path!("hello")
            .and(approov.signed_claims())
            .map(|_: ApproovClaims, body: Bytes| body.len().to_string())
            .recover(approov_warp::recover),
    );
    assert_eq!(call(&mut protected, signed_request(&get)).status(), 200);
    assert_eq!(call(&mut with_body, signed_request(&post)).status(), 200);
    c.bench_function("request_signed_get_protect", |b| {
        b.iter(|| call(&mut protected, signed_request(&get)))
    });
    c.bench_function("request_signed_post_1kb_signed_claims", |b| {
        b.iter(|| call(&mut with_body, signed_request(&post)))
    });
}

criterion_group!(benches, bench, bench_signing);
criterion_main!(benches);
