//! `Entitlement`, `AccessProfile` and `Role`: each one's document with the stored fields over it.

use crate::wire::refs::Reference;
use crate::wire::ts;
use gatehouse_store::access_profiles::AccessProfileView;
use gatehouse_store::entitlements::EntitlementView;
use gatehouse_store::listing::Ref;
use gatehouse_store::roles::RoleView;
use serde_json::{json, Map, Value};

/// `AccessProfileApprovalScheme.approverType`.
pub const ACCESS_PROFILE_APPROVERS: &[&str] = &[
    "APP_OWNER",
    "OWNER",
    "SOURCE_OWNER",
    "MANAGER",
    "GOVERNANCE_GROUP",
    "WORKFLOW",
    "ALL_OWNERS",
    "ADDITIONAL_OWNER",
    "ADDITIONAL_GOVERNANCE_GROUP",
];

/// `ApprovalSchemeForRole.approverType`.
pub const ROLE_APPROVERS: &[&str] = &[
    "OWNER",
    "MANAGER",
    "GOVERNANCE_GROUP",
    "WORKFLOW",
    "ALL_OWNERS",
    "ADDITIONAL_OWNER",
    "ADDITIONAL_GOVERNANCE_GROUP",
];

fn base(document: &Value) -> Map<String, Value> {
    match document {
        Value::Object(o) => o.clone(),
        _ => Map::new(),
    }
}

/// `doc` with the stored fields of `core` over it. Those of `optional` that are null are left
/// out: some families' schemas do not allow null there (beta `Entitlement.owner`, v2024
/// `Role.revocationRequestConfig`), and every family allows them to be absent.
fn merge(mut doc: Map<String, Value>, core: Value, optional: &[&str]) -> Value {
    if let Value::Object(core) = core {
        for (k, v) in core {
            if v.is_null() && optional.contains(&k.as_str()) {
                doc.remove(&k);
            } else {
                doc.insert(k, v);
            }
        }
    }
    Value::Object(doc)
}

const OPTIONAL: &[&str] = &["owner", "accessRequestConfig", "revocationRequestConfig"];

fn refs(kind: &'static str, items: &[Ref]) -> Vec<Reference> {
    items
        .iter()
        .map(|r| Reference::new(kind, &r.id, &r.name))
        .collect()
}

/// The `Entitlement` view of `v`.
pub fn entitlement(v: &EntitlementView) -> Value {
    let e = &v.entitlement;
    let mut doc = base(&e.document);
    doc.entry("attributes").or_insert_with(|| json!({}));
    merge(
        doc,
        json!({
            "id": e.id,
            "name": e.name,
            "attribute": e.attribute,
            "value": e.value,
            "sourceSchemaObjectType": e.kind.clone().unwrap_or_else(|| "group".into()),
            "description": e.description,
            "privileged": e.privileged,
            "cloudGoverned": false,
            "requestable": e.requestable,
            "owner": e.owner_id.as_ref().map(|id| Reference::new("IDENTITY", id, v.owner_name.as_deref().unwrap_or(""))),
            "created": ts(e.created),
            "modified": ts(e.modified),
            "source": Reference::new("SOURCE", &e.source_id, &v.source_name),
        }),
        OPTIONAL,
    )
}

/// The `AccessProfile` view of `v`.
pub fn access_profile(v: &AccessProfileView) -> Value {
    let a = &v.access_profile;
    merge(
        base(&a.document),
        json!({
            "id": a.id,
            "name": a.name,
            "description": a.description,
            "created": ts(a.created),
            "modified": ts(a.modified),
            "enabled": a.enabled,
            "owner": Reference::new("IDENTITY", &a.owner_id, &v.owner_name),
            "source": Reference::new("SOURCE", &a.source_id, &v.source_name),
            "entitlements": refs("ENTITLEMENT", &v.entitlements),
            "requestable": a.requestable,
            "accessRequestConfig": a.access_request_config,
            "revocationRequestConfig": a.revocation_request_config,
        }),
        OPTIONAL,
    )
}

/// The `Role` view of `v`.
pub fn role(v: &RoleView) -> Value {
    let r = &v.role;
    merge(
        base(&r.document),
        json!({
            "id": r.id,
            "name": r.name,
            "created": ts(r.created),
            "modified": ts(r.modified),
            "description": r.description,
            "owner": Reference::new("IDENTITY", &r.owner_id, &v.owner_name),
            "accessProfiles": refs("ACCESS_PROFILE", &v.access_profiles),
            "entitlements": refs("ENTITLEMENT", &v.entitlements),
            "enabled": r.enabled,
            "requestable": r.requestable,
            "dimensional": r.dimensional,
            "accessRequestConfig": r.access_request_config,
            "revocationRequestConfig": r.revocation_request_config,
        }),
        OPTIONAL,
    )
}
