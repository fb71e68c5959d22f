//! Checking an import against the file and the tenant, then writing it.
//!
//! Each kind is planned in dependency order (identities, clusters, governance groups, sources,
//! entitlements, access profiles, roles, accounts, assignments): every record gets its target id
//! (its own, the stored object's with the same name, or one derived from the name), its references
//! are resolved against the file and the tenant, its rules are checked, and its row is compared
//! with the stored one. Problems are collected, never thrown; only an import without problems
//! reaches [`Writer`], which upserts many rows per statement in the same order.

use super::model::{AccountRef, EntitlementRef, Ref};
use super::{Counts, Loc, Outcome, Problem, Progress, Summary, TenantFile};
use crate::bulk::{insert_rows, parents_first, upsert_by_id};
use crate::{Conn, StoreError, Value};
use gatehouse_domain::ids::is_hex_id;
use gatehouse_domain::{Authority, Timestamp};
use serde_json::{Map, Value as Json};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};

/// Separates the parts of a natural key (and of the text an id is derived from).
pub(crate) const SEP: char = '\u{1f}';

/// A table written by import: its name, the kind's name in messages, the tag its derived ids use,
/// its columns (in the order rows are built) and which of them hold JSON text.
pub(crate) struct Table {
    pub name: &'static str,
    pub kind: &'static str,
    pub tag: &'static str,
    pub cols: &'static [&'static str],
    pub json: &'static [&'static str],
}

pub(crate) const IDENTITY: Table = Table {
    name: "identity",
    kind: "identity",
    tag: "identity",
    cols: &[
        "id",
        "tenant_id",
        "name",
        "display_name",
        "email",
        "authorities",
        "created",
        "modified",
        "alias",
        "first_name",
        "last_name",
        "manager_id",
        "lifecycle_state",
        "cloud_status",
        "processing_state",
        "correlated",
        "is_protected",
        "attributes",
    ],
    json: &["authorities", "attributes"],
};
pub(crate) const CLUSTER: Table = Table {
    name: "managed_cluster",
    kind: "cluster",
    tag: "cluster",
    cols: &[
        "id",
        "tenant_id",
        "name",
        "type",
        "description",
        "operational",
        "status",
        "document",
        "created",
        "modified",
    ],
    json: &["document"],
};
pub(crate) const GROUP: Table = Table {
    name: "governance_group",
    kind: "governance group",
    tag: "governanceGroup",
    cols: &[
        "id",
        "tenant_id",
        "name",
        "description",
        "owner_id",
        "created",
        "modified",
    ],
    json: &[],
};
pub(crate) const SOURCE: Table = Table {
    name: "source",
    kind: "source",
    tag: "source",
    cols: &[
        "id",
        "tenant_id",
        "name",
        "description",
        "type",
        "owner_id",
        "cluster_id",
        "management_workgroup_id",
        "connector",
        "connection_type",
        "authoritative",
        "healthy",
        "status",
        "features",
        "document",
        "created",
        "modified",
    ],
    json: &["features", "document"],
};
pub(crate) const ENTITLEMENT: Table = Table {
    name: "entitlement",
    kind: "entitlement",
    tag: "entitlement",
    cols: &[
        "id",
        "tenant_id",
        "source_id",
        "name",
        "attribute",
        "value",
        "type",
        "description",
        "owner_id",
        "requestable",
        "privileged",
        "document",
        "created",
        "modified",
    ],
    json: &["document"],
};
pub(crate) const ACCESS_PROFILE: Table = Table {
    name: "access_profile",
    kind: "access profile",
    tag: "accessProfile",
    cols: &[
        "id",
        "tenant_id",
        "name",
        "description",
        "source_id",
        "owner_id",
        "enabled",
        "requestable",
        "access_request_config",
        "revocation_request_config",
        "document",
        "created",
        "modified",
    ],
    json: &[
        "access_request_config",
        "revocation_request_config",
        "document",
    ],
};
pub(crate) const ROLE: Table = Table {
    name: "role",
    kind: "role",
    tag: "role",
    cols: &[
        "id",
        "tenant_id",
        "name",
        "description",
        "owner_id",
        "enabled",
        "requestable",
        "dimensional",
        "access_request_config",
        "revocation_request_config",
        "document",
        "created",
        "modified",
    ],
    json: &[
        "access_request_config",
        "revocation_request_config",
        "document",
    ],
};
pub(crate) const ACCOUNT: Table = Table {
    name: "account",
    kind: "account",
    tag: "account",
    cols: &[
        "id",
        "tenant_id",
        "source_id",
        "identity_id",
        "name",
        "native_identity",
        "uuid",
        "disabled",
        "locked",
        "manually_correlated",
        "origin",
        "attributes",
        "created",
        "modified",
    ],
    json: &["attributes"],
};
pub(crate) const ASSIGNMENT: Table = Table {
    name: "assignment",
    kind: "assignment",
    tag: "assignment",
    cols: &[
        "id",
        "tenant_id",
        "identity_id",
        "item_type",
        "item_id",
        "reason",
        "access_request_id",
        "account_id",
        "start_date",
        "remove_date",
        "created",
        "modified",
    ],
    json: &[],
};

impl Table {
    pub(crate) fn col(&self, name: &str) -> usize {
        self.cols
            .iter()
            .position(|c| *c == name)
            .unwrap_or_else(|| panic!("{} has no column {name}", self.name))
    }

    pub(crate) fn select(&self) -> String {
        format!(
            "select {} from {} where tenant_id = $1",
            self.cols.join(", "),
            self.name
        )
    }

    fn columns(&self) -> Vec<String> {
        self.cols.iter().map(|c| (*c).to_owned()).collect()
    }
}

/// The id a record without one gets: the first 128 bits of SHA-256 over the kind's tag and its
/// natural key, joined by U+001F, in hex. Importing the same names gives the same ids everywhere.
pub fn derived_id(tag: &str, key: &str) -> String {
    let digest = Sha256::digest(format!("{tag}{SEP}{key}").as_bytes());
    let mut b = [0_u8; 16];
    b.copy_from_slice(&digest[..16]);
    gatehouse_domain::new_hex_id(b)
}

fn random_id() -> String {
    gatehouse_domain::new_hex_id(rand::random::<[u8; 16]>())
}

fn text(v: &Value) -> Option<&str> {
    match v {
        Value::Text(s) => Some(s),
        _ => None,
    }
}

/// Equal as stored: booleans read back as 0/1 on SQLite; JSON compared as values.
fn same_value(a: &Value, b: &Value, json: bool) -> bool {
    match (a, b) {
        (Value::Bool(x), Value::Int(y)) | (Value::Int(y), Value::Bool(x)) => (*y != 0) == *x,
        (Value::Text(x), Value::Text(y)) if json && x != y => {
            match (
                serde_json::from_str::<Json>(x),
                serde_json::from_str::<Json>(y),
            ) {
                (Ok(p), Ok(q)) => p == q,
                _ => false,
            }
        }
        _ => a == b,
    }
}

fn opt_json(v: Option<Json>) -> Value {
    match v {
        None | Some(Json::Null) => Value::Null,
        Some(j) => Value::Text(j.to_string()),
    }
}

fn map_json(m: Option<Map<String, Json>>) -> Value {
    Value::Text(Json::Object(m.unwrap_or_default()).to_string())
}

