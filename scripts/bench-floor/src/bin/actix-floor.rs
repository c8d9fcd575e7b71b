//! actix-web's floor as a gateway, for a side-by-side measurement: its
//! HTTP/1 server and awc's pooled client (one per worker), `/api`
//! stripped, the key header set, the answer's status, headers and body
//! passed back; no token check, rate limit, timeouts or header filtering.
//! The body is read whole before it is answered (the benchmark's is
//! empty). `THREADS` workers (default 2), actix's own per-core runtimes.
//!
//! Environment: `LISTEN_ADDR` (`127.0.0.1:port`), `UPSTREAM` (`host:port`),
//! `THREADS`. Prints `listening on <addr>`.

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Forward {
    client: awc::Client,
    upstream: String,
}

async fn forward(request: HttpRequest, state: web::Data<Forward>) -> HttpResponse {
    let rest = request.path().strip_prefix("/api").unwrap_or("/");
    let rest = if rest.is_empty() { "/" } else { rest };
    let url = format!("http://{}{rest}", state.upstream);
    let mut upstream = state.client.request_from(url, request.head());
    upstream = upstream.insert_header(("x-api-key", "bench-key"));
    match upstream.send().await {
        Ok(mut response) => {
            let mut answer = HttpResponse::build(response.status());
            for (name, value) in response.headers() {
                if name != "connection" && name != "content-length" {
                    answer.append_header((name.clone(), value.clone()));
                }
            }
            match response.body().await {
                Ok(body) => answer.body(body),
                Err(_) => HttpResponse::BadGateway().finish(),
            }
        }
        Err(_) => HttpResponse::BadGateway().finish(),
    }
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let listen = std::env::var("LISTEN_ADDR").unwrap_or_else(|_| "127.0.0.1:0".into());
    let upstream = std::env::var("UPSTREAM").expect("UPSTREAM=host:port");
    let threads: usize = std::env::var("THREADS")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(2);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(web::Data::new(Forward {
                client: awc::Client::default(),
                upstream: upstream.clone(),
            }))
            .default_service(web::to(forward))
    })
    .workers(threads)
    .bind(listen)?;
    for addr in server.addrs() {
        println!("listening on {addr}");
    }
    server.run().await
}
