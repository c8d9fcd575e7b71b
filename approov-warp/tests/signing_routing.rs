//! Message signing meets warp's routing: `filter`/`claims`/`protect` check
//! the signatures of bodiless requests, and a refusal by a signed route
//! (401, 413, 400) is what the client gets, never the 404/405 of the routes
//! that did not match nor the 500 of a later route that found the body
//! gone, in every order of `or`.
#![allow(clippy::unwrap_used)]

mod common;

use approov_core::RejectionKind;
use approov_core::mint::InstallKey;
use approov_core::signing::MessageSigning;
use approov_warp::{ApproovClaims, ApproovFilter};
use bytes::Bytes;
use common::signing::*;
use common::*;
use warp::Filter;
use warp::http::StatusCode;

fn signed_get(key: &InstallKey, path: &str) -> Req {
    let uri = format!("http://api.example.com{path}");
    let signed = approov_core::mint::RequestSigner::new("GET", &uri)
        .unwrap()
        .header("Approov-Token", &token_for(key))
        .created(NOW as i64)
        .sign_install(key)
        .finish()
        .unwrap();
    req_of(&signed)
}

fn signed_post_to(key: &InstallKey, path: &str, body: &[u8]) -> Req {
    let uri = format!("http://api.example.com{path}");
    let signed = approov_core::mint::RequestSigner::new("POST", &uri)
        .unwrap()
        .header("Approov-Token", &token_for(key))
        .body(body)
        .created(NOW as i64)
        .sign_install(key)
        .finish()
        .unwrap();
    req_of(&signed)
}

// --- The bodiless filters -----------------------------------------------------

#[tokio::test]
async fn protect_checks_the_signature_of_a_bodiless_request() {
    let key = InstallKey::generate().unwrap();
    let approov = signing_approov();
    let req = signed_get(&key, "/");
    assert_accepted(&approov, &req).await;

    let unsigned = Req::get("/").token(&token_for(&key));
    assert_rejected(&approov, &unsigned, RejectionKind::SignatureMissing).await;
    // A header the signature does not cover may be added.
    let extra = signed_get(&key, "/").header("X-Unsigned", "yes");
    assert_accepted(&approov, &extra).await;
    // Signed for another path.
    let mut moved = get(&token_for(&key)).sign_install(&key).finish().unwrap();
    moved.path_and_query = "/".into();
    assert_rejected(&approov, &req_of(&moved), RejectionKind::SignatureInvalid).await;
    // The default policy: a token without ipk needs no signature.
    assert_accepted(&approov, &Req::get("/").token(&token())).await;
}

#[tokio::test]
async fn protect_refuses_a_content_digest_it_cannot_check() {
    let key = InstallKey::generate().unwrap();
    let req = signed_post_to(&key, "/", BODY);
    assert_rejected(&signing_approov(), &req, RejectionKind::DigestInvalid).await;
}

#[tokio::test]
async fn claims_gives_the_claims_of_a_signed_request() {
    let key = InstallKey::generate().unwrap();
    let approov = signing_approov();
    let app = boxed(
        approov
            .claims()
            .map(|claims: ApproovClaims| claims.ipk().unwrap_or_default().to_owned())
            .recover(approov_warp::recover),
    );
    let res = send(&app, &signed_get(&key, "/")).await;
    assert_eq!((res.status, res.body), (StatusCode::OK, key.ipk()));
    send(&app, &Req::get("/").token(&token_for(&key)))
        .await
        .assert_default_rejection();
}

#[tokio::test]
async fn the_signing_policy_off_checks_nothing_more() {
    let key = InstallKey::generate().unwrap();
    let off = ApproovFilter::new(verifier()).message_signing(MessageSigning::off());
    assert_accepted(&off, &Req::get("/").token(&token_for(&key))).await;
    let (app, _) = signed_app(&off);
    let req = req_of(&post(&token_for(&key)).finish().unwrap()).body(&b"tampered"[..]);
    assert_eq!(send(&app, &req).await.status, StatusCode::OK);
}

// --- `or` chains --------------------------------------------------------------

/// GET /item (claims), POST /item (signed_claims), POST /raw (warp's own
/// body filter, unprotected) and GET /health, joined in the given order.
fn app_in_order(approov: &ApproovFilter, order: [usize; 4]) -> App {
    let get_item = warp::path!("item")
        .and(warp::get())
        .and(approov.claims())
        .map(|_: ApproovClaims| "got".to_owned())
        .boxed();
    let post_item = warp::path!("item")
        .and(warp::post())
        .and(approov.signed_claims())
        .map(|_: ApproovClaims, body: Bytes| format!("posted {}", body.len()))
        .boxed();
    let raw = warp::path!("raw")
        .and(warp::post())
        .and(warp::body::bytes())
        .map(|body: Bytes| format!("raw {}", body.len()))
        .boxed();
    let health = warp::path!("health")
        .and(warp::get())
        .map(|| "healthy".to_owned())
        .boxed();
    let routes = [get_item, post_item, raw, health];
    let [a, b, c, d] = order.map(|i| routes[i].clone());
    boxed(
        a.or(b)
            .unify()
            .or(c)
            .unify()
            .or(d)
            .unify()
            .recover(approov_warp::recover),
    )
}

