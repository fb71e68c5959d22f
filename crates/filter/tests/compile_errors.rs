//! Compiler error tests: allow-list checks, value checks, hand-built trees.

mod common;

use common::SPEC;
use gatehouse_filter::{compile, compile_filters, Expr, FilterError, Literal, Op::*};

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
