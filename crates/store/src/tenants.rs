//! Tenants (orgs) and the identities the foundation needs (the catalog issue extends identities).

use crate::{Conn, Row, StoreError, Value};
use gatehouse_domain::Timestamp;

/// A tenant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tenant {
    /// 32-hex id.
    pub id: String,
    /// Org name (the `org` claim).
    pub name: String,
    /// Created at.
    pub created: Timestamp,
}

/// The first tenant, creating it as `name` with id `id` when the database has none.
pub fn ensure_default(
    c: &mut dyn Conn,
    id: &str,
    name: &str,
    now: Timestamp,
) -> Result<Tenant, StoreError> {
    if let Some(t) = first(c)? {
        return Ok(t);
    }
    c.execute(
        "insert into tenant (id, name, created) values ($1, $2, $3)",
        &[id.into(), name.into(), now.into()],
    )?;
    Ok(Tenant {
        id: id.to_owned(),
        name: name.to_owned(),
        created: now,
    })
}

/// The oldest tenant, if any.
pub fn first(c: &mut dyn Conn) -> Result<Option<Tenant>, StoreError> {
    c.query_opt(
        "select id, name, created from tenant order by created, id limit 1",
        &[],
    )?
    .map(|r| {
        Ok(Tenant {
            id: r.text(0)?,
            name: r.text(1)?,
            created: r.ts(2)?,
        })
    })
    .transpose()
}

/// Looks a tenant up by id.
pub fn get(c: &mut dyn Conn, id: &str) -> Result<Option<Tenant>, StoreError> {
    c.query_opt(
        "select id, name, created from tenant where id = $1",
        &[id.into()],
    )?
    .map(|r| {
        Ok(Tenant {
            id: r.text(0)?,
            name: r.text(1)?,
            created: r.ts(2)?,
        })
    })
    .transpose()
}

/// A person in a tenant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// 32-hex id.
    pub id: String,
    /// Tenant.
    pub tenant_id: String,
    /// Unique user name within the tenant.
    pub name: String,
    /// Display name.
    pub display_name: Option<String>,
    /// E-mail.
    pub email: Option<String>,
    /// User levels (`ORG_ADMIN`, `USER`, …).
    pub authorities: Vec<String>,
    /// Created at.
    pub created: Timestamp,
    /// Modified at.
    pub modified: Timestamp,
}

const IDENTITY_COLUMNS: &str =
    "id, tenant_id, name, display_name, email, authorities, created, modified";

fn identity_of(r: &Row) -> Result<Identity, StoreError> {
    Ok(Identity {
        id: r.text(0)?,
        tenant_id: r.text(1)?,
        name: r.text(2)?,
        display_name: r.opt_text(3)?,
        email: r.opt_text(4)?,
        authorities: r.json(5)?,
        created: r.ts(6)?,
        modified: r.ts(7)?,
    })
}

/// Inserts `i`.
pub fn insert_identity(c: &mut dyn Conn, i: &Identity) -> Result<(), StoreError> {
    c.execute(
        &format!(
            "insert into identity ({IDENTITY_COLUMNS}) values ($1, $2, $3, $4, $5, $6, $7, $8)"
        ),
        &[
            i.id.clone().into(),
            i.tenant_id.clone().into(),
            i.name.clone().into(),
            i.display_name.clone().into(),
            i.email.clone().into(),
            serde_json::to_string(&i.authorities)?.into(),
            i.created.into(),
            i.modified.into(),
        ],
    )?;
    Ok(())
}

/// Looks an identity up by id within `tenant_id`.
pub fn identity(
    c: &mut dyn Conn,
    tenant_id: &str,
    id: &str,
) -> Result<Option<Identity>, StoreError> {
    c.query_opt(
        &format!("select {IDENTITY_COLUMNS} from identity where tenant_id = $1 and id = $2"),
        &[tenant_id.into(), id.into()],
    )?
    .as_ref()
    .map(identity_of)
    .transpose()
}

/// The user names of the identities `ids` of `tenant_id`, in one query (unknown ids are left out).
pub fn identity_names(
    c: &mut dyn Conn,
    tenant_id: &str,
    ids: &[&str],
) -> Result<std::collections::HashMap<String, String>, StoreError> {
    let mut unique: Vec<&str> = ids.to_vec();
    unique.sort_unstable();
    unique.dedup();
    let mut names = std::collections::HashMap::new();
    for chunk in unique.chunks(500) {
        let mut params: Vec<Value> = vec![tenant_id.into()];
        let mut list = String::new();
        for id in chunk {
            params.push((*id).into());
            if list.is_empty() {
                list.push_str(&format!("${}", params.len()));
            } else {
                list.push_str(&format!(", ${}", params.len()));
            }
        }
        let sql = format!("select id, name from identity where tenant_id = $1 and id in ({list})");
        for r in c.query(&sql, &params)? {
            names.insert(r.text(0)?, r.text(1)?);
        }
    }
    Ok(names)
}

