//! Resident writes for the sync rules: a new resident, an edit's locked read,
//! field values and their clocks, the conflict history, the photo history.

use super::read::{ResidentRow, resident_columns};
use crate::engine::on_tx;
use crate::photos::RecordKind;
use crate::{Engine, Result, Tx, new_id};

/// A resident as pushed, checked and in stored form.
#[derive(Debug, Clone)]
pub struct NewResident<'a> {
    pub id: &'a str,
    pub household_id: &'a str,
    pub name: &'a str,
    pub gender: &'a str,
    pub birth_date: &'a str,
    pub id_number: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub registration_type: &'a str,
    pub tags: Vec<&'a str>,
    pub at: i64,
}

/// A resident as stored, with the grid of its household now.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ResidentState {
    #[sqlx(flatten)]
    pub resident: ResidentRow,
    pub grid_id: String,
}

/// The text columns an edit may set (`moved_out` is set as a boolean).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    Name,
    Gender,
    BirthDate,
    IdNumber,
    Phone,
    RegistrationType,
    HouseholdId,
    Photo,
}

impl Column {
    /// Column names come from this fixed list, never from a request.
    fn update_sql(self) -> &'static str {
        match self {
            Column::Name => "UPDATE residents SET name = $1 WHERE id = $2",
            Column::Gender => "UPDATE residents SET gender = $1 WHERE id = $2",
            Column::BirthDate => "UPDATE residents SET birth_date = $1 WHERE id = $2",
            Column::IdNumber => "UPDATE residents SET id_number = $1 WHERE id = $2",
            Column::Phone => "UPDATE residents SET phone = $1 WHERE id = $2",
            Column::RegistrationType => "UPDATE residents SET registration_type = $1 WHERE id = $2",
            Column::HouseholdId => "UPDATE residents SET household_id = $1 WHERE id = $2",
            Column::Photo => "UPDATE residents SET photo = $1 WHERE id = $2",
        }
    }
}

/// The (device time, op id) of the edit that set a field's current value.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct FieldClock {
    pub field: String,
    pub updated_at: i64,
    pub op_id: String,
}

/// A value that did not end up in the record, kept for a lead to review.
#[derive(Debug, Clone, Copy)]
pub struct HistoryEntry<'a> {
    pub resident_id: &'a str,
    pub field: &'a str,
    pub old_value: Option<&'a str>,
    pub new_value: Option<&'a str>,
    /// `incoming` (the pushed value won) or `server` (the stored one stayed).
    pub winner: &'a str,
    pub op_id: &'a str,
    pub user_id: &'a str,
    pub at: i64,
}

/// A profile photo set by an edit.
#[derive(Debug, Clone, Copy)]
pub struct PhotoSet<'a> {
    pub resident_id: &'a str,
    pub photo: &'a str,
    pub set_by: &'a str,
    pub taken_at: i64,
    pub op_id: &'a str,
}

const INSERT_RESIDENT: &str = "INSERT INTO residents (id, household_id, name, gender, birth_date, id_number, phone,
                            registration_type, moved_out, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, FALSE, $9, $9) ON CONFLICT (id) DO NOTHING";
const INSERT_TAG: &str = "INSERT INTO resident_tags (resident_id, tag) VALUES ($1, $2) ON CONFLICT DO NOTHING";

macro_rules! resident_state_sql {
    () => {
        concat!(
            "SELECT ",
            resident_columns!(),
            ", b.grid_id
             FROM residents r JOIN households h ON h.id = r.household_id JOIN buildings b ON b.id = h.building_id
             WHERE r.id = $1"
        )
    };
}
const RESIDENT_STATE: &str = resident_state_sql!();
const RESIDENT_STATE_FOR_UPDATE: &str = concat!(resident_state_sql!(), " FOR UPDATE OF r");

const SET_CLOCK: &str =
    "INSERT INTO resident_field_clock (resident_id, field, updated_at, op_id) VALUES ($1, $2, $3, $4)
     ON CONFLICT (resident_id, field) DO UPDATE SET updated_at = excluded.updated_at, op_id = excluded.op_id
     WHERE (excluded.updated_at, excluded.op_id) > (resident_field_clock.updated_at, resident_field_clock.op_id)";
const INSERT_HISTORY: &str =
    "INSERT INTO resident_history (id, resident_id, field, old_value, new_value, winner, op_id, user_id, at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
const INSERT_PHOTO: &str =
    "INSERT INTO resident_photos (resident_id, photo, set_by, taken_at, op_id) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT DO NOTHING";

impl Tx {
    /// The household a resident lives in, if the resident exists.
    pub async fn resident_household(&mut self, resident_id: &str) -> Result<Option<String>> {
        on_tx!(self, |c| sqlx::query_scalar(
            "SELECT household_id FROM residents WHERE id = $1"
        )
        .bind(resident_id)
        .fetch_optional(&mut *c)
        .await)
    }

