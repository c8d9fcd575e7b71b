//! The shared fixtures (`approov_conformance::fixtures`: secret, stopped
//! clock, tokens, verifiers), and what the middleware's tests add: apps
//! whose rejection response names the reason, and assertions on replies.
#![allow(dead_code)]

pub mod signed;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use actix_web::web;
use actix_web::{HttpResponse, test};
use approov_actix::{ApproovMiddleware, unauthorized};
pub use approov_conformance::fixtures::*;
use approov_core::{ApproovOutcome, RejectionKind};

/// The middleware, answering rejections with the default response plus a
/// header naming the reason's kind, so tests can tell reasons apart.
pub fn with_reason(middleware: ApproovMiddleware) -> ApproovMiddleware {
    middleware.rejection_response(|rejection| {
        let mut response = unauthorized();
        response.headers_mut().insert(
            HeaderName::from_static(REASON_HEADER),
            HeaderValue::from_static(rejection.kind().as_str()),
        );
        response
    })
}

/// A handler that names the outcome in its body: `verified <did>`,
/// `rejected <kind>`, `preflight`, or `unchecked`.
pub async fn echo_outcome(outcome: Option<web::ReqData<ApproovOutcome>>) -> HttpResponse {
    let body = match outcome.map(web::ReqData::into_inner) {
        Some(ApproovOutcome::Verified(claims)) => {
            format!("verified {}", claims.did().unwrap_or("-"))
        }
        Some(ApproovOutcome::Rejected(rejection)) => {
            format!("rejected {}", rejection.kind())
        }
        Some(ApproovOutcome::SkippedPreflight) => "preflight".to_owned(),
        Some(ApproovOutcome::OpenPath) => "open path".to_owned(),
        Some(_) => "other".to_owned(),
        None => "unchecked".to_owned(),
    };
    HttpResponse::Ok().body(body)
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// The headers.
    pub headers: HeaderMap,
    /// The body, as text.
    pub body: String,
}

impl Reply {
    /// A header's value as text, or `""` when absent.
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// Asserts a 200 with this body.
    pub fn assert_ok(&self, body: &str) {
        assert_eq!((self.status, self.body.as_str()), (200, body), "{self:?}");
    }

    /// Asserts the default rejection response (status, headers, body) with
    /// the reason header naming `kind`.
    pub fn assert_rejected(&self, kind: RejectionKind) {
        self.assert_default_401();
        assert_eq!(self.header(REASON_HEADER), kind.as_str(), "{self:?}");
    }

    /// Asserts the default rejection response exactly.
    pub fn assert_default_401(&self) {
        assert_eq!(self.status, 401, "{self:?}");
        assert_eq!(self.header("content-type"), "application/json", "{self:?}");
        assert_eq!(self.header("www-authenticate"), "Approov", "{self:?}");
        assert_eq!(self.body, "{}", "{self:?}");
    }
}

/// Sends a request through an app made by `test::init_service`.
pub async fn send<S, R, B>(app: &S, req: R) -> Reply
where
    S: Service<R, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let res = match app.call(req).await {
        Ok(res) => res,
        Err(err) => panic!("the service failed instead of answering: {err}"),
    };
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let body = test::read_body(res).await;
    Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}
