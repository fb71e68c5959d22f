//! Test service desks for Gatehouse's integration tests and benchmarks.
//!
//! A [`Desk`] is an in-memory service desk listening on `127.0.0.1` that speaks one real desk
//! protocol ([`Flavor`]): ServiceNow's Table API, Jira Cloud's REST v3, or a generic REST desk.
//! It issues OAuth tokens, authenticates every ticket-API request, creates and updates tickets,
//! answers correlation-id lookups, records every request it receives ([`Call`]), can change a
//! ticket's status from the desk side and post the flavor's webhook about it, and injects faults
//! ([`Fault`]) into chosen requests: error statuses, 429s, hangs, connection resets, slow bodies
//! and "created, then failed" answers. A [`Pace`] makes it a slow or limited desk: a delay on
//! every ticket-API request, a cap on the requests it handles at once (those beyond get 429), and
//! a rate of creates (those beyond wait their turn); [`Desk::load`] reports what it saw.
//!
//! ```no_run
//! # async fn demo() {
//! use gatehouse_testdesk::{Desk, Fault, Flavor};
//! let desk = Desk::start(Flavor::ServiceNow).await;
//! desk.fail_next(1, Fault::Status(503));
//! // ... point Gatehouse at desk.url() with desk.credentials(), then:
//! assert_eq!(desk.tickets().len(), 1);
//! # }
//! ```
#![warn(missing_docs)]
// Handlers return a ready `Response` as the error of their checks; boxing it buys nothing here.
#![allow(clippy::result_large_err)]

mod auth;
mod generic;
mod jira;
mod server;
mod servicenow;
mod state;
mod webhook;

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::mpsc;

use state::State;

/// Which desk protocol a [`Desk`] speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Flavor {
    /// ServiceNow: `POST /oauth_token.do` and the Table API under `/api/now/table/{table}`.
    ServiceNow,
    /// Jira Cloud: `POST /oauth/token` and REST v3 under `/rest/api/3/` (issues and JQL search).
    Jira,
    /// A generic REST desk: `POST /oauth/token` and `/tickets`, with `Idempotency-Key` support.
    Generic,
}

/// A fault injected into a request instead of (or on top of) the desk's normal answer.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// Answer with this status and a small JSON error body in the flavor's shape; nothing is
    /// created or changed.
    Status(u16),
    /// Answer `429 Too Many Requests` with a `Retry-After: <retry_after_secs>` header; nothing is
    /// created or changed.
    TooMany {
        /// The value of the `Retry-After` header, in seconds.
        retry_after_secs: u64,
    },
    /// Read the request and never answer, keeping the connection open (until the client gives up
    /// or the desk stops). Other connections are unaffected.
    Hang,
    /// Close the connection (with a TCP reset) without sending any response bytes.
    Reset,
    /// Handle the request normally, send the status line and headers at once, and send the body
    /// only after `delay_ms` milliseconds, in small chunks.
    SlowBody {
        /// How long to hold the body back, in milliseconds.
        delay_ms: u64,
    },
    /// Handle the request for real (a create really creates the ticket), then replace the answer
    /// with this status and a JSON error body: a crash or timeout after the desk committed.
    CreatedThenStatus(u16),
    /// Answer with exactly this status, `Content-Type` and body, and a `Location` header if one is
    /// given: a broken or hostile desk (invalid JSON, an HTML page, a 200 holding an error, a
    /// redirect, a huge body). With `handled`, the request is first handled for real (a create
    /// really creates the ticket) and only its answer is replaced.
    Raw {
        /// The status.
        status: u16,
        /// The `Content-Type`.
        content_type: String,
        /// The body, sent as is.
        body: String,
        /// A `Location` header.
        location: Option<String>,
        /// Handle the request for real first.
        handled: bool,
    },
}

/// How fast the desk works, for load runs. Applies to the ticket API, not the token endpoint;
/// the default is a desk that answers at once, without limits.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Pace {
    /// How long each ticket-API request takes before the desk handles it (a slow desk).
    pub delay: Duration,
    /// At most this many ticket-API requests in the desk at once; a request beyond them is
    /// refused at once with `429 Too Many Requests` and `Retry-After: 1`, and counted in
    /// [`DeskLoad::refused`]. `None`: no cap.
    pub max_concurrent: Option<usize>,
    /// At most this many creates a second: a create beyond the rate waits in the desk until its
    /// turn (evenly spaced, `1 / creates_per_second` apart). `None` or `0`: no limit.
    pub creates_per_second: Option<u32>,
}

