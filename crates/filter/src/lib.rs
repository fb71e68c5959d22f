//! SailPoint Identity Security Cloud "Standard Collection Parameters":
//! the `filters` and `sorters` query parameters.
//!
//! A filter such as `name sw "Jo" and (created gt 2023-02-05T10:59:27Z or pr manager)`
//! is lexed and parsed by hand ([`parse`]) into an [`Expr`], checked against
//! an endpoint's allow-list ([`FilterSpec`]) and compiled to a parameterised
//! SQL boolean expression ([`compile`], or [`compile_filters`] for both
//! steps). Sorters such as `type,-modified` are checked against a
//! [`SortSpec`] by [`parse_sorters`] and rendered by [`order_by_sql`].
//!
//! Grammar summary: operators `eq ne gt ge lt le co sw in ca` take an
//! operand, `pr field` and `field isnull` take none; `not` binds tighter than
//! `and`, which binds tighter than `or`; parentheses group. Keywords are
//! lower case only. Values are double-quoted strings (escapes `\"` and
//! `\\`), integers, decimals, `true`, `false`, `null` and unquoted RFC 3339
//! date-times.
//!
//! Limits, so that hostile input can neither panic nor exhaust the stack:
//! [`MAX_INPUT_LEN`] bytes, [`MAX_DEPTH`] levels of parentheses and `not`,
//! [`MAX_LIST_LEN`] values per list. Every error is a [`FilterError`] whose
//! text can go straight into a 400 response.
//!
//! ```
//! use gatehouse_filter::{compile_filters, Field, FieldKind, FilterSpec, Op, Param};
//!
//! static FILTERS: FilterSpec = FilterSpec {
//!     fields: &[Field { name: "name", column: "name", kind: FieldKind::TextCi, ops: &[Op::Eq, Op::Sw] }],
//! };
//! let frag = compile_filters(r#"name sw "Jo""#, &FILTERS, 1).unwrap();
//! assert_eq!(
//!     frag.sql,
//!     r"(lower(name) >= $2 and lower(name) < $3 and lower(name) like $1 escape '\')"
//! );
//! let text = |s: &str| Param::Text(s.into());
//! assert_eq!(frag.params, vec![text("jo%"), text("jo"), text("jp")]);
//! ```

#![warn(missing_docs)]

mod ast;
mod error;
mod lexer;
mod parser;
mod sorters;
mod spec;
mod sql;

pub use ast::{Expr, Literal, Op};
pub use error::FilterError;
pub use parser::{parse, MAX_DEPTH, MAX_INPUT_LEN, MAX_LIST_LEN};
pub use sorters::{order_by_sql, parse_sorters, Sort};
pub use spec::{Field, FieldKind, FilterSpec, SortSpec};
pub use sql::{compile, compile_filters, Param, SqlFragment};
