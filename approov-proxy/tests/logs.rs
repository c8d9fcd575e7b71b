//! `LOG_FORMAT=json`: the one line per request becomes one JSON object,
//! with the same fields and still no token, key or query.
#![allow(clippy::unwrap_used)]

mod common;

use common::upstream::{Upstream, get, start_proxy};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_have_one_object_per_request_without_secrets() {
    let upstream = Upstream::start();
    let proxy = start_proxy(&[
        ("UPSTREAM_URL", &upstream.url()),
        ("API_KEY", "json-log-key"),
        ("API_KEY_QUERY_PARAM", "api_key"),
        ("LOG_FORMAT", "json"),
    ]);
    let res = get(proxy.addr, "/items?q=private-query", Some("device-1"), &[]).await;
    assert_eq!(res.status, 200, "{res:?}");
    let lines = tokio::task::block_in_place(|| {
        proxy.stderr_until(|line| line.contains(r#""message":"request""#))
    });
    let line = lines.last().unwrap();
    let entry: serde_json::Value = serde_json::from_str(line).unwrap();
    assert_eq!(entry["target"], "approov_proxy", "{line}");
    assert_eq!(entry["level"], "INFO", "{line}");
    assert_eq!(entry["method"], "GET", "{line}");
    assert_eq!(entry["path"], "/items", "{line}");
    assert_eq!(entry["status"], 200, "{line}");
    assert_eq!(entry["route"], "default", "{line}");
    assert_eq!(entry["approov"], "verified", "{line}");
    assert_eq!(entry["device"].as_str().map(str::len), Some(12), "{line}");
    // Every line, start-up included, is JSON.
    for line in &lines {
        assert!(
            serde_json::from_str::<serde_json::Value>(line).is_ok(),
            "{line}"
        );
    }
    let (_, rest) = tokio::task::block_in_place(|| proxy.stop());
    for text in lines.iter().map(String::as_str).chain([rest.as_str()]) {
        assert!(!text.contains("json-log-key"), "{text}");
        assert!(!text.contains("private-query"), "{text}");
        assert!(!text.contains("device-1"), "{text}");
    }
}

#[test]
fn an_unknown_log_format_stops_start_up_naming_it() {
    let mut cmd = common::command(common::upstream::PROXY);
    cmd.env("APPROOV_BASE64_SECRET", common::SECRET)
        .env("LISTEN_ADDR", "127.0.0.1:0")
        .env("UPSTREAM_URL", "http://127.0.0.1:9")
        .env("API_KEY", "k")
        .env("API_KEY_HEADER", "X-Api-Key")
        .env("LOG_FORMAT", "yaml");
    let out = common::run(cmd);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert_eq!(out.stderr.lines().count(), 1, "{out:?}");
    assert!(
        out.stderr
            .starts_with("approov-proxy: LOG_FORMAT is not usable"),
        "{out:?}"
    );
    assert!(out.stdout.is_empty(), "{out:?}");
}