/// What a desk's ticket API has seen of concurrency, from [`Desk::load`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeskLoad {
    /// Ticket-API requests in the desk now.
    pub in_flight: usize,
    /// The most ticket-API requests that were in the desk at once.
    pub max_in_flight: usize,
    /// Requests refused with 429 because [`Pace::max_concurrent`] were already in the desk.
    pub refused: usize,
    /// Creates made to wait for their turn by [`Pace::creates_per_second`].
    pub creates_delayed: usize,
}

/// One request the desk received, recorded before any fault or authentication applied.
#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    /// The HTTP method, e.g. `"POST"`.
    pub method: String,
    /// The request path without the query, e.g. `"/api/now/table/incident"`.
    pub path: String,
    /// The raw query string (without `?`), if the request had one.
    pub query: Option<String>,
    /// Every header, names lower-cased, values as sent (non-UTF-8 bytes replaced), in order.
    pub headers: Vec<(String, String)>,
    /// The request body (non-UTF-8 bytes replaced).
    pub body: String,
    /// When the desk received it, in milliseconds since the Unix epoch by the desk's clock (the
    /// wall clock unless [`Desk::set_clock`] gave it another, e.g. a test's virtual clock).
    pub at_ms: i64,
    /// True when the desk answered it `429 Too Many Requests` (a [`Fault::TooMany`], or over
    /// [`Pace::max_concurrent`]).
    pub too_many: bool,
}

impl Call {
    /// The value of the first header named `name` (case-insensitive), if any.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A ticket held by the desk.
#[derive(Clone, Debug, PartialEq)]
pub struct Ticket {
    /// The desk's id: ServiceNow's `sys_id`, Jira's numeric issue id, the generic desk's `T-<n>`.
    pub id: String,
    /// The human-facing number: ServiceNow's `INC0010001`, Jira's issue key, the generic desk's
    /// id again.
    pub number: String,
    /// The correlation id the client attached: ServiceNow's `correlation_id` field, the Jira label
    /// starting with `gatehouse-`, the generic desk's `correlationId` field or `Idempotency-Key`.
    pub correlation_id: Option<String>,
    /// The fields as the client sent them (Jira: the `fields` object), merged with later updates;
    /// desk-assigned fields (ids, numbers, status) are not included.
    pub fields: serde_json::Value,
    /// The current status: ServiceNow's `state` (`"1"` when new), Jira's status name (`"To Do"`
    /// when new), the generic desk's `status` (`"open"` when new).
    pub status: String,
}

/// The credentials a desk accepts; fixed, the same for every desk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credentials {
    /// User name for Basic auth and the password grant.
    pub username: String,
    /// Password for Basic auth and the password grant.
    pub password: String,
    /// OAuth client id for the token endpoint.
    pub client_id: String,
    /// OAuth client secret for the token endpoint.
    pub client_secret: String,
    /// A refresh token the token endpoint always accepts (as well as those it issued).
    pub refresh_token: String,
    /// API token: Jira Basic `username:api_token`; Jira and generic `Bearer <api_token>`; generic
    /// `X-API-Key`.
    pub api_token: String,
}

impl Default for Credentials {
    fn default() -> Self {
        Credentials {
            username: "gatehouse".into(),
            password: "desk-password-1".into(),
            client_id: "gatehouse-client".into(),
            client_secret: "desk-client-secret-1".into(),
            refresh_token: "desk-refresh-1".into(),
            api_token: "desk-api-token-1".into(),
        }
    }
}