/// One kind's stored rows and, once ids are assigned, its final index (stored ∪ file).
struct Kind {
    t: &'static Table,
    existing: HashMap<String, Vec<Value>>,
    existing_key: HashMap<String, String>,
    existing_by_key: HashMap<String, String>,
    by_key: HashMap<String, String>,
    ids: HashSet<String>,
    /// Ids in the file that stand for a stored object of the same name (and another id).
    alias: HashMap<String, String>,
    counts: Counts,
}

impl Kind {
    fn load(
        c: &mut dyn Conn,
        t: &'static Table,
        tenant: &str,
        key: impl Fn(&[Value]) -> String,
    ) -> Result<Self, StoreError> {
        let mut k = Self {
            t,
            existing: HashMap::new(),
            existing_key: HashMap::new(),
            existing_by_key: HashMap::new(),
            by_key: HashMap::new(),
            ids: HashSet::new(),
            alias: HashMap::new(),
            counts: Counts::default(),
        };
        for r in c.query(&t.select(), &[tenant.into()])? {
            let id = r.text(0)?;
            let kk = key(&r.0);
            k.existing_by_key.insert(kk.clone(), id.clone());
            k.existing_key.insert(id.clone(), kk);
            k.existing.insert(id, r.0);
        }
        Ok(k)
    }

    /// The stored id a file id stands for.
    fn canonical<'a>(&'a self, id: &'a String) -> &'a String {
        self.alias.get(id).unwrap_or(id)
    }

    /// Resolves a by-name or by-id reference to an object of this kind.
    fn resolve(&self, r: &Ref) -> Result<String, String> {
        let kind = self.t.kind;
        match (&r.id, &r.name) {
            (Some(id), name) => {
                let id = self.canonical(id);
                if !self.ids.contains(id) {
                    return Err(format!("no {kind} has id '{id}'"));
                }
                if let Some(n) = name {
                    if self.by_key.get(n) != Some(id) {
                        return Err(format!("{kind} id '{id}' is not named '{n}'"));
                    }
                }
                Ok(id.clone())
            }
            (None, Some(n)) => self
                .by_key
                .get(n)
                .cloned()
                .ok_or_else(|| format!("no {kind} named '{n}' in the file or the tenant")),
            (None, None) => Err(format!("an empty {kind} reference")),
        }
    }

    /// Compares `row` with the stored row of the same id and counts it. `None` = unchanged.
    fn settle(
        &mut self,
        mut row: Vec<Value>,
        given: (bool, bool),
        links_changed: bool,
        now: Timestamp,
    ) -> Option<Vec<Value>> {
        let (ci, mi) = (self.t.col("created"), self.t.col("modified"));
        let id = text(&row[0]).unwrap_or_default().to_owned();
        match self.existing.get(&id) {
            None => {
                if !given.0 {
                    row[ci] = now.into();
                }
                if !given.1 {
                    row[mi] = row[ci].clone();
                }
                self.counts.created += 1;
                Some(row)
            }
            Some(old) => {
                if !given.0 {
                    row[ci] = old[ci].clone();
                }
                if !given.1 {
                    row[mi] = old[mi].clone();
                }
                let same =
                    !links_changed
                        && row.iter().zip(old).enumerate().all(|(i, (a, b))| {
                            same_value(a, b, self.t.json.contains(&self.t.cols[i]))
                        });
                if same {
                    self.counts.unchanged += 1;
                    None
                } else {
                    if !given.1 {
                        row[mi] = now.into();
                    }
                    self.counts.updated += 1;
                    Some(row)
                }
            }
        }
    }
}

