//! Conformance checks of tenant data: import, export, reset and snapshots (both engines).

use crate::snapshots;
use crate::tenant_data::task::Launcher;
use crate::tenant_data::{self, CsvKind, Outcome, Progress, Summary, TenantFile};
use crate::tenants::{self, Identity, Keep, TENANT_TABLES};
use crate::{pats, Store, Value};
use gatehouse_domain::Timestamp;

const T0: Timestamp = Timestamp(1_700_000_000_000);
const T1: Timestamp = Timestamp(1_700_000_100_000);

async fn tenant(store: &Store) {
    store
        .write(|c| tenants::ensure_default(c, "t1", "acme", T0).map(|_| ()))
        .await
        .unwrap();
}

/// Every row of the tenant, table by table, sorted: the state to compare.
pub(crate) async fn dump(store: &Store) -> Vec<(String, Vec<String>)> {
    store
        .read(|c| {
            let mut out = Vec::new();
            for t in TENANT_TABLES {
                let cols = tenants::table_columns(c, t.name)?;
                let mut rows: Vec<String> = c
                    .query(
                        &format!(
                            "select {} from {} where {}",
                            cols.join(", "),
                            t.name,
                            t.scope_sql()
                        ),
                        &[Value::from("t1")],
                    )?
                    .into_iter()
                    .map(|r| {
                        r.0.iter()
                            .map(|v| match v {
                                // Booleans read back as 0/1 on SQLite.
                                Value::Bool(b) => i64::from(*b).to_string(),
                                other => format!("{other:?}"),
                            })
                            .collect::<Vec<_>>()
                            .join("|")
                    })
                    .collect();
                rows.sort();
                out.push((t.name.to_owned(), rows));
            }
            Ok(out)
        })
        .await
        .unwrap()
}

async fn count(store: &Store, table: &str) -> i64 {
    let sql = format!("select count(*) from {table}");
    store
        .read(move |c| c.query_one(&sql, &[])?.int(0))
        .await
        .unwrap()
}

async fn import(store: &Store, file: TenantFile, now: Timestamp) -> Outcome {
    store
        .write(move |c| tenant_data::import(c, "t1", file, now, &Progress::new()))
        .await
        .unwrap()
}

fn imported(o: Outcome) -> Summary {
    match o {
        Outcome::Imported(s) => s,
        Outcome::Rejected(p) => panic!(
            "rejected: {}",
            p.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        ),
    }
}

fn json(name: &str, text: &str) -> TenantFile {
    let mut f = TenantFile::new();
    f.add_json(name, text.as_bytes());
    f
}

async fn export(store: &Store) -> String {
    store
        .read(|c| tenant_data::export(c, "t1"))
        .await
        .unwrap()
        .to_json_string()
}

pub(crate) async fn every_table_is_classified(store: &Store) {
    let names = store.read(tenants::table_names).await.unwrap();
    for n in &names {
        assert!(
            TENANT_TABLES.iter().any(|t| t.name == n)
                || tenants::GLOBAL_TABLES.contains(&n.as_str()),
            "table {n} is neither in tenants::TENANT_TABLES nor in tenants::GLOBAL_TABLES: \
             a tenant-owned table must be listed so that reset and snapshots cover it"
        );
    }
    for t in TENANT_TABLES {
        assert!(names.iter().any(|n| n == t.name), "no table {}", t.name);
    }
}

pub(crate) async fn demo_imports_and_reimports_unchanged(store: &Store) {
    tenant(store).await;
    let first = imported(import(store, TenantFile::demo(), T0).await);
    let people = first.of("identity");
    assert!(people.created > 200, "{first:?}");
    assert_eq!(people.updated + people.unchanged, 0);
    assert_eq!(first.of("source").created, 12);
    let before = dump(store).await;
    let again = imported(import(store, TenantFile::demo(), T1).await);
    assert_eq!(again.changed(), 0, "{again:?}");
    assert_eq!(again.of("identity").unchanged, people.created);
    assert_eq!(dump(store).await, before, "a re-import changed rows");
    assert_eq!(
        count(store, "identity").await,
        i64::try_from(people.created).unwrap()
    );
    // Ids are derived from names: the same on every installation.
    let id = store
        .read(|c| {
            Ok(tenants::identity_by_name(c, "t1", "alice.nguyen")?
                .unwrap()
                .id)
        })
        .await
        .unwrap();
    assert_eq!(id, tenant_data::derived_id("identity", "alice.nguyen"));
}

