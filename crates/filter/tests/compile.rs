//! Compiler tests: exact SQL text and parameters for every operator and kind.

mod common;

use common::SPEC;
use gatehouse_filter::{compile_filters, Param};

fn t(s: &str) -> Param {
    Param::Text(s.into())
}

/// Compiles each input with placeholders from $1 and checks SQL and params.
fn check(cases: Vec<(&str, &str, Vec<Param>)>) {
    for (input, sql, params) in cases {
        let frag = compile_filters(input, &SPEC, 1).unwrap_or_else(|e| panic!("{input:?}: {e}"));
        assert_eq!(frag.sql, sql, "{input:?}");
        assert_eq!(frag.params, params, "{input:?}");
    }
}

#[test]
fn text_operators() {
    check(vec![
        (r#"id eq "A""#, "t.id = $1", vec![t("A")]),
        (r#"id ne "A""#, "(t.id is null or t.id <> $1)", vec![t("A")]),
        (r#"id gt "A""#, "t.id > $1", vec![t("A")]),
        (r#"id ge "A""#, "t.id >= $1", vec![t("A")]),
        (r#"id lt "A""#, "t.id < $1", vec![t("A")]),
        (r#"id le "A""#, "t.id <= $1", vec![t("A")]),
        (
            r#"id co "Ab""#,
            r"lower(t.id) like $1 escape '\'",
            vec![t("%ab%")],
        ),
        (
            r#"id sw "Ab""#,
            r"(lower(t.id) >= $2 and lower(t.id) < $3 and lower(t.id) like $1 escape '\')",
            vec![t("ab%"), t("ab"), t("ac")],
        ),
        (
            r#"id co "50%_a\\b""#,
            r"lower(t.id) like $1 escape '\'",
            vec![t(r"%50\%\_a\\b%")],
        ),
        (
            r#"id sw "%""#,
            r"(lower(t.id) >= $2 and lower(t.id) < $3 and lower(t.id) like $1 escape '\')",
            vec![t(r"\%%"), t("%"), t("&")],
        ),
        (
            r#"id sw """#,
            r"lower(t.id) like $1 escape '\'",
            vec![t("%")],
        ),
        (
            "id sw \"a\u{10FFFF}\"",
            r"(lower(t.id) >= $2 and lower(t.id) < $3 and lower(t.id) like $1 escape '\')",
            vec![t("a\u{10FFFF}%"), t("a\u{10FFFF}"), t("b")],
        ),
        (
            "id sw \"\u{10FFFF}\"",
            r"(lower(t.id) >= $2 and lower(t.id) like $1 escape '\')",
            vec![t("\u{10FFFF}%"), t("\u{10FFFF}")],
        ),
        (
            "id sw \"a\u{D7FF}\"",
            r"(lower(t.id) >= $2 and lower(t.id) < $3 and lower(t.id) like $1 escape '\')",
            vec![t("a\u{D7FF}%"), t("a\u{D7FF}"), t("a\u{E000}")],
        ),
        (
            r#"id in ("A", "b")"#,
            "t.id in ($1, $2)",
            vec![t("A"), t("b")],
        ),
        (r#"id in ("A")"#, "t.id in ($1)", vec![t("A")]),
        ("pr id", "t.id is not null", vec![]),
        ("id isnull", "t.id is null", vec![]),
        ("id eq null", "t.id is null", vec![]),
        ("id ne null", "t.id is not null", vec![]),
        (
            r#"requestedFor.id eq "2c9""#,
            "requested_for_id = $1",
            vec![t("2c9")],
        ),
    ]);
}

#[test]
fn case_insensitive_text() {
    check(vec![
        (r#"name eq "John""#, "lower(name) = $1", vec![t("john")]),
        (
            r#"name ne "John""#,
            "(name is null or lower(name) <> $1)",
            vec![t("john")],
        ),
        (r#"name gt "M""#, "lower(name) > $1", vec![t("m")]),
        (
            r#"name in ("A", "Ÿb")"#,
            "lower(name) in ($1, $2)",
            vec![t("a"), t("ÿb")],
        ),
        (
            r#"name co "JO""#,
            r"lower(name) like $1 escape '\'",
            vec![t("%jo%")],
        ),
        (
            r#"name sw "JO""#,
            r"(lower(name) >= $2 and lower(name) < $3 and lower(name) like $1 escape '\')",
            vec![t("jo%"), t("jo"), t("jp")],
        ),
        ("name eq null", "name is null", vec![]),
    ]);
}

#[test]
fn int_bool_and_date_operators() {
    check(vec![
        ("count eq 5", "cnt = $1", vec![Param::Int(5)]),
        (
            "count ne -5",
            "(cnt is null or cnt <> $1)",
            vec![Param::Int(-5)],
        ),
        ("count gt 0", "cnt > $1", vec![Param::Int(0)]),
        ("count ge 1", "cnt >= $1", vec![Param::Int(1)]),
        ("count lt 2", "cnt < $1", vec![Param::Int(2)]),
        ("count le 3", "cnt <= $1", vec![Param::Int(3)]),
        (
            "count in (1, 2, 3)",
            "cnt in ($1, $2, $3)",
            vec![Param::Int(1), Param::Int(2), Param::Int(3)],
        ),
        ("enabled eq true", "enabled = $1", vec![Param::Bool(true)]),
        (
            "enabled ne false",
            "(enabled is null or enabled <> $1)",
            vec![Param::Bool(false)],
        ),
        (
            "enabled in (true)",
            "enabled in ($1)",
            vec![Param::Bool(true)],
        ),
        (
            "created gt 2023-02-05T10:59:27.214Z",
            "created_ms > $1",
            vec![Param::Int(1_675_594_767_214)],
        ),
        (
            "created le 2018-12-18T23:05:55Z",
            "created_ms <= $1",
            vec![Param::Int(1_545_174_355_000)],
        ),
        (
            r#"created eq "2018-12-18T23:05:55Z""#,
            "created_ms = $1",
            vec![Param::Int(1_545_174_355_000)],
        ),
        (
            "created lt 2018-12-18T23:05:55+01:00",
            "created_ms < $1",
            vec![Param::Int(1_545_170_755_000)],
        ),
        (
            "created ge 1970-01-01T00:00:00Z",
            "created_ms >= $1",
            vec![Param::Int(0)],
        ),
        // Sub-millisecond precision is rounded down, also before the epoch.
        (
            "created ge 1969-12-31T23:59:59.9995Z",
            "created_ms >= $1",
            vec![Param::Int(-1)],
        ),
        (
            "created ge 2020-01-01T00:00:00.0019Z",
            "created_ms >= $1",
            vec![Param::Int(1_577_836_800_001)],
        ),
        (
            r#"created in (2018-12-18T23:05:55Z, "2023-02-05T10:59:27.214Z")"#,
            "created_ms in ($1, $2)",
            vec![Param::Int(1_545_174_355_000), Param::Int(1_675_594_767_214)],
        ),
        ("pr created", "created_ms is not null", vec![]),
        ("enabled isnull", "enabled is null", vec![]),
        ("count eq null", "cnt is null", vec![]),
        ("created ne null", "created_ms is not null", vec![]),
    ]);
}

#[test]
fn composites_and_numbering() {
    check(vec![
        (
            "not count eq 1 or count eq 2 and count eq 3",
            "(not (cnt = $1) or (cnt = $2 and cnt = $3))",
            vec![Param::Int(1), Param::Int(2), Param::Int(3)],
        ),
        (
            r#"(id eq "a" or id eq "b") and enabled eq true"#,
            "((t.id = $1 or t.id = $2) and enabled = $3)",
            vec![t("a"), t("b"), Param::Bool(true)],
        ),
        (
            r#"id in ("a","b") and not (name co "x" or pr created)"#,
            r"(t.id in ($1, $2) and not ((lower(name) like $3 escape '\' or created_ms is not null)))",
            vec![t("a"), t("b"), t("%x%")],
        ),
        ("not not id isnull", "not (not (t.id is null))", vec![]),
    ]);
    let frag = compile_filters(r#"count gt 1 and id in ("a", "b")"#, &SPEC, 3).unwrap();
    assert_eq!(frag.sql, "(cnt > $3 and t.id in ($4, $5))");
    assert_eq!(frag.params.len(), 3);
    let frag = compile_filters("count gt 1", &SPEC, 0).unwrap();
    assert_eq!(frag.sql, "cnt > $1");
    let frag = compile_filters("count gt 1", &SPEC, 12).unwrap();
    assert_eq!(frag.sql, "cnt > $12");
}

#[test]
fn longest_flat_chain_compiles() {
    // About the deepest tree a 4096-byte filter can produce (a left-nested
    // chain); compiling, rendering and dropping it must not blow the stack.
    let chain = vec!["id isnull"; 315].join(" or ");
    assert!(chain.len() <= gatehouse_filter::MAX_INPUT_LEN);
    let frag = compile_filters(&chain, &SPEC, 1).unwrap();
    assert!(frag.sql.starts_with(&"(".repeat(314)));
    assert!(frag.params.is_empty());
    let numbered = vec!["count eq 1"; 200].join(" and ");
    let frag = compile_filters(&numbered, &SPEC, 1).unwrap();
    assert_eq!(frag.params, vec![Param::Int(1); 200]);
    assert!(frag.sql.ends_with("cnt = $200)"));
}

#[test]
fn text_sets() {
    check(vec![
        (
            r#"members.id eq "A""#,
            "$1 in (select m.id from member m where m.group_id = g.id)",
            vec![t("A")],
        ),
        (
            r#"members.id in ("A", "b")"#,
            "($1 in (select m.id from member m where m.group_id = g.id) \
             or $2 in (select m.id from member m where m.group_id = g.id))",
            vec![t("A"), t("b")],
        ),
    ]);
    for refused in [
        r#"members.id ne "A""#,
        r#"members.id sw "A""#,
        r#"members.id co "A""#,
        r#"members.id gt "A""#,
        "pr members.id",
        "members.id isnull",
        r#"members.id ca ("A")"#,
    ] {
        let err = compile_filters(refused, &SPEC, 1).unwrap_err().to_string();
        assert!(
            err.contains("not supported for field 'members.id'"),
            "{refused}: {err}"
        );
    }
    let err = compile_filters("members.id eq null", &SPEC, 1)
        .unwrap_err()
        .to_string();
    assert!(err.contains("members.id") && err.contains("null"), "{err}");
    let err = compile_filters("members.id eq 5", &SPEC, 1)
        .unwrap_err()
        .to_string();
    assert!(err.contains("double-quoted string"), "{err}");
}
