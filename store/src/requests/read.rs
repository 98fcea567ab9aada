//! Request reads: one request with its names, the ledger and its count, the
//! figures' rows, the timeline, the categories, the rows a pull sends.

use crate::engine::on_pool;
use crate::pull::Range;
use crate::{Ids, Result, Store};

/// A request with the names a page shows beside it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RequestRow {
    pub id: String,
    pub source: String,
    pub community_id: String,
    pub grid_id: Option<String>,
    pub grid_name: Option<String>,
    pub household_id: Option<String>,
    pub building_name: Option<String>,
    pub unit: Option<i64>,
    pub door_number: Option<String>,
    pub place: String,
    pub contact_phone: Option<String>,
    pub category: String,
    pub category_label: String,
    pub text: String,
    pub status: String,
    pub first_contact: Option<String>,
    pub first_contact_name: Option<String>,
    pub created_at: i64,
    pub respond_due: i64,
    pub resolve_due: i64,
    pub responded_at: Option<i64>,
    pub assignee_id: Option<String>,
    pub assignee_name: Option<String>,
    pub assignee_unit: Option<String>,
    pub resolved_at: Option<i64>,
    pub resolution: Option<String>,
    pub followed_up_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub satisfaction: Option<String>,
    pub reopen_count: i64,
    pub merged_into: Option<String>,
    pub decline_reason: Option<String>,
}

macro_rules! request_select {
    () => {
        "SELECT r.id, r.source, r.community_id, r.grid_id, g.name AS grid_name, r.household_id,
                b.name AS building_name, h.unit, h.door_number, r.place, r.contact_phone, r.category,
                c.label AS category_label, r.text, r.status, r.first_contact, fc.display_name AS first_contact_name,
                r.created_at, r.respond_due, r.resolve_due, r.responded_at, r.assignee_id,
                au.display_name AS assignee_name, r.assignee_unit, r.resolved_at, r.resolution, r.followed_up_at,
                r.closed_at, r.satisfaction, r.reopen_count, r.merged_into, r.decline_reason
         FROM requests r JOIN request_categories c ON c.code = r.category
              LEFT JOIN grids g ON g.id = r.grid_id
              LEFT JOIN households h ON h.id = r.household_id
              LEFT JOIN buildings b ON b.id = COALESCE(r.building_id, h.building_id)
              LEFT JOIN users fc ON fc.id = r.first_contact
              LEFT JOIN users au ON au.id = r.assignee_id "
    };
}

/// What the ledger lists; `None` is "any". Times are epoch ms.
#[derive(Debug, Clone, Default)]
pub struct LedgerQuery<'a> {
    /// `None` only for an admin: every community.
    pub community: Option<&'a str>,
    pub grid: Option<&'a str>,
    pub status: Option<&'a str>,
    pub category: Option<&'a str>,
    /// Assigned to this user, or taken by them (首问).
    pub worker: Option<&'a str>,
    /// Overdue at this instant: open and past a deadline.
    pub overdue_at: Option<i64>,
    /// Received in [since, until).
    pub since: i64,
    pub until: i64,
}

// The ledger's filters, `$1`..`$8` in `LedgerQuery`'s order.
macro_rules! ledger_where {
    () => {
        concat!(
            "WHERE ($1 IS NULL OR r.community_id = $1) AND ($2 IS NULL OR r.grid_id = $2)
               AND ($3 IS NULL OR r.status = $3) AND ($4 IS NULL OR r.category = $4)
               AND ($5 IS NULL OR r.assignee_id = $5 OR r.first_contact = $5)
               AND ($6 IS NULL OR (r.status IN ",
            open_states!(),
            " AND (r.resolve_due < $6 OR (r.responded_at IS NULL AND r.respond_due < $6))))
               AND r.created_at >= $7 AND r.created_at < $8 "
        )
    };
}

const LEDGER: &str = concat!(
    request_select!(),
    ledger_where!(),
    "ORDER BY r.created_at DESC, r.id DESC LIMIT $9 OFFSET $10"
);
const LEDGER_COUNT: &str = concat!("SELECT CAST(COUNT(*) AS BIGINT) FROM requests r ", ledger_where!());
const BY_ID: &str = concat!(request_select!(), "WHERE r.id = $1");
const BY_RECEIPT: &str = concat!(request_select!(), "WHERE r.receipt_hash = $1");
const OF_HOUSEHOLDS: &str = concat!(
    request_select!(),
    "WHERE r.household_id = ANY($1) ORDER BY r.created_at DESC"
);

/// What a figure needs of a request.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct FigureRow {
    pub grid_id: Option<String>,
    pub category: String,
    pub first_contact: Option<String>,
    pub assignee_id: Option<String>,
    pub status: String,
    pub created_at: i64,
    pub respond_due: i64,
    pub responded_at: Option<i64>,
    pub resolve_due: i64,
    pub resolved_at: Option<i64>,
    pub followed_up_at: Option<i64>,
    pub satisfaction: Option<String>,
    pub reopen_count: i64,
}

macro_rules! figure_select {
    () => {
        "SELECT grid_id, category, first_contact, assignee_id, status, created_at, respond_due,
                responded_at, resolve_due, resolved_at, followed_up_at, satisfaction, reopen_count
         FROM requests WHERE ($1 IS NULL OR community_id = $1) "
    };
}
const FIGURES: &str = concat!(figure_select!(), "AND created_at >= $2 AND created_at < $3");
const OPEN_FIGURES: &str = concat!(figure_select!(), "AND status IN ", open_states!());

/// One line of a request's timeline.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct EventRow {
    pub id: String,
    pub at: i64,
    pub user_name: Option<String>,
    pub action: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CategoryRow {
    pub code: String,
    pub label: String,
    pub respond_days: i64,
    pub resolve_days: i64,
    pub position: i64,
    pub enabled: bool,
}

/// A rating code with what its page may say of the request.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TokenRow {
    pub request_id: String,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    pub category_label: String,
    pub request_created_at: i64,
    pub status: String,
}

