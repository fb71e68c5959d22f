//! `sorters` parsing and `order by` rendering.

use gatehouse_filter::{order_by_sql, parse_sorters, FilterError, Sort, SortSpec};

static SORTS: SortSpec = SortSpec {
    fields: &[
        ("name", "name"),
        ("type", "t.type"),
        ("modified", "modified_ms"),
        ("id", "id"),
    ],
};

fn asc(column: &'static str) -> Sort {
    Sort {
        column,
        descending: false,
    }
}
fn desc(column: &'static str) -> Sort {
    Sort {
        column,
        descending: true,
    }
}

#[test]
fn valid_sorters() {
    let cases = vec![
        ("name", vec![asc("name")]),
        ("-name", vec![desc("name")]),
        ("type,-modified", vec![asc("t.type"), desc("modified_ms")]),
        (" -modified , name ", vec![desc("modified_ms"), asc("name")]),
        (
            "id,name,type,modified",
            vec![asc("id"), asc("name"), asc("t.type"), asc("modified_ms")],
        ),
    ];
    for (input, expected) in cases {
        assert_eq!(parse_sorters(input, &SORTS), Ok(expected), "{input:?}");
    }
}

#[test]
fn invalid_sorters() {
    let unknown = |f: &str| FilterError::UnknownSorter { field: f.into() };
    let cases = vec![
        ("foo", unknown("foo")),
        ("name,-foo", unknown("foo")),
        ("Name", unknown("Name")),
        ("+name", unknown("+name")),
        ("--name", unknown("-name")),
        ("- name", unknown(" name")),
    ];
    for (input, expected) in cases {
        assert_eq!(parse_sorters(input, &SORTS), Err(expected), "{input:?}");
    }
    let bad: &[(&str, &str)] = &[
        ("", "sorter number 1 is empty"),
        ("  ", "sorter number 1 is empty"),
        ("name,", "sorter number 2 is empty"),
        (",name", "sorter number 1 is empty"),
        ("name,,type", "sorter number 2 is empty"),
        ("-", "sorter number 1 is a '-' without a field name"),
        ("name,name", "'name' is given more than once"),
        ("name,-name", "'name' is given more than once"),
        ("-type,type", "'type' is given more than once"),
    ];
    for (input, needle) in bad {
        match parse_sorters(input, &SORTS) {
            Err(FilterError::BadSorter { message }) => {
                assert!(
                    message.contains(needle),
                    "{input:?}: {message:?} lacks {needle:?}"
                )
            }
            other => panic!("{input:?}: expected BadSorter, got {other:?}"),
        }
    }
    let long = "name,".repeat(1000);
    assert!(matches!(
        parse_sorters(&long, &SORTS),
        Err(FilterError::TooComplex { .. })
    ));
    let text = parse_sorters("name,bogus", &SORTS).unwrap_err().to_string();
    assert!(text.contains("'bogus'"), "{text}");
}

#[test]
fn order_by() {
    let cases: Vec<(Vec<Sort>, Option<&'static str>, &str)> = vec![
        (vec![], None, ""),
        (vec![], Some("id"), " order by id asc"),
        (vec![asc("name")], None, " order by name asc"),
        (
            vec![asc("t.type"), desc("modified_ms")],
            None,
            " order by t.type asc, modified_ms desc",
        ),
        (
            vec![asc("t.type"), desc("modified_ms")],
            Some("id"),
            " order by t.type asc, modified_ms desc, id asc",
        ),
        // A tiebreak already among the sort keys is not repeated.
        (vec![desc("id")], Some("id"), " order by id desc"),
        (
            vec![asc("name"), asc("id")],
            Some("id"),
            " order by name asc, id asc",
        ),
    ];
    for (sorts, tiebreak, sql) in cases {
        assert_eq!(
            order_by_sql(&sorts, tiebreak),
            sql,
            "{sorts:?} {tiebreak:?}"
        );
    }
    let sorts = parse_sorters("-modified", &SORTS).unwrap();
    assert_eq!(
        order_by_sql(&sorts, Some("id")),
        " order by modified_ms desc, id asc"
    );
}
