//! A request's whole life as `listAccessRequestStatus` reports it, in every family: each stage
//! (queued, approval, scheduled, waiting for a service-desk ticket, finished) and each way it
//! ends (provisioned, rejected, cancelled, closed), who sees it on the way, every filter and
//! sorter the spec lists, and the rules of `cancelAccessRequest`, `cancelAccessRequestInBulk` and
//! `closeAccessRequest` at each stage. Complements `access_request_status`.

use crate::approval_fixtures::{pending, steps, stored_request, world, World};
use crate::catalog_fixtures::{ids, q, tenant};
use crate::service_desk_tickets::{desk_app, setup};
use crate::spec_shape::assert_shape;
use crate::support::{assert_error, assert_millis_date, Reply, TestApp};
use axum::http::StatusCode;
use gatehouse_domain::Timestamp;
use gatehouse_store::access_requests::submit::{self, NewItem, NewRequest};
use gatehouse_store::access_requests::{ApprovalStatus, Stage, State};
use gatehouse_testdesk::Flavor;
use serde_json::{json, Value};

/// (family, URL, the spec's path) of the status list.
const STATUS: [(&str, &str, &str); 4] = [
    ("v3", "/v3/access-request-status", "/access-request-status"),
    (
        "v2024",
        "/v2024/access-request-status",
        "/access-request-status",
    ),
    (
        "beta",
        "/beta/access-request-status",
        "/access-request-status",
    ),
    (
        "v1",
        "/access-request-status/v1",
        "/access-request-status/v1",
    ),
];

/// (family, URL, the spec's path) of `cancelAccessRequest`.
const CANCEL: [(&str, &str, &str); 4] = [
    (
        "v3",
        "/v3/access-requests/cancel",
        "/access-requests/cancel",
    ),
    (
        "v2024",
        "/v2024/access-requests/cancel",
        "/access-requests/cancel",
    ),
    (
        "beta",
        "/beta/access-requests/cancel",
        "/access-requests/cancel",
    ),
    (
        "v1",
        "/access-requests/v1/cancel",
        "/access-requests/v1/cancel",
    ),
];

/// (family, URL, the spec's path) of `cancelAccessRequestInBulk`.
const BULK_CANCEL: [(&str, &str, &str); 2] = [
    (
        "v2024",
        "/v2024/access-requests/bulk-cancel",
        "/access-requests/bulk-cancel",
    ),
    (
        "v1",
        "/access-requests/v1/bulk-cancel",
        "/access-requests/v1/bulk-cancel",
    ),
];

/// (family, URL, the spec's path) of `closeAccessRequest`.
const CLOSE: [(&str, &str, &str); 3] = [
    (
        "v2024",
        "/v2024/access-requests/close",
        "/access-requests/close",
    ),
    (
        "beta",
        "/beta/access-requests/close",
        "/access-requests/close",
    ),
    (
        "v1",
        "/access-requests/v1/close",
        "/access-requests/v1/close",
    ),
];

const DEFAULT_CLOSE_MESSAGE: &str = "The IdentityNow Administrator manually closed this request.";

const DAY_MS: i64 = 86_400_000;

/// `by` (an ORG_ADMIN when `admin`) asks for item (`kind`, `item`) for `for_id`, starting at
/// `start`; the request is processed (its first step opens) when `process`. Returns its id.
#[allow(clippy::too_many_arguments)] // one request, every part named at the call
async fn ask(
    app: &TestApp,
    by: &str,
    admin: bool,
    for_id: &str,
    kind: &str,
    item: &str,
    start: Option<Timestamp>,
    process: bool,
) -> String {
    let t = tenant(app).await;
    let req = NewRequest {
        request_type: "GRANT_ACCESS".into(),
        requester_id: by.to_owned(),
        requester_is_admin: admin,
        requested_for: vec![(
            for_id.to_owned(),
            vec![NewItem {
                item_type: kind.to_owned(),
                item_id: item.to_owned(),
                comment: Some(format!("please, {kind}")),
                client_metadata: Some(json!({"ticket": "T-9"})),
                start_date: start,
                remove_date: None,
                assignment_id: None,
                native_identity: None,
                account_selection: None,
            }],
        )],
        request_metadata: Some(json!({"origin": "lifecycle-tests"})),
    };
    let now = app.state.clock().now();
    let done = app
        .state
        .store()
        .write(move |c| submit::submit(c, &t, &req, now))
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("submission refused: {e:?}"));
    if process {
        app.drain().await;
    }
    // Later requests are newer.
    app.state.virtual_clock().unwrap().advance(1000);
    done.new[0].ids[0].clone()
}

/// Rita asks for `item` for herself (processed).
async fn rita_asks(app: &TestApp, w: &World, kind: &str, item: &str) -> String {
    ask(app, &w.rita.id, false, &w.rita.id, kind, item, None, true).await
}

/// GET the status list at `url` with `query` as `token`.
async fn list(app: &TestApp, token: &str, url: &str, query: &str) -> Reply {
    app.call("GET", &format!("{url}?{query}"), Some(token), None)
        .await
}

/// The v3 status list as `token`, which must succeed and match the schema; its entries.
async fn v3(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    let r = list(app, token, STATUS[0].1, query).await;
    assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.text);
    assert_shape("v3", "GET", STATUS[0].2, 200, &r.body);
    r.body.as_array().unwrap().clone()
}

/// The ids the v3 status list answers to `token` for `query`, sorted.
async fn seen(app: &TestApp, token: &str, query: &str) -> Vec<String> {
    sorted(ids(&Value::Array(v3(app, token, query).await)))
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// The entry of request `id` in the admin's view, in family `index` of [`STATUS`], checked
/// against that family's schema.
async fn entry_in(app: &TestApp, index: usize, id: &str) -> Value {
    let (family, url, spec) = STATUS[index];
    let r = app
        .admin(
            "GET",
            &format!(
                "{url}?filters={}",
                q(&format!("accessRequestId eq \"{id}\""))
            ),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{family}: {}", r.text);
    assert_shape(family, "GET", spec, 200, &r.body);
    let list = r.body.as_array().unwrap();
    assert_eq!(list.len(), 1, "{family}: {}", r.text);
    list[0].clone()
}

/// The v3 entry of request `id`, after checking that every family answers it in its shape.
async fn entry(app: &TestApp, id: &str) -> Value {
    for i in 1..STATUS.len() {
        entry_in(app, i, id).await;
    }
    entry_in(app, 0, id).await
}

/// (name, state, result) of each phase.
fn phases(e: &Value) -> Vec<(String, String, Value)> {
    e["accessRequestPhases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_owned(),
                p["state"].as_str().unwrap().to_owned(),
                p["result"].clone(),
            )
        })
        .collect()
}

