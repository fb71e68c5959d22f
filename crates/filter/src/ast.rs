//! The syntax tree of a filter: operators, literals and expressions.
//!
//! `Display` renders a tree back into filter text that [`crate::parse`]
//! reads back into an equal tree (parentheses only where precedence needs
//! them, strings re-escaped, floats in a form the lexer accepts).

use std::fmt;

/// A filter operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    /// `eq`: equal.
    Eq,
    /// `ne`: not equal (a null column counts as "not equal").
    Ne,
    /// `gt`: greater than.
    Gt,
    /// `ge`: greater than or equal.
    Ge,
    /// `lt`: less than.
    Lt,
    /// `le`: less than or equal.
    Le,
    /// `co`: contains (substring, case-insensitive).
    Co,
    /// `sw`: starts with (prefix, case-insensitive).
    Sw,
    /// `in`: equal to one of a list of values.
    In,
    /// `ca`: a collection contains all of a list of values.
    Ca,
    /// `pr`: present (prefix operator, no operand).
    Pr,
    /// `isnull`: absent (postfix operator, no operand).
    IsNull,
}

impl Op {
    /// Every operator, in declaration order.
    pub const ALL: [Op; 12] = [
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

    /// The operator as written in a filter: `"eq"`, `"isnull"`, ...
    pub fn as_str(&self) -> &'static str {
        match self {
            Op::Eq => "eq",
            Op::Ne => "ne",
            Op::Gt => "gt",
            Op::Ge => "ge",
            Op::Lt => "lt",
            Op::Le => "le",
            Op::Co => "co",
            Op::Sw => "sw",
            Op::In => "in",
            Op::Ca => "ca",
            Op::Pr => "pr",
            Op::IsNull => "isnull",
        }
    }

    /// The operator spelled exactly `word` (lower case only), if any.
    pub fn from_word(word: &str) -> Option<Op> {
        Op::ALL.into_iter().find(|op| op.as_str() == word)
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A value on the right-hand side of an operator.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// A double-quoted string, unescaped.
    Str(String),
    /// An unquoted integer.
    Int(i64),
    /// An unquoted decimal number (`1.5`, `2e3`).
    Float(f64),
    /// `true` or `false`.
    Bool(bool),
    /// `null`.
    Null,
    /// An unquoted RFC 3339 date-time, exactly as written (already checked to parse).
    DateTime(String),
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Str(s) => {
                f.write_str("\"")?;
                for c in s.chars() {
                    match c {
                        '"' => f.write_str("\\\"")?,
                        '\\' => f.write_str("\\\\")?,
                        c => write!(f, "{c}")?,
                    }
                }
                f.write_str("\"")
            }
            Literal::Int(n) => write!(f, "{n}"),
            // Debug keeps a decimal point or exponent, so it reads back as a float.
            Literal::Float(x) => write!(f, "{x:?}"),
            Literal::Bool(b) => write!(f, "{b}"),
            Literal::Null => f.write_str("null"),
            Literal::DateTime(s) => f.write_str(s),
        }
    }
}

/// A parsed filter expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// `field op value` for `eq ne gt ge lt le co sw`.
    Compare {
        /// The field name as written.
        field: String,
        /// The operator.
        op: Op,
        /// The operand.
        value: Literal,
    },
    /// `field op (v1, v2, ...)` for `in` and `ca`.
    List {
        /// The field name as written.
        field: String,
        /// The operator, [`Op::In`] or [`Op::Ca`].
        op: Op,
        /// The values, at least one.
        values: Vec<Literal>,
    },
    /// `pr field`.
    Present(String),
    /// `field isnull`.
    IsNull(String),
    /// `a and b`.
    And(Box<Expr>, Box<Expr>),
    /// `a or b`.
    Or(Box<Expr>, Box<Expr>),
    /// `not a`.
    Not(Box<Expr>),
}

