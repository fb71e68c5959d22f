//! Fuzz target: arbitrary UTF-8 through `parse`, `compile` and
//! `parse_sorters`. None of them may panic, and a few invariants must hold.

#![no_main]

use gatehouse_filter::{
    compile, compile_filters, order_by_sql, parse, parse_sorters, Field, FieldKind, FilterSpec, Op,
    SortSpec, MAX_INPUT_LEN,
};
use libfuzzer_sys::fuzz_target;

const ALL: &[Op] = &[
    Op::Eq,
    Op::Ne,
    Op::Gt,
    Op::Ge,
    Op::Lt,
    Op::Le,
    Op::Co,
    Op::Sw,
    Op::In,
    Op::Ca,
    Op::Pr,
    Op::IsNull,
];

static FILTERS: FilterSpec = FilterSpec {
    fields: &[
        Field {
            name: "a",
            column: "a",
            kind: FieldKind::Text,
            ops: ALL,
        },
        Field {
            name: "b",
            column: "b",
            kind: FieldKind::TextCi,
            ops: ALL,
        },
        Field {
            name: "n",
            column: "n",
            kind: FieldKind::Int,
            ops: ALL,
        },
        Field {
            name: "f",
            column: "f",
            kind: FieldKind::Bool,
            ops: ALL,
        },
        Field {
            name: "d",
            column: "d_ms",
            kind: FieldKind::DateTime,
            ops: ALL,
        },
        Field {
            name: "x.id",
            column: "x_id",
            kind: FieldKind::Text,
            ops: &[Op::Eq, Op::In],
        },
    ],
};

static SORTERS: SortSpec = SortSpec {
    fields: &[("a", "a"), ("b", "b"), ("n", "n"), ("d", "d_ms")],
};

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    match parse(input) {
        Ok(expr) => {
            // The canonical rendering reads back as the same tree.
            let text = expr.to_string();
            if text.len() <= MAX_INPUT_LEN {
                assert_eq!(parse(&text).as_ref(), Ok(&expr), "round trip of {text:?}");
            }
            let compiled = compile(&expr, &FILTERS, 1);
            if let Ok(frag) = &compiled {
                // One placeholder per parameter: no value leaks into the SQL.
                assert_eq!(frag.sql.matches('$').count(), frag.params.len(), "{frag:?}");
            }
            assert_eq!(compile_filters(input, &FILTERS, 1), compiled);
        }
        Err(err) => {
            assert!(!err.to_string().is_empty());
        }
    }
    if let Ok(sorts) = parse_sorters(input, &SORTERS) {
        assert!(sorts.len() <= SORTERS.fields.len());
        let _ = order_by_sql(&sorts, Some("id"));
    }
});
