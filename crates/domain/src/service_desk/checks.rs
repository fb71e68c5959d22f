//! The checks of each attribute kind. Messages name the attribute, never its value.

use super::{fail, AttributeError, IntegrationType, Kind, Need, SAILPOINT_STATUSES};
use serde_json::{Map, Value};

/// Checks that every attribute the template requires is present and each one's value is of its
/// kind.
pub(super) fn check_template(
    ty: &IntegrationType,
    doc: &Map<String, Value>,
) -> Result<(), AttributeError> {
    for a in ty.attributes {
        let name = format!("attributes.{}", a.name);
        let Some(value) = doc.get(a.name) else {
            match a.need {
                Need::Required => {
                    return fail(format!("{name} is required for a {} integration.", ty.name))
                }
                Need::When(other, values)
                    if doc
                        .get(other)
                        .and_then(Value::as_str)
                        .is_some_and(|v| values.contains(&v)) =>
                {
                    return fail(format!(
                        "{name} is required for a {} integration when attributes.{other} is {}.",
                        ty.name,
                        doc.get(other).and_then(Value::as_str).unwrap_or_default()
                    ))
                }
                _ => continue,
            }
        };
        check_kind(a.kind, value, &name)?;
    }
    Ok(())
}

fn text(value: &Value, name: &str, max: usize) -> Result<(), AttributeError> {
    match value.as_str() {
        Some(s) if !s.trim().is_empty() && s.len() <= max => Ok(()),
        _ => fail(format!(
            "{name} must be a non-empty string of at most {max} characters."
        )),
    }
}

fn check_kind(kind: Kind, value: &Value, name: &str) -> Result<(), AttributeError> {
    match kind {
        Kind::Text | Kind::Account => text(value, name, 1024),
        Kind::Secret => text(value, name, 4096),
        Kind::Url => {
            let ok = value
                .as_str()
                .filter(|s| s.len() <= 2048)
                .and_then(|s| url::Url::parse(s).ok())
                .is_some_and(|u| {
                    matches!(u.scheme(), "http" | "https")
                        && u.host_str().is_some_and(|h| !h.is_empty())
                        && u.username().is_empty()
                        && u.password().is_none()
                        && u.fragment().is_none()
                });
            if ok {
                Ok(())
            } else {
                fail(format!(
                    "{name} must be an absolute http or https URL, without user info or fragment."
                ))
            }
        }
        Kind::Choice(values) => match value.as_str() {
            Some(v) if values.contains(&v) => Ok(()),
            _ => fail(format!("{name} must be one of {}.", values.join(", "))),
        },
        Kind::Pointer => match value.as_str() {
            Some(p) if p.is_empty() || (p.starts_with('/') && p.len() <= 512) => Ok(()),
            _ => fail(format!(
                "{name} must be a JSON Pointer: empty or starting with '/'."
            )),
        },
        Kind::StatusMap => {
            let m = value
                .as_object()
                .filter(|m| !m.is_empty() && m.len() <= 100);
            let Some(m) = m else {
                return fail(format!(
                    "{name} must be an object of 1 to 100 desk statuses, each mapped to Queued, Committed or Failed."
                ));
            };
            for (status, to) in m {
                if status.trim().is_empty() {
                    return fail(format!("{name} has an empty status."));
                }
                if !to.as_str().is_some_and(|t| SAILPOINT_STATUSES.contains(&t)) {
                    return fail(format!(
                        "{name}.{status} must be Queued, Committed or Failed."
                    ));
                }
            }
            if !m.values().any(|v| v == "Committed") {
                return fail(format!("{name} must map at least one status to Committed."));
            }
            Ok(())
        }
        Kind::Headers => {
            let Some(m) = value.as_object().filter(|m| m.len() <= 50) else {
                return fail(format!(
                    "{name} must be an object of at most 50 header names and string values."
                ));
            };
            for (header, v) in m {
                let token = !header.is_empty()
                    && header.len() <= 256
                    && header
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
                if !token {
                    return fail(format!("{name} has a key that is not a header name."));
                }
                text(v, &format!("{name}.{header}"), 8192)?;
            }
            Ok(())
        }
        Kind::Request => {
            let Some(m) = value.as_object() else {
                return fail(format!(
                    "{name} must be an object with method, path and optionally headers and body."
                ));
            };
            if let Some(k) = m
                .keys()
                .find(|k| !["method", "path", "headers", "body"].contains(&k.as_str()))
            {
                return fail(format!(
                    "{name}.{k} is not known: a request has method, path, headers and body."
                ));
            }
            check_kind(
                Kind::Choice(&["GET", "POST", "PUT", "PATCH"]),
                m.get("method").unwrap_or(&Value::Null),
                &format!("{name}.method"),
            )?;
            match m.get("path").and_then(Value::as_str) {
                Some(p) if p.starts_with('/') && !p.starts_with("//") && p.len() <= 2048 => {}
                _ => {
                    return fail(format!(
                        "{name}.path must be a path relative to attributes.url, starting with a single '/'."
                    ))
                }
            }
            if let Some(h) = m.get("headers") {
                check_kind(Kind::Headers, h, &format!("{name}.headers"))?;
            }
            Ok(())
        }
    }
}
