//! Which request paths may be forwarded.
//!
//! The proxy appends the client's path to the upstream's base path, so a
//! path that an upstream reads as climbing out of that base (`..`) would
//! reach other parts of the third-party API with our key. Upstreams differ
//! in what they decode and normalise: Tomcat, Jetty and Spring drop `;`
//! path parameters (`..;` is `..`), some decode `%2f` into a separator or
//! decode twice, some read overlong UTF-8 (`%c0%ae`) as `.`. Rather than
//! guess which, a path is refused when any of these readings yields a dot
//! segment, or when it holds bytes that only such tricks need.
//!
//! The same readings choose the route: a path whose readings
//! ([`readings`]) select another route than the path as sent would reach
//! the upstream under one route's key and policy while the upstream
//! serves another's, so it is refused too.

use std::borrow::Cow;

use percent_encoding::percent_decode;

/// Why a path is refused. [`PathProblem::reason`] is the stable name in
/// the log line; [`PathProblem::message`] goes to the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PathProblem {
    /// Not an origin-form path (`*`, or empty as in `CONNECT host:port`).
    NotAbsolute,
    /// A `%` not followed by two hex digits: upstreams disagree on what it
    /// means (IIS even reads `%u002e` as `.`).
    BadEscape,
    /// `%2f` or `%5c`: a separator the upstream may or may not split on.
    EncodedSeparator,
    /// A NUL or other control character once decoded.
    ControlCharacter,
    /// Decoded bytes that are not UTF-8, including overlong forms.
    BadUtf8,
    /// A `.` or `..` segment once decoded and stripped of `;` parameters.
    DotSegment,
    /// Read as an upstream reads it ([`readings`]), the path selects
    /// another route than as sent (`/v1/%61dmin`, `/v1/admin;x=1`,
    /// `//v1/admin` beside a `/v1/admin` route).
    AmbiguousRoute,
}

impl PathProblem {
    /// For the log line.
    pub(crate) fn reason(self) -> &'static str {
        match self {
            Self::NotAbsolute => "path_not_absolute",
            Self::BadEscape => "path_bad_escape",
            Self::EncodedSeparator => "path_encoded_separator",
            Self::ControlCharacter => "path_control_character",
            Self::BadUtf8 => "path_bad_utf8",
            Self::DotSegment => "path_dot_segment",
            Self::AmbiguousRoute => "path_ambiguous_route",
        }
    }

    /// For the client: says what to change, nothing about the upstream.
    pub(crate) fn message(self) -> &'static str {
        match self {
            Self::NotAbsolute => "the path must start with /",
            Self::BadEscape => "every % in the path must start a %XX escape",
            Self::EncodedSeparator => "the path must not contain an encoded / or \\ (%2F, %5C)",
            Self::ControlCharacter => "the path must not contain control characters",
            Self::BadUtf8 => "the path must decode to valid UTF-8",
            Self::DotSegment => {
                "the path must not contain . or .. segments, in any encoding or with ;parameters"
            }
            Self::AmbiguousRoute => {
                "the path must reach the same route as written and once decoded, without \
                 ;parameters or empty segments"
            }
        }
    }
}

/// Checks a request path as received (still percent-encoded).
///
/// Refused: a path not starting with `/`; a `%` not starting a `%XX`
/// escape; `%2F` or `%5C`; a control character (`%00`, `%0A`, `%7F`,
/// U+0080 to U+009F); decoded bytes that are not valid UTF-8 (overlong
/// `%C0%AE`, `%E0%80%AE`, lone continuation bytes); and a segment (split
/// on `/` and `\`) that is `.` or `..` once decoded and cut at its first
/// `;`. The same separator, control and dot checks apply to the path
/// decoded a second time, for upstreams that decode twice (`%252e%252e`).
/// Empty segments, encoded spaces, `%25` and UTF-8 are fine.
///
/// Linear in the path's length: at most two decoding passes.
pub(crate) fn check(path: &str) -> Result<(), PathProblem> {
    if !path.starts_with('/') {
        return Err(PathProblem::NotAbsolute);
    }
    let raw = path.as_bytes();
    let once = decode_checked(raw, true)?;
    let text = std::str::from_utf8(&once).map_err(|_| PathProblem::BadUtf8)?;
    if text.chars().any(char::is_control) {
        return Err(PathProblem::ControlCharacter);
    }
    if has_dot_segment(&once) {
        return Err(PathProblem::DotSegment);
    }
    // A `%` left after one decoding came from `%25`: look again, as an
    // upstream that decodes twice would.
    if once.contains(&b'%') {
        let twice = decode_checked(&once, false)?;
        if has_dot_segment(&twice) {
            return Err(PathProblem::DotSegment);
        }
    }
    Ok(())
}

