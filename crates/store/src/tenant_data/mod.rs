//! Import and export of a whole tenant: identities (with managers), clusters, governance groups,
//! sources, entitlements, access profiles, roles, accounts and assignments, in the JSON format of
//! `docs/IMPORT-FORMAT.md` (and a CSV form for identities and entitlements).
//!
//! An import is checked whole before anything is written: every record is parsed, every reference
//! resolved against the file and the tenant, every rule checked, and each bad record is reported
//! with its file, line and reason. Only a file without problems is written, inside the caller's
//! transaction, many rows per statement: it is all or nothing. Records are matched to stored
//! objects by id, or else by name (an entitlement by source, attribute and value; an account by
//! source and native identity), so importing the same file twice changes nothing the second time.

mod csv;
mod export;
pub mod model;
mod plan;
mod scan;
pub mod task;

pub use self::csv::CsvKind;
pub use export::{export, Export};
pub use plan::{derived_id, import};

use model::{
    AccessProfileRec, AccountRec, AssignmentRec, ClusterRec, EntitlementRec, GroupRec, IdentityRec,
    RoleRec, SourceRec,
};
use serde::de::DeserializeOwned;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// The value of the file's `"gatehouse"` member.
pub const FORMAT: &str = "tenant/1";

/// The demo tenant shipped with Gatehouse (`demo/tenant.json`, made by `tools/gen_demo.py`).
pub const DEMO: &str = include_str!("../../../../demo/tenant.json");

/// The kinds of record, in the order they are written, with their member name in the file.
pub const KINDS: &[(&str, &str)] = &[
    ("identities", "identity"),
    ("clusters", "cluster"),
    ("governanceGroups", "governance group"),
    ("sources", "source"),
    ("entitlements", "entitlement"),
    ("accessProfiles", "access profile"),
    ("roles", "role"),
    ("accounts", "account"),
    ("assignments", "assignment"),
];

/// Where a record came from: the index of its file and its line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Loc {
    file: u16,
    line: u32,
}

/// One bad record: where it is and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The file.
    pub file: String,
    /// The line the record starts on (1-based).
    pub line: u32,
    /// The kind of record (`identity`, `access profile`, …).
    pub kind: &'static str,
    /// Its name or key, when known.
    pub key: Option<String>,
    /// What is wrong.
    pub reason: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.kind)?;
        if let Some(k) = &self.key {
            write!(f, " '{k}'")?;
        }
        write!(f, ": {}", self.reason)
    }
}

/// The records of one import, from one or more files, and the problems found reading them.
#[derive(Debug, Default)]
pub struct TenantFile {
    files: Vec<String>,
    pub(crate) identities: Vec<(Loc, IdentityRec)>,
    pub(crate) clusters: Vec<(Loc, ClusterRec)>,
    pub(crate) groups: Vec<(Loc, GroupRec)>,
    pub(crate) sources: Vec<(Loc, SourceRec)>,
    pub(crate) entitlements: Vec<(Loc, EntitlementRec)>,
    pub(crate) access_profiles: Vec<(Loc, AccessProfileRec)>,
    pub(crate) roles: Vec<(Loc, RoleRec)>,
    pub(crate) accounts: Vec<(Loc, AccountRec)>,
    pub(crate) assignments: Vec<(Loc, AssignmentRec)>,
    problems: Vec<Problem>,
}

/// serde's message without its own position (we report the record's line).
fn serde_reason(e: &serde_json::Error, start_line: u32) -> String {
    let text = e.to_string();
    let bare = text
        .rfind(" at line ")
        .map_or(text.as_str(), |i| &text[..i]);
    if e.line() > 1 {
        format!("{bare} (line {})", start_line as usize + e.line() - 1)
    } else {
        bare.to_owned()
    }
}

/// The record's name, when it has one, for messages about records that did not parse.
fn key_of(bytes: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    v.get("name")
        .or_else(|| v.get("value"))
        .or_else(|| v.get("nativeIdentity"))
        .and_then(|n| n.as_str())
        .map(str::to_owned)
}

impl TenantFile {
    /// An empty import.
    pub fn new() -> Self {
        Self::default()
    }

    fn file_index(&mut self, name: &str) -> u16 {
        self.files.push(name.to_owned());
        u16::try_from(self.files.len() - 1).unwrap_or(u16::MAX)
    }

