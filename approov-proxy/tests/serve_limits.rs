//! The connection limits of the proxy, over raw sockets on 127.0.0.1: a request head that is not complete in time (sent in part, or
//! trickled) and an idle keep-alive connection are closed, connections over
//! `MAX_CONNECTIONS` wait until one closes, and bad values stop the server
//! at start-up.
//!
//! Timeouts are configured to 1 s and every wait is bounded by a socket
//! read timeout many times longer, so a slow machine cannot fail a test and
//! a server that never closes cannot hang one.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{ErrorKind, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use common::{SECRET, Server, command, run};

/// How long a server configured with 1 s may take to close a connection
/// before the test calls it a failure: generous, for a busy machine.
const CLOSE_LIMIT: Duration = Duration::from_secs(15);

/// How long a connection over the cap is watched for an answer that must
/// not come. A correct server never answers it, however long we wait.
const HELD_BACK: Duration = Duration::from_secs(1);

/// The variables the proxy reads, cleared so that the caller's environment
/// cannot leak in ("" reads as unset).
const PROXY_VARS: &[&str] = &[
    "PROXY_CONFIG",
    "API_KEY_QUERY_PARAM",
    "UPSTREAM_TIMEOUT_SECONDS",
    "RATE_LIMIT_PER_DEVICE_PER_MINUTE",
    "APPROOV_REPORT_ONLY",
];

/// What a server binary needs to start, besides the limits under test. The
/// proxy's upstream is never called: the tests use `/health` or send no
/// complete request.
fn base_envs(exe: &str) -> Vec<(&'static str, &'static str)> {
    let mut envs = vec![("APPROOV_BASE64_SECRET", SECRET)];
    let _ = exe;
    envs.extend(PROXY_VARS.iter().map(|name| (*name, "")));
    envs.extend([
        ("UPSTREAM_URL", "http://127.0.0.1:9"),
        ("API_KEY", "limits-test-key"),
        ("API_KEY_HEADER", "X-Api-Key"),
    ]);
    envs
}

fn start(exe: &str, limits: &[(&'static str, &'static str)]) -> Server {
    let mut envs = base_envs(exe);
    envs.extend_from_slice(limits);
    Server::start(exe, &envs)
}

fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(10)).unwrap();
    stream
        .set_write_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
}

/// How a wait for the server to close a connection ended.
#[derive(Debug, PartialEq)]
enum Ending {
    /// The server closed (end of file or reset), after sending these bytes.
    Closed(Vec<u8>),
    /// Nothing more within the wait, after these bytes.
    StillOpen(Vec<u8>),
}

