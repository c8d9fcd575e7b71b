//! Options and placement: token binding per route, report-only mode, CORS
//! preflights, custom responses, the token scheme options, and what
//! handlers can read.

mod common;

use actix_web::http::Method;
use actix_web::test::{self, TestRequest};
use actix_web::{App, HttpResponse, web};
use approov_actix::{Approov, ApproovMiddleware};
use approov_core::{ApproovClaims, ApproovOutcome, RejectionKind, TokenBinding, Verifier};
use common::*;

const AUTH: &str = "Bearer user-session-1";

fn bound() -> ApproovMiddleware {
    with_reason(ApproovMiddleware::new(verifier()))
        .token_binding(TokenBinding::new(["Authorization"]).expect("binding"))
}

fn get(token: &str) -> TestRequest {
    TestRequest::get().insert_header(("Approov-Token", token))
}

async fn through_bound(req: TestRequest) -> Reply {
    let app = test::init_service(
        App::new()
            .wrap(bound())
            .default_service(web::to(echo_outcome)),
    )
    .await;
    send(&app, req.to_request()).await
}

#[actix_web::test]
async fn binding_matching_the_authorization_header_passes() {
    let token = sign(&claims().pay_for([AUTH]));
    through_bound(get(&token).insert_header(("Authorization", AUTH)))
        .await
        .assert_ok("verified ExampleApproovTokenDID==");
}

#[actix_web::test]
async fn binding_to_another_session_is_refused() {
    let token = sign(&claims().pay_for([AUTH]));
    through_bound(get(&token).insert_header(("Authorization", "Bearer someone-else")))
        .await
        .assert_rejected(RejectionKind::Binding);
}

#[actix_web::test]
async fn binding_without_pay_is_refused() {
    through_bound(get(&token()).insert_header(("Authorization", AUTH)))
        .await
        .assert_rejected(RejectionKind::BindingMissing);
}

#[actix_web::test]
async fn binding_without_the_bound_header_is_refused() {
    let token = sign(&claims().pay_for([AUTH]));
    through_bound(get(&token))
        .await
        .assert_rejected(RejectionKind::BindingHeader);
}

#[actix_web::test]
async fn binding_with_a_repeated_or_empty_bound_header_is_refused() {
    let token = sign(&claims().pay_for([AUTH]));
    let repeated = get(&token)
        .append_header(("Authorization", AUTH))
        .append_header(("Authorization", AUTH));
    through_bound(repeated)
        .await
        .assert_rejected(RejectionKind::BindingHeader);
    through_bound(get(&token).insert_header(("Authorization", "")))
        .await
        .assert_rejected(RejectionKind::BindingHeader);
}

#[actix_web::test]
async fn binding_over_several_headers_hashes_them_in_order() {
    let binding = TokenBinding::new(["Authorization", "X-Device-Id"]).expect("binding");
    let app = test::init_service(
        App::new()
            .wrap(with_reason(
                ApproovMiddleware::new(verifier()).token_binding(binding),
            ))
            .default_service(web::to(echo_outcome)),
    )
    .await;
    let token = sign(&claims().pay_for([AUTH, "dev-7"]));
    let req = get(&token)
        .insert_header(("Authorization", AUTH))
        .insert_header(("X-Device-Id", "dev-7"));
    send(&app, req.to_request())
        .await
        .assert_ok("verified ExampleApproovTokenDID==");
    let swapped = sign(&claims().pay_for(["dev-7", AUTH]));
    let req = get(&swapped)
        .insert_header(("Authorization", AUTH))
        .insert_header(("X-Device-Id", "dev-7"));
    send(&app, req.to_request())
        .await
        .assert_rejected(RejectionKind::Binding);
}

