//! Lets the core read actix-web's header map (actix-web 4 is on `http` 0.2,
//! which the core does not depend on).

use actix_web::http::header::HeaderMap;
use approov_core::RequestHeaders;

/// An actix-web [`HeaderMap`] seen through the core's [`RequestHeaders`]
/// trait, for code that calls [`Verifier`](approov_core::Verifier) directly
/// (the middleware uses it internally).
///
/// Every value of a repeated header is returned, in order, so the verifier
/// can refuse a repeated `Approov-Token`; raw bytes are passed through
/// unchanged, so non-UTF-8 values are rejected by the verifier, not lost.
///
/// ```
/// use actix_web::test::TestRequest;
/// use approov_actix::HttpHeaders;
/// use approov_core::{RejectionKind, RequestHeaders, Verifier};
///
/// let req = TestRequest::default()
///     .append_header(("Approov-Token", "a.b.c"))
///     .append_header(("approov-token", "d.e.f"))
///     .to_http_request();
/// let headers = HttpHeaders(req.headers());
/// assert_eq!(headers.header_values("APPROOV-TOKEN").count(), 2);
///
/// let verifier = Verifier::builder().secret_base64("YXBwcm9vdi1ycyBleGFtcGxlIHNlY3JldDogMzIgYnl0ZXMgb3IgbW9yZSwgYXMgUkZDIDc1MTggYXNrcw==").build().unwrap();
/// let rejection = verifier.verify_request(&headers).unwrap_err();
/// assert_eq!(rejection.kind(), RejectionKind::Multiple);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct HttpHeaders<'a>(pub &'a HeaderMap);

impl RequestHeaders for HttpHeaders<'_> {
    fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        // `get_all` yields nothing for a name that is not a valid header
        // name, which no request can carry anyway.
        self.0.get_all(name).map(|value| value.as_bytes())
    }
}
