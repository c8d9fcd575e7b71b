//! Reading a request body as the core's [`BodyCheck`] says, and the named
//! rejection for a body the core refused.

use std::fmt;

use approov_core::{BodyCheck, BodyProblem, response};
use bytes::{Buf, Bytes};
use futures_util::{Stream, StreamExt as _};
use http_body::Frame;
use http_body_util::{BodyExt as _, LengthLimitError, Limited, StreamBody};
use warp::http::header::CONTENT_TYPE;
use warp::http::{HeaderValue, StatusCode};
use warp::reply::{Reply, Response};

/// Why [`ApproovFilter::signed`](crate::ApproovFilter::signed) (or
/// [`signed_claims`](crate::ApproovFilter::signed_claims)) could not hand the
/// request body on: a [`warp::reject::Reject`] wrapping the core's
/// [`BodyProblem`], which [`crate::recover`] answers with
/// [`BodyRejection::response`].
///
/// ```
/// use approov_warp::{BodyProblem, BodyRejection};
///
/// let too_large = BodyRejection::from(BodyProblem::TooLarge { limit: 1024 });
/// assert_eq!(too_large.problem(), BodyProblem::TooLarge { limit: 1024 });
/// assert_eq!(too_large.status(), 413);
/// let res = too_large.response();
/// assert_eq!(res.status(), 413);
/// assert_eq!(res.headers()["content-type"], "application/json");
/// assert_eq!(BodyRejection::from(BodyProblem::Unreadable).status(), 400);
/// let slow = BodyProblem::TimedOut { after: std::time::Duration::from_secs(30) };
/// assert_eq!(BodyRejection::from(slow).status(), 408);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyRejection(BodyProblem);

impl BodyRejection {
    /// What went wrong: too large, unreadable or too slow.
    pub fn problem(&self) -> BodyProblem {
        self.0
    }

    /// [`BodyProblem::status`]: 413, 400 or 408.
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.0.status()).unwrap_or(StatusCode::BAD_REQUEST)
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
}

impl From<BodyProblem> for BodyRejection {
    fn from(problem: BodyProblem) -> Self {
        Self(problem)
    }
}

impl fmt::Display for BodyRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the request body was refused: {}", self.0)
    }
}

impl std::error::Error for BodyRejection {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

impl warp::reject::Reject for BodyRejection {}

/// Reads the whole body as `check` says: at most [`BodyCheck::max_len`]
/// bytes (whatever `Content-Length` said; chunked bodies have none) within
/// [`BodyCheck::timeout`]. The problem is for [`BodyCheck::finish`], which
/// logs it.
pub(crate) async fn read<S, B>(stream: S, check: &BodyCheck) -> Result<Bytes, BodyProblem>
where
    S: Stream<Item = Result<B, warp::Error>> + Send,
    B: Buf + Send,
{
    let body = StreamBody::new(stream.map(|r| r.map(Frame::data)));
    let collect = Limited::new(body, check.max_len()).collect();
    match tokio::time::timeout(check.timeout(), collect).await {
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(e)) if e.is::<LengthLimitError>() => Err(check.too_large()),
        Ok(Err(_)) => Err(BodyProblem::Unreadable),
        Err(_elapsed) => Err(check.timed_out()),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn responses_are_json_with_an_empty_object() {
        let problems = [
            (BodyProblem::TooLarge { limit: 3 }, 413),
            (BodyProblem::Unreadable, 400),
            (
                BodyProblem::TimedOut {
                    after: Duration::from_millis(5),
                },
                408,
            ),
        ];
        for (problem, status) in problems {
            let res = BodyRejection::from(problem).response();
            assert_eq!(res.status(), status);
            assert_eq!(res.headers()[CONTENT_TYPE], "application/json");
        }
        assert_eq!(
            BodyRejection::from(BodyProblem::TooLarge { limit: 3 }).to_string(),
            "the request body was refused: it is longer than the 3-byte limit"
        );
    }
}