#[actix_web::test]
async fn binding_applies_per_scope_and_per_resource() {
    let plain = with_reason(ApproovMiddleware::new(verifier()));
    let app = test::init_service(
        App::new()
            .service(
                web::scope("/open")
                    .wrap(plain.clone())
                    .default_service(web::to(echo_outcome)),
            )
            .service(
                web::scope("/bound")
                    .wrap(bound())
                    .default_service(web::to(echo_outcome)),
            )
            .service(
                web::resource("/resource-bound")
                    .wrap(bound())
                    .to(echo_outcome),
            )
            .service(web::resource("/resource-open").wrap(plain).to(echo_outcome))
            .service(web::resource("/health").to(echo_outcome)),
    )
    .await;
    let unbound_token = token();
    let bound_token = sign(&claims().pay_for([AUTH]));
    let at = |uri: &str, token: &str| {
        get(token)
            .uri(uri)
            .insert_header(("Authorization", AUTH))
            .to_request()
    };

    for uri in ["/open/x", "/resource-open"] {
        send(&app, at(uri, &unbound_token))
            .await
            .assert_ok("verified ExampleApproovTokenDID==");
        send(&app, at(uri, &bound_token))
            .await
            .assert_ok("verified ExampleApproovTokenDID==");
    }
    for uri in ["/bound/x", "/resource-bound"] {
        send(&app, at(uri, &unbound_token))
            .await
            .assert_rejected(RejectionKind::BindingMissing);
        send(&app, at(uri, &bound_token))
            .await
            .assert_ok("verified ExampleApproovTokenDID==");
    }
    let health = TestRequest::get().uri("/health").to_request();
    send(&app, health).await.assert_ok("unchecked");
    let no_token = TestRequest::get().uri("/open/x").to_request();
    send(&app, no_token)
        .await
        .assert_rejected(RejectionKind::Missing);
}

#[actix_web::test]
async fn an_app_wide_middleware_and_a_bound_resource_both_apply() {
    let app = test::init_service(
        App::new()
            .wrap(with_reason(ApproovMiddleware::new(verifier())))
            .service(web::resource("/bound").wrap(bound()).to(echo_outcome))
            .default_service(web::to(echo_outcome)),
    )
    .await;
    let unbound_token = token();
    send(&app, get(&unbound_token).uri("/other").to_request())
        .await
        .assert_ok("verified ExampleApproovTokenDID==");
    let req = get(&unbound_token)
        .uri("/bound")
        .insert_header(("Authorization", AUTH));
    send(&app, req.to_request())
        .await
        .assert_rejected(RejectionKind::BindingMissing);
    send(&app, TestRequest::get().uri("/bound").to_request())
        .await
        .assert_rejected(RejectionKind::Missing);
}

#[actix_web::test]
async fn without_token_binding_drops_the_verifiers_binding() {
    let verifier = Verifier::builder()
        .secret_base64(SECRET)
        .clock(clock())
        .token_binding(TokenBinding::new(["Authorization"]).expect("binding"))
        .build()
        .expect("verifier");
    let strict = with_reason(ApproovMiddleware::new(verifier.clone()));
    let relaxed = with_reason(ApproovMiddleware::new(verifier)).without_token_binding();
    assert!(relaxed.verifier().token_binding().is_none());
    let app = test::init_service(
        App::new()
            .service(web::resource("/strict").wrap(strict).to(echo_outcome))
            .service(web::resource("/relaxed").wrap(relaxed).to(echo_outcome)),
    )
    .await;
    let token = token();
    send(&app, get(&token).uri("/strict").to_request())
        .await
        .assert_rejected(RejectionKind::BindingMissing);
    send(&app, get(&token).uri("/relaxed").to_request())
        .await
        .assert_ok("verified ExampleApproovTokenDID==");
}

#[actix_web::test]
async fn the_token_header_can_be_renamed() {
    assert!(
        ApproovMiddleware::new(verifier())
            .token_header("bad header")
            .is_err()
    );
    assert!(ApproovMiddleware::new(verifier()).token_header("").is_err());
    let middleware = with_reason(ApproovMiddleware::new(verifier()))
        .token_header("X-Approov")
        .expect("valid name");
    assert_eq!(middleware.verifier().token_header(), "X-Approov");
    let app = test::init_service(
        App::new()
            .wrap(middleware)
            .default_service(web::to(echo_outcome)),
    )
    .await;
    let req = TestRequest::get().insert_header(("x-approov", token()));
    send(&app, req.to_request())
        .await
        .assert_ok("verified ExampleApproovTokenDID==");
    send(&app, get(&token()).to_request())
        .await
        .assert_rejected(RejectionKind::Missing);
}

#[actix_web::test]
async fn report_only_lets_rejected_requests_through_marked() {
    let app = test::init_service(
        App::new()
            .wrap(with_reason(
                ApproovMiddleware::new(verifier()).report_only(true),
            ))
            .default_service(web::to(echo_outcome)),
    )
    .await;
    send(&app, TestRequest::get().to_request())
        .await
        .assert_ok("rejected missing");
    let expired = sign(&claims().exp((NOW - 1) as f64));
    send(&app, get(&expired).to_request())
        .await
        .assert_ok("rejected expired");
    let forged = claims().sign_hs256_base64(WRONG_SECRET).expect("sign");
    send(&app, get(&forged).to_request())
        .await
        .assert_ok("rejected signature");
    send(&app, get(&token()).to_request())
        .await
        .assert_ok("verified ExampleApproovTokenDID==");
}

