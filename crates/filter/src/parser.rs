//! Recursive-descent parser for the `filters` grammar.
//!
//! ```text
//! or_expr   := and_expr ("or" and_expr)*
//! and_expr  := unary ("and" unary)*
//! unary     := "not" unary | primary
//! primary   := "(" or_expr ")"
//!            | "pr" FIELD
//!            | FIELD "isnull"
//!            | FIELD ("in" | "ca") "(" value ("," value)* ")"
//!            | FIELD ("eq"|"ne"|"gt"|"ge"|"lt"|"le"|"co"|"sw") value
//! value     := STRING | INT | FLOAT | DATETIME | "true" | "false" | "null"
//! ```
//!
//! Keywords are lower case only. Recursion only happens through `(` and
//! `not`, both of which count towards [`MAX_DEPTH`], so no input can
//! overflow the stack.

use crate::ast::{Expr, Literal, Op};
use crate::lexer::{shorten, tokenize, Token, TokenKind};
use crate::FilterError;

/// Longest accepted `filters` (and `sorters`) input, in bytes.
pub const MAX_INPUT_LEN: usize = 4096;
/// Deepest accepted nesting of parentheses and `not`.
pub const MAX_DEPTH: usize = 32;
/// Most values accepted in one `in` / `ca` list.
pub const MAX_LIST_LEN: usize = 250;

/// Words that can never be field names.
const RESERVED: &[&str] = &[
    "and", "or", "not", "true", "false", "null", "eq", "ne", "gt", "ge", "lt", "le", "co", "sw",
    "in", "ca", "pr", "isnull",
];

/// Parses a SailPoint `filters` expression.
///
/// Errors are [`FilterError::Syntax`] (with the byte offset of the problem)
/// or [`FilterError::TooComplex`] when the input is longer than
/// [`MAX_INPUT_LEN`], nests deeper than [`MAX_DEPTH`] or has a list longer
/// than [`MAX_LIST_LEN`]. Never panics.
pub fn parse(input: &str) -> Result<Expr, FilterError> {
    if input.len() > MAX_INPUT_LEN {
        return Err(FilterError::too_complex(format!(
            "the filter is {} bytes long; at most {MAX_INPUT_LEN} are allowed",
            input.len()
        )));
    }
    let mut parser = Parser {
        tokens: tokenize(input)?,
        idx: 0,
        depth: 0,
    };
    let expr = parser.or_expr()?;
    let tok = parser.peek();
    match &tok.kind {
        TokenKind::Eof => Ok(expr),
        TokenKind::RParen => Err(FilterError::syntax(
            tok.pos,
            "unmatched ')' without an opening '('",
        )),
        other => Err(FilterError::syntax(
            tok.pos,
            format!(
                "expected 'and', 'or' or the end of the input, found {}{}",
                other.describe(),
                case_hint(other)
            ),
        )),
    }
}

/// Parser state: the tokens, a cursor and the current nesting depth.
struct Parser {
    tokens: Vec<Token>,
    idx: usize,
    depth: usize,
}

/// " (keywords are lower case: use 'and')" when `kind` is a mis-cased keyword.
fn case_hint(kind: &TokenKind) -> String {
    if let TokenKind::Word(w) = kind {
        let lower = w.to_ascii_lowercase();
        if lower != *w && RESERVED.contains(&lower.as_str()) {
            return format!(" (operators and keywords are lower case: use '{lower}')");
        }
    }
    String::new()
}

impl Parser {
    /// The current token (the final `Eof` once the input is used up).
    fn peek(&self) -> &Token {
        // `tokens` always ends with Eof and `idx` never moves past it.
        &self.tokens[self.idx.min(self.tokens.len() - 1)]
    }

    /// Returns the current token and moves past it (never past `Eof`).
    fn bump(&mut self) -> Token {
        let tok = self.peek().clone();
        if self.idx + 1 < self.tokens.len() {
            self.idx += 1;
        }
        tok
    }

    /// True if the current token is the keyword `word`.
    fn at_word(&self, word: &str) -> bool {
        matches!(&self.peek().kind, TokenKind::Word(w) if w == word)
    }

