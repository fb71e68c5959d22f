//! The test desks seen from a real HTTP client: each protocol, the token endpoints, every fault
//! kind and webhooks.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use gatehouse_testdesk::{Desk, Fault, Flavor};
use reqwest::StatusCode;
use serde_json::{json, Value};

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

fn basic(user: &str, pass: &str) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
    format!("Basic {encoded}")
}

fn user_basic(desk: &Desk) -> String {
    let c = desk.credentials();
    basic(&c.username, &c.password)
}

async fn json_of(resp: reqwest::Response) -> (StatusCode, Value) {
    let status = resp.status();
    (status, resp.json().await.unwrap())
}

/// A password-grant token from a ServiceNow-shaped token endpoint.
async fn password_token(desk: &Desk, path: &str) -> String {
    let c = desk.credentials();
    let resp = client()
        .post(format!("{}{path}", desk.url()))
        .form(&[
            ("grant_type", "password"),
            ("client_id", &c.client_id),
            ("client_secret", &c.client_secret),
            ("username", &c.username),
            ("password", &c.password),
        ])
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(resp).await;
    assert_eq!(status, 200, "{body}");
    body["access_token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn servicenow_create_get_lookup_update() {
    let desk = Desk::start(Flavor::ServiceNow).await;
    let http = client();
    let token = password_token(&desk, "/oauth_token.do").await;
    let bearer = format!("Bearer {token}");

    let resp = http
        .post(format!("{}/api/now/table/incident", desk.url()))
        .header("Authorization", &bearer)
        .json(&json!({"short_description": "Grant SAP", "correlation_id": "gatehouse-abc"}))
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(resp).await;
    assert_eq!(status, 201);
    let rec = &body["result"];
    assert_eq!(rec["number"], "INC0010001");
    assert_eq!(rec["state"], "1");
    assert_eq!(rec["correlation_id"], "gatehouse-abc");
    assert_eq!(rec["short_description"], "Grant SAP");
    let sys_id = rec["sys_id"].as_str().unwrap().to_string();
    assert_eq!(sys_id.len(), 32);
    assert!(sys_id.chars().all(|c| c.is_ascii_hexdigit()));

    // A second table numbers on its own; Basic auth works too.
    let resp = http
        .post(format!("{}/api/now/table/sc_request", desk.url()))
        .header("Authorization", user_basic(&desk))
        .json(&json!({"short_description": "Badge", "state": "2"}))
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(resp).await;
    assert_eq!(status, 201);
    assert_eq!(body["result"]["number"], "REQ0010001");
    assert_eq!(body["result"]["state"], "2");
    // What is new after the first ticket: the second one only; nothing after both.
    let after = desk.tickets_after(1);
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].number, "REQ0010001");
    assert_eq!(desk.tickets_after(0), desk.tickets());
    assert!(desk.tickets_after(2).is_empty() && desk.tickets_after(9).is_empty());

    let resp = http
        .get(format!("{}/api/now/table/incident/{sys_id}", desk.url()))
        .header("Authorization", &bearer)
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(resp).await;
    assert_eq!(status, 200);
    assert_eq!(body["result"]["sys_id"], sys_id.as_str());

    for query in [
        "sysparm_query=correlation_id=gatehouse-abc&sysparm_limit=1",
        "sysparm_query=correlation_id%3Dgatehouse-abc&sysparm_limit=1&sysparm_fields=sys_id,state",
        "sysparm_query=correlation_id%253Dgatehouse-abc",
    ] {
        let resp = http
            .get(format!("{}/api/now/table/incident?{query}", desk.url()))
            .header("Authorization", &bearer)
            .send()
            .await
            .unwrap();
        let (status, body) = json_of(resp).await;
        assert_eq!(status, 200);
        let results = body["result"].as_array().unwrap();
        assert_eq!(results.len(), 1, "{query}: {body}");
        assert_eq!(results[0]["sys_id"], sys_id.as_str());
    }
    let resp = http
        .get(format!(
            "{}/api/now/table/incident?sysparm_query=correlation_id%3Dnope",
            desk.url()
        ))
        .header("Authorization", &bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(resp).await.1, json!({"result": []}));

    let resp = http
        .patch(format!("{}/api/now/table/incident/{sys_id}", desk.url()))
        .header("Authorization", &bearer)
        .json(&json!({"state": "6", "close_notes": "done"}))
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(resp).await;
    assert_eq!(status, 200);
    assert_eq!(body["result"]["state"], "6");
    assert_eq!(body["result"]["short_description"], "Grant SAP");

    let resp = http
        .get(format!(
            "{}/api/now/table/incident/{}",
            desk.url(),
            "0".repeat(32)
        ))
        .header("Authorization", &bearer)
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(resp).await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["message"], "No Record found");
    assert_eq!(body["status"], "failure");

    let resp = http
        .post(format!("{}/api/now/table/incident", desk.url()))
        .header("Authorization", &bearer)
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(resp).await;
    assert_eq!(status, 400);
    assert!(body["error"]["message"].is_string());

    let tickets = desk.tickets();
    assert_eq!(tickets.len(), 2);
    assert_eq!(tickets[0].id, sys_id);
    assert_eq!(tickets[0].number, "INC0010001");
    assert_eq!(tickets[0].correlation_id.as_deref(), Some("gatehouse-abc"));
    assert_eq!(tickets[0].status, "6");
    assert_eq!(tickets[0].fields["close_notes"], "done");

    let calls = desk.calls();
    assert_eq!(calls[0].path, "/oauth_token.do");
    assert!(calls[0].body.contains("grant_type=password"));
    assert_eq!(calls[1].method, "POST");
    assert_eq!(calls[1].header("authorization"), Some(bearer.as_str()));
    assert!(calls[4]
        .query
        .as_deref()
        .unwrap()
        .contains("sysparm_limit=1"));
}

