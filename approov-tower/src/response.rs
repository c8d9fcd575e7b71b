//! The responses sent to rejected requests: the shared defaults, and the
//! hook that lets users send their own.

use std::fmt;
use std::sync::Arc;

use approov_core::{Rejection, response as defaults};
use bytes::Bytes;
use http::header::{CONTENT_TYPE, WWW_AUTHENTICATE};
use http::{HeaderMap, HeaderName, HeaderValue, Response, StatusCode};
use http_body_util::Full;

/// The `grpc-message` of the gRPC rejection. Fixed, so it never reveals why
/// the token was refused.
pub const GRPC_MESSAGE: &str = "missing or invalid Approov token";

const GRPC_CONTENT_TYPE: &str = "application/grpc";

/// The default rejection: `401 Unauthorized`, `content-type:
/// application/json`, `www-authenticate: Approov`, body `{}` — what the
/// official Approov backends send.
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
    let mut response =
        json_status(StatusCode::from_u16(defaults::STATUS).unwrap_or(StatusCode::UNAUTHORIZED));
    response.headers_mut().insert(
        WWW_AUTHENTICATE,
        HeaderValue::from_static(defaults::WWW_AUTHENTICATE),
    );
    response
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

/// The `grpc-message` sent with RESOURCE_EXHAUSTED when the body is too
/// large to check.
pub const GRPC_TOO_LARGE_MESSAGE: &str = "request body too large to check its Content-Digest";

/// The `grpc-message` sent with INVALID_ARGUMENT when the body could not be
/// read.
pub const GRPC_UNREADABLE_MESSAGE: &str = "request body could not be read";

const GRPC_RESOURCE_EXHAUSTED: &str = "8";
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

/// Why the layer answered a message-signing request before any token or
/// signature check could decide: the body could not be checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyProblem {
    TooLarge,
    Unreadable,
}

impl BodyProblem {
    /// The answer for this request's protocol. Not the custom rejection
    /// response: that one is for [`Rejection`]s, and this is not one.
    pub(crate) fn respond(self, headers: &HeaderMap) -> Response<Full<Bytes>> {
        let response = match (self, is_grpc(headers)) {
            (Self::TooLarge, false) => payload_too_large(),
            (Self::Unreadable, false) => bad_request(),
            (Self::TooLarge, true) => {
                grpc_trailers_only(GRPC_RESOURCE_EXHAUSTED, GRPC_TOO_LARGE_MESSAGE)
            }
            (Self::Unreadable, true) => {
                grpc_trailers_only(GRPC_INVALID_ARGUMENT, GRPC_UNREADABLE_MESSAGE)
            }
        };
        response.map(Full::new)
    }
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

    pub(crate) fn respond(
        &self,
        rejection: &Rejection,
        headers: &HeaderMap,
    ) -> Response<Full<Bytes>> {
        match &self.custom {
            Some(custom) => custom(rejection),
            None => Self::default_response(headers),
        }
    }

    fn default_response(headers: &HeaderMap) -> Response<Full<Bytes>> {
        let response = if is_grpc(headers) {
            grpc_unauthenticated()
        } else {
            unauthorized()
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
        assert_eq!(
            payload_too_large().status().as_u16(),
            approov_core::signing::BODY_TOO_LARGE_STATUS
        );
    }

    #[test]
    fn body_problems_answer_in_the_request_protocol() {
        let mut grpc = HeaderMap::new();
        grpc.insert(CONTENT_TYPE, HeaderValue::from_static("application/grpc"));
        let http = HeaderMap::new();
        let cases = [
            (BodyProblem::TooLarge, &http, 413, None),
            (BodyProblem::Unreadable, &http, 400, None),
            (BodyProblem::TooLarge, &grpc, 200, Some("8")),
            (BodyProblem::Unreadable, &grpc, 200, Some("3")),
        ];
        for (problem, headers, status, grpc_status) in cases {
            let response = problem.respond(headers);
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