/// A request as the phones of its grid hold it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PulledRequest {
    pub seq: i64,
    pub id: String,
    pub grid_id: String,
    pub household_id: Option<String>,
    pub building_id: Option<String>,
    pub place: String,
    pub source: String,
    pub category: String,
    pub text: String,
    pub status: String,
    pub first_contact: Option<String>,
    pub assignee_id: Option<String>,
    pub assignee_name: Option<String>,
    pub assignee_unit: Option<String>,
    pub created_at: i64,
    pub resolve_due: i64,
    pub resolution: Option<String>,
    pub reopen_count: i64,
}

// The request's grid now, not at change time (the caller keeps only those in
// scope): one assigned to another grid must not reach the old grid's phones.
// Requests that ended before `$4` stay off the phones: there is nothing left
// to do on them at the door, and a phone holds no more than its work needs.
const PULLED: &str =
    "SELECT c.seq, r.id, r.grid_id, r.household_id, COALESCE(r.building_id, h.building_id) AS building_id,
        r.place, r.source, r.category, r.text, r.status, r.first_contact, r.assignee_id,
        u.display_name AS assignee_name, r.assignee_unit, r.created_at, r.resolve_due, r.resolution, r.reopen_count
     FROM changes c JOIN requests r ON r.id = c.entity_id
          LEFT JOIN households h ON h.id = r.household_id LEFT JOIN users u ON u.id = r.assignee_id
     WHERE c.entity = 'request' AND c.seq > $1 AND c.seq <= $2 AND c.grid_id = ANY($3)
       AND r.grid_id IS NOT NULL
       AND NOT (r.status IN ('closed', 'declined', 'merged') AND r.updated_at < $4)";

impl Store {
    pub async fn request(&self, id: &str) -> Result<Option<RequestRow>> {
        on_pool!(self.primary(), |c| sqlx::query_as(BY_ID)
            .bind(id)
            .fetch_optional(c)
            .await)
    }

    /// The request a resident's receipt code (its hash) names.
    pub async fn request_by_receipt(&self, receipt_hash: &str) -> Result<Option<RequestRow>> {
        on_pool!(self.primary(), |c| sqlx::query_as(BY_RECEIPT)
            .bind(receipt_hash)
            .fetch_optional(c)
            .await)
    }

    /// Every request of these households, newest first.
    pub async fn household_requests(&self, households: &[String]) -> Result<Vec<RequestRow>> {
        let sql = self.primary().sql(OF_HOUSEHOLDS);
        on_pool!(self.primary(), |c| sqlx::query_as(sql)
            .bind(Ids(households))
            .fetch_all(c)
            .await)
    }

    /// One page of the ledger, newest first.
    pub async fn request_ledger(&self, q: &LedgerQuery<'_>, limit: i64, offset: i64) -> Result<Vec<RequestRow>> {
        on_pool!(self.replica(), |c| sqlx::query_as(LEDGER)
            .bind(q.community)
            .bind(q.grid)
            .bind(q.status)
            .bind(q.category)
            .bind(q.worker)
            .bind(q.overdue_at)
            .bind(q.since)
            .bind(q.until)
            .bind(limit)
            .bind(offset)
            .fetch_all(c)
            .await)
    }

