//! What the binary's process-level tests share: the token request, and for the long runs
//! (`reliability/`) a tenant file, starting the `gatehouse` binary, one submission, the drain
//! that moves the virtual clock until every accepted request has its ticket, the oracle that
//! compares them with the rows and the desk, the PostgreSQL database of a run, and a TCP proxy
//! that can cut a database off.
#![allow(dead_code)]

pub mod load;
pub mod proxy;

use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The token endpoint's answer to a client-credentials request for `id` / `secret`.
pub async fn token_response(
    http: &reqwest::Client,
    base: &str,
    id: &str,
    secret: &str,
) -> reqwest::Response {
    http.post(format!("{base}/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", secret),
        ])
        .send()
        .await
        .unwrap()
}

/// A client-credentials token from the server at `base`.
pub async fn client_token(http: &reqwest::Client, base: &str, id: &str, secret: &str) -> String {
    let r: Value = token_response(http, base, id, secret)
        .await
        .json()
        .await
        .unwrap();
    r["access_token"].as_str().expect("a token").to_owned()
}

/// The admin client of the long runs.
pub const ADMIN_ID: &str = "longrun-admin";
/// Its secret.
pub const ADMIN_SECRET: &str = "longrun-secret-0123456789abcdef0123456789abcdef";
/// The master key of the long runs.
pub const MASTER_KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
/// The cluster of the long runs' source.
pub const CLUSTER: &str = "c1000000000000000000000000000001";
/// The desk-managed source of the long runs.
pub const SAP: &str = "5a900000000000000000000000000001";

/// The median of `v` (sorted in place); the mean of the middle two for an even count.
pub fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len().is_multiple_of(2) {
        (v[m - 1] + v[m]) / 2.0
    } else {
        v[m]
    }
}

/// Environment variable `name` as a number, else `default`.
pub fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The id of requester `n`.
pub fn identity(n: usize) -> String {
    format!("{n:032x}")
}

/// The id of entitlement `n`.
pub fn entitlement(n: usize) -> String {
    format!("e{n:031x}")
}

/// A tenant file of `people` requesters and `items` entitlements on a desk-managed source that
/// need no approval, written into `dir`.
pub fn write_tenant(dir: &Path, people: usize, items: usize) -> PathBuf {
    let identities: Vec<Value> = (0..people)
        .map(|n| json!({"id": identity(n), "name": format!("person{n}")}))
        .collect();
    let entitlements: Vec<Value> = (0..items)
        .map(|n| {
            json!({"id": entitlement(n), "source": "SAP", "attribute": "role",
                   "value": format!("Z_ROLE_{n}"), "accessRequestConfig": {"approvalSchemes": []}})
        })
        .collect();
    let doc = json!({
        "gatehouse": "tenant/1",
        "identities": identities,
        "clusters": [{"id": CLUSTER, "name": "Cluster"}],
        "sources": [{"id": SAP, "name": "SAP", "owner": "person0", "cluster": "Cluster",
                     "connector": "delimited-file", "serviceDeskManaged": true}],
        "entitlements": entitlements,
    });
    let path = dir.join("tenant.json");
    std::fs::write(&path, doc.to_string()).unwrap();
    path
}

