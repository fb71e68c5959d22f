//! Benchmark P4: access requests end to end through a service desk.
//!
//! Starts a test ServiceNow desk (`gatehouse-testdesk`) on 127.0.0.1, imports a tenant into a
//! fresh data directory (or an empty PostgreSQL database) with `gatehouse import`, starts the
//! release `gatehouse` binary as a separate process, and sets up through the HTTP API a
//! ServiceNow integration managing the tenant's desk source, with a WEBHOOK inbound token. Then,
//! timed: submits N access requests (`POST /v3/access-requests`, one person and one entitlement
//! each, concurrently), approves every work item (`POST /v3/work-items/{id}/approve/{item}`),
//! watches the tickets Gatehouse opens at the desk, resolves each at the desk (state 6) and
//! delivers the desk's webhook with the WEBHOOK token, and sweeps `GET /v3/access-request-status`
//! until every request is REQUEST_COMPLETED. Nothing waits for the status checks Gatehouse
//! schedules (their interval is 30 minutes): the webhooks close the tickets.
//!
//! By default the phases overlap, as they would with people at work: the approver takes work
//! items as they appear and the desk closes tickets as they are opened. `--phased` runs each
//! phase to the end before the next starts, to see what each one costs alone.

use anyhow::{anyhow, bail, Context, Result};
use clap::Parser;
use gatehouse_testdesk::{Desk, Flavor, Ticket};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::future::Future;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

const ADMIN_ID: &str = "bench-admin";
const ADMIN_SECRET: &str = "bench-admin-secret-0123456789";
const SOURCE: &str = "Desk HR";
const APPROVER: &str = "p4-approver";
/// ServiceNow's "Resolved": Committed under the integration's default status map.
const RESOLVED: &str = "6";

#[derive(Parser, Debug)]
#[command(
    name = "gatehouse-bench-e2e",
    about = "P4: N access requests submitted, approved, ticketed at a test ServiceNow desk, closed by webhook and completed"
)]
struct Args {
    /// The gatehouse binary to drive (a release build).
    #[arg(long, default_value = "target/release/gatehouse")]
    gatehouse: PathBuf,
    /// Access requests to carry end to end.
    #[arg(long, short = 'n', default_value_t = 10_000)]
    requests: usize,
    /// People receiving access; the requests are spread over people × entitlements.
    #[arg(long, default_value_t = 100)]
    people: usize,
    /// Concurrent HTTP calls per phase.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Give up after this many seconds of the timed part.
    #[arg(long, default_value_t = 300)]
    timeout: u64,
    /// The target for the timed part, in seconds (reported, not enforced).
    #[arg(long, default_value_t = 60.0)]
    target: f64,
    /// PostgreSQL URL of an empty database; default SQLite in a fresh temporary directory.
    #[arg(long)]
    database_url: Option<String>,
    /// Run the phases one after the other, each finished for every request before the next.
    #[arg(long)]
    phased: bool,
    /// Let the desk deliver the webhooks itself (its facility posts one at a time, in order)
    /// instead of the bench posting the same payloads concurrently.
    #[arg(long)]
    desk_webhooks: bool,
    /// Append the results as one JSON line to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// The store's name in the output (e.g. sqlite, postgres).
    #[arg(long)]
    label: Option<String>,
}

/// When a phase did its first and its last piece of work, since the timed part began.
#[derive(Clone, Copy, Debug, Default)]
struct Span {
    start: Duration,
    end: Duration,
}

/// How far each phase got, for the message when the run gives up.
#[derive(Default)]
struct Progress {
    submitted: AtomicUsize,
    approved: AtomicUsize,
    tickets: AtomicUsize,
    closed: AtomicUsize,
    completed: AtomicUsize,
}

/// What every phase needs.
struct Ctx {
    http: reqwest::Client,
    base: String,
    token: String,
    n: usize,
    concurrency: usize,
    people: Vec<String>,
    entitlements: Vec<String>,
    approver: String,
    webhook_url: String,
    webhook_token: String,
    desk: Desk,
    desk_webhooks: bool,
    t0: Instant,
    progress: Progress,
}

