//! HTTP message signatures (RFC 9421) and `Content-Digest` (RFC 9530), as
//! Approov SDKs use them.
//!
//! When message signing is enabled for an app, its Approov token carries
//! `ipk`, the installation's P-256 public key, and each request is signed
//! with the matching private key, which never leaves the device:
//!
//! ```text
//! Content-Digest: sha-256=:…:
//! Signature-Input: install=("@method" "@target-uri" "approov-token" "content-digest");alg="ecdsa-p256-sha256";created=1700000000
//! Signature: install=:<base64 r‖s>:
//! ```
//!
//! A stolen token is then useless without the device. An account may also
//! sign with an HMAC secret named by the token's `mskid` (label `account`).
//!
//! # What is checked
//! - The policy ([`SignaturePolicy`]): by default an `install` signature is
//!   required whenever the token has `ipk`. With account secrets configured,
//!   a token with `mskid` also needs a valid `account` signature.
//! - Limits first ([`MessageSigningBuilder::max_signature_field_len`],
//!   [`max_signatures`](MessageSigningBuilder::max_signatures),
//!   [`max_components`](MessageSigningBuilder::max_components); 8 KiB, 4
//!   and 32 by default): a longer field is refused before it is parsed, a
//!   dictionary with more members or an entry with more components before
//!   any signature base is built (`signature_limit`). Building a base is
//!   linear in its input (the query and each structured field are parsed
//!   once), so the work a client holding a genuine token can ask for is
//!   bounded by the limits.
//! - `Signature-Input` and `Signature` are parsed as RFC 8941 dictionaries
//!   (with `sfv`). The signature may be a byte sequence (`:…:`) or a string
//!   of base64 (`"…"`), which shipping clients send.
//! - `alg`, when present, must be the label's algorithm; `created` is
//!   required (configurable), not in the future beyond the clock skew and
//!   not older than the maximum age; `expires` must not have passed and not
//!   precede `created`. `keyid`, `nonce`, `tag` and unknown signature
//!   parameters are ignored, as RFC 9421 §2.3 allows (they are signed).
//! - The signature must cover `@method`, `@target-uri` and the token header
//!   (configurable: [`MessageSigningBuilder::required_components`]).
//! - The signature base is rebuilt exactly as RFC 9421 §2.5 says, from the
//!   derived components `@method`, `@target-uri`, `@authority`, `@scheme`,
//!   `@path`, `@query`, `@request-target`, `@query-param;name="…"` and
//!   header fields (with the `sf`, `key` and `bs` parameters). `@status`
//!   (response-only), `req`, `tr` and anything unknown are rejected as
//!   unsupported, naming the component in the log.
//! - A request with a body (a `Content-Length` other than 0, a
//!   `Transfer-Encoding`, or [`MessageParts::with_body`]) must have its
//!   installation signature cover `content-digest` (the whole field, or its
//!   `sha-256`/`sha-512` member: `;key="md5"` protects nothing), or the body
//!   could be swapped with a recomputed digest
//!   ([`MessageSigningBuilder::require_digest_for_body`]).
//! - `Content-Digest` (`sha-256`, `sha-512`) is checked against the body
//!   whenever a verified signature covers it or the header is present; one
//!   that names no supported algorithm is refused
//!   ([`MessageSigningBuilder::require_supported_digest`]).
//!
//! `@scheme`, `@authority` and `@target-uri` are what the client addressed.
//! Behind a proxy, set [`MessageSigningBuilder::public_origin`] or, when
//! every request passes a proxy that sets them,
//! [`MessageSigningBuilder::trust_forwarded_headers`]. Otherwise the
//! authority is the one the adapter gives (HTTP/2 `:authority`) or the
//! `Host` header, and the scheme is the one the adapter gives, else `http`.
//!
//! # The adapter flow
//! Each adapter, per request, with a [`Gate`](crate::Gate) configured with
//! [`Gate::message_signing`](crate::Gate::message_signing):
//! 1. Build [`MessageParts`] from the request's head and call
//!    [`Gate::check_head`](crate::Gate::check_head). It checks the token,
//!    its binding, every signature (which cover the `Content-Digest`
//!    header, not the body) and the header itself, then the announced
//!    `Content-Length` against [`MessageSigningBuilder::max_body_len`].
//!    Most requests are decided here, and their body is never touched: a
//!    refused request is answered at once, however much body it announced.
//! 2. When it answers [`HeadDecision::ReadBody`](crate::HeadDecision::ReadBody),
//!    read the whole body, at most [`BodyCheck::max_len`](crate::BodyCheck::max_len)
//!    bytes within [`BodyCheck::timeout`](crate::BodyCheck::timeout), and
//!    call [`BodyCheck::finish`](crate::BodyCheck::finish) with the bytes or
//!    the [`BodyProblem`](crate::BodyProblem) (too large, unreadable, too
//!    slow). Hand the same bytes on to the handler.
//! 3. Turn the [`Decision`](crate::Decision) into a response: forward,
//!    the rejection response (401 `{}`), or for
//!    [`Decision::RefuseBody`](crate::Decision::RefuseBody) the problem's
//!    status (413, 400, 408) with `{}`. Report-only mode, CORS preflights
//!    and logging are handled by the core.
//!
//! The whole flow, with a request signed as an Approov SDK would (needs the
//! `mint` feature):
//!
#![cfg_attr(feature = "mint", doc = "```")]
#![cfg_attr(not(feature = "mint"), doc = "```ignore")]
//! use approov_core::mint::{InstallKey, RequestSigner, TokenBuilder};
//! use approov_core::signing::{MessageSigning, SignaturePolicy};
//! use approov_core::{Decision, Gate, HeadDecision, ManualClock, RejectionKind, Verifier};
//!
//! let clock = ManualClock::at_unix(1_700_000_000);
//! let secret = approov_core::mint::generate_secret_base64();
//! let verifier = Verifier::builder().secret_base64(&secret).clock(clock.clone()).build()?;
//! let signing = MessageSigning::builder().policy(SignaturePolicy::Always).clock(clock).build()?;
//! let gate = Gate::new(verifier).message_signing(signing);
//!
//! // The app: a token with the installation's public key, a signed request.
//! let key = InstallKey::generate()?;
//! let token = TokenBuilder::new().exp(1_700_000_300.0).claim("ipk", key.ipk()).sign_hs256_base64(&secret)?;
//! let request = RequestSigner::new("POST", "https://api.example.com/shapes")?
//!     .header("Approov-Token", &token)
//!     .body(br#"{"shape":"circle"}"#)
//!     .created(1_700_000_000)
//!     .sign_install(&key)
//!     .finish()?;
//!
//! // The adapter (here the request arrived over https): the head first.
//! let parts = request.parts();
//! let HeadDecision::ReadBody(check) = gate.check_head(&parts) else {
//!     panic!("the digest must be compared with the body")
//! };
//! assert!(check.max_len() >= 18);
//! // ... read at most `check.max_len()` bytes within `check.timeout()` ...
//! let body = request.body.as_deref().unwrap_or_default();
//! assert!(matches!(check.finish(Ok(body)), Decision::Forward(_)));
//!
//! // Both steps at once, for a body already in memory; another body under
//! // the same signature is refused:
//! let decision = gate.check_message(&parts, Some(b"{}"));
//! assert!(matches!(decision, Decision::Reject(r) if r.kind() == RejectionKind::DigestMismatch));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod base;
mod component;
mod config;
mod digest;
mod fields;
mod keys;
mod message;
mod origin;
mod problem;
#[cfg(feature = "mint")]
pub(crate) mod sign;
mod verify;

pub use config::{
    DEFAULT_BODY_READ_TIMEOUT, DEFAULT_CLOCK_SKEW, DEFAULT_MAX_AGE, DEFAULT_MAX_BODY_LEN,
    DEFAULT_MAX_COMPONENTS, DEFAULT_MAX_SIGNATURE_FIELD_LEN, DEFAULT_MAX_SIGNATURES,
    MessageSigning, MessageSigningBuilder, SignaturePolicy,
};
pub use digest::{DigestAlgorithm, content_digest};
pub use keys::InstallPublicKey;
pub use message::MessageParts;
pub use problem::{
    ComponentName, DigestProblem, KeyProblem, SignatureLabel, SignatureLimit, SignatureProblem,
};
pub(crate) use verify::BodyNeeds;
