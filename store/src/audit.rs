//! The PIPL access log: who read or changed which resident data, when. One
//! writer, on the pool or inside a write transaction.

use crate::engine::{on_pool, on_tx};
use crate::{Result, Store, Tx, new_id};

/// One row of `audit_log`.
#[derive(Debug, Clone, Copy)]
pub struct Entry<'a> {
    pub at: i64,
    pub user_id: &'a str,
    /// `read`, `create`, `update`, `denied`, `sign_in` or `sign_out`.
    pub action: &'a str,
    pub entity: &'a str,
    pub entity_id: &'a str,
    pub route: &'a str,
}

pub(crate) const INSERT: &str = "INSERT INTO audit_log (id, at, user_id, action, entity, entity_id, route)
                      VALUES ($1, $2, $3, $4, $5, $6, $7)";

impl Store {
    pub async fn audit(&self, entry: Entry<'_>) -> Result<()> {
        on_pool!(self.primary(), |c| bind(sqlx::query(INSERT), entry)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }
}

impl Tx {
    /// Inside a write transaction (a separate pool write would wait on this
    /// transaction's lock on SQLite).
    pub async fn audit(&mut self, entry: Entry<'_>) -> Result<()> {
        on_tx!(self, |c| bind(sqlx::query(INSERT), entry)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }
}

pub(crate) fn bind<'q, DB>(
    query: sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>,
    entry: Entry<'q>,
) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>
where
    DB: sqlx::Database,
    String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    query
        .bind(new_id())
        .bind(entry.at)
        .bind(entry.user_id)
        .bind(entry.action)
        .bind(entry.entity)
        .bind(entry.entity_id)
        .bind(entry.route)
}
