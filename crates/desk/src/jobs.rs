//! The ticket jobs: `service_desk_ticket` opens the ticket of an approved item,
//! `service_desk_status_check` follows it until the desk commits or fails it.
//!
//! Opening: the ticket row and its correlation id are committed first ([`tickets::begin`]); an
//! attempt after the first looks the ticket up by correlation id before creating, so a create whose
//! answer was lost (timeout, reset, crash) never yields a second ticket. Transient faults (timeouts,
//! broken connections, 408/425/429/5xx, and answers that cannot be read, whose outcome is unknown)
//! are retried with the runner's jittered backoff, no sooner than the desk's `Retry-After`; other
//! faults, and the last attempt, fail the item
//! (`PROVISIONING_FAILED` with the error). Calls to one integration are capped
//! ([`crate::DeskConfig::per_link_concurrency`]). A `Retry-After` holds back the whole
//! integration, not only the job that got it (`pause.rs`): until it has passed, its other
//! jobs go back to the queue without calling the desk and without counting an attempt
//! ([`JobError::Defer`]), and its status checks skip their call; other integrations go on.
//!
//! Following: each check reads the ticket's status from the desk and maps it (the inbound
//! `Status` mapping, else the integration's `statusMap`); Committed completes the item, Failed
//! fails it, anything else schedules the next check `provisioningStatusCheckIntervalMinutes`
//! later, until `provisioningMaxStatusCheckDays` have passed: then the item fails as expired.

use crate::auth::{Auth, TokenCache};
use crate::failpoint;
use crate::http::{CallError, DeskConfig, Http, LEASE_MARGIN};
use crate::pause::Pauses;
use crate::protocol::{Content, Ctx, DeskTicket, Flavor, Link};
use gatehouse_domain::net_guard::NetPolicy;
use gatehouse_domain::sealed::{Keyring, Sealer};
use gatehouse_domain::service_desk::mapping::{
    outbound_fields, ticket_status, MapAttribute, SERVICE_REQUEST,
};
use gatehouse_domain::service_desk::{seal_context, SEAL_PURPOSE};
use gatehouse_domain::{Clock, Timestamp};
use gatehouse_store::access_requests::{kinds, AccessRequest};
use gatehouse_store::jobs::{self, Job};
use gatehouse_store::runner::{JobError, JobFuture, JobHandler};
use gatehouse_store::task_status::{self, Report};
use gatehouse_store::tickets::{self, Follow, Opened, Phase};
use gatehouse_store::{service_desk, Conn, Store, StoreError};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::{Semaphore, SemaphorePermit};

/// What the ticket jobs share.
pub struct Desks {
    store: Store,
    clock: Arc<dyn Clock>,
    seal: Sealer,
    http: Http,
    tokens: TokenCache,
    links: Mutex<HashMap<String, Arc<Semaphore>>>,
    /// Integrations whose desk asked for no calls for a while (`Retry-After`).
    paused: Pauses,
}

/// An integration loaded for a call.
pub struct Loaded {
    /// The link.
    pub link: Link,
    /// How its tickets are followed.
    pub follow: Follow,
    /// Inbound mappings.
    pub inbound: Vec<MapAttribute>,
    /// Outbound mappings.
    pub outbound: Vec<MapAttribute>,
    /// Every credential in clear, to scrub from messages.
    pub secrets: Vec<String>,
}

/// Replaces every credential in `message` by the mask.
pub fn scrub(message: &str, secrets: &[String]) -> String {
    let mut out = message.to_owned();
    for s in secrets.iter().filter(|s| s.len() >= 4) {
        out = out.replace(s.as_str(), gatehouse_domain::service_desk::MASK);
    }
    out
}

