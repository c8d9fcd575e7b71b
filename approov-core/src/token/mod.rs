//! The token path: everything a request's token goes through, with no I/O
//! of its own. [`Verifier::verify_request`](crate::Verifier::verify_request)
//! reads the token header (`scheme` strips an `Authorization`-style scheme),
//! `jws` checks the signature against the current keys, `claims` parses and
//! types the claims, the verifier applies the time, issuer and audience
//! rules, and `binding` checks `pay`; `cache` remembers tokens that
//! verified.
//!
//! - `verifier`: the [`Verifier`](crate::Verifier) and its checks.
//! - `builder`: the [`VerifierBuilder`](crate::VerifierBuilder), where every
//!   configuration error surfaces.
//! - `from_env`: the configuration from `APPROOV_*` variables.
//! - `sdk_status`: the Approov SDK's token fetch statuses, which some apps
//!   send in place of a token.

pub(crate) mod binding;
pub(crate) mod builder;
pub(crate) mod cache;
pub(crate) mod claims;
mod from_env;
pub(crate) mod jws;
pub(crate) mod scheme;
pub(crate) mod sdk_status;
pub(crate) mod verifier;