/// Looks an identity up by user name within `tenant_id`.
pub fn identity_by_name(
    c: &mut dyn Conn,
    tenant_id: &str,
    name: &str,
) -> Result<Option<Identity>, StoreError> {
    c.query_opt(
        &format!("select {IDENTITY_COLUMNS} from identity where tenant_id = $1 and name = $2"),
        &[tenant_id.into(), name.into()],
    )?
    .as_ref()
    .map(identity_of)
    .transpose()
}

/// How the rows of a tenant-owned table are found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// The table has a `tenant_id` column.
    Tenant,
    /// The table belongs to its parent: `column` holds the id of a row of `parent`, which has a
    /// `tenant_id` column.
    Parent {
        /// The column holding the parent's id.
        column: &'static str,
        /// The parent table.
        parent: &'static str,
    },
}

/// Which rows of a table a reset or restore keeps (see [`Keep`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kept {
    /// None: every row of the tenant goes.
    Nothing,
    /// Rows whose `id` is one of [`Keep::identities`].
    Identities,
    /// Rows whose `id` is one of [`Keep::tokens`].
    Tokens,
}

/// A table that holds tenant data: reset empties it, a snapshot copies it, a restore refills it.
#[derive(Clone, Copy, Debug)]
pub struct TenantTable {
    /// Table name.
    pub name: &'static str,
    /// How its rows of one tenant are found.
    pub scope: Scope,
    /// A column that refers to the `id` of another row of the same table (a restore inserts the
    /// referenced row first).
    pub self_ref: Option<&'static str>,
    /// Rows a reset or restore keeps.
    pub kept: Kept,
}

const fn owned(name: &'static str) -> TenantTable {
    TenantTable {
        name,
        scope: Scope::Tenant,
        self_ref: None,
        kept: Kept::Nothing,
    }
}

const fn child(name: &'static str, column: &'static str, parent: &'static str) -> TenantTable {
    TenantTable {
        name,
        scope: Scope::Parent { column, parent },
        self_ref: None,
        kept: Kept::Nothing,
    }
}

/// Every table that holds tenant data, parents before children (the order a restore inserts in;
/// a reset deletes in the reverse order). A migration that adds a tenant-owned table adds it here;
/// the conformance check `every_table_is_classified` fails until it does.
pub const TENANT_TABLES: &[TenantTable] = &[
    TenantTable {
        name: "identity",
        scope: Scope::Tenant,
        self_ref: Some("manager_id"),
        kept: Kept::Identities,
    },
    owned("managed_cluster"),
    owned("governance_group"),
    child("governance_group_member", "group_id", "governance_group"),
    owned("source"),
    owned("entitlement"),
    owned("access_profile"),
    child(
        "access_profile_entitlement",
        "access_profile_id",
        "access_profile",
    ),
    owned("role"),
    child("role_access_profile", "role_id", "role"),
    child("role_entitlement", "role_id", "role"),
    owned("account"),
    owned("assignment"),
    owned("access_request"),
    owned("approval"),
    owned("service_desk_ticket"),
    owned("notification"),
    owned("idempotency_key"),
    // Before the integrations: an installed integration refers to the OAuth client issued to it.
    owned("oauth_client"),
    owned("service_desk_integration"),
    child(
        "service_desk_managed_source",
        "integration_id",
        "service_desk_integration",
    ),
    TenantTable {
        name: "personal_access_token",
        scope: Scope::Tenant,
        self_ref: None,
        kept: Kept::Tokens,
    },
    owned("setting"),
    owned("job"),
];

/// Tables that are not tenant data: the schema's bookkeeping, the tenants themselves, the signing
/// key, and the snapshots (which survive a reset).
pub const GLOBAL_TABLES: &[&str] = &[
    "schema_migration",
    "tenant",
    "signing_key",
    "sealed_key",
    "tenant_snapshot",
    "tenant_snapshot_chunk",
];

impl TenantTable {
    /// The SQL condition selecting this table's rows of tenant `$1`.
    pub fn scope_sql(&self) -> String {
        match self.scope {
            Scope::Tenant => "tenant_id = $1".into(),
            Scope::Parent { column, parent } => {
                format!("{column} in (select id from {parent} where tenant_id = $1)")
            }
        }
    }
}

/// What a reset or a restore leaves in place so that the administrator who asked keeps working:
/// identities and personal access tokens, by id.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Keep {
    /// Identities kept as they are.
    pub identities: Vec<String>,
    /// Personal access tokens kept as they are (their owners must be among `identities`).
    pub tokens: Vec<String>,
}

