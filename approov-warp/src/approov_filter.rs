//! The configuration: a verifier plus the per-route policy.

use std::fmt;
use std::sync::Arc;

use approov_core::signing::MessageSigning;
use approov_core::{Gate, Rejection, Verifier};
use warp::reply::Reply;

use crate::rejection::Responder;

/// Approov protection for warp routes: a [`Verifier`] plus the options every
/// approov-rs adapter shares. Build it once, then take filters from it with
/// [`outcome`](Self::outcome), [`claims`](Self::claims) or
/// [`protect`](Self::protect).
///
/// `Clone` is cheap (the verifier and the custom response are shared), so
/// derive per-route variants from one base, e.g. one with token binding:
///
/// ```
/// use approov_core::{TokenBinding, Verifier};
/// use approov_warp::ApproovFilter;
///
/// let verifier = Verifier::builder().secret_base64("YXBwcm9vdi1ycyBleGFtcGxlIHNlY3JldDogMzIgYnl0ZXMgb3IgbW9yZSwgYXMgUkZDIDc1MTggYXNrcw==").build()?;
/// let approov = ApproovFilter::new(verifier);
/// let bound = approov.clone().token_binding(TokenBinding::new(["Authorization"])?);
/// # let _ = bound;
/// # Ok::<(), approov_core::ConfigError>(())
/// ```
///
/// Defaults: enforcing, CORS preflights let through, the verifier's own
/// token header and binding, no message signing, and the
/// [`unauthorized`](crate::unauthorized).
#[derive(Clone)]
pub struct ApproovFilter {
    pub(crate) gate: Gate,
    pub(crate) responder: Option<Responder>,
}

impl ApproovFilter {
    /// Enforcing protection with `verifier`'s token header and binding.
    pub fn new(verifier: Verifier) -> Self {
        Self {
            gate: Gate::new(verifier),
            responder: None,
        }
    }

    /// Binds tokens to these request headers on the routes this
    /// configuration protects: [`Gate::token_binding`](approov_core::Gate::token_binding).
    pub fn token_binding(self, binding: approov_core::TokenBinding) -> Self {
        self.map_gate(|gate| gate.token_binding(binding))
    }

    /// Checks tokens without token binding, even if the verifier has one:
    /// [`Gate::without_token_binding`](approov_core::Gate::without_token_binding).
    pub fn without_token_binding(self) -> Self {
        self.map_gate(approov_core::Gate::without_token_binding)
    }

    /// Reads the token from header `name`:
    /// [`Gate::token_header`](approov_core::Gate::token_header).
    pub fn token_header(mut self, name: &str) -> Result<Self, approov_core::ConfigError> {
        self.gate = self.gate.token_header(name)?;
        Ok(self)
    }

    /// Expects the token after the authentication scheme `scheme`, as in
    /// `Authorization: Bearer <token>`:
    /// [`Gate::token_scheme`](approov_core::Gate::token_scheme).
    pub fn token_scheme(mut self, scheme: &str) -> Result<Self, approov_core::ConfigError> {
        self.gate = self.gate.token_scheme(scheme)?;
        Ok(self)
    }

    /// Reads the bare token, even if the verifier expects a scheme:
    /// [`Gate::without_token_scheme`](approov_core::Gate::without_token_scheme).
    pub fn without_token_scheme(self) -> Self {
        self.map_gate(approov_core::Gate::without_token_scheme)
    }

