//! The proxy's tests share the process and socket helpers of
//! `approov_conformance::process`; this adds a test upstream, a raw one
//! and a Redis.
#![allow(dead_code)]

pub mod raw_upstream;
pub mod redis;
pub mod upstream;

pub use approov_conformance::process::*;