impl Keep {
    /// The rule: the calling identity and the personal access token its token was issued from
    /// (when `client_id` is one of its PATs), plus every managed PAT (the admin credentials that
    /// start-up ensures) and its owner.
    pub fn for_caller(
        c: &mut dyn Conn,
        tenant_id: &str,
        caller_identity: Option<&str>,
        client_id: Option<&str>,
    ) -> Result<Self, StoreError> {
        let mut keep = Self::default();
        if let Some(id) = caller_identity {
            keep.identities.push(id.to_owned());
            if let Some(client) = client_id {
                let own = c.query_opt(
                    "select id from personal_access_token where tenant_id = $1 and id = $2 and owner_id = $3",
                    &[tenant_id.into(), client.into(), id.into()],
                )?;
                if own.is_some() {
                    keep.tokens.push(client.to_owned());
                }
            }
        }
        for r in c.query(
            "select id, owner_id from personal_access_token where tenant_id = $1 and managed = $2 order by id",
            &[tenant_id.into(), true.into()],
        )? {
            let (pat, owner) = (r.text(0)?, r.text(1)?);
            if !keep.tokens.contains(&pat) {
                keep.tokens.push(pat);
            }
            if !keep.identities.contains(&owner) {
                keep.identities.push(owner);
            }
        }
        Ok(keep)
    }

    /// Keeps exactly these identities and tokens.
    pub fn for_caller_ids(identities: &[&str], tokens: &[&str]) -> Self {
        Self {
            identities: identities.iter().map(|s| (*s).to_owned()).collect(),
            tokens: tokens.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    /// The ids kept in `table`.
    pub fn ids(&self, table: &TenantTable) -> &[String] {
        match table.kept {
            Kept::Nothing => &[],
            Kept::Identities => &self.identities,
            Kept::Tokens => &self.tokens,
        }
    }
}

/// `and id not in (…)` for `ids`, with placeholders from `$2` on, and the parameters.
fn not_kept(tenant_id: &str, ids: &[String]) -> (String, Vec<Value>) {
    let mut params: Vec<Value> = vec![tenant_id.into()];
    if ids.is_empty() {
        return (String::new(), params);
    }
    let mut list = Vec::with_capacity(ids.len());
    for id in ids {
        params.push(id.into());
        list.push(format!("${}", params.len()));
    }
    (format!(" and id not in ({})", list.join(", ")), params)
}

/// Deletes every row of tenant `tenant_id` in every table of [`TENANT_TABLES`] (children first),
/// except the identities and tokens in `keep`. The tenant, the signing key and the tenant's
/// snapshots stay. Returns the number of rows deleted.
pub fn reset(c: &mut dyn Conn, tenant_id: &str, keep: &Keep) -> Result<u64, StoreError> {
    // Managers first: deleting identities one by one would otherwise null their reports'
    // manager_id row by row.
    let (cond, params) = not_kept(tenant_id, &keep.identities);
    c.execute(
        &format!(
            "update identity set manager_id = null where tenant_id = $1 and manager_id is not null{cond}"
        ),
        &params,
    )?;
    let mut deleted = 0;
    for t in TENANT_TABLES.iter().rev() {
        let (cond, params) = not_kept(tenant_id, keep.ids(t));
        deleted += c.execute(
            &format!("delete from {} where {}{cond}", t.name, t.scope_sql()),
            &params,
        )?;
    }
    Ok(deleted)
}

/// The names of every table in the database (both engines).
pub fn table_names(c: &mut dyn Conn) -> Result<Vec<String>, StoreError> {
    let sql = match c.dialect() {
        crate::Dialect::Sqlite => {
            "select name from sqlite_master where type = 'table' and name not like 'sqlite_%' order by name"
        }
        crate::Dialect::Postgres => {
            "select cast(table_name as text) from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE' order by table_name"
        }
    };
    c.query(sql, &[])?.iter().map(|r| r.text(0)).collect()
}

/// The columns of `table`, in their order.
pub fn table_columns(c: &mut dyn Conn, table: &str) -> Result<Vec<String>, StoreError> {
    let sql = match c.dialect() {
        crate::Dialect::Sqlite => "select name from pragma_table_info($1) order by cid",
        crate::Dialect::Postgres => {
            "select cast(column_name as text) from information_schema.columns where table_schema = current_schema() and table_name = $1 order by ordinal_position"
        }
    };
    let cols: Vec<String> = c
        .query(sql, &[table.into()])?
        .iter()
        .map(|r| r.text(0))
        .collect::<Result<_, _>>()?;
    if cols.is_empty() {
        return Err(StoreError::Decode(format!("no table named {table}")));
    }
    Ok(cols)
}
