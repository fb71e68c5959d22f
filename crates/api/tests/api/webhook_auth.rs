//! AUTH-5 (docs/RELIABILITY.md): the inbound webhook of a service-desk integration takes only its
//! current token. Missing, wrong, truncated, extended, re-cased and rotated-out tokens get 401 and
//! change nothing; the token is long and random (not a UUID) and never stored in clear.

use crate::approval_fixtures::stored_request;
use crate::catalog_fixtures::tenant;
use crate::service_desk_tickets::{approved, desk_app, setup};
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
    let integration = s.integration.clone();
    let row: String = app
        .state
        .store()
        .read(move |c| {
            let r = c.query_one(
                "select * from service_desk_integration where id = $1",
                &[integration.into()],
            )?;
            Ok(format!("{:?}", r.0))
        })
        .await
        .unwrap();
    assert!(!row.contains(&token) && !row.contains(&new), "{row}");
}
