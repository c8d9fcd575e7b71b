//! The connections to Redis behind the shared rate limit, bounded so that
//! a broken or hostile Redis (or anything on the path to it) costs a
//! decision a few KiB and its timeout, never more. The `redis` crate
//! speaks the protocol; only the socket under it is ours, and it is
//! [`Bounded`] in one of two ways:
//!
//! - **One Redis** (`REDIS_URL`): our own pool ([`Links`]). A connection
//!   serves one decision at a time, reads at most [`READ_LIMIT`] bytes for
//!   it, and is closed, never read on, when a decision on it fails, reads
//!   more or is dropped by its timeout.
//! - **Redis Cluster** (`REDIS_CLUSTER_URLS`): the `redis` crate's cluster
//!   client routes each command to the node holding its key's slot, and
//!   multiplexes every decision for a node on one connection, so no
//!   decision owns a connection and a per-decision count cannot be reset.
//!   Each node connection ([`Node`], plugged in through
//!   [`redis::cluster_async::Connect`]) runs on a [`Bounded`] socket with
//!   a *credit* instead: every byte written grants [`CREDIT_PER_BYTE`]
//!   bytes of answer (a command is at least 14 bytes, so a command earns
//!   at least [`READ_LIMIT`]), a new connection starts with
//!   [`SETUP_CREDIT`] (the slot map), and unused credit is capped at
//!   [`MAX_CREDIT`]. Whatever a node sends, it can never send more than
//!   that multiple of what was asked of it, nor more than [`MAX_CREDIT`]
//!   ahead; past it the connection fails and the cluster client makes a
//!   new one (at most one attempt a second per node, its own backoff).
//!
//! TLS (`rediss://`) is rustls with *ring* on our own socket: the webpki
//! roots, or only the certificates of `REDIS_TLS_CA_FILE`, and the URL's
//! host checked against the certificate. Bytes are counted after
//! decryption, as the `redis` crate reads them: rustls itself bounds what
//! it buffers for a record (16 KiB and its overhead) and for the handshake
//! (64 KiB), and the decision's timeout bounds the time.
//!
//! The `#insecure` fragment of a `rediss://` URL (no certificate checks)
//! is refused with the configuration.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, ready};

use redis::aio::{ConnectionLike, MultiplexedConnection};
use redis::cluster_routing::{Route, RoutingInfo, SingleNodeRoutingInfo, SlotAddr};
use redis::{
    Arg, AsyncConnectionConfig, Cmd, ConnectionAddr, ConnectionInfo, ErrorKind, IntoConnectionInfo,
    RedisFuture, RedisResult, Value,
};
use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinHandle;

/// The most bytes read from Redis for one decision. The GCRA answer is
/// under 64 bytes; with a first `NOSCRIPT` and the `SCRIPT LOAD` three
/// answers stay under 256, as do those to connecting (`AUTH`, `SELECT`,
/// `CLIENT SETINFO`). A Redis that announces a longer answer, or streams
/// bytes without end, loses the connection once it has sent this many.
pub(super) const READ_LIMIT: usize = 4 * 1024;

/// On a cluster node's connection, the bytes of answer each byte written
/// grants: the shortest command (`PING`) is 14 bytes, a decision's
/// `EVALSHA` over 100, so every command earns at least [`READ_LIMIT`].
const CREDIT_PER_BYTE: usize = READ_LIMIT / 14 + 1;
const _: () = assert!(14 * CREDIT_PER_BYTE >= READ_LIMIT);

/// The most unused credit a cluster node's connection holds: what a node
/// may send ahead of the answers it owes.
const MAX_CREDIT: usize = 64 * READ_LIMIT;

/// The credit a cluster node's connection starts with: the answers to
/// setting it up and the slot map (`CLUSTER SLOTS`, about 150 bytes per
/// node), for clusters of a few hundred nodes.
const SETUP_CREDIT: usize = 16 * READ_LIMIT;

/// The most decisions asking Redis at once, each on a connection of its
/// own; one beyond waits for a connection to come back, within its
/// timeout. New connections are made only when none is idle, so no more
/// than this many are ever open. A round trip to Redis takes well under a
/// millisecond: this serves tens of thousands of decisions a second.
const MAX_LINKS: usize = 32;

/// The open connections: idle ones wait here for the next decision.
pub(super) struct Links {
    info: ConnectionInfo,
    tls: Option<Arc<ClientConfig>>,
    idle: Mutex<Vec<Link>>,
    /// One permit per connection in use.
    in_use: Arc<Semaphore>,
}

