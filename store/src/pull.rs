//! The pull sequence (`changes`, written only through `Tx::record_change`) and
//! the records a pull page sends: one query per entity type over the page's
//! range, never one per record.

use std::collections::HashMap;

use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;

use crate::engine::on_pool;
use crate::residents::{ResidentRow, resident_columns};
use crate::{Ids, Result, Store};

/// One page of the sequence: the changes after `after` up to `upto` in `grids`.
#[derive(Debug, Clone, Copy)]
pub struct Range<'a> {
    pub after: i64,
    pub upto: i64,
    pub grids: &'a [String],
}

/// Each pulled row carries the `seq` of its change, so the caller can keep the
/// last of several changes of one record.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PulledBuilding {
    pub seq: i64,
    pub id: String,
    pub grid_id: String,
    pub number: i64,
    pub name: String,
    pub address: String,
    pub units: i64,
    pub floors: i64,
    pub doors_per_floor: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PulledHousehold {
    pub seq: i64,
    pub id: String,
    pub grid_id: String,
    pub building_id: String,
    pub unit: i64,
    pub floor: i64,
    pub door_number: String,
    /// The active party members linked to it, `(id, name)` by name.
    #[sqlx(skip)]
    pub party_members: Vec<(String, String)>,
}

/// Whole, as stored: the caller masks the ID and phone numbers.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PulledResident {
    pub seq: i64,
    pub grid_id: String,
    #[sqlx(flatten)]
    pub resident: ResidentRow,
    /// Key-group tags, in byte order.
    #[sqlx(skip)]
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PulledVisit {
    pub seq: i64,
    pub id: String,
    pub grid_id: String,
    pub household_id: String,
    pub visited_at: i64,
    pub visit_type: String,
    pub outcome: String,
    pub worker_name: String,
    pub notes: String,
    pub party_member_id: Option<String>,
    /// Photo hashes, in the order taken.
    #[sqlx(skip)]
    pub photos: Vec<String>,
}

/// The changes of one entity type in a range (`$1` < seq <= `$2`, grid in
/// `$3`) joined to that entity's tables: the one shape every loader shares.
macro_rules! in_range {
    ($select:expr, $entity:literal, $joins:literal) => {
        concat!(
            "SELECT ",
            $select,
            " FROM changes c ",
            $joins,
            " WHERE c.entity = '",
            $entity,
            "' AND c.seq > $1 AND c.seq <= $2 AND c.grid_id = ANY($3)"
        )
    };
}

// `+seq`, not `seq`: ordered by the bare column, an engine may walk the
// primary key from the cursor and filter by grid (SQLite always does), quick
// while the page fills; but the last page of a grid never fills, and the walk
// then reads the whole rest of the city's changes (measured on SQLite, the
// last page of a grid of a 40,000-household city: 33 ms, growing with the
// city). The expression rules the walk out on both engines: the grids' own
// changes after the cursor through `changes_grid`, then sorted (2 ms). Slower
// only for a scope of very many grids, which no phone holds.
const SEQS: &str = "SELECT seq FROM changes WHERE seq > $1 AND grid_id = ANY($3) ORDER BY +seq LIMIT $2";
// One index probe per grid (the largest seq under its `changes_grid` prefix),
// not a scan of the grids' whole history.
const HEAD: &str = "SELECT COALESCE(MAX((SELECT MAX(c.seq) FROM changes c WHERE c.grid_id = g.id)), 0) \
                    FROM grids g WHERE g.id = ANY($1)";
const BUILDINGS: &str = in_range!(
    "c.seq, b.id, b.grid_id, b.number, b.name, b.address, b.units, b.floors, b.doors_per_floor",
    "building",
    "JOIN buildings b ON b.id = c.entity_id"
);
const HOUSEHOLDS: &str = in_range!(
    "c.seq, h.id, b.grid_id, h.building_id, h.unit, h.floor, h.door_number",
    "household",
    "JOIN households h ON h.id = c.entity_id JOIN buildings b ON b.id = h.building_id"
);
const RESIDENTS: &str = in_range!(
    concat!("c.seq, b.grid_id, ", resident_columns!()),
    "resident",
    "JOIN residents r ON r.id = c.entity_id
     JOIN households h ON h.id = r.household_id JOIN buildings b ON b.id = h.building_id"
);
// DISTINCT: a record changed twice in the range joins twice.
const HOUSEHOLD_MEMBERS: &str = concat!(
    in_range!(
        "DISTINCT l.household_id, m.id, COALESCE(r.name, m.name) AS name",
        "household",
        "JOIN party_member_households l ON l.household_id = c.entity_id
         JOIN party_members m ON m.id = l.member_id AND m.status = 'active'
         LEFT JOIN residents r ON r.id = m.resident_id"
    ),
    " ORDER BY l.household_id, name, m.id"
);
const RESIDENT_TAGS: &str = concat!(
    in_range!(
        "DISTINCT t.resident_id, t.tag",
        "resident",
        "JOIN resident_tags t ON t.resident_id = c.entity_id"
    ),
    " ORDER BY t.resident_id, t.tag"
);
const VISITS: &str = in_range!(
    "c.seq, v.id, b.grid_id, v.household_id, v.visited_at, v.visit_type, v.outcome,
     u.display_name AS worker_name, v.notes, v.party_member_id",
    "visit",
    "JOIN visits v ON v.id = c.entity_id JOIN users u ON u.id = v.worker_id
     JOIN households h ON h.id = v.household_id JOIN buildings b ON b.id = h.building_id"
);
const VISIT_PHOTOS: &str = concat!(
    in_range!(
        "DISTINCT p.visit_id, p.photo, p.position",
        "visit",
        "JOIN visit_photos p ON p.visit_id = c.entity_id"
    ),
    " ORDER BY p.visit_id, p.position"
);

