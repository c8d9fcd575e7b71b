//! The framework-free view of a request that adapters build for message
//! signature verification.

use std::fmt;

use crate::gate::VerifiedBy;
use crate::headers::RequestHeaders;
use crate::token::claims::ApproovClaims;

/// The parts of a request that RFC 9421 derived components are computed
/// from, borrowed from the framework's request. Build it with
/// [`MessageParts::new`], then add what the framework knows of the target
/// URI's scheme and authority.
///
/// ```
/// use approov_core::signing::MessageParts;
///
/// let headers = [("Host", "api.example.com")];
/// // From http 1: `req.method().as_str()`, `req.uri().path_and_query()`,
/// // `req.uri().scheme_str()`, `req.uri().authority()`.
/// let parts = MessageParts::new("POST", "/shapes?size=2", &headers)
///     .with_scheme(Some("https"))
///     .with_authority(None); // HTTP/1.1 origin-form: the Host header is used
/// assert_eq!(parts.path(), "/shapes");
/// assert_eq!(parts.query(), Some("size=2"));
/// ```
pub struct MessageParts<'a, H: ?Sized> {
    method: &'a str,
    scheme: Option<&'a str>,
    authority: Option<&'a str>,
    path: &'a str,
    query: Option<&'a str>,
    headers: &'a H,
    has_body: Option<bool>,
    verified: Option<(&'a ApproovClaims, VerifiedBy)>,
}

impl<'a, H: RequestHeaders + ?Sized> MessageParts<'a, H> {
    /// A request with this method, request target (`/path?query`, as
    /// received, not decoded; an empty path is `/`) and headers. Scheme and authority are unknown
    /// until set: the authority then comes from the `Host` header and the
    /// scheme from the configuration (see
    /// [`MessageSigningBuilder::public_origin`](super::MessageSigningBuilder::public_origin)).
    pub fn new(method: &'a str, path_and_query: &'a str, headers: &'a H) -> Self {
        let (path, query) = match path_and_query.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (path_and_query, None),
        };
        // RFC 9421 §2.2.6: an empty path is `/` (`http://a.example?x`,
        // or a framework that shows the root as "").
        let path = if path.is_empty() { "/" } else { path };
        Self {
            method,
            scheme: None,
            authority: None,
            path,
            query,
            headers,
            has_body: None,
            verified: None,
        }
    }

    /// The scheme of the target URI, when the framework knows it (HTTP/2
    /// `:scheme`, an absolute-form request line, or a TLS listener).
    pub fn with_scheme(mut self, scheme: Option<&'a str>) -> Self {
        self.scheme = scheme;
        self
    }

    /// The authority of the target URI, when the framework knows it (HTTP/2
    /// `:authority` or an absolute-form request line); otherwise the `Host`
    /// header is used.
    pub fn with_authority(mut self, authority: Option<&'a str>) -> Self {
        self.authority = authority;
        self
    }

    /// Whether the request has a body, when the framework knows it (e.g.
    /// HTTP/2, where neither `Content-Length` nor `Transfer-Encoding` need
    /// be sent: `!body.is_end_stream()`). Unknown, a `Content-Length` other
    /// than 0 or a `Transfer-Encoding` means a body. See
    /// [`MessageSigningBuilder::require_digest_for_body`](super::MessageSigningBuilder::require_digest_for_body).
    pub fn with_body(mut self, has_body: bool) -> Self {
        self.has_body = Some(has_body);
        self
    }

    /// The claims an outer gate verified for this request and the rules it
    /// verified them under, as an adapter finds them in the request's
    /// extensions (both, or nothing is taken). A gate with the same rules
    /// ([`Gate::verified_by`](crate::Gate::verified_by)) takes the claims
    /// rather than verifying the token again, and checks only its own
    /// binding and signatures; any other gate ignores them.
    pub fn with_verified(
        mut self,
        claims: Option<&'a ApproovClaims>,
        by: Option<VerifiedBy>,
    ) -> Self {
        self.verified = claims.zip(by);
        self
    }

    /// What [`with_verified`](Self::with_verified) gave.
    pub(crate) fn verified(&self) -> Option<(&'a ApproovClaims, VerifiedBy)> {
        self.verified
    }

    /// Whether the request has a body: what [`with_body`](Self::with_body)
    /// said, else what its `Content-Length` or `Transfer-Encoding` say.
    pub fn has_body(&self) -> bool {
        self.has_body
            .unwrap_or_else(|| super::digest::has_body(self.headers))
    }

    /// Whether the adapter said whether the request has a body.
    pub(crate) fn body_known(&self) -> bool {
        self.has_body.is_some()
    }

    /// The request method, e.g. `POST`.
    pub fn method(&self) -> &'a str {
        self.method
    }

    /// The scheme given by the adapter, if any.
    pub fn scheme(&self) -> Option<&'a str> {
        self.scheme
    }

    /// The authority given by the adapter, if any.
    pub fn authority(&self) -> Option<&'a str> {
        self.authority
    }

    /// The path, without the query.
    pub fn path(&self) -> &'a str {
        self.path
    }

    /// The query, without the `?`; `None` when the target has no `?`.
    pub fn query(&self) -> Option<&'a str> {
        self.query
    }

    /// The request's headers.
    pub fn headers(&self) -> &'a H {
        self.headers
    }
}

impl<H: ?Sized> Clone for MessageParts<'_, H> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<H: ?Sized> Copy for MessageParts<'_, H> {}

impl<H: ?Sized> fmt::Debug for MessageParts<'_, H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Headers hold the token: they are never printed.
        f.debug_struct("MessageParts")
            .field("method", &self.method)
            .field("scheme", &self.scheme)
            .field("authority", &self.authority)
            .field("path", &self.path)
            .field("query", &self.query)
            .field("has_body", &self.has_body)
            .field("outer_verified", &self.verified.is_some())
            .finish_non_exhaustive()
    }
}
