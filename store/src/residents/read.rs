//! Resident reads for the pages: a household's residents, one resident's
//! record, its overwritten values and its earlier photos.

use crate::engine::on_pool;
use crate::{Result, Store};

/// A resident as stored; ID and phone numbers whole, for the caller to mask.
/// The shape every resident read shares: the edit's locked read and the pull
/// embed it (`#[sqlx(flatten)]`) and select it with `resident_columns!`.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ResidentRow {
    pub id: String,
    pub household_id: String,
    pub name: String,
    pub gender: String,
    pub birth_date: String,
    pub id_number: Option<String>,
    pub phone: Option<String>,
    pub registration_type: String,
    pub moved_out: bool,
    /// The current profile photo's hash.
    pub photo: Option<String>,
}

/// The columns of a `ResidentRow`, from `residents` aliased `r`: a literal, for
/// `concat!` into a query that stays `&'static str`.
macro_rules! resident_columns {
    () => {
        "r.id, r.household_id, r.name, r.gender, r.birth_date, r.id_number, r.phone, r.registration_type,
         r.moved_out, r.photo"
    };
}
pub(crate) use resident_columns;

/// A value that lost (or was overwritten by) a concurrent edit, with who
/// pushed the edit.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ConflictRow {
    pub field: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    /// `incoming`: the pushed value won; `server`: the stored value stayed.
    pub winner: String,
    pub by_name: String,
    pub at: i64,
}

const RESIDENT: &str = concat!("SELECT ", resident_columns!(), " FROM residents r WHERE r.id = $1");

// Living residents first, then the eldest first by birth year: the phone
// holds the year only and lists a household offline in the same order.
const HOUSEHOLD_RESIDENTS: &str = concat!(
    "SELECT ",
    resident_columns!(),
    " FROM residents r WHERE r.household_id = $1
     ORDER BY r.moved_out, substr(r.birth_date, 1, 4), r.id"
);

const HOUSEHOLD_TAGS: &str = "SELECT t.resident_id, t.tag
     FROM resident_tags t JOIN residents r ON r.id = t.resident_id
     WHERE r.household_id = $1";

const RESIDENT_TAGS: &str = "SELECT tag FROM resident_tags WHERE resident_id = $1 ORDER BY tag";

const CONFLICTS: &str = "SELECT h.field, h.old_value, h.new_value, h.winner, u.display_name AS by_name, h.at
     FROM resident_history h JOIN users u ON u.id = h.user_id
     WHERE h.resident_id = $1 ORDER BY h.at DESC LIMIT $2";

const PHOTO_HISTORY: &str = "SELECT photo FROM resident_photos
     WHERE resident_id = $1 ORDER BY taken_at DESC, op_id DESC LIMIT $2";

impl Store {
    pub async fn resident(&self, resident_id: &str) -> Result<Option<ResidentRow>> {
        on_pool!(self.primary(), |c| sqlx::query_as(RESIDENT)
            .bind(resident_id)
            .fetch_optional(c)
            .await)
    }

    /// Everyone ever registered at the door, moved-out residents last.
    pub async fn household_residents(&self, household_id: &str) -> Result<Vec<ResidentRow>> {
        on_pool!(self.primary(), |c| sqlx::query_as(HOUSEHOLD_RESIDENTS)
            .bind(household_id)
            .fetch_all(c)
            .await)
    }

    /// `(resident_id, tag)` of the household's residents' key-group tags.
    pub async fn household_resident_tags(&self, household_id: &str) -> Result<Vec<(String, String)>> {
        on_pool!(self.primary(), |c| sqlx::query_as(HOUSEHOLD_TAGS)
            .bind(household_id)
            .fetch_all(c)
            .await)
    }

    pub async fn resident_tags(&self, resident_id: &str) -> Result<Vec<String>> {
        on_pool!(self.primary(), |c| sqlx::query_scalar(RESIDENT_TAGS)
            .bind(resident_id)
            .fetch_all(c)
            .await)
    }

    /// The resident's latest `limit` conflicting edits, newest first: kept for
    /// a lead to review.
    pub async fn resident_conflicts(&self, resident_id: &str, limit: i64) -> Result<Vec<ConflictRow>> {
        on_pool!(self.primary(), |c| sqlx::query_as(CONFLICTS)
            .bind(resident_id)
            .bind(limit)
            .fetch_all(c)
            .await)
    }

    /// The latest `limit` photos ever set for the resident, newest first (the
    /// current one included, unless a later edit removed it).
    pub async fn resident_photo_history(&self, resident_id: &str, limit: i64) -> Result<Vec<String>> {
        on_pool!(self.primary(), |c| sqlx::query_scalar(PHOTO_HISTORY)
            .bind(resident_id)
            .bind(limit)
            .fetch_all(c)
            .await)
    }
}
