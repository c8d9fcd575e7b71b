//! `warp-hello`: a warp 0.4 API protected by Approov with `approov-warp`.
//!
//! `GET /` needs a valid Approov token, `GET /token-binding` also needs the
//! token bound to the `Authorization` header, `GET /health` is open.
//! `GET` and `POST /message-signing` also need the request signed with the
//! app's installation key (HTTP message signatures, the token's `ipk`), and
//! a `Content-Digest`, when sent, to match the body.
//! Run: `APPROOV_BASE64_SECRET=... cargo run -p approov-examples --bin warp-hello`
//! (without the secret it makes a development one and prints a token).

use std::process::ExitCode;

use approov_examples::{Setup, StartError, served};
use approov_warp::{Approov, ApproovClaims, MessageSigning, SignaturePolicy};
use bytes::Bytes;
use serde_json::json;
use warp::Filter;

#[tokio::main]
async fn main() -> ExitCode {
    let setup = match Setup::from_env() {
        Ok(setup) => setup,
        Err(e) => return e.exit(),
    };
    let approov = Approov::new(setup.verifier);
    let bound = approov.clone().token_binding(setup.token_binding);
    // Every request to /message-signing must be signed, whether or not its
    // token has `ipk` (the default policy asks only tokens that have one).
    let signing = match MessageSigning::builder()
        .policy(SignaturePolicy::Always)
        .build()
    {
        Ok(signing) => signing,
        Err(e) => return StartError::from(e).exit(),
    };
    let signed = approov.clone().message_signing(signing);
    // Path first, then the token, then the method: unknown paths stay 404
    // and a wrong method is 401 without a token, 405 with one (as in the
    // axum and actix examples).
    let hello_route = warp::path::end()
        .and(approov.claims())
        .and(warp::get())
        .map(hello);
    let token_binding = warp::path!("token-binding")
        .and(bound.claims())
        .and(warp::get())
        .map(hello);
    // `signed_claims` takes the body, checks it against the signed
    // Content-Digest and hands it on; the body can be taken only once, so
    // one route serves both methods.
    let message_signing = warp::path!("message-signing")
        .and(signed.signed_claims())
        .and(warp::get().or(warp::post()).unify())
        .map(|claims: ApproovClaims, _body: Bytes| hello(claims));
    let health = warp::path!("health")
        .and(warp::get())
        .map(|| warp::reply::json(&json!({ "status": "ok" })));
    // Without `recover`, warp would answer our rejections with 500.
    let routes = hello_route
        .or(token_binding)
        .or(message_signing)
        .or(health)
        .recover(approov_warp::recover);
    let listener = match tokio::net::TcpListener::from_std(setup.listener) {
        Ok(listener) => listener,
        Err(e) => return served(Err(e)),
    };
    warp::serve(routes).incoming(listener).run().await;
    ExitCode::SUCCESS
}

/// Runs only for requests with a genuine Approov token.
fn hello(_claims: ApproovClaims) -> warp::reply::Json {
    // `_claims.did()`, `.ip()`... identify the device, e.g. for rate limits.
    warp::reply::json(&json!({ "message": "Hello, World!" }))
}
