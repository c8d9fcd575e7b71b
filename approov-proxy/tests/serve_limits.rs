//! The connection limits of the proxy, over raw sockets on 127.0.0.1: the
//! shared tests of `approov_conformance::serve_limits`, and the proxy's
//! own (shutdown on SIGTERM, several workers).
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{ErrorKind, Read as _, Write as _};
use std::net::TcpStream;

use approov_conformance::serve_limits::{
    self as limits, CLOSE_LIMIT, Ending, Target, connect, keep_alive_health, read_response,
    send_health, wait_for_close,
};
use common::SECRET;

/// The variables whose bad values must stop the proxy at start-up.
const LIMIT_VARS: &[&str] = &[
    "HEADER_READ_TIMEOUT_SECONDS",
    "IDLE_TIMEOUT_SECONDS",
    "SEND_TIMEOUT_SECONDS",
    "MAX_CONNECTIONS",
    "MAX_REQUESTS_PER_CONNECTION",
    "DRAIN_TIMEOUT_SECONDS",
    "WORKER_THREADS",
    "WORKER_CPU_AFFINITY",
];

/// The proxy with a single upstream that is never called: the tests use
/// `/health` or send no complete request.
fn target(exe: &str) -> Target<'_> {
    Target {
        exe,
        envs: &[
            ("APPROOV_BASE64_SECRET", SECRET),
            ("UPSTREAM_URL", "http://127.0.0.1:9"),
            ("API_KEY", "limits-test-key"),
            ("API_KEY_HEADER", "X-Api-Key"),
        ],
        graceful: true,
        answers_read_ahead: false,
    }
}

approov_conformance::limit_tests! {
    approov_proxy => "approov-proxy";
}

