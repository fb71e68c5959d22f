//! Parser tests: operators, precedence, parentheses, literals, errors and limits.

use gatehouse_filter::{parse, Expr, FilterError, Literal, Op, MAX_DEPTH, MAX_INPUT_LEN};

fn cmp(field: &str, op: Op, value: Literal) -> Expr {
    Expr::Compare {
        field: field.into(),
        op,
        value,
    }
}
fn eq(field: &str, n: i64) -> Expr {
    cmp(field, Op::Eq, Literal::Int(n))
}
fn s(text: &str) -> Literal {
    Literal::Str(text.into())
}
fn and(a: Expr, b: Expr) -> Expr {
    Expr::And(Box::new(a), Box::new(b))
}
fn or(a: Expr, b: Expr) -> Expr {
    Expr::Or(Box::new(a), Box::new(b))
}
fn not(a: Expr) -> Expr {
    Expr::Not(Box::new(a))
}
fn list(field: &str, op: Op, values: Vec<Literal>) -> Expr {
    Expr::List {
        field: field.into(),
        op,
        values,
    }
}

fn check(cases: Vec<(&str, Expr)>) {
    for (input, expected) in cases {
        match parse(input) {
            Ok(expr) => {
                assert_eq!(expr, expected, "{input:?}");
                // The canonical rendering parses back to the same tree.
                assert_eq!(
                    parse(&expr.to_string()),
                    Ok(expected),
                    "{input:?} -> {expr}"
                );
            }
            Err(e) => panic!("{input:?}: {e}"),
        }
    }
}

/// Asserts a syntax error at `position` whose message contains `needle`.
fn syntax_errors(cases: &[(&str, usize, &str)]) {
    for (input, pos, needle) in cases {
        match parse(input) {
            Err(FilterError::Syntax { position, message }) => {
                assert_eq!(position, *pos, "{input:?}: {message}");
                assert!(
                    message.contains(needle),
                    "{input:?}: {message:?} lacks {needle:?}"
                );
            }
            other => panic!("{input:?}: expected a syntax error, got {other:?}"),
        }
    }
}

#[test]
fn every_operator() {
    check(vec![
        ("id eq \"x\"", cmp("id", Op::Eq, s("x"))),
        ("id ne \"x\"", cmp("id", Op::Ne, s("x"))),
        ("n gt 1", cmp("n", Op::Gt, Literal::Int(1))),
        ("n ge 1", cmp("n", Op::Ge, Literal::Int(1))),
        ("n lt 1", cmp("n", Op::Lt, Literal::Int(1))),
        ("n le 1", cmp("n", Op::Le, Literal::Int(1))),
        ("name co \"ab\"", cmp("name", Op::Co, s("ab"))),
        ("name sw \"ab\"", cmp("name", Op::Sw, s("ab"))),
        (
            "id in (\"a\",\"b\")",
            list("id", Op::In, vec![s("a"), s("b")]),
        ),
        (
            "tags ca (\"a\", \"b\")",
            list("tags", Op::Ca, vec![s("a"), s("b")]),
        ),
        (
            "pr accountRequestInfo",
            Expr::Present("accountRequestInfo".into()),
        ),
        ("lastUsed isnull", Expr::IsNull("lastUsed".into())),
    ]);
}

#[test]
fn precedence_and_parentheses() {
    check(vec![
        // The SailPoint documentation example.
        (
            "not a eq 1 or b eq 2 and c eq 3",
            or(not(eq("a", 1)), and(eq("b", 2), eq("c", 3))),
        ),
        (
            "a eq 1 and b eq 2 or c eq 3",
            or(and(eq("a", 1), eq("b", 2)), eq("c", 3)),
        ),
        (
            "a eq 1 or b eq 2 or c eq 3",
            or(or(eq("a", 1), eq("b", 2)), eq("c", 3)),
        ),
        (
            "a eq 1 and b eq 2 and c eq 3",
            and(and(eq("a", 1), eq("b", 2)), eq("c", 3)),
        ),
        (
            "a eq 1 and (b eq 2 or c eq 3)",
            and(eq("a", 1), or(eq("b", 2), eq("c", 3))),
        ),
        ("not (a eq 1 or b eq 2)", not(or(eq("a", 1), eq("b", 2)))),
        ("not a eq 1 and b eq 2", and(not(eq("a", 1)), eq("b", 2))),
        ("not not a eq 1", not(not(eq("a", 1)))),
        ("((a eq 1))", eq("a", 1)),
        ("(a eq 1)and(b eq 2)", and(eq("a", 1), eq("b", 2))),
        (
            "a eq 1 or (b eq 2 or c eq 3)",
            or(eq("a", 1), or(eq("b", 2), eq("c", 3))),
        ),
        ("not pr a", not(Expr::Present("a".into()))),
        (
            "a isnull or pr b",
            or(Expr::IsNull("a".into()), Expr::Present("b".into())),
        ),
        (" \t\n a \n eq\t1\r\n", eq("a", 1)),
    ]);
}

