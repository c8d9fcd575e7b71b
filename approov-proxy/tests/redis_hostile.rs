//! `REDIS_URL` naming a Redis that lies: it answers each decision with a
//! bulk string announced as 2 GB and streams bytes as fast as the socket
//! takes them, or trickles them slower than any timeout. The proxy must
//! read no more than a decision's answer, wait no longer than
//! `REDIS_TIMEOUT_MS`, drop that connection rather than read on, make a
//! new one after its backoff, and answer every request through its
//! in-process limit meanwhile. The same for a Redis Cluster node
//! (`REDIS_CLUSTER_URLS`), whose connection is bounded by a credit.
//!
//! The one place a fake Redis is right: a real one never answers this way.
//! It speaks just enough RESP for the `redis` crate to connect.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use common::upstream::{Upstream, get, start_proxy};
use common::{LIMIT, Server};

/// The most the fake streams into one connection: far beyond any bound
/// the test accepts, far below what would hurt the machine running it
/// should the proxy read it all.
const STREAM_CAP: usize = 256 * 1024 * 1024;
/// How much the proxy's resident memory may grow in the test.
const GROWTH_LIMIT_KIB: u64 = 64 * 1024;

/// How the fake answers a decision.
#[derive(Clone, Copy)]
enum Lie {
    /// `$2000000000` and bytes as fast as the socket takes them.
    Endless,
    /// `$1000000` and a byte every 20 ms.
    Trickle,
}

/// What the fake saw.
#[derive(Default)]
struct Seen {
    connections: AtomicUsize,
    decisions: AtomicUsize,
    /// Connections the proxy closed while an answer was being sent.
    closed: AtomicUsize,
}

/// A fake Redis on 127.0.0.1.
struct LyingRedis {
    port: u16,
    seen: Arc<Seen>,
}

impl LyingRedis {
    fn start(lie: Lie) -> Self {
        Self::start_with(lie, false)
    }

    /// A fake Redis Cluster of one node, itself, serving every slot.
    fn start_cluster(lie: Lie) -> Self {
        Self::start_with(lie, true)
    }

