//! The per-request decision every adapter makes, in one place, so the
//! adapters only translate it into their framework's types.

use crate::signing::{MessageParts, MessageSigning};
use crate::{ApproovClaims, Rejection, RequestHeaders, Verifier};

/// The rejection response every adapter sends by default: the official
/// Approov backends answer 401 with `{}` and never say why.
pub mod response {
    /// `401 Unauthorized`.
    pub const STATUS: u16 = 401;
    /// The `Content-Type` of the rejection body.
    pub const CONTENT_TYPE: &str = "application/json";
    /// The rejection body.
    pub const BODY: &str = "{}";
    /// The `WWW-Authenticate` challenge RFC 9110 asks every 401 to carry.
    pub const WWW_AUTHENTICATE: &str = "Approov";
    /// gRPC status UNAUTHENTICATED, sent as a trailers-only response to
    /// requests whose `content-type` starts with `application/grpc`.
    pub const GRPC_STATUS_UNAUTHENTICATED: &str = "16";
}

/// What happened to a request's token, stored in the request's extensions by
/// every adapter so handlers can look (in report-only mode, especially).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ApproovOutcome {
    /// The token verified; the same claims are also in the extensions.
    Verified(ApproovClaims),
    /// Report-only mode: the token was rejected for this reason, and the
    /// request was let through anyway.
    Rejected(Rejection),
    /// A CORS preflight, which carries no token, was let through unchecked.
    SkippedPreflight,
}

/// What an adapter must do with a request.
///
/// Deliberately exhaustive: an adapter must handle every decision, so a new
/// one is a breaking change rather than a silently forwarded request.
#[derive(Debug)]
pub enum Decision {
    /// Call the inner service; put the outcome (and, when verified, the
    /// claims) in the request's extensions.
    Forward(ApproovOutcome),
    /// Answer with the rejection response and do not call the inner service.
    Reject(Rejection),
}

/// A verifier plus the per-route policy the adapters share: report-only
/// mode and CORS preflight handling. Rejections are logged here, through
/// `tracing` (target `approov`), with their kind and never the token.
///
/// ```
/// use approov_core::{ApproovOutcome, Decision, Gate, RejectionKind, Verifier};
///
/// let verifier = Verifier::builder().secret_base64("YXBwcm9vdi1ycyBleGFtcGxlIHNlY3JldDogMzIgYnl0ZXMgb3IgbW9yZSwgYXMgUkZDIDc1MTggYXNrcw==").build().unwrap();
/// let gate = Gate::new(verifier.clone());
/// let no_token: [(&str, &str); 0] = [];
/// assert!(matches!(gate.check("GET", &no_token), Decision::Reject(r) if r.kind() == RejectionKind::Missing));
///
/// let preflight = [("Origin", "https://app.example"), ("Access-Control-Request-Method", "POST")];
/// assert!(matches!(gate.check("OPTIONS", &preflight), Decision::Forward(ApproovOutcome::SkippedPreflight)));
///
/// let report_only = Gate::new(verifier).report_only(true);
/// assert!(matches!(report_only.check("GET", &no_token), Decision::Forward(ApproovOutcome::Rejected(_))));
/// ```
#[derive(Debug, Clone)]
pub struct Gate {
    verifier: Verifier,
    report_only: bool,
    skip_preflight: bool,
    signing: Option<MessageSigning>,
}

impl Gate {
    /// Enforcing, with CORS preflights let through.
    pub fn new(verifier: Verifier) -> Self {
        Self {
            verifier,
            report_only: false,
            skip_preflight: true,
            signing: None,
        }
    }

    /// Report-only mode: log rejections and let the requests through,
    /// marked with [`ApproovOutcome::Rejected`]. Off by default.
    pub fn report_only(mut self, yes: bool) -> Self {
        self.report_only = yes;
        self
    }

    /// Let CORS preflights (`OPTIONS` with `Origin` and
    /// `Access-Control-Request-Method`, see [`is_cors_preflight`]) through
    /// without a token, as browsers never send one. On by default.
    pub fn skip_cors_preflight(mut self, yes: bool) -> Self {
        self.skip_preflight = yes;
        self
    }

