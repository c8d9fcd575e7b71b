//! Quoting for the command lines the examples print for copy and paste.

/// Quotes `s` for a POSIX shell: left bare when it only has characters no
/// shell treats specially, otherwise wrapped in single quotes (inside
/// which nothing is special; a `'` is written `'\''`). A leading `=` or `%`
/// is quoted too: zsh and fish expand those at the start of a word.
///
/// ```
/// use approov_examples::shell_quote;
/// assert_eq!(shell_quote("http://127.0.0.1:8080/"), "http://127.0.0.1:8080/");
/// assert_eq!(shell_quote("Bearer it's"), r#"'Bearer it'\''s'"#);
/// assert_eq!(shell_quote("$(id)"), "'$(id)'");
/// assert_eq!(shell_quote("=ls"), "'=ls'");
/// assert_eq!(shell_quote(""), "''");
/// ```
pub fn shell_quote(s: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_.,:/@%+=".contains(c);
    if !s.is_empty() && !s.starts_with(['=', '%']) && s.chars().all(plain) {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}
