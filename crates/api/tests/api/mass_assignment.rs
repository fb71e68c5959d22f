//! IN-5 (docs/RELIABILITY.md): fields a caller may not set (ids, owners, requesters, states,
//! dates, approvals) and unknown fields, sent on create and on update, are refused or ignored; the
//! database shows that none of the protected values changed.

use crate::approval_fixtures::{pending, world};
use crate::support::*;
use axum::http::StatusCode;
use gatehouse_store::Value as Param;
use serde_json::json;

const FORGED_ID: &str = "0000000000000000000000000000bad1";
const LONG_AGO: &str = "2001-01-01T00:00:00.000Z";

/// The row `sql` selects for `id`, every column rendered (`None`: no such row).
async fn row(app: &TestApp, sql: &'static str, id: &str) -> Option<Vec<String>> {
    let id = id.to_owned();
    app.state
        .store()
        .read(move |c| {
            Ok(c.query_opt(sql, &[id.into()])?
                .map(|r| r.0.iter().map(|v| format!("{v:?}")).collect()))
        })
        .await
        .unwrap()
}

fn text(s: &str) -> String {
    format!("{:?}", Param::Text(s.to_owned()))
}

fn int(i: i64) -> String {
    format!("{:?}", Param::Int(i))
}

/// A rendered integer column read back as a number.
fn as_int(rendered: &str) -> i64 {
    rendered
        .trim_start_matches("Int(")
        .trim_end_matches(')')
        .parse()
        .unwrap_or_else(|_| panic!("not an integer: {rendered}"))
}

/// `created` was set by the server now (the virtual clock runs on), not taken from the caller.
fn recent(rendered: &str, now: i64) {
    let t = as_int(rendered);
    assert!((now..now + 60_000).contains(&t), "created {t}, now {now}");
}

fn null() -> String {
    format!("{:?}", Param::Null)
}

async fn count(app: &TestApp, sql: &'static str) -> i64 {
    app.state
        .store()
        .read(move |c| c.query_one(sql, &[])?.int(0))
        .await
        .unwrap()
}

