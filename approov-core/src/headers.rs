//! How the core reads a request's headers without knowing any HTTP crate.

use crate::error::ConfigError;

/// Read access to a request's headers, implemented by each framework adapter
/// (actix-web is on `http` 0.2, the others on `http` 1; the core needs
/// neither).
///
/// Implementations must return **every** value of the header, in the order
/// they appear, so that repeated headers can be refused. Header names are
/// compared ASCII case-insensitively.
///
/// Implemented here for slices, arrays and vectors of `(name, value)` pairs,
/// which is handy in tests:
///
/// ```
/// use approov_core::RequestHeaders;
///
/// let headers = [("Approov-Token", "abc"), ("authorization", "Bearer x")];
/// let values: Vec<&[u8]> = headers.header_values("Authorization").collect();
/// assert_eq!(values, [b"Bearer x".as_slice()]);
/// ```
pub trait RequestHeaders {
    /// Every value of the header `name`, in order of appearance.
    fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a;
}

impl<K: AsRef<str>, V: AsRef<[u8]>> RequestHeaders for [(K, V)] {
    fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.iter()
            .filter(move |(k, _)| k.as_ref().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_ref())
    }
}

impl<K: AsRef<str>, V: AsRef<[u8]>, const N: usize> RequestHeaders for [(K, V); N] {
    fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.as_slice().header_values(name)
    }
}

impl<K: AsRef<str>, V: AsRef<[u8]>> RequestHeaders for Vec<(K, V)> {
    fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.as_slice().header_values(name)
    }
}

impl<T: RequestHeaders + ?Sized> RequestHeaders for &T {
    fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        (**self).header_values(name)
    }
}

/// The one value of header `name`: `Ok(None)` when absent, `Err(())` when it
/// appears more than once.
pub(crate) fn single<'a, H: RequestHeaders + ?Sized>(
    headers: &'a H,
    name: &'a str,
) -> Result<Option<&'a [u8]>, ()> {
    let mut values = headers.header_values(name);
    let first = values.next();
    if values.next().is_some() {
        return Err(());
    }
    Ok(first)
}

/// A header name must be an RFC 9110 token, or no request could match it.
pub(crate) fn check_header_name(name: &str, source: &str) -> Result<(), ConfigError> {
    if !name.is_empty() && name.bytes().all(is_tchar) {
        Ok(())
    } else {
        Err(ConfigError::invalid(
            source,
            format!("{name:?} is not a valid HTTP header name"),
        ))
    }
}

/// An RFC 9110 `tchar`, a byte of a header name or an authentication scheme.
pub(crate) fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}
