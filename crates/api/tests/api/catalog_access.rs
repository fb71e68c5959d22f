//! `/entitlements`, `/access-profiles` (and their entitlements), `/roles` and `/accounts`.

use crate::catalog_fixtures::{assign, entitlement, ids, names, person, q, tenant, T};
use crate::catalog_sources::source;
use crate::spec_shape::assert_shape;
use crate::support::{assert_error, TestApp};
use axum::http::StatusCode;
use gatehouse_api::auth::secrets::new_id;
use gatehouse_store::accounts::{self, Account};
use gatehouse_store::assignments::ItemType;
use serde_json::{json, Value};

struct World {
    owner: String,
    hr: String,
    crm: String,
    staff: String,
    managers: String,
    sales: String,
}

async fn world(app: &TestApp) -> World {
    let owner = person(app, "owner", |_| {}).await;
    let hr = source(app, "HR", &owner, json!({})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let crm = source(app, "CRM", &owner, json!({})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let staff = entitlement(app, &hr, "Staff", "cn=staff").await;
    let managers = entitlement(app, &hr, "Managers", "cn=managers").await;
    let sales = entitlement(app, &crm, "Sales", "role=sales").await;
    World {
        owner,
        hr,
        crm,
        staff,
        managers,
        sales,
    }
}

fn ap_body(w: &World, name: &str, source: &str, ents: &[&String]) -> Value {
    json!({
        "name": name,
        "owner": {"type": "IDENTITY", "id": w.owner},
        "source": {"type": "SOURCE", "id": source},
        "entitlements": ents.iter().map(|e| json!({"type": "ENTITLEMENT", "id": e})).collect::<Vec<_>>(),
        "accessRequestConfig": {"commentsRequired": true, "approvalSchemes": [{"approverType": "MANAGER", "approverId": null}]},
    })
}

#[tokio::test]
async fn entitlements_list_get_filters() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    for family in ["v2024", "beta"] {
        let r = app
            .admin(
                "GET",
                &format!("/{family}/entitlements?count=true&sorters=name"),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_shape(family, "GET", "/entitlements", 200, &r.body);
        assert_eq!(names(&r.body), vec!["Managers", "Sales", "Staff"]);
        assert_eq!(r.headers["x-total-count"], "3");
        let r = app
            .admin("GET", &format!("/{family}/entitlements/{}", w.sales), None)
            .await;
        assert_shape(family, "GET", "/entitlements/{id}", 200, &r.body);
        assert_eq!(r.body["source"]["name"], "CRM");
        assert_eq!(r.body["value"], "role=sales");
    }
    let later = "2100-01-01T00:00:00Z";
    for (filter, want) in [
        (format!(r#"id eq "{}""#, w.staff), vec!["Staff"]),
        (
            r#"name in ("staff", "SALES")"#.into(),
            vec!["Sales", "Staff"],
        ),
        (r#"name sw "ma""#.into(), vec!["Managers"]),
        (
            r#"type eq "group""#.into(),
            vec!["Managers", "Sales", "Staff"],
        ),
        (
            r#"attribute eq "memberOf""#.into(),
            vec!["Managers", "Sales", "Staff"],
        ),
        (r#"value sw "cn=""#.into(), vec!["Managers", "Staff"]),
        (format!(r#"source.id eq "{}""#, w.crm), vec!["Sales"]),
        (
            "requestable eq true".into(),
            vec!["Managers", "Sales", "Staff"],
        ),
        (
            format!("created lt {later}"),
            vec!["Managers", "Sales", "Staff"],
        ),
        (format!("modified gt {later}"), vec![]),
        (format!(r#"owner.id eq "{}""#, w.owner), vec![]),
    ] {
        let r = app
            .admin(
                "GET",
                &format!("/v2024/entitlements?filters={}&sorters=name", q(&filter)),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{filter}: {}", r.text);
        assert_eq!(names(&r.body), want, "{filter}");
    }
    let r = app
        .admin("GET", "/beta/entitlements?sorters=-value", None)
        .await;
    assert_eq!(names(&r.body), vec!["Sales", "Staff", "Managers"]);
    for bad in [
        "filters=privileged%20eq%20true",
        "sorters=owner.id",
        "for-segment-ids=a",
        "account-id=x",
    ] {
        let r = app
            .admin("GET", &format!("/v2024/entitlements?{bad}"), None)
            .await;
        assert_error(&r, StatusCode::BAD_REQUEST);
    }
    let _ = w.hr;
    let _ = w.managers;
}

#[tokio::test]
async fn access_profiles_rules_and_entitlements() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let r = app
        .admin(
            "POST",
            "/v3/access-profiles",
            Some(ap_body(&w, "HR basic", &w.hr, &[&w.staff, &w.managers])),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_shape("v3", "POST", "/access-profiles", 201, &r.body);
    let ap = r.body["id"].as_str().unwrap().to_owned();
    assert_eq!(r.body["entitlements"][1]["name"], "Managers");
    assert_eq!(
        r.body["accessRequestConfig"]["approvalSchemes"][0]["approverType"],
        "MANAGER"
    );
    for family in ["v3", "v2024", "beta"] {
        let r = app
            .admin("GET", &format!("/{family}/access-profiles/{ap}"), None)
            .await;
        assert_shape(family, "GET", "/access-profiles/{id}", 200, &r.body);
        assert_eq!(r.body["source"]["name"], "HR");
        let r = app
            .admin(
                "GET",
                &format!("/{family}/access-profiles?count=true"),
                None,
            )
            .await;
        assert_shape(family, "GET", "/access-profiles", 200, &r.body);
        let r = app
            .admin(
                "GET",
                &format!("/{family}/access-profiles/{ap}/entitlements?sorters=-name"),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_shape(
            family,
            "GET",
            "/access-profiles/{id}/entitlements",
            200,
            &r.body,
        );
        assert_eq!(names(&r.body), vec!["Staff", "Managers"]);
    }
    let r = app
        .admin(
            "GET",
            &format!("/v3/access-profiles/{ap}/entitlements"),
            None,
        )
        .await;
    assert_eq!(
        names(&r.body),
        vec!["Staff", "Managers"],
        "in the access profile's order"
    );
    for (filter, want) in [
        (r#"name sw "man""#, vec!["Managers"]),
        (r#"attribute eq "memberof""#, vec!["Managers", "Staff"]),
        (r#"value eq "CN=STAFF""#, vec!["Staff"]),
    ] {
        let r = app
            .admin(
                "GET",
                &format!(
                    "/v3/access-profiles/{ap}/entitlements?filters={}&sorters=name",
                    q(filter)
                ),
                None,
            )
            .await;
        assert_eq!(names(&r.body), want, "{filter}");
    }
    let r = app
        .admin(
            "GET",
            &format!(
                "/v3/access-profiles/{ap}/entitlements?filters={}",
                q(r#"type eq "group""#)
            ),
            None,
        )
        .await;
    assert!(assert_error(&r, StatusCode::BAD_REQUEST).contains("type"));
    // An entitlement of another source is refused, naming it.
    let r = app
        .admin(
            "POST",
            "/v3/access-profiles",
            Some(ap_body(&w, "Mixed", &w.hr, &[&w.staff, &w.sales])),
        )
        .await;
    let text = assert_error(&r, StatusCode::BAD_REQUEST);
    assert!(text.contains(&w.sales) && text.contains("source"), "{text}");
    let ghost = new_id();
    for (body, needle) in [
        (ap_body(&w, "X", &ghost, &[]), ghost.clone()),
        (
            json!({"name": "X", "owner": {"id": ghost}, "source": {"id": w.hr}}),
            ghost.clone(),
        ),
        (ap_body(&w, "X", &w.hr, &[&ghost]), ghost.clone()),
        (json!({"name": "X", "source": {"id": w.hr}}), "owner".into()),
        (
            json!({"name": "X", "owner": {"id": w.owner}, "source": {"id": w.hr}, "accessRequestConfig": {"approvalSchemes": [{"approverType": "GOVERNANCE_GROUP", "approverId": ghost}]}}),
            ghost.clone(),
        ),
        (
            json!({"name": "X", "owner": {"id": w.owner}, "source": {"id": w.hr}, "accessRequestConfig": {"approvalSchemes": [{"approverType": "BOSS"}]}}),
            "BOSS".into(),
        ),
        (ap_body(&w, "HR basic", &w.hr, &[]), "HR basic".into()),
    ] {
        let r = app
            .admin("POST", "/v2024/access-profiles", Some(body))
            .await;
        assert!(
            assert_error(&r, StatusCode::BAD_REQUEST).contains(&needle),
            "{needle}"
        );
    }
    // Patch keeps the source rule.
    let r = app.admin("PATCH", &format!("/v3/access-profiles/{ap}"), Some(json!([{"op": "add", "path": "/entitlements/-", "value": {"type": "ENTITLEMENT", "id": w.sales}}]))).await;
    assert!(assert_error(&r, StatusCode::BAD_REQUEST).contains(&w.sales));
    let r = app.admin("PATCH", &format!("/v3/access-profiles/{ap}"), Some(json!([{"op": "remove", "path": "/entitlements/0"}, {"op": "replace", "path": "/requestable", "value": false}, {"op": "replace", "path": "/description", "value": "d"}]))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        (
            names(&r.body["entitlements"]),
            r.body["requestable"].clone()
        ),
        (vec!["Managers".to_owned()], json!(false))
    );
    let r2 = app
        .admin(
            "POST",
            "/v3/access-profiles",
            Some(ap_body(&w, "CRM sales", &w.crm, &[&w.sales])),
        )
        .await;
    let crm_ap = r2.body["id"].as_str().unwrap().to_owned();
    for (filter, want) in [
        (
            format!(r#"id in ("{ap}", "{crm_ap}")"#),
            vec!["CRM sales", "HR basic"],
        ),
        (r#"name eq "hr basic""#.into(), vec!["HR basic"]),
        (r#"name sw "CRM""#.into(), vec!["CRM sales"]),
        (
            "created gt 2000-01-01T00:00:00Z".into(),
            vec!["CRM sales", "HR basic"],
        ),
        ("modified lt 2000-01-01T00:00:00Z".into(), vec![]),
        (
            format!(r#"owner.id eq "{}""#, w.owner),
            vec!["CRM sales", "HR basic"],
        ),
        ("requestable eq false".into(), vec!["HR basic"]),
        (format!(r#"source.id eq "{}""#, w.crm), vec!["CRM sales"]),
    ] {
        let r = app
            .admin(
                "GET",
                &format!("/beta/access-profiles?filters={}&sorters=name", q(&filter)),
                None,
            )
            .await;
        assert_eq!(names(&r.body), want, "{filter}");
    }
    let r = app
        .admin(
            "GET",
            "/v3/access-profiles?sorters=-name&limit=1&count=true",
            None,
        )
        .await;
    assert_eq!(
        (names(&r.body), r.headers["x-total-count"].to_str().unwrap()),
        (vec!["HR basic".to_owned()], "2")
    );
    for bad in [
        "filters=created%20lt%202000-01-01T00:00:00Z",
        "sorters=owner.id",
        "for-subadmin=me",
        "include-unsegmented=false",
    ] {
        let r = app
            .admin("GET", &format!("/v3/access-profiles?{bad}"), None)
            .await;
        assert_error(&r, StatusCode::BAD_REQUEST);
    }
    // Deleting an entitlement's source or an access profile in use names the user.
    let holder = person(&app, "holder", |_| {}).await;
    assign(&app, &holder, ItemType::AccessProfile, &crm_ap).await;
    let r = app
        .admin("DELETE", &format!("/v3/access-profiles/{crm_ap}"), None)
        .await;
    assert!(assert_error(&r, StatusCode::BAD_REQUEST).contains("'holder'"));
    let r = app
        .admin("DELETE", &format!("/v3/access-profiles/{ap}"), None)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = app
        .admin(
            "GET",
            &format!("/v3/access-profiles/{ap}/entitlements"),
            None,
        )
        .await;
    assert_error(&r, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn roles_rules_filters_and_limit() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let ap = app
        .admin(
            "POST",
            "/v3/access-profiles",
            Some(ap_body(&w, "HR basic", &w.hr, &[&w.staff])),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = |name: &str| {
        json!({
            "name": name,
            "owner": {"type": "IDENTITY", "id": w.owner},
            "accessProfiles": [{"type": "ACCESS_PROFILE", "id": ap}],
            "entitlements": [{"type": "ENTITLEMENT", "id": w.sales}],
            "requestable": true,
            "accessRequestConfig": {"approvalSchemes": [{"approverType": "OWNER"}]},
            "membership": {"type": "IDENTITY_LIST", "identities": []},
        })
    };
    let r = app.admin("POST", "/v2024/roles", Some(body("Clerk"))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_shape("v2024", "POST", "/roles", 201, &r.body);
    let clerk = r.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        (
            r.body["accessProfiles"][0]["name"].clone(),
            r.body["entitlements"][0]["name"].clone()
        ),
        (json!("HR basic"), json!("Sales"))
    );
    assert_eq!(r.body["membership"]["type"], "IDENTITY_LIST");
    let mut other = body("Auditor");
    other["requestable"] = json!(false);
    other["dimensional"] = json!(true);
    let auditor = app.admin("POST", "/v3/roles", Some(other)).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for family in ["v3", "v2024", "beta"] {
        let r = app
            .admin("GET", &format!("/{family}/roles/{clerk}"), None)
            .await;
        assert_shape(family, "GET", "/roles/{id}", 200, &r.body);
        let r = app
            .admin(
                "GET",
                &format!("/{family}/roles?sorters=name&count=true"),
                None,
            )
            .await;
        assert_shape(family, "GET", "/roles", 200, &r.body);
        assert_eq!(names(&r.body), vec!["Auditor", "Clerk"]);
        let r = app
            .admin("GET", &format!("/{family}/roles?limit=51"), None)
            .await;
        assert!(assert_error(&r, StatusCode::BAD_REQUEST).contains("50"));
    }
    for (filter, want) in [
        (format!(r#"id eq "{clerk}""#), vec!["Clerk"]),
        (
            format!(r#"id in ("{clerk}", "{auditor}")"#),
            vec!["Auditor", "Clerk"],
        ),
        (r#"name eq "CLERK""#.into(), vec!["Clerk"]),
        (r#"name sw "au""#.into(), vec!["Auditor"]),
        (
            "created ge 2000-01-01T00:00:00Z".into(),
            vec!["Auditor", "Clerk"],
        ),
        ("modified le 2000-01-01T00:00:00Z".into(), vec![]),
        (
            format!(r#"owner.id in ("{}")"#, w.owner),
            vec!["Auditor", "Clerk"],
        ),
        ("requestable eq true".into(), vec!["Clerk"]),
        ("dimensional eq true".into(), vec!["Auditor"]),
    ] {
        let r = app
            .admin(
                "GET",
                &format!("/v3/roles?filters={}&sorters=-name", q(&filter)),
                None,
            )
            .await;
        let mut want = want;
        want.reverse();
        assert_eq!(names(&r.body), want, "{filter}");
    }
    let r = app
        .admin(
            "GET",
            &format!(
                "/v3/roles?filters={}",
                q("modified gt 2000-01-01T00:00:00Z")
            ),
            None,
        )
        .await;
    assert!(assert_error(&r, StatusCode::BAD_REQUEST).contains("gt"));
    let ghost = new_id();
    for (patch, needle) in [
        (
            json!([{"op": "add", "path": "/accessProfiles/-", "value": {"type": "ACCESS_PROFILE", "id": ghost}}]),
            ghost.clone(),
        ),
        (
            json!([{"op": "replace", "path": "/owner", "value": {"type": "IDENTITY", "id": ghost}}]),
            ghost.clone(),
        ),
        (
            json!([{"op": "replace", "path": "/name", "value": "Auditor"}]),
            "Auditor".into(),
        ),
        (
            json!([{"op": "replace", "path": "/accessRequestConfig/approvalSchemes/0/approverType", "value": "SOURCE_OWNER"}]),
            "SOURCE_OWNER".into(),
        ),
    ] {
        let r = app
            .admin("PATCH", &format!("/v3/roles/{clerk}"), Some(patch))
            .await;
        assert!(
            assert_error(&r, StatusCode::BAD_REQUEST).contains(&needle),
            "{needle}"
        );
    }
    let r = app
        .admin(
            "PATCH",
            &format!("/beta/roles/{clerk}"),
            Some(json!([{"op": "replace", "path": "/entitlements", "value": []}])),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["entitlements"], json!([]));
    // The access profile is in a role: neither it nor its source can go.
    let r = app
        .admin("DELETE", &format!("/v3/access-profiles/{ap}"), None)
        .await;
    assert!(assert_error(&r, StatusCode::BAD_REQUEST).contains("'Auditor'"));
    let holder = person(&app, "holder", |_| {}).await;
    assign(&app, &holder, ItemType::Role, &clerk).await;
    let r = app
        .admin("DELETE", &format!("/v3/roles/{clerk}"), None)
        .await;
    assert!(assert_error(&r, StatusCode::BAD_REQUEST).contains("'holder'"));
    let r = app
        .admin("DELETE", &format!("/v3/roles/{auditor}"), None)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = app
        .admin("GET", &format!("/v3/roles/{auditor}"), None)
        .await;
    assert_error(&r, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn accounts_list_and_get() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let ann = person(&app, "ann", |_| {}).await;
    let t = tenant(&app).await;
    let acct = |name: &str, identity: Option<&String>, source: &String| Account {
        id: new_id(),
        tenant_id: t.clone(),
        source_id: source.clone(),
        identity_id: identity.cloned(),
        name: name.to_owned(),
        native_identity: format!("uid={name}"),
        uuid: None,
        disabled: false,
        locked: false,
        manually_correlated: false,
        origin: Some("AGGREGATED".into()),
        attributes: json!({"title": name}),
        created: T,
        modified: T,
    };
    let all = vec![
        acct("ann.hr", Some(&ann), &w.hr),
        acct("orphan", None, &w.crm),
    ];
    let stored = all.clone();
    app.state
        .store()
        .write(move |c| stored.iter().try_for_each(|a| accounts::insert(c, a)))
        .await
        .unwrap();
    for family in ["v3", "v2024", "beta"] {
        let r = app
            .admin(
                "GET",
                &format!("/{family}/accounts?sorters=name&count=true"),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_shape(family, "GET", "/accounts", 200, &r.body);
        assert_eq!(names(&r.body), vec!["ann.hr", "orphan"]);
        let r = app
            .admin("GET", &format!("/{family}/accounts/{}", all[0].id), None)
            .await;
        assert_shape(family, "GET", "/accounts/{id}", 200, &r.body);
        assert_eq!(
            (
                r.body["identity"]["name"].clone(),
                r.body["sourceName"].clone()
            ),
            (json!("ann"), json!("HR"))
        );
    }
    for (filter, want) in [
        ("uncorrelated eq true".to_owned(), vec!["orphan"]),
        (format!(r#"identityId eq "{ann}""#), vec!["ann.hr"]),
        (r#"identity.name eq "ANN""#.into(), vec!["ann.hr"]),
        (r#"nativeIdentity sw "uid=o""#.into(), vec!["orphan"]),
        (r#"source.displayableName eq "crm""#.into(), vec!["orphan"]),
        ("hasEntitlements eq false".into(), vec!["ann.hr", "orphan"]),
        (
            r#"origin in ("AGGREGATED")"#.into(),
            vec!["ann.hr", "orphan"],
        ),
    ] {
        let r = app
            .admin(
                "GET",
                &format!("/v3/accounts?filters={}&sorters=name", q(&filter)),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{filter}: {}", r.text);
        assert_eq!(names(&r.body), want, "{filter}");
    }
    let r = app
        .admin(
            "GET",
            &format!(
                "/v3/accounts?filters={}",
                q("created lt 2100-01-01T00:00:00Z")
            ),
            None,
        )
        .await;
    assert_eq!(ids(&r.body).len(), 2);
    let r = app
        .admin(
            "GET",
            &format!(
                "/v2024/accounts?filters={}",
                q("created lt 2100-01-01T00:00:00Z")
            ),
            None,
        )
        .await;
    assert!(assert_error(&r, StatusCode::BAD_REQUEST).contains("lt"));
    let r = app
        .admin("GET", "/v3/accounts?sorters=sourceOwner.name", None)
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST);
    let r = app
        .admin(
            "GET",
            "/v2024/accounts?sorters=sourceOwner.name&detailLevel=SLIM",
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body[0]["attributes"], Value::Null);
}
