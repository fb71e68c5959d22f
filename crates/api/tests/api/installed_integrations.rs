//! Installed integrations (`/api/v2/tenants/{tenantId}/integrations/…`): install from each
//! catalogue entry, inbound credentials issued once and stored hashed, both spellings, secrets in
//! no answer or log, refusals that name the field and change nothing, and one row seen through
//! both this API and `/v3/service-desk-integrations`.

use crate::service_desk::{catalog, create, snow};
use crate::service_desk_secrets::captured_logs;
use crate::spec_shape::assert_shape;
use crate::support::*;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use gatehouse_store::installed_integrations::{self as installed, InboundAuth};
use serde_json::{json, Value};

async fn base(app: &TestApp) -> String {
    format!("/api/v2/tenants/{}/integrations", app.tenant_id().await)
}

async fn install(app: &TestApp, intg: &str, body: Value) -> Value {
    let r = app
        .admin(
            "POST",
            &format!("{}/install/{intg}", base(app).await),
            Some(body),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body
}

async fn get(app: &TestApp, id: &str) -> Value {
    let r = app
        .admin("GET", &format!("{}/installed/{id}", base(app).await), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body
}

fn status_map(entity: &str) -> Value {
    json!([{
        "name": "Status", "thirdPartyAttrName": "Status", "entityType": entity,
        "thirdPartyEntityType": "REQUEST",
        "attrValues": [{"attrValue": "Open", "thirdPartyAttrValue": "In Progress"},
                       {"attrValue": "Closed", "thirdPartyAttrValue": "Completed"}]
    }])
}

/// The seed's update body, with URLs Gatehouse may call.
fn seed_update() -> Value {
    json!({
        "inboundConfig": {
            "authentication": {"authType": "WEBHOOK"},
            "mapAttributes": [
                {"name": "Status", "thirdPartyAttrName": "Status", "entityType": "SERVICEREQUEST",
                 "thirdPartyEntityType": "REQUEST",
                 "attrValues": [{"attrValue": "Open", "thirdPartyAttrValue": "In Progress"},
                                {"attrValue": "Closed", "thirdPartyAttrValue": "Completed"}]},
                {"name": "Priority", "thirdPartyAttrName": "severity", "entityType": "INCIDENT",
                 "thirdPartyEntityType": "TICKET",
                 "attrValues": [{"attrValue": "High", "thirdPartyAttrValue": "Maximum"}]}
            ]
        },
        "outboundConfig": {
            "mapAttributes": [{"name": "Status", "thirdPartyAttrName": "Status",
                "entityType": "INCIDENT", "thirdPartyEntityType": "Ticket",
                "attrValues": [{"attrValue": "Ok", "thirdPartyAttrValue": "Good"}]}],
            "baseNotifier": {
                "type": "REST_API", "baseURI": "https://desk.example.com",
                "authType": "OAUTH2", "grantType": "PASSWORD", "userName": "testUser",
                "password": "pw-0123", "accessTokenURI": "https://desk.example.com/oauth/token",
                "apiKey": "6h67PAAFscVPMwhQZFcshpcqN5b6pyU9", "apiSecret": "secret-0123"
            }
        }
    })
}

fn basic_notifier(url: &str) -> Value {
    json!({"type": "REST_API", "baseURI": url, "authType": "NONE", "userName": "svc", "password": "pw-0123"})
}

/// The stored installed columns of integration `id`.
async fn stored(app: &TestApp, id: &str) -> (String, Option<String>, Option<String>, String) {
    let id = id.to_owned();
    app.state
        .store()
        .read(move |c| {
            let r = c.query_one(
                "select inbound_auth_type, inbound_token_hash, inbound_client_id, attributes || secrets || inbound_map_attributes from service_desk_integration where id = $1",
                &[id.into()],
            )?;
            Ok((r.text(0)?, r.opt_text(1)?, r.opt_text(2)?, r.text(3)?))
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn install_each_catalogue_entry_as_its_sdim_type() {
    let app = TestApp::new().await;
    let snow = install(
        &app,
        "SERVICENOW",
        json!({"displayName": "Snow", "outboundConfig": {"baseNotifier": basic_notifier("https://acme.service-now.com")}}),
    )
    .await;
    let jira = install(
        &app,
        "jira",
        json!({"name": "Jira", "attributes": {"projectKey": "IAM"},
               "outboundConfig": {"baseNotifier": basic_notifier("https://acme.atlassian.net")}}),
    )
    .await;
    let custom = install(
        &app,
        "CUSTOM",
        json!({"outboundConfig": {"baseNotifier": {
            "baseURI": "https://desk.example.com", "authType": "OAUTH2", "grantType": "CLIENT_CREDENTIALS",
            "apiKey": "cid", "apiSecret": "cs-0123", "accessTokenURI": "https://desk.example.com/token"}}}),
    )
    .await;
    let rest = install(
        &app,
        "REST",
        json!({"name": "Rest", "outboundConfig": {"baseNotifier": {"baseURI": "https://r.example.com"}}}),
    )
    .await;
    let cases = [
        (&snow, "SERVICENOW", "ServiceNowSDIM", "basic", "password"),
        (&jira, "JIRA", "JiraSDIM", "basic", "apiToken"),
        (
            &custom,
            "CUSTOM",
            "Web Service SDIM",
            "oauth2_client_credentials",
            "clientSecret",
        ),
        (&rest, "CUSTOM", "Web Service SDIM", "none", ""),
    ];
    for (body, entry, ty, auth, secret) in cases {
        let id = body["id"].as_str().unwrap();
        assert_eq!(body["integration"]["id"], entry);
        assert_eq!(body["inboundConfig"]["authentication"]["authType"], "NONE");
        let v3 = app
            .admin("GET", &format!("/v3/service-desk-integrations/{id}"), None)
            .await;
        assert_eq!(v3.status, StatusCode::OK, "{}", v3.text);
        assert_shape(
            "v3",
            "GET",
            "/service-desk-integrations/{id}",
            200,
            &v3.body,
        );
        assert_eq!(v3.body["type"], ty);
        assert_eq!(v3.body["attributes"]["authType"], auth);
        if !secret.is_empty() {
            assert_eq!(v3.body["attributes"][secret], "********");
        }
    }
    assert_eq!(snow["name"], "Snow");
    assert_eq!(
        custom["name"], "Custom Integration",
        "the catalogue name by default"
    );
    assert_eq!(jira["attributes"]["projectKey"], "IAM");
    assert_eq!(jira["outboundConfig"]["baseNotifier"]["userName"], "svc");
    assert_eq!(
        custom["outboundConfig"]["baseNotifier"]["grantType"],
        "CLIENT_CREDENTIALS"
    );
    assert_eq!(custom["outboundConfig"]["baseNotifier"]["apiKey"], "cid");

    let r = app
        .admin(
            "POST",
            &format!("{}/install/REMEDY", base(&app).await),
            Some(json!({})),
        )
        .await;
    assert!(assert_error(&r, StatusCode::NOT_FOUND).contains("SERVICENOW, JIRA, CUSTOM"));
}

#[tokio::test]
async fn webhook_token_is_shown_once_stored_hashed_and_rotates() {
    let app = TestApp::new().await;
    let body = json!({"inboundConfig": {"authentication": {"authType": "WEBHOOK"}},
                      "outboundConfig": {"baseNotifier": basic_notifier("https://acme.service-now.com")}});
    let made = install(&app, "SERVICENOW", body).await;
    let id = made["id"].as_str().unwrap().to_owned();
    let token = made["inboundConfig"]["authentication"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(token.len() >= 32, "at least 128 bits: {token}");
    assert!(token.chars().all(|c| c.is_ascii_hexdigit()));
    let (kind, hash, client, row) = stored(&app, &id).await;
    assert_eq!((kind.as_str(), client), ("WEBHOOK", None));
    let hash = hash.unwrap();
    assert_eq!(hash, installed::token_hash(&token));
    assert!(installed::webhook_token_matches(&hash, &token));
    assert!(!row.contains(&token), "only the hash is stored");

    let shown = get(&app, &id).await;
    assert_eq!(
        shown["inboundConfig"]["authentication"],
        json!({"authType": "WEBHOOK"})
    );
    let listed = app
        .admin(
            "GET",
            &format!("{}/installed/search", base(&app).await),
            None,
        )
        .await;
    assert!(!listed.text.contains(&token));
    // An update that keeps WEBHOOK keeps the token.
    let again = app
        .admin(
            "POST",
            &format!("{}/installed/INTG-{id}", base(&app).await),
            Some(json!({"inboundConfig": {"authentication": {"authType": "WEBHOOK"}}})),
        )
        .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    assert!(again.body["inboundConfig"]["authentication"]["token"].is_null());
    assert_eq!(stored(&app, &id).await.1.unwrap(), hash);

    let rotated = app
        .admin(
            "POST",
            &format!("{}/installed/{id}/inbound/token", base(&app).await),
            None,
        )
        .await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.text);
    let new = rotated.body["inboundConfig"]["authentication"]["token"]
        .as_str()
        .unwrap();
    assert_ne!(new, token);
    let tenant = app.tenant_id().await;
    let inbound = app
        .state
        .store()
        .read(move |c| installed::inbound(c, &tenant, &id))
        .await
        .unwrap()
        .unwrap();
    let InboundAuth::Webhook { token_hash } = inbound.auth else {
        panic!("still a webhook")
    };
    assert!(installed::webhook_token_matches(&token_hash, new));
    assert!(!installed::webhook_token_matches(&token_hash, &token));
}

async fn token_status(app: &TestApp, id: &str, secret: &str) -> StatusCode {
    app.send(
        Request::post("/oauth/token")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(format!(
                "grant_type=client_credentials&client_id={id}&client_secret={secret}"
            )))
            .unwrap(),
    )
    .await
    .status
}

#[tokio::test]
async fn oauth2_issues_working_client_credentials_that_go_with_the_integration() {
    let app = TestApp::new().await;
    let body = json!({"inboundConfig": {"authentication": {"authType": "OAUTH2"}},
                      "outboundConfig": {"baseNotifier": basic_notifier("https://acme.service-now.com")}});
    let made = install(&app, "SERVICENOW", body).await;
    let id = made["id"].as_str().unwrap().to_owned();
    let auth = &made["inboundConfig"]["authentication"];
    let (client, secret) = (
        auth["clientId"].as_str().unwrap().to_owned(),
        auth["clientSecret"].as_str().unwrap().to_owned(),
    );
    assert_eq!(token_status(&app, &client, &secret).await, StatusCode::OK);
    let token = app.token(&client, &secret).await;
    let r = app
        .call("GET", "/v3/service-desk-integrations", Some(&token), None)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "the client only calls in");
    assert_eq!(stored(&app, &id).await.2.as_deref(), Some(client.as_str()));

    let shown = get(&app, &id).await;
    assert_eq!(
        shown["inboundConfig"]["authentication"],
        json!({"authType": "OAUTH2", "clientId": client})
    );
    let rotated = app
        .admin(
            "POST",
            &format!("{}/installed/{id}/inbound/token", base(&app).await),
            None,
        )
        .await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.text);
    let auth = &rotated.body["inboundConfig"]["authentication"];
    assert_eq!(auth["clientId"], client.as_str());
    let new = auth["clientSecret"].as_str().unwrap();
    assert_eq!(token_status(&app, &client, new).await, StatusCode::OK);
    assert_ne!(token_status(&app, &client, &secret).await, StatusCode::OK);

    // Switching to WEBHOOK revokes the client; back to OAUTH2 issues another.
    let switched = app
        .admin(
            "POST",
            &format!("{}/installed/{id}", base(&app).await),
            Some(json!({"inboundConfig": {"authentication": {"authType": "WEBHOOK"}}})),
        )
        .await;
    assert!(switched.body["inboundConfig"]["authentication"]["token"].is_string());
    let gone = app
        .admin("GET", &format!("/v3/oauth-clients/{client}"), None)
        .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    let back = app
        .admin(
            "POST",
            &format!("{}/installed/{id}", base(&app).await),
            Some(json!({"inboundConfig": {"authentication": {"authType": "OAUTH2"}}})),
        )
        .await;
    let client = back.body["inboundConfig"]["authentication"]["clientId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(stored(&app, &id).await.1, None, "the token hash is gone");

    // Uninstalling (either form) removes the integration and its client.
    let r = app
        .admin(
            "POST",
            &format!("{}/installed/{id}/uninstall", base(&app).await),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    for path in [
        format!("/v3/service-desk-integrations/{id}"),
        format!("/v3/oauth-clients/{client}"),
        format!("{}/installed/{id}", base(&app).await),
    ] {
        assert_eq!(
            app.admin("GET", &path, None).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let r = app
        .admin(
            "DELETE",
            &format!("{}/installed/{id}", base(&app).await),
            None,
        )
        .await;
    assert_error(&r, StatusCode::NOT_FOUND);

    // Deleting through the SDIM API takes the client too.
    let made = install(
        &app,
        "SERVICENOW",
        json!({"name": "Two", "inboundConfig": {"authentication": {"authType": "OAUTH2"}},
               "outboundConfig": {"baseNotifier": basic_notifier("https://acme.service-now.com")}}),
    )
    .await;
    let client = made["inboundConfig"]["authentication"]["clientId"]
        .as_str()
        .unwrap();
    let id = made["id"].as_str().unwrap();
    let r = app
        .admin(
            "DELETE",
            &format!("/v3/service-desk-integrations/{id}"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let gone = app
        .admin("GET", &format!("/v3/oauth-clients/{client}"), None)
        .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn both_spellings_are_accepted_and_one_is_written() {
    let app = TestApp::new().await;
    let made = install(
        &app,
        "CUSTOM",
        json!({"inboundConfig": {"mapAttributes": [{
                  "name": "status", "tenantAttrName": "ticket.state", "entityType": "serviceRequest",
                  "tenantEntityType": "REQUEST",
                  "attrValues": [{"attrValue": "Closed", "tenantAttrValue": "Completed"}]}]},
               "outboundConfig": {"notifier": {
                  "baseURI": "https://desk.example.com", "authType": "OAUTH2", "grantType": "PASSWORD",
                  "userName": "u", "password": "pw-0123", "apiKey": "cid", "apiSecret": "cs-0123",
                  "accessTokenURI": "https://desk.example.com/token"}}}),
    )
    .await;
    let m = &made["inboundConfig"]["mapAttributes"][0];
    assert_eq!(m["name"], "Status");
    assert_eq!(m["entityType"], "SERVICEREQUEST");
    assert_eq!(m["thirdPartyAttrName"], "ticket.state");
    assert_eq!(m["attrName"], "serviceRequest.status");
    assert_eq!(m["attrValues"][0]["thirdPartyAttrValue"], "Completed");
    assert!(m.get("tenantAttrName").is_none());
    let n = &made["outboundConfig"]["baseNotifier"];
    assert_eq!(n["grantType"], "PASSWORD_CREDENTIALS");
    assert_eq!(n["deskAuthType"], "oauth2_password");

    let id = made["id"].as_str().unwrap();
    let r = app
        .admin(
            "POST",
            &format!("{}/installed/{id}", base(&app).await),
            Some(json!({"outboundConfig": {"baseNotifier": {
                "baseURI": "https://desk.example.com", "authType": "OAUTH2", "grantType": "PASSWORD_CREDENTIALS",
                "userName": "u", "password": "*************", "apiKey": "cid", "apiSecret": "***",
                "accessTokenURI": "https://desk.example.com/token"}}})),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "asterisks keep the stored secrets: {}",
        r.text
    );
    assert_eq!(
        r.body["outboundConfig"]["baseNotifier"]["grantType"],
        "PASSWORD_CREDENTIALS"
    );
    assert_eq!(
        r.body["inboundConfig"]["mapAttributes"],
        made["inboundConfig"]["mapAttributes"]
    );
}

#[tokio::test]
async fn seed_update_applies_and_another_tenant_is_not_found() {
    let app = TestApp::new().await;
    let made = install(
        &app,
        "CUSTOM",
        json!({"outboundConfig": {"baseNotifier": basic_notifier("https://desk.example.com")}}),
    )
    .await;
    let id = made["id"].as_str().unwrap();
    let url = format!("{}/installed/{id}", base(&app).await);
    let r = app.admin("POST", &url, Some(seed_update())).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let b = &r.body;
    assert!(b["inboundConfig"]["authentication"]["token"].is_string());
    assert_eq!(
        b["inboundConfig"]["mapAttributes"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        b["inboundConfig"]["mapAttributes"][1]["attrName"],
        "incident.priority"
    );
    assert_eq!(
        b["outboundConfig"]["mapAttributes"][0]["entityType"],
        "INCIDENT"
    );
    let n = &b["outboundConfig"]["baseNotifier"];
    assert_eq!(
        (
            n["authType"].as_str(),
            n["grantType"].as_str(),
            n["userName"].as_str()
        ),
        (
            Some("OAUTH2"),
            Some("PASSWORD_CREDENTIALS"),
            Some("testUser")
        )
    );
    assert_eq!(n["accessTokenURI"], "https://desk.example.com/oauth/token");

    for path in [
        format!("/api/v2/tenants/someone-else/integrations/installed/{id}"),
        "/api/v2/tenants/someone-else/integrations/installed/search".to_owned(),
    ] {
        let r = app.admin("GET", &path, None).await;
        assert_error(&r, StatusCode::NOT_FOUND);
    }
    let r = app
        .admin(
            "POST",
            &format!("/api/v2/tenants/someone-else/integrations/installed/{id}"),
            Some(seed_update()),
        )
        .await;
    assert_error(&r, StatusCode::NOT_FOUND);
    let r = app
        .admin(
            "POST",
            "/api/v2/tenants/x/integrations/install/JIRA",
            Some(json!({})),
        )
        .await;
    assert_error(&r, StatusCode::NOT_FOUND);

    // Who may call: as the SDIM API.
    let (_, user) = app.person("plain.user", &["USER"]).await;
    let r = app.call("GET", &url, Some(&user), None).await;
    assert_error(&r, StatusCode::FORBIDDEN);
    let (_, desk) = app.person("desk.admin", &["SERVICE_DESK_ADMIN"]).await;
    assert_eq!(
        app.call("GET", &url, Some(&desk), None).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn bad_input_names_the_field_and_changes_nothing() {
    let app = TestApp::new().await;
    let made = install(
        &app,
        "SERVICENOW",
        json!({"outboundConfig": {"baseNotifier": basic_notifier("https://acme.service-now.com")},
               "inboundConfig": {"mapAttributes": status_map("SERVICEREQUEST")}}),
    )
    .await;
    let id = made["id"].as_str().unwrap();
    let url = format!("{}/installed/{id}", base(&app).await);
    let before = get(&app, id).await;
    let n = |extra: Value| {
        let mut b = basic_notifier("https://acme.service-now.com");
        for (k, v) in extra.as_object().unwrap() {
            b[k] = v.clone();
        }
        json!({"outboundConfig": {"baseNotifier": b}})
    };
    let cases = [
        (
            json!({"inboundConfig": {"authentication": {"authType": "KERBEROS"}}}),
            "inboundConfig.authentication.authType",
        ),
        (
            json!({"inboundConfig": {"authentication": {}}}),
            "inboundConfig.authentication.authType",
        ),
        (
            json!({"inboundConfig": {"mapAttributes": status_map("TICKETS")}}),
            "inboundConfig.mapAttributes[0]: entityType",
        ),
        (
            json!({"outboundConfig": {"mapAttributes": [{"name": "Status", "entityType": "INCIDENT"}]}}),
            "outboundConfig.mapAttributes[0]",
        ),
        (
            n(json!({"type": "SOAP_API"})),
            "SOAP desks are not supported yet",
        ),
        (
            n(json!({"authType": "OAUTH2"})),
            "outboundConfig.baseNotifier.grantType",
        ),
        (
            n(json!({"grantType": "CLIENT_CREDENTIALS"})),
            "outboundConfig.baseNotifier.grantType",
        ),
        (
            n(json!({"username": "x"})),
            "outboundConfig.baseNotifier.username",
        ),
        (
            n(json!({"baseURI": "www.google.com"})),
            "outboundConfig.baseNotifier.baseURI",
        ),
        (
            n(json!({"baseURI": "http://169.254.169.254/"})),
            "outboundConfig.baseNotifier.baseURI",
        ),
        (
            n(json!({"userName": null, "password": null})),
            "outboundConfig.baseNotifier",
        ),
        (
            json!({"attributes": {"url": "https://x.example.com"}}),
            "attributes.url",
        ),
        (
            json!({"attributes": {"ticketType": "nope"}}),
            "attributes.ticketType",
        ),
        (json!({"name": ""}), "'name'"),
        (json!({"colour": "red"}), "'colour'"),
        (
            json!({"outboundConfig": {"notifier": {}, "baseNotifier": {}}}),
            "outboundConfig.notifier",
        ),
    ];
    for (body, field) in cases {
        let r = app.admin("POST", &url, Some(body.clone())).await;
        let text = assert_error(&r, StatusCode::BAD_REQUEST);
        assert!(text.contains(field), "{body}: {text}");
        assert_eq!(get(&app, id).await, before, "{body} changed nothing");
    }
    let r = app
        .admin(
            "POST",
            &format!("{}/install/SERVICENOW", base(&app).await),
            Some(n(
                json!({"baseURI": "http://169.254.169.254/latest/meta-data"}),
            )),
        )
        .await;
    let text = assert_error(&r, StatusCode::BAD_REQUEST);
    assert!(
        text.contains("outboundConfig.baseNotifier.baseURI"),
        "{text}"
    );
    let r = app
        .admin(
            "POST",
            &format!("{}/install/JIRA", base(&app).await),
            Some(json!({})),
        )
        .await;
    assert!(
        assert_error(&r, StatusCode::BAD_REQUEST).contains("outboundConfig.baseNotifier.baseURI")
    );
    let list = app
        .admin(
            "GET",
            &format!("{}/installed/search", base(&app).await),
            None,
        )
        .await;
    assert_eq!(list.body["totalResults"], 1, "no install went through");
}

#[tokio::test]
async fn one_row_two_apis() {
    let app = TestApp::new().await;
    let cat = catalog(&app).await;
    let v3 = create(&app, snow("Made in v3", &cat, &[0])).await;
    let v3_id = v3["id"].as_str().unwrap().to_owned();
    let made = install(
        &app,
        "JIRA",
        json!({"name": "Installed", "attributes": {"projectKey": "IAM"},
               "inboundConfig": {"authentication": {"authType": "WEBHOOK"}, "mapAttributes": status_map("SERVICEREQUEST")},
               "outboundConfig": {"baseNotifier": basic_notifier("https://acme.atlassian.net")}}),
    )
    .await;
    let id = made["id"].as_str().unwrap().to_owned();

    // The v3 integration in the installed view: no inbound credential, no mappings.
    let shown = get(&app, &v3_id).await;
    assert_eq!(
        shown["inboundConfig"],
        json!({"authentication": {"authType": "NONE"}, "mapAttributes": []})
    );
    assert_eq!(shown["outboundConfig"]["mapAttributes"], json!([]));
    let n = &shown["outboundConfig"]["baseNotifier"];
    assert_eq!(n["baseURI"], v3["attributes"]["url"]);
    assert_eq!(n["userName"], v3["attributes"]["username"]);
    assert_eq!(n["authType"], "NONE");
    assert!(n.get("password").is_none());
    assert_eq!(shown["name"], "Made in v3");

    let page = app
        .admin(
            "GET",
            &format!(
                "{}/installed/search?pageNo=1&pageSize=1&sortName=name",
                base(&app).await
            ),
            None,
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert_eq!(page.body["totalResults"], 2);
    assert_eq!(page.body["totalPages"], 2);
    assert_eq!(page.body["nextPage"], true);
    assert_eq!(page.body["orderBy"], "name");
    assert_eq!(page.body["descendingOrder"], false);
    assert_eq!(page.body["results"][0]["name"], "Installed");
    let page2 = app
        .admin(
            "GET",
            &format!(
                "{}/installed/search?pageNo=2&pageSize=1&sortName=name",
                base(&app).await
            ),
            None,
        )
        .await;
    assert_eq!(page2.body["results"][0]["id"], v3_id.as_str());
    assert_eq!(page2.body["nextPage"], false);
    let r = app
        .admin(
            "GET",
            &format!("{}/installed/search?pageNo=0", base(&app).await),
            None,
        )
        .await;
    assert!(assert_error(&r, StatusCode::BAD_REQUEST).contains("pageNo"));

    // The installed one through v3: a valid SDIM integration; a v3 change keeps the mappings.
    let url = format!("/v3/service-desk-integrations/{id}");
    let sdim = app.admin("GET", &url, None).await.body;
    assert_shape("v3", "GET", "/service-desk-integrations/{id}", 200, &sdim);
    assert_eq!(sdim["name"], "Installed");
    assert_eq!(sdim["attributes"]["projectKey"], "IAM");
    assert_eq!(sdim["attributes"]["apiToken"], "********");
    let mut renamed = sdim.clone();
    renamed["name"] = json!("Renamed in v3");
    renamed["attributes"]["issueType"] = json!("Bug");
    let r = app.admin("PUT", &url, Some(renamed)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let after = get(&app, &id).await;
    assert_eq!(after["name"], "Renamed in v3");
    assert_eq!(after["attributes"]["issueType"], "Bug");
    assert_eq!(
        after["inboundConfig"]["authentication"]["authType"],
        "WEBHOOK"
    );
    assert_eq!(
        after["inboundConfig"]["mapAttributes"],
        made["inboundConfig"]["mapAttributes"]
    );

    // And an installed change shows through v3.
    let r = app
        .admin(
            "POST",
            &format!("{}/installed/{id}", base(&app).await),
            Some(json!({"displayName": "Renamed again",
                        "outboundConfig": {"baseNotifier": basic_notifier("https://other.atlassian.net")}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let sdim = app.admin("GET", &url, None).await.body;
    assert_eq!(sdim["name"], "Renamed again");
    assert_eq!(sdim["attributes"]["url"], "https://other.atlassian.net");
    assert_eq!(sdim["attributes"]["issueType"], "Bug");
    assert_shape("v3", "GET", "/service-desk-integrations/{id}", 200, &sdim);

    // A URL change without the credential is refused in the notifier's terms.
    let r = app
        .admin(
            "POST",
            &format!("{}/installed/{id}", base(&app).await),
            Some(json!({"outboundConfig": {"baseNotifier": {"baseURI": "https://third.atlassian.net", "userName": "svc"}}})),
        )
        .await;
    let text = assert_error(&r, StatusCode::BAD_REQUEST);
    assert!(
        text.contains("outboundConfig.baseNotifier.baseURI changed")
            && text.contains("outboundConfig.baseNotifier.password"),
        "{text}"
    );
}

#[tokio::test]
async fn password_and_api_secret_appear_in_no_answer_or_log() {
    let logs = captured_logs();
    let app = TestApp::new().await;
    let (pw, secret, refresh) = (
        format!("pw-{}", gatehouse_api::auth::secrets::new_id()),
        format!("as-{}", gatehouse_api::auth::secrets::new_id()),
        format!("rt-{}", gatehouse_api::auth::secrets::new_id()),
    );
    let notifier = json!({"baseURI": "https://desk.example.com", "authType": "OAUTH2", "grantType": "PASSWORD",
        "userName": "u", "password": pw, "apiKey": "cid", "apiSecret": secret,
        "accessTokenURI": "https://desk.example.com/token"});
    let base = base(&app).await;
    let made = app
        .admin(
            "POST",
            &format!("{base}/install/CUSTOM"),
            Some(json!({"outboundConfig": {"baseNotifier": notifier}})),
        )
        .await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.text);
    let id = made.body["id"].as_str().unwrap();
    let mut answers = vec![(made.text.clone(), true)];
    let mut refreshing = json!({"outboundConfig": {"baseNotifier": notifier}});
    refreshing["outboundConfig"]["baseNotifier"]["grantType"] = json!("REFRESH_TOKEN");
    refreshing["outboundConfig"]["baseNotifier"]["refreshToken"] = json!(refresh);
    for (method, path, body) in [
        ("GET", format!("{base}/installed/{id}"), None),
        ("GET", format!("{base}/installed/search"), None),
        (
            "POST",
            format!("{base}/installed/{id}"),
            Some(json!({"outboundConfig": {"baseNotifier": notifier}})),
        ),
        ("POST", format!("{base}/installed/{id}"), Some(refreshing)),
        (
            "POST",
            format!("{base}/installed/{id}"),
            Some(
                json!({"outboundConfig": {"baseNotifier": {"baseURI": "http://169.254.169.254/", "password": pw}}}),
            ),
        ),
        ("GET", format!("/v3/service-desk-integrations/{id}"), None),
    ] {
        let r = app.admin(method, &path, body).await;
        assert!(
            r.status == StatusCode::OK || r.status == StatusCode::BAD_REQUEST,
            "{}",
            r.text
        );
        answers.push((r.text, path.starts_with("/api/")));
    }
    for (n, (text, installed_view)) in answers.iter().enumerate() {
        for canary in [&pw, &secret, &refresh] {
            assert!(
                !text.contains(canary.as_str()),
                "answer {n} holds a credential: {text}"
            );
        }
        if *installed_view {
            let body: Value = serde_json::from_str(text).unwrap();
            assert!(
                !has_credential_key(&body),
                "answer {n} has a credential field: {text}"
            );
        }
    }
    let text = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
    assert!(
        text.contains(&format!("installed integration {id}")),
        "the capture works"
    );
    for canary in [&pw, &secret, &refresh] {
        assert!(
            !text.contains(canary.as_str()),
            "a log line holds a credential"
        );
    }
}

/// True when `v` has a `password`, `apiSecret` or `refreshToken` field at any depth.
fn has_credential_key(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.iter().any(|(k, v)| {
            ["password", "apiSecret", "refreshToken"].contains(&k.as_str()) || has_credential_key(v)
        }),
        Value::Array(items) => items.iter().any(has_credential_key),
        _ => false,
    }
}