    fn start_with(lie: Lie, cluster: bool) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Seen::default());
        let shared = seen.clone();
        let slots = cluster.then(|| slot_map(port));
        // Runs until the test process ends.
        thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                shared.connections.fetch_add(1, Ordering::Relaxed);
                let seen = shared.clone();
                let slots = slots.clone();
                thread::spawn(move || serve(conn, lie, &seen, slots.as_deref()));
            }
        });
        Self { port, seen }
    }

    fn connections(&self) -> usize {
        self.seen.connections.load(Ordering::Relaxed)
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

/// `CLUSTER SLOTS` of a cluster whose one node, on `port`, serves every
/// slot.
fn slot_map(port: u16) -> Vec<u8> {
    let id = "0123456789012345678901234567890123456789";
    format!("*1\r\n*3\r\n:0\r\n:16383\r\n*3\r\n$9\r\n127.0.0.1\r\n:{port}\r\n$40\r\n{id}\r\n")
        .into_bytes()
}

/// Answers commands until a decision, which gets the lie; `CLUSTER` with
/// `slots` when it plays a cluster.
fn serve(conn: TcpStream, lie: Lie, seen: &Seen, slots: Option<&[u8]>) {
    let _ = conn.set_read_timeout(Some(LIMIT));
    let _ = conn.set_write_timeout(Some(LIMIT));
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut conn = conn;
    while let Some(command) = read_command(&mut reader) {
        let answer: &[u8] = match command.to_ascii_uppercase().as_str() {
            "PING" => b"+PONG\r\n",
            "CLIENT" | "SELECT" | "AUTH" | "READONLY" => b"+OK\r\n",
            "CLUSTER" if slots.is_some() => slots.unwrap_or_default(),
            "SCRIPT" => b"$40\r\n0000000000000000000000000000000000000000\r\n",
            "EVALSHA" | "EVAL" => {
                seen.decisions.fetch_add(1, Ordering::Relaxed);
                let cut = match lie {
                    Lie::Endless => stream_forever(&mut conn),
                    Lie::Trickle => trickle(&mut conn),
                };
                if cut {
                    seen.closed.fetch_add(1, Ordering::Relaxed);
                }
                return;
            }
            _ => b"-ERR unknown command\r\n",
        };
        if conn.write_all(answer).is_err() {
            return;
        }
    }
}

/// `$2000000000` and then bytes until the proxy closes the connection
/// (`true`) or [`STREAM_CAP`].
fn stream_forever(conn: &mut TcpStream) -> bool {
    if conn.write_all(b"$2000000000\r\n").is_err() {
        return true;
    }
    let chunk = vec![b'x'; 64 * 1024];
    let mut sent = 0;
    while sent < STREAM_CAP {
        if conn.write_all(&chunk).is_err() {
            return true;
        }
        sent += chunk.len();
    }
    false
}

/// `$1000000` and then a byte every 20 ms until the proxy closes the
/// connection (`true`), or for [`LIMIT`].
fn trickle(conn: &mut TcpStream) -> bool {
    let start = Instant::now();
    if conn.write_all(b"$1000000\r\n").is_err() {
        return true;
    }
    while start.elapsed() < LIMIT {
        if conn.write_all(b"x").is_err() {
            return true;
        }
        // The fake's own pace: slower than any timeout of the proxy.
        thread::sleep(Duration::from_millis(20));
    }
    false
}

/// The name of the next command (an array of bulk strings), or `None` at
/// the end of the connection.
fn read_command(reader: &mut impl BufRead) -> Option<String> {
    let count: usize = read_line(reader)?.strip_prefix('*')?.parse().ok()?;
    let mut name = None;
    for _ in 0..count {
        let len: usize = read_line(reader)?.strip_prefix('$')?.parse().ok()?;
        if len > 64 * 1024 {
            return None;
        }
        let mut arg = vec![0; len + 2];
        reader.read_exact(&mut arg).ok()?;
        arg.truncate(len);
        name.get_or_insert_with(|| String::from_utf8_lossy(&arg).into_owned());
    }
    name
}

fn read_line(reader: &mut impl BufRead) -> Option<String> {
    let mut line = String::new();
    match reader.by_ref().take(1024).read_line(&mut line) {
        Ok(0) | Err(_) => None,
        Ok(_) => Some(line.trim_end().to_owned()),
    }
}

/// The peak resident memory of process `pid` so far, in KiB (`VmHWM`):
/// memory taken and given back between two looks counts too.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().strip_suffix("kB"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no VmHWM in /proc/{pid}/status"))
}

/// A proxy sharing its limit through `redis` (200 ms per decision).
fn proxy(upstream: &Upstream, redis: &LyingRedis) -> Server {
    let url = upstream.url();
    let redis_url = redis.url();
    start_proxy(&[
        ("UPSTREAM_URL", url.as_str()),
        ("API_KEY", "hostile-redis-key"),
        ("API_KEY_HEADER", "X-Api-Key"),
        ("RATE_LIMIT_PER_DEVICE_PER_MINUTE", "1000"),
        ("REDIS_URL", redis_url.as_str()),
        ("REDIS_TIMEOUT_MS", "200"),
    ])
}

