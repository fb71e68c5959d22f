//! `/roles`: bundles of access profiles and entitlements, with their own approval schemes.

use crate::auth::{secrets, Caller};
use crate::error::ApiError;
use crate::extract::{store_page, ApiJson, QueryMap};
use crate::handlers::catalog::{
    approval_groups, bool_or, delete_unless_used, document, name_taken, object, opt_object,
    opt_string, patched, reference_id, reference_ids, required_string, unknown_reference, Deletion,
};
use crate::handlers::entitlements::no_segments;
use crate::wire::access::{role, ROLE_APPROVERS};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use gatehouse_filter::{Field, FieldKind, FilterSpec, Op, SortSpec};
use gatehouse_store::roles::{self, Role};
use gatehouse_store::{
    access_profiles, entitlements, governance_groups, identities, Conn, StoreError,
};
use serde_json::{Map, Value};

use FieldKind::{Bool, DateTime, Text, TextCi};
use Op::{Eq, Ge, Gt, In, Le, Lt, Sw};

/// `filters` of `listRoles`.
pub static FILTERS: FilterSpec = FilterSpec {
    fields: &[
        Field {
            name: "id",
            column: "r.id",
            kind: Text,
            ops: &[Eq, In],
        },
        Field {
            name: "name",
            column: "r.name",
            kind: TextCi,
            ops: &[Eq, Sw],
        },
        Field {
            name: "created",
            column: "r.created",
            kind: DateTime,
            ops: &[Gt, Ge, Le],
        },
        Field {
            name: "modified",
            column: "r.modified",
            kind: DateTime,
            ops: &[Lt, Ge, Le],
        },
        Field {
            name: "owner.id",
            column: "r.owner_id",
            kind: Text,
            ops: &[Eq, In],
        },
        Field {
            name: "requestable",
            column: "r.requestable",
            kind: Bool,
            ops: &[Eq],
        },
        Field {
            name: "dimensional",
            column: "r.dimensional",
            kind: Bool,
            ops: &[Eq],
        },
    ],
};

/// `sorters` of `listRoles`.
pub static SORTERS: SortSpec = SortSpec {
    fields: &[
        ("name", "r.name"),
        ("created", "r.created"),
        ("modified", "r.modified"),
    ],
};

const CORE: &[&str] = &[
    "id",
    "name",
    "description",
    "created",
    "modified",
    "enabled",
    "owner",
    "accessProfiles",
    "entitlements",
    "requestable",
    "dimensional",
    "accessRequestConfig",
    "revocationRequestConfig",
];

fn not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!("Role '{id}' was not found."))
}

fn read_body(r: &mut Role, body: &Map<String, Value>) -> Result<Vec<String>, ApiError> {
    r.name = required_string(body, "name")?;
    r.description = opt_string(body, "description")?;
    r.owner_id =
        reference_id(body, "owner", &["IDENTITY"])?.ok_or_else(|| ApiError::missing("owner"))?;
    r.access_profile_ids = reference_ids(body, "accessProfiles", "ACCESS_PROFILE")?;
    r.entitlement_ids = reference_ids(body, "entitlements", "ENTITLEMENT")?;
    r.enabled = bool_or(body, "enabled", false)?;
    r.requestable = bool_or(body, "requestable", false)?;
    r.dimensional = bool_or(body, "dimensional", false)?;
    r.access_request_config = opt_object(body, "accessRequestConfig")?;
    r.revocation_request_config = opt_object(body, "revocationRequestConfig")?;
    let mut groups = approval_groups(
        r.access_request_config.as_ref(),
        "accessRequestConfig",
        ROLE_APPROVERS,
    )?;
    groups.extend(approval_groups(
        r.revocation_request_config.as_ref(),
        "revocationRequestConfig",
        ROLE_APPROVERS,
    )?);
    super::role_membership::check(body.get("membership"))?;
    r.document = document(body, CORE);
    Ok(groups)
}

