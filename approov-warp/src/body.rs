//! Buffering a request body under a limit, and the named rejection for a
//! body that is too long or cannot be read.

use std::fmt;

use approov_core::response;
use approov_core::signing::BODY_TOO_LARGE_STATUS;
use bytes::{Buf, Bytes};
use futures_util::{Stream, StreamExt as _};
use http_body::Frame;
use http_body_util::{BodyExt as _, LengthLimitError, Limited, StreamBody};
use warp::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use warp::http::{HeaderMap, HeaderValue, StatusCode};
use warp::reply::{Reply, Response};

/// Why [`Approov::signed`](crate::Approov::signed) (or
/// [`signed_claims`](crate::Approov::signed_claims)) could not hand the
/// request body on: a [`warp::reject::Reject`] that [`crate::recover`]
/// answers with [`BodyRejection::response`].
///
/// ```
/// use approov_warp::BodyRejection;
///
/// let too_large = BodyRejection::TooLarge { limit: 1024 };
/// assert_eq!(too_large.status(), 413);
/// assert_eq!(too_large.response().status(), 413);
/// assert_eq!(BodyRejection::Unreadable.status(), 400);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BodyRejection {
    /// The body (or its `Content-Length`) is longer than the limit,
    /// [`Gate::max_body_len`](approov_core::Gate::max_body_len):
    /// `413 Payload Too Large`.
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// Reading the body failed (e.g. the client sent a broken chunked
    /// encoding or went away): `400 Bad Request`.
    Unreadable,
}

impl BodyRejection {
    /// `413` for [`TooLarge`](Self::TooLarge), `400` for
    /// [`Unreadable`](Self::Unreadable).
    pub fn status(&self) -> StatusCode {
        match self {
            Self::TooLarge { .. } => {
                StatusCode::from_u16(BODY_TOO_LARGE_STATUS).unwrap_or(StatusCode::PAYLOAD_TOO_LARGE)
            }
            Self::Unreadable => StatusCode::BAD_REQUEST,
        }
    }

    /// The response to send: [`status`](Self::status), `content-type:
    /// application/json` and the body `{}`, like every approov-rs answer.
    pub fn response(&self) -> Response {
        let mut res = response::BODY.into_response();
        *res.status_mut() = self.status();
        res.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static(response::CONTENT_TYPE),
        );
        res
    }

    fn log(self) -> Self {
        match self {
            Self::TooLarge { limit } => tracing::warn!(
                target: "approov",
                kind = "body_too_large",
                limit,
                "request body over the message-signing limit: answered 413"
            ),
            Self::Unreadable => tracing::warn!(
                target: "approov",
                kind = "body_unreadable",
                "request body could not be read: answered 400"
            ),
        }
        self
    }
}

impl fmt::Display for BodyRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge { limit } => {
                write!(f, "the request body is longer than the {limit}-byte limit")
            }
            Self::Unreadable => f.write_str("the request body could not be read"),
        }
    }
}

impl std::error::Error for BodyRejection {}

impl warp::reject::Reject for BodyRejection {}

/// Whether a `Content-Length` header already says the body is too long, so
/// it can be refused before a byte of it is read.
pub(crate) fn announced_too_large(headers: &HeaderMap, limit: usize) -> bool {
    headers.get_all(CONTENT_LENGTH).iter().any(|value| {
        value
            .to_str()
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .is_some_and(|len| u64::try_from(limit).is_ok_and(|limit| len > limit))
    })
}

/// Reads the whole body, refusing it as soon as it passes `limit` bytes,
/// whatever `Content-Length` said (chunked bodies have none).
pub(crate) async fn read_limited<S, B>(
    stream: S,
    headers: &HeaderMap,
    limit: usize,
) -> Result<Bytes, BodyRejection>
where
    S: Stream<Item = Result<B, warp::Error>> + Send,
    B: Buf + Send,
{
    if announced_too_large(headers, limit) {
        return Err(BodyRejection::TooLarge { limit }.log());
    }
    let body = Limited::new(StreamBody::new(stream.map(|r| r.map(Frame::data))), limit);
    match body.collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<LengthLimitError>() => Err(BodyRejection::TooLarge { limit }.log()),
        Err(_) => Err(BodyRejection::Unreadable.log()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_length_over_the_limit_is_announced_too_large() {
        let mut headers = HeaderMap::new();
        assert!(!announced_too_large(&headers, 10));
        headers.insert(CONTENT_LENGTH, HeaderValue::from_static("10"));
        assert!(!announced_too_large(&headers, 10));
        headers.insert(CONTENT_LENGTH, HeaderValue::from_static("11"));
        assert!(announced_too_large(&headers, 10));
        // Unparsable values are left to the streaming limit.
        headers.insert(CONTENT_LENGTH, HeaderValue::from_static("lots"));
        assert!(!announced_too_large(&headers, 10));
        headers.insert(
            CONTENT_LENGTH,
            HeaderValue::from_static("99999999999999999999999"),
        );
        assert!(!announced_too_large(&headers, 10));
    }

    #[test]
    fn responses_are_json_with_an_empty_object() {
        let res = BodyRejection::TooLarge { limit: 3 }.response();
        assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(res.headers()[CONTENT_TYPE], "application/json");
        assert_eq!(BodyRejection::Unreadable.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            BodyRejection::TooLarge { limit: 3 }.to_string(),
            "the request body is longer than the 3-byte limit"
        );
    }
}
