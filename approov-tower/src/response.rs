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
    let mut response = Response::new(Bytes::from_static(defaults::BODY.as_bytes()));
    *response.status_mut() =
        StatusCode::from_u16(defaults::STATUS).unwrap_or(StatusCode::UNAUTHORIZED);
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static(defaults::CONTENT_TYPE),
    );
    headers.insert(
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
    let mut response = Response::new(Bytes::new());
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(GRPC_CONTENT_TYPE));
    headers.insert(
        HeaderName::from_static("grpc-status"),
        HeaderValue::from_static(defaults::GRPC_STATUS_UNAUTHENTICATED),
    );
    headers.insert(
        HeaderName::from_static("grpc-message"),
        HeaderValue::from_static(GRPC_MESSAGE),
    );
    response
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
    }
}
