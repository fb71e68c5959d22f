//! The rules of a role's `membership` (`RoleMembershipSelector`) that its schema states in prose:
//! STANDARD criteria nest at most three levels, AND/OR have children and no value, a leaf has a
//! key (`type` and `property`; `sourceId` for ACCOUNT and ENTITLEMENT keys) and a `stringValue`;
//! IDENTITY_LIST names identities by id. The document is kept as sent once it passes.

use crate::error::ApiError;
use serde_json::Value;

const LEAF_OPERATIONS: &[&str] = &[
    "EQUALS",
    "NOT_EQUALS",
    "CONTAINS",
    "DOES_NOT_CONTAIN",
    "STARTS_WITH",
    "ENDS_WITH",
    "GREATER_THAN",
    "LESS_THAN",
    "GREATER_THAN_EQUALS",
    "LESS_THAN_EQUALS",
];

fn bad(at: &str, rule: &str) -> ApiError {
    ApiError::bad_request(format!("{at}: {rule}"))
}

fn criteria(c: &Value, at: &str, level: usize) -> Result<(), ApiError> {
    let Some(obj) = c.as_object() else {
        return Err(bad(at, "must be an object"));
    };
    let op = obj
        .get("operation")
        .and_then(Value::as_str)
        .ok_or_else(|| bad(at, "'operation' is required"))?;
    let children = obj.get("children").filter(|v| !v.is_null());
    if op == "AND" || op == "OR" {
        if level == 3 {
            return Err(bad(
                at,
                "criteria nest at most three levels; the third must be a leaf",
            ));
        }
        let list = children
            .and_then(Value::as_array)
            .filter(|l| !l.is_empty())
            .ok_or_else(|| bad(at, "AND and OR need at least one child in 'children'"))?;
        if obj.get("key").is_some_and(|k| !k.is_null())
            || obj.get("stringValue").is_some_and(|v| !v.is_null())
        {
            return Err(bad(at, "AND and OR take no 'key' or 'stringValue'"));
        }
        for (i, child) in list.iter().enumerate() {
            criteria(child, &format!("{at}.children[{i}]"), level + 1)?;
        }
        return Ok(());
    }
    if !LEAF_OPERATIONS.contains(&op) {
        return Err(bad(at, &format!("'{op}' is not a criteria operation")));
    }
    if children.is_some_and(|c| c.as_array().is_none_or(|l| !l.is_empty())) {
        return Err(bad(at, &format!("a {op} criterion has no children")));
    }
    let key = obj
        .get("key")
        .and_then(Value::as_object)
        .ok_or_else(|| bad(at, &format!("a {op} criterion needs a 'key'")))?;
    let kind = key
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| bad(&format!("{at}.key"), "'type' is required"))?;
    if !matches!(kind, "IDENTITY" | "ACCOUNT" | "ENTITLEMENT") {
        return Err(bad(
            &format!("{at}.key"),
            "'type' must be IDENTITY, ACCOUNT or ENTITLEMENT",
        ));
    }
    if key
        .get("property")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return Err(bad(&format!("{at}.key"), "'property' is required"));
    }
    if kind != "IDENTITY"
        && key
            .get("sourceId")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
    {
        return Err(bad(
            &format!("{at}.key"),
            &format!("'sourceId' is required for a {kind} key"),
        ));
    }
    if obj.get("stringValue").and_then(Value::as_str).is_none() {
        return Err(bad(at, &format!("a {op} criterion needs a 'stringValue'")));
    }
    Ok(())
}

/// Checks `membership` (absent or null is fine).
pub fn check(membership: Option<&Value>) -> Result<(), ApiError> {
    let Some(m) = membership.filter(|m| !m.is_null()) else {
        return Ok(());
    };
    let obj = m
        .as_object()
        .ok_or_else(|| bad("membership", "must be an object"))?;
    match obj.get("type").and_then(Value::as_str) {
        Some("STANDARD") => {
            let c = obj
                .get("criteria")
                .filter(|c| !c.is_null())
                .ok_or_else(|| bad("membership", "STANDARD membership needs 'criteria'"))?;
            criteria(c, "membership.criteria", 1)
        }
        Some("IDENTITY_LIST") => {
            let list = obj
                .get("identities")
                .and_then(Value::as_array)
                .ok_or_else(|| bad("membership", "IDENTITY_LIST membership needs 'identities'"))?;
            for (i, id) in list.iter().enumerate() {
                if id
                    .get("id")
                    .and_then(Value::as_str)
                    .is_none_or(str::is_empty)
                {
                    return Err(bad(
                        &format!("membership.identities[{i}]"),
                        "'id' is required",
                    ));
                }
            }
            Ok(())
        }
        _ => Err(bad(
            "membership",
            "'type' must be STANDARD or IDENTITY_LIST",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::check;
    use serde_json::json;

    #[test]
    fn membership_rules() {
        let leaf = json!({"operation": "EQUALS", "key": {"type": "IDENTITY", "property": "attribute.dept"}, "stringValue": "HR"});
        assert!(check(None).is_ok());
        assert!(check(Some(&json!(null))).is_ok());
        assert!(check(Some(&json!({"type": "STANDARD", "criteria": leaf.clone()}))).is_ok());
        assert!(check(Some(&json!({"type": "STANDARD", "criteria": {"operation": "AND", "children": [leaf.clone(), {"operation": "OR", "children": [leaf.clone()]}]}}))).is_ok());
        assert!(check(Some(
            &json!({"type": "IDENTITY_LIST", "identities": [{"id": "a"}]})
        ))
        .is_ok());
        for bad in [
            json!({"type": "STANDARD"}),
            json!({"type": "OTHER"}),
            json!({"type": "STANDARD", "criteria": {"operation": "EQUALS", "key": {}, "stringValue": "x"}}),
            json!({"type": "STANDARD", "criteria": {"operation": "EQUALS", "key": {"type": "ACCOUNT", "property": "p"}, "stringValue": "x"}}),
            json!({"type": "STANDARD", "criteria": {"operation": "EQUALS", "key": {"type": "IDENTITY", "property": "p"}}}),
            json!({"type": "STANDARD", "criteria": {"operation": "AND", "children": []}}),
            json!({"type": "STANDARD", "criteria": {"operation": "AND", "children": [{"operation": "OR", "children": [{"operation": "AND", "children": [leaf]}]}]}}),
            json!({"type": "IDENTITY_LIST", "identities": [{"name": "x"}]}),
            json!("STANDARD"),
        ] {
            assert!(check(Some(&bad)).is_err(), "{bad}");
        }
    }
}
