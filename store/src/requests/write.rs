//! Request writes, inside the transaction of one action: the new request, the
//! locked read an action decides from, the state it leaves, its timeline line
//! and photos, the rating codes.

use crate::engine::on_tx;
use crate::photos::RecordKind;
use crate::{Engine, Result, Tx};

/// A request as first recorded, checked by the caller.
#[derive(Debug, Clone)]
pub struct NewRequest<'a> {
    pub id: &'a str,
    pub source: &'a str,
    pub community_id: &'a str,
    pub grid_id: Option<&'a str>,
    pub household_id: Option<&'a str>,
    pub building_id: Option<&'a str>,
    pub visit_id: Option<&'a str>,
    pub place: &'a str,
    pub contact_phone: Option<&'a str>,
    pub category: &'a str,
    pub text: &'a str,
    /// The person who took it (首问); none for a resident's own submission.
    pub first_contact: Option<&'a str>,
    pub created_at: i64,
    pub respond_due: i64,
    pub resolve_due: i64,
    pub receipt_hash: Option<&'a str>,
    pub submitter_key: Option<&'a str>,
}

const INSERT_REQUEST: &str = "INSERT INTO requests (id, source, community_id, grid_id, household_id, building_id,
        visit_id, place, contact_phone, category, text, status, first_contact, created_by, created_at, respond_due,
        resolve_due, receipt_hash, submitter_key, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'received', $12, $12, $13, $14, $15, $16, $17, $13)
     ON CONFLICT (id) DO NOTHING";

/// What an action may change of a request, read under lock and written back
/// whole.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RequestState {
    pub id: String,
    pub community_id: String,
    pub grid_id: Option<String>,
    pub household_id: Option<String>,
    pub category: String,
    pub status: String,
    pub first_contact: Option<String>,
    pub created_at: i64,
    pub respond_due: i64,
    pub resolve_due: i64,
    pub responded_at: Option<i64>,
    pub assignee_id: Option<String>,
    pub assignee_unit: Option<String>,
    pub resolved_at: Option<i64>,
    pub resolution: Option<String>,
    pub followed_up_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub satisfaction: Option<String>,
    pub reopen_count: i64,
    pub merged_into: Option<String>,
    pub decline_reason: Option<String>,
    pub receipt_hash: Option<String>,
}

macro_rules! state_sql {
    () => {
        "SELECT id, community_id, grid_id, household_id, category, status, first_contact, created_at, respond_due,
                resolve_due, responded_at, assignee_id, assignee_unit, resolved_at, resolution, followed_up_at,
                closed_at, satisfaction, reopen_count, merged_into, decline_reason, receipt_hash
         FROM requests WHERE id = $1"
    };
}
const STATE: &str = state_sql!();
const STATE_FOR_UPDATE: &str = concat!(state_sql!(), " FOR UPDATE");

const SAVE_STATE: &str = "UPDATE requests SET grid_id = $2, status = $3, resolve_due = $4, responded_at = $5,
        assignee_id = $6, assignee_unit = $7, resolved_at = $8, resolution = $9, followed_up_at = $10,
        closed_at = $11, satisfaction = $12, reopen_count = $13, merged_into = $14, decline_reason = $15,
        receipt_hash = $16, updated_at = $17
     WHERE id = $1";

/// One line of the timeline.
#[derive(Debug, Clone)]
pub struct NewEvent<'a> {
    pub id: &'a str,
    pub request_id: &'a str,
    pub at: i64,
    pub user_id: Option<&'a str>,
    pub action: &'a str,
    pub from_status: Option<&'a str>,
    pub to_status: &'a str,
    pub note: &'a str,
    pub photos: &'a [String],
}

/// A rating code registered by the phone that made it.
#[derive(Debug, Clone, Copy)]
pub struct NewToken<'a> {
    pub token_hash: &'a str,
    pub request_id: &'a str,
    pub created_by: &'a str,
    pub created_at: i64,
    pub expires_at: i64,
}

impl Tx {
    /// The grid of a building, if it exists.
    pub async fn building_grid(&mut self, building_id: &str) -> Result<Option<String>> {
        on_tx!(self, |c| sqlx::query_scalar(
            "SELECT grid_id FROM buildings WHERE id = $1"
        )
        .bind(building_id)
        .fetch_optional(&mut *c)
        .await)
    }

    /// The community a grid belongs to, if the grid exists.
    pub async fn grid_community(&mut self, grid_id: &str) -> Result<Option<String>> {
        on_tx!(self, |c| sqlx::query_scalar(
            "SELECT community_id FROM grids WHERE id = $1"
        )
        .bind(grid_id)
        .fetch_optional(&mut *c)
        .await)
    }