#[tokio::test]
async fn servicenow_token_grants_and_expiry() {
    let desk = Desk::start(Flavor::ServiceNow).await;
    let c = desk.credentials();
    let http = client();
    let token_url = format!("{}/oauth_token.do", desk.url());
    let incidents = format!("{}/api/now/table/incident", desk.url());

    // Unauthenticated and wrongly authenticated requests get 401.
    let resp = http.get(&incidents).send().await.unwrap();
    let (status, body) = json_of(resp).await;
    assert_eq!(status, 401);
    assert_eq!(body["status"], "failure");
    for auth in [
        basic(&c.username, "wrong"),
        basic(&c.username, &c.api_token),
        format!("Bearer {}", c.api_token),
        "Bearer made-up".to_string(),
    ] {
        let resp = http
            .get(&incidents)
            .header("Authorization", auth)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 401);
    }

    // Password grant gives a refresh token; both it and the fixed one refresh.
    let resp = http
        .post(&token_url)
        .form(&[
            ("grant_type", "password"),
            ("client_id", &c.client_id),
            ("client_secret", &c.client_secret),
            ("username", &c.username),
            ("password", &c.password),
        ])
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(resp).await;
    assert_eq!(status, 200);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "useraccount");
    assert_eq!(body["expires_in"], 3600);
    let issued_refresh = body["refresh_token"].as_str().unwrap().to_string();
    for refresh in [issued_refresh.as_str(), c.refresh_token.as_str()] {
        let resp = http
            .post(&token_url)
            .form(&[
                ("grant_type", "refresh_token"),
                ("client_id", &c.client_id),
                ("client_secret", &c.client_secret),
                ("refresh_token", refresh),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
    }

    // Client credentials, in Basic auth.
    let resp = http
        .post(&token_url)
        .header("Authorization", basic(&c.client_id, &c.client_secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(resp).await;
    assert_eq!(status, 200);
    let token = body["access_token"].as_str().unwrap().to_string();
    assert_eq!(desk.tokens_issued(), 4);

    // Bad credentials.
    for form in [
        vec![
            ("grant_type", "password"),
            ("client_id", c.client_id.as_str()),
            ("client_secret", c.client_secret.as_str()),
            ("username", c.username.as_str()),
            ("password", "wrong"),
        ],
        vec![
            ("grant_type", "client_credentials"),
            ("client_id", c.client_id.as_str()),
            ("client_secret", "wrong"),
        ],
        vec![
            ("grant_type", "refresh_token"),
            ("client_id", c.client_id.as_str()),
            ("client_secret", c.client_secret.as_str()),
            ("refresh_token", "wrong"),
        ],
    ] {
        let resp = http.post(&token_url).form(&form).send().await.unwrap();
        let (status, body) = json_of(resp).await;
        assert_eq!(status, 401);
        assert_eq!(body["error"], "access_denied");
        assert!(body["error_description"].is_string());
    }
    assert_eq!(desk.tokens_issued(), 4);

    let get = |token: String| {
        http.get(&incidents)
            .header("Authorization", format!("Bearer {token}"))
            .send()
    };
    assert_eq!(get(token.clone()).await.unwrap().status(), 200);
    desk.expire_tokens();
    assert_eq!(get(token).await.unwrap().status(), 401);

    desk.set_token_lifetime(0);
    let token = password_token(&desk, "/oauth_token.do").await;
    assert_eq!(get(token).await.unwrap().status(), 401);
    desk.set_token_lifetime(3600);
    let token = password_token(&desk, "/oauth_token.do").await;
    assert_eq!(get(token).await.unwrap().status(), 200);
}

#[tokio::test]
async fn jira_create_get_search_and_tokens() {
    let desk = Desk::start(Flavor::Jira).await;
    let c = desk.credentials();
    let http = client();

    let resp = http
        .post(format!("{}/oauth/token", desk.url()))
        .json(&json!({
            "grant_type": "client_credentials",
            "client_id": c.client_id,
            "client_secret": c.client_secret,
        }))
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(resp).await;
    assert_eq!(status, 200);
    assert_eq!(body["token_type"], "Bearer");
    let bearer = format!("Bearer {}", body["access_token"].as_str().unwrap());

    let issue = json!({"fields": {
        "project": {"key": "OPS"},
        "summary": "Grant NetSuite to alice",
        "description": {"type": "doc", "version": 1, "content": []},
        "issuetype": {"name": "Task"},
        "labels": ["access", "gatehouse-req-1"],
    }});
    let resp = http
        .post(format!("{}/rest/api/3/issue", desk.url()))
        .header("Authorization", basic(&c.username, &c.api_token))
        .json(&issue)
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(resp).await;
    assert_eq!(status, 201);
    assert_eq!(
        body,
        json!({"id": "10001", "key": "OPS-1",
               "self": format!("{}/rest/api/3/issue/10001", desk.url())})
    );

    let resp = http
        .post(format!("{}/rest/api/3/issue", desk.url()))
        .header("Authorization", &bearer)
        .json(&json!({"fields": {"project": {"key": "OPS"}, "description": "no summary"}}))
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(resp).await;
    assert_eq!(status, 400);
    assert_eq!(body["errorMessages"], json!([]));
    assert_eq!(
        body["errors"]["summary"],
        "You must specify a summary of the issue."
    );

    for id in ["10001", "OPS-1"] {
        let resp = http
            .get(format!(
                "{}/rest/api/3/issue/{id}?fields=status",
                desk.url()
            ))
            .header("Authorization", &bearer)
            .send()
            .await
            .unwrap();
        let (status, body) = json_of(resp).await;
        assert_eq!(status, 200);
        assert_eq!(body["id"], "10001");
        assert_eq!(body["key"], "OPS-1");
        assert_eq!(body["fields"], json!({"status": {"name": "To Do"}}));
    }
    let resp = http
        .get(format!("{}/rest/api/3/issue/OPS-99", desk.url()))
        .header("Authorization", &bearer)
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(resp).await;
    assert_eq!(status, 404);
    assert_eq!(
        body["errorMessages"][0],
        "Issue does not exist or you do not have permission to see it."
    );

    for (path, jql) in [
        ("search/jql", "labels%20%3D%20%22gatehouse-req-1%22"),
        ("search/jql", "labels = gatehouse-req-1"),
        ("search", "labels = \"gatehouse-req-1\""),
    ] {
        let resp = http
            .get(format!("{}/rest/api/3/{path}?jql={jql}", desk.url()))
            .header("Authorization", format!("Bearer {}", c.api_token))
            .send()
            .await
            .unwrap();
        let (status, body) = json_of(resp).await;
        assert_eq!(status, 200, "{body}");
        let issues = body["issues"].as_array().unwrap();
        assert_eq!(issues.len(), 1, "{jql}: {body}");
        assert_eq!(issues[0]["key"], "OPS-1");
        assert_eq!(issues[0]["fields"]["status"]["name"], "To Do");
        assert_eq!(issues[0]["fields"]["summary"], "Grant NetSuite to alice");
        if path == "search" {
            assert_eq!(body["total"], 1);
        } else {
            assert_eq!(body["isLast"], true);
        }
    }
    let resp = http
        .get(format!("{}/rest/api/3/search/jql", desk.url()))
        .query(&[("jql", "labels = \"gatehouse-other\"")])
        .header("Authorization", &bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(resp).await.1["issues"], json!([]));

    let tickets = desk.tickets();
    assert_eq!(tickets.len(), 1);
    assert_eq!(tickets[0].id, "10001");
    assert_eq!(tickets[0].number, "OPS-1");
    assert_eq!(
        tickets[0].correlation_id.as_deref(),
        Some("gatehouse-req-1")
    );
    assert_eq!(tickets[0].status, "To Do");
    desk.set_status("OPS-1", "Done");
    assert_eq!(desk.tickets()[0].status, "Done");

    // Jira has no password grant; the user's password works in Basic auth.
    let resp = http
        .post(format!("{}/oauth/token", desk.url()))
        .form(&[("grant_type", "password")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let resp = http
        .get(format!("{}/rest/api/3/issue/10001", desk.url()))
        .header("Authorization", user_basic(&desk))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);

    desk.expire_tokens();
    let resp = http
        .get(format!("{}/rest/api/3/issue/10001", desk.url()))
        .header("Authorization", &bearer)
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(resp).await;
    assert_eq!(status, 401);
    assert!(body["errorMessages"][0].is_string());
}

#[tokio::test]
async fn generic_create_idempotency_lookup_update() {
    let desk = Desk::start(Flavor::Generic).await;
    let c = desk.credentials();
    let http = client();

    let resp = http
        .post(format!("{}/oauth/token", desk.url()))
        .header("Authorization", basic(&c.client_id, &c.client_secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(resp).await;
    assert_eq!(status, 200);
    let bearer = format!("Bearer {}", body["access_token"].as_str().unwrap());
    assert_eq!(body["expires_in"], 3600);

    let resp = http
        .post(format!("{}/tickets", desk.url()))
        .header("X-API-Key", &c.api_token)
        .json(&json!({"title": "Badge for alice", "correlationId": "gatehouse-1"}))
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(resp).await;
    assert_eq!(status, 201);
    assert_eq!(
        body,
        json!({"id": "T-1", "status": "open", "title": "Badge for alice", "correlationId": "gatehouse-1"})
    );

    // Idempotency-Key: first create, then the replay answers 200 with the same ticket.
    for expected in [201, 200] {
        let resp = http
            .post(format!("{}/tickets", desk.url()))
            .header("Authorization", &bearer)
            .header("Idempotency-Key", "gatehouse-2")
            .json(&json!({"title": "SAP for bob"}))
            .send()
            .await
            .unwrap();
        let (status, body) = json_of(resp).await;
        assert_eq!(status, expected);
        assert_eq!(body["id"], "T-2");
        assert_eq!(body["correlationId"], "gatehouse-2");
    }
    assert_eq!(desk.tickets().len(), 2);

    let resp = http
        .get(format!("{}/tickets?correlationId=gatehouse-2", desk.url()))
        .header("Authorization", format!("Bearer {}", c.api_token))
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(resp).await;
    assert_eq!(status, 200);
    assert_eq!(body["items"].as_array().unwrap().len(), 1);
    assert_eq!(body["items"][0]["id"], "T-2");

    let resp = http
        .patch(format!("{}/tickets/T-1", desk.url()))
        .header("Authorization", &bearer)
        .json(&json!({"status": "closed", "resolution": "granted"}))
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(resp).await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "closed");

    let resp = http
        .get(format!("{}/tickets/T-1", desk.url()))
        .header("Authorization", user_basic(&desk))
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(resp).await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "closed");
    assert_eq!(body["resolution"], "granted");

    let resp = http
        .get(format!("{}/tickets/T-9", desk.url()))
        .header("Authorization", &bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(
        json_of(resp).await,
        (StatusCode::NOT_FOUND, json!({"error": "not found"}))
    );

    let resp = http
        .post(format!("{}/tickets", desk.url()))
        .header("Authorization", &bearer)
        .body("[1,")
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(resp).await;
    assert_eq!(status, 400);
    assert!(body["error"].is_string());

    let resp = http
        .get(format!("{}/tickets", desk.url()))
        .header("X-API-Key", "wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);

    desk.expire_tokens();
    let resp = http
        .get(format!("{}/tickets/T-1", desk.url()))
        .header("Authorization", &bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);

    let tickets = desk.tickets();
    assert_eq!(tickets[0].status, "closed");
    assert_eq!(tickets[1].correlation_id.as_deref(), Some("gatehouse-2"));
}

/// POSTs one generic ticket with the API key.
async fn create_generic(http: &reqwest::Client, desk: &Desk) -> reqwest::Result<reqwest::Response> {
    http.post(format!("{}/tickets", desk.url()))
        .header("X-API-Key", desk.credentials().api_token)
        .json(&json!({"title": "t"}))
        .send()
        .await
}

#[tokio::test]
async fn status_and_too_many_faults_create_nothing() {
    let desk = Desk::start(Flavor::Generic).await;
    let http = client();
    desk.fail_next(1, Fault::Status(503));
    desk.fail_next(
        1,
        Fault::TooMany {
            retry_after_secs: 7,
        },
    );

    let (status, body) = json_of(create_generic(&http, &desk).await.unwrap()).await;
    assert_eq!(status, 503);
    assert!(body["error"].is_string());

    let resp = create_generic(&http, &desk).await.unwrap();
    assert_eq!(resp.status(), 429);
    assert_eq!(resp.headers()["retry-after"], "7");
    assert!(desk.tickets().is_empty());

    assert_eq!(create_generic(&http, &desk).await.unwrap().status(), 201);
    assert_eq!(desk.tickets().len(), 1);
    assert_eq!(desk.calls().len(), 3);
}

#[tokio::test]
async fn a_matching_fault_refuses_one_ticket_for_good_and_serves_the_others() {
    let desk = Desk::start(Flavor::ServiceNow).await;
    desk.fail_matching("gatehouse-poison", Fault::Status(400));
    let http = client();
    let create = |corr: &'static str| {
        http.post(format!("{}/api/now/table/incident", desk.url()))
            .header("Authorization", user_basic(&desk))
            .json(&json!({"short_description": "x", "correlation_id": corr}))
            .send()
    };
    for _ in 0..3 {
        let (status, body) = json_of(create("gatehouse-poison").await.unwrap()).await;
        assert_eq!(status, 400);
        assert_eq!(body["status"], "failure");
    }
    // A lookup by the poisoned correlation id is refused too; other tickets are served.
    let lookup = http
        .get(format!(
            "{}/api/now/table/incident?sysparm_query=correlation_id%3Dgatehouse-poison",
            desk.url()
        ))
        .header("Authorization", user_basic(&desk))
        .send()
        .await
        .unwrap();
    assert_eq!(lookup.status(), 400);
    assert_eq!(create("gatehouse-1").await.unwrap().status(), 201);
    let tickets = desk.tickets();
    assert_eq!(tickets.len(), 1);
    assert_eq!(tickets[0].correlation_id.as_deref(), Some("gatehouse-1"));
    desk.clear_faults();
    assert_eq!(create("gatehouse-poison").await.unwrap().status(), 201);
}

#[tokio::test]
async fn random_create_faults_spare_lookups() {
    let desk = Desk::start(Flavor::ServiceNow).await;
    desk.fail_creates_randomly(0.5, Fault::Status(500));
    let http = client();
    let (mut refused, mut lookups_ok) = (0, 0);
    for n in 0..200 {
        let resp = http
            .post(format!("{}/api/now/table/incident", desk.url()))
            .header("Authorization", user_basic(&desk))
            .json(&json!({"short_description": "x", "correlation_id": format!("gatehouse-{n}")}))
            .send()
            .await
            .unwrap();
        match resp.status().as_u16() {
            500 => refused += 1,
            201 => {}
            other => panic!("{other}"),
        }
        let lookup = http
            .get(format!("{}/api/now/table/incident", desk.url()))
            .header("Authorization", user_basic(&desk))
            .send()
            .await
            .unwrap();
        if lookup.status() == 200 {
            lookups_ok += 1;
        }
    }
    assert_eq!(lookups_ok, 200, "reads are never drawn for");
    assert!(
        (70..=130).contains(&refused),
        "about half refused: {refused}"
    );
    assert_eq!(desk.tickets().len(), 200 - refused);
}

#[tokio::test]
async fn created_then_status_creates_the_ticket() {
    let desk = Desk::start(Flavor::ServiceNow).await;
    desk.fail_next(1, Fault::CreatedThenStatus(502));
    let resp = client()
        .post(format!("{}/api/now/table/incident", desk.url()))
        .header("Authorization", user_basic(&desk))
        .json(&json!({"short_description": "x", "correlation_id": "gatehouse-9"}))
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(resp).await;
    assert_eq!(status, 502);
    assert_eq!(body["status"], "failure");
    let tickets = desk.tickets();
    assert_eq!(tickets.len(), 1);
    assert_eq!(tickets[0].correlation_id.as_deref(), Some("gatehouse-9"));
}

#[tokio::test]
async fn hang_times_out_without_blocking_others() {
    let desk = Desk::start(Flavor::Generic).await;
    desk.fail_next(1, Fault::Hang);
    let hanging = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let started = Instant::now();
    let hung = tokio::spawn({
        let desk = desk.clone();
        async move { create_generic(&hanging, &desk).await }
    });
    // While that one hangs, another connection is served.
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        create_generic(&client(), &desk).await.unwrap().status(),
        201
    );
    let err = hung.await.unwrap().unwrap_err();
    assert!(err.is_timeout(), "{err}");
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(desk.tickets().len(), 1);
    assert_eq!(desk.calls().len(), 2);
}

#[tokio::test]
async fn reset_drops_the_connection_without_a_response() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let desk = Desk::start(Flavor::Generic).await;
    desk.fail_next(2, Fault::Reset);

    let err = create_generic(&client(), &desk).await.unwrap_err();
    assert!(err.status().is_none());
    assert!(!err.is_timeout(), "{err}");

    let addr = desk.url().trim_start_matches("http://").to_string();
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /tickets HTTP/1.1\r\nHost: desk\r\n\r\n")
        .await
        .unwrap();
    let mut received = Vec::new();
    let outcome = tokio::time::timeout(Duration::from_secs(2), stream.read_to_end(&mut received))
        .await
        .expect("the desk closes the connection");
    assert!(received.is_empty(), "no response bytes");
    // SO_LINGER=0 makes the close a TCP reset rather than an orderly FIN.
    assert_eq!(
        outcome.unwrap_err().kind(),
        std::io::ErrorKind::ConnectionReset
    );
    assert!(desk.tickets().is_empty());
    assert_eq!(
        create_generic(&client(), &desk).await.unwrap().status(),
        201
    );
}

#[tokio::test]
async fn slow_body_sends_headers_first() {
    let desk = Desk::start(Flavor::Jira).await;
    desk.fail_next(1, Fault::SlowBody { delay_ms: 400 });
    let started = Instant::now();
    let resp = client()
        .post(format!("{}/rest/api/3/issue", desk.url()))
        .header("Authorization", user_basic(&desk))
        .json(&json!({"fields": {"project": {"key": "OPS"}, "summary": "slow"}}))
        .send()
        .await
        .unwrap();
    let headers_after = started.elapsed();
    assert_eq!(resp.status(), 201);
    let body: Value = resp.json().await.unwrap();
    let body_after = started.elapsed();
    assert!(
        headers_after < Duration::from_millis(300),
        "{headers_after:?}"
    );
    assert!(body_after >= Duration::from_millis(400), "{body_after:?}");
    assert_eq!(body["key"], "OPS-1");
}

#[tokio::test]
async fn token_endpoint_faults_random_faults_and_clearing() {
    let desk = Desk::start(Flavor::ServiceNow).await;
    let http = client();
    let c = desk.credentials();
    desk.fail_token_endpoint_next(1, Fault::Status(500));
    let resp = http
        .post(format!("{}/oauth_token.do", desk.url()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &c.client_id),
            ("client_secret", &c.client_secret),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 500);
    assert_eq!(desk.tokens_issued(), 0);
    // Token faults do not touch the ticket API and vice versa.
    desk.fail_next(1, Fault::Status(418));
    password_token(&desk, "/oauth_token.do").await;
    assert_eq!(desk.tokens_issued(), 1);

    let list = || {
        http.get(format!("{}/api/now/table/incident", desk.url()))
            .header("Authorization", user_basic(&desk))
            .send()
    };
    assert_eq!(list().await.unwrap().status(), 418);
    desk.fail_randomly(1.0, Fault::Status(503));
    for _ in 0..3 {
        assert_eq!(list().await.unwrap().status(), 503);
    }
    desk.fail_randomly(0.5, Fault::Status(503));
    let mut failed = 0;
    for _ in 0..40 {
        if list().await.unwrap().status() == 503 {
            failed += 1;
        }
    }
    assert!((5..=35).contains(&failed), "{failed} of 40");
    desk.fail_next(3, Fault::Status(500));
    desk.fail_token_endpoint_next(3, Fault::Status(500));
    desk.clear_faults();
    for _ in 0..5 {
        assert_eq!(list().await.unwrap().status(), 200);
    }
    password_token(&desk, "/oauth_token.do").await;
}

/// Starts a webhook receiver that records each request and answers 200 for `token`, 401 else.
async fn receiver(token: &'static str) -> (String, Arc<Mutex<Vec<(String, Value)>>>) {
    use axum::http::HeaderMap;
    let seen: Arc<Mutex<Vec<(String, Value)>>> = Arc::default();
    let app = axum::Router::new().route(
        "/hooks/desk",
        axum::routing::post({
            let seen = seen.clone();
            move |headers: HeaderMap, body: axum::body::Bytes| async move {
                let auth = headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_string();
                let ok = auth == format!("Bearer {token}");
                seen.lock()
                    .unwrap()
                    .push((auth, serde_json::from_slice(&body).unwrap()));
                if ok {
                    axum::http::StatusCode::OK
                } else {
                    axum::http::StatusCode::UNAUTHORIZED
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks/desk", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, seen)
}

#[tokio::test]
async fn set_status_fires_each_flavors_webhook() {
    let (url, seen) = receiver("hook-secret").await;
    let http = client();

    let sn = Desk::start(Flavor::ServiceNow).await;
    http.post(format!("{}/api/now/table/incident", sn.url()))
        .header("Authorization", user_basic(&sn))
        .json(&json!({"short_description": "x", "correlation_id": "gatehouse-sn"}))
        .send()
        .await
        .unwrap();
    let sys_id = sn.tickets()[0].id.clone();
    sn.set_status(&sys_id, "7"); // no webhook yet: nothing sent
    sn.set_webhook(&url, "hook-secret");
    sn.set_status(&sys_id, "6");
    sn.set_webhook(&url, "wrong-secret");
    sn.set_status(&sys_id, "3");
    assert_eq!(
        sn.wait_for_webhooks(2, Duration::from_secs(2)).await,
        [200, 401]
    );
    assert_eq!(sn.tickets()[0].status, "3");

    let jira = Desk::start(Flavor::Jira).await;
    http.post(format!("{}/rest/api/3/issue", jira.url()))
        .header("Authorization", user_basic(&jira))
        .json(&json!({"fields": {"project": {"key": "OPS"}, "summary": "s", "labels": ["gatehouse-j"]}}))
        .send()
        .await
        .unwrap();
    jira.set_webhook(&url, "hook-secret");
    jira.set_status("10001", "Done");
    assert_eq!(
        jira.wait_for_webhooks(1, Duration::from_secs(2)).await,
        [200]
    );

    let generic = Desk::start(Flavor::Generic).await;
    create_generic(&http, &generic).await.unwrap();
    generic.set_webhook(&url, "hook-secret");
    generic.set_status("T-1", "closed");
    assert_eq!(
        generic.wait_for_webhooks(1, Duration::from_secs(2)).await,
        [200]
    );

    // A webhook that cannot be delivered is recorded as 0.
    generic.set_webhook("http://127.0.0.1:9/nowhere", "hook-secret");
    generic.set_status("T-1", "open");
    assert_eq!(
        generic.wait_for_webhooks(2, Duration::from_secs(2)).await,
        [200, 0]
    );

    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 4);
    assert_eq!(seen[0].0, "Bearer hook-secret");
    assert_eq!(
        seen[0].1,
        json!({"sys_id": sys_id, "number": "INC0010001", "state": "6", "correlation_id": "gatehouse-sn"})
    );
    assert_eq!(seen[1].0, "Bearer wrong-secret");
    let jira_hook = &seen[2].1;
    assert_eq!(jira_hook["webhookEvent"], "jira:issue_updated");
    assert!(jira_hook["timestamp"].as_u64().unwrap() > 1_600_000_000_000);
    assert_eq!(
        jira_hook["issue"],
        json!({"id": "10001", "key": "OPS-1",
               "fields": {"status": {"name": "Done"}, "labels": ["gatehouse-j"]}})
    );
    assert_eq!(
        seen[3].1,
        json!({"event": "ticket.updated", "ticket": {"id": "T-1", "status": "closed", "correlationId": null}})
    );
}

#[tokio::test]
async fn stop_closes_the_listener() {
    let desk = Desk::start(Flavor::Generic).await;
    desk.fail_next(1, Fault::Hang);
    let url = desk.url();
    let hung = tokio::spawn({
        let desk = desk.clone();
        async move { create_generic(&client(), &desk).await }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    desk.stop();
    // The hanging connection is dropped rather than left open until the client's timeout.
    let err = hung.await.unwrap().unwrap_err();
    assert!(!err.is_timeout(), "{err}");
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(reqwest::get(format!("{url}/tickets")).await.is_err());
}