    /// Lets requests for exactly these paths through without a token
    /// (e.g. `/health`), marked [`ApproovOutcome::OpenPath`](approov_core::ApproovOutcome::OpenPath):
    /// [`Gate::open_paths`](approov_core::Gate::open_paths), where the
    /// comparison is defined (the path as received, byte for byte, without
    /// the query). With it, protect the whole application with
    /// [`protect_all`](Self::protect_all). [`claims`](Self::claims) on an
    /// open path has no claims to give and rejects with warp's `not_found`.
    pub fn open_paths<I, S>(mut self, paths: I) -> Result<Self, approov_core::ConfigError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.gate = self.gate.open_paths(paths)?;
        Ok(self)
    }

    /// Report-only mode, off by default:
    /// [`Gate::report_only`](approov_core::Gate::report_only).
    pub fn report_only(self, yes: bool) -> Self {
        self.map_gate(|gate| gate.report_only(yes))
    }

    /// Lets CORS preflights through without a token, on by default:
    /// [`Gate::skip_cors_preflight`](approov_core::Gate::skip_cors_preflight).
    pub fn skip_cors_preflight(self, yes: bool) -> Self {
        self.map_gate(|gate| gate.skip_cors_preflight(yes))
    }

    /// The gate: verifier, report-only, preflight and message-signing
    /// settings.
    pub fn gate(&self) -> &approov_core::Gate {
        &self.gate
    }

    /// The verifier, with this configuration's token header and binding.
    pub fn verifier(&self) -> &approov_core::Verifier {
        self.gate.verifier()
    }

    fn map_gate(mut self, f: impl FnOnce(approov_core::Gate) -> approov_core::Gate) -> Self {
        self.gate = f(self.gate);
        self
    }

    /// Checks HTTP message signatures (RFC 9421) and `Content-Digest`
    /// (RFC 9530) on the routes using this configuration, as
    /// [`approov_core::signing`] describes: an app whose token carries
    /// `ipk` signs each request with its installation key. Off by default.
    ///
    /// Routes that receive a body take it with [`signed`](Self::signed) or
    /// [`signed_claims`](Self::signed_claims): they check the token and the
    /// signatures first, from the request's head, and only then read the
    /// body (up to [`MessageSigningBuilder::max_body_len`](approov_core::signing::MessageSigningBuilder::max_body_len)
    /// within [`body_read_timeout`](approov_core::signing::MessageSigningBuilder::body_read_timeout)),
    /// check the digest against it and hand it on; a body over the limit
    /// is answered 413, an unreadable one 400, a too slow one 408.
    /// [`outcome`](Self::outcome), [`claims`](Self::claims) and
    /// [`protect`](Self::protect) check the signatures of bodiless
    /// requests. See the [crate docs](crate#message-signing).
    pub fn message_signing(mut self, signing: MessageSigning) -> Self {
        self.gate = self.gate.message_signing(signing);
        self
    }

    /// Answers rejections with `respond(&rejection)` instead of the default
    /// 401 `{}`. `respond` may return anything warp can reply with; an
    /// `http::Response<String>` is the simplest:
    ///
    /// ```
    /// use approov_core::Verifier;
    /// use approov_warp::ApproovFilter;
    /// use warp::http::{Response, StatusCode};
    ///
    /// let verifier = Verifier::builder().secret_base64("YXBwcm9vdi1ycyBleGFtcGxlIHNlY3JldDogMzIgYnl0ZXMgb3IgbW9yZSwgYXMgUkZDIDc1MTggYXNrcw==").build()?;
    /// let approov = ApproovFilter::new(verifier).rejection_response(|_rejection| {
    ///     Response::builder()
    ///         .status(StatusCode::UNAUTHORIZED)
    ///         .header("content-type", "application/problem+json")
    ///         .body(String::from(r#"{"title":"unauthorized"}"#))
    ///         .unwrap_or_default()
    /// });
    /// # let _ = approov;
    /// # Ok::<(), approov_core::ConfigError>(())
    /// ```
    ///
    /// The rejection says why, for your logs: do not send its text to the
    /// client, which would teach an attacker what to fix.
    pub fn rejection_response<F, R>(mut self, respond: F) -> Self
    where
        F: Fn(&Rejection) -> R + Send + Sync + 'static,
        R: Reply,
    {
        self.responder = Some(Arc::new(move |rejection: &Rejection| {
            respond(rejection).into_response()
        }));
        self
    }
}

impl fmt::Debug for ApproovFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApproovFilter")
            .field("gate", &self.gate)
            .field("custom_response", &self.responder.is_some())
            .finish()
    }
}
