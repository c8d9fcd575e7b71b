//! The configuration: a verifier plus the per-route policy.

use std::fmt;
use std::sync::Arc;

use approov_core::signing::MessageSigning;
use approov_core::{ConfigError, Gate, Rejection, TokenBinding, Verifier};
use warp::reply::Reply;

use crate::rejection::Responder;

/// Approov protection for warp routes: a [`Verifier`] plus the options every
/// approov-rs adapter shares. Build it once, then take filters from it with
/// [`filter`](Self::filter), [`claims`](Self::claims) or
/// [`protect`](Self::protect).
///
/// `Clone` is cheap (the verifier and the custom response are shared), so
/// derive per-route variants from one base, e.g. one with token binding:
///
/// ```
/// use approov_core::{TokenBinding, Verifier};
/// use approov_warp::Approov;
///
/// let verifier = Verifier::builder().secret_base64("YXBwcm9vdi1ycyBleGFtcGxlIHNlY3JldDogMzIgYnl0ZXMgb3IgbW9yZSwgYXMgUkZDIDc1MTggYXNrcw==").build()?;
/// let approov = Approov::new(verifier);
/// let bound = approov.clone().token_binding(TokenBinding::new(["Authorization"])?);
/// # let _ = bound;
/// # Ok::<(), approov_core::ConfigError>(())
/// ```
///
/// Defaults: enforcing, CORS preflights let through, the verifier's own
/// token header and binding, no message signing, and the
/// [`default_response`](crate::default_response).
#[derive(Clone)]
pub struct Approov {
    pub(crate) gate: Gate,
    pub(crate) responder: Option<Responder>,
}

impl Approov {
    /// Enforcing protection with `verifier`'s token header and binding.
    pub fn new(verifier: Verifier) -> Self {
        Self {
            gate: Gate::new(verifier),
            responder: None,
        }
    }

    /// Binds tokens to these request headers on the routes using this
    /// configuration (replacing the verifier's binding, if any). The keys
    /// are shared with the original verifier, not copied.
    pub fn token_binding(mut self, binding: TokenBinding) -> Self {
        let verifier = self.gate.verifier().with_token_binding(Some(binding));
        self.gate = self.gate.with_verifier(verifier);
        self
    }

    /// No token binding on the routes using this configuration, even if the
    /// verifier was built with one.
    pub fn without_token_binding(mut self) -> Self {
        let verifier = self.gate.verifier().with_token_binding(None);
        self.gate = self.gate.with_verifier(verifier);
        self
    }

    /// Reads the token from header `name` instead of the verifier's
    /// (`Approov-Token` by default). Fails when `name` is not a valid
    /// header name.
    pub fn token_header(mut self, name: &str) -> Result<Self, ConfigError> {
        let verifier = self.gate.verifier().with_token_header(name)?;
        self.gate = self.gate.with_verifier(verifier);
        Ok(self)
    }

    /// Report-only mode: rejections are logged and the request goes on,
    /// with [`ApproovOutcome::Rejected`](approov_core::ApproovOutcome::Rejected)
    /// as the outcome of [`filter`](Self::filter). Off by default.
    /// [`claims`](Self::claims) still requires a verified token.
    pub fn report_only(mut self, yes: bool) -> Self {
        self.gate = self.gate.report_only(yes);
        self
    }

    /// Lets CORS preflights (`OPTIONS` with `Origin` and
    /// `Access-Control-Request-Method`)
    /// through without a token, since browsers never send one. On by default.
    pub fn skip_cors_preflight(mut self, yes: bool) -> Self {
        self.gate = self.gate.skip_cors_preflight(yes);
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
    /// [`filter`](Self::filter), [`claims`](Self::claims) and
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
    /// use approov_warp::Approov;
    /// use warp::http::{Response, StatusCode};
    ///
    /// let verifier = Verifier::builder().secret_base64("YXBwcm9vdi1ycyBleGFtcGxlIHNlY3JldDogMzIgYnl0ZXMgb3IgbW9yZSwgYXMgUkZDIDc1MTggYXNrcw==").build()?;
    /// let approov = Approov::new(verifier).rejection_response(|_rejection| {
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

    /// The shared policy: verifier, report-only, preflight and message
    /// signing settings.
    pub fn gate(&self) -> &Gate {
        &self.gate
    }

    /// The verifier, with this configuration's token header and binding.
    pub fn verifier(&self) -> &Verifier {
        self.gate.verifier()
    }
}

impl fmt::Debug for Approov {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Approov")
            .field("gate", &self.gate)
            .field("custom_response", &self.responder.is_some())
            .finish()
    }
}
