//! For the proxy's tests: a mock upstream on 127.0.0.1 that records
//! what it receives and can be slow, stream big bodies or echo; starting the
//! proxy against it; and an async HTTP client with bounded waits.
//!
//! The mock answers by path (whatever comes before, e.g. a base path):
//! - `.../slow` never answers (the proxy's timeout must fire);
//! - `.../echo` streams the request body straight back;
//! - `.../big/<n>` streams `n` bytes of [`pattern`];
//! - `.../gated` sends `first-chunk`, then waits for [`Upstream::release`]
//!   before sending `second-chunk`;
//! - `.../upload-gated` signals [`Upstream::first_chunk`] when the first
//!   piece of the request body arrives, then reads the rest (or up to an
//!   abort);
//! - `.../echo-key` answers with headers repeating the key it received;
//! - anything else reads the whole body and answers `200 {"ok":true}` with
//!   `x-upstream: yes` and some hop-by-hop headers.
//!
//! Every request is recorded (method, path, query, headers, and the body
//! when it was read whole) before the answer starts.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::response::Response;
use futures_util::StreamExt as _;
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::Frame;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio::sync::{Notify, mpsc, oneshot};

use super::{SECRET, Server};

/// The proxy binary.
pub const PROXY: &str = env!("CARGO_BIN_EXE_approov-proxy");

/// Upper bound for one request through the proxy in a test.
pub const REQUEST_LIMIT: Duration = Duration::from_secs(30);

/// `n` bytes of a fixed pseudo-random sequence (xorshift), so a reordered,
/// dropped or repeated chunk cannot go unnoticed.
pub fn pattern(n: usize) -> Vec<u8> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..n)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

/// One request as the mock upstream saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: Method,
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    /// The body, for the default answer (read whole); else empty.
    pub body: Vec<u8>,
}

impl Recorded {
    /// Every value of header `name`, as text.
    pub fn header_values(&self, name: &str) -> Vec<String> {
        self.headers
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect()
    }
}

struct Shared {
    recorded: Mutex<Vec<Recorded>>,
    /// How many requests were recorded, for [`Upstream::wait_recorded`].
    count: tokio::sync::watch::Sender<usize>,
    release: Notify,
    first_chunk: Notify,
}

