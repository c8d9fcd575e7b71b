//! The responses sent to rejected requests: the shared defaults, and the
//! hook that lets users send their own.

use std::fmt;
use std::sync::Arc;

use approov_core::{ApproovOutcome, BodyProblem, Decision, Rejection, response as defaults};
use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{HeaderMap, HeaderName, HeaderValue, Response, StatusCode};
use http_body_util::Full;

/// The `grpc-message` of the gRPC rejection. Fixed, so it never reveals why
/// the token was refused.
pub const GRPC_MESSAGE: &str = "missing or invalid Approov token";

const GRPC_CONTENT_TYPE: &str = "application/grpc";

/// The default rejection: `401 Unauthorized`, `content-type:
/// application/json`, `www-authenticate: Approov`, body `{}` — what the
/// official Approov backends send (the core's
/// [`approov_core::http::unauthorized`]).
///
/// Handy as a starting point for [`ApproovLayer::rejection_response`](crate::ApproovLayer::rejection_response):
///
/// ```
/// let response = approov_tower::response::unauthorized();
/// assert_eq!(response.status(), 401);
/// assert_eq!(response.headers()["www-authenticate"], "Approov");
/// assert_eq!(response.body().as_ref(), b"{}");
/// ```
pub fn unauthorized() -> Response<Bytes> {
    approov_core::http::unauthorized()
}

/// The default rejection of a gRPC request: a trailers-only response (HTTP
/// 200, `content-type: application/grpc`, `grpc-status: 16`
/// UNAUTHENTICATED, the fixed [`GRPC_MESSAGE`], empty body), which gRPC
/// clients report as `Code::Unauthenticated`.
///
/// ```
/// let response = approov_tower::response::grpc_unauthenticated();
/// assert_eq!(response.status(), 200);
/// assert_eq!(response.headers()["grpc-status"], "16");
/// assert!(response.body().is_empty());
/// ```
pub fn grpc_unauthenticated() -> Response<Bytes> {
    grpc_trailers_only(defaults::GRPC_STATUS_UNAUTHENTICATED, GRPC_MESSAGE)
}

/// The answer to a request whose token could not be judged because the
/// verifier has no usable key at all (`keys_unavailable`, e.g. a JWKS URL
/// not fetched yet): `503 Service Unavailable`, `content-type:
/// application/json`, `retry-after: 10`, body `{}` (the core's
/// [`approov_core::http::service_unavailable`]). gRPC requests get a
/// trailers-only `grpc-status: 14` (UNAVAILABLE) with the fixed
/// [`GRPC_UNAVAILABLE_MESSAGE`] instead ([`grpc_unavailable`]).
///
/// ```
/// let response = approov_tower::response::service_unavailable();
/// assert_eq!(response.status(), 503);
/// assert_eq!(response.headers()["retry-after"], "10");
/// assert_eq!(response.body().as_ref(), b"{}");
/// ```
pub fn service_unavailable() -> Response<Bytes> {
    approov_core::http::service_unavailable()
}

/// The gRPC answer to `keys_unavailable`: a trailers-only response with
/// `grpc-status: 14` (UNAVAILABLE), which gRPC clients may retry, and the
/// fixed [`GRPC_UNAVAILABLE_MESSAGE`].
///
/// ```
/// let response = approov_tower::response::grpc_unavailable();
/// assert_eq!(response.headers()["grpc-status"], "14");
/// ```
pub fn grpc_unavailable() -> Response<Bytes> {
    grpc_trailers_only(defaults::GRPC_STATUS_UNAVAILABLE, GRPC_UNAVAILABLE_MESSAGE)
}

/// The `grpc-message` sent with UNAVAILABLE when no key is there yet to
/// check the token.
pub const GRPC_UNAVAILABLE_MESSAGE: &str = "Approov token cannot be checked yet";

/// The answer to a body too large to check its `Content-Digest` (message
/// signing, see [`ApproovLayer::message_signing`](crate::ApproovLayer::message_signing)):
/// `413 Payload Too Large`, `content-type: application/json`, body `{}`.
/// gRPC requests get a trailers-only `grpc-status: 8` (RESOURCE_EXHAUSTED)
/// instead, with the fixed [`GRPC_TOO_LARGE_MESSAGE`].
///
/// ```
/// let response = approov_tower::response::payload_too_large();
/// assert_eq!(response.status(), 413);
/// assert_eq!(response.body().as_ref(), b"{}");
/// ```
pub fn payload_too_large() -> Response<Bytes> {
    json_status(StatusCode::PAYLOAD_TOO_LARGE)
}

