//! Values bound to and read from SQL, the same for both backends.

use crate::StoreError;
use gatehouse_domain::Timestamp;

/// A SQL value. Dates are stored as `Int` milliseconds; JSON as `Text`.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// An integer (BIGINT).
    Int(i64),
    /// A float (DOUBLE PRECISION / REAL).
    Float(f64),
    /// Text.
    Text(String),
    /// A boolean (BOOLEAN on PostgreSQL, 0/1 on SQLite).
    Bool(bool),
    /// Bytes.
    Blob(Vec<u8>),
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Self::Int(v)
    }
}
impl From<i32> for Value {
    fn from(v: i32) -> Self {
        Self::Int(i64::from(v))
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Self::Bool(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Self::Text(v.to_owned())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Self::Text(v)
    }
}
impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Self::Text(v.clone())
    }
}
impl From<Timestamp> for Value {
    fn from(v: Timestamp) -> Self {
        Self::Int(v.0)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Self::Null, Into::into)
    }
}
impl From<gatehouse_filter::Param> for Value {
    fn from(p: gatehouse_filter::Param) -> Self {
        match p {
            gatehouse_filter::Param::Text(s) => Self::Text(s),
            gatehouse_filter::Param::Int(i) => Self::Int(i),
            gatehouse_filter::Param::Bool(b) => Self::Bool(b),
            gatehouse_filter::Param::Float(f) => Self::Float(f),
        }
    }
}

/// One result row, read by column position.
#[derive(Clone, Debug, Default)]
pub struct Row(pub Vec<Value>);

impl Row {
    fn at(&self, i: usize) -> Result<&Value, StoreError> {
        self.0
            .get(i)
            .ok_or_else(|| StoreError::Decode(format!("no column {i}")))
    }

    /// A non-null text column.
    pub fn text(&self, i: usize) -> Result<String, StoreError> {
        self.opt_text(i)?
            .ok_or_else(|| StoreError::Decode(format!("column {i} is null")))
    }

    /// A nullable text column.
    pub fn opt_text(&self, i: usize) -> Result<Option<String>, StoreError> {
        match self.at(i)? {
            Value::Null => Ok(None),
            Value::Text(s) => Ok(Some(s.clone())),
            other => Err(StoreError::Decode(format!(
                "column {i} is not text: {other:?}"
            ))),
        }
    }

    /// A non-null integer column.
    pub fn int(&self, i: usize) -> Result<i64, StoreError> {
        self.opt_int(i)?
            .ok_or_else(|| StoreError::Decode(format!("column {i} is null")))
    }

    /// A nullable integer column.
    pub fn opt_int(&self, i: usize) -> Result<Option<i64>, StoreError> {
        match self.at(i)? {
            Value::Null => Ok(None),
            Value::Int(v) => Ok(Some(*v)),
            Value::Bool(b) => Ok(Some(i64::from(*b))),
            other => Err(StoreError::Decode(format!(
                "column {i} is not an integer: {other:?}"
            ))),
        }
    }

    /// A non-null boolean column (0/1 on SQLite).
    pub fn bool(&self, i: usize) -> Result<bool, StoreError> {
        match self.at(i)? {
            Value::Bool(b) => Ok(*b),
            Value::Int(v) => Ok(*v != 0),
            other => Err(StoreError::Decode(format!(
                "column {i} is not a boolean: {other:?}"
            ))),
        }
    }

    /// A non-null timestamp column (milliseconds).
    pub fn ts(&self, i: usize) -> Result<Timestamp, StoreError> {
        self.int(i).map(Timestamp)
    }

    /// A nullable timestamp column (milliseconds).
    pub fn opt_ts(&self, i: usize) -> Result<Option<Timestamp>, StoreError> {
        self.opt_int(i).map(|v| v.map(Timestamp))
    }

    /// A JSON text column decoded into `T`.
    pub fn json<T: serde::de::DeserializeOwned>(&self, i: usize) -> Result<T, StoreError> {
        Ok(serde_json::from_str(&self.text(i)?)?)
    }

    /// A bytes column.
    pub fn blob(&self, i: usize) -> Result<Vec<u8>, StoreError> {
        match self.at(i)? {
            Value::Blob(b) => Ok(b.clone()),
            other => Err(StoreError::Decode(format!(
                "column {i} is not bytes: {other:?}"
            ))),
        }
    }
}