    pub(crate) fn file_name(&self, loc: Loc) -> &str {
        self.files
            .get(usize::from(loc.file))
            .map_or("?", String::as_str)
    }

    pub(crate) fn problem(
        &mut self,
        loc: Loc,
        kind: &'static str,
        key: Option<&str>,
        reason: impl Into<String>,
    ) {
        let file = self.file_name(loc).to_owned();
        self.problems.push(Problem {
            file,
            line: loc.line,
            kind,
            key: key.map(str::to_owned),
            reason: reason.into(),
        });
    }

    /// Problems found so far.
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    pub(crate) fn take_problems(&mut self) -> Vec<Problem> {
        std::mem::take(&mut self.problems)
    }

    /// Records read.
    pub fn len(&self) -> usize {
        self.identities.len()
            + self.clusters.len()
            + self.groups.len()
            + self.sources.len()
            + self.entitlements.len()
            + self.access_profiles.len()
            + self.roles.len()
            + self.accounts.len()
            + self.assignments.len()
    }

    /// True when no record was read.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn take<T: DeserializeOwned>(
        &mut self,
        loc: Loc,
        kind: &'static str,
        bytes: &[u8],
    ) -> Option<T> {
        match serde_json::from_slice::<T>(bytes) {
            Ok(r) => Some(r),
            Err(e) => {
                let key = key_of(bytes);
                self.problem(loc, kind, key.as_deref(), serde_reason(&e, loc.line));
                None
            }
        }
    }

    /// Reads a tenant file in the JSON format (`name` is used in messages).
    pub fn add_json(&mut self, name: &str, text: &[u8]) {
        let file = self.file_index(name);
        let arrays: Vec<&str> = KINDS.iter().map(|(k, _)| *k).collect();
        let members = match scan::scan(text, &arrays) {
            Ok(m) => m,
            Err(e) => {
                self.problem(Loc { file, line: e.line }, "file", None, e.reason);
                return;
            }
        };
        let mut seen: Vec<(String, u32)> = Vec::new();
        for m in members {
            let loc = Loc { file, line: m.line };
            if let Some((_, first)) = seen.iter().find(|(k, _)| *k == m.key) {
                let reason = format!("member '{}' appears twice (also on line {first})", m.key);
                self.problem(loc, "file", None, reason);
                continue;
            }
            seen.push((m.key.clone(), m.line));
            if m.key == "gatehouse" {
                match serde_json::from_slice::<String>(m.value) {
                    Ok(v) if v == FORMAT => {}
                    _ => self.problem(
                        loc,
                        "file",
                        None,
                        format!(
                            "\"gatehouse\" must be \"{FORMAT}\", the format this version reads"
                        ),
                    ),
                }
                continue;
            }
            let Some(&(_, kind)) = KINDS.iter().find(|(k, _)| *k == m.key) else {
                let reason = format!(
                    "unknown member '{}'; a tenant file has \"gatehouse\" and {}",
                    m.key,
                    arrays.join(", ")
                );
                self.problem(loc, "file", None, reason);
                continue;
            };
            let Some(elements) = m.elements else {
                self.problem(loc, "file", None, format!("'{}' must be an array", m.key));
                continue;
            };
            for el in elements {
                let loc = Loc {
                    file,
                    line: el.line,
                };
                self.add_element(m.key.as_str(), kind, loc, el.bytes);
            }
        }
    }

    fn add_element(&mut self, member: &str, kind: &'static str, loc: Loc, bytes: &[u8]) {
        match member {
            "identities" => {
                if let Some(r) = self.take(loc, kind, bytes) {
                    self.identities.push((loc, r));
                }
            }
            "clusters" => {
                if let Some(r) = self.take(loc, kind, bytes) {
                    self.clusters.push((loc, r));
                }
            }
            "governanceGroups" => {
                if let Some(r) = self.take(loc, kind, bytes) {
                    self.groups.push((loc, r));
                }
            }
            "sources" => {
                if let Some(r) = self.take(loc, kind, bytes) {
                    self.sources.push((loc, r));
                }
            }
            "entitlements" => {
                if let Some(r) = self.take(loc, kind, bytes) {
                    self.entitlements.push((loc, r));
                }
            }
            "accessProfiles" => {
                if let Some(r) = self.take(loc, kind, bytes) {
                    self.access_profiles.push((loc, r));
                }
            }
            "roles" => {
                if let Some(r) = self.take(loc, kind, bytes) {
                    self.roles.push((loc, r));
                }
            }
            "accounts" => {
                if let Some(r) = self.take(loc, kind, bytes) {
                    self.accounts.push((loc, r));
                }
            }
            _ => {
                if let Some(r) = self.take(loc, kind, bytes) {
                    self.assignments.push((loc, r));
                }
            }
        }
    }

    /// Reads a CSV file of identities or entitlements (see `docs/IMPORT-FORMAT.md`).
    pub fn add_csv(&mut self, name: &str, text: &[u8], kind: CsvKind) {
        let file = self.file_index(name);
        csv::read(self, file, text, kind);
    }

    /// The demo tenant's records.
    pub fn demo() -> Self {
        let mut f = Self::new();
        f.add_json("demo/tenant.json", DEMO.as_bytes());
        f
    }
}

