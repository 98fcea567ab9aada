//! Households (doors) as the pages show them: a building's matrix of doors,
//! one household's heading and its recent visits.

use std::collections::HashMap;

use crate::engine::on_pool;
use crate::{Ids, Result, Store};

/// A household with its building and grid.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HouseholdHeadingRow {
    pub id: String,
    pub building_id: String,
    pub building_name: String,
    pub grid_id: String,
    pub grid_name: String,
    pub unit: i64,
    pub floor: i64,
    pub door_number: String,
}

/// One cell of a building's matrix.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DoorCellRow {
    pub id: String,
    pub unit: i64,
    pub floor: i64,
    pub door_number: String,
    /// Living residents.
    pub residents: i64,
    /// Whether a living resident has a key-group tag.
    pub key_group: bool,
    pub last_visit: Option<i64>,
}

/// A visit on a household page, with its photos in the order taken.
#[derive(Debug, Clone)]
pub struct RecentVisitRow {
    pub id: String,
    pub visited_at: i64,
    pub visit_type: String,
    pub outcome: String,
    pub worker_name: String,
    pub notes: String,
    pub photos: Vec<String>,
}

#[derive(sqlx::FromRow)]
struct VisitRow {
    id: String,
    visited_at: i64,
    visit_type: String,
    outcome: String,
    worker_name: String,
    notes: String,
}

const HOUSEHOLD_HEADING: &str = "SELECT h.id, h.building_id, b.name AS building_name, b.grid_id,
            g.name AS grid_name, h.unit, h.floor, h.door_number
     FROM households h JOIN buildings b ON b.id = h.building_id JOIN grids g ON g.id = b.grid_id
     WHERE h.id = $1";

const DOOR_CELLS: &str = "SELECT h.id, h.unit, h.floor, h.door_number,
       (SELECT COUNT(*) FROM residents r WHERE r.household_id = h.id AND NOT r.moved_out) AS residents,
       EXISTS (SELECT 1 FROM residents r JOIN resident_tags t ON t.resident_id = r.id
               WHERE r.household_id = h.id AND NOT r.moved_out) AS key_group,
       (SELECT MAX(v.visited_at) FROM visits v WHERE v.household_id = h.id) AS last_visit
     FROM households h WHERE h.building_id = $1
     ORDER BY h.unit, h.floor, h.door_number";

const LIVING_TAGS_IN_BUILDING: &str = "SELECT r.household_id, t.tag
     FROM residents r JOIN resident_tags t ON t.resident_id = r.id
     JOIN households h ON h.id = r.household_id
     WHERE h.building_id = $1 AND NOT r.moved_out";

const LAST_VISIT: &str = "SELECT MAX(visited_at) FROM visits WHERE household_id = $1";

const RECENT_VISITS: &str = "SELECT v.id, v.visited_at, v.visit_type, v.outcome,
            u.display_name AS worker_name, v.notes
     FROM visits v JOIN users u ON u.id = v.worker_id
     WHERE v.household_id = $1 ORDER BY v.visited_at DESC LIMIT $2";

const VISIT_PHOTOS: &str = "SELECT visit_id, photo FROM visit_photos
     WHERE visit_id = ANY($1) ORDER BY visit_id, position";

impl Store {
    pub async fn household_heading(&self, household_id: &str) -> Result<Option<HouseholdHeadingRow>> {
        on_pool!(self.primary(), |c| sqlx::query_as(HOUSEHOLD_HEADING)
            .bind(household_id)
            .fetch_optional(c)
            .await)
    }

    /// A building's doors, by unit, floor and door number.
    pub async fn door_cells(&self, building_id: &str) -> Result<Vec<DoorCellRow>> {
        on_pool!(self.primary(), |c| sqlx::query_as(DOOR_CELLS)
            .bind(building_id)
            .fetch_all(c)
            .await)
    }

    /// `(household_id, tag)` of every living resident's key-group tag in a
    /// building: what each door's visit cadence follows.
    pub async fn living_tags_in_building(&self, building_id: &str) -> Result<Vec<(String, String)>> {
        on_pool!(self.primary(), |c| sqlx::query_as(LIVING_TAGS_IN_BUILDING)
            .bind(building_id)
            .fetch_all(c)
            .await)
    }

    /// When the household was last visited, if ever.
    pub async fn last_visit(&self, household_id: &str) -> Result<Option<i64>> {
        on_pool!(self.primary(), |c| sqlx::query_scalar(LAST_VISIT)
            .bind(household_id)
            .fetch_one(c)
            .await)
    }

    /// The household's latest `limit` visits, newest first.
    pub async fn recent_visits(&self, household_id: &str, limit: i64) -> Result<Vec<RecentVisitRow>> {
        let photos_sql = self.primary().sql(VISIT_PHOTOS);
        let (visits, photos): (Vec<VisitRow>, Vec<(String, String)>) = on_pool!(self.primary(), |c| {
            let visits: Vec<VisitRow> = sqlx::query_as(RECENT_VISITS)
                .bind(household_id)
                .bind(limit)
                .fetch_all(c)
                .await?;
            let ids: Vec<String> = visits.iter().map(|v| v.id.clone()).collect();
            let photos = sqlx::query_as(photos_sql).bind(Ids(&ids)).fetch_all(c).await?;
            Ok::<_, crate::Error>((visits, photos))
        })?;
        let mut photos_of: HashMap<String, Vec<String>> = HashMap::new();
        for (visit_id, photo) in photos {
            photos_of.entry(visit_id).or_default().push(photo);
        }
        Ok(visits
            .into_iter()
            .map(|v| RecentVisitRow {
                photos: photos_of.remove(&v.id).unwrap_or_default(),
                id: v.id,
                visited_at: v.visited_at,
                visit_type: v.visit_type,
                outcome: v.outcome,
                worker_name: v.worker_name,
                notes: v.notes,
            })
            .collect())
    }
}
