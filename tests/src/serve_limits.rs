//! The connection limits every server binary applies, tested over raw
//! sockets on 127.0.0.1 (the example servers' and approov-proxy's tests run
//! these on their binaries): a request head that is not complete in time
//! (sent in part, or trickled) and an idle keep-alive connection are
//! closed, connections over `MAX_CONNECTIONS` wait until one closes, a
//! client that pipelines requests and never reads its answers is cut off
//! after `SEND_TIMEOUT_SECONDS`, a connection closes after
//! `MAX_REQUESTS_PER_CONNECTION` answers, and bad values stop the server at
//! start-up.
//!
//! Timeouts are configured to 1 s and every wait is bounded by a socket
//! read timeout many times longer, so a slow machine cannot fail a test and
//! a server that never closes cannot hang one.

use std::io::{ErrorKind, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use crate::process::{Server, command, run};

/// How long a server configured with 1 s may take to close a connection
/// before the test calls it a failure: generous, for a busy machine.
pub const CLOSE_LIMIT: Duration = Duration::from_secs(15);

/// How long a connection over the cap is watched for an answer that must
/// not come. A correct server never answers it, however long we wait.
pub const HELD_BACK: Duration = Duration::from_secs(1);

/// A server binary under test and what it needs to start besides the
/// limits under test.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// The binary.
    pub exe: &'a str,
    /// Its other variables (a secret, an upstream...).
    pub envs: &'a [(&'a str, &'a str)],
    /// Whether it stops gracefully on SIGTERM (see [`Server::start_graceful`]).
    pub graceful: bool,
    /// Whether it still answers the requests it had already read, pipelined,
    /// when a connection reached `MAX_REQUESTS_PER_CONNECTION` (actix-http
    /// does, up to its read buffer, before it closes; hyper reads no
    /// request ahead of an answer).
    pub answers_read_ahead: bool,
}

impl Target<'_> {
    /// Starts the server with `limits` beside its other variables.
    pub fn start(&self, limits: &[(&str, &str)]) -> Server {
        let mut envs = self.envs.to_vec();
        envs.extend_from_slice(limits);
        if self.graceful {
            Server::start_graceful(self.exe, &envs)
        } else {
            Server::start(self.exe, &envs)
        }
    }
}

/// A connection to `addr`, with a generous write timeout.
pub fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(10)).unwrap();
    stream
        .set_write_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
}

/// How a wait for the server to close a connection ended.
#[derive(Debug, PartialEq)]
pub enum Ending {
    /// The server closed (end of file or reset), after sending these bytes.
    Closed(Vec<u8>),
    /// Nothing more within the wait, after these bytes.
    StillOpen(Vec<u8>),
}

/// Reads until the server closes the connection or `wait` has passed.
pub fn wait_for_close(stream: &mut TcpStream, wait: Duration) -> Ending {
    read_until(stream, wait, |_| false)
}

/// Reads until the server closes the connection, `wait` has passed, or
/// the bytes read so far satisfy `enough` (then [`Ending::StillOpen`]).
fn read_until(stream: &mut TcpStream, wait: Duration, enough: impl Fn(&[u8]) -> bool) -> Ending {
    let deadline = Instant::now() + wait;
    let mut got = Vec::new();
    let mut buf = [0; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || enough(&got) {
            return Ending::StillOpen(got);
        }
        stream.set_read_timeout(Some(left)).unwrap();
        match stream.read(&mut buf) {
            Ok(0) => return Ending::Closed(got),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Ending::StillOpen(got);
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            // Reset or aborted: closed too.
            Err(_) => return Ending::Closed(got),
        }
    }
}

/// A server may close a slow request head silently or answer 408 first.
pub fn assert_closed_for_a_slow_head(ending: Ending) {
    match ending {
        Ending::Closed(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            assert!(
                bytes.is_empty() || text.starts_with("HTTP/1.1 408"),
                "unexpected answer to an incomplete head: {text:?}"
            );
        }
        Ending::StillOpen(bytes) => panic!(
            "still open after {CLOSE_LIMIT:?} (got {:?})",
            String::from_utf8_lossy(&bytes)
        ),
    }
}

