//! Turns our rejections into their responses; warp itself would answer 500.

use warp::reply::Response;

use crate::{BodyRejection, NoClaims};

/// Answers an [`NoClaims`] with its response (by default 401,
/// `content-type: application/json`, `www-authenticate: Approov`, body `{}`;
/// 503 with `retry-after` when the verifier had no usable key to judge the
/// token, see [`service_unavailable`](crate::service_unavailable)),
/// a [`BodyRejection`] with its 413, 400 or 408 (`{}` too), and passes every
/// other rejection on unchanged, for warp's own handling (404, 405, ...) or
/// a later `recover`.
///
/// **Without it, warp answers our rejections with `500 Internal Server
/// Error`**, as it does for every custom rejection nobody recovers. Put it
/// on the outside of the routes:
///
/// ```
/// use warp::Filter;
/// # let approov = approov_warp::ApproovFilter::new(
/// #     approov_core::Verifier::builder().secret_base64("YXBwcm9vdi1ycyBleGFtcGxlIHNlY3JldDogMzIgYnl0ZXMgb3IgbW9yZSwgYXMgUkZDIDc1MTggYXNrcw==").build().unwrap());
/// let routes = approov.protect().and(warp::path("hello")).map(|| "hello");
/// let app = routes.recover(approov_warp::recover);
/// # let _ = app;
/// ```
///
/// When several routes are joined with `or` and all reject, warp keeps
/// every rejection; if one of them is ours the client gets our 401, ahead of
/// the 404 or 405 of the routes that did not match.
pub async fn recover(err: warp::Rejection) -> Result<Response, warp::Rejection> {
    if let Some(approov) = err.find::<NoClaims>() {
        return Ok(approov.response());
    }
    match err.find::<BodyRejection>() {
        Some(body) => Ok(body.response()),
        None => Err(err),
    }
}
