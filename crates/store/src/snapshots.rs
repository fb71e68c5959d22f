//! Named snapshots of a tenant, for test suites: take one, change things, restore it, and the
//! tenant is back exactly as it was, in one transaction.
//!
//! A snapshot copies every row of every table in [`TENANT_TABLES`] (so tables that later features
//! add are covered once they are listed there) as JSON arrays of column values, with the column
//! names, in chunks of [`CHUNK_ROWS`] rows. Restore is a reset (keeping the caller's access, see
//! [`Keep`]) followed by inserting the rows back, parents before children, many rows per statement.

use crate::bulk::{insert_rows, parents_first};
use crate::tenants::{self, Keep, TenantTable, TENANT_TABLES};
use crate::{Conn, Row, StoreError, Value};
use gatehouse_domain::Timestamp;
use serde_json::Value as Json;
use std::collections::HashSet;

/// Rows per stored chunk.
pub const CHUNK_ROWS: usize = 5_000;

/// A snapshot as listed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// Id (32 hex).
    pub id: String,
    /// Name, unique per tenant.
    pub name: String,
    /// Schema version when taken.
    pub schema_version: i64,
    /// Rows copied.
    pub row_count: i64,
    /// Taken at.
    pub created: Timestamp,
}

const COLUMNS: &str = "id, name, schema_version, row_count, created";

fn of(r: &Row) -> Result<Snapshot, StoreError> {
    Ok(Snapshot {
        id: r.text(0)?,
        name: r.text(1)?,
        schema_version: r.int(2)?,
        row_count: r.int(3)?,
        created: r.ts(4)?,
    })
}

/// The tenant's snapshots, by name.
pub fn list(c: &mut dyn Conn, tenant_id: &str) -> Result<Vec<Snapshot>, StoreError> {
    c.query(
        &format!("select {COLUMNS} from tenant_snapshot where tenant_id = $1 order by name"),
        &[tenant_id.into()],
    )?
    .iter()
    .map(of)
    .collect()
}

/// One snapshot by name.
pub fn get(c: &mut dyn Conn, tenant_id: &str, name: &str) -> Result<Option<Snapshot>, StoreError> {
    c.query_opt(
        &format!("select {COLUMNS} from tenant_snapshot where tenant_id = $1 and name = $2"),
        &[tenant_id.into(), name.into()],
    )?
    .as_ref()
    .map(of)
    .transpose()
}

/// Deletes a snapshot. False when there was none of that name.
pub fn delete(c: &mut dyn Conn, tenant_id: &str, name: &str) -> Result<bool, StoreError> {
    let Some(s) = get(c, tenant_id, name)? else {
        return Ok(false);
    };
    c.execute(
        "delete from tenant_snapshot_chunk where snapshot_id = $1",
        &[s.id.clone().into()],
    )?;
    c.execute("delete from tenant_snapshot where id = $1", &[s.id.into()])?;
    Ok(true)
}

fn to_json(v: Value) -> Json {
    match v {
        Value::Null => Json::Null,
        Value::Int(i) => Json::from(i),
        Value::Float(f) => Json::from(f),
        Value::Text(s) => Json::String(s),
        Value::Bool(b) => Json::Bool(b),
        Value::Blob(b) => serde_json::json!({ "blob": b }),
    }
}

fn from_json(v: Json) -> Result<Value, StoreError> {
    Ok(match v {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64().unwrap_or(0.0)),
        },
        Json::String(s) => Value::Text(s),
        Json::Object(mut o) => match o.remove("blob") {
            Some(b) => Value::Blob(serde_json::from_value(b)?),
            None => return Err(StoreError::Decode("a snapshot value is an object".into())),
        },
        Json::Array(_) => return Err(StoreError::Decode("a snapshot value is an array".into())),
    })
}

