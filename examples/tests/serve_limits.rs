//! The connection limits of the example servers, over raw sockets on
//! 127.0.0.1: the shared tests of `approov_conformance::serve_limits` on
//! each binary.
#![allow(clippy::unwrap_used)]

mod common;

use approov_conformance::serve_limits::{self as limits, Target};
use common::SECRET;

/// The variables whose bad values must stop a server at start-up.
const LIMIT_VARS: &[&str] = &[
    "HEADER_READ_TIMEOUT_SECONDS",
    "IDLE_TIMEOUT_SECONDS",
    "MAX_CONNECTIONS",
];

fn target(exe: &str) -> Target<'_> {
    Target {
        exe,
        envs: &[("APPROOV_BASE64_SECRET", SECRET)],
        graceful: false,
    }
}

macro_rules! limit_tests {
    ($($module:ident => $bin:literal $(, #[$second_head:meta])?);* $(;)?) => {$(
        mod $module {
            use super::limits;

            const EXE: &str = env!(concat!("CARGO_BIN_EXE_", $bin));

            #[test]
            fn partial_request_head_is_cut_off() {
                limits::partial_request_head_is_cut_off(&super::target(EXE));
            }
            #[test]
            fn trickled_request_head_is_cut_off() {
                limits::trickled_request_head_is_cut_off(&super::target(EXE));
            }
            #[test]
            $(#[$second_head])?
            fn trickled_second_request_head_is_cut_off() {
                limits::trickled_second_request_head_is_cut_off(&super::target(EXE));
            }
            #[test]
            fn idle_keep_alive_connection_is_closed() {
                limits::idle_keep_alive_connection_is_closed(&super::target(EXE));
            }
            #[test]
            fn connections_over_the_cap_wait_for_a_free_one() {
                limits::connections_over_the_cap_wait_for_a_free_one(&super::target(EXE));
            }
            #[test]
            fn bad_limits_exit_2() {
                limits::bad_limits_exit_2(&super::target(EXE), super::LIMIT_VARS);
            }
        }
    )*};
}

limit_tests! {
    axum_hello => "axum-hello";
    // actix-http 3 arms its request-head timer once per connection (the
    // `STARTED` flag in its h1 dispatcher), so a later head on a kept-alive
    // connection is not timed at all: this test fails for actix-hello.
    actix_hello => "actix-hello", #[ignore = "actix-http times only the first request head of a connection"];
    warp_hello => "warp-hello";
}
