//! `Authorization: Bearer <token>` through the actix middleware: a
//! verifier built with a token scheme, and the same set through the
//! middleware's own options; every refusal with its kind.

mod common;

use actix_web::test::{self, TestRequest};
use actix_web::{App, web};
use approov_actix::ApproovMiddleware;
use approov_core::{RejectionKind, Verifier};
use common::*;

fn bearer_verifier() -> Verifier {
    verifier()
        .with_token_header("Authorization")
        .expect("valid name")
        .with_token_scheme(Some("Bearer"))
        .expect("valid scheme")
}

async fn through(middleware: &ApproovMiddleware, req: TestRequest) -> Reply {
    let app = test::init_service(
        App::new()
            .wrap(with_reason(middleware.clone()))
            .default_service(web::to(echo_outcome)),
    )
    .await;
    send(&app, req.to_request()).await
}

async fn assert_cases(middleware: &ApproovMiddleware) {
    let token = token();
    let auth = |value: String| TestRequest::get().insert_header(("Authorization", value));
    for value in [format!("Bearer {token}"), format!("bearer {token}")] {
        through(middleware, auth(value))
            .await
            .assert_ok("verified device-1");
    }
    for (req, kind) in [
        (auth("Basic x".into()), RejectionKind::Scheme),
        (auth("Bearer".into()), RejectionKind::Missing),
        (auth(format!("Bearer  {token}")), RejectionKind::Scheme),
        (auth("Bearer a b".into()), RejectionKind::Scheme),
        (TestRequest::get(), RejectionKind::Missing),
        (
            TestRequest::get().insert_header(("Approov-Token", token.clone())),
            RejectionKind::Missing,
        ),
    ] {
        through(middleware, req).await.assert_rejected(kind);
    }
}

#[actix_web::test]
async fn a_verifier_with_a_scheme_reads_bearer_tokens() {
    assert_cases(&ApproovMiddleware::new(bearer_verifier())).await;
}

#[actix_web::test]
async fn the_middleware_options_set_the_scheme() {
    let middleware = ApproovMiddleware::new(verifier())
        .token_header("Authorization")
        .expect("valid name")
        .token_scheme("Bearer")
        .expect("valid scheme");
    assert_eq!(middleware.verifier().token_scheme(), Some("Bearer"));
    assert_cases(&middleware).await;
    assert!(
        ApproovMiddleware::new(verifier())
            .token_scheme("Bear er")
            .is_err()
    );
    let bare = middleware.without_token_scheme();
    assert_eq!(bare.verifier().token_scheme(), None);
    through(
        &bare,
        TestRequest::get().insert_header(("Authorization", token())),
    )
    .await
    .assert_ok("verified device-1");
}
