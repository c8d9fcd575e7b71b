//! `actix-hello`: an actix-web 4 API protected by Approov with `approov-actix`.
//!
//! `GET /` needs a valid Approov token, `GET /token-binding` also needs the
//! token bound to the `Authorization` header, `GET` and `POST
//! /message-signing` also need the app's HTTP message signature (RFC 9421,
//! with the body's `Content-Digest` checked when sent), `GET /health` is
//! open.
//! Run: `APPROOV_BASE64_SECRET=... cargo run -p approov-examples --bin actix-hello`
//! (without the secret it makes a development one and prints a token).

use std::num::NonZero;
use std::process::ExitCode;
use std::time::Duration;

use actix_web::{App, HttpResponse, HttpServer, web};
use approov_actix::{Approov, ApproovMiddleware};
use approov_core::signing::{MessageSigning, SignaturePolicy};
use approov_examples::{Setup, StartError, served};
use serde_json::json;

#[actix_web::main]
async fn main() -> ExitCode {
    let setup = match Setup::from_env() {
        Ok(setup) => setup,
        Err(e) => return e.exit(),
    };
    let approov = ApproovMiddleware::new(setup.verifier);
    let bound = approov.clone().token_binding(setup.token_binding);
    // Every request must be signed by the app installation whose key the
    // token names; a `Content-Digest`, when sent, must match the body.
    let signing = match MessageSigning::builder()
        .policy(SignaturePolicy::Always)
        .body_read_timeout(setup.limits.body_read_timeout)
        .build()
    {
        Ok(signing) => signing,
        Err(e) => return StartError::from(e).exit(),
    };
    let signed = approov.clone().message_signing(signing);
    let limits = setup.limits;
    // actix-web caps connections per worker thread: share the cap out
    // (rounded down) so that all workers together stay within it.
    let workers = std::thread::available_parallelism()
        .map_or(1, NonZero::get)
        .min(limits.max_connections);
    // Wrapping each resource, not the App, keeps unknown paths 404.
    let server = HttpServer::new(move || {
        App::new()
            .service(web::resource("/").wrap(approov.clone()).get(hello))
            .service(
                web::resource("/token-binding")
                    .wrap(bound.clone())
                    .get(hello),
            )
            .service(
                web::resource("/message-signing")
                    .wrap(signed.clone())
                    .get(hello)
                    .post(hello),
            )
            .service(web::resource("/health").get(health))
    })
    .workers(workers)
    .max_connections(limits.max_connections / workers)
    // A request head not complete in time gets 408 and the connection
    // closes. actix-http 3 times only the first head of a connection: a
    // later one, on a kept-alive connection, is not timed (turn keep-alive
    // off with `KeepAlive::Disabled` if that matters more than speed).
    .client_request_timeout(limits.header_read_timeout)
    // A kept-alive connection waiting for its next request closes after this.
    .keep_alive(limits.idle_timeout)
    // A client that does not close its side after our last response.
    .client_disconnect_timeout(Duration::from_secs(1))
    .listen(setup.listener);
    match server {
        Ok(server) => served(server.run().await),
        Err(e) => served(Err(e)),
    }
}

/// Runs only for requests with a genuine Approov token.
async fn hello(Approov(_claims): Approov) -> HttpResponse {
    // `_claims.did()`, `.ip()`... identify the device, e.g. for rate limits.
    HttpResponse::Ok().json(json!({ "message": "Hello, World!" }))
}

async fn health() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}
