//! Visit writes (`visits` and what a visit brings with it: `visit_residents`,
//! `visit_photos`, `visit_concerns`), inside a push's transaction. Requests
//! raised at the door are written by `requests`.

use crate::engine::on_tx;
use crate::photos::RecordKind;
use crate::{Result, Tx};

/// A visit as pushed, checked by the caller.
#[derive(Debug, Clone)]
pub struct NewVisit<'a> {
    pub id: &'a str,
    pub household_id: &'a str,
    pub worker_id: &'a str,
    pub visited_at: i64,
    pub visit_type: &'a str,
    pub outcome: &'a str,
    pub notes: &'a str,
    pub created_at: i64,
    /// Ids of the residents met at the door.
    pub residents_seen: &'a [String],
    /// Photo hashes, in the order taken.
    pub photos: &'a [String],
    pub concerns: Vec<&'a str>,
}

const INSERT_VISIT: &str =
    "INSERT INTO visits (id, household_id, worker_id, visited_at, visit_type, outcome, notes, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING";
const INSERT_RESIDENT: &str =
    "INSERT INTO visit_residents (visit_id, resident_id) VALUES ($1, $2) ON CONFLICT DO NOTHING";
const INSERT_PHOTO: &str =
    "INSERT INTO visit_photos (visit_id, photo, position) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING";
const INSERT_CONCERN: &str = "INSERT INTO visit_concerns (visit_id, concern) VALUES ($1, $2) ON CONFLICT DO NOTHING";

impl Tx {
    /// The grid a household belongs to, if the household exists: the scope
    /// check of every op that names a household.
    pub async fn household_grid(&mut self, household_id: &str) -> Result<Option<String>> {
        on_tx!(self, |c| sqlx::query_scalar(
            "SELECT b.grid_id FROM households h JOIN buildings b ON b.id = h.building_id WHERE h.id = $1"
        )
        .bind(household_id)
        .fetch_optional(&mut *c)
        .await)
    }

    /// Stores a visit with its residents, photos (bound to it when named for
    /// the first time) and concerns.
    /// `false`: a visit with this id is on file already and stays as it is
    /// (visits are facts, never edited; this one was re-sent).
    pub async fn insert_visit(&mut self, visit: &NewVisit<'_>) -> Result<bool> {
        let inserted = on_tx!(self, |c| sqlx::query(INSERT_VISIT)
            .bind(visit.id)
            .bind(visit.household_id)
            .bind(visit.worker_id)
            .bind(visit.visited_at)
            .bind(visit.visit_type)
            .bind(visit.outcome)
            .bind(visit.notes)
            .bind(visit.created_at)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        if inserted == 0 {
            return Ok(false);
        }
        self.insert_visit_details(visit).await?;
        Ok(true)
    }

    async fn insert_visit_details(&mut self, visit: &NewVisit<'_>) -> Result<()> {
        for resident_id in visit.residents_seen {
            self.insert_pair(INSERT_RESIDENT, visit.id, resident_id).await?;
        }
        for concern in &visit.concerns {
            self.insert_pair(INSERT_CONCERN, visit.id, concern).await?;
        }
        for (position, photo) in (0_i64..).zip(visit.photos) {
            on_tx!(self, |c| sqlx::query(INSERT_PHOTO)
                .bind(visit.id)
                .bind(photo)
                .bind(position)
                .execute(&mut *c)
                .await
                .map(|r| r.rows_affected()))?;
            self.bind_photo(photo, RecordKind::Visit, visit.id, visit.created_at)
                .await?;
        }
        Ok(())
    }

    /// A row of a visit's link table: (visit id, value).
    async fn insert_pair(&mut self, sql: &'static str, visit_id: &str, value: &str) -> Result<()> {
        on_tx!(self, |c| sqlx::query(sql)
            .bind(visit_id)
            .bind(value)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }
}
