//! `Source`.

use crate::wire::refs::Reference;
use crate::wire::ts;
use gatehouse_store::sources::SourceView;
use serde_json::{json, Value};

/// Values of `Source.status`.
pub const SOURCE_STATUSES: &[&str] = &[
    "SOURCE_STATE_ERROR_ACCOUNT_FILE_IMPORT",
    "SOURCE_STATE_ERROR_CLUSTER",
    "SOURCE_STATE_ERROR_SOURCE",
    "SOURCE_STATE_ERROR_VA",
    "SOURCE_STATE_FAILURE_CLUSTER",
    "SOURCE_STATE_FAILURE_SOURCE",
    "SOURCE_STATE_HEALTHY",
    "SOURCE_STATE_UNCHECKED_CLUSTER",
    "SOURCE_STATE_UNCHECKED_CLUSTER_NO_SOURCES",
    "SOURCE_STATE_UNCHECKED_SOURCE",
    "SOURCE_STATE_UNCHECKED_SOURCE_NO_ACCOUNTS",
];

/// The `Source` view of `v`: its document with the stored fields over it.
pub fn source(v: &SourceView) -> Value {
    let s = &v.source;
    let mut doc = match &s.document {
        Value::Object(o) => o.clone(),
        _ => serde_json::Map::new(),
    };
    let reference = |kind: &'static str, id: &Option<String>, name: &Option<String>| {
        id.as_ref()
            .map(|id| Reference::new(kind, id, name.as_deref().unwrap_or("")))
    };
    let core = json!({
        "id": s.id,
        "name": s.name,
        "owner": reference("IDENTITY", &s.owner_id, &v.owner_name),
        "cluster": reference("CLUSTER", &s.cluster_id, &v.cluster_name),
        "managementWorkgroup": reference("GOVERNANCE_GROUP", &s.management_workgroup_id, &v.management_workgroup_name),
        "features": s.features,
        "connector": s.connector.clone().unwrap_or_default(),
        "authoritative": s.authoritative,
        "healthy": s.healthy,
        "status": s.status.clone().filter(|x| SOURCE_STATUSES.contains(&x.as_str()))
            .unwrap_or_else(|| "SOURCE_STATE_HEALTHY".into()),
        "category": s.category,
        "created": ts(s.created),
        "modified": ts(s.modified),
    });
    if let Value::Object(core) = core {
        doc.extend(core);
    }
    for (key, value) in [
        ("description", &s.description),
        ("type", &s.kind),
        ("connectionType", &s.connection_type),
        ("connectorName", &s.connector_name),
    ] {
        match value {
            Some(x) => {
                doc.insert(key.into(), Value::String(x.clone()));
            }
            None => {
                doc.remove(key);
            }
        }
    }
    Value::Object(doc)
}