    pub async fn request_ledger_count(&self, q: &LedgerQuery<'_>) -> Result<i64> {
        on_pool!(self.replica(), |c| sqlx::query_scalar(LEDGER_COUNT)
            .bind(q.community)
            .bind(q.grid)
            .bind(q.status)
            .bind(q.category)
            .bind(q.worker)
            .bind(q.overdue_at)
            .bind(q.since)
            .bind(q.until)
            .fetch_one(c)
            .await)
    }

    /// The requests received in [since, until) (`community` `None`: all).
    pub async fn request_figure_rows(&self, community: Option<&str>, since: i64, until: i64) -> Result<Vec<FigureRow>> {
        on_pool!(self.replica(), |c| sqlx::query_as(FIGURES)
            .bind(community)
            .bind(since)
            .bind(until)
            .fetch_all(c)
            .await)
    }

    /// Every request still owed an outcome, whenever received.
    pub async fn open_request_rows(&self, community: Option<&str>) -> Result<Vec<FigureRow>> {
        on_pool!(self.replica(), |c| sqlx::query_as(OPEN_FIGURES)
            .bind(community)
            .fetch_all(c)
            .await)
    }

    /// A resident's own submissions since `since`, from one address (its
    /// key) or with one contact phone: the daily limits.
    pub async fn public_submissions_since(&self, key: &str, phone: Option<&str>, since: i64) -> Result<(i64, i64)> {
        on_pool!(self.primary(), |c| {
            let by_key = sqlx::query_scalar(
                "SELECT CAST(COUNT(*) AS BIGINT) FROM requests WHERE submitter_key = $1 AND created_at > $2",
            )
            .bind(key)
            .bind(since)
            .fetch_one(c)
            .await?;
            let by_phone = sqlx::query_scalar(
                "SELECT CAST(COUNT(*) AS BIGINT) FROM requests
                 WHERE source = 'public' AND contact_phone = $1 AND created_at > $2",
            )
            .bind(phone)
            .bind(since)
            .fetch_one(c)
            .await?;
            Ok((by_key, by_phone))
        })
    }

    /// (id, label) of a community's buildings, by number: where a resident
    /// may say their request is.
    pub async fn community_buildings(&self, community_id: &str) -> Result<Vec<(String, String)>> {
        on_pool!(self.replica(), |c| sqlx::query_as(
            "SELECT b.id, b.name FROM buildings b JOIN grids g ON g.id = b.grid_id
             WHERE g.community_id = $1 ORDER BY b.number, b.id"
        )
        .bind(community_id)
        .fetch_all(c)
        .await)
    }

    /// The timeline, oldest first.
    pub async fn request_events(&self, request_id: &str) -> Result<Vec<EventRow>> {
        on_pool!(self.primary(), |c| sqlx::query_as(
            "SELECT e.id, e.at, u.display_name AS user_name, e.action, e.from_status, e.to_status, e.note
             FROM request_events e LEFT JOIN users u ON u.id = e.user_id
             WHERE e.request_id = $1 ORDER BY e.at, e.id"
        )
        .bind(request_id)
        .fetch_all(c)
        .await)
    }

    /// Photos by timeline line: (event id, photo hash), in order.
    pub async fn request_photos(&self, request_id: &str) -> Result<Vec<(String, String)>> {
        on_pool!(self.primary(), |c| sqlx::query_as(
            "SELECT event_id, photo FROM request_photos WHERE request_id = $1 ORDER BY event_id, position"
        )
        .bind(request_id)
        .fetch_all(c)
        .await)
    }

    /// Every category, enabled or not, in the order they are offered.
    pub async fn request_categories(&self) -> Result<Vec<CategoryRow>> {
        on_pool!(self.primary(), |c| sqlx::query_as(
            "SELECT code, label, respond_days, resolve_days, position, enabled
             FROM request_categories ORDER BY position, code"
        )
        .fetch_all(c)
        .await)
    }

    pub async fn rating_token(&self, token_hash: &str) -> Result<Option<TokenRow>> {
        on_pool!(self.primary(), |c| sqlx::query_as(
            "SELECT t.request_id, t.expires_at, t.used_at, c.label AS category_label,
                    r.created_at AS request_created_at, r.status
             FROM rating_tokens t JOIN requests r ON r.id = t.request_id
                  JOIN request_categories c ON c.code = r.category
             WHERE t.token_hash = $1"
        )
        .bind(token_hash)
        .fetch_optional(c)
        .await)
    }

    /// The requests changed in a pull page's range, but those that ended
    /// before `ended_before`.
    pub async fn pulled_requests(&self, range: Range<'_>, ended_before: i64) -> Result<Vec<PulledRequest>> {
        let sql = self.primary().sql(PULLED);
        on_pool!(self.primary(), |c| sqlx::query_as(sql)
            .bind(range.after)
            .bind(range.upto)
            .bind(Ids(range.grids))
            .bind(ended_before)
            .fetch_all(c)
            .await)
    }
}