const GOOD: &str = r#"{
  "gatehouse": "tenant/1",
  "identities": [
    {"name": "boss", "displayName": "The Boss", "email": "boss@example.com", "authorities": ["ORG_ADMIN", "USER"]},
    {"name": "ann", "manager": "boss", "attributes": {"department": "R&D"}},
    {"name": "bob", "manager": {"name": "ann"}, "lifecycleState": "active"}
  ],
  "clusters": [{"name": "va-1", "description": "one"}],
  "governanceGroups": [{"name": "Approvers", "owner": "boss", "members": ["ann", "bob"]}],
  "sources": [
    {"name": "AD", "owner": "boss", "cluster": "va-1", "connector": "active-directory", "features": ["PROVISIONING"]},
    {"name": "SAP", "owner": "ann", "managementWorkgroup": "Approvers", "connector": "delimited-file", "serviceDeskManaged": true}
  ],
  "entitlements": [
    {"source": "AD", "attribute": "memberOf", "value": "CN=dev", "name": "dev"},
    {"source": "AD", "attribute": "memberOf", "value": "CN=ops", "privileged": true, "owner": "boss"},
    {"source": "SAP", "attribute": "role", "value": "AP_CLERK"}
  ],
  "accessProfiles": [
    {"name": "Developers", "source": "AD", "owner": "ann", "entitlements": [{"attribute": "memberOf", "value": "CN=dev"}],
     "accessRequestConfig": {"commentsRequired": true, "approvalSchemes": [{"approverType": "MANAGER", "approverId": null}]}},
    {"name": "Clerks", "source": "SAP", "owner": "ann", "entitlements": [{"source": "SAP", "attribute": "role", "value": "AP_CLERK"}]}
  ],
  "roles": [
    {"name": "Engineer", "owner": "boss", "accessProfiles": ["Developers"], "entitlements": [{"source": "AD", "attribute": "memberOf", "value": "CN=ops"}], "requestable": true}
  ],
  "accounts": [
    {"source": "AD", "nativeIdentity": "CN=bob", "identity": "bob"},
    {"source": "SAP", "nativeIdentity": "BOB", "identity": "bob", "attributes": {"plant": "1000"}}
  ],
  "assignments": [
    {"identity": "bob", "role": "Engineer", "reason": "ROLE_MEMBERSHIP"},
    {"identity": "bob", "accessProfile": "Clerks", "account": {"nativeIdentity": "BOB"}, "removeDate": "2030-01-01T00:00:00Z"},
    {"identity": "ann", "entitlement": {"source": "AD", "attribute": "memberOf", "value": "CN=ops"}}
  ]
}
"#;

pub(crate) async fn good_file_imports_once(store: &Store) {
    tenant(store).await;
    let s = imported(import(store, json("good.json", GOOD), T0).await);
    assert_eq!(s.of("identity").created, 3);
    assert_eq!(s.of("assignment").created, 3);
    let counts = [
        ("identity", 3),
        ("managed_cluster", 1),
        ("governance_group_member", 2),
        ("source", 2),
        ("entitlement", 3),
        ("access_profile_entitlement", 2),
        ("role_access_profile", 1),
        ("role_entitlement", 1),
        ("account", 2),
        ("assignment", 3),
    ];
    for (t, n) in counts {
        assert_eq!(count(store, t).await, n, "{t}");
    }
    let again = imported(import(store, json("good.json", GOOD), T1).await);
    assert_eq!(again.changed(), 0, "{again:?}");
    for (t, n) in counts {
        assert_eq!(count(store, t).await, n, "{t} after a re-import");
    }
    // A changed field updates in place: same id, new value, modified moves.
    let changed = GOOD.replace("\"The Boss\"", "\"The Big Boss\"");
    let s = imported(import(store, json("good.json", &changed), T1).await);
    assert_eq!((s.of("identity").updated, s.changed()), (1, 1));
    let boss = store
        .read(|c| tenants::identity_by_name(c, "t1", "boss"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(boss.display_name.as_deref(), Some("The Big Boss"));
    assert_eq!((boss.created, boss.modified), (T0, T1));
    let e = export(store).await;
    assert!(e.contains("\"serviceDeskManaged\":true"), "{e}");
    // An id this tenant does not know, for a name it does (an export of another installation):
    // the stored object is meant, and references to that id reach it.
    let foreign = r#"{"identities": [
        {"id": "0123456789abcdef0123456789abcdef", "name": "boss", "displayName": "The Big Boss", "email": "boss@example.com", "authorities": ["ORG_ADMIN", "USER"]},
        {"name": "cat", "manager": {"id": "0123456789abcdef0123456789abcdef"}}
    ]}"#;
    let s = imported(import(store, json("foreign.json", foreign), T1).await);
    assert_eq!(
        (s.of("identity").unchanged, s.of("identity").created),
        (1, 1),
        "{s:?}"
    );
    let cat_manager = store
        .read(|c| {
            c.query_one("select manager_id from identity where name = 'cat'", &[])?
                .text(0)
        })
        .await
        .unwrap();
    assert_eq!(cat_manager, boss.id);
}

