//! One page of a list: a compiled filter, an order, `limit`/`offset` in SQL and a `count(*)` only
//! when it is asked for.

use crate::{Conn, Row, StoreError, Value};
use gatehouse_filter::SqlFragment;

/// What a list asks for. The filter's placeholders follow the list function's own parameters
/// (each list function says where its filter starts, usually `$2` after the tenant).
#[derive(Clone, Debug, Default)]
pub struct ListQuery {
    /// The compiled `filters`.
    pub filter: Option<SqlFragment>,
    /// ` order by …` as rendered by `gatehouse_filter::order_by_sql` (empty: the list's default).
    pub order_by: String,
    /// Rows to return.
    pub limit: i64,
    /// Rows to skip.
    pub offset: i64,
    /// Also count every matching row.
    pub count: bool,
}

impl ListQuery {
    /// Every row, in the list's default order (for internal callers and tests).
    pub fn all() -> Self {
        Self {
            limit: i64::MAX,
            ..Self::default()
        }
    }
}

/// A page of rows and, when asked, the number of rows matching the filter.
#[derive(Clone, Debug, PartialEq)]
pub struct Page<T> {
    /// The rows.
    pub items: Vec<T>,
    /// Every matching row, ignoring `limit` and `offset` (`None` unless `count` was asked).
    pub total: Option<i64>,
}

/// Runs `select {columns} from {from} where {base} [and filter] {order} limit … offset …`, and the
/// count when asked. `params` bind the placeholders of `base`; the filter's follow them.
#[allow(clippy::too_many_arguments)] // the parts of one select, named at each call
pub(crate) fn page<T>(
    c: &mut dyn Conn,
    columns: &str,
    from: &str,
    base: &str,
    params: Vec<Value>,
    q: ListQuery,
    default_order: &str,
    decode: impl Fn(&Row) -> Result<T, StoreError>,
) -> Result<Page<T>, StoreError> {
    select_page(
        c,
        None,
        columns,
        from,
        base,
        params,
        q,
        default_order,
        decode,
    )
}

/// As [`page`], for a list whose rows are found by the unique column `key` (`r.id`) in an index
/// that also serves its order: on PostgreSQL a page past the first selects the page's keys first
/// and then reads only those rows, so the rows skipped by `offset` are skipped in the index (an
/// index-only scan where the table is vacuumed) instead of being read from the table: 250 rows at
/// offset 100,000 read 100,250 rows from the table before. SQLite reads the skipped rows from its
/// covering index already.
#[allow(clippy::too_many_arguments)] // the parts of one select, named at each call
pub(crate) fn page_by_key<T>(
    c: &mut dyn Conn,
    key: &str,
    columns: &str,
    from: &str,
    base: &str,
    params: Vec<Value>,
    q: ListQuery,
    default_order: &str,
    decode: impl Fn(&Row) -> Result<T, StoreError>,
) -> Result<Page<T>, StoreError> {
    select_page(
        c,
        Some(key),
        columns,
        from,
        base,
        params,
        q,
        default_order,
        decode,
    )
}

#[allow(clippy::too_many_arguments)]
fn select_page<T>(
    c: &mut dyn Conn,
    key: Option<&str>,
    columns: &str,
    from: &str,
    base: &str,
    mut params: Vec<Value>,
    q: ListQuery,
    default_order: &str,
    decode: impl Fn(&Row) -> Result<T, StoreError>,
) -> Result<Page<T>, StoreError> {
    let mut cond = base.to_owned();
    if let Some(f) = q.filter {
        cond.push_str(" and ");
        cond.push_str(&f.sql);
        params.extend(f.params.into_iter().map(Value::from));
    }
    let total = if q.count {
        Some(
            c.query_one(
                &format!("select count(*) from {from} where {cond}"),
                &params,
            )?
            .int(0)?,
        )
    } else {
        None
    };
    let order = if q.order_by.is_empty() {
        default_order
    } else {
        q.order_by.as_str()
    };
    let keys_first = key
        .filter(|_| q.offset > 0 && q.limit < i64::MAX && c.dialect() == crate::Dialect::Postgres);
    let shown = match keys_first {
        Some(key) => key,
        None => columns,
    };
    let mut sql = format!("select {shown} from {from} where {cond}{order}");
    if q.limit < i64::MAX {
        sql.push_str(&format!(" limit {}", q.limit.max(0)));
    }
    if q.offset > 0 {
        if q.limit == i64::MAX {
            // SQLite needs a limit before an offset; -1 is "no limit" there, `all` on PostgreSQL.
            sql.push_str(match c.dialect() {
                crate::Dialect::Sqlite => " limit -1",
                crate::Dialect::Postgres => " limit all",
            });
        }
        sql.push_str(&format!(" offset {}", q.offset));
    }
    if let Some(key) = keys_first {
        // The same conditions again (the tenant above all), on the page's rows only.
        sql = format!(
            "select {columns} from {from} where {cond} and {key} = any(array({sql})){order}"
        );
    }
    let items = if q.limit == 0 {
        Vec::new()
    } else {
        c.query(&sql, &params)?
            .iter()
            .map(decode)
            .collect::<Result<_, _>>()?
    };
    Ok(Page { items, total })
}

