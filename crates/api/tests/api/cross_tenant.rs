//! AUTH-2 across tenants: an ORG_ADMIN of another tenant, holding a valid token of this server,
//! calls every route of the live route table that takes an id with the id of a real object of
//! the first tenant (the route's own kind of object, found from the path segment before the
//! parameter; the first tenant's id where the path names a tenant). No answer may be a success
//! that shows the object, and no row of the first tenant may change.

use crate::approval_fixtures::{request, world};
use crate::catalog_fixtures::T;
use crate::route_matrix::call_reply;
use crate::service_desk::{catalog, create, snow};
use crate::support::*;
use gatehouse_api::auth::secrets::new_id;
use gatehouse_api::routes::all_operations;
use gatehouse_store::accounts::{self, Account};
use gatehouse_store::identities::{self, IdentityRecord};
use gatehouse_store::Value;
use serde_json::json;
use std::collections::BTreeMap;

/// The table holding the objects a path parameter names, from the segment before it.
fn table_of(segment: &str, param: &str) -> Option<&'static str> {
    Some(match (segment, param) {
        ("access-request-approvals", "accessRequestId") => "access_request",
        ("work-items" | "access-request-approvals" | "approve" | "reject", _) => "approval",
        ("bulk-approve" | "bulk-reject", _) => "approval",
        ("service-desk-integrations" | "installed", _) => "service_desk_integration",
        ("sources", _) => "source",
        ("oauth-clients", _) => "oauth_client",
        ("accounts", _) => "account",
        ("access-profiles", _) => "access_profile",
        ("roles", _) => "role",
        ("personal-access-tokens", _) => "personal_access_token",
        ("managed-clusters", _) => "managed_cluster",
        ("workgroups", _) => "governance_group",
        ("task-status", _) => "job",
        ("identities", _) => "identity",
        ("entitlements", _) => "entitlement",
        ("snapshots", "name") => "tenant_snapshot",
        _ => return None,
    })
}

const TABLES: &[&str] = &[
    "access_profile",
    "access_request",
    "account",
    "approval",
    "entitlement",
    "governance_group",
    "identity",
    "job",
    "managed_cluster",
    "oauth_client",
    "personal_access_token",
    "role",
    "service_desk_integration",
    "source",
    "tenant_snapshot",
];