    /// The verifier.
    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }

    /// Replaces the verifier (e.g. one with another token binding).
    pub fn with_verifier(mut self, verifier: Verifier) -> Self {
        self.verifier = verifier;
        self
    }

    /// Whether report-only mode is on.
    pub fn is_report_only(&self) -> bool {
        self.report_only
    }

    /// Checks HTTP message signatures and `Content-Digest` in
    /// [`Gate::check_message`] (see [`crate::signing`]). Off by default.
    pub fn message_signing(mut self, signing: MessageSigning) -> Self {
        self.signing = Some(signing);
        self
    }

    /// The message-signing configuration, if any.
    pub fn signing(&self) -> Option<&MessageSigning> {
        self.signing.as_ref()
    }

    /// Whether the adapter must buffer the body before
    /// [`Gate::check_message`]: message signing is on and the request has a
    /// `Content-Digest` header.
    pub fn needs_body<H: RequestHeaders + ?Sized>(&self, headers: &H) -> bool {
        self.signing.as_ref().is_some_and(|s| s.needs_body(headers))
    }

    /// The most body bytes an adapter buffers for [`Gate::check_message`];
    /// beyond it the adapter answers `413`.
    pub fn max_body_len(&self) -> usize {
        self.signing.as_ref().map_or(
            crate::signing::DEFAULT_MAX_BODY_LEN,
            MessageSigning::max_body_len,
        )
    }

    /// Decides what to do with a request, given its method and headers.
    pub fn check<H: RequestHeaders + ?Sized>(&self, method: &str, headers: &H) -> Decision {
        if self.skip_preflight && is_cors_preflight(method, headers) {
            return Decision::Forward(ApproovOutcome::SkippedPreflight);
        }
        self.decide(self.verifier.verify_request(headers))
    }

    /// Like [`Gate::check`], then checks the request's message signatures
    /// and `Content-Digest` when message signing is configured. `body` is
    /// the buffered body when [`Gate::needs_body`] asked for it.
    pub fn check_message<H: RequestHeaders + ?Sized>(
        &self,
        parts: &MessageParts<'_, H>,
        body: Option<&[u8]>,
    ) -> Decision {
        let headers = parts.headers();
        if self.skip_preflight && is_cors_preflight(parts.method(), headers) {
            return Decision::Forward(ApproovOutcome::SkippedPreflight);
        }
        let verified =
            self.verifier
                .verify_request(headers)
                .and_then(|claims| match &self.signing {
                    Some(signing) => signing
                        .verify(&claims, self.verifier.token_header(), parts, body)
                        .map(|()| claims),
                    None => Ok(claims),
                });
        self.decide(verified)
    }

    fn decide(&self, verified: Result<ApproovClaims, Rejection>) -> Decision {
        match verified {
            Ok(claims) => Decision::Forward(ApproovOutcome::Verified(claims)),
            Err(rejection) => {
                log_rejection(&rejection, self.report_only);
                if self.report_only {
                    Decision::Forward(ApproovOutcome::Rejected(rejection))
                } else {
                    Decision::Reject(rejection)
                }
            }
        }
    }
}

/// A CORS preflight as browsers send it (Fetch standard, §4.8): the method
/// exactly `OPTIONS` (methods are case-sensitive, so `options` is another
/// method), with both `Origin` and `Access-Control-Request-Method`.
/// Anything less is checked like any request, so a client cannot skip the
/// token check by dressing a request up as half a preflight.
pub fn is_cors_preflight<H: RequestHeaders + ?Sized>(method: &str, headers: &H) -> bool {
    let has = |name| headers.header_values(name).next().is_some();
    method == "OPTIONS" && has("origin") && has("access-control-request-method")
}

/// Logs one rejection: its stable kind and its description, never the token.
pub fn log_rejection(rejection: &Rejection, report_only: bool) {
    tracing::warn!(
        target: "approov",
        kind = rejection.kind().as_str(),
        report_only,
        "Approov token rejected: {rejection}"
    );
}
