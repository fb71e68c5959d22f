//! Catalog data put straight into the store (entitlements and accounts have no create operation;
//! they come from imports), for the catalog tests.

use crate::support::TestApp;
use gatehouse_api::auth::secrets::new_id;
use gatehouse_domain::Timestamp;
use gatehouse_store::assignments::{self, Assignment, ItemType, Reason};
use gatehouse_store::entitlements::{self, Entitlement};
use gatehouse_store::identities::{self, IdentityRecord};
use gatehouse_store::{governance_groups, tenants};

pub const T: Timestamp = Timestamp(1_700_000_000_000);

pub async fn tenant(app: &TestApp) -> String {
    app.state
        .store()
        .read(|c| tenants::first(c))
        .await
        .unwrap()
        .unwrap()
        .id
}

/// Inserts people (in one write) and returns them.
pub async fn people(app: &TestApp, all: Vec<IdentityRecord>) -> Vec<IdentityRecord> {
    let stored = all.clone();
    app.state
        .store()
        .write(move |c| identities::insert_many(c, &stored))
        .await
        .unwrap();
    all
}

/// A person named `name` in the app's tenant, changed by `edit`.
pub async fn person(app: &TestApp, name: &str, edit: impl FnOnce(&mut IdentityRecord)) -> String {
    let mut i = IdentityRecord::new(&new_id(), &tenant(app).await, name, T);
    edit(&mut i);
    let id = i.id.clone();
    people(app, vec![i]).await;
    id
}

/// An entitlement of `source_id` with value `value`.
pub async fn entitlement(app: &TestApp, source_id: &str, name: &str, value: &str) -> String {
    let e = Entitlement {
        id: new_id(),
        tenant_id: tenant(app).await,
        source_id: source_id.to_owned(),
        name: name.to_owned(),
        attribute: "memberOf".into(),
        value: value.to_owned(),
        kind: Some("group".into()),
        description: None,
        owner_id: None,
        requestable: true,
        privileged: false,
        document: serde_json::json!({}),
        created: T,
        modified: T,
    };
    let id = e.id.clone();
    app.state
        .store()
        .write(move |c| entitlements::insert(c, &e))
        .await
        .unwrap();
    id
}

/// Gives `identity_id` the item, as if an access request had.
pub async fn assign(
    app: &TestApp,
    identity_id: &str,
    item_type: ItemType,
    item_id: &str,
) -> String {
    let a = Assignment {
        id: new_id(),
        tenant_id: tenant(app).await,
        identity_id: identity_id.to_owned(),
        item_type,
        item_id: item_id.to_owned(),
        reason: Reason::AccessRequest,
        access_request_id: None,
        account_id: None,
        start_date: None,
        remove_date: None,
        created: T,
        modified: T,
    };
    let id = a.id.clone();
    app.state
        .store()
        .write(move |c| assignments::grant(c, &a))
        .await
        .unwrap();
    id
}

/// Adds `identity_id` to workgroup `group_id`.
pub async fn join(app: &TestApp, group_id: &str, identity_id: &str) {
    let (g, i) = (group_id.to_owned(), identity_id.to_owned());
    app.state
        .store()
        .write(move |c| governance_groups::add_member(c, &g, &i, T))
        .await
        .unwrap();
}

/// The ids of a list answer.
pub fn ids(body: &serde_json::Value) -> Vec<String> {
    body.as_array()
        .unwrap_or_else(|| panic!("not a list: {body}"))
        .iter()
        .map(|x| x["id"].as_str().unwrap().to_owned())
        .collect()
}

/// The names of a list answer.
pub fn names(body: &serde_json::Value) -> Vec<String> {
    body.as_array()
        .unwrap_or_else(|| panic!("not a list: {body}"))
        .iter()
        .map(|x| x["name"].as_str().unwrap().to_owned())
        .collect()
}

/// `filters=…` encoded for a query string.
pub fn q(filters: &str) -> String {
    let mut out = String::new();
    for b in filters.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
