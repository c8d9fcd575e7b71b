//! Covered component identifiers (RFC 9421 §2): what a `Signature-Input`
//! item names, and which parameters this verifier understands. RFC 9421
//! §2.5 requires an error for any component or parameter not understood.

use sfv::{BareItem, Item};

/// A derived component (RFC 9421 §2.2) computable for a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Derived {
    Method,
    TargetUri,
    Authority,
    Scheme,
    RequestTarget,
    Path,
    Query,
    /// `@query-param;name="…"`, the name as encoded in the identifier.
    QueryParam(String),
}

/// How a header field's value is put in the signature base (§2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FieldForm {
    /// Values trimmed and joined with `, `.
    Plain,
    /// `sf`: re-serialised as a structured field.
    Structured,
    /// `key="…"`: one member of a dictionary field, serialised.
    Key(String),
    /// `bs`: each value wrapped as a byte sequence.
    ByteSequence,
}

/// A covered component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Component<'a> {
    Derived(Derived),
    /// A header field, by its (lower-case) name.
    Field(&'a str, FieldForm),
}

/// Why an identifier cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IdentifierProblem {
    /// Not a string, or not a lower-case field name.
    Malformed,
    /// A component or parameter this verifier does not implement (e.g.
    /// `@status`, `req`, `tr`), or one RFC 9421 forbids here.
    Unsupported,
}

impl<'a> Component<'a> {
    /// Reads one identifier from `Signature-Input`.
    pub(crate) fn parse(item: &'a Item) -> Result<Self, IdentifierProblem> {
        let BareItem::String(name) = &item.bare_item else {
            return Err(IdentifierProblem::Malformed);
        };
        let name = name.as_str();
        if let Some(derived) = name.strip_prefix('@') {
            return parse_derived(derived, item).map(Component::Derived);
        }
        if !is_lower_field_name(name) {
            return Err(IdentifierProblem::Malformed);
        }
        let mut form = FieldForm::Plain;
        let (mut sf, mut bs) = (false, false);
        for (key, value) in &item.params {
            match (key.as_str(), value) {
                ("sf", BareItem::Boolean(true)) => sf = true,
                ("bs", BareItem::Boolean(true)) => bs = true,
                ("key", BareItem::String(k)) => form = FieldForm::Key(k.as_str().to_owned()),
                _ => return Err(IdentifierProblem::Unsupported),
            }
        }
        // RFC 9421 §2.1.3: bs cannot be combined with sf or key.
        if bs && (sf || form != FieldForm::Plain) {
            return Err(IdentifierProblem::Unsupported);
        }
        if bs {
            form = FieldForm::ByteSequence;
        } else if sf && form == FieldForm::Plain {
            form = FieldForm::Structured;
        }
        Ok(Component::Field(name, form))
    }
}

fn parse_derived(name: &str, item: &Item) -> Result<Derived, IdentifierProblem> {
    let derived = match name {
        "method" => Derived::Method,
        "target-uri" => Derived::TargetUri,
        "authority" => Derived::Authority,
        "scheme" => Derived::Scheme,
        "request-target" => Derived::RequestTarget,
        "path" => Derived::Path,
        "query" => Derived::Query,
        "query-param" => {
            let mut params = item.params.iter();
            return match (params.next(), params.next()) {
                (Some((key, BareItem::String(value))), None) if key.as_str() == "name" => {
                    Ok(Derived::QueryParam(value.as_str().to_owned()))
                }
                _ => Err(IdentifierProblem::Unsupported),
            };
        }
        // @status is response-only; @signature-params cannot be covered.
        _ => return Err(IdentifierProblem::Unsupported),
    };
    if item.params.is_empty() {
        Ok(derived)
    } else {
        Err(IdentifierProblem::Unsupported)
    }
}

/// An RFC 9110 token in lower case, as RFC 9421 §2.1 requires of field
/// names in identifiers.
fn is_lower_field_name(name: &str) -> bool {
    !name.is_empty()
        && name.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || b"!#$%&'*+-.^_`|~".contains(&b)
        })
}

/// The structured type of the fields this verifier can re-serialise for
/// `sf` and `key` (RFC 9421 §2.1.1 requires knowing the type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StructuredType {
    Dictionary,
    List,
}

pub(crate) fn structured_type(field: &str) -> Option<StructuredType> {
    match field {
        "content-digest"
        | "repr-digest"
        | "want-content-digest"
        | "want-repr-digest"
        | "signature"
        | "signature-input"
        | "accept-signature"
        | "priority" => Some(StructuredType::Dictionary),
        "cache-status" | "proxy-status" => Some(StructuredType::List),
        _ => None,
    }
}
