//! Binding the listeners, announcing them on stdout, and the key file
//! watcher the binary starts beside them.

use std::io::{self, Write as _};
use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use approov_core::Verifier;

use crate::config::Config;
use crate::error::StartError;

/// Binds `LISTEN_ADDR`; returns the listener and its real address (the
/// port chosen when port 0 was asked).
pub fn listen(config: &Config) -> Result<(tokio::net::TcpListener, SocketAddr), StartError> {
    let addr = config.listen_addr();
    let bind_error = |source| StartError::Bind {
        name: "LISTEN_ADDR",
        addr,
        source,
    };
    let listener = bind("LISTEN_ADDR", addr)?;
    let local_addr = listener.local_addr().map_err(bind_error)?;
    let listener = tokio::net::TcpListener::from_std(listener).map_err(bind_error)?;
    Ok((listener, local_addr))
}

/// Binds `addr`, non-blocking as tokio expects a std listener to be.
pub(crate) fn bind(name: &'static str, addr: SocketAddr) -> Result<TcpListener, StartError> {
    let bind_error = |source| StartError::Bind { name, addr, source };
    let listener = TcpListener::bind(addr).map_err(bind_error)?;
    listener.set_nonblocking(true).map_err(bind_error)?;
    Ok(listener)
}

/// Prints `<what> on <ip>:<port>` on stdout and flushes it: scripts and
/// tests wait for this line to learn the port when port 0 was asked.
pub fn announce(what: &str, addr: SocketAddr) {
    let mut out = io::stdout().lock();
    let _ = writeln!(out, "{what} on {addr}");
    let _ = out.flush();
}

/// When the verifier has key files: reads them again on SIGHUP and every
/// `every`, on a thread of its own ([`Verifier::watch_key_files`]). Each
/// reload swaps the keys atomically and logs what happened; a file that
/// does not parse keeps the keys in use.
pub fn watch_keys(verifier: &Verifier, every: Duration) -> Result<(), StartError> {
    verifier
        .watch_key_files(every)
        .map_err(|source| StartError::Spawn {
            what: "the key reload thread",
            source,
        })
}