/// Maps a desk status value to `Queued`, `Committed` or `Failed`: through the inbound `Status`
/// mapping when one translates it, else through the integration's `statusMap`; unknown values
/// are `Queued`.
pub fn sailpoint_status(loaded: &Loaded, desk_status: &str) -> &'static str {
    let mapped = loaded
        .inbound
        .iter()
        .filter(|m| m.entity_type == SERVICE_REQUEST && m.name == "Status")
        .find_map(|m| ticket_status(m.from_desk(desk_status)));
    if let Some(s) = mapped {
        return s;
    }
    match loaded
        .link
        .attrs
        .get("statusMap")
        .and_then(Value::as_object)
        .and_then(|m| {
            m.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(desk_status))
                .and_then(|(_, v)| v.as_str())
        }) {
        Some("Committed") => "Committed",
        Some("Failed") => "Failed",
        _ => "Queued",
    }
}

impl Desks {
    /// The shared state of the ticket jobs.
    pub fn new(
        store: Store,
        clock: Arc<dyn Clock>,
        keys: &Keyring,
        net: NetPolicy,
        config: DeskConfig,
    ) -> Self {
        Self {
            store,
            clock,
            seal: keys.sealer(SEAL_PURPOSE),
            http: Http::new(net, config),
            tokens: TokenCache::default(),
            links: Mutex::new(HashMap::new()),
            paused: Pauses::new(
                i64::try_from((config.total_timeout + LEASE_MARGIN).as_millis())
                    .unwrap_or(i64::MAX),
            ),
        }
    }

    /// The outbound client.
    pub fn http(&self) -> &Http {
        &self.http
    }