/// A write to run once the whole import is known to be good.
enum Op {
    Upsert(&'static Table, Vec<Vec<Value>>),
    Insert(&'static str, &'static [&'static str], Vec<Vec<Value>>),
    Execute(String, Vec<Value>),
}

/// A record's key facts for id assignment.
struct Claim {
    loc: Loc,
    key: Option<String>,
    id: Option<String>,
    label: Option<String>,
}

struct Planner<'c> {
    c: &'c mut dyn Conn,
    tenant: String,
    now: Timestamp,
    files: Vec<String>,
    problems: Vec<Problem>,
    ops: Vec<Op>,
    /// The store holds one tenant: an id not in it is in none.
    single_tenant: bool,
}

impl Planner<'_> {
    fn bad(&mut self, loc: Loc, kind: &'static str, key: Option<&str>, reason: impl Into<String>) {
        self.problems.push(Problem {
            file: self
                .files
                .get(usize::from(loc.file))
                .cloned()
                .unwrap_or_default(),
            line: loc.line,
            kind,
            key: key.map(str::to_owned),
            reason: reason.into(),
        });
    }

    fn date(
        &mut self,
        loc: Loc,
        kind: &'static str,
        key: &str,
        field: &str,
        v: Option<&String>,
    ) -> Value {
        match v {
            None => Value::Null,
            Some(s) => match Timestamp::parse_rfc3339(s) {
                Ok(t) => t.into(),
                Err(_) => {
                    self.bad(
                        loc,
                        kind,
                        Some(key),
                        format!("{field} '{s}' is not an RFC 3339 date-time"),
                    );
                    Value::Null
                }
            },
        }
    }

    /// Ids of `table` among `ids` that exist in any tenant.
    fn taken(&mut self, table: &str, ids: &[String]) -> Result<HashSet<String>, StoreError> {
        let mut out = HashSet::new();
        for chunk in ids.chunks(500) {
            let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let params: Vec<Value> = chunk.iter().map(Value::from).collect();
            for r in self.c.query(
                &format!("select id from {table} where id in ({})", marks.join(", ")),
                &params,
            )? {
                out.insert(r.text(0)?);
            }
        }
        Ok(out)
    }

    /// Gives every record its target id and builds the kind's final index.
    fn assign(
        &mut self,
        k: &mut Kind,
        claims: &[Claim],
    ) -> Result<Vec<Option<String>>, StoreError> {
        let kind = k.t.kind;
        let mut targets: Vec<Option<String>> = vec![None; claims.len()];
        let mut by_id: HashMap<String, usize> = HashMap::with_capacity(claims.len());
        let mut by_key: HashMap<String, usize> = HashMap::with_capacity(claims.len());
        let line = |i: usize| claims[i].loc.line;
        for (i, cl) in claims.iter().enumerate() {
            let Some(id) = &cl.id else { continue };
            let label = cl.label.as_deref();
            if !is_hex_id(id) {
                self.bad(
                    cl.loc,
                    kind,
                    label,
                    format!("id '{id}' is not 32 lower-case hex characters"),
                );
                continue;
            }
            if let Some(&j) = by_id.get(id) {
                self.bad(
                    cl.loc,
                    kind,
                    label,
                    format!("id '{id}' is also used on line {}", line(j)),
                );
                continue;
            }
            if let Some(key) = &cl.key {
                if let Some(&j) = by_key.get(key) {
                    self.bad(
                        cl.loc,
                        kind,
                        label,
                        format!("the same {kind} is also on line {}", line(j)),
                    );
                    continue;
                }
                if let Some(holder) = k.existing_by_key.get(key) {
                    if holder != id && k.existing.contains_key(id) {
                        self.bad(cl.loc, kind, label, format!(
                            "another {kind} of the tenant (id '{holder}') has this name; rename it first"
                        ));
                        continue;
                    }
                    if holder != id {
                        // An id the tenant does not know, for a name it does (a file exported
                        // from another installation): the stored object is the one meant.
                        if let Some(&j) = by_id.get(holder) {
                            self.bad(cl.loc, kind, label, format!(
                                "this is the stored {kind} '{holder}', which line {} also names", line(j)
                            ));
                            continue;
                        }
                        k.alias.insert(id.clone(), holder.clone());
                        by_key.insert(key.clone(), i);
                        by_id.insert(holder.clone(), i);
                        targets[i] = Some(holder.clone());
                        continue;
                    }
                }
                by_key.insert(key.clone(), i);
            }
            by_id.insert(id.clone(), i);
            targets[i] = Some(id.clone());
        }
        for (i, cl) in claims.iter().enumerate() {
            if cl.id.is_some() {
                continue;
            }
            let Some(key) = &cl.key else { continue };
            let label = cl.label.as_deref();
            if let Some(&j) = by_key.get(key) {
                self.bad(
                    cl.loc,
                    kind,
                    label,
                    format!("the same {kind} is also on line {}", line(j)),
                );
                continue;
            }
            by_key.insert(key.clone(), i);
            let id = match k.existing_by_key.get(key) {
                Some(x) => {
                    if let Some(&j) = by_id.get(x) {
                        self.bad(
                            cl.loc,
                            kind,
                            label,
                            format!(
                                "this is the stored {kind} '{x}', which line {} renames",
                                line(j)
                            ),
                        );
                        continue;
                    }
                    x.clone()
                }
                None => {
                    let d = derived_id(k.t.tag, key);
                    if k.existing.contains_key(&d) || by_id.contains_key(&d) {
                        random_id()
                    } else {
                        d
                    }
                }
            };
            by_id.insert(id.clone(), i);
            targets[i] = Some(id);
        }
        let fresh: Vec<String> = targets
            .iter()
            .flatten()
            .filter(|id| !k.existing.contains_key(*id))
            .cloned()
            .collect();
        let taken = if self.single_tenant {
            HashSet::new()
        } else {
            self.taken(k.t.name, &fresh)?
        };
        if !taken.is_empty() {
            for (i, cl) in claims.iter().enumerate() {
                let Some(id) = targets[i].clone() else {
                    continue;
                };
                if !taken.contains(&id) {
                    continue;
                }
                if cl.id.is_some() {
                    self.bad(
                        cl.loc,
                        kind,
                        cl.label.as_deref(),
                        format!("id '{id}' belongs to a {kind} of another tenant"),
                    );
                    targets[i] = None;
                } else {
                    targets[i] = Some(random_id());
                }
            }
        }
        k.ids = k.existing.keys().cloned().collect();
        k.by_key = k.existing_by_key.clone();
        for (i, cl) in claims.iter().enumerate() {
            let (Some(id), Some(key)) = (&targets[i], &cl.key) else {
                continue;
            };
            if let Some(old) = k.existing_key.get(id) {
                if old != key {
                    k.by_key.remove(old);
                }
            }
            k.by_key.insert(key.clone(), id.clone());
            k.ids.insert(id.clone());
        }
        Ok(targets)
    }

    fn reference(
        &mut self,
        k: &Kind,
        loc: Loc,
        kind: &'static str,
        key: &str,
        field: &str,
        r: Option<&Ref>,
    ) -> Value {
        match r {
            None => Value::Null,
            Some(r) => match k.resolve(r) {
                Ok(id) => id.into(),
                Err(e) => {
                    self.bad(loc, kind, Some(key), format!("{field}: {e}"));
                    Value::Null
                }
            },
        }
    }
}

/// What an entitlement reference needs: the final entitlement index and each one's source.
struct Entitlements {
    k: Kind,
    source_of: HashMap<String, String>,
}

impl Entitlements {
    fn resolve(
        &self,
        sources: &Kind,
        r: &EntitlementRef,
        default_source: Option<&str>,
    ) -> Result<String, String> {
        if let Some(id) = &r.id {
            let id = self.k.canonical(id);
            return if self.k.ids.contains(id) {
                Ok(id.clone())
            } else {
                Err(format!("no entitlement has id '{id}'"))
            };
        }
        let source = match (&r.source, default_source) {
            (Some(s), _) => sources.resolve(s)?,
            (None, Some(d)) => d.to_owned(),
            (None, None) => {
                return Err("an entitlement reference needs \"source\" (or \"id\")".into())
            }
        };
        let (Some(attr), Some(value)) = (&r.attribute, &r.value) else {
            return Err(
                "an entitlement reference needs \"attribute\" and \"value\" (or \"id\")".into(),
            );
        };
        self.k
            .by_key
            .get(&format!("{source}{SEP}{attr}{SEP}{value}"))
            .cloned()
            .ok_or_else(|| {
                format!("no entitlement {attr}='{value}' on that source in the file or the tenant")
            })
    }
}

fn name_key(t: &'static Table) -> impl Fn(&[Value]) -> String {
    let i = t.col("name");
    move |r: &[Value]| text(&r[i]).unwrap_or_default().to_owned()
}

fn links_of(
    c: &mut dyn Conn,
    sql: &str,
    tenant: &str,
) -> Result<HashMap<String, Vec<String>>, StoreError> {
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    for r in c.query(sql, &[tenant.into()])? {
        out.entry(r.text(0)?).or_default().push(r.text(1)?);
    }
    Ok(out)
}

/// Checks `file` against tenant `tenant_id` and, when it has no problem at all, writes it in the
/// caller's transaction. On any problem nothing is written and every problem is returned.
pub fn import(
    c: &mut dyn Conn,
    tenant_id: &str,
    mut file: TenantFile,
    now: Timestamp,
    progress: &Progress,
) -> Result<Outcome, StoreError> {
    progress.start("checking", file.len() as u64);
    let mut p = Planner {
        c,
        tenant: tenant_id.to_owned(),
        now,
        files: file.files.clone(),
        problems: file.take_problems(),
        ops: Vec::new(),
        single_tenant: false,
    };
    p.single_tenant = p.c.query_one("select count(*) from tenant", &[])?.int(0)? <= 1;
    let identities = plan_identities(&mut p, std::mem::take(&mut file.identities))?;
    progress
        .add(identities.counts.created + identities.counts.updated + identities.counts.unchanged);
    let clusters = plan_clusters(&mut p, std::mem::take(&mut file.clusters))?;
    let groups = plan_groups(&mut p, &identities, std::mem::take(&mut file.groups))?;
    let sources = plan_sources(
        &mut p,
        &identities,
        &clusters,
        &groups,
        std::mem::take(&mut file.sources),
    )?;
    let ents = plan_entitlements(
        &mut p,
        &identities,
        &sources,
        std::mem::take(&mut file.entitlements),
    )?;
    let (aps, ap_source) = plan_access_profiles(
        &mut p,
        &identities,
        &sources,
        &ents,
        std::mem::take(&mut file.access_profiles),
    )?;
    let roles = plan_roles(
        &mut p,
        &identities,
        &sources,
        &ents,
        &aps,
        std::mem::take(&mut file.roles),
    )?;
    let (accounts, account_of) = plan_accounts(
        &mut p,
        &identities,
        &sources,
        std::mem::take(&mut file.accounts),
    )?;
    let assignments = plan_assignments(
        &mut p,
        &Refs {
            identities: &identities,
            sources: &sources,
            ents: &ents,
            aps: &aps,
            ap_source: &ap_source,
            roles: &roles,
            accounts: &accounts,
            account_of: &account_of,
        },
        std::mem::take(&mut file.assignments),
    )?;
    if !p.problems.is_empty() {
        let mut problems = p.problems;
        problems.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
        return Ok(Outcome::Rejected(problems));
    }
    let summary = Summary {
        kinds: vec![
            ("identity", identities.counts),
            ("cluster", clusters.counts),
            ("governance group", groups.counts),
            ("source", sources.counts),
            ("entitlement", ents.k.counts),
            ("access profile", aps.counts),
            ("role", roles.counts),
            ("account", accounts.counts),
            ("assignment", assignments.counts),
        ],
    };
    let total: usize = p
        .ops
        .iter()
        .map(|o| match o {
            Op::Upsert(_, rows) | Op::Insert(_, _, rows) => rows.len(),
            Op::Execute(..) => 0,
        })
        .sum();
    progress.start("writing", total as u64);
    // A large import inserts into a dozen B-trees at random places; on SQLite a page cache that
    // holds them saves rereading pages from the WAL. Only for this write: reset below.
    let big = p.c.dialect() == crate::Dialect::Sqlite && total > 50_000;
    if big {
        p.c.execute("pragma cache_size = -1048576", &[])?;
    }
    let ops = std::mem::take(&mut p.ops);
    let written = write_ops(p.c, ops, progress);
    if big {
        p.c.execute("pragma cache_size = -2000", &[])?;
    }
    written?;
    progress.start("committing", 0);
    Ok(Outcome::Imported(summary))
}

fn write_ops(c: &mut dyn Conn, ops: Vec<Op>, progress: &Progress) -> Result<(), StoreError> {
    for op in ops {
        match op {
            Op::Upsert(t, rows) => {
                let cols = t.columns();
                insert_rows(c, t.name, &cols, rows, &upsert_by_id(&cols), &mut |n| {
                    progress.add(n as u64);
                })?;
            }
            Op::Insert(table, cols, rows) => {
                let cols: Vec<String> = cols.iter().map(|c| (*c).to_owned()).collect();
                insert_rows(c, table, &cols, rows, "", &mut |n| progress.add(n as u64))?;
            }
            Op::Execute(sql, params) => {
                c.execute(&sql, &params)?;
            }
        }
    }
    Ok(())
}

fn given(created: Option<&String>, modified: Option<&String>) -> (bool, bool) {
    (created.is_some(), modified.is_some())
}

fn plan_identities(
    p: &mut Planner<'_>,
    recs: Vec<(Loc, super::model::IdentityRec)>,
) -> Result<Kind, StoreError> {
    const K: &str = "identity";
    let mut k = Kind::load(p.c, &IDENTITY, &p.tenant, name_key(&IDENTITY))?;
    let claims: Vec<Claim> = recs
        .iter()
        .map(|(loc, r)| Claim {
            loc: *loc,
            key: (!r.name.trim().is_empty()).then(|| r.name.clone()),
            id: r.id.clone(),
            label: Some(r.name.clone()),
        })
        .collect();
    for cl in &claims {
        if cl.key.is_none() {
            p.bad(cl.loc, K, None, "name must not be empty");
        }
    }
    let targets = p.assign(&mut k, &claims)?;
    drop(claims);
    let manager_at = IDENTITY.col("manager_id");
    let mut rows: Vec<(Loc, Vec<Value>, (bool, bool))> = Vec::with_capacity(recs.len());
    for ((loc, r), target) in recs.into_iter().zip(targets) {
        let Some(id) = target else { continue };
        let name = r.name;
        let manager = p.reference(&k, loc, K, &name, "manager", r.manager.as_ref());
        if text(&manager) == Some(id.as_str()) {
            p.bad(loc, K, Some(&name), "an identity cannot be its own manager");
        }
        let authorities = r.authorities.unwrap_or_else(|| vec!["USER".into()]);
        if authorities.is_empty() {
            p.bad(
                loc,
                K,
                Some(&name),
                "authorities must not be empty (leave it out for [\"USER\"])",
            );
        }
        for a in &authorities {
            if Authority::parse(a).is_none() || a == "API" {
                p.bad(loc, K, Some(&name), format!("'{a}' is not a user level"));
            }
        }
        if let Some(e) = &r.email {
            if !e.contains('@') {
                p.bad(
                    loc,
                    K,
                    Some(&name),
                    format!("email '{e}' is not an e-mail address"),
                );
            }
        }
        let g = given(r.created.as_ref(), r.modified.as_ref());
        let created = p.date(loc, K, &name, "created", r.created.as_ref());
        let modified = p.date(loc, K, &name, "modified", r.modified.as_ref());
        let row = vec![
            id.into(),
            p.tenant.clone().into(),
            name.into(),
            r.display_name.into(),
            r.email.into(),
            Value::Text(serde_json::to_string(&authorities)?),
            created,
            modified,
            r.alias.into(),
            r.first_name.into(),
            r.last_name.into(),
            manager,
            r.lifecycle_state.into(),
            r.cloud_status.into(),
            r.processing_state.into(),
            r.correlated.unwrap_or(true).into(),
            r.is_protected.unwrap_or(false).into(),
            map_json(r.attributes),
        ];
        rows.push((loc, row, g));
    }
    // Manager cycles, over the final graph (stored managers of identities the file leaves alone).
    {
        let mut manager: HashMap<&str, Option<&str>> = k
            .existing
            .iter()
            .map(|(id, r)| (id.as_str(), text(&r[manager_at])))
            .collect();
        let mut loc_of: HashMap<&str, (Loc, &str)> = HashMap::with_capacity(rows.len());
        for (loc, r, _) in &rows {
            let id = text(&r[0]).unwrap_or_default();
            manager.insert(id, text(&r[manager_at]));
            loc_of.insert(id, (*loc, text(&r[2]).unwrap_or_default()));
        }
        let mut state: HashMap<&str, u8> = HashMap::with_capacity(manager.len());
        let mut cycles: Vec<(Loc, String, String)> = Vec::new();
        for (_, r, _) in &rows {
            let start = text(&r[0]).unwrap_or_default();
            let mut path: Vec<&str> = Vec::new();
            let mut at = start;
            loop {
                match state.get(at) {
                    Some(2) => break,
                    Some(_) => {
                        let from = path.iter().position(|x| *x == at).unwrap_or(0);
                        let cycle = &path[from..];
                        // A person who is their own manager is reported on its own.
                        if cycle.len() > 1 {
                            let mut names: Vec<&str> = cycle
                                .iter()
                                .map(|id| loc_of.get(id).map_or(*id, |(_, n)| *n))
                                .collect();
                            names.push(names[0]);
                            for id in cycle {
                                if let Some((l, n)) = loc_of.get(id) {
                                    cycles.push((*l, (*n).to_owned(), names.join(" → ")));
                                }
                            }
                        }
                        break;
                    }
                    None => {
                        state.insert(at, 1);
                        path.push(at);
                        match manager.get(at).copied().flatten() {
                            Some(m) if manager.contains_key(m) => at = m,
                            _ => break,
                        }
                    }
                }
            }
            for id in path {
                state.insert(id, 2);
            }
        }
        for (loc, name, chain) in cycles {
            p.bad(
                loc,
                K,
                Some(&name),
                format!("managers form a cycle: {chain}"),
            );
        }
    }
    let mut write: Vec<Vec<Value>> = Vec::new();
    for (_, row, g) in rows {
        if let Some(r) = k.settle(row, g, false, p.now) {
            write.push(r);
        }
    }
    let order = {
        let ids: Vec<&str> = write
            .iter()
            .map(|r| text(&r[0]).unwrap_or_default())
            .collect();
        let refs: Vec<Option<&str>> = write.iter().map(|r| text(&r[manager_at])).collect();
        parents_first(&ids, &refs)
    };
    let mut slots: Vec<Option<Vec<Value>>> = write.into_iter().map(Some).collect();
    let ordered: Vec<Vec<Value>> = order.into_iter().filter_map(|i| slots[i].take()).collect();
    p.ops.push(Op::Upsert(&IDENTITY, ordered));
    Ok(k)
}

fn plan_clusters(
    p: &mut Planner<'_>,
    recs: Vec<(Loc, super::model::ClusterRec)>,
) -> Result<Kind, StoreError> {
    const K: &str = "cluster";
    let mut k = Kind::load(p.c, &CLUSTER, &p.tenant, name_key(&CLUSTER))?;
    let claims = name_claims(p, K, recs.iter().map(|(l, r)| (*l, &r.name, &r.id)));
    let targets = p.assign(&mut k, &claims)?;
    let mut write = Vec::new();
    for ((loc, r), target) in recs.into_iter().zip(targets) {
        let Some(id) = target else { continue };
        let g = given(r.created.as_ref(), r.modified.as_ref());
        let created = p.date(loc, K, &r.name, "created", r.created.as_ref());
        let modified = p.date(loc, K, &r.name, "modified", r.modified.as_ref());
        let row = vec![
            id.into(),
            p.tenant.clone().into(),
            r.name.into(),
            r.kind.unwrap_or_else(|| "idn".into()).into(),
            r.description.into(),
            r.operational.unwrap_or(true).into(),
            r.status.unwrap_or_else(|| "NORMAL".into()).into(),
            map_json(Some(r.document)),
            created,
            modified,
        ];
        if let Some(r) = k.settle(row, g, false, p.now) {
            write.push(r);
        }
    }
    p.ops.push(Op::Upsert(&CLUSTER, write));
    Ok(k)
}

fn name_claims<'a>(
    p: &mut Planner<'_>,
    kind: &'static str,
    recs: impl Iterator<Item = (Loc, &'a String, &'a Option<String>)>,
) -> Vec<Claim> {
    recs.map(|(loc, name, id)| {
        let empty = name.trim().is_empty();
        if empty {
            p.bad(loc, kind, None, "name must not be empty");
        }
        Claim {
            loc,
            key: (!empty).then(|| name.clone()),
            id: id.clone(),
            label: Some(name.clone()),
        }
    })
    .collect()
}

