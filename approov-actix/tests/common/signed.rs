//! Message-signing helpers: a middleware with message signing on the
//! stopped clock, install keys and their tokens, signed requests turned into
//! actix test requests, and a handler that echoes the body it was given.

use std::sync::atomic::{AtomicUsize, Ordering};

use actix_web::dev::{Service, ServiceResponse};
use actix_web::test::{self, TestRequest};
use actix_web::{App, HttpResponse, web};
use approov_actix::ApproovMiddleware;
use approov_core::ApproovOutcome;
use approov_core::mint::{InstallKey, RequestSigner, SignedRequest};
use approov_core::signing::MessageSigningBuilder;

use super::{NOW, Reply, claims, clock, send, sign, verifier_with_clock, with_reason};

/// [`NOW`] as a signature's `created`.
pub const CREATED: i64 = NOW as i64;
/// The URI the requests of these tests are signed for (plain http, so the
/// origin-form request line plus `Host` reproduce it).
pub const URI: &str = "http://api.example.com/shapes?size=2&colour=red";
/// The body of the signed POSTs.
pub const BODY: &str = r#"{"shape":"circle"}"#;
/// The header the echo handler names the outcome in.
pub const OUTCOME: &str = "x-outcome";
/// An account message-signing secret and its key id.
pub const ACCOUNT_SECRET: &str = "YWNjb3VudC1tZXNzYWdlLXNpZ25pbmctc2VjcmV0LTAx";
/// The key id of [`ACCOUNT_SECRET`].
pub const MSKID: &str = "msk-1";

/// The middleware with message signing configured by `builder`, the
/// verifier and the signature checks reading one stopped clock, and the
/// reason of each rejection in a header.
pub fn signed_middleware(builder: MessageSigningBuilder) -> ApproovMiddleware {
    let clock = clock();
    let signing = builder
        .clock(clock.clone())
        .build()
        .expect("message signing");
    with_reason(ApproovMiddleware::new(verifier_with_clock(&clock)).message_signing(signing))
}

/// A valid token carrying `key`'s public key as `ipk`.
pub fn install_token(key: &InstallKey) -> String {
    sign(&claims().claim("ipk", key.ipk()))
}

/// A POST of [`BODY`] (with its `Content-Digest`) to [`URI`] with `token`,
/// created at [`NOW`]; not signed yet.
pub fn post(token: &str) -> RequestSigner {
    RequestSigner::new("POST", URI)
        .expect("signer")
        .header("Approov-Token", token)
        .header("Content-Type", "application/json")
        .body(BODY)
        .created(CREATED)
}

/// [`post`] signed with `key`, with a token for `key`.
pub fn signed_post(key: &InstallKey) -> SignedRequest {
    post(&install_token(key))
        .sign_install(key)
        .finish()
        .expect("signed")
}

/// The signed request as actix receives it: origin-form target, every
/// header line (including `Host`), and the body.
pub fn to_test(req: &SignedRequest) -> TestRequest {
    let method = req.method.parse().expect("a method");
    let mut test = TestRequest::default()
        .method(method)
        .uri(&req.path_and_query);
    for (name, value) in &req.headers {
        test = test.append_header((name.as_str(), value.as_str()));
    }
    match &req.body {
        Some(body) => test.set_payload(body.clone()),
        None => test,
    }
}

/// How many times the handler ran.
#[derive(Debug, Default)]
pub struct Calls(AtomicUsize);

impl Calls {
    /// The count so far.
    pub fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// Answers 200 with the body it received, and the outcome in
/// [`OUTCOME`]: `verified`, `rejected <kind>`, `preflight` or `unchecked`.
pub async fn echo_body(
    outcome: Option<web::ReqData<ApproovOutcome>>,
    body: web::Bytes,
    calls: web::Data<Calls>,
) -> HttpResponse {
    calls.0.fetch_add(1, Ordering::SeqCst);
    let outcome = match outcome.map(web::ReqData::into_inner) {
        Some(ApproovOutcome::Verified(_)) => "verified".to_owned(),
        Some(ApproovOutcome::Rejected(rejection)) => format!("rejected {}", rejection.kind()),
        Some(ApproovOutcome::SkippedPreflight) => "preflight".to_owned(),
        Some(_) => "other".to_owned(),
        None => "unchecked".to_owned(),
    };
    HttpResponse::Ok()
        .insert_header((OUTCOME, outcome))
        .body(body)
}

/// An app with `middleware` around [`echo_body`] on every path.
pub async fn echo_app(
    middleware: ApproovMiddleware,
    calls: web::Data<Calls>,
) -> impl Service<
    actix_http::Request,
    Response = ServiceResponse<impl actix_web::body::MessageBody>,
    Error = actix_web::Error,
> {
    test::init_service(
        App::new()
            .app_data(calls)
            .wrap(middleware)
            .default_service(web::to(echo_body)),
    )
    .await
}

/// Sends `req` through `middleware` to [`echo_body`]; returns the reply
/// and how many times the handler ran.
pub async fn through(middleware: ApproovMiddleware, req: actix_http::Request) -> (Reply, usize) {
    let calls = web::Data::new(Calls::default());
    let app = echo_app(middleware, calls.clone()).await;
    let reply = send(&app, req).await;
    (reply, calls.get())
}

/// [`through`] for a signed request, asserting the handler ran once, with
/// the request's body, and saw a verified token.
pub async fn assert_passes(middleware: ApproovMiddleware, req: &SignedRequest) {
    let (reply, calls) = through(middleware, to_test(req).to_request()).await;
    let body = req.body.clone().unwrap_or_default();
    reply.assert_ok(&String::from_utf8_lossy(&body));
    assert_eq!(reply.header(OUTCOME), "verified", "{reply:?}");
    assert_eq!(calls, 1);
}

/// [`through`] for a signed request, asserting the 401 of `kind` and that
/// the handler never ran.
pub async fn assert_refused(
    middleware: ApproovMiddleware,
    req: &SignedRequest,
    kind: approov_core::RejectionKind,
) {
    let (reply, calls) = through(middleware, to_test(req).to_request()).await;
    reply.assert_rejected(kind);
    assert_eq!(calls, 0, "the handler ran for a {kind} rejection");
}
