//! The conformance table (`tests/`, package `approov-conformance`) over real
//! sockets against every example server started on `127.0.0.1:0`: the cases
//! on the routes the examples mount (`/`, `/token-binding`, `/health`).

#![allow(clippy::unwrap_used)]

mod common;

use approov_conformance::{Answer, Case, Expect, SECRET, cases, check};
use common::{Server, request_with_body};

fn answer(server: &Server, case: &Case) -> Answer {
    let headers: Vec<(&str, &[u8])> = case
        .headers
        .iter()
        .map(|(k, v)| (*k, v.as_slice()))
        .collect();
    let response = request_with_body(
        server.addr,
        case.method,
        case.route.path(),
        &headers,
        &case.body,
    );
    Answer {
        status: response.status,
        headers: response.headers.into_iter().collect(),
        body: response.body.into_bytes(),
    }
}

fn run(exe: &str) {
    let server = Server::start(exe, &[("APPROOV_BASE64_SECRET", SECRET)]);
    let mut failures = Vec::new();
    let mut ran = 0;
    for case in cases().iter().filter(|c| c.route.in_examples()) {
        ran += 1;
        let got = answer(&server, case);
        let result = match case.expect {
            // The examples mount GET only: a preflight passes the layer and
            // meets the router's 405, which is what matters here: not a 401.
            Expect::Preflight if got.status == 401 || got.status >= 500 => {
                Err(format!("case {}: preflight answered {got:?}", case.name))
            }
            Expect::Preflight => Ok(()),
            Expect::Unprotected if got.status == 200 => Ok(()),
            _ => check(case, &got),
        };
        if let Err(e) = result {
            failures.push(e);
        }
    }
    server.stop();
    assert!(ran >= 30, "only {ran} cases apply to the examples");
    assert!(failures.is_empty(), "{exe}: {failures:#?}");
}

#[test]
fn axum_hello_passes_the_conformance_table() {
    run(env!("CARGO_BIN_EXE_axum-hello"));
}

#[test]
fn actix_hello_passes_the_conformance_table() {
    run(env!("CARGO_BIN_EXE_actix-hello"));
}

#[test]
fn warp_hello_passes_the_conformance_table() {
    run(env!("CARGO_BIN_EXE_warp-hello"));
}
