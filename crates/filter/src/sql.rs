//! Compiles a checked filter into a portable SQL boolean expression with
//! numbered `$N` placeholders (valid on PostgreSQL 15; the store rewrites
//! them for SQLite).
//!
//! Every value is bound as a [`Param`]; only column names from the
//! [`FilterSpec`] are written into the SQL text.
//!
//! Case-insensitive matching uses SQL `lower()` on the column and Rust's
//! Unicode `to_lowercase` on the value. SQLite's built-in `lower()` folds
//! only ASCII, so on SQLite non-ASCII letters compare case-sensitively.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::ast::{Expr, Literal, Op};
use crate::lexer::shorten;
use crate::parser::{parse, MAX_LIST_LEN};
use crate::spec::{Field, FieldKind, FilterSpec};
use crate::FilterError;

/// A value bound to a `$N` placeholder.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    /// A text value.
    Text(String),
    /// An integer value (also used for date-times, as epoch milliseconds).
    Int(i64),
    /// A boolean value.
    Bool(bool),
    /// A floating-point value.
    Float(f64),
}

/// A SQL boolean expression and the values for its placeholders, in order:
/// `params[0]` binds `$first_param`, `params[1]` the next one, and so on.
#[derive(Debug, Clone, PartialEq)]
pub struct SqlFragment {
    /// The expression, e.g. `(name = $3 and created_ms > $4)`.
    pub sql: String,
    /// The bound values.
    pub params: Vec<Param>,
}

/// Parses `input`, checks it against `spec` and compiles it (see [`compile`]).
pub fn compile_filters(
    input: &str,
    spec: &FilterSpec,
    first_param: usize,
) -> Result<SqlFragment, FilterError> {
    compile(&parse(input)?, spec, first_param)
}

/// Checks `expr` against the allow-list `spec` and compiles it to a SQL
/// boolean expression whose placeholders are numbered from `first_param`
/// (e.g. 3 if the caller already bound `$1` and `$2`; 0 is treated as 1).
///
/// Errors: [`FilterError::UnknownField`] for a field not in `spec`, then
/// [`FilterError::OperatorNotAllowed`] for an operator the field does not
/// list or its kind cannot support (see [`FieldKind`]; `ca` is never
/// supported yet), then [`FilterError::BadValue`] for a value of the wrong
/// type, `null` with anything but `eq`/`ne`, or `null` in a list.
///
/// `and`/`or` compile to `(a and b)` / `(a or b)` and `not` to `not (a)`.
/// Compilation recurses once per tree level; trees from [`parse`] are at
/// most a few hundred levels deep (input length is capped), hand-built
/// trees are the caller's responsibility.
pub fn compile(
    expr: &Expr,
    spec: &FilterSpec,
    first_param: usize,
) -> Result<SqlFragment, FilterError> {
    let mut c = Compiler {
        spec,
        next: first_param.max(1),
        params: Vec::new(),
    };
    let sql = c.expr(expr)?;
    Ok(SqlFragment {
        sql,
        params: c.params,
    })
}

/// Compilation state: the spec, the next placeholder number and the params so far.
struct Compiler<'s> {
    spec: &'s FilterSpec,
    next: usize,
    params: Vec<Param>,
}