impl Store {
    /// The number of the latest change in `grids` (0 if none): any write to a
    /// record of these grids raises it, so it dates what a page built from
    /// them can contain.
    pub async fn grids_head(&self, grids: &[String]) -> Result<i64> {
        let sql = self.primary().sql(HEAD);
        on_pool!(self.primary(), |c| sqlx::query_scalar(sql)
            .bind(Ids(grids))
            .fetch_one(c)
            .await)
    }

    /// The numbers of the next `limit` changes after `after` in `grids`.
    pub async fn change_seqs(&self, grids: &[String], after: i64, limit: i64) -> Result<Vec<i64>> {
        let sql = self.primary().sql(SEQS);
        on_pool!(self.primary(), |c| sqlx::query_scalar(sql)
            .bind(after)
            .bind(limit)
            .bind(Ids(grids))
            .fetch_all(c)
            .await)
    }

    pub async fn pulled_buildings(&self, range: Range<'_>) -> Result<Vec<PulledBuilding>> {
        self.in_range(BUILDINGS, range).await
    }

    /// With their linked party members, from one more query over the same range.
    pub async fn pulled_households(&self, range: Range<'_>) -> Result<Vec<PulledHousehold>> {
        let mut households: Vec<PulledHousehold> = self.in_range(HOUSEHOLDS, range).await?;
        if households.is_empty() {
            return Ok(households);
        }
        let mut members: HashMap<String, Vec<(String, String)>> = HashMap::new();
        for (household, id, name) in self
            .in_range::<(String, String, String)>(HOUSEHOLD_MEMBERS, range)
            .await?
        {
            members.entry(household).or_default().push((id, name));
        }
        for pulled in &mut households {
            pulled.party_members = members.get(&pulled.id).cloned().unwrap_or_default();
        }
        Ok(households)
    }

    /// With their tags, from one more query over the same range.
    pub async fn pulled_residents(&self, range: Range<'_>) -> Result<Vec<PulledResident>> {
        let mut residents: Vec<PulledResident> = self.in_range(RESIDENTS, range).await?;
        if residents.is_empty() {
            return Ok(residents);
        }
        // Cloned, not moved: a resident changed twice in the range has two rows.
        let tags = group(self.in_range::<(String, String)>(RESIDENT_TAGS, range).await?);
        for pulled in &mut residents {
            pulled.tags = tags.get(&pulled.resident.id).cloned().unwrap_or_default();
        }
        Ok(residents)
    }

    /// With their photos, from one more query over the same range.
    pub async fn pulled_visits(&self, range: Range<'_>) -> Result<Vec<PulledVisit>> {
        let mut visits: Vec<PulledVisit> = self.in_range(VISITS, range).await?;
        if visits.is_empty() {
            return Ok(visits);
        }
        let photos = self.in_range::<(String, String, i64)>(VISIT_PHOTOS, range).await?;
        let photos = group(photos.into_iter().map(|(visit, photo, _)| (visit, photo)).collect());
        for visit in &mut visits {
            visit.photos = photos.get(&visit.id).cloned().unwrap_or_default();
        }
        Ok(visits)
    }

    /// Runs an `in_range!` query: its range and grids are `$1`, `$2`, `$3`.
    async fn in_range<R>(&self, sql: &'static str, range: Range<'_>) -> Result<Vec<R>>
    where
        R: for<'r> sqlx::FromRow<'r, SqliteRow> + for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin,
    {
        let sql = self.primary().sql(sql);
        on_pool!(self.primary(), |c| sqlx::query_as(sql)
            .bind(range.after)
            .bind(range.upto)
            .bind(Ids(range.grids))
            .fetch_all(c)
            .await)
    }
}

/// (owner id, value) pairs as lists per owner, in the order given.
fn group(pairs: Vec<(String, String)>) -> HashMap<String, Vec<String>> {
    let mut lists: HashMap<String, Vec<String>> = HashMap::new();
    for (owner, value) in pairs {
        lists.entry(owner).or_default().push(value);
    }
    lists
}
