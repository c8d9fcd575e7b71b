//! The core reads request headers through [`RequestHeaders`]; the orphan
//! rule means the impl for `http::HeaderMap` has to live on a local type.

use approov_core::RequestHeaders;
use http::HeaderMap;

/// A borrowed [`http::HeaderMap`] (http 1) seen as [`RequestHeaders`], so
/// [`Verifier::verify_request`](approov_core::Verifier::verify_request) and
/// [`Gate::check`](approov_core::Gate::check) can read it. The layer uses it
/// on every request; it is public for handlers that verify by hand.
///
/// ```
/// use approov_core::{RejectionKind, Verifier};
/// use approov_tower::HttpHeaders;
/// use http::HeaderMap;
///
/// let verifier = Verifier::builder().secret_base64("YXBwcm9vdi1ycyBleGFtcGxlIHNlY3JldDogMzIgYnl0ZXMgb3IgbW9yZSwgYXMgUkZDIDc1MTggYXNrcw==").build()?;
/// let mut headers = HeaderMap::new();
/// headers.append("approov-token", "a".parse()?);
/// headers.append("Approov-Token", "b".parse()?);
/// let rejection = verifier.verify_request(&HttpHeaders(&headers)).unwrap_err();
/// assert_eq!(rejection.kind(), RejectionKind::Multiple);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct HttpHeaders<'a>(pub &'a HeaderMap);

impl RequestHeaders for HttpHeaders<'_> {
    fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        // `get_all` matches names case-insensitively and yields every value in
        // order; a name that is not a valid header name simply matches nothing.
        self.0
            .get_all(name)
            .into_iter()
            .map(|value| value.as_bytes())
    }
}