fn check(
    c: &mut dyn Conn,
    r: &Role,
    groups: &[String],
) -> Result<Result<(), ApiError>, StoreError> {
    let t = &r.tenant_id;
    if let Some(id) = identities::missing(c, t, std::slice::from_ref(&r.owner_id))?.pop() {
        return Ok(Err(unknown_reference("owner.id", "identity", &id)));
    }
    if let Some(id) = access_profiles::missing(c, t, &r.access_profile_ids)?.first() {
        return Ok(Err(unknown_reference(
            "accessProfiles",
            "access profile",
            id,
        )));
    }
    if let Some((id, _)) = entitlements::sources_of(c, t, &r.entitlement_ids)?
        .into_iter()
        .find(|(_, s)| s.is_none())
    {
        return Ok(Err(unknown_reference("entitlements", "entitlement", &id)));
    }
    if let Some(id) = governance_groups::missing(c, t, groups)?.pop() {
        return Ok(Err(unknown_reference(
            "approvalSchemes.approverId",
            "governance group",
            &id,
        )));
    }
    Ok(Ok(()))
}

async fn save(
    state: &AppState,
    r: Role,
    groups: Vec<String>,
    insert: bool,
) -> Result<Value, ApiError> {
    let name = r.name.clone();
    let view = state
        .store()
        .write(move |c| {
            if let Err(e) = check(c, &r, &groups)? {
                return Ok(Err(e));
            }
            let done = if insert {
                roles::insert(c, &r)?;
                true
            } else {
                roles::update(c, &r)?
            };
            if !done {
                return Ok(Err(not_found(&r.id)));
            }
            Ok(Ok(roles::get(c, &r.tenant_id, &r.id)?))
        })
        .await
        .map_err(name_taken("role", &name))??;
    view.as_ref()
        .map(role)
        .ok_or_else(|| ApiError::Internal("a saved role vanished".into()))
}

/// `GET /roles` (`listRoles`): `limit` at most 50.
pub async fn list_roles(
    State(state): State<AppState>,
    caller: Caller,
    query: QueryMap,
) -> Result<Response, ApiError> {
    no_segments(&query, &[])?;
    let (q, paging) = query.list_query(&FILTERS, 2, &SORTERS, "r.id", 50)?;
    let tenant = caller.tenant().to_owned();
    let page = state
        .store()
        .read(move |c| roles::list(c, &tenant, q))
        .await?;
    let items: Vec<Value> = page.items.iter().map(role).collect();
    Ok(store_page(items, page.total, &paging))
}

async fn current(state: &AppState, caller: &Caller, id: &str) -> Result<roles::RoleView, ApiError> {
    let (tenant, key) = (caller.tenant().to_owned(), id.to_owned());
    state
        .store()
        .read(move |c| roles::get(c, &tenant, &key))
        .await?
        .ok_or_else(|| not_found(id))
}

/// `GET /roles/{id}` (`getRole`).
pub async fn get_role(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(role(&current(&state, &caller, &id).await?)))
}

/// `POST /roles` (`createRole`): 201 with the role.
pub async fn create_role(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, ApiError> {
    let body = object(body)?;
    let now = state.clock().now();
    let mut r = Role {
        id: secrets::new_id(),
        tenant_id: caller.tenant().to_owned(),
        name: String::new(),
        description: None,
        owner_id: String::new(),
        enabled: false,
        requestable: false,
        dimensional: false,
        access_request_config: None,
        revocation_request_config: None,
        access_profile_ids: Vec::new(),
        entitlement_ids: Vec::new(),
        document: Value::Null,
        created: now,
        modified: now,
    };
    let groups = read_body(&mut r, &body)?;
    let view = save(&state, r, groups, true).await?;
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

/// `PATCH /roles/{id}` (`patchRole`).
pub async fn patch_role(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<Value>, ApiError> {
    let v = current(&state, &caller, &id).await?;
    let doc = patched(role(&v), body, &["id", "created", "modified"])?;
    let mut r = v.role;
    let groups = read_body(&mut r, &doc)?;
    r.modified = state.clock().now();
    Ok(Json(save(&state, r, groups, false).await?))
}

/// How roles are deleted.
static ROLE_DELETION: Deletion = Deletion {
    what: "role",
    name_of: |c, t, id| Ok(roles::get(c, t, id)?.map(|v| v.role.name)),
    usages: roles::usages,
    delete: roles::delete,
};

/// `DELETE /roles/{id}` (`deleteRole`): 204; 400 while someone holds it.
pub async fn delete_role(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if delete_unless_used(&state, caller.tenant(), &id, &ROLE_DELETION).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_found(&id))
    }
}