/// SIGTERM stops the proxy cleanly: an idle connection is closed at once
/// and the process exits with success.
#[cfg(unix)]
#[test]
fn an_idle_proxy_shuts_down_at_once_on_sigterm() {
    let exe = env!("CARGO_BIN_EXE_approov-proxy");
    let server = target(exe).start(&[]);
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

/// With several worker threads every connection is served, kept alive,
/// whichever worker it was handed to.
#[test]
fn connections_are_served_by_every_worker() {
    let exe = env!("CARGO_BIN_EXE_approov-proxy");
    let server = target(exe).start(&[("WORKER_THREADS", "3")]);
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

/// The metrics listener holds at most 16 connections (scrapers are few),
/// so a client opening many cannot take the API listener's file
/// descriptors; the 17th waits until one closes, as on the API listener.
#[test]
fn the_metrics_listener_holds_at_most_16_connections() {
    let exe = env!("CARGO_BIN_EXE_approov-proxy");
    let server = target(exe).start(&[("METRICS_ADDR", "127.0.0.1:0")]);
    let metrics = server.metrics_addr();
    // Answered (`404`: only `/metrics` is served there), so each is open
    // and counted.
    let mut open: Vec<TcpStream> = (0..16).map(|_| connect(metrics)).collect();
    for stream in &mut open {
        assert_eq!(keep_alive_health(stream), 404);
    }
    let mut waiting = connect(metrics);
    send_health(&mut waiting);
    waiting.set_read_timeout(Some(limits::HELD_BACK)).unwrap();
    match waiting.read(&mut [0; 64]) {
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
        other => panic!("a 17th metrics connection was answered: {other:?}"),
    }
    // The API listener is not affected.
    assert_eq!(keep_alive_health(&mut connect(server.addr)), 200);
    drop(open.pop());
    assert_eq!(read_response(&mut waiting), 404);
}

/// Scrapers that pipeline `GET /metrics` and never read hold every one of
/// the metrics listener's 16 connections only until the send timeout: a
/// fresh scrape is still answered.
#[test]
fn scrapers_that_never_read_are_cut_off() {
    let exe = env!("CARGO_BIN_EXE_approov-proxy");
    let server = target(exe).start(&[
        ("METRICS_ADDR", "127.0.0.1:0"),
        ("SEND_TIMEOUT_SECONDS", "1"),
        ("MAX_REQUESTS_PER_CONNECTION", "1000000"),
        // As in `serve_limits::clients_that_never_read_are_cut_off`: a
        // connection that ends up idle rather than stalled is freed too.
        ("IDLE_TIMEOUT_SECONDS", "1"),
        ("HEADER_READ_TIMEOUT_SECONDS", "1"),
    ]);
    let metrics = server.metrics_addr();
    let _stalled: Vec<TcpStream> = (0..16)
        .map(|_| limits::stall(metrics, "/metrics"))
        .collect();
    let mut fresh = connect(metrics);
    write!(fresh, "GET /metrics HTTP/1.1\r\nHost: {metrics}\r\n\r\n").unwrap();
    assert_eq!(
        limits::wait_for_answer(&mut fresh, CLOSE_LIMIT).as_deref(),
        Some("200"),
        "no scrape answered while 16 scrapers that never read held the listener"
    );
}

/// The CPUs in a `Cpus_allowed_list` line of `/proc/.../status`
/// (`0-3,6`).
#[cfg(target_os = "linux")]
fn allowed_cpus(status: &str) -> Vec<usize> {
    let list = status
        .lines()
        .find_map(|line| line.strip_prefix("Cpus_allowed_list:"))
        .expect("Cpus_allowed_list")
        .trim();
    let mut cpus = Vec::new();
    for part in list.split(',') {
        let (first, last) = part.split_once('-').unwrap_or((part, part));
        cpus.extend(first.parse::<usize>().unwrap()..=last.parse::<usize>().unwrap());
    }
    cpus
}

/// The CPUs each worker thread of the proxy `pid` may run on, by worker.
#[cfg(target_os = "linux")]
fn worker_cpus(pid: u32) -> Vec<(String, Vec<usize>)> {
    let mut workers = Vec::new();
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).unwrap() {
        let task = task.unwrap().path();
        let name = std::fs::read_to_string(task.join("comm")).unwrap();
        let name = name.trim();
        if name
            .strip_prefix("approov-proxy-")
            .is_some_and(|i| i.parse::<usize>().is_ok())
        {
            let status = std::fs::read_to_string(task.join("status")).unwrap();
            workers.push((name.to_owned(), allowed_cpus(&status)));
        }
    }
    workers.sort();
    workers
}

/// The proxy started with `envs`, once each of its `workers` workers has
/// answered a request (so each has started and pinned itself).
#[cfg(target_os = "linux")]
fn started_workers(workers: usize, envs: &[(&str, &str)]) -> approov_conformance::process::Server {
    let exe = env!("CARGO_BIN_EXE_approov-proxy");
    let server = target(exe).start(envs);
    // Connections are handed to the workers in turn.
    let mut connections: Vec<TcpStream> = (0..workers).map(|_| connect(server.addr)).collect();
    for stream in &mut connections {
        assert_eq!(keep_alive_health(stream), 200);
    }
    server
}

/// With one worker per CPU the process may use, each worker is pinned to
/// a CPU of its own (`WORKER_CPU_AFFINITY=auto`, the default); with
/// another count, or `off`, none is.
#[cfg(target_os = "linux")]
#[test]
fn workers_are_pinned_one_per_cpu_when_they_match_the_cpus() {
    let ours = allowed_cpus(&std::fs::read_to_string("/proc/self/status").unwrap());
    let n = ours.len();
    let count = n.to_string();

    let server = started_workers(n, &[("WORKER_THREADS", &count)]);
    let pinned = worker_cpus(server.pid());
    assert_eq!(pinned.len(), n, "{pinned:?}");
    let mut cpus: Vec<usize> = pinned
        .iter()
        .map(|(name, cpus)| {
            assert_eq!(cpus.len(), 1, "{name} pinned to one CPU: {pinned:?}");
            cpus[0]
        })
        .collect();
    cpus.sort_unstable();
    assert_eq!(cpus, ours, "one worker on each CPU: {pinned:?}");
    let (_, stderr) = server.stop();
    assert!(stderr.contains("one worker pinned to each CPU"), "{stderr}");

    let more = (n + 1).to_string();
    let off = [
        ("WORKER_THREADS", count.as_str()),
        ("WORKER_CPU_AFFINITY", "off"),
    ];
    let one_more = [("WORKER_THREADS", more.as_str())];
    for (workers, envs) in [(n, &off[..]), (n + 1, &one_more[..])] {
        let server = started_workers(workers, envs);
        let free = worker_cpus(server.pid());
        assert_eq!(free.len(), workers, "{envs:?}: {free:?}");
        for (name, cpus) in &free {
            assert_eq!(cpus, &ours, "{envs:?}: {name} may run on every CPU");
        }
        let (_, stderr) = server.stop();
        assert!(stderr.contains("workers not pinned to CPUs"), "{stderr}");
    }
}