    fn ctx(&self) -> Ctx<'_> {
        Ctx {
            http: &self.http,
            tokens: &self.tokens,
        }
    }

    /// The permits of integration `link`'s desk: how many calls may be made to it at once. A
    /// permit is held for the desk call alone, not for the writes before and after it (on
    /// PostgreSQL each write waits for its commit's flush, and holding the permit through them
    /// made the commits, not the desk, the limit on tickets opened per second).
    fn permit_pool(&self, link: &str) -> Arc<Semaphore> {
        let n = self.http.config().per_link_concurrency.max(1);
        self.links
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(link.to_owned())
            .or_insert_with(|| Arc::new(Semaphore::new(n)))
            .clone()
    }

    /// [`JobError::Defer`] when integration `link`'s desk may not be called now ([`Pauses`]):
    /// the job waits, uncounted, without calling it. With `probe`, a job about to call the desk
    /// is let through as the first call after a pause, and the others wait for its answer.
    fn unless_paused(&self, link: &str, probe: bool) -> Result<(), JobError> {
        let now = self.clock.now();
        let wait = if probe {
            self.paused.admit(link, now)
        } else {
            self.paused.wait(link, now)
        };
        match wait {
            Some(after_ms) => Err(JobError::Defer {
                message: format!(
                    "the service desk asked for no calls for a while (Retry-After): waiting {after_ms} ms"
                ),
                after_ms,
            }),
            None => Ok(()),
        }
    }

    /// Notes how integration `link`'s desk answered a call: a `Retry-After` pauses it, any
    /// other answer ends a pause that is over.
    fn answered<T>(&self, link: &str, outcome: &Result<T, CallError>) {
        let now = self.clock.now();
        match outcome.as_ref().err().and_then(CallError::retry_after_ms) {
            Some(after_ms) => self.paused.pause(link, now, after_ms),
            None => self.paused.answered(link, now),
        }
    }

    /// How long a renewed lease lasts, in milliseconds.
    fn lease_ms(&self) -> i64 {
        i64::try_from(self.http.config().lease.as_millis()).unwrap_or(i64::MAX)
    }

    /// Makes sure this worker will hold `lease` for the whole of a desk call about to be made:
    /// when less than the call's timeout (plus a margin) is left of it, the lease is renewed in
    /// the store. [`JobError::LeaseLost`] when another worker has taken the job meanwhile; the
    /// call must not be made then.
    async fn keep_lease(&self, lease: &mut Lease) -> Result<(), JobError> {
        let now = self.clock.now();
        let needed = self.http.config().total_timeout + LEASE_MARGIN;
        let needed_ms = i64::try_from(needed.as_millis()).unwrap_or(i64::MAX);
        if lease
            .until
            .is_none_or(|until| now.plus_millis(needed_ms) < until)
        {
            return Ok(());
        }
        self.under_lease(lease, now, |_| Ok(())).await
    }

    /// Runs `f` in a write that first renews `lease` to `now` plus the lease's length.
    /// [`JobError::LeaseLost`], and `f` not run, when the lease is no longer this run's.
    async fn under_lease<T: Send + 'static>(
        &self,
        lease: &mut Lease,
        now: Timestamp,
        f: impl FnOnce(&mut dyn Conn) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, JobError> {
        let renewal = lease.renewal(now, self.lease_ms());
        let until = renewal.until;
        let out = self
            .store
            .write(move |c| {
                if renewal.apply(c)? {
                    f(c).map(Some)
                } else {
                    Ok(None)
                }
            })
            .await?
            .ok_or(JobError::LeaseLost)?;
        lease.renewed(until);
        Ok(out)
    }

    /// Loads integration `id` with its credentials opened. `Ok(None)`: it no longer exists.
    pub async fn load(&self, tenant_id: &str, id: &str) -> Result<Option<Loaded>, JobError> {
        let (t, i) = (tenant_id.to_owned(), id.to_owned());
        let found = self
            .store
            .read(move |c| {
                let Some(integration) = service_desk::get(c, &t, &i)? else {
                    return Ok(None);
                };
                let check = service_desk::status_check(c, &t)?;
                Ok(Some((integration, check)))
            })
            .await?;
        let Some((integration, check)) = found else {
            return Ok(None);
        };
        let inbound = integration.installed.inbound.map_attributes.clone();
        let outbound = integration.installed.outbound_map_attributes.clone();
        let flavor = Flavor::of_type(&integration.type_name).ok_or_else(|| {
            JobError::Fail(format!(
                "the integration's type {} has no protocol",
                integration.type_name
            ))
        })?;
        let mut doc = Value::Object(integration.attributes.clone());
        let mut secrets = Vec::new();
        for (pointer, sealed) in &integration.secrets {
            let clear = self
                .seal
                .open(sealed, &seal_context(tenant_id, id, pointer))
                .map_err(|e| {
                    JobError::Fail(format!(
                        "a stored credential of the integration ({pointer}) cannot be opened with this server's master keys: {e}"
                    ))
                })?;
            secrets.push(clear.expose().to_owned());
            if let Some(slot) = doc.pointer_mut(pointer) {
                *slot = Value::String(clear.expose().to_owned());
            }
        }
        let Value::Object(attrs) = doc else {
            unreachable!("attributes are an object")
        };
        let default_token = (flavor == Flavor::ServiceNow).then_some("/oauth_token.do");
        let auth = Auth::from_attributes(&attrs, flavor.secret_key(), default_token)
            .map_err(|e| JobError::Fail(format!("the integration cannot call its desk: {e}")))?;
        Ok(Some(Loaded {
            link: Link {
                id: id.to_owned(),
                flavor,
                attrs,
                auth,
            },
            follow: Follow {
                interval_minutes: check.interval_minutes,
                max_days: check.max_days,
                no_provisioning_requests: integration.provisioning.no_provisioning_requests,
                request_expiration_hours: integration.provisioning.provisioning_request_expiration,
            },
            inbound,
            outbound,
            secrets,
        }))
    }

    /// Loads integration `integration` for the ticket of request `id`. When it is gone, or cannot
    /// call its desk (a permanent fault), the ticket fails (and the request with it) and the
    /// answer is `None`; a passing fault is returned for the job to retry.
    async fn load_or_fail(
        &self,
        tenant: &str,
        id: &str,
        integration: &str,
    ) -> Result<Option<Loaded>, JobError> {
        let why = match self.load(tenant, integration).await {
            Ok(Some(loaded)) => return Ok(Some(loaded)),
            Ok(None) => "The service-desk integration was deleted.".to_owned(),
            Err(JobError::Fail(why)) => {
                format!("The service-desk integration cannot be used: {why}.")
            }
            Err(passing) => return Err(passing),
        };
        self.settle(tenant, id, "Failed", None, &why).await?;
        Ok(None)
    }

    async fn open_ticket(&self, job: &Job, tenant: String, id: String) -> Result<(), JobError> {
        failpoint::hit(failpoint::CLAIMED);
        let now = self.clock.now();
        let mut lease = Lease::of(job);
        let (t, i) = (tenant.clone(), id.clone());
        // The lease is renewed in the write that begins the attempt. A first attempt is counted
        // in it too (one commit less per ticket), unless its desk is paused (the job then waits
        // without calling it); a later one only once the lookup below has not found the ticket.
        let paused = self.paused.waiting(now);
        let begun = self.under_lease(&mut lease, now, move |c| {
            let work = tickets::begin(c, &t, &i, now)?;
            if work.as_ref().is_some_and(|w| {
                w.ticket.attempts == 0 && !paused.contains(&w.ticket.integration_id)
            }) {
                tickets::attempt_started(c, &t, &i)?;
            }
            Ok(work)
        });
        let Some(work) = begun.await? else {
            return Ok(());
        };
        let integration = work.ticket.integration_id.clone();
        self.unless_paused(&integration, false)?;
        let Some(loaded) = self.load_or_fail(&tenant, &id, &integration).await? else {
            return Ok(());
        };
        let pool = self.permit_pool(&integration);
        let ctx = self.ctx();
        let correlation = work.ticket.correlation_id.clone();
        let mut outcome = Ok(None);
        if work.ticket.attempts > 0 {
            let _permit = desk_permit(&pool).await?;
            // Another job may have had a `Retry-After` while this one waited for the permit.
            self.unless_paused(&integration, true)?;
            self.keep_lease(&mut lease).await?;
            outcome = loaded.link.find(ctx, &correlation).await;
            self.answered(&integration, &outcome);
        }
        if let Ok(None) = outcome {
            if work.ticket.attempts > 0 {
                let (t, i) = (tenant.clone(), id.clone());
                let now = self.clock.now();
                self.under_lease(&mut lease, now, move |c| {
                    tickets::attempt_started(c, &t, &i)
                })
                .await?;
            }
            let content = self
                .content(&tenant, &work.request, &correlation, &loaded)
                .await?;
            let permit = desk_permit(&pool).await?;
            self.unless_paused(&integration, true)?;
            // The wait for the permit may have outlived the lease: a create made after another
            // worker took the job (and, finding no ticket yet, opened one) would be a second one.
            self.keep_lease(&mut lease).await?;
            outcome = loaded.link.create(ctx, &content).await.map(Some);
            self.answered(&integration, &outcome);
            drop(permit);
            if outcome.is_ok() {
                failpoint::hit(failpoint::CREATED);
            }
        }
        // From here on every write goes through the lease: a run that lost it while the desk
        // call was in flight (stopped, or slower than its lease) writes nothing, whatever the
        // desk answered it. The new holder of the job records the outcome.
        match outcome {
            Ok(Some(found)) => {
                self.record_open(job.id, &mut lease, &tenant, &id, found, &loaded)
                    .await?;
                failpoint::hit(failpoint::RECORDED);
                Ok(())
            }
            Ok(None) => unreachable!("a create answers with a ticket or an error"),
            Err(e) => {
                let message = scrub(&e.to_string(), &loaded.secrets);
                let last = job.attempt >= job.max_attempts;
                // An answer that cannot be read (not JSON, no ticket in it, over the size cap)
                // leaves the outcome unknown: the desk may have opened the ticket. Like a timeout,
                // it is tried again, and the next attempt looks the ticket up first.
                let unknown = matches!(e, CallError::Protocol(_) | CallError::TooLarge(..));
                let transient = e.is_transient() || unknown;
                if !transient || last {
                    let text = if transient {
                        format!(
                            "The service desk did not open the ticket after {} attempts: {message}",
                            job.attempt
                        )
                    } else {
                        format!("The service desk refused the ticket: {message}")
                    };
                    return self
                        .settle_in(Some(&mut lease), &tenant, &id, "Failed", None, &text)
                        .await;
                }
                let (t, i, m) = (tenant.clone(), id.clone(), message.clone());
                let now = self.clock.now();
                self.under_lease(&mut lease, now, move |c| {
                    tickets::attempt_failed(c, &t, &i, &m)
                })
                .await?;
                Err(match e.retry_after_ms() {
                    Some(after_ms) => JobError::RetryAfter { message, after_ms },
                    None => JobError::Retry(message),
                })
            }
        }
    }

    async fn record_open(
        &self,
        job_id: i64,
        lease: &mut Lease,
        tenant: &str,
        id: &str,
        found: DeskTicket,
        loaded: &Loaded,
    ) -> Result<(), JobError> {
        let now = self.clock.now();
        let follow = loaded.follow;
        let opened = Opened {
            desk_id: found.id,
            desk_number: found.number,
            desk_status: found.status.clone(),
        };
        let report = Report::info(
            "ticket.opened",
            format!(
                "Ticket {} is open at the service desk{}.",
                opened.desk_number.as_deref().unwrap_or(&opened.desk_id),
                opened
                    .desk_status
                    .as_deref()
                    .map_or_else(String::new, |s| format!(" (status {s})"))
            ),
            &[
                ("ticket id", "ticketId", Some(opened.desk_id.clone())),
                ("ticket number", "ticketNumber", opened.desk_number.clone()),
                ("desk status", "deskStatus", opened.desk_status.clone()),
            ],
        );
        let (t, i) = (tenant.to_owned(), id.to_owned());
        self.under_lease(lease, now, move |c| {
            task_status::set_report(c, job_id, &report)?;
            tickets::opened(c, &t, &i, &opened, follow, now)
        })
        .await?;
        if let Some(s) = found.status {
            let mapped = sailpoint_status(loaded, &s);
            if mapped != "Queued" {
                return self
                    .settle_in(
                        Some(lease),
                        tenant,
                        id,
                        mapped,
                        Some(&s),
                        &format!("The desk's ticket is {s}."),
                    )
                    .await;
            }
        }
        Ok(())
    }

    /// Settles the ticket of request `id` (and completes or fails the request).
    pub async fn settle(
        &self,
        tenant: &str,
        id: &str,
        status: &str,
        desk_status: Option<&str>,
        message: &str,
    ) -> Result<(), JobError> {
        self.settle_in(None, tenant, id, status, desk_status, message)
            .await
    }

    /// [`Desks::settle`]; with a `lease`, in a write that first renews it, so that nothing is
    /// written by a run that lost it ([`JobError::LeaseLost`]).
    async fn settle_in(
        &self,
        lease: Option<&mut Lease>,
        tenant: &str,
        id: &str,
        status: &str,
        desk_status: Option<&str>,
        message: &str,
    ) -> Result<(), JobError> {
        let now = self.clock.now();
        let (t, i, s, d, m) = (
            tenant.to_owned(),
            id.to_owned(),
            status.to_owned(),
            desk_status.map(str::to_owned),
            message.to_owned(),
        );
        let write = move |c: &mut dyn Conn| tickets::settle(c, &t, &i, &s, d.as_deref(), &m, now);
        match lease {
            Some(lease) => self.under_lease(lease, now, write).await?,
            None => self.store.write(write).await?,
        };
        Ok(())
    }

    async fn content(
        &self,
        tenant: &str,
        r: &AccessRequest,
        correlation: &str,
        loaded: &Loaded,
    ) -> Result<Content, JobError> {
        let (t, req) = (tenant.to_owned(), r.clone());
        let names = self
            .store
            .read(move |c| {
                let name = |c: &mut dyn Conn, table: &str, id: Option<&str>| -> Result<String, StoreError> {
                    let Some(id) = id else { return Ok(String::new()) };
                    let sql = if table == "identity" {
                        "select coalesce(display_name, name) from identity where tenant_id = $1 and id = $2"
                    } else {
                        "select name from source where tenant_id = $1 and id = $2"
                    };
                    Ok(c.query_opt(sql, &[t.clone().into(), id.into()])?
                        .map(|r| r.text(0))
                        .transpose()?
                        .unwrap_or_else(|| id.to_owned()))
                };
                Ok((
                    name(c, "identity", Some(&req.requester_id))?,
                    name(c, "identity", Some(&req.requested_for_id))?,
                    name(c, "source", req.source_id.as_deref())?,
                ))
            })
            .await?;
        let (requester, identity, source) = names;
        let revoke = r.request_type == "REVOKE_ACCESS";
        let kind = match r.item_type.as_str() {
            "ACCESS_PROFILE" => "access profile",
            "ROLE" => "role",
            _ => "entitlement",
        };
        let summary = if revoke {
            format!("Remove {kind} '{}' from {identity}", r.item_name)
        } else {
            format!("Grant {kind} '{}' to {identity}", r.item_name)
        };
        let mut description = format!(
            "{summary} on {source}.\nRequested by: {requester}\nRequested for: {identity}\n\
             Item: {} ({kind}, {})\nAccess request: {}\nCorrelation id: {correlation}",
            r.item_name, r.item_id, r.id
        );
        if let Some(c) = r.comment.as_deref().filter(|c| !c.is_empty()) {
            description.push_str(&format!("\nComment: {c}"));
        }
        let operation = if revoke { "Remove" } else { "Add" };
        let values: Vec<(&str, String)> = vec![
            ("Summary", summary.clone()),
            ("Description", description.clone()),
            ("Status", "Open".into()),
            ("Requester", requester.clone()),
            ("RequestedFor", identity.clone()),
            ("Item", r.item_name.clone()),
            ("ItemType", r.item_type.clone()),
            ("Operation", operation.into()),
            ("Source", source.clone()),
            ("CorrelationId", correlation.to_owned()),
            ("Comments", r.comment.clone().unwrap_or_default()),
        ];
        Ok(Content {
            summary,
            description,
            correlation_id: correlation.to_owned(),
            placeholders: vec![
                ("requesterName", requester),
                ("identityName", identity),
                ("sourceName", source),
                ("requestId", r.id.clone()),
                ("itemName", r.item_name.clone()),
                ("itemType", r.item_type.clone()),
                ("operation", operation.into()),
            ],
            mapped: outbound_fields(&loaded.outbound, &values),
        })
    }

    /// The check of request `id`'s ticket that job `job` runs (due at its scheduled time; its
    /// task reports what the check read). Like a ticket attempt, it renews its lease before the
    /// desk call and writes only under it: a check whose lease was taken while it waited for the
    /// desk writes nothing ([`JobError::LeaseLost`]).
    async fn check_status(&self, job: &Job, tenant: String, id: String) -> Result<(), JobError> {
        let (job_id, due) = (job.id, job.scheduled_at);
        let mut lease = Lease::of(job);
        let (t, i) = (tenant.clone(), id.clone());
        let Some(ticket) = self.store.read(move |c| tickets::get(c, &t, &i)).await? else {
            return Ok(());
        };
        if ticket.phase != Phase::Open {
            return Ok(());
        }
        // The window is judged by when the check was due, not by when a worker got to it: the
        // check due at the window's last instant still runs.
        match ticket.check_until {
            Some(until) if due > until => self.expire(&mut lease, &tenant, &id, &ticket).await,
            _ => {
                self.check_open(&mut lease, job_id, tenant, id, ticket, due)
                    .await
            }
        }
    }

    /// Fails the item of `ticket`, whose checks ran out of days.
    async fn expire(
        &self,
        lease: &mut Lease,
        tenant: &str,
        id: &str,
        ticket: &tickets::Ticket,
    ) -> Result<(), JobError> {
        let days = match (ticket.check_until, ticket.opened) {
            (Some(until), Some(opened)) => (until.0 - opened.0) / 86_400_000,
            _ => 0,
        };
        let msg = format!(
            "The ticket {} was still open at the desk after {days} days of status checks: the item expired.",
            ticket.desk_number.as_deref().or(ticket.desk_id.as_deref()).unwrap_or("?")
        );
        self.settle_in(Some(lease), tenant, id, "Failed", None, &msg)
            .await
    }

    /// Reads the status of open ticket `ticket` (of request `id`) from its desk.
    async fn check_open(
        &self,
        lease: &mut Lease,
        job_id: i64,
        tenant: String,
        id: String,
        ticket: tickets::Ticket,
        due: Timestamp,
    ) -> Result<(), JobError> {
        let Some(loaded) = self
            .load_or_fail(&tenant, &id, &ticket.integration_id)
            .await?
        else {
            return Ok(());
        };
        let desk_id = ticket.desk_id.clone().unwrap_or_default();
        let pool = self.permit_pool(&ticket.integration_id);
        let interval = loaded.follow.interval_minutes;
        let number = ticket
            .desk_number
            .clone()
            .unwrap_or_else(|| desk_id.clone());
        let status = self
            .read_status(lease, &pool, &loaded, &ticket.integration_id, &desk_id)
            .await?;
        failpoint::hit(failpoint::STATUS_READ);
        // What the check read goes on its task: with the ticket's new state when it is still
        // open, just before settling it otherwise.
        let report = |text: String, read: Option<String>| {
            Report::info(
                "ticket.checked",
                text,
                &[
                    ("ticket number", "ticketNumber", Some(number.clone())),
                    ("desk status", "deskStatus", read),
                ],
            )
        };
        let (desk_status, text) = match status {
            Ok(Some(s)) => match sailpoint_status(&loaded, &s) {
                "Queued" => (
                    Some(s.clone()),
                    format!("Ticket {number} is {s} at the service desk: still open"),
                ),
                done => {
                    let r = report(
                        format!("Ticket {number} is {s} at the service desk: {done}."),
                        Some(s.clone()),
                    );
                    self.report(lease, job_id, r).await?;
                    let msg = format!("The desk's ticket is {s}.");
                    return self
                        .settle_in(Some(lease), &tenant, &id, done, Some(&s), &msg)
                        .await;
                }
            },
            Ok(None) => {
                let r = report(
                    format!("Ticket {number} no longer exists at the service desk."),
                    None,
                );
                self.report(lease, job_id, r).await?;
                return self
                    .settle_in(
                        Some(lease),
                        &tenant,
                        &id,
                        "Failed",
                        None,
                        "The ticket no longer exists at the desk.",
                    )
                    .await;
            }
            Err(message) => {
                tracing::warn!(request = %id, "status check failed: {message}");
                (
                    None,
                    format!("The service desk did not answer for ticket {number} ({message})"),
                )
            }
        };
        // The next check keeps to the schedule (one interval after this one was due), so late
        // runs do not push the checks back; after a long stop it comes one interval from now.
        let now = self.clock.now();
        let step = i64::from(interval) * 60_000;
        let mut next = due.plus_millis(step);
        if next <= now {
            next = now.plus_millis(step);
        }
        if ticket.check_until.is_some_and(|until| next > until) {
            // That was the last check the window allows.
            let read = desk_status.clone();
            self.report(
                lease,
                job_id,
                report(
                    format!("{text}, and that was the last check allowed."),
                    read,
                ),
            )
            .await?;
            return self.expire(lease, &tenant, &id, &ticket).await;
        }
        let report = report(
            format!("{text}, checked again in {interval} minutes."),
            desk_status.clone(),
        );
        let (t, i) = (tenant, id);
        self.under_lease(lease, now, move |c| {
            task_status::set_report(c, job_id, &report)?;
            tickets::still_open(c, &t, &i, desk_status.as_deref(), next, now)
        })
        .await
    }

    /// The status of ticket `desk_id` at integration `link`'s desk, or why it was not read (scrubbed
    /// of the integration's credentials). A paused desk is not called: the check counts as one the
    /// desk did not answer. The lease is renewed before the call.
    async fn read_status(
        &self,
        lease: &mut Lease,
        pool: &Semaphore,
        loaded: &Loaded,
        link: &str,
        desk_id: &str,
    ) -> Result<Result<Option<String>, String>, JobError> {
        if let Err(paused) = self.unless_paused(link, false) {
            return Ok(Err(paused.to_string()));
        }
        let _permit = desk_permit(pool).await?;
        self.keep_lease(lease).await?;
        if let Err(paused) = self.unless_paused(link, true) {
            return Ok(Err(paused.to_string()));
        }
        let read = loaded.link.status(self.ctx(), desk_id).await;
        self.answered(link, &read);
        Ok(read.map_err(|e| scrub(&e.to_string(), &loaded.secrets)))
    }

    /// Sets what job `job_id` reports on its task, under its lease.
    async fn report(&self, lease: &mut Lease, job_id: i64, report: Report) -> Result<(), JobError> {
        let now = self.clock.now();
        self.under_lease(lease, now, move |c| {
            task_status::set_report(c, job_id, &report)
        })
        .await
    }
}