fn plan_groups(
    p: &mut Planner<'_>,
    people: &Kind,
    recs: Vec<(Loc, super::model::GroupRec)>,
) -> Result<Kind, StoreError> {
    const K: &str = "governance group";
    let mut k = Kind::load(p.c, &GROUP, &p.tenant, name_key(&GROUP))?;
    let stored_members = links_of(
        p.c,
        "select m.group_id, m.identity_id from governance_group_member m join governance_group g on g.id = m.group_id where g.tenant_id = $1 order by m.group_id, m.identity_id",
        &p.tenant,
    )?;
    let claims = name_claims(p, K, recs.iter().map(|(l, r)| (*l, &r.name, &r.id)));
    let targets = p.assign(&mut k, &claims)?;
    let mut write = Vec::new();
    let mut deletes = Vec::new();
    let mut member_rows = Vec::new();
    for ((loc, r), target) in recs.into_iter().zip(targets) {
        let Some(id) = target else { continue };
        let owner = p.reference(people, loc, K, &r.name, "owner", r.owner.as_ref());
        let mut members: Vec<String> = Vec::new();
        for m in r.members.iter().flatten() {
            match people.resolve(m) {
                Ok(mid) if members.contains(&mid) => {
                    p.bad(
                        loc,
                        K,
                        Some(&r.name),
                        format!("member {} is listed twice", m.describe()),
                    );
                }
                Ok(mid) => members.push(mid),
                Err(e) => p.bad(loc, K, Some(&r.name), format!("member: {e}")),
            }
        }
        let mut sorted = members.clone();
        sorted.sort();
        let old: Vec<String> = stored_members.get(&id).cloned().unwrap_or_default();
        let links_changed = sorted != old;
        let g = given(r.created.as_ref(), r.modified.as_ref());
        let created = p.date(loc, K, &r.name, "created", r.created.as_ref());
        let modified = p.date(loc, K, &r.name, "modified", r.modified.as_ref());
        let row = vec![
            id.clone().into(),
            p.tenant.clone().into(),
            r.name.into(),
            r.description.into(),
            owner,
            created,
            modified,
        ];
        if let Some(row) = k.settle(row, g, links_changed, p.now) {
            write.push(row);
        }
        if links_changed {
            for gone in old.iter().filter(|m| !sorted.contains(m)) {
                deletes.push(Op::Execute(
                    "delete from governance_group_member where group_id = $1 and identity_id = $2"
                        .into(),
                    vec![id.clone().into(), gone.into()],
                ));
            }
            for m in sorted.iter().filter(|m| !old.contains(m)) {
                member_rows.push(vec![id.clone().into(), m.into(), p.now.into()]);
            }
        }
    }
    p.ops.push(Op::Upsert(&GROUP, write));
    p.ops.extend(deletes);
    p.ops.push(Op::Insert(
        "governance_group_member",
        &["group_id", "identity_id", "created"],
        member_rows,
    ));
    Ok(k)
}

