//! DUR-3 (docs/RELIABILITY.md): the real `gatehouse` binary aborts at each crash point of a
//! ticket's life (`GATEHOUSE_FAILPOINT`, see `gatehouse_desk::failpoint`), is started again
//! without it, and converges: exactly one ticket per item at the desk, each stored on its item.
//!
//! The desk is a ServiceNow test desk (OAuth password grant, so a token is fetched; no
//! idempotency of its own, so a second create would be a second ticket). The server runs on the
//! virtual clock, so that the lease of a job held by the crashed process runs out at once when
//! the clock is moved.

mod common;

use gatehouse_desk::failpoint;
use gatehouse_store::{Store, StoreConfig, Synchronous};
use gatehouse_testdesk::{Desk, Flavor};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

const ADMIN_ID: &str = "failpoint-admin";
const ADMIN_SECRET: &str = "failpoint-secret-0123456789abcdef0123456789abcdef";
const MASTER_KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
const ALICE: &str = "a11ce000000000000000000000000001";
const CLUSTER: &str = "c1000000000000000000000000000001";
const SAP: &str = "5a900000000000000000000000000001";
const ITEMS: [&str; 3] = [
    "e0000000000000000000000000000001",
    "e0000000000000000000000000000002",
    "e0000000000000000000000000000003",
];

/// A tenant with one requester, a desk-managed source and three entitlements that need no
/// approval (so each request item goes straight to its ticket).
fn tenant_file(dir: &Path) -> PathBuf {
    let entitlements: Vec<Value> = ITEMS
        .iter()
        .enumerate()
        .map(|(n, id)| {
            json!({"id": id, "source": "SAP", "attribute": "role", "value": format!("Z_ROLE_{n}"),
                   "accessRequestConfig": {"approvalSchemes": []}})
        })
        .collect();
    let doc = json!({
        "gatehouse": "tenant/1",
        "identities": [{"id": ALICE, "name": "alice", "email": "alice@example.com"}],
        "clusters": [{"id": CLUSTER, "name": "Cluster"}],
        "sources": [{"id": SAP, "name": "SAP", "owner": "alice", "cluster": "Cluster",
                     "connector": "delimited-file", "serviceDeskManaged": true}],
        "entitlements": entitlements,
        "accounts": [{"source": "SAP", "nativeIdentity": "alice", "identity": "alice"}],
    });
    let path = dir.join("tenant.json");
    std::fs::write(&path, doc.to_string()).unwrap();
    path
}

struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(data: &Path, point: Option<&str>) -> Server {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_gatehouse"));
        cmd.args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--rate-limit",
            "off",
            "--no-demo",
            "--clock",
            "virtual",
            "--allow-private-network",
            "--data-dir",
        ])
        .arg(data)
        .env_remove("GATEHOUSE_DATABASE_URL")
        .env_remove(failpoint::ENV)
        .env("GATEHOUSE_ADMIN_CLIENT_ID", ADMIN_ID)
        .env("GATEHOUSE_ADMIN_CLIENT_SECRET", ADMIN_SECRET)
        .env("GATEHOUSE_MASTER_KEY", MASTER_KEY)
        .env("GATEHOUSE_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
        if let Some(p) = point {
            cmd.env(failpoint::ENV, p);
        }
        let mut child = cmd.spawn().expect("the binary starts");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let base = loop {
            match lines.next() {
                Some(Ok(line)) => {
                    if let Some(rest) = line.split("at http://").nth(1) {
                        break format!("http://{}", rest.trim());
                    }
                }
                _ => {
                    let _ = child.kill();
                    panic!("serve did not print its address");
                }
            }
        };
        // Keep reading stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Server { child, base }
    }

    /// Waits for the process to end by itself.
    async fn exited(&mut self, within: Duration) -> ExitStatus {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            if started.elapsed() > within {
                let _ = self.child.kill();
                panic!("the server did not crash within {within:?}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    async fn new(server: &Server) -> Api {
        let http = reqwest::Client::new();
        let token = common::client_token(&http, &server.base, ADMIN_ID, ADMIN_SECRET).await;
        Api {
            http,
            base: server.base.clone(),
            token,
        }
    }

    async fn send(&self, method: &str, path: &str, body: Value) -> (u16, Value) {
        let r = self
            .http
            .request(method.parse().unwrap(), format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// Moves the server's virtual clock forward.
    async fn advance(&self, iso: &str) {
        let (s, b) = self
            .send("POST", "/gatehouse/v1/clock", json!({"advance": iso}))
            .await;
        assert_eq!(s, 200, "{b}");
    }
}

/// The ticket rows: request item → (phase, status, desk id).
async fn rows(store: &Store) -> BTreeMap<String, (String, String, Option<String>)> {
    store
        .read(|c| {
            let rows = c.query(
                "select r.item_id, t.phase, t.status, t.desk_id from service_desk_ticket t \
                 join access_request r on r.id = t.request_id",
                &[],
            )?;
            rows.iter()
                .map(|r| Ok((r.text(0)?, (r.text(1)?, r.text(2)?, r.opt_text(3)?))))
                .collect()
        })
        .await
        .unwrap()
}

/// Polls until `done` holds of the ticket rows, at most `within`.
async fn until(
    store: &Store,
    within: Duration,
    what: &str,
    done: impl Fn(&BTreeMap<String, (String, String, Option<String>)>) -> bool,
) {
    let started = Instant::now();
    loop {
        let now = rows(store).await;
        if done(&now) {
            return;
        }
        assert!(started.elapsed() < within, "{what}: still {now:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// One crash at `point`, a restart, and the check that every item has exactly one ticket.
async fn crash_and_converge(point: &'static str) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(["import", "--data-dir"])
        .arg(&data)
        .arg(tenant_file(dir.path()))
        .env_remove("GATEHOUSE_DATABASE_URL")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let desk = Desk::start(Flavor::ServiceNow).await;
    let creds = desk.credentials();

    let mut server = Server::start(&data, Some(point));
    let api = Api::new(&server).await;
    let store = Store::open(
        StoreConfig::Sqlite {
            path: data.join("gatehouse.db"),
            synchronous: Synchronous::Full,
        },
        0,
    )
    .await
    .unwrap();
    let (s, b) = api
        .send(
            "PUT",
            "/v3/service-desk-integrations/status-check-configuration",
            json!({"provisioningStatusCheckIntervalMinutes": "30", "provisioningMaxStatusCheckDays": "2"}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let (s, b) = api
        .send(
            "POST",
            "/v3/service-desk-integrations",
            json!({
                "name": "SAP desk", "description": "Tickets for SAP", "type": "ServiceNowSDIM",
                "ownerRef": {"type": "IDENTITY", "id": ALICE},
                "clusterRef": {"type": "CLUSTER", "id": CLUSTER},
                "provisioningConfig": {"managedResourceRefs": [{"type": "SOURCE", "id": SAP}]},
                "attributes": {
                    "url": desk.url(), "authType": "oauth2_password", "username": creds.username,
                    "password": creds.password, "clientId": creds.client_id,
                    "clientSecret": creds.client_secret, "ticketType": "incident"
                }
            }),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let items: Vec<Value> = ITEMS
        .iter()
        .map(|id| json!({"type": "ENTITLEMENT", "id": id}))
        .collect();
    let (s, b) = api
        .send(
            "POST",
            "/v3/access-requests",
            json!({"requestedFor": [ALICE], "requestedItems": items}),
        )
        .await;
    assert_eq!(s, 202, "{b}");

    if point == failpoint::STATUS_READ {
        // The tickets open without a crash; the first status check (30 minutes on) crashes.
        until(&store, Duration::from_secs(30), "tickets open", |r| {
            r.len() == ITEMS.len() && r.values().all(|(phase, ..)| phase == "OPEN")
        })
        .await;
        api.advance("PT31M").await;
    }
    let status = server.exited(Duration::from_secs(30)).await;
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(
            status.signal(),
            Some(6),
            "{point}: the server ended by SIGABRT ({status})"
        );
    }
    #[cfg(not(unix))]
    assert!(!status.success(), "{point}: {status}");
    let before = desk.tickets().len();

    // Started again without the failpoint; the clock moves past every lease and check.
    let server = Server::start(&data, None);
    let api = Api::new(&server).await;
    if point == failpoint::STATUS_READ {
        assert_eq!(before, ITEMS.len(), "{point}: the tickets were open");
        for t in desk.tickets() {
            desk.set_status(&t.id, "6");
        }
    }
    api.advance("PT2H").await;
    let want = if point == failpoint::STATUS_READ {
        "DONE"
    } else {
        "OPEN"
    };
    until(&store, Duration::from_secs(60), point, |r| {
        r.len() == ITEMS.len() && r.values().all(|(phase, ..)| phase == want)
    })
    .await;
    server.stop();

    let tickets = desk.tickets();
    let mut per_item: BTreeMap<String, usize> = BTreeMap::new();
    for t in &tickets {
        *per_item
            .entry(t.correlation_id.clone().unwrap_or_default())
            .or_default() += 1;
    }
    assert_eq!(
        tickets.len(),
        ITEMS.len(),
        "{point}: exactly one ticket per item at the desk ({} before the restart): {per_item:?}",
        before
    );
    assert!(per_item.values().all(|n| *n == 1), "{point}: {per_item:?}");
    let stored = rows(&store).await;
    for t in &tickets {
        assert!(
            stored
                .values()
                .any(|(_, _, desk_id)| desk_id.as_deref() == Some(t.id.as_str())),
            "{point}: desk ticket {} is stored on its item: {stored:?}",
            t.id
        );
    }
    if point == failpoint::STATUS_READ {
        assert!(
            stored.values().all(|(_, status, _)| status == "Committed"),
            "{stored:?}"
        );
    }
}

/// One crash per point in CI; `GATEHOUSE_FAILPOINT_ROUNDS=100` (`reliability/dur3.sh`) makes it
/// the catalogue's 100 crashes per point.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_at_each_point_of_a_ticket_converges_to_one_ticket_per_item() {
    let rounds: usize = std::env::var("GATEHOUSE_FAILPOINT_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let started = Instant::now();
    for point in failpoint::ALL {
        for round in 1..=rounds {
            eprintln!("failpoint {point} round {round}");
            crash_and_converge(point).await;
        }
    }
    println!(
        "DUR-3 RESULT {}",
        json!({"test": "DUR-3", "points": failpoint::ALL.len(), "rounds_per_point": rounds,
               "converged": failpoint::ALL.len() * rounds, "items_per_round": ITEMS.len(),
               "duplicate_tickets": 0, "seconds": started.elapsed().as_secs_f64()})
    );
}
