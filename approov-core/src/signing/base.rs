//! The signature base (RFC 9421 §2.5): one line per covered component,
//! `"<identifier>": <value>`, then `"@signature-params": <inner list>`,
//! joined by `\n` with no trailing newline.

use std::collections::{HashMap, HashSet};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use sfv::{Dictionary, List, ListSerializer, Parser, Version};

use crate::headers::RequestHeaders;

use super::component::structured_type;
use super::component::{Component, Derived, FieldForm, IdentifierProblem, StructuredType};
use super::fields::{SignatureInput, serialize_item};
use super::message::MessageParts;
use super::origin::{AuthorityProblem, Origin};
use super::problem::{ComponentName, SignatureProblem};

/// The WHATWG application/x-www-form-urlencoded percent-encode set: all
/// but ASCII alphanumerics and `*-._` (RFC 9421 §2.2.8).
const FORM: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'*')
    .remove(b'-')
    .remove(b'.')
    .remove(b'_');

/// Why no signature base could be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BaseError {
    /// A component or parameter this verifier does not implement.
    Unsupported(ComponentName),
    /// The signature is not valid for this request.
    Invalid(SignatureProblem),
}

/// Builds the signature base of `input` over this request. `origin` is the
/// request's origin, or the fallback origin and why no authority was found.
///
/// Linear in the input: duplicates are found with a set, the query is
/// parsed once (on the first `@query-param`), and each structured field is
/// parsed once however many `;key`/`;sf` components name it. The caller
/// has already bounded the number of components.
pub(crate) fn build<'i, H: RequestHeaders + ?Sized>(
    parts: &MessageParts<'_, H>,
    origin: &Result<Origin, (Origin, AuthorityProblem)>,
    input: &'i SignatureInput,
) -> Result<Vec<u8>, BaseError> {
    let mut base = Vec::with_capacity(256);
    let mut seen: HashSet<String> = HashSet::with_capacity(input.components.len());
    let mut query: Option<QueryParams> = None;
    let mut structured: HashMap<&'i str, Result<Structured, FieldProblem>> = HashMap::new();
    for item in &input.components {
        let id = serialize_item(item);
        let name = || ComponentName::new(&id);
        if seen.contains(&id) {
            return Err(BaseError::Invalid(SignatureProblem::DuplicateComponent(
                name(),
            )));
        }
        let component = Component::parse(item).map_err(|p| match p {
            IdentifierProblem::Malformed => BaseError::Invalid(SignatureProblem::MalformedInput),
            IdentifierProblem::Unsupported => BaseError::Unsupported(name()),
        })?;
        let absent = || BaseError::Invalid(SignatureProblem::ComponentAbsent(name()));
        let unusable = || BaseError::Invalid(SignatureProblem::ComponentValue(name()));
        match component {
            Component::Derived(Derived::QueryParam(wanted)) => {
                let params = query.get_or_insert_with(|| QueryParams::parse(parts.query()));
                let values = params.0.get(&wanted).ok_or_else(absent)?;
                for value in values {
                    line(&mut base, &id, value.as_bytes());
                }
            }
            Component::Derived(derived) => {
                let value = derive(parts, origin, &derived).map_err(|p| match p {
                    AuthorityProblem::Absent => absent(),
                    AuthorityProblem::Repeated => unusable(),
                })?;
                line(&mut base, &id, value.as_bytes());
            }
            Component::Field(field, form) => {
                let value = field_value(parts.headers(), field, &form, &mut structured).map_err(
                    |p| match p {
                        FieldProblem::Absent => absent(),
                        FieldProblem::Unusable => unusable(),
                        FieldProblem::Unsupported => BaseError::Unsupported(name()),
                    },
                )?;
                line(&mut base, &id, &value);
            }
        }
        seen.insert(id);
    }
    base.extend_from_slice(b"\"@signature-params\": ");
    base.extend_from_slice(input.serialized.as_bytes());
    Ok(base)
}

/// The query's parameters by name, both re-encoded as RFC 9421 §2.2.8
/// says, values in the order they appear.
struct QueryParams(HashMap<String, Vec<String>>);

impl QueryParams {
    fn parse(query: Option<&str>) -> Self {
        let mut map: HashMap<String, Vec<String>> = HashMap::new();
        for (key, value) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
            map.entry(utf8_percent_encode(&key, FORM).to_string())
                .or_default()
                .push(utf8_percent_encode(&value, FORM).to_string());
        }
        Self(map)
    }
}

fn line(base: &mut Vec<u8>, id: &str, value: &[u8]) {
    base.extend_from_slice(id.as_bytes());
    base.extend_from_slice(b": ");
    base.extend_from_slice(value);
    base.push(b'\n');
}

