//! The body of `patchServiceDeskIntegration`: `replace` operations only.

use super::FIELDS;
use crate::error::ApiError;
use serde_json::Value;

/// Fields a PATCH may not replace.
const READ_ONLY: &[&str] = &[
    "/id",
    "/created",
    "/modified",
    "/provisioningConfig/universalManager",
];

/// Reads a PATCH body: a JSON Patch array (the current spec) or `{"operations": [...]}` (the
/// v3 schema of 2022–2025, the Go SDK's `PatchServiceDeskIntegrationRequest`). Only `replace` is
/// allowed: any other operation, or a read-only path, is a 403 as SailPoint documents.
pub fn replace_operations(body: Value) -> Result<Vec<(String, Value)>, ApiError> {
    let ops =
        match body {
            Value::Array(ops) => ops,
            Value::Object(mut m)
                if m.len() == 1 && m.get("operations").is_some_and(Value::is_array) =>
            {
                match m.remove("operations") {
                    Some(Value::Array(ops)) => ops,
                    _ => Vec::new(),
                }
            }
            _ => return Err(ApiError::bad_request(
                "The body must be a JSON Patch array of operations, or {\"operations\": [...]}.",
            )),
        };
    if ops.is_empty() {
        return Err(ApiError::bad_request("The patch has no operations."));
    }
    let mut parsed = Vec::with_capacity(ops.len());
    for (n, op) in ops.into_iter().enumerate() {
        let Value::Object(mut op) = op else {
            return Err(ApiError::bad_request(format!(
                "Patch operation {n} must be an object with op, path and value."
            )));
        };
        let kind = match op.get("op") {
            Some(Value::String(k))
                if ["add", "remove", "replace", "move", "copy", "test"].contains(&k.as_str()) =>
            {
                k.clone()
            }
            _ => {
                return Err(ApiError::bad_request(format!(
                "Patch operation {n}: 'op' must be one of add, remove, replace, move, copy, test."
            )))
            }
        };
        let path = match op.get("path") {
            Some(Value::String(p)) if p.starts_with('/') => p.clone(),
            _ => {
                return Err(ApiError::bad_request(format!(
                    "Patch operation {n}: 'path' must be a JSON Pointer such as /description."
                )))
            }
        };
        parsed.push((kind, path, op.remove("value")));
    }
    if let Some((kind, path, _)) = parsed.iter().find(|(k, _, _)| k != "replace") {
        return Err(ApiError::Forbidden(format!(
            "Only replace operations are allowed on a service desk integration; '{kind}' at '{path}' is not."
        )));
    }
    parsed
        .into_iter()
        .enumerate()
        .map(|(n, (_, path, value))| {
            if let Some(ro) = READ_ONLY
                .iter()
                .find(|ro| path == **ro || path.starts_with(&format!("{ro}/")))
            {
                return Err(ApiError::Forbidden(format!("'{}' is read-only.", &ro[1..])));
            }
            let root = path[1..].split('/').next().unwrap_or_default();
            if !FIELDS.contains(&root) {
                return Err(ApiError::illegal(format!(
                    "Patch operation {n}: '{root}' is not a field of a service desk integration."
                )));
            }
            let value = value.ok_or_else(|| {
                ApiError::bad_request(format!("Patch operation {n}: replace needs a 'value'."))
            })?;
            Ok((path, value))
        })
        .collect()
}

/// Applies `replace` operations to `doc`. Replacing a member an object does not have yet adds it
/// (so `/attributes/assignmentGroup` can be set with the only operation allowed).
pub fn apply_replacements(doc: &mut Value, ops: Vec<(String, Value)>) -> Result<(), ApiError> {
    for (path, value) in ops {
        if let Some(target) = doc.pointer_mut(&path) {
            *target = value;
            continue;
        }
        let (parent, last) = path.rsplit_once('/').unwrap_or(("", &path));
        let member = last.replace("~1", "/").replace("~0", "~");
        match doc.pointer_mut(parent).and_then(Value::as_object_mut) {
            Some(object) => {
                object.insert(member, value);
            }
            None => {
                return Err(ApiError::illegal(format!(
                    "The patch cannot be applied: there is nothing at '{parent}'."
                )))
            }
        }
    }
    Ok(())
}
