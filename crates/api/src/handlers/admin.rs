//! Gatehouse's own admin and test API under `/gatehouse/v1/` (ORG_ADMIN only): create people, mint
//! a personal access token for anyone (so a test can act as any person), reset the tenant to empty
//! or to the demo data, take and restore named snapshots, and read or move the virtual clock.

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::handlers::pats::create_for;
use crate::routes::Family;
use crate::wire::pats::{CreatePersonalAccessTokenRequest, CreatePersonalAccessTokenResponse};
use crate::wire::ts;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use gatehouse_domain::{Authority, Timestamp};
use gatehouse_store::snapshots::{self, Snapshot};
use gatehouse_store::tenant_data;
use gatehouse_store::tenants::{self, Identity, Keep};
use gatehouse_store::StoreError;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// A person to create.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewIdentity {
    /// Unique user name.
    pub name: Option<String>,
    /// Display name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// E-mail.
    #[serde(default)]
    pub email: Option<String>,
    /// User levels (default `["USER"]`).
    #[serde(default)]
    pub authorities: Option<Vec<String>>,
    /// The id of the person's manager (an identity of the same tenant).
    #[serde(default)]
    pub manager_id: Option<String>,
}

/// A person, as the admin API shows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentityView {
    /// Id.
    pub id: String,
    /// User name.
    pub name: String,
    /// Display name.
    pub display_name: Option<String>,
    /// E-mail.
    pub email: Option<String>,
    /// User levels.
    pub authorities: Vec<String>,
    /// Manager's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manager_id: Option<String>,
    /// Created.
    pub created: String,
    /// Modified.
    pub modified: String,
}

impl From<&Identity> for IdentityView {
    fn from(i: &Identity) -> Self {
        Self {
            id: i.id.clone(),
            name: i.name.clone(),
            display_name: i.display_name.clone(),
            email: i.email.clone(),
            authorities: i.authorities.clone(),
            manager_id: None,
            created: ts(i.created),
            modified: ts(i.modified),
        }
    }
}

/// `POST /gatehouse/v1/identities`: 201 with the new person.
pub async fn create_identity(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<NewIdentity>,
) -> Result<(StatusCode, Json<IdentityView>), ApiError> {
    let name = body.name.unwrap_or_default();
    if name.trim().is_empty() {
        return Err(ApiError::missing("name"));
    }
    let authorities = body.authorities.unwrap_or_else(|| vec!["USER".into()]);
    if let Some(bad) = authorities.iter().find(|a| Authority::parse(a).is_none()) {
        return Err(ApiError::illegal(format!("'{bad}' is not a user level.")));
    }
    let now = state.clock().now();
    let identity = Identity {
        id: crate::auth::secrets::new_id(),
        tenant_id: caller.tenant().to_owned(),
        name,
        display_name: body.display_name,
        email: body.email,
        authorities,
        created: now,
        modified: now,
    };
    let stored = identity.clone();
    let manager = body.manager_id.clone();
    match state
        .store()
        .write(move |c| {
            if let Some(m) = &manager {
                if tenants::identity(c, &stored.tenant_id, m)?.is_none() {
                    return Ok(false);
                }
            }
            tenants::insert_identity(c, &stored)?;
            if let Some(m) = &manager {
                c.execute(
                    "update identity set manager_id = $2 where id = $1",
                    &[stored.id.as_str().into(), m.as_str().into()],
                )?;
            }
            Ok(true)
        })
        .await
    {
        Ok(true) => {
            let mut view = IdentityView::from(&identity);
            view.manager_id = body.manager_id;
            Ok((StatusCode::CREATED, Json(view)))
        }
        Ok(false) => Err(ApiError::unknown_reference(format!(
            "managerId '{}' is not an identity of this tenant.",
            body.manager_id.unwrap_or_default()
        ))),
        Err(StoreError::Conflict(_)) => Err(ApiError::conflict(format!(
            "An identity named '{}' already exists.",
            identity.name
        ))),
        Err(e) => Err(e.into()),
    }
}

/// `POST /gatehouse/v1/identities/{id}/personal-access-tokens`: a PAT for any person, same answer
/// as `createPersonalAccessToken`.
pub async fn create_identity_personal_access_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CreatePersonalAccessTokenRequest>,
) -> Result<Json<CreatePersonalAccessTokenResponse>, ApiError> {
    let (tenant, key) = (caller.tenant().to_owned(), id.clone());
    let owner = state
        .store()
        .read(move |c| tenants::identity(c, &tenant, &key))
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("Identity '{id}' was not found.")))?;
    Ok(Json(create_for(&state, owner, body, Family::V3).await?))
}

