//! Shared helpers: a verifier on a stopped clock, token minting, apps whose
//! rejection response names the reason, and assertions on replies.
#![allow(dead_code)]

pub mod signed;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use actix_web::web;
use actix_web::{HttpResponse, test};
use approov_actix::{ApproovMiddleware, unauthorized};
use approov_core::mint::TokenBuilder;
use approov_core::{ApproovOutcome, ManualClock, RejectionKind, Verifier};

/// The account secret of these tests (base64).
pub const SECRET: &str = "dGVzdCBzZWNyZXQgZm9yIGFwcHJvb3YtYWN0aXggdGVzdHMgb25seQ==";
/// Another secret, for forged tokens.
pub const OTHER_SECRET: &str = "YW5vdGhlciBzZWNyZXQsIG5vdCB0aGUgc2VydmVyJ3M=";
/// The instant the verifiers' clock is stopped at.
pub const NOW: u64 = 1_800_000_000;
/// The header the reason-echoing rejection response carries.
pub const REASON: &str = "x-approov-rejection";

/// A clock stopped at [`NOW`].
pub fn clock() -> ManualClock {
    ManualClock::at_unix(NOW)
}

/// A verifier for [`SECRET`] reading time from `clock`.
pub fn verifier_with(clock: ManualClock) -> Verifier {
    Verifier::builder()
        .secret_base64(SECRET)
        .clock(clock)
        .build()
        .expect("test verifier")
}

/// A verifier for [`SECRET`] at [`NOW`].
pub fn verifier() -> Verifier {
    verifier_with(clock())
}

/// Valid claims: expiring five minutes after [`NOW`], with `did` and `ip`.
pub fn claims() -> TokenBuilder {
    TokenBuilder::new()
        .exp((NOW + 300) as f64)
        .claim("did", "device-1")
        .claim("ip", "1.2.3.4")
}

/// Signs with [`SECRET`].
pub fn sign(builder: &TokenBuilder) -> String {
    builder.sign_hs256_base64(SECRET).expect("sign")
}

/// A valid token.
pub fn token() -> String {
    sign(&claims())
}

/// The middleware, answering rejections with the default response plus a
/// header naming the reason's kind, so tests can tell reasons apart.
pub fn with_reason(middleware: ApproovMiddleware) -> ApproovMiddleware {
    middleware.rejection_response(|rejection| {
        let mut response = unauthorized();
        response.headers_mut().insert(
            HeaderName::from_static(REASON),
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
        assert_eq!(self.header(REASON), kind.as_str(), "{self:?}");
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