#[test]
fn literals() {
    let dt = |t: &str| Literal::DateTime(t.into());
    check(vec![
        (r#"a eq "say \"hi\"""#, cmp("a", Op::Eq, s(r#"say "hi""#))),
        (r#"a eq "back\\slash""#, cmp("a", Op::Eq, s(r"back\slash"))),
        (r#"a eq "\\\"""#, cmp("a", Op::Eq, s(r#"\""#))),
        (r#"a eq """#, cmp("a", Op::Eq, s(""))),
        (
            r#"a eq "x and y or (z)""#,
            cmp("a", Op::Eq, s("x and y or (z)")),
        ),
        ("a eq \"ünï ✓\"", cmp("a", Op::Eq, s("ünï ✓"))),
        ("a eq true", cmp("a", Op::Eq, Literal::Bool(true))),
        ("a ne false", cmp("a", Op::Ne, Literal::Bool(false))),
        ("a eq null", cmp("a", Op::Eq, Literal::Null)),
        ("a eq -5", eq("a", -5)),
        ("a eq 0", eq("a", 0)),
        ("a gt 1.5", cmp("a", Op::Gt, Literal::Float(1.5))),
        ("a gt -2.25e2", cmp("a", Op::Gt, Literal::Float(-225.0))),
        (
            "c gt 2023-02-05T10:59:27.214Z",
            cmp("c", Op::Gt, dt("2023-02-05T10:59:27.214Z")),
        ),
        (
            "c le 2018-12-18T23:05:55Z",
            cmp("c", Op::Le, dt("2018-12-18T23:05:55Z")),
        ),
        (
            "c lt 2018-12-18T23:05:55-05:30",
            cmp("c", Op::Lt, dt("2018-12-18T23:05:55-05:30")),
        ),
        (
            "c gt \"2018-12-18T23:05:55Z\"",
            cmp("c", Op::Gt, s("2018-12-18T23:05:55Z")),
        ),
        (
            "requestedFor.id eq \"2c9\"",
            cmp("requestedFor.id", Op::Eq, s("2c9")),
        ),
        ("_x.y_2 eq 1", eq("_x.y_2", 1)),
        ("Name eq 1", eq("Name", 1)),
        ("id in (\"a\")", list("id", Op::In, vec![s("a")])),
        (
            "x in (1, -2, true, null, \"s\", 1.5, 2020-01-01T00:00:00Z)",
            list(
                "x",
                Op::In,
                vec![
                    Literal::Int(1),
                    Literal::Int(-2),
                    Literal::Bool(true),
                    Literal::Null,
                    s("s"),
                    Literal::Float(1.5),
                    dt("2020-01-01T00:00:00Z"),
                ],
            ),
        ),
    ]);
}

#[test]
fn list_sizes() {
    let many = |n: usize| {
        let items: Vec<String> = (0..n).map(|i| format!("\"v{i}\"")).collect();
        format!("id in ({})", items.join(","))
    };
    match parse(&many(250)) {
        Ok(Expr::List { values, .. }) => assert_eq!(values.len(), 250),
        other => panic!("250 values: {other:?}"),
    }
    match parse(&many(251)) {
        Err(FilterError::TooComplex { message }) => assert!(message.contains("250"), "{message}"),
        other => panic!("251 values: {other:?}"),
    }
    syntax_errors(&[
        ("id in ()", 7, "empty"),
        ("id in (\"a\",)", 11, "expected a value after 'in'"),
        ("id in (\"a\" \"b\")", 11, "expected ',' or ')'"),
        ("id in \"a\"", 6, "expected '(' to start the list"),
        ("id in (\"a\"", 10, "expected ',' or ')'"),
        ("id ca ()", 7, "empty"),
    ]);
}

#[test]
fn syntax_error_messages() {
    syntax_errors(&[
        ("", 0, "expected a field name"),
        ("   ", 3, "expected a field name"),
        ("a", 1, "expected an operator"),
        ("a EQ 1", 2, "use 'eq'"),
        ("a Eq 1", 2, "use 'eq'"),
        ("a eq 1 AND b eq 2", 7, "use 'and'"),
        ("a eq 1 Or b eq 2", 7, "use 'or'"),
        ("NOT a eq 1", 4, "use 'not'"),
        ("PR a", 3, "use 'pr'"),
        ("a ISNULL", 2, "use 'isnull'"),
        ("a eq TRUE", 5, "use 'true'"),
        ("a eq Null", 5, "use 'null'"),
        ("a eq", 4, "expected a value after 'eq'"),
        ("a eq b", 5, "expected a value after 'eq'"),
        ("a eq 1 b eq 2", 7, "expected 'and', 'or'"),
        ("a eq 1 and", 10, "expected a field name"),
        ("and a eq 1", 0, "expected a field name"),
        ("a eq 1 or or b eq 2", 10, "expected a field name"),
        ("(a eq 1", 7, "expected ')' to close the '(' at position 0"),
        ("a eq 1)", 6, "unmatched ')'"),
        ("()", 1, "expected a field name"),
        ("a pr", 2, "write 'pr a'"),
        ("pr", 2, "expected a field name after 'pr'"),
        ("pr eq", 3, "expected a field name after 'pr'"),
        ("pr (a)", 3, "expected a field name after 'pr'"),
        ("eq eq 1", 0, "expected a field name"),
        ("a.. eq 1", 0, "not a valid field name"),
        ("a. eq 1", 0, "not a valid field name"),
        ("a eq 'x'", 5, "unexpected character"),
        ("a eq \"x", 5, "unterminated string"),
        (r#"a eq "x\n""#, 7, "invalid escape sequence '\\n'"),
        (r#"a eq "x\t""#, 7, "invalid escape sequence"),
        ("a eq 2023-02-05", 5, "RFC 3339"),
        ("a eq 1abc", 5, "neither a number"),
        ("a eq 1 and b eq 99999999999999999999", 16, "out of range"),
        ("a == 1", 2, "unexpected character '='"),
        ("a eq 1 !", 7, "unexpected character '!'"),
        ("a eq 1 \u{0}", 7, "unexpected character"),
    ]);
}

fn too_complex(input: &str) -> String {
    match parse(input) {
        Err(FilterError::TooComplex { message }) => message,
        other => panic!("{} bytes: expected TooComplex, got {other:?}", input.len()),
    }
}

#[test]
fn depth_limit() {
    let parens = |n: usize| format!("{}a eq 1{}", "(".repeat(n), ")".repeat(n));
    let nots = |n: usize| format!("{}a eq 1", "not ".repeat(n));
    assert_eq!(parse(&parens(MAX_DEPTH)), Ok(eq("a", 1)));
    assert!(too_complex(&parens(MAX_DEPTH + 1)).contains("32"));
    assert!(parse(&nots(MAX_DEPTH)).is_ok());
    too_complex(&nots(MAX_DEPTH + 1));
    // Parentheses and `not` add up.
    let mixed = format!("{}{}a eq 1{}", "not (".repeat(16), "not ", ")".repeat(16));
    too_complex(&mixed);
    let mixed_ok = format!("{}a eq 1{}", "not (".repeat(16), ")".repeat(16));
    assert!(parse(&mixed_ok).is_ok());
    // Depth is nesting, not count: many siblings at depth 1 are fine.
    let siblings = vec!["(a eq 1)"; 100].join(" and ");
    assert!(parse(&siblings).is_ok());
}

#[test]
fn hostile_inputs_fail_cleanly() {
    // 10,000 opening parentheses: over the length limit.
    too_complex(&"(".repeat(10_000));
    // Just under the length limit: the depth limit catches it, no stack overflow.
    too_complex(&"(".repeat(4000));
    too_complex(&"not ".repeat(1000));
    too_complex(&format!("{}a eq 1", "not(".repeat(1000)));
    assert!(too_complex(&"a".repeat(MAX_INPUT_LEN + 1)).contains("4096"));
    // Exactly at the length limit is allowed (and here a syntax error).
    assert!(matches!(
        parse(&"a".repeat(MAX_INPUT_LEN)),
        Err(FilterError::Syntax { .. })
    ));
    // A long flat chain is parsed iteratively and stays within the limit.
    let chain = vec!["pr a"; 400].join(" or ");
    assert!(chain.len() <= MAX_INPUT_LEN);
    assert!(parse(&chain).is_ok());
    for junk in [
        ")", ",", "\"", "\\", "-", "((", "a in (", "a in (1,", "not", "not (", "pr pr",
    ] {
        assert!(parse(junk).is_err(), "{junk:?}");
    }
}
