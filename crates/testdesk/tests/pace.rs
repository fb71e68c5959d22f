//! A desk's [`Pace`]: its delay, its cap on concurrent requests (429 beyond) and its rate of
//! creates, seen from a real HTTP client.

use std::time::{Duration, Instant};

use base64::Engine;
use gatehouse_testdesk::{Desk, DeskLoad, Flavor, Pace};
use serde_json::json;

fn basic(desk: &Desk) -> String {
    let c = desk.credentials();
    let encoded =
        base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", c.username, c.password));
    format!("Basic {encoded}")
}

/// Creates one incident; returns the status, the `Retry-After` header and when it was answered.
async fn create(desk: &Desk, n: usize) -> (u16, Option<String>, Instant) {
    let r = reqwest::Client::new()
        .post(format!("{}/api/now/table/incident", desk.url()))
        .header("Authorization", basic(desk))
        .json(&json!({"short_description": "Grant SAP", "correlation_id": format!("c-{n}")}))
        .send()
        .await
        .unwrap();
    let after = r
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    (r.status().as_u16(), after, Instant::now())
}

#[tokio::test]
async fn a_slow_desk_holds_each_request_and_refuses_beyond_its_cap() {
    let desk = Desk::start(Flavor::ServiceNow).await;
    desk.set_pace(Pace {
        delay: Duration::from_millis(400),
        max_concurrent: Some(2),
        creates_per_second: None,
    });
    let started = Instant::now();
    let answers = futures_util::future::join_all((0..4).map(|n| create(&desk, n))).await;
    let created: Vec<_> = answers.iter().filter(|a| a.0 == 201).collect();
    let refused: Vec<_> = answers.iter().filter(|a| a.0 == 429).collect();
    assert_eq!((created.len(), refused.len()), (2, 2), "{answers:?}");
    assert!(created
        .iter()
        .all(|a| a.2 - started >= Duration::from_millis(400)));
    assert!(refused
        .iter()
        .all(|a| a.1.as_deref() == Some("1") && a.2 - started < Duration::from_millis(400)));
    assert_eq!(desk.ticket_count(), 2);
    assert_eq!(
        desk.load(),
        DeskLoad {
            in_flight: 0,
            max_in_flight: 2,
            refused: 2,
            creates_delayed: 0
        }
    );
    // The token endpoint is neither slowed nor counted.
    let t = Instant::now();
    let r = reqwest::Client::new()
        .post(format!("{}/oauth_token.do", desk.url()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", desk.credentials().client_id.as_str()),
            ("client_secret", desk.credentials().client_secret.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(t.elapsed() < Duration::from_millis(400));
    assert_eq!(desk.load().max_in_flight, 2);
}

#[tokio::test]
async fn a_desk_with_a_create_rate_queues_the_creates_beyond_it() {
    let desk = Desk::start(Flavor::ServiceNow).await;
    desk.set_pace(Pace {
        creates_per_second: Some(20),
        ..Pace::default()
    });
    let started = Instant::now();
    let answers = futures_util::future::join_all((0..10).map(|n| create(&desk, n))).await;
    assert!(answers.iter().all(|a| a.0 == 201), "{answers:?}");
    let last = answers.iter().map(|a| a.2 - started).max().unwrap();
    // Ten creates at 20/s: the tenth's turn is 450 ms after the first's.
    assert!(last >= Duration::from_millis(450), "{last:?}");
    assert_eq!(desk.load().creates_delayed, 9);
    assert_eq!(desk.ticket_count(), 10);
    // Reads are not paced.
    let t = Instant::now();
    let r = reqwest::Client::new()
        .get(format!("{}/api/now/table/incident", desk.url()))
        .header("Authorization", basic(&desk))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(t.elapsed() < Duration::from_millis(200));
}
