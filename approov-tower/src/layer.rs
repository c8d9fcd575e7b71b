//! The layer: configuration shared by every service it wraps.

use std::fmt;
use std::marker::PhantomData;

use approov_core::signing::MessageSigning;
use approov_core::{Gate, Rejection, Verifier};
use bytes::Bytes;
use http::Response;
use tower_layer::Layer;

use crate::ApproovService;
use crate::mode::{MessageSigned, TokenOnly};
use crate::response::Responder;

/// A [`Layer`] that checks the Approov token of every request and answers
/// rejected ones itself, without calling the inner service.
///
/// Built from a [`Verifier`] with defaults that match the official Approov
/// backends: enforcing, CORS preflights let through, rejections answered
/// with [`response::unauthorized`](crate::response::unauthorized) (gRPC
/// requests with [`response::grpc_unauthenticated`](crate::response::grpc_unauthenticated)),
/// or, when the verifier has no usable key to judge the token, with
/// [`response::service_unavailable`](crate::response::service_unavailable)
/// (503, `Retry-After`; gRPC: [`response::grpc_unavailable`](crate::response::grpc_unavailable)).
/// Cheap to clone: the verifier is shared.
///
/// ```
/// use approov_core::{TokenBinding, Verifier};
/// use approov_tower::ApproovLayer;
///
/// let verifier = Verifier::builder().secret_base64("YXBwcm9vdi1ycyBleGFtcGxlIHNlY3JldDogMzIgYnl0ZXMgb3IgbW9yZSwgYXMgUkZDIDc1MTggYXNrcw==").build()?;
/// let layer = ApproovLayer::new(verifier)
///     .token_binding(TokenBinding::new(["Authorization"])?)
///     .token_header("X-Approov-Token")?
///     .report_only(false);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// The type parameter is the [mode](crate::mode): [`TokenOnly`] (the
/// default) or, after [`ApproovLayer::message_signing`], [`MessageSigned`].
pub struct ApproovLayer<M = TokenOnly> {
    pub(crate) gate: Gate,
    pub(crate) responder: Responder,
    mode: PhantomData<fn() -> M>,
}

impl ApproovLayer {
    /// Checks tokens with `verifier` (and its token binding, if it has one).
    pub fn new(verifier: Verifier) -> Self {
        Self {
            gate: Gate::new(verifier),
            responder: Responder::default(),
            mode: PhantomData,
        }
    }
}

impl<M> ApproovLayer<M> {
    /// Also checks the HTTP message signatures (RFC 9421) and
    /// `Content-Digest` (RFC 9530) of every request, as configured by
    /// `signing` (see [`approov_core::signing`]): with
    /// [`SignaturePolicy::Always`](approov_core::signing::SignaturePolicy::Always)
    /// a token without `ipk` is refused, with the default policy only
    /// tokens carrying `ipk` need an installation signature.
    ///
    /// The token and the signatures are checked first, from the request's
    /// head, and a refused request is answered without reading its body.
    /// Only a request whose `Content-Digest` must be compared with the body
    /// has it read, up to [`MessageSigning::max_body_len`] within
    /// [`MessageSigning::body_read_timeout`]; the inner service then
    /// receives those same bytes. A longer body is answered
    /// [`response::payload_too_large`](crate::response::payload_too_large)
    /// (413), a body that fails while being read
    /// [`response::bad_request`](crate::response::bad_request) (400) and
    /// one that is too slow
    /// [`response::request_timeout`](crate::response::request_timeout)
    /// (408), all without calling the inner service. Other bodies stream on
    /// unread.
    ///
    /// The inner service receives `Request<`[`ApproovRequestBody`](crate::ApproovRequestBody)`<ReqBody>>`,
    /// which axum routes and tonic servers accept as they are; see the
    /// [crate docs](crate#message-signing) for the flow and its cost.
    pub fn message_signing(self, signing: MessageSigning) -> ApproovLayer<MessageSigned> {
        ApproovLayer {
            gate: self.gate.message_signing(signing),
            responder: self.responder,
            mode: PhantomData,
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
    /// the query). With it, protect the whole application, so that no
    /// route escapes: [`protect`](Self::protect) (feature `axum`), or
    /// [`Layer::layer`] around any service. (Under a nested axum router,
    /// the path is the whole path the client sent, axum's `OriginalUri`.)
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

    /// Answers rejected requests with `f(&rejection)` instead of the
    /// default. The body may be anything that converts into [`Bytes`]:
    /// `String`, `&'static str`, `Vec<u8>`, `Bytes`.
    ///
    /// The function is used for every rejected request, gRPC ones included,
    /// and should not reveal the reason to the client (the rejection is
    /// already logged). [`response::unauthorized`](crate::response::unauthorized)
    /// is a convenient starting point; [`Rejection::status`] tells a
    /// refusal (401) from a request no key was there to judge (503).
    ///
    /// ```
    /// use approov_core::Verifier;
    /// use approov_tower::ApproovLayer;
    /// use http::{Response, StatusCode};
    ///
    /// let verifier = Verifier::builder().secret_base64("YXBwcm9vdi1ycyBleGFtcGxlIHNlY3JldDogMzIgYnl0ZXMgb3IgbW9yZSwgYXMgUkZDIDc1MTggYXNrcw==").build()?;
    /// let layer = ApproovLayer::new(verifier).rejection_response(|_rejection| {
    ///     Response::builder()
    ///         .status(StatusCode::FORBIDDEN)
    ///         .header("content-type", "text/plain")
    ///         .body("Forbidden")
    ///         .unwrap_or_default()
    /// });
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn rejection_response<F, T>(mut self, f: F) -> Self
    where
        F: Fn(&Rejection) -> Response<T> + Send + Sync + 'static,
        T: Into<Bytes>,
    {
        self.responder = Responder::custom(f);
        self
    }
}

// By hand: derives would ask `M: Clone` / `M: Debug` of a marker that
// never has a value.
impl<M> Clone for ApproovLayer<M> {
    fn clone(&self) -> Self {
        Self {
            gate: self.gate.clone(),
            responder: self.responder.clone(),
            mode: PhantomData,
        }
    }
}

impl<M> fmt::Debug for ApproovLayer<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApproovLayer")
            .field("gate", &self.gate)
            .field("responder", &self.responder)
            .finish()
    }
}

impl<S, M> Layer<S> for ApproovLayer<M> {
    type Service = ApproovService<S, M>;

    fn layer(&self, inner: S) -> Self::Service {
        ApproovService::from_layer(inner, self.clone())
    }
}