/// One item a person holds, as `GET /gatehouse/v1/identities/{id}/access` shows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HeldAccess {
    /// Assignment id.
    pub id: String,
    /// ROLE, ACCESS_PROFILE or ENTITLEMENT.
    #[serde(rename = "type")]
    pub item_type: &'static str,
    /// The item's id.
    pub item_id: String,
    /// ACCESS_REQUEST, ROLE_MEMBERSHIP, BIRTHRIGHT or IMPORT.
    pub reason: &'static str,
    /// The access request that granted it.
    pub access_request_id: Option<String>,
    /// Sunrise.
    pub start_date: Option<String>,
    /// Sunset.
    pub remove_date: Option<String>,
    /// Granted at.
    pub created: String,
}

/// `GET /gatehouse/v1/identities/{id}/access`: what a person holds, and why (the assignments
/// that access requests grant and revoke).
pub async fn list_identity_access(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Vec<HeldAccess>>, ApiError> {
    let (tenant, key) = (caller.tenant().to_owned(), id.clone());
    let held = state
        .store()
        .read(move |c| {
            if tenants::identity(c, &tenant, &key)?.is_none() {
                return Ok(None);
            }
            gatehouse_store::assignments::for_identity(c, &tenant, &key).map(Some)
        })
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("Identity '{id}' was not found.")))?;
    Ok(Json(
        held.into_iter()
            .map(|a| HeldAccess {
                id: a.id,
                item_type: a.item_type.as_str(),
                item_id: a.item_id,
                reason: a.reason.as_str(),
                access_request_id: a.access_request_id,
                start_date: a.start_date.map(ts),
                remove_date: a.remove_date.map(ts),
                created: ts(a.created),
            })
            .collect(),
    ))
}

/// The optional body of `POST /gatehouse/v1/tenant/reset`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResetRequest {
    /// `empty` (the default) or `demo`.
    #[serde(default)]
    pub to: Option<String>,
}

/// Reads an optional JSON body: empty is `T::default()`.
fn optional_json<T: DeserializeOwned + Default>(body: &Bytes) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("The request body is not valid: {e}.")))
}

/// What a reset and a restore keep: the caller, the token it used, and the managed admin PATs.
fn keep_for(c: &mut dyn gatehouse_store::Conn, caller: &Caller) -> Result<Keep, StoreError> {
    Keep::for_caller(
        c,
        caller.tenant(),
        caller.principal.identity_id.as_deref(),
        Some(&caller.principal.client_id),
    )
}

/// `POST /gatehouse/v1/tenant/reset` with an optional `{"to": "empty" | "demo"}`: deletes every
/// row of the tenant (then loads the demo tenant for `demo`) in one transaction. The calling
/// administrator, the token they called with and the managed admin token are kept.
pub async fn reset_tenant(
    State(state): State<AppState>,
    caller: Caller,
    body: Bytes,
) -> Result<Json<serde_json::Value>, ApiError> {
    let req: ResetRequest = optional_json(&body)?;
    let demo = match req.to.as_deref() {
        None | Some("empty") => false,
        Some("demo") => true,
        Some(other) => {
            return Err(ApiError::illegal(format!(
                "'to' must be \"empty\" or \"demo\", not '{other}'."
            )))
        }
    };
    let launcher = caller.identity()?.to_owned();
    let tenant = caller.tenant().to_owned();
    let now = state.clock().now();
    let c2 = caller.clone();
    let (deleted, loaded) = state
        .store()
        .write(move |c| {
            let keep = keep_for(c, &c2)?;
            let deleted = tenants::reset(c, c2.tenant(), &keep)?;
            let loaded = if demo {
                let by = tenant_data::task::Launcher::Identity(launcher);
                Some(tenant_data::import_demo(c, c2.tenant(), now, by)?)
            } else {
                None
            };
            Ok((deleted, loaded))
        })
        .await?;
    let mut out = serde_json::json!({
        "tenantId": tenant,
        "state": if demo { "demo" } else { "empty" },
        "deleted": deleted,
    });
    if let Some(s) = loaded {
        out["created"] = s
            .kinds
            .iter()
            .map(|(k, c)| (k.to_string(), serde_json::json!(c.created)))
            .collect::<serde_json::Map<_, _>>()
            .into();
    }
    Ok(Json(out))
}

