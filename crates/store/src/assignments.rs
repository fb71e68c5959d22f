//! Assignments: who holds which role, access profile or entitlement, and why. The access-request
//! engine grants and revokes them; delete checks ask whether an item is held.

use crate::listing::{self, Usage};
use crate::{Conn, Row, StoreError, Value};
use gatehouse_domain::Timestamp;

/// What kind of item is held.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ItemType {
    /// A role.
    Role,
    /// An access profile.
    AccessProfile,
    /// An entitlement.
    Entitlement,
}

impl ItemType {
    /// SailPoint's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Role => "ROLE",
            Self::AccessProfile => "ACCESS_PROFILE",
            Self::Entitlement => "ENTITLEMENT",
        }
    }

    fn parse(s: &str) -> Result<Self, StoreError> {
        match s {
            "ROLE" => Ok(Self::Role),
            "ACCESS_PROFILE" => Ok(Self::AccessProfile),
            "ENTITLEMENT" => Ok(Self::Entitlement),
            other => Err(StoreError::Decode(format!("unknown item type {other}"))),
        }
    }
}

/// Why it is held.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// Granted by an access request.
    AccessRequest,
    /// Held through a role.
    RoleMembership,
    /// Given to everyone who qualifies.
    Birthright,
    /// Found on the source by an import.
    Import,
}

impl Reason {
    /// Stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AccessRequest => "ACCESS_REQUEST",
            Self::RoleMembership => "ROLE_MEMBERSHIP",
            Self::Birthright => "BIRTHRIGHT",
            Self::Import => "IMPORT",
        }
    }

    fn parse(s: &str) -> Result<Self, StoreError> {
        match s {
            "ACCESS_REQUEST" => Ok(Self::AccessRequest),
            "ROLE_MEMBERSHIP" => Ok(Self::RoleMembership),
            "BIRTHRIGHT" => Ok(Self::Birthright),
            "IMPORT" => Ok(Self::Import),
            other => Err(StoreError::Decode(format!(
                "unknown assignment reason {other}"
            ))),
        }
    }
}

/// One held item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assignment {
    /// 32-hex id.
    pub id: String,
    /// Tenant.
    pub tenant_id: String,
    /// Who holds it.
    pub identity_id: String,
    /// What kind of item.
    pub item_type: ItemType,
    /// The item's id.
    pub item_id: String,
    /// Why.
    pub reason: Reason,
    /// The access request that granted it.
    pub access_request_id: Option<String>,
    /// The account it lives on.
    pub account_id: Option<String>,
    /// When it starts (sunrise).
    pub start_date: Option<Timestamp>,
    /// When it is to be removed (sunset).
    pub remove_date: Option<Timestamp>,
    /// Created at.
    pub created: Timestamp,
    /// Modified at.
    pub modified: Timestamp,
}

const COLUMNS: &str = "id, tenant_id, identity_id, item_type, item_id, reason, access_request_id, \
    account_id, start_date, remove_date, created, modified";

fn of(r: &Row) -> Result<Assignment, StoreError> {
    Ok(Assignment {
        id: r.text(0)?,
        tenant_id: r.text(1)?,
        identity_id: r.text(2)?,
        item_type: ItemType::parse(&r.text(3)?)?,
        item_id: r.text(4)?,
        reason: Reason::parse(&r.text(5)?)?,
        access_request_id: r.opt_text(6)?,
        account_id: r.opt_text(7)?,
        start_date: r.opt_ts(8)?,
        remove_date: r.opt_ts(9)?,
        created: r.ts(10)?,
        modified: r.ts(11)?,
    })
}

/// Grants `a` (inserts it).
pub fn grant(c: &mut dyn Conn, a: &Assignment) -> Result<(), StoreError> {
    c.execute(
        &format!(
            "insert into assignment ({COLUMNS}) values ({})",
            listing::placeholders(1, 12)
        ),
        &[
            a.id.clone().into(),
            a.tenant_id.clone().into(),
            a.identity_id.clone().into(),
            a.item_type.as_str().into(),
            a.item_id.clone().into(),
            a.reason.as_str().into(),
            a.access_request_id.clone().into(),
            a.account_id.clone().into(),
            a.start_date.into(),
            a.remove_date.into(),
            a.created.into(),
            a.modified.into(),
        ],
    )?;
    Ok(())
}

/// Everything `identity_id` holds, oldest first.
pub fn for_identity(
    c: &mut dyn Conn,
    tenant_id: &str,
    identity_id: &str,
) -> Result<Vec<Assignment>, StoreError> {
    c.query(
        &format!(
            "select {COLUMNS} from assignment where tenant_id = $1 and identity_id = $2 \
             order by created, id"
        ),
        &[tenant_id.into(), identity_id.into()],
    )?
    .iter()
    .map(of)
    .collect()
}

/// The assignments of `item` held by `identity_id` (any reason).
pub fn held(
    c: &mut dyn Conn,
    tenant_id: &str,
    identity_id: &str,
    item_type: ItemType,
    item_id: &str,
) -> Result<Vec<Assignment>, StoreError> {
    c.query(
        &format!(
            "select {COLUMNS} from assignment where tenant_id = $1 and identity_id = $2 \
             and item_type = $3 and item_id = $4 order by created, id"
        ),
        &[
            tenant_id.into(),
            identity_id.into(),
            item_type.as_str().into(),
            item_id.into(),
        ],
    )?
    .iter()
    .map(of)
    .collect()
}

/// Sets (or clears) the removal date of assignment `id`. False when it does not exist.
pub fn set_remove_date(
    c: &mut dyn Conn,
    tenant_id: &str,
    id: &str,
    remove_date: Option<Timestamp>,
    now: Timestamp,
) -> Result<bool, StoreError> {
    Ok(c.execute(
        "update assignment set remove_date = $3, modified = $4 where tenant_id = $1 and id = $2",
        &[tenant_id.into(), id.into(), remove_date.into(), now.into()],
    )? == 1)
}

/// Revokes assignment `id`. False when it did not exist.
pub fn revoke(c: &mut dyn Conn, tenant_id: &str, id: &str) -> Result<bool, StoreError> {
    Ok(c.execute(
        "delete from assignment where tenant_id = $1 and id = $2",
        &[tenant_id.into(), id.into()],
    )? == 1)
}

/// The assignments due for removal at `now`, oldest removal date first.
pub fn due_for_removal(
    c: &mut dyn Conn,
    tenant_id: &str,
    now: Timestamp,
    limit: i64,
) -> Result<Vec<Assignment>, StoreError> {
    c.query(
        &format!(
            "select {COLUMNS} from assignment where tenant_id = $1 and remove_date <= $2 \
             order by remove_date, id limit {}",
            limit.max(0)
        ),
        &[tenant_id.into(), now.into()],
    )?
    .iter()
    .map(of)
    .collect()
}

/// The assignments of item (`item_type`, `item_id`), as usages naming the holder.
pub fn usages(
    c: &mut dyn Conn,
    tenant_id: &str,
    item_type: &str,
    item_id: &str,
) -> Result<Vec<Usage>, StoreError> {
    let params: Vec<Value> = vec![tenant_id.into(), item_type.into(), item_id.into()];
    listing::usages(
        c,
        "assignment",
        "select a.id, i.name from assignment a join identity i on i.id = a.identity_id \
         where a.tenant_id = $1 and a.item_type = $2 and a.item_id = $3 order by i.name, a.id",
        &params,
    )
}
