//! The middleware factory: configuration, and the `Transform` that wraps a
//! service in an [`ApproovService`].

use std::fmt;
use std::future::{Ready, ready};
use std::sync::Arc;

use actix_web::HttpResponse;
use actix_web::body::EitherBody;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform};
use approov_core::signing::MessageSigning;
use approov_core::{Gate, Rejection, Verifier};

use crate::response::Respond;
use crate::service::ApproovService;

/// Middleware that checks the Approov token of every request and answers
/// 401 (see [`unauthorized`](crate::unauthorized))
/// to any request without a genuine one.
///
/// Wrap a whole [`App`](actix_web::App), a [`web::scope`](actix_web::web::scope)
/// or a single [`web::resource`](actix_web::web::resource); each wrap has its
/// own options, so one route can require token binding and another not.
/// Requests that pass get [`ApproovClaims`](approov_core::ApproovClaims)
/// (when verified) and [`ApproovOutcome`](approov_core::ApproovOutcome)
/// (always) in their extensions; read them with the [`Approov`](crate::Approov)
/// extractor and `web::ReqData<ApproovOutcome>`.
///
/// The verification itself, CORS preflight detection, report-only mode and
/// the log line of each rejection are [`approov_core::Gate`]'s: this type
/// only translates its decision into actix-web's types.
///
/// ```
/// use actix_web::{App, HttpResponse, web};
/// use approov_actix::ApproovMiddleware;
/// use approov_core::{TokenBinding, Verifier};
///
/// # let verifier = Verifier::builder().secret_base64("YXBwcm9vdi1ycyBleGFtcGxlIHNlY3JldDogMzIgYnl0ZXMgb3IgbW9yZSwgYXMgUkZDIDc1MTggYXNrcw==").build()?;
/// // let verifier = Verifier::from_env()?;
/// let approov = ApproovMiddleware::new(verifier);
/// let bound = approov.clone().token_binding(TokenBinding::new(["Authorization"])?);
///
/// let app = App::new()
///     .service(web::resource("/health").to(HttpResponse::Ok))
///     .service(
///         web::scope("/api")
///             .wrap(approov)
///             .route("/hello", web::get().to(HttpResponse::Ok)),
///     )
///     .service(
///         web::resource("/token-binding")
///             .wrap(bound)
///             .to(HttpResponse::Ok),
///     );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct ApproovMiddleware {
    gate: Gate,
    respond: Option<Respond>,
}

impl fmt::Debug for ApproovMiddleware {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let respond = if self.respond.is_some() {
            "custom"
        } else {
            "default"
        };
        f.debug_struct("ApproovMiddleware")
            .field("gate", &self.gate)
            .field("rejection_response", &respond)
            .finish()
    }
}