/// Sends a keep-alive `GET /health` and reads its whole answer, leaving
/// the connection open; returns the status.
pub fn keep_alive_health(stream: &mut TcpStream) -> u16 {
    send_health(stream);
    read_response(stream)
}

/// Sends a keep-alive `GET /health` without reading the answer.
pub fn send_health(stream: &mut TcpStream) {
    let addr = stream.peer_addr().unwrap();
    write!(stream, "GET /health HTTP/1.1\r\nHost: {addr}\r\n\r\n").unwrap();
}

/// Reads one whole response (and no more) within a generous bound;
/// returns its status.
pub fn read_response(stream: &mut TcpStream) -> u16 {
    let got = read_one_response(stream);
    let text = String::from_utf8_lossy(&got);
    text.split(' ').nth(1).unwrap().parse().unwrap()
}

/// Reads one whole response (head and body, and no more) within a
/// generous bound; returns its bytes.
fn read_one_response(stream: &mut TcpStream) -> Vec<u8> {
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut got = Vec::new();
    let mut buf = [0; 4096];
    loop {
        if let Some(len) = complete_response_len(&got) {
            assert_eq!(len, got.len(), "more than one response");
            return got;
        }
        let n = stream.read(&mut buf).unwrap();
        assert_ne!(
            n,
            0,
            "closed mid-response: {:?}",
            String::from_utf8_lossy(&got)
        );
        got.extend_from_slice(&buf[..n]);
    }
}

/// The length of the first complete response in `bytes`, if there is one
/// (`Content-Length` or chunked bodies).
fn complete_response_len(bytes: &[u8]) -> Option<usize> {
    let text = std::str::from_utf8(bytes).ok()?;
    let head_end = text.find("\r\n\r\n")? + 4;
    let head = text[..head_end].to_ascii_lowercase();
    let length = head.lines().find_map(|line| {
        line.strip_prefix("content-length:")
            .map(|v| v.trim().parse::<usize>().unwrap())
    });
    match length {
        Some(length) => (text.len() >= head_end + length).then_some(head_end + length),
        None => text[head_end..]
            .find("0\r\n\r\n")
            .map(|end| head_end + end + 5),
    }
}

/// The test of that name, on `target`.
pub fn partial_request_head_is_cut_off(target: &Target<'_>) {
    let server = target.start(&[("HEADER_READ_TIMEOUT_SECONDS", "1")]);
    let mut stream = connect(server.addr);
    // No blank line: the head never ends.
    write!(stream, "GET /health HTTP/1.1\r\nHost: {}\r\n", server.addr).unwrap();
    assert_closed_for_a_slow_head(wait_for_close(&mut stream, CLOSE_LIMIT));
    // The server still serves others.
    assert_eq!(server.get("/health", &[]).status, 200);
}

/// The test of that name, on `target`.
pub fn trickled_request_head_is_cut_off(target: &Target<'_>) {
    let server = target.start(&[("HEADER_READ_TIMEOUT_SECONDS", "1")]);
    let mut stream = connect(server.addr);
    trickle_head(&mut stream);
}

/// The same on a kept-alive connection: the second request's head is
/// timed too, not only the first.
/// The test of that name, on `target`.
pub fn trickled_second_request_head_is_cut_off(target: &Target<'_>) {
    let server = target.start(&[("HEADER_READ_TIMEOUT_SECONDS", "1")]);
    let mut stream = connect(server.addr);
    assert_eq!(keep_alive_health(&mut stream), 200);
    trickle_head(&mut stream);
}

