//! Service desk integrations: CRUD in every family, PATCH rules, list filters and sorters, types
//! and templates, the status-check configuration, and who may call.

use crate::support::*;
use axum::http::StatusCode;
use serde_json::{json, Value};

/// The catalog an integration refers to, inserted through the store (the catalog API is built
/// elsewhere): an owner, two clusters and four sources.
pub struct Catalog {
    pub owner: String,
    pub clusters: [String; 2],
    pub sources: [String; 4],
}

pub async fn catalog(app: &TestApp) -> Catalog {
    let tenant = app.tenant_id().await;
    let (owner, _) = app.person("desk.owner", &["USER"]).await;
    let id = |p: &str, n: usize| format!("{p}{n:0>30}");
    let cat = Catalog {
        owner,
        clusters: [id("c", 1), id("c", 2)],
        sources: [id("s", 1), id("s", 2), id("s", 3), id("s", 4)],
    };
    let (clusters, sources) = (cat.clusters.clone(), cat.sources.clone());
    app.state
        .store()
        .write(move |c| {
            for (n, cl) in clusters.iter().enumerate() {
                c.execute(
                    "insert into managed_cluster (id, tenant_id, name, type, created, modified) values ($1, $2, $3, 'idn', 0, 0)",
                    &[cl.into(), tenant.clone().into(), format!("Cluster {}", n + 1).into()],
                )?;
            }
            for (n, s) in sources.iter().enumerate() {
                c.execute(
                    "insert into source (id, tenant_id, name, created, modified) values ($1, $2, $3, 0, 0)",
                    &[s.into(), tenant.clone().into(), format!("Source {}", n + 1).into()],
                )?;
            }
            Ok(())
        })
        .await
        .unwrap();
    cat
}

pub fn snow(name: &str, cat: &Catalog, sources: &[usize]) -> Value {
    json!({
        "name": name,
        "description": "Tickets for manual changes",
        "type": "ServiceNowSDIM",
        "ownerRef": {"type": "IDENTITY", "id": cat.owner},
        "clusterRef": {"type": "CLUSTER", "id": cat.clusters[0]},
        "provisioningConfig": {
            "managedResourceRefs": sources.iter().map(|n| json!({"type": "SOURCE", "id": cat.sources[*n]})).collect::<Vec<_>>(),
            "noProvisioningRequests": true,
            "provisioningRequestExpiration": 7
        },
        "beforeProvisioningRule": {"type": "RULE", "id": "8f1c0a6e2d3b4c5d6e7f8a9b0c1d2e3f", "name": "Before"},
        "attributes": {"url": "https://acme.service-now.com", "username": "svc-iam", "password": "s3cret-pw"}
    })
}

pub async fn create(app: &TestApp, body: Value) -> Value {
    let r = app
        .admin("POST", "/v3/service-desk-integrations", Some(body))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body
}

const FAMILIES: [&str; 4] = [
    "/v3/service-desk-integrations",
    "/v2024/service-desk-integrations",
    "/beta/service-desk-integrations",
    "/service-desk-integrations/v1",
];

