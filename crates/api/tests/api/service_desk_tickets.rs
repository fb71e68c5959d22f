//! Provisioning through service desks, end to end: an approved item on a desk-managed source
//! becomes a ticket at a test desk that speaks the real protocol on 127.0.0.1 (ServiceNow Table
//! API, Jira REST v3, the generic REST desk), and the desk's answer completes or fails the item.
//! Faults (5xx, 429 + Retry-After, hangs, resets, creates whose answer is lost) never yield a
//! second ticket, and a desk that keeps failing leaves the item PROVISIONING_FAILED with its error.

use crate::approval_fixtures::{pending, request, stored_request, world, World};
use crate::catalog_fixtures::{entitlement, tenant};
use crate::support::*;
use axum::http::StatusCode;
use gatehouse_api::auth::rate_limit::RateLimit;
use gatehouse_api::ApiConfig;
use gatehouse_desk::DeskConfig;
use gatehouse_domain::net_guard::NetPolicy;
use gatehouse_store::access_requests::{Stage, State};
use gatehouse_store::tickets::{self, Phase};
use gatehouse_testdesk::{Desk, Fault, Flavor};
use serde_json::{json, Value};
use std::time::Duration;

const MINUTE: i64 = 60_000;

/// A service whose desks may live on 127.0.0.1, with short timeouts.
pub async fn desk_app() -> TestApp {
    TestApp::with(ApiConfig {
        rate_limit: RateLimit::Off,
        net: NetPolicy::private_allowed(),
        desk: DeskConfig {
            connect_timeout: Duration::from_secs(1),
            total_timeout: Duration::from_millis(1500),
            ..DeskConfig::default()
        },
        ..ApiConfig::default()
    })
    .await
}

/// The attributes of an integration with `desk`, authenticating the way each desk is most often
/// set up: ServiceNow with the OAuth password grant, Jira with basic (e-mail + API token), the
/// generic desk with OAuth client credentials.
pub fn attributes(desk: &Desk) -> Value {
    let c = desk.credentials();
    match desk.flavor() {
        Flavor::ServiceNow => json!({
            "url": desk.url(), "authType": "oauth2_password", "username": c.username,
            "password": c.password, "clientId": c.client_id, "clientSecret": c.client_secret,
            "ticketType": "incident", "assignmentGroup": "IAM"
        }),
        Flavor::Jira => json!({
            "url": desk.url(), "authType": "basic", "username": c.username,
            "apiToken": c.api_token, "projectKey": "IAM"
        }),
        Flavor::Generic => json!({
            "url": desk.url(), "authType": "oauth2_client_credentials",
            "tokenUrl": format!("{}/oauth/token", desk.url()),
            "clientId": c.client_id, "clientSecret": c.client_secret
        }),
    }
}

pub struct Setup {
    pub w: World,
    pub desk: Desk,
    pub integration: String,
    pub source: String,
}

fn type_of(f: Flavor) -> &'static str {
    match f {
        Flavor::ServiceNow => "ServiceNowSDIM",
        Flavor::Jira => "JiraSDIM",
        Flavor::Generic => "Web Service SDIM",
    }
}