const BAD: &str = r#"{
  "gatehouse": "tenant/1",
  "identities": [
    {"name": "ann"},
    {"name": "bob", "manager": "nobody"},
    {"name": "ann"},
    {"name": "cy", "authorities": ["WIZARD"]},
    {"name": "dee", "correlated": "yes"},
    {"name": "x1", "manager": "x2"},
    {"name": "x2", "manager": "x1"},
    {"name": "eve", "id": "NOT-HEX"}
  ],
  "sources": [
    {"name": "AD", "owner": "ann"},
    {"name": "HR", "owner": "ghost"}
  ],
  "entitlements": [
    {"source": "AD", "attribute": "memberOf", "value": "CN=a"},
    {"source": "Nowhere", "attribute": "memberOf", "value": "CN=b"}
  ],
  "accessProfiles": [
    {"name": "P", "source": "HR", "owner": "ann", "entitlements": [{"source": "AD", "attribute": "memberOf", "value": "CN=a"}]}
  ],
  "assignments": [
    {"identity": "ann", "role": "Missing"},
    {"identity": "ann", "role": "Missing", "accessProfile": "P"}
  ]
}
"#;

pub(crate) async fn bad_file_changes_nothing_and_names_every_row(store: &Store) {
    tenant(store).await;
    imported(import(store, json("good.json", GOOD), T0).await);
    let before = dump(store).await;
    let Outcome::Rejected(problems) = import(store, json("bad.json", BAD), T1).await else {
        panic!("a bad file was imported");
    };
    assert_eq!(dump(store).await, before, "a rejected import changed rows");
    let lines: Vec<u32> = problems.iter().map(|p| p.line).collect();
    let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
    let has = |line: u32, words: &str| {
        assert!(
            problems
                .iter()
                .any(|p| p.line == line && p.file == "bad.json" && p.to_string().contains(words)),
            "no problem on line {line} saying '{words}' in:\n{}",
            text.join("\n")
        );
    };
    has(5, "no identity named 'nobody'");
    has(6, "also on line 4");
    has(7, "'WIZARD' is not a user level");
    has(8, "invalid type");
    has(9, "cycle");
    has(10, "cycle");
    has(11, "not 32 lower-case hex");
    has(15, "no identity named 'ghost'");
    has(19, "no source named 'Nowhere'");
    has(22, "not of the access profile's source");
    has(25, "no role named 'Missing'");
    has(26, "exactly one of");
    assert!(
        !lines.contains(&4) && !lines.contains(&14),
        "{}",
        text.join("\n")
    );
    // A file whose syntax is broken names the line too, and changes nothing.
    let Outcome::Rejected(p) = import(
        store,
        json(
            "broken.json",
            "{\n\"identities\": [\n{\"name\": \"z\"}\n{\"name\": \"y\"}]}",
        ),
        T1,
    )
    .await
    else {
        panic!("a broken file was imported");
    };
    assert_eq!((p.len(), p[0].line), (1, 4), "{p:?}");
    assert_eq!(dump(store).await, before);
}

pub(crate) async fn export_import_round_trips(store: &Store) {
    tenant(store).await;
    imported(import(store, TenantFile::demo(), T0).await);
    imported(import(store, json("good.json", GOOD), T0).await);
    let first = export(store).await;
    let state = dump(store).await;
    // Into an emptied tenant: the same export, the same rows.
    store
        .write(|c| tenants::reset(c, "t1", &Keep::default()))
        .await
        .unwrap();
    assert_eq!(count(store, "identity").await, 0);
    imported(import(store, json("export.json", &first), T1).await);
    assert_eq!(export(store).await, first);
    assert_eq!(dump(store).await.len(), state.len());
    // Over itself: nothing changes.
    let s = imported(import(store, json("export.json", &first), T1).await);
    assert_eq!(s.changed(), 0, "{s:?}");
    assert_eq!(export(store).await, first);
}

