//! `axum-hello`: an axum 0.8 API protected by Approov with `approov-tower`.
//!
//! `GET /` needs a valid Approov token, `GET /token-binding` also needs the
//! token bound to the `Authorization` header, `GET` and `POST
//! /message-signing` also need the request signed with the installation key
//! of the token's `ipk` (and its `Content-Digest`, when sent, to match the
//! body), `GET /health` is open.
//! Run: `APPROOV_BASE64_SECRET=... cargo run -p approov-examples --bin axum-hello`
//! (without the secret it makes a development one and prints a token).

use std::io;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use approov_core::signing::{MessageSigning, SignaturePolicy};
use approov_examples::{ServeLimits, Setup, StartError, served};
use approov_tower::{Approov, ApproovLayer};
use axum::{Json, Router, routing::get};
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

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
        .body_read_timeout(setup.limits.body_read_timeout)
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
    let listener = match TcpListener::from_std(setup.listener) {
        Ok(listener) => listener,
        Err(e) => return served(Err(e)),
    };
    serve(listener, app, setup.limits).await;
    ExitCode::SUCCESS
}

/// Serves `app` within `limits`, for as long as the process runs.
/// `axum::serve` would do it without limits: no request-head or idle
/// timeout and no connection cap.
async fn serve(listener: TcpListener, app: Router, limits: ServeLimits) {
    // HTTP/1.1, as `axum::serve` speaks with axum's `http1` feature.
    // (hyper-util's `auto::Builder` adds HTTP/2, but waits without a timeout
    // for the first bytes that tell the two apart.)
    let mut http = http1::Builder::new();
    // Without a timer hyper ignores `header_read_timeout`. hyper arms it
    // whenever it waits for a request head: on a new connection and on a
    // kept-alive one after each response (`State::idle` in hyper's
    // `proto/h1/conn.rs` asks for the next read, which starts the timer). So
    // it is the idle keep-alive timeout too, and gets the shorter of the two.
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout.min(limits.idle_timeout));
    // One permit per open connection: at the cap the loop stops accepting,
    // and new connections wait in the listen backlog until one closes.
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    loop {
        let Ok(permit) = Arc::clone(&permits).acquire_owned().await else {
            return;
        };
        let stream = match listener.accept().await {
            Ok((stream, _peer)) => stream,
            Err(e) => {
                accept_failed(e).await;
                continue;
            }
        };
        let service = TowerToHyperService::new(app.clone());
        let conn = http.serve_connection(TokioIo::new(stream), service);
        tokio::spawn(async move {
            // Timeouts and clients that hang up end here; nothing to answer.
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection closed");
            }
            drop(permit);
        });
    }
}

/// Never stops the server. A connection reset before it was accepted is
/// the client's; anything else (out of file descriptors or memory) pauses
/// the loop for a second so it does not spin while connections close.
async fn accept_failed(e: io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::warn!(error = %e, "accept failed; retrying in 1 s");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// Runs only for requests with a genuine Approov token.
async fn hello(Approov(_claims): Approov) -> Json<Value> {
    // `_claims.did()`, `.ip()`... identify the device, e.g. for rate limits.
    Json(json!({ "message": "Hello, World!" }))
}

async fn health() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}
