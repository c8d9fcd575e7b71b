//! Message-signing helpers: an `Approov` with message signing on the shared
//! clock, requests signed as an Approov SDK would, and the apps each case
//! runs through (`signed_claims` with the default and the reason-echoing
//! response, `signed` in report-only mode), counting handler calls.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use approov_core::RejectionKind;
use approov_core::mint::{InstallKey, RequestSigner, SignedRequest};
use approov_core::signing::{MessageSigning, MessageSigningBuilder};
use approov_warp::{ApproovClaims, ApproovFilter, ApproovOutcome};
use bytes::Bytes;
use warp::Filter;
use warp::http::{Response, StatusCode};

use super::*;

/// What the test client addresses. warp does not show the scheme, so the
/// core takes `http` unless a public origin says otherwise.
pub const URI: &str = "http://api.example.com/shapes?size=2";
/// The path and query of [`URI`].
pub const PATH: &str = "/shapes?size=2";
/// A small JSON body.
pub const BODY: &[u8] = br#"{"shape":"circle"}"#;
/// An account message-signing secret (base64), for `mskid` "msk-1".
pub const ACCOUNT_SECRET: &str = "YWNjb3VudC1tZXNzYWdlLXNpZ25pbmctc2VjcmV0LTAx";
/// The response header that carries the handler's view of the claims.
pub const DID_HEADER: &str = "x-did";

/// [`verifier_with_clock`] with message signing as `builder` says, on the
/// same stopped clock.
pub fn approov_with(builder: MessageSigningBuilder) -> ApproovFilter {
    let clock = clock();
    ApproovFilter::new(verifier_with_clock(&clock))
        .message_signing(builder.clock(clock).build().unwrap())
}

/// Message signing with every default.
pub fn signing_approov() -> ApproovFilter {
    approov_with(MessageSigning::builder())
}

/// A valid token at [`NOW`] carrying `key`'s `ipk`.
pub fn token_for(key: &InstallKey) -> String {
    sign(&claims().claim("ipk", key.ipk()))
}

/// A POST of [`BODY`] (with its `Content-Digest`) to [`URI`], created at
/// [`NOW`]; not yet signed.
pub fn post(token: &str) -> RequestSigner {
    RequestSigner::new("POST", URI)
        .unwrap()
        .header("Approov-Token", token)
        .header("Content-Type", "application/json")
        .body(BODY)
        .created(NOW as i64)
}

/// A GET of [`URI`] created at [`NOW`]; not yet signed.
pub fn get(token: &str) -> RequestSigner {
    RequestSigner::new("GET", URI)
        .unwrap()
        .header("Approov-Token", token)
        .created(NOW as i64)
}

/// `post(token_for(key))` signed with `key`.
pub fn signed_post(key: &InstallKey) -> SignedRequest {
    post(&token_for(key)).sign_install(key).finish().unwrap()
}

/// The request as the server receives it.
pub fn req_of(signed: &SignedRequest) -> Req {
    let mut req = Req::get(&signed.path_and_query).method(&signed.method);
    for (name, value) in &signed.headers {
        req = req.header(name, value);
    }
    match &signed.body {
        Some(body) => req.body(body.clone()),
        None => req,
    }
}

/// Counts handler calls.
#[derive(Clone, Default, Debug)]
pub struct Calls(Arc<AtomicUsize>);

impl Calls {
    /// One more call.
    pub fn hit(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }

    /// Calls so far.
    pub fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// The handler: echoes the body it was given, with the device id.
pub fn echo(claims: &ApproovClaims, body: Bytes) -> Response<Bytes> {
    Response::builder()
        .header(DID_HEADER, claims.did().unwrap_or_default())
        .body(body)
        .unwrap()
}

/// `approov.signed_claims()` in front of [`echo`], counting its calls.
pub fn signed_app(approov: &ApproovFilter) -> (App, Calls) {
    let calls = Calls::default();
    let counted = calls.clone();
    let app = boxed(
        approov
            .signed_claims()
            .map(move |claims: ApproovClaims, body: Bytes| {
                counted.hit();
                echo(&claims, body)
            })
            .recover(approov_warp::recover),
    );
    (app, calls)
}

/// Like [`signed_app`], with the rejection kind in the [`REASON_HEADER`] header.
pub fn signed_echoing(approov: &ApproovFilter) -> (App, Calls) {
    signed_app(&approov.clone().rejection_response(|rejection| {
        Response::builder()
            .status(StatusCode::UNAUTHORIZED)
            .header(REASON_HEADER, rejection.kind().as_str())
            .body(String::new())
            .unwrap()
    }))
}

/// `approov.signed()` in report-only mode, answering [`outcome_name`] and
/// the body's length.
pub fn signed_reporting(approov: &ApproovFilter) -> App {
    boxed(
        approov
            .clone()
            .report_only(true)
            .signed()
            .map(|outcome: ApproovOutcome, body: Bytes| {
                format!("{} {}", outcome_name(&outcome), body.len())
            })
            .recover(approov_warp::recover),
    )
}

/// Asserts that `req` is refused for `kind` through [`signed_app`] (the
/// default 401, handler not called), [`signed_echoing`] (the kind) and
/// [`signed_reporting`] (let through, marked with the kind).
pub async fn assert_refused(approov: &ApproovFilter, req: &Req, kind: RejectionKind) {
    let (app, calls) = signed_app(approov);
    send(&app, req).await.assert_default_rejection();
    assert_eq!(calls.count(), 0, "the handler ran for {req:?}");

    let (app, calls) = signed_echoing(approov);
    let echoed = send(&app, req).await;
    assert_eq!(echoed.status, StatusCode::UNAUTHORIZED, "{echoed:?}");
    assert_eq!(echoed.header(REASON_HEADER), Some(kind.as_str()), "{req:?}");
    assert_eq!(calls.count(), 0);

    let reported = send(&signed_reporting(approov), req).await;
    assert_eq!(reported.status, StatusCode::OK, "{reported:?}");
    assert!(
        reported.body.starts_with(&format!("{} ", kind.as_str())),
        "{reported:?}"
    );
}

/// Asserts that `req` passes: the handler runs once and gets `body`
/// exactly, and report-only mode says `verified`.
pub async fn assert_passes(approov: &ApproovFilter, req: &Req, body: &[u8]) -> Res {
    let (app, calls) = signed_app(approov);
    let res = send(&app, req).await;
    assert_eq!(res.status, StatusCode::OK, "{res:?}");
    assert_eq!(res.bytes, body);
    assert_eq!(calls.count(), 1);
    let reported = send(&signed_reporting(approov), req).await;
    assert_eq!(reported.body, format!("verified {}", body.len()));
    res
}
