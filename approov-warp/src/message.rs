//! What message signing needs of a request besides its method and headers:
//! the request target and, when the URI carries one, the authority.

use approov_core::signing::MessageParts;
use warp::Filter;
use warp::host::Authority;
use warp::http::header::HOST;
use warp::path::FullPath;

use approov_core::http::HttpHeaders;

/// The request target as received (`/path?query`, not decoded) and the
/// authority of the target URI, if it has one.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    path_and_query: String,
    authority: Option<Authority>,
}

/// Extracts the [`Target`]; never rejects.
///
/// warp shows filters neither the request's `Uri` nor its scheme, so the
/// target is put back together from `path::full` and `query::raw`, and the
/// authority comes from `host::optional`, which reads the URI (HTTP/2
/// `:authority`, absolute-form request lines) before the `Host` header.
pub(crate) fn target() -> impl Filter<Extract = (Target,), Error = std::convert::Infallible> + Clone
{
    // `query::raw` rejects a target without `?`; `host::optional` rejects a
    // malformed `Host` (or one that contradicts the URI): neither may turn
    // into a rejection here, the core decides what they mean.
    let query = warp::query::raw()
        .map(Some)
        .or(warp::any().map(|| None))
        .unify();
    let authority = warp::host::optional().or(warp::any().map(|| None)).unify();
    warp::path::full().and(query).and(authority).map(
        |path: FullPath, query: Option<String>, authority: Option<Authority>| {
            // An empty path is the core's to read as `/`.
            let path = path.as_str();
            let path_and_query = match query {
                Some(query) => format!("{path}?{query}"),
                None => path.to_owned(),
            };
            Target {
                path_and_query,
                authority,
            }
        },
    )
}

impl Target {
    /// The parts the core's `check_message` reads.
    ///
    /// The authority is given only when the request has no `Host` header:
    /// `host::optional` cannot say where its answer came from, and when a
    /// `Host` header is present the core reads it itself (refusing
    /// repeated ones). Without one, the authority can only come from the
    /// URI. The scheme is left to the core (`public_origin`, trusted
    /// forwarded headers, else `http`), as warp does not show it.
    pub(crate) fn parts<'a>(
        &'a self,
        method: &'a str,
        headers: &'a HttpHeaders<'a>,
    ) -> MessageParts<'a, HttpHeaders<'a>> {
        let authority = self
            .authority
            .as_ref()
            .filter(|_| !headers.0.contains_key(HOST))
            .map(Authority::as_str);
        MessageParts::new(method, &self.path_and_query, headers).with_authority(authority)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use warp::http::HeaderMap;

    async fn target_of(uri: &str, host: Option<&str>) -> Target {
        let mut req = warp::test::request().path(uri);
        if let Some(host) = host {
            req = req.header("host", host);
        }
        req.filter(&target()).await.expect("never rejects")
    }

    #[tokio::test]
    async fn the_target_keeps_the_raw_query_and_its_absence() {
        let t = target_of("/a%20b?x=1&y=%2F", None).await;
        assert_eq!(t.path_and_query, "/a%20b?x=1&y=%2F");
        let t = target_of("/a?", None).await;
        assert_eq!(t.path_and_query, "/a?");
        let t = target_of("/a", None).await;
        assert_eq!(t.path_and_query, "/a");
    }

    #[tokio::test]
    async fn the_authority_is_given_only_without_a_host_header() {
        let map = HeaderMap::new();
        let headers = HttpHeaders(&map);
        let t = target_of("http://api.example.com/a", None).await;
        let parts = t.parts("GET", &headers);
        assert_eq!(parts.authority(), Some("api.example.com"));
        assert_eq!(parts.path(), "/a");

        let mut map = HeaderMap::new();
        map.insert(HOST, "api.example.com".parse().expect("valid"));
        let headers = HttpHeaders(&map);
        let t = target_of("/a", Some("api.example.com")).await;
        assert_eq!(t.parts("GET", &headers).authority(), None);
    }

    #[tokio::test]
    async fn a_malformed_host_does_not_reject() {
        let t = target_of("/a", Some("bad host/")).await;
        assert_eq!(t.authority, None);
        assert_eq!(t.path_and_query, "/a");
    }
}