fn plan_sources(
    p: &mut Planner<'_>,
    people: &Kind,
    clusters: &Kind,
    groups: &Kind,
    recs: Vec<(Loc, super::model::SourceRec)>,
) -> Result<Kind, StoreError> {
    const K: &str = "source";
    let mut k = Kind::load(p.c, &SOURCE, &p.tenant, name_key(&SOURCE))?;
    let claims = name_claims(p, K, recs.iter().map(|(l, r)| (*l, &r.name, &r.id)));
    let targets = p.assign(&mut k, &claims)?;
    let mut write = Vec::new();
    for ((loc, r), target) in recs.into_iter().zip(targets) {
        let Some(id) = target else { continue };
        let owner = p.reference(people, loc, K, &r.name, "owner", r.owner.as_ref());
        let cluster = p.reference(clusters, loc, K, &r.name, "cluster", r.cluster.as_ref());
        let workgroup = p.reference(
            groups,
            loc,
            K,
            &r.name,
            "managementWorkgroup",
            r.management_workgroup.as_ref(),
        );
        let g = given(r.created.as_ref(), r.modified.as_ref());
        let created = p.date(loc, K, &r.name, "created", r.created.as_ref());
        let modified = p.date(loc, K, &r.name, "modified", r.modified.as_ref());
        let row = vec![
            id.into(),
            p.tenant.clone().into(),
            r.name.into(),
            r.description.into(),
            r.kind.into(),
            owner,
            cluster,
            workgroup,
            r.connector.into(),
            r.connection_type.into(),
            r.authoritative.unwrap_or(false).into(),
            r.healthy.unwrap_or(true).into(),
            r.status.into(),
            Value::Text(serde_json::to_string(&r.features.unwrap_or_default())?),
            map_json(Some(r.document)),
            created,
            modified,
        ];
        if let Some(r) = k.settle(row, g, false, p.now) {
            write.push(r);
        }
    }
    p.ops.push(Op::Upsert(&SOURCE, write));
    Ok(k)
}