/// Decodes `bytes` after checking each escape: separators and control
/// bytes are refused; so are malformed escapes when `strict` (after one
/// decoding, `100%` is a legitimate leftover of `100%25`).
fn decode_checked(bytes: &[u8], strict: bool) -> Result<Cow<'_, [u8]>, PathProblem> {
    let mut at = 0;
    while let Some(offset) = bytes[at..].iter().position(|&b| b == b'%') {
        let start = at + offset;
        let escaped = bytes
            .get(start + 1..start + 3)
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .filter(|hex| hex.bytes().all(|b| b.is_ascii_hexdigit()))
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(b'/' | b'\\') => return Err(PathProblem::EncodedSeparator),
            Some(byte) if byte < 0x20 || byte == 0x7f => {
                return Err(PathProblem::ControlCharacter);
            }
            Some(_) => at = start + 3,
            None if strict => return Err(PathProblem::BadEscape),
            None => at = start + 1,
        }
    }
    Ok(percent_decode(bytes).into())
}

/// Whether a decoded path has a `.` or `..` segment, splitting on `/` and
/// `\` (Windows servers and some Java ones read both) and dropping each
/// segment's `;` parameters (as Tomcat, Jetty and Spring do).
fn has_dot_segment(decoded: &[u8]) -> bool {
    decoded.split(|&b| b == b'/' || b == b'\\').any(|segment| {
        let name = segment.split(|&b| b == b';').next().unwrap_or_default();
        name == b"." || name == b".."
    })
}

/// The other forms in which an upstream may read `path` (an origin-form
/// path, still percent-encoded), for choosing its route: decoded once,
/// and again when that left a `%` (from `%25`); each with `\` read as
/// `/`, every segment cut at its first `;` (Tomcat, Jetty and Spring drop
/// `;` parameters) and empty segments dropped (`//` merged).
///
/// Empty, without allocating, for a path with no `%`, `;`, `\` or `//`
/// (the common case), which every upstream reads as sent. Decoding takes
/// every escape, not only those of unreserved characters, so `%3B` counts
/// as `;` and an encoded UTF-8 name as the name. Linear in the path's
/// length; bytes that are not UTF-8 once decoded read as U+FFFD, which no
/// route prefix holds.
pub(crate) fn readings(path: &str) -> Vec<String> {
    if !path.starts_with('/') || !needs_reading(path.as_bytes()) {
        return Vec::new();
    }
    let once: Cow<'_, [u8]> = percent_decode(path.as_bytes()).into();
    let mut readings = vec![segments(&once)];
    if once.contains(&b'%') {
        let twice: Cow<'_, [u8]> = percent_decode(&once).into();
        readings.push(segments(&twice));
    }
    readings
}

/// Whether an upstream may read `path` other than as sent.
fn needs_reading(path: &[u8]) -> bool {
    path.iter().any(|b| matches!(b, b'%' | b';' | b'\\')) || path.windows(2).any(|w| w == b"//")
}