impl Expr {
    /// Binding strength: or = 1, and = 2, everything else (not, leaves) = 3.
    fn precedence(&self) -> u8 {
        match self {
            Expr::Or(..) => 1,
            Expr::And(..) => 2,
            _ => 3,
        }
    }

    /// Writes `self`, parenthesised if it binds less tightly than `min`.
    fn fmt_at(&self, f: &mut fmt::Formatter<'_>, min: u8) -> fmt::Result {
        if self.precedence() < min {
            write!(f, "({self})")
        } else {
            write!(f, "{self}")
        }
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Compare { field, op, value } => write!(f, "{field} {op} {value}"),
            Expr::List { field, op, values } => {
                write!(f, "{field} {op} (")?;
                for (i, v) in values.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str(")")
            }
            Expr::Present(field) => write!(f, "pr {field}"),
            Expr::IsNull(field) => write!(f, "{field} isnull"),
            // Chains are left-associative: the right operand needs
            // parentheses when it is itself the same operator.
            Expr::Or(a, b) => {
                a.fmt_at(f, 1)?;
                f.write_str(" or ")?;
                b.fmt_at(f, 2)
            }
            Expr::And(a, b) => {
                a.fmt_at(f, 2)?;
                f.write_str(" and ")?;
                b.fmt_at(f, 3)
            }
            Expr::Not(a) => {
                f.write_str("not ")?;
                a.fmt_at(f, 3)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn op_spellings_round_trip() {
        let words = [
            "eq", "ne", "gt", "ge", "lt", "le", "co", "sw", "in", "ca", "pr", "isnull",
        ];
        for (op, word) in Op::ALL.iter().zip(words) {
            assert_eq!(op.as_str(), word);
            assert_eq!(op.to_string(), word);
            assert_eq!(Op::from_word(word), Some(*op));
            assert_eq!(Op::from_word(&word.to_uppercase()), None);
        }
    }

    #[test]
    fn literals_render_as_filter_text() {
        let cases = [
            (Literal::Str(r#"a"b\c"#.into()), r#""a\"b\\c""#),
            (Literal::Int(-42), "-42"),
            (Literal::Float(1.0), "1.0"),
            (Literal::Float(1e300), "1e300"),
            (Literal::Bool(true), "true"),
            (Literal::Null, "null"),
            (
                Literal::DateTime("2018-12-18T23:05:55Z".into()),
                "2018-12-18T23:05:55Z",
            ),
        ];
        for (lit, text) in cases {
            assert_eq!(lit.to_string(), text);
        }
    }

    #[test]
    fn expressions_render_with_minimal_parentheses() {
        let leaf = |f: &str| Expr::Present(f.into());
        let and = |a, b| Expr::And(Box::new(a), Box::new(b));
        let or = |a, b| Expr::Or(Box::new(a), Box::new(b));
        let not = |a| Expr::Not(Box::new(a));
        let cases = [
            (
                and(or(leaf("a"), leaf("b")), leaf("c")),
                "(pr a or pr b) and pr c",
            ),
            (
                or(leaf("a"), and(leaf("b"), leaf("c"))),
                "pr a or pr b and pr c",
            ),
            (
                or(leaf("a"), or(leaf("b"), leaf("c"))),
                "pr a or (pr b or pr c)",
            ),
            (
                or(or(leaf("a"), leaf("b")), leaf("c")),
                "pr a or pr b or pr c",
            ),
            (
                and(leaf("a"), and(leaf("b"), leaf("c"))),
                "pr a and (pr b and pr c)",
            ),
            (not(and(leaf("a"), leaf("b"))), "not (pr a and pr b)"),
            (not(not(leaf("a"))), "not not pr a"),
            (
                Expr::List {
                    field: "id".into(),
                    op: Op::In,
                    values: vec![Literal::Str("x".into()), Literal::Int(2)],
                },
                r#"id in ("x", 2)"#,
            ),
            (Expr::IsNull("lastUsed".into()), "lastUsed isnull"),
        ];
        for (expr, text) in cases {
            assert_eq!(expr.to_string(), text);
        }
    }
}