#[tokio::test]
async fn protected_fields_sent_by_callers_change_nothing_in_the_database() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let now = app.state.clock().now().millis();

    // An access request naming its own id, requester, state, dates and approver.
    let forged_item = json!({"type": "ENTITLEMENT", "id": w.staff, "state": "APPROVED",
        "status": "APPROVED", "approvedBy": w.rita.id, "created": LONG_AGO, "id2": FORGED_ID});
    let body = json!({
        "requestedFor": [w.rita.id], "requestedItems": [forged_item],
        "id": FORGED_ID, "requester": {"type": "IDENTITY", "id": w.olga.id},
        "requesterId": w.olga.id, "requestedBy": w.olga.id, "state": "APPROVED",
        "status": "APPROVED", "stage": "DONE", "created": LONG_AGO, "modified": LONG_AGO,
        "approvedBy": {"type": "IDENTITY", "id": w.olga.id}, "approvalDetails": [],
        "unknownField": {"x": 1}
    });
    for family in ["v3", "v2024", "beta"] {
        let r = app
            .call(
                "POST",
                &format!("/{family}/access-requests"),
                Some(&w.rita.token),
                Some(body.clone()),
            )
            .await;
        if family == "v3" {
            assert!(
                r.status == StatusCode::ACCEPTED || r.status == StatusCode::BAD_REQUEST,
                "{family}: {} {}",
                r.status,
                r.text
            );
        }
    }
    assert!(
        row(
            &app,
            "select id from access_request where id = $1",
            FORGED_ID
        )
        .await
        .is_none(),
        "the caller chose no id"
    );
    app.drain().await;
    let n = count(&app, "select count(*) from access_request").await;
    assert!(n <= 1, "one request at most (the others repeat it): {n}");
    if n == 1 {
        let id = app
            .state
            .store()
            .read(|c| c.query_one("select id from access_request", &[])?.text(0))
            .await
            .unwrap();
        let got = row(
            &app,
            "select requester_id, state, stage, created, completed from access_request where id = $1",
            &id,
        )
        .await
        .unwrap();
        assert_eq!(got[0], text(&w.rita.id), "requester");
        assert_ne!(got[1], text("APPROVED"), "state: {got:?}");
        assert_eq!(got[2], text("APPROVAL"), "stage: {got:?}");
        recent(&got[3], now);
        assert_eq!(got[4], null(), "completed: {got:?}");
        // Olga still has to decide; nothing was granted.
        let p = pending(&app, &id).await;
        assert_eq!(p.owner_id, w.olga.id);
        assert_eq!(
            count(
                &app,
                "select count(*) from assignment where reason = 'ACCESS_REQUEST'"
            )
            .await,
            0
        );
    }

    // A personal access token naming another owner, its own id, dates and the managed flag.
    let r = app
        .call(
            "POST",
            "/v3/personal-access-tokens",
            Some(&w.rita.token),
            Some(json!({"name": "mine", "id": FORGED_ID,
                "owner": {"type": "IDENTITY", "id": w.olga.id, "name": "olga"},
                "ownerId": w.olga.id, "managed": true, "created": LONG_AGO,
                "lastUsed": LONG_AGO, "secret": "chosen-by-the-caller-0123456789"})),
        )
        .await;
    assert!(
        r.status == StatusCode::OK || r.status == StatusCode::BAD_REQUEST,
        "{}",
        r.text
    );
    assert!(row(
        &app,
        "select id from personal_access_token where id = $1",
        FORGED_ID
    )
    .await
    .is_none());
    if r.status == StatusCode::OK {
        let id = r.body["id"].as_str().unwrap().to_owned();
        assert_ne!(
            r.body["secret"], "chosen-by-the-caller-0123456789",
            "the secret is the server's"
        );
        let got = row(
            &app,
            "select owner_id, case when managed then 1 else 0 end, created, last_used \
             from personal_access_token where id = $1",
            &id,
        )
        .await
        .unwrap();
        assert_eq!(got[0], text(&w.rita.id), "owner");
        assert_eq!(got[1], int(0), "managed: {got:?}");
        recent(&got[2], now);
        assert_eq!(got[3], null(), "last used: {got:?}");
    }

    // Updates: a patch of read-only paths of an OAuth client, and a PUT of a service-desk
    // integration naming another id and dates.
    let client = app
        .admin(
            "POST",
            "/v3/oauth-clients",
            Some(
                json!({"name": "ci", "description": "CI", "accessTokenValiditySeconds": 750,
                "grantTypes": ["CLIENT_CREDENTIALS"], "accessType": "OFFLINE", "enabled": true}),
            ),
        )
        .await;
    assert_eq!(client.status, StatusCode::OK, "{}", client.text);
    let cid = client.body["id"].as_str().unwrap().to_owned();
    const CLIENT: &str =
        "select id, secret_hash, created, tenant_id from oauth_client where id = $1";
    let before = row(&app, CLIENT, &cid).await.unwrap();
    for (path, value) in [
        ("/id", json!(FORGED_ID)),
        ("/secret", json!("chosen-by-the-caller")),
        ("/created", json!(LONG_AGO)),
        ("/tenant", json!("another")),
        ("/internal", json!(true)),
    ] {
        let r = app
            .admin(
                "PATCH",
                &format!("/v3/oauth-clients/{cid}"),
                Some(json!([{"op": "replace", "path": path, "value": value}])),
            )
            .await;
        assert!(
            r.status == StatusCode::BAD_REQUEST || r.status.is_success(),
            "{path}: {} {}",
            r.status,
            r.text
        );
        assert_eq!(row(&app, CLIENT, &cid).await.unwrap(), before, "{path}");
    }
    assert!(row(&app, CLIENT, FORGED_ID).await.is_none());
}
