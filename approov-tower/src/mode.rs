//! Type-level markers saying whether an [`ApproovLayer`](crate::ApproovLayer)
//! checks HTTP message signatures.
//!
//! They are a type parameter rather than a runtime flag so that the
//! token-only layer keeps its exact service type, request body and cost:
//! only [`ApproovLayer::message_signing`](crate::ApproovLayer::message_signing)
//! turns an `ApproovLayer<TokenOnly>` into an `ApproovLayer<MessageSigned>`,
//! whose services may buffer the body and hand the inner service an
//! [`ApproovRequestBody`](crate::ApproovRequestBody). Neither type has a
//! value: they only name the mode.

/// The default mode: only the Approov token (and its binding) is checked,
/// with [`Gate::check_request`](approov_core::Gate::check_request); the inner service
/// receives the request exactly as it came.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenOnly {}

/// Message-signing mode: the token and the request's RFC 9421 signatures
/// and `Content-Digest` are checked, with
/// [`Gate::check_message`](approov_core::Gate::check_message); the inner
/// service receives `Request<ApproovRequestBody<ReqBody>>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageSigned {}