/// A running test desk. Cheap to clone; every clone controls the same desk, which serves until
/// [`Desk::stop`] is called or the last clone is dropped.
#[derive(Clone)]
pub struct Desk {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Arc<Shared>,
    url: String,
    server: tokio::task::AbortHandle,
    webhooks: mpsc::UnboundedSender<webhook::Delivery>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// What the server's tasks share with the [`Desk`] handles.
pub(crate) struct Shared {
    pub(crate) flavor: Flavor,
    pub(crate) url: String,
    pub(crate) creds: Credentials,
    pub(crate) state: Mutex<State>,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        // A panicking test thread must not wedge the desk for the others.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Desk {
    /// Binds `127.0.0.1:0` and serves `flavor` on the current tokio runtime until the last clone
    /// is dropped or [`Desk::stop`] is called.
    ///
    /// # Panics
    /// Outside a tokio runtime, or if the port cannot be bound.
    pub async fn start(flavor: Flavor) -> Desk {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("testdesk: bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("testdesk: local address");
        let url = format!("http://{addr}");
        let shared = Arc::new(Shared {
            flavor,
            url: url.clone(),
            creds: Credentials::default(),
            state: Mutex::new(State::new()),
        });
        let server = tokio::spawn(server::serve(listener, shared.clone())).abort_handle();
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(webhook::run(rx, shared.clone()));
        Desk {
            inner: Arc::new(Inner {
                shared,
                url,
                server,
                webhooks: tx,
            }),
        }
    }

    /// Stops serving now (for every clone): the listener closes and open connections, hanging
    /// ones included, are dropped. Recorded calls and tickets stay readable.
    pub fn stop(&self) {
        self.inner.server.abort();
    }

    /// The base URL, `http://127.0.0.1:PORT` (no trailing slash).
    pub fn url(&self) -> String {
        self.inner.url.clone()
    }

    /// The flavor this desk speaks.
    pub fn flavor(&self) -> Flavor {
        self.inner.shared.flavor
    }

    /// Every request received so far, in arrival order, token endpoint included.
    pub fn calls(&self) -> Vec<Call> {
        self.inner.shared.lock().calls.clone()
    }

    /// Every ticket created so far, in creation order, with its current fields and status.
    pub fn tickets(&self) -> Vec<Ticket> {
        let state = self.inner.shared.lock();
        state.tickets.iter().map(|t| t.public()).collect()
    }

    /// The tickets created after the first `skip`, in creation order: what is new since a
    /// caller last saw `skip` tickets, without copying the older ones (benchmarks poll this).
    pub fn tickets_after(&self, skip: usize) -> Vec<Ticket> {
        let state = self.inner.shared.lock();
        state
            .tickets
            .iter()
            .skip(skip)
            .map(|t| t.public())
            .collect()
    }

    /// Changes a ticket's status from the desk side (ServiceNow `state`, Jira status name, generic
    /// `status`), then, if a webhook is set, posts the flavor's webhook payload about it. The
    /// delivery is asynchronous; its outcome appears in [`Desk::webhook_results`].
    ///
    /// `ticket_id` is the ticket's id or its number (a Jira key works too).
    ///
    /// # Panics
    /// If no such ticket exists (a test bug worth failing loudly on).
    pub fn set_status(&self, ticket_id: &str, status: &str) {
        let shared = &self.inner.shared;
        let (payload, target) = {
            let mut state = shared.lock();
            let Some(ticket) = state.find_mut(ticket_id) else {
                panic!("testdesk: set_status on unknown ticket {ticket_id:?}");
            };
            ticket.status = status.to_string();
            let payload = match shared.flavor {
                Flavor::ServiceNow => servicenow::webhook_payload(ticket),
                Flavor::Jira => jira::webhook_payload(ticket),
                Flavor::Generic => generic::webhook_payload(ticket),
            };
            (payload, state.webhook.clone())
        };
        if let Some((url, bearer)) = target {
            // The receiver only goes away when the runtime shuts down; nothing to report then.
            let _ = self.inner.webhooks.send(webhook::Delivery {
                url,
                bearer,
                payload,
            });
        }
    }

    /// After each [`Desk::set_status`], POST the flavor's webhook payload (JSON) to `url` with
    /// `Authorization: Bearer <bearer_token>`.
    pub fn set_webhook(&self, url: &str, bearer_token: &str) {
        self.inner.shared.lock().webhook = Some((url.to_string(), bearer_token.to_string()));
    }

    /// The HTTP status each webhook delivery got, in order; `0` for a delivery that got no HTTP
    /// answer (connection refused, reset, or no answer within 10 s).
    pub fn webhook_results(&self) -> Vec<u16> {
        self.inner.shared.lock().webhook_results.clone()
    }

    /// Waits until at least `n` webhook deliveries have finished or `timeout` passes, and returns
    /// [`Desk::webhook_results`].
    pub async fn wait_for_webhooks(&self, n: usize, timeout: Duration) -> Vec<u16> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let results = self.webhook_results();
            if results.len() >= n || tokio::time::Instant::now() >= deadline {
                return results;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// The next `n` ticket-API requests (anything but the token endpoint) get `fault`. Queued
    /// after faults already queued by earlier calls.
    pub fn fail_next(&self, n: usize, fault: Fault) {
        let mut state = self.inner.shared.lock();
        state.api_faults.extend(std::iter::repeat_n(fault, n));
    }

    /// Each ticket-API request not hit by a queued fault gets `fault` with probability
    /// `probability` (0.0–1.0), drawn from a generator seeded once per desk (deterministic for a
    /// given request sequence). Replaces an earlier random fault; a probability outside 0.0–1.0
    /// is clamped (NaN counts as 0.0).
    pub fn fail_randomly(&self, probability: f64, fault: Fault) {
        let p = if probability.is_nan() {
            0.0
        } else {
            probability.clamp(0.0, 1.0)
        };
        let mut state = self.inner.shared.lock();
        state.random_fault = Some((p, fault));
        state.random_creates_only = false;
    }

    /// As [`Desk::fail_randomly`], but only creates (`POST`s of the ticket API other than a
    /// search) are drawn for: lookups, reads and updates are served. The draws come from the
    /// same seeded generator.
    pub fn fail_creates_randomly(&self, probability: f64, fault: Fault) {
        self.fail_randomly(probability, fault);
        self.inner.shared.lock().random_creates_only = true;
    }

    /// Every ticket-API request whose body or query string (raw or decoded) contains `needle`
    /// gets `fault`, for as long as the desk runs (until [`Desk::clear_faults`]): a desk that
    /// refuses one ticket for good, say for a field it cannot map, while it serves the others.
    /// Applies before queued and random faults; the first matching text wins.
    pub fn fail_matching(&self, needle: &str, fault: Fault) {
        let mut state = self.inner.shared.lock();
        state.matching_faults.push((needle.to_owned(), fault));
    }

    /// The next `n` token-endpoint requests get `fault`.
    pub fn fail_token_endpoint_next(&self, n: usize, fault: Fault) {
        let mut state = self.inner.shared.lock();
        state.token_faults.extend(std::iter::repeat_n(fault, n));
    }

    /// Removes every queued and random fault.
    pub fn clear_faults(&self) {
        let mut state = self.inner.shared.lock();
        state.api_faults.clear();
        state.token_faults.clear();
        state.random_fault = None;
        state.random_creates_only = false;
        state.matching_faults.clear();
    }

    /// The credentials this desk accepts.
    pub fn credentials(&self) -> Credentials {
        self.inner.shared.creds.clone()
    }

    /// Sets the lifetime (`expires_in`) of access tokens issued from now on; default 3600 s.
    /// `0` issues tokens that are already expired. An expired access token gets 401.
    pub fn set_token_lifetime(&self, secs: u64) {
        self.inner.shared.lock().token_lifetime = Duration::from_secs(secs);
    }

    /// Invalidates every access token issued so far (they get 401 from now on). Refresh tokens
    /// stay valid, so a client can get a new access token.
    pub fn expire_tokens(&self) {
        self.inner.shared.lock().access_tokens.clear();
    }

    /// Sets how fast the desk works from now on ([`Pace`]).
    pub fn set_pace(&self, pace: Pace) {
        self.inner.shared.lock().pace = pace;
    }

    /// Reads the time of each request ([`Call::at_ms`]) from `clock` (milliseconds since the Unix
    /// epoch) from now on, instead of the wall clock: a test on a virtual clock gives it that one,
    /// so that the calls' times compare with the times the service under test sees.
    pub fn set_clock(&self, clock: impl Fn() -> i64 + Send + Sync + 'static) {
        self.inner.shared.lock().clock = Some(Arc::new(clock));
    }

    /// The concurrency its ticket API has seen so far.
    pub fn load(&self) -> DeskLoad {
        self.inner.shared.lock().load
    }

    /// How many tickets it holds (without copying them, unlike [`Desk::tickets`]).
    pub fn ticket_count(&self) -> usize {
        self.inner.shared.lock().tickets.len()
    }

    /// How many access tokens the token endpoint has issued.
    pub fn tokens_issued(&self) -> usize {
        self.inner.shared.lock().tokens_issued
    }
}
