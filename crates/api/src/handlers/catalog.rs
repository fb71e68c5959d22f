//! What the catalog handlers share: reading references out of bodies, JSON Patch over a wire
//! view, and the 400s for unknown references, taken names and objects in use.

use crate::error::ApiError;
use crate::extract::{apply_patch, json_patch};
use crate::wire::refs::ReferenceInput;
use gatehouse_store::listing::Usage;
use gatehouse_store::{Conn, StoreError};
use serde_json::{Map, Value};

/// A 400 "400.1.404 Referenced object not found" naming the field and the id.
pub fn unknown_reference(field: &str, what: &str, id: &str) -> ApiError {
    ApiError::BadRequest {
        detail: "400.1.404 Referenced object not found",
        message: format!("'{field}' refers to {what} '{id}', which does not exist."),
    }
}

/// A 400 "400.2.1.0 Object in use by another" that names what uses it.
pub fn in_use(what: &str, name: &str, usages: &[Usage]) -> ApiError {
    let shown: Vec<String> = usages
        .iter()
        .take(10)
        .map(|u| {
            if u.kind == "assignment" {
                format!("an assignment to '{}' ({})", u.name, u.id)
            } else {
                format!("{} '{}' ({})", u.kind, u.name, u.id)
            }
        })
        .collect();
    let more = usages.len().saturating_sub(shown.len());
    let tail = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    ApiError::BadRequest {
        detail: "400.2.1.0 Object in use by another",
        message: format!(
            "The {what} '{name}' cannot be deleted: it is used by {}{tail}.",
            shown.join(", ")
        ),
    }
}

/// A taken unique name as a 400 "400.1.409 Reference conflict"; other store errors unchanged.
pub fn name_taken<'a>(what: &'a str, name: &'a str) -> impl Fn(StoreError) -> ApiError + 'a {
    move |e| match e {
        StoreError::Conflict(_) => {
            ApiError::conflict(format!("A {what} named '{name}' already exists."))
        }
        other => other.into(),
    }
}

/// The id of a reference field (`owner`, `source`…) of a body, checking its `type` if given.
pub fn reference_id(
    body: &Map<String, Value>,
    field: &str,
    kind: &[&str],
) -> Result<Option<String>, ApiError> {
    let Some(v) = body.get(field) else {
        return Ok(None);
    };
    if v.is_null() {
        return Ok(None);
    }
    let r: ReferenceInput = serde_json::from_value(v.clone()).map_err(|_| {
        ApiError::illegal(format!(
            "'{field}' must be a reference {{\"type\", \"id\", \"name\"}}."
        ))
    })?;
    if let Some(t) = r.kind.as_deref() {
        if !kind.contains(&t) {
            return Err(ApiError::illegal(format!(
                "'{field}.type' must be {}, not '{t}'.",
                kind.join(" or ")
            )));
        }
    }
    match r.id {
        Some(id) if !id.trim().is_empty() => Ok(Some(id)),
        _ => Err(ApiError::missing(&format!("{field}.id"))),
    }
}

/// The ids of a list of references (`entitlements`, `accessProfiles`…), in order, without repeats.
pub fn reference_ids(
    body: &Map<String, Value>,
    field: &str,
    kind: &str,
) -> Result<Vec<String>, ApiError> {
    let Some(v) = body.get(field) else {
        return Ok(Vec::new());
    };
    if v.is_null() {
        return Ok(Vec::new());
    }
    let list: Vec<ReferenceInput> = serde_json::from_value(v.clone())
        .map_err(|_| ApiError::illegal(format!("'{field}' must be a list of references.")))?;
    let mut ids: Vec<String> = Vec::new();
    for (n, r) in list.into_iter().enumerate() {
        if let Some(t) = r.kind.as_deref() {
            if t != kind {
                return Err(ApiError::illegal(format!(
                    "'{field}[{n}].type' must be {kind}, not '{t}'."
                )));
            }
        }
        let id =
            r.id.filter(|id| !id.trim().is_empty())
                .ok_or_else(|| ApiError::missing(&format!("{field}[{n}].id")))?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok(ids)
}

/// A string field: absent or null is `None`; anything but a string is a 400.
pub fn opt_string(body: &Map<String, Value>, field: &str) -> Result<Option<String>, ApiError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::illegal(format!("'{field}' must be a string."))),
    }
}

/// A required, non-blank string field.
pub fn required_string(body: &Map<String, Value>, field: &str) -> Result<String, ApiError> {
    match opt_string(body, field)? {
        Some(s) if !s.trim().is_empty() => Ok(s),
        _ => Err(ApiError::missing(field)),
    }
}

/// A boolean field, `default` when absent or null.
pub fn bool_or(body: &Map<String, Value>, field: &str, default: bool) -> Result<bool, ApiError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(ApiError::illegal(format!(
            "'{field}' must be true or false."
        ))),
    }
}

