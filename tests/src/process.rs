//! Helpers for the tests of the server binaries (the example servers and
//! approov-proxy): running a binary with a time limit, starting a server
//! and learning its port from its `listening on`
//! line, and a tiny HTTP/1.1 client over 127.0.0.1.

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader, Read, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, Instant};

/// The servers' secret: the fixtures' one (S1 of the published vectors).
pub use crate::fixtures::SECRET;

/// Upper bound for a process to start or finish; generous because other
/// builds may share the machine. Nothing waits this long when things work.
pub const LIMIT: Duration = Duration::from_secs(60);

/// A command for one of the binaries with every variable they read
/// cleared, so the caller's environment cannot leak into a test.
pub fn command(exe: &str) -> Command {
    let mut cmd = Command::new(exe);
    for var in [
        "APPROOV_BASE64_SECRET",
        "APPROOV_BASE64URL_SECRET",
        "APPROOV_BASE64_SECRET_FILE",
        "APPROOV_JWKS_FILE",
        "APPROOV_JWKS_URL",
        "APPROOV_JWKS_START_WITHOUT_KEYS",
        "APPROOV_PUBLIC_KEY_FILE",
        "APPROOV_PUBLIC_KEY_ALG",
        "KEY_RELOAD_SECONDS",
        "APPROOV_TOKEN_HEADER",
        "APPROOV_TOKEN_SCHEME",
        "APPROOV_TOKEN_BINDING_HEADER",
        "APPROOV_LEEWAY_SECONDS",
        "APPROOV_TOKEN_CACHE_SIZE",
        "LISTEN_ADDR",
        "HEADER_READ_TIMEOUT_SECONDS",
        "IDLE_TIMEOUT_SECONDS",
        "SEND_TIMEOUT_SECONDS",
        "MAX_CONNECTIONS",
        "MAX_REQUESTS_PER_CONNECTION",
        "METRICS_ADDR",
        "RUST_LOG",
        "DRAIN_TIMEOUT_SECONDS",
        "LOG_FORMAT",
        "PROXY_CONFIG",
        "UPSTREAM_URL",
        "API_KEY",
        "API_KEY_QUERY_PARAM",
        "API_KEY_HEADER",
        "UPSTREAM_TIMEOUT_SECONDS",
        "RATE_LIMIT_PER_DEVICE_PER_MINUTE",
        "APPROOV_REPORT_ONLY",
        "ALLOWED_METHODS",
        "FORWARD_CLIENT_HEADERS",
        "UPSTREAM_CLAIMS",
        "CLIENT_BODY_TIMEOUT_SECONDS",
        "UPSTREAM_BODY_TIMEOUT_SECONDS",
        "REDIS_URL",
        "REDIS_CLUSTER_URLS",
        "REDIS_TLS_CA_FILE",
        "REDIS_TLS_CERT_FILE",
        "REDIS_TLS_KEY_FILE",
        "REDIS_TIMEOUT_MS",
        "REDIS_UNAVAILABLE",
        "AUTH_ENDPOINT",
        "AUTH_GATEWAY",
        "AUTH_ORIGINAL_METHOD_HEADER",
        "AUTH_ORIGINAL_URI_HEADER",
        "AUTH_RESPONSE_CLAIMS",
        "AUTH_MESSAGE_SIGNING",
        "AUTH_PUBLIC_ORIGIN",
        "AUTH_LISTEN_ADDR",
    ] {
        cmd.env_remove(var);
    }
    // Short, so that `Server::stop` never waits long for a request a test
    // left in flight; tests of the drain set their own.
    cmd.env("DRAIN_TIMEOUT_SECONDS", "2");
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// A finished process.
#[derive(Debug)]
pub struct Finished {
    /// How it exited.
    pub status: ExitStatus,
    /// Everything it wrote on stdout.
    pub stdout: String,
    /// Everything it wrote on stderr.
    pub stderr: String,
}

/// A child process killed when dropped, whatever the test's outcome.
pub struct ChildGuard(pub Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Streams a pipe's lines into a channel from a thread; the channel closes
/// at end of file.
fn lines(pipe: impl Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Collects lines until the channel closes, or panics after `deadline`.
fn collect(rx: &Receiver<String>, deadline: Instant, what: &str) -> String {
    let mut out = String::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                out.push_str(&line);
                out.push('\n');
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => return out,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                panic!("{what}: no end of output in {LIMIT:?}; so far:\n{out}")
            }
        }
    }
}

/// Runs `cmd` to completion within [`LIMIT`].
pub fn run(cmd: Command) -> Finished {
    run_with_input(cmd, None)
}

