//! The example binaries' tests share the process and socket helpers of
//! `approov_conformance::process`; this adds the binaries of this crate.
#![allow(dead_code)]

pub use approov_conformance::process::*;

/// The three example servers, for tests that run on each.
pub const SERVERS: [&str; 3] = [
    env!("CARGO_BIN_EXE_axum-hello"),
    env!("CARGO_BIN_EXE_actix-hello"),
    env!("CARGO_BIN_EXE_warp-hello"),
];
