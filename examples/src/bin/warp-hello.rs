//! `warp-hello`: a warp 0.4 API protected by Approov with `approov-warp`.
//!
//! `GET /` needs a valid Approov token, `GET /token-binding` also needs the
//! token bound to the `Authorization` header, `GET /health` is open.
//! `GET` and `POST /message-signing` also need the request signed with the
//! app's installation key (HTTP message signatures, the token's `ipk`), and
//! a `Content-Digest`, when sent, to match the body.
//! Run: `APPROOV_BASE64_SECRET=... cargo run -p approov-examples --bin warp-hello`
//! (without the secret it makes a development one and prints a token).

use std::io;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use approov_examples::{ServeLimits, Setup, StartError, served};
use approov_warp::{Approov, ApproovClaims, MessageSigning, SignaturePolicy};
use bytes::Bytes;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use warp::{Filter, Rejection, Reply};

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
        .body_read_timeout(setup.limits.body_read_timeout)
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
    let listener = match TcpListener::from_std(setup.listener) {
        Ok(listener) => listener,
        Err(e) => return served(Err(e)),
    };
    serve(listener, routes, setup.limits).await;
    ExitCode::SUCCESS
}

/// Serves `routes` within `limits`, for as long as the process runs.
/// `warp::serve` would do it without limits: no request-head or idle
/// timeout and no connection cap.
async fn serve<F>(listener: TcpListener, routes: F, limits: ServeLimits)
where
    F: Filter<Error = Rejection> + Clone + Send + Sync + 'static,
    F::Extract: Reply,
{
    // HTTP/1.1, as `warp::serve` speaks by default. (hyper-util's
    // `auto::Builder` adds HTTP/2, but waits without a timeout for the
    // first bytes that tell the two apart.)
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
        let service = TowerToHyperService::new(warp::service(routes.clone()));
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
fn hello(_claims: ApproovClaims) -> warp::reply::Json {
    // `_claims.did()`, `.ip()`... identify the device, e.g. for rate limits.
    warp::reply::json(&json!({ "message": "Hello, World!" }))
}