pub(crate) async fn csv_forms_import_and_export(store: &Store) {
    tenant(store).await;
    let people = "name,displayName,manager,authorities,email,correlated,attributes.department\n\
                  boss,The Boss,,ORG_ADMIN;USER,boss@example.com,true,Board\n\
                  \"ann\",\"Ann, PhD\",boss,USER,,false,R&D\n";
    let ents = "source,attribute,value,name,owner,privileged\nAD,memberOf,CN=dev,dev,boss,false\n";
    let mut f = TenantFile::new();
    f.add_csv("people.csv", people.as_bytes(), CsvKind::Identities);
    f.add_json(
        "sources.json",
        br#"{"sources": [{"name": "AD", "owner": "boss"}]}"#,
    );
    f.add_csv("ents.csv", ents.as_bytes(), CsvKind::Entitlements);
    assert_eq!(CsvKind::from_header(ents.as_bytes()), CsvKind::Entitlements);
    assert_eq!(CsvKind::from_header(people.as_bytes()), CsvKind::Identities);
    let s = imported(import(store, f, T0).await);
    assert_eq!(
        (s.of("identity").created, s.of("entitlement").created),
        (2, 1)
    );
    let ann = store
        .read(|c| tenants::identity_by_name(c, "t1", "ann"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ann.display_name.as_deref(), Some("Ann, PhD"));
    let e = store.read(|c| tenant_data::export(c, "t1")).await.unwrap();
    let mut out = Vec::new();
    e.write_csv(&mut out, CsvKind::Identities).unwrap();
    let csv_text = String::from_utf8(out).unwrap();
    assert!(csv_text.starts_with("id,name,displayName,"), "{csv_text}");
    assert!(
        csv_text.contains("\"Ann, PhD\",,,,,boss,USER"),
        "{csv_text}"
    );
    assert!(csv_text.contains("attributes.department"), "{csv_text}");
    // The exported CSV imports back unchanged.
    let mut again = TenantFile::new();
    again.add_csv("export.csv", csv_text.as_bytes(), CsvKind::Identities);
    let s = imported(import(store, again, T1).await);
    assert_eq!(s.of("identity").unchanged, 2, "{s:?}");
    let mut out = Vec::new();
    e.write_csv(&mut out, CsvKind::Entitlements).unwrap();
    let mut again = TenantFile::new();
    again.add_csv("ents.csv", &out, CsvKind::Entitlements);
    assert_eq!(imported(import(store, again, T1).await).changed(), 0);
    // Bad rows name their line; nothing changes.
    let before = dump(store).await;
    let bad = "name,manager,isProtected\ncarl,boss,true\ndora,nobody,false\neli,boss,maybe\n";
    let mut f = TenantFile::new();
    f.add_csv("bad.csv", bad.as_bytes(), CsvKind::Identities);
    let Outcome::Rejected(p) = import(store, f, T1).await else {
        panic!("bad CSV imported")
    };
    let got: Vec<(u32, bool)> = p.iter().map(|x| (x.line, x.file == "bad.csv")).collect();
    assert_eq!(got, vec![(3, true), (4, true)], "{p:?}");
    assert_eq!(dump(store).await, before);
    let mut f = TenantFile::new();
    f.add_csv("cols.csv", b"name,nickname\nx,y\n", CsvKind::Identities);
    assert!(f.problems()[0].reason.contains("nickname"));
}

async fn admin_with_pat(store: &Store) -> (String, String) {
    store
        .write(|c| {
            tenants::insert_identity(
                c,
                &Identity {
                    id: "admin".into(),
                    tenant_id: "t1".into(),
                    name: "admin".into(),
                    display_name: None,
                    email: None,
                    authorities: vec!["ORG_ADMIN".into()],
                    created: T0,
                    modified: T0,
                },
            )?;
            let pat = |id: &str, managed: bool| pats::Pat {
                id: id.into(),
                tenant_id: "t1".into(),
                owner_id: "admin".into(),
                name: id.into(),
                secret_hash: "h".into(),
                scope: None,
                access_token_validity_seconds: 60,
                expiration_date: None,
                never_expires: false,
                managed,
                created: T0,
                last_used: None,
            };
            pats::insert(c, &pat("managed-pat", true))?;
            pats::insert(c, &pat("other-pat", false))
        })
        .await
        .unwrap();
    ("admin".into(), "managed-pat".into())
}

pub(crate) async fn reset_empties_every_table_but_keeps_the_admin(store: &Store) {
    tenant(store).await;
    admin_with_pat(store).await;
    imported(import(store, TenantFile::demo(), T0).await);
    let keep = store
        .read(|c| Keep::for_caller(c, "t1", Some("admin"), Some("other-pat")))
        .await
        .unwrap();
    assert_eq!(keep.identities, vec!["admin".to_owned()]);
    assert_eq!(
        keep.tokens,
        vec!["other-pat".to_owned(), "managed-pat".to_owned()]
    );
    let k = keep.clone();
    store
        .write(move |c| tenants::reset(c, "t1", &k))
        .await
        .unwrap();
    for (table, rows) in dump(store).await {
        let expected = match table.as_str() {
            "identity" => 1,
            "personal_access_token" => 2,
            _ => 0,
        };
        assert_eq!(rows.len(), expected, "{table}: {rows:?}");
    }
    // To demo: reset, then the demo, in one transaction; twice gives the same rows (the import's
    // task aside: one each time, under a new job id).
    let k = Keep::for_caller_ids(&["admin"], &["managed-pat"]);
    let k2 = k.clone();
    store
        .write(move |c| {
            tenants::reset(c, "t1", &k)?;
            tenant_data::import_demo(c, "t1", T0, Launcher::Identity("admin".into()))
        })
        .await
        .unwrap();
    let without_jobs = |d: Vec<(String, Vec<String>)>| {
        let jobs = d.iter().find(|(t, _)| t == "job").map(|(_, r)| r.clone());
        let jobs = jobs.unwrap_or_default();
        assert_eq!(jobs.len(), 1, "one import task: {jobs:?}");
        assert!(jobs[0].contains("tenant_import"), "{jobs:?}");
        d.into_iter()
            .filter(|(t, _)| t != "job")
            .collect::<Vec<_>>()
    };
    let once = without_jobs(dump(store).await);
    assert!(once.iter().any(|(t, r)| t == "identity" && r.len() > 200));
    store
        .write(move |c| {
            tenants::reset(c, "t1", &k2)?;
            tenant_data::import_demo(c, "t1", T0, Launcher::Identity("admin".into()))
        })
        .await
        .unwrap();
    assert_eq!(without_jobs(dump(store).await), once);
}

pub(crate) async fn snapshot_restore_gives_back_the_snapshot(store: &Store) {
    tenant(store).await;
    admin_with_pat(store).await;
    imported(import(store, TenantFile::demo(), T0).await);
    imported(import(store, json("good.json", GOOD), T0).await);
    let job = |kind: &str| crate::jobs::NewJob {
        tenant_id: Some("t1".into()),
        kind: kind.into(),
        args: serde_json::json!({"k": kind}),
        max_attempts: 3,
        run_at: T0,
        unique_key: Some(format!("snapshot-{kind}")),
        launcher: None,
        target: None,
    };
    let (j1, j2) = (job("before"), job("after"));
    store
        .write(move |c| {
            crate::settings::put(c, "t1", "x", &serde_json::json!(1), T0)?;
            crate::jobs::enqueue(c, &j1, T0).map(|_| ())
        })
        .await
        .unwrap();
    let before = dump(store).await;
    assert!(before.iter().any(|(t, r)| t == "job" && r.len() == 1));
    let exported = export(store).await;
    let snap = store
        .write(|c| snapshots::take(c, "t1", "base", "s1", T0, false))
        .await
        .unwrap();
    assert!(snap.row_count > 3000, "{snap:?}");
    let dup = store
        .write(|c| snapshots::take(c, "t1", "base", "s2", T0, false))
        .await
        .unwrap_err();
    assert!(matches!(dup, crate::StoreError::Conflict(_)), "{dup:?}");
    // Change things: a new person with a token, an edit, deletions, a setting.
    let changed = GOOD.replace("\"The Boss\"", "\"Someone Else\"").replace(
        "{\"name\": \"ann\", ",
        "{\"name\": \"newcomer\"},{\"name\": \"ann\", ",
    );
    imported(import(store, json("changed.json", &changed), T1).await);
    store
        .write(move |c| {
            c.execute(
                "delete from assignment where tenant_id = 't1' and reason = 'BIRTHRIGHT'",
                &[],
            )?;
            c.execute("delete from role_access_profile", &[])?;
            crate::settings::put(c, "t1", "x", &serde_json::json!(2), T1)?;
            crate::settings::put(c, "t1", "y", &serde_json::json!(3), T1)?;
            c.execute("delete from job where tenant_id = 't1'", &[])?;
            crate::jobs::enqueue(c, &j2, T1)?;
            let newcomer = tenants::identity_by_name(c, "t1", "newcomer")?.unwrap();
            pats::insert(
                c,
                &pats::Pat {
                    id: "newcomer-pat".into(),
                    tenant_id: "t1".into(),
                    owner_id: newcomer.id,
                    name: "n".into(),
                    secret_hash: "h".into(),
                    scope: None,
                    access_token_validity_seconds: 60,
                    expiration_date: None,
                    never_expires: false,
                    managed: false,
                    created: T1,
                    last_used: None,
                },
            )
        })
        .await
        .unwrap();
    assert_ne!(dump(store).await, before);
    let keep = Keep::for_caller_ids(&["admin"], &["managed-pat"]);
    let started = std::time::Instant::now();
    let restored = store
        .write(move |c| snapshots::restore(c, "t1", "base", &keep))
        .await
        .unwrap()
        .unwrap();
    let took = started.elapsed();
    eprintln!(
        "snapshot restore: {} rows deleted, {} inserted in {took:?}",
        restored.deleted, restored.inserted
    );
    assert_eq!(
        dump(store).await,
        before,
        "restore did not give back the snapshot"
    );
    assert_eq!(export(store).await, exported);
    // Restoring twice is the same; an unknown name is None; a snapshot can be deleted.
    let keep = Keep::for_caller_ids(&["admin"], &["managed-pat"]);
    store
        .write(move |c| snapshots::restore(c, "t1", "base", &keep))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(dump(store).await, before);
    let keep = Keep::default();
    assert!(store
        .write(move |c| snapshots::restore(c, "t1", "nope", &keep))
        .await
        .unwrap()
        .is_none());
    let listed = store.read(|c| snapshots::list(c, "t1")).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].name, "base");
    assert!(store
        .write(|c| snapshots::delete(c, "t1", "base"))
        .await
        .unwrap());
    assert_eq!(count(store, "tenant_snapshot_chunk").await, 0);
}

