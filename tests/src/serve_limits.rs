//! The connection limits every server binary applies, tested over raw
//! sockets on 127.0.0.1 (the example servers' and approov-proxy's tests run
//! these on their binaries): a request head that is not complete in time
//! (sent in part, or trickled) and an idle keep-alive connection are
//! closed, connections over `MAX_CONNECTIONS` wait until one closes, and
//! bad values stop the server at start-up.
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
    let deadline = Instant::now() + wait;
    let mut got = Vec::new();
    let mut buf = [0; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
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
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut got = Vec::new();
    let mut buf = [0; 4096];
    loop {
        if let Some(len) = complete_response_len(&got) {
            assert_eq!(len, got.len(), "more than one response");
            break;
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
    let text = String::from_utf8_lossy(&got);
    text.split(' ').nth(1).unwrap().parse().unwrap()
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
            fn bad_limits_exit_2() {
                limits::bad_limits_exit_2(&super::target(EXE), super::LIMIT_VARS);
            }
        }
    )*};
}
