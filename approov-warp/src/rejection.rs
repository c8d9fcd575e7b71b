//! The named warp rejection for a refused Approov token, and the response
//! it turns into.

use std::fmt;
use std::sync::Arc;

use approov_core::{Rejection, RejectionKind};
use warp::reply::Response;

/// A user-supplied rejection response, shared by every request.
pub(crate) type Responder = Arc<dyn Fn(&Rejection) -> Response + Send + Sync>;

/// Why [`ApproovFilter::outcome`](crate::ApproovFilter::outcome) (or
/// [`claims`](crate::ApproovFilter::claims), [`protect`](crate::ApproovFilter::protect))
/// rejected a request: a [`warp::reject::Reject`] carrying the core
/// [`Rejection`] and the custom response, if one was configured.
///
/// Turn it into its response with [`crate::recover`], or find it in your
/// own recover function:
///
/// ```
/// use approov_warp::NoClaims;
///
/// async fn handle(err: warp::Rejection) -> Result<warp::reply::Response, warp::Rejection> {
///     if let Some(approov) = err.find::<NoClaims>() {
///         // e.g. count approov.kind().as_str() in your metrics here
///         return Ok(approov.response());
///     }
///     Err(err)
/// }
/// ```
///
/// Its `Debug` and `Display` output name the reason, never the token.
#[derive(Clone)]
pub struct NoClaims {
    rejection: Rejection,
    responder: Option<Responder>,
}

impl NoClaims {
    pub(crate) fn new(rejection: Rejection, responder: Option<Responder>) -> Self {
        Self {
            rejection,
            responder,
        }
    }

    /// Why the token was refused. Meant for logs; never send it to the client.
    pub fn rejection(&self) -> &Rejection {
        &self.rejection
    }

    /// The stable kind of the rejection, e.g. `"expired"` from
    /// `kind().as_str()`, for logs and metrics.
    pub fn kind(&self) -> RejectionKind {
        self.rejection.kind()
    }

    /// Whether a custom rejection response was configured.
    pub fn has_custom_response(&self) -> bool {
        self.responder.is_some()
    }

    /// The response to send: the custom one given to
    /// [`ApproovFilter::rejection_response`](crate::ApproovFilter::rejection_response), or
    /// else [`unauthorized`] (or [`service_unavailable`] when the verifier
    /// had no usable key to judge the token: [`Rejection::status`] 503).
    pub fn response(&self) -> Response {
        match &self.responder {
            Some(respond) => respond(&self.rejection),
            None => {
                let (head, body) =
                    approov_core::http::rejection_response(&self.rejection).into_parts();
                Response::from_parts(head, body.into())
            }
        }
    }
}

impl fmt::Debug for NoClaims {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NoClaims")
            .field("rejection", &self.rejection)
            .field("custom_response", &self.responder.is_some())
            .finish()
    }
}

impl fmt::Display for NoClaims {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.rejection, f)
    }
}

impl std::error::Error for NoClaims {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.rejection)
    }
}

impl warp::reject::Reject for NoClaims {}

/// The response the official Approov backends send for any rejection, which
/// never says why: `401 Unauthorized`, `content-type: application/json`,
/// `www-authenticate: Approov` and the body `{}` (the constants in
/// [`approov_core::response`]).
pub fn unauthorized() -> Response {
    let (head, body) = approov_core::http::unauthorized().into_parts();
    Response::from_parts(head, body.into())
}

/// The response to a request whose token could not be judged because the
/// verifier has no usable key at all (`keys_unavailable`, e.g. a JWKS URL
/// not fetched yet): `503 Service Unavailable`, `content-type:
/// application/json`, `retry-after: 10` and the body `{}`.
///
/// ```
/// let response = approov_warp::service_unavailable();
/// assert_eq!(response.status(), 503);
/// assert_eq!(response.headers()["retry-after"], "10");
/// ```
pub fn service_unavailable() -> Response {
    let (head, body) = approov_core::http::service_unavailable().into_parts();
    Response::from_parts(head, body.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use approov_core::response;
    use warp::http::StatusCode;

    #[test]
    fn default_status_is_the_core_constant() {
        assert_eq!(StatusCode::UNAUTHORIZED.as_u16(), response::STATUS);
        assert_eq!(unauthorized().status().as_u16(), response::STATUS);
    }

    #[test]
    fn debug_and_display_name_the_reason_only() {
        let r = NoClaims::new(Rejection::Expired, None);
        assert_eq!(
            format!("{r:?}"),
            "NoClaims { rejection: Expired, custom_response: false }"
        );
        assert_eq!(r.to_string(), Rejection::Expired.to_string());
        assert_eq!(r.kind(), RejectionKind::Expired);
    }
}