/// How far an import is, for a progress bar. Shared between the caller and the write.
#[derive(Debug, Default)]
pub struct Progress {
    phase: Mutex<String>,
    done: AtomicU64,
    total: AtomicU64,
}

impl Progress {
    /// A fresh counter.
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts phase `phase` of `total` steps.
    pub fn start(&self, phase: &str, total: u64) {
        if let Ok(mut p) = self.phase.lock() {
            phase.clone_into(&mut p);
        }
        self.total.store(total, Ordering::Relaxed);
        self.done.store(0, Ordering::Relaxed);
    }

    /// Counts `n` more steps done.
    pub fn add(&self, n: u64) {
        self.done.fetch_add(n, Ordering::Relaxed);
    }

    /// (phase, done, total).
    pub fn get(&self) -> (String, u64, u64) {
        (
            self.phase.lock().map(|p| p.clone()).unwrap_or_default(),
            self.done.load(Ordering::Relaxed),
            self.total.load(Ordering::Relaxed),
        )
    }
}

/// What an import did to one kind of record.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// New objects.
    pub created: u64,
    /// Objects that differed and were rewritten.
    pub updated: u64,
    /// Objects already exactly as the file says.
    pub unchanged: u64,
}

/// What an import did, per kind (in [`KINDS`] order).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// (kind, counts).
    pub kinds: Vec<(&'static str, Counts)>,
}

impl Summary {
    /// The counts of `kind` (`identity`, `source`, …).
    pub fn of(&self, kind: &str) -> Counts {
        self.kinds
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, c)| *c)
            .unwrap_or_default()
    }

    /// Objects created or updated, all kinds.
    pub fn changed(&self) -> u64 {
        self.kinds.iter().map(|(_, c)| c.created + c.updated).sum()
    }
}

/// The result of an import.
#[derive(Debug)]
pub enum Outcome {
    /// Written.
    Imported(Summary),
    /// Nothing was written, because of these problems.
    Rejected(Vec<Problem>),
}

/// Imports the demo tenant into `tenant_id`.
pub fn import_demo(
    c: &mut dyn crate::Conn,
    tenant_id: &str,
    now: gatehouse_domain::Timestamp,
    launcher: task::Launcher,
) -> Result<Summary, crate::StoreError> {
    match import(c, tenant_id, TenantFile::demo(), now, &Progress::new())? {
        Outcome::Imported(s) => {
            crate::task_status::record(c, tenant_id, &task::imported(&s, &[], launcher, now, now))?;
            Ok(s)
        }
        Outcome::Rejected(p) => Err(crate::StoreError::Decode(format!(
            "the demo tenant does not import: {}",
            p.first().map(ToString::to_string).unwrap_or_default()
        ))),
    }
}

/// On a store without a tenant, creates it (as `tenants::ensure_default` would) and imports the
/// demo tenant into it, in the caller's transaction. Returns the summary, or `None` when a tenant
/// already existed (nothing is done then).
pub fn seed_demo_if_new(
    c: &mut dyn crate::Conn,
    tenant_id: &str,
    tenant_name: &str,
    now: gatehouse_domain::Timestamp,
) -> Result<Option<Summary>, crate::StoreError> {
    if crate::tenants::first(c)?.is_some() {
        return Ok(None);
    }
    let t = crate::tenants::ensure_default(c, tenant_id, tenant_name, now)?;
    import_demo(c, &t.id, now, task::Launcher::Command("gatehouse serve")).map(Some)
}
