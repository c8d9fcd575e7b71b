//! One structured log line per request: method, path (no query), status,
//! latency, device id hash, route and Approov outcome. Never the query (it
//! may carry the key upstream-side or other secrets client-side), the token,
//! or any header.

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::Request;
use axum::response::Response;

/// The `tracing` target of the per-request lines.
pub const TARGET: &str = "approov_proxy";

/// SHA-256 of a device id: enough to follow one device through the logs
/// and to key its rate limit, without writing the id itself anywhere.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct DeviceHash([u8; 32]);

impl DeviceHash {
    pub(crate) fn of(did: &str) -> Self {
        let digest = ring::digest::digest(&ring::digest::SHA256, did.as_bytes());
        let mut hash = [0; 32];
        hash.copy_from_slice(digest.as_ref());
        Self(hash)
    }
}

/// The whole hash in hex (`{:x}`): the device's part of its shared
/// rate-limit key, written straight into it.
impl fmt::LowerHex for DeviceHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

/// The first 6 bytes in hex: short for logs, and collisions only blur logs.
impl fmt::Display for DeviceHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0[..6].iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for DeviceHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DeviceHash({self})")
    }
}

/// What the handlers learned about a request, passed to the log line in the
/// response's extensions (which never reach the client).
#[derive(Debug, Clone, Default)]
pub(crate) struct RequestInfo {
    pub(crate) route: Option<Arc<str>>,
    pub(crate) device: Option<DeviceHash>,
    /// `verified`, `rejected` (answered 401), `report_only_rejected`
    /// (forwarded anyway), or none when no token was checked.
    pub(crate) approov: Option<&'static str>,
    /// Why the proxy refused the request itself (e.g. `path_dot_segment`),
    /// when it did, before any token check or upstream call.
    pub(crate) refused: Option<&'static str>,
}

/// Answers `request` with `handle`, then writes the line once the
/// response head is ready; the latency is therefore time to the first
/// byte, not to the end of a streamed body.
pub(crate) async fn logged<F, Fut>(request: Request, handle: F) -> Response
where
    F: FnOnce(Request) -> Fut,
    Fut: Future<Output = Response>,
{
    let logging = tracing::enabled!(target: TARGET, tracing::Level::INFO);
    if !logging && !super::metrics::on() {
        // Nothing to write or count: no copies of the method and path.
        return handle(request).await;
    }
    let start = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let response = handle(request).await;
    let latency_ms = start.elapsed().as_secs_f64() * 1000.0;
    let info = response
        .extensions()
        .get::<RequestInfo>()
        .cloned()
        .unwrap_or_default();
    let status = response.status().as_u16();
    super::metrics::request(info.route.as_deref().unwrap_or("-"), status);
    if !logging {
        return response;
    }
    let device = info.device.map(|d| d.to_string());
    tracing::info!(
        target: TARGET,
        method = %method,
        path = %path,
        status,
        latency_ms = (latency_ms * 1000.0).round() / 1000.0,
        device = device.as_deref().unwrap_or("-"),
        route = info.route.as_deref().unwrap_or("-"),
        approov = info.approov.unwrap_or("-"),
        refused = info.refused.unwrap_or("-"),
        "request"
    );
    response
}

/// How log lines are written (`LOG_FORMAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum LogFormat {
    /// One human-readable line per event (the default).
    #[default]
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Installs the log subscriber on stderr (stdout carries only the
/// `listening on` line), filtered by `RUST_LOG` (default `info`).
///
/// Lines are written by a thread of their own through a buffer
/// (`tracing-appender`), so a worker never waits on the terminal or a
/// pipe for the line of each request; the buffer is written out whenever
/// the queue of lines is empty, and at exit when the returned guard is
/// dropped. A full queue (100 000 lines) slows the workers down rather
/// than dropping lines. Keep the guard until the process ends.
#[must_use = "dropping the guard stops the log thread"]
pub fn init_logging(format: LogFormat) -> tracing_appender::non_blocking::WorkerGuard {
    use std::io::{self, IsTerminal as _};
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .buffered_lines_limit(100_000)
        .thread_name("approov-proxy-log")
        .finish(io::BufWriter::new(io::stderr()));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    // A second call (tests, embedding) keeps the first subscriber.
    let _ = match format {
        LogFormat::Text => builder.with_ansi(io::stderr().is_terminal()).try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
    guard
}

#[cfg(test)]
mod tests {
    use super::DeviceHash;

    #[test]
    fn device_hash_is_short_stable_sha256() {
        let expected = ring::digest::digest(&ring::digest::SHA256, b"ExampleApproovTokenDID==");
        let hex: String = expected.as_ref()[..6]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(DeviceHash::of("ExampleApproovTokenDID==").to_string(), hex);
        assert_eq!(hex.len(), 12);
        assert_ne!(DeviceHash::of("a"), DeviceHash::of("b"));
        let whole: String = expected
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            format!("{:x}", DeviceHash::of("ExampleApproovTokenDID==")),
            whole
        );
        assert_eq!(whole.len(), 64);
    }
}