    /// Enters one nesting level (a `(` or `not` at `pos`).
    fn enter(&mut self, pos: usize) -> Result<(), FilterError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(FilterError::too_complex(format!(
                "parentheses and 'not' are nested more than {MAX_DEPTH} levels deep \
                 (at position {pos})"
            )));
        }
        Ok(())
    }

    fn or_expr(&mut self) -> Result<Expr, FilterError> {
        let mut lhs = self.and_expr()?;
        while self.at_word("or") {
            self.bump();
            let rhs = self.and_expr()?;
            lhs = Expr::Or(Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }

    fn and_expr(&mut self) -> Result<Expr, FilterError> {
        let mut lhs = self.unary()?;
        while self.at_word("and") {
            self.bump();
            let rhs = self.unary()?;
            lhs = Expr::And(Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }

    fn unary(&mut self) -> Result<Expr, FilterError> {
        if !self.at_word("not") {
            return self.primary();
        }
        let pos = self.bump().pos;
        self.enter(pos)?;
        let inner = self.unary()?;
        self.depth -= 1;
        Ok(Expr::Not(Box::new(inner)))
    }

    fn primary(&mut self) -> Result<Expr, FilterError> {
        let tok = self.bump();
        match tok.kind {
            TokenKind::LParen => {
                self.enter(tok.pos)?;
                let inner = self.or_expr()?;
                let close = self.bump();
                if close.kind != TokenKind::RParen {
                    return Err(FilterError::syntax(
                        close.pos,
                        format!(
                            "expected ')' to close the '(' at position {}, found {}{}",
                            tok.pos,
                            close.kind.describe(),
                            case_hint(&close.kind)
                        ),
                    ));
                }
                self.depth -= 1;
                Ok(inner)
            }
            TokenKind::Word(w) if w == "pr" => Ok(Expr::Present(self.field("'pr'")?)),
            TokenKind::Word(w) if !RESERVED.contains(&w.as_str()) => {
                check_field_name(&w, tok.pos)?;
                self.after_field(w)
            }
            other => Err(FilterError::syntax(
                tok.pos,
                format!(
                    "expected a field name, 'not', 'pr' or '(', found {}",
                    other.describe()
                ),
            )),
        }
    }

    /// Reads the field name that must follow `after`.
    fn field(&mut self, after: &str) -> Result<String, FilterError> {
        let tok = self.bump();
        match tok.kind {
            TokenKind::Word(w) if !RESERVED.contains(&w.as_str()) => {
                check_field_name(&w, tok.pos)?;
                Ok(w)
            }
            other => Err(FilterError::syntax(
                tok.pos,
                format!(
                    "expected a field name after {after}, found {}",
                    other.describe()
                ),
            )),
        }
    }

    /// Parses what follows a field name: an operator and its operand(s).
    fn after_field(&mut self, field: String) -> Result<Expr, FilterError> {
        let tok = self.bump();
        let op = match &tok.kind {
            TokenKind::Word(w) => Op::from_word(w),
            _ => None,
        };
        match op {
            Some(Op::IsNull) => Ok(Expr::IsNull(field)),
            Some(Op::Pr) => Err(FilterError::syntax(
                tok.pos,
                format!("'pr' goes before the field: write 'pr {field}'"),
            )),
            Some(op @ (Op::In | Op::Ca)) => {
                let values = self.list(op)?;
                Ok(Expr::List { field, op, values })
            }
            Some(op) => {
                let value = self.value(op)?;
                Ok(Expr::Compare { field, op, value })
            }
            None => {
                let lower = field.to_ascii_lowercase();
                let hint = if lower == "not" || lower == "pr" {
                    format!(" (keywords are lower case: use '{lower}')")
                } else {
                    case_hint(&tok.kind)
                };
                Err(FilterError::syntax(
                    tok.pos,
                    format!(
                        "expected an operator (eq, ne, gt, ge, lt, le, co, sw, in, ca or isnull) \
                         after the field '{}', found {}{hint}",
                        shorten(&field),
                        tok.kind.describe()
                    ),
                ))
            }
        }
    }

    /// Parses `( value, ... )` for `in` / `ca`.
    fn list(&mut self, op: Op) -> Result<Vec<Literal>, FilterError> {
        let open = self.bump();
        if open.kind != TokenKind::LParen {
            return Err(FilterError::syntax(
                open.pos,
                format!(
                    "expected '(' to start the list of values for '{op}', found {}",
                    open.kind.describe()
                ),
            ));
        }
        if self.peek().kind == TokenKind::RParen {
            return Err(FilterError::syntax(
                self.peek().pos,
                format!("the list of values for '{op}' is empty; give at least one value"),
            ));
        }
        let mut values = Vec::new();
        loop {
            if values.len() == MAX_LIST_LEN {
                return Err(FilterError::too_complex(format!(
                    "the list of values for '{op}' has more than {MAX_LIST_LEN} values"
                )));
            }
            values.push(self.value(op)?);
            let sep = self.bump();
            match sep.kind {
                TokenKind::Comma => {}
                TokenKind::RParen => return Ok(values),
                other => {
                    return Err(FilterError::syntax(
                        sep.pos,
                        format!(
                            "expected ',' or ')' in the list of values for '{op}', found {}",
                            other.describe()
                        ),
                    ))
                }
            }
        }
    }

    /// Parses one literal operand of `op`.
    fn value(&mut self, op: Op) -> Result<Literal, FilterError> {
        let tok = self.bump();
        match tok.kind {
            TokenKind::Str(s) => Ok(Literal::Str(s)),
            TokenKind::Int(n) => Ok(Literal::Int(n)),
            TokenKind::Float(x) => Ok(Literal::Float(x)),
            TokenKind::DateTime(d) => Ok(Literal::DateTime(d)),
            TokenKind::Word(w) if w == "true" => Ok(Literal::Bool(true)),
            TokenKind::Word(w) if w == "false" => Ok(Literal::Bool(false)),
            TokenKind::Word(w) if w == "null" => Ok(Literal::Null),
            other => Err(FilterError::syntax(
                tok.pos,
                format!(
                    "expected a value after '{op}' (a double-quoted string, a number, true, \
                     false, null or a date-time), found {}{}",
                    other.describe(),
                    case_hint(&other)
                ),
            )),
        }
    }
}

/// Rejects field names with empty dot-separated segments (`a..b`, `a.`).
fn check_field_name(name: &str, pos: usize) -> Result<(), FilterError> {
    if name.split('.').any(str::is_empty) {
        return Err(FilterError::syntax(
            pos,
            format!(
                "'{}' is not a valid field name: dots must separate non-empty names",
                shorten(name)
            ),
        ));
    }
    Ok(())
}
