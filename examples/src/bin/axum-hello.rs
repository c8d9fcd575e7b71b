//! `axum-hello`: an axum 0.8 API protected by Approov with `approov-tower`.
//!
//! `GET /` needs a valid Approov token, `GET /token-binding` also needs the
//! token bound to the `Authorization` header, `GET` and `POST
//! /message-signing` also need the request signed with the installation key
//! of the token's `ipk` (and its `Content-Digest`, when sent, to match the
//! body), `GET /health` is open.
//! Run: `APPROOV_BASE64_SECRET=... cargo run -p approov-examples --bin axum-hello`
//! (without the secret it makes a development one and prints a token).

use std::process::ExitCode;

use approov_core::signing::{MessageSigning, SignaturePolicy};
use approov_examples::{Setup, StartError, served};
use approov_tower::{Approov, ApproovLayer};
use axum::{Json, Router, routing::get};
use serde_json::{Value, json};

#[tokio::main]
async fn main() -> ExitCode {
    let setup = match Setup::from_env() {
        Ok(setup) => setup,
        Err(e) => return e.exit(),
    };
    // Installation signature required always, so a token without `ipk` is
    // refused; a Content-Digest, when sent, is checked against the body.
    let signing = match MessageSigning::builder()
        .policy(SignaturePolicy::Always)
        .build()
    {
        Ok(signing) => signing,
        Err(e) => return StartError::from(e).exit(),
    };
    let approov = ApproovLayer::new(setup.verifier);
    // `route_layer` protects these routes only: unknown paths stay 404.
    let app = Router::new()
        .route("/", get(hello))
        .route_layer(approov.clone())
        .merge(
            Router::new()
                .route("/message-signing", get(hello).post(hello))
                .route_layer(approov.clone().message_signing(signing)),
        )
        .merge(
            Router::new()
                .route("/token-binding", get(hello))
                .route_layer(approov.token_binding(setup.token_binding)),
        )
        .route("/health", get(health));
    let listener = match tokio::net::TcpListener::from_std(setup.listener) {
        Ok(listener) => listener,
        Err(e) => return served(Err(e)),
    };
    served(axum::serve(listener, app).await)
}

/// Runs only for requests with a genuine Approov token.
async fn hello(Approov(_claims): Approov) -> Json<Value> {
    // `_claims.did()`, `.ip()`... identify the device, e.g. for rate limits.
    Json(json!({ "message": "Hello, World!" }))
}

async fn health() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}