/// A snapshot as the admin API shows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotView {
    /// Name.
    pub name: String,
    /// Taken at.
    pub created: String,
    /// Rows it holds.
    pub row_count: i64,
    /// Schema version when taken.
    pub schema_version: i64,
}

impl From<&Snapshot> for SnapshotView {
    fn from(s: &Snapshot) -> Self {
        Self {
            name: s.name.clone(),
            created: ts(s.created),
            row_count: s.row_count,
            schema_version: s.schema_version,
        }
    }
}

/// A snapshot to take.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewSnapshot {
    /// Name: 1 to 100 of `A-Z a-z 0-9 . _ -`.
    pub name: Option<String>,
    /// Replace a snapshot of the same name (default false: that is a conflict).
    #[serde(default)]
    pub replace: bool,
}

fn check_snapshot_name(name: &str) -> Result<(), ApiError> {
    let ok = !name.is_empty()
        && name.len() <= 100
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(ApiError::illegal(format!(
            "'{name}' is not a snapshot name: use 1 to 100 letters, digits, '.', '_' or '-'."
        )))
    }
}

/// `POST /gatehouse/v1/tenant/snapshots` `{"name"}`: 201 with the snapshot of every row of the
/// tenant.
pub async fn create_tenant_snapshot(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<NewSnapshot>,
) -> Result<(StatusCode, Json<SnapshotView>), ApiError> {
    let name = body.name.unwrap_or_default();
    if name.is_empty() {
        return Err(ApiError::missing("name"));
    }
    check_snapshot_name(&name)?;
    let (tenant, n, now, id) = (
        caller.tenant().to_owned(),
        name.clone(),
        state.clock().now(),
        crate::auth::secrets::new_id(),
    );
    let replace = body.replace;
    match state
        .store()
        .write(move |c| snapshots::take(c, &tenant, &n, &id, now, replace))
        .await
    {
        Ok(s) => Ok((StatusCode::CREATED, Json(SnapshotView::from(&s)))),
        Err(StoreError::Conflict(_)) => Err(ApiError::conflict(format!(
            "A snapshot named '{name}' exists; delete it first, or send \"replace\": true."
        ))),
        Err(e) => Err(e.into()),
    }
}

/// `GET /gatehouse/v1/tenant/snapshots`: the tenant's snapshots by name.
pub async fn list_tenant_snapshots(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<SnapshotView>>, ApiError> {
    let tenant = caller.tenant().to_owned();
    let list = state
        .store()
        .read(move |c| snapshots::list(c, &tenant))
        .await?;
    Ok(Json(list.iter().map(SnapshotView::from).collect()))
}

/// `POST /gatehouse/v1/tenant/snapshots/{name}/restore`: the tenant becomes the snapshot again, in
/// one transaction; the calling administrator, their token and the managed admin token are kept.
pub async fn restore_tenant_snapshot(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.identity()?;
    let (c2, n) = (caller.clone(), name.clone());
    let started = std::time::Instant::now();
    let restored = state
        .store()
        .write(move |c| {
            let keep = keep_for(c, &c2)?;
            snapshots::restore(c, c2.tenant(), &n, &keep)
        })
        .await;
    match restored {
        Ok(Some(r)) => Ok(Json(serde_json::json!({
            "name": r.snapshot.name,
            "created": ts(r.snapshot.created),
            "deleted": r.deleted,
            "restored": r.inserted,
            "durationMs": u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        }))),
        Ok(None) => Err(ApiError::NotFound(format!(
            "Snapshot '{name}' was not found."
        ))),
        Err(StoreError::Conflict(m)) => Err(ApiError::conflict(format!(
            "The snapshot cannot be restored next to the identities kept for the caller: {m}"
        ))),
        Err(e) => Err(e.into()),
    }
}

/// `DELETE /gatehouse/v1/tenant/snapshots/{name}`: 204.
pub async fn delete_tenant_snapshot(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    let (tenant, n) = (caller.tenant().to_owned(), name.clone());
    if state
        .store()
        .write(move |c| snapshots::delete(c, &tenant, &n))
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound(format!(
            "Snapshot '{name}' was not found."
        )))
    }
}

/// The clock as the admin API shows it.
#[derive(Debug, Serialize)]
pub struct ClockView {
    /// The business clock's reading.
    pub now: String,
    /// True when the server runs with `--clock virtual`.
    #[serde(rename = "virtual")]
    pub is_virtual: bool,
}

