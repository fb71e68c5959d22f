//! Accounts: an identity's account on a source (or an uncorrelated one, held by no identity).

use crate::listing::{self, ListQuery, Page};
use crate::{Conn, Row, StoreError, Value};
use gatehouse_domain::Timestamp;

/// An account.
#[derive(Clone, Debug, PartialEq)]
pub struct Account {
    /// 32-hex id.
    pub id: String,
    /// Tenant.
    pub tenant_id: String,
    /// The source it is on.
    pub source_id: String,
    /// The identity it belongs to (none: uncorrelated).
    pub identity_id: Option<String>,
    /// Display name.
    pub name: String,
    /// The source's own id for it (unique per source).
    pub native_identity: String,
    /// The source's UUID for it.
    pub uuid: Option<String>,
    /// Disabled.
    pub disabled: bool,
    /// Locked.
    pub locked: bool,
    /// Correlated by hand.
    pub manually_correlated: bool,
    /// `AGGREGATED` or `PROVISIONED`.
    pub origin: Option<String>,
    /// The account's attributes (a JSON object).
    pub attributes: serde_json::Value,
    /// Created at.
    pub created: Timestamp,
    /// Modified at.
    pub modified: Timestamp,
}

/// An account with what lists show beside it.
#[derive(Clone, Debug, PartialEq)]
pub struct AccountView {
    /// The account.
    pub account: Account,
    /// Source's name.
    pub source_name: String,
    /// Whether the source is authoritative.
    pub source_authoritative: bool,
    /// The source's connection type.
    pub source_connection_type: Option<String>,
    /// The source owner's id and name.
    pub source_owner: Option<(String, String)>,
    /// The identity's name.
    pub identity_name: Option<String>,
    /// The identity's lifecycle state.
    pub identity_lifecycle_state: Option<String>,
    /// Whether the account carries entitlements.
    pub has_entitlements: bool,
}

const INSERT_COLUMNS: &str = "id, tenant_id, source_id, identity_id, name, native_identity, uuid, \
    disabled, locked, manually_correlated, origin, attributes, created, modified";

const COLUMNS: &str = "a.id, a.tenant_id, a.source_id, a.identity_id, a.name, a.native_identity, a.uuid, \
    a.disabled, a.locked, a.manually_correlated, a.origin, a.attributes, a.created, a.modified, \
    src.name, src.authoritative, src.connection_type, so.id, so.name, idn.name, idn.lifecycle_state, \
    exists (select 1 from assignment x where x.account_id = a.id and x.item_type = 'ENTITLEMENT')";

/// Aliases: `a` the account, `src` its source, `so` the source's owner, `idn` its identity.
const FROM: &str = "account a join source src on src.id = a.source_id \
    left join identity so on so.id = src.owner_id \
    left join identity idn on idn.id = a.identity_id";

fn of(r: &Row) -> Result<AccountView, StoreError> {
    Ok(AccountView {
        account: Account {
            id: r.text(0)?,
            tenant_id: r.text(1)?,
            source_id: r.text(2)?,
            identity_id: r.opt_text(3)?,
            name: r.text(4)?,
            native_identity: r.text(5)?,
            uuid: r.opt_text(6)?,
            disabled: r.bool(7)?,
            locked: r.bool(8)?,
            manually_correlated: r.bool(9)?,
            origin: r.opt_text(10)?,
            attributes: r.json(11)?,
            created: r.ts(12)?,
            modified: r.ts(13)?,
        },
        source_name: r.text(14)?,
        source_authoritative: r.bool(15)?,
        source_connection_type: r.opt_text(16)?,
        source_owner: match (r.opt_text(17)?, r.opt_text(18)?) {
            (Some(id), Some(name)) => Some((id, name)),
            _ => None,
        },
        identity_name: r.opt_text(19)?,
        identity_lifecycle_state: r.opt_text(20)?,
        has_entitlements: r.bool(21)?,
    })
}

/// Inserts `a`. The same native identity twice on a source is a `Conflict`.
pub fn insert(c: &mut dyn Conn, a: &Account) -> Result<(), StoreError> {
    c.execute(
        &format!(
            "insert into account ({INSERT_COLUMNS}) values ({})",
            listing::placeholders(1, 14)
        ),
        &[
            a.id.clone().into(),
            a.tenant_id.clone().into(),
            a.source_id.clone().into(),
            a.identity_id.clone().into(),
            a.name.clone().into(),
            a.native_identity.clone().into(),
            a.uuid.clone().into(),
            a.disabled.into(),
            a.locked.into(),
            a.manually_correlated.into(),
            a.origin.clone().into(),
            a.attributes.to_string().into(),
            a.created.into(),
            a.modified.into(),
        ],
    )?;
    Ok(())
}

/// Looks an account up.
pub fn get(c: &mut dyn Conn, tenant_id: &str, id: &str) -> Result<Option<AccountView>, StoreError> {
    c.query_opt(
        &format!("select {COLUMNS} from {FROM} where a.tenant_id = $1 and a.id = $2"),
        &[tenant_id.into(), id.into()],
    )?
    .as_ref()
    .map(of)
    .transpose()
}

/// Lists accounts. Filters and sorters use the aliases of `FROM` and start at `$2`.
pub fn list(
    c: &mut dyn Conn,
    tenant_id: &str,
    q: ListQuery,
) -> Result<Page<AccountView>, StoreError> {
    listing::page(
        c,
        COLUMNS,
        FROM,
        "a.tenant_id = $1",
        vec![tenant_id.into()],
        q,
        " order by a.created asc, a.id asc",
        of,
    )
}

/// The accounts of `identity_id` on source `source_id`.
pub fn of_identity_on_source(
    c: &mut dyn Conn,
    tenant_id: &str,
    identity_id: &str,
    source_id: &str,
) -> Result<Vec<AccountView>, StoreError> {
    let params: Vec<Value> = vec![tenant_id.into(), identity_id.into(), source_id.into()];
    c.query(
        &format!(
            "select {COLUMNS} from {FROM} where a.tenant_id = $1 and a.identity_id = $2 \
             and a.source_id = $3 order by a.created, a.id"
        ),
        &params,
    )?
    .iter()
    .map(of)
    .collect()
}