#[tokio::test]
async fn a_signed_routes_refusal_wins_in_every_order() {
    let key = InstallKey::generate().unwrap();
    let approov = approov_with(MessageSigning::builder().max_body_len(1024));
    let orders = [[0, 1, 2, 3], [1, 0, 2, 3], [3, 2, 1, 0], [2, 3, 0, 1]];
    for order in orders {
        let app = app_in_order(&approov, order);
        let status = |res: &Res| (res.status, res.body.clone());

        // Accepted.
        let res = send(&app, &signed_post_to(&key, "/item", BODY)).await;
        assert_eq!(
            status(&res),
            (StatusCode::OK, format!("posted {}", BODY.len()))
        );
        let res = send(&app, &signed_get(&key, "/item")).await;
        assert_eq!(status(&res), (StatusCode::OK, "got".into()));

        // 401, not the GET route's 405.
        let unsigned = Req::get("/item")
            .method("POST")
            .token(&token_for(&key))
            .body(BODY);
        send(&app, &unsigned).await.assert_default_rejection();
        let other_body = signed_post_to(&key, "/item", BODY).body(&b"{}"[..]);
        send(&app, &other_body).await.assert_default_rejection();
        send(&app, &Req::get("/item").token(&token_for(&key)))
            .await
            .assert_default_rejection();

        // 413 and 400, not 405.
        let big = signed_post_to(&key, "/item", &[b'x'; 1025]);
        let res = send(&app, &big).await;
        assert_eq!(status(&res), (StatusCode::PAYLOAD_TOO_LARGE, "{}".into()));
        let broken = signed_post_to(&key, "/item", BODY).chunks([Chunk::Error]);
        let res = send(&app, &broken).await;
        assert_eq!(status(&res), (StatusCode::BAD_REQUEST, "{}".into()));

        // The other routes keep their answers.
        let res = send(&app, &Req::get("/raw").method("POST").body(&b"abc"[..])).await;
        assert_eq!(status(&res), (StatusCode::OK, "raw 3".into()));
        let res = send(&app, &Req::get("/health")).await;
        assert_eq!(status(&res), (StatusCode::OK, "healthy".into()));
        let res = send(&app, &Req::get("/nowhere")).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND);
        let res = send(&app, &Req::get("/item").method("DELETE")).await;
        assert_eq!(res.status, StatusCode::METHOD_NOT_ALLOWED);
    }
}

#[tokio::test]
async fn a_later_route_that_finds_the_body_gone_does_not_turn_a_refusal_into_500() {
    // Both routes take POST /item; the signed one takes the body first.
    let key = InstallKey::generate().unwrap();
    let approov = approov_with(MessageSigning::builder().max_body_len(1024));
    let signed = warp::path!("item")
        .and(warp::post())
        .and(approov.signed_claims())
        .map(|_: ApproovClaims, _: Bytes| "signed");
    let fallback = warp::path!("item")
        .and(warp::post())
        .and(warp::body::bytes())
        .map(|_: Bytes| "fallback");
    let app = boxed(signed.or(fallback).unify().recover(approov_warp::recover));

    let unsigned = Req::get("/item")
        .method("POST")
        .token(&token_for(&key))
        .header("Content-Digest", "sha-256=:AAAA:")
        .body(BODY);
    send(&app, &unsigned).await.assert_default_rejection();
    let res = send(&app, &signed_post_to(&key, "/item", &[b'x'; 1025])).await;
    assert_eq!(res.status, StatusCode::PAYLOAD_TOO_LARGE);
    let res = send(&app, &signed_post_to(&key, "/item", BODY)).await;
    assert_eq!((res.status, res.body.as_str()), (StatusCode::OK, "signed"));
}

#[tokio::test]
async fn protecting_everything_at_once_with_signed() {
    // `signed()` in front of every route: each sees the outcome and body.
    let key = InstallKey::generate().unwrap();
    let approov = signing_approov();
    let routes = warp::path!("a")
        .map(|| "a")
        .or(warp::path!("b").map(|| "b"))
        .unify();
    let app = boxed(
        approov
            .signed()
            .map(|_, _| ())
            .untuple_one()
            .and(routes)
            .recover(approov_warp::recover),
    );
    for path in ["/a", "/b", "/nowhere"] {
        let unsigned = Req::get(path).token(&token_for(&key));
        send(&app, &unsigned).await.assert_default_rejection();
    }
    let res = send(&app, &signed_get(&key, "/b")).await;
    assert_eq!((res.status, res.body.as_str()), (StatusCode::OK, "b"));
    let res = send(&app, &signed_get(&key, "/nowhere")).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
}