    /// `false`: a request with this id is on file already (a re-sent op).
    pub async fn insert_request(&mut self, r: &NewRequest<'_>) -> Result<bool> {
        let inserted = on_tx!(self, |c| sqlx::query(INSERT_REQUEST)
            .bind(r.id)
            .bind(r.source)
            .bind(r.community_id)
            .bind(r.grid_id)
            .bind(r.household_id)
            .bind(r.building_id)
            .bind(r.visit_id)
            .bind(r.place)
            .bind(r.contact_phone)
            .bind(r.category)
            .bind(r.text)
            .bind(r.first_contact)
            .bind(r.created_at)
            .bind(r.respond_due)
            .bind(r.resolve_due)
            .bind(r.receipt_hash)
            .bind(r.submitter_key)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(inserted == 1)
    }

    /// Reads a request for an action, which decides from what it reads: no
    /// other action on it may write in between. As `lock_resident`:
    /// PostgreSQL locks the row; on SQLite the transaction's first write (the
    /// op's claim, or the caller's) already holds the single write lock.
    pub async fn lock_request(&mut self, id: &str) -> Result<Option<RequestState>> {
        let sql = match self.engine() {
            Engine::Postgres => STATE_FOR_UPDATE,
            Engine::Sqlite => STATE,
        };
        on_tx!(self, |c| sqlx::query_as(sql).bind(id).fetch_optional(&mut *c).await)
    }

    /// Writes back what an action changed, and queues the change for the
    /// phones of its grid (and of the grid it left, which must drop it).
    pub async fn save_request(&mut self, state: &RequestState, left_grid: Option<&str>, at: i64) -> Result<()> {
        on_tx!(self, |c| sqlx::query(SAVE_STATE)
            .bind(&state.id)
            .bind(&state.grid_id)
            .bind(&state.status)
            .bind(state.resolve_due)
            .bind(state.responded_at)
            .bind(&state.assignee_id)
            .bind(&state.assignee_unit)
            .bind(state.resolved_at)
            .bind(&state.resolution)
            .bind(state.followed_up_at)
            .bind(state.closed_at)
            .bind(&state.satisfaction)
            .bind(state.reopen_count)
            .bind(&state.merged_into)
            .bind(&state.decline_reason)
            .bind(&state.receipt_hash)
            .bind(at)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        if let Some(grid) = &state.grid_id {
            self.record_change("request", &state.id, grid, at);
        }
        if let Some(left) = left_grid.filter(|l| state.grid_id.as_deref() != Some(*l)) {
            self.record_change("request", &state.id, left, at);
        }
        Ok(())
    }

    /// A line of the timeline, with its photos (bound to the request when
    /// named for the first time).
    pub async fn insert_request_event(&mut self, e: &NewEvent<'_>) -> Result<()> {
        on_tx!(self, |c| sqlx::query(
            "INSERT INTO request_events (id, request_id, at, user_id, action, from_status, to_status, note)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        )
        .bind(e.id)
        .bind(e.request_id)
        .bind(e.at)
        .bind(e.user_id)
        .bind(e.action)
        .bind(e.from_status)
        .bind(e.to_status)
        .bind(e.note)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
        for (position, photo) in (0_i64..).zip(e.photos) {
            on_tx!(self, |c| sqlx::query(
                "INSERT INTO request_photos (request_id, event_id, photo, position) VALUES ($1, $2, $3, $4)"
            )
            .bind(e.request_id)
            .bind(e.id)
            .bind(photo)
            .bind(position)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
            self.bind_photo(photo, RecordKind::Request, e.request_id, e.at).await?;
        }
        Ok(())
    }

    /// `false`: the code is registered already (a re-sent op).
    pub async fn insert_rating_token(&mut self, t: NewToken<'_>) -> Result<bool> {
        let inserted = on_tx!(self, |c| sqlx::query(
            "INSERT INTO rating_tokens (token_hash, request_id, created_by, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (token_hash) DO NOTHING"
        )
        .bind(t.token_hash)
        .bind(t.request_id)
        .bind(t.created_by)
        .bind(t.created_at)
        .bind(t.expires_at)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(inserted == 1)
    }

    /// Spends a rating code: `false` if it was spent already (by a
    /// concurrent rating that won), so a code rates once.
    pub async fn spend_rating_token(&mut self, token_hash: &str, satisfaction: &str, at: i64) -> Result<bool> {
        let spent = on_tx!(self, |c| sqlx::query(
            "UPDATE rating_tokens SET used_at = $2, satisfaction = $3 WHERE token_hash = $1 AND used_at IS NULL"
        )
        .bind(token_hash)
        .bind(at)
        .bind(satisfaction)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(spent == 1)
    }

    /// Makes or edits a category. Codes are kept for good: a category no
    /// longer offered is disabled, so old requests keep their label.
    pub async fn save_request_category(&mut self, row: &super::CategoryRow) -> Result<()> {
        on_tx!(self, |c| sqlx::query(
            "INSERT INTO request_categories (code, label, respond_days, resolve_days, position, enabled)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (code) DO UPDATE SET label = excluded.label, respond_days = excluded.respond_days,
                 resolve_days = excluded.resolve_days, position = excluded.position, enabled = excluded.enabled"
        )
        .bind(&row.code)
        .bind(&row.label)
        .bind(row.respond_days)
        .bind(row.resolve_days)
        .bind(row.position)
        .bind(row.enabled)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }
}