/// Like [`run`], writing `input` (then end of file) to the process's
/// standard input when given.
pub fn run_with_input(mut cmd: Command, input: Option<&[u8]>) -> Finished {
    if input.is_some() {
        cmd.stdin(Stdio::piped());
    }
    let mut child = ChildGuard(cmd.spawn().expect("spawn"));
    if let (Some(input), Some(mut stdin)) = (input, child.0.stdin.take()) {
        // A process that exits without reading closes the pipe: not an error here.
        let _ = stdin.write_all(input);
    }
    let out = lines(child.0.stdout.take().unwrap());
    let err = lines(child.0.stderr.take().unwrap());
    let deadline = Instant::now() + LIMIT;
    let stdout = collect(&out, deadline, "stdout");
    let stderr = collect(&err, deadline, "stderr");
    // Both pipes are closed: the process has exited or is about to.
    let status = child.0.wait().expect("wait");
    Finished {
        status,
        stdout,
        stderr,
    }
}

/// Waits (bounded) until `server` has logged a line with `kind`.
pub fn assert_logged(server: &Server, kind: &str) {
    let needle = format!("kind=\"{kind}\"");
    server.stderr_until(|line| line.contains(&needle));
}

/// A running server binary.
pub struct Server {
    child: ChildGuard,
    /// Where it listens (from its `listening on` line).
    pub addr: SocketAddr,
    stderr: Receiver<String>,
    stdout: Receiver<String>,
    /// Whether [`Server::stop`] asks with SIGTERM rather than kills.
    graceful: bool,
}

impl Server {
    /// Starts `exe` on `127.0.0.1:0` with `envs` and waits (bounded) for its
    /// `listening on` line. [`Server::stop`] kills it.
    pub fn start(exe: &str, envs: &[(&str, &str)]) -> Self {
        Self::spawn(exe, envs, false)
    }

    /// Like [`Server::start`], for a server that shuts down gracefully on
    /// SIGTERM (approov-proxy): [`Server::stop`] sends SIGTERM and waits,
    /// so that every log line the server buffered is written out (the
    /// proxy logs from a thread of its own). Requests still in flight get
    /// the drain time (2 s unless the test set another).
    pub fn start_graceful(exe: &str, envs: &[(&str, &str)]) -> Self {
        Self::spawn(exe, envs, true)
    }

    fn spawn(exe: &str, envs: &[(&str, &str)], graceful: bool) -> Self {
        let mut cmd = command(exe);
        cmd.env("LISTEN_ADDR", "127.0.0.1:0")
            .envs(envs.iter().copied());
        let mut child = ChildGuard(cmd.spawn().expect("spawn server"));
        let stdout = lines(child.0.stdout.take().unwrap());
        let stderr = lines(child.0.stderr.take().unwrap());
        let line = stdout
            .recv_timeout(LIMIT)
            .unwrap_or_else(|e| panic!("{exe}: no `listening on` line ({e})"));
        let addr = line
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("{exe}: first stdout line is {line:?}"))
            .parse()
            .unwrap_or_else(|e| panic!("{exe}: bad address in {line:?}: {e}"));
        Self {
            child,
            addr,
            stderr,
            stdout,
            graceful,
        }
    }

    /// The address of the server's `metrics on <ip>:<port>` line, the
    /// stdout line after `listening on` when `METRICS_ADDR` is set
    /// (bounded wait). Call it once, first.
    pub fn metrics_addr(&self) -> SocketAddr {
        self.announced("metrics")
    }

    /// The address of approov-proxy's `forward-auth on <ip>:<port>` line,
    /// the stdout line after `listening on` when `AUTH_LISTEN_ADDR` is set
    /// (bounded wait). Call it once, first.
    pub fn forward_auth_addr(&self) -> SocketAddr {
        self.announced("forward-auth")
    }

    /// The address of the next stdout line, `<what> on <ip>:<port>`.
    fn announced(&self, what: &str) -> SocketAddr {
        let line = self
            .stdout
            .recv_timeout(LIMIT)
            .unwrap_or_else(|e| panic!("no `{what} on` line ({e})"));
        line.strip_prefix(&format!("{what} on "))
            .unwrap_or_else(|| panic!("the next stdout line is {line:?}, not `{what} on`"))
            .parse()
            .unwrap_or_else(|e| panic!("bad address in {line:?}: {e}"))
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.0.id()
    }

    /// Stderr lines already written, up to and including the first that
    /// satisfies `stop` (bounded wait).
    pub fn stderr_until(&self, stop: impl Fn(&str) -> bool) -> Vec<String> {
        let deadline = Instant::now() + LIMIT;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self.stderr.recv_timeout(left).unwrap_or_else(|e| {
                panic!(
                    "stderr ended ({e}) before the expected line; saw:\n{}",
                    seen.join("\n")
                )
            });
            let done = stop(&line);
            seen.push(line);
            if done {
                return seen;
            }
        }
    }

    /// Stops the server (see [`Server::start`] and
    /// [`Server::start_graceful`]) and returns everything it wrote on
    /// stderr that was not read yet, and the rest of stdout.
    pub fn stop(mut self) -> (String, String) {
        #[cfg(unix)]
        if self.graceful {
            self.send_term();
        } else {
            let _ = self.child.0.kill();
        }
        #[cfg(not(unix))]
        let _ = self.child.0.kill();
        let deadline = Instant::now() + LIMIT;
        let out = collect(&self.stdout, deadline, "stdout");
        let err = collect(&self.stderr, deadline, "stderr");
        let _ = self.child.0.wait();
        (out, err)
    }

    /// Sends SIGTERM (what container runtimes send to stop a server) and
    /// waits, bounded, for the process to exit; returns its status and the
    /// rest of stderr.
    #[cfg(unix)]
    pub fn terminate(self) -> (ExitStatus, String) {
        self.send_term();
        self.wait_exit()
    }

    /// Sends SIGTERM without waiting.
    #[cfg(unix)]
    pub fn send_term(&self) {
        let pid = self.child.0.id().to_string();
        let kill = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(
            kill.as_ref().is_ok_and(|s| s.success()),
            "kill -TERM {pid}: {kill:?}"
        );
    }

    /// Waits, bounded, for the process to exit on its own; returns its
    /// status and the rest of stderr.
    pub fn wait_exit(mut self) -> (ExitStatus, String) {
        let deadline = Instant::now() + LIMIT;
        collect(&self.stdout, deadline, "stdout");
        let err = collect(&self.stderr, deadline, "stderr");
        // Both pipes are closed: the process has exited or is about to.
        let status = self.child.0.wait().expect("wait");
        (status, err)
    }

    /// `GET path` with these headers.
    pub fn get(&self, path: &str, headers: &[(&str, &str)]) -> Response {
        request(self.addr, "GET", path, headers)
    }
}

