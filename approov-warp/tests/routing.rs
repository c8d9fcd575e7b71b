//! How our rejection meets warp's routing: the filter rejects with our own
//! type, `recover` is needed (warp alone answers 500), it leaves other
//! rejections alone, and our 401 wins over the 404/405 of routes joined
//! with `or`.

mod common;

use approov_core::RejectionKind;
use approov_warp::{ApproovFilter, NoClaims};
use common::*;
use warp::Filter;
use warp::http::StatusCode;

fn approov() -> ApproovFilter {
    ApproovFilter::new(verifier())
}

#[tokio::test]
async fn without_recover_warp_answers_500() {
    // This is why `recover` exists: do not ship routes without it.
    let app = boxed(approov().protect().map(|| "ok"));
    let res = send(&app, &Req::get("/")).await;
    assert_eq!(res.status, StatusCode::INTERNAL_SERVER_ERROR);
}

#[tokio::test]
async fn recover_answers_the_default_401() {
    send(&protected(&approov()), &Req::get("/"))
        .await
        .assert_default_rejection();
}

#[tokio::test]
async fn recover_passes_other_rejections_on_unchanged() {
    let app = boxed(
        warp::path!("a")
            .and(warp::get())
            .map(|| "a")
            .recover(approov_warp::recover),
    );
    let res = send(&app, &Req::get("/nowhere")).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let res = send(&app, &Req::get("/a").method("POST")).await;
    assert_eq!(res.status, StatusCode::METHOD_NOT_ALLOWED);

    let direct = approov_warp::recover(warp::reject::not_found()).await;
    assert!(direct.expect_err("passed on").is_not_found());
}

#[tokio::test]
async fn a_later_recover_still_sees_other_rejections() {
    let app = boxed(
        warp::path!("a")
            .and(approov().protect())
            .map(|| "a")
            .recover(approov_warp::recover)
            .recover(|err: warp::Rejection| async move {
                if err.is_not_found() {
                    Ok(warp::reply::with_status(
                        "custom 404",
                        StatusCode::NOT_FOUND,
                    ))
                } else {
                    Err(err)
                }
            }),
    );
    let res = send(&app, &Req::get("/b")).await;
    assert_eq!(
        (res.status, res.body.as_str()),
        (StatusCode::NOT_FOUND, "custom 404")
    );
    send(&app, &Req::get("/a")).await.assert_default_rejection();
}

#[tokio::test]
async fn our_401_wins_over_405_and_404_from_other_routes() {
    let approov = approov();
    // GET /item is protected; POST /item and /health are not.
    let get_item = warp::path!("item")
        .and(warp::get())
        .and(approov.protect())
        .map(|| "got");
    let post_item = warp::path!("item").and(warp::post()).map(|| "posted");
    let health = warp::path!("health").map(|| "healthy");

    let orders = [
        boxed(
            get_item
                .clone()
                .or(post_item)
                .unify()
                .or(health)
                .unify()
                .recover(approov_warp::recover),
        ),
        boxed(
            post_item
                .or(get_item.clone())
                .unify()
                .or(health)
                .unify()
                .recover(approov_warp::recover),
        ),
        boxed(
            health
                .or(post_item)
                .unify()
                .or(get_item)
                .unify()
                .recover(approov_warp::recover),
        ),
    ];
    for app in &orders {
        send(app, &Req::get("/item"))
            .await
            .assert_default_rejection();
        let res = send(app, &Req::get("/item").token(&token())).await;
        assert_eq!((res.status, res.body.as_str()), (StatusCode::OK, "got"));
        let res = send(app, &Req::get("/item").method("POST")).await;
        assert_eq!((res.status, res.body.as_str()), (StatusCode::OK, "posted"));
        let res = send(app, &Req::get("/health")).await;
        assert_eq!(res.status, StatusCode::OK);
        // Paths and methods no route takes keep warp's own answers.
        let res = send(app, &Req::get("/nowhere")).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND);
        let res = send(app, &Req::get("/item").method("DELETE")).await;
        assert_eq!(res.status, StatusCode::METHOD_NOT_ALLOWED);
    }
}

#[tokio::test]
async fn our_rejection_is_found_in_a_combined_rejection() {
    let approov = approov();
    let routes = warp::path!("item")
        .and(warp::get())
        .and(approov.protect())
        .map(|| "got")
        .or(warp::path!("item").and(warp::post()).map(|| "posted"));
    let err = warp::test::request()
        .path("/item")
        .header("approov-token", "garbage")
        .filter(&routes)
        .await
        .expect_err("refused");
    let ours = err.find::<NoClaims>().expect("ours");
    assert_eq!(ours.kind(), RejectionKind::Malformed);
}

#[tokio::test]
async fn protecting_everything_at_once() {
    let approov = approov();
    let routes = warp::path!("a")
        .map(|| "a")
        .or(warp::path!("b").map(|| "b"))
        .unify();
    let app = boxed(approov.protect().and(routes).recover(approov_warp::recover));
    for path in ["/a", "/b", "/nowhere"] {
        send(&app, &Req::get(path)).await.assert_default_rejection();
    }
    let res = send(&app, &Req::get("/b").token(&token())).await;
    assert_eq!((res.status, res.body.as_str()), (StatusCode::OK, "b"));
    // With a token, unknown paths are warp's 404 again.
    let res = send(&app, &Req::get("/nowhere").token(&token())).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_rejection_response_uses_the_routes_own_configuration() {
    let plain = approov();
    let custom = approov()
        .rejection_response(|_| warp::reply::with_status("custom", StatusCode::UNAUTHORIZED));
    let app = boxed(
        warp::path!("plain")
            .and(plain.protect())
            .map(|| "plain")
            .or(warp::path!("custom").and(custom.protect()).map(|| "custom"))
            .unify()
            .recover(approov_warp::recover),
    );
    send(&app, &Req::get("/plain"))
        .await
        .assert_default_rejection();
    let res = send(&app, &Req::get("/custom")).await;
    assert_eq!(
        (res.status, res.body.as_str()),
        (StatusCode::UNAUTHORIZED, "custom")
    );
}

#[tokio::test]
async fn the_kind_comes_from_the_filter_itself() {
    // Without any response mapping: the rejection warp sees is ours.
    let filter = approov().outcome();
    let err = warp::test::request()
        .header("approov-token", "garbage")
        .filter(&filter)
        .await
        .expect_err("garbage is refused");
    let ours = err.find::<NoClaims>().expect("ours");
    assert_eq!(ours.kind(), RejectionKind::Malformed);
    assert_eq!(ours.rejection().kind(), RejectionKind::Malformed);
    assert!(!ours.has_custom_response());
    // Never any part of the token in what gets logged.
    let expired = sign(&claims().claim("exp", (NOW - 1) as f64));
    let err = warp::test::request()
        .header("approov-token", &expired)
        .filter(&filter)
        .await
        .expect_err("expired");
    let debug = format!("{err:?}");
    assert!(debug.contains("Expired"), "{debug}");
    for segment in expired.split('.') {
        assert!(!debug.contains(segment), "{debug}");
    }
}
