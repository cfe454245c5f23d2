//! Validation of the registration form and profile edits. Each function returns the value in
//! the form it is stored in.

use std::collections::BTreeMap;

use crate::{DomainError, validate};

const MAX_EMAIL: usize = 254;
const MAX_LOCAL_PART: usize = 64;
const MAX_NAME: usize = 200;
const MAX_ORG_TEXT: usize = 200;
const MAX_FIELDS: usize = 50;
const MAX_FIELD_KEY: usize = 64;
const MAX_FIELD_VALUE: usize = 1000;

/// Trims and lowercases, then checks the shape. Deliberately simple: deliverability is proven
/// by the confirmation mail, not by a regular expression.
pub(super) fn email(raw: &str) -> Result<String, DomainError> {
    let email = raw.trim().to_lowercase();
    let fail = |reason: &str| Err(DomainError::invalid("email", reason));
    if email.chars().count() > MAX_EMAIL {
        return fail("must be at most 254 characters");
    }
    if email.chars().any(char::is_whitespace) {
        return fail("must not contain whitespace");
    }
    let Some((local, domain)) = email.split_once('@') else {
        return fail("must contain an @");
    };
    if domain.contains('@') {
        return fail("must contain exactly one @");
    }
    if local.is_empty() || local.chars().count() > MAX_LOCAL_PART {
        return fail("the part before @ must be 1 to 64 characters");
    }
    if !domain.contains('.') || domain.split('.').any(str::is_empty) {
        return fail("the domain must have a dot between non-empty labels");
    }
    Ok(email)
}

pub(super) fn name(raw: &str) -> Result<String, DomainError> {
    validate::text("name", raw, MAX_NAME)
}

/// Company and location: optional, and empty means absent.
pub(super) fn optional(field: &str, raw: Option<&str>) -> Result<Option<String>, DomainError> {
    let Some(raw) = raw else { return Ok(None) };
    let value = validate::optional_text(field, raw, MAX_ORG_TEXT)?;
    Ok((!value.is_empty()).then_some(value))
}

/// Like [`optional`] for an edit, where an empty string is kept: it means "clear".
pub(super) fn change(field: &str, raw: Option<&str>) -> Result<Option<String>, DomainError> {
    raw.map(|raw| validate::optional_text(field, raw, MAX_ORG_TEXT))
        .transpose()
}

pub(super) fn fields(
    raw: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, DomainError> {
    if raw.len() > MAX_FIELDS {
        return Err(DomainError::invalid("fields", "at most 50 custom fields"));
    }
    for (key, value) in raw {
        field_key(key)?;
        if value.chars().count() > MAX_FIELD_VALUE {
            return Err(DomainError::invalid(
                "fields",
                format!("{key}: at most 1000 characters"),
            ));
        }
    }
    Ok(raw.clone())
}

fn field_key(key: &str) -> Result<(), DomainError> {
    let ok_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_';
    if key.is_empty() || key.len() > MAX_FIELD_KEY || !key.chars().all(ok_char) {
        return Err(DomainError::invalid(
            "fields",
            format!("key {key:?} must be 1 to 64 characters of [a-z0-9_]"),
        ));
    }
    Ok(())
}