/// The answer to a request body that failed while the layer read it to
/// check its `Content-Digest`: `400 Bad Request`, `content-type:
/// application/json`, body `{}` — the client's stream broke, which is not
/// the server's fault. gRPC requests get a trailers-only `grpc-status: 3`
/// (INVALID_ARGUMENT) with the fixed [`GRPC_UNREADABLE_MESSAGE`].
///
/// ```
/// let response = approov_tower::response::bad_request();
/// assert_eq!(response.status(), 400);
/// assert_eq!(response.body().as_ref(), b"{}");
/// ```
pub fn bad_request() -> Response<Bytes> {
    json_status(StatusCode::BAD_REQUEST)
}

/// The answer to a request body that did not arrive in full within the
/// read deadline ([`MessageSigningBuilder::body_read_timeout`](approov_core::signing::MessageSigningBuilder::body_read_timeout)):
/// `408 Request Timeout`, `content-type: application/json`, body `{}`.
/// gRPC requests get a trailers-only `grpc-status: 4` (DEADLINE_EXCEEDED)
/// with the fixed [`GRPC_TIMEOUT_MESSAGE`].
///
/// ```
/// let response = approov_tower::response::request_timeout();
/// assert_eq!(response.status(), 408);
/// assert_eq!(response.body().as_ref(), b"{}");
/// ```
pub fn request_timeout() -> Response<Bytes> {
    json_status(StatusCode::REQUEST_TIMEOUT)
}

/// The `grpc-message` sent with RESOURCE_EXHAUSTED when the body is too
/// large to check.
pub const GRPC_TOO_LARGE_MESSAGE: &str = "request body too large to check its Content-Digest";

/// The `grpc-message` sent with INVALID_ARGUMENT when the body could not be
/// read.
pub const GRPC_UNREADABLE_MESSAGE: &str = "request body could not be read";

/// The `grpc-message` sent with DEADLINE_EXCEEDED when the body did not
/// arrive within the read deadline.
pub const GRPC_TIMEOUT_MESSAGE: &str = "request body not received in time";

const GRPC_RESOURCE_EXHAUSTED: &str = "8";
const GRPC_DEADLINE_EXCEEDED: &str = "4";
const GRPC_INVALID_ARGUMENT: &str = "3";

fn json_status(status: StatusCode) -> Response<Bytes> {
    let mut response = Response::new(Bytes::from_static(defaults::BODY.as_bytes()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static(defaults::CONTENT_TYPE),
    );
    response
}

fn grpc_trailers_only(status: &'static str, message: &'static str) -> Response<Bytes> {
    let mut response = Response::new(Bytes::new());
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(GRPC_CONTENT_TYPE));
    headers.insert(
        HeaderName::from_static("grpc-status"),
        HeaderValue::from_static(status),
    );
    headers.insert(
        HeaderName::from_static("grpc-message"),
        HeaderValue::from_static(message),
    );
    response
}

/// The answer to a body that could not be checked (message signing): the
/// problem's status (413, 400 or 408) with `{}`, or for gRPC a
/// trailers-only status. Not the custom rejection response: that one is for
/// [`Rejection`]s, and the token is not the problem here.
pub(crate) fn body_refusal(problem: BodyProblem, headers: &HeaderMap) -> Response<Full<Bytes>> {
    let response = if is_grpc(headers) {
        let (status, message) = match problem {
            BodyProblem::TooLarge { .. } => (GRPC_RESOURCE_EXHAUSTED, GRPC_TOO_LARGE_MESSAGE),
            BodyProblem::TimedOut { .. } => (GRPC_DEADLINE_EXCEEDED, GRPC_TIMEOUT_MESSAGE),
            _ => (GRPC_INVALID_ARGUMENT, GRPC_UNREADABLE_MESSAGE),
        };
        grpc_trailers_only(status, message)
    } else {
        json_status(StatusCode::from_u16(problem.status()).unwrap_or(StatusCode::BAD_REQUEST))
    };
    response.map(Full::new)
}

/// Whether a request is gRPC, whose clients only understand a `grpc-status`.
pub(crate) fn is_grpc(headers: &HeaderMap) -> bool {
    headers.get(CONTENT_TYPE).is_some_and(|value| {
        let value = value.as_bytes();
        value.len() >= GRPC_CONTENT_TYPE.len()
            && value[..GRPC_CONTENT_TYPE.len()].eq_ignore_ascii_case(GRPC_CONTENT_TYPE.as_bytes())
    })
}

