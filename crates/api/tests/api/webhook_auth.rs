//! AUTH-5 (docs/RELIABILITY.md): the inbound webhook of a service-desk integration takes only its
//! current token. Missing, wrong, truncated, extended, re-cased and rotated-out tokens get 401 and
//! change nothing; the token is long and random (not a UUID) and never stored in clear. A token
//! rotated out with an overlap window keeps working until the window ends.

use crate::approval_fixtures::stored_request;
use crate::catalog_fixtures::tenant;
use crate::service_desk_tickets::{approved, desk_app, later, setup};
use axum::http::StatusCode;
use gatehouse_testdesk::Flavor;
use serde_json::json;

#[tokio::test]
async fn only_the_current_webhook_token_is_accepted() {
    let app = desk_app().await;
    let s = setup(&app, Flavor::Jira).await;
    let t = tenant(&app).await;
    let base = format!(
        "/api/v2/tenants/{t}/integrations/installed/{}",
        s.integration
    );
    let r = app
        .admin(
            "POST",
            &base,
            Some(json!({"inboundConfig": {"authentication": {"authType": "WEBHOOK"}}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let token = r.body["inboundConfig"]["authentication"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    // At least 128 bits of randomness, not in a UUID's shape.
    assert!(token.len() >= 32, "{token}");
    assert!(
        !(token.len() == 36 && token.matches('-').count() == 4),
        "a UUID: {token}"
    );
    let distinct: std::collections::BTreeSet<char> = token.chars().collect();
    assert!(distinct.len() >= 10, "{token}");

    let id = approved(&app, &s, &s.w.staff).await;
    let before = stored_request(&app, &id).await;
    let desk_id = s.desk.tickets()[0].id.clone();
    let url = format!("{base}/webhook");
    let event = json!({"webhookEvent": "jira:issue_updated",
        "issue": {"id": desk_id, "key": desk_id, "fields": {"status": {"name": "Done"}}}});
    let send = |bearer: Option<String>| {
        let (app, url, event) = (&app, url.clone(), event.clone());
        async move { app.call("POST", &url, bearer.as_deref(), Some(event)).await }
    };
    let mut upper = token.clone();
    upper.make_ascii_uppercase();
    let forged = [
        None,
        Some(String::new()),
        Some("not-the-token".to_owned()),
        Some(token[..token.len() - 1].to_owned()),
        Some(token[..16].to_owned()),
        Some(format!("{token}x")),
        Some(format!(" {token}0")),
        Some(upper).filter(|u| *u != token),
        Some(app.admin_token.clone()),
    ];
    for bearer in forged.into_iter().flatten().map(Some).chain([None]) {
        let r = send(bearer.clone()).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{bearer:?}: {}", r.text);
    }
    assert_eq!(stored_request(&app, &id).await, before, "nothing changed");

    // Rotation: the old token stops working, the new one works.
    let rotated = app
        .admin("POST", &format!("{base}/inbound/token"), None)
        .await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.text);
    let new = rotated.body["inboundConfig"]["authentication"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(new, token);
    let r = send(Some(token.clone())).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "old token: {}", r.text);
    assert_eq!(stored_request(&app, &id).await, before);
    let r = send(Some(new.clone())).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_ne!(
        stored_request(&app, &id).await,
        before,
        "the delivery took effect"
    );

    // Neither token is stored in clear.
    let row = stored_row(&app, &s.integration).await;
    assert!(!row.contains(&token) && !row.contains(&new), "{row}");
}

/// The integration's row as stored, every column.
async fn stored_row(app: &crate::support::TestApp, integration: &str) -> String {
    let integration = integration.to_owned();
    app.state
        .store()
        .read(move |c| {
            let r = c.query_one(
                "select * from service_desk_integration where id = $1",
                &[integration.into()],
            )?;
            Ok(format!("{:?}", r.0))
        })
        .await
        .unwrap()
}

/// AUTH-5, rotation overlap: a webhook token rotated with `overlapSeconds` keeps working beside
/// the new one until the window ends (by the server's clock), then gets 401; a later rotation, or
/// a change of the inbound credential, ends the window at once. Bad windows are 400 and change
/// nothing; OAUTH2 takes no window (its access tokens outlive a rotation by themselves).
#[tokio::test]
async fn a_rotated_token_with_an_overlap_works_until_its_window_ends() {
    let app = desk_app().await;
    let s = setup(&app, Flavor::Jira).await;
    let t = tenant(&app).await;
    let base = format!(
        "/api/v2/tenants/{t}/integrations/installed/{}",
        s.integration
    );
    let set_auth = |kind: &'static str| {
        let (app, base) = (&app, base.clone());
        async move {
            let r = app
                .admin(
                    "POST",
                    &base,
                    Some(json!({"inboundConfig": {"authentication": {"authType": kind}}})),
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
            r.body["inboundConfig"]["authentication"]["token"]
                .as_str()
                .map(str::to_owned)
        }
    };
    let rotate = |query: &'static str| {
        let (app, url) = (&app, format!("{base}/inbound/token{query}"));
        async move { app.admin("POST", &url, None).await }
    };
    let token_of = |r: &crate::support::Reply| {
        r.body["inboundConfig"]["authentication"]["token"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let t1 = set_auth("WEBHOOK").await.unwrap();
    approved(&app, &s, &s.w.staff).await;
    let desk_id = s.desk.tickets()[0].id.clone();
    let url = format!("{base}/webhook");
    // An update the desk sends while the ticket is still open: accepted or not, it changes
    // nothing but is answered 200 when the credential holds.
    let event = json!({"webhookEvent": "jira:issue_updated",
        "issue": {"id": desk_id, "key": desk_id, "fields": {"status": {"name": "In Progress"}}}});
    let send = |token: &str| {
        let (app, url, event, bearer) = (&app, url.clone(), event.clone(), token.to_owned());
        async move {
            app.call("POST", &url, Some(&bearer), Some(event))
                .await
                .status
        }
    };

    for bad in [
        "?overlapSeconds=-1",
        "?overlapSeconds=604801",
        "?overlapSeconds=1h",
    ] {
        let r = rotate(bad).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {}", r.text);
        assert!(r.text.contains("overlapSeconds"), "{}", r.text);
    }
    assert_eq!(
        send(&t1).await,
        StatusCode::OK,
        "a refused rotation changed nothing"
    );

    // Rotated with an hour's overlap: both tokens work, and only they.
    let r = rotate("?overlapSeconds=3600").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let t2 = token_of(&r);
    assert_ne!(t1, t2);
    assert_eq!(
        send(&t1).await,
        StatusCode::OK,
        "the previous token, in its window"
    );
    assert_eq!(send(&t2).await, StatusCode::OK);
    assert_eq!(send("not-a-token").await, StatusCode::UNAUTHORIZED);
    assert_eq!(send(&t1[..t1.len() - 1]).await, StatusCode::UNAUTHORIZED);
    later(&app, 3_599_000).await;
    assert_eq!(send(&t1).await, StatusCode::OK, "one second before the end");
    later(&app, 1_000).await;
    assert_eq!(
        send(&t1).await,
        StatusCode::UNAUTHORIZED,
        "the window is over"
    );
    assert_eq!(send(&t2).await, StatusCode::OK);

    // A second rotation within a window replaces it: only the token it rotated out overlaps.
    let t3 = token_of(&rotate("?overlapSeconds=600").await);
    let t4 = token_of(&rotate("?overlapSeconds=600").await);
    assert_eq!(
        send(&t2).await,
        StatusCode::UNAUTHORIZED,
        "two rotations back"
    );
    assert_eq!(send(&t3).await, StatusCode::OK);
    assert_eq!(send(&t4).await, StatusCode::OK);
    // Without a window the rotated-out token stops at once, ending the earlier window too.
    let t5 = token_of(&rotate("").await);
    assert_eq!(send(&t3).await, StatusCode::UNAUTHORIZED);
    assert_eq!(send(&t4).await, StatusCode::UNAUTHORIZED);
    assert_eq!(send(&t5).await, StatusCode::OK);

    // Stored as hashes only.
    let t6 = token_of(&rotate("?overlapSeconds=600").await);
    let row = stored_row(&app, &s.integration).await;
    assert!(!row.contains(&t5) && !row.contains(&t6), "{row}");
    assert!(
        row.contains(&gatehouse_store::installed_integrations::token_hash(&t5)),
        "the rotated-out token's hash is kept for its window: {row}"
    );

    // A change of the inbound credential ends the window: to OAUTH2 (which takes none) and back.
    assert_eq!(set_auth("OAUTH2").await, None);
    let r = rotate("?overlapSeconds=60").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert!(r.text.contains("WEBHOOK tokens only"), "{}", r.text);
    let t7 = set_auth("WEBHOOK").await.unwrap();
    assert_eq!(send(&t5).await, StatusCode::UNAUTHORIZED);
    assert_eq!(send(&t6).await, StatusCode::UNAUTHORIZED);
    assert_eq!(send(&t7).await, StatusCode::OK);
}
