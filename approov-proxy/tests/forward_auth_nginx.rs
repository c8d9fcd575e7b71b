//! The forward-auth endpoint behind a real nginx (Debian's `nginx`
//! package; `.ci/run` installs it), configured with the nginx block of this
//! crate's README exactly as printed (read from the README, so the two
//! cannot drift), in front of a test upstream: a genuine request reaches the
//! upstream with its device id in `Approov-Claim-Did` and without its token;
//! a missing, forged or expired token gets `401 {}` as JSON and the upstream
//! is never called; an over-limit device gets a JSON `429` with nginx's
//! error log quiet; `/health` is open.
#![allow(clippy::unwrap_used)]

mod common;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::upstream::{PROXY, TestResponse, Upstream, full, send, start_proxy, token};
use common::{ChildGuard, LIMIT, Server};

/// Where Debian and source builds put nginx, then `PATH`: `/usr/sbin` is
/// not on a non-root user's `PATH`.
fn nginx_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("NGINX") {
        return PathBuf::from(path);
    }
    let path_dirs = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    [
        "/usr/sbin",
        "/usr/local/sbin",
        "/usr/local/nginx/sbin",
        "/usr/bin",
    ]
    .iter()
    .map(PathBuf::from)
    .chain(path_dirs)
    .map(|dir| dir.join("nginx"))
    .find(|p| p.is_file())
    .unwrap_or_else(|| {
        panic!(
            "nginx is not installed: this test runs a real nginx. Install it \
                 (apt-get install -y nginx; .ci/run does) or set NGINX to its path"
        )
    })
}

/// A free port on 127.0.0.1 (bound, then released for nginx to take).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A directory of its own, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let dir = std::env::temp_dir().join(format!(
            "approov-proxy-nginx-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// nginx in the foreground on a free loopback port, killed when dropped.
struct Nginx {
    addr: SocketAddr,
    // Dropped in order: the process, then its directory.
    _child: ChildGuard,
    dir: TempDir,
}

/// The nginx block of this crate's README, exactly as printed there.
fn readme_block() -> String {
    let readme = include_str!("../README.md");
    let opening = "### nginx\n\n```nginx\n";
    let start = readme
        .find(opening)
        .expect("README.md has a `### nginx` section opening with an nginx block");
    let block = &readme[start + opening.len()..];
    let block = &block[..block.find("```").expect("the nginx block ends")];
    block.to_owned()
}

/// A whole nginx configuration around the README's block, with every file
/// in `dir`: only the endpoint's address and the API's are replaced.
fn config(dir: &Path, port: u16, proxy: SocketAddr, upstream: SocketAddr) -> String {
    let block = readme_block();
    assert!(
        block.contains("127.0.0.1:8081") && block.contains("http://your-api;"),
        "the README's nginx block no longer names the addresses this test replaces:\n{block}"
    );
    let block = block
        .replace("127.0.0.1:8081", &proxy.to_string())
        .replace("http://your-api;", &format!("http://{upstream};"));
    let d = dir.display();
    format!(
        r#"
daemon off;
master_process off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log info;
events {{ worker_connections 64; }}
http {{
    access_log {d}/access.log;
    client_body_temp_path {d}/client_body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;

    server {{
        listen 127.0.0.1:{port};
{block}
    }}
}}
"#
    )
}

impl Nginx {
    fn start(proxy: SocketAddr, upstream: SocketAddr) -> Self {
        let binary = nginx_binary();
        let dir = TempDir::new();
        let port = free_port();
        let conf = dir.0.join("nginx.conf");
        std::fs::write(&conf, config(&dir.0, port, proxy, upstream)).unwrap();
        let child = Command::new(&binary)
            .arg("-p")
            .arg(&dir.0)
            .arg("-e")
            .arg(dir.0.join("error.log"))
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", binary.display()));
        let mut child = ChildGuard(child);
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        // Bounded wait for nginx to accept, failing early if it exits.
        let deadline = Instant::now() + LIMIT;
        loop {
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                break;
            }
            let log = || std::fs::read_to_string(dir.0.join("error.log")).unwrap_or_default();
            if let Ok(Some(status)) = child.0.try_wait() {
                panic!("nginx exited ({status}) before listening:\n{}", log());
            }
            assert!(
                Instant::now() < deadline,
                "nginx did not listen on {addr} within {LIMIT:?}:\n{}",
                log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Self {
            addr,
            _child: child,
            dir,
        }
    }

    fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.0.join("error.log")).unwrap_or_default()
    }
}