#[tokio::test]
async fn service_desk_integration_lifecycle() {
    let app = TestApp::new().await;
    let cat = catalog(&app).await;
    let created = create(&app, snow("ServiceNow prod", &cat, &[1, 0])).await;
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(gatehouse_domain::ids::is_hex_id(&id), "{id}");
    assert_millis_date(&created["created"]);
    assert_eq!(created["created"], created["modified"]);
    assert_eq!(created["ownerRef"]["type"], "IDENTITY");
    assert_eq!(created["ownerRef"]["id"], cat.owner.as_str());
    assert_eq!(created["ownerRef"]["name"], "desk.owner");
    assert_eq!(
        created["clusterRef"],
        json!({"type": "CLUSTER", "id": cat.clusters[0], "name": "Cluster 1"})
    );
    assert_eq!(created["cluster"], cat.clusters[0].as_str(), "kept in step");
    assert_eq!(
        created["managedSources"],
        json!([cat.sources[1], cat.sources[0]])
    );
    assert_eq!(
        created["provisioningConfig"],
        json!({
            "universalManager": false,
            "managedResourceRefs": [
                {"type": "SOURCE", "id": cat.sources[1], "name": "Source 2"},
                {"type": "SOURCE", "id": cat.sources[0], "name": "Source 1"}
            ],
            "noProvisioningRequests": true,
            "provisioningRequestExpiration": 7
        })
    );
    assert_eq!(
        created["beforeProvisioningRule"],
        json!({"type": "RULE", "id": "8f1c0a6e2d3b4c5d6e7f8a9b0c1d2e3f", "name": "Before"})
    );
    let attrs = &created["attributes"];
    assert_eq!(attrs["password"], "********");
    assert_eq!(
        attrs["authType"], "basic",
        "template defaults are filled in"
    );
    assert_eq!(attrs["ticketType"], "incident");
    assert_eq!(attrs["statusMap"]["6"], "Committed");
    assert!(!created.to_string().contains("s3cret-pw"));

    for base in FAMILIES {
        let got = app.admin("GET", &format!("{base}/{id}"), None).await;
        assert_eq!(got.status, StatusCode::OK, "{base}: {}", got.text);
        assert_eq!(got.body["name"], "ServiceNow prod");
        if base.starts_with("/beta") {
            for absent in ["id", "created", "modified"] {
                assert!(got.body.get(absent).is_none(), "beta has no {absent}");
            }
        } else {
            assert_eq!(got.body, created, "{base}");
        }
        let list = app.admin("GET", base, None).await;
        assert_eq!(list.status, StatusCode::OK);
        assert_eq!(list.body.as_array().unwrap().len(), 1);
    }

    // PUT replaces everything: what is not sent is gone.
    let put = app
        .admin(
            "PUT",
            &format!("/v2024/service-desk-integrations/{id}"),
            Some(json!({
                "name": "ServiceNow prod", "description": "", "type": "ServiceNowSDIM",
                "cluster": cat.clusters[1],
                "managedSources": [cat.sources[2]],
                "attributes": {"url": "https://acme.service-now.com", "username": "svc-iam", "password": "********", "ticketType": "sc_request"}
            })),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text);
    assert!(put.body.get("ownerRef").is_none());
    assert!(put.body.get("beforeProvisioningRule").is_none());
    assert_eq!(
        put.body["clusterRef"]["id"],
        cat.clusters[1].as_str(),
        "from the deprecated field"
    );
    assert_eq!(put.body["clusterRef"]["name"], "Cluster 2");
    assert_eq!(
        put.body["provisioningConfig"]["managedResourceRefs"],
        json!([{"type": "SOURCE", "id": cat.sources[2], "name": "Source 3"}])
    );
    assert_eq!(
        put.body["provisioningConfig"]["noProvisioningRequests"],
        false
    );
    assert_eq!(put.body["attributes"]["ticketType"], "sc_request");
    assert_eq!(put.body["created"], created["created"]);

    // Both PATCH shapes.
    let bare = app
        .admin(
            "PATCH",
            &format!("/v3/service-desk-integrations/{id}"),
            Some(json!([
                {"op": "replace", "path": "/description", "value": "patched"},
                {"op": "replace", "path": "/ownerRef", "value": {"type": "IDENTITY", "id": cat.owner}}
            ])),
        )
        .await;
    assert_eq!(bare.status, StatusCode::OK, "{}", bare.text);
    assert_eq!(bare.body["description"], "patched");
    assert_eq!(bare.body["ownerRef"]["name"], "desk.owner");
    let wrapped = app
        .admin(
            "PATCH",
            &format!("/service-desk-integrations/v1/{id}"),
            Some(json!({"operations": [
                {"op": "replace", "path": "/name", "value": "ServiceNow production"},
                {"op": "replace", "path": "/attributes/assignmentGroup", "value": "IAM"}
            ]})),
        )
        .await;
    assert_eq!(wrapped.status, StatusCode::OK, "{}", wrapped.text);
    assert_eq!(wrapped.body["name"], "ServiceNow production");
    assert_eq!(wrapped.body["attributes"]["assignmentGroup"], "IAM");
    assert_eq!(wrapped.body["attributes"]["password"], "********");
    let beta = app
        .admin(
            "PATCH",
            &format!("/beta/service-desk-integrations/{id}"),
            Some(json!([{"op": "replace", "path": "/cluster", "value": cat.clusters[0]}])),
        )
        .await;
    assert_eq!(beta.status, StatusCode::OK, "{}", beta.text);
    assert_eq!(
        beta.body["clusterRef"]["id"],
        cat.clusters[0].as_str(),
        "the deprecated field alone moves clusterRef"
    );
    assert!(beta.body.get("id").is_none());

    for (n, base) in FAMILIES.iter().enumerate() {
        let other = create(&app, snow(&format!("temp {n}"), &cat, &[])).await;
        let del = app
            .admin(
                "DELETE",
                &format!("{base}/{}", other["id"].as_str().unwrap()),
                None,
            )
            .await;
        assert_eq!(del.status, StatusCode::NO_CONTENT, "{base}: {}", del.text);
    }
    let del = app
        .admin(
            "DELETE",
            &format!("/v3/service-desk-integrations/{id}"),
            None,
        )
        .await;
    assert_eq!(del.status, StatusCode::NO_CONTENT);
    for method in ["GET", "DELETE"] {
        let gone = app
            .admin(method, &format!("/v3/service-desk-integrations/{id}"), None)
            .await;
        assert_error(&gone, StatusCode::NOT_FOUND);
    }
    let gone = app
        .admin(
            "PUT",
            &format!("/v3/service-desk-integrations/{id}"),
            Some(snow("x", &cat, &[])),
        )
        .await;
    assert_error(&gone, StatusCode::NOT_FOUND);
    let list = app
        .admin("GET", "/v3/service-desk-integrations", None)
        .await;
    assert_eq!(list.body, json!([]));
}

