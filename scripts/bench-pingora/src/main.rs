//! approov-proxy's per-request work on pingora's proxy framework, for a
//! side-by-side measurement: the Approov token checked (the same
//! `approov-core` verifier with its cache), `401` without a good one, the
//! token header removed, the key header set, `/api` stripped, upstream
//! connections kept alive. One single-threaded runtime per thread
//! (`work_stealing: false`), as approov-proxy's workers; `THREADS` of them
//! (default 2).
//!
//! Environment: `LISTEN_ADDR` (`127.0.0.1:port`), `UPSTREAM` (`host:port`),
//! `APPROOV_BASE64_SECRET`, `THREADS`. Prints `listening on <addr>`.

use async_trait::async_trait;
use pingora::prelude::*;
use pingora::server::configuration::ServerConf;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Gateway {
    upstream: String,
    verifier: approov_core::Verifier,
}

#[async_trait]
impl ProxyHttp for Gateway {
    type CTX = ();

    fn new_ctx(&self) {}

    async fn request_filter(&self, session: &mut Session, _: &mut ()) -> Result<bool> {
        let genuine = session
            .req_header()
            .headers
            .get("approov-token")
            .is_some_and(|token| self.verifier.verify(token.as_bytes()).is_ok());
        if !genuine {
            session.respond_error(401).await?;
        }
        Ok(!genuine)
    }

    async fn upstream_peer(&self, _: &mut Session, _: &mut ()) -> Result<Box<HttpPeer>> {
        Ok(Box::new(HttpPeer::new(
            self.upstream.as_str(),
            false,
            String::new(),
        )))
    }

    async fn upstream_request_filter(
        &self,
        _: &mut Session,
        request: &mut RequestHeader,
        _: &mut (),
    ) -> Result<()> {
        request.remove_header("approov-token");
        request.insert_header("x-api-key", "bench-key")?;
        let rest = request.uri.path().strip_prefix("/api").unwrap_or("/");
        let rest = if rest.is_empty() { "/" } else { rest };
        if let Ok(uri) = rest.parse() {
            request.set_uri(uri);
        }
        Ok(())
    }
}

fn main() {
    let var = |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set"));
    let listen = var("LISTEN_ADDR");
    let verifier = approov_core::Verifier::builder()
        .secret_base64(&var("APPROOV_BASE64_SECRET"))
        .build()
        .expect("a usable APPROOV_BASE64_SECRET");
    let mut conf = ServerConf::default();
    conf.threads = std::env::var("THREADS")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(2);
    conf.work_stealing = false;
    conf.upstream_keepalive_pool_size = 128;
    let mut server = Server::new_with_opt_and_conf(None, conf);
    server.bootstrap();
    let gateway = Gateway {
        upstream: var("UPSTREAM"),
        verifier,
    };
    let mut proxy = http_proxy_service(&server.configuration, gateway);
    proxy.add_tcp(&listen);
    server.add_service(proxy);
    println!("listening on {listen}");
    server.run_forever();
}
