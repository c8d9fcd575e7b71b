//! The forward-auth endpoint behind a real nginx (Debian's `nginx`
//! package; `.ci/run` installs it), configured as the README shows, in
//! front of a test upstream: a genuine token reaches the upstream with its
//! device id in `Approov-Claim-Did`; a missing, forged or expired one gets
//! nginx's `401` and the upstream is never called.
#![allow(clippy::unwrap_used)]

mod common;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::upstream::{TestResponse, Upstream, full, send, start_proxy, token};
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

/// The README's nginx configuration, with every file in `dir`.
fn config(dir: &Path, port: u16, proxy: SocketAddr, upstream: SocketAddr) -> String {
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

        location = /approov-auth {{
            internal;
            proxy_pass http://{proxy}/approov/auth;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header X-Original-Method $request_method;
            proxy_set_header X-Original-URI $request_uri;
            proxy_set_header X-Forwarded-Host $host;
            proxy_set_header X-Forwarded-Proto $scheme;
        }}

        location / {{
            auth_request /approov-auth;
            auth_request_set $approov_did $upstream_http_approov_claim_did;
            auth_request_set $approov_retry_after $upstream_http_retry_after;
            error_page 500 = @approov_error;
            proxy_set_header Approov-Claim-Did $approov_did;
            proxy_pass http://{upstream};
        }}

        location @approov_error {{
            if ($approov_retry_after) {{
                add_header Retry-After $approov_retry_after always;
                return 429 '{{"error":"rate_limited"}}';
            }}
            return 500;
        }}
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
    assert_eq!(upstream.single().path, "/api/a");
}