/// Trickles a request head that never ends, one byte every 200 ms, and
/// expects the server to close the connection within [`CLOSE_LIMIT`].
fn trickle_head(stream: &mut TcpStream) {
    let addr = stream.peer_addr().unwrap();
    write!(stream, "GET /health HTTP/1.1\r\nHost: {addr}\r\n").unwrap();
    // One byte of an endless header every 200 ms (the read timeout paces
    // it), for at most CLOSE_LIMIT.
    let rounds = CLOSE_LIMIT.as_millis() / 200;
    let mut header = b"X-Slow: ".iter().chain(std::iter::repeat(&b'a'));
    for _ in 0..rounds {
        if stream.write_all(&[*header.next().unwrap()]).is_err() {
            // Written after the server closed: reset.
            return;
        }
        match wait_for_close(stream, Duration::from_millis(200)) {
            Ending::StillOpen(bytes) if bytes.is_empty() => {}
            // An answer has begun: it must be a 408 and the end.
            Ending::StillOpen(mut bytes) => {
                let rest = wait_for_close(stream, CLOSE_LIMIT);
                let ending = match rest {
                    Ending::Closed(more) => Ending::Closed([bytes, more].concat()),
                    Ending::StillOpen(more) => {
                        bytes.extend(more);
                        Ending::StillOpen(bytes)
                    }
                };
                return assert_closed_for_a_slow_head(ending);
            }
            closed @ Ending::Closed(_) => return assert_closed_for_a_slow_head(closed),
        }
    }
    panic!("a trickled head kept the connection open for {CLOSE_LIMIT:?}");
}

/// The test of that name, on `target`.
pub fn idle_keep_alive_connection_is_closed(target: &Target<'_>) {
    let server = target.start(&[("IDLE_TIMEOUT_SECONDS", "1")]);
    let mut stream = connect(server.addr);
    assert_eq!(keep_alive_health(&mut stream), 200);
    // And a second request on the same connection, so it really is kept
    // alive between requests.
    assert_eq!(keep_alive_health(&mut stream), 200);
    match wait_for_close(&mut stream, CLOSE_LIMIT) {
        Ending::Closed(bytes) => assert!(
            bytes.is_empty(),
            "unexpected bytes on an idle connection: {:?}",
            String::from_utf8_lossy(&bytes)
        ),
        Ending::StillOpen(_) => panic!("idle connection still open after {CLOSE_LIMIT:?}"),
    }
}

/// The test of that name, on `target`.
pub fn connections_over_the_cap_wait_for_a_free_one(target: &Target<'_>) {
    // Default timeouts (30 s and more): nothing closes these on its own
    // during the test.
    let server = target.start(&[("MAX_CONNECTIONS", "2")]);
    // Two connections, each answered: both are open and counted.
    let mut first = connect(server.addr);
    assert_eq!(keep_alive_health(&mut first), 200);
    let mut second = connect(server.addr);
    assert_eq!(keep_alive_health(&mut second), 200);

    // A third is not served while they are open. (The kernel completes the
    // handshake into the listen backlog; the server does not accept it.)
    let mut third = connect(server.addr);
    send_health(&mut third);
    third.set_read_timeout(Some(HELD_BACK)).unwrap();
    let mut buf = [0; 64];
    match third.read(&mut buf) {
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
        other => panic!("a connection over the cap was answered: {other:?}"),
    }

    // Once one closes, the waiting connection is served.
    drop(first);
    assert_eq!(read_response(&mut third), 200);
    // And the second was never disturbed.
    assert_eq!(keep_alive_health(&mut second), 200);
}

/// A connection that pipelines `GET path` requests and never reads the
/// answers, until the server stops taking them: its writes then wait on
/// our full receive buffer (kept small) and its own. Returned with
/// nothing read, open, or already cut off by a server whose send timeout
/// is shorter than the second this waits.
pub fn stall(addr: SocketAddr, path: &str) -> TcpStream {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None).unwrap();
    // Set before connecting, so the window we offer stays small.
    socket.set_recv_buffer_size(4096).unwrap();
    socket
        .connect_timeout(&addr.into(), Duration::from_secs(10))
        .unwrap();
    let mut stream = TcpStream::from(socket);
    // A write that waits this long means the server has stopped reading.
    stream
        .set_write_timeout(Some(Duration::from_secs(1)))
        .unwrap();
    let requests = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n").repeat(256);
    let deadline = Instant::now() + CLOSE_LIMIT;
    loop {
        assert!(
            Instant::now() < deadline,
            "the server kept reading pipelined requests for {CLOSE_LIMIT:?} without being read"
        );
        match stream.write(requests.as_bytes()) {
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            // Stalled; or stalled and already cut off.
            Err(_) => return stream,
        }
    }
}