impl ApproovMiddleware {
    /// Enforcing, with CORS preflights let through and the default 401
    /// response. The verifier's own token binding (if any) applies.
    pub fn new(verifier: Verifier) -> Self {
        Self {
            gate: Gate::new(verifier),
            respond: None,
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
    /// the query). With it, wrap the whole `App`
    /// (`App::new().wrap(approov)`): every route, resource, scope and
    /// service of the `App` is then protected, whatever order they were
    /// registered in, except these paths.
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

    /// Also checks HTTP message signatures (RFC 9421) and `Content-Digest`
    /// (RFC 9530) on the routes this instance wraps, as configured by
    /// `signing` (see [`approov_core::signing`]). Off by default; without
    /// it the body is never read and nothing is allocated per request.
    ///
    /// With it, the token, its binding and the signatures are checked
    /// first, from the request's head alone: a request that fails is
    /// answered at once (401 `{}`, or the custom
    /// [`rejection_response`](Self::rejection_response)), and its body is
    /// never read, however long it says it is. Only then, when the request
    /// has a `Content-Digest` header, is its body read, up to
    /// [`MessageSigning::max_body_len`] (1 MiB by default) within
    /// [`MessageSigning::body_read_timeout`] (30 s by default), checked, and
    /// handed to the handler as the same bytes, so `web::Bytes`,
    /// `web::Json` and `web::Payload` work as usual. A request without a
    /// `Content-Digest` goes on with its body unread.
    ///
    /// A body that cannot be checked is answered with `{}` and
    /// `content-type: application/json`, without calling the handler, in
    /// report-only mode too (the middleware cannot pass on a body it did
    /// not keep): `413 Payload Too Large` when it is longer than the limit
    /// (or its `Content-Length` says so, before a byte is read),
    /// `400 Bad Request` when it cannot be read (the client broke off), and
    /// `408 Request Timeout` when it is not in by the deadline. A body that
    /// does not match its digest is a rejection like any other
    /// (`digest_mismatch`).
    ///
    /// The scheme and authority signed as `@scheme`, `@authority` and
    /// `@target-uri` come from the request line (absolute form) or HTTP/2,
    /// else the `Host` header, with `https` when the server listens with
    /// TLS. Behind a proxy, set
    /// [`public_origin`](approov_core::signing::MessageSigningBuilder::public_origin)
    /// (or trust the proxy's forwarded headers) on `signing`.
    ///
    /// ```
    /// use actix_web::{App, HttpResponse, web};
    /// use approov_actix::ApproovMiddleware;
    /// use approov_core::Verifier;
    /// use approov_core::signing::{MessageSigning, SignaturePolicy};
    ///
    /// # let verifier = Verifier::builder().secret_base64("YXBwcm9vdi1ycyBleGFtcGxlIHNlY3JldDogMzIgYnl0ZXMgb3IgbW9yZSwgYXMgUkZDIDc1MTggYXNrcw==").build()?;
    /// // Every request must carry an installation signature.
    /// let signing = MessageSigning::builder()
    ///     .policy(SignaturePolicy::Always)
    ///     .public_origin("https://api.example.com")
    ///     .build()?;
    /// let approov = ApproovMiddleware::new(verifier).message_signing(signing);
    /// let app = App::new().service(
    ///     web::resource("/shapes")
    ///         .wrap(approov)
    ///         .post(|body: web::Bytes| async move { HttpResponse::Ok().body(body) }),
    /// );
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn message_signing(mut self, signing: MessageSigning) -> Self {
        self.gate = self.gate.message_signing(signing);
        self
    }

    /// Answers rejections with `respond(&rejection)` instead of
    /// [`unauthorized`](crate::unauthorized).
    ///
    /// The rejection is for the server's own use (metrics, a log line, a
    /// header in tests); telling the client why its token was refused helps
    /// an attacker, which is why the default says nothing.
    ///
    /// ```
    /// use actix_web::HttpResponse;
    /// use approov_actix::{ApproovMiddleware, unauthorized};
    /// # let verifier = approov_core::Verifier::builder().secret_base64("YXBwcm9vdi1ycyBleGFtcGxlIHNlY3JldDogMzIgYnl0ZXMgb3IgbW9yZSwgYXMgUkZDIDc1MTggYXNrcw==").build().unwrap();
    ///
    /// // The default response plus a header, e.g. for a client team's debug build:
    /// let approov = ApproovMiddleware::new(verifier.clone()).rejection_response(|rejection| {
    ///     let mut response = unauthorized();
    ///     response.headers_mut().insert(
    ///         "x-approov-reason".parse().unwrap(),
    ///         rejection.kind().as_str().parse().unwrap(),
    ///     );
    ///     response
    /// });
    ///
    /// // Or something else entirely:
    /// let approov = ApproovMiddleware::new(verifier)
    ///     .rejection_response(|_| HttpResponse::Forbidden().body("denied"));
    /// ```
    pub fn rejection_response<F>(mut self, respond: F) -> Self
    where
        F: Fn(&Rejection) -> HttpResponse + Send + Sync + 'static,
    {
        self.respond = Some(Arc::new(respond));
        self
    }
}

impl<S, B> Transform<S, ServiceRequest> for ApproovMiddleware
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = S::Error;
    type Transform = ApproovService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(ApproovService::new(
            service,
            self.gate.clone(),
            self.respond.clone(),
        )))
    }
}
