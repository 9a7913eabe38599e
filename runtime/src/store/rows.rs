//! Small helpers around libSQL rows.

use crate::Result;
use libsql::params::IntoParams;
use libsql::{Connection, Row};

/// The first row mapped by `map`, if any.
pub(crate) async fn query_opt<T>(
    conn: &Connection,
    sql: &str,
    params: impl IntoParams,
    map: impl Fn(&Row) -> Result<T>,
) -> Result<Option<T>> {
    let mut rows = conn.query(sql, params).await?;
    match rows.next().await? {
        Some(row) => Ok(Some(map(&row)?)),
        None => Ok(None),
    }
}

/// Every row mapped by `map`.
pub(crate) async fn query_all<T>(
    conn: &Connection,
    sql: &str,
    params: impl IntoParams,
    map: impl Fn(&Row) -> Result<T>,
) -> Result<Vec<T>> {
    let mut rows = conn.query(sql, params).await?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().await? {
        out.push(map(&row)?);
    }
    Ok(out)
}

/// A single integer (0 when the query returns no row or NULL).
pub(crate) async fn query_i64(
    conn: &Connection,
    sql: &str,
    params: impl IntoParams,
) -> Result<i64> {
    Ok(
        query_opt(conn, sql, params, |r| Ok(r.get::<Option<i64>>(0)?))
            .await?
            .flatten()
            .unwrap_or(0),
    )
}

/// True when the query returns a row.
pub(crate) async fn exists(conn: &Connection, sql: &str, params: impl IntoParams) -> Result<bool> {
    let mut rows = conn.query(sql, params).await?;
    Ok(rows.next().await?.is_some())
}

/// `true` when a libSQL error is a UNIQUE constraint violation.
pub(crate) fn is_unique_violation(e: &libsql::Error) -> bool {
    e.to_string().contains("UNIQUE constraint failed")
}
