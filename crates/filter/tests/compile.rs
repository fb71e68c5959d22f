//! Compiler tests: exact SQL text and parameters, allow-list checks, values.

use gatehouse_filter::{
    compile, compile_filters, Expr, Field, FieldKind, FilterError, FilterSpec, Literal, Op, Param,
};

use Op::*;

const ALL: &[Op] = &[Eq, Ne, Gt, Ge, Lt, Le, Co, Sw, In, Ca, Pr, IsNull];

static SPEC: FilterSpec = FilterSpec {
    fields: &[
        Field {
            name: "id",
            column: "t.id",
            kind: FieldKind::Text,
            ops: ALL,
        },
        Field {
            name: "name",
            column: "name",
            kind: FieldKind::TextCi,
            ops: ALL,
        },
        Field {
            name: "count",
            column: "cnt",
            kind: FieldKind::Int,
            ops: ALL,
        },
        Field {
            name: "enabled",
            column: "enabled",
            kind: FieldKind::Bool,
            ops: ALL,
        },
        Field {
            name: "created",
            column: "created_ms",
            kind: FieldKind::DateTime,
            ops: ALL,
        },
        Field {
            name: "requestedFor.id",
            column: "requested_for_id",
            kind: FieldKind::Text,
            ops: &[Eq, In],
        },
        Field {
            name: "type",
            column: "type",
            kind: FieldKind::Text,
            ops: &[Eq],
        },
    ],
};

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
            r"lower(t.id) like $1 escape '\'",
            vec![t("ab%")],
        ),
        (
            r#"id co "50%_a\\b""#,
            r"lower(t.id) like $1 escape '\'",
            vec![t(r"%50\%\_a\\b%")],
        ),
        (
            r#"id sw "%""#,
            r"lower(t.id) like $1 escape '\'",
            vec![t(r"\%%")],
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
            r"lower(name) like $1 escape '\'",
            vec![t("jo%")],
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

/// Compiles `input` and returns the error.
fn err(input: &str) -> FilterError {
    match compile_filters(input, &SPEC, 1) {
        Err(e) => e,
        Ok(frag) => panic!("{input:?}: expected an error, got {frag:?}"),
    }
}

fn not_allowed(field: &str, op: &str) -> FilterError {
    FilterError::OperatorNotAllowed {
        field: field.into(),
        op: op.into(),
    }
}

#[test]
fn allow_list_errors() {
    let unknown = |f: &str| FilterError::UnknownField { field: f.into() };
    let cases = vec![
        (r#"foo eq "x""#, unknown("foo")),
        (r#"ID eq "x""#, unknown("ID")),
        ("pr foo", unknown("foo")),
        ("foo isnull", unknown("foo")),
        ("foo in (1)", unknown("foo")),
        // Unknown field wins over an operator nobody allows.
        ("foo ca (1)", unknown("foo")),
        (r#"id eq "a" and bar eq 1"#, unknown("bar")),
        (r#"type co "x""#, not_allowed("type", "co")),
        (r#"type ne "x""#, not_allowed("type", "ne")),
        ("pr type", not_allowed("type", "pr")),
        ("type isnull", not_allowed("type", "isnull")),
        (r#"type in ("x")"#, not_allowed("type", "in")),
        // The operator check comes before the value check.
        ("type gt 5", not_allowed("type", "gt")),
        ("type sw null", not_allowed("type", "sw")),
        // Kinds that cannot support an operator refuse it even when listed.
        ("count co 1", not_allowed("count", "co")),
        (r#"created sw "2020""#, not_allowed("created", "sw")),
        ("enabled co true", not_allowed("enabled", "co")),
        ("enabled gt false", not_allowed("enabled", "gt")),
        ("enabled le true", not_allowed("enabled", "le")),
        (r#"id ca ("a", "b")"#, not_allowed("id", "ca")),
    ];
    for (input, expected) in cases {
        assert_eq!(err(input), expected, "{input:?}");
    }
    let text = err(r#"type co "x""#).to_string();
    assert!(text.contains("'co'") && text.contains("'type'"), "{text}");
    let text = err("foo eq 1").to_string();
    assert!(text.contains("'foo'"), "{text}");
}

#[test]
fn value_errors() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "id eq 5",
            "id",
            "expected a double-quoted string, found the number 5",
        ),
        ("id eq true", "id", "expected a double-quoted string"),
        (
            "name eq 2020-01-01T00:00:00Z",
            "name",
            "expected a double-quoted string",
        ),
        (
            r#"count eq "5""#,
            "count",
            "expected an integer, found the string \"5\"",
        ),
        (
            "count eq 1.5",
            "count",
            "expected an integer, found the number 1.5",
        ),
        ("count eq true", "count", "expected an integer"),
        ("enabled eq 1", "enabled", "expected true or false"),
        (r#"enabled eq "true""#, "enabled", "expected true or false"),
        ("created gt 5", "created", "expected an RFC 3339 date-time"),
        (
            r#"created gt "yesterday""#,
            "created",
            "'yesterday' is not an RFC 3339 date-time",
        ),
        (
            r#"created gt "2023-02-05""#,
            "created",
            "is not an RFC 3339 date-time",
        ),
        (
            "count gt null",
            "count",
            "null can only be used with 'eq' or 'ne', not 'gt'",
        ),
        (
            "id co null",
            "id",
            "null can only be used with 'eq' or 'ne', not 'co'",
        ),
        (
            "id in (\"a\", null)",
            "id",
            "null cannot be used in a list for 'in'",
        ),
        (r#"count in (1, "2")"#, "count", "expected an integer"),
    ];
    for (input, field, needle) in cases {
        match err(input) {
            FilterError::BadValue { field: f, message } => {
                assert_eq!(f, *field, "{input:?}");
                assert!(
                    message.contains(needle),
                    "{input:?}: {message:?} lacks {needle:?}"
                );
            }
            other => panic!("{input:?}: expected BadValue, got {other:?}"),
        }
    }
}

#[test]
fn parse_errors_pass_through() {
    assert!(matches!(
        err("id EQ \"x\""),
        FilterError::Syntax { position: 3, .. }
    ));
    assert!(matches!(
        err(&"(".repeat(100)),
        FilterError::TooComplex { .. }
    ));
}

#[test]
fn hand_built_trees_are_checked_too() {
    let list = |op, values: Vec<Literal>| Expr::List {
        field: "id".into(),
        op,
        values,
    };
    let bad = |e: &Expr| match compile(e, &SPEC, 1) {
        Err(FilterError::BadValue { field, message }) => (field, message),
        other => panic!("{e:?}: {other:?}"),
    };
    assert!(bad(&list(In, vec![])).1.contains("empty"));
    assert!(bad(&list(Eq, vec![Literal::Str("a".into())]))
        .1
        .contains("list"));
    let single = Expr::Compare {
        field: "id".into(),
        op: In,
        value: Literal::Str("a".into()),
    };
    assert!(bad(&single).1.contains("single value"));
    let huge = list(In, vec![Literal::Str("a".into()); 251]);
    assert!(matches!(
        compile(&huge, &SPEC, 1),
        Err(FilterError::TooComplex { .. })
    ));
    let ok = list(In, vec![Literal::Str("a".into()); 250]);
    assert_eq!(compile(&ok, &SPEC, 1).map(|f| f.params.len()), Ok(250));
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
