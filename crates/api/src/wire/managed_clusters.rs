//! `ManagedCluster`.

use crate::wire::ts;
use gatehouse_store::managed_clusters::ManagedCluster;
use serde_json::{json, Value};

/// `ManagedClusterTypes`.
pub const CLUSTER_TYPES: &[&str] = &[
    "idn",
    "iai",
    "spConnectCluster",
    "sqsCluster",
    "das-rc",
    "das-pc",
    "das-dc",
    "pag",
    "das-am",
    "standard",
];

/// The `ManagedCluster` view of `m`: its document with the stored fields over it.
pub fn managed_cluster(m: &ManagedCluster) -> Value {
    let mut doc = match &m.document {
        Value::Object(o) => o.clone(),
        _ => serde_json::Map::new(),
    };
    let core = json!({
        "id": m.id,
        "name": m.name,
        "pod": "gatehouse",
        "org": m.tenant_id,
        "type": m.kind,
        "description": m.description.clone().unwrap_or_default(),
        "clientType": null,
        "ccgVersion": doc.get("ccgVersion").and_then(Value::as_str).unwrap_or(""),
        "operational": m.operational,
        "status": m.status,
        "clientIds": [],
        "serviceCount": 0,
        "createdAt": ts(m.created),
        "updatedAt": ts(m.modified),
    });
    if let Value::Object(core) = core {
        doc.extend(core);
    }
    if doc.get("configuration").is_none_or(Value::is_null) {
        doc.insert("configuration".into(), json!({}));
    }
    Value::Object(doc)
}
