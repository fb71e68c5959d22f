//! Export: the tenant as a tenant file, in the same format import reads.
//!
//! Objects come out ordered by name (entitlements by source, attribute and value; accounts by
//! source and native identity; assignments by identity, item and reason), one per line, with their
//! ids and dates and with references by name, so an export is stable, readable, diffable, and
//! imports back to the same state.

use super::plan::{
    Table, ACCESS_PROFILE, ACCOUNT, ASSIGNMENT, CLUSTER, ENTITLEMENT, GROUP, IDENTITY, ROLE, SOURCE,
};
use super::FORMAT;
use crate::{Conn, StoreError, Value};
use gatehouse_domain::Timestamp;
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{json, Value as Json};
use std::collections::HashMap;
use std::io::{self, Write};

/// One exported object: its members in order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Obj(pub Vec<(String, Json)>);

impl Serialize for Obj {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl Obj {
    fn put(&mut self, k: &str, v: Json) {
        self.0.push((k.to_owned(), v));
    }

    fn text(&mut self, k: &str, v: &Value) {
        if let Value::Text(s) = v {
            self.put(k, Json::String(s.clone()));
        }
    }

    fn boolean(&mut self, k: &str, v: &Value) {
        match v {
            Value::Bool(b) => self.put(k, Json::Bool(*b)),
            Value::Int(i) => self.put(k, Json::Bool(*i != 0)),
            _ => {}
        }
    }

    fn date(&mut self, k: &str, v: &Value) {
        if let Value::Int(ms) = v {
            self.put(k, Json::String(Timestamp(*ms).to_rfc3339()));
        }
    }

    fn json(&mut self, k: &str, v: &Value) {
        if let Value::Text(s) = v {
            if let Ok(j) = serde_json::from_str::<Json>(s) {
                self.put(k, j);
            }
        }
    }

    /// An object-valued JSON column, left out when empty.
    fn nonempty(&mut self, k: &str, v: &Value) {
        if let Value::Text(s) = v {
            if let Ok(j @ Json::Object(_)) = serde_json::from_str::<Json>(s) {
                if j.as_object().is_some_and(|o| !o.is_empty()) {
                    self.put(k, j);
                }
            }
        }
    }

    /// The `document` column's members, after the core ones.
    fn document(&mut self, v: &Value) {
        if let Value::Text(s) = v {
            if let Ok(Json::Object(o)) = serde_json::from_str::<Json>(s) {
                for (k, v) in o {
                    if !self.0.iter().any(|(have, _)| *have == k) {
                        self.0.push((k, v));
                    }
                }
            }
        }
    }

    /// The value of member `k`.
    pub fn get(&self, k: &str) -> Option<&Json> {
        self.0.iter().find(|(have, _)| have == k).map(|(_, v)| v)
    }
}

/// A whole tenant, ready to write.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Export {
    /// (member name, objects), in the file's order.
    pub kinds: Vec<(&'static str, Vec<Obj>)>,
}

impl Export {
    /// The objects of member `member` (`identities`, `sources`, …).
    pub fn of(&self, member: &str) -> &[Obj] {
        self.kinds
            .iter()
            .find(|(k, _)| *k == member)
            .map_or(&[], |(_, v)| v.as_slice())
    }

    /// Writes the JSON tenant file: one object per line.
    pub fn write_json(&self, w: &mut dyn Write) -> io::Result<()> {
        writeln!(w, "{{")?;
        write!(w, "  \"gatehouse\": \"{FORMAT}\"")?;
        for (member, objs) in &self.kinds {
            write!(w, ",\n  \"{member}\": [")?;
            for (i, o) in objs.iter().enumerate() {
                w.write_all(if i == 0 { b"\n    " } else { b",\n    " })?;
                serde_json::to_writer(&mut *w, o)?;
            }
            if objs.is_empty() {
                write!(w, "]")?;
            } else {
                write!(w, "\n  ]")?;
            }
        }
        writeln!(w, "\n}}")?;
        Ok(())
    }

