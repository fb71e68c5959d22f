//! A JSON reader that knows where things are.
//!
//! A tenant file is one JSON object whose members are arrays of records. `scan` walks the
//! document's outer structure by hand (strings, escapes and nesting only), noting the line on
//! which every array element starts, and hands each element's bytes to serde; so an error names
//! the line of the object it is about, whatever the layout, and a million records are read in one
//! pass without building a tree of the whole file.

/// One array element: the line it starts on and its text.
#[derive(Debug)]
pub(crate) struct Element<'a> {
    pub line: u32,
    pub bytes: &'a [u8],
}

/// One member of the top-level object.
#[derive(Debug)]
pub(crate) struct Member<'a> {
    pub key: String,
    pub line: u32,
    /// The array's elements, or `None` when the value is not an array.
    pub elements: Option<Vec<Element<'a>>>,
    /// The value's text.
    pub value: &'a [u8],
}

/// A syntax error: its line and what is wrong.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    pub line: u32,
    pub reason: String,
}

struct Cursor<'a> {
    b: &'a [u8],
    at: usize,
    line: u32,
}

impl<'a> Cursor<'a> {
    fn err<T>(&self, reason: impl Into<String>) -> Result<T, SyntaxError> {
        Err(SyntaxError {
            line: self.line,
            reason: reason.into(),
        })
    }

    fn skip_ws(&mut self) {
        while let Some(&c) = self.b.get(self.at) {
            match c {
                b'\n' => self.line += 1,
                b' ' | b'\t' | b'\r' => {}
                _ => return,
            }
            self.at += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.at).copied()
    }

    fn expect(&mut self, c: u8, what: &str) -> Result<(), SyntaxError> {
        self.skip_ws();
        if self.peek() == Some(c) {
            self.at += 1;
            Ok(())
        } else {
            self.err(format!("expected {what}"))
        }
    }

    /// The end (exclusive) of the string starting at `self.at`.
    fn string_end(&self, start: usize) -> Result<usize, SyntaxError> {
        let mut i = start + 1;
        while let Some(&c) = self.b.get(i) {
            match c {
                b'\\' => i += 2,
                b'"' => return Ok(i + 1),
                b'\n' => return self.err("a string runs past the end of its line"),
                _ => i += 1,
            }
        }
        self.err("a string is not closed")
    }

    /// Moves past one value, counting lines, and returns its text.
    fn value(&mut self) -> Result<&'a [u8], SyntaxError> {
        self.skip_ws();
        let start = self.at;
        match self.peek() {
            None => return self.err("unexpected end of the file"),
            Some(b'"') => self.at = self.string_end(start)?,
            Some(b'{' | b'[') => {
                let start_line = self.line;
                let mut depth = 0_usize;
                let mut i = start;
                loop {
                    let Some(&c) = self.b.get(i) else {
                        self.line = start_line;
                        return self.err("an object or array that starts here is not closed");
                    };
                    match c {
                        b'"' => {
                            i = self.string_end(i)?;
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                i += 1;
                                break;
                            }
                        }
                        b'\n' => self.line += 1,
                        _ => {}
                    }
                    i += 1;
                }
                self.at = i;
            }
            Some(_) => {
                while let Some(&c) = self.b.get(self.at) {
                    if matches!(c, b',' | b']' | b'}' | b' ' | b'\t' | b'\r' | b'\n') {
                        break;
                    }
                    self.at += 1;
                }
            }
        }
        Ok(&self.b[start..self.at])
    }

    fn elements(&mut self) -> Result<Vec<Element<'a>>, SyntaxError> {
        self.expect(b'[', "'['")?;
        let mut out = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.at += 1;
            return Ok(out);
        }
        loop {
            self.skip_ws();
            let line = self.line;
            let bytes = self.value()?;
            out.push(Element { line, bytes });
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b']') => {
                    self.at += 1;
                    return Ok(out);
                }
                _ => return self.err("expected ',' or ']' after an array element"),
            }
        }
    }
}

/// Splits a tenant file into its top-level members; `arrays` names the members whose elements
/// are read one by one.
pub(crate) fn scan<'a>(text: &'a [u8], arrays: &[&str]) -> Result<Vec<Member<'a>>, SyntaxError> {
    let mut cur = Cursor {
        b: text,
        at: 0,
        line: 1,
    };
    if text.starts_with(b"\xEF\xBB\xBF") {
        cur.at = 3;
    }
    cur.expect(b'{', "the file to be one JSON object, starting with '{'")?;
    let mut members = Vec::new();
    cur.skip_ws();
    if cur.peek() == Some(b'}') {
        cur.at += 1;
    } else {
        loop {
            cur.skip_ws();
            let line = cur.line;
            if cur.peek() != Some(b'"') {
                return cur.err("expected a member name in double quotes");
            }
            let raw = cur.value()?;
            let key: String = serde_json::from_slice(raw).map_err(|e| SyntaxError {
                line,
                reason: format!("bad member name: {e}"),
            })?;
            cur.expect(b':', "':' after a member name")?;
            cur.skip_ws();
            let (elements, value) = if arrays.contains(&key.as_str()) && cur.peek() == Some(b'[') {
                let start = cur.at;
                let els = cur.elements()?;
                (Some(els), &text[start..cur.at])
            } else {
                (None, cur.value()?)
            };
            members.push(Member {
                key,
                line,
                elements,
                value,
            });
            cur.skip_ws();
            match cur.peek() {
                Some(b',') => cur.at += 1,
                Some(b'}') => {
                    cur.at += 1;
                    break;
                }
                _ => return cur.err("expected ',' or '}' after a member"),
            }
        }
    }
    cur.skip_ws();
    if cur.at < text.len() {
        return cur.err("unexpected text after the closing '}'");
    }
    Ok(members)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_know_their_lines() {
        let text = b"{\n \"gatehouse\": \"tenant/1\",\n \"identities\": [\n  {\"name\": \"a\"},\n  {\n   \"name\": \"b]\\\"{\"\n  }\n ],\n \"roles\": []\n}\n";
        let m = scan(text, &["identities", "roles"]).unwrap();
        assert_eq!(m.len(), 3);
        assert_eq!((m[0].key.as_str(), m[0].line), ("gatehouse", 2));
        let els = m[1].elements.as_ref().unwrap();
        assert_eq!(els.len(), 2);
        assert_eq!(els[0].line, 4);
        assert_eq!(els[1].line, 5);
        let v: serde_json::Value = serde_json::from_slice(els[1].bytes).unwrap();
        assert_eq!(v["name"], "b]\"{");
        assert!(m[2].elements.as_ref().unwrap().is_empty());
    }

    #[test]
    fn syntax_errors_name_their_line() {
        let e = scan(
            b"{\n\"identities\": [\n{\"name\": \"a\"}\n{\"name\": \"b\"}]}",
            &["identities"],
        )
        .unwrap_err();
        assert_eq!(e.line, 4);
        let e = scan(b"{\"identities\": [\n{\"name\": \"a\"\n", &["identities"]).unwrap_err();
        assert_eq!(e.line, 2);
        assert!(scan(b"[]", &[]).is_err());
        assert!(scan(b"{} x", &[]).is_err());
    }
}
