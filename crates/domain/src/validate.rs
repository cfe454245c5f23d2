//! Field validation shared by the aggregates. Each function returns the normalised value, so a
//! decision cannot forget to use the cleaned-up form.

use uuid::Uuid;

use crate::DomainError;

/// Trims `value` and requires `1..=max` characters (Unicode scalar values, not bytes, because
/// the limits are about what a person typed).
pub(crate) fn text(field: &str, value: &str, max: usize) -> Result<String, DomainError> {
    let trimmed = value.trim();
    let len = trimmed.chars().count();
    if len == 0 {
        return Err(DomainError::invalid(field, "must not be empty"));
    }
    if len > max {
        return Err(DomainError::invalid(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    Ok(trimmed.to_owned())
}

/// Like [`text`], but an empty value is allowed: it means "clear this optional field".
pub(crate) fn optional_text(field: &str, value: &str, max: usize) -> Result<String, DomainError> {
    if value.trim().is_empty() {
        return Ok(String::new());
    }
    text(field, value, max)
}

/// A name made of `[a-z0-9_-]`, `1..=64` characters: role names, used in URLs and logs.
pub(crate) fn slug(field: &str, value: &str) -> Result<String, DomainError> {
    let ok_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-';
    if value.is_empty() || value.len() > 64 || !value.chars().all(ok_char) {
        return Err(DomainError::invalid(
            field,
            "must be 1 to 64 characters of [a-z0-9_-]",
        ));
    }
    Ok(value.to_owned())
}

/// Member ids are UUIDv7 so that they sort by creation time and are never reused.
pub(crate) fn uuid_v7(field: &str, id: Uuid) -> Result<Uuid, DomainError> {
    if id.get_version_num() != 7 {
        return Err(DomainError::invalid(field, "must be a UUIDv7"));
    }
    Ok(id)
}

/// Other new ids only need to be real ids: the nil UUID is what a forgotten field deserialises to.
pub(crate) fn not_nil(field: &str, id: Uuid) -> Result<Uuid, DomainError> {
    if id.is_nil() {
        return Err(DomainError::invalid(field, "must not be the nil UUID"));
    }
    Ok(id)
}

/// A permission scope such as `channel:42`: opaque to the domain, but bounded and free of
/// whitespace so it compares exactly.
pub(crate) fn scope(value: Option<&str>) -> Result<Option<String>, DomainError> {
    let Some(scope) = value else { return Ok(None) };
    if scope.is_empty() || scope.chars().count() > 200 {
        return Err(DomainError::invalid("scope", "must be 1 to 200 characters"));
    }
    if scope.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(DomainError::invalid("scope", "must not contain whitespace"));
    }
    Ok(Some(scope.to_owned()))
}
