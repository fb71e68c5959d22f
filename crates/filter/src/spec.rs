//! Allow-lists: which fields an endpoint lets clients filter and sort on,
//! which column each maps to, and which operators each supports.
//!
//! Both specs are plain `'static` data so endpoints can declare them as
//! statics:
//!
//! ```
//! use gatehouse_filter::{Field, FieldKind, FilterSpec, Op, SortSpec};
//!
//! static FILTERS: FilterSpec = FilterSpec {
//!     fields: &[
//!         Field { name: "id", column: "id", kind: FieldKind::Text, ops: &[Op::Eq, Op::In] },
//!         Field { name: "name", column: "name", kind: FieldKind::TextCi, ops: &[Op::Eq, Op::Sw, Op::Co] },
//!         Field { name: "created", column: "created_ms", kind: FieldKind::DateTime, ops: &[Op::Gt, Op::Lt] },
//!     ],
//! };
//! static SORTERS: SortSpec = SortSpec { fields: &[("name", "name"), ("created", "created_ms")] };
//! # assert!(FILTERS.field("id").is_some() && SORTERS.column("created") == Some("created_ms"));
//! ```

use crate::ast::Op;

/// The kind of a column, which decides how literals are checked and compared.
///
/// Operators that make no sense for a kind are refused with
/// [`crate::FilterError::OperatorNotAllowed`] at compile time even when the
/// field lists them: `co`/`sw` on anything but text, `gt`/`ge`/`lt`/`le` on
/// booleans, and `ca` on every kind (no kind is a collection yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldKind {
    /// Text compared exactly (`co`/`sw` are always case-insensitive).
    Text,
    /// Text compared case-insensitively (`lower(column)` against a lower-cased value).
    TextCi,
    /// A 64-bit integer; values must be unquoted integers.
    Int,
    /// A boolean; values must be `true` or `false`.
    Bool,
    /// A timestamp stored as `i64` epoch milliseconds; values are RFC 3339
    /// date-times, quoted or not, and are bound as epoch milliseconds.
    DateTime,
    /// A set of text values per row, compared exactly: [`Field::column`] is a
    /// subquery selecting the row's values (e.g. `select m.identity_id from
    /// member m where m.group_id = g.id`). `eq v` matches a row whose set
    /// holds `v`; `in (a, b)` one whose set holds any of them. No other
    /// operator applies.
    TextSet,
}

/// One field an endpoint allows in `filters`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// The name clients write (case-sensitive), e.g. `requestedFor.id`.
    pub name: &'static str,
    /// The SQL column (or column expression) it maps to. Trusted: it is
    /// pasted into the SQL as is.
    pub column: &'static str,
    /// How values are checked and compared.
    pub kind: FieldKind,
    /// The operators clients may use on it.
    pub ops: &'static [Op],
}

impl Field {
    /// True if `op` is listed in [`Field::ops`].
    pub fn allows(&self, op: Op) -> bool {
        self.ops.contains(&op)
    }
}

/// The `filters` allow-list of one endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FilterSpec {
    /// The fields that may be filtered on.
    pub fields: &'static [Field],
}

impl FilterSpec {
    /// The field named exactly `name`, if allowed.
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// The `sorters` allow-list of one endpoint: `(name, column)` pairs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SortSpec {
    /// `(name clients write, SQL column)` pairs.
    pub fields: &'static [(&'static str, &'static str)],
}

impl SortSpec {
    /// The column of the sorter named exactly `name`, if allowed.
    pub fn column(&self, name: &str) -> Option<&'static str> {
        self.fields
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, column)| *column)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static SPEC: FilterSpec = FilterSpec {
        fields: &[
            Field {
                name: "id",
                column: "t.id",
                kind: FieldKind::Text,
                ops: &[Op::Eq, Op::In],
            },
            Field {
                name: "a.b",
                column: "ab",
                kind: FieldKind::Int,
                ops: &[Op::Gt],
            },
        ],
    };
    static SORTS: SortSpec = SortSpec {
        fields: &[("name", "t.name"), ("created", "created_ms")],
    };

    #[test]
    fn lookups_are_exact_and_case_sensitive() {
        assert_eq!(SPEC.field("id").map(|f| f.column), Some("t.id"));
        assert_eq!(SPEC.field("a.b").map(|f| f.kind), Some(FieldKind::Int));
        for missing in ["ID", "Id", "a", "b", "", "id "] {
            assert!(SPEC.field(missing).is_none(), "{missing:?}");
        }
        assert_eq!(SORTS.column("created"), Some("created_ms"));
        assert_eq!(SORTS.column("Created"), None);
    }

    #[test]
    fn allows_checks_the_op_list() {
        let id = SPEC.field("id").unwrap();
        assert!(id.allows(Op::Eq) && id.allows(Op::In));
        assert!(!id.allows(Op::Ne) && !id.allows(Op::Co));
    }
}
