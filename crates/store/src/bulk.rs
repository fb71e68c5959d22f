//! Many rows per statement: the bulk writes of import and snapshot restore.
//!
//! One `insert … values (…), (…), …` per batch instead of one statement per row: on SQLite this
//! saves the per-statement overhead, on PostgreSQL a round trip per row. A batch stays well below
//! both engines' limit on bound parameters (32,766 on SQLite, 65,535 on PostgreSQL).

use crate::{Conn, StoreError, Value};
use std::collections::HashMap;

/// Rows per statement for a table of `columns` columns.
pub(crate) fn batch_rows(columns: usize) -> usize {
    (30_000 / columns.max(1)).clamp(1, 500)
}

fn statement(table: &str, columns: &[String], rows: usize, suffix: &str) -> String {
    let n = columns.len();
    let mut sql = String::with_capacity(64 + rows * n * 6);
    sql.push_str("insert into ");
    sql.push_str(table);
    sql.push_str(" (");
    sql.push_str(&columns.join(", "));
    sql.push_str(") values ");
    let mut p = 0;
    for r in 0..rows {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for col in 0..n {
            if col > 0 {
                sql.push_str(", ");
            }
            p += 1;
            sql.push('$');
            sql.push_str(&p.to_string());
        }
        sql.push(')');
    }
    if !suffix.is_empty() {
        sql.push(' ');
        sql.push_str(suffix);
    }
    sql
}

/// Inserts `rows` (each with one value per column of `columns`) into `table`, `suffix` (e.g. an
/// `on conflict … do update`) appended to every statement. `done` hears how many rows each
/// statement wrote. Returns the number of rows.
pub(crate) fn insert_rows(
    c: &mut dyn Conn,
    table: &str,
    columns: &[String],
    rows: Vec<Vec<Value>>,
    suffix: &str,
    done: &mut dyn FnMut(usize),
) -> Result<u64, StoreError> {
    let per = batch_rows(columns.len());
    let mut sql_for: HashMap<usize, String> = HashMap::new();
    let mut total = 0_u64;
    let mut params: Vec<Value> = Vec::with_capacity(per * columns.len());
    let mut in_batch = 0;
    let mut it = rows.into_iter().peekable();
    while let Some(row) = it.next() {
        if row.len() != columns.len() {
            return Err(StoreError::Decode(format!(
                "a row for {table} has {} values for {} columns",
                row.len(),
                columns.len()
            )));
        }
        params.extend(row);
        in_batch += 1;
        if in_batch == per || it.peek().is_none() {
            let sql = sql_for
                .entry(in_batch)
                .or_insert_with(|| statement(table, columns, in_batch, suffix));
            c.execute(sql, &params)?;
            params.clear();
            total += in_batch as u64;
            done(in_batch);
            in_batch = 0;
        }
    }
    Ok(total)
}

/// The `on conflict (id) do update set …` clause that rewrites every column but `id`.
pub(crate) fn upsert_by_id(columns: &[String]) -> String {
    let sets: Vec<String> = columns
        .iter()
        .filter(|c| c.as_str() != "id")
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    format!("on conflict (id) do update set {}", sets.join(", "))
}

/// Orders `rows` so that a row comes after the row its `ref_col` points at (by `id_col`), when
/// that row is among them; rows pointing outside keep their relative order. Cycles are broken
/// arbitrarily (the caller rejects them beforehand when they matter).
pub(crate) fn parents_first(ids: &[&str], refs: &[Option<&str>]) -> Vec<usize> {
    let index: HashMap<&str, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    let mut state = vec![0_u8; ids.len()]; // 0 new, 1 on the stack, 2 placed
    let mut order = Vec::with_capacity(ids.len());
    let mut stack: Vec<usize> = Vec::new();
    for start in 0..ids.len() {
        if state[start] != 0 {
            continue;
        }
        // Walk up the chain of parents, then place from the top down.
        let mut at = start;
        loop {
            state[at] = 1;
            stack.push(at);
            match refs[at].and_then(|r| index.get(r).copied()) {
                Some(p) if state[p] == 0 => at = p,
                _ => break,
            }
        }
        while let Some(i) = stack.pop() {
            state[i] = 2;
            order.push(i);
        }
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_number_placeholders_row_by_row() {
        let cols = vec!["a".to_owned(), "b".to_owned()];
        assert_eq!(
            statement("t", &cols, 2, "on conflict (id) do nothing"),
            "insert into t (a, b) values ($1, $2), ($3, $4) on conflict (id) do nothing"
        );
    }

    #[test]
    fn parents_come_first() {
        let ids = ["a", "b", "c", "d"];
        let refs = [Some("b"), Some("c"), None, Some("zz")];
        let order = parents_first(&ids, &refs);
        let pos = |x: usize| order.iter().position(|&i| i == x).unwrap();
        assert_eq!(order.len(), 4);
        assert!(pos(2) < pos(1) && pos(1) < pos(0));
        let cyclic = parents_first(&["a", "b"], &[Some("b"), Some("a")]);
        assert_eq!(cyclic.len(), 2);
    }
}
