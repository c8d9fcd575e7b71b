//! Framework-free verification of [Approov](https://approov.io) tokens.
//!
//! The app's Approov SDK attests the app and sends a short-lived JWT, the
//! *Approov token*, in the `Approov-Token` header of every request. This
//! crate checks that token on the server: the signature (HS256 with the
//! account secret, or RS/PS/ES keys selected by `kid`), the time claims, the
//! claim types, and optionally the token binding (`pay`). The framework
//! adapters (`approov-tower`, `approov-actix`, `approov-warp`) call it once
//! per request and answer 401 on any [`Rejection`] (503 with `Retry-After`
//! for [`Rejection::KeysUnavailable`], a token no key was there to judge:
//! [`Rejection::status`]).
//!
//! ```
//! use approov_core::{RejectionKind, TokenBinding, Verifier};
//!
//! // At start-up (usually `Verifier::from_env()`, reading APPROOV_BASE64_SECRET):
//! let verifier = Verifier::builder()
//!     .secret_base64("TEST+SECRET/TEST+SECRET/TEST+SECRET/TEST+SECRET/TEST+SECRET/TEST+SECRET/TEST+SECRET/AA==")
//!     .token_binding(TokenBinding::new(["Authorization", "X-Device-Id"])?)
//!     .build()?;
//!
//! // Per request: the adapters hand over the request's headers.
//! let token = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJhdWQiOiJhcHByb292LmlvIiwiZXhwIjoxOTk5OTk5OTk5LCJpYXQiOjE3MDAwMDAwMDAsImlzcyI6IkFwcHJvb3ZBY2NvdW50SUQuYXBwcm9vdi5pbyIsInN1YiI6ImFwcHJvb3Z8RXhhbXBsZUFwcHJvb3ZUb2tlbkRJRD09IiwiaXAiOiIxLjIuMy40IiwiZGlkIjoiRXhhbXBsZUFwcHJvb3ZUb2tlbkRJRD09IiwicGF5IjoiNzF0blMzclNxMmxhbkVXckt6NE1vZXhpT010djd3MGZzcGZNOEJBUUtOVT0ifQ.M0CJoQ-cQto-8OIR_d7MaLBOixzKZeN6lmW_ot76Y0Q";
//! let headers = [
//!     ("Approov-Token", token),
//!     ("Authorization", "Bearer myauth_token"),
//!     ("X-Device-Id", "my-device-id"),
//! ];
//! let claims = verifier.verify_request(&headers)?;
//! assert_eq!(claims.ip(), Some("1.2.3.4"));
//!
//! // The same token with another user's session is refused:
//! let stolen = [("Approov-Token", token), ("Authorization", "Bearer other"), ("X-Device-Id", "my-device-id")];
//! assert_eq!(verifier.verify_request(&stolen).unwrap_err().kind(), RejectionKind::Binding);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Rules
//! - Only algorithms with a configured key are accepted; `alg: none`, a
//!   missing `alg`, HS384/HS512, an HMAC token against public keys, and any
//!   `crit` header are rejections.
//! - `exp` is required and may be fractional; `nbf`, when present, must have
//!   passed; both with the configured leeway. `iss`/`aud` are checked when
//!   configured.
//! - A known claim (`exp`, `iat`, `nbf`, `ip`, `did`, `arc`, `pay`, `ipk`,
//!   `mskid`, `iss`, `sub`, `aud`) of the wrong JSON type, `null` included,
//!   or repeated, is a rejection, never "absent". Unknown claims are allowed.
//! - Tokens longer than [`DEFAULT_MAX_TOKEN_LEN`] bytes (configurable) are
//!   refused before any decoding.
//! - Nothing of the payload is parsed before the signature verifies.
//! - No error, `Debug` or `Display` output contains the token, a claim value
//!   or a secret; secrets are zeroized on drop.
//! - Optionally ([`VerifierBuilder::cache_verified_tokens`]), tokens that
//!   verified are remembered by their exact bytes, so a repeat skips the
//!   signature check and parsing; every other rule is applied on each call.
//!
//! # Layout
//! - `token/`: the token path: the [`Verifier`] and its [`VerifierBuilder`]
//!   (and `from_env`), the token scheme, the JWS signature check, the
//!   typed claims, token binding and the verified-token cache.
//! - `keys/`: the keys: the key set, [`Algorithm`]s, the [`Secret`], the
//!   store that swaps a new set in whole, and the one seam for keys from
//!   outside, with its sources: the JWKS URL fetcher (feature `jwks-url`)
//!   and the key files' watcher (feature `watch-key-files`).
//! - `gate/`: the per-request decision the adapters share: the [`Gate`]'s
//!   two steps (head, then body when a `Content-Digest` needs it), the
//!   [`Decision`]s and the default [`response`].
//! - [`signing`]: HTTP message signatures (RFC 9421) and `Content-Digest`.
//! - At the top: errors, the [`Clock`], [`RequestHeaders`], [`mod@metrics`],
//!   and the optional [`mint`](#features), `dev` and `http` modules.
//!
//! A token's path: the adapter hands the request's headers to
//! [`Gate::check`], which calls [`Verifier::verify_request`]; that reads
//! the token header, checks the signature against the current key set
//! (`jws`, `keys`), then the claims, consulting the cache first when one
//! is configured, then the binding.
//!
//! The token path does no network or file I/O and never waits on it. The
//! JWKS fetcher and the key-file watcher run on threads of their own and
//! only swap a new key set in (`arc-swap`); a request reads whichever set
//! is current, and at most wakes a fetcher without waiting for it.
//!
//! HTTP message signatures (RFC 9421, the token's `ipk`) and
//! `Content-Digest` are checked by [`Gate::check_message`] when a
//! [`signing::MessageSigning`] is configured: see [`signing`].
//!
//! # Features
//! - `mint`: [`mint::TokenBuilder`] and [`mint::SigningKey`] build valid or
//!   deliberately broken tokens, and [`mint::RequestSigner`] signs requests,
//!   for tests, examples and development servers.
//! - `jwks-url`: keys from a JWKS URL ([`VerifierBuilder::jwks_url`],
//!   `APPROOV_JWKS_URL`), fetched at start-up and kept current by a
//!   background thread: see the `jwks_url` module.
//! - `dev` (with `mint`): development mode for a server,
//!   [`dev::secret_unless_configured`]: with no key variable set, a random
//!   secret, printed with a ready token and `curl` line. One line in a
//!   server's start-up, the one to delete for production.
//! - `http`: the `http` module, for servers on `http` 1 without an adapter
//!   crate: `http::HttpHeaders`, the [`RequestHeaders`] view of an
//!   `http::HeaderMap`, and `http::unauthorized()`, the default 401 as an
//!   `http::Response` (`http::rejection_response` picks it or the 503 of
//!   `keys_unavailable`).
//! - `watch-key-files`: [`Verifier::watch_key_files`] reads the key files
//!   again on SIGHUP and on an interval, on a thread of its own, and takes
//!   a changed file once it has settled ([`KEY_FILE_SETTLE`]).
//!
//! # Why each dependency
//! - `ring`: HMAC-SHA256 (pre-keyed, constant-time verify), RSA PKCS#1 v1.5 /
//!   PSS and ECDSA P-256/P-384 verification, SHA-256 for token binding. One
//!   audited crate for all the cryptography, fast and small to build; it has
//!   no P-521, hence no ES512.
//! - `base64-simd`: strict base64url decoding of the JWS segments on the
//!   hot path. Its AVX2/NEON decoder takes a fifth of the
//!   time the scalar `base64` crate needs for a token's payload, about 12%
//!   of a whole HS256 verify (`BENCHMARKS.md`); like `base64` it refuses
//!   padding and non-zero trailing bits, so a signature has one encoding.
//! - `base64`: lenient base64 for the account secret, standard base64 for
//!   `pay`, JWKS key material and minting; 0.22, the version `sfv` already
//!   brings, so the tree holds one copy.
//! - `serde` / `serde_json`: borrowed, strict parsing of the header and claims.
//! - `spki`, `der`, `pem-rfc7468`: parsing PEM public keys (SubjectPublicKeyInfo
//!   and PKCS#1) at start-up, rather than hand-written ASN.1.
//! - `subtle`: constant-time comparison of the `pay` claim.
//! - `zeroize`: wiping decoded secrets from memory.
//! - `thiserror`: the [`Rejection`] and [`ConfigError`] types.
//! - `arc-swap`: the key set, swapped whole by [`Verifier::reload_keys`]
//!   while requests read it without a lock or an allocation.
//! - `libc` (Unix only): the `O_NONBLOCK` flag key files are opened with,
//!   so a key file replaced by a FIFO is refused instead of blocking every
//!   later reload in `open()`; a constant, no `unsafe` code of ours.
//! - `tracing`: one structured event per rejection ([`log_rejection`]).
//! - `sfv`: RFC 8941 structured fields for `Signature-Input`, `Signature`
//!   and `Content-Digest` ([`signing`]); 0.15, the last release for our
//!   minimum Rust version.
//! - `form_urlencoded`, `percent-encoding`: the WHATWG query parsing and
//!   re-encoding RFC 9421 prescribes for `@query-param`.
//! - `metrics`: the counters of [`mod@metrics`] (requests by
//!   outcome, rejections by kind, cache hits), through the facade most Rust
//!   services already use, so any exporter (Prometheus, StatsD, ...) can
//!   take them; with no recorder installed each count is a thread-local
//!   and an atomic load.
//! - `http`, `bytes` (feature `http` only): the types of the `http`
//!   module, the `http` 1 crate tower, axum, hyper and tonic share, and
//!   the body of its 401; both already in any server on `http` 1.
//! - `reqwest` (feature `jwks-url` only): the HTTPS client that fetches a
//!   JWKS URL: widely used and maintained, rustls with `ring` (already our
//!   cryptography) and the webpki roots, no OpenSSL; 0.12, whose rustls
//!   backend is `ring` rather than 0.13's `aws-lc-rs` (a C build). No
//!   HTTP is hand-written here. Its proxy discovery is turned off: an
//!   `https` URL goes through `HTTPS_PROXY` / `ALL_PROXY` (minus
//!   `NO_PROXY`) as a `CONNECT` tunnel, a plain-`http` loopback URL never
//!   through a proxy (see the `jwks_url` module).
//! - `tokio` (feature `jwks-url` only): the single-threaded runtime of the
//!   fetcher's own thread (reqwest needs one), so the verifier needs no
//!   runtime of the caller's; its `Notify` wakes the fetcher.
//! - `tokio` (feature `watch-key-files` too): the same single-threaded runtime
//!   on the watcher's thread, for its interval and its SIGHUP handler
//!   (tokio's `signal`, which installs the handler safely, without code of
//!   ours that is `unsafe`).
//!
//! The HS256 path deliberately does not go through a JWT crate: see the
//! `jws` module notes and `BENCHMARKS.md` for the measurements.
#![deny(missing_docs, unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod clock;
#[cfg(feature = "dev")]
#[cfg_attr(docsrs, doc(cfg(feature = "dev")))]
pub mod dev;
mod error;
mod gate;
mod headers;
#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub mod http;
mod keys;
pub mod metrics;
#[cfg(feature = "mint")]
pub mod mint;
pub mod signing;
mod token;

pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{
    AlgorithmProblem, ClaimProblem, ConfigError, HeaderProblem, Rejection, RejectionKind,
    SchemeProblem, TokenPart,
};
pub use gate::{
    ApproovOutcome, BodyCheck, BodyProblem, Decision, Gate, HeadDecision, MAX_OPEN_PATH_LEN,
    MAX_OPEN_PATHS, VerifiedBy, is_cors_preflight, log_rejection, response,
};
pub use headers::RequestHeaders;
pub use keys::algorithm::Algorithm;
#[cfg(feature = "jwks-url")]
pub use keys::jwks_url::{self, JwksStatus, JwksUrl};
pub use keys::secret::{MIN_HMAC_SECRET_LEN, Secret};
pub use keys::store::{KEY_FILE_SETTLE, KeysReloaded};
pub use token::binding::{TokenBinding, binding_hash};
pub use token::builder::VerifierBuilder;
pub use token::claims::{ApproovClaims, ClaimsError};
pub use token::sdk_status::SdkStatus;
pub use token::verifier::{DEFAULT_MAX_TOKEN_LEN, DEFAULT_TOKEN_HEADER, Verifier};

/// The crate README's Rust blocks, compiled as doctests so that each builds
/// as printed with the dependency lines above it.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
