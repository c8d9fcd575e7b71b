//! The proxy's tests share the process and socket helpers of
//! `approov_conformance::process`; this adds a test upstream and a Redis.
#![allow(dead_code)]

pub mod redis;
pub mod upstream;

pub use approov_conformance::process::*;
