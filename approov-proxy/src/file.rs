//! The routes file (`PROXY_CONFIG`): TOML, one `[[route]]` table per route.
//!
//! The file names the environment variable holding each key, never the key
//! itself, so it can live in version control.

use serde::Deserialize;

use super::ProxyConfigError;

/// The file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RoutesFile {
    #[serde(default, rename = "route")]
    pub(crate) routes: Vec<RouteEntry>,
    /// The Redis the per-device limit is shared through (`REDIS_URL`).
    pub(crate) redis_url: Option<String>,
}

/// One `[[route]]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RouteEntry {
    pub(crate) name: Option<String>,
    pub(crate) prefix: String,
    pub(crate) upstream: String,
    pub(crate) key_env: String,
    pub(crate) key_query_param: Option<String>,
    pub(crate) key_header: Option<String>,
    pub(crate) timeout_seconds: Option<u64>,
    pub(crate) client_body_timeout_seconds: Option<u64>,
    pub(crate) upstream_body_timeout_seconds: Option<u64>,
    pub(crate) rate_limit_per_device_per_minute: Option<u32>,
    pub(crate) allowed_methods: Option<Vec<String>>,
    pub(crate) forward_client_headers: Option<Vec<String>>,
}

/// Parses the file's text. Syntax errors give the line and column and
/// toml's message, never the offending line itself: someone may have
/// pasted a key into the file by mistake.
pub(crate) fn parse(path: &str, text: &str) -> Result<RoutesFile, ProxyConfigError> {
    let file: RoutesFile = toml::from_str(text).map_err(|e| {
        let at = e.span().map(|span| {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            format!("line {line}, column {column}: ")
        });
        ProxyConfigError::File {
            path: path.to_owned(),
            problem: format!("{}{}", at.unwrap_or_default(), e.message().trim_end()),
        }
    })?;
    if file.routes.is_empty() {
        return Err(ProxyConfigError::File {
            path: path.to_owned(),
            problem: "no [[route]] table; add one per upstream (see the example in \
                      examples/README.md)"
                .to_owned(),
        });
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn reads_routes() {
        let file = parse(
            "f.toml",
            r#"
            redis_url = "redis://127.0.0.1:6379"

            [[route]]
            name = "nasa"
            prefix = "/nasa"
            upstream = "https://api.nasa.gov"
            key_env = "NASA_API_KEY"
            key_query_param = "api_key"

            [[route]]
            prefix = "/weather"
            upstream = "https://api.example.com/v1"
            key_env = "WEATHER_KEY"
            key_header = "X-Api-Key"
            timeout_seconds = 5
            client_body_timeout_seconds = 7
            upstream_body_timeout_seconds = 9
            rate_limit_per_device_per_minute = 10
            allowed_methods = ["GET"]
            forward_client_headers = ["Authorization"]
            "#,
        )
        .unwrap();
        assert_eq!(file.redis_url.as_deref(), Some("redis://127.0.0.1:6379"));
        let routes = file.routes;
        assert_eq!(routes.len(), 2);
        assert_eq!(routes[0].name.as_deref(), Some("nasa"));
        assert_eq!(routes[1].key_header.as_deref(), Some("X-Api-Key"));
        assert_eq!(routes[1].timeout_seconds, Some(5));
        assert_eq!(routes[1].client_body_timeout_seconds, Some(7));
        assert_eq!(routes[1].upstream_body_timeout_seconds, Some(9));
        assert_eq!(routes[0].client_body_timeout_seconds, None);
        assert_eq!(routes[0].allowed_methods, None);
        assert_eq!(
            routes[1].allowed_methods.as_deref(),
            Some(&["GET".to_owned()][..])
        );
    }

    #[test]
    fn errors_give_position_and_never_the_line() {
        let text = "[[route]]\nprefix = \"/a\"\napi_key = \"SECRET-VALUE\"\n";
        let err = parse("f.toml", text).unwrap_err().to_string();
        assert!(
            err.starts_with("PROXY_CONFIG (f.toml): line 3, column 1: "),
            "{err}"
        );
        assert!(err.contains("unknown field `api_key`"), "{err}");
        assert!(!err.contains("SECRET-VALUE"), "{err}");

        let err = parse("f.toml", "[[route]\nprefix = 1")
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 1"), "{err}");

        let err = parse("f.toml", "# nothing\n").unwrap_err().to_string();
        assert!(err.contains("no [[route]] table"), "{err}");
    }
}