/// `/`-joined segments of `decoded`, split on `/` and `\`, each cut at its
/// first `;`, empty ones left out; `/` when none is left.
fn segments(decoded: &[u8]) -> String {
    let mut out = Vec::with_capacity(decoded.len() + 1);
    for segment in decoded.split(|&b| b == b'/' || b == b'\\') {
        let name = segment.split(|&b| b == b';').next().unwrap_or_default();
        if !name.is_empty() {
            out.push(b'/');
            out.extend_from_slice(name);
        }
    }
    if out.is_empty() {
        out.push(b'/');
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::PathProblem::*;
    use super::*;

    #[test]
    fn legitimate_paths_pass() {
        for good in [
            "/",
            "/a/b",
            "/a//b/",
            "/a%20b",
            "/100%25",
            "/100%2525",
            "/50%25off",
            "/caf%C3%A9",
            "/caf%c3%a9",
            "/café",
            "/日本",
            "/%E2%82%AC",
            "/a..b/c",
            "/.well-known/x",
            "/a/...",
            "/a/.../b",
            "/a;b=1/c",
            "/a/;x",
            "/;../x",
            "/.a/b.",
            "/a%2Bb",
            "/%252",
        ] {
            assert_eq!(check(good), Ok(()), "{good:?}");
        }
    }

    #[test]
    fn the_issue_examples_are_refused() {
        for (bad, why) in [
            ("/..;/admin", DotSegment),
            ("/%2e%2e;/admin", DotSegment),
            ("/..%00/admin", ControlCharacter),
            ("/%c0%ae%c0%ae/admin", BadUtf8),
            ("/a/..;/..;/admin", DotSegment),
        ] {
            assert_eq!(check(bad), Err(why), "{bad:?}");
        }
    }

    #[test]
    fn dot_segments_however_written() {
        for bad in [
            "/..",
            "/.",
            "/a/..",
            "/a/../b",
            "/a/./b",
            "/%2e%2e/x",
            "/%2E%2E/x",
            "/%2e/x",
            "/.%2e/x",
            "/%2E./x",
            "/a/..;x=1/b",
            "/a/.;/b",
            "/a/.;jsessionid=1",
            "/a/..%3b/b",
            "/a\\..\\b",
            "/a/..\\b",
            "/%252e%252e/x",
            "/%252E./x",
            "/a/..%253bx/b",
        ] {
            assert_eq!(check(bad), Err(DotSegment), "{bad:?}");
        }
    }

    #[test]
    fn encoded_separators() {
        for bad in [
            "/a%2fb", "/a%2Fb", "/a%5cb", "/a%5Cb", "/..%2f", "/a%252fb", "/a%255Cb",
        ] {
            assert_eq!(check(bad), Err(EncodedSeparator), "{bad:?}");
        }
    }

    #[test]
    fn control_characters() {
        for bad in [
            "/a%00", "/a%0a", "/a%0D%0A", "/a%09", "/a%1f", "/a%7f", "/a%C2%85", "/a%2500",
        ] {
            assert_eq!(check(bad), Err(ControlCharacter), "{bad:?}");
        }
    }

    #[test]
    fn invalid_and_overlong_utf8() {
        for bad in [
            "/%c0%af",
            "/%C0%AE",
            "/%e0%80%ae",
            "/%f0%80%80%ae",
            "/%80",
            "/%ff",
            "/caf%C3",
            "/%ed%a0%80",
        ] {
            assert_eq!(check(bad), Err(BadUtf8), "{bad:?}");
        }
    }

    #[test]
    fn malformed_escapes_and_odd_forms() {
        for bad in ["/a%", "/a%2", "/a%zz", "/%u002e%u002e/x", "/a%2g"] {
            assert_eq!(check(bad), Err(BadEscape), "{bad:?}");
        }
        for bad in ["", "*", "a/b", "example.com:443"] {
            assert_eq!(check(bad), Err(NotAbsolute), "{bad:?}");
        }
    }

    #[test]
    fn plain_paths_have_no_other_reading() {
        for plain in [
            "/",
            "/v1/admin/users",
            "/v1/admin/",
            "/a.b/c-d_e~f",
            "*",
            "",
        ] {
            assert!(readings(plain).is_empty(), "{plain:?}");
        }
    }

    #[test]
    fn readings_decode_drop_parameters_and_merge_separators() {
        for (path, expected) in [
            ("/v1/%61dmin/users", &["/v1/admin/users"][..]),
            ("/v1/ADM%49N", &["/v1/ADMIN"]),
            ("/v1/admin;x=1/users", &["/v1/admin/users"]),
            ("/v1/admin%3Bx=1/users", &["/v1/admin/users"]),
            ("//v1/admin/users", &["/v1/admin/users"]),
            ("/v1//admin//", &["/v1/admin"]),
            ("/;x/v1/admin", &["/v1/admin"]),
            ("/v1\\admin", &["/v1/admin"]),
            ("/caf%C3%A9", &["/caf\u{e9}"]),
            ("/v1/%2561dmin", &["/v1/%61dmin", "/v1/admin"]),
            ("//", &["/"]),
            ("/%ff", &["/\u{fffd}"]),
        ] {
            assert_eq!(readings(path), expected, "{path:?}");
        }
    }

    #[test]
    fn reasons_and_messages_are_distinct() {
        let all = [
            NotAbsolute,
            BadEscape,
            EncodedSeparator,
            ControlCharacter,
            BadUtf8,
            DotSegment,
            AmbiguousRoute,
        ];
        let reasons: std::collections::HashSet<_> = all.iter().map(|p| p.reason()).collect();
        let messages: std::collections::HashSet<_> = all.iter().map(|p| p.message()).collect();
        assert_eq!((reasons.len(), messages.len()), (all.len(), all.len()));
    }

    mod prop {
        use proptest::prelude::*;

        use super::super::check;

        /// Pieces that make dot segments, separators and escapes likely.
        fn piece() -> impl Strategy<Value = &'static str> {
            prop::sample::select(vec![
                "/", "\\", ".", "..", "%2e", "%2E", "%252e", "%25", "%2f", "%5c", ";", ";x=1", "a",
                "é", "%c3%a9", "%c0%ae", "%00", "%", "%3b", "%20", "2e", "%2",
            ])
        }

        fn path() -> impl Strategy<Value = String> {
            prop::collection::vec(piece(), 0..12).prop_map(|pieces| format!("/{}", pieces.concat()))
        }

        /// A reading of `bytes` as an upstream might: split on both
        /// separators, parameters dropped.
        fn dot_segment(bytes: &[u8]) -> bool {
            bytes
                .split(|&b| b == b'/' || b == b'\\')
                .map(|s| s.split(|&b| b == b';').next().unwrap_or_default())
                .any(|s| s == b"." || s == b"..")
        }

        proptest! {
            #[test]
            fn no_accepted_path_decodes_to_a_dot_segment(path in path()) {
                if check(&path).is_ok() {
                    let once: Vec<u8> = percent_encoding::percent_decode_str(&path).collect();
                    let twice: Vec<u8> = percent_encoding::percent_decode(&once).collect();
                    prop_assert!(!dot_segment(path.as_bytes()), "{path:?} raw");
                    prop_assert!(!dot_segment(&once), "{path:?} once");
                    prop_assert!(!dot_segment(&twice), "{path:?} twice");
                    let text = std::str::from_utf8(&once);
                    prop_assert!(text.is_ok(), "{path:?} not UTF-8");
                    prop_assert!(!text.unwrap_or_default().chars().any(char::is_control));
                    prop_assert_eq!(
                        once.iter().filter(|&&b| b == b'/' || b == b'\\').count(),
                        path.bytes().filter(|&b| b == b'/' || b == b'\\').count(),
                        "{:?} gained a separator", path
                    );
                }
            }

            #[test]
            fn any_text_is_checked_without_panic(path in "\\PC*") {
                let _ = check(&path);
                let _ = super::super::readings(&path);
            }

            #[test]
            fn readings_have_no_parameters_or_empty_segments(path in path()) {
                for reading in super::super::readings(&path) {
                    prop_assert!(reading.starts_with('/'), "{reading:?}");
                    prop_assert!(!reading.contains([';', '\\']), "{reading:?}");
                    prop_assert!(reading == "/" || !reading.contains("//"), "{reading:?}");
                }
            }
        }
    }
}
