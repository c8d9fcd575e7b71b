//! The request body handed on in message-signing mode: the original body,
//! or the bytes the layer buffered to check `Content-Digest`.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::HeaderMap;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

pin_project! {
    /// The request body an [`ApproovLayer`](crate::ApproovLayer) with
    /// [`message_signing`](crate::ApproovLayer::message_signing) hands to
    /// the inner service: the original body `B`, untouched and still
    /// streaming, or — when a `Content-Digest` had to be checked — the very
    /// bytes (and trailers) the layer read and checked.
    ///
    /// It implements [`http_body::Body`] with `Data = Bytes` and `B`'s own
    /// error type, so axum routers and tonic servers, which accept any such
    /// body, take it as they are; a hyper `service_fn` names it, e.g.
    /// `Request<ApproovRequestBody<hyper::body::Incoming>>`.
    #[derive(Debug)]
    pub struct ApproovRequestBody<B> {
        #[pin]
        kind: Kind<B>,
    }
}

pin_project! {
    #[project = KindProj]
    #[derive(Debug)]
    enum Kind<B> {
        Original { #[pin] body: B },
        Buffered { data: Option<Bytes>, trailers: Option<HeaderMap> },
    }
}

impl<B> ApproovRequestBody<B> {
    pub(crate) fn original(body: B) -> Self {
        Self {
            kind: Kind::Original { body },
        }
    }

    pub(crate) fn buffered(data: Bytes, trailers: Option<HeaderMap>) -> Self {
        Self {
            kind: Kind::Buffered {
                // An empty data frame says nothing; end the stream sooner.
                data: (!data.is_empty()).then_some(data),
                trailers,
            },
        }
    }

    /// Whether this is the buffered body (the request had a
    /// `Content-Digest` that was checked against it) rather than the
    /// original, still streaming one.
    pub fn is_buffered(&self) -> bool {
        matches!(self.kind, Kind::Buffered { .. })
    }
}

impl<B> Body for ApproovRequestBody<B>
where
    B: Body<Data = Bytes>,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        match self.project().kind.project() {
            KindProj::Original { body } => body.poll_frame(cx),
            KindProj::Buffered { data, trailers } => {
                let frame = match data.take() {
                    Some(data) => Some(Frame::data(data)),
                    None => trailers.take().map(Frame::trailers),
                };
                Poll::Ready(frame.map(Ok))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Original { body } => body.is_end_stream(),
            Kind::Buffered { data, trailers } => data.is_none() && trailers.is_none(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Original { body } => body.size_hint(),
            Kind::Buffered { data, .. } => {
                SizeHint::with_exact(data.as_ref().map_or(0, |data| data.len() as u64))
            }
        }
    }
}