/// An object field (e.g. `accessRequestConfig`), `None` when absent or null.
pub fn opt_object(body: &Map<String, Value>, field: &str) -> Result<Option<Value>, ApiError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(v @ Value::Object(_)) => Ok(Some(v.clone())),
        Some(_) => Err(ApiError::illegal(format!("'{field}' must be an object."))),
    }
}

/// A JSON body that must be an object.
pub fn object(body: Value) -> Result<Map<String, Value>, ApiError> {
    match body {
        Value::Object(m) => Ok(m),
        _ => Err(ApiError::bad_request("The body must be a JSON object.")),
    }
}

/// Everything of `body` but `keys`: the part of a SailPoint object kept as its document.
pub fn document(body: &Map<String, Value>, keys: &[&str]) -> Value {
    Value::Object(
        body.iter()
            .filter(|(k, _)| !keys.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    )
}

/// Applies a JSON Patch `body` to `view` (an object as answered). Changing one of `read_only`
/// is a 400 naming it.
pub fn patched(
    view: Value,
    body: Value,
    read_only: &[&str],
) -> Result<Map<String, Value>, ApiError> {
    let patch = json_patch(body)?;
    let mut doc = view.clone();
    apply_patch(&mut doc, &patch)?;
    for key in read_only {
        if doc.get(*key) != view.get(*key) {
            return Err(ApiError::illegal(format!("'{key}' cannot be changed.")));
        }
    }
    object(doc)
}

/// The approval schemes of an `accessRequestConfig`/`revocationRequestConfig`: each
/// `approverType` must be one of `types`, and `GOVERNANCE_GROUP` schemes name a group id, which
/// is returned for checking.
pub fn approval_groups(
    config: Option<&Value>,
    field: &str,
    types: &[&str],
) -> Result<Vec<String>, ApiError> {
    let Some(schemes) = config.and_then(|c| c.get("approvalSchemes")) else {
        return Ok(Vec::new());
    };
    if schemes.is_null() {
        return Ok(Vec::new());
    }
    let list = schemes
        .as_array()
        .ok_or_else(|| ApiError::illegal(format!("'{field}.approvalSchemes' must be a list.")))?;
    let mut groups = Vec::new();
    for (n, s) in list.iter().enumerate() {
        let t = s
            .get("approverType")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                ApiError::missing(&format!("{field}.approvalSchemes[{n}].approverType"))
            })?;
        if !types.contains(&t) {
            return Err(ApiError::illegal(format!(
                "'{field}.approvalSchemes[{n}].approverType' must be one of {}, not '{t}'.",
                types.join(", ")
            )));
        }
        let id = s.get("approverId").and_then(Value::as_str);
        if t == "GOVERNANCE_GROUP" || t == "ADDITIONAL_GOVERNANCE_GROUP" {
            match id {
                Some(id) if !id.is_empty() => groups.push(id.to_owned()),
                _ => {
                    return Err(ApiError::missing(&format!(
                        "{field}.approvalSchemes[{n}].approverId"
                    )))
                }
            }
        }
    }
    Ok(groups)
}

/// A store query about one object of a tenant: `(conn, tenant_id, id)`.
pub type ObjectQuery<T> = fn(&mut dyn Conn, &str, &str) -> Result<T, StoreError>;

/// The store functions behind the delete of one kind of catalog object.
pub struct Deletion {
    /// What the object is called in messages ("access profile").
    pub what: &'static str,
    /// The object's name, or `None` when the tenant has no such object.
    pub name_of: ObjectQuery<Option<String>>,
    /// What uses the object (assignments, roles, sources...).
    pub usages: ObjectQuery<Vec<Usage>>,
    /// Removes the object.
    pub delete: ObjectQuery<bool>,
}

/// Deletes object `id` of `tenant` in one write unless something uses it, which is a 400
/// "Object in use by another" naming the users. `Ok(false)` when there is no such object.
pub async fn delete_unless_used(
    state: &crate::AppState,
    tenant: &str,
    id: &str,
    kind: &'static Deletion,
) -> Result<bool, ApiError> {
    let (tenant, key) = (tenant.to_owned(), id.to_owned());
    let outcome = state
        .store()
        .write(move |c| {
            let Some(name) = (kind.name_of)(c, &tenant, &key)? else {
                return Ok(None);
            };
            let used = (kind.usages)(c, &tenant, &key)?;
            if used.is_empty() {
                (kind.delete)(c, &tenant, &key)?;
            }
            Ok(Some((name, used)))
        })
        .await?;
    match outcome {
        None => Ok(false),
        Some((_, used)) if used.is_empty() => Ok(true),
        Some((name, used)) => Err(in_use(kind.what, &name, &used)),
    }
}