/// A parsed HTTP response.
#[derive(Debug)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Header names lower-cased; repeated headers joined with ", ".
    pub headers: HashMap<String, String>,
    /// The body, de-chunked, as text.
    pub body: String,
}

impl Response {
    /// The value of header `name` (any case), if sent.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
}

/// A token with the example claims, signed with [`SECRET`], expiring in
/// `seconds` (negative: expired that long ago).
pub fn token_expiring_in(seconds: i64) -> String {
    approov_core::mint::TokenBuilder::approov_example()
        .expires_in(seconds)
        .sign_hs256_base64(SECRET)
        .unwrap()
}

/// A token with the example claims signed with a secret other than
/// [`SECRET`]: it fails the signature check.
pub fn forged_token() -> String {
    approov_core::mint::TokenBuilder::approov_example()
        .expires_in(3600)
        .sign_hs256_base64("b3RoZXItc2VjcmV0LW9mLWF0LWxlYXN0LTMyLWJ5dGVzISE=")
        .unwrap()
}

/// A token with the example claims, signed with [`SECRET`], valid for an
/// hour and bound (`pay`) to the header value `binding`.
pub fn bound_token(binding: &str) -> String {
    approov_core::mint::TokenBuilder::approov_example()
        .expires_in(3600)
        .pay_for([binding])
        .sign_hs256_base64(SECRET)
        .unwrap()
}

/// Scrapes `GET /metrics` on `addr`: asserts a `200` in Prometheus text
/// format with the core's series and none of `tokens` anywhere, and returns
/// each `approov_` sample, `name{labels}`, with its value.
pub fn scrape_metrics(addr: SocketAddr, tokens: &[&str]) -> Vec<(String, String)> {
    let res = request(addr, "GET", "/metrics", &[]);
    assert_eq!(res.status, 200, "{res:?}");
    assert!(
        res.header("content-type")
            .is_some_and(|t| t.starts_with("text/plain; version=0.0.4")),
        "{res:?}"
    );
    assert!(
        res.body
            .contains("# HELP approov_requests_total Requests checked"),
        "{}",
        res.body
    );
    for token in tokens {
        assert!(!res.body.contains(token), "a token in the metrics");
    }
    res.body
        .lines()
        .filter(|l| l.starts_with("approov_"))
        .map(|l| {
            let (name, value) = l.rsplit_once(' ').unwrap();
            (name.to_owned(), value.to_owned())
        })
        .collect()
}

