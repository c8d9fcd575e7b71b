//! The [`Gate`]: a verifier plus the per-route policy, and the first step
//! of a request's check, on its head.

use std::sync::Arc;
use std::time::Duration;

use super::body::BodyCheck;
use super::decision::{ApproovOutcome, Decision, forward, refused};
use crate::error::Rejection;
use crate::headers::RequestHeaders;
use crate::signing::{
    BodyNeeds, DEFAULT_BODY_READ_TIMEOUT, DEFAULT_MAX_BODY_LEN, MessageParts, MessageSigning,
};
use crate::token::claims::ApproovClaims;
use crate::token::verifier::Verifier;

/// The outcome of [`Gate::check_head`], the first step.
#[derive(Debug)]
pub enum HeadDecision {
    /// Decided from the head alone. When forwarded, the body goes on to the
    /// inner service untouched and unread.
    Decided(Decision),
    /// The token and signatures passed and a `Content-Digest` must be
    /// compared with the body: read it as the [`BodyCheck`] says, then
    /// call [`BodyCheck::finish`].
    ReadBody(BodyCheck),
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
    /// Paths let through unchecked ([`Gate::open_paths`]); few and short.
    pub(super) open_paths: Arc<[Box<str>]>,
}

/// Which token rules verified a request's token: what an adapter leaves in
/// the request's extensions, next to the [`ApproovClaims`], when its gate
/// verified the token, so that a gate inside it (a route's token binding or
/// message signing under a layer that protects the whole application) takes
/// those claims instead of verifying the token a second time. Only a gate
/// whose verifier has the same keys and token rules (everything but the
/// binding, which the inner gate checks itself) takes them: see
/// [`MessageParts::with_verified`](crate::signing::MessageParts::with_verified).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifiedBy(u64);

impl Gate {
    /// Enforcing, with CORS preflights let through.
    pub fn new(verifier: Verifier) -> Self {
        Self {
            verifier,
            report_only: false,
            skip_preflight: true,
            signing: None,
            open_paths: Arc::new([]),
        }
    }

    /// What an adapter stores beside the claims of a request this gate
    /// verified: see [`VerifiedBy`].
    pub fn verified_by(&self) -> VerifiedBy {
        VerifiedBy(self.verifier.rules_id())
    }

    /// Report-only mode: rejections are logged and the request goes on,
    /// carrying [`ApproovOutcome::Rejected`]. For rolling Approov out
    /// without turning away users of older app versions. Off by default.
    /// A body that cannot be checked (413, 400, 408) is refused even so:
    /// it cannot be handed on intact.
    pub fn report_only(mut self, yes: bool) -> Self {
        self.report_only = yes;
        self
    }

    /// Lets CORS preflights (`OPTIONS` with `Origin` and
    /// `Access-Control-Request-Method`, see [`is_cors_preflight`]) through
    /// without a token, as browsers never send one; they carry
    /// [`ApproovOutcome::SkippedPreflight`]. On by default.
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

    /// The most body bytes read to check a `Content-Digest`
    /// ([`MessageSigning::max_body_len`]; its default without message
    /// signing).
    pub fn max_body_len(&self) -> usize {
        self.signing
            .as_ref()
            .map_or(DEFAULT_MAX_BODY_LEN, MessageSigning::max_body_len)
    }

    /// How long reading a body may take ([`MessageSigning::body_read_timeout`];
    /// its default without message signing).
    pub fn body_read_timeout(&self) -> Duration {
        self.signing
            .as_ref()
            .map_or(DEFAULT_BODY_READ_TIMEOUT, MessageSigning::body_read_timeout)
    }

    /// Decides what to do with a request, given its method and headers:
    /// the token (and its binding) only, even with message signing
    /// configured. Never asks for the body. Knowing no path, it lets no
    /// [open path](Self::open_paths) through: use
    /// [`check_request`](Self::check_request) for those.
    pub fn check<H: RequestHeaders + ?Sized>(&self, method: &str, headers: &H) -> Decision {
        if self.skip_preflight && is_cors_preflight(method, headers) {
            return forward(ApproovOutcome::SkippedPreflight);
        }
        self.decide(self.verifier.verify_request(headers))
    }

    /// Decides what to do with a request from its method, path and headers,
    /// as [`check`](Self::check) does (the token and its binding only, even
    /// with message signing configured; never the body), after the
    /// [open paths](Self::open_paths) rule. When `parts` carry claims an
    /// outer gate with the same token rules verified
    /// ([`MessageParts::with_verified`]), they are taken, and only this
    /// gate's binding is checked.
    pub fn check_request<H: RequestHeaders + ?Sized>(
        &self,
        parts: &MessageParts<'_, H>,
    ) -> Decision {
        if self.is_open_path(parts.path()) {
            return forward(ApproovOutcome::OpenPath);
        }
        let headers = parts.headers();
        if self.skip_preflight && is_cors_preflight(parts.method(), headers) {
            return forward(ApproovOutcome::SkippedPreflight);
        }
        match self.verify_token(parts) {
            Ok(Token::Reused(claims)) => Decision::Forward(ApproovOutcome::Verified(claims)),
            Ok(Token::Verified(claims)) => forward(ApproovOutcome::Verified(claims)),
            Err(rejection) => refused(rejection, self.report_only),
        }
    }

