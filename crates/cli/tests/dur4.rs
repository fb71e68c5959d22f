//! DUR-4 (docs/RELIABILITY.md), a long run, not part of the test suite (`#[ignore]`): run it with
//! `reliability/dur4.sh`.
//!
//! Lease expiry with a real stopped worker, in real time. Replica A, a `gatehouse` process on a
//! PostgreSQL database of the run's own, serves with `--job-lease 30 --desk-timeout 20`. One
//! access request goes straight to a ticket at a ServiceNow test desk, which creates the ticket
//! but holds its answer back for 2 s (a real desk's answer in flight). The moment the create
//! reaches the desk, A is stopped with SIGSTOP, and replica B (a second process with the same
//! options on the same database) is started. B must take the job once A's lease has run out (the
//! catalogue: after 30–40 s of a 30 s lease) and look the ticket up by its correlation id; the
//! desk holds the answer to that lookup back for 15 s, so B holds the job (running, under its
//! lease token) while A gets SIGCONT. A's call has timed out by then, and A must write nothing:
//! the rows of every job, the ticket and the access request, PostgreSQL row versions (`xmin`)
//! included, and the number of jobs are compared from just before SIGCONT to 2 s after A's log
//! says its lease was taken (all while B still waits for the desk), and A's log must say so
//! within 10 s. Then B records the ticket it found; the desk must hold exactly one, created once.
//!
//! The clock is the real one (the servers run `--clock virtual`, which is the machine's clock
//! until the admin API moves it; nothing moves it here). Gatehouse has no periodic heartbeat: a
//! ticket job renews its lease in the write that begins an attempt and before each desk call when
//! less than the call's timeout plus 5 s is left, so a running job never goes longer than one
//! call (20 s here) without a lease covering it.
//!
//! Needs `GATEHOUSE_TEST_PG_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`). Knobs:
//! `DUR4_LEASE_SECONDS` (30), `DUR4_DESK_TIMEOUT_SECONDS` (20), `DUR4_HOLD_MS` (2000: how long
//! the desk holds its answer to A back), `DUR4_B_HOLD_MS` (15000: the same for B's lookup).

mod common;

use common::{env_num, Answer, Launch};
use gatehouse_testdesk::{Desk, Fault, Flavor};
use serde_json::json;
use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// `postgres://user@host:port/db` with the database replaced by `db`.
fn with_database(url: &str, db: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a postgres:// URL");
    let host_end = rest.find('/').unwrap_or(rest.len());
    format!("{scheme}://{}/{db}", &rest[..host_end])
}

/// Each row `sql` returns, its columns joined as text, on a thread of its own.
fn pg_rows(url: &str, sql: &str) -> Vec<Vec<Option<String>>> {
    let (url, sql) = (url.to_owned(), sql.to_owned());
    std::thread::spawn(move || {
        let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        client
            .simple_query(&sql)
            .unwrap()
            .into_iter()
            .filter_map(|m| match m {
                postgres::SimpleQueryMessage::Row(r) => {
                    Some((0..r.len()).map(|i| r.get(i).map(str::to_owned)).collect())
                }
                _ => None,
            })
            .collect()
    })
    .join()
    .unwrap()
}

/// The ticket job: (attempt, state, lease token, lease end in ms).
fn ticket_job(url: &str) -> Option<(i64, String, Option<String>, Option<i64>)> {
    let rows = pg_rows(
        url,
        "select attempt, state, locked_by, locked_until from job where kind = 'service_desk_ticket'",
    );
    let r = rows.first()?;
    Some((
        r[0].as_deref().unwrap().parse().unwrap(),
        r[1].clone().unwrap(),
        r[2].clone(),
        r[3].as_deref().map(|s| s.parse().unwrap()),
    ))
}

/// Every row the ticket's run may write, with its row version, and the number of jobs.
fn snapshot(url: &str) -> Vec<String> {
    let mut out = Vec::new();
    for sql in [
        "select xmin::text || ' ' || row_to_json(j)::text from job j order by id",
        "select xmin::text || ' ' || row_to_json(t)::text from service_desk_ticket t",
        "select xmin::text || ' ' || row_to_json(r)::text from access_request r",
        "select 'jobs ' || count(*) from job",
    ] {
        for r in pg_rows(url, sql) {
            out.push(r[0].clone().unwrap_or_default());
        }
    }
    out
}

