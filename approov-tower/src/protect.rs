//! A whole axum application behind one layer (feature `axum`): what
//! [`ApproovLayer::protect`] returns.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use axum::body::Body;
use axum::response::Response;
use axum::routing::IntoMakeService;
use bytes::Bytes;
use http::Request;
use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use crate::mode::TokenOnly;
use crate::{ApproovBody, ApproovLayer, ApproovService};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl<M> ApproovLayer<M> {
    /// Protects a whole axum application, typically the finished
    /// [`Router`](axum::Router): every request goes through this layer
    /// before any routing, so every route is protected whenever it was
    /// added (and so is the fallback), except the
    /// [open paths](Self::open_paths). Nothing can be added to the result,
    /// so no route can escape. Serve it as a router:
    /// `axum::serve(listener, app.into_make_service())` (with
    /// [`axum::ServiceExt`]), or hyper's builder with
    /// `TowerToHyperService::new(app.clone())`.
    ///
    /// It is [`Layer::layer`] with the response body made axum's
    /// [`Body`], which `axum::serve` requires. A route's own layer inside
    /// (token binding, message signing) takes this layer's verification
    /// and checks only what it adds.
    ///
    /// ```
    /// use approov_tower::{ApproovLayer, Verifier};
    /// use axum::{Router, routing::get};
    ///
    /// let verifier = Verifier::builder().secret_base64("YXBwcm9vdi1ycyBleGFtcGxlIHNlY3JldDogMzIgYnl0ZXMgb3IgbW9yZSwgYXMgUkZDIDc1MTggYXNrcw==").build()?;
    /// let router = Router::new()
    ///     .route("/", get(|| async { "Hello" }))
    ///     .route("/health", get(|| async { "ok" }));
    /// let app = ApproovLayer::new(verifier).open_paths(["/health"])?.protect(router);
    /// let make_service = app.into_make_service(); // axum::serve(listener, app.into_make_service())
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn protect<S>(&self, app: S) -> Protected<S, M> {
        Protected {
            service: self.layer(app),
        }
    }
}

/// An application behind an [`ApproovLayer`], answering with axum's
/// response type: see [`ApproovLayer::protect`]. `Clone` when the
/// application is.
pub struct Protected<S, M = TokenOnly> {
    service: ApproovService<S, M>,
}

impl<S, M> Protected<S, M> {
    /// The service that checks the token and calls the application.
    pub fn get_ref(&self) -> &ApproovService<S, M> {
        &self.service
    }

    /// What `axum::serve` takes: `axum::serve(listener, app.into_make_service())`,
    /// as with a [`Router`](axum::Router). (For
    /// `into_make_service_with_connect_info`, call it through
    /// [`axum::ServiceExt`]: `ServiceExt::<axum::extract::Request>::into_make_service_with_connect_info::<SocketAddr>(app)`.)
    pub fn into_make_service(self) -> IntoMakeService<Self>
    where
        Self: Service<Request<Body>>,
    {
        axum::ServiceExt::<Request<Body>>::into_make_service(self)
    }

    /// Consumes `self`, returning the service that checks the token.
    pub fn into_inner(self) -> ApproovService<S, M> {
        self.service
    }
}

impl<S: Clone, M> Clone for Protected<S, M> {
    fn clone(&self) -> Self {
        Self {
            service: self.service.clone(),
        }
    }
}

impl<S: fmt::Debug, M> fmt::Debug for Protected<S, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Protected")
            .field("service", &self.service)
            .finish()
    }
}

impl<S, M, B, ResBody> Service<Request<B>> for Protected<S, M>
where
    ApproovService<S, M>:
        Service<Request<B>, Response = http::Response<ApproovBody<ResBody>>, Error = Infallible>,
    ResBody: http_body::Body<Data = Bytes> + Send + 'static,
    ResBody::Error: Into<BoxError>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = ProtectedFuture<<ApproovService<S, M> as Service<Request<B>>>::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.service.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        ProtectedFuture {
            inner: self.service.call(request),
        }
    }
}

pin_project! {
    /// The response future of [`Protected`]: the layer's, with the body
    /// made axum's.
    pub struct ProtectedFuture<F> {
        #[pin]
        inner: F,
    }
}

impl<F, ResBody> Future for ProtectedFuture<F>
where
    F: Future<Output = Result<http::Response<ApproovBody<ResBody>>, Infallible>>,
    ResBody: http_body::Body<Data = Bytes> + Send + 'static,
    ResBody::Error: Into<BoxError>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let response = ready!(self.project().inner.poll(cx))?;
        Poll::Ready(Ok(response.map(Body::new)))
    }
}
