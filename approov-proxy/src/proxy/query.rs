//! Setting the key's query parameter without disturbing the others.

/// The client's query with every parameter named like the key removed, then
/// `pair` (`name=value`, already encoded) appended.
///
/// The other parameters keep their exact bytes and order. A parameter counts
/// as the key's whatever its percent-encoding (`api%5Fkey`), `+`-for-space
/// or ASCII case (`API_KEY`), and whether it follows `&` or `;`: upstream
/// frameworks disagree on all of these, and a client must not be able to
/// slip its own key past the proxy in any of them.
pub(crate) fn with_key(client: Option<&str>, name: &str, pair: &str) -> String {
    let client = client.unwrap_or("");
    let mut out = String::with_capacity(client.len() + pair.len() + 1);
    let mut rest = client;
    while !rest.is_empty() {
        let end = rest.find(['&', ';']).unwrap_or(rest.len());
        let (segment, tail) = rest.split_at(end);
        // The separator that ended this segment, kept with it.
        let with_separator = &rest[..(end + 1).min(rest.len())];
        rest = tail.get(1..).unwrap_or("");
        if segment.is_empty() || names_match(segment, name) {
            continue;
        }
        out.push_str(with_separator);
        if with_separator.len() == segment.len() {
            out.push('&');
        }
    }
    out.push_str(pair);
    out
}

fn names_match(segment: &str, name: &str) -> bool {
    form_urlencoded::parse(segment.as_bytes())
        .next()
        .is_some_and(|(n, _)| n.trim().eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::with_key;

    const PAIR: &str = "api_key=K";

    #[test]
    fn appends_to_any_query() {
        assert_eq!(with_key(None, "api_key", PAIR), "api_key=K");
        assert_eq!(with_key(Some(""), "api_key", PAIR), "api_key=K");
        assert_eq!(
            with_key(Some("date=2024-01-01"), "api_key", PAIR),
            "date=2024-01-01&api_key=K"
        );
    }

    #[test]
    fn keeps_other_parameters_byte_for_byte_and_in_order() {
        assert_eq!(
            with_key(Some("b=2&a=%20x+y&flag&c=%C3%A9"), "api_key", PAIR),
            "b=2&a=%20x+y&flag&c=%C3%A9&api_key=K"
        );
        assert_eq!(
            with_key(Some("a=1;b=2"), "api_key", PAIR),
            "a=1;b=2&api_key=K"
        );
    }

    #[test]
    fn removes_every_client_key_however_written() {
        for query in [
            "api_key=evil",
            "api_key=evil&api_key=evil2",
            "API_KEY=evil",
            "api%5Fkey=evil",
            "api%5fkey",
            "api_key",
            "x=1;api_key=evil",
            "api_key=evil&&",
        ] {
            let out = with_key(Some(query), "api_key", PAIR);
            assert!(!out.contains("evil"), "{query:?} -> {out:?}");
            assert_eq!(out.matches("api_key").count(), 1, "{query:?} -> {out:?}");
        }
        assert_eq!(
            with_key(Some("a=1&api_key=evil&b=2&Api_Key=x"), "api_key", PAIR),
            "a=1&b=2&api_key=K"
        );
    }

    #[test]
    fn similar_names_stay() {
        assert_eq!(
            with_key(Some("api_key2=a&my_api_key=b"), "api_key", PAIR),
            "api_key2=a&my_api_key=b&api_key=K"
        );
    }
}
