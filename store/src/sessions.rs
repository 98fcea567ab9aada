//! Users, their sessions and their grid assignments (`users`, `sessions`,
//! `user_grids`). Always on the primary: a session is read right after it is
//! written, and a replica's lag must never resurrect an ended one.

use crate::audit::{self, Entry};
use crate::engine::{on_pool, on_tx};
use crate::{Ids, Result, Store, Tx};

/// The user behind a live session.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionUserRow {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub community_id: Option<String>,
    pub must_change_password: bool,
    /// Set when the account is disabled (0: at an unknown time): the session
    /// is refused, with that said.
    pub disabled_at: Option<i64>,
    pub last_seen_at: i64,
}

/// What checking a password needs.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LoginRow {
    pub id: String,
    pub password_hash: String,
}

// A disabled user's sessions are still found, so that their phone can be
// told why it is refused; enabling the account again ends them.
/// A session about to be opened: what its owner will recognise it by.
#[derive(Debug, Clone, Copy)]
pub struct NewSession<'a> {
    pub token_hash: &'a str,
    pub expires_at: i64,
    pub client: &'a str,
    pub user_agent: &'a str,
}

const SESSION_USER: &str = "SELECT u.id, u.username, u.display_name, u.role, u.community_id,
            u.must_change_password,
            CASE WHEN u.disabled THEN COALESCE(u.disabled_at, 0) END AS disabled_at, s.last_seen_at
     FROM sessions s JOIN users u ON u.id = s.user_id
     WHERE s.token_hash = $1 AND s.expires_at > $2 AND s.last_seen_at > $3";
const TOUCH_SESSION: &str = "UPDATE sessions SET last_seen_at = $2 WHERE token_hash = $1";
const LOGIN: &str = "SELECT id, password_hash FROM users WHERE username = $1 AND NOT disabled";
const INSERT_SESSION: &str =
    "INSERT INTO sessions (token_hash, user_id, created_at, expires_at, last_seen_at, client, user_agent)
     VALUES ($1, $2, $3, $4, $3, $5, $6)";
// Served by the `sessions_expires` index.
const DELETE_EXPIRED: &str = "DELETE FROM sessions WHERE expires_at < $1";
const DELETE_SESSION: &str = "DELETE FROM sessions WHERE token_hash = $1 RETURNING user_id";
const CLEAR_USER_GRIDS: &str = "DELETE FROM user_grids WHERE user_id = $1";
// Ids that name no grid insert nothing; callers check them first.
const ASSIGN_USER_GRIDS: &str = "INSERT INTO user_grids (user_id, grid_id) SELECT $1, id FROM grids WHERE id = ANY($2)";

impl Store {
    /// `None` when the session is unknown, expired, or unused since
    /// `idle_since`; the caller refuses a disabled user's.
    pub async fn session_user(&self, token_hash: &str, now: i64, idle_since: i64) -> Result<Option<SessionUserRow>> {
        on_pool!(self.primary(), |c| sqlx::query_as(SESSION_USER)
            .bind(token_hash)
            .bind(now)
            .bind(idle_since)
            .fetch_optional(c)
            .await)
    }

    /// Notes that the session was used (callers do it at most every few
    /// minutes, not on every request).
    pub async fn touch_session(&self, token_hash: &str, now: i64) -> Result<()> {
        on_pool!(self.primary(), |c| sqlx::query(TOUCH_SESSION)
            .bind(token_hash)
            .bind(now)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// An enabled user by login name.
    pub async fn login_candidate(&self, username: &str) -> Result<Option<LoginRow>> {
        on_pool!(self.primary(), |c| sqlx::query_as(LOGIN)
            .bind(username)
            .fetch_optional(c)
            .await)
    }

    /// Stores a new session with its sign-in in the audit log, in one
    /// transaction (neither without the other), and drops the expired
    /// sessions while at it: a login is a rare enough moment to tidy up.
    pub async fn open_session(&self, session: NewSession<'_>, sign_in: Entry<'_>) -> Result<()> {
        on_pool!(self.primary(), |c| {
            let mut tx = c.begin().await?;
            sqlx::query(INSERT_SESSION)
                .bind(session.token_hash)
                .bind(sign_in.user_id)
                .bind(sign_in.at)
                .bind(session.expires_at)
                .bind(session.client)
                .bind(session.user_agent)
                .execute(&mut *tx)
                .await?;
            audit::bind(sqlx::query(audit::INSERT), sign_in)
                .execute(&mut *tx)
                .await?;
            sqlx::query(DELETE_EXPIRED).bind(sign_in.at).execute(&mut *tx).await?;
            tx.commit().await
        })?;
        Ok(())
    }

    /// Logging out ends the session on the server, not just in the browser,
    /// and records the sign-out (`user_id` of the entry is filled in from the
    /// session; nothing is recorded for a session that was not there).
    pub async fn close_session(&self, token_hash: &str, sign_out: Entry<'_>) -> Result<()> {
        on_pool!(self.primary(), |c| {
            let mut tx = c.begin().await?;
            let user: Option<String> = sqlx::query_scalar(DELETE_SESSION)
                .bind(token_hash)
                .fetch_optional(&mut *tx)
                .await?;
            if let Some(user_id) = &user {
                let entry = Entry { user_id, ..sign_out };
                audit::bind(sqlx::query(audit::INSERT), entry).execute(&mut *tx).await?;
            }
            tx.commit().await
        })?;
        Ok(())
    }
}

impl Tx {
    /// The worker's grids become exactly these, in the caller's transaction
    /// (beside its audit row): a sync in between sees the old set or the
    /// new one, never none.
    pub async fn set_user_grids(&mut self, user_id: &str, grid_ids: &[String]) -> Result<()> {
        let assign = self.sql(ASSIGN_USER_GRIDS);
        on_tx!(self, |c| {
            sqlx::query(CLEAR_USER_GRIDS).bind(user_id).execute(&mut *c).await?;
            sqlx::query(assign)
                .bind(user_id)
                .bind(Ids(grid_ids))
                .execute(&mut *c)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(())
    }
}