/// Takes snapshot `name` of tenant `tenant_id` (id `id`). An existing snapshot of that name is a
/// `Conflict`, unless `replace`.
pub fn take(
    c: &mut dyn Conn,
    tenant_id: &str,
    name: &str,
    id: &str,
    now: Timestamp,
    replace: bool,
) -> Result<Snapshot, StoreError> {
    if get(c, tenant_id, name)?.is_some() {
        if !replace {
            return Err(StoreError::Conflict(format!(
                "a snapshot named '{name}' exists"
            )));
        }
        delete(c, tenant_id, name)?;
    }
    let version = c
        .query_one("select max(version) from schema_migration", &[])?
        .int(0)?;
    c.execute(
        "insert into tenant_snapshot (id, tenant_id, name, schema_version, row_count, created) values ($1, $2, $3, $4, 0, $5)",
        &[id.into(), tenant_id.into(), name.into(), version.into(), now.into()],
    )?;
    let mut total = 0_i64;
    for t in TENANT_TABLES {
        let columns = tenants::table_columns(c, t.name)?;
        let rows = c.query(
            &format!(
                "select {} from {} where {}",
                columns.join(", "),
                t.name,
                t.scope_sql()
            ),
            &[tenant_id.into()],
        )?;
        total += rows.len() as i64;
        let columns_json = serde_json::to_string(&columns)?;
        for (seq, chunk) in rows.chunks(CHUNK_ROWS).enumerate() {
            let data: Vec<Json> = chunk
                .iter()
                .map(|r| Json::Array(r.0.iter().cloned().map(to_json).collect()))
                .collect();
            c.execute(
                "insert into tenant_snapshot_chunk (snapshot_id, table_name, seq, columns, rows) values ($1, $2, $3, $4, $5)",
                &[
                    id.into(),
                    t.name.into(),
                    (seq as i64).into(),
                    columns_json.clone().into(),
                    serde_json::to_string(&data)?.into(),
                ],
            )?;
        }
    }
    c.execute(
        "update tenant_snapshot set row_count = $1 where id = $2",
        &[total.into(), id.into()],
    )?;
    Ok(Snapshot {
        id: id.to_owned(),
        name: name.to_owned(),
        schema_version: version,
        row_count: total,
        created: now,
    })
}

/// What a restore did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Restored {
    /// The snapshot.
    pub snapshot: Snapshot,
    /// Rows deleted by the reset.
    pub deleted: u64,
    /// Rows inserted from the snapshot.
    pub inserted: u64,
}

fn restore_table(
    c: &mut dyn Conn,
    snapshot_id: &str,
    t: &TenantTable,
    keep: &Keep,
) -> Result<u64, StoreError> {
    let chunks = c.query(
        "select columns, rows from tenant_snapshot_chunk where snapshot_id = $1 and table_name = $2 order by seq",
        &[snapshot_id.into(), t.name.into()],
    )?;
    let Some(first) = chunks.first() else {
        return Ok(0);
    };
    let columns: Vec<String> = first.json(0)?;
    let now_columns = tenants::table_columns(c, t.name)?;
    if let Some(gone) = columns.iter().find(|col| !now_columns.contains(col)) {
        return Err(StoreError::Decode(format!(
            "the snapshot has column {}.{gone}, which the schema no longer has",
            t.name
        )));
    }
    let mut rows: Vec<Vec<Value>> = Vec::new();
    for chunk in &chunks {
        let data: Vec<Vec<Json>> = chunk.json(1)?;
        for r in data {
            rows.push(r.into_iter().map(from_json).collect::<Result<_, _>>()?);
        }
    }
    let id_at = columns.iter().position(|col| col == "id");
    let kept: HashSet<&str> = keep.ids(t).iter().map(String::as_str).collect();
    if let (Some(i), false) = (id_at, kept.is_empty()) {
        rows.retain(|r| !matches!(&r[i], Value::Text(id) if kept.contains(id.as_str())));
    }
    if let (Some(i), Some(col)) = (id_at, t.self_ref) {
        if let Some(j) = columns.iter().position(|c| c == col) {
            let text = |v: &Value| match v {
                Value::Text(s) => Some(s.clone()),
                _ => None,
            };
            let ids: Vec<String> = rows
                .iter()
                .map(|r| text(&r[i]).unwrap_or_default())
                .collect();
            let refs: Vec<Option<String>> = rows.iter().map(|r| text(&r[j])).collect();
            let order = parents_first(
                &ids.iter().map(String::as_str).collect::<Vec<_>>(),
                &refs.iter().map(Option::as_deref).collect::<Vec<_>>(),
            );
            let mut slots: Vec<Option<Vec<Value>>> = rows.into_iter().map(Some).collect();
            rows = order.into_iter().filter_map(|k| slots[k].take()).collect();
        }
    }
    insert_rows(c, t.name, &columns, rows, "", &mut |_| {})
}

/// Restores snapshot `name`: the tenant's data becomes exactly the snapshot's, except the rows
/// `keep` names, which stay as they are now. `None` when there is no snapshot of that name.
pub fn restore(
    c: &mut dyn Conn,
    tenant_id: &str,
    name: &str,
    keep: &Keep,
) -> Result<Option<Restored>, StoreError> {
    let Some(snapshot) = get(c, tenant_id, name)? else {
        return Ok(None);
    };
    let deleted = tenants::reset(c, tenant_id, keep)?;
    let mut inserted = 0;
    for t in TENANT_TABLES {
        inserted += restore_table(c, &snapshot.id, t, keep)?;
    }
    Ok(Some(Restored {
        snapshot,
        deleted,
        inserted,
    }))
}