#[tokio::test]
async fn invalid_integrations_are_refused_and_nothing_changes() {
    let app = TestApp::new().await;
    let cat = catalog(&app).await;
    let taken = create(&app, snow("Desk", &cat, &[0])).await;
    let edit = |f: &dyn Fn(&mut Value)| {
        let mut b = snow("Other", &cat, &[1]);
        f(&mut b);
        b
    };
    let cases: Vec<(Value, &str)> = vec![
        (
            edit(&|b| {
                b.as_object_mut().unwrap().remove("name");
            }),
            "'name' is required",
        ),
        (
            edit(&|b| {
                b.as_object_mut().unwrap().remove("description");
            }),
            "'description' is required",
        ),
        (
            edit(&|b| {
                b.as_object_mut().unwrap().remove("type");
            }),
            "'type' is required",
        ),
        (
            edit(&|b| {
                b.as_object_mut().unwrap().remove("attributes");
            }),
            "'attributes' is required",
        ),
        (
            edit(&|b| b["type"] = json!("Zendesk")),
            "ServiceNowSDIM, ServiceNow, JiraSDIM, Web Service SDIM",
        ),
        (
            edit(&|b| b["name"] = json!("DESK")),
            "named 'DESK' already exists",
        ),
        (
            edit(&|b| b["ownerRef"]["id"] = json!("nobody")),
            "ownerRef: there is no identity 'nobody'",
        ),
        (
            edit(&|b| b["ownerRef"]["type"] = json!("ROLE")),
            "'ownerRef.type' must be IDENTITY",
        ),
        (
            edit(&|b| b["clusterRef"]["id"] = json!("nocluster")),
            "clusterRef: there is no managed cluster 'nocluster'",
        ),
        (
            edit(&|b| b["cluster"] = json!(cat.clusters[1])),
            "name different clusters",
        ),
        (
            edit(&|b| b["provisioningConfig"]["managedResourceRefs"][0]["id"] = json!("nosource")),
            "there is no source 'nosource'",
        ),
        (
            edit(&|b| {
                b["provisioningConfig"]["managedResourceRefs"][0]["id"] = json!(cat.sources[0])
            }),
            "already managed by the service desk integration 'Desk'",
        ),
        (
            edit(&|b| b["managedSources"] = json!([cat.sources[3]])),
            "list different sources",
        ),
        (
            edit(&|b| b["provisioningConfig"]["universalManager"] = json!(true)),
            "read-only",
        ),
        (
            edit(&|b| b["provisioningConfig"]["provisioningRequestExpiration"] = json!(-1)),
            "provisioningRequestExpiration",
        ),
        (
            edit(&|b| {
                b["attributes"].as_object_mut().unwrap().remove("url");
            }),
            "attributes.url is required for a ServiceNow Service Desk integration",
        ),
        (
            edit(&|b| b["attributes"]["url"] = json!("ftp://x")),
            "attributes.url must be an absolute http or https URL",
        ),
        (
            edit(&|b| b["attributes"]["statusMap"] = json!({"1": "Queued"})),
            "at least one status to Committed",
        ),
        (
            edit(&|b| b["attributes"]["password"] = json!("********")),
            "none is stored",
        ),
        (json!([]), "must be a ServiceDeskIntegrationDto object"),
    ];
    for (body, why) in cases {
        let r = app
            .admin("POST", "/v3/service-desk-integrations", Some(body.clone()))
            .await;
        let text = assert_error(&r, StatusCode::BAD_REQUEST);
        assert!(text.contains(why), "{why} not in {text} for {body}");
    }
    let unknown = app
        .admin(
            "POST",
            "/v3/service-desk-integrations",
            Some(edit(&|b| b["ownerRef"]["id"] = json!("nobody"))),
        )
        .await;
    assert_eq!(
        unknown.body["detailCode"],
        "400.1.404 Referenced object not found"
    );
    let list = app
        .admin("GET", "/v3/service-desk-integrations?count=true", None)
        .await;
    assert_eq!(
        list.headers["x-total-count"], "1",
        "only the first was stored"
    );

    // A PUT or PATCH that would make the integration invalid changes nothing.
    let id = taken["id"].as_str().unwrap();
    let bad_put = app
        .admin(
            "PUT",
            &format!("/v3/service-desk-integrations/{id}"),
            Some(edit(&|b| b["attributes"]["authType"] = json!("kerberos"))),
        )
        .await;
    assert_error(&bad_put, StatusCode::BAD_REQUEST);
    for ops in [
        json!([{"op": "replace", "path": "/name", "value": ""}]),
        json!([{"op": "replace", "path": "/type", "value": "Zendesk"}]),
        json!([{"op": "replace", "path": "/ownerRef/id", "value": "nobody"}]),
        json!([{"op": "replace", "path": "/description", "value": "x"}, {"op": "replace", "path": "/attributes", "value": {}}]),
        json!([{"op": "replace", "path": "/nosuchfield", "value": 1}]),
        json!([{"op": "replace", "path": "/attributes/statusMap/9/deep", "value": 1}]),
        json!([{"op": "replace", "path": "/description"}]),
        json!({"ops": []}),
        json!([]),
        json!([{"op": "frobnicate", "path": "/name", "value": "x"}]),
    ] {
        let r = app
            .admin(
                "PATCH",
                &format!("/v3/service-desk-integrations/{id}"),
                Some(ops.clone()),
            )
            .await;
        assert_error(&r, StatusCode::BAD_REQUEST);
    }
    let now = app
        .admin("GET", &format!("/v3/service-desk-integrations/{id}"), None)
        .await;
    assert_eq!(now.body, taken, "refused writes changed nothing");
}

