//! Coverage reports: per grid and per worker figures, the overdue key-group
//! households, the map's buildings and the two ledgers (visits, households).
//! They are reads a lead may see a moment late, so they go to the replica;
//! the visit policies they apply are edited here too (on the primary).
//!
//! Every report takes the grids it covers (the caller's scope, already
//! narrowed by the page's filters) as one list parameter, and optionally a
//! key-group tag: then only households with a living resident of that group.

use crate::engine::{on_pool, on_tx};
use crate::{Ids, Result, Store, Tx};

/// One household with what its status needs.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HouseholdRow {
    pub id: String,
    pub grid_id: String,
    pub building_id: String,
    pub building_name: String,
    pub unit: i64,
    pub door_number: String,
    pub last_visit: Option<i64>,
    /// Key-group tags of living residents, comma-separated (a tag may repeat).
    pub tags: Option<String>,
}

/// Per building: households, and those visited since the period began.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BuildingCountRow {
    pub building_id: String,
    pub grid_id: String,
    pub households: i64,
    pub visited: i64,
}

/// One worker's visits in the period.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WorkerFiguresRow {
    pub name: String,
    pub visits: i64,
    pub households: i64,
}

/// A building as the map draws it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MapBuildingRow {
    pub id: String,
    pub number: i64,
    /// A GeoJSON Polygon.
    pub footprint: String,
}

/// One line of the visit ledger.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct VisitLedgerRow {
    pub id: String,
    pub visited_at: i64,
    pub grid_id: String,
    pub building: String,
    pub unit: i64,
    pub door_number: String,
    pub visit_type: String,
    pub outcome: String,
    pub worker: String,
    pub notes: String,
}

/// The households with a living resident of key group $1 ($1 is always the
/// tag): found once from the tag's index, not probed household by household.
macro_rules! of_tag {
    () => {
        "h.id IN (SELECT r.household_id FROM resident_tags t JOIN residents r ON r.id = t.resident_id
                  WHERE t.tag = $1 AND NOT r.moved_out)"
    };
}

/// The condition "household `h` is one `of_tag!`, or no key group is chosen".
/// The list is built once per statement (SQLite: a list subquery; PostgreSQL:
/// a hashed subplan); a correlated EXISTS here cost two index probes per
/// household, and on PostgreSQL a plan dear enough to be JIT-compiled on
/// every request (+70 ms). The CAST gives PostgreSQL the parameter's type
/// where it first meets it.
macro_rules! has_tag {
    () => {
        concat!("(CAST($1 AS TEXT) IS NULL OR ", of_tag!(), ")")
    };
}

const GRIDS_OF_USER: &str = "SELECT grid_id FROM user_grids WHERE user_id = $1";

const GRID_WORKERS: &str = "SELECT DISTINCT u.id, u.display_name FROM users u JOIN user_grids ug ON ug.user_id = u.id
     WHERE u.role = 'worker' AND ug.grid_id = ANY($1) ORDER BY u.display_name";

const ACTIVE_WORKERS: &str = "SELECT ug.grid_id, u.display_name FROM user_grids ug JOIN users u ON u.id = ug.user_id
     WHERE u.role = 'worker' AND NOT u.disabled AND ug.grid_id = ANY($1) ORDER BY u.display_name";

/// Households of the grids $2 with their last visit and their living
/// residents' tags, up to the condition that narrows them (`AND …`).
macro_rules! households_of_grids {
    () => {
        "SELECT h.id, b.grid_id, h.building_id, b.name AS building_name, h.unit, h.door_number,
       (SELECT MAX(v.visited_at) FROM visits v WHERE v.household_id = h.id) AS last_visit,
       (SELECT string_agg(t.tag, ',') FROM residents r JOIN resident_tags t ON t.resident_id = r.id
          WHERE r.household_id = h.id AND NOT r.moved_out) AS tags
     FROM households h JOIN buildings b ON b.id = h.building_id
     WHERE b.grid_id = ANY($2) AND "
    };
}

/// The tags are joined by `string_agg` (SQLite 3.44+ has it too; their order
/// is unspecified, callers sort).
const HOUSEHOLDS: &str = concat!(
    households_of_grids!(),
    has_tag!(),
    " ORDER BY b.number, h.unit, h.floor, h.door_number"
);

