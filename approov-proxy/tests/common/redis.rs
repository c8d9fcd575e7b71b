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

/// A fresh directory under the target's test directory for one server's
/// files (certificates, cluster state).
fn scratch_dir(name: &str) -> std::path::PathBuf {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "{name}-{}-{:?}",
        std::process::id(),
        Instant::now()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A free loopback port.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// Runs `redis-cli` with `args` and returns what it printed (its answers
/// in raw form, one line each).
fn cli(args: &[&str]) -> Option<String> {
    let out = Command::new("redis-cli")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Starts `redis-server` with `args` and waits (bounded) until
/// `redis-cli <probe> PING` answers; `None` when it exits first.
fn spawn_waiting(args: &[String], probe: &[String]) -> Option<ChildGuard> {
    let mut cmd = Command::new("redis-server");
    cmd.args(args)
        .args(["--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = ChildGuard(cmd.spawn().expect("redis-server starts"));
    let mut ping: Vec<&str> = probe.iter().map(String::as_str).collect();
    ping.push("PING");
    let deadline = Instant::now() + LIMIT;
    loop {
        if child.0.try_wait().ok().flatten().is_some() {
            return None;
        }
        if cli(&ping).is_some_and(|out| out == "PONG") {
            return Some(child);
        }
        assert!(
            Instant::now() < deadline,
            "redis-server {args:?} did not answer PING within {LIMIT:?}"
        );
        // Polling a condition, bounded above.
        thread::sleep(Duration::from_millis(20));
    }
}

/// A test CA, a certificate it issued for `127.0.0.1` and `localhost`,
/// and a client certificate it issued, written as PEM files.
pub struct Certificates {
    pub ca: String,
    pub cert: String,
    pub key: String,
    pub client_cert: String,
    pub client_key: String,
}

impl Certificates {
    pub fn make(dir: &std::path::Path) -> Self {
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "approov-proxy test CA");
        let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let params =
            rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
                .unwrap();
        let cert = params.signed_by(&key, &ca).unwrap();
        let client_key = rcgen::KeyPair::generate().unwrap();
        let client = rcgen::CertificateParams::new(vec!["approov-proxy".to_owned()])
            .unwrap()
            .signed_by(&client_key, &ca)
            .unwrap();
        let write = |name: &str, pem: String| {
            let path = dir.join(name);
            std::fs::write(&path, pem).unwrap();
            path.to_str().unwrap().to_owned()
        };
        Self {
            ca: write("ca.pem", ca.pem()),
            cert: write("redis.pem", cert.pem()),
            key: write("redis.key", key.serialize_pem()),
            client_cert: write("client.pem", client.pem()),
            client_key: write("client.key", client_key.serialize_pem()),
        }
    }
}

/// A `redis-server` answering only TLS, with a certificate from a test CA.
pub struct TlsRedis {
    pub port: u16,
    pub certificates: Certificates,
    child: Option<ChildGuard>,
}

impl TlsRedis {
    /// With `--tls-auth-clients no`: no client certificate asked for.
    pub fn start() -> Self {
        Self::start_with("no")
    }

    /// With `--tls-auth-clients yes` (redis-server's default): a client
    /// must show a certificate from the test CA.
    pub fn start_requiring_client_certificates() -> Self {
        Self::start_with("yes")
    }

    fn start_with(auth_clients: &str) -> Self {
        let certificates = Certificates::make(&scratch_dir("redis-tls"));
        for _ in 0..5 {
            let port = free_port();
            let args: Vec<String> = [
                "--port",
                "0",
                "--tls-port",
                &port.to_string(),
                "--tls-cert-file",
                &certificates.cert,
                "--tls-key-file",
                &certificates.key,
                "--tls-ca-cert-file",
                &certificates.ca,
                "--tls-auth-clients",
                auth_clients,
            ]
            .map(str::to_owned)
            .into();
            let probe = tls_cli(port, &certificates);
            if let Some(child) = spawn_waiting(&args, &probe) {
                return Self {
                    port,
                    certificates,
                    child: Some(child),
                };
            }
        }
        panic!("redis-server with TLS did not start on any of 5 free ports");
    }

    /// `rediss://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("rediss://127.0.0.1:{}", self.port)
    }

    /// Kills the server (as a crash would).
    pub fn stop(&mut self) {
        drop(self.child.take());
    }

    /// Runs one command through `redis-cli --tls` and returns its answer.
    pub fn query(&self, args: &[&str]) -> String {
        let mut all = tls_cli(self.port, &self.certificates);
        all.extend(args.iter().map(|a| (*a).to_owned()));
        let all: Vec<&str> = all.iter().map(String::as_str).collect();
        cli(&all).unwrap_or_else(|| panic!("redis-cli {args:?} failed"))
    }
}

/// `redis-cli` over TLS, with the client certificate (which a server
/// that asks for none ignores).
fn tls_cli(port: u16, certificates: &Certificates) -> Vec<String> {
    [
        "-h",
        "127.0.0.1",
        "-p",
        &port.to_string(),
        "--tls",
        "--cacert",
        &certificates.ca,
        "--cert",
        &certificates.client_cert,
        "--key",
        &certificates.client_key,
    ]
    .map(str::to_owned)
    .into()
}

/// Three `redis-server --cluster-enabled yes` nodes on free loopback
/// ports, joined by `redis-cli --cluster create` with no replicas, each
/// killed when dropped; plain, or TLS only (clients and the cluster bus).
pub struct Cluster {
    pub ports: Vec<u16>,
    nodes: Vec<Option<ChildGuard>>,
    /// `--tls --cacert <ca>` for `redis-cli` on a TLS cluster.
    tls: Vec<String>,
    /// The test CA and the nodes' certificate, on a TLS cluster.
    pub certificates: Option<Certificates>,
}

impl Cluster {
    pub fn start() -> Self {
        Self::start_with(false)
    }

    /// The nodes answer TLS only, with a certificate from a test CA.
    pub fn start_tls() -> Self {
        Self::start_with(true)
    }

    fn start_with(tls: bool) -> Self {
        let dir = scratch_dir("redis-cluster");
        let certificates = tls.then(|| Certificates::make(&dir));
        let tls_cli: Vec<String> = match &certificates {
            Some(c) => [
                "--tls",
                "--cacert",
                &c.ca,
                "--cert",
                &c.client_cert,
                "--key",
                &c.client_key,
            ]
            .map(str::to_owned)
            .into(),
            None => Vec::new(),
        };
        let mut ports = Vec::new();
        let mut nodes = Vec::new();
        while nodes.len() < 3 {
            assert!(ports.len() < 15, "no free ports for three cluster nodes");
            let port = free_port();
            ports.push(port);
            let config = dir.join(format!("nodes-{port}.conf"));
            let mut args: Vec<String> = [
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                config.to_str().unwrap(),
                "--dir",
                dir.to_str().unwrap(),
            ]
            .map(str::to_owned)
            .into();
            match &certificates {
                None => args.extend(["--port".to_owned(), port.to_string()]),
                Some(c) => args.extend(
                    [
                        "--port",
                        "0",
                        "--tls-port",
                        &port.to_string(),
                        "--tls-cluster",
                        "yes",
                        "--tls-cert-file",
                        &c.cert,
                        "--tls-key-file",
                        &c.key,
                        "--tls-ca-cert-file",
                        &c.ca,
                        // redis-server's default: clients show a
                        // certificate from the CA.
                        "--tls-auth-clients",
                        "yes",
                    ]
                    .map(str::to_owned),
                ),
            }
            let mut probe: Vec<String> = ["-h", "127.0.0.1", "-p", &port.to_string()]
                .map(str::to_owned)
                .into();
            probe.extend(tls_cli.iter().cloned());
            match spawn_waiting(&args, &probe) {
                Some(child) => nodes.push(Some(child)),
                None => {
                    ports.pop();
                }
            }
        }
        let addrs: Vec<String> = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
        let mut create: Vec<&str> = tls_cli.iter().map(String::as_str).collect();
        create.extend(["--cluster", "create"]);
        create.extend(addrs.iter().map(String::as_str));
        create.extend(["--cluster-replicas", "0", "--cluster-yes"]);
        assert!(cli(&create).is_some(), "redis-cli --cluster create failed");
        let cluster = Self {
            ports,
            nodes,
            tls: tls_cli,
            certificates,
        };
        // Every node must see every slot served before the test starts.
        let deadline = Instant::now() + LIMIT;
        for i in 0..3 {
            while !cluster
                .query(i, &["CLUSTER", "INFO"])
                .contains("cluster_state:ok")
            {
                assert!(
                    Instant::now() < deadline,
                    "the cluster did not reach cluster_state:ok within {LIMIT:?}"
                );
                // Polling a condition, bounded above.
                thread::sleep(Duration::from_millis(20));
            }
        }
        cluster
    }

    /// `redis://127.0.0.1:A,redis://127.0.0.1:B,redis://127.0.0.1:C`
    /// (`rediss://` on a TLS cluster).
    pub fn urls(&self) -> String {
        let scheme = if self.tls.is_empty() {
            "redis"
        } else {
            "rediss"
        };
        self.ports
            .iter()
            .map(|p| format!("{scheme}://127.0.0.1:{p}"))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Kills node `i` (as a crash would).
    pub fn stop(&mut self, i: usize) {
        drop(self.nodes[i].take());
    }

    /// Runs one command on node `i` and returns its answer.
    pub fn query(&self, i: usize, args: &[&str]) -> String {
        let port = self.ports[i].to_string();
        let mut all = vec!["-h", "127.0.0.1", "-p", &port];
        all.extend(self.tls.iter().map(String::as_str));
        all.extend_from_slice(args);
        cli(&all).unwrap_or_else(|| panic!("redis-cli on node {i} {args:?} failed"))
    }

    /// The number of keys each node holds (`0` for a stopped node).
    pub fn key_counts(&self) -> Vec<u64> {
        (0..self.ports.len())
            .map(|i| match self.nodes[i] {
                Some(_) => self.query(i, &["DBSIZE"]).parse().unwrap(),
                None => 0,
            })
            .collect()
    }

    /// The number of Lua scripts node `i` holds (`number_of_cached_scripts`
    /// in `INFO memory`).
    pub fn cached_scripts(&self, i: usize) -> u64 {
        let info = self.query(i, &["INFO", "memory"]);
        info.lines()
            .find_map(|l| l.strip_prefix("number_of_cached_scripts:"))
            .unwrap_or_else(|| panic!("no number_of_cached_scripts in {info}"))
            .trim()
            .parse()
            .unwrap()
    }

    /// The keys node `i` holds.
    pub fn keys(&self, i: usize) -> Vec<String> {
        self.query(i, &["KEYS", "*"])
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// The hash slot of `key` (`CLUSTER KEYSLOT`, asked of node `i`).
    pub fn slot_of(&self, i: usize, key: &str) -> u16 {
        self.query(i, &["CLUSTER", "KEYSLOT", key]).parse().unwrap()
    }

    /// The runs of hash slots node `i` holds, from its own line of
    /// `CLUSTER NODES` (`0-5460`, or a single slot).
    pub fn slot_runs(&self, i: usize) -> Vec<(u16, u16)> {
        let nodes = self.query(i, &["CLUSTER", "NODES"]);
        let line = nodes
            .lines()
            .find(|l| l.contains("myself"))
            .unwrap_or_else(|| panic!("no myself line in {nodes}"));
        line.split_whitespace()
            .skip(8)
            .filter(|field| !field.starts_with('['))
            .map(|run| match run.split_once('-') {
                Some((a, b)) => (a.parse().unwrap(), b.parse().unwrap()),
                None => (run.parse().unwrap(), run.parse().unwrap()),
            })
            .collect()
    }

    /// Whether node `i` is running.
    pub fn is_running(&self, i: usize) -> bool {
        self.nodes[i].is_some()
    }
}