/// The lease a ticket job (an attempt or a status check) runs under, as this worker last wrote
/// it. A job run outside a runner (no worker) has none to keep.
struct Lease {
    job: i64,
    worker: Option<String>,
    until: Option<Timestamp>,
}

/// A renewal of a [`Lease`] to be applied in a write.
struct Renewal {
    job: i64,
    worker: Option<String>,
    until: Timestamp,
}

impl Lease {
    fn of(job: &Job) -> Self {
        Self {
            job: job.id,
            worker: job.worker.clone(),
            until: job.leased_until,
        }
    }

    /// The renewal of this lease to `now + lease_ms`.
    fn renewal(&self, now: Timestamp, lease_ms: i64) -> Renewal {
        Renewal {
            job: self.job,
            worker: self.worker.clone(),
            until: now.plus_millis(lease_ms),
        }
    }

    /// Notes that a renewal to `until` was applied.
    fn renewed(&mut self, until: Timestamp) {
        if self.worker.is_some() {
            self.until = Some(until);
        }
    }
}

impl Renewal {
    /// Extends the lease in the caller's transaction. False when it is no longer this worker's.
    fn apply(&self, c: &mut dyn Conn) -> Result<bool, StoreError> {
        match &self.worker {
            Some(worker) => jobs::heartbeat(c, self.job, worker, self.until),
            None => Ok(true),
        }
    }
}