pub(crate) async fn restore_keeps_the_callers_access(store: &Store) {
    tenant(store).await;
    admin_with_pat(store).await;
    store
        .write(|c| snapshots::take(c, "t1", "empty", "s1", T0, false))
        .await
        .unwrap();
    // After the snapshot: a PAT the admin now uses, and another admin created later.
    store
        .write(|c| {
            let mut p = pats::get(c, "t1", "other-pat")?.unwrap();
            p.id = "later-pat".into();
            p.name = "later".into();
            pats::insert(c, &p)?;
            tenants::insert_identity(
                c,
                &Identity {
                    id: "ops".into(),
                    tenant_id: "t1".into(),
                    name: "ops".into(),
                    display_name: None,
                    email: None,
                    authorities: vec!["ORG_ADMIN".into()],
                    created: T1,
                    modified: T1,
                },
            )
        })
        .await
        .unwrap();
    let keep = store
        .read(|c| Keep::for_caller(c, "t1", Some("admin"), Some("later-pat")))
        .await
        .unwrap();
    store
        .write(move |c| snapshots::restore(c, "t1", "empty", &keep))
        .await
        .unwrap()
        .unwrap();
    let tokens = store
        .read(|c| pats::list(c, "t1", None, None))
        .await
        .unwrap();
    let mut ids: Vec<&str> = tokens.iter().map(|p| p.id.as_str()).collect();
    ids.sort_unstable();
    // The caller's token and the managed one stay; the other one is as in the snapshot.
    assert_eq!(ids, vec!["later-pat", "managed-pat", "other-pat"]);
    assert!(store
        .read(|c| tenants::identity_by_name(c, "t1", "ops"))
        .await
        .unwrap()
        .is_none());
}
