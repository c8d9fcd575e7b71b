//! The example servers are read top-down by teams copying them: the Approov
//! part (verifier, layer or middleware or filters, handlers) comes first,
//! serving with limits, metrics and configuration after a divider.

const DIVIDER: &str =
    "// ---------------------------------------------------------------------------";

/// The 1-based number of the first line containing `needle`.
fn line_of(source: &str, needle: &str) -> Option<usize> {
    source
        .lines()
        .position(|line| line.contains(needle))
        .map(|i| i + 1)
}

#[test]
fn each_server_shows_the_approov_part_first() {
    for (name, source) in [
        ("axum-hello", include_str!("../src/bin/axum-hello.rs")),
        ("actix-hello", include_str!("../src/bin/actix-hello.rs")),
        ("warp-hello", include_str!("../src/bin/warp-hello.rs")),
    ] {
        let api = line_of(source, "fn api(").unwrap_or_else(|| panic!("{name}: no fn api"));
        let hello = line_of(source, "fn hello(").unwrap_or_else(|| panic!("{name}: no fn hello"));
        let divider = line_of(source, DIVIDER).unwrap_or_else(|| panic!("{name}: no divider"));
        let main = line_of(source, "fn main(").unwrap_or_else(|| panic!("{name}: no fn main"));
        assert!(
            hello <= 120,
            "{name}: the handler is at line {hello}, past line 120"
        );
        assert!(
            api < hello && hello < divider && divider < main,
            "{name}: expected api ({api}) < handler ({hello}) < divider ({divider}) < main ({main})"
        );
        // Nothing Approov-specific is built below the divider but the one
        // development-mode line and the call of `api`.
        let serving = &source[source.find(DIVIDER).unwrap_or_default()..];
        for word in ["VerifierBuilder::", "TokenBinding::", "MessageSigning::"] {
            assert!(!serving.contains(word), "{name}: {word} below the divider");
        }
    }
}