/// Sends requests (all answered `200` through the in-process limit) until
/// the proxy has given up two connections to `redis` and made a third:
/// its backoff after each failure is a second. `check` runs after each.
async fn until_reconnected(proxy: &Server, redis: &LyingRedis, check: impl Fn(usize)) -> usize {
    let deadline = Instant::now() + LIMIT;
    let mut answered = 0;
    while redis.connections() < 3 || answered < 6 {
        let res = get(proxy.addr, "/x", Some("hostile-redis-did=="), &[]).await;
        assert_eq!(res.status, 200, "{}", res.text());
        answered += 1;
        check(answered);
        assert!(
            Instant::now() < deadline,
            "{} connection(s) after {answered} requests: the proxy kept reading \
             instead of reconnecting",
            redis.connections()
        );
        // Pacing the requests while the backoff runs out (bounded above).
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    answered
}

/// A check for [`until_reconnected`]: the proxy's peak resident memory
/// has grown by less than [`GROWTH_LIMIT_KIB`] since this was called.
fn memory_stays_flat(proxy: &Server) -> impl Fn(usize) {
    let pid = proxy.pid();
    let before = peak_rss_kib(pid);
    move |answered| {
        let grown = peak_rss_kib(pid).saturating_sub(before);
        assert!(
            grown < GROWTH_LIMIT_KIB,
            "resident memory grew by {grown} KiB after {answered} requests"
        );
    }
}

/// Stops the proxy: it fell back, logged it, and never panicked.
fn assert_fell_back(proxy: Server) {
    let (_, log) = proxy.stop();
    assert!(
        log.contains("redis unavailable, falling back to the in-process limit"),
        "{log}"
    );
    assert!(!log.contains("panicked"), "{log}");
    assert!(!log.contains("hostile-redis-key"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_streaming_an_endless_answer_costs_no_memory_and_loses_its_connection() {
    let redis = LyingRedis::start(Lie::Endless);
    let upstream = Upstream::start();
    let proxy = proxy(&upstream, &redis);
    let answered = until_reconnected(&proxy, &redis, memory_stays_flat(&proxy)).await;
    assert!(redis.seen.decisions.load(Ordering::Relaxed) >= 2);
    assert_eq!(upstream.recorded().len(), answered);
    assert_fell_back(proxy);
}

/// An answer slower than `REDIS_TIMEOUT_MS` costs a request the timeout,
/// and the connection it was coming on: the proxy closes it rather than
/// go on reading.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_trickling_an_answer_is_timed_out_and_loses_its_connection() {
    let redis = LyingRedis::start(Lie::Trickle);
    let upstream = Upstream::start();
    let proxy = proxy(&upstream, &redis);
    let answered = until_reconnected(&proxy, &redis, |_| {}).await;
    assert_eq!(upstream.recorded().len(), answered);
    // The fake notices a closed connection at its next byte (bounded).
    let deadline = Instant::now() + LIMIT;
    while redis.seen.closed.load(Ordering::Relaxed) < 2 {
        assert!(
            Instant::now() < deadline,
            "the proxy left its timed-out connections open"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_fell_back(proxy);
}

/// A cluster node that streams an endless answer: its connection, shared
/// by every decision for that node, runs out of credit and fails, the
/// cluster client makes a new one (at most once a second), and memory
/// stays flat meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_node_streaming_an_endless_answer_costs_no_memory_and_loses_its_connection() {
    let redis = LyingRedis::start_cluster(Lie::Endless);
    let upstream = Upstream::start();
    let url = upstream.url();
    let seed = redis.url();
    let proxy = start_proxy(&[
        ("UPSTREAM_URL", url.as_str()),
        ("API_KEY", "hostile-redis-key"),
        ("API_KEY_HEADER", "X-Api-Key"),
        ("RATE_LIMIT_PER_DEVICE_PER_MINUTE", "1000"),
        ("REDIS_CLUSTER_URLS", seed.as_str()),
        ("REDIS_TIMEOUT_MS", "200"),
    ]);
    let answered = until_reconnected(&proxy, &redis, memory_stays_flat(&proxy)).await;
    assert!(redis.seen.decisions.load(Ordering::Relaxed) >= 2);
    assert!(redis.seen.closed.load(Ordering::Relaxed) >= 1);
    assert_eq!(upstream.recorded().len(), answered);
    assert_fell_back(proxy);
}
