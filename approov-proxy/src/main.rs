//! `approov-proxy`: verifies the Approov token of every request, then
//! forwards it with the third-party API key the app must never hold, or
//! answers forward-auth checks for a gateway in front of any backend. A
//! client without a genuine token gets `401` and never reaches the
//! upstream.
//!
//! ```text
//! APPROOV_BASE64_SECRET=... UPSTREAM_URL=https://api.nasa.gov \
//! API_KEY="$NASA_API_KEY" API_KEY_QUERY_PARAM=api_key approov-proxy
//! ```
//!
//! `approov-proxy --help` lists every setting, `approov-proxy check` checks
//! them as start-up does and prints a summary; the crate's README
//! describes them in full.

use std::process::ExitCode;

use approov_proxy::{Config, Invocation, Server};

// Every request allocates and frees a few dozen small buffers across two
// HTTP exchanges; mimalloc's thread-local free lists serve them faster
// than glibc's malloc (measured in BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

// This thread only accepts connections and waits for signals; the requests
// are served on `WORKER_THREADS` threads of their own (`serve`).
#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    // `--help`, `--version` and unknown arguments end here.
    let invocation = Invocation::from_args();
    // Everything is read and checked before the listeners are bound and
    // announced; each error prints `approov-proxy: <message>` and exits 2.
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => return e.exit(),
    };
    if invocation == Invocation::Check {
        return match Server::check(&config) {
            Ok(summary) => {
                println!("approov-proxy: the configuration is usable\n{summary}");
                ExitCode::SUCCESS
            }
            Err(e) => e.exit(),
        };
    }
    let server = match Server::start(config) {
        Ok(server) => server,
        Err(e) => return e.exit(),
    };
    match server.serve().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => e.exit(),
    }
}
