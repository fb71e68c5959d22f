//! `/task-status`: background jobs seen as tasks; a pending one cleared by an admin never runs.

use crate::access_requests::{grant_body, new_ids, request, submit, world};
use crate::spec_shape::assert_shape;
use crate::support::{assert_error, TestApp};
use axum::http::StatusCode;
use gatehouse_api::auth::rate_limit::RateLimit;
use gatehouse_api::ApiConfig;
use gatehouse_store::access_requests::{Stage, State};
use serde_json::{json, Value};

fn ids(body: &Value) -> Vec<String> {
    body.as_array()
        .unwrap_or_else(|| panic!("not a list: {body}"))
        .iter()
        .map(|x| x["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn job_ids(app: &TestApp, kind: &'static str) -> Vec<String> {
    app.state
        .store()
        .read(move |c| {
            c.query(
                "select id from job where kind = $1 order by id",
                &[kind.into()],
            )?
            .iter()
            .map(|r| r.int(0).map(|i| i.to_string()))
            .collect()
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn jobs_are_tasks_pending_then_completed_in_every_family() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let r = submit(
        &app,
        &w.alice.1,
        grant_body(&w.alice.0, "ROLE", &w.open_role),
    )
    .await;
    let request_id = new_ids(&r.body).remove(0);
    let task = job_ids(&app, "access_request_process").await.remove(0);

    // Pending: in pending-tasks (v2024, beta), in the v1 list as `completionStatus isnull`.
    for family in ["v2024", "beta"] {
        let r = app
            .admin(
                "GET",
                &format!("/{family}/task-status/pending-tasks?count=true"),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_shape(family, "GET", "/task-status/pending-tasks", 200, &r.body);
        assert_eq!(ids(&r.body), vec![task.clone()]);
        assert_eq!(r.headers["x-total-count"], "1");
        let head = app
            .admin(
                "HEAD",
                &format!("/{family}/task-status/pending-tasks"),
                None,
            )
            .await;
        assert_eq!(head.status, StatusCode::OK);
        assert_eq!(head.headers["x-total-count"], "1");
        assert!(head.text.is_empty());
        let bad = app
            .admin(
                "HEAD",
                &format!("/{family}/task-status/pending-tasks?count=null"),
                None,
            )
            .await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        let r = app
            .admin("GET", &format!("/{family}/task-status"), None)
            .await;
        assert_eq!(r.body, json!([]), "completed tasks only");
    }
    let r = app
        .admin(
            "GET",
            "/task-status/v1?filters=completionStatus%20isnull",
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_shape("v1", "GET", "/task-status/v1", 200, &r.body);
    assert_eq!(ids(&r.body), vec![task.clone()]);
    let t = &r.body[0];
    assert_eq!(t["type"], "QUEUED_TASK");
    assert_eq!(t["uniqueName"], "Access Request Processing");
    assert_eq!(t["completionStatus"], Value::Null);
    assert_eq!(t["progress"], "Queued");
    assert_eq!(t["launcher"], "alice");
    assert_eq!(
        t["target"],
        json!({"id": w.alice.0, "type": "IDENTITY", "name": "alice"})
    );

    app.drain().await;
    assert_eq!(
        request(&app, &request_id).await.state,
        State::RequestCompleted
    );
    let r = app
        .admin("GET", &format!("/v2024/task-status/{task}"), None)
        .await;
    assert_shape("v2024", "GET", "/task-status/{id}", 200, &r.body);
    assert_eq!(r.body["completionStatus"], "SUCCESS");
    assert_eq!(r.body["percentComplete"], 100);
    assert!(r.body["launched"].is_string() && r.body["completed"].is_string());
    let r = app
        .admin(
            "GET",
            "/v2024/task-status?sorters=-created&count=true",
            None,
        )
        .await;
    assert_shape("v2024", "GET", "/task-status", 200, &r.body);
    assert_eq!(
        r.headers["x-total-count"], "2",
        "processing and provisioning: {}",
        r.body
    );
    let r = app
        .admin(
            "GET",
            &format!(
                "/beta/task-status?filters={}",
                crate::catalog_fixtures::q(
                    "completionStatus eq \"SUCCESS\" and type eq \"QUEUED_TASK\""
                )
            ),
            None,
        )
        .await;
    assert_shape("beta", "GET", "/task-status", 200, &r.body);
    assert_eq!(ids(&r.body).len(), 2);
    for bad in [
        "filters=launcher%20eq%20%22x%22",
        "sorters=modified",
        "filters=completionStatus%20isnull",
    ] {
        let r = app
            .admin("GET", &format!("/v2024/task-status?{bad}"), None)
            .await;
        assert_error(&r, StatusCode::BAD_REQUEST);
    }
    let r = app.admin("GET", "/v2024/task-status/999999", None).await;
    assert_error(&r, StatusCode::NOT_FOUND);
    let r = app
        .admin("GET", "/v2024/task-status/not-a-number", None)
        .await;
    assert_error(&r, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn clearing_a_pending_task_stops_its_job() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let r = submit(
        &app,
        &w.alice.1,
        grant_body(&w.alice.0, "ROLE", &w.open_role),
    )
    .await;
    let request_id = new_ids(&r.body).remove(0);
    let task = job_ids(&app, "access_request_process").await.remove(0);
    let path = format!("/v2024/task-status/{task}");
    for bad in [
        json!([{"op": "replace", "path": "/completionStatus", "value": "DONE"}]),
        json!([{"op": "replace", "path": "/uniqueName", "value": "x"}]),
        json!([{"op": "add", "path": "/completionStatus", "value": "ERROR"}]),
        json!([{"op": "replace", "path": "/completed", "value": "yesterday"}]),
        json!([{"op": "replace", "path": "/completed", "value": "2024-05-17T19:33:16.470Z"}]),
        json!([]),
    ] {
        let r = app.admin("PATCH", &path, Some(bad.clone())).await;
        assert_error(&r, StatusCode::BAD_REQUEST);
        let r = app.admin("GET", &path, None).await;
        assert_eq!(
            r.body["completionStatus"],
            Value::Null,
            "{bad} changed nothing"
        );
    }
    // The spec's own example spelling: mixed-case status, a space before the time.
    let r = app
        .admin(
            "PATCH",
            &path,
            Some(json!([{"op": "replace", "path": "/completionStatus", "value": "Error"},
                        {"op": "replace", "path": "/completed", "value": "2024-05-17 19:33:16.470000+00:00"}])),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_shape("v2024", "PATCH", "/task-status/{id}", 200, &r.body);
    assert_eq!(r.body["completionStatus"], "ERROR");
    assert_eq!(r.body["completed"], "2024-05-17T19:33:16.470Z");
    app.drain().await;
    let q = request(&app, &request_id).await;
    assert_eq!(
        (q.stage, q.state),
        (Stage::Queued, State::Executing),
        "the job never ran"
    );
    let again = app
        .admin(
            "PATCH",
            &path,
            Some(json!([{"op": "replace", "path": "/completionStatus", "value": "SUCCESS"}])),
        )
        .await;
    assert!(assert_error(&again, StatusCode::BAD_REQUEST).contains("already finished"));
    // A plain user may not manage tasks.
    let r = app
        .call("GET", "/v2024/task-status", Some(&w.alice.1), None)
        .await;
    assert_error(&r, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn strict_retention_hides_tasks_older_than_ninety_days() {
    let app = TestApp::with(ApiConfig {
        rate_limit: RateLimit::Off,
        task_retention_strict: true,
        ..ApiConfig::default()
    })
    .await;
    let w = world(&app).await;
    submit(
        &app,
        &w.alice.1,
        grant_body(&w.alice.0, "ROLE", &w.open_role),
    )
    .await;
    app.drain().await;
    let r = app.admin("GET", "/task-status/v1", None).await;
    assert_eq!(ids(&r.body).len(), 2);
    let r = app
        .admin(
            "POST",
            "/gatehouse/v1/clock",
            Some(json!({"advance": "P91D"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = app.admin("GET", "/task-status/v1", None).await;
    assert_eq!(r.body, json!([]));
    let task = job_ids(&app, "access_request_process").await.remove(0);
    let r = app
        .admin("GET", &format!("/task-status/v1/{task}"), None)
        .await;
    assert_error(&r, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_import_is_a_finished_task_with_its_counts_and_launcher() {
    let app = TestApp::new().await;
    let r = app
        .admin(
            "POST",
            "/gatehouse/v1/tenant/reset",
            Some(json!({"to": "demo"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let admin_id = app.admin_identity.clone();
    let id2 = admin_id.clone();
    let (admin_name, admin_shown): (String, String) = app
        .state
        .store()
        .read(move |c| {
            let r = c.query_one(
                "select name, coalesce(display_name, name) from identity where id = $1",
                &[id2.into()],
            )?;
            Ok((r.text(0)?, r.text(1)?))
        })
        .await
        .unwrap();
    let task = job_ids(&app, "tenant_import").await;
    assert_eq!(task.len(), 1, "one import, one task");
    let task = &task[0];
    let people = app
        .admin("GET", "/v3/public-identities?count=true&limit=1", None)
        .await;
    let people: u64 = people.headers["x-total-count"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();

    // Completed: in the v2024/beta list, matched by a completion status in any case.
    for family in ["v2024", "beta"] {
        let r = app
            .admin(
                "GET",
                &format!("/{family}/task-status?filters=completionStatus%20eq%20%22Success%22"),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_shape(family, "GET", "/task-status", 200, &r.body);
        assert_eq!(ids(&r.body), vec![task.clone()]);
    }
    let r = app
        .admin("GET", &format!("/v2024/task-status/{task}"), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_shape("v2024", "GET", "/task-status/{id}", 200, &r.body);
    let t = &r.body;
    assert_eq!(t["uniqueName"], "Tenant Import");
    assert_eq!(t["description"], "Import of the demo tenant");
    assert_eq!(t["launcher"], admin_shown.as_str());
    assert_eq!(t["completionStatus"], "SUCCESS");
    assert_eq!(t["progress"], "Completed");
    assert_eq!(t["percentComplete"], 100);
    assert!(
        t["launched"].is_string() && t["completed"].is_string(),
        "{t}"
    );
    // Every identity of the tenant but the kept administrator came from the import.
    assert_eq!(t["attributes"]["identityCreated"], json!(people - 1));
    assert!(
        t["attributes"]["entitlementCreated"].as_u64().unwrap() > 0,
        "{t}"
    );
    let returns = t["returns"].as_array().unwrap();
    assert!(returns
        .iter()
        .any(|r| r["attributeName"] == "identityCreated" && r["name"] == "identities created"));
    let summary = t["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["key"] == "import.summary")
        .unwrap_or_else(|| panic!("no summary message: {t}"));
    assert_eq!(summary["type"], "INFO");
    let text = summary["localizedText"]["message"].as_str().unwrap();
    assert!(
        text.contains(&format!("identities: {} created", people - 1)),
        "{text}"
    );

    // v1: filtered by the launcher's shown name, user name or id; not by someone else's.
    for who in [admin_shown.as_str(), admin_name.as_str(), admin_id.as_str()] {
        let filter = format!("launcher eq \"{who}\"");
        let r = app
            .admin(
                "GET",
                &format!("/task-status/v1?filters={}", urlencode(&filter)),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(ids(&r.body), vec![task.clone()], "{filter}");
    }
    let r = app
        .admin(
            "GET",
            &format!(
                "/task-status/v1?filters={}",
                urlencode("launcher in (\"Gatehouse\", \"nobody\")")
            ),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(ids(&r.body), Vec::<String>::new());
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