/// A mock upstream serving on its own thread and runtime until dropped.
pub struct Upstream {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Upstream {
    pub fn start() -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared {
            recorded: Mutex::default(),
            count: tokio::sync::watch::Sender::new(0),
            release: Notify::default(),
            first_chunk: Notify::default(),
        });
        let (stop, stopped) = oneshot::channel::<()>();
        let app = Router::new().fallback(answer).with_state(shared.clone());
        let thread = thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                tokio::select! {
                    _ = axum::serve(listener, app) => {}
                    _ = stopped => {}
                }
            });
            // Dropping the runtime cancels handlers still waiting (`slow`).
            runtime.shutdown_background();
        });
        Self {
            addr,
            shared,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The requests received so far.
    pub fn recorded(&self) -> Vec<Recorded> {
        self.shared.recorded.lock().unwrap().clone()
    }

    /// The only request received so far.
    pub fn single(&self) -> Recorded {
        let recorded = self.recorded();
        assert_eq!(recorded.len(), 1, "{recorded:#?}");
        recorded.into_iter().next().unwrap()
    }

    /// Waits (bounded) until at least `n` requests have been recorded.
    pub async fn wait_recorded(&self, n: usize) {
        let mut count = self.shared.count.subscribe();
        tokio::time::timeout(REQUEST_LIMIT, count.wait_for(|c| *c >= n))
            .await
            .expect("the upstream did not get the requests in time")
            .expect("the upstream stopped");
    }

    /// Lets a `gated` answer send its second chunk.
    pub fn release(&self) {
        self.shared.release.notify_one();
    }

    /// Waits (bounded) until an `upload-gated` request's first body chunk
    /// has arrived.
    pub async fn first_chunk(&self) {
        tokio::time::timeout(REQUEST_LIMIT, self.shared.first_chunk.notified())
            .await
            .expect("the upstream never got the first chunk of the upload");
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn answer(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_owned();
    let mut recorded = Recorded {
        method: parts.method.clone(),
        path: path.clone(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts.headers.clone(),
        body: Vec::new(),
    };
    let record = |recorded: Recorded| {
        let mut all = shared.recorded.lock().unwrap();
        all.push(recorded);
        shared.count.send_replace(all.len());
    };
    let last = path.rsplit('/').next().unwrap_or("");
    if path.ends_with("/slow") {
        record(recorded);
        return std::future::pending().await;
    }
    if path.ends_with("/echo") {
        record(recorded);
        return Response::new(body);
    }
    if path.contains("/big/") {
        record(recorded);
        let n: usize = last.parse().unwrap();
        let data = Bytes::from(pattern(n));
        let chunks: Vec<Result<Bytes, Infallible>> = (0..n)
            .step_by(64 * 1024)
            .map(|i| Ok(data.slice(i..(i + 64 * 1024).min(n))))
            .collect();
        return Response::new(Body::from_stream(futures_util::stream::iter(chunks)));
    }
    if path.ends_with("/gated") {
        record(recorded);
        let (tx, rx) = mpsc::channel::<Result<Bytes, Infallible>>(1);
        let shared = shared.clone();
        tokio::spawn(async move {
            let _ = tx.send(Ok(Bytes::from_static(b"first-chunk"))).await;
            shared.release.notified().await;
            let _ = tx.send(Ok(Bytes::from_static(b"second-chunk"))).await;
        });
        return Response::new(Body::from_stream(receiver_stream(rx)));
    }
    if path.ends_with("/upload-gated") {
        let mut body = body;
        let mut received = Vec::new();
        let mut signalled = false;
        while let Some(frame) = body.frame().await {
            // The proxy may abort the upload (a stalled client): record
            // what came.
            let Ok(frame) = frame else { break };
            if let Ok(data) = frame.into_data() {
                received.extend_from_slice(&data);
                if !signalled && !received.is_empty() {
                    shared.first_chunk.notify_one();
                    signalled = true;
                }
            }
        }
        recorded.body = received;
        record(recorded);
        return Response::new(Body::from("uploaded"));
    }
    if path.ends_with("/echo-key") {
        let key_header = parts
            .headers
            .get("x-api-key")
            .cloned()
            .unwrap_or(HeaderValue::from_static("none"));
        let location = format!("https://elsewhere.example{}", parts.uri);
        record(recorded);
        let mut response = Response::new(Body::from("{}"));
        *response.status_mut() = StatusCode::MOVED_PERMANENTLY;
        response.headers_mut().insert("x-received-key", key_header);
        response
            .headers_mut()
            .insert("location", HeaderValue::from_str(&location).unwrap());
        return response;
    }
    recorded.body = body.collect().await.unwrap().to_bytes().to_vec();
    record(recorded);
    let mut response = Response::new(Body::from(r#"{"ok":true}"#));
    let headers = response.headers_mut();
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    headers.insert("x-upstream", HeaderValue::from_static("yes"));
    headers.insert("connection", HeaderValue::from_static("x-resp-hop"));
    headers.insert("x-resp-hop", HeaderValue::from_static("1"));
    headers.insert("keep-alive", HeaderValue::from_static("timeout=5"));
    headers.insert("proxy-authenticate", HeaderValue::from_static("Basic"));
    response
}

fn receiver_stream<T: Send + 'static>(
    rx: mpsc::Receiver<T>,
) -> impl futures_util::Stream<Item = T> + Send + 'static {
    futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    })
}

/// Starts the proxy with the test secret on 127.0.0.1:0. Every other
/// variable the proxy reads is cleared by [`super::command`], so the
/// caller's environment cannot leak in.
pub fn start_proxy(envs: &[(&str, &str)]) -> Server {
    let mut all = vec![("APPROOV_BASE64_SECRET", SECRET)];
    all.extend_from_slice(envs);
    tokio::task::block_in_place(|| Server::start_graceful(PROXY, &all))
}

/// The proxy in front of `url` alone (`UPSTREAM_URL`), adding `key` as
/// `placement` (`("API_KEY_HEADER", "X-Api-Key")` or
/// `("API_KEY_QUERY_PARAM", "api_key")`), with `extra` variables.
pub fn start_keyed_proxy(
    url: &str,
    key: &str,
    placement: (&str, &str),
    extra: &[(&str, &str)],
) -> Server {
    let mut envs = vec![("UPSTREAM_URL", url), ("API_KEY", key), placement];
    envs.extend_from_slice(extra);
    start_proxy(&envs)
}

/// A token for the test secret with this `did` (none: no `did` claim).
pub fn token(did: Option<&str>) -> String {
    let builder = approov_core::mint::TokenBuilder::approov_example().expires_in(3600);
    let builder = match did {
        Some(did) => builder.claim("did", did),
        None => builder.without_claim("did"),
    };
    builder.sign_hs256_base64(SECRET).unwrap()
}

/// A request body for [`send`].
pub type TestBody = BoxBody<Bytes, Infallible>;

/// A whole body.
pub fn full(bytes: impl Into<Bytes>) -> TestBody {
    Full::new(bytes.into()).boxed()
}

/// A body fed chunk by chunk through the returned sender.
pub fn channel_body() -> (mpsc::Sender<Bytes>, TestBody) {
    let (tx, rx) = mpsc::channel::<Bytes>(4);
    let stream = receiver_stream(rx).map(|data| Ok::<_, Infallible>(Frame::data(data)));
    (tx, BodyExt::boxed(StreamBody::new(stream)))
}

/// A response whose body has been read whole.
#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl TestResponse {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A response whose body is still streaming.
pub type Streaming = http::Response<hyper::body::Incoming>;

/// Sends a request to `addr` and returns the response head (bounded wait).
pub async fn start_request(
    addr: SocketAddr,
    method: &str,
    path_and_query: &str,
    headers: &[(&str, &str)],
    body: TestBody,
) -> Streaming {
    let client: Client<HttpConnector, TestBody> =
        Client::builder(TokioExecutor::new()).build_http();
    let mut request = http::Request::builder()
        .method(method)
        .uri(format!("http://{addr}{path_and_query}"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request.body(body).unwrap();
    tokio::time::timeout(REQUEST_LIMIT, client.request(request))
        .await
        .expect("no response head in time")
        .expect("request failed")
}

/// The next piece of a streamed body, which must come within
/// [`REQUEST_LIMIT`].
pub async fn next_data(body: &mut hyper::body::Incoming) -> Bytes {
    tokio::time::timeout(REQUEST_LIMIT, body.frame())
        .await
        .expect("no piece of the body in time")
        .expect("the body ended")
        .expect("the body failed")
        .into_data()
        .expect("trailers instead of data")
}

/// The rest of a streamed body, which must end within [`REQUEST_LIMIT`]:
/// its bytes, or the error that cut it off.
pub async fn rest(body: hyper::body::Incoming) -> Result<Bytes, hyper::Error> {
    tokio::time::timeout(REQUEST_LIMIT, body.collect())
        .await
        .expect("the body did not end in time")
        .map(http_body_util::Collected::to_bytes)
}

/// Sends a request and reads the whole response (bounded waits).
pub async fn send(
    addr: SocketAddr,
    method: &str,
    path_and_query: &str,
    headers: &[(&str, &str)],
    body: TestBody,
) -> TestResponse {
    let response = start_request(addr, method, path_and_query, headers, body).await;
    let (parts, body) = response.into_parts();
    let body = rest(body).await.expect("body failed");
    TestResponse {
        status: parts.status,
        headers: parts.headers,
        body,
    }
}

/// `GET` with a token for `did` (and extra headers).
pub async fn get(
    addr: SocketAddr,
    path: &str,
    did: Option<&str>,
    headers: &[(&str, &str)],
) -> TestResponse {
    let token = token(did);
    let mut all = vec![("Approov-Token", token.as_str())];
    all.extend_from_slice(headers);
    send(addr, "GET", path, &all, full(Bytes::new())).await
}
