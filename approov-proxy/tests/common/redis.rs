//! A real `redis-server` for the tests: started on a free loopback port,
//! waited for (bounded) until it answers `PING`, killed when dropped.
//! No persistence: a restarted server starts empty.

use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use super::{ChildGuard, LIMIT};

/// A running `redis-server`.
pub struct Redis {
    pub port: u16,
    child: Option<ChildGuard>,
}

impl Redis {
    /// Starts `redis-server` on a free port. Fails the test, naming the
    /// package, when it is not installed: CI installs it.
    pub fn start() -> Self {
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free port")
                .port();
            // Another process may take the port between the probe and the
            // start: then try another one.
            if let Some(child) = spawn(port) {
                return Self {
                    port,
                    child: Some(child),
                };
            }
        }
        panic!("redis-server did not start on any of 5 free ports");
    }

    /// `redis://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills the server (as a crash would) and waits for it to exit.
    pub fn stop(&mut self) {
        drop(self.child.take());
    }

    /// Freezes the server (SIGSTOP): connections stay open, nothing answers,
    /// as with a Redis stuck on a slow disk or a long command.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// Lets a paused server go on (SIGCONT).
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        let pid = self.child.as_ref().expect("redis is running").0.id();
        let status = Command::new("kill")
            .args([signal, &pid.to_string()])
            .status();
        assert!(
            status.as_ref().is_ok_and(|s| s.success()),
            "kill {signal} {pid}: {status:?}"
        );
    }

    /// Starts the server again on the same port, empty.
    pub fn restart(&mut self) {
        self.stop();
        self.child = Some(
            spawn(self.port)
                .unwrap_or_else(|| panic!("redis-server did not restart on {}", self.port)),
        );
    }

    /// A new connection for the test's own commands.
    pub fn connection(&self) -> redis::Connection {
        redis::Client::open(self.url())
            .unwrap()
            .get_connection_with_timeout(Duration::from_secs(10))
            .unwrap_or_else(|e| panic!("connect to redis on {}: {e}", self.port))
    }

    /// Runs one command and returns its answer.
    pub fn query<T: redis::FromRedisValue>(&self, args: &[&str]) -> T {
        let mut cmd = redis::cmd(args[0]);
        for arg in &args[1..] {
            cmd.arg(*arg);
        }
        cmd.query(&mut self.connection())
            .unwrap_or_else(|e| panic!("redis {args:?}: {e}"))
    }
}

/// Starts `redis-server` on `port` and waits (bounded) until it answers
/// `PING`; `None` when it exits first (the port was taken).
fn spawn(port: u16) -> Option<ChildGuard> {
    let mut cmd = Command::new("redis-server");
    cmd.args(["--port", &port.to_string()])
        .args(["--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let child = match cmd.spawn() {
        Ok(child) => ChildGuard(child),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
            "redis-server is not installed: these tests need a real Redis \
             (Debian/Ubuntu: apt-get install redis-server; .ci/run installs it)"
        ),
        Err(e) => panic!("cannot start redis-server: {e}"),
    };
    let mut child = child;
    let url = format!("redis://127.0.0.1:{port}");
    let client = redis::Client::open(url).unwrap();
    let deadline = Instant::now() + LIMIT;
    loop {
        if child.0.try_wait().ok().flatten().is_some() {
            return None;
        }
        let pong = client
            .get_connection_with_timeout(Duration::from_secs(1))
            .and_then(|mut c| redis::cmd("PING").query::<String>(&mut c));
        if pong.is_ok() {
            return Some(child);
        }
        assert!(
            Instant::now() < deadline,
            "redis-server on {port} did not answer PING within {LIMIT:?}"
        );
        // Polling a condition, bounded above.
        thread::sleep(Duration::from_millis(20));
    }
}
