//! What every accepted connection is served through, on the API listener
//! and the metrics listener alike: writes that give up when the client
//! stops reading (`SEND_TIMEOUT_SECONDS`), and a cap on the requests one
//! connection may make (`MAX_REQUESTS_PER_CONNECTION`).
//!
//! Without them a client that pipelines requests and never reads the
//! answers holds its connection slot for ever: hyper's writes wait on the
//! full socket, so it neither reads the next request head (whose timer
//! would fire) nor goes idle.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use http::header::{CONNECTION, HeaderValue};
use http::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio_io_timeout::TimeoutStream;

/// An accepted stream as hyper serves it.
pub(crate) type Io = TokioIo<Pin<Box<TimeoutStream<TcpStream>>>>;

/// `stream`, whose writes fail with `TimedOut` once one has waited
/// `send_timeout` without the socket taking a byte; hyper then closes the
/// connection and its slot under `MAX_CONNECTIONS` is free again. The
/// timer runs only while a write waits, so a client reading slowly but
/// steadily is served, as under nginx's `send_timeout`.
///
/// Must be called on a tokio runtime with timers enabled.
pub(crate) fn send_timed(stream: TcpStream, send_timeout: Duration) -> Io {
    let mut stream = TimeoutStream::new(stream);
    stream.set_write_timeout(Some(send_timeout));
    TokioIo::new(Box::pin(stream))
}

/// A connection's service that answers at most `max` requests: the last
/// answer carries `Connection: close`, and hyper closes the connection
/// once it is written (nginx's `keepalive_requests`), whatever the client
/// has pipelined behind it.
pub(crate) struct RequestCap<S> {
    inner: S,
    left: Cell<usize>,
}

impl<S> RequestCap<S> {
    /// `inner`, for one connection of at most `max` requests.
    pub(crate) fn new(inner: S, max: usize) -> Self {
        Self {
            inner,
            left: Cell::new(max),
        }
    }
}

impl<S, B> hyper::service::Service<Request<hyper::body::Incoming>> for RequestCap<S>
where
    S: hyper::service::Service<Request<hyper::body::Incoming>, Response = Response<B>>,
{
    type Response = Response<B>;
    type Error = S::Error;
    type Future = CloseAfter<S::Future>;

    fn call(&self, req: Request<hyper::body::Incoming>) -> Self::Future {
        // hyper serves an HTTP/1 connection's requests one after another,
        // so this counts them in order.
        let left = self.left.get().saturating_sub(1);
        self.left.set(left);
        CloseAfter {
            inner: self.inner.call(req),
            close: left == 0,
        }
    }
}

pin_project_lite::pin_project! {
    /// The answer of [`RequestCap`]'s service, with `Connection: close`
    /// added when it is the connection's last.
    pub(crate) struct CloseAfter<F> {
        #[pin]
        inner: F,
        close: bool,
    }
}

impl<F, B, E> Future for CloseAfter<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut answer = ready!(this.inner.poll(cx));
        if *this.close
            && let Ok(response) = &mut answer
        {
            response
                .headers_mut()
                .insert(CONNECTION, HeaderValue::from_static("close"));
        }
        Poll::Ready(answer)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::convert::Infallible;

    use super::*;

    #[test]
    fn only_the_last_answer_closes() {
        // Requests with an `Incoming` body come only from hyper: the
        // counting is tested over sockets (tests/serve_limits.rs).
        for (close, expected) in [(false, None), (true, Some("close"))] {
            let answer = CloseAfter {
                inner: std::future::ready(Ok::<_, Infallible>(Response::new(()))),
                close,
            };
            let response = futures_now(answer).unwrap();
            assert_eq!(
                response
                    .headers()
                    .get(CONNECTION)
                    .map(|v| v.to_str().unwrap()),
                expected
            );
        }
    }

    /// Polls a future that is ready at once.
    fn futures_now<F: Future>(future: F) -> F::Output {
        let mut future = std::pin::pin!(future);
        let mut cx = Context::from_waker(std::task::Waker::noop());
        match future.as_mut().poll(&mut cx) {
            Poll::Ready(output) => output,
            Poll::Pending => panic!("not ready"),
        }
    }
}
