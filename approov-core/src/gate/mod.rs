//! The per-request decision every adapter makes, in one place, so the
//! adapters only translate it into their framework's types.
//!
//! A request is checked in two steps. [`Gate::check_head`] looks at what
//! arrived first (method, target, headers) and decides, or asks for the
//! body with a [`BodyCheck`] when a `Content-Digest` must be compared with
//! it. The body is therefore never read for a request whose token, binding
//! or signatures fail, and is read under a length limit and a deadline the
//! core sets. The adapters only move the bytes and build the responses.

//!
//! - `check`: the [`Gate`] and its first step, on the head.
//! - `body`: the second step, on the body, when a `Content-Digest` needs it.
//! - `decision`: what an adapter does with the request (or why its body
//!   could not be checked), counted and logged.
//! - `response`: the default rejection response's parts.
//! - `options`: the options every adapter offers, as methods of the [`Gate`].

mod body;
mod check;
mod decision;
mod options;
pub mod response;

pub use body::BodyCheck;
pub use check::{Gate, HeadDecision, VerifiedBy, is_cors_preflight};
pub use decision::{ApproovOutcome, BodyProblem, Decision, log_rejection};
pub use options::{MAX_OPEN_PATH_LEN, MAX_OPEN_PATHS};