/// Reads until the server closes the connection or `wait` has passed.
fn wait_for_close(stream: &mut TcpStream, wait: Duration) -> Ending {
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
fn assert_closed_for_a_slow_head(ending: Ending) {
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
fn keep_alive_health(stream: &mut TcpStream) -> u16 {
    send_health(stream);
    read_response(stream)
}

fn send_health(stream: &mut TcpStream) {
    let addr = stream.peer_addr().unwrap();
    write!(stream, "GET /health HTTP/1.1\r\nHost: {addr}\r\n\r\n").unwrap();
}

/// Reads one whole response (and no more) within a generous bound;
/// returns its status.
fn read_response(stream: &mut TcpStream) -> u16 {
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

fn partial_request_head_is_cut_off(exe: &str) {
    let server = start(exe, &[("HEADER_READ_TIMEOUT_SECONDS", "1")]);
    let mut stream = connect(server.addr);
    // No blank line: the head never ends.
    write!(stream, "GET /health HTTP/1.1\r\nHost: {}\r\n", server.addr).unwrap();
    assert_closed_for_a_slow_head(wait_for_close(&mut stream, CLOSE_LIMIT));
    // The server still serves others.
    assert_eq!(server.get("/health", &[]).status, 200);
}

fn trickled_request_head_is_cut_off(exe: &str) {
    let server = start(exe, &[("HEADER_READ_TIMEOUT_SECONDS", "1")]);
    let mut stream = connect(server.addr);
    trickle_head(&mut stream);
}

/// The same on a kept-alive connection: the second request's head is
/// timed too, not only the first.
fn trickled_second_request_head_is_cut_off(exe: &str) {
    let server = start(exe, &[("HEADER_READ_TIMEOUT_SECONDS", "1")]);
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

fn idle_keep_alive_connection_is_closed(exe: &str) {
    let server = start(exe, &[("IDLE_TIMEOUT_SECONDS", "1")]);
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

fn connections_over_the_cap_wait_for_a_free_one(exe: &str) {
    // Default timeouts (30 s and more): nothing closes these on its own
    // during the test.
    let server = start(exe, &[("MAX_CONNECTIONS", "2")]);
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

/// SIGTERM stops the proxy cleanly: an idle connection is closed at once
/// and the process exits with success.
#[cfg(unix)]
#[test]
fn an_idle_proxy_shuts_down_at_once_on_sigterm() {
    let exe = env!("CARGO_BIN_EXE_approov-proxy");
    let server = start(exe, &[]);
    let mut idle = connect(server.addr);
    // Answered: the serving loop, and with it the signal handler, runs.
    assert_eq!(keep_alive_health(&mut idle), 200);
    let (status, stderr) = server.terminate();
    assert!(status.success(), "{status:?}\n{stderr}");
    assert!(stderr.contains("shutting down"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(
        wait_for_close(&mut idle, CLOSE_LIMIT),
        Ending::Closed(Vec::new())
    );
}

fn bad_limits_exit_2(exe: &str) {
    for name in [
        "HEADER_READ_TIMEOUT_SECONDS",
        "IDLE_TIMEOUT_SECONDS",
        "MAX_CONNECTIONS",
        "DRAIN_TIMEOUT_SECONDS",
        "WORKER_THREADS",
    ] {
        for value in ["0", "soon", "", "-5"] {
            let mut cmd = command(exe);
            cmd.env("LISTEN_ADDR", "127.0.0.1:0")
                .envs(base_envs(exe))
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
            assert!(!out.stderr.contains(SECRET), "{}", out.stderr);
        }
    }
}

macro_rules! limit_tests {
    ($($module:ident => $bin:literal $(, #[$second_head:meta])?);* $(;)?) => {$(
        mod $module {
            const EXE: &str = env!(concat!("CARGO_BIN_EXE_", $bin));

            #[test]
            fn partial_request_head_is_cut_off() {
                super::partial_request_head_is_cut_off(EXE);
            }
            #[test]
            fn trickled_request_head_is_cut_off() {
                super::trickled_request_head_is_cut_off(EXE);
            }
            #[test]
            $(#[$second_head])?
            fn trickled_second_request_head_is_cut_off() {
                super::trickled_second_request_head_is_cut_off(EXE);
            }
            #[test]
            fn idle_keep_alive_connection_is_closed() {
                super::idle_keep_alive_connection_is_closed(EXE);
            }
            #[test]
            fn connections_over_the_cap_wait_for_a_free_one() {
                super::connections_over_the_cap_wait_for_a_free_one(EXE);
            }
            #[test]
            fn bad_limits_exit_2() {
                super::bad_limits_exit_2(EXE);
            }
        }
    )*};
}

limit_tests! {
    approov_proxy => "approov-proxy";
}

/// With several worker threads every connection is served, kept alive,
/// whichever worker it was handed to.
#[test]
fn connections_are_served_by_every_worker() {
    let exe = env!("CARGO_BIN_EXE_approov-proxy");
    let server = start(exe, &[("WORKER_THREADS", "3")]);
    let mut connections: Vec<TcpStream> = (0..7).map(|_| connect(server.addr)).collect();
    for round in 0..2 {
        for (i, stream) in connections.iter_mut().enumerate() {
            assert_eq!(
                keep_alive_health(stream),
                200,
                "connection {i}, round {round}"
            );
        }
    }
    let (_, stderr) = server.stop();
    assert!(!stderr.contains("panicked"), "{stderr}");
}
