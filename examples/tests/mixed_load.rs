//! Mixed load on every example server: client threads send valid, forged,
//! expired, garbage and missing tokens as fast as the server answers, on
//! kept-alive connections over 127.0.0.1, for two rounds of a few seconds.
//! Every answer must be 200 (valid) or 401 (the rest): no 5xx, no
//! connection error, no wrong verdict; and the second round may grow the
//! server's resident memory by little (a per-request leak would show).
//! Bounded in time; counts are reported, never asserted as speed.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use approov_core::mint::TokenBuilder;
use common::{SECRET, SERVERS, Server};

const CLIENTS: usize = 4;
const ROUND: Duration = Duration::from_secs(3);
/// What a second round may add to the resident set. Measured, the
/// servers grow by tens of KiB; a leak of 100 bytes per request over a
/// round's tens of thousands of requests would exceed it.
const MAX_GROWTH_KIB: u64 = 2 * 1024;

/// The tokens, each with the status it must get.
fn tokens() -> Vec<(Option<String>, u16)> {
    let valid = TokenBuilder::approov_example()
        .expires_in(300)
        .sign_hs256_base64(SECRET)
        .unwrap();
    let forged = TokenBuilder::approov_example()
        .expires_in(300)
        .sign_hs256_base64("b3RoZXIgc2VjcmV0IG9mIGF0IGxlYXN0IHRoaXJ0eS10d28gYnl0ZXMgbG9uZw==")
        .unwrap();
    let expired = TokenBuilder::approov_example()
        .exp(1_000_000_000.0)
        .sign_hs256_base64(SECRET)
        .unwrap();
    vec![
        (Some(valid), 200),
        (Some(forged), 401),
        (Some(expired), 401),
        (Some("garbage.not-a.token".to_owned()), 401),
        (Some("x".repeat(9000)), 401),
        (None, 401),
    ]
}

/// One client: a kept-alive connection (a new one if the server closes
/// it), requests in turn until the round ends. Returns how many were sent.
fn client(addr: SocketAddr, tokens: &[(Option<String>, u16)], until: Instant) -> usize {
    let connect = || {
        let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        stream
            .set_write_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        BufReader::new(stream)
    };
    let mut conn = connect();
    let mut sent = 0;
    while Instant::now() < until {
        let (token, expect) = &tokens[sent % tokens.len()];
        let mut req = format!("GET / HTTP/1.1\r\nHost: {addr}\r\n");
        if let Some(token) = token {
            req.push_str(&format!("Approov-Token: {token}\r\n"));
        }
        req.push_str("\r\n");
        conn.get_mut()
            .write_all(req.as_bytes())
            .expect("no connection error while writing");
        let (status, close) = read_response(&mut conn);
        assert_eq!(status, *expect, "request {sent} ({token:?})");
        sent += 1;
        if close {
            conn = connect();
        }
    }
    sent
}

/// Reads one response: its status and whether the server closes the
/// connection after it.
fn read_response(conn: &mut BufReader<TcpStream>) -> (u16, bool) {
    let mut line = String::new();
    conn.read_line(&mut line)
        .expect("no connection error while reading");
    let status = line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {line:?}"));
    let (mut len, mut close) = (0usize, false);
    loop {
        let mut header = String::new();
        conn.read_line(&mut header).expect("headers");
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':').unwrap();
        match name.trim().to_ascii_lowercase().as_str() {
            "content-length" => len = value.trim().parse().unwrap(),
            "connection" => close = value.trim().eq_ignore_ascii_case("close"),
            _ => {}
        }
    }
    let mut body = vec![0; len];
    conn.read_exact(&mut body).expect("body");
    (status, close)
}

fn resident_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

fn round(addr: SocketAddr, tokens: &[(Option<String>, u16)]) -> usize {
    let until = Instant::now() + ROUND;
    thread::scope(|s| {
        let clients: Vec<_> = (0..CLIENTS)
            .map(|_| s.spawn(|| client(addr, tokens, until)))
            .collect();
        clients.into_iter().map(|c| c.join().unwrap()).sum()
    })
}

#[test]
fn only_200_and_401_under_mixed_load_and_little_memory_growth() {
    let tokens = tokens();
    for exe in SERVERS {
        // Rejections are logged at `warn`; the log pipe is not what is
        // measured here.
        let server = Server::start(
            exe,
            &[("APPROOV_BASE64_SECRET", SECRET), ("RUST_LOG", "error")],
        );
        let first = round(server.addr, &tokens);
        let before = resident_kib(server.pid());
        let second = round(server.addr, &tokens);
        let after = resident_kib(server.pid());
        eprintln!("{exe}: {first} then {second} requests; resident {before} KiB then {after} KiB");
        assert!(first > 0 && second > 0);
        assert!(
            after <= before + MAX_GROWTH_KIB,
            "{exe}: resident memory grew from {before} to {after} KiB in the second round"
        );
    }
}