/// `$n, $n+1, …` for `count` values starting at placeholder `first`.
/// Membership in a set of ids bound as one JSON array at placeholder `$n`, as the SQL that follows
/// the column (`id {id_set}`): the statement's text is the same whatever the number of ids, so it
/// is prepared once and cached, and a long list never runs out of placeholders. On PostgreSQL the
/// set is an array (`= any(array(…))`), which the planner looks up in the column's index; a
/// subquery after `in` it joined against a scan of the whole table. Bind [`id_set_value`] at `$n`.
pub(crate) fn id_set(c: &dyn Conn, n: usize) -> String {
    match c.dialect() {
        crate::Dialect::Sqlite => format!("in (select value from json_each(${n}))"),
        crate::Dialect::Postgres => {
            format!("= any(array(select json_array_elements_text(${n}::text::json)))")
        }
    }
}

/// `{column} = $1`, the tenant test of a query that finds rows by an [`id_set`], written so that
/// SQLite does not answer it from an index that starts with the tenant: without statistics SQLite
/// takes an equality on an index's first column for a few rows, while in a tenant it is all of
/// them, and it walked the whole tenant instead of looking the ids up.
pub(crate) fn tenant_is_1(c: &dyn Conn, column: &str) -> String {
    match c.dialect() {
        crate::Dialect::Sqlite => format!("+{column} = $1"),
        crate::Dialect::Postgres => format!("{column} = $1"),
    }
}

/// The value [`id_set`] binds: the ids as one JSON array.
pub(crate) fn id_set_value<S: AsRef<str>>(ids: impl IntoIterator<Item = S>) -> Value {
    let ids: Vec<String> = ids.into_iter().map(|s| s.as_ref().to_owned()).collect();
    Value::Text(serde_json::Value::from(ids).to_string())
}

pub(crate) fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A reference to another object: its id and (when it still exists) its name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ref {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
}

/// Something that uses an object and so stops it from being deleted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Usage {
    /// What kind of thing (`access profile`, `role`, `source`, `assignment`…).
    pub kind: &'static str,
    /// Its id.
    pub id: String,
    /// Its name (for assignments, the holder's name).
    pub name: String,
}

/// Reads `(kind, id, name)` rows of a usage query.
pub(crate) fn usages(
    c: &mut dyn Conn,
    kind: &'static str,
    sql: &str,
    params: &[Value],
) -> Result<Vec<Usage>, StoreError> {
    c.query(sql, params)?
        .iter()
        .map(|r| {
            Ok(Usage {
                kind,
                id: r.text(0)?,
                name: r.opt_text(1)?.unwrap_or_default(),
            })
        })
        .collect()
}

/// The ids among `ids` that no row of `table` (in `tenant_id`) has.
pub(crate) fn missing(
    c: &mut dyn Conn,
    table: &str,
    tenant_id: &str,
    ids: &[String],
) -> Result<Vec<String>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let params: Vec<Value> = vec![tenant_id.into(), id_set_value(ids)];
    let found: Vec<String> = c
        .query(
            &format!(
                "select id from {table} where {} and id {}",
                tenant_is_1(c, "tenant_id"),
                id_set(c, 2)
            ),
            &params,
        )?
        .iter()
        .map(|r| r.text(0))
        .collect::<Result<_, _>>()?;
    Ok(ids
        .iter()
        .filter(|id| !found.contains(id))
        .cloned()
        .collect())
}