fn signal(pid: u32, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill {sig} {pid}");
}

/// A server process that may be stopped: continued and killed when dropped, so a failed run
/// leaves no process behind.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-CONT", &self.0.id().to_string()])
            .status();
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn now_ms() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a long run: reliability/dur4.sh"]
async fn dur4_a_stopped_worker_loses_its_job_and_writes_nothing_when_it_resumes() {
    let admin = common::pg_admin_url();
    let lease = env_num("DUR4_LEASE_SECONDS", 30);
    let desk_timeout = env_num("DUR4_DESK_TIMEOUT_SECONDS", 20);
    let hold_ms = env_num("DUR4_HOLD_MS", 2_000);
    let b_hold_ms = env_num("DUR4_B_HOLD_MS", 15_000);
    let db = format!("gatehouse_dur4_{}", std::process::id());
    common::pg_execute(&admin, &format!("drop database if exists {db}"));
    common::pg_execute(&admin, &format!("create database {db}"));
    let url = with_database(&admin, &db);
    let dir = tempfile::tempdir().unwrap();
    common::import_tenant(dir.path(), &dir.path().join("import"), Some(&url), 1, 1);
    let desk = Desk::start(Flavor::ServiceNow).await;
    let launch = |name: &str| {
        let mut l = Launch::new(&dir.path().join(name), &common::free_listen_address());
        l.database_url = Some(url.clone());
        l.args = vec![
            "--job-lease".into(),
            lease.to_string(),
            "--desk-timeout".into(),
            desk_timeout.to_string(),
        ];
        l.log_filter = "info".into();
        l.log_file = Some(dir.path().join(format!("{name}.log")));
        l
    };
    let (la, lb) = (launch("a"), launch("b"));
    let a = Server(la.start_until_up());
    let base_a = format!("http://{}", la.listen);
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let token = common::client_token(&http, &base_a, common::ADMIN_ID, common::ADMIN_SECRET).await;
    common::add_desk(&http, &base_a, &token, &desk).await;
    common::daily_status_checks(&http, &base_a, &token).await;

    // A's create is handled at once; its answer comes `hold_ms` later.
    desk.fail_next(1, Fault::SlowBody { delay_ms: hold_ms });
    // B's first call, its lookup by correlation id, is answered `b_hold_ms` late.
    desk.fail_next(
        1,
        Fault::SlowBody {
            delay_ms: b_hold_ms,
        },
    );
    let Answer::Accepted(id) = common::submit(&http, &base_a, &token, "dur4", 0, 1).await else {
        panic!("the request was not accepted");
    };
    let correlation = format!("gatehouse-{id}");
    let waiting = Instant::now();
    while !desk
        .calls()
        .iter()
        .any(|c| c.method == "POST" && c.path.starts_with("/api/now"))
    {
        assert!(waiting.elapsed() < Duration::from_secs(30), "no create");
        std::thread::sleep(Duration::from_millis(2));
    }
    signal(a.0.id(), "-STOP");
    let stopped_at = Instant::now();
    let stopped_ms = now_ms();
    let (attempt_a, _, token_a, until_a) = ticket_job(&url).expect("the ticket job");
    let until_a = until_a.expect("A's lease");
    let lease_start_ms = until_a - i64::try_from(lease * 1000).unwrap();

    // B starts, and takes the job once A's lease has run out.
    let b = Server(lb.start_until_up());
    let reclaimed_ms = loop {
        let (attempt, _, _, _) = ticket_job(&url).unwrap();
        if attempt > attempt_a {
            break now_ms();
        }
        assert!(
            stopped_at.elapsed() < Duration::from_secs(lease + 60),
            "not reclaimed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let reclaimed_after_stop = stopped_at.elapsed();
    // B's lookup is at the desk, which holds its answer back: B holds the job (running, under
    // its token) and the ticket is still being created. Now A resumes; its call has timed out,
    // and whatever it writes after it must be refused while B holds the job.
    let waiting = Instant::now();
    while !desk
        .calls()
        .iter()
        .any(|c| c.method == "GET" && c.query.as_deref().is_some_and(|q| q.contains(&correlation)))
    {
        assert!(
            waiting.elapsed() < Duration::from_secs(30),
            "B made no lookup"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let b_waits = Instant::now();
    let (_, state_b, token_b, _) = ticket_job(&url).unwrap();
    assert_eq!(state_b, "running");
    let before = snapshot(&url);
    signal(a.0.id(), "-CONT");
    let resumed = Instant::now();
    let log_a = la.log_file.clone().unwrap();
    let mut fenced = false;
    while resumed.elapsed() < Duration::from_secs(10) {
        let text = std::fs::read_to_string(&log_a).unwrap_or_default();
        if text.contains("its lease was taken by another worker") {
            fenced = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Anything A would still write has had time to land; B still waits for the desk.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = snapshot(&url);
    let window = b_waits.elapsed();
    assert!(
        window < Duration::from_millis(b_hold_ms),
        "the comparison must end before B's answer comes ({window:?})"
    );
    let stale_writes = before.iter().zip(&after).filter(|(x, y)| x != y).count()
        + before.len().abs_diff(after.len());
    for (x, y) in before.iter().zip(&after).filter(|(x, y)| x != y) {
        eprintln!("DUR-4: changed after A resumed:\n  before {x}\n  after  {y}");
    }

    // B gets its answer, finds the ticket and completes the job.
    let settled = Instant::now();
    loop {
        let (_, state, _, _) = ticket_job(&url).unwrap();
        let phase = pg_rows(&url, "select phase from service_desk_ticket");
        if state == "completed" && phase[0][0].as_deref() == Some("OPEN") {
            break;
        }
        assert!(
            settled.elapsed() < Duration::from_secs(60),
            "B did not finish: {state}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let tickets = desk.tickets();
    let creates = desk
        .calls()
        .iter()
        .filter(|c| c.method == "POST" && c.body.contains(&correlation))
        .count();
    let lookups = desk
        .calls()
        .iter()
        .filter(|c| {
            c.method == "GET" && c.query.as_deref().is_some_and(|q| q.contains(&correlation))
        })
        .count();
    drop((a, b));
    common::pg_execute(
        &admin,
        &format!("drop database if exists {db} with (force)"),
    );

    let reclaim_after_lease_start = (reclaimed_ms - lease_start_ms) as f64 / 1000.0;
    let summary = json!({
        "test": "DUR-4", "lease_seconds": lease, "desk_timeout_seconds": desk_timeout,
        "hold_ms": hold_ms, "b_hold_ms": b_hold_ms, "token_a": token_a, "token_b": token_b,
        "compared_while_b_held_the_job_seconds": window.as_secs_f64(),
        "stopped_after_lease_start_seconds": (stopped_ms - lease_start_ms) as f64 / 1000.0,
        "reclaimed_after_lease_start_seconds": reclaim_after_lease_start,
        "reclaimed_after_sigstop_seconds": reclaimed_after_stop.as_secs_f64(),
        "a_stopped_seconds": (resumed - stopped_at).as_secs_f64(),
        "a_log_lease_lost": fenced,
        "rows_compared": before.len(), "stale_writes_applied": stale_writes,
        "desk_tickets": tickets.len(), "desk_creates": creates, "desk_lookups": lookups,
    });
    common::print_result("DUR-4", &summary);
    assert!(
        reclaim_after_lease_start >= lease as f64,
        "taken before the lease ran out"
    );
    assert!(reclaim_after_lease_start <= 40.0, "reclaimed in ≤ 40 s");
    assert_eq!(stale_writes, 0, "stale writes applied");
    assert!(fenced, "A's log shows its lease was gone");
    assert_eq!(tickets.len(), 1, "exactly one ticket");
    assert_eq!(creates, 1, "one create");
}