fn plan_entitlements(
    p: &mut Planner<'_>,
    people: &Kind,
    sources: &Kind,
    recs: Vec<(Loc, super::model::EntitlementRec)>,
) -> Result<Entitlements, StoreError> {
    const K: &str = "entitlement";
    let (si, ai, vi) = (
        ENTITLEMENT.col("source_id"),
        ENTITLEMENT.col("attribute"),
        ENTITLEMENT.col("value"),
    );
    let mut k = Kind::load(p.c, &ENTITLEMENT, &p.tenant, move |r| {
        format!(
            "{}{SEP}{}{SEP}{}",
            text(&r[si]).unwrap_or_default(),
            text(&r[ai]).unwrap_or_default(),
            text(&r[vi]).unwrap_or_default()
        )
    })?;
    let mut source_ids: Vec<Option<String>> = Vec::with_capacity(recs.len());
    let mut claims = Vec::with_capacity(recs.len());
    for (loc, r) in &recs {
        let label = format!("{}={}", r.attribute, r.value);
        let src = match sources.resolve(&r.source) {
            Ok(s) => Some(s),
            Err(e) => {
                p.bad(*loc, K, Some(&label), format!("source: {e}"));
                None
            }
        };
        if r.attribute.trim().is_empty() || r.value.is_empty() {
            p.bad(
                *loc,
                K,
                Some(&label),
                "attribute and value must not be empty",
            );
        }
        let key = src
            .as_ref()
            .filter(|_| !r.attribute.trim().is_empty() && !r.value.is_empty())
            .map(|s| format!("{s}{SEP}{}{SEP}{}", r.attribute, r.value));
        claims.push(Claim {
            loc: *loc,
            key,
            id: r.id.clone(),
            label: Some(label),
        });
        source_ids.push(src);
    }
    let targets = p.assign(&mut k, &claims)?;
    drop(claims);
    let mut source_of: HashMap<String, String> = k
        .existing
        .iter()
        .map(|(id, r)| (id.clone(), text(&r[si]).unwrap_or_default().to_owned()))
        .collect();
    let mut write = Vec::new();
    for (((loc, r), target), src) in recs.into_iter().zip(targets).zip(source_ids) {
        let (Some(id), Some(src)) = (target, src) else {
            continue;
        };
        let label = format!("{}={}", r.attribute, r.value);
        let owner = p.reference(people, loc, K, &label, "owner", r.owner.as_ref());
        let g = given(r.created.as_ref(), r.modified.as_ref());
        let created = p.date(loc, K, &label, "created", r.created.as_ref());
        let modified = p.date(loc, K, &label, "modified", r.modified.as_ref());
        source_of.insert(id.clone(), src.clone());
        let name = r.name.unwrap_or_else(|| r.value.clone());
        let row = vec![
            id.into(),
            p.tenant.clone().into(),
            src.into(),
            name.into(),
            r.attribute.into(),
            r.value.into(),
            r.kind.into(),
            r.description.into(),
            owner,
            r.requestable.unwrap_or(true).into(),
            r.privileged.unwrap_or(false).into(),
            map_json(Some(r.document)),
            created,
            modified,
        ];
        if let Some(r) = k.settle(row, g, false, p.now) {
            write.push(r);
        }
    }
    p.ops.push(Op::Upsert(&ENTITLEMENT, write));
    Ok(Entitlements { k, source_of })
}

#[allow(clippy::type_complexity)]
fn plan_access_profiles(
    p: &mut Planner<'_>,
    people: &Kind,
    sources: &Kind,
    ents: &Entitlements,
    recs: Vec<(Loc, super::model::AccessProfileRec)>,
) -> Result<(Kind, HashMap<String, String>), StoreError> {
    const K: &str = "access profile";
    let mut k = Kind::load(p.c, &ACCESS_PROFILE, &p.tenant, name_key(&ACCESS_PROFILE))?;
    let stored_links = links_of(
        p.c,
        "select l.access_profile_id, l.entitlement_id from access_profile_entitlement l join access_profile a on a.id = l.access_profile_id where a.tenant_id = $1 order by l.access_profile_id, l.position",
        &p.tenant,
    )?;
    let claims = name_claims(p, K, recs.iter().map(|(l, r)| (*l, &r.name, &r.id)));
    let targets = p.assign(&mut k, &claims)?;
    let si = ACCESS_PROFILE.col("source_id");
    let mut source_of: HashMap<String, String> = k
        .existing
        .iter()
        .map(|(id, r)| (id.clone(), text(&r[si]).unwrap_or_default().to_owned()))
        .collect();
    let mut write = Vec::new();
    let mut deletes = Vec::new();
    let mut links = Vec::new();
    for ((loc, r), target) in recs.into_iter().zip(targets) {
        let Some(id) = target else { continue };
        let name = r.name.clone();
        let source = p.reference(sources, loc, K, &name, "source", Some(&r.source));
        let owner = p.reference(people, loc, K, &name, "owner", Some(&r.owner));
        let src = text(&source).map(str::to_owned);
        let mut list: Vec<String> = Vec::new();
        for e in r.entitlements.iter().flatten() {
            match ents.resolve(sources, e, src.as_deref()) {
                Ok(eid) => {
                    if list.contains(&eid) {
                        p.bad(
                            loc,
                            K,
                            Some(&name),
                            format!("entitlement {} is listed twice", ent_label(e)),
                        );
                    } else if src.is_some() && ents.source_of.get(&eid) != src.as_ref() {
                        p.bad(
                            loc,
                            K,
                            Some(&name),
                            format!(
                                "entitlement {} is not of the access profile's source",
                                ent_label(e)
                            ),
                        );
                    } else {
                        list.push(eid);
                    }
                }
                Err(err) => p.bad(loc, K, Some(&name), format!("entitlements: {err}")),
            }
        }
        if let Some(s) = &src {
            source_of.insert(id.clone(), s.clone());
        }
        let links_changed = stored_links
            .get(&id)
            .map_or(!list.is_empty(), |old| *old != list);
        let g = given(r.created.as_ref(), r.modified.as_ref());
        let created = p.date(loc, K, &name, "created", r.created.as_ref());
        let modified = p.date(loc, K, &name, "modified", r.modified.as_ref());
        let row = vec![
            id.clone().into(),
            p.tenant.clone().into(),
            r.name.into(),
            r.description.into(),
            source,
            owner,
            r.enabled.unwrap_or(true).into(),
            r.requestable.unwrap_or(true).into(),
            opt_json(r.access_request_config),
            opt_json(r.revocation_request_config),
            map_json(Some(r.document)),
            created,
            modified,
        ];
        if let Some(row) = k.settle(row, g, links_changed, p.now) {
            write.push(row);
        }
        if links_changed {
            if stored_links.contains_key(&id) {
                deletes.push(Op::Execute(
                    "delete from access_profile_entitlement where access_profile_id = $1".into(),
                    vec![id.clone().into()],
                ));
            }
            for (pos, eid) in list.into_iter().enumerate() {
                links.push(vec![id.clone().into(), eid.into(), (pos as i64).into()]);
            }
        }
    }
    p.ops.push(Op::Upsert(&ACCESS_PROFILE, write));
    p.ops.extend(deletes);
    p.ops.push(Op::Insert(
        "access_profile_entitlement",
        &["access_profile_id", "entitlement_id", "position"],
        links,
    ));
    Ok((k, source_of))
}

fn ent_label(e: &EntitlementRef) -> String {
    match (&e.id, &e.attribute, &e.value) {
        (Some(id), _, _) => format!("id '{id}'"),
        (None, Some(a), Some(v)) => format!("{a}='{v}'"),
        _ => "(incomplete)".into(),
    }
}

