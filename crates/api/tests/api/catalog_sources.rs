//! `/managed-clusters`, `/workgroups` and `/sources`: create, patch, delete with referential rules,
//! filters and sorters, and the differences between families.

use crate::catalog_fixtures::{entitlement, ids, join, names, person, q};
use crate::spec_shape::assert_shape;
use crate::support::{assert_error, TestApp};
use axum::http::StatusCode;
use gatehouse_api::auth::secrets::new_id;
use serde_json::{json, Value};

pub async fn cluster(app: &TestApp, name: &str) -> String {
    let r = app
        .admin(
            "POST",
            "/v3/managed-clusters",
            Some(json!({"name": name, "type": "idn", "description": "VA"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body["id"].as_str().unwrap().to_owned()
}

pub async fn source(app: &TestApp, name: &str, owner: &str, extra: Value) -> Value {
    let mut body = json!({"name": name, "owner": {"type": "IDENTITY", "id": owner}, "connector": "delimited-file"});
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let r = app.admin("POST", "/v3/sources", Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.body
}

#[tokio::test]
async fn managed_clusters_crud() {
    let app = TestApp::new().await;
    let id = cluster(&app, "Cluster A").await;
    for family in ["v3", "v2024", "beta"] {
        let r = app
            .admin("GET", &format!("/{family}/managed-clusters/{id}"), None)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_shape(family, "GET", "/managed-clusters/{id}", 200, &r.body);
        assert_eq!(r.body["name"], "Cluster A");
        let r = app
            .admin(
                "GET",
                &format!("/{family}/managed-clusters?count=true"),
                None,
            )
            .await;
        assert_shape(family, "GET", "/managed-clusters", 200, &r.body);
        assert_eq!(r.headers["x-total-count"], "1");
    }
    cluster(&app, "Cluster B").await;
    for (filter, want) in [
        (r#"name eq "cluster a""#, vec!["Cluster A"]),
        (r#"type eq "idn""#, vec!["Cluster A", "Cluster B"]),
        (r#"status eq "NORMAL""#, vec!["Cluster A", "Cluster B"]),
        ("operational eq false", vec![]),
    ] {
        let r = app
            .admin(
                "GET",
                &format!("/v2024/managed-clusters?filters={}", q(filter)),
                None,
            )
            .await;
        assert_eq!(names(&r.body), want, "{filter}");
    }
    let r = app
        .admin(
            "GET",
            &format!("/v3/managed-clusters?filters={}", q(r#"name sw "c""#)),
            None,
        )
        .await;
    assert!(assert_error(&r, StatusCode::BAD_REQUEST).contains("sw"));
    let r = app
        .admin("GET", "/v3/managed-clusters?sorters=name", None)
        .await;
    assert!(assert_error(&r, StatusCode::BAD_REQUEST).contains("name"));
    let r = app
        .admin(
            "PATCH",
            &format!("/v2024/managed-clusters/{id}"),
            Some(json!([{"op": "replace", "path": "/description", "value": "changed"}])),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["description"], "changed");
    let r = app
        .admin(
            "PATCH",
            &format!("/v3/managed-clusters/{id}"),
            Some(json!([{"op": "replace", "path": "/type", "value": "nope"}])),
        )
        .await;
    assert!(assert_error(&r, StatusCode::BAD_REQUEST).contains("type"));
    let r = app
        .admin(
            "POST",
            "/v3/managed-clusters",
            Some(json!({"name": "Cluster B"})),
        )
        .await;
    assert!(assert_error(&r, StatusCode::BAD_REQUEST).contains("Cluster B"));
    let r = app
        .admin("POST", "/v3/managed-clusters", Some(json!({"type": "idn"})))
        .await;
    assert!(assert_error(&r, StatusCode::BAD_REQUEST).contains("name"));
    // In use by a source: refused, naming the source.
    let owner = app.admin_identity.clone();
    let s = source(
        &app,
        "HR",
        &owner,
        json!({"cluster": {"type": "CLUSTER", "id": id}}),
    )
    .await;
    assert_eq!(s["cluster"]["name"], "Cluster A");
    let r = app
        .admin("DELETE", &format!("/v3/managed-clusters/{id}"), None)
        .await;
    assert!(assert_error(&r, StatusCode::BAD_REQUEST).contains("'HR'"));
    let r = app
        .admin(
            "DELETE",
            &format!("/v3/sources/{}", s["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let r = app
        .admin("DELETE", &format!("/v3/managed-clusters/{id}"), None)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let r = app
        .admin("GET", &format!("/v3/managed-clusters/{id}"), None)
        .await;
    assert_error(&r, StatusCode::NOT_FOUND);
    // Only ORG_ADMIN.
    let (_, user) = app.person("someone", &["SOURCE_ADMIN"]).await;
    let r = app
        .call("GET", "/v3/managed-clusters", Some(&user), None)
        .await;
    assert_error(&r, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn workgroups_crud_members_and_filters() {
    let app = TestApp::new().await;
    let alice = person(&app, "alice", |i| {
        i.email = Some("alice@example.com".into())
    })
    .await;
    let bob = person(&app, "bob", |_| {}).await;
    let mut made = Vec::new();
    for (name, owner) in [
        ("Approvers", &alice),
        ("Auditors", &bob),
        ("Builders", &alice),
    ] {
        let r = app
            .admin("POST", "/v2024/workgroups", Some(json!({"name": name, "description": format!("{name} group"), "owner": {"type": "IDENTITY", "id": owner}})))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_shape("v2024", "POST", "/workgroups", 200, &r.body);
        assert_eq!(
            r.body["owner"]["emailAddress"],
            if owner == &alice {
                json!("alice@example.com")
            } else {
                Value::Null
            }
        );
        made.push(r.body["id"].as_str().unwrap().to_owned());
    }
    join(&app, &made[0], &alice).await;
    join(&app, &made[0], &bob).await;
    join(&app, &made[1], &bob).await;
    for family in ["v2024", "beta"] {
        let r = app
            .admin("GET", &format!("/{family}/workgroups/{}", made[0]), None)
            .await;
        assert_shape(family, "GET", "/workgroups/{id}", 200, &r.body);
        assert_eq!(r.body["memberCount"], 2);
        let r = app
            .admin(
                "GET",
                &format!(
                    "/{family}/workgroups/{}/members?sorters=-name&count=true",
                    made[0]
                ),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_shape(
            family,
            "GET",
            "/workgroups/{workgroupId}/members",
            200,
            &r.body,
        );
        assert_eq!(names(&r.body), vec!["bob", "alice"]);
        assert_eq!(r.headers["x-total-count"], "2");
    }
    let r = app
        .admin(
            "GET",
            &format!("/v2024/workgroups/{}/members?limit=51", made[0]),
            None,
        )
        .await;
    assert!(assert_error(&r, StatusCode::BAD_REQUEST).contains("limit"));
    let r = app
        .admin(
            "GET",
            &format!(
                "/v2024/workgroups/{}/members?filters={}",
                made[0],
                q(r#"name eq "bob""#)
            ),
            None,
        )
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST);
    for (filter, want) in [
        (
            format!(r#"memberships.identityId eq "{bob}""#),
            vec!["Approvers", "Auditors"],
        ),
        (
            format!(r#"memberships.identityId in ("{alice}", "nobody")"#),
            vec!["Approvers"],
        ),
        (format!(r#"id eq "{}""#, made[2]), vec!["Builders"]),
        (
            format!(r#"id in ("{}", "{}")"#, made[1], made[2]),
            vec!["Auditors", "Builders"],
        ),
        (format!(r#"id sw "{}""#, &made[1][..20]), vec!["Auditors"]),
        (r#"name eq "auditors""#.into(), vec!["Auditors"]),
        (r#"name sw "A""#.into(), vec!["Approvers", "Auditors"]),
        (r#"name in ("Builders", "x")"#.into(), vec!["Builders"]),
    ] {
        let r = app
            .admin(
                "GET",
                &format!("/beta/workgroups?filters={}&sorters=name", q(&filter)),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(names(&r.body), want, "{filter}");
    }
    for (sorter, want) in [
        ("-name", vec!["Builders", "Auditors", "Approvers"]),
        ("description", vec!["Approvers", "Auditors", "Builders"]),
    ] {
        let r = app
            .admin("GET", &format!("/v2024/workgroups?sorters={sorter}"), None)
            .await;
        assert_eq!(names(&r.body), want);
    }
    let r = app
        .admin(
            "GET",
            &format!("/v2024/workgroups?filters={}", q(r#"description eq "x""#)),
            None,
        )
        .await;
    assert!(assert_error(&r, StatusCode::BAD_REQUEST).contains("description"));
    let r = app
        .admin(
            "GET",
            &format!(
                "/v2024/workgroups?filters={}",
                q(r#"memberships.identityId sw "x""#)
            ),
            None,
        )
        .await;
    assert!(assert_error(&r, StatusCode::BAD_REQUEST).contains("sw"));
    // Patch: name, description, owner; an unknown owner is named.
    let r = app
        .admin("PATCH", &format!("/v2024/workgroups/{}", made[2]), Some(json!([{"op": "replace", "path": "/description", "value": "new"}, {"op": "replace", "path": "/owner", "value": {"type": "IDENTITY", "id": bob}}])))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        (
            r.body["description"].clone(),
            r.body["owner"]["name"].clone()
        ),
        (json!("new"), json!("bob"))
    );
    let ghost = new_id();
    let r = app
        .admin(
            "PATCH",
            &format!("/v2024/workgroups/{}", made[2]),
            Some(json!([{"op": "replace", "path": "/owner/id", "value": ghost}])),
        )
        .await;
    assert!(assert_error(&r, StatusCode::BAD_REQUEST).contains(&ghost));
    let r = app
        .admin(
            "PATCH",
            &format!("/v2024/workgroups/{}", made[2]),
            Some(json!([{"op": "replace", "path": "/memberCount", "value": 9}])),
        )
        .await;
    assert!(assert_error(&r, StatusCode::BAD_REQUEST).contains("memberCount"));
    let r = app
        .admin(
            "POST",
            "/v2024/workgroups",
            Some(json!({"name": "Approvers"})),
        )
        .await;
    assert!(assert_error(&r, StatusCode::BAD_REQUEST).contains("Approvers"));
    // Delete: refused while a source is managed by it.
    let s = source(
        &app,
        "CRM",
        &alice,
        json!({"managementWorkgroup": {"type": "GOVERNANCE_GROUP", "id": made[1]}}),
    )
    .await;
    assert_eq!(s["managementWorkgroup"]["name"], "Auditors");
    let r = app
        .admin("DELETE", &format!("/v2024/workgroups/{}", made[1]), None)
        .await;
    assert!(assert_error(&r, StatusCode::BAD_REQUEST).contains("'CRM'"));
    let r = app
        .admin("DELETE", &format!("/beta/workgroups/{}", made[0]), None)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let r = app
        .admin(
            "GET",
            &format!("/v2024/workgroups/{}/members", made[0]),
            None,
        )
        .await;
    assert_error(&r, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn sources_crud_rules_filters_and_families() {
    let app = TestApp::new().await;
    let owner = person(&app, "owner.one", |_| {}).await;
    let other = person(&app, "owner.two", |_| {}).await;
    let hr = source(&app, "HR", &owner, json!({"type": "DelimitedFile", "description": "People", "authoritative": true, "connectionType": "file", "connectorName": "Delimited File", "category": "hr", "features": ["PROVISIONING"], "deleteThreshold": 10})).await;
    let crm = source(&app, "CRM", &other, json!({"description": "Sales tool"})).await;
    let hr_id = hr["id"].as_str().unwrap().to_owned();
    let crm_id = crm["id"].as_str().unwrap().to_owned();
    assert_eq!(hr["deleteThreshold"], 10, "other fields are kept");
    for family in ["v3", "v2024", "beta"] {
        let r = app
            .admin("GET", &format!("/{family}/sources/{hr_id}"), None)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_shape(family, "GET", "/sources/{id}", 200, &r.body);
        assert_eq!(r.body["owner"]["name"], "owner.one");
        let r = app
            .admin("GET", &format!("/{family}/sources?count=true"), None)
            .await;
        assert_shape(family, "GET", "/sources", 200, &r.body);
        assert_eq!(r.headers["x-total-count"], "2");
    }
    assert_shape("v3", "POST", "/sources", 201, &hr);
    for (filter, want) in [
        (format!(r#"id eq "{hr_id}""#), vec!["HR"]),
        (r#"name co "R""#.into(), vec!["CRM", "HR"]),
        (r#"name sw "c""#.into(), vec!["CRM"]),
        (r#"name ne "HR""#.into(), vec!["CRM"]),
        (r#"type eq "delimitedfile""#.into(), vec!["HR"]),
        ("type isnull".into(), vec!["CRM"]),
        (format!(r#"owner.id eq "{other}""#), vec!["CRM"]),
        (r#"description sw "sales""#.into(), vec!["CRM"]),
        ("authoritative eq true".into(), vec!["HR"]),
        ("healthy isnull".into(), vec![]),
        (
            r#"status eq "SOURCE_STATE_HEALTHY""#.into(),
            vec!["CRM", "HR"],
        ),
        (r#"connectionType eq "file""#.into(), vec!["HR"]),
        (r#"connectorName sw "delim""#.into(), vec!["HR"]),
        (r#"category eq "HR""#.into(), vec!["HR"]),
        ("managementWorkgroup.id isnull".into(), vec!["CRM", "HR"]),
    ] {
        let r = app
            .admin(
                "GET",
                &format!("/v2024/sources?filters={}&sorters=name", q(&filter)),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{filter}: {}", r.text);
        assert_eq!(names(&r.body), want, "{filter}");
    }
    let created = hr["created"].as_str().unwrap();
    let r = app
        .admin(
            "GET",
            &format!(
                "/v2024/sources?filters={}",
                q(&format!("created eq {created}"))
            ),
            None,
        )
        .await;
    assert!(names(&r.body).contains(&"HR".to_owned()), "{}", r.text);
    let r = app
        .admin(
            "GET",
            &format!(
                "/beta/sources?filters={}",
                q("modified eq 2001-01-01T00:00:00Z")
            ),
            None,
        )
        .await;
    assert_eq!(names(&r.body), Vec::<String>::new());
    // v3 allows ranges on created; v2024 and beta only eq.
    let ranged = q("created ge 2000-01-01T00:00:00Z");
    let r = app
        .admin("GET", &format!("/v3/sources?filters={ranged}"), None)
        .await;
    assert_eq!(names(&r.body).len(), 2, "{}", r.text);
    for family in ["v2024", "beta"] {
        let r = app
            .admin("GET", &format!("/{family}/sources?filters={ranged}"), None)
            .await;
        assert!(assert_error(&r, StatusCode::BAD_REQUEST).contains("ge"));
    }
    for (sorter, want) in [
        ("-name", vec!["HR", "CRM"]),
        ("owner.name", vec!["HR", "CRM"]),
        ("-authoritative", vec!["HR", "CRM"]),
        ("type,name", vec!["CRM", "HR"]),
    ] {
        let r = app
            .admin("GET", &format!("/v3/sources?sorters={sorter}"), None)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let got = names(&r.body);
        if sorter == "type,name" {
            assert_eq!(got.len(), 2);
        } else {
            assert_eq!(got, want, "{sorter}");
        }
    }
    for bad in [
        "filters=features%20co%20%22X%22",
        "sorters=accountCorrelationConfig.name",
        "filters=connector%20eq%20%22x%22",
    ] {
        let r = app.admin("GET", &format!("/v3/sources?{bad}"), None).await;
        assert_error(&r, StatusCode::BAD_REQUEST);
    }
    // Referential rules on create and update.
    let ghost = new_id();
    let r = app
        .admin(
            "POST",
            "/v3/sources",
            Some(
                json!({"name": "X", "owner": {"type": "IDENTITY", "id": ghost}, "connector": "c"}),
            ),
        )
        .await;
    assert!(assert_error(&r, StatusCode::BAD_REQUEST).contains(&ghost));
    let r = app.admin("POST", "/v3/sources", Some(json!({"name": "X", "owner": {"id": owner}, "connector": "c", "cluster": {"type": "CLUSTER", "id": ghost}}))).await;
    assert!(assert_error(&r, StatusCode::BAD_REQUEST).contains(&ghost));
    let r = app
        .admin(
            "POST",
            "/v3/sources",
            Some(json!({"name": "X", "connector": "c"})),
        )
        .await;
    assert!(assert_error(&r, StatusCode::BAD_REQUEST).contains("owner"));
    let r = app
        .admin(
            "POST",
            "/v3/sources",
            Some(json!({"name": "X", "owner": {"id": owner}})),
        )
        .await;
    assert!(assert_error(&r, StatusCode::BAD_REQUEST).contains("connector"));
    let r = app
        .admin(
            "POST",
            "/v2024/sources",
            Some(json!({"name": "hr", "owner": {"id": owner}, "connector": "c"})),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "names are unique exactly, as in SailPoint: {}",
        r.text
    );
    let r = app
        .admin(
            "POST",
            "/v2024/sources",
            Some(json!({"name": "HR", "owner": {"id": owner}, "connector": "c"})),
        )
        .await;
    assert!(assert_error(&r, StatusCode::BAD_REQUEST).contains("'HR'"));
    let r = app
        .admin(
            "POST",
            "/v3/sources?provisionAsCsv=true",
            Some(json!({"name": "CSV", "owner": {"id": owner}, "connector": "c"})),
        )
        .await;
    assert_eq!(r.body["type"], "DelimitedFile");
    let r = app
        .admin("PATCH", &format!("/v3/sources/{crm_id}"), Some(json!([{"op": "replace", "path": "/description", "value": "CRM 2"}, {"op": "replace", "path": "/owner", "value": {"type": "IDENTITY", "id": owner}}])))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        (
            r.body["description"].clone(),
            r.body["owner"]["name"].clone()
        ),
        (json!("CRM 2"), json!("owner.one"))
    );
    let r = app
        .admin(
            "PATCH",
            &format!("/v3/sources/{crm_id}"),
            Some(json!([{"op": "replace", "path": "/owner/id", "value": ghost}])),
        )
        .await;
    assert!(assert_error(&r, StatusCode::BAD_REQUEST).contains(&ghost));
    let r = app
        .admin(
            "PATCH",
            &format!("/v3/sources/{crm_id}"),
            Some(json!([{"op": "replace", "path": "/id", "value": "x"}])),
        )
        .await;
    assert!(assert_error(&r, StatusCode::BAD_REQUEST).contains("'id'"));
    let r = app
        .admin(
            "PUT",
            &format!("/v3/sources/{crm_id}"),
            Some(json!({"name": "CRM", "owner": {"id": other}, "connector": "c2"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        (
            r.body["connector"].clone(),
            r.body.get("description").cloned()
        ),
        (json!("c2"), None)
    );
    // Delete: an access profile on it blocks; its entitlements go with it otherwise.
    let e = entitlement(&app, &hr_id, "Staff", "cn=staff").await;
    let r = app
        .admin("POST", "/v3/access-profiles", Some(json!({"name": "HR staff", "owner": {"id": owner}, "source": {"id": hr_id}, "entitlements": [{"type": "ENTITLEMENT", "id": e}]})))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let ap = r.body["id"].as_str().unwrap().to_owned();
    let r = app
        .admin("DELETE", &format!("/v3/sources/{hr_id}"), None)
        .await;
    let text = assert_error(&r, StatusCode::BAD_REQUEST);
    assert!(text.contains("'HR staff'") && text.contains(&ap), "{text}");
    app.admin("DELETE", &format!("/v3/access-profiles/{ap}"), None)
        .await;
    let r = app
        .admin("DELETE", &format!("/beta/sources/{hr_id}"), None)
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    assert_eq!(r.body["type"], "TASK_RESULT");
    let r = app
        .admin("GET", &format!("/v2024/entitlements/{e}"), None)
        .await;
    assert_error(&r, StatusCode::NOT_FOUND);
    let r = app
        .admin("GET", &format!("/v3/sources/{hr_id}"), None)
        .await;
    assert_error(&r, StatusCode::NOT_FOUND);
    let listed = ids(&app.admin("GET", "/v3/sources", None).await.body);
    assert!(listed.contains(&crm_id) && !listed.contains(&hr_id));
}
