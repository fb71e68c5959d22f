//! People, requestable items and submitted access requests for the work-items and
//! access-request-approvals tests. Requests are submitted through the store's `submit` (the
//! operation that submits them is built separately) and processed by draining the job queue.

use crate::catalog_fixtures::{entitlement, join, tenant};
use crate::catalog_sources::source;
use crate::support::TestApp;
use axum::http::StatusCode;
use gatehouse_store::access_requests::submit::{self, NewItem, NewRequest};
use gatehouse_store::access_requests::{rows, Approval, ApprovalStatus};
use serde_json::{json, Value};

/// A person with a token.
#[derive(Clone, Debug)]
pub struct Who {
    pub id: String,
    pub token: String,
}

/// Who approves what.
pub struct World {
    /// Asks for access; Max is their manager.
    pub rita: Who,
    /// Rita's manager: the first step of `role`.
    pub max: Who,
    /// Owner of `role` (its second step) and of source HR (entitlement requests).
    pub olga: Who,
    /// Has nothing to do with any of it.
    pub eve: Who,
    /// Member of `group`, which approves `group_role`.
    pub gina: Who,
    /// The approvers governance group.
    pub group: String,
    /// Approved by the manager, then by the role's owner.
    pub role: String,
    /// Approved by the governance group.
    pub group_role: String,
    /// Approved by the manager; a rejection needs a comment.
    pub strict_role: String,
    /// Entitlement "Staff" (cn=staff) of source HR, whose owner is Olga.
    pub staff: String,
}

async fn who(app: &TestApp, name: &str) -> Who {
    let (id, token) = app.person(name, &["USER"]).await;
    Who { id, token }
}

async fn role(app: &TestApp, name: &str, owner: &str, config: Value) -> String {
    let r = app
        .admin(
            "POST",
            "/v2024/roles",
            Some(json!({
                "name": name,
                "description": format!("{name} role"),
                "owner": {"type": "IDENTITY", "id": owner},
                "enabled": true,
                "requestable": true,
                "accessRequestConfig": config,
            })),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.body["id"].as_str().unwrap().to_owned()
}

pub async fn world(app: &TestApp) -> World {
    let rita = who(app, "rita").await;
    let max = who(app, "max").await;
    let olga = who(app, "olga").await;
    let eve = who(app, "eve").await;
    let gina = who(app, "gina").await;
    let (r, m) = (rita.id.clone(), max.id.clone());
    app.state
        .store()
        .write(move |c| {
            c.execute(
                "update identity set manager_id = $1 where id = $2",
                &[m.clone().into(), r.into()],
            )?;
            c.execute(
                "update identity set email = $1 where id = $2",
                &["max@example.com".into(), m.into()],
            )
        })
        .await
        .unwrap();
    let g = app
        .admin(
            "POST",
            "/v2024/workgroups",
            Some(json!({"name": "Approvers", "description": "approvers", "owner": {"type": "IDENTITY", "id": olga.id}})),
        )
        .await;
    assert_eq!(g.status, StatusCode::OK, "{}", g.text);
    let group = g.body["id"].as_str().unwrap().to_owned();
    join(app, &group, &gina.id).await;
    let role_id = role(
        app,
        "Clerk",
        &olga.id,
        json!({"approvalSchemes": [{"approverType": "MANAGER"}, {"approverType": "OWNER"}]}),
    )
    .await;
    let group_role = role(
        app,
        "Auditor",
        &olga.id,
        json!({"approvalSchemes": [{"approverType": "GOVERNANCE_GROUP", "approverId": group}]}),
    )
    .await;
    let strict_role = role(
        app,
        "Treasurer",
        &olga.id,
        json!({"denialCommentsRequired": true, "approvalSchemes": [{"approverType": "MANAGER"}]}),
    )
    .await;
    let hr = source(app, "HR", &olga.id, json!({})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let staff = entitlement(app, &hr, "Staff", "cn=staff").await;
    World {
        rita,
        max,
        olga,
        eve,
        gina,
        group,
        role: role_id,
        group_role,
        strict_role,
        staff,
    }
}

/// `requester` asks for item (`item_type`, `item_id`) for `for_id`; the request is processed (its
/// first approval opens). Returns the access request id.
pub async fn request(
    app: &TestApp,
    requester: &str,
    for_id: &str,
    item_type: &str,
    item_id: &str,
    comment: Option<&str>,
) -> String {
    let t = tenant(app).await;
    let req = NewRequest {
        request_type: "GRANT_ACCESS".into(),
        requester_id: requester.to_owned(),
        requester_is_admin: false,
        requested_for: vec![(
            for_id.to_owned(),
            vec![NewItem {
                item_type: item_type.to_owned(),
                item_id: item_id.to_owned(),
                comment: comment.map(str::to_owned),
                client_metadata: Some(json!({"ticket": "T-1"})),
                start_date: None,
                remove_date: None,
                assignment_id: None,
                native_identity: None,
                account_selection: None,
            }],
        )],
        request_metadata: Some(json!({"origin": "tests"})),
    };
    let now = app.state.clock().now();
    let done = app
        .state
        .store()
        .write(move |c| submit::submit(c, &t, &req, now))
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("submission refused: {e:?}"));
    app.drain().await;
    // Later requests sort after this one.
    app.state.virtual_clock().unwrap().advance(1000);
    done.new[0].ids[0].clone()
}

/// The approval steps of request `id`, by step.
pub async fn steps(app: &TestApp, id: &str) -> Vec<Approval> {
    let (t, id) = (tenant(app).await, id.to_owned());
    app.state
        .store()
        .read(move |c| rows::approvals_of_requests(c, &t, &[id]))
        .await
        .unwrap()
}

/// The pending approval of request `id`.
pub async fn pending(app: &TestApp, id: &str) -> Approval {
    steps(app, id)
        .await
        .into_iter()
        .find(|p| p.status == ApprovalStatus::Pending)
        .unwrap_or_else(|| panic!("request {id} has no pending approval"))
}

/// Request `id` as stored.
pub async fn stored_request(app: &TestApp, id: &str) -> rows::AccessRequest {
    let (t, id) = (tenant(app).await, id.to_owned());
    app.state
        .store()
        .read(move |c| rows::get_request(c, &t, &id))
        .await
        .unwrap()
        .unwrap()
}

/// The notifications sent to `recipient`: (kind, body).
pub async fn notifications(app: &TestApp, recipient: &str) -> Vec<(String, Value)> {
    let r = recipient.to_owned();
    app.state
        .store()
        .read(move |c| {
            c.query(
                "select kind, body from notification where recipient_id = $1 order by created, id",
                &[r.into()],
            )?
            .iter()
            .map(|row| Ok((row.text(0)?, serde_json::from_str(&row.text(1)?).unwrap())))
            .collect()
        })
        .await
        .unwrap()
}