impl Compiler<'_> {
    fn expr(&mut self, expr: &Expr) -> Result<String, FilterError> {
        match expr {
            Expr::And(a, b) => Ok(format!("({} and {})", self.expr(a)?, self.expr(b)?)),
            Expr::Or(a, b) => Ok(format!("({} or {})", self.expr(a)?, self.expr(b)?)),
            Expr::Not(a) => Ok(format!("not ({})", self.expr(a)?)),
            Expr::Present(name) => Ok(format!("{} is not null", self.field(name, Op::Pr)?.column)),
            Expr::IsNull(name) => Ok(format!("{} is null", self.field(name, Op::IsNull)?.column)),
            Expr::Compare { field, op, value } => self.compare(field, *op, value),
            Expr::List { field, op, values } => self.list(field, *op, values),
        }
    }

    /// Looks up `name` and checks that it allows `op`, both by its op list
    /// and by what its kind can support.
    fn field(&self, name: &str, op: Op) -> Result<&'static Field, FilterError> {
        let field = self
            .spec
            .field(name)
            .ok_or_else(|| FilterError::UnknownField {
                field: name.to_string(),
            })?;
        let kind_supports = if field.kind == FieldKind::TextSet {
            matches!(op, Op::Eq | Op::In)
        } else {
            match op {
                Op::Co | Op::Sw => matches!(field.kind, FieldKind::Text | FieldKind::TextCi),
                Op::Gt | Op::Ge | Op::Lt | Op::Le => field.kind != FieldKind::Bool,
                Op::Ca => false,
                Op::Eq | Op::Ne | Op::In | Op::Pr | Op::IsNull => true,
            }
        };
        if !field.allows(op) || !kind_supports {
            return Err(FilterError::OperatorNotAllowed {
                field: name.to_string(),
                op: op.as_str().to_string(),
            });
        }
        Ok(field)
    }

    /// Records `param` and returns its placeholder.
    fn bind(&mut self, param: Param) -> String {
        let n = self.next;
        self.next += 1;
        self.params.push(param);
        format!("${n}")
    }

    fn compare(&mut self, name: &str, op: Op, value: &Literal) -> Result<String, FilterError> {
        if matches!(op, Op::In | Op::Ca | Op::Pr | Op::IsNull) {
            return Err(bad(
                name,
                format!("the operator '{op}' cannot take a single value"),
            ));
        }
        let field = self.field(name, op)?;
        let col = field.column;
        if *value == Literal::Null && field.kind == FieldKind::TextSet {
            return Err(bad(name, "null cannot be compared with a set of values"));
        }
        if *value == Literal::Null {
            return match op {
                Op::Eq => Ok(format!("{col} is null")),
                Op::Ne => Ok(format!("{col} is not null")),
                _ => Err(bad(
                    name,
                    format!("null can only be used with 'eq' or 'ne', not '{op}'"),
                )),
            };
        }
        let param = to_param(field, name, value)?;
        if field.kind == FieldKind::TextSet {
            let p = self.bind(param);
            return Ok(format!("{p} in ({col})"));
        }
        if matches!(op, Op::Co | Op::Sw) {
            let Param::Text(text) = param else {
                return Err(bad(name, "expected a double-quoted string"));
            };
            let folded = text.to_lowercase();
            let mut pattern = String::from(if op == Op::Co { "%" } else { "" });
            pattern.push_str(&like_escape(&folded));
            pattern.push('%');
            let p = self.bind(Param::Text(pattern));
            let like = format!("lower({col}) like {p} escape '\\'");
            if op == Op::Co || folded.is_empty() {
                return Ok(like);
            }
            // A prefix is also the half-open range [prefix, successor): the same rows under a
            // binary collation, and a range that an index on lower(column) can serve on both
            // engines (neither uses an expression index for `like`). The `like` stays the test.
            let lo = self.bind(Param::Text(folded.clone()));
            return Ok(match successor(&folded) {
                Some(next) => {
                    let hi = self.bind(Param::Text(next));
                    format!("(lower({col}) >= {lo} and lower({col}) < {hi} and {like})")
                }
                None => format!("(lower({col}) >= {lo} and {like})"),
            });
        }
        let lhs = column_expr(field);
        let p = self.bind(param);
        Ok(match op {
            Op::Ne => format!("({col} is null or {lhs} <> {p})"),
            Op::Gt => format!("{lhs} > {p}"),
            Op::Ge => format!("{lhs} >= {p}"),
            Op::Lt => format!("{lhs} < {p}"),
            Op::Le => format!("{lhs} <= {p}"),
            _ => format!("{lhs} = {p}"),
        })
    }

    fn list(&mut self, name: &str, op: Op, values: &[Literal]) -> Result<String, FilterError> {
        if !matches!(op, Op::In | Op::Ca) {
            return Err(bad(
                name,
                format!("the operator '{op}' cannot take a list of values"),
            ));
        }
        let field = self.field(name, op)?;
        if values.is_empty() {
            return Err(bad(name, format!("the list of values for '{op}' is empty")));
        }
        if values.len() > MAX_LIST_LEN {
            return Err(FilterError::too_complex(format!(
                "the list of values for '{op}' has more than {MAX_LIST_LEN} values"
            )));
        }
        let mut placeholders = Vec::with_capacity(values.len());
        for value in values {
            if *value == Literal::Null {
                return Err(bad(
                    name,
                    format!("null cannot be used in a list for '{op}'"),
                ));
            }
            let param = to_param(field, name, value)?;
            placeholders.push(self.bind(param));
        }
        if field.kind == FieldKind::TextSet {
            let any: Vec<String> = placeholders
                .iter()
                .map(|p| format!("{p} in ({})", field.column))
                .collect();
            return Ok(format!("({})", any.join(" or ")));
        }
        Ok(format!(
            "{} in ({})",
            column_expr(field),
            placeholders.join(", ")
        ))
    }
}