async fn needs_claims(Approov(claims): Approov) -> HttpResponse {
    HttpResponse::Ok().body(format!("claims {}", claims.did().unwrap_or("-")))
}

async fn maybe_claims(approov: Option<Approov>) -> HttpResponse {
    HttpResponse::Ok().body(match approov {
        Some(claims) => format!("claims {}", claims.did().unwrap_or("-")),
        None => "no claims".to_owned(),
    })
}

#[actix_web::test]
async fn asking_for_claims_of_a_rejected_token_in_report_only_mode_is_a_401() {
    let app = test::init_service(
        App::new()
            .wrap(ApproovMiddleware::new(verifier()).report_only(true))
            .route("/needs", web::get().to(needs_claims))
            .route("/maybe", web::get().to(maybe_claims)),
    )
    .await;
    let expired = sign(&claims().exp((NOW - 1) as f64));
    send(&app, get(&expired).uri("/needs").to_request())
        .await
        .assert_default_401();
    send(&app, TestRequest::get().uri("/needs").to_request())
        .await
        .assert_default_401();
    send(&app, get(&expired).uri("/maybe").to_request())
        .await
        .assert_ok("no claims");
    send(&app, get(&token()).uri("/needs").to_request())
        .await
        .assert_ok("claims ExampleApproovTokenDID==");
    send(&app, get(&token()).uri("/maybe").to_request())
        .await
        .assert_ok("claims ExampleApproovTokenDID==");
}

#[actix_web::test]
async fn extractors_on_an_unprotected_route_answer_401_not_500() {
    // The outcome is request data: `Option` of it is `None` where no
    // middleware ran, never an error.
    async fn outcome(outcome: Option<web::ReqData<ApproovOutcome>>) -> HttpResponse {
        match outcome {
            Some(_) => HttpResponse::Ok().body("outcome"),
            None => HttpResponse::Ok().body("no outcome"),
        }
    }
    let app = test::init_service(
        App::new()
            .route("/needs", web::get().to(needs_claims))
            .route("/maybe", web::get().to(maybe_claims))
            .route("/outcome", web::get().to(outcome)),
    )
    .await;
    send(&app, get(&token()).uri("/needs").to_request())
        .await
        .assert_default_401();
    send(&app, get(&token()).uri("/outcome").to_request())
        .await
        .assert_ok("no outcome");
    send(&app, get(&token()).uri("/maybe").to_request())
        .await
        .assert_ok("no claims");
}

#[actix_web::test]
async fn an_inner_rejection_hides_the_claims_an_outer_middleware_verified() {
    async fn raw_extension(data: Option<web::ReqData<ApproovClaims>>) -> HttpResponse {
        HttpResponse::Ok().body(if data.is_some() {
            "claims"
        } else {
            "no claims"
        })
    }
    let app = test::init_service(
        App::new()
            .wrap(ApproovMiddleware::new(verifier()))
            .service(
                web::resource("/bound")
                    .wrap(bound().report_only(true))
                    .to(needs_claims),
            )
            .service(
                web::resource("/bound-maybe")
                    .wrap(bound().report_only(true))
                    .to(maybe_claims),
            )
            .service(
                web::resource("/bound-raw")
                    .wrap(bound().report_only(true))
                    .to(raw_extension),
            )
            .service(web::resource("/raw").to(raw_extension)),
    )
    .await;
    send(&app, get(&token()).uri("/raw").to_request())
        .await
        .assert_ok("claims");
    send(&app, get(&token()).uri("/bound-raw").to_request())
        .await
        .assert_ok("no claims");
    send(&app, get(&token()).uri("/bound").to_request())
        .await
        .assert_default_401();
    send(&app, get(&token()).uri("/bound-maybe").to_request())
        .await
        .assert_ok("no claims");
}

#[actix_web::test]
async fn cors_preflights_pass_without_a_token_unless_disabled() {
    let preflight = || {
        TestRequest::default()
            .method(Method::OPTIONS)
            .insert_header(("Origin", "https://example.com"))
            .insert_header(("Access-Control-Request-Method", "POST"))
    };
    let app = test::init_service(
        App::new()
            .wrap(with_reason(ApproovMiddleware::new(verifier())))
            .default_service(web::to(echo_outcome)),
    )
    .await;
    send(&app, preflight().to_request())
        .await
        .assert_ok("preflight");
    // OPTIONS without Access-Control-Request-Method is not a preflight.
    let plain_options = TestRequest::default().method(Method::OPTIONS).to_request();
    send(&app, plain_options)
        .await
        .assert_rejected(RejectionKind::Missing);

    let strict = test::init_service(
        App::new()
            .wrap(with_reason(
                ApproovMiddleware::new(verifier()).skip_cors_preflight(false),
            ))
            .default_service(web::to(echo_outcome)),
    )
    .await;
    send(&strict, preflight().to_request())
        .await
        .assert_rejected(RejectionKind::Missing);
    let with_token = preflight()
        .insert_header(("Approov-Token", token()))
        .to_request();
    send(&strict, with_token)
        .await
        .assert_ok("verified ExampleApproovTokenDID==");
}

