//! The upstream HTTP client: hyper with a connection pool, rustls for
//! HTTPS (ring, Mozilla's roots from `webpki-roots`), bodies streamed.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use crate::error::ProxyConfigError;

/// Streams request bodies up and response bodies down.
pub(crate) type UpstreamClient = Client<HttpsConnector<HttpConnector>, Body>;

/// How long an idle upstream connection is kept for reuse.
const POOL_IDLE: Duration = Duration::from_secs(60);

/// Builds the client. The crypto provider is chosen explicitly (ring, the
/// crate approov-core already uses) rather than through rustls' process
/// default, which panics when two providers end up in one build.
pub(crate) fn upstream_client() -> Result<UpstreamClient, ProxyConfigError> {
    let mut http = HttpConnector::new();
    // The URI scheme decides between TLS and plain TCP.
    http.enforce_http(false);
    http.set_nodelay(true);
    let https = HttpsConnectorBuilder::new()
        .with_provider_and_webpki_roots(Arc::new(rustls::crypto::ring::default_provider()))
        .map_err(|e| ProxyConfigError::Tls(e.to_string()))?
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    Ok(Client::builder(TokioExecutor::new())
        .pool_idle_timeout(POOL_IDLE)
        .pool_timer(TokioTimer::new())
        .build(https))
}