fn plan_roles(
    p: &mut Planner<'_>,
    people: &Kind,
    sources: &Kind,
    ents: &Entitlements,
    aps: &Kind,
    recs: Vec<(Loc, super::model::RoleRec)>,
) -> Result<Kind, StoreError> {
    const K: &str = "role";
    let mut k = Kind::load(p.c, &ROLE, &p.tenant, name_key(&ROLE))?;
    let stored_aps = links_of(
        p.c,
        "select l.role_id, l.access_profile_id from role_access_profile l join role r on r.id = l.role_id where r.tenant_id = $1 order by l.role_id, l.position",
        &p.tenant,
    )?;
    let stored_ents = links_of(
        p.c,
        "select l.role_id, l.entitlement_id from role_entitlement l join role r on r.id = l.role_id where r.tenant_id = $1 order by l.role_id, l.position",
        &p.tenant,
    )?;
    let claims = name_claims(p, K, recs.iter().map(|(l, r)| (*l, &r.name, &r.id)));
    let targets = p.assign(&mut k, &claims)?;
    let mut write = Vec::new();
    let mut deletes = Vec::new();
    let (mut ap_links, mut ent_links) = (Vec::new(), Vec::new());
    for ((loc, r), target) in recs.into_iter().zip(targets) {
        let Some(id) = target else { continue };
        let name = r.name.clone();
        let owner = p.reference(people, loc, K, &name, "owner", Some(&r.owner));
        let mut ap_list: Vec<String> = Vec::new();
        for a in r.access_profiles.iter().flatten() {
            match aps.resolve(a) {
                Ok(x) if ap_list.contains(&x) => {
                    p.bad(
                        loc,
                        K,
                        Some(&name),
                        format!("access profile {} is listed twice", a.describe()),
                    );
                }
                Ok(x) => ap_list.push(x),
                Err(e) => p.bad(loc, K, Some(&name), format!("accessProfiles: {e}")),
            }
        }
        let mut ent_list: Vec<String> = Vec::new();
        for e in r.entitlements.iter().flatten() {
            match ents.resolve(sources, e, None) {
                Ok(x) if ent_list.contains(&x) => {
                    p.bad(
                        loc,
                        K,
                        Some(&name),
                        format!("entitlement {} is listed twice", ent_label(e)),
                    );
                }
                Ok(x) => ent_list.push(x),
                Err(err) => p.bad(loc, K, Some(&name), format!("entitlements: {err}")),
            }
        }
        let aps_changed = stored_aps
            .get(&id)
            .map_or(!ap_list.is_empty(), |o| *o != ap_list);
        let ents_changed = stored_ents
            .get(&id)
            .map_or(!ent_list.is_empty(), |o| *o != ent_list);
        let g = given(r.created.as_ref(), r.modified.as_ref());
        let created = p.date(loc, K, &name, "created", r.created.as_ref());
        let modified = p.date(loc, K, &name, "modified", r.modified.as_ref());
        let row = vec![
            id.clone().into(),
            p.tenant.clone().into(),
            r.name.into(),
            r.description.into(),
            owner,
            r.enabled.unwrap_or(true).into(),
            r.requestable.unwrap_or(false).into(),
            r.dimensional.unwrap_or(false).into(),
            opt_json(r.access_request_config),
            opt_json(r.revocation_request_config),
            map_json(Some(r.document)),
            created,
            modified,
        ];
        if let Some(row) = k.settle(row, g, aps_changed || ents_changed, p.now) {
            write.push(row);
        }
        if aps_changed {
            if stored_aps.contains_key(&id) {
                deletes.push(Op::Execute(
                    "delete from role_access_profile where role_id = $1".into(),
                    vec![id.clone().into()],
                ));
            }
            for (pos, x) in ap_list.into_iter().enumerate() {
                ap_links.push(vec![id.clone().into(), x.into(), (pos as i64).into()]);
            }
        }
        if ents_changed {
            if stored_ents.contains_key(&id) {
                deletes.push(Op::Execute(
                    "delete from role_entitlement where role_id = $1".into(),
                    vec![id.clone().into()],
                ));
            }
            for (pos, x) in ent_list.into_iter().enumerate() {
                ent_links.push(vec![id.clone().into(), x.into(), (pos as i64).into()]);
            }
        }
    }
    p.ops.push(Op::Upsert(&ROLE, write));
    p.ops.extend(deletes);
    p.ops.push(Op::Insert(
        "role_access_profile",
        &["role_id", "access_profile_id", "position"],
        ap_links,
    ));
    p.ops.push(Op::Insert(
        "role_entitlement",
        &["role_id", "entitlement_id", "position"],
        ent_links,
    ));
    Ok(k)
}

/// An account's source and owner, for assignment checks.
type AccountOf = HashMap<String, (String, Option<String>)>;

fn plan_accounts(
    p: &mut Planner<'_>,
    people: &Kind,
    sources: &Kind,
    recs: Vec<(Loc, super::model::AccountRec)>,
) -> Result<(Kind, AccountOf), StoreError> {
    const K: &str = "account";
    let (si, ni, ii) = (
        ACCOUNT.col("source_id"),
        ACCOUNT.col("native_identity"),
        ACCOUNT.col("identity_id"),
    );
    let mut k = Kind::load(p.c, &ACCOUNT, &p.tenant, move |r| {
        format!(
            "{}{SEP}{}",
            text(&r[si]).unwrap_or_default(),
            text(&r[ni]).unwrap_or_default()
        )
    })?;
    let mut srcs = Vec::with_capacity(recs.len());
    let mut claims = Vec::with_capacity(recs.len());
    for (loc, r) in &recs {
        let src = match sources.resolve(&r.source) {
            Ok(s) => Some(s),
            Err(e) => {
                p.bad(*loc, K, Some(&r.native_identity), format!("source: {e}"));
                None
            }
        };
        if r.native_identity.is_empty() {
            p.bad(*loc, K, None, "nativeIdentity must not be empty");
        }
        claims.push(Claim {
            loc: *loc,
            key: src
                .as_ref()
                .filter(|_| !r.native_identity.is_empty())
                .map(|s| format!("{s}{SEP}{}", r.native_identity)),
            id: r.id.clone(),
            label: Some(r.native_identity.clone()),
        });
        srcs.push(src);
    }
    let targets = p.assign(&mut k, &claims)?;
    drop(claims);
    let mut account_of: AccountOf = k
        .existing
        .iter()
        .map(|(id, r)| {
            (
                id.clone(),
                (
                    text(&r[si]).unwrap_or_default().to_owned(),
                    text(&r[ii]).map(str::to_owned),
                ),
            )
        })
        .collect();
    let mut write = Vec::new();
    for (((loc, r), target), src) in recs.into_iter().zip(targets).zip(srcs) {
        let (Some(id), Some(src)) = (target, src) else {
            continue;
        };
        let label = r.native_identity.clone();
        let identity = p.reference(people, loc, K, &label, "identity", r.identity.as_ref());
        account_of.insert(
            id.clone(),
            (src.clone(), text(&identity).map(str::to_owned)),
        );
        let g = given(r.created.as_ref(), r.modified.as_ref());
        let created = p.date(loc, K, &label, "created", r.created.as_ref());
        let modified = p.date(loc, K, &label, "modified", r.modified.as_ref());
        let name = r.name.unwrap_or_else(|| r.native_identity.clone());
        let row = vec![
            id.into(),
            p.tenant.clone().into(),
            src.into(),
            identity,
            name.into(),
            r.native_identity.into(),
            r.uuid.into(),
            r.disabled.unwrap_or(false).into(),
            r.locked.unwrap_or(false).into(),
            r.manually_correlated.unwrap_or(false).into(),
            r.origin.into(),
            map_json(r.attributes),
            created,
            modified,
        ];
        if let Some(r) = k.settle(row, g, false, p.now) {
            write.push(r);
        }
    }
    p.ops.push(Op::Upsert(&ACCOUNT, write));
    Ok((k, account_of))
}

