//! What the proxy tells its operator: one log line per request ([`log`]),
//! the Prometheus series ([`metrics`]), and the recorder behind
//! `METRICS_ADDR` ([`exporter`]; the server serves its page).

pub(crate) mod exporter;
pub(crate) mod log;
pub mod metrics;