fn phase(name: &str, state: &str, result: Value) -> (String, String, Value) {
    (name.to_owned(), state.to_owned(), result)
}

async fn approve(app: &TestApp, approval: &str, token: &str) {
    let r = app
        .call(
            "POST",
            &format!("/v3/access-request-approvals/{approval}/approve"),
            Some(token),
            Some(json!({"comment": "fine by me"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    app.drain().await;
}

async fn reject(app: &TestApp, approval: &str, token: &str) {
    let r = app
        .call(
            "POST",
            &format!("/v3/access-request-approvals/{approval}/reject"),
            Some(token),
            Some(json!({"comment": "not for you"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    app.drain().await;
}

#[tokio::test]
async fn a_pending_request_in_every_family() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let id = rita_asks(&app, &w, "ROLE", &w.role).await;
    let step = pending(&app, &id).await;
    let group_id = rita_asks(&app, &w, "ROLE", &w.group_role).await;
    for (i, (family, _, _)) in STATUS.iter().enumerate() {
        let e = entry_in(&app, i, &id).await;
        assert_eq!(e["id"], id.as_str(), "{family}");
        assert_eq!(e["accessRequestId"], id.as_str());
        assert_eq!(e["accountActivityItemId"], id.as_str());
        assert_eq!(e["name"], "Clerk");
        assert_eq!(e["type"], "ROLE");
        assert_eq!(e["description"], "Clerk role");
        assert_eq!(e["state"], "EXECUTING");
        assert_eq!(e["requestType"], "GRANT_ACCESS");
        assert_eq!(e["cancelable"], true);
        assert_eq!(
            e["requester"],
            json!({"type": "IDENTITY", "id": w.rita.id, "name": "rita"})
        );
        assert_eq!(
            e["requestedFor"],
            json!({"type": "IDENTITY", "id": w.rita.id, "name": "rita"})
        );
        assert_eq!(e["requesterComment"]["comment"], "please, ROLE");
        assert_eq!(e["requesterComment"]["author"]["id"], w.rita.id.as_str());
        assert_eq!(e["requesterComment"]["created"], e["created"]);
        assert_eq!(
            e["clientMetadata"],
            json!({"origin": "lifecycle-tests", "ticket": "T-9"})
        );
        assert!(e.get("cancelledRequestDetails").is_none(), "{e:#}");
        assert_eq!(e["errorMessages"], Value::Null);
        assert_eq!(e["startDate"], Value::Null);
        assert_eq!(e["removeDate"], Value::Null);
        assert_eq!(e["approvalIds"], json!([step.id]));
        let details = e["approvalDetails"].as_array().unwrap();
        assert_eq!(details.len(), 1, "{e:#}");
        let d = &details[0];
        assert_eq!(d["status"], "PENDING");
        assert_eq!(d["scheme"], "MANAGER");
        assert_eq!(d["forwarded"], false);
        assert_eq!(
            d["currentOwner"],
            json!({"type": "IDENTITY", "id": w.max.id, "name": "max"})
        );
        assert_eq!(
            d["originalOwner"],
            json!({"type": "IDENTITY", "id": w.max.id, "name": "max"})
        );
        assert_eq!(d["comment"], Value::Null);
        match *family {
            "v3" | "beta" => assert_eq!(d["approvalId"], step.id.as_str()),
            _ => assert!(d.get("approvalId").is_none(), "{family}: {d}"),
        }
        match *family {
            "v1" => assert_eq!(e["identityType"], "HUMAN"),
            _ => assert!(e.get("identityType").is_none()),
        }
        assert_eq!(
            phases(&e),
            vec![phase("APPROVAL_PHASE", "EXECUTING", Value::Null)]
        );
        assert_eq!(e["accessRequestPhases"][0]["started"], e["created"]);
        assert_millis_date(&e["created"]);
        assert_millis_date(&e["modified"]);
    }
    // A step of a governance group: the group is the owner, without `type` where the schema
    // allows only IDENTITY.
    let e = entry(&app, &group_id).await;
    let d = &e["approvalDetails"][0];
    assert_eq!(d["scheme"], "GOVERNANCE_GROUP");
    assert_eq!(
        d["currentOwner"],
        json!({"id": w.group, "name": "Approvers"})
    );
    assert_eq!(
        d["originalOwner"],
        json!({"type": "GOVERNANCE_GROUP", "id": w.group, "name": "Approvers"})
    );
}

#[tokio::test]
async fn identity_parameters_narrow_the_list() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    // Rita for herself (Max approves), Rita for herself (the group approves), the admin for Eve
    // (the fallback, the admin, approves: Eve has no manager), Max for himself (Olga approves).
    let clerk = rita_asks(&app, &w, "ROLE", &w.role).await;
    let audit = rita_asks(&app, &w, "ROLE", &w.group_role).await;
    let for_eve = ask(
        &app,
        &app.admin_identity,
        true,
        &w.eve.id,
        "ROLE",
        &w.role,
        None,
        true,
    )
    .await;
    let maxs = ask(
        &app,
        &w.max.id,
        false,
        &w.max.id,
        "ENTITLEMENT",
        &w.staff,
        None,
        true,
    )
    .await;
    let admin = app.admin_token.clone();
    assert_eq!(
        seen(&app, &admin, "").await,
        sorted(vec![
            clerk.clone(),
            audit.clone(),
            for_eve.clone(),
            maxs.clone()
        ])
    );
    let rita = &w.rita.id;
    assert_eq!(
        seen(&app, &admin, &format!("requested-for={rita}")).await,
        sorted(vec![clerk.clone(), audit.clone()])
    );
    assert_eq!(
        seen(&app, &admin, "requested-by=me").await,
        vec![for_eve.clone()]
    );
    assert_eq!(
        seen(
            &app,
            &admin,
            &format!("requested-by={rita}&requested-for={rita}")
        )
        .await,
        sorted(vec![clerk.clone(), audit.clone()])
    );
    assert_eq!(
        seen(
            &app,
            &admin,
            &format!("requested-by={rita}&requested-for={}", w.eve.id)
        )
        .await,
        Vec::<String>::new()
    );
    assert_eq!(
        seen(
            &app,
            &admin,
            &format!("regarding-identity={}", app.admin_identity)
        )
        .await,
        vec![for_eve.clone()]
    );
    assert_eq!(
        seen(&app, &w.max.token, "regarding-identity=me").await,
        vec![maxs.clone()]
    );
    // assigned-to: the owner of a pending step, directly or through a governance group.
    assert_eq!(
        seen(&app, &w.max.token, "assigned-to=me").await,
        vec![clerk.clone()]
    );
    assert_eq!(
        seen(&app, &w.gina.token, "assigned-to=me").await,
        vec![audit.clone()]
    );
    assert_eq!(
        seen(&app, &admin, &format!("assigned-to={}", w.gina.id)).await,
        vec![audit.clone()]
    );
    assert_eq!(
        seen(&app, &admin, "assigned-to=me").await,
        vec![for_eve.clone()]
    );
    // Once decided, a step is no longer assigned; the next one is.
    approve(&app, &pending(&app, &clerk).await.id, &w.max.token).await;
    assert_eq!(
        seen(&app, &admin, &format!("assigned-to={}", w.max.id)).await,
        Vec::<String>::new()
    );
    assert_eq!(
        seen(&app, &admin, &format!("assigned-to={}", w.olga.id)).await,
        sorted(vec![clerk.clone(), maxs.clone()])
    );
    // request-state=EXECUTING leaves out the finished ones.
    reject(&app, &pending(&app, &maxs).await.id, &w.olga.token).await;
    assert_eq!(
        seen(&app, &admin, "request-state=EXECUTING").await,
        sorted(vec![clerk.clone(), audit.clone(), for_eve.clone()])
    );
    for (family, url, _) in STATUS {
        for bad in [
            format!("regarding-identity={rita}&requested-for={rita}"),
            format!("regarding-identity=me&requested-by={rita}"),
        ] {
            let r = list(&app, &admin, url, &bad).await;
            let text = assert_error(&r, StatusCode::BAD_REQUEST);
            assert!(
                text.contains("mutually exclusive"),
                "{family} {bad}: {text}"
            );
        }
        let r = list(&app, &admin, url, "request-state=CANCELLED").await;
        let text = assert_error(&r, StatusCode::BAD_REQUEST);
        assert!(text.contains("EXECUTING"), "{family}: {text}");
    }
}

#[tokio::test]
async fn every_listed_filter_and_sorter() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    // Created one second apart, in this order: Clerk, Auditor, Treasurer.
    let a = rita_asks(&app, &w, "ROLE", &w.role).await;
    let b = rita_asks(&app, &w, "ROLE", &w.group_role).await;
    let c = rita_asks(&app, &w, "ROLE", &w.strict_role).await;
    let admin = app.admin_token.clone();
    let order = |body: Vec<Value>| ids(&Value::Array(body));
    assert_eq!(
        order(v3(&app, &admin, "").await),
        vec![c.clone(), b.clone(), a.clone()],
        "newest first"
    );
    let by = |s: &str| format!("sorters={}", q(s));
    assert_eq!(
        order(v3(&app, &admin, &by("created")).await),
        vec![a.clone(), b.clone(), c.clone()]
    );
    // Names: Auditor, Clerk, Treasurer.
    assert_eq!(
        order(v3(&app, &admin, &by("name")).await),
        vec![b.clone(), a.clone(), c.clone()]
    );
    assert_eq!(
        order(v3(&app, &admin, &by("-name")).await),
        vec![c.clone(), a.clone(), b.clone()]
    );
    let by_id = sorted(vec![a.clone(), b.clone(), c.clone()]);
    assert_eq!(
        order(v3(&app, &admin, &by("accountActivityItemId")).await),
        by_id
    );
    // Approving Clerk's first step makes it the last modified.
    approve(&app, &pending(&app, &a).await.id, &w.max.token).await;
    assert_eq!(
        order(v3(&app, &admin, &by("modified")).await),
        vec![b.clone(), c.clone(), a.clone()]
    );
    assert_eq!(
        order(v3(&app, &admin, &by("-modified")).await),
        vec![a.clone(), c.clone(), b.clone()]
    );
    for bad in ["requestedFor", "id", "name,name", "-"] {
        let r = list(&app, &admin, STATUS[0].1, &by(bad)).await;
        assert_error(&r, StatusCode::BAD_REQUEST);
    }

    let f = |s: &str| format!("filters={}", q(s));
    let (lo, mid, hi) = (by_id[0].clone(), by_id[1].clone(), by_id[2].clone());
    let cases: Vec<(String, Vec<String>)> = vec![
        (
            format!("accessRequestId ne \"{b}\""),
            vec![a.clone(), c.clone()],
        ),
        (
            format!("accessRequestId in (\"{a}\", \"{c}\")"),
            vec![a.clone(), c.clone()],
        ),
        (
            format!("accountActivityItemId in (\"{a}\", \"{c}\")"),
            vec![a.clone(), c.clone()],
        ),
        (format!("accountActivityItemId eq \"{c}\""), vec![c.clone()]),
        // Ranges over ids follow their byte order.
        (
            format!("accessRequestId gt \"{lo}\""),
            vec![mid.clone(), hi.clone()],
        ),
        (
            format!("accessRequestId lt \"{hi}\""),
            vec![lo.clone(), mid.clone()],
        ),
        (format!("accessRequestId le \"{lo}\""), vec![lo.clone()]),
        (format!("accessRequestId ge \"{hi}\""), vec![hi.clone()]),
        (
            format!("accountActivityItemId ge \"{mid}\""),
            vec![mid.clone(), hi.clone()],
        ),
        (
            format!("accountActivityItemId le \"{mid}\""),
            vec![lo.clone(), mid.clone()],
        ),
        (
            format!("accountActivityItemId gt \"{lo}\" and accountActivityItemId ne \"{hi}\""),
            vec![mid.clone()],
        ),
        (format!("accessRequestId sw \"{b}\""), vec![b.clone()]),
    ];
    for (filter, want) in cases {
        assert_eq!(
            seen(&app, &admin, &f(&filter)).await,
            sorted(want),
            "{filter}"
        );
    }
    // sw on a prefix, in either case.
    let prefix = &b[..3];
    let expected: Vec<String> = by_id
        .iter()
        .filter(|id| id.starts_with(prefix))
        .cloned()
        .collect();
    for p in [prefix.to_owned(), prefix.to_uppercase()] {
        assert_eq!(
            seen(
                &app,
                &admin,
                &f(&format!("accountActivityItemId sw \"{p}\""))
            )
            .await,
            expected
        );
        assert_eq!(
            seen(&app, &admin, &f(&format!("accessRequestId sw \"{p}\""))).await,
            expected
        );
    }
    // created, with the dates the list answers.
    let all = v3(&app, &admin, "").await;
    let at = |id: &str| {
        all.iter().find(|e| e["id"] == id).unwrap()["created"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let tb = at(&b);
    for (filter, want) in [
        (format!("created eq {tb}"), vec![b.clone()]),
        (format!("created ne {tb}"), vec![a.clone(), c.clone()]),
        (format!("created ge {tb}"), vec![b.clone(), c.clone()]),
        (format!("created gt {tb}"), vec![c.clone()]),
        (format!("created lt \"{tb}\""), vec![a.clone()]),
        (format!("created le {tb}"), vec![a.clone(), b.clone()]),
    ] {
        assert_eq!(
            seen(&app, &admin, &f(&filter)).await,
            sorted(want),
            "{filter}"
        );
    }
    // What the spec does not list is a 400 that names it, per family: `in` on accessRequestId
    // only in v3 and beta.
    for (family, url, _) in STATUS {
        let r = list(
            &app,
            &admin,
            url,
            &f(&format!("accessRequestId in (\"{a}\")")),
        )
        .await;
        match family {
            "v3" | "beta" => assert_eq!(r.status, StatusCode::OK, "{family}: {}", r.text),
            _ => {
                let text = assert_error(&r, StatusCode::BAD_REQUEST);
                assert!(text.contains("accessRequestId"), "{family}: {text}");
            }
        }
        for bad in [
            format!("accountActivityItemId lt \"{a}\""),
            "accountActivityItemId co \"a\"".to_owned(),
            "created sw \"2020\"".to_owned(),
            "created in (2020-01-01T00:00:00Z)".to_owned(),
            "name eq \"Clerk\"".to_owned(),
            "requestedFor.id eq \"x\"".to_owned(),
            "accessRequestId eq".to_owned(),
        ] {
            let r = list(&app, &admin, url, &f(&bad)).await;
            assert_error(&r, StatusCode::BAD_REQUEST);
        }
    }
    // Paging and the total, with the identity parameters and filters.
    let r = list(&app, &admin, STATUS[0].1, "limit=2&offset=2&count=true").await;
    assert_eq!(ids(&r.body), vec![a.clone()]);
    assert_eq!(r.headers["x-total-count"], "3");
    let r = list(
        &app,
        &admin,
        STATUS[2].1,
        &format!(
            "limit=1&offset=1&count=true&sorters=name&requested-for={}",
            w.rita.id
        ),
    )
    .await;
    assert_eq!(ids(&r.body), vec![a.clone()]);
    assert_eq!(r.headers["x-total-count"], "3");
    let r = list(
        &app,
        &admin,
        STATUS[1].1,
        &format!("count=true&{}", f(&format!("accessRequestId ne \"{a}\""))),
    )
    .await;
    assert_eq!(r.headers["x-total-count"], "2");
    assert_eq!(ids(&r.body), vec![c.clone(), b.clone()]);
    let r = list(&app, &admin, STATUS[3].1, "limit=0&count=true").await;
    assert_eq!(r.body, json!([]));
    assert_eq!(r.headers["x-total-count"], "3");
    for bad in ["limit=251", "limit=-1", "offset=-1", "count=maybe"] {
        let r = list(&app, &admin, STATUS[3].1, bad).await;
        assert_error(&r, StatusCode::BAD_REQUEST);
    }
}

#[tokio::test]
async fn people_see_only_the_requests_that_concern_them() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let clerk = rita_asks(&app, &w, "ROLE", &w.role).await;
    let audit = rita_asks(&app, &w, "ROLE", &w.group_role).await;
    let for_eve = ask(
        &app,
        &app.admin_identity,
        true,
        &w.eve.id,
        "ROLE",
        &w.group_role,
        None,
        true,
    )
    .await;
    let maxs = ask(
        &app,
        &w.max.id,
        false,
        &w.max.id,
        "ENTITLEMENT",
        &w.staff,
        None,
        true,
    )
    .await;
    // Rita made and is the subject of her two; Eve is the subject of hers.
    assert_eq!(
        seen(&app, &w.rita.token, "").await,
        sorted(vec![clerk.clone(), audit.clone()])
    );
    assert_eq!(seen(&app, &w.eve.token, "").await, vec![for_eve.clone()]);
    // Max made his own and must approve Clerk's first step.
    assert_eq!(
        seen(&app, &w.max.token, "").await,
        sorted(vec![clerk.clone(), maxs.clone()])
    );
    // Gina is in the group that approves both Auditor requests.
    assert_eq!(
        seen(&app, &w.gina.token, "").await,
        sorted(vec![audit.clone(), for_eve.clone()])
    );
    // Olga approves Max's entitlement; Clerk's second step, hers, is not open yet.
    assert_eq!(seen(&app, &w.olga.token, "").await, vec![maxs.clone()]);
    // Naming someone else shows nothing more than one may see.
    for (token, query) in [
        (&w.rita.token, format!("requested-for={}", w.eve.id)),
        (&w.eve.token, format!("requested-by={}", w.rita.id)),
        (&w.eve.token, format!("assigned-to={}", w.max.id)),
        (&w.eve.token, format!("regarding-identity={}", w.rita.id)),
        (
            &w.eve.token,
            format!("filters={}", q(&format!("accessRequestId eq \"{clerk}\""))),
        ),
    ] {
        assert_eq!(
            seen(&app, token, &query).await,
            Vec::<String>::new(),
            "{query}"
        );
    }
    assert_eq!(
        seen(&app, &w.max.token, &format!("requested-for={}", w.rita.id)).await,
        vec![clerk.clone()]
    );
    // An approver keeps seeing what they decided, and the next approver starts to.
    approve(&app, &pending(&app, &clerk).await.id, &w.max.token).await;
    assert_eq!(
        seen(&app, &w.max.token, "").await,
        sorted(vec![clerk.clone(), maxs.clone()])
    );
    assert_eq!(
        seen(&app, &w.olga.token, "").await,
        sorted(vec![clerk.clone(), maxs.clone()])
    );
    // Every family confines the same way; the admin sees everything.
    for (family, url, spec) in STATUS {
        let r = list(&app, &w.eve.token, url, "count=true").await;
        assert_eq!(r.status, StatusCode::OK, "{family}: {}", r.text);
        assert_shape(family, "GET", spec, 200, &r.body);
        assert_eq!(ids(&r.body), vec![for_eve.clone()], "{family}");
        assert_eq!(r.headers["x-total-count"], "1", "{family}");
        let r = list(&app, &app.admin_token, url, "count=true").await;
        assert_eq!(r.headers["x-total-count"], "4", "{family}");
    }
    // A token without a user context is refused.
    let r = app
        .admin(
            "POST",
            "/v3/oauth-clients",
            Some(json!({
                "name": "robot", "description": "robot", "accessTokenValiditySeconds": 750,
                "grantTypes": ["CLIENT_CREDENTIALS"], "accessType": "OFFLINE", "enabled": true
            })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let robot = app
        .token(
            r.body["id"].as_str().unwrap(),
            r.body["secret"].as_str().unwrap(),
        )
        .await;
    let r = list(&app, &robot, STATUS[0].1, "").await;
    assert_error(&r, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn states_and_phases_of_each_outcome() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    // Approved twice, then provisioned.
    let done = rita_asks(&app, &w, "ROLE", &w.role).await;
    approve(&app, &pending(&app, &done).await.id, &w.max.token).await;
    let e = entry(&app, &done).await;
    assert_eq!(e["state"], "EXECUTING");
    assert_eq!(e["cancelable"], true, "the second step is still pending");
    let details = e["approvalDetails"].as_array().unwrap();
    assert_eq!(details.len(), 2);
    assert_eq!(details[0]["status"], "APPROVED");
    assert_eq!(details[0]["comment"], "fine by me");
    assert_eq!(details[1]["status"], "PENDING");
    assert_eq!(details[1]["scheme"], "ROLE_OWNER");
    assert_eq!(details[1]["currentOwner"]["id"], w.olga.id.as_str());
    approve(&app, &pending(&app, &done).await.id, &w.olga.token).await;
    assert_eq!(
        stored_request(&app, &done).await.state,
        State::RequestCompleted
    );
    let e = entry(&app, &done).await;
    assert_eq!(e["state"], "REQUEST_COMPLETED");
    assert_eq!(e["cancelable"], false);
    let all = steps(&app, &done).await;
    assert_eq!(e["approvalIds"], json!([all[0].id, all[1].id]));
    assert_eq!(
        phases(&e),
        vec![
            phase("APPROVAL_PHASE", "COMPLETED", json!("SUCCESSFUL")),
            phase("PROVISIONING_PHASE", "COMPLETED", json!("SUCCESSFUL")),
        ]
    );
    let finished = &e["accessRequestPhases"][0]["finished"];
    assert_eq!(finished, &json!(all[1].decided_at.unwrap().to_rfc3339()));
    assert_eq!(&e["accessRequestPhases"][1]["started"], finished);
    assert_millis_date(&e["accessRequestPhases"][1]["finished"]);

    // Rejected at the first step: no provisioning.
    let rejected = rita_asks(&app, &w, "ROLE", &w.strict_role).await;
    reject(&app, &pending(&app, &rejected).await.id, &w.max.token).await;
    let e = entry(&app, &rejected).await;
    assert_eq!(e["state"], "REJECTED");
    assert_eq!(e["cancelable"], false);
    assert_eq!(e["approvalDetails"][0]["status"], "REJECTED");
    assert_eq!(e["approvalDetails"][0]["comment"], "not for you");
    assert_eq!(
        phases(&e),
        vec![phase("APPROVAL_PHASE", "COMPLETED", json!("FAILED"))]
    );

    // Forwarded: `forwarded`, the first and the current owner; the new owner sees it.
    let fwd = rita_asks(&app, &w, "ENTITLEMENT", &w.staff).await;
    let step = pending(&app, &fwd).await;
    let r = app
        .call(
            "POST",
            &format!("/v3/access-request-approvals/{}/forward", step.id),
            Some(&w.olga.token),
            Some(json!({"newOwnerId": w.eve.id, "comment": "you decide"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let e = entry(&app, &fwd).await;
    let d = &e["approvalDetails"][0];
    assert_eq!(d["forwarded"], true);
    assert_eq!(d["scheme"], "SOURCE_OWNER");
    assert_eq!(d["originalOwner"]["id"], w.olga.id.as_str());
    assert_eq!(d["currentOwner"]["id"], w.eve.id.as_str());
    assert!(seen(&app, &w.eve.token, "").await.contains(&fwd));

    // Cancelled by its requester (Treasurer was rejected, so it may be asked for again).
    let cancelled = rita_asks(&app, &w, "ROLE", &w.strict_role).await;
    let r = app
        .call(
            "POST",
            CANCEL[0].1,
            Some(&w.rita.token),
            Some(json!({"accountActivityId": cancelled, "comment": "changed my mind"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let e = entry(&app, &cancelled).await;
    assert_eq!(e["state"], "CANCELLED");
    assert_eq!(e["cancelable"], false);
    assert_eq!(e["cancelledRequestDetails"]["comment"], "changed my mind");
    assert_eq!(
        e["cancelledRequestDetails"]["owner"],
        json!({"type": "IDENTITY", "id": w.rita.id, "name": "rita"})
    );
    assert_eq!(e["cancelledRequestDetails"]["modified"], e["modified"]);
    assert_eq!(e["approvalDetails"][0]["status"], "CANCELLED");
    assert_eq!(
        phases(&e),
        vec![phase("APPROVAL_PHASE", "CANCELLED", Value::Null)]
    );

    // Closed by an admin while waiting for approval: provisioning never started.
    let closed = rita_asks(&app, &w, "ROLE", &w.strict_role).await;
    let r = app
        .admin(
            "POST",
            CLOSE[0].1,
            Some(json!({"accessRequestIds": [closed]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let e = entry(&app, &closed).await;
    assert_eq!(e["state"], "TERMINATED");
    assert_eq!(e["cancelable"], false);
    assert_eq!(
        e["errorMessages"],
        json!([[{"locale": "en-US", "localeOrigin": "DEFAULT", "text": DEFAULT_CLOSE_MESSAGE}]])
    );
    assert_eq!(e["approvalDetails"][0]["status"], "CANCELLED");
    assert_eq!(
        phases(&e),
        vec![phase("APPROVAL_PHASE", "CANCELLED", Value::Null)]
    );
}

#[tokio::test]
async fn a_request_on_a_desk_managed_source_waits_for_its_ticket() {
    let app = desk_app().await;
    let s = setup(&app, Flavor::ServiceNow).await;
    let w = &s.w;
    let id = rita_asks(&app, w, "ENTITLEMENT", &w.staff).await;
    approve(&app, &pending(&app, &id).await.id, &w.olga.token).await;
    assert_eq!(stored_request(&app, &id).await.stage, Stage::Ticket);
    assert_eq!(s.desk.tickets().len(), 1, "the ticket is open at the desk");
    let e = entry(&app, &id).await;
    assert_eq!(e["state"], "EXECUTING");
    assert_eq!(e["cancelable"], false);
    assert_eq!(
        phases(&e),
        vec![
            phase("APPROVAL_PHASE", "COMPLETED", json!("SUCCESSFUL")),
            phase("PROVISIONING_PHASE", "EXECUTING", Value::Null),
        ]
    );
    assert_eq!(
        seen(&app, &app.admin_token.clone(), "request-state=EXECUTING").await,
        vec![id.clone()]
    );
    // Past its approval: not cancellable, but an admin may close it.
    let r = app
        .call(
            "POST",
            CANCEL[0].1,
            Some(&w.rita.token),
            Some(json!({"accountActivityId": id, "comment": "too slow"})),
        )
        .await;
    let text = assert_error(&r, StatusCode::BAD_REQUEST);
    assert!(text.contains("approval step"), "{text}");
    let r = app
        .admin(
            "POST",
            CLOSE[2].1,
            Some(
                json!({"accessRequestIds": [id], "executionStatus": "Completed",
                        "completionStatus": "Success", "message": "Done by hand."}),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let e = entry(&app, &id).await;
    assert_eq!(e["state"], "REQUEST_COMPLETED");
    assert_eq!(e["errorMessages"][0][0]["text"], "Done by hand.");
    assert_eq!(
        phases(&e),
        vec![
            phase("APPROVAL_PHASE", "COMPLETED", json!("SUCCESSFUL")),
            phase("PROVISIONING_PHASE", "COMPLETED", json!("SUCCESSFUL")),
        ]
    );
}

#[tokio::test]
async fn cancelling_one_request_at_each_stage() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    for (family, url, spec) in CANCEL {
        let id = rita_asks(&app, &w, "ROLE", &w.role).await;
        // Eve has nothing to do with it, Max approves it but did not ask: 404 for both.
        for who in [&w.eve.token, &w.max.token] {
            let r = app
                .call(
                    "POST",
                    url,
                    Some(who),
                    Some(json!({"accountActivityId": id, "comment": "no"})),
                )
                .await;
            assert_error(&r, StatusCode::NOT_FOUND);
        }
        assert_eq!(stored_request(&app, &id).await.state, State::Executing);
        let r = app
            .call(
                "POST",
                url,
                Some(&w.rita.token),
                Some(json!({"accountActivityId": id, "comment": "mistake"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{family}: {}", r.text);
        assert_eq!(r.body, json!({}));
        assert_shape(family, "POST", spec, 202, &r.body);
        let stored = stored_request(&app, &id).await;
        assert_eq!(stored.state, State::Cancelled);
        assert_eq!(stored.cancel_comment.as_deref(), Some("mistake"));
        assert!(steps(&app, &id)
            .await
            .iter()
            .all(|p| p.status == ApprovalStatus::Cancelled));
        // Twice: no longer cancellable, and the first cancellation stands.
        let r = app
            .call(
                "POST",
                url,
                Some(&w.rita.token),
                Some(json!({"accountActivityId": id, "comment": "again"})),
            )
            .await;
        assert_error(&r, StatusCode::BAD_REQUEST);
        assert_eq!(
            stored_request(&app, &id).await.cancel_comment.as_deref(),
            Some("mistake")
        );
    }
    // Made by the admin for Rita: Rita may not cancel it (403).
    let for_rita = ask(
        &app,
        &app.admin_identity,
        true,
        &w.rita.id,
        "ROLE",
        &w.group_role,
        None,
        true,
    )
    .await;
    let r = app
        .call(
            "POST",
            CANCEL[1].1,
            Some(&w.rita.token),
            Some(json!({"accountActivityId": for_rita, "comment": "not mine"})),
        )
        .await;
    let text = assert_error(&r, StatusCode::FORBIDDEN);
    assert!(text.contains("requester"), "{text}");
    assert_eq!(
        stored_request(&app, &for_rita).await.state,
        State::Executing
    );
    // An admin may cancel anyone's request, and is then who cancelled it.
    let ritas = rita_asks(&app, &w, "ROLE", &w.strict_role).await;
    let r = app
        .admin(
            "POST",
            CANCEL[2].1,
            Some(json!({"accountActivityId": ritas, "comment": "policy"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let e = entry(&app, &ritas).await;
    assert_eq!(
        e["cancelledRequestDetails"]["owner"]["id"],
        app.admin_identity.as_str()
    );
    // Every step approved and provisioned: too late, nothing changes.
    let clerk = rita_asks(&app, &w, "ROLE", &w.role).await;
    approve(&app, &pending(&app, &clerk).await.id, &w.max.token).await;
    approve(&app, &pending(&app, &clerk).await.id, &w.olga.token).await;
    let before = stored_request(&app, &clerk).await;
    assert_eq!(before.state, State::RequestCompleted);
    let r = app
        .call(
            "POST",
            CANCEL[0].1,
            Some(&w.rita.token),
            Some(json!({"accountActivityId": clerk, "comment": "too late"})),
        )
        .await;
    let text = assert_error(&r, StatusCode::BAD_REQUEST);
    assert!(text.contains("approval step"), "{text}");
    assert_eq!(stored_request(&app, &clerk).await, before);
    // Approved, waiting for its start date: past the approval step too.
    let later = app.state.clock().now().plus_millis(DAY_MS);
    let scheduled = ask(
        &app,
        &w.rita.id,
        false,
        &w.rita.id,
        "ROLE",
        &w.strict_role,
        Some(later),
        true,
    )
    .await;
    approve(&app, &pending(&app, &scheduled).await.id, &w.max.token).await;
    let before = stored_request(&app, &scheduled).await;
    assert_eq!(before.stage, Stage::Scheduled);
    let e = entry(&app, &scheduled).await;
    assert_eq!(e["cancelable"], false);
    assert_eq!(e["startDate"], later.to_rfc3339());
    let r = app
        .admin(
            "POST",
            CANCEL[3].1,
            Some(json!({"accountActivityId": scheduled, "comment": "too late"})),
        )
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST);
    assert_eq!(stored_request(&app, &scheduled).await, before);
    // Unknown ids and bad bodies.
    let r = app
        .admin(
            "POST",
            CANCEL[0].1,
            Some(json!({"accountActivityId": "nope", "comment": "x"})),
        )
        .await;
    assert_error(&r, StatusCode::NOT_FOUND);
    // Rita holds Clerk and has Auditor pending: the entitlement is still free to ask for.
    let open = rita_asks(&app, &w, "ENTITLEMENT", &w.staff).await;
    for bad in [
        json!({"accountActivityId": open}),
        json!({"accountActivityId": open, "comment": "  "}),
        json!({"comment": "why"}),
        json!({"accountActivityId": "", "comment": "why"}),
        json!({"accountActivityId": 7, "comment": "why"}),
        json!([open]),
        json!("cancel"),
    ] {
        let r = app
            .call("POST", CANCEL[0].1, Some(&w.rita.token), Some(bad.clone()))
            .await;
        assert_error(&r, StatusCode::BAD_REQUEST);
    }
    let r = app
        .call("POST", CANCEL[0].1, Some(&w.rita.token), None)
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST);
    assert_eq!(stored_request(&app, &open).await.state, State::Executing);
}

#[tokio::test]
async fn cancelling_in_bulk_is_all_or_nothing() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    // Past its approval step (approved and provisioned).
    let done = rita_asks(&app, &w, "ROLE", &w.strict_role).await;
    approve(&app, &pending(&app, &done).await.id, &w.max.token).await;
    for (family, url, spec) in BULK_CANCEL {
        let a = rita_asks(&app, &w, "ROLE", &w.role).await;
        let b = rita_asks(&app, &w, "ROLE", &w.group_role).await;
        // Not for a USER, even the requester.
        let r = app
            .call(
                "POST",
                url,
                Some(&w.rita.token),
                Some(json!({"accessRequestIds": [a], "comment": "mine"})),
            )
            .await;
        assert_error(&r, StatusCode::FORBIDDEN);
        // An unknown id: a 400 naming it, and nothing is cancelled.
        let r = app
            .admin(
                "POST",
                url,
                Some(json!({"accessRequestIds": [a, "ghost-1", b], "comment": "bulk"})),
            )
            .await;
        let text = assert_error(&r, StatusCode::BAD_REQUEST);
        assert!(text.contains("ghost-1"), "{family}: {text}");
        assert_eq!(stored_request(&app, &a).await.state, State::Executing);
        assert_eq!(stored_request(&app, &b).await.state, State::Executing);
        // A request past its approval step: a 400 naming it, and nothing is cancelled.
        let r = app
            .admin(
                "POST",
                url,
                Some(json!({"accessRequestIds": [a, done, b], "comment": "bulk"})),
            )
            .await;
        let text = assert_error(&r, StatusCode::BAD_REQUEST);
        assert!(text.contains(&done), "{family}: {text}");
        assert_eq!(stored_request(&app, &a).await.state, State::Executing);
        assert_eq!(stored_request(&app, &b).await.state, State::Executing);
        // Every refused id is named at once, whatever its position.
        let r = app
            .admin(
                "POST",
                url,
                Some(json!({"accessRequestIds": ["ghost-2", a, done, b], "comment": "bulk"})),
            )
            .await;
        let text = assert_error(&r, StatusCode::BAD_REQUEST);
        assert!(
            text.contains("ghost-2") && text.contains(&done) && !text.contains(&a),
            "{family}: {text}"
        );
        assert_eq!(stored_request(&app, &a).await.state, State::Executing);
        assert_eq!(stored_request(&app, &b).await.state, State::Executing);
        // Both, a repeated id counting once.
        let r = app
            .admin(
                "POST",
                url,
                Some(json!({"accessRequestIds": [a, b, a], "comment": "reorganised"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{family}: {}", r.text);
        assert_eq!(r.body, json!({}));
        assert_shape(family, "POST", spec, 202, &r.body);
        for id in [&a, &b] {
            let stored = stored_request(&app, id).await;
            assert_eq!(stored.state, State::Cancelled);
            assert_eq!(stored.cancel_comment.as_deref(), Some("reorganised"));
            assert_eq!(
                stored.cancelled_by.as_deref(),
                Some(app.admin_identity.as_str())
            );
        }
        let e = entry(&app, &a).await;
        assert_eq!(e["cancelledRequestDetails"]["comment"], "reorganised");
    }
    let open = rita_asks(&app, &w, "ROLE", &w.role).await;
    let many: Vec<String> = (0..51).map(|i| format!("id-{i}")).collect();
    for bad in [
        json!({"accessRequestIds": [], "comment": "x"}),
        json!({"accessRequestIds": many, "comment": "x"}),
        json!({"accessRequestIds": [open]}),
        json!({"accessRequestIds": [open], "comment": " "}),
        json!({"comment": "x"}),
        json!({"accessRequestIds": open, "comment": "x"}),
        json!({"accessRequestIds": [""], "comment": "x"}),
    ] {
        for (_, url, _) in BULK_CANCEL {
            let r = app.admin("POST", url, Some(bad.clone())).await;
            assert_error(&r, StatusCode::BAD_REQUEST);
        }
    }
    assert_eq!(stored_request(&app, &open).await.state, State::Executing);
}

#[tokio::test]
async fn closing_at_any_stage() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    // Waiting for approval, waiting for its start date, and queued (not processed yet).
    let approving = rita_asks(&app, &w, "ROLE", &w.group_role).await;
    let later = app.state.clock().now().plus_millis(DAY_MS);
    let scheduled = ask(
        &app,
        &w.rita.id,
        false,
        &w.rita.id,
        "ROLE",
        &w.strict_role,
        Some(later),
        true,
    )
    .await;
    approve(&app, &pending(&app, &scheduled).await.id, &w.max.token).await;
    assert_eq!(
        stored_request(&app, &scheduled).await.stage,
        Stage::Scheduled
    );
    let e = entry(&app, &scheduled).await;
    assert_eq!(
        phases(&e),
        vec![
            phase("APPROVAL_PHASE", "COMPLETED", json!("SUCCESSFUL")),
            phase("PROVISIONING_PHASE", "PENDING", Value::Null),
        ]
    );
    let queued = ask(
        &app, &w.rita.id, false, &w.rita.id, "ROLE", &w.role, None, false,
    )
    .await;
    assert_eq!(stored_request(&app, &queued).await.stage, Stage::Queued);
    let (family, url, spec) = CLOSE[0];
    // Not for a USER.
    let r = app
        .call(
            "POST",
            url,
            Some(&w.rita.token),
            Some(json!({"accessRequestIds": [approving]})),
        )
        .await;
    assert_error(&r, StatusCode::FORBIDDEN);
    // An unknown id: a 400 naming it, nothing closed.
    let r = app
        .admin(
            "POST",
            url,
            Some(json!({"accessRequestIds": [queued, "ghost", approving]})),
        )
        .await;
    let text = assert_error(&r, StatusCode::BAD_REQUEST);
    assert!(text.contains("ghost") && !text.contains(&queued), "{text}");
    for id in [&queued, &approving, &scheduled] {
        assert_eq!(stored_request(&app, id).await.state, State::Executing);
    }
    let r = app
        .admin(
            "POST",
            url,
            Some(json!({"accessRequestIds": [queued, approving, scheduled]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{family}: {}", r.text);
    assert_eq!(r.body, json!({}));
    assert_shape(family, "POST", spec, 202, &r.body);
    for id in [&queued, &approving, &scheduled] {
        let stored = stored_request(&app, id).await;
        assert_eq!(stored.state, State::Terminated, "{id}");
        assert_eq!(stored.stage, Stage::Done);
        let e = entry(&app, id).await;
        assert_eq!(e["state"], "TERMINATED");
        assert_eq!(e["errorMessages"][0][0]["text"], DEFAULT_CLOSE_MESSAGE);
    }
    assert!(steps(&app, &approving)
        .await
        .iter()
        .all(|p| p.status == ApprovalStatus::Cancelled));
    // The jobs still queued for them do nothing: no step opens, nothing is granted.
    app.state.virtual_clock().unwrap().advance(2 * DAY_MS);
    app.drain().await;
    for id in [&queued, &scheduled] {
        assert_eq!(stored_request(&app, id).await.state, State::Terminated);
    }
    assert!(steps(&app, &queued).await.is_empty());
    let e = entry(&app, &scheduled).await;
    assert_eq!(
        phases(&e),
        vec![
            phase("APPROVAL_PHASE", "COMPLETED", json!("SUCCESSFUL")),
            phase("PROVISIONING_PHASE", "CANCELLED", Value::Null),
        ]
    );
    let access = app
        .admin(
            "GET",
            &format!("/gatehouse/v1/identities/{}/access", w.rita.id),
            None,
        )
        .await;
    assert_eq!(access.body, json!([]), "{}", access.text);
    // Each execution and completion status, in the other families.
    for ((execution, completion, state), (family, url, spec)) in [
        ("Completed", "Success", "REQUEST_COMPLETED"),
        ("Completed", "Incomplete", "NOT_ALL_ITEMS_PROVISIONED"),
        ("Completed", "Failure", "PROVISIONING_FAILED"),
        ("Terminated", "Success", "TERMINATED"),
    ]
    .into_iter()
    .zip([CLOSE[1], CLOSE[2], CLOSE[1], CLOSE[2]])
    {
        let id = rita_asks(&app, &w, "ROLE", &w.role).await;
        let r = app
            .admin(
                "POST",
                url,
                Some(
                    json!({"accessRequestIds": [id], "executionStatus": execution,
                            "completionStatus": completion, "message": "Tidied up."}),
                ),
            )
            .await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{family}: {}", r.text);
        assert_shape(family, "POST", spec, 202, &r.body);
        let e = entry(&app, &id).await;
        assert_eq!(e["state"], state, "{execution}/{completion}");
        assert_eq!(e["errorMessages"][0][0]["text"], "Tidied up.");
    }
    // Closing a finished request again changes nothing.
    let before = stored_request(&app, &approving).await;
    app.state.virtual_clock().unwrap().advance(1000);
    let r = app
        .admin(
            "POST",
            CLOSE[1].1,
            Some(
                json!({"accessRequestIds": [approving], "executionStatus": "Completed",
                        "completionStatus": "Success", "message": "again"}),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    assert_eq!(stored_request(&app, &approving).await, before);
    // Bad bodies change nothing.
    let open = rita_asks(&app, &w, "ROLE", &w.role).await;
    let many: Vec<String> = (0..501).map(|i| format!("id-{i}")).collect();
    for bad in [
        json!({"accessRequestIds": []}),
        json!({"accessRequestIds": many}),
        json!({}),
        json!({"accessRequestIds": [open], "executionStatus": "TERMINATED"}),
        json!({"accessRequestIds": [open], "executionStatus": "Done"}),
        json!({"accessRequestIds": [open], "completionStatus": "failure"}),
        json!({"accessRequestIds": [open], "message": 5}),
        json!({"accessRequestIds": [[open]]}),
    ] {
        for (_, url, _) in CLOSE {
            let r = app.admin("POST", url, Some(bad.clone())).await;
            assert_error(&r, StatusCode::BAD_REQUEST);
        }
    }
    assert_eq!(stored_request(&app, &open).await.state, State::Executing);
}
