//! Serving: the application ([`app`]: `/health`, the forward-auth
//! endpoint, the dispatch of every other request to its route), the
//! listeners ([`listen`], [`metrics`] for `METRICS_ADDR`), the start-up of
//! the binary ([`start`]), and here the serving loop: an acceptor handing
//! connections to worker threads ([`affinity`] pins them), HTTP/1.1 on
//! hyper with the request-head, idle and send timeouts, the connection cap
//! and the cap on requests per connection ([`connection`]), and a
//! graceful shutdown that lets the requests in flight finish, up to the
//! drain timeout.

pub(crate) mod affinity;
pub(crate) mod app;
pub(crate) mod connection;
pub(crate) mod listen;
pub(crate) mod metrics;
pub(crate) mod start;

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use std::convert::Infallible;

use axum::response::Response;
use http::Request;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioTimer;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::server::graceful::Watcher;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio::task::JoinSet;
use tower::Service;

use crate::config::ServeLimits;
use crate::telemetry::log::TARGET;
use affinity::Cpu;
use connection::RequestCap;

/// How a [`serve`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Drained {
    /// Every request in flight finished within the drain timeout.
    All,
    /// The drain timeout passed with connections still open; they were
    /// dropped.
    TimedOut,
}

/// An accepted connection on its way to a worker, with its place under
/// the connection cap and its shutdown signal.
struct Accepted {
    stream: std::net::TcpStream,
    permit: OwnedSemaphorePermit,
    watcher: Watcher,
}

/// Serves on `listener` within `limits` until `shutdown` resolves, then
/// stops accepting (the listener is closed, so new connections are
/// refused), closes idle connections, and lets busy ones finish their
/// response, for at most `limits.drain_timeout`.
///
/// The calling task only accepts. Each connection is handed to one of
/// `limits.workers` threads, in turn, each running a single-threaded tokio
/// runtime with its own service from `make_app` (an axum `Router` or a
/// [`ProxyService`](app::ProxyService), each with its own upstream
/// connection pool): a request, its upstream call and its answer
/// all run on one thread, as in nginx's workers, with no wake-up crossing
/// threads. With as many workers as CPUs the process may run on, each is
/// pinned to a CPU of its own unless `limits.cpu_affinity` is
/// [`CpuAffinity::Off`](crate::config::CpuAffinity::Off). The rate limiters and the
/// token cache are shared by all.
pub async fn serve<S>(
    listener: TcpListener,
    make_app: impl Fn() -> S,
    limits: ServeLimits,
    shutdown: impl Future<Output = ()>,
) -> io::Result<Drained>
where
    S: Service<Request<Incoming>, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    // HTTP/1.1 only: hyper-util's `auto::Builder` adds HTTP/2 but waits
    // without a timeout for the first bytes that tell the two apart.
    let mut http = http1::Builder::new();
    // Without a timer hyper ignores `header_read_timeout`. hyper arms it
    // whenever it waits for a request head: on a new connection and on a
    // kept-alive one after each response, so it is the idle keep-alive
    // timeout too, and gets the shorter of the two.
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout.min(limits.idle_timeout));
    let cpus = affinity::plan(limits.workers.get(), limits.cpu_affinity);
    match &cpus {
        Some(cpus) => tracing::info!(
            target: TARGET,
            cpus = %cpus.iter().map(ToString::to_string).collect::<Vec<_>>().join(","),
            "one worker pinned to each CPU"
        ),
        None => tracing::info!(
            target: TARGET,
            workers = limits.workers.get(),
            cpu_affinity = %limits.cpu_affinity,
            "workers not pinned to CPUs"
        ),
    }
    let workers = (0..limits.workers.get())
        .map(|i| {
            let cpu = cpus.as_ref().and_then(|cpus| cpus.get(i).copied());
            worker(i, cpu, make_app(), http.clone(), limits)
        })
        .collect::<io::Result<Vec<_>>>()?;
    // One permit per open connection: at the cap the loop stops accepting,
    // and new connections wait in the listen backlog until one closes.
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    let mut next_worker = workers.iter().cycle();
    loop {
        let next = async {
            let permit = Arc::clone(&permits).acquire_owned().await;
            (permit, listener.accept().await)
        };
        let (permit, accepted) = tokio::select! {
            () = &mut shutdown => break,
            next = next => next,
        };
        let Ok(permit) = permit else { break };
        // No Nagle delay: each response goes out in one write, and a
        // client should not wait for the ACK of the previous one (nginx's
        // `tcp_nodelay on`). A socket that refuses it is served anyway.
        let stream = match accepted.and_then(|(stream, _peer)| {
            let _ = stream.set_nodelay(true);
            stream.into_std()
        }) {
            Ok(stream) => stream,
            Err(e) => {
                accept_failed(e).await;
                continue;
            }
        };
        let accepted = Accepted {
            stream,
            permit,
            // On shutdown an idle connection closes at once, a busy one
            // after its response.
            watcher: graceful.watcher(),
        };
        if let Some(worker) = next_worker.next() {
            // A worker only stops with the process.
            let _ = worker.send(accepted);
        }
    }
    // No new connections from here on.
    drop(listener);
    drop(next_worker);
    // Each worker finishes its connections, then its thread ends.
    drop(workers);
    tracing::info!(
        target: TARGET,
        drain_timeout_seconds = limits.drain_timeout.as_secs(),
        "shutting down: no new connections; letting requests in flight finish"
    );
    match tokio::time::timeout(limits.drain_timeout, graceful.shutdown()).await {
        Ok(()) => {
            tracing::info!(target: TARGET, "every request in flight finished");
            Ok(Drained::All)
        }
        Err(_) => {
            tracing::warn!(
                target: TARGET,
                drain_timeout_seconds = limits.drain_timeout.as_secs(),
                "requests still in flight at the drain timeout were cut off"
            );
            Ok(Drained::TimedOut)
        }
    }
}

