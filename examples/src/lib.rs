//! Helpers of the `approov-token` command-line tool. The example servers
//! (`axum-hello`, `actix-hello`, `warp-hello`) do not use them: each is one
//! file of its own, to copy as it is into an API (see the repository's
//! README), and `scripts/check-examples-copy.sh` builds each one alone.
#![deny(missing_docs, unsafe_code)]

mod shell;

/// The repository README's Rust blocks, compiled (and, where they do not
/// serve, run) as doctests, so that each builds as printed with the
/// dependency lines above it.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct RepositoryReadme;

/// This crate's README, for the same reason.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ExamplesReadme;

pub use shell::shell_quote;

/// The exit code for bad configuration (the convention of command-line
/// tools for usage errors, and what `clap` uses).
pub const CONFIG_ERROR_EXIT: u8 = 2;
