//! OUT-5 (docs/RELIABILITY.md): a desk that answers a create with invalid JSON, an HTML page, a
//! 200 holding an error, a body far over the cap, or a redirect to a local listener. Nothing
//! panics, no redirect is followed, no answer is read past the cap, and each answer is classified:
//! a 2xx that cannot be read is an unknown outcome (the desk may have opened the ticket), so the
//! job tries again and looks the ticket up by correlation id first; a redirect is a refusal.
//! Either way there is never more than one ticket per item.

use crate::approval_fixtures::stored_request;
use crate::service_desk_tickets::{approved, desk_app, later, setup, ticket};
use gatehouse_store::access_requests::State;
use gatehouse_store::tickets::Phase;
use gatehouse_testdesk::{Fault, Flavor};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

const HOUR: i64 = 3_600_000;

fn raw(status: u16, content_type: &str, body: String, handled: bool) -> Fault {
    Fault::Raw {
        status,
        content_type: content_type.into(),
        body,
        location: None,
        handled,
    }
}

/// A listener that counts connections and never answers.
async fn sentinel() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    tokio::spawn(async move {
        while let Ok((_socket, _)) = listener.accept().await {
            h.fetch_add(1, Ordering::SeqCst);
        }
    });
    (url, hits)
}

#[tokio::test]
async fn unreadable_answers_are_retried_and_looked_up_and_never_make_a_second_ticket() {
    let cases = [
        (
            "invalid JSON after the create committed",
            raw(
                201,
                "application/json",
                "{\"result\": {\"sys_id\": ".into(),
                true,
            ),
        ),
        (
            "an HTML login page",
            raw(
                200,
                "text/html",
                "<html><body>Please log in</body></html>".into(),
                false,
            ),
        ),
        (
            "a 200 holding an error",
            raw(
                200,
                "application/json",
                "{\"error\": {\"message\": \"Invalid table\"}, \"status\": \"failure\"}".into(),
                false,
            ),
        ),
        (
            "a body of 5 MB after the create committed",
            raw(
                201,
                "application/json",
                format!("{{\"pad\": \"{}\"}}", "x".repeat(5 * 1024 * 1024)),
                true,
            ),
        ),
    ];
    for (what, fault) in cases {
        let app = desk_app().await;
        let s = setup(&app, Flavor::ServiceNow).await;
        s.desk.fail_next(1, fault);
        let id = approved(&app, &s, &s.w.staff).await;
        let r = stored_request(&app, &id).await;
        assert_ne!(
            r.state,
            State::ProvisioningFailed,
            "{what}: an unknown outcome is not a refusal: {:?}",
            r.error_messages
        );
        later(&app, HOUR).await;
        let row = ticket(&app, &id).await;
        assert_eq!(row.phase, Phase::Open, "{what}: {row:?}");
        let opened = s.desk.tickets();
        assert_eq!(opened.len(), 1, "{what}: one ticket: {opened:?}");
        assert_eq!(
            row.desk_id.as_deref(),
            Some(opened[0].id.as_str()),
            "{what}"
        );
    }
}

#[tokio::test]
async fn a_redirect_is_not_followed_and_fails_the_item() {
    let (target, hits) = sentinel().await;
    let app = desk_app().await;
    let s = setup(&app, Flavor::ServiceNow).await;
    s.desk.fail_next(
        1,
        Fault::Raw {
            status: 302,
            content_type: "text/plain".into(),
            body: String::new(),
            location: Some(target),
            handled: false,
        },
    );
    let id = approved(&app, &s, &s.w.staff).await;
    later(&app, HOUR).await;
    let r = stored_request(&app, &id).await;
    assert_eq!(r.state, State::ProvisioningFailed);
    let text = r.error_messages.unwrap().to_string();
    assert!(text.contains("302"), "{text}");
    assert_eq!(hits.load(Ordering::SeqCst), 0, "the redirect was followed");
    assert!(s.desk.tickets().is_empty());
}
