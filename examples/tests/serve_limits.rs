//! The connection limits of the example servers, over raw sockets on
//! 127.0.0.1: the shared tests of `approov_conformance::serve_limits` on
//! each binary.
#![allow(clippy::unwrap_used)]

mod common;

use approov_conformance::serve_limits::Target;
use common::SECRET;

/// The variables whose bad values must stop a server at start-up.
const LIMIT_VARS: &[&str] = &[
    "HEADER_READ_TIMEOUT_SECONDS",
    "IDLE_TIMEOUT_SECONDS",
    "SEND_TIMEOUT_SECONDS",
    "MAX_CONNECTIONS",
    "MAX_REQUESTS_PER_CONNECTION",
];

fn target(exe: &str) -> Target<'_> {
    Target {
        exe,
        envs: &[("APPROOV_BASE64_SECRET", SECRET)],
        graceful: false,
        answers_read_ahead: exe.ends_with("actix-hello"),
    }
}

approov_conformance::limit_tests! {
    axum_hello => "axum-hello";
    // actix-http 3 arms its request-head timer once per connection (the
    // `STARTED` flag in its h1 dispatcher), so a later head on a kept-alive
    // connection is not timed at all: this test fails for actix-hello.
    actix_hello => "actix-hello", #[ignore = "actix-http times only the first request head of a connection"];
    warp_hello => "warp-hello";
}
