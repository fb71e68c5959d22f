//! The `sorters` parameter (`sorters=type,-modified`) and the `order by`
//! clause it renders to.

use crate::lexer::shorten;
use crate::parser::MAX_INPUT_LEN;
use crate::spec::SortSpec;
use crate::FilterError;

/// One sort key: a column from the [`SortSpec`] and a direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sort {
    /// The SQL column, taken from the spec.
    pub column: &'static str,
    /// True for a `-name` sorter.
    pub descending: bool,
}

/// Parses `sorters`: a comma-separated list of field names, each optionally
/// prefixed with `-` for descending order. Whitespace around items is
/// ignored.
///
/// Errors: [`FilterError::UnknownSorter`] naming a field not in `spec`;
/// [`FilterError::BadSorter`] for an empty item (including an empty or
/// all-blank input), a lone `-`, or a field given twice (whatever its
/// direction); [`FilterError::TooComplex`] for input longer than
/// [`crate::MAX_INPUT_LEN`] bytes.
pub fn parse_sorters(input: &str, spec: &SortSpec) -> Result<Vec<Sort>, FilterError> {
    if input.len() > MAX_INPUT_LEN {
        return Err(FilterError::too_complex(format!(
            "the sorters are {} bytes long; at most {MAX_INPUT_LEN} are allowed",
            input.len()
        )));
    }
    let mut names: Vec<&str> = Vec::new();
    let mut sorts = Vec::new();
    for (index, raw) in input.split(',').enumerate() {
        let item = raw.trim_matches([' ', '\t', '\r', '\n']);
        if item.is_empty() {
            return Err(FilterError::BadSorter {
                message: format!(
                    "sorter number {} is empty; write field names separated by commas, \
                     such as 'name,-created'",
                    index + 1
                ),
            });
        }
        let (descending, name) = match item.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, item),
        };
        if name.is_empty() {
            return Err(FilterError::BadSorter {
                message: format!(
                    "sorter number {} is a '-' without a field name after it",
                    index + 1
                ),
            });
        }
        let column = spec
            .column(name)
            .ok_or_else(|| FilterError::UnknownSorter {
                field: shorten(name),
            })?;
        if names.contains(&name) {
            return Err(FilterError::BadSorter {
                message: format!("the field '{name}' is given more than once"),
            });
        }
        names.push(name);
        sorts.push(Sort { column, descending });
    }
    Ok(sorts)
}

/// Renders ` order by c1 asc, c2 desc` (with a leading space), followed by
/// `, <tiebreak> asc` when `tiebreak` is given and not already one of the
/// sort columns, so that paging is stable. Returns an empty string when
/// there is nothing to order by.
pub fn order_by_sql(sorts: &[Sort], tiebreak: Option<&'static str>) -> String {
    let mut keys: Vec<String> = sorts
        .iter()
        .map(|s| format!("{} {}", s.column, if s.descending { "desc" } else { "asc" }))
        .collect();
    if let Some(column) = tiebreak {
        if !sorts.iter().any(|s| s.column == column) {
            keys.push(format!("{column} asc"));
        }
    }
    if keys.is_empty() {
        String::new()
    } else {
        format!(" order by {}", keys.join(", "))
    }
}