/// `tenantId` and `id` of a ticket job.
fn args(job: &Job) -> Result<(String, String), JobError> {
    let arg = |k: &str| {
        job.args
            .get(k)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| JobError::Fail(format!("job {} has no '{k}' argument", job.id)))
    };
    Ok((arg("tenantId")?, arg("id")?))
}

struct OpenTicket(Arc<Desks>);
struct CheckStatus(Arc<Desks>);

impl JobHandler for OpenTicket {
    fn kind(&self) -> &'static str {
        kinds::TICKET
    }

    fn run(&self, job: Job) -> JobFuture {
        let desks = self.0.clone();
        Box::pin(async move {
            let (tenant, id) = args(&job)?;
            desks.open_ticket(&job, tenant, id).await
        })
    }
}

impl JobHandler for CheckStatus {
    fn kind(&self) -> &'static str {
        kinds::TICKET_STATUS
    }

    fn run(&self, job: Job) -> JobFuture {
        let desks = self.0.clone();
        Box::pin(async move {
            let (tenant, id) = args(&job)?;
            desks.check_status(&job, tenant, id).await
        })
    }
}

/// The handlers of both ticket job kinds.
pub fn handlers(desks: &Arc<Desks>) -> Vec<Arc<dyn JobHandler>> {
    vec![
        Arc::new(OpenTicket(desks.clone())),
        Arc::new(CheckStatus(desks.clone())),
    ]
}

/// Waits for a permit to call a desk ([`Desks::permit_pool`]).
async fn desk_permit(pool: &Semaphore) -> Result<SemaphorePermit<'_>, JobError> {
    pool.acquire()
        .await
        .map_err(|_| JobError::Retry("shutting down".into()))
}
