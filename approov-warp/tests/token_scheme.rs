//! `Authorization: Bearer <token>` through warp: a verifier built with a
//! token scheme, and the same set through the filter's own options; every
//! refusal with its kind (default response, echoed kind, report-only).
#![allow(clippy::unwrap_used)]

mod common;

use approov_core::{RejectionKind, Verifier};
use approov_warp::ApproovFilter;
use common::*;

fn bearer_verifier() -> Verifier {
    verifier()
        .with_token_header("Authorization")
        .unwrap()
        .with_token_scheme(Some("Bearer"))
        .unwrap()
}

async fn assert_cases(approov: &ApproovFilter) {
    let token = token();
    let auth = |value: &str| Req::get("/").header("Authorization", value);
    assert_accepted(approov, &auth(&format!("Bearer {token}"))).await;
    assert_accepted(approov, &auth(&format!("bearer {token}"))).await;
    for (req, kind) in [
        (auth("Basic x"), RejectionKind::Scheme),
        (auth("Bearer"), RejectionKind::Missing),
        (auth(&format!("Bearer  {token}")), RejectionKind::Scheme),
        (auth("Bearer a b"), RejectionKind::Scheme),
        (Req::get("/"), RejectionKind::Missing),
        (Req::get("/").token(&token), RejectionKind::Missing),
    ] {
        assert_rejected(approov, &req, kind).await;
    }
}

#[tokio::test]
async fn a_verifier_with_a_scheme_reads_bearer_tokens() {
    assert_cases(&ApproovFilter::new(bearer_verifier())).await;
}

#[tokio::test]
async fn the_filter_options_set_the_scheme() {
    let approov = ApproovFilter::new(verifier())
        .token_header("Authorization")
        .unwrap()
        .token_scheme("Bearer")
        .unwrap();
    assert_eq!(approov.verifier().token_scheme(), Some("Bearer"));
    assert_cases(&approov).await;
    assert!(
        ApproovFilter::new(verifier())
            .token_scheme("Bear er")
            .is_err()
    );
    let bare = approov.without_token_scheme();
    assert_eq!(bare.verifier().token_scheme(), None);
    assert_accepted(&bare, &Req::get("/").header("Authorization", &token())).await;
}
