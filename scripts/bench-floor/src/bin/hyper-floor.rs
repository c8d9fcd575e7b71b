//! hyper's floor as a gateway, for a side-by-side measurement: what
//! approov-proxy does per request with everything of its own taken out.
//! The same serving model (one thread accepts and hands connections in
//! turn to `THREADS` workers, each pinned to a CPU and running a
//! single-threaded tokio runtime with its own hyper-util pooled client),
//! hyper's HTTP/1 on both sides, `/api` stripped and the key header set;
//! no token check, rate limit, timeouts or header filtering.
//!
//! Environment: `LISTEN_ADDR` (`127.0.0.1:port`), `UPSTREAM` (`host:port`),
//! `THREADS` (default 2). Prints `listening on <addr>`.

use std::convert::Infallible;

use http::{HeaderValue, Request, Response, Uri};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

type Body = http_body_util::Either<Incoming, http_body_util::Empty<hyper::body::Bytes>>;

fn main() -> std::io::Result<()> {
    let listen = std::env::var("LISTEN_ADDR").unwrap_or_else(|_| "127.0.0.1:0".into());
    let upstream = std::env::var("UPSTREAM").expect("UPSTREAM=host:port");
    let threads: usize = std::env::var("THREADS")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(2);
    let cores = core_affinity::get_core_ids().unwrap_or_default();
    let workers = (0..threads)
        .map(|i| {
            let (send, mut receive) = tokio::sync::mpsc::unbounded_channel::<std::net::TcpStream>();
            let upstream = upstream.clone();
            let core = (cores.len() == threads).then(|| cores[i]);
            std::thread::spawn(move || {
                if let Some(core) = core {
                    core_affinity::set_for_current(core);
                }
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                runtime.block_on(async move {
                    let mut connector = HttpConnector::new();
                    connector.set_nodelay(true);
                    let client: Client<_, Body> =
                        Client::builder(TokioExecutor::new()).build(connector);
                    let key = HeaderValue::from_static("bench-key");
                    while let Some(stream) = receive.recv().await {
                        let stream = tokio::net::TcpStream::from_std(stream).expect("stream");
                        let client = client.clone();
                        let upstream = upstream.clone();
                        let key = key.clone();
                        let service = service_fn(move |request: Request<Incoming>| {
                            let client = client.clone();
                            let (mut parts, body) = request.into_parts();
                            let rest = parts.uri.path().strip_prefix("/api").unwrap_or("/");
                            let rest = if rest.is_empty() { "/" } else { rest };
                            parts.uri = format!("http://{upstream}{rest}")
                                .parse::<Uri>()
                                .expect("uri");
                            parts.headers.insert("x-api-key", key.clone());
                            let request = Request::from_parts(parts, Body::Left(body));
                            async move {
                                Ok::<_, Infallible>(match client.request(request).await {
                                    Ok(response) => response.map(Body::Left),
                                    Err(_) => {
                                        let mut response =
                                            Response::new(Body::Right(Default::default()));
                                        *response.status_mut() = http::StatusCode::BAD_GATEWAY;
                                        response
                                    }
                                })
                            }
                        });
                        tokio::task::spawn(async move {
                            let _ = http1::Builder::new()
                                .serve_connection(TokioIo::new(stream), service)
                                .await;
                        });
                    }
                });
            });
            send
        })
        .collect::<Vec<_>>();
    let listener = std::net::TcpListener::bind(listen)?;
    println!("listening on {}", listener.local_addr()?);
    for (stream, worker) in listener.incoming().zip(workers.iter().cycle()) {
        let Ok(stream) = stream else { continue };
        let _ = stream.set_nodelay(true);
        let _ = stream.set_nonblocking(true);
        let _ = worker.send(stream);
    }
    Ok(())
}
