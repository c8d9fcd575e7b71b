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