struct Refs<'a> {
    identities: &'a Kind,
    sources: &'a Kind,
    ents: &'a Entitlements,
    aps: &'a Kind,
    ap_source: &'a HashMap<String, String>,
    roles: &'a Kind,
    accounts: &'a Kind,
    account_of: &'a AccountOf,
}

const REASONS: &[&str] = &["ACCESS_REQUEST", "ROLE_MEMBERSHIP", "BIRTHRIGHT", "IMPORT"];

fn resolve_account(
    x: &Refs<'_>,
    a: &AccountRef,
    default_source: Option<&str>,
) -> Result<String, String> {
    if let Some(id) = &a.id {
        let id = x.accounts.canonical(id);
        return if x.accounts.ids.contains(id) {
            Ok(id.clone())
        } else {
            Err(format!("no account has id '{id}'"))
        };
    }
    let source = match (&a.source, default_source) {
        (Some(s), _) => x.sources.resolve(s)?,
        (None, Some(d)) => d.to_owned(),
        (None, None) => return Err("an account reference needs \"source\" (or \"id\")".into()),
    };
    let Some(native) = &a.native_identity else {
        return Err("an account reference needs \"nativeIdentity\" (or \"id\")".into());
    };
    x.accounts
        .by_key
        .get(&format!("{source}{SEP}{native}"))
        .cloned()
        .ok_or_else(|| format!("no account '{native}' on that source in the file or the tenant"))
}

fn plan_assignments(
    p: &mut Planner<'_>,
    x: &Refs<'_>,
    recs: Vec<(Loc, super::model::AssignmentRec)>,
) -> Result<Kind, StoreError> {
    const K: &str = "assignment";
    let t = &ASSIGNMENT;
    let cols = [
        t.col("identity_id"),
        t.col("item_type"),
        t.col("item_id"),
        t.col("reason"),
        t.col("account_id"),
    ];
    let mut k = Kind::load(p.c, t, &p.tenant, move |r| {
        cols.iter()
            .map(|&i| text(&r[i]).unwrap_or_default())
            .collect::<Vec<_>>()
            .join(&SEP.to_string())
    })?;
    struct Resolved {
        identity: String,
        item_type: &'static str,
        item: String,
        reason: String,
        account: Option<String>,
        start: Value,
        remove: Value,
        created: Value,
        modified: Value,
        given: (bool, bool),
    }
    let mut resolved: Vec<Option<Resolved>> = Vec::with_capacity(recs.len());
    let mut claims = Vec::with_capacity(recs.len());
    for (loc, r) in &recs {
        let loc = *loc;
        let who = r.identity.describe();
        let mut ok = true;
        let identity = match x.identities.resolve(&r.identity) {
            Ok(i) => i,
            Err(e) => {
                p.bad(loc, K, Some(&who), format!("identity: {e}"));
                ok = false;
                String::new()
            }
        };
        let label = who.trim_matches('\'').to_owned();
        let items = usize::from(r.role.is_some())
            + usize::from(r.access_profile.is_some())
            + usize::from(r.entitlement.is_some());
        let (item_type, item, item_source) = if items != 1 {
            p.bad(
                loc,
                K,
                Some(&label),
                "give exactly one of \"role\", \"accessProfile\" and \"entitlement\"",
            );
            ok = false;
            ("ROLE", String::new(), None)
        } else if let Some(role) = &r.role {
            match x.roles.resolve(role) {
                Ok(id) => ("ROLE", id, None),
                Err(e) => {
                    p.bad(loc, K, Some(&label), format!("role: {e}"));
                    ok = false;
                    ("ROLE", String::new(), None)
                }
            }
        } else if let Some(ap) = &r.access_profile {
            match x.aps.resolve(ap) {
                Ok(id) => {
                    let s = x.ap_source.get(&id).cloned();
                    ("ACCESS_PROFILE", id, s)
                }
                Err(e) => {
                    p.bad(loc, K, Some(&label), format!("accessProfile: {e}"));
                    ok = false;
                    ("ACCESS_PROFILE", String::new(), None)
                }
            }
        } else {
            let e = r.entitlement.clone().unwrap_or_default();
            match x.ents.resolve(x.sources, &e, None) {
                Ok(id) => {
                    let s = x.ents.source_of.get(&id).cloned();
                    ("ENTITLEMENT", id, s)
                }
                Err(err) => {
                    p.bad(loc, K, Some(&label), format!("entitlement: {err}"));
                    ok = false;
                    ("ENTITLEMENT", String::new(), None)
                }
            }
        };
        let reason = r.reason.clone().unwrap_or_else(|| "IMPORT".into());
        if !REASONS.contains(&reason.as_str()) {
            p.bad(
                loc,
                K,
                Some(&label),
                format!("reason '{reason}' is not one of {}", REASONS.join(", ")),
            );
            ok = false;
        }
        let mut account = None;
        if let Some(a) = &r.account {
            match resolve_account(x, a, item_source.as_deref()) {
                Ok(aid) => {
                    let (asrc, owner) = x.account_of.get(&aid).cloned().unwrap_or_default();
                    if ok && owner.as_deref() != Some(identity.as_str()) {
                        p.bad(
                            loc,
                            K,
                            Some(&label),
                            "the account does not belong to the identity",
                        );
                        ok = false;
                    }
                    if item_type != "ROLE"
                        && item_source.is_some()
                        && item_source.as_deref() != Some(asrc.as_str())
                    {
                        p.bad(
                            loc,
                            K,
                            Some(&label),
                            "the account is not on the source of the assigned item",
                        );
                        ok = false;
                    }
                    account = Some(aid);
                }
                Err(e) => {
                    p.bad(loc, K, Some(&label), format!("account: {e}"));
                    ok = false;
                }
            }
        }
        let start = p.date(loc, K, &label, "startDate", r.start_date.as_ref());
        let remove = p.date(loc, K, &label, "removeDate", r.remove_date.as_ref());
        if let (Value::Int(s), Value::Int(e)) = (&start, &remove) {
            if e <= s {
                p.bad(loc, K, Some(&label), "removeDate must be after startDate");
            }
        }
        let created = p.date(loc, K, &label, "created", r.created.as_ref());
        let modified = p.date(loc, K, &label, "modified", r.modified.as_ref());
        let key = ok.then(|| {
            [
                identity.as_str(),
                item_type,
                item.as_str(),
                reason.as_str(),
                account.as_deref().unwrap_or(""),
            ]
            .join(&SEP.to_string())
        });
        claims.push(Claim {
            loc,
            key,
            id: r.id.clone(),
            label: Some(label),
        });
        resolved.push(ok.then_some(Resolved {
            identity,
            item_type,
            item,
            reason,
            account,
            start,
            remove,
            created,
            modified,
            given: given(r.created.as_ref(), r.modified.as_ref()),
        }));
    }
    let targets = p.assign(&mut k, &claims)?;
    let mut write = Vec::new();
    for ((res, target), (_, r)) in resolved.into_iter().zip(targets).zip(recs) {
        let (Some(a), Some(id)) = (res, target) else {
            continue;
        };
        let row = vec![
            id.into(),
            p.tenant.clone().into(),
            a.identity.into(),
            a.item_type.into(),
            a.item.into(),
            a.reason.into(),
            r.access_request_id.into(),
            a.account.into(),
            a.start,
            a.remove,
            a.created,
            a.modified,
        ];
        if let Some(r) = k.settle(row, a.given, false, p.now) {
            write.push(r);
        }
    }
    p.ops.push(Op::Upsert(t, write));
    Ok(k)
}
