//! Spreadsheet imports: what is there already (read once per import, by
//! natural key: a grid by name in its community, a building by name in its
//! grid, a household by unit and door in its building, a resident by ID
//! number), and the writes a checked file turns into, applied in one
//! transaction. Every record written enters the change feed of its grid, so
//! phones receive it by pull.

use crate::bulk::{BuildingRow, CommunityRow, GridRow, HouseholdRow, ResidentRow, ResidentTagRow, StreetRow};
use crate::engine::{on_pool, on_tx};
use crate::{Ids, Result, Store, Tx};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct KnownCommunity {
    pub id: String,
    pub street_id: String,
    pub name: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct KnownGrid {
    pub id: String,
    pub community_id: String,
    pub name: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct KnownBuilding {
    pub id: String,
    pub grid_id: String,
    pub number: i64,
    pub name: String,
    pub address: String,
    pub units: i64,
    pub floors: i64,
    pub doors_per_floor: i64,
    pub footprint: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct KnownHousehold {
    pub id: String,
    pub building_id: String,
    pub unit: i64,
    pub floor: i64,
    pub door_number: String,
}

/// A resident with where they live and their tags (joined with ",").
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct KnownResident {
    pub id: String,
    pub household_id: String,
    pub grid_id: String,
    pub community_id: String,
    pub name: String,
    pub gender: String,
    pub birth_date: String,
    pub id_number: Option<String>,
    pub phone: Option<String>,
    pub registration_type: String,
    pub moved_out: bool,
    pub tags: String,
}

/// The territory of one community, or of all (`community` empty).
#[derive(Debug, Clone, Default)]
pub struct Territory {
    pub communities: Vec<KnownCommunity>,
    pub grids: Vec<KnownGrid>,
    pub buildings: Vec<KnownBuilding>,
    pub households: Vec<KnownHousehold>,
}

/// A building's new shape or name, as the file gives it.
#[derive(Debug, Clone)]
pub struct BuildingUpdate {
    pub id: String,
    pub grid_id: String,
    pub address: String,
    pub units: i64,
    pub floors: i64,
    pub doors_per_floor: i64,
    pub footprint: String,
}

/// A resident's fields as the file gives them; `household_id` differs from
/// the stored one for a move.
#[derive(Debug, Clone)]
pub struct ResidentUpdate {
    pub row: ResidentRow,
    pub grid_id: String,
    /// The fields that changed (their names as in the edit history), for the
    /// per-field clocks that decide later conflicts with phones.
    pub fields: Vec<&'static str>,
    pub tags: Vec<String>,
}

/// Everything one import writes.
#[derive(Debug, Clone, Default)]
pub struct Writes {
    pub streets: Vec<StreetRow>,
    pub communities: Vec<CommunityRow>,
    pub grids: Vec<GridRow>,
    pub buildings: Vec<BuildingRow>,
    pub building_updates: Vec<BuildingUpdate>,
    /// New households with their grid's id.
    pub households: Vec<(HouseholdRow, String)>,
    /// (household id, floor, grid id).
    pub household_floors: Vec<(String, i64, String)>,
    /// New residents with their grid's id.
    pub residents: Vec<(ResidentRow, String)>,
    pub resident_tags: Vec<ResidentTagRow>,
    pub resident_updates: Vec<ResidentUpdate>,
}

const COMMUNITIES: &str = "SELECT id, street_id, name FROM communities WHERE $1 = '' OR id = $1 ORDER BY name";
const GRIDS: &str = "SELECT id, community_id, name FROM grids WHERE $1 = '' OR community_id = $1";
const BUILDINGS: &str =
    "SELECT b.id, b.grid_id, b.number, b.name, b.address, b.units, b.floors, b.doors_per_floor, b.footprint
     FROM buildings b JOIN grids g ON g.id = b.grid_id WHERE $1 = '' OR g.community_id = $1";
const HOUSEHOLDS: &str = "SELECT h.id, h.building_id, h.unit, h.floor, h.door_number
     FROM households h JOIN buildings b ON b.id = h.building_id JOIN grids g ON g.id = b.grid_id
     WHERE $1 = '' OR g.community_id = $1";
/// Residents with their grid, community and tags, under a condition; the
/// tags aggregated in each engine's way.
macro_rules! residents_where {
    (postgres, $where:literal) => {
        residents_where!(@ "string_agg(t.tag, ',' ORDER BY t.tag) FROM resident_tags t WHERE t.resident_id = r.id", $where)
    };
    (sqlite, $where:literal) => {
        residents_where!(@ "group_concat(tag, ',') FROM (SELECT t.tag FROM resident_tags t WHERE t.resident_id = r.id ORDER BY t.tag)", $where)
    };
    (@ $tags:literal, $where:literal) => {
        concat!(
            "SELECT r.id, r.household_id, g.id AS grid_id, g.community_id, r.name, r.gender, r.birth_date,
                    r.id_number, r.phone, r.registration_type, r.moved_out, COALESCE((SELECT ", $tags, "), '') AS tags
             FROM residents r JOIN households h ON h.id = r.household_id JOIN buildings b ON b.id = h.building_id
             JOIN grids g ON g.id = b.grid_id ", $where
        )
    };
}
const RESIDENTS_PG: &str = residents_where!(postgres, "WHERE $1 = '' OR g.community_id = $1");
const RESIDENTS_SQLITE: &str = residents_where!(sqlite, "WHERE $1 = '' OR g.community_id = $1");
const MOVING_IN_PG: &str = residents_where!(postgres, "WHERE r.id_number = ANY($1) AND g.community_id <> $2");
const MOVING_IN_SQLITE: &str = residents_where!(sqlite, "WHERE r.id_number = ANY($1) AND g.community_id <> $2");

const UPDATE_BUILDING: &str =
    "UPDATE buildings SET address = $2, units = $3, floors = $4, doors_per_floor = $5, footprint = $6 WHERE id = $1";
const SET_FOOTPRINT: &str = "UPDATE buildings SET footprint = $2 WHERE id = $1";
const UPDATE_FLOOR: &str = "UPDATE households SET floor = $2, updated_at = $3 WHERE id = $1";
const UPDATE_RESIDENT: &str = "UPDATE residents SET household_id = $2, name = $3, gender = $4, birth_date = $5,
            id_number = $6, phone = $7, registration_type = $8, moved_out = FALSE, updated_at = $9 WHERE id = $1";
const CLEAR_TAGS: &str = "DELETE FROM resident_tags WHERE resident_id = $1";
const INSERT_TAG: &str = "INSERT INTO resident_tags (resident_id, tag) VALUES ($1, $2)";
// The import is an edit at its own time: a phone's older edit of the same
// field, pushed later, loses to it (and is kept in history), as between phones.
const CLOCK: &str = "INSERT INTO resident_field_clock (resident_id, field, updated_at, op_id) VALUES ($1, $2, $3, $4)
     ON CONFLICT (resident_id, field) DO UPDATE SET updated_at = excluded.updated_at, op_id = excluded.op_id";

/// A file kept for its confirmation.
#[derive(Debug, Clone, Copy)]
pub struct NewUpload<'a> {
    pub id: &'a str,
    pub user_id: &'a str,
    pub kind: &'a str,
    pub file_name: &'a str,
    pub content: &'a [u8],
    pub at: i64,
}

/// A file between its dry run and its import.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UploadRow {
    pub kind: String,
    pub file_name: String,
    pub content: Vec<u8>,
}

const INSERT_UPLOAD: &str =
    "INSERT INTO import_uploads (id, user_id, kind, file_name, content, created_at) VALUES ($1, $2, $3, $4, $5, $6)";
// Only the person who uploaded a file may import it.
const UPLOAD: &str = "SELECT kind, file_name, content FROM import_uploads WHERE id = $1 AND user_id = $2";
const DELETE_UPLOAD: &str = "DELETE FROM import_uploads WHERE id = $1";
const DELETE_OLD_UPLOADS: &str = "DELETE FROM import_uploads WHERE created_at < $1";

impl Store {
    /// Keeps an uploaded file for its confirmation, and drops those older than `expired_before`.
    pub async fn keep_upload(&self, upload: NewUpload<'_>, expired_before: i64) -> Result<()> {
        on_pool!(self.primary(), |c| {
            sqlx::query(DELETE_OLD_UPLOADS).bind(expired_before).execute(c).await?;
            sqlx::query(INSERT_UPLOAD)
                .bind(upload.id)
                .bind(upload.user_id)
                .bind(upload.kind)
                .bind(upload.file_name)
                .bind(upload.content)
                .bind(upload.at)
                .execute(c)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    pub async fn upload(&self, id: &str, user_id: &str) -> Result<Option<UploadRow>> {
        on_pool!(self.primary(), |c| sqlx::query_as(UPLOAD)
            .bind(id)
            .bind(user_id)
            .fetch_optional(c)
            .await)
    }

    /// What exists in one community (or all, `community` empty), by natural key.
    pub async fn import_territory(&self, community: &str) -> Result<Territory> {
        let pool = self.primary();
        let communities = on_pool!(pool, |c| sqlx::query_as(COMMUNITIES).bind(community).fetch_all(c).await)?;
        let grids = on_pool!(pool, |c| sqlx::query_as(GRIDS).bind(community).fetch_all(c).await)?;
        let buildings = on_pool!(pool, |c| sqlx::query_as(BUILDINGS).bind(community).fetch_all(c).await)?;
        let households = on_pool!(pool, |c| sqlx::query_as(HOUSEHOLDS).bind(community).fetch_all(c).await)?;
        Ok(Territory {
            communities,
            grids,
            buildings,
            households,
        })
    }

    /// The residents of a community (all, `community` empty), and anyone
    /// anywhere with one of `id_numbers` (someone moving in from elsewhere).
    pub async fn import_residents(&self, community: &str, id_numbers: &[String]) -> Result<Vec<KnownResident>> {
        let (in_community, moving_in) = match self.engine() {
            crate::Engine::Sqlite => (RESIDENTS_SQLITE, MOVING_IN_SQLITE),
            crate::Engine::Postgres => (RESIDENTS_PG, MOVING_IN_PG),
        };
        let pool = self.primary();
        let mut rows: Vec<KnownResident> = on_pool!(pool, |c| sqlx::query_as(in_community)
            .bind(community)
            .fetch_all(c)
            .await)?;
        if !community.is_empty() && !id_numbers.is_empty() {
            let by_number = pool.sql(moving_in);
            let elsewhere: Vec<KnownResident> = on_pool!(pool, |c| sqlx::query_as(by_number)
                .bind(Ids(id_numbers))
                .bind(community)
                .fetch_all(c)
                .await)?;
            rows.extend(elsewhere);
        }
        Ok(rows)
    }
}

impl Tx {
    /// The file is imported: it goes, with the import's transaction.
    /// `false`: the upload was gone already (applied by a request a moment before).
    pub async fn drop_upload(&mut self, id: &str) -> Result<bool> {
        let dropped = on_tx!(self, |c| sqlx::query(DELETE_UPLOAD)
            .bind(id)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(dropped == 1)
    }

    /// A building's surveyed outline; the phones of its grid receive it by pull.
    pub async fn set_footprint(&mut self, id: &str, grid_id: &str, footprint: &str, at: i64) -> Result<()> {
        on_tx!(self, |c| sqlx::query(SET_FOOTPRINT)
            .bind(id)
            .bind(footprint)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        self.record_change("building", id, grid_id, at);
        Ok(())
    }

    /// Writes a checked import; the caller commits it with its audit row.
    pub async fn apply_import(&mut self, writes: &Writes, at: i64, op_id: &str) -> Result<()> {
        self.insert_bulk(&writes.streets).await?;
        self.insert_bulk(&writes.communities).await?;
        self.insert_bulk(&writes.grids).await?;
        self.insert_bulk(&writes.buildings).await?;
        for b in &writes.buildings {
            self.record_change("building", &b.id, &b.grid_id, at);
        }
        for b in &writes.building_updates {
            on_tx!(self, |c| sqlx::query(UPDATE_BUILDING)
                .bind(&b.id)
                .bind(&b.address)
                .bind(b.units)
                .bind(b.floors)
                .bind(b.doors_per_floor)
                .bind(&b.footprint)
                .execute(&mut *c)
                .await
                .map(|r| r.rows_affected()))?;
            self.record_change("building", &b.id, &b.grid_id, at);
        }
        let households: Vec<HouseholdRow> = writes.households.iter().map(|(h, _)| h.clone()).collect();
        self.insert_bulk(&households).await?;
        for (h, grid) in &writes.households {
            self.record_change("household", &h.id, grid, at);
        }
        for (id, floor, grid) in &writes.household_floors {
            on_tx!(self, |c| sqlx::query(UPDATE_FLOOR)
                .bind(id)
                .bind(floor)
                .bind(at)
                .execute(&mut *c)
                .await
                .map(|r| r.rows_affected()))?;
            self.record_change("household", id, grid, at);
        }
        let rows: Vec<ResidentRow> = writes.residents.iter().map(|(r, _)| r.clone()).collect();
        self.insert_bulk(&rows).await?;
        self.insert_bulk(&writes.resident_tags).await?;
        for (r, grid) in &writes.residents {
            self.record_change("resident", &r.id, grid, at);
        }
        for u in &writes.resident_updates {
            let r = &u.row;
            // Read before the write: a resident moved to another household may
            // have left its grid, whose phones must then drop it.
            let from = match u.fields.contains(&"household_id") {
                true => self.resident_grid(&r.id).await?,
                false => None,
            };
            on_tx!(self, |c| {
                sqlx::query(UPDATE_RESIDENT)
                    .bind(&r.id)
                    .bind(&r.household_id)
                    .bind(&r.name)
                    .bind(&r.gender)
                    .bind(&r.birth_date)
                    .bind(&r.id_number)
                    .bind(&r.phone)
                    .bind(&r.registration_type)
                    .bind(at)
                    .execute(&mut *c)
                    .await?;
                sqlx::query(CLEAR_TAGS).bind(&r.id).execute(&mut *c).await?;
                for tag in &u.tags {
                    sqlx::query(INSERT_TAG).bind(&r.id).bind(tag).execute(&mut *c).await?;
                }
                for field in &u.fields {
                    sqlx::query(CLOCK)
                        .bind(&r.id)
                        .bind(*field)
                        .bind(at)
                        .bind(op_id)
                        .execute(&mut *c)
                        .await?;
                }
                Ok::<_, sqlx::Error>(())
            })?;
            let from = from.as_deref().unwrap_or(&u.grid_id);
            self.record_move("resident", &r.id, from, &u.grid_id, at);
        }
        Ok(())
    }
}
