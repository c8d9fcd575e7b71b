//! The connections to Redis behind the shared rate limit, bounded so that
//! a broken or hostile Redis (or anything on the path to it) costs a
//! decision a few KiB and its timeout, never more: a connection serves one
//! decision at a time, reads at most [`READ_LIMIT`] bytes for it, and is
//! closed, never read on, when a decision on it fails, reads more or is
//! dropped by its timeout. The `redis` crate speaks the protocol; only the
//! socket under it is ours.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, ready};

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, ConnectionAddr, ConnectionInfo, ErrorKind, RedisResult};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinHandle;

/// The most bytes read from Redis for one decision. The GCRA answer is
/// under 64 bytes; with a first `NOSCRIPT` and the `SCRIPT LOAD` three
/// answers stay under 256, as do those to connecting (`AUTH`, `SELECT`,
/// `CLIENT SETINFO`). A Redis that announces a longer answer, or streams
/// bytes without end, loses the connection once it has sent this many.
pub(super) const READ_LIMIT: usize = 4 * 1024;

/// The most decisions asking Redis at once, each on a connection of its
/// own; one beyond waits for a connection to come back, within its
/// timeout. New connections are made only when none is idle, so no more
/// than this many are ever open. A round trip to Redis takes well under a
/// millisecond: this serves tens of thousands of decisions a second.
const MAX_LINKS: usize = 32;

/// The open connections: idle ones wait here for the next decision.
pub(super) struct Links {
    info: ConnectionInfo,
    idle: Mutex<Vec<Link>>,
    /// One permit per connection in use.
    in_use: Arc<Semaphore>,
}

impl Links {
    pub(super) fn new(info: ConnectionInfo) -> Self {
        Self {
            info,
            idle: Mutex::new(Vec::new()),
            in_use: Arc::new(Semaphore::new(MAX_LINKS)),
        }
    }

    /// An idle connection (`true` with it) or, when none is left, a new
    /// one. The caller's timeout bounds the wait for a free place,
    /// connecting and setting up; on it a half-made connection is dropped,
    /// closed.
    pub(super) async fn take(&self) -> RedisResult<(Link, bool)> {
        let permit = self.permit().await?;
        loop {
            let link = self
                .idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .pop();
            match link {
                // Its reader ended: Redis closed it, or sent too much while
                // it was idle.
                Some(link) if link.driver.is_finished() => {}
                Some(mut link) => {
                    link.permit = Some(permit);
                    return Ok((link, true));
                }
                None => return self.connect_with(permit).await.map(|link| (link, false)),
            }
        }
    }

    /// A new connection, as [`Links::take`] makes one.
    pub(super) async fn connect(&self) -> RedisResult<Link> {
        let permit = self.permit().await?;
        self.connect_with(permit).await
    }

    /// Keeps `link`, whose decision succeeded, for the next one.
    pub(super) fn put(&self, mut link: Link) {
        link.permit = None;
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(link);
    }

    async fn permit(&self) -> RedisResult<OwnedSemaphorePermit> {
        // The semaphore is never closed.
        self.in_use
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| redis::RedisError::from((ErrorKind::Io, "no connection free")))
    }

    /// Connects as the URL says (`AUTH`, `SELECT`).
    async fn connect_with(&self, permit: OwnedSemaphorePermit) -> RedisResult<Link> {
        let socket: Box<dyn Socket> = match self.info.addr() {
            ConnectionAddr::Tcp(host, port) => {
                let tcp = tokio::net::TcpStream::connect((host.as_str(), *port)).await?;
                tcp.set_nodelay(true)?;
                Box::new(tcp)
            }
            #[cfg(unix)]
            ConnectionAddr::Unix(path) => Box::new(tokio::net::UnixStream::connect(path).await?),
            // Refused with the configuration (`rediss://`).
            _ => {
                return Err(redis::RedisError::from((
                    ErrorKind::InvalidClientConfig,
                    "unsupported address",
                )));
            }
        };
        let read = Arc::new(AtomicUsize::new(0));
        let bounded = Bounded {
            socket,
            read: read.clone(),
        };
        // The decision's own timeout bounds each answer.
        let config = AsyncConnectionConfig::new().set_response_timeout(None);
        let (conn, driver) =
            MultiplexedConnection::new_with_config(self.info.redis_settings(), bounded, config)
                .await?;
        Ok(Link {
            conn,
            read,
            driver: tokio::spawn(driver),
            permit: Some(permit),
        })
    }
}

/// One connection, used by one decision at a time. Dropping it closes the
/// socket, even in the middle of an answer.
pub(super) struct Link {
    conn: MultiplexedConnection,
    /// Bytes read since the current decision started.
    read: Arc<AtomicUsize>,
    /// The task reading answers (the `redis` crate's driver).
    driver: JoinHandle<()>,
    /// Held while a decision uses it.
    permit: Option<OwnedSemaphorePermit>,
}

impl Link {
    /// The connection, for one more decision: its [`READ_LIMIT`] starts
    /// again.
    pub(super) fn start(&mut self) -> &mut MultiplexedConnection {
        self.read.store(0, Ordering::Relaxed);
        &mut self.conn
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        // The driver owns the socket: ending it closes the connection
        // rather than letting it read on.
        self.driver.abort();
    }
}

/// A TCP or Unix socket.
trait Socket: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Socket for T {}

/// The socket, failing every read once more than [`READ_LIMIT`] bytes
/// came for the current decision.
struct Bounded {
    socket: Box<dyn Socket>,
    read: Arc<AtomicUsize>,
}

impl AsyncRead for Bounded {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        ready!(Pin::new(&mut this.socket).poll_read(cx, buf))?;
        let n = buf.filled().len() - before;
        // The bytes over the limit were read into the caller's spare
        // space, which an error leaves unused: nothing more is kept.
        if this.read.fetch_add(n, Ordering::Relaxed) + n > READ_LIMIT {
            return Poll::Ready(Err(io::Error::other(
                "redis sent more than the answer to one rate-limit decision",
            )));
        }
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Bounded {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().socket).poll_write(cx, data)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().socket).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.socket.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().socket).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().socket).poll_shutdown(cx)
    }
}
