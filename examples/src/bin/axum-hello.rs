//! `axum-hello`: an axum 0.8 API protected by Approov with `approov-tower`.
//!
//! `GET /` needs a valid Approov token, `GET /token-binding` also needs the
//! token bound to the `Authorization` header, `GET /health` is open.
//! Run: `APPROOV_BASE64_SECRET=... cargo run -p approov-examples --bin axum-hello`
//! (without the secret it makes a development one and prints a token).

use std::process::ExitCode;

use approov_examples::{Setup, served};
use approov_tower::{Approov, ApproovLayer};
use axum::{Json, Router, routing::get};
use serde_json::{Value, json};

#[tokio::main]
async fn main() -> ExitCode {
    let setup = match Setup::from_env() {
        Ok(setup) => setup,
        Err(e) => return e.exit(),
    };
    let approov = ApproovLayer::new(setup.verifier);
    // `route_layer` protects these routes only: unknown paths stay 404.
    let app = Router::new()
        .route("/", get(hello))
        .route_layer(approov.clone())
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