/// Whether the server has closed `stream` within `wait`: a write to it
/// fails with something other than a timeout (reset or broken pipe).
pub fn closed_by_server(stream: &mut TcpStream, wait: Duration) -> bool {
    let deadline = Instant::now() + wait;
    stream
        .set_write_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    while Instant::now() < deadline {
        match stream.write(b"GET / HTTP/1.1\r\n\r\n") {
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return true,
            // Taken: the buffers had room again; try until they do not.
            Ok(_) => {}
        }
    }
    false
}

/// The test of that name, on `target`: every connection slot held by a
/// client that pipelines and never reads, and a fresh request is still
/// answered once the send timeout has cut one of them off.
pub fn clients_that_never_read_are_cut_off(target: &Target<'_>) {
    let server = target.start(&[
        ("SEND_TIMEOUT_SECONDS", "1"),
        ("MAX_CONNECTIONS", "2"),
        // High, so that no request cap frees the slots.
        ("MAX_REQUESTS_PER_CONNECTION", "1000000"),
        // Short too: a busy machine may pause the server long enough for
        // `stall` to stop early, and a server that then answers every
        // request it was sent is idle, not stalled. A server stalled on its
        // writes reads no head and is never idle, so these never free it.
        ("IDLE_TIMEOUT_SECONDS", "1"),
        ("HEADER_READ_TIMEOUT_SECONDS", "1"),
    ]);
    let mut stalled = [stall(server.addr, "/health"), stall(server.addr, "/health")];
    let mut fresh = connect(server.addr);
    send_health(&mut fresh);
    assert_eq!(
        wait_for_answer(&mut fresh, CLOSE_LIMIT).as_deref(),
        Some("200"),
        "no answer while two clients that never read hold the slots"
    );
    for stream in &mut stalled {
        assert!(
            closed_by_server(stream, CLOSE_LIMIT),
            "a client that never reads was not cut off"
        );
    }
}

/// The status of the answer on `stream`, if its status line arrives
/// within `wait`.
pub fn wait_for_answer(stream: &mut TcpStream, wait: Duration) -> Option<String> {
    let line_read = |got: &[u8]| got.windows(2).any(|w| w == b"\r\n");
    let bytes = match read_until(stream, wait, line_read) {
        Ending::Closed(bytes) | Ending::StillOpen(bytes) => bytes,
    };
    let text = String::from_utf8_lossy(&bytes);
    let line = text.split("\r\n").next()?;
    line.strip_prefix("HTTP/1.1 ")
        .map(|rest| rest.chars().take(3).collect())
}

/// The test of that name, on `target`: on a connection capped at three
/// requests, the third answer says `Connection: close` and the connection
/// closes; with more requests pipelined behind the third, it closes too,
/// after the third answer (or, see [`Target::answers_read_ahead`], after
/// answering what it had read).
pub fn a_connection_closes_after_its_request_cap(target: &Target<'_>) {
    let server = target.start(&[("MAX_REQUESTS_PER_CONNECTION", "3")]);
    let request = format!("GET /health HTTP/1.1\r\nHost: {}\r\n\r\n", server.addr);
    // One request after another.
    let mut stream = connect(server.addr);
    for i in 0..3 {
        stream.write_all(request.as_bytes()).unwrap();
        let answer = String::from_utf8_lossy(&read_one_response(&mut stream)).to_ascii_lowercase();
        assert!(answer.starts_with("http/1.1 200"), "{answer}");
        let closes = answer.contains("\r\nconnection: close\r\n");
        assert_eq!(closes, i == 2, "answer {i}: {answer}");
    }
    match wait_for_close(&mut stream, CLOSE_LIMIT) {
        Ending::Closed(rest) => assert!(rest.is_empty(), "{rest:?}"),
        Ending::StillOpen(_) => panic!("still open after {CLOSE_LIMIT:?} past its cap"),
    }
    // Pipelined far past the cap.
    let mut stream = connect(server.addr);
    let pipelined = 20;
    stream
        .write_all(request.repeat(pipelined).as_bytes())
        .unwrap();
    let bytes = match wait_for_close(&mut stream, CLOSE_LIMIT) {
        Ending::Closed(bytes) => bytes,
        Ending::StillOpen(bytes) => panic!(
            "still open after {CLOSE_LIMIT:?} past its cap: {:?}",
            String::from_utf8_lossy(&bytes)
        ),
    };
    let text = String::from_utf8_lossy(&bytes).to_ascii_lowercase();
    let answers: Vec<&str> = text.split("http/1.1 ").skip(1).collect();
    if target.answers_read_ahead {
        assert!(answers.len() >= 3, "{text}");
    } else {
        assert_eq!(answers.len(), 3, "{text}");
    }
    assert!(answers[2].contains("\r\nconnection: close\r\n"), "{text}");
    // A fresh connection is served as usual.
    assert_eq!(keep_alive_health(&mut connect(server.addr)), 200);
}