/// Starts worker `index`: a thread, pinned to `cpu` if given, with a
/// single-threaded runtime serving the connections it is sent with `app`
/// within the send timeout and request cap of `limits`, until the sender is dropped and its last connection has closed.
fn worker<S>(
    index: usize,
    cpu: Option<Cpu>,
    app: S,
    http: http1::Builder,
    limits: ServeLimits,
) -> io::Result<mpsc::UnboundedSender<Accepted>>
where
    S: Service<Request<Incoming>, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    let (send, mut receive) = mpsc::unbounded_channel::<Accepted>();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    std::thread::Builder::new()
        .name(format!("approov-proxy-{index}"))
        .spawn(move || {
            if let Some(cpu) = cpu
                && !affinity::pin_current_thread(cpu)
            {
                // Served all the same, wherever the kernel puts it.
                tracing::warn!(target: TARGET, worker = index, %cpu, "cannot pin the worker to its CPU");
            }
            runtime.block_on(async move {
                let mut connections = JoinSet::new();
                while let Some(accepted) = receive.recv().await {
                    // Reap the connections that closed since the last one.
                    while connections.try_join_next().is_some() {}
                    let Accepted {
                        stream,
                        permit,
                        watcher,
                    } = accepted;
                    let stream = match tokio::net::TcpStream::from_std(stream) {
                        Ok(stream) => stream,
                        Err(e) => {
                            tracing::debug!(target: TARGET, error = %e, "connection lost");
                            continue;
                        }
                    };
                    let io = connection::send_timed(stream, limits.send_timeout);
                    let service = RequestCap::new(
                        TowerToHyperService::new(app.clone()),
                        limits.max_requests_per_connection,
                    );
                    let conn = watcher.watch(http.serve_connection(io, service));
                    connections.spawn(async move {
                        // Timeouts and clients that hang up end here;
                        // nothing to answer.
                        if let Err(e) = conn.await {
                            tracing::debug!(target: TARGET, error = %e, "connection closed");
                        }
                        drop(permit);
                    });
                }
                while connections.join_next().await.is_some() {}
            });
        })?;
    Ok(send)
}

/// Never stops the server. A connection reset before it was accepted is
/// the client's; anything else (out of file descriptors or memory) pauses
/// the loop for a second so it does not spin while connections close.
pub(crate) async fn accept_failed(e: io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::warn!(target: TARGET, error = %e, "accept failed; retrying in 1 s");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// Resolves on Ctrl-C or SIGTERM (what container runtimes send).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
