//! Login and request limits (`login_failures`, `rate_windows`), kept in the
//! database so that every server instance behind a proxy sees the same counts.
//! Always on the primary: a count read from a lagging replica would let an
//! attacker through.

use crate::engine::on_pool;
use crate::{Ids, Result, Store};

/// A key's failed logins inside the window.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FailureCount {
    pub key: String,
    pub failures: i64,
    /// The oldest failure still counted: the lockout ends a window after it.
    pub first_at: i64,
}

const FAILURES: &str = "SELECT key, CAST(COUNT(*) AS BIGINT) AS failures, MIN(at) AS first_at
     FROM login_failures WHERE key = ANY($1) AND at > $2 GROUP BY key";
const INSERT_FAILURE: &str = "INSERT INTO login_failures (key, at) VALUES ($1, $2)";
const DELETE_OLD_FAILURES: &str = "DELETE FROM login_failures WHERE at <= $1";
const CLEAR_FAILURES: &str = "DELETE FROM login_failures WHERE key = ANY($1)";
const HIT: &str = "INSERT INTO rate_windows (key, window_start, hits) VALUES ($1, $2, 1)
     ON CONFLICT (key, window_start) DO UPDATE SET hits = rate_windows.hits + 1
     RETURNING hits";
const DELETE_OLD_WINDOWS: &str = "DELETE FROM rate_windows WHERE window_start < $1";

impl Store {
    /// Failed logins per key since `since` (exclusive); keys without any are left out.
    pub async fn login_failures(&self, keys: &[String], since: i64) -> Result<Vec<FailureCount>> {
        let sql = self.primary().sql(FAILURES);
        on_pool!(self.primary(), |c| sqlx::query_as(sql)
            .bind(Ids(keys))
            .bind(since)
            .fetch_all(c)
            .await)
    }

    /// Counts a failed login against each key, and sweeps failures that fell
    /// out of every window (at or before `forget_before`) while at it.
    pub async fn record_login_failure(&self, keys: &[String], at: i64, forget_before: i64) -> Result<()> {
        on_pool!(self.primary(), |c| {
            for key in keys {
                sqlx::query(INSERT_FAILURE).bind(key).bind(at).execute(c).await?;
            }
            sqlx::query(DELETE_OLD_FAILURES)
                .bind(forget_before)
                .execute(c)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// Forgets the failures counted against these keys (a successful login's).
    pub async fn clear_login_failures(&self, keys: &[String]) -> Result<()> {
        let sql = self.primary().sql(CLEAR_FAILURES);
        on_pool!(self.primary(), |c| sqlx::query(sql)
            .bind(Ids(keys))
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Counts one request against `key` in the window starting at
    /// `window_start` and returns the window's count so far, this one
    /// included. The first request of a key's window also sweeps the windows
    /// before it (of every key): they can no longer matter.
    pub async fn hit(&self, key: &str, window_start: i64) -> Result<i64> {
        on_pool!(self.primary(), |c| {
            let hits: i64 = sqlx::query_scalar(HIT)
                .bind(key)
                .bind(window_start)
                .fetch_one(c)
                .await?;
            if hits == 1 {
                sqlx::query(DELETE_OLD_WINDOWS).bind(window_start).execute(c).await?;
            }
            Ok(hits)
        })
    }
}
