//! The Prometheus recorder behind `METRICS_ADDR`: the proxy's series and
//! those of [`approov_core::metrics`], rendered in the text format by the
//! handle it returns. The server serves the page
//! (`server/metrics.rs`).

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use super::metrics;
use crate::error::StartError;

/// Installs the recorder (with the proxy's latency buckets), describes
/// every series and starts recording them.
pub(crate) fn install() -> Result<PrometheusHandle, StartError> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full(metrics::UPSTREAM_SECONDS.to_owned()),
            metrics::UPSTREAM_BUCKETS,
        )
        .map_err(|e| StartError::MetricsRecorder(e.to_string()))?
        .install_recorder()
        .map_err(|e| StartError::MetricsRecorder(e.to_string()))?;
    approov_core::metrics::describe();
    metrics::describe();
    metrics::enable();
    Ok(handle)
}
