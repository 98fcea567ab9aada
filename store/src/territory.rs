//! The administrative chain (`streets`, `communities`, `grids`, `buildings`):
//! the "my grids" list with its coverage bars, a grid's buildings and door
//! search, a building's heading.

use crate::engine::on_pool;
use crate::{Ids, Result, Store};

/// A grid with its running figures, for the "my grids" cards.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct GridSummaryRow {
    pub id: String,
    pub name: String,
    pub community_name: String,
    pub buildings: i64,
    pub households: i64,
    /// Living residents (moved-out ones are kept on file, not counted).
    pub residents: i64,
    /// Households with at least one living key-group resident.
    pub key_households: i64,
    /// Households visited since the `since` given.
    pub visited: i64,
}

/// A grid's name and community, for a page heading.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct GridHeadingRow {
    pub id: String,
    pub name: String,
    pub community_name: String,
}

/// A building card on a grid page.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BuildingSummaryRow {
    pub id: String,
    pub number: i64,
    pub name: String,
    pub units: i64,
    pub floors: i64,
    pub households: i64,
    /// Households visited since the `since` given.
    pub visited: i64,
    pub key_households: i64,
}

/// A building with its grid, for the building page.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BuildingRow {
    pub id: String,
    pub grid_id: String,
    pub grid_name: String,
    pub name: String,
    pub address: String,
    pub units: i64,
    pub floors: i64,
    pub doors_per_floor: i64,
}

/// A household found by door search.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DoorHitRow {
    pub id: String,
    pub building_name: String,
    pub unit: i64,
    pub door_number: String,
    /// Living residents.
    pub residents: i64,
}

/// The door looked for; `None` parts match any building or unit.
#[derive(Debug, Clone, Copy)]
pub struct DoorSearch<'a> {
    pub building_number: Option<i64>,
    pub unit: Option<i64>,
    pub door_number: &'a str,
}

const GRID_SUMMARIES: &str = "SELECT g.id, g.name, c.name AS community_name,
       (SELECT COUNT(*) FROM buildings b WHERE b.grid_id = g.id) AS buildings,
       (SELECT COUNT(*) FROM households h JOIN buildings b ON b.id = h.building_id
          WHERE b.grid_id = g.id) AS households,
       (SELECT COUNT(*) FROM residents r JOIN households h ON h.id = r.household_id
          JOIN buildings b ON b.id = h.building_id
          WHERE b.grid_id = g.id AND NOT r.moved_out) AS residents,
       (SELECT COUNT(DISTINCT r.household_id) FROM resident_tags t
          JOIN residents r ON r.id = t.resident_id
          JOIN households h ON h.id = r.household_id
          JOIN buildings b ON b.id = h.building_id
          WHERE b.grid_id = g.id AND NOT r.moved_out) AS key_households,
       (SELECT COUNT(DISTINCT v.household_id) FROM visits v
          JOIN households h ON h.id = v.household_id
          JOIN buildings b ON b.id = h.building_id
          WHERE b.grid_id = g.id AND v.visited_at >= $2) AS visited
     FROM grids g JOIN communities c ON c.id = g.community_id
     WHERE g.id = ANY($1)
     ORDER BY g.name, g.id";

const GRID_HEADING: &str = "SELECT g.id, g.name, c.name AS community_name
     FROM grids g JOIN communities c ON c.id = g.community_id WHERE g.id = $1";

const GRID_NAMES: &str = "SELECT id, name FROM grids WHERE id = ANY($1)";

const GRID_BUILDINGS: &str = "SELECT b.id, b.number, b.name, b.units, b.floors,
       (SELECT COUNT(*) FROM households h WHERE h.building_id = b.id) AS households,
       (SELECT COUNT(DISTINCT v.household_id) FROM visits v
          JOIN households h ON h.id = v.household_id
          WHERE h.building_id = b.id AND v.visited_at >= $2) AS visited,
       (SELECT COUNT(DISTINCT r.household_id) FROM resident_tags t
          JOIN residents r ON r.id = t.resident_id
          JOIN households h ON h.id = r.household_id
          WHERE h.building_id = b.id AND NOT r.moved_out) AS key_households
     FROM buildings b WHERE b.grid_id = $1 ORDER BY b.number";

// A NULL building or unit matches any; the CASTs give PostgreSQL the type
// that `$n IS NULL` alone does not tell it.
const DOOR_SEARCH: &str = "SELECT h.id, b.name AS building_name, h.unit, h.door_number,
       (SELECT COUNT(*) FROM residents r WHERE r.household_id = h.id AND NOT r.moved_out) AS residents
     FROM households h JOIN buildings b ON b.id = h.building_id
     WHERE b.grid_id = $1
       AND (CAST($2 AS BIGINT) IS NULL OR b.number = $2)
       AND (CAST($3 AS BIGINT) IS NULL OR h.unit = $3)
       AND h.door_number = $4
     ORDER BY b.number, h.unit, h.door_number
     LIMIT $5";

const BUILDING: &str = "SELECT b.id, b.grid_id, g.name AS grid_name, b.name, b.address,
            b.units, b.floors, b.doors_per_floor
     FROM buildings b JOIN grids g ON g.id = b.grid_id WHERE b.id = $1";

impl Store {
    /// The grids given, by name, each with its figures; visits count from
    /// `since` (epoch ms). One query for the whole list, whatever its length.
    pub async fn grid_summaries(&self, grid_ids: &[String], since: i64) -> Result<Vec<GridSummaryRow>> {
        let sql = self.primary().sql(GRID_SUMMARIES);
        on_pool!(self.primary(), |c| sqlx::query_as(sql)
            .bind(Ids(grid_ids))
            .bind(since)
            .fetch_all(c)
            .await)
    }

    pub async fn grid_heading(&self, grid_id: &str) -> Result<Option<GridHeadingRow>> {
        on_pool!(self.primary(), |c| sqlx::query_as(GRID_HEADING)
            .bind(grid_id)
            .fetch_optional(c)
            .await)
    }

    /// `(id, name)` of those of the ids that name a grid, in no particular order.
    pub async fn grid_names(&self, grid_ids: &[String]) -> Result<Vec<(String, String)>> {
        let sql = self.primary().sql(GRID_NAMES);
        on_pool!(self.primary(), |c| sqlx::query_as(sql)
            .bind(Ids(grid_ids))
            .fetch_all(c)
            .await)
    }

    /// A grid's buildings by number, each with its figures; visits count from
    /// `since` (epoch ms).
    pub async fn grid_buildings(&self, grid_id: &str, since: i64) -> Result<Vec<BuildingSummaryRow>> {
        on_pool!(self.primary(), |c| sqlx::query_as(GRID_BUILDINGS)
            .bind(grid_id)
            .bind(since)
            .fetch_all(c)
            .await)
    }

    /// The first `limit` households of a grid at the door looked for.
    pub async fn find_doors(&self, grid_id: &str, door: DoorSearch<'_>, limit: i64) -> Result<Vec<DoorHitRow>> {
        on_pool!(self.primary(), |c| sqlx::query_as(DOOR_SEARCH)
            .bind(grid_id)
            .bind(door.building_number)
            .bind(door.unit)
            .bind(door.door_number)
            .bind(limit)
            .fetch_all(c)
            .await)
    }

    pub async fn building(&self, building_id: &str) -> Result<Option<BuildingRow>> {
        on_pool!(self.primary(), |c| sqlx::query_as(BUILDING)
            .bind(building_id)
            .fetch_optional(c)
            .await)
    }
}