/// The column as compared: `lower(col)` for [`FieldKind::TextCi`], else `col`.
fn column_expr(field: &Field) -> String {
    match field.kind {
        FieldKind::TextCi => format!("lower({})", field.column),
        _ => field.column.to_string(),
    }
}

/// A [`FilterError::BadValue`] for the field `name`.
fn bad(name: &str, message: impl Into<String>) -> FilterError {
    FilterError::BadValue {
        field: name.to_string(),
        message: message.into(),
    }
}

/// Checks a (non-null) literal against the field's kind and converts it.
fn to_param(field: &Field, name: &str, value: &Literal) -> Result<Param, FilterError> {
    match (field.kind, value) {
        (FieldKind::Text | FieldKind::TextSet, Literal::Str(s)) => Ok(Param::Text(s.clone())),
        (FieldKind::TextCi, Literal::Str(s)) => Ok(Param::Text(s.to_lowercase())),
        (FieldKind::Int, Literal::Int(n)) => Ok(Param::Int(*n)),
        (FieldKind::Bool, Literal::Bool(b)) => Ok(Param::Bool(*b)),
        (FieldKind::DateTime, Literal::Str(s) | Literal::DateTime(s)) => {
            epoch_millis(s).map(Param::Int).ok_or_else(|| {
                bad(
                    name,
                    format!(
                        "'{}' is not an RFC 3339 date-time such as 2023-02-05T10:59:27.214Z",
                        shorten(s)
                    ),
                )
            })
        }
        (kind, other) => {
            let expected = match kind {
                FieldKind::Text | FieldKind::TextCi | FieldKind::TextSet => {
                    "a double-quoted string"
                }
                FieldKind::Int => "an integer",
                FieldKind::Bool => "true or false",
                FieldKind::DateTime => "an RFC 3339 date-time such as 2023-02-05T10:59:27.214Z",
            };
            Err(bad(
                name,
                format!("expected {expected}, found {}", describe(other)),
            ))
        }
    }
}

/// Describes a literal for error messages.
fn describe(value: &Literal) -> String {
    match value {
        Literal::Str(s) => format!("the string \"{}\"", shorten(s)),
        Literal::Int(n) => format!("the number {n}"),
        Literal::Float(x) => format!("the number {x:?}"),
        Literal::Bool(b) => format!("{b}"),
        Literal::Null => "null".into(),
        Literal::DateTime(d) => format!("the date-time {d}"),
    }
}

/// Parses an RFC 3339 date-time into epoch milliseconds (rounded down).
pub(crate) fn epoch_millis(text: &str) -> Option<i64> {
    let dt = OffsetDateTime::parse(text, &Rfc3339).ok()?;
    i64::try_from(dt.unix_timestamp_nanos().div_euclid(1_000_000)).ok()
}

/// The least string greater than every string that starts with `prefix` (in code-point order,
/// which is byte order in UTF-8): `prefix` with its last character incremented, dropping trailing
/// characters that cannot be. `None` when there is none (every character is `char::MAX`).
fn successor(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = match u32::from(last) + 1 {
            0xD800 => Some('\u{E000}'),
            n => char::from_u32(n),
        };
        if let Some(c) = next {
            chars.push(c);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// Escapes `\`, `%` and `_` for a `like ... escape '\'` pattern.
fn like_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
