//! The desk's in-memory state, shared by the handlers and the [`crate::Desk`] handles.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value};
use tokio::time::Instant;

use crate::{Call, DeskLoad, Fault, Pace, Ticket};

/// A stored ticket; rendered per flavor by the protocol modules.
#[derive(Clone, Debug)]
pub(crate) struct Rec {
    pub(crate) id: String,
    pub(crate) number: String,
    pub(crate) correlation_id: Option<String>,
    pub(crate) fields: Map<String, Value>,
    pub(crate) status: String,
    /// ServiceNow's table; Jira's project key; empty for the generic desk.
    pub(crate) container: String,
}

impl Rec {
    pub(crate) fn public(&self) -> Ticket {
        Ticket {
            id: self.id.clone(),
            number: self.number.clone(),
            correlation_id: self.correlation_id.clone(),
            fields: Value::Object(self.fields.clone()),
            status: self.status.clone(),
        }
    }
}

pub(crate) struct State {
    pub(crate) calls: Vec<Call>,
    pub(crate) tickets: Vec<Rec>,
    /// Per-prefix / per-project / global counters for numbers and ids.
    pub(crate) counters: HashMap<String, u64>,
    pub(crate) webhook: Option<(String, String)>,
    pub(crate) webhook_results: Vec<u16>,
    pub(crate) api_faults: VecDeque<Fault>,
    pub(crate) token_faults: VecDeque<Fault>,
    pub(crate) random_fault: Option<(f64, Fault)>,
    /// The random fault is drawn for creates only (`POST`s other than a search).
    pub(crate) random_creates_only: bool,
    /// Faults for every ticket-API request whose body or query holds the text, first match wins.
    pub(crate) matching_faults: Vec<(String, Fault)>,
    rng: StdRng,
    pub(crate) token_lifetime: Duration,
    /// Valid access tokens and when they expire.
    pub(crate) access_tokens: HashMap<String, Instant>,
    pub(crate) refresh_tokens: HashSet<String>,
    pub(crate) tokens_issued: usize,
    pub(crate) pace: Pace,
    pub(crate) load: DeskLoad,
    /// When the next create may be handled under [`Pace::creates_per_second`].
    pub(crate) next_create: Option<Instant>,
    /// The clock of [`Call::at_ms`]; `None`: the wall clock.
    pub(crate) clock: Option<std::sync::Arc<dyn Fn() -> i64 + Send + Sync>>,
}

impl State {
    pub(crate) fn new() -> State {
        State {
            calls: Vec::new(),
            tickets: Vec::new(),
            counters: HashMap::new(),
            webhook: None,
            webhook_results: Vec::new(),
            api_faults: VecDeque::new(),
            token_faults: VecDeque::new(),
            random_fault: None,
            random_creates_only: false,
            matching_faults: Vec::new(),
            rng: StdRng::seed_from_u64(0x6a7e_4015e),
            token_lifetime: Duration::from_secs(3600),
            access_tokens: HashMap::new(),
            refresh_tokens: HashSet::new(),
            tokens_issued: 0,
            pace: Pace::default(),
            load: DeskLoad::default(),
            next_create: None,
            clock: None,
        }
    }

    /// Now, by the desk's clock, in milliseconds since the Unix epoch.
    pub(crate) fn now_ms(&self) -> i64 {
        match &self.clock {
            Some(clock) => clock(),
            None => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
        }
    }

    /// The next value of the named counter, starting at `first`.
    pub(crate) fn next(&mut self, counter: &str, first: u64) -> u64 {
        let n = self
            .counters
            .entry(counter.to_string())
            .or_insert(first - 1);
        *n += 1;
        *n
    }

    /// The fault for a ticket-API request holding a text given to [`crate::Desk::fail_matching`].
    pub(crate) fn matching_fault(&self, call: &Call, token_endpoint: bool) -> Option<Fault> {
        if token_endpoint {
            return None;
        }
        self.matching_faults
            .iter()
            .find(|(needle, _)| {
                call.body.contains(needle.as_str())
                    || call.query.as_deref().is_some_and(|q| {
                        q.contains(needle.as_str())
                            || crate::server::query_pairs(Some(q))
                                .iter()
                                .any(|(_, v)| v.contains(needle.as_str()))
                    })
            })
            .map(|(_, f)| f.clone())
    }

    /// The fault for the next request: a queued one first, then a random draw.
    pub(crate) fn take_fault(&mut self, token_endpoint: bool, call: &Call) -> Option<Fault> {
        if token_endpoint {
            return self.token_faults.pop_front();
        }
        if let Some(fault) = self.api_faults.pop_front() {
            return Some(fault);
        }
        let create = call.method == "POST" && !call.path.contains("/search");
        if self.random_creates_only && !create {
            return None;
        }
        let (p, fault) = self.random_fault.clone()?;
        self.rng.random_bool(p).then_some(fault)
    }

    /// Admits a ticket-API request under [`Pace::max_concurrent`]: false (and counted as refused)
    /// when the desk already holds as many.
    pub(crate) fn admit(&mut self) -> bool {
        if self
            .pace
            .max_concurrent
            .is_some_and(|cap| self.load.in_flight >= cap)
        {
            self.load.refused += 1;
            return false;
        }
        self.load.in_flight += 1;
        self.load.max_in_flight = self.load.max_in_flight.max(self.load.in_flight);
        true
    }

    /// When a create arriving now may be handled under [`Pace::creates_per_second`] (now when
    /// there is no rate), taking that turn.
    pub(crate) fn create_turn(&mut self, now: Instant) -> Instant {
        let Some(rate) = self.pace.creates_per_second.filter(|r| *r > 0) else {
            return now;
        };
        let turn = self.next_create.map_or(now, |next| next.max(now));
        self.next_create = Some(turn + Duration::from_secs(1) / rate);
        if turn > now {
            self.load.creates_delayed += 1;
        }
        turn
    }

    pub(crate) fn find_mut(&mut self, id_or_number: &str) -> Option<&mut Rec> {
        self.tickets
            .iter_mut()
            .find(|t| t.id == id_or_number || t.number == id_or_number)
    }

    pub(crate) fn find(&self, id_or_number: &str) -> Option<&Rec> {
        self.tickets
            .iter()
            .find(|t| t.id == id_or_number || t.number == id_or_number)
    }

    /// Issues an access token (and, if asked, a refresh token) valid for the current lifetime.
    pub(crate) fn issue_token(&mut self, with_refresh: bool) -> (String, Option<String>, u64) {
        let access = random_token();
        let lifetime = self.token_lifetime;
        self.access_tokens
            .insert(access.clone(), Instant::now() + lifetime);
        self.tokens_issued += 1;
        let refresh = with_refresh.then(|| {
            let r = random_token();
            self.refresh_tokens.insert(r.clone());
            r
        });
        (access, refresh, lifetime.as_secs())
    }

    pub(crate) fn access_token_valid(&self, token: &str) -> bool {
        self.access_tokens
            .get(token)
            .is_some_and(|exp| Instant::now() < *exp)
    }
}

fn random_token() -> String {
    let bytes: [u8; 24] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