/// Every household with a living key-group resident, found from the tags
/// rather than by probing every household. Every selected or ordered column
/// is grouped (PostgreSQL insists; `h.id` alone decides them all).
const KEY_HOUSEHOLDS: &str = "SELECT h.id, b.grid_id, h.building_id, b.name AS building_name, h.unit, h.door_number,
       (SELECT MAX(v.visited_at) FROM visits v WHERE v.household_id = h.id) AS last_visit,
       string_agg(t.tag, ',') AS tags
     FROM resident_tags t JOIN residents r ON r.id = t.resident_id
       JOIN households h ON h.id = r.household_id JOIN buildings b ON b.id = h.building_id
     WHERE NOT r.moved_out AND b.grid_id = ANY($1)
     GROUP BY h.id, b.grid_id, h.building_id, b.name, h.unit, h.door_number, b.number, h.floor
     ORDER BY b.number, h.unit, h.floor, h.door_number";

/// The households of one key group: found from that tag's index, and only
/// theirs looked at (grouping every key household's tags and keeping those
/// with the tag cost as much as the whole list).
const TAG_HOUSEHOLDS: &str = concat!(
    households_of_grids!(),
    of_tag!(),
    " ORDER BY b.number, h.unit, h.floor, h.door_number"
);

/// `COUNT(CASE …)` counts the visited households: a BIGINT on PostgreSQL,
/// which has no `SUM` of booleans.
const BUILDING_COUNTS: &str = concat!(
    "SELECT h.building_id, b.grid_id, COUNT(*) AS households,
       COUNT(CASE WHEN EXISTS (SELECT 1 FROM visits v WHERE v.household_id = h.id AND v.visited_at >= $2)
             THEN 1 END) AS visited
     FROM households h JOIN buildings b ON b.id = h.building_id
     WHERE b.grid_id = ANY($3) AND ",
    has_tag!(),
    " GROUP BY h.building_id, b.grid_id"
);

const WORKER_FIGURES: &str = "SELECT u.display_name AS name, COUNT(*) AS visits,
       COUNT(DISTINCT v.household_id) AS households
     FROM visits v JOIN users u ON u.id = v.worker_id
       JOIN households h ON h.id = v.household_id JOIN buildings b ON b.id = h.building_id
     WHERE v.visited_at >= $1 AND b.grid_id = ANY($2)
     GROUP BY u.id, u.display_name ORDER BY visits DESC, u.display_name";

const MAP_BUILDINGS: &str = "SELECT id, number, footprint FROM buildings WHERE grid_id = ANY($1) ORDER BY number";

/// One page of the visit ledger, newest first (ties by id): the visits
/// after the keyset ($4, $5) in that order, read from `visits_time` in order.
/// `visited_at <= $4` is the index range; the OR only skips the ties already
/// sent.
const VISIT_LEDGER_PAGE: &str = concat!(
    "SELECT v.id, v.visited_at, b.grid_id, b.name AS building, h.unit, h.door_number, v.visit_type, v.outcome,
            u.display_name AS worker, v.notes
     FROM visits v JOIN households h ON h.id = v.household_id JOIN buildings b ON b.id = h.building_id
       JOIN users u ON u.id = v.worker_id
     WHERE v.visited_at >= $2 AND b.grid_id = ANY($3) AND ",
    has_tag!(),
    " AND v.visited_at <= $4 AND (v.visited_at < $4 OR v.id > $5)
     ORDER BY v.visited_at DESC, v.id
     LIMIT $6"
);

const SET_CADENCE: &str = "UPDATE visit_policies SET cadence_days = $1, updated_at = $2 WHERE tag = $3";

impl Store {
    /// The grids a user is assigned to (a worker filter narrows a report to them).
    pub async fn grids_of_user(&self, user_id: &str) -> Result<Vec<String>> {
        on_pool!(self.replica(), |c| sqlx::query_scalar(GRIDS_OF_USER)
            .bind(user_id)
            .fetch_all(c)
            .await)
    }

    /// (id, name) of the workers assigned to any of the grids, by name: the
    /// worker filter's choices.
    pub async fn grid_workers(&self, grids: &[String]) -> Result<Vec<(String, String)>> {
        let pool = self.replica();
        on_pool!(pool, |c| sqlx::query_as(pool.sql(GRID_WORKERS))
            .bind(Ids(grids))
            .fetch_all(c)
            .await)
    }