impl Links {
    pub(super) fn new(info: ConnectionInfo, tls: Option<Arc<ClientConfig>>) -> Self {
        Self {
            info,
            tls,
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

    /// Connects as the URL says (TLS, `AUTH`, `SELECT`).
    async fn connect_with(&self, permit: OwnedSemaphorePermit) -> RedisResult<Link> {
        let socket = open(self.info.addr(), self.tls.as_ref()).await?;
        let read = Arc::new(AtomicUsize::new(0));
        let bounded = Bounded {
            socket,
            budget: Budget::Decision(read.clone()),
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

/// A socket to `addr`: TCP, TLS over TCP (verified with `tls`) or Unix.
async fn open(
    addr: &ConnectionAddr,
    tls: Option<&Arc<ClientConfig>>,
) -> RedisResult<Box<dyn Socket>> {
    Ok(match addr {
        ConnectionAddr::Tcp(host, port) => Box::new(tcp(host, *port).await?),
        ConnectionAddr::TcpTls {
            host,
            port,
            insecure: false,
            ..
        } => {
            let (Some(tls), Ok(name)) = (tls, ServerName::try_from(host.clone())) else {
                return Err(unsupported());
            };
            let tcp = tcp(host, *port).await?;
            Box::new(
                tokio_rustls::TlsConnector::from(tls.clone())
                    .connect(name, tcp)
                    .await?,
            )
        }
        #[cfg(unix)]
        ConnectionAddr::Unix(path) => Box::new(tokio::net::UnixStream::connect(path).await?),
        // `#insecure` is refused with the configuration.
        _ => return Err(unsupported()),
    })
}

async fn tcp(host: &str, port: u16) -> io::Result<tokio::net::TcpStream> {
    let tcp = tokio::net::TcpStream::connect((host, port)).await?;
    tcp.set_nodelay(true)?;
    Ok(tcp)
}

fn unsupported() -> redis::RedisError {
    redis::RedisError::from((ErrorKind::InvalidClientConfig, "unsupported address"))
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

/// How many bytes a [`Bounded`] socket may still read.
enum Budget {
    /// [`READ_LIMIT`] for the current decision: the count of bytes read
    /// since it started, reset by [`Link::start`].
    Decision(Arc<AtomicUsize>),
    /// A cluster node's connection: the bytes left to read, earned by
    /// writing ([`CREDIT_PER_BYTE`], at most [`MAX_CREDIT`] held).
    Credit(usize),
}

/// The socket, failing every read once its [`Budget`] is spent.
struct Bounded {
    socket: Box<dyn Socket>,
    budget: Budget,
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
        let over = match &mut this.budget {
            Budget::Decision(read) => read.fetch_add(n, Ordering::Relaxed) + n > READ_LIMIT,
            Budget::Credit(left) => match left.checked_sub(n) {
                Some(rest) => {
                    *left = rest;
                    false
                }
                None => true,
            },
        };
        if over {
            return Poll::Ready(Err(io::Error::other(
                "redis sent more than the answers to the rate-limit decisions asked",
            )));
        }
        Poll::Ready(Ok(()))
    }
}

impl Bounded {
    fn wrote(&mut self, n: usize) {
        if let Budget::Credit(left) = &mut self.budget {
            *left = left
                .saturating_add(n.saturating_mul(CREDIT_PER_BYTE))
                .min(MAX_CREDIT);
        }
    }
}

impl AsyncWrite for Bounded {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let n = ready!(Pin::new(&mut this.socket).poll_write(cx, data))?;
        this.wrote(n);
        Poll::Ready(Ok(n))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let n = ready!(Pin::new(&mut this.socket).poll_write_vectored(cx, bufs))?;
        this.wrote(n);
        Poll::Ready(Ok(n))
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

/// What every cluster node connection needs and the `redis` crate's
/// [`Connect`](redis::cluster_async::Connect) trait cannot carry (it has no
/// `self`): the TLS client and the connect timeout. Set once, by the one
/// shared limit a proxy has.
struct NodeSetup {
    tls: Option<Arc<ClientConfig>>,
    timeout: std::time::Duration,
}

static NODE_SETUP: std::sync::OnceLock<NodeSetup> = std::sync::OnceLock::new();

/// Sets what cluster node connections use; the first call wins.
pub(super) fn set_node_setup(tls: Option<Arc<ClientConfig>>, timeout: std::time::Duration) {
    let _ = NODE_SETUP.set(NodeSetup { tls, timeout });
}

/// A connection to one cluster node, on a [`Bounded`] socket with a credit
/// (see the module docs). The cluster client clones it for every command
/// to that node; the socket closes when the last clone goes.
#[derive(Clone)]
pub(super) struct Node(MultiplexedConnection);

impl redis::cluster_async::Connect for Node {
    fn connect_with_config<'a, T>(info: T, config: AsyncConnectionConfig) -> RedisFuture<'a, Self>
    where
        T: IntoConnectionInfo + Send + 'a,
    {
        Box::pin(async move {
            let info = info.into_connection_info()?;
            let setup = NODE_SETUP.get().ok_or_else(unsupported)?;
            let connect = async {
                let socket = open(info.addr(), setup.tls.as_ref()).await?;
                let bounded = Bounded {
                    socket,
                    budget: Budget::Credit(SETUP_CREDIT),
                };
                MultiplexedConnection::new_with_config(info.redis_settings(), bounded, config).await
            };
            let (conn, driver) = tokio::time::timeout(setup.timeout, connect)
                .await
                .map_err(|_| redis::RedisError::from(io::Error::from(io::ErrorKind::TimedOut)))??;
            // Ends when the last clone of the connection is dropped, or
            // its socket fails.
            tokio::spawn(driver);
            Ok(Self(conn))
        })
    }
}

impl ConnectionLike for Node {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        self.0.req_packed_command(cmd)
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a redis::Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        self.0.req_packed_commands(pipeline, offset, count)
    }

    fn get_db(&self) -> i64 {
        self.0.get_db()
    }
}

/// The cluster connection for one decision. The cluster client routes
/// `EVALSHA` by its key, but sends the `SCRIPT LOAD` that follows a
/// `NOSCRIPT` to every primary, so one node down would keep the others
/// from loading the script: here it goes only to the node of the key the
/// `EVALSHA` before it named, the one that answered `NOSCRIPT`.
pub(super) struct KeyRouted {
    conn: redis::cluster_async::ClusterConnection<Node>,
    route: Option<Route>,
}

impl KeyRouted {
    pub(super) fn new(conn: redis::cluster_async::ClusterConnection<Node>) -> Self {
        Self { conn, route: None }
    }
}

/// The slot of the first key of an `EVALSHA` or `EVAL`; `Some(None)` for
/// `SCRIPT LOAD`; `None` for anything else.
fn script_route(cmd: &Cmd) -> Option<Option<Route>> {
    let mut args = cmd.args_iter().map(|arg| match arg {
        Arg::Simple(bytes) => bytes,
        _ => b"",
    });
    let name = args.next()?;
    if name.eq_ignore_ascii_case(b"EVALSHA") || name.eq_ignore_ascii_case(b"EVAL") {
        let keys = args.nth(1)?;
        let key = args.next().filter(|_| keys != b"0")?;
        Some(Some(Route::with_key(key, SlotAddr::Master)))
    } else if name.eq_ignore_ascii_case(b"SCRIPT") && args.next()?.eq_ignore_ascii_case(b"LOAD") {
        Some(None)
    } else {
        None
    }
}

impl ConnectionLike for KeyRouted {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match (script_route(cmd), self.route) {
            (Some(Some(route)), _) => self.route = Some(route),
            (Some(None), Some(route)) => {
                let routing = RoutingInfo::SingleNode(SingleNodeRoutingInfo::SpecificNode(route));
                return Box::pin(self.conn.route_command(cmd.clone(), routing));
            }
            _ => {}
        }
        self.conn.req_packed_command(cmd)
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a redis::Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        self.conn.req_packed_commands(pipeline, offset, count)
    }

    fn get_db(&self) -> i64 {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_calls_are_routed_by_their_key() {
        let key = "approov-proxy:rate:{r:abc}";
        let mut evalsha = redis::cmd("EVALSHA");
        evalsha.arg("0123").arg(1).arg(key).arg(5);
        assert_eq!(
            script_route(&evalsha),
            Some(Some(Route::with_key("{r:abc}", SlotAddr::Master)))
        );
        let mut load = redis::cmd("SCRIPT");
        load.arg("LOAD").arg("return 1");
        assert_eq!(script_route(&load), Some(None));
        assert_eq!(script_route(&redis::cmd("PING")), None);
        let mut keyless = redis::cmd("EVALSHA");
        keyless.arg("0123").arg(0);
        assert_eq!(script_route(&keyless), None);
    }
}