/// Imports the tenant of [`write_tenant`] into the store of `data` (SQLite) or `database_url`.
pub fn import_tenant(
    dir: &Path,
    data: &Path,
    database_url: Option<&str>,
    people: usize,
    items: usize,
) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gatehouse"));
    cmd.args(["import", "--data-dir"])
        .arg(data)
        .arg(write_tenant(dir, people, items))
        .env_remove("GATEHOUSE_DATABASE_URL");
    if let Some(url) = database_url {
        cmd.env("GATEHOUSE_DATABASE_URL", url);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// How to start the binary.
#[derive(Clone, Debug)]
pub struct Launch {
    /// Its data directory.
    pub data: PathBuf,
    /// `host:port` to listen on.
    pub listen: String,
    /// More arguments of `gatehouse serve`.
    pub args: Vec<String>,
    /// PostgreSQL instead of SQLite.
    pub database_url: Option<String>,
    /// `GATEHOUSE_LOG`.
    pub log_filter: String,
    /// Where its log (stderr) is appended; none: discarded.
    pub log_file: Option<PathBuf>,
}

impl Launch {
    /// SQLite in `data`, on `listen`, with the virtual clock, no rate limit and no demo tenant.
    pub fn new(data: &Path, listen: &str) -> Self {
        Self {
            data: data.to_owned(),
            listen: listen.to_owned(),
            args: Vec::new(),
            database_url: None,
            log_filter: "error".into(),
            log_file: None,
        }
    }

    /// Starts the server and waits until it serves; `None` when it ended first (e.g. the port was
    /// still held).
    pub fn start(&self) -> Option<Child> {
        let stderr = match &self.log_file {
            Some(path) => Stdio::from(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .unwrap(),
            ),
            None => Stdio::null(),
        };
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_gatehouse"));
        cmd.args([
            "serve",
            "--listen",
            &self.listen,
            "--rate-limit",
            "off",
            "--no-demo",
            "--clock",
            "virtual",
            "--allow-private-network",
        ])
        .args(&self.args)
        .arg("--data-dir")
        .arg(&self.data)
        .env_remove("GATEHOUSE_DATABASE_URL")
        .env("GATEHOUSE_ADMIN_CLIENT_ID", ADMIN_ID)
        .env("GATEHOUSE_ADMIN_CLIENT_SECRET", ADMIN_SECRET)
        .env("GATEHOUSE_MASTER_KEY", MASTER_KEY)
        .env("GATEHOUSE_LOG", &self.log_filter)
        .stdout(Stdio::piped())
        .stderr(stderr);
        if let Some(url) = &self.database_url {
            cmd.env("GATEHOUSE_DATABASE_URL", url);
        }
        let mut child = cmd.spawn().expect("the binary starts");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        loop {
            match lines.next() {
                Some(Ok(line)) if line.contains("at http://") => break,
                Some(Ok(_)) => {}
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return None;
                }
            }
        }
        std::thread::spawn(move || for _ in lines {});
        Some(child)
    }

    /// Starts the server, trying again while the port is not free yet.
    pub fn start_until_up(&self) -> Child {
        loop {
            if let Some(child) = self.start() {
                return child;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// A free port on 127.0.0.1, as `127.0.0.1:port`.
pub fn free_listen_address() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("127.0.0.1:{port}")
}

/// Creates the ServiceNow integration of the long runs, managing [`SAP`], against `desk`; returns
/// its id.
pub async fn add_desk(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    desk: &gatehouse_testdesk::Desk,
) -> String {
    add_desk_for(http, base, token, desk, "SAP desk", SAP).await
}

/// Creates a ServiceNow integration named `name`, managing source `source`, against `desk`
/// (OAuth 2.0 password grant with the desk's credentials); returns its id.
pub async fn add_desk_for(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    desk: &gatehouse_testdesk::Desk,
    name: &str,
    source: &str,
) -> String {
    let creds = desk.credentials();
    let r = http
        .post(format!("{base}/v3/service-desk-integrations"))
        .bearer_auth(token)
        .json(&json!({
            "name": name, "description": "long run", "type": "ServiceNowSDIM",
            "ownerRef": {"type": "IDENTITY", "id": identity(0)},
            "clusterRef": {"type": "CLUSTER", "id": CLUSTER},
            "provisioningConfig": {"managedResourceRefs": [{"type": "SOURCE", "id": source}]},
            "attributes": {"url": desk.url(), "authType": "oauth2_password",
                "username": creds.username, "password": creds.password,
                "clientId": creds.client_id, "clientSecret": creds.client_secret}
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
    let v: Value = r.json().await.unwrap();
    v["id"].as_str().expect("the integration's id").to_owned()
}

/// Sets the tenant's ticket status checks to once a day (the longest SailPoint allows): a run
/// whose drain moves the virtual clock two minutes a second would otherwise check every open
/// ticket every 15 s, and on a slow build those checks crowd out the tickets still to open.
pub async fn daily_status_checks(http: &reqwest::Client, base: &str, token: &str) {
    let r = http
        .put(format!(
            "{base}/v3/service-desk-integrations/status-check-configuration"
        ))
        .bearer_auth(token)
        .json(&json!({"provisioningStatusCheckIntervalMinutes": "1440",
                      "provisioningMaxStatusCheckDays": "90"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
}

/// What one submission of request `n` got.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// 202 with the access request's id.
    Accepted(String),
    /// Another status, with its `Retry-After` header and its body's `detailCode` (the
    /// ErrorResponseDto's) if any.
    Status(u16, Option<String>, Option<String>),
    /// No connection (refused): nothing was sent.
    Refused,
    /// Sent, but no answer came (reset, closed, timed out).
    Unanswered,
}

/// The idempotency key of request `n` of a run named `run`.
pub fn key(run: &str, n: usize) -> String {
    format!("{run}-{n}")
}

/// Submits request `n` (requester `n / items`, entitlement `n % items`) once, with key
/// [`key`]`(run, n)`. A 400, 401, 403, 404 or 422 is a bug of the run and panics.
pub async fn submit(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    run: &str,
    n: usize,
    items: usize,
) -> Answer {
    let key = key(run, n);
    let body = json!({"requestedFor": [identity(n / items)],
                      "requestedItems": [{"type": "ENTITLEMENT", "id": entitlement(n % items)}]});
    let sent = http
        .post(format!("{base}/v3/access-requests"))
        .bearer_auth(token)
        .header("idempotency-key", &key)
        .json(&body)
        .send()
        .await;
    let res = match sent {
        Ok(res) => res,
        Err(e) if e.is_connect() => return Answer::Refused,
        Err(_) => return Answer::Unanswered,
    };
    let status = res.status().as_u16();
    if matches!(status, 400 | 401 | 403 | 404 | 422) {
        panic!("{key}: {status} {}", res.text().await.unwrap_or_default());
    }
    if status != 202 {
        let after = res
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let detail = res
            .json::<Value>()
            .await
            .ok()
            .and_then(|v| v["detailCode"].as_str().map(str::to_owned));
        return Answer::Status(status, after, detail);
    }
    match res.json::<Value>().await {
        Ok(v) => Answer::Accepted(
            v["newRequests"][0]["accessRequestIds"][0]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        ),
        Err(_) => Answer::Unanswered,
    }
}

/// The PostgreSQL server of the long runs: `GATEHOUSE_TEST_PG_URL`, default
/// `postgres://postgres@127.0.0.1:5432/postgres`.
pub fn pg_admin_url() -> String {
    std::env::var("GATEHOUSE_TEST_PG_URL")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// Runs `sql` (one statement) on the server at `url` with the `postgres` crate, on a thread of
/// its own (its blocking client cannot run inside the test's runtime); panics when it fails.
pub fn pg_execute(url: &str, sql: &str) {
    let (url, sql) = (url.to_owned(), sql.to_owned());
    std::thread::spawn(move || {
        let mut client = postgres::Client::connect(&url, postgres::NoTls)
            .unwrap_or_else(|e| panic!("PostgreSQL at {url} answers: {e}"));
        client
            .batch_execute(&sql)
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    })
    .join()
    .unwrap();
}

/// The drain after a long run's load: every second, moves the virtual clock of each server in
/// `bases` by `step` (an ISO 8601 duration), until the desk holds a ticket for each request in
/// `accepted` (by correlation id `gatehouse-<id>`) or `limit` has passed. Returns how long it took.
pub async fn drain_until_ticketed<'a>(
    http: &reqwest::Client,
    bases: &[String],
    token: &str,
    step: &str,
    desk: &gatehouse_testdesk::Desk,
    accepted: impl IntoIterator<Item = &'a String>,
    limit: Duration,
) -> Duration {
    let wanted: Vec<String> = accepted
        .into_iter()
        .map(|id| format!("gatehouse-{id}"))
        .collect();
    let started = std::time::Instant::now();
    while started.elapsed() < limit {
        for base in bases {
            let _ = http
                .post(format!("{base}/gatehouse/v1/clock"))
                .bearer_auth(token)
                .json(&json!({"advance": step}))
                .send()
                .await;
        }
        let have: BTreeSet<String> = desk
            .tickets()
            .into_iter()
            .filter_map(|t| t.correlation_id)
            .collect();
        if wanted.iter().all(|c| have.contains(c)) {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    started.elapsed()
}

/// The ids of every access request in `store`.
pub async fn access_request_ids(store: &gatehouse_store::Store) -> BTreeSet<String> {
    store
        .read(|c| {
            c.query("select id from access_request", &[])?
                .iter()
                .map(|r| r.text(0))
                .collect()
        })
        .await
        .unwrap()
}

/// The oracle the long runs share: each accepted request (by its access request id) against the
/// stored rows and the desk's tickets.
#[derive(Clone, Debug)]
pub struct Tickets {
    /// Stored access requests.
    pub rows: usize,
    /// Tickets at the desk.
    pub desk_tickets: usize,
    /// Accepted (202) requests without a row.
    pub lost: usize,
    /// Accepted requests without a ticket.
    pub missing: usize,
    /// Tickets beyond the first of a correlation id.
    pub duplicates: usize,
    /// How long the drain took.
    pub drained_in: Duration,
}

impl Tickets {
    /// Compares `accepted` with the `rows` stored and `desk`'s tickets.
    pub fn check<'a>(
        desk: &gatehouse_testdesk::Desk,
        rows: &BTreeSet<String>,
        accepted: impl IntoIterator<Item = &'a String>,
        drained_in: Duration,
    ) -> Self {
        let mut per_correlation: BTreeMap<String, usize> = BTreeMap::new();
        for t in desk.tickets() {
            *per_correlation
                .entry(t.correlation_id.unwrap_or_default())
                .or_default() += 1;
        }
        let (mut lost, mut missing) = (0, 0);
        for id in accepted {
            if !rows.contains(id) {
                lost += 1;
            }
            if !per_correlation.contains_key(&format!("gatehouse-{id}")) {
                missing += 1;
            }
        }
        Self {
            rows: rows.len(),
            desk_tickets: per_correlation.values().sum(),
            lost,
            missing,
            duplicates: per_correlation.values().map(|n| n.saturating_sub(1)).sum(),
            drained_in,
        }
    }

    /// Adds the oracle's figures to the run's `summary` (a JSON object).
    pub fn add_to(&self, summary: &mut Value) {
        let fields = json!({
            "rows": self.rows, "desk_tickets": self.desk_tickets, "lost_202": self.lost,
            "missing_tickets": self.missing, "duplicate_tickets": self.duplicates,
            "drained_in_seconds": self.drained_in.as_secs_f64(),
        });
        let (Value::Object(s), Value::Object(f)) = (summary, fields) else {
            panic!("a summary is a JSON object");
        };
        s.extend(f);
    }

    /// 0 lost 202s, 0 missing tickets, 0 duplicate tickets.
    pub fn assert_converged(&self) {
        assert_eq!(self.lost, 0, "lost 202s");
        assert_eq!(self.missing, 0, "missing tickets");
        assert_eq!(self.duplicates, 0, "duplicate tickets");
    }
}

/// Prints the run's summary as the line `reliability/run-ignored.sh` appends to
/// `reliability/results.txt`: `<id> RESULT <json>`.
pub fn print_result(id: &str, summary: &Value) {
    println!("{id} RESULT {summary}");
}
