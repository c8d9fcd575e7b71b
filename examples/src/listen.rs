//! `LISTEN_ADDR`: parsing, binding, and the `listening on` line.

use std::io::{self, Write as _};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener};

use crate::StartError;

/// Where the servers listen when `LISTEN_ADDR` is unset: loopback only, so
/// a development server is not reachable from the network by accident.
pub const DEFAULT_LISTEN_ADDR: &str = "127.0.0.1:8080";

/// Parses `LISTEN_ADDR` (unset: [`DEFAULT_LISTEN_ADDR`]).
pub(crate) fn listen_addr(value: Option<String>) -> Result<SocketAddr, StartError> {
    let value = value.unwrap_or_else(|| DEFAULT_LISTEN_ADDR.to_owned());
    value
        .trim()
        .parse()
        .map_err(|_| StartError::ListenAddr { value })
}

/// Binds `addr`, non-blocking as tokio and actix expect a std listener to be.
pub(crate) fn bind(addr: SocketAddr) -> Result<TcpListener, StartError> {
    let bind_error = |source| StartError::Bind { addr, source };
    let listener = TcpListener::bind(addr).map_err(bind_error)?;
    listener.set_nonblocking(true).map_err(bind_error)?;
    Ok(listener)
}

/// Prints `listening on <ip>:<port>` on stdout and flushes it: scripts and
/// tests wait for this line to learn the port when `LISTEN_ADDR` used port 0.
pub(crate) fn announce(addr: SocketAddr) {
    let mut out = io::stdout().lock();
    let _ = writeln!(out, "listening on {addr}");
    let _ = out.flush();
}

/// A URL a client on this machine can use to reach `addr` at `path`: an
/// unspecified address (`0.0.0.0`, `::`) becomes loopback.
///
/// ```
/// let addr = "0.0.0.0:8080".parse().unwrap();
/// assert_eq!(approov_examples::curl_url(addr, "/"), "http://127.0.0.1:8080/");
/// let addr = "[::1]:9000".parse().unwrap();
/// assert_eq!(approov_examples::curl_url(addr, "/health"), "http://[::1]:9000/health");
/// ```
pub fn curl_url(addr: SocketAddr, path: &str) -> String {
    let mut addr = addr;
    if addr.ip().is_unspecified() {
        addr.set_ip(match addr.ip() {
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
        });
    }
    format!("http://{addr}{path}")
}
