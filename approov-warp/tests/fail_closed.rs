//! The fail-closed form: `approov.protect_all(routes)` protects every route
//! of `routes`, in whatever order they were combined (a route without any
//! Approov filter of its own, last in the `or` chain, included), except
//! the open paths, which match exactly.

mod common;

use approov_core::ApproovOutcome;
use approov_warp::ApproovFilter;
use common::*;
use warp::Filter;
use warp::http::StatusCode;

fn app() -> impl Filter<Extract = (warp::reply::Response,), Error = warp::Rejection> + Clone {
    let approov = ApproovFilter::new(verifier())
        .open_paths(["/health"])
        .expect("open paths");
    let outcome = || {
        warp::any()
            .and(approov.outcome())
            .map(|outcome: ApproovOutcome| match outcome {
                ApproovOutcome::Verified(_) => "verified",
                ApproovOutcome::OpenPath => "open path",
                _ => "other",
            })
    };
    let first = warp::path!("first").map(|| "first");
    let health = warp::path!("health").map(|| "ok");
    let nested = warp::path!("api" / "health").and(outcome());
    // Added last, with no Approov filter of its own.
    let after = warp::path!("after").map(|| "after");
    approov.protect_all(first.or(health).or(nested).or(after))
}

async fn get(path: &str, token: Option<&str>) -> (StatusCode, String) {
    let mut request = warp::test::request().method("GET").path(path);
    if let Some(token) = token {
        request = request.header("Approov-Token", token);
    }
    let response = request.reply(&app()).await;
    let body = String::from_utf8(response.body().to_vec()).expect("utf-8");
    (response.status(), body)
}

#[tokio::test]
async fn every_route_inside_is_protected_whatever_its_place() {
    for path in ["/first", "/after", "/api/health", "/unknown"] {
        assert_eq!(
            get(path, None).await,
            (StatusCode::UNAUTHORIZED, "{}".to_owned()),
            "{path}"
        );
    }
    let token = token();
    assert_eq!(
        get("/after", Some(&token)).await,
        (StatusCode::OK, "after".into())
    );
    assert_eq!(
        get("/first", Some(&token)).await,
        (StatusCode::OK, "first".into())
    );
    assert_eq!(
        get("/api/health", Some(&token)).await,
        (StatusCode::OK, "verified".into())
    );
    // A genuine token on an unknown path: warp's own 404.
    assert_eq!(get("/unknown", Some(&token)).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn only_the_exact_open_path_is_open() {
    for open in ["/health", "/health?probe=1"] {
        assert_eq!(
            get(open, None).await,
            (StatusCode::OK, "ok".into()),
            "{open}"
        );
    }
    for checked in [
        "/health/",
        "/HEALTH",
        "/Health",
        "//health",
        "/%68ealth",
        "/health%2F",
        "/health%3Fx",
        "/health/..",
        "/./health",
    ] {
        assert_eq!(
            get(checked, None).await,
            (StatusCode::UNAUTHORIZED, "{}".to_owned()),
            "{checked}"
        );
    }
}
