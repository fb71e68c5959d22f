//! Shared fixtures for the compiler tests.

use gatehouse_filter::{Field, FieldKind, FilterSpec, Op};

use Op::*;

/// Every operator.
pub const ALL: &[Op] = &[Eq, Ne, Gt, Ge, Lt, Le, Co, Sw, In, Ca, Pr, IsNull];

/// A spec with every kind and every operator, plus two restricted fields.
pub static SPEC: FilterSpec = FilterSpec {
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
        Field {
            name: "members.id",
            column: "select m.id from member m where m.group_id = g.id",
            kind: FieldKind::TextSet,
            ops: ALL,
        },
    ],
};
