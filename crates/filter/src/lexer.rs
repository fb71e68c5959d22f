//! Hand-written lexer: turns filter text into a flat list of tokens.
//!
//! Words (identifiers and keywords) start with an ASCII letter or `_` and
//! continue with letters, digits, `_` and `.`. Numbers and unquoted
//! date-times start with a digit or `-` and are classified after the whole
//! run of `[A-Za-z0-9.:+-]` is read. Strings are double-quoted with the
//! escapes `\"` and `\\` only.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::FilterError;

/// The kind of a token, with its payload.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum TokenKind {
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `,`
    Comma,
    /// An identifier or keyword, exactly as written.
    Word(String),
    /// A double-quoted string, unescaped.
    Str(String),
    /// An integer.
    Int(i64),
    /// A decimal number.
    Float(f64),
    /// An unquoted RFC 3339 date-time, as written.
    DateTime(String),
    /// End of input.
    Eof,
}

/// A token and the byte offset where it starts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    /// What the token is.
    pub kind: TokenKind,
    /// Byte offset of its first character.
    pub pos: usize,
}

impl TokenKind {
    /// A short description for error messages: `'and'`, `end of input`, ...
    pub(crate) fn describe(&self) -> String {
        match self {
            TokenKind::LParen => "'('".into(),
            TokenKind::RParen => "')'".into(),
            TokenKind::Comma => "','".into(),
            TokenKind::Word(w) => format!("'{}'", shorten(w)),
            TokenKind::Str(s) => format!("the string \"{}\"", shorten(s)),
            TokenKind::Int(n) => format!("the number {n}"),
            TokenKind::Float(x) => format!("the number {x:?}"),
            TokenKind::DateTime(d) => format!("the date-time {d}"),
            TokenKind::Eof => "the end of the input".into(),
        }
    }
}

/// Cuts long text to 40 characters for error messages.
pub(crate) fn shorten(s: &str) -> String {
    const MAX: usize = 40;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        let mut cut: String = s.chars().take(MAX).collect();
        cut.push_str("...");
        cut
    }
}

/// Splits `input` into tokens, ending with [`TokenKind::Eof`].
pub(crate) fn tokenize(input: &str) -> Result<Vec<Token>, FilterError> {
    let bytes = input.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let start = i;
        let kind = match b {
            b' ' | b'\t' | b'\n' | b'\r' => {
                i += 1;
                continue;
            }
            b'(' => {
                i += 1;
                TokenKind::LParen
            }
            b')' => {
                i += 1;
                TokenKind::RParen
            }
            b',' => {
                i += 1;
                TokenKind::Comma
            }
            b'"' => {
                let (text, end) = lex_string(input, start)?;
                i = end;
                TokenKind::Str(text)
            }
            b if b.is_ascii_alphabetic() || b == b'_' => {
                i = scan(bytes, i, |c| {
                    c.is_ascii_alphanumeric() || c == b'_' || c == b'.'
                });
                TokenKind::Word(input[start..i].to_string())
            }
            b if b.is_ascii_digit() || b == b'-' => {
                i = scan(bytes, i, |c| {
                    c.is_ascii_alphanumeric() || matches!(c, b'.' | b':' | b'+' | b'-')
                });
                classify_number(&input[start..i], start)?
            }
            _ => {
                let ch = input.get(start..).and_then(|s| s.chars().next());
                let shown = ch.map_or_else(|| format!("byte {b:#04x}"), |c| format!("{c:?}"));
                return Err(FilterError::syntax(
                    start,
                    format!("unexpected character {shown}"),
                ));
            }
        };
        tokens.push(Token { kind, pos: start });
    }
    tokens.push(Token {
        kind: TokenKind::Eof,
        pos: input.len(),
    });
    Ok(tokens)
}

/// Index of the first byte at or after `i` that does not satisfy `keep`.
fn scan(bytes: &[u8], mut i: usize, keep: impl Fn(u8) -> bool) -> usize {
    while bytes.get(i).is_some_and(|&c| keep(c)) {
        i += 1;
    }
    i
}

/// Reads the string whose opening quote is at `start`; returns its
/// unescaped text and the offset just past the closing quote.
fn lex_string(input: &str, start: usize) -> Result<(String, usize), FilterError> {
    let body = input.get(start + 1..).unwrap_or("");
    let mut text = String::new();
    let mut chars = body.char_indices();
    while let Some((off, c)) = chars.next() {
        let pos = start + 1 + off;
        match c {
            '"' => return Ok((text, pos + 1)),
            '\\' => match chars.next() {
                Some((_, '"')) => text.push('"'),
                Some((_, '\\')) => text.push('\\'),
                Some((_, other)) => {
                    return Err(FilterError::syntax(
                        pos,
                        format!(
                            "invalid escape sequence '\\{other}' in a string; \
                             only \\\" and \\\\ are allowed"
                        ),
                    ))
                }
                None => break,
            },
            c => text.push(c),
        }
    }
    Err(FilterError::syntax(
        start,
        "unterminated string: the closing '\"' is missing",
    ))
}

/// True for `digits ('.' digits)? ([eE] [+-]? digits)?` with a dot or an exponent.
fn is_float_syntax(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = scan(b, 0, |c| c.is_ascii_digit());
    if i == 0 {
        return false;
    }
    let mut decorated = false;
    if b.get(i) == Some(&b'.') {
        let j = scan(b, i + 1, |c| c.is_ascii_digit());
        if j == i + 1 {
            return false;
        }
        i = j;
        decorated = true;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let j = scan(b, i, |c| c.is_ascii_digit());
        if j == i {
            return false;
        }
        i = j;
        decorated = true;
    }
    decorated && i == b.len()
}