/// The approval world, with its HR source managed by an integration with a fresh `flavor` desk.
pub async fn setup(app: &TestApp, flavor: Flavor) -> Setup {
    let w = world(app).await;
    let desk = Desk::start(flavor).await;
    let (t, staff) = (tenant(app).await, w.staff.clone());
    let source = app
        .state
        .store()
        .write(move |c| {
            c.execute(
                "insert into managed_cluster (id, tenant_id, name, type, created, modified) \
                 values ('c00000000000000000000000000000d1', $1, 'Desk cluster', 'idn', 0, 0)",
                &[t.into()],
            )?;
            c.query_one(
                "select source_id from entitlement where id = $1",
                &[staff.into()],
            )?
            .text(0)
        })
        .await
        .unwrap();
    let r = app
        .admin(
            "POST",
            "/v3/service-desk-integrations",
            Some(json!({
                "name": format!("{:?} desk", flavor),
                "description": "Tickets for HR",
                "type": type_of(flavor),
                "ownerRef": {"type": "IDENTITY", "id": w.olga.id},
                "clusterRef": {"type": "CLUSTER", "id": "c00000000000000000000000000000d1"},
                "provisioningConfig": {"managedResourceRefs": [{"type": "SOURCE", "id": source}]},
                "attributes": attributes(&desk),
            })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    Setup {
        integration: r.body["id"].as_str().unwrap().to_owned(),
        w,
        desk,
        source,
    }
}

/// Rita asks for `item`; Olga approves; the ticket job runs. Returns the request id.
pub async fn approved(app: &TestApp, s: &Setup, item: &str) -> String {
    let id = request(app, &s.w.rita.id, &s.w.rita.id, "ENTITLEMENT", item, None).await;
    let p = pending(app, &id).await;
    let r = app
        .call(
            "POST",
            &format!("/v3/access-request-approvals/{}/approve", p.id),
            Some(&s.w.olga.token),
            Some(json!({"comment": "ok"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    app.drain().await;
    id
}

/// Moves the clock by `ms` and runs what became due.
pub async fn later(app: &TestApp, ms: i64) {
    app.state.virtual_clock().unwrap().advance(ms);
    app.drain().await;
}

pub async fn ticket(app: &TestApp, id: &str) -> tickets::Ticket {
    let (t, id) = (tenant(app).await, id.to_owned());
    app.state
        .store()
        .read(move |c| tickets::get(c, &t, &id))
        .await
        .unwrap()
        .expect("a ticket row")
}

pub async fn holds(app: &TestApp, who: &str, item: &str) -> bool {
    let r = app
        .admin(
            "GET",
            &format!("/gatehouse/v1/identities/{who}/access"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.text.contains(item)
}

/// Runs the clock forward (an hour at a time) until request `id` is finished, at most `hours`.
async fn until_done(app: &TestApp, id: &str, hours: usize) {
    for _ in 0..hours {
        if stored_request(app, id).await.stage == Stage::Done {
            return;
        }
        later(app, 60 * MINUTE).await;
    }
}

#[tokio::test]
async fn servicenow_ticket_closed_at_the_desk_completes_the_request_by_polling() {
    let app = desk_app().await;
    let s = setup(&app, Flavor::ServiceNow).await;
    let id = approved(&app, &s, &s.w.staff).await;

    let opened = s.desk.tickets();
    assert_eq!(opened.len(), 1, "one ticket");
    let t = &opened[0];
    assert_eq!(
        t.correlation_id.as_deref(),
        Some(format!("gatehouse-{id}").as_str())
    );
    assert!(t.number.starts_with("INC"), "{t:?}");
    let short = t.fields["short_description"].as_str().unwrap();
    assert!(short.contains("Staff") && short.contains("rita"), "{short}");
    assert_eq!(t.fields["assignment_group"], "IAM");
    let row = ticket(&app, &id).await;
    assert_eq!(row.phase, Phase::Open);
    assert_eq!(row.desk_id.as_deref(), Some(t.id.as_str()));
    assert_eq!(row.desk_number.as_deref(), Some(t.number.as_str()));
    let r = stored_request(&app, &id).await;
    assert_eq!((r.stage, r.state), (Stage::Ticket, State::Executing));
    assert!(!holds(&app, &s.w.rita.id, &s.w.staff).await);

    // OAuth password grant at /oauth_token.do, then the bearer token on the Table API; the
    // password and client secret go to the token endpoint only.
    let calls = s.desk.calls();
    assert_eq!(calls[0].path, "/oauth_token.do");
    let c = s.desk.credentials();
    for call in &calls[1..] {
        assert!(call.header("authorization").unwrap().starts_with("Bearer "));
        let all = format!("{:?}", call);
        assert!(
            !all.contains(&c.password) && !all.contains(&c.client_secret),
            "{all}"
        );
    }

    // Still new at the first check (the default interval: 30 minutes): nothing changes.
    later(&app, 30 * MINUTE).await;
    assert_eq!(stored_request(&app, &id).await.stage, Stage::Ticket);
    let checks = |calls: &[gatehouse_testdesk::Call]| {
        calls
            .iter()
            .filter(|c| c.method == "GET" && c.path.ends_with(&t.id))
            .count()
    };
    assert_eq!(checks(&s.desk.calls()), 1);
    // Resolved (6) at the desk: the next check completes the request and grants the access.
    s.desk.set_status(&t.id, "6");
    later(&app, 29 * MINUTE).await;
    assert_eq!(
        stored_request(&app, &id).await.stage,
        Stage::Ticket,
        "not before the interval"
    );
    later(&app, MINUTE).await;
    let r = stored_request(&app, &id).await;
    assert_eq!((r.stage, r.state), (Stage::Done, State::RequestCompleted));
    assert!(holds(&app, &s.w.rita.id, &s.w.staff).await);
    let row = ticket(&app, &id).await;
    assert_eq!((row.phase, row.status.as_str()), (Phase::Done, "Committed"));
    assert_eq!(row.desk_status.as_deref(), Some("6"));
    // The token was fetched once and reused.
    assert_eq!(s.desk.tokens_issued(), 1);
    // Nothing polls a settled ticket.
    let before = s.desk.calls().len();
    later(&app, 120 * MINUTE).await;
    assert_eq!(s.desk.calls().len(), before);

    // Task status tells the story: the ticket job returns the ticket, each check what it read.
    let r = app
        .admin("GET", "/v2024/task-status?sorters=created&limit=250", None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    crate::spec_shape::assert_shape("v2024", "GET", "/task-status", 200, &r.body);
    let tasks = r.body.as_array().unwrap();
    let of =
        |name: &str| -> Vec<&Value> { tasks.iter().filter(|t| t["uniqueName"] == name).collect() };
    let dispatch = of("Service Desk Ticket");
    assert_eq!(dispatch.len(), 1, "{tasks:?}");
    assert_eq!(dispatch[0]["attributes"]["ticketNumber"], t.number.as_str());
    assert_eq!(dispatch[0]["attributes"]["ticketId"], t.id.as_str());
    assert!(dispatch[0]["returns"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["attributeName"] == "ticketNumber"));
    let said = dispatch[0]["messages"][0]["localizedText"]["message"]
        .as_str()
        .unwrap();
    assert!(
        said.contains(&format!("Ticket {} is open", t.number)),
        "{said}"
    );
    let checks: Vec<String> = of("Service Desk Status Check")
        .iter()
        .map(|t| {
            t["messages"][0]["localizedText"]["message"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(checks.len(), 2, "{checks:?}");
    assert!(
        checks[0].contains("still open, checked again in 30 minutes"),
        "{checks:?}"
    );
    assert!(
        checks[1].ends_with("is 6 at the service desk: Committed."),
        "{checks:?}"
    );
}

#[tokio::test]
async fn a_desk_that_fails_every_create_leaves_the_item_failed_with_its_error() {
    let app = desk_app().await;
    let s = setup(&app, Flavor::Generic).await;
    s.desk.fail_randomly(1.0, Fault::Status(503));
    let id = approved(&app, &s, &s.w.staff).await;
    until_done(&app, &id, 48).await;
    let r = stored_request(&app, &id).await;
    assert_eq!((r.stage, r.state), (Stage::Done, State::ProvisioningFailed));
    let text = r.error_messages.unwrap()[0][0]["text"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(text.contains("503") && text.contains("attempts"), "{text}");
    assert!(s.desk.tickets().is_empty());
    // The first attempt creates; each later one first looks the ticket up (which fails too).
    let calls = s.desk.calls();
    let creates = calls
        .iter()
        .filter(|c| c.method == "POST" && c.path == "/tickets")
        .count();
    let attempts = calls
        .iter()
        .filter(|c| c.path.starts_with("/tickets"))
        .count();
    assert_eq!(creates, 1);
    assert!((2..=10).contains(&attempts), "bounded attempts: {attempts}");
    // The status list shows the error.
    let e = app.admin("GET", "/v3/access-request-status", None).await;
    let entry = e
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == id.as_str())
        .unwrap()
        .clone();
    assert_eq!(entry["state"], "PROVISIONING_FAILED");
    assert!(entry["errorMessages"].to_string().contains("503"));
    assert!(!holds(&app, &s.w.rita.id, &s.w.staff).await);

    // A refusal (4xx) fails at once, without retrying.
    let s2_item = entitlement(&app, &s.source, "Payroll", "cn=payroll").await;
    s.desk.clear_faults();
    s.desk.fail_next(1, Fault::Status(422));
    let id2 = approved(&app, &s, &s2_item).await;
    let r = stored_request(&app, &id2).await;
    assert_eq!(r.state, State::ProvisioningFailed);
    assert!(r.error_messages.unwrap().to_string().contains("refused"));
}

#[tokio::test]
async fn a_desk_failing_thirty_percent_at_random_still_ends_with_one_ticket_per_item() {
    let app = desk_app().await;
    let s = setup(&app, Flavor::ServiceNow).await;
    // The worst fault: the desk creates the ticket, then the answer is lost.
    s.desk.fail_randomly(0.3, Fault::CreatedThenStatus(502));
    let mut ids = Vec::new();
    for n in 0..12 {
        let item = entitlement(
            &app,
            &s.source,
            &format!("Drive {n}"),
            &format!("cn=drive{n}"),
        )
        .await;
        ids.push(approved(&app, &s, &item).await);
    }
    for _ in 0..48 {
        let mut open = 0;
        for id in &ids {
            if ticket(&app, id).await.phase == Phase::Creating {
                open += 1;
            }
        }
        if open == 0 {
            break;
        }
        later(&app, 10 * MINUTE).await;
    }
    let made = s.desk.tickets();
    let mut correlations: Vec<String> = made
        .iter()
        .map(|t| t.correlation_id.clone().unwrap())
        .collect();
    correlations.sort();
    correlations.dedup();
    assert_eq!(
        made.len(),
        ids.len(),
        "exactly one ticket per item: {correlations:?}"
    );
    assert_eq!(correlations.len(), ids.len());
    for id in &ids {
        let t = ticket(&app, id).await;
        assert_eq!(t.phase, Phase::Open, "{t:?}");
        assert!(correlations.contains(&t.correlation_id));
    }
    // Closing them all at the desk completes every request.
    s.desk.clear_faults();
    for t in &made {
        s.desk.set_status(&t.id, "7");
    }
    later(&app, 30 * MINUTE).await;
    for id in &ids {
        assert_eq!(
            stored_request(&app, id).await.state,
            State::RequestCompleted
        );
    }
}

#[tokio::test]
async fn hangs_resets_and_retry_after_are_survived() {
    let app = desk_app().await;
    let s = setup(&app, Flavor::Jira).await;
    // A hang (timeout), then a reset: each attempt fails, looks the ticket up, and tries again.
    s.desk.fail_next(1, Fault::Hang);
    s.desk.fail_next(1, Fault::Reset);
    let id = approved(&app, &s, &s.w.staff).await;
    let t = ticket(&app, &id).await;
    assert_eq!(t.phase, Phase::Creating);
    assert!(
        t.last_error.as_deref().unwrap_or("").contains("timed out"),
        "{t:?}"
    );
    until_done_creating(&app, &id).await;
    assert_eq!(s.desk.tickets().len(), 1);
    let t = ticket(&app, &id).await;
    assert!(
        t.desk_number.as_deref().unwrap().starts_with("IAM-"),
        "{t:?}"
    );
    // The Jira issue carries the correlation id as a label, and basic auth with the API token.
    let made = &s.desk.tickets()[0];
    assert_eq!(made.correlation_id, Some(format!("gatehouse-{id}")));
    assert_eq!(made.fields["project"]["key"], "IAM", "{:?}", made.fields);

    // 429 with Retry-After: 2 minutes: nothing is sent again before then.
    let item = entitlement(&app, &s.source, "Vault", "cn=vault").await;
    s.desk.fail_next(
        1,
        Fault::TooMany {
            retry_after_secs: 120,
        },
    );
    let id2 = approved(&app, &s, &item).await;
    let posts = |d: &Desk| d.calls().iter().filter(|c| c.method == "POST").count();
    let sent = posts(&s.desk);
    later(&app, 90_000).await;
    assert_eq!(posts(&s.desk), sent, "no create before Retry-After");
    assert_eq!(ticket(&app, &id2).await.phase, Phase::Creating);
    later(&app, 40_000).await;
    assert_eq!(ticket(&app, &id2).await.phase, Phase::Open);
    assert_eq!(s.desk.tickets().len(), 2);
}

async fn until_done_creating(app: &TestApp, id: &str) {
    for _ in 0..20 {
        if ticket(app, id).await.phase != Phase::Creating {
            return;
        }
        later(app, 5 * MINUTE).await;
    }
    panic!("ticket of {id} never opened");
}

#[tokio::test]
async fn one_401_leads_to_one_token_refresh() {
    let app = desk_app().await;
    let s = setup(&app, Flavor::ServiceNow).await;
    let id = approved(&app, &s, &s.w.staff).await;
    assert_eq!(s.desk.tokens_issued(), 1);
    s.desk.expire_tokens();
    later(&app, 30 * MINUTE).await;
    assert_eq!(s.desk.tokens_issued(), 2, "the 401 fetched one new token");
    assert!(ticket(&app, &id).await.checked.is_some());
    let unauthorized = s
        .desk
        .calls()
        .iter()
        .filter(|c| c.path.starts_with("/api/now"))
        .count();
    assert_eq!(
        unauthorized, 3,
        "create, the refused check, the check again"
    );
}

#[tokio::test]
async fn polling_stops_after_the_maximum_days_and_the_item_expires() {
    let app = desk_app().await;
    let s = setup(&app, Flavor::Generic).await;
    let r = app
        .admin(
            "PUT",
            "/v3/service-desk-integrations/status-check-configuration",
            Some(json!({"provisioningStatusCheckIntervalMinutes": "60", "provisioningMaxStatusCheckDays": "1"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let id = approved(&app, &s, &s.w.staff).await;
    assert_eq!(ticket(&app, &id).await.phase, Phase::Open);
    for _ in 0..23 {
        later(&app, 60 * MINUTE).await;
    }
    assert_eq!(stored_request(&app, &id).await.stage, Stage::Ticket);
    let checks = s.desk.calls().iter().filter(|c| c.method == "GET").count();
    assert_eq!(checks, 23, "one check an hour");
    later(&app, 120 * MINUTE).await;
    let r = stored_request(&app, &id).await;
    assert_eq!(r.state, State::ProvisioningFailed);
    let text = r.error_messages.unwrap().to_string();
    assert!(
        text.contains("1 days") && text.contains("expired"),
        "{text}"
    );
}

#[tokio::test]
async fn a_metadata_address_is_refused_when_called() {
    let app = desk_app().await;
    let s = setup(&app, Flavor::Generic).await;
    // Written behind the API's back (the API refuses it when saved): the call still refuses it.
    let i = s.integration.clone();
    app.state
        .store()
        .write(move |c| {
            c.execute(
                "update service_desk_integration set attributes = replace(attributes, '127.0.0.1', '169.254.169.254') where id = $1",
                &[i.into()],
            )
        })
        .await
        .unwrap();
    let id = approved(&app, &s, &s.w.staff).await;
    let r = stored_request(&app, &id).await;
    assert_eq!(r.state, State::ProvisioningFailed);
    let text = r.error_messages.unwrap().to_string();
    assert!(
        text.contains("link-local") || text.contains("metadata"),
        "{text}"
    );
    assert!(s.desk.calls().is_empty());
}

#[tokio::test]
async fn no_provisioning_requests_lets_the_same_item_be_asked_again_while_its_ticket_is_open() {
    let app = desk_app().await;
    let s = setup(&app, Flavor::ServiceNow).await;
    let id = approved(&app, &s, &s.w.staff).await;
    assert_eq!(ticket(&app, &id).await.phase, Phase::Open);
    // While the ticket is open, the item is pending: asking again reports the open request.
    let body = json!({"requestedFor": [s.w.rita.id], "requestedItems": [{"type": "ENTITLEMENT", "id": s.w.staff}]});
    let r = app
        .call(
            "POST",
            "/v2024/access-requests",
            Some(&s.w.rita.token),
            Some(body),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    assert_eq!(r.body["newRequests"], json!([]), "{}", r.text);
    assert_eq!(
        r.body["existingRequests"][0]["accessRequestIds"][0],
        id.as_str()
    );
    // With noProvisioningRequests, an open ticket is not kept as a pending request.
    let r = app
        .admin(
            "PATCH",
            &format!("/v3/service-desk-integrations/{}", s.integration),
            Some(json!([{"op": "replace", "path": "/provisioningConfig/noProvisioningRequests", "value": true}])),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let item = entitlement(&app, &s.source, "Badge", "cn=badge").await;
    let id2 = approved(&app, &s, &item).await;
    assert_eq!(ticket(&app, &id2).await.phase, Phase::Open);
    let body = json!({"requestedFor": [s.w.rita.id], "requestedItems": [{"type": "ENTITLEMENT", "id": item}]});
    let r = app
        .call(
            "POST",
            "/v2024/access-requests",
            Some(&s.w.rita.token),
            Some(body),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    assert_eq!(r.body["existingRequests"], json!([]), "{}", r.text);
    assert_eq!(
        r.body["newRequests"].as_array().unwrap().len(),
        1,
        "{}",
        r.text
    );
}

/// Serves the app on 127.0.0.1 (the desks call the webhook over real HTTP). Returns its base URL.
async fn serve(app: &TestApp) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let service = gatehouse_api::app(app.state.clone());
    tokio::spawn(async move {
        axum::serve(
            listener,
            axum::ServiceExt::<axum::extract::Request>::into_make_service(service),
        )
        .await
        .unwrap();
    });
    url
}

/// Sets the integration's inbound side through the installed-integration API; returns the
/// response's `inboundConfig.authentication`.
async fn inbound(app: &TestApp, s: &Setup, config: Value) -> Value {
    let t = tenant(app).await;
    let r = app
        .admin(
            "POST",
            &format!(
                "/api/v2/tenants/{t}/integrations/installed/{}",
                s.integration
            ),
            Some(json!({"inboundConfig": config})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body["inboundConfig"]["authentication"].clone()
}

async fn webhook_url(app: &TestApp, s: &Setup, base: &str) -> String {
    format!(
        "{base}/api/v2/tenants/{}/integrations/installed/{}/webhook",
        tenant(app).await,
        s.integration
    )
}

#[tokio::test]
async fn jira_ticket_done_completes_the_request_through_the_webhook() {
    let app = desk_app().await;
    let s = setup(&app, Flavor::Jira).await;
    let auth = inbound(&app, &s, json!({"authentication": {"authType": "WEBHOOK"}})).await;
    let token = auth["token"].as_str().unwrap().to_owned();
    let base = serve(&app).await;
    s.desk
        .set_webhook(&webhook_url(&app, &s, &base).await, &token);
    let id = approved(&app, &s, &s.w.staff).await;
    let t = s.desk.tickets()[0].clone();

    // In progress: recorded, nothing else changes.
    s.desk.set_status(&t.id, "In Progress");
    assert_eq!(
        s.desk.wait_for_webhooks(1, Duration::from_secs(5)).await,
        vec![200]
    );
    assert_eq!(
        ticket(&app, &id).await.desk_status.as_deref(),
        Some("In Progress")
    );
    assert_eq!(stored_request(&app, &id).await.stage, Stage::Ticket);
    // Done at the desk: the webhook completes the request at once, without polling.
    s.desk.set_status(&t.id, "Done");
    assert_eq!(
        s.desk.wait_for_webhooks(2, Duration::from_secs(5)).await,
        vec![200, 200]
    );
    let r = stored_request(&app, &id).await;
    assert_eq!((r.stage, r.state), (Stage::Done, State::RequestCompleted));
    assert!(holds(&app, &s.w.rita.id, &s.w.staff).await);
    // The same delivery again changes nothing.
    s.desk.set_status(&t.id, "Done");
    assert_eq!(
        s.desk
            .wait_for_webhooks(3, Duration::from_secs(5))
            .await
            .len(),
        3
    );
    assert_eq!(stored_request(&app, &id).await, r);
    let r_done = r;

    // Over the API: a wrong token is 401, an unknown ticket 404, a bad body 400.
    let url = format!(
        "/api/v2/tenants/{}/integrations/installed/{}/webhook",
        tenant(&app).await,
        s.integration
    );
    let event = |key: &str| json!({"webhookEvent": "jira:issue_updated", "issue": {"id": key, "key": key, "fields": {"status": {"name": "Done"}}}});
    let refused = |r: &Reply| {
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
        assert!(
            r.body["error"]
                .as_str()
                .unwrap()
                .contains("webhook credential"),
            "{}",
            r.text
        );
    };
    refused(
        &app.call("POST", &url, Some("not-the-token"), Some(event(&t.id)))
            .await,
    );
    refused(&app.call("POST", &url, None, Some(event(&t.id))).await);
    let r = app
        .call("POST", &url, Some(&token), Some(event("99999")))
        .await;
    assert_error(&r, StatusCode::NOT_FOUND);
    let r = app
        .call(
            "POST",
            &url,
            Some(&token),
            Some(json!({"issue": {"id": t.id}})),
        )
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST);
    let r = app.call("POST", &url, Some(&token), Some(json!([1]))).await;
    assert_error(&r, StatusCode::BAD_REQUEST);
    let other = url.replace(&s.integration, "0123456789abcdef0123456789abcdef");
    let r = app
        .call("POST", &other, Some(&token), Some(event(&t.id)))
        .await;
    assert_error(&r, StatusCode::NOT_FOUND);
    // An admin's own token is not the webhook credential.
    refused(
        &app.call(
            "POST",
            &url,
            Some(&app.admin_token.clone()),
            Some(event(&t.id)),
        )
        .await,
    );
    assert_eq!(stored_request(&app, &id).await, r_done);
}

#[tokio::test]
async fn generic_desk_webhook_read_through_inbound_mappings_with_oauth2() {
    let app = desk_app().await;
    let s = setup(&app, Flavor::Generic).await;
    let auth = inbound(
        &app,
        &s,
        json!({
            "authentication": {"authType": "OAUTH2"},
            "mapAttributes": [{
                "name": "Status", "tenantAttrName": "ticket.status", "entityType": "SERVICEREQUEST",
                "thirdPartyEntityType": "TICKET",
                "attrValues": [
                    {"attrValue": "Open", "thirdPartyAttrValue": "triage"},
                    {"attrValue": "Closed", "thirdPartyAttrValue": "shipped"},
                    {"attrValue": "Cancelled", "tenantAttrValue": "wontdo"}
                ]
            }]
        }),
    )
    .await;
    let (client, secret) = (
        auth["clientId"].as_str().unwrap().to_owned(),
        auth["clientSecret"].as_str().unwrap().to_owned(),
    );
    let token = app.token(&client, &secret).await;
    let base = serve(&app).await;
    s.desk
        .set_webhook(&webhook_url(&app, &s, &base).await, &token);

    let id = approved(&app, &s, &s.w.staff).await;
    let first = s.desk.tickets()[0].clone();
    // "shipped" maps to Closed, which is Committed.
    s.desk.set_status(&first.id, "shipped");
    assert_eq!(
        s.desk.wait_for_webhooks(1, Duration::from_secs(5)).await,
        vec![200]
    );
    assert_eq!(
        stored_request(&app, &id).await.state,
        State::RequestCompleted
    );

    // "wontdo" maps to Cancelled, which is Failed.
    let item = entitlement(&app, &s.source, "Lab", "cn=lab").await;
    let id2 = approved(&app, &s, &item).await;
    let second = s.desk.tickets()[1].clone();
    s.desk.set_status(&second.id, "wontdo");
    assert_eq!(
        s.desk.wait_for_webhooks(2, Duration::from_secs(5)).await,
        vec![200, 200]
    );
    let r = stored_request(&app, &id2).await;
    assert_eq!(r.state, State::ProvisioningFailed);
    assert!(r.error_messages.unwrap().to_string().contains("wontdo"));
    assert!(!holds(&app, &s.w.rita.id, &item).await);
}

#[tokio::test]
async fn desk_credentials_appear_in_no_log_error_or_task() {
    let logs = crate::service_desk_secrets::captured_logs();
    let app = desk_app().await;
    let s = setup(&app, Flavor::ServiceNow).await;
    let c = s.desk.credentials();
    // The desk fails twice with 500s, then refuses (400).
    s.desk.fail_next(2, Fault::Status(500));
    s.desk.fail_next(1, Fault::Status(400));
    let id = approved(&app, &s, &s.w.staff).await;
    until_done(&app, &id, 24).await;
    let r = stored_request(&app, &id).await;
    assert_eq!(r.state, State::ProvisioningFailed, "{r:?}");
    let error = r.error_messages.unwrap().to_string();
    assert!(error.contains("answered 400"), "{error}");
    // A second item: the token endpoint refuses the credentials.
    let item = entitlement(&app, &s.source, "Archive", "cn=archive").await;
    s.desk.expire_tokens();
    s.desk.fail_token_endpoint_next(1, Fault::Status(401));
    let id2 = approved(&app, &s, &item).await;
    let r2 = stored_request(&app, &id2).await;
    assert_eq!(r2.state, State::ProvisioningFailed, "{r2:?}");
    let error2 = r2.error_messages.unwrap().to_string();
    assert!(error2.contains("token endpoint"), "{error2}");

    let mut seen = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
    seen.push_str(&error);
    seen.push_str(&error2);
    seen.push_str(&format!(
        "{:?}{:?}",
        ticket(&app, &id).await,
        ticket(&app, &id2).await
    ));
    let mut tasks = String::new();
    for family in ["/v2024/task-status", "/task-status/v1"] {
        let t = app
            .call("GET", family, Some(&app.admin_token.clone()), None)
            .await;
        assert_eq!(t.status, StatusCode::OK, "{}", t.text);
        tasks.push_str(&t.text);
    }
    assert!(
        tasks.contains("answered 500"),
        "failed attempts show in the task: {tasks}"
    );
    seen.push_str(&tasks);
    for secret in [&c.password, &c.client_secret] {
        assert!(!seen.contains(secret.as_str()), "{secret} leaked");
    }
}

#[tokio::test]
async fn an_integration_that_cannot_call_its_desk_fails_the_item_instead_of_leaving_it_waiting() {
    let app = desk_app().await;
    let s = setup(&app, Flavor::ServiceNow).await;
    // Broken behind the API's back: two sealed credentials swap places, so neither opens (each
    // is bound to its own attribute).
    let i = s.integration.clone();
    app.state
        .store()
        .write(move |c| {
            let stored = c
                .query_one(
                    "select secrets from service_desk_integration where id = $1",
                    &[i.clone().into()],
                )?
                .text(0)?;
            let mut secrets: serde_json::Map<String, Value> =
                serde_json::from_str(&stored).unwrap();
            let password = secrets["/password"].clone();
            let client = secrets["/clientSecret"].clone();
            secrets.insert("/password".into(), client);
            secrets.insert("/clientSecret".into(), password);
            c.execute(
                "update service_desk_integration set secrets = $2 where id = $1",
                &[i.into(), Value::Object(secrets).to_string().into()],
            )
        })
        .await
        .unwrap();
    let id = approved(&app, &s, &s.w.staff).await;
    let r = stored_request(&app, &id).await;
    assert_eq!((r.stage, r.state), (Stage::Done, State::ProvisioningFailed));
    let text = r.error_messages.unwrap().to_string();
    assert!(
        text.contains("cannot be used") && text.contains("master key"),
        "{text}"
    );
    assert!(s.desk.calls().is_empty());
}
