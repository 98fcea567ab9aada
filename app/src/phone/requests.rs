//! The requests (诉求) kept on the phone: the list the worker works from in a
//! stairwell, a household's requests for the follow-up at the door, and the
//! phone's own view of an action it queued (the next pull brings the server's
//! word, which wins).

use std::collections::HashMap;

use crate::requests::{Category, DEFAULT_CATEGORIES, RequestStatus};
use crate::sync::{BuildingRecord, HouseholdRecord, RequestRecord};

/// A request as a list shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestItem {
    pub record: RequestRecord,
    /// Where: building, unit and door, or the place named.
    pub place: String,
    pub category: String,
    /// Open and past its deadline.
    pub overdue: bool,
}

/// What the requests page shows, and what its forms offer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequestList {
    pub items: Vec<RequestItem>,
    pub categories: Vec<Category>,
    /// (building id, name) of the worker's grids, for a patrol's report.
    pub buildings: Vec<(String, String)>,
}

/// The categories pulled, or the defaults before a first pull.
pub fn categories_or_default(pulled: Vec<Category>) -> Vec<Category> {
    if !pulled.is_empty() {
        return pulled;
    }
    DEFAULT_CATEGORIES
        .iter()
        .map(|(code, label)| Category {
            code: (*code).into(),
            label: (*label).into(),
            respond_days: 1,
            resolve_days: 7,
        })
        .collect()
}

/// Items with their labels, overdue ones first, then by deadline.
pub fn items(
    records: Vec<RequestRecord>,
    households: &[HouseholdRecord],
    buildings: &[BuildingRecord],
    categories: &[Category],
    now: i64,
) -> Vec<RequestItem> {
    let buildings: HashMap<&str, &BuildingRecord> = buildings.iter().map(|b| (b.id.as_str(), b)).collect();
    let households: HashMap<&str, &HouseholdRecord> = households.iter().map(|h| (h.id.as_str(), h)).collect();
    let mut items: Vec<RequestItem> = records
        .into_iter()
        .map(|record| {
            let household = record.household_id.as_deref().and_then(|h| households.get(h));
            let building = household
                .map(|h| h.building_id.as_str())
                .or(record.building_id.as_deref())
                .and_then(|b| buildings.get(b));
            let place = match (building, household) {
                (Some(b), Some(h)) => super::local::household_label(b, h),
                (Some(b), None) => b.name.clone(),
                _ => String::new(),
            };
            let place = [place, record.place.clone()]
                .into_iter()
                .filter(|p| !p.is_empty())
                .collect::<Vec<_>>()
                .join(" · ");
            let category = categories
                .iter()
                .find(|c| c.code == record.category)
                .map_or_else(|| record.category.clone(), |c| c.label.clone());
            RequestItem {
                overdue: record.status.is_open() && record.resolve_due < now,
                place,
                category,
                record,
            }
        })
        .collect();
    items.sort_by_key(|i| (!i.overdue, i.record.resolve_due));
    items
}

/// The record as the phone sees it once it queued `status` (and, for a
/// resolution, its text; for a reopening follow-up, one more reopening).
pub fn after_action(mut record: RequestRecord, status: RequestStatus, resolution: Option<String>) -> RequestRecord {
    if record.status == RequestStatus::Resolved && status == RequestStatus::InProgress {
        record.reopen_count += 1;
    }
    if resolution.is_some() {
        record.resolution = resolution;
    }
    record.status = status;
    record
}

#[cfg(feature = "hydrate")]
pub use client::*;

#[cfg(feature = "hydrate")]
mod client {
    use idb::TransactionMode;

    use super::*;
    use crate::clock::now_ms;
    use crate::error::ApiError;
    use crate::phone::idb::open;
    use crate::phone::local::{by_index, read_state};

    fn unavailable<E>(_: E) -> ApiError {
        ApiError::Network
    }

    /// Every request of the worker's grids on this phone.
    pub async fn request_list() -> Result<RequestList, ApiError> {
        let db = open().await.map_err(unavailable)?;
        let state = read_state(&db).await.map_err(unavailable)?;
        let categories = categories_or_default(state.categories.clone());
        let (mut records, mut households, mut buildings) = (Vec::new(), Vec::new(), Vec::new());
        // Raised on this phone and not pulled back yet: no grid known.
        records.extend(
            by_index::<RequestRecord>(&db, "requests", "grid_id", "")
                .await
                .map_err(unavailable)?,
        );
        for grid in &state.grids {
            records.extend(
                by_index::<RequestRecord>(&db, "requests", "grid_id", &grid.id)
                    .await
                    .map_err(unavailable)?,
            );
            households.extend(
                by_index::<HouseholdRecord>(&db, "households", "grid_id", &grid.id)
                    .await
                    .map_err(unavailable)?,
            );
            buildings.extend(
                by_index::<BuildingRecord>(&db, "buildings", "grid_id", &grid.id)
                    .await
                    .map_err(unavailable)?,
            );
        }
        buildings.sort_by_key(|b| b.number);
        Ok(RequestList {
            items: items(records, &households, &buildings, &categories, now_ms()),
            buildings: buildings.iter().map(|b| (b.id.clone(), b.name.clone())).collect(),
            categories,
        })
    }

    /// A household's requests resolved and waiting for the follow-up at the door.
    pub async fn awaiting_follow_up(household_id: String) -> Result<Vec<RequestRecord>, ApiError> {
        let db = open().await.map_err(unavailable)?;
        let records: Vec<RequestRecord> = by_index(&db, "requests", "household_id", &household_id)
            .await
            .map_err(unavailable)?;
        Ok(records
            .into_iter()
            .filter(|r| r.status == RequestStatus::Resolved)
            .collect())
    }

    /// Keeps the phone's view of a request (after an action it queued, or a
    /// request it raised) until the next pull brings the server's.
    pub async fn keep(record: &RequestRecord) -> Result<(), ApiError> {
        let db = open().await.map_err(unavailable)?;
        let text = serde_json::to_string(record).map_err(unavailable)?;
        let value = js_sys::JSON::parse(&text).map_err(unavailable)?;
        // Records are stored as pulled: tagged with their entity.
        let _ = js_sys::Reflect::set(&value, &"entity".into(), &"request".into());
        let tx = db
            .transaction(&["requests"], TransactionMode::ReadWrite)
            .map_err(unavailable)?;
        drop(
            tx.object_store("requests")
                .map_err(unavailable)?
                .put(&value, None)
                .map_err(unavailable)?,
        );
        tx.commit().map_err(unavailable)?.await.map_err(unavailable)?;
        Ok(())
    }
}
