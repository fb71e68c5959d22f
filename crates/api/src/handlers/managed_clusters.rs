//! `/managed-clusters`: the clusters sources run on. (Gatehouse runs no virtual appliances; a
//! cluster is the record sources refer to.)

use crate::auth::{secrets, Caller};
use crate::error::ApiError;
use crate::extract::{store_page, ApiJson, QueryMap};
use crate::handlers::catalog::{
    delete_unless_used, document, name_taken, object, opt_string, patched, required_string,
    Deletion,
};
use crate::wire::managed_clusters::{managed_cluster, CLUSTER_TYPES};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use gatehouse_filter::{Field, FieldKind, FilterSpec, Op, SortSpec};
use gatehouse_store::managed_clusters::{self, ManagedCluster};
use serde_json::{Map, Value};

/// `filters` of `getManagedClusters`.
pub static FILTERS: FilterSpec = FilterSpec {
    fields: &[
        Field {
            name: "operational",
            column: "c.operational",
            kind: FieldKind::Bool,
            ops: &[Op::Eq],
        },
        Field {
            name: "name",
            column: "c.name",
            kind: FieldKind::TextCi,
            ops: &[Op::Eq],
        },
        Field {
            name: "type",
            column: "c.type",
            kind: FieldKind::TextCi,
            ops: &[Op::Eq],
        },
        Field {
            name: "status",
            column: "c.status",
            kind: FieldKind::TextCi,
            ops: &[Op::Eq],
        },
    ],
};

/// `getManagedClusters` documents no sorters.
static SORTERS: SortSpec = SortSpec { fields: &[] };

/// Fields that are columns (the rest of a body is kept as the document) or computed.
const CORE: &[&str] = &[
    "id",
    "name",
    "type",
    "description",
    "operational",
    "status",
    "pod",
    "org",
    "createdAt",
    "updatedAt",
    "clientType",
    "ccgVersion",
];

fn not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!("Managed cluster '{id}' was not found."))
}

/// Reads the writable fields of `body` into `m`.
fn read_body(m: &mut ManagedCluster, body: &Map<String, Value>) -> Result<(), ApiError> {
    m.name = required_string(body, "name")?;
    if body.get("type").is_some_and(Value::is_null) {
        return Err(ApiError::illegal(
            "'type' may not be null: leave it out for the default 'idn'.",
        ));
    }
    let kind = opt_string(body, "type")?.unwrap_or_else(|| "idn".into());
    if !CLUSTER_TYPES.contains(&kind.as_str()) {
        return Err(ApiError::illegal(format!(
            "'type' must be one of {}, not '{kind}'.",
            CLUSTER_TYPES.join(", ")
        )));
    }
    m.kind = kind;
    m.description = opt_string(body, "description")?;
    if let Some(c) = body.get("configuration") {
        let Some(map) = c.as_object() else {
            return Err(ApiError::illegal(
                "'configuration' must be an object (it may not be null).",
            ));
        };
        if let Some((k, _)) = map.iter().find(|(_, v)| !v.is_string()) {
            return Err(ApiError::illegal(format!(
                "'configuration.{k}' must be a string."
            )));
        }
    }
    m.document = document(body, CORE);
    Ok(())
}

/// `GET /managed-clusters` (`getManagedClusters`).
pub async fn get_managed_clusters(
    State(state): State<AppState>,
    caller: Caller,
    query: QueryMap,
) -> Result<Response, ApiError> {
    let (q, paging) = query.list_query(&FILTERS, 2, &SORTERS, "c.id", 250)?;
    let tenant = caller.tenant().to_owned();
    let page = state
        .store()
        .read(move |c| managed_clusters::list(c, &tenant, q))
        .await?;
    let items: Vec<Value> = page.items.iter().map(managed_cluster).collect();
    Ok(store_page(items, page.total, &paging))
}

/// `GET /managed-clusters/{id}` (`getManagedCluster`).
pub async fn get_managed_cluster(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let (tenant, key) = (caller.tenant().to_owned(), id.clone());
    let m = state
        .store()
        .read(move |c| managed_clusters::get(c, &tenant, &key))
        .await?
        .ok_or_else(|| not_found(&id))?;
    Ok(Json(managed_cluster(&m)))
}

/// `POST /managed-clusters` (`createManagedCluster`): 200 with the cluster.
pub async fn create_managed_cluster(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<Value>, ApiError> {
    let body = object(body)?;
    let now = state.clock().now();
    let mut m = ManagedCluster {
        id: secrets::new_id(),
        tenant_id: caller.tenant().to_owned(),
        name: String::new(),
        kind: String::new(),
        description: None,
        operational: true,
        status: "NORMAL".into(),
        document: Value::Null,
        created: now,
        modified: now,
    };
    read_body(&mut m, &body)?;
    let stored = m.clone();
    state
        .store()
        .write(move |c| managed_clusters::insert(c, &stored))
        .await
        .map_err(name_taken("managed cluster", &m.name))?;
    Ok(Json(managed_cluster(&m)))
}

/// `PATCH /managed-clusters/{id}` (`updateManagedCluster`): `name`, `type`, `description`,
/// `configuration` and the other descriptive fields.
pub async fn update_managed_cluster(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<Value>, ApiError> {
    let (tenant, key) = (caller.tenant().to_owned(), id.clone());
    let mut m = state
        .store()
        .read(move |c| managed_clusters::get(c, &tenant, &key))
        .await?
        .ok_or_else(|| not_found(&id))?;
    let doc = patched(
        managed_cluster(&m),
        body,
        &[
            "id",
            "pod",
            "org",
            "createdAt",
            "updatedAt",
            "operational",
            "status",
            "clientType",
        ],
    )?;
    read_body(&mut m, &doc)?;
    m.modified = state.clock().now();
    let stored = m.clone();
    let updated = state
        .store()
        .write(move |c| managed_clusters::update(c, &stored))
        .await
        .map_err(name_taken("managed cluster", &m.name))?;
    if !updated {
        return Err(not_found(&id));
    }
    Ok(Json(managed_cluster(&m)))
}

/// How managed clusters are deleted.
static CLUSTER_DELETION: Deletion = Deletion {
    what: "managed cluster",
    name_of: |c, t, id| Ok(managed_clusters::get(c, t, id)?.map(|v| v.name)),
    usages: managed_clusters::usages,
    delete: managed_clusters::delete,
};

/// `DELETE /managed-clusters/{id}` (`deleteManagedCluster`): 204; 400 while sources run on it.
pub async fn delete_managed_cluster(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    query: QueryMap,
) -> Result<StatusCode, ApiError> {
    query.bool("removeClients", false)?;
    if delete_unless_used(&state, caller.tenant(), &id, &CLUSTER_DELETION).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_found(&id))
    }
}