type CustomFn = dyn Fn(&Rejection) -> Response<Full<Bytes>> + Send + Sync;

/// Builds the response for a rejected request: the user's function when one
/// was given, otherwise the default for the request's protocol.
#[derive(Clone, Default)]
pub(crate) struct Responder {
    custom: Option<Arc<CustomFn>>,
}

impl Responder {
    pub(crate) fn custom<F, T>(f: F) -> Self
    where
        F: Fn(&Rejection) -> Response<T> + Send + Sync + 'static,
        T: Into<Bytes>,
    {
        Self {
            custom: Some(Arc::new(move |rejection| {
                f(rejection).map(|body| Full::new(body.into()))
            })),
        }
    }

    /// The decision as the service acts on it: the outcome to forward with,
    /// or the response to send instead. The response is returned by value:
    /// boxing it would allocate on every rejection.
    #[allow(clippy::result_large_err)]
    pub(crate) fn decide(
        &self,
        decision: Decision,
        headers: &HeaderMap,
    ) -> Result<ApproovOutcome, Response<Full<Bytes>>> {
        match decision {
            Decision::Forward(outcome) => Ok(outcome),
            Decision::Reject(rejection) => Err(self.respond(&rejection, headers)),
            Decision::RefuseBody(problem) => Err(body_refusal(problem, headers)),
        }
    }

    pub(crate) fn respond(
        &self,
        rejection: &Rejection,
        headers: &HeaderMap,
    ) -> Response<Full<Bytes>> {
        match &self.custom {
            Some(custom) => custom(rejection),
            None => Self::default_response(rejection, headers),
        }
    }

    /// 401 (gRPC: 16 UNAUTHENTICATED), or 503 (gRPC: 14 UNAVAILABLE) when
    /// no key could judge the token: [`Rejection::status`] decides.
    fn default_response(rejection: &Rejection, headers: &HeaderMap) -> Response<Full<Bytes>> {
        let unavailable = rejection.status() == defaults::UNAVAILABLE_STATUS;
        let response = match (is_grpc(headers), unavailable) {
            (true, false) => grpc_unauthenticated(),
            (true, true) => grpc_unavailable(),
            (false, false) => unauthorized(),
            (false, true) => service_unavailable(),
        };
        response.map(Full::new)
    }
}

impl fmt::Debug for Responder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.custom.is_some() {
            "custom"
        } else {
            "default"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::header::WWW_AUTHENTICATE;

    #[test]
    fn grpc_is_detected_by_content_type_prefix() {
        let grpc = |value: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert(CONTENT_TYPE, HeaderValue::from_static(value));
            is_grpc(&headers)
        };
        assert!(grpc("application/grpc"));
        assert!(grpc("application/grpc+proto"));
        assert!(grpc("Application/GRPC-web"));
        assert!(!grpc("application/json"));
        assert!(!grpc("application/grp"));
        assert!(!is_grpc(&HeaderMap::new()));
    }

    #[test]
    fn default_status_is_the_shared_one() {
        assert_eq!(unauthorized().status().as_u16(), defaults::STATUS);
        let too_large = BodyProblem::TooLarge { limit: 1 };
        assert_eq!(payload_too_large().status().as_u16(), too_large.status());
    }

    #[test]
    fn body_problems_answer_in_the_request_protocol() {
        let mut grpc = HeaderMap::new();
        grpc.insert(CONTENT_TYPE, HeaderValue::from_static("application/grpc"));
        let http = HeaderMap::new();
        let too_large = BodyProblem::TooLarge { limit: 1 };
        let slow = BodyProblem::TimedOut {
            after: std::time::Duration::from_secs(1),
        };
        let cases = [
            (too_large, &http, 413, None),
            (BodyProblem::Unreadable, &http, 400, None),
            (slow, &http, 408, None),
            (too_large, &grpc, 200, Some("8")),
            (BodyProblem::Unreadable, &grpc, 200, Some("3")),
            (slow, &grpc, 200, Some("4")),
        ];
        for (problem, headers, status, grpc_status) in cases {
            let response = body_refusal(problem, headers);
            assert_eq!(response.status().as_u16(), status, "{problem:?}");
            assert_eq!(
                response
                    .headers()
                    .get("grpc-status")
                    .map(|v| v.to_str().unwrap_or_default()),
                grpc_status,
                "{problem:?}"
            );
            assert!(
                !response.headers().contains_key(WWW_AUTHENTICATE),
                "{problem:?}: not an authentication failure"
            );
        }
    }
}
