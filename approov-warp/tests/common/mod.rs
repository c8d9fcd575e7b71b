//! The shared fixtures (`approov_conformance::fixtures`: secret, stopped
//! clock, tokens, verifiers), and what the filters' tests add: a request
//! type that can repeat headers, carry raw bytes and send its body in chunks
//! (or fail while sending it), and the three apps every rejection case is
//! run through (default response, reason-echoing response, report-only).
#![allow(dead_code, clippy::unwrap_used)] // each test file uses a subset

use std::convert::Infallible;

pub use approov_conformance::fixtures::*;
use approov_core::{ApproovOutcome, RejectionKind};
use approov_warp::ApproovFilter;
use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt as _, StreamBody};
use tower_service::Service as _;
use warp::filters::BoxedFilter;
use warp::http::{HeaderMap, HeaderName, HeaderValue, Request, Response, StatusCode};
use warp::{Filter, Reply};

pub mod signing;

/// One piece of a request body as the server receives it.
#[derive(Clone, Debug)]
pub enum Chunk {
    /// These bytes.
    Data(Vec<u8>),
    /// The connection fails here.
    Error,
}

/// A request description; unlike `warp::test::request()` it can repeat a
/// header, hold any bytes a header value may hold, and stream its body.
#[derive(Clone, Debug)]
pub struct Req {
    method: String,
    path: String,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Vec<Chunk>,
}

impl Req {
    /// `GET path`, no headers.
    pub fn get(path: &str) -> Self {
        Self {
            method: "GET".into(),
            path: path.into(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// Sets the body, sent in one chunk (no `Content-Length` is added).
    pub fn body(self, body: impl Into<Vec<u8>>) -> Self {
        self.chunks([Chunk::Data(body.into())])
    }

    /// Sets the body, sent as these chunks.
    pub fn chunks(mut self, chunks: impl IntoIterator<Item = Chunk>) -> Self {
        self.body = chunks.into_iter().collect();
        self
    }

    /// Changes the method.
    pub fn method(mut self, method: &str) -> Self {
        self.method = method.into();
        self
    }

    /// Appends a header (a repeat adds a second value).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        ));
        self
    }

    /// Appends a header with raw bytes (obs-text included).
    pub fn header_bytes(mut self, name: &str, value: &[u8]) -> Self {
        self.headers.push((
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_bytes(value).unwrap(),
        ));
        self
    }

    /// Appends an `Approov-Token` header.
    pub fn token(self, token: &str) -> Self {
        self.header("Approov-Token", token)
    }

    fn build(&self) -> Request<BoxBody<Bytes, std::io::Error>> {
        let frames = self.body.clone().into_iter().map(|chunk| match chunk {
            Chunk::Data(data) => Ok(http_body::Frame::data(Bytes::from(data))),
            Chunk::Error => Err(std::io::Error::other("connection reset")),
        });
        let body = StreamBody::new(futures_util::stream::iter(frames)).boxed();
        let mut req = Request::new(body);
        *req.method_mut() = self.method.parse().unwrap();
        *req.uri_mut() = self.path.parse().unwrap();
        for (name, value) in &self.headers {
            req.headers_mut().append(name.clone(), value.clone());
        }
        req
    }
}

/// A finished response with its body read.
#[derive(Debug)]
pub struct Res {
    pub status: StatusCode,
    pub headers: HeaderMap,
    /// The body as text (lossy).
    pub body: String,
    /// The body's exact bytes.
    pub bytes: Bytes,
}

impl Res {
    /// A header's value as text, if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    /// Asserts the default rejection response, exactly.
    pub fn assert_default_rejection(&self) {
        assert_eq!(self.status, StatusCode::UNAUTHORIZED, "{self:?}");
        assert_eq!(self.header("content-type"), Some("application/json"));
        assert_eq!(self.header("www-authenticate"), Some("Approov"));
        assert_eq!(self.body, "{}");
    }
}

/// A whole app, boxed so tests can hand any route tree to [`send`].
pub type App = BoxedFilter<(warp::reply::Response,)>;

/// Boxes a route tree (usually ending in `.recover(approov_warp::recover)`).
pub fn boxed<F, R>(routes: F) -> App
where
    F: Filter<Extract = (R,), Error = warp::Rejection> + Clone + Send + Sync + 'static,
    R: Reply + Send + 'static,
{
    routes.map(Reply::into_response).boxed()
}

/// Runs one request through the app, as warp's server would.
pub async fn send(app: &App, req: &Req) -> Res {
    let res: Result<_, Infallible> = warp::service(app.clone()).call(req.build()).await;
    let (parts, body) = res.unwrap().into_parts();
    let body = body.collect().await.unwrap().to_bytes();
    Res {
        status: parts.status,
        headers: parts.headers,
        body: String::from_utf8_lossy(&body).into_owned(),
        bytes: body,
    }
}

/// `approov.protect()` in front of a handler answering `ok`, with the
/// default rejection response.
pub fn protected(approov: &ApproovFilter) -> App {
    boxed(
        approov
            .protect()
            .map(|| "ok")
            .recover(approov_warp::recover),
    )
}

/// Like [`protected`], but rejections answer 401 with their kind in the
/// [`REASON_HEADER`] header.
pub fn echoing(approov: &ApproovFilter) -> App {
    protected(&approov.clone().rejection_response(|rejection| {
        Response::builder()
            .status(StatusCode::UNAUTHORIZED)
            .header(REASON_HEADER, rejection.kind().as_str())
            .body(String::new())
            .unwrap()
    }))
}

/// The outcome's name: `verified`, `preflight`, or the rejection kind.
pub fn outcome_name(outcome: &ApproovOutcome) -> String {
    match outcome {
        ApproovOutcome::Verified(_) => "verified".into(),
        ApproovOutcome::Rejected(rejection) => rejection.kind().as_str().into(),
        ApproovOutcome::SkippedPreflight => "preflight".into(),
        other => format!("unexpected {other:?}"),
    }
}

/// Report-only mode, answering 200 with [`outcome_name`].
pub fn reporting(approov: &ApproovFilter) -> App {
    boxed(
        approov
            .clone()
            .report_only(true)
            .outcome()
            .map(|outcome: ApproovOutcome| outcome_name(&outcome))
            .recover(approov_warp::recover),
    )
}

/// Asserts that `approov` refuses `req` for `kind`: the default 401, the
/// custom response with the kind, and report-only mode letting it through
/// marked with the kind.
pub async fn assert_rejected(approov: &ApproovFilter, req: &Req, kind: RejectionKind) {
    send(&protected(approov), req)
        .await
        .assert_default_rejection();

    let echoed = send(&echoing(approov), req).await;
    assert_eq!(echoed.status, StatusCode::UNAUTHORIZED, "{echoed:?}");
    assert_eq!(echoed.header(REASON_HEADER), Some(kind.as_str()), "{req:?}");

    let reported = send(&reporting(approov), req).await;
    assert_eq!(reported.status, StatusCode::OK);
    assert_eq!(reported.body, kind.as_str());
}

/// Asserts that `approov` accepts `req`.
pub async fn assert_accepted(approov: &ApproovFilter, req: &Req) {
    let res = send(&protected(approov), req).await;
    assert_eq!(res.status, StatusCode::OK, "{res:?}");
    assert_eq!(res.body, "ok");
    let reported = send(&reporting(approov), req).await;
    assert_eq!(reported.body, "verified");
}