/// Expected counts, in the form the tests compare scraped ones with.
pub fn counts(samples: &[(&str, u64)]) -> std::collections::BTreeMap<String, u64> {
    samples.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
}

/// Sends one request with `Connection: close` and reads the whole response
/// (read and write timeouts bound every step).
pub fn request(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)]) -> Response {
    let headers: Vec<(&str, &[u8])> = headers.iter().map(|(k, v)| (*k, v.as_bytes())).collect();
    request_bytes(addr, method, path, &headers)
}

/// Like [`request`], with header values as raw bytes (some tests send
/// bytes that are not UTF-8).
pub fn request_bytes(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &[u8])],
) -> Response {
    request_with_body(addr, method, path, headers, &[])
}

/// Like [`request_bytes`], with a body (sent with `Content-Length` when not
/// empty). A `Host` header in `headers` replaces the default one, so signed
/// requests can name the authority they were signed for.
pub fn request_with_body(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &[u8])],
    body: &[u8],
) -> Response {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(10)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    stream
        .set_write_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\n").into_bytes();
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        req.extend_from_slice(format!("Host: {addr}\r\n").as_bytes());
    }
    for (name, value) in headers {
        req.extend_from_slice(name.as_bytes());
        req.extend_from_slice(b": ");
        req.extend_from_slice(value);
        req.extend_from_slice(b"\r\n");
    }
    if !body.is_empty() {
        req.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
    }
    req.extend_from_slice(b"\r\n");
    // A server may answer (413) before reading a large body: a failed write
    // is then fine, the answer is what the test checks.
    let sent = stream.write_all(&req).and_then(|()| stream.write_all(body));
    let mut raw = Vec::new();
    let read = stream.read_to_end(&mut raw);
    if raw.is_empty() {
        panic!("no response (write: {sent:?}, read: {read:?})");
    }
    parse(&raw)
}

/// Sends a request head announcing `Content-Length: announced` and the
/// first bytes of its body (`sent`), then nothing more, keeping the
/// connection open: the answer, if one complete response arrives within
/// `wait`, else `None`. For servers that must answer before the body ends.
pub fn partial_request(
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, &[u8])],
    announced: usize,
    sent: &[u8],
    wait: Duration,
) -> Option<Response> {
    let mut req = format!("POST {path} HTTP/1.1\r\nHost: {addr}\r\n").into_bytes();
    for (name, value) in headers {
        req.extend_from_slice(name.as_bytes());
        req.extend_from_slice(b": ");
        req.extend_from_slice(value);
        req.extend_from_slice(b"\r\n");
    }
    req.extend_from_slice(format!("Content-Length: {announced}\r\n\r\n").as_bytes());
    req.extend_from_slice(sent);
    raw_exchange(addr, &req, wait)
}

/// Writes `bytes` as they are, keeps the connection open, and returns the
/// first complete response arriving within `wait`, else `None`.
pub fn raw_exchange(addr: SocketAddr, bytes: &[u8], wait: Duration) -> Option<Response> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(10)).expect("connect");
    stream
        .set_write_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(bytes).expect("write the request");
    let deadline = std::time::Instant::now() + wait;
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let left = deadline.checked_duration_since(std::time::Instant::now())?;
        stream
            .set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .unwrap();
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            Err(_) => return None,
        }
        if complete(&raw) {
            break;
        }
    }
    (!raw.is_empty()).then(|| parse(&raw))
}

/// Whether `raw` holds a whole response with a `Content-Length` body.
fn complete(raw: &[u8]) -> bool {
    let text = String::from_utf8_lossy(raw);
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return false;
    };
    let len = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(n, _)| n.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    body.len() >= len
}

fn parse(raw: &[u8]) -> Response {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no end of headers in {text:?}"));
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
    let mut headers: HashMap<String, String> = HashMap::new();
    for line in lines {
        let (name, value) = line.split_once(':').unwrap();
        headers
            .entry(name.trim().to_ascii_lowercase())
            .and_modify(|v| {
                v.push_str(", ");
                v.push_str(value.trim());
            })
            .or_insert_with(|| value.trim().to_owned());
    }
    let body = if headers
        .get("transfer-encoding")
        .is_some_and(|te| te.eq_ignore_ascii_case("chunked"))
    {
        dechunk(body)
    } else {
        body.to_owned()
    };
    Response {
        status,
        headers,
        body,
    }
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    loop {
        let (size, rest) = body.split_once("\r\n").unwrap();
        let size = usize::from_str_radix(size.split(';').next().unwrap().trim(), 16).unwrap();
        if size == 0 {
            return out;
        }
        out.push_str(&rest[..size]);
        body = &rest[size + 2..];
    }
}
