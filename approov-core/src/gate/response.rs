//! The rejection response every adapter sends by default: the official
//! Approov backends answer 401 with `{}` and never say why.

/// `401 Unauthorized`.
pub const STATUS: u16 = 401;
/// The `Content-Type` of the rejection body.
pub const CONTENT_TYPE: &str = "application/json";
/// The rejection body.
pub const BODY: &str = "{}";
/// The `WWW-Authenticate` challenge RFC 9110 asks every 401 to carry.
pub const WWW_AUTHENTICATE: &str = "Approov";
/// gRPC status UNAUTHENTICATED, sent as a trailers-only response to
/// requests whose `content-type` starts with `application/grpc`.
pub const GRPC_STATUS_UNAUTHENTICATED: &str = "16";

/// `503 Service Unavailable`: the answer to a request that could not be
/// judged because the verifier has no usable key at all
/// ([`Rejection::KeysUnavailable`](crate::Rejection::KeysUnavailable)), with
/// `content-type: application/json`, body `{}`, [`RETRY_AFTER`] and no
/// `WWW-Authenticate` (the client's credentials are not the problem).
pub const UNAVAILABLE_STATUS: u16 = 503;
/// The `Retry-After` of the 503, in seconds: the default least time
/// between JWKS fetches a token with no matching key asks for
/// (`JwksUrl::unknown_kid_interval`, feature `jwks-url`),
/// so a retry after it meets the keys of the fetch the first request
/// started, when the JWKS server answers.
pub const RETRY_AFTER: &str = "10";
/// gRPC status UNAVAILABLE, the gRPC answer of the 503, which gRPC clients
/// treat as worth a retry.
pub const GRPC_STATUS_UNAVAILABLE: &str = "14";