/// The gatehouse process; killed when dropped.
struct Server {
    child: Child,
    log: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

/// An id as `gatehouse import` derives it for an object without one (docs/IMPORT-FORMAT.md):
/// the first 32 hex digits of SHA-256 over the kind's tag and its key, joined by U+001F.
fn derived_id(parts: &[&str]) -> String {
    let digest = Sha256::digest(parts.join("\u{1f}").as_bytes());
    digest
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>()[..32]
        .to_owned()
}

fn person(i: usize) -> String {
    format!("p4-person-{i:05}")
}

fn group(i: usize) -> String {
    format!("p4-group-{i:05}")
}

/// The tenant file: an approver owning a desk-managed source, `people` people and
/// `entitlements` entitlements on that source.
fn tenant_file(people: usize, entitlements: usize) -> Value {
    let mut identities = vec![json!({
        "name": APPROVER, "displayName": "P4 Approver", "email": "p4-approver@example.com"
    })];
    identities.extend((0..people).map(|i| {
        json!({"name": person(i), "displayName": format!("P4 Person {i}"),
               "email": format!("{}@example.com", person(i))})
    }));
    let ents: Vec<Value> = (0..entitlements)
        .map(|i| json!({"source": SOURCE, "attribute": "group", "value": group(i), "name": format!("P4 group {i}")}))
        .collect();
    json!({
        "gatehouse": "tenant/1",
        "identities": identities,
        "sources": [{"name": SOURCE, "owner": APPROVER, "connector": "delimited-file",
                     "serviceDeskManaged": true}],
        "entitlements": ents,
    })
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

fn store_args(dir: &Path, database_url: Option<&str>) -> Vec<String> {
    let mut a = vec!["--data-dir".to_owned(), dir.display().to_string()];
    if let Some(url) = database_url {
        a.extend(["--database-url".to_owned(), url.to_owned()]);
    }
    a
}

/// Sends one call; answers (status, JSON body or the text as a JSON string).
async fn call(
    ctx_http: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    bearer: &str,
    body: Option<&Value>,
) -> Result<(u16, Value)> {
    let mut req = ctx_http.request(method.clone(), url).bearer_auth(bearer);
    if let Some(b) = body {
        req = req.json(b);
    }
    let res = req
        .send()
        .await
        .with_context(|| format!("{method} {url}"))?;
    let status = res.status().as_u16();
    let text = res
        .text()
        .await
        .with_context(|| format!("{method} {url}"))?;
    let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Ok((status, value))
}

/// `call`, failing unless the answer has status `want`.
async fn expect(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    bearer: &str,
    body: Option<&Value>,
    want: u16,
) -> Result<Value> {
    let (status, value) = call(http, method.clone(), url, bearer, body).await?;
    if status != want {
        bail!("{method} {url}: {status} (wanted {want}): {value}");
    }
    Ok(value)
}

/// Runs `f` on every item, at most `concurrency` at once; the first error ends it.
async fn each<T, F, Fut>(items: Vec<T>, concurrency: usize, f: F) -> Result<()>
where
    T: Send + 'static,
    F: Fn(T) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<()>> + Send + 'static,
{
    let f = Arc::new(f);
    let permits = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut set = JoinSet::new();
    for item in items {
        let permit = permits.clone().acquire_owned().await?;
        let f = f.clone();
        set.spawn(async move {
            let r = f(item).await;
            drop(permit);
            r
        });
        while let Some(done) = set.try_join_next() {
            done??;
        }
    }
    while let Some(done) = set.join_next().await {
        done??;
    }
    Ok(())
}

impl Ctx {
    fn now(&self) -> Duration {
        self.t0.elapsed()
    }
}

/// Phase 1: every request submitted and answered 202 with one new request.
async fn submit(ctx: Arc<Ctx>) -> Result<Span> {
    let start = ctx.now();
    let c = ctx.clone();
    each((0..ctx.n).collect(), ctx.concurrency, move |i| {
        let ctx = c.clone();
        async move {
            let who = &ctx.people[i % ctx.people.len()];
            let what = &ctx.entitlements[i / ctx.people.len()];
            let body = json!({"requestedFor": [who], "requestType": "GRANT_ACCESS",
                              "requestedItems": [{"type": "ENTITLEMENT", "id": what}]});
            let answer = expect(
                &ctx.http,
                reqwest::Method::POST,
                &format!("{}/v3/access-requests", ctx.base),
                &ctx.token,
                Some(&body),
                202,
            )
            .await?;
            let new = answer["newRequests"].as_array().map_or(0, Vec::len);
            if new != 1 {
                bail!("request {i} ({who}, {what}) was not taken as new: {answer}");
            }
            ctx.progress.submitted.fetch_add(1, Ordering::Relaxed);
            Ok(())
        }
    })
    .await?;
    Ok(Span {
        start,
        end: ctx.now(),
    })
}

/// Phase 2: the approver's pending work items, a page at a time, each approved through the
/// work-item API (by the admin token: an ORG_ADMIN may act on anyone's work item).
async fn approve(ctx: Arc<Ctx>) -> Result<Span> {
    let mut seen = HashSet::new();
    let mut start = None;
    let list = format!(
        "{}/v3/work-items?ownerId={}&limit=250",
        ctx.base, ctx.approver
    );
    while seen.len() < ctx.n {
        let page = expect(
            &ctx.http,
            reqwest::Method::GET,
            &list,
            &ctx.token,
            None,
            200,
        )
        .await?;
        let fresh: Vec<(String, String)> = page
            .as_array()
            .ok_or_else(|| anyhow!("work items: not a list: {page}"))?
            .iter()
            .filter_map(|w| {
                Some((
                    w["id"].as_str()?.to_owned(),
                    w["approvalItems"][0]["id"].as_str()?.to_owned(),
                ))
            })
            .filter(|(id, _)| !seen.contains(id))
            .collect();
        if fresh.is_empty() {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        }
        start.get_or_insert(ctx.now());
        seen.extend(fresh.iter().map(|(id, _)| id.clone()));
        let c = ctx.clone();
        each(fresh, ctx.concurrency, move |(id, item)| {
            let ctx = c.clone();
            async move {
                expect(
                    &ctx.http,
                    reqwest::Method::POST,
                    &format!("{}/v3/work-items/{id}/approve/{item}", ctx.base),
                    &ctx.token,
                    None,
                    200,
                )
                .await?;
                ctx.progress.approved.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
        })
        .await?;
    }
    Ok(Span {
        start: start.unwrap_or_default(),
        end: ctx.now(),
    })
}

/// The ServiceNow desk's webhook payload for a ticket now in `state`.
fn payload(t: &Ticket, state: &str) -> Value {
    json!({"sys_id": t.id, "number": t.number, "state": state,
           "correlation_id": t.correlation_id.clone().unwrap_or_default()})
}

/// Phases 3 and 4: tickets as they appear at the desk, each resolved there and its webhook
/// delivered with the WEBHOOK token. Answers (tickets opened, tickets closed).
async fn close(ctx: Arc<Ctx>) -> Result<(Span, Span)> {
    let mut closed = 0;
    let (mut opened, mut closing) = (Span::default(), None);
    while closed < ctx.n {
        // Tickets are kept in creation order: only the new ones are copied out of the desk.
        let fresh = ctx.desk.tickets_after(closed);
        let held = closed + fresh.len();
        if held > ctx.n {
            bail!("the desk holds {held} tickets for {} requests", ctx.n);
        }
        if opened.start.is_zero() && held > 0 {
            opened.start = ctx.now();
        }
        ctx.progress.tickets.store(held, Ordering::Relaxed);
        if held == ctx.n && opened.end.is_zero() {
            opened.end = ctx.now();
        }
        if fresh.is_empty() {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        }
        closing.get_or_insert(ctx.now());
        for t in &fresh {
            ctx.desk.set_status(&t.id, RESOLVED);
        }
        closed = held;
        if ctx.desk_webhooks {
            continue;
        }
        let c = ctx.clone();
        each(fresh, ctx.concurrency, move |t| {
            let ctx = c.clone();
            async move {
                expect(
                    &ctx.http,
                    reqwest::Method::POST,
                    &ctx.webhook_url,
                    &ctx.webhook_token,
                    Some(&payload(&t, RESOLVED)),
                    200,
                )
                .await?;
                ctx.progress.closed.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
        })
        .await?;
    }
    if ctx.desk_webhooks {
        loop {
            let results = ctx.desk.webhook_results();
            ctx.progress.closed.store(results.len(), Ordering::Relaxed);
            if let Some(bad) = results.iter().find(|s| **s != 200) {
                bail!("a webhook delivery got {bad}");
            }
            if results.len() >= ctx.n {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    if opened.end.is_zero() {
        opened.end = ctx.now();
    }
    Ok((
        opened,
        Span {
            start: closing.unwrap_or_default(),
            end: ctx.now(),
        },
    ))
}

/// Phase 5: sweeps the status list until every request is REQUEST_COMPLETED; any request in
/// another final state ends the run.
async fn confirm(ctx: Arc<Ctx>) -> Result<Span> {
    let start = ctx.now();
    loop {
        let (mut total, mut completed, mut offset) = (0, 0, 0);
        loop {
            let page = expect(
                &ctx.http,
                reqwest::Method::GET,
                &format!(
                    "{}/v3/access-request-status?limit=250&offset={offset}",
                    ctx.base
                ),
                &ctx.token,
                None,
                200,
            )
            .await?;
            let items = page
                .as_array()
                .ok_or_else(|| anyhow!("status list: not a list: {page}"))?;
            for r in items {
                match r["state"].as_str().unwrap_or("") {
                    "REQUEST_COMPLETED" => completed += 1,
                    "EXECUTING" => {}
                    other => bail!("request {} ended {other}: {r}", r["accessRequestId"]),
                }
            }
            total += items.len();
            offset += 250;
            if items.len() < 250 {
                break;
            }
        }
        ctx.progress.completed.store(completed, Ordering::Relaxed);
        if total > ctx.n {
            bail!("the status list holds {total} requests, not {}", ctx.n);
        }
        if completed == ctx.n {
            return Ok(Span {
                start,
                end: ctx.now(),
            });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

struct Phases {
    submitted: Span,
    approved: Span,
    opened: Span,
    closed: Span,
    completed: Span,
}

async fn run(ctx: Arc<Ctx>, phased: bool) -> Result<Phases> {
    if phased {
        let submitted = submit(ctx.clone()).await?;
        let approved = approve(ctx.clone()).await?;
        let (opened, closed) = close(ctx.clone()).await?;
        let completed = confirm(ctx).await?;
        return Ok(Phases {
            submitted,
            approved,
            opened,
            closed,
            completed,
        });
    }
    let (submitted, approved, (opened, closed)) = tokio::try_join!(
        submit(ctx.clone()),
        approve(ctx.clone()),
        close(ctx.clone())
    )?;
    let completed = confirm(ctx).await?;
    Ok(Phases {
        submitted,
        approved,
        opened,
        closed,
        completed,
    })
}

#[tokio::main]
async fn main() {
    if let Err(e) = main_inner().await {
        eprintln!("p4: {e:#}");
        std::process::exit(1);
    }
}

async fn main_inner() -> Result<()> {
    let args = Args::parse();
    let n = args.requests;
    if n == 0 {
        bail!("--requests must be at least 1");
    }
    let label = args.label.clone().unwrap_or_else(|| {
        if args.database_url.is_some() {
            "postgres".into()
        } else {
            "sqlite".into()
        }
    });
    let people = args.people.clamp(1, n);
    let entitlements = n.div_ceil(people);
    let setup_started = Instant::now();

    // Declared first so it is removed last, after the server has stopped.
    let dir = tempfile::Builder::new().prefix("gatehouse-p4.").tempdir()?;
    let data = dir.path().join("data");
    let file = dir.path().join("tenant.json");
    std::fs::write(
        &file,
        serde_json::to_vec(&tenant_file(people, entitlements))?,
    )?;
    let imported = Command::new(&args.gatehouse)
        .arg("import")
        .args(store_args(&data, args.database_url.as_deref()))
        .arg(&file)
        .stdout(Stdio::null())
        .status()
        .with_context(|| format!("cannot run {}", args.gatehouse.display()))?;
    if !imported.success() {
        bail!("gatehouse import failed ({imported})");
    }

    let desk = Desk::start(Flavor::ServiceNow).await;
    let port = free_port()?;
    let base = format!("http://127.0.0.1:{port}");
    let log = dir.path().join("server.log");
    let child = Command::new(&args.gatehouse)
        .arg("serve")
        .args(store_args(&data, args.database_url.as_deref()))
        .args([
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--rate-limit",
            "off",
            "--no-demo",
            "--log",
            "warn",
            "--allow-private-network",
        ])
        .env("GATEHOUSE_ADMIN_CLIENT_ID", ADMIN_ID)
        .env("GATEHOUSE_ADMIN_CLIENT_SECRET", ADMIN_SECRET)
        .stdout(std::fs::File::create(&log)?)
        .stderr(std::fs::File::options().append(true).open(&log)?)
        .spawn()
        .context("cannot start gatehouse serve")?;
    let mut server = Server { child, log };
    let result = drive(
        &args,
        &label,
        &mut server,
        desk,
        base,
        n,
        people,
        entitlements,
        setup_started,
    )
    .await;
    if result.is_err() {
        eprintln!("p4: the server's last log lines:\n{}", server.log_tail());
    }
    drop(server);
    drop(dir);
    result
}

#[allow(clippy::too_many_arguments)]
async fn drive(
    args: &Args,
    label: &str,
    server: &mut Server,
    desk: Desk,
    base: String,
    n: usize,
    people: usize,
    entitlements: usize,
    setup_started: Instant,
) -> Result<()> {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency * 2)
        .timeout(Duration::from_secs(60))
        .build()?;
    let ready_by = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = server.child.try_wait()? {
            bail!("gatehouse serve exited ({status})");
        }
        if let Ok(r) = http.get(format!("{base}/health/ready")).send().await {
            if r.status().is_success() {
                break;
            }
        }
        if Instant::now() > ready_by {
            bail!("gatehouse was not ready within 60 s");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let grant = http
        .post(format!("{base}/oauth/token"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!(
            "grant_type=client_credentials&client_id={ADMIN_ID}&client_secret={ADMIN_SECRET}"
        ))
        .send()
        .await?
        .error_for_status()?
        .json::<Value>()
        .await?;
    let token = grant["access_token"]
        .as_str()
        .ok_or_else(|| anyhow!("no access token: {grant}"))?
        .to_owned();
    let tenant = grant["tenant_id"]
        .as_str()
        .ok_or_else(|| anyhow!("no tenant id in the token answer: {grant}"))?
        .to_owned();

    let source = derived_id(&["source", SOURCE]);
    let approver = derived_id(&["identity", APPROVER]);
    let people: Vec<String> = (0..people)
        .map(|i| derived_id(&["identity", &person(i)]))
        .collect();
    let ents: Vec<String> = (0..entitlements)
        .map(|i| derived_id(&["entitlement", &source, "group", &group(i)]))
        .collect();
    // The derived ids are those of the imported objects (a fresh store takes them as derived).
    use reqwest::Method;
    expect(
        &http,
        Method::GET,
        &format!("{base}/v3/sources/{source}"),
        &token,
        None,
        200,
    )
    .await
    .context("the imported source")?;
    expect(
        &http,
        Method::GET,
        &format!("{base}/v2024/entitlements/{}", ents[0]),
        &token,
        None,
        200,
    )
    .await
    .context("the imported entitlements")?;

    let cluster = expect(
        &http,
        Method::POST,
        &format!("{base}/v3/managed-clusters"),
        &token,
        Some(&json!({"name": "P4 cluster", "type": "idn"})),
        200,
    )
    .await?;
    let c = desk.credentials();
    let sdim = expect(
        &http,
        Method::POST,
        &format!("{base}/v3/service-desk-integrations"),
        &token,
        Some(&json!({
            "name": "P4 ServiceNow", "description": "Tickets for the desk-managed HR source",
            "type": "ServiceNowSDIM",
            "ownerRef": {"type": "IDENTITY", "id": approver},
            "clusterRef": {"type": "CLUSTER", "id": cluster["id"]},
            "provisioningConfig": {"managedResourceRefs": [{"type": "SOURCE", "id": source}]},
            "attributes": {
                "url": desk.url(), "authType": "oauth2_password", "username": c.username,
                "password": c.password, "clientId": c.client_id, "clientSecret": c.client_secret,
                "ticketType": "incident", "assignmentGroup": "IAM"
            }
        })),
        200,
    )
    .await?;
    let integration = sdim["id"]
        .as_str()
        .ok_or_else(|| anyhow!("integration without id: {sdim}"))?
        .to_owned();
    let installed = expect(
        &http,
        Method::POST,
        &format!("{base}/api/v2/tenants/{tenant}/integrations/installed/{integration}"),
        &token,
        Some(&json!({"inboundConfig": {"authentication": {"authType": "WEBHOOK"}}})),
        200,
    )
    .await?;
    let webhook_token = installed["inboundConfig"]["authentication"]["token"]
        .as_str()
        .ok_or_else(|| anyhow!("no WEBHOOK token issued: {installed}"))?
        .to_owned();
    let webhook_url =
        format!("{base}/api/v2/tenants/{tenant}/integrations/installed/{integration}/webhook");
    if args.desk_webhooks {
        desk.set_webhook(&webhook_url, &webhook_token);
    }
    let setup = setup_started.elapsed();

    let ctx = Arc::new(Ctx {
        http,
        base,
        token,
        n,
        concurrency: args.concurrency,
        people,
        entitlements: ents,
        approver,
        webhook_url,
        webhook_token,
        desk,
        desk_webhooks: args.desk_webhooks,
        t0: Instant::now(),
        progress: Progress::default(),
    });
    let mode = if args.phased { "phased" } else { "pipelined" };
    let hooks = if args.desk_webhooks {
        "delivered by the desk, one at a time"
    } else {
        "posted by the bench"
    };
    println!(
        "P4 end to end ({label}): {n} requests over {} people x {entitlements} entitlements, {mode}, {} concurrent calls, webhooks {hooks}",
        ctx.people.len(),
        args.concurrency
    );
    println!(
        "  setup (import, start, integration; not timed): {:.1} s",
        setup.as_secs_f64()
    );
    let outcome = tokio::time::timeout(
        Duration::from_secs(args.timeout),
        run(ctx.clone(), args.phased),
    )
    .await;
    let p = &ctx.progress;
    let phases = match outcome {
        Ok(r) => r?,
        Err(_) => bail!(
            "gave up after {} s: {} submitted, {} approved, {} tickets at the desk, {} closed by webhook, {} seen completed (of {n})",
            args.timeout,
            p.submitted.load(Ordering::Relaxed),
            p.approved.load(Ordering::Relaxed),
            p.tickets.load(Ordering::Relaxed),
            p.closed.load(Ordering::Relaxed),
            p.completed.load(Ordering::Relaxed),
        ),
    };
    let total = phases.completed.end.as_secs_f64();
    let rows = [
        ("submitted (202)", "submitted", phases.submitted),
        ("approved (work items)", "approved", phases.approved),
        ("tickets opened at the desk", "opened", phases.opened),
        ("closed by webhook (200)", "closed", phases.closed),
        (
            "all REQUEST_COMPLETED (sweep)",
            "completed",
            phases.completed,
        ),
    ];
    println!(
        "  {:<32} {:>9} {:>9} {:>9} {:>9}",
        "phase", "from s", "to s", "span s", "per s"
    );
    let mut json_phases = serde_json::Map::new();
    for (name, key, s) in rows {
        let span = (s.end - s.start).as_secs_f64();
        let rate = if span > 0.0 { n as f64 / span } else { 0.0 };
        println!(
            "  {:<32} {:>9.2} {:>9.2} {:>9.2} {:>9.0}",
            name,
            s.start.as_secs_f64(),
            s.end.as_secs_f64(),
            span,
            rate
        );
        json_phases.insert(
            key.into(),
            json!({"from_s": s.start.as_secs_f64(), "to_s": s.end.as_secs_f64()}),
        );
    }
    let met = total <= args.target;
    println!(
        "  total {total:.1} s for {n} requests ({:.0}/s); target <= {} s: {}",
        n as f64 / total,
        args.target,
        if met { "met" } else { "missed" }
    );
    if let Some(path) = &args.json {
        let line = json!({
            "name": "p4_e2e", "store": label, "requests": n, "mode": mode,
            "desk_webhooks": args.desk_webhooks, "concurrency": args.concurrency,
            "total_s": total, "target_s": args.target, "met": met, "setup_s": setup.as_secs_f64(),
            "phases": json_phases,
        });
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        writeln!(f, "{line}")?;
    }
    Ok(())
}