fn auth_proxy(extra: &[(&str, &str)]) -> Server {
    let mut envs = vec![("AUTH_ENDPOINT", "/approov/auth")];
    envs.extend_from_slice(extra);
    start_proxy(&envs)
}

async fn through(nginx: &Nginx, path: &str, headers: &[(&str, &str)]) -> TestResponse {
    send(nginx.addr, "GET", path, headers, full(Bytes::new())).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_genuine_token_reaches_the_upstream_with_its_device_id() {
    let upstream = Upstream::start();
    let proxy = auth_proxy(&[]);
    let nginx = tokio::task::block_in_place(|| Nginx::start(proxy.addr, upstream.addr));
    let t = token(Some("device-1"));
    // A client's own Approov-Claim-Did is replaced by the checked one.
    let headers = [
        ("Approov-Token", t.as_str()),
        ("Approov-Claim-Did", "spoofed"),
    ];
    let res = through(&nginx, "/api/orders?x=1", &headers).await;
    assert_eq!(res.status, 200, "{res:?}\n{}", nginx.error_log());
    assert_eq!(res.text(), r#"{"ok":true}"#);
    let seen = upstream.single();
    assert_eq!(seen.path, "/api/orders");
    assert_eq!(seen.query.as_deref(), Some("x=1"));
    assert_eq!(seen.header_values("approov-claim-did"), ["device-1"]);
    // The token stays at the gateway.
    assert!(seen.header_values("approov-token").is_empty(), "{seen:?}");

    // Without a `did`, the client's header does not get through either.
    let anonymous = token(None);
    let headers = [
        ("Approov-Token", anonymous.as_str()),
        ("Approov-Claim-Did", "spoofed"),
    ];
    let res = through(&nginx, "/api/other", &headers).await;
    assert_eq!(res.status, 200, "{res:?}");
    let recorded = upstream.recorded();
    assert_eq!(recorded.len(), 2);
    assert!(recorded[1].header_values("approov-claim-did").is_empty());

    let (_, stderr) = tokio::task::block_in_place(|| proxy.stop());
    assert!(stderr.contains("path=/approov/auth"), "{stderr}");
    assert!(
        !stderr.contains(&t) && !stderr.contains(&anonymous),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_forged_and_expired_tokens_never_reach_the_upstream() {
    let upstream = Upstream::start();
    let proxy = auth_proxy(&[]);
    let nginx = tokio::task::block_in_place(|| Nginx::start(proxy.addr, upstream.addr));
    let forged = common::forged_token();
    let expired = common::token_expiring_in(-3600);
    for (what, headers) in [
        ("missing", vec![]),
        ("forged", vec![("Approov-Token", forged.as_str())]),
        ("expired", vec![("Approov-Token", expired.as_str())]),
        ("garbage", vec![("Approov-Token", "not.a.token")]),
    ] {
        let res = through(&nginx, "/api/orders", &headers).await;
        assert_eq!(res.status, 401, "{what}: {res:?}\n{}", nginx.error_log());
        assert_json(&res, "{}");
        let challenges: Vec<_> = res.headers.get_all("www-authenticate").iter().collect();
        assert_eq!(challenges, ["Approov"], "{what}: {res:?}");
    }
    assert!(upstream.recorded().is_empty(), "{:?}", upstream.recorded());
    let (_, stderr) = tokio::task::block_in_place(|| proxy.stop());
    assert_eq!(
        stderr.matches("approov=\"rejected\"").count(),
        4,
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_the_rate_limit_nginx_answers_429_with_retry_after() {
    let upstream = Upstream::start();
    let proxy = auth_proxy(&[("RATE_LIMIT_PER_DEVICE_PER_MINUTE", "1")]);
    let nginx = tokio::task::block_in_place(|| Nginx::start(proxy.addr, upstream.addr));
    let t = token(Some("device-1"));
    let headers = [("Approov-Token", t.as_str())];
    let res = through(&nginx, "/api/a", &headers).await;
    assert_eq!(res.status, 200, "{res:?}");
    let res = through(&nginx, "/api/b", &headers).await;
    assert_eq!(res.status, 429, "{res:?}\n{}", nginx.error_log());
    let retry: u64 = res.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert_json(&res, r#"{"error":"rate_limited"}"#);
    assert_eq!(upstream.single().path, "/api/a");
    assert_quiet(&nginx);
}

/// With the shared limit's Redis down and `REDIS_UNAVAILABLE=refuse`, the
/// endpoint's `503` reaches the client as a JSON `503` with `Retry-After`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unavailable_limit_answers_503_with_retry_after() {
    let upstream = Upstream::start();
    let closed = format!("redis://127.0.0.1:{}/0", free_port());
    let proxy = auth_proxy(&[
        ("RATE_LIMIT_PER_DEVICE_PER_MINUTE", "10"),
        ("REDIS_URL", &closed),
        ("REDIS_UNAVAILABLE", "refuse"),
    ]);
    let nginx = tokio::task::block_in_place(|| Nginx::start(proxy.addr, upstream.addr));
    let t = token(Some("device-1"));
    let res = through(&nginx, "/api/a", &[("Approov-Token", t.as_str())]).await;
    assert_eq!(res.status, 503, "{res:?}\n{}", nginx.error_log());
    assert!(res.headers.contains_key("retry-after"), "{res:?}");
    assert_json(&res, r#"{"error":"unavailable"}"#);
    assert!(upstream.recorded().is_empty(), "{:?}", upstream.recorded());
    assert_quiet(&nginx);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_is_open_and_everything_else_is_not() {
    let upstream = Upstream::start();
    let proxy = auth_proxy(&[]);
    let nginx = tokio::task::block_in_place(|| Nginx::start(proxy.addr, upstream.addr));
    let res = through(&nginx, "/health", &[]).await;
    assert_eq!(res.status, 200, "{res:?}\n{}", nginx.error_log());
    assert_eq!(upstream.single().path, "/health");
    for path in ["/health/", "/healthz", "/health/x", "/"] {
        let res = through(&nginx, path, &[]).await;
        assert_eq!(res.status, 401, "{path}: {res:?}");
    }
    assert_eq!(upstream.recorded().len(), 1);
}

/// The answer is JSON: its content type, and exactly this body.
fn assert_json(res: &TestResponse, body: &str) {
    assert_eq!(
        res.headers.get("content-type").map(|v| v.to_str().unwrap()),
        Some("application/json"),
        "{res:?}"
    );
    assert_eq!(res.text(), body);
}

/// nginx logged no answer of the endpoint's as unexpected.
fn assert_quiet(nginx: &Nginx) {
    let log = nginx.error_log();
    assert!(!log.contains("auth request unexpected status"), "{log}");
}

/// A proxy with no usable key at all (`keys_unavailable`: a JWKS URL that
/// refuses every fetch, `APPROOV_JWKS_START_WITHOUT_KEYS=true`): the
/// endpoint's `503` reaches the client as a JSON `503` with `Retry-After`,
/// through the README's block, and nginx logs nothing unexpected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_key_at_all_answers_503_with_retry_after() {
    let upstream = Upstream::start();
    let url = approov_conformance::fixtures::refused_jwks_url();
    let envs = [
        ("AUTH_ENDPOINT", "/approov/auth"),
        ("APPROOV_JWKS_URL", url.as_str()),
        ("APPROOV_JWKS_START_WITHOUT_KEYS", "true"),
    ];
    let proxy = tokio::task::block_in_place(|| Server::start_graceful(PROXY, &envs));
    let nginx = tokio::task::block_in_place(|| Nginx::start(proxy.addr, upstream.addr));
    let t = token(Some("device-1"));
    let res = through(&nginx, "/api/a", &[("Approov-Token", t.as_str())]).await;
    assert_eq!(res.status, 503, "{res:?}\n{}", nginx.error_log());
    assert_eq!(res.headers["retry-after"], "10", "{res:?}");
    assert_json(&res, r#"{"error":"unavailable"}"#);
    assert!(upstream.recorded().is_empty(), "{:?}", upstream.recorded());
    assert_quiet(&nginx);
}
