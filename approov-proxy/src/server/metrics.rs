//! `METRICS_ADDR`: the proxy's series and those of [`approov_core::metrics`]
//! in Prometheus text format at `GET /metrics`, on a listener of their own.
//!
//! The recorder is `metrics-exporter-prometheus`'s
//! ([`crate::telemetry::exporter`]); the endpoint is a tiny
//! hyper server on its own thread and its own single-threaded tokio
//! runtime, so a scrape never waits behind API traffic. The exporter's own
//! listener is not used: it cannot say which port it bound, and the tests
//! (and `METRICS_ADDR=127.0.0.1:0`) need to know.

use std::convert::Infallible;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use http::{Method, Request, Response, StatusCode, header};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioTimer;
use metrics_exporter_prometheus::PrometheusHandle;
use tokio::sync::Semaphore;

use super::connection::{self, RequestCap};
use super::listen;
use crate::config::ServeLimits;
use crate::error::StartError;
use crate::telemetry::exporter;
use crate::telemetry::log::TARGET;

/// The path Prometheus scrapes.
const PATH: &str = "/metrics";
/// Connections open at once on the metrics listener; more wait in its
/// listen backlog.
const MAX_CONNECTIONS: usize = 16;
/// The Prometheus text exposition format.
const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Binds `addr`, installs the Prometheus recorder, serves `GET /metrics`
/// from a thread of its own, and prints `metrics on <ip>:<port>` (the real
/// port) on stdout. The request-head, idle and send timeouts and the cap on
/// requests per connection of `limits` apply as on the API listener; the
/// connections are capped at 16 of their own.
pub fn start(addr: SocketAddr, limits: &ServeLimits) -> Result<SocketAddr, StartError> {
    let limits = *limits;
    let bind_error = |source| StartError::Bind {
        name: "METRICS_ADDR",
        addr,
        source,
    };
    let listener = listen::bind("METRICS_ADDR", addr)?;
    let local_addr = listener.local_addr().map_err(bind_error)?;
    let handle = exporter::install()?;
    let spawn_error = |source| StartError::Spawn {
        what: "the metrics thread",
        source,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(spawn_error)?;
    std::thread::Builder::new()
        .name("metrics".to_owned())
        .spawn(move || runtime.block_on(serve(listener, handle, limits)))
        .map_err(spawn_error)?;
    listen::announce("metrics", local_addr);
    tracing::info!(target: TARGET, %local_addr, "serving metrics at {PATH}");
    Ok(local_addr)
}

async fn serve(listener: TcpListener, handle: PrometheusHandle, limits: ServeLimits) {
    let listener = match tokio::net::TcpListener::from_std(listener) {
        Ok(listener) => listener,
        Err(e) => {
            tracing::error!(target: TARGET, error = %e, "the metrics listener failed");
            return;
        }
    };
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout.min(limits.idle_timeout));
    // Scrapers are few: a handful of connections is plenty, and a client
    // that opens many cannot take file descriptors from the API listener.
    let permits = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let Ok(permit) = Arc::clone(&permits).acquire_owned().await else {
            return;
        };
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                super::accept_failed(e).await;
                continue;
            }
        };
        let handle = handle.clone();
        let service = service_fn(move |req| {
            let handle = handle.clone();
            async move { Ok::<_, Infallible>(answer(&req, &handle)) }
        });
        // A scraper that stops reading a large page is cut off, as on the
        // API listener.
        let io = connection::send_timed(stream, limits.send_timeout);
        let service = RequestCap::new(service, limits.max_requests_per_connection);
        let conn = http.serve_connection(io, service);
        tokio::spawn(async move {
            let _ = conn.await;
            drop(permit);
        });
    }
}

fn answer(req: &Request<Incoming>, handle: &PrometheusHandle) -> Response<Full<Bytes>> {
    let (status, content_type, body) = if req.uri().path() != PATH {
        (
            StatusCode::NOT_FOUND,
            "text/plain",
            String::from("not found\n"),
        )
    } else if req.method() != Method::GET && req.method() != Method::HEAD {
        (
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain",
            String::from("GET only\n"),
        )
    } else {
        handle.run_upkeep();
        (StatusCode::OK, CONTENT_TYPE, handle.render())
    };
    let mut res = Response::new(Full::new(Bytes::from(body)));
    *res.status_mut() = status;
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(content_type),
    );
    res
}