#[actix_web::test]
async fn a_custom_rejection_response_replaces_the_default() {
    let app = test::init_service(
        App::new()
            .wrap(
                ApproovMiddleware::new(verifier()).rejection_response(|rejection| {
                    HttpResponse::Forbidden()
                        .insert_header(("x-kind", rejection.kind().as_str()))
                        .body("go away")
                }),
            )
            .default_service(web::to(echo_outcome)),
    )
    .await;
    let reply = send(&app, TestRequest::get().to_request()).await;
    assert_eq!((reply.status, reply.body.as_str()), (403, "go away"));
    assert_eq!(reply.header("x-kind"), "missing");
    assert_eq!(reply.header("www-authenticate"), "");
    send(&app, get(&token()).to_request())
        .await
        .assert_ok("verified ExampleApproovTokenDID==");
}

#[actix_web::test]
async fn claims_and_outcome_reach_the_handler_through_every_door() {
    async fn handler(
        Approov(claims): Approov,
        outcome: web::ReqData<ApproovOutcome>,
        data: web::ReqData<ApproovClaims>,
    ) -> HttpResponse {
        let same =
            matches!(&*outcome, ApproovOutcome::Verified(c) if *c == claims) && *data == claims;
        HttpResponse::Ok().body(format!(
            "{} {} {} {} {}",
            claims.did().unwrap_or("-"),
            claims.ip().unwrap_or("-"),
            claims.pay().unwrap_or("-"),
            claims
                .claim("tier")
                .map(|v| v.to_string())
                .unwrap_or_default(),
            same,
        ))
    }
    let app = test::init_service(App::new().wrap(bound()).route("/", web::get().to(handler))).await;
    let token = sign(&claims().pay_for([AUTH]).claim("tier", "gold"));
    let req = get(&token).insert_header(("Authorization", AUTH));
    let pay = approov_core::binding_hash([AUTH]);
    send(&app, req.to_request()).await.assert_ok(&format!(
        "ExampleApproovTokenDID== 1.2.3.4 {pay} \"gold\" true"
    ));
}

#[test]
fn the_middleware_can_be_built_once_and_moved_into_the_server_factory() {
    // `HttpServer::new` takes a `Send + Clone` factory closure.
    fn shareable<T: Send + Sync + Clone + std::fmt::Debug + 'static>(_: &T) {}
    shareable(&with_reason(ApproovMiddleware::new(verifier())));
}

#[actix_web::test]
async fn the_middleware_is_clone_and_debug_without_secrets() {
    let middleware = with_reason(ApproovMiddleware::new(verifier()).report_only(true));
    let debug = format!("{:?}", middleware.clone());
    assert!(debug.contains("ApproovMiddleware"), "{debug}");
    assert!(debug.contains("report_only: true"), "{debug}");
    assert!(debug.contains("custom"), "{debug}");
    assert!(!debug.contains(SECRET), "{debug}");
    assert!(middleware.gate().is_report_only());
}

#[actix_web::test]
async fn the_token_scheme_options_check_their_input_and_turn_off() {
    let middleware = ApproovMiddleware::new(verifier())
        .token_header("Authorization")
        .and_then(|m| m.token_scheme("Bearer"))
        .expect("valid options");
    assert_eq!(middleware.verifier().token_scheme(), Some("Bearer"));
    assert!(
        ApproovMiddleware::new(verifier())
            .token_scheme("Bear er")
            .is_err()
    );
    assert!(ApproovMiddleware::new(verifier()).token_scheme("").is_err());
    let bare = middleware.without_token_scheme();
    assert_eq!(bare.verifier().token_scheme(), None);
    let app = test::init_service(
        App::new()
            .wrap(with_reason(bare))
            .default_service(web::to(echo_outcome)),
    )
    .await;
    let req = TestRequest::get().insert_header(("Authorization", token()));
    send(&app, req.to_request())
        .await
        .assert_ok(&format!("verified {DID}"));
}