/// Turns a run starting with a digit or `-` into an integer, float or date-time.
fn classify_number(word: &str, pos: usize) -> Result<TokenKind, FilterError> {
    let unsigned = word.strip_prefix('-').unwrap_or(word);
    if !unsigned.is_empty() && unsigned.bytes().all(|c| c.is_ascii_digit()) {
        return word.parse::<i64>().map(TokenKind::Int).map_err(|_| {
            FilterError::syntax(pos, format!("the number {} is out of range", shorten(word)))
        });
    }
    if is_float_syntax(unsigned) {
        return match word.parse::<f64>() {
            Ok(x) if x.is_finite() => Ok(TokenKind::Float(x)),
            _ => Err(FilterError::syntax(
                pos,
                format!("the number {} is out of range", shorten(word)),
            )),
        };
    }
    if OffsetDateTime::parse(word, &Rfc3339).is_ok() {
        return Ok(TokenKind::DateTime(word.to_string()));
    }
    Err(FilterError::syntax(
        pos,
        format!(
            "'{}' is neither a number nor an RFC 3339 date-time such as 2023-02-05T10:59:27.214Z",
            shorten(word)
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::TokenKind::*;
    use super::*;

    fn kinds(input: &str) -> Vec<TokenKind> {
        tokenize(input)
            .unwrap_or_else(|e| panic!("{input:?}: {e}"))
            .into_iter()
            .map(|t| t.kind)
            .collect()
    }

    fn w(s: &str) -> TokenKind {
        Word(s.into())
    }

    #[test]
    fn tokens() {
        let cases: Vec<(&str, Vec<TokenKind>)> = vec![
            ("", vec![Eof]),
            (" \t\r\n ", vec![Eof]),
            ("a.b_c eq 1", vec![w("a.b_c"), w("eq"), Int(1), Eof]),
            ("(x)", vec![LParen, w("x"), RParen, Eof]),
            (
                "in(\"a\",\"b\")",
                vec![
                    w("in"),
                    LParen,
                    Str("a".into()),
                    Comma,
                    Str("b".into()),
                    RParen,
                    Eof,
                ],
            ),
            (
                r#""say \"hi\" \\ ok""#,
                vec![Str(r#"say "hi" \ ok"#.into()), Eof],
            ),
            ("\"\"", vec![Str(String::new()), Eof]),
            ("\"héllo ✓\"", vec![Str("héllo ✓".into()), Eof]),
            (
                "-17 0 9223372036854775807",
                vec![Int(-17), Int(0), Int(i64::MAX), Eof],
            ),
            ("-9223372036854775808", vec![Int(i64::MIN), Eof]),
            (
                "1.5 -0.25 2e3 1E-2",
                vec![Float(1.5), Float(-0.25), Float(2000.0), Float(0.01), Eof],
            ),
            (
                "2023-02-05T10:59:27.214Z",
                vec![DateTime("2023-02-05T10:59:27.214Z".into()), Eof],
            ),
            (
                "2018-12-18T23:05:55+01:00)",
                vec![DateTime("2018-12-18T23:05:55+01:00".into()), RParen, Eof],
            ),
            (
                "true false null",
                vec![w("true"), w("false"), w("null"), Eof],
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(kinds(input), expected, "{input:?}");
        }
    }

    #[test]
    fn token_positions_are_byte_offsets() {
        let toks = tokenize("é").unwrap_err();
        assert_eq!(toks, FilterError::syntax(0, "unexpected character 'é'"));
        let toks = tokenize("\"é\" x").unwrap();
        assert_eq!(toks[1].pos, 5);
        assert_eq!(toks[2].pos, 6);
    }

    #[test]
    fn lexical_errors() {
        let cases: &[(&str, usize, &str)] = &[
            ("\"abc", 0, "unterminated"),
            ("a eq \"abc\\\"", 5, "unterminated"),
            ("a eq \"ab\\", 5, "unterminated"),
            ("\"a\\nb\"", 2, "invalid escape sequence '\\n'"),
            ("\"a\\'b\"", 2, "invalid escape sequence"),
            ("a eq 'x'", 5, "unexpected character '\\''"),
            ("a = 1", 2, "unexpected character '='"),
            ("99999999999999999999", 0, "out of range"),
            ("1e999", 0, "out of range"),
            ("-", 0, "neither a number"),
            ("1.", 0, "neither a number"),
            ("12abc", 0, "neither a number"),
            ("2023-02-05", 0, "neither a number"),
            ("2023-02-30T10:00:00Z", 0, "neither a number"),
            ("2023-02-05T10:59:27", 0, "neither a number"),
        ];
        for (input, pos, needle) in cases {
            match tokenize(input) {
                Err(FilterError::Syntax { position, message }) => {
                    assert_eq!(position, *pos, "{input:?}: {message}");
                    assert!(message.contains(needle), "{input:?}: {message}");
                }
                other => panic!("{input:?}: expected a syntax error, got {other:?}"),
            }
        }
    }

    #[test]
    fn float_syntax() {
        for ok in ["1.0", "1e5", "1E+5", "0.5e-3"] {
            assert!(is_float_syntax(ok), "{ok}");
        }
        for bad in ["1", "", ".5", "1.", "1e", "1e+", "inf", "nan", "1.2.3"] {
            assert!(!is_float_syntax(bad), "{bad}");
        }
    }
}