    /// The JSON tenant file as a string.
    pub fn to_json_string(&self) -> String {
        let mut out = Vec::new();
        // Writing to a Vec cannot fail.
        let _ = self.write_json(&mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}

fn load(c: &mut dyn Conn, t: &Table, tenant: &str) -> Result<Vec<Vec<Value>>, StoreError> {
    Ok(c.query(&t.select(), &[tenant.into()])?
        .into_iter()
        .map(|r| r.0)
        .collect())
}

fn s(v: &Value) -> &str {
    match v {
        Value::Text(s) => s,
        _ => "",
    }
}

/// Names by id, and references by name (or `{"id"}` when the object is gone).
#[derive(Default)]
struct Names(HashMap<String, String>);

impl Names {
    fn of(rows: &[Vec<Value>], name_at: usize) -> Self {
        Self(
            rows.iter()
                .map(|r| (s(&r[0]).to_owned(), s(&r[name_at]).to_owned()))
                .collect(),
        )
    }

    fn reference(&self, v: &Value) -> Option<Json> {
        match v {
            Value::Text(id) => Some(
                self.0
                    .get(id)
                    .map_or_else(|| json!({ "id": id }), |n| Json::String(n.clone())),
            ),
            _ => None,
        }
    }

    fn name(&self, id: &str) -> &str {
        self.0.get(id).map_or("", String::as_str)
    }
}

fn links(
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

fn sort_by_name(rows: &mut [Vec<Value>], t: &Table) {
    let n = t.col("name");
    rows.sort_by(|a, b| (s(&a[n]), s(&a[0])).cmp(&(s(&b[n]), s(&b[0]))));
}

/// Reads the whole tenant `tenant_id` as a tenant file.
#[allow(clippy::too_many_lines)]
pub fn export(c: &mut dyn Conn, tenant_id: &str) -> Result<Export, StoreError> {
    let col = |t: &Table, n: &str| t.col(n);
    let mut people = load(c, &IDENTITY, tenant_id)?;
    sort_by_name(&mut people, &IDENTITY);
    let person = Names::of(&people, col(&IDENTITY, "name"));
    let mut clusters = load(c, &CLUSTER, tenant_id)?;
    sort_by_name(&mut clusters, &CLUSTER);
    let cluster = Names::of(&clusters, col(&CLUSTER, "name"));
    let mut groups = load(c, &GROUP, tenant_id)?;
    sort_by_name(&mut groups, &GROUP);
    let group = Names::of(&groups, col(&GROUP, "name"));
    let mut sources = load(c, &SOURCE, tenant_id)?;
    sort_by_name(&mut sources, &SOURCE);
    let source = Names::of(&sources, col(&SOURCE, "name"));
    let mut ents = load(c, &ENTITLEMENT, tenant_id)?;
    let (es, ea, ev) = (
        col(&ENTITLEMENT, "source_id"),
        col(&ENTITLEMENT, "attribute"),
        col(&ENTITLEMENT, "value"),
    );
    ents.sort_by(|a, b| {
        (source.name(s(&a[es])), s(&a[ea]), s(&a[ev]), s(&a[0])).cmp(&(
            source.name(s(&b[es])),
            s(&b[ea]),
            s(&b[ev]),
            s(&b[0]),
        ))
    });
    let ent_ref: HashMap<String, Json> = ents
        .iter()
        .map(|r| {
            (
                s(&r[0]).to_owned(),
                json!({"source": source.reference(&r[es]), "attribute": s(&r[ea]), "value": s(&r[ev])}),
            )
        })
        .collect();
    let ent = |id: &String| {
        ent_ref
            .get(id)
            .cloned()
            .unwrap_or_else(|| json!({ "id": id }))
    };
    let mut aps = load(c, &ACCESS_PROFILE, tenant_id)?;
    sort_by_name(&mut aps, &ACCESS_PROFILE);
    let ap = Names::of(&aps, col(&ACCESS_PROFILE, "name"));
    let mut roles = load(c, &ROLE, tenant_id)?;
    sort_by_name(&mut roles, &ROLE);
    let role = Names::of(&roles, col(&ROLE, "name"));
    let mut accounts = load(c, &ACCOUNT, tenant_id)?;
    let (acs, acn) = (col(&ACCOUNT, "source_id"), col(&ACCOUNT, "native_identity"));
    accounts.sort_by(|a, b| {
        (source.name(s(&a[acs])), s(&a[acn]), s(&a[0])).cmp(&(
            source.name(s(&b[acs])),
            s(&b[acn]),
            s(&b[0]),
        ))
    });
    let account_ref: HashMap<String, Json> = accounts
        .iter()
        .map(|r| {
            (
                s(&r[0]).to_owned(),
                json!({"source": source.reference(&r[acs]), "nativeIdentity": s(&r[acn])}),
            )
        })
        .collect();
    let members = links(c, "select m.group_id, m.identity_id from governance_group_member m join governance_group g on g.id = m.group_id where g.tenant_id = $1", tenant_id)?;
    let ap_ents = links(c, "select l.access_profile_id, l.entitlement_id from access_profile_entitlement l join access_profile a on a.id = l.access_profile_id where a.tenant_id = $1 order by l.access_profile_id, l.position", tenant_id)?;
    let role_aps = links(c, "select l.role_id, l.access_profile_id from role_access_profile l join role r on r.id = l.role_id where r.tenant_id = $1 order by l.role_id, l.position", tenant_id)?;
    let role_ents = links(c, "select l.role_id, l.entitlement_id from role_entitlement l join role r on r.id = l.role_id where r.tenant_id = $1 order by l.role_id, l.position", tenant_id)?;

    let mut out = Export::default();

    let objs = people
        .iter()
        .map(|r| {
            let t = &IDENTITY;
            let mut o = Obj::default();
            o.text("id", &r[0]);
            o.text("name", &r[col(t, "name")]);
            o.text("displayName", &r[col(t, "display_name")]);
            o.text("firstName", &r[col(t, "first_name")]);
            o.text("lastName", &r[col(t, "last_name")]);
            o.text("email", &r[col(t, "email")]);
            o.text("alias", &r[col(t, "alias")]);
            if let Some(m) = person.reference(&r[col(t, "manager_id")]) {
                o.put("manager", m);
            }
            o.json("authorities", &r[col(t, "authorities")]);
            o.text("lifecycleState", &r[col(t, "lifecycle_state")]);
            o.text("cloudStatus", &r[col(t, "cloud_status")]);
            o.text("processingState", &r[col(t, "processing_state")]);
            o.boolean("correlated", &r[col(t, "correlated")]);
            o.boolean("isProtected", &r[col(t, "is_protected")]);
            o.nonempty("attributes", &r[col(t, "attributes")]);
            o.date("created", &r[col(t, "created")]);
            o.date("modified", &r[col(t, "modified")]);
            o
        })
        .collect();
    out.kinds.push(("identities", objs));

    let objs = clusters
        .iter()
        .map(|r| {
            let t = &CLUSTER;
            let mut o = Obj::default();
            o.text("id", &r[0]);
            o.text("name", &r[col(t, "name")]);
            o.text("type", &r[col(t, "type")]);
            o.text("description", &r[col(t, "description")]);
            o.boolean("operational", &r[col(t, "operational")]);
            o.text("status", &r[col(t, "status")]);
            o.date("created", &r[col(t, "created")]);
            o.date("modified", &r[col(t, "modified")]);
            o.document(&r[col(t, "document")]);
            o
        })
        .collect();
    out.kinds.push(("clusters", objs));

    let objs = groups
        .iter()
        .map(|r| {
            let t = &GROUP;
            let mut o = Obj::default();
            o.text("id", &r[0]);
            o.text("name", &r[col(t, "name")]);
            o.text("description", &r[col(t, "description")]);
            if let Some(x) = person.reference(&r[col(t, "owner_id")]) {
                o.put("owner", x);
            }
            let mut m: Vec<Json> = members
                .get(s(&r[0]))
                .into_iter()
                .flatten()
                .map(|id| {
                    person
                        .reference(&Value::Text(id.clone()))
                        .unwrap_or(Json::Null)
                })
                .collect();
            m.sort_by_cached_key(ToString::to_string);
            o.put("members", Json::Array(m));
            o.date("created", &r[col(t, "created")]);
            o.date("modified", &r[col(t, "modified")]);
            o
        })
        .collect();
    out.kinds.push(("governanceGroups", objs));

    let objs = sources
        .iter()
        .map(|r| {
            let t = &SOURCE;
            let mut o = Obj::default();
            o.text("id", &r[0]);
            o.text("name", &r[col(t, "name")]);
            o.text("description", &r[col(t, "description")]);
            o.text("type", &r[col(t, "type")]);
            if let Some(x) = person.reference(&r[col(t, "owner_id")]) {
                o.put("owner", x);
            }
            if let Some(x) = cluster.reference(&r[col(t, "cluster_id")]) {
                o.put("cluster", x);
            }
            if let Some(x) = group.reference(&r[col(t, "management_workgroup_id")]) {
                o.put("managementWorkgroup", x);
            }
            o.text("connector", &r[col(t, "connector")]);
            o.text("connectionType", &r[col(t, "connection_type")]);
            o.boolean("authoritative", &r[col(t, "authoritative")]);
            o.boolean("healthy", &r[col(t, "healthy")]);
            o.text("status", &r[col(t, "status")]);
            o.json("features", &r[col(t, "features")]);
            o.date("created", &r[col(t, "created")]);
            o.date("modified", &r[col(t, "modified")]);
            o.document(&r[col(t, "document")]);
            o
        })
        .collect();
    out.kinds.push(("sources", objs));

    let objs = ents
        .iter()
        .map(|r| {
            let t = &ENTITLEMENT;
            let mut o = Obj::default();
            o.text("id", &r[0]);
            if let Some(x) = source.reference(&r[es]) {
                o.put("source", x);
            }
            o.text("attribute", &r[ea]);
            o.text("value", &r[ev]);
            o.text("name", &r[col(t, "name")]);
            o.text("type", &r[col(t, "type")]);
            o.text("description", &r[col(t, "description")]);
            if let Some(x) = person.reference(&r[col(t, "owner_id")]) {
                o.put("owner", x);
            }
            o.boolean("requestable", &r[col(t, "requestable")]);
            o.boolean("privileged", &r[col(t, "privileged")]);
            o.date("created", &r[col(t, "created")]);
            o.date("modified", &r[col(t, "modified")]);
            o.document(&r[col(t, "document")]);
            o
        })
        .collect();
    out.kinds.push(("entitlements", objs));

    let objs = aps
        .iter()
        .map(|r| {
            let t = &ACCESS_PROFILE;
            let mut o = Obj::default();
            o.text("id", &r[0]);
            o.text("name", &r[col(t, "name")]);
            o.text("description", &r[col(t, "description")]);
            if let Some(x) = source.reference(&r[col(t, "source_id")]) {
                o.put("source", x);
            }
            if let Some(x) = person.reference(&r[col(t, "owner_id")]) {
                o.put("owner", x);
            }
            o.boolean("enabled", &r[col(t, "enabled")]);
            o.boolean("requestable", &r[col(t, "requestable")]);
            o.json("accessRequestConfig", &r[col(t, "access_request_config")]);
            o.json(
                "revocationRequestConfig",
                &r[col(t, "revocation_request_config")],
            );
            let list: Vec<Json> = ap_ents
                .get(s(&r[0]))
                .into_iter()
                .flatten()
                .map(&ent)
                .collect();
            o.put("entitlements", Json::Array(list));
            o.date("created", &r[col(t, "created")]);
            o.date("modified", &r[col(t, "modified")]);
            o.document(&r[col(t, "document")]);
            o
        })
        .collect();
    out.kinds.push(("accessProfiles", objs));

    let objs = roles
        .iter()
        .map(|r| {
            let t = &ROLE;
            let mut o = Obj::default();
            o.text("id", &r[0]);
            o.text("name", &r[col(t, "name")]);
            o.text("description", &r[col(t, "description")]);
            if let Some(x) = person.reference(&r[col(t, "owner_id")]) {
                o.put("owner", x);
            }
            o.boolean("enabled", &r[col(t, "enabled")]);
            o.boolean("requestable", &r[col(t, "requestable")]);
            o.boolean("dimensional", &r[col(t, "dimensional")]);
            o.json("accessRequestConfig", &r[col(t, "access_request_config")]);
            o.json(
                "revocationRequestConfig",
                &r[col(t, "revocation_request_config")],
            );
            let list: Vec<Json> = role_aps
                .get(s(&r[0]))
                .into_iter()
                .flatten()
                .map(|id| ap.reference(&Value::Text(id.clone())).unwrap_or(Json::Null))
                .collect();
            o.put("accessProfiles", Json::Array(list));
            let list: Vec<Json> = role_ents
                .get(s(&r[0]))
                .into_iter()
                .flatten()
                .map(&ent)
                .collect();
            o.put("entitlements", Json::Array(list));
            o.date("created", &r[col(t, "created")]);
            o.date("modified", &r[col(t, "modified")]);
            o.document(&r[col(t, "document")]);
            o
        })
        .collect();
    out.kinds.push(("roles", objs));

    let objs = accounts
        .iter()
        .map(|r| {
            let t = &ACCOUNT;
            let mut o = Obj::default();
            o.text("id", &r[0]);
            if let Some(x) = source.reference(&r[acs]) {
                o.put("source", x);
            }
            o.text("nativeIdentity", &r[acn]);
            o.text("name", &r[col(t, "name")]);
            if let Some(x) = person.reference(&r[col(t, "identity_id")]) {
                o.put("identity", x);
            }
            o.text("uuid", &r[col(t, "uuid")]);
            o.boolean("disabled", &r[col(t, "disabled")]);
            o.boolean("locked", &r[col(t, "locked")]);
            o.boolean("manuallyCorrelated", &r[col(t, "manually_correlated")]);
            o.text("origin", &r[col(t, "origin")]);
            o.nonempty("attributes", &r[col(t, "attributes")]);
            o.date("created", &r[col(t, "created")]);
            o.date("modified", &r[col(t, "modified")]);
            o
        })
        .collect();
    out.kinds.push(("accounts", objs));

    let mut assignments = load(c, &ASSIGNMENT, tenant_id)?;
    let t = &ASSIGNMENT;
    let (ai, at, ait, ar, aa) = (
        col(t, "identity_id"),
        col(t, "item_type"),
        col(t, "item_id"),
        col(t, "reason"),
        col(t, "account_id"),
    );
    let item_name = |r: &Vec<Value>| -> String {
        match s(&r[at]) {
            "ROLE" => role.name(s(&r[ait])).to_owned(),
            "ACCESS_PROFILE" => ap.name(s(&r[ait])).to_owned(),
            _ => ent_ref
                .get(s(&r[ait]))
                .map(ToString::to_string)
                .unwrap_or_default(),
        }
    };
    assignments.sort_by_cached_key(|r| {
        (
            person.name(s(&r[ai])).to_owned(),
            s(&r[at]).to_owned(),
            item_name(r),
            s(&r[ar]).to_owned(),
            account_ref
                .get(s(&r[aa]))
                .map(ToString::to_string)
                .unwrap_or_default(),
            s(&r[0]).to_owned(),
        )
    });
    let objs = assignments
        .iter()
        .map(|r| {
            let mut o = Obj::default();
            o.text("id", &r[0]);
            if let Some(x) = person.reference(&r[ai]) {
                o.put("identity", x);
            }
            let item = Value::Text(s(&r[ait]).to_owned());
            match s(&r[at]) {
                "ROLE" => o.put("role", role.reference(&item).unwrap_or(Json::Null)),
                "ACCESS_PROFILE" => {
                    o.put("accessProfile", ap.reference(&item).unwrap_or(Json::Null))
                }
                _ => o.put("entitlement", ent(&s(&r[ait]).to_owned())),
            }
            o.text("reason", &r[ar]);
            if let Value::Text(a) = &r[aa] {
                o.put(
                    "account",
                    account_ref
                        .get(a)
                        .cloned()
                        .unwrap_or_else(|| json!({ "id": a })),
                );
            }
            o.text("accessRequestId", &r[col(t, "access_request_id")]);
            o.date("startDate", &r[col(t, "start_date")]);
            o.date("removeDate", &r[col(t, "remove_date")]);
            o.date("created", &r[col(t, "created")]);
            o.date("modified", &r[col(t, "modified")]);
            o
        })
        .collect();
    out.kinds.push(("assignments", objs));
    Ok(out)
}