    /// (grid id, name) of each enabled worker of the grids, by name: who to
    /// send to an overdue household.
    pub async fn active_workers_by_grid(&self, grids: &[String]) -> Result<Vec<(String, String)>> {
        let pool = self.replica();
        on_pool!(pool, |c| sqlx::query_as(pool.sql(ACTIVE_WORKERS))
            .bind(Ids(grids))
            .fetch_all(c)
            .await)
    }

    /// Every household of the grids (the coverage ledger), by building and door.
    pub async fn coverage_households(&self, grids: &[String], tag: Option<&str>) -> Result<Vec<HouseholdRow>> {
        self.households_by(HOUSEHOLDS, grids, tag).await
    }

    /// The households of the grids with a living key-group resident (of
    /// `tag`, if given): the coverage page judges only these one by one (and
    /// counts the rest).
    pub async fn key_households(&self, grids: &[String], tag: Option<&str>) -> Result<Vec<HouseholdRow>> {
        let Some(tag) = tag else {
            let pool = self.replica();
            return on_pool!(pool, |c| sqlx::query_as(pool.sql(KEY_HOUSEHOLDS))
                .bind(Ids(grids))
                .fetch_all(c)
                .await);
        };
        self.households_by(TAG_HOUSEHOLDS, grids, Some(tag)).await
    }

    async fn households_by(&self, sql: &'static str, grids: &[String], tag: Option<&str>) -> Result<Vec<HouseholdRow>> {
        let pool = self.replica();
        on_pool!(pool, |c| sqlx::query_as(pool.sql(sql))
            .bind(tag)
            .bind(Ids(grids))
            .fetch_all(c)
            .await)
    }

    /// Households and visited households per building, counted in SQL: the
    /// coverage page needs every household counted but not listed.
    pub async fn building_counts(
        &self,
        grids: &[String],
        tag: Option<&str>,
        since_ms: i64,
    ) -> Result<Vec<BuildingCountRow>> {
        let pool = self.replica();
        on_pool!(pool, |c| sqlx::query_as(pool.sql(BUILDING_COUNTS))
            .bind(tag)
            .bind(since_ms)
            .bind(Ids(grids))
            .fetch_all(c)
            .await)
    }

    /// Each worker's visits to the grids since `since_ms`, busiest first.
    pub async fn worker_figures(&self, grids: &[String], since_ms: i64) -> Result<Vec<WorkerFiguresRow>> {
        let pool = self.replica();
        on_pool!(pool, |c| sqlx::query_as(pool.sql(WORKER_FIGURES))
            .bind(since_ms)
            .bind(Ids(grids))
            .fetch_all(c)
            .await)
    }

    /// The buildings of the grids, by number.
    pub async fn map_buildings(&self, grids: &[String]) -> Result<Vec<MapBuildingRow>> {
        let pool = self.replica();
        on_pool!(pool, |c| sqlx::query_as(pool.sql(MAP_BUILDINGS))
            .bind(Ids(grids))
            .fetch_all(c)
            .await)
    }

    /// Visits to the grids since `since_ms`, newest first (the visit ledger),
    /// at most `limit` of them: those after `after` (the last one of the
    /// previous page: its time and id), or from the newest on.
    pub async fn visit_ledger_page(
        &self,
        grids: &[String],
        tag: Option<&str>,
        since_ms: i64,
        after: Option<(i64, &str)>,
        limit: i64,
    ) -> Result<Vec<VisitLedgerRow>> {
        // Before every visit: a time after all of them, and an id before all.
        let (at, id) = after.unwrap_or((i64::MAX, ""));
        let pool = self.replica();
        // Planned for each page's own values, never kept prepared: after five
        // pages on one connection PostgreSQL would switch to a generic plan,
        // and the one it picks for this range with unknown bounds (a nested
        // loop over every household per visit) took 5 s a page instead of 30 ms.
        on_pool!(pool, |c| sqlx::query_as(pool.sql(VISIT_LEDGER_PAGE))
            .persistent(false)
            .bind(tag)
            .bind(since_ms)
            .bind(Ids(grids))
            .bind(at)
            .bind(id)
            .bind(limit)
            .fetch_all(c)
            .await)
    }
}

impl Tx {
    /// Sets how often households of a key group (or `default`) are due.
    pub async fn set_visit_cadence(&mut self, tag: &str, days: i64, at: i64) -> Result<()> {
        on_tx!(self, |c| sqlx::query(SET_CADENCE)
            .bind(days)
            .bind(at)
            .bind(tag)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }
}