    /// Stores a new resident with its tags. `false`: the id is on file already
    /// (then nothing is written); a concurrent push of the same resident waits
    /// here for the other transaction and then finds its row.
    pub async fn insert_resident(&mut self, resident: &NewResident<'_>) -> Result<bool> {
        let inserted = on_tx!(self, |c| sqlx::query(INSERT_RESIDENT)
            .bind(resident.id)
            .bind(resident.household_id)
            .bind(resident.name)
            .bind(resident.gender)
            .bind(resident.birth_date)
            .bind(resident.id_number)
            .bind(resident.phone)
            .bind(resident.registration_type)
            .bind(resident.at)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        if inserted == 0 {
            return Ok(false);
        }
        for tag in &resident.tags {
            on_tx!(self, |c| sqlx::query(INSERT_TAG)
                .bind(resident.id)
                .bind(tag)
                .execute(&mut *c)
                .await
                .map(|r| r.rows_affected()))?;
        }
        Ok(true)
    }

    /// Reads a resident for an edit, which decides from what it reads: no other
    /// edit of this resident may write in between until this transaction ends.
    ///
    /// The engines differ here. PostgreSQL locks the resident's row (`FOR
    /// UPDATE OF r`); a concurrent edit waits, then reads what this one wrote.
    /// SQLite has no `FOR UPDATE` and needs none: the op's first statement
    /// (its `applied_ops` claim) already took SQLite's single write lock.
    pub async fn lock_resident(&mut self, resident_id: &str) -> Result<Option<ResidentState>> {
        let sql = match self.engine() {
            Engine::Postgres => RESIDENT_STATE_FOR_UPDATE,
            Engine::Sqlite => RESIDENT_STATE,
        };
        on_tx!(self, |c| sqlx::query_as(sql)
            .bind(resident_id)
            .fetch_optional(&mut *c)
            .await)
    }

    /// The grid a resident is in now (an edit may have moved it).
    pub async fn resident_grid(&mut self, resident_id: &str) -> Result<Option<String>> {
        on_tx!(self, |c| sqlx::query_scalar(
            "SELECT b.grid_id FROM residents r JOIN households h ON h.id = r.household_id
                 JOIN buildings b ON b.id = h.building_id
             WHERE r.id = $1"
        )
        .bind(resident_id)
        .fetch_optional(&mut *c)
        .await)
    }

    /// Each field's clock; a field without a row was never edited.
    pub async fn field_clocks(&mut self, resident_id: &str) -> Result<Vec<FieldClock>> {
        on_tx!(self, |c| sqlx::query_as(
            "SELECT field, updated_at, op_id FROM resident_field_clock WHERE resident_id = $1"
        )
        .bind(resident_id)
        .fetch_all(&mut *c)
        .await)
    }

    /// Sets a field's clock to (`updated_at`, `op_id`), never moving it back.
    pub async fn set_field_clock(
        &mut self,
        resident_id: &str,
        field: &str,
        updated_at: i64,
        op_id: &str,
    ) -> Result<()> {
        on_tx!(self, |c| sqlx::query(SET_CLOCK)
            .bind(resident_id)
            .bind(field)
            .bind(updated_at)
            .bind(op_id)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn set_resident_text(&mut self, resident_id: &str, column: Column, value: Option<&str>) -> Result<()> {
        on_tx!(self, |c| sqlx::query(column.update_sql())
            .bind(value)
            .bind(resident_id)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn set_resident_moved_out(&mut self, resident_id: &str, moved_out: bool) -> Result<()> {
        on_tx!(self, |c| sqlx::query(
            "UPDATE residents SET moved_out = $1 WHERE id = $2"
        )
        .bind(moved_out)
        .bind(resident_id)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Marks a resident changed at `at` (server time).
    pub async fn touch_resident(&mut self, resident_id: &str, at: i64) -> Result<()> {
        on_tx!(self, |c| sqlx::query(
            "UPDATE residents SET updated_at = $1 WHERE id = $2"
        )
        .bind(at)
        .bind(resident_id)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn keep_history(&mut self, entry: HistoryEntry<'_>) -> Result<()> {
        on_tx!(self, |c| sqlx::query(INSERT_HISTORY)
            .bind(new_id())
            .bind(entry.resident_id)
            .bind(entry.field)
            .bind(entry.old_value)
            .bind(entry.new_value)
            .bind(entry.winner)
            .bind(entry.op_id)
            .bind(entry.user_id)
            .bind(entry.at)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Keeps a profile photo on file, also once replaced: the photo history;
    /// a photo named for the first time is bound to the resident.
    pub async fn keep_resident_photo(&mut self, set: PhotoSet<'_>) -> Result<()> {
        on_tx!(self, |c| sqlx::query(INSERT_PHOTO)
            .bind(set.resident_id)
            .bind(set.photo)
            .bind(set.set_by)
            .bind(set.taken_at)
            .bind(set.op_id)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        self.bind_photo(set.photo, RecordKind::Resident, set.resident_id, set.taken_at)
            .await
    }
}