fn derive<H: RequestHeaders + ?Sized>(
    parts: &MessageParts<'_, H>,
    origin: &Result<Origin, (Origin, AuthorityProblem)>,
    derived: &Derived,
) -> Result<String, AuthorityProblem> {
    let (origin, authority) = match origin {
        Ok(o) => (o, o.authority.as_deref().ok_or(AuthorityProblem::Absent)),
        Err((o, problem)) => (o, Err(*problem)),
    };
    // RFC 9421 §2.2.6 (and HTTP's normalisation): an empty path is "/".
    let path = if parts.path().is_empty() {
        "/"
    } else {
        parts.path()
    };
    let query = parts.query().map(|q| format!("?{q}")).unwrap_or_default();
    Ok(match derived {
        Derived::Method => parts.method().to_owned(),
        Derived::Scheme => origin.scheme.clone(),
        Derived::Authority => authority?.to_owned(),
        Derived::TargetUri => format!("{}://{}{path}{query}", origin.scheme, authority?),
        Derived::RequestTarget => format!("{path}{query}"),
        Derived::Path => path.to_owned(),
        // §2.2.7: an absent or empty query is the "?" alone.
        Derived::Query => format!("?{}", parts.query().unwrap_or("")),
        Derived::QueryParam(_) => String::new(),
    })
}

#[derive(Debug, Clone, Copy)]
enum FieldProblem {
    Absent,
    Unusable,
    Unsupported,
}

/// A structured field, parsed once per request and field.
enum Structured {
    Dictionary(Dictionary),
    List(List),
}

/// A header field's component value (RFC 9421 §2.1). `structured` keeps
/// the fields already parsed for `sf` and `key`.
fn field_value<'i, H: RequestHeaders + ?Sized>(
    headers: &H,
    field: &'i str,
    form: &FieldForm,
    structured: &mut HashMap<&'i str, Result<Structured, FieldProblem>>,
) -> Result<Vec<u8>, FieldProblem> {
    let values = || headers.header_values(field).map(trim);
    if values().next().is_none() {
        return Err(FieldProblem::Absent);
    }
    match form {
        FieldForm::Plain => Ok(values().collect::<Vec<_>>().join(&b", "[..])),
        FieldForm::ByteSequence => Ok(values()
            .map(|v| format!(":{}:", STANDARD.encode(v)).into_bytes())
            .collect::<Vec<_>>()
            .join(&b", "[..])),
        FieldForm::Structured | FieldForm::Key(_) => {
            let parsed = structured
                .entry(field)
                .or_insert_with(|| parse_structured(field, values()));
            let parsed = parsed.as_ref().map_err(|p| *p)?;
            let serialized = match (form, parsed) {
                (FieldForm::Key(key), Structured::Dictionary(dict)) => {
                    let member = sfv::KeyRef::from_str(key)
                        .ok()
                        .and_then(|k| dict.get(k))
                        .ok_or(FieldProblem::Absent)?;
                    let mut ser = ListSerializer::new();
                    ser.members(std::iter::once(member));
                    ser.finish()
                }
                (FieldForm::Key(_), Structured::List(_)) => return Err(FieldProblem::Unsupported),
                (_, Structured::Dictionary(dict)) => {
                    let mut ser = sfv::DictSerializer::new();
                    ser.members(dict);
                    ser.finish()
                }
                (_, Structured::List(list)) => {
                    let mut ser = ListSerializer::new();
                    ser.members(list);
                    ser.finish()
                }
            };
            Ok(serialized.unwrap_or_default().into_bytes())
        }
    }
}

/// Parses a field of a known structured type (RFC 9421 §2.1.1 requires
/// knowing it); fields of unknown type cannot be used with `sf` or `key`.
fn parse_structured<'v>(
    field: &str,
    values: impl Iterator<Item = &'v [u8]>,
) -> Result<Structured, FieldProblem> {
    let kind = structured_type(field).ok_or(FieldProblem::Unsupported)?;
    let joined = values.collect::<Vec<_>>().join(&b", "[..]);
    let parser = Parser::new(&joined).with_version(Version::Rfc8941);
    match kind {
        StructuredType::Dictionary => parser.parse().map(Structured::Dictionary),
        StructuredType::List => parser.parse().map(Structured::List),
    }
    .map_err(|_| FieldProblem::Unusable)
}

/// Without leading and trailing spaces and tabs (RFC 9421 §2.1 step 3).
fn trim(v: &[u8]) -> &[u8] {
    let start = v.iter().position(|b| !matches!(b, b' ' | b'\t'));
    let end = v.iter().rposition(|b| !matches!(b, b' ' | b'\t'));
    match (start, end) {
        (Some(s), Some(e)) => &v[s..=e],
        _ => &[],
    }
}