/// Each table's rows of `tenant`, by id, as text (every column), to compare before and after.
async fn rows_of(app: &TestApp, tenant: &str) -> BTreeMap<&'static str, Vec<String>> {
    let tenant = tenant.to_owned();
    app.state
        .store()
        .read(move |c| {
            let mut all = BTreeMap::new();
            for t in TABLES {
                let rows = c.query(
                    &format!("select * from {t} where tenant_id = $1 order by id"),
                    &[tenant.clone().into()],
                )?;
                all.insert(*t, rows.iter().map(|r| format!("{r:?}")).collect());
            }
            Ok(all)
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn another_tenant_s_admin_reaches_no_object_of_this_tenant_by_id() {
    let app = TestApp::new().await;
    let tenant = app.tenant_id().await;
    let w = world(&app).await;
    request(&app, &w.rita.id, &w.rita.id, "ROLE", &w.role, None).await;
    let cat = catalog(&app).await;
    create(&app, snow("Desk of this tenant", &cat, &[0])).await;
    let client = app
        .admin(
            "POST",
            "/v3/oauth-clients",
            Some(
                json!({"name": "mine", "description": "d", "accessTokenValiditySeconds": 750,
                        "grantTypes": ["CLIENT_CREDENTIALS"], "accessType": "OFFLINE",
                        "enabled": true, "scope": ["sp:scopes:all"]}),
            ),
        )
        .await;
    assert_eq!(client.status.as_u16(), 200, "{}", client.text);
    let staff = w.staff.clone();
    let hr = app
        .state
        .store()
        .read(move |c| {
            c.query_one(
                "select source_id from entitlement where id = $1",
                &[staff.into()],
            )?
            .text(0)
        })
        .await
        .unwrap();
    let profile = app
        .admin(
            "POST",
            "/v3/access-profiles",
            Some(
                json!({"name": "HR Staff", "owner": {"type": "IDENTITY", "id": w.olga.id},
                        "source": {"type": "SOURCE", "id": hr},
                        "entitlements": [{"type": "ENTITLEMENT", "id": w.staff}],
                        "requestable": true, "enabled": true}),
            ),
        )
        .await;
    assert_eq!(profile.status.as_u16(), 201, "{}", profile.text);
    let account = Account {
        id: new_id(),
        tenant_id: tenant.clone(),
        source_id: hr.clone(),
        identity_id: Some(w.rita.id.clone()),
        name: "rita.hr".into(),
        native_identity: "uid=rita".into(),
        uuid: None,
        disabled: false,
        locked: false,
        manually_correlated: false,
        origin: Some("AGGREGATED".into()),
        attributes: json!({"title": "clerk"}),
        created: T,
        modified: T,
    };
    app.state
        .store()
        .write(move |c| accounts::insert(c, &account))
        .await
        .unwrap();
    let snapshot = app
        .admin(
            "POST",
            "/gatehouse/v1/tenant/snapshots",
            Some(json!({"name": "base"})),
        )
        .await;
    assert_eq!(snapshot.status.as_u16(), 201, "{}", snapshot.text);
    app.drain().await;

    // The other tenant, its administrator and a token of this server for them.
    let stranger = "c".repeat(32);
    let s = stranger.clone();
    app.state
        .store()
        .write(move |c| {
            c.execute(
                "insert into tenant (id, name, created) values ('other', 'other', 0)",
                &[],
            )?;
            identities::insert(c, &IdentityRecord::new(&s, "other", "stranger", T))
        })
        .await
        .unwrap();
    let token = app.forged(|c| {
        c.tenant_id = "other".into();
        c.org = "other".into();
        c.identity_id = Some(stranger.clone());
        c.user_name = Some("stranger".into());
        c.client_id = "other-admin".into();
    });

    let before = rows_of(&app, &tenant).await;
    let ids: BTreeMap<&str, String> = {
        let t = tenant.clone();
        app.state
            .store()
            .read(move |c| {
                let mut ids = BTreeMap::new();
                for table in TABLES {
                    // A snapshot is named by its name in paths.
                    let key = if *table == "tenant_snapshot" {
                        "name"
                    } else {
                        "id"
                    };
                    let r = c.query(
                        &format!(
                            "select {key} from {table} where tenant_id = $1 order by id limit 1"
                        ),
                        &[t.clone().into()],
                    )?;
                    // Ids are text, but a task's is its job's number.
                    match r.first().map(|row| &row.0[0]) {
                        Some(Value::Text(id)) => {
                            ids.insert(*table, id.clone());
                        }
                        Some(Value::Int(n)) => {
                            ids.insert(*table, n.to_string());
                        }
                        _ => {}
                    }
                }
                Ok(ids)
            })
            .await
            .unwrap()
    };
    let mut problems = Vec::new();
    let (mut called, mut without_object) = (0, Vec::new());
    for op in all_operations().filter(|op| op.path.contains('{')) {
        // Segments without the `/v1` of the per-resource family, so the one before a parameter
        // names the resource.
        let segments: Vec<&str> = op.path.split('/').filter(|s| *s != "v1").collect();
        let mut path = Vec::new();
        let mut used: Option<(&str, String)> = None;
        let mut names_tenant = false;
        for (i, seg) in segments.iter().enumerate() {
            let Some(param) = seg.strip_prefix('{').and_then(|p| p.strip_suffix('}')) else {
                path.push((*seg).to_owned());
                continue;
            };
            if param == "tenantId" {
                names_tenant = true;
                path.push(tenant.clone());
                continue;
            }
            // A second id in one path (an item of a work item) names the same object.
            let found = match &used {
                Some((t, id)) => Some((*t, id.clone())),
                None => table_of(segments[i - 1], param)
                    .and_then(|t| ids.get(t).map(|id| (t, id.clone()))),
            };
            match found {
                Some((t, id)) => {
                    path.push(id.clone());
                    used = Some((t, id));
                }
                None => path.push("0".repeat(32)),
            }
        }
        // A route that names only the tenant in its path is called with this tenant's id.
        let (table, id) = match used {
            Some(u) => u,
            None if names_tenant => ("tenant", tenant.clone()),
            None => {
                without_object.push(format!("{} {}", op.method, op.path));
                continue;
            }
        };
        let mut url = String::from("/");
        url.push_str(&path[1..].join("/"));
        let reply = call_reply(&app, op.method, &url, Some(&token)).await;
        called += 1;
        if reply.status.is_success() && reply.text.contains(&id) {
            problems.push(format!(
                "{} {} answered {} with this tenant's {table}: {}",
                op.method, op.path, reply.status, reply.text
            ));
        } else if op.method == "GET" && reply.status.is_success() {
            problems.push(format!(
                "{} {} answered {} for this tenant's {table}",
                op.method, op.path, reply.status
            ));
        }
    }
    assert!(
        called >= 150,
        "only {called} routes called; objects found: {:?}; left out: {without_object:#?}",
        ids.keys().collect::<Vec<_>>()
    );
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
    let after = rows_of(&app, &tenant).await;
    for t in TABLES {
        assert_eq!(before[t], after[t], "the other tenant's calls changed {t}");
    }
    // Routes whose parameter names no object of a tenant (templates by name, a tenant's
    // settings) are named here, so a new kind of object without a table above shows up.
    assert!(
        without_object.len() <= 8,
        "routes left out: {without_object:#?}"
    );
}
