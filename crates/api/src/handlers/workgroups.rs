//! `/workgroups` (v2024, beta): governance groups and their members.

use crate::auth::{secrets, Caller};
use crate::error::ApiError;
use crate::extract::{store_page, ApiJson, QueryMap};
use crate::handlers::catalog::{
    delete_unless_used, name_taken, object, opt_string, patched, reference_id, required_string,
    unknown_reference, Deletion,
};
use crate::wire::workgroups::{WorkgroupDto, WorkgroupMember};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use gatehouse_filter::{Field, FieldKind, FilterSpec, Op, SortSpec};
use gatehouse_store::governance_groups::{self, GovernanceGroup};
use gatehouse_store::identities;
use serde_json::{Map, Value};

/// `filters` of `listWorkgroups`.
pub static FILTERS: FilterSpec = FilterSpec {
    fields: &[
        Field {
            name: "id",
            column: "g.id",
            kind: FieldKind::Text,
            ops: &[Op::Eq, Op::In, Op::Sw],
        },
        Field {
            name: "name",
            column: "g.name",
            kind: FieldKind::TextCi,
            ops: &[Op::Eq, Op::Sw, Op::In],
        },
        Field {
            name: "memberships.identityId",
            column:
                "select gm.identity_id from governance_group_member gm where gm.group_id = g.id",
            kind: FieldKind::TextSet,
            ops: &[Op::Eq, Op::In],
        },
    ],
};

/// `sorters` of `listWorkgroups`.
pub static SORTERS: SortSpec = SortSpec {
    fields: &[
        ("name", "g.name"),
        ("created", "g.created"),
        ("modified", "g.modified"),
        ("id", "g.id"),
        ("description", "g.description"),
    ],
};

/// `sorters` of `listWorkgroupMembers` (`created`/`modified` of the person).
pub static MEMBER_SORTERS: SortSpec = SortSpec {
    fields: &[
        ("name", "i.name"),
        ("created", "i.created"),
        ("modified", "i.modified"),
    ],
};

static NO_FILTERS: FilterSpec = FilterSpec { fields: &[] };

fn not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!("Governance group '{id}' was not found."))
}

fn read_body(g: &mut GovernanceGroup, body: &Map<String, Value>) -> Result<(), ApiError> {
    g.name = required_string(body, "name")?;
    g.description = opt_string(body, "description")?;
    if body.get("owner").is_some_and(Value::is_null) {
        return Err(ApiError::illegal(
            "'owner' may not be null: name an identity, or leave it out.",
        ));
    }
    g.owner_id = reference_id(body, "owner", &["IDENTITY"])?;
    Ok(())
}

/// Stores `g` after checking its owner exists; `insert` or update.
async fn save(
    state: &AppState,
    g: GovernanceGroup,
    insert: bool,
) -> Result<WorkgroupDto, ApiError> {
    let name = g.name.clone();
    let saved = state
        .store()
        .write(move |c| {
            if let Some(owner) = &g.owner_id {
                if !identities::missing(c, &g.tenant_id, std::slice::from_ref(owner))?.is_empty() {
                    return Ok(Err(unknown_reference("owner.id", "identity", owner)));
                }
            }
            let done = if insert {
                governance_groups::insert(c, &g)?;
                true
            } else {
                governance_groups::update(c, &g)?
            };
            if !done {
                return Ok(Err(not_found(&g.id)));
            }
            Ok(Ok(governance_groups::get(c, &g.tenant_id, &g.id)?))
        })
        .await
        .map_err(name_taken("governance group", &name))??;
    saved
        .as_ref()
        .map(WorkgroupDto::from)
        .ok_or_else(|| ApiError::Internal("a saved group vanished".into()))
}

/// `GET /workgroups` (`listWorkgroups`).
pub async fn list_workgroups(
    State(state): State<AppState>,
    caller: Caller,
    query: QueryMap,
) -> Result<Response, ApiError> {
    let (q, paging) = query.list_query(&FILTERS, 2, &SORTERS, "g.id", 250)?;
    let tenant = caller.tenant().to_owned();
    let page = state
        .store()
        .read(move |c| governance_groups::list(c, &tenant, q))
        .await?;
    let items: Vec<WorkgroupDto> = page.items.iter().map(WorkgroupDto::from).collect();
    Ok(store_page(items, page.total, &paging))
}

/// `GET /workgroups/{id}` (`getWorkgroup`).
pub async fn get_workgroup(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<WorkgroupDto>, ApiError> {
    let (tenant, key) = (caller.tenant().to_owned(), id.clone());
    let g = state
        .store()
        .read(move |c| governance_groups::get(c, &tenant, &key))
        .await?
        .ok_or_else(|| not_found(&id))?;
    Ok(Json(WorkgroupDto::from(&g)))
}

/// `POST /workgroups` (`createWorkgroup`): 200 with the group.
pub async fn create_workgroup(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<WorkgroupDto>, ApiError> {
    let body = object(body)?;
    let now = state.clock().now();
    let mut g = GovernanceGroup {
        id: secrets::new_id(),
        tenant_id: caller.tenant().to_owned(),
        name: String::new(),
        description: None,
        owner_id: None,
        created: now,
        modified: now,
    };
    read_body(&mut g, &body)?;
    Ok(Json(save(&state, g, true).await?))
}

/// `PATCH /workgroups/{id}` (`patchWorkgroup`): `name`, `description` and `owner`.
pub async fn patch_workgroup(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<WorkgroupDto>, ApiError> {
    let (tenant, key) = (caller.tenant().to_owned(), id.clone());
    let current = state
        .store()
        .read(move |c| governance_groups::get(c, &tenant, &key))
        .await?
        .ok_or_else(|| not_found(&id))?;
    let view = serde_json::to_value(WorkgroupDto::from(&current))
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let doc = patched(
        view,
        body,
        &[
            "id",
            "memberCount",
            "connectionCount",
            "created",
            "modified",
        ],
    )?;
    let mut g = current.group;
    read_body(&mut g, &doc)?;
    g.modified = state.clock().now();
    Ok(Json(save(&state, g, false).await?))
}

/// How governance groups are deleted.
static WORKGROUP_DELETION: Deletion = Deletion {
    what: "governance group",
    name_of: |c, t, id| Ok(governance_groups::get(c, t, id)?.map(|v| v.group.name)),
    usages: governance_groups::usages,
    delete: governance_groups::delete,
};

/// `DELETE /workgroups/{id}` (`deleteWorkgroup`): 204; 400 while a source or an approval scheme
/// refers to it.
pub async fn delete_workgroup(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if delete_unless_used(&state, caller.tenant(), &id, &WORKGROUP_DELETION).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_found(&id))
    }
}

/// `GET /workgroups/{workgroupId}/members` (`listWorkgroupMembers`): `limit` at most 50.
pub async fn list_workgroup_members(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    query: QueryMap,
) -> Result<Response, ApiError> {
    let (q, paging) = query.list_query(&NO_FILTERS, 2, &MEMBER_SORTERS, "i.id", 50)?;
    let (tenant, key) = (caller.tenant().to_owned(), id.clone());
    let page = state
        .store()
        .read(move |c| {
            if governance_groups::get(c, &tenant, &key)?.is_none() {
                return Ok(None);
            }
            governance_groups::members(c, &key, q).map(Some)
        })
        .await?
        .ok_or_else(|| not_found(&id))?;
    let items: Vec<WorkgroupMember> = page.items.iter().map(WorkgroupMember::from).collect();
    Ok(store_page(items, page.total, &paging))
}