/// Each of `names` set to an unusable value stops `target` at start-up
/// with exit code 2 and one line on stderr naming it.
pub fn bad_limits_exit_2(target: &Target<'_>, names: &[&str]) {
    for name in names {
        for value in ["0", "soon", "", "-5"] {
            let mut cmd = command(target.exe);
            cmd.env("LISTEN_ADDR", "127.0.0.1:0")
                .envs(target.envs.iter().copied())
                .env(name, value);
            let out = run(cmd);
            assert_eq!(out.status.code(), Some(2), "{name}={value:?}: {out:?}");
            assert!(out.stdout.is_empty(), "{out:?}");
            assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
            assert!(
                out.stderr.contains(&format!("{name} is not usable")),
                "{}",
                out.stderr
            );
            for (_, secret) in target.envs {
                assert!(!out.stderr.contains(secret), "{}", out.stderr);
            }
        }
    }
}

/// The tests above, one module per binary: `limit_tests! { axum_hello =>
/// "axum-hello"; ... }` in an integration test of the crate that builds the
/// binary, beside a `fn target(exe: &str) -> Target<'_>` and a
/// `LIMIT_VARS: &[&str]` (the variables whose bad values must stop it). An
/// attribute after the binary's name (`#[ignore = "..."]`) applies to
/// `trickled_second_request_head_is_cut_off`.
#[macro_export]
macro_rules! limit_tests {
    ($($module:ident => $bin:literal $(, #[$second_head:meta])?);* $(;)?) => {$(
        mod $module {
            use $crate::serve_limits as limits;

            const EXE: &str = env!(concat!("CARGO_BIN_EXE_", $bin));

            #[test]
            fn partial_request_head_is_cut_off() {
                limits::partial_request_head_is_cut_off(&super::target(EXE));
            }
            #[test]
            fn trickled_request_head_is_cut_off() {
                limits::trickled_request_head_is_cut_off(&super::target(EXE));
            }
            #[test]
            $(#[$second_head])?
            fn trickled_second_request_head_is_cut_off() {
                limits::trickled_second_request_head_is_cut_off(&super::target(EXE));
            }
            #[test]
            fn idle_keep_alive_connection_is_closed() {
                limits::idle_keep_alive_connection_is_closed(&super::target(EXE));
            }
            #[test]
            fn connections_over_the_cap_wait_for_a_free_one() {
                limits::connections_over_the_cap_wait_for_a_free_one(&super::target(EXE));
            }
            #[test]
            fn clients_that_never_read_are_cut_off() {
                limits::clients_that_never_read_are_cut_off(&super::target(EXE));
            }
            #[test]
            fn a_connection_closes_after_its_request_cap() {
                limits::a_connection_closes_after_its_request_cap(&super::target(EXE));
            }
            #[test]
            fn bad_limits_exit_2() {
                limits::bad_limits_exit_2(&super::target(EXE), super::LIMIT_VARS);
            }
        }
    )*};
}