    /// The token's claims: an outer gate's, when it verified the token
    /// under the same rules (then only this gate's binding is checked), or
    /// the verifier's.
    fn verify_token<H: RequestHeaders + ?Sized>(
        &self,
        parts: &MessageParts<'_, H>,
    ) -> Result<Token, Rejection> {
        if let Some((claims, by)) = parts.verified()
            && by == self.verified_by()
        {
            if let Some(binding) = self.verifier.token_binding() {
                binding.check(claims, parts.headers())?;
            }
            return Ok(Token::Reused(claims.clone()));
        }
        self.verifier
            .verify_request(parts.headers())
            .map(Token::Verified)
    }

    /// The first step: everything the head of the request shows, in this
    /// order: the [open paths](Self::open_paths) rule, the CORS preflight
    /// rule, the token and its binding (an outer gate's claims, as in
    /// [`check_request`](Self::check_request)), the
    /// message signatures and the `Content-Digest` header (when message
    /// signing is configured), then the announced `Content-Length` against
    /// the body limit. Decides, or asks for the body when a digest must be
    /// compared with it (see [`crate::signing`] for the adapter flow).
    pub fn check_head<H: RequestHeaders + ?Sized>(
        &self,
        parts: &MessageParts<'_, H>,
    ) -> HeadDecision {
        let headers = parts.headers();
        let decided = HeadDecision::Decided;
        if self.is_open_path(parts.path()) {
            return decided(forward(ApproovOutcome::OpenPath));
        }
        if self.skip_preflight && is_cors_preflight(parts.method(), headers) {
            return decided(forward(ApproovOutcome::SkippedPreflight));
        }
        let (claims, reused) = match self.verify_token(parts) {
            Ok(Token::Verified(claims)) => (claims, false),
            Ok(Token::Reused(claims)) => (claims, true),
            Err(rejection) => return decided(self.decide(Err(rejection))),
        };
        // An outer gate counted the request accepted already.
        let pass = |claims| match reused {
            true => Decision::Forward(ApproovOutcome::Verified(claims)),
            false => forward(ApproovOutcome::Verified(claims)),
        };
        let Some(signing) = &self.signing else {
            return decided(pass(claims));
        };
        let token_header = self.verifier.token_header();
        let needs = match signing.verify_head(&claims, token_header, parts) {
            Err(rejection) => return decided(self.decide(Err(rejection))),
            Ok(needs) if needs.is_nothing() => return decided(pass(claims)),
            Ok(needs) => needs,
        };
        let body = self.body_check(ApproovOutcome::Verified(claims), needs);
        let body = if reused { body.counted() } else { body };
        match declared_len(headers) {
            Some(len) if len > body.max_len() as u64 => {
                let too_large = body.too_large();
                decided(body.finish(Err(too_large)))
            }
            _ => HeadDecision::ReadBody(body),
        }
    }

    /// Both steps at once, for a request whose body (if any) is already in
    /// memory: [`check_head`](Self::check_head), then, when it asks,
    /// [`BodyCheck::finish`] with `body`. A non-empty `body` counts as a
    /// body for [`require_digest_for_body`](crate::signing::MessageSigningBuilder::require_digest_for_body);
    /// `None` where a digest must be checked is refused (`digest_invalid`).
    pub fn check_message<H: RequestHeaders + ?Sized>(
        &self,
        parts: &MessageParts<'_, H>,
        body: Option<&[u8]>,
    ) -> Decision {
        let parts = match body {
            Some(body) if !body.is_empty() => parts.with_body(true),
            _ => *parts,
        };
        match self.check_head(&parts) {
            HeadDecision::Decided(decision) => decision,
            HeadDecision::ReadBody(check) => match body {
                Some(body) if body.len() > check.max_len() => {
                    let problem = check.too_large();
                    check.finish(Err(problem))
                }
                Some(body) => check.finish(Ok(body)),
                None => check.finish_unread(),
            },
        }
    }

    /// A body step that only reads, for an adapter whose API hands the
    /// body on as bytes whatever the head step decided (warp's `signed`
    /// filter): the same limit and deadline as a checked body, and the
    /// same refusals. `outcome` is what the head step forwarded.
    pub fn read_body(&self, outcome: ApproovOutcome) -> BodyCheck {
        let max_len = self.max_body_len();
        BodyCheck::new(
            outcome,
            BodyNeeds::default(),
            max_len,
            self.body_read_timeout(),
            self.report_only,
        )
        .counted()
    }

    /// The body step for what the head step found: a body that only has to
    /// be empty is refused at its first byte.
    fn body_check(&self, outcome: ApproovOutcome, needs: BodyNeeds) -> BodyCheck {
        let max_len = match needs.digests {
            Some(_) => self.max_body_len(),
            None => 0,
        };
        BodyCheck::new(
            outcome,
            needs,
            max_len,
            self.body_read_timeout(),
            self.report_only,
        )
    }

    fn decide(&self, verified: Result<ApproovClaims, Rejection>) -> Decision {
        match verified {
            Ok(claims) => forward(ApproovOutcome::Verified(claims)),
            Err(rejection) => refused(rejection, self.report_only),
        }
    }
}

/// Where a request's claims came from.
enum Token {
    /// Verified by this gate's verifier.
    Verified(ApproovClaims),
    /// Verified by an outer gate under the same rules; binding checked here.
    Reused(ApproovClaims),
}

/// The body length a request announces: the largest of its
/// `Content-Length` values that parse (a value that does not is the
/// server's to refuse; the read counts the bytes anyway).
fn declared_len<H: RequestHeaders + ?Sized>(headers: &H) -> Option<u64> {
    headers
        .header_values("content-length")
        .filter_map(|value| std::str::from_utf8(value).ok()?.trim().parse::<u64>().ok())
        .max()
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
