//! Helpers of the `approov-token` command-line tool. The example servers
//! (`axum-hello`, `actix-hello`, `warp-hello`) do not use them: each is one
//! file of its own, to copy as it is into an API (see the repository's
//! README), and `scripts/check-examples-copy.sh` builds each one alone.
#![deny(missing_docs, unsafe_code)]

mod shell;

pub use shell::shell_quote;

/// The exit code for bad configuration (the convention of command-line
/// tools for usage errors, and what `clap` uses).
pub const CONFIG_ERROR_EXIT: u8 = 2;