fn clock_view(state: &AppState) -> ClockView {
    ClockView {
        now: ts(state.clock().now()),
        is_virtual: state.virtual_clock().is_some(),
    }
}

/// `GET /gatehouse/v1/clock`.
pub async fn get_clock(State(state): State<AppState>, _caller: Caller) -> Json<ClockView> {
    Json(clock_view(&state))
}

/// A clock move: `advance` by an ISO 8601 duration, or set `now`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClockMove {
    /// E.g. `PT36H`, `P2D`, `P1DT30M`.
    #[serde(default)]
    pub advance: Option<String>,
    /// An RFC 3339 instant (not earlier than the clock's current reading).
    #[serde(default)]
    pub now: Option<String>,
}

/// `POST /gatehouse/v1/clock`: moves the virtual clock forward.
pub async fn set_clock(
    State(state): State<AppState>,
    _caller: Caller,
    ApiJson(body): ApiJson<ClockMove>,
) -> Result<Json<ClockView>, ApiError> {
    let Some(clock) = state.virtual_clock() else {
        return Err(ApiError::bad_request(
            "The server runs on the system clock; start it with --clock virtual to move time.",
        ));
    };
    match (body.advance, body.now) {
        (Some(d), None) => {
            let ms = parse_duration_ms(&d).ok_or_else(|| {
                ApiError::illegal(format!("'{d}' is not an ISO 8601 duration such as PT36H."))
            })?;
            clock.advance(ms);
        }
        (None, Some(n)) => {
            let at = Timestamp::parse_rfc3339(&n)
                .map_err(|_| ApiError::illegal(format!("'{n}' is not an RFC 3339 date-time.")))?;
            if at < state.clock().now() {
                return Err(ApiError::illegal("The clock only moves forward."));
            }
            clock.set(at);
        }
        _ => {
            return Err(ApiError::bad_request(
                "Send exactly one of 'advance' and 'now'.",
            ))
        }
    }
    // Timers that the move made due run now.
    state.wake_jobs();
    Ok(Json(clock_view(&state)))
}

/// Parses a non-negative ISO 8601 duration (`PnW`, `PnDTnHnMnS`, fractional seconds allowed) into
/// milliseconds.
pub fn parse_duration_ms(s: &str) -> Option<i64> {
    let rest = s.strip_prefix('P')?;
    if rest.is_empty() {
        return None;
    }
    let (date, time) = match rest.split_once('T') {
        Some((d, t)) if !t.is_empty() => (d, Some(t)),
        Some(_) => return None,
        None => (rest, None),
    };
    let mut total: f64 = 0.0;
    let mut take = |part: &str, units: &[(char, f64)]| -> Option<()> {
        let mut num = String::new();
        let mut last = 0;
        for c in part.chars() {
            if c.is_ascii_digit() || c == '.' {
                num.push(c);
            } else {
                let pos = units.iter().position(|(u, _)| *u == c)?;
                if pos < last || num.is_empty() {
                    return None;
                }
                last = pos + 1;
                total += num.parse::<f64>().ok()? * units[pos].1;
                num.clear();
            }
        }
        num.is_empty().then_some(())
    };
    take(
        date,
        &[
            ('Y', 365.0 * 86_400_000.0),
            ('W', 7.0 * 86_400_000.0),
            ('D', 86_400_000.0),
        ],
    )?;
    if let Some(t) = time {
        take(t, &[('H', 3_600_000.0), ('M', 60_000.0), ('S', 1_000.0)])?;
    }
    (total.is_finite() && total < 1e15).then_some(total as i64)
}

#[cfg(test)]
mod tests {
    use super::parse_duration_ms;

    #[test]
    fn durations() {
        assert_eq!(parse_duration_ms("PT36H"), Some(36 * 3_600_000));
        assert_eq!(parse_duration_ms("P2D"), Some(2 * 86_400_000));
        assert_eq!(parse_duration_ms("P1DT30M"), Some(86_400_000 + 1_800_000));
        assert_eq!(parse_duration_ms("PT0.5S"), Some(500));
        assert_eq!(parse_duration_ms("P1W"), Some(7 * 86_400_000));
        for bad in [
            "", "P", "PT", "36H", "PT-1H", "PTH", "P1H", "PT1D", "PT1M1H",
        ] {
            assert_eq!(parse_duration_ms(bad), None, "{bad}");
        }
    }
}
