//! The one error type of the crate, whose `Display` text is meant to go
//! straight into a 400 response body.

/// Everything that can go wrong while parsing, checking or compiling
/// `filters` and `sorters`.
///
/// Every message is a human-readable sentence that names the offending
/// field, operator or position, so callers can show it unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    /// The text does not follow the grammar.
    #[error("Invalid filter syntax at position {position}: {message}.")]
    Syntax {
        /// Byte offset (0-based) in the input where the problem was found.
        position: usize,
        /// What was expected and what was found.
        message: String,
    },
    /// The filter names a field the endpoint does not allow filtering on.
    #[error("Invalid filter field: '{field}' is not a field that can be filtered on.")]
    UnknownField {
        /// The field as written in the filter.
        field: String,
    },
    /// The field exists but does not support this operator.
    #[error("Operator '{op}' is not supported for field '{field}'.")]
    OperatorNotAllowed {
        /// The field as written in the filter.
        field: String,
        /// The operator, in its lower-case spelling (`eq`, `co`, ...).
        op: String,
    },
    /// The value has the wrong type or form for the field.
    #[error("Invalid value for field '{field}': {message}.")]
    BadValue {
        /// The field as written in the filter.
        field: String,
        /// What is wrong with the value.
        message: String,
    },
    /// The input exceeds a robustness limit (length, nesting depth, list size).
    #[error("Filter is too complex: {message}.")]
    TooComplex {
        /// Which limit was exceeded.
        message: String,
    },
    /// A sorter names a field the endpoint does not allow sorting on.
    #[error("Invalid sorter field: '{field}' is not a field that can be sorted on.")]
    UnknownSorter {
        /// The field as written in the sorters.
        field: String,
    },
    /// The sorters list is malformed (empty item, duplicate field, ...).
    #[error("Invalid sorters: {message}.")]
    BadSorter {
        /// What is wrong with the list.
        message: String,
    },
}

impl FilterError {
    /// Shorthand for a [`FilterError::Syntax`].
    pub(crate) fn syntax(position: usize, message: impl Into<String>) -> Self {
        FilterError::Syntax {
            position,
            message: message.into(),
        }
    }

    /// Shorthand for a [`FilterError::TooComplex`].
    pub(crate) fn too_complex(message: impl Into<String>) -> Self {
        FilterError::TooComplex {
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_texts_name_the_culprit() {
        let cases: &[(FilterError, &str)] = &[
            (
                FilterError::syntax(4, "expected an operator after field 'a', found 'EQ'"),
                "Invalid filter syntax at position 4: expected an operator after field 'a', found 'EQ'.",
            ),
            (
                FilterError::UnknownField { field: "foo".into() },
                "Invalid filter field: 'foo' is not a field that can be filtered on.",
            ),
            (
                FilterError::OperatorNotAllowed { field: "id".into(), op: "co".into() },
                "Operator 'co' is not supported for field 'id'.",
            ),
            (
                FilterError::BadValue { field: "created".into(), message: "expected a date-time".into() },
                "Invalid value for field 'created': expected a date-time.",
            ),
            (
                FilterError::too_complex("nesting is deeper than 32 levels"),
                "Filter is too complex: nesting is deeper than 32 levels.",
            ),
            (
                FilterError::UnknownSorter { field: "bar".into() },
                "Invalid sorter field: 'bar' is not a field that can be sorted on.",
            ),
            (
                FilterError::BadSorter { message: "sorter 2 is empty".into() },
                "Invalid sorters: sorter 2 is empty.",
            ),
        ];
        for (err, text) in cases {
            assert_eq!(err.to_string(), *text);
        }
    }
}