#[tokio::test]
async fn patch_allows_only_replace() {
    let app = TestApp::new().await;
    let cat = catalog(&app).await;
    let created = create(&app, snow("Desk", &cat, &[])).await;
    let id = created["id"].as_str().unwrap();
    for base in FAMILIES {
        for ops in [
            json!([{"op": "add", "path": "/description", "value": "x"}]),
            json!([{"op": "remove", "path": "/ownerRef"}]),
            json!({"operations": [{"op": "replace", "path": "/description", "value": "x"}, {"op": "copy", "from": "/name", "path": "/description"}]}),
            json!([{"op": "move", "from": "/name", "path": "/description"}]),
            json!([{"op": "test", "path": "/name", "value": "Desk"}]),
            json!([{"op": "replace", "path": "/id", "value": "x"}]),
            json!([{"op": "replace", "path": "/created", "value": "2020-01-01T00:00:00.000Z"}]),
            json!([{"op": "replace", "path": "/provisioningConfig/universalManager", "value": true}]),
        ] {
            let r = app
                .admin("PATCH", &format!("{base}/{id}"), Some(ops.clone()))
                .await;
            assert_error(&r, StatusCode::FORBIDDEN);
            assert_eq!(r.body["detailCode"], "403 Forbidden");
        }
    }
    let now = app
        .admin("GET", &format!("/v3/service-desk-integrations/{id}"), None)
        .await;
    assert_eq!(now.body, created);
    // Replacing a reference or its deprecated twin by null / [] removes it.
    let with_source = create(&app, snow("Sourced", &cat, &[2])).await;
    let sid = with_source["id"].as_str().unwrap();
    for (ops, gone) in [
        (
            json!([{"op": "replace", "path": "/clusterRef", "value": null}]),
            "clusterRef",
        ),
        (
            json!([{"op": "replace", "path": "/managedSources", "value": []}]),
            "managedSources",
        ),
    ] {
        let r = app
            .admin(
                "PATCH",
                &format!("/v3/service-desk-integrations/{sid}"),
                Some(ops),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        match gone {
            "clusterRef" => {
                assert!(r.body.get("clusterRef").is_none() && r.body.get("cluster").is_none())
            }
            _ => {
                assert_eq!(r.body["managedSources"], json!([]));
                assert_eq!(
                    r.body["provisioningConfig"]["managedResourceRefs"],
                    json!([])
                );
            }
        }
    }
    let missing = app
        .admin(
            "PATCH",
            "/v3/service-desk-integrations/0123456789abcdef0123456789abcdef",
            Some(json!([{"op": "replace", "path": "/description", "value": "x"}])),
        )
        .await;
    assert_error(&missing, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn list_filters_sorters_and_paging() {
    let app = TestApp::new().await;
    let cat = catalog(&app).await;
    let a = create(&app, snow("bravo", &cat, &[0])).await;
    let mut jira = snow("Alpha", &cat, &[1]);
    jira["type"] = json!("JiraSDIM");
    jira["clusterRef"]["id"] = json!(cat.clusters[1]);
    jira["attributes"] = json!({"url": "https://acme.atlassian.net", "username": "bot@acme.example", "apiToken": "tok", "projectKey": "IAM"});
    let b = create(&app, jira).await;
    let mut generic = snow("charlie", &cat, &[]);
    generic["type"] = json!("Web Service SDIM");
    generic.as_object_mut().unwrap().remove("clusterRef");
    generic["attributes"] =
        json!({"url": "https://desk.example.com", "authType": "bearer", "token": "t"});
    let c = create(&app, generic).await;
    let (ia, ib, ic) = (
        a["id"].as_str().unwrap(),
        b["id"].as_str().unwrap(),
        c["id"].as_str().unwrap(),
    );
    let names = |r: &Reply| -> Vec<String> {
        r.body
            .as_array()
            .unwrap_or_else(|| panic!("{}", r.text))
            .iter()
            .map(|i| i["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let q = |query: String| {
        let app = &app;
        async move {
            app.admin(
                "GET",
                &format!(
                    "/v3/service-desk-integrations?{}",
                    query.replace(' ', "%20").replace('"', "%22")
                ),
                None,
            )
            .await
        }
    };
    let cases: Vec<(String, Vec<&str>)> = vec![
        (String::new(), vec!["bravo", "Alpha", "charlie"]),
        ("sorters=name".into(), vec!["Alpha", "bravo", "charlie"]),
        ("sorters=-name".into(), vec!["charlie", "bravo", "Alpha"]),
        (format!("filters=id eq \"{ib}\""), vec!["Alpha"]),
        (
            format!("filters=id in (\"{ia}\",\"{ic}\")&sorters=name"),
            vec!["bravo", "charlie"],
        ),
        ("filters=name eq \"ALPHA\"".into(), vec!["Alpha"]),
        ("filters=type eq \"JiraSDIM\"".into(), vec!["Alpha"]),
        (
            "filters=type in (\"ServiceNowSDIM\",\"Web Service SDIM\")&sorters=name".into(),
            vec!["bravo", "charlie"],
        ),
        (
            format!("filters=cluster eq \"{}\"", cat.clusters[0]),
            vec!["bravo"],
        ),
        (
            format!(
                "filters=cluster in (\"{}\",\"{}\")&sorters=-name",
                cat.clusters[0], cat.clusters[1]
            ),
            vec!["bravo", "Alpha"],
        ),
        (
            format!("filters=type eq \"JiraSDIM\" or id eq \"{ic}\"&sorters=name"),
            vec!["Alpha", "charlie"],
        ),
        ("sorters=name&offset=1&limit=1".into(), vec!["bravo"]),
        ("limit=0".into(), vec![]),
    ];
    for (query, want) in cases {
        let r = q(query.clone()).await;
        assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.text);
        assert_eq!(names(&r), want, "{query}");
        assert!(r.headers.get("x-total-count").is_none());
    }
    let counted =
        q("filters=type eq \"ServiceNowSDIM\" or type eq \"JiraSDIM\"&count=true&limit=1".into())
            .await;
    assert_eq!(counted.headers["x-total-count"], "2");
    assert_eq!(names(&counted).len(), 1);
    for bad in [
        "filters=description eq \"x\"",
        "filters=name sw \"A\"",
        "filters=name in (\"Alpha\")",
        "filters=cluster ne \"x\"",
        "filters=created gt 2020-01-01T00:00:00Z",
        "sorters=created",
        "sorters=type",
        "limit=251",
        "offset=-1",
        "filters=name eq",
    ] {
        let r = q(bad.into()).await;
        assert_error(&r, StatusCode::BAD_REQUEST);
    }
}

#[tokio::test]
async fn types_and_templates() {
    let app = TestApp::new().await;
    for base in FAMILIES {
        let types = app.admin("GET", &format!("{base}/types"), None).await;
        assert_eq!(types.status, StatusCode::OK, "{base}: {}", types.text);
        assert_eq!(
            types.body,
            json!([
                {"name": "ServiceNow Service Desk", "type": "ServiceNowSDIM", "scriptName": "servicenow"},
                {"name": "Jira Service Desk", "type": "JiraSDIM", "scriptName": "jira"},
                {"name": "Generic Service Desk", "type": "Web Service SDIM", "scriptName": "generic"}
            ])
        );
        for t in types.body.as_array().unwrap() {
            let script = t["scriptName"].as_str().unwrap();
            let tpl = app
                .admin("GET", &format!("{base}/templates/{script}"), None)
                .await;
            assert_eq!(tpl.status, StatusCode::OK, "{}", tpl.text);
            assert_eq!(tpl.body["name"], t["name"]);
            assert_eq!(tpl.body["type"], t["type"]);
            assert_eq!(tpl.body["provisioningConfig"]["universalManager"], false);
            let attrs = tpl.body["attributes"].as_object().unwrap();
            assert_eq!(attrs["url"]["type"], "url");
            assert_eq!(attrs["url"]["required"], true);
            assert_eq!(attrs["authType"]["type"], "choice");
            assert!(attrs["authType"]["values"].is_array());
            assert_eq!(attrs["statusMap"]["type"], "statusMap");
            let committed = attrs["statusMap"]["default"]
                .as_object()
                .unwrap()
                .values()
                .any(|v| v == "Committed");
            assert!(committed, "{script}");
            assert!(
                attrs.values().any(|a| a["secret"] == true),
                "{script} names its credentials"
            );
        }
        let snow = app
            .admin("GET", &format!("{base}/templates/servicenow"), None)
            .await;
        let a = &snow.body["attributes"];
        assert_eq!(a["password"]["secret"], true);
        assert_eq!(
            a["password"]["requiredWhen"],
            json!({"authType": ["basic", "oauth2_password"]})
        );
        assert_eq!(a["ticketType"]["default"], "incident");
        let jira = app
            .admin("GET", &format!("{base}/templates/jira"), None)
            .await;
        assert_eq!(jira.body["attributes"]["projectKey"]["required"], true);
        let generic = app
            .admin("GET", &format!("{base}/templates/generic"), None)
            .await;
        assert_eq!(
            generic.body["attributes"]["createRequest"]["type"],
            "request"
        );
        assert_eq!(
            generic.body["attributes"]["ticketIdPointer"]["default"],
            "/id"
        );
        for unknown in ["zendesk", "ServiceNowSDIM", "SERVICENOW"] {
            let r = app
                .admin("GET", &format!("{base}/templates/{unknown}"), None)
                .await;
            assert_error(&r, StatusCode::NOT_FOUND);
        }
    }
}

#[tokio::test]
async fn status_check_configuration() {
    let app = TestApp::new().await;
    for base in FAMILIES {
        let r = app
            .admin("GET", &format!("{base}/status-check-configuration"), None)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(
            r.body,
            json!({"provisioningStatusCheckIntervalMinutes": "30", "provisioningMaxStatusCheckDays": "2"}),
            "SailPoint's defaults until set"
        );
    }
    let url = "/v2024/service-desk-integrations/status-check-configuration";
    let put = app
        .admin(
            "PUT",
            url,
            Some(json!({"provisioningStatusCheckIntervalMinutes": "15", "provisioningMaxStatusCheckDays": "5"})),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text);
    assert_eq!(
        put.body,
        json!({"provisioningStatusCheckIntervalMinutes": "15", "provisioningMaxStatusCheckDays": "5"})
    );
    let numbers = app
        .admin(
            "PUT",
            "/service-desk-integrations/v1/status-check-configuration",
            Some(json!({"provisioningStatusCheckIntervalMinutes": 60, "provisioningMaxStatusCheckDays": 3})),
        )
        .await;
    assert_eq!(
        numbers.body,
        json!({"provisioningStatusCheckIntervalMinutes": "60", "provisioningMaxStatusCheckDays": "3"}),
        "numbers are accepted and answered as strings"
    );
    for bad in [
        json!({"provisioningStatusCheckIntervalMinutes": "abc", "provisioningMaxStatusCheckDays": "2"}),
        json!({"provisioningStatusCheckIntervalMinutes": "0", "provisioningMaxStatusCheckDays": "2"}),
        json!({"provisioningStatusCheckIntervalMinutes": "-5", "provisioningMaxStatusCheckDays": "2"}),
        json!({"provisioningStatusCheckIntervalMinutes": "1.5", "provisioningMaxStatusCheckDays": "2"}),
        json!({"provisioningStatusCheckIntervalMinutes": "1441", "provisioningMaxStatusCheckDays": "2"}),
        json!({"provisioningStatusCheckIntervalMinutes": "30", "provisioningMaxStatusCheckDays": "91"}),
        json!({"provisioningStatusCheckIntervalMinutes": "30"}),
        json!({"provisioningStatusCheckIntervalMinutes": true, "provisioningMaxStatusCheckDays": "2"}),
        json!(["30", "2"]),
    ] {
        let r = app.admin("PUT", url, Some(bad.clone())).await;
        assert_error(&r, StatusCode::BAD_REQUEST);
    }
    let kept = app
        .admin(
            "GET",
            "/beta/service-desk-integrations/status-check-configuration",
            None,
        )
        .await;
    assert_eq!(
        kept.body,
        json!({"provisioningStatusCheckIntervalMinutes": "60", "provisioningMaxStatusCheckDays": "3"})
    );
    let tenant = app.tenant_id().await;
    let effective = app
        .state
        .store()
        .read(move |c| gatehouse_store::service_desk::status_check(c, &tenant))
        .await
        .unwrap();
    assert_eq!(
        (effective.interval_minutes, effective.max_days),
        (60, 3),
        "the poller's view"
    );
}

/// A token acting as a new person with `levels` and `scopes`.
async fn person_with_scopes(app: &TestApp, name: &str, levels: &[&str], scopes: &[&str]) -> String {
    let r = app
        .admin(
            "POST",
            "/gatehouse/v1/identities",
            Some(json!({"name": name, "authorities": levels})),
        )
        .await;
    let id = r.body["id"].as_str().unwrap().to_owned();
    let pat = app
        .admin(
            "POST",
            &format!("/gatehouse/v1/identities/{id}/personal-access-tokens"),
            Some(json!({"name": format!("{name}-pat"), "scope": scopes})),
        )
        .await;
    assert_eq!(pat.status, StatusCode::OK, "{}", pat.text);
    app.token(
        pat.body["id"].as_str().unwrap(),
        pat.body["secret"].as_str().unwrap(),
    )
    .await
}

#[tokio::test]
async fn only_admins_and_service_desk_admins_with_the_scopes_may_call() {
    let app = TestApp::new().await;
    let cat = catalog(&app).await;
    let existing = create(&app, snow("Desk", &cat, &[])).await;
    let id = existing["id"].as_str().unwrap().to_owned();
    let (_, user) = app.person("plain.user", &["USER"]).await;
    let (_, sd_admin) = app.person("sd.admin", &["SERVICE_DESK_ADMIN"]).await;
    let default_scope =
        person_with_scopes(&app, "narrow", &["ORG_ADMIN"], &["sp:scopes:default"]).await;
    let reader = person_with_scopes(
        &app,
        "reader",
        &["SERVICE_DESK_ADMIN"],
        &["idn:service-desk-integration:read"],
    )
    .await;
    let manager = person_with_scopes(
        &app,
        "manager",
        &["SERVICE_DESK_ADMIN"],
        &["idn:service-desk-integration:manage"],
    )
    .await;

    let reads = [
        ("GET", "/v3/service-desk-integrations".to_owned(), None),
        ("GET", format!("/v3/service-desk-integrations/{id}"), None),
        (
            "GET",
            "/v2024/service-desk-integrations/types".to_owned(),
            None,
        ),
        (
            "GET",
            "/beta/service-desk-integrations/templates/jira".to_owned(),
            None,
        ),
        (
            "GET",
            "/service-desk-integrations/v1/status-check-configuration".to_owned(),
            None,
        ),
    ];
    let writes = [
        (
            "POST",
            "/v3/service-desk-integrations".to_owned(),
            Some(snow("New", &cat, &[])),
        ),
        (
            "PATCH",
            format!("/v3/service-desk-integrations/{id}"),
            Some(json!([{"op": "replace", "path": "/description", "value": "w"}])),
        ),
        (
            "PUT",
            format!("/v2024/service-desk-integrations/{id}"),
            Some(existing.clone()),
        ),
        (
            "PUT",
            "/service-desk-integrations/v1/status-check-configuration".to_owned(),
            Some(
                json!({"provisioningStatusCheckIntervalMinutes": "30", "provisioningMaxStatusCheckDays": "2"}),
            ),
        ),
    ];
    for token in [&user, &default_scope] {
        for (m, path, body) in reads.iter().chain(writes.iter()) {
            let r = app.call(m, path, Some(token), body.clone()).await;
            assert_error(&r, StatusCode::FORBIDDEN);
        }
        let r = app
            .call(
                "DELETE",
                &format!("/v3/service-desk-integrations/{id}"),
                Some(token),
                None,
            )
            .await;
        assert_error(&r, StatusCode::FORBIDDEN);
    }
    for (m, path, body) in &reads {
        for token in [&reader, &sd_admin, &manager] {
            let r = app.call(m, path, Some(token), body.clone()).await;
            assert_eq!(r.status, StatusCode::OK, "{m} {path}: {}", r.text);
        }
    }
    for (m, path, body) in &writes {
        let r = app.call(m, path, Some(&reader), body.clone()).await;
        let text = assert_error(&r, StatusCode::FORBIDDEN);
        assert!(
            text.contains("idn:service-desk-integration:manage"),
            "{text}"
        );
    }
    for (n, (m, path, body)) in writes.iter().enumerate() {
        let token = if n % 2 == 0 { &sd_admin } else { &manager };
        let r = app.call(m, path, Some(token), body.clone()).await;
        assert_eq!(r.status, StatusCode::OK, "{m} {path}: {}", r.text);
    }
    let r = app
        .call(
            "DELETE",
            &format!("/v3/service-desk-integrations/{id}"),
            Some(&sd_admin),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let none = app
        .call("GET", "/v3/service-desk-integrations", None, None)
        .await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
}
