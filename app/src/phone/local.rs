//! The worker's grids kept on the phone. Each sync pulls what changed into
//! IndexedDB (buildings, households, residents, visits, as the server sends
//! them: masked); when the server cannot be reached, pages are built from that
//! copy instead. The builders here are plain functions of the records, so the
//! offline pages and the server's answers can be compared in unit tests.

use std::collections::{HashMap, HashSet};

use crate::clock::DAY_MS;
use crate::domain::{CivilDate, KeyGroup, age_this_year};
use crate::model::{
    BuildingDetail, BuildingSummary, GridDetail, HouseholdCell, HouseholdDetail, HouseholdHit, ResidentDetail,
    ResidentSummary, VisitSummary,
};
use crate::policy::{Policy, VisitStatus, cadence, status};
use crate::search::DoorQuery;
use crate::sync::{BuildingRecord, GridRef, HouseholdRecord, MemberDuty, ResidentRecord, VisitRecord};

/// Visits shown on a household page, newest first (as the server does).
const RECENT_VISITS: usize = 10;

fn days_since(at: i64, now: i64) -> i64 {
    (now - at).max(0) / DAY_MS
}

fn summary(r: &ResidentRecord, today: CivilDate) -> ResidentSummary {
    ResidentSummary {
        id: r.id.clone(),
        name: r.name.clone(),
        gender: r.gender,
        // 0 for a record pulled before the year was sent, until pulled again.
        age: if r.birth_year > 0 {
            age_this_year(r.birth_year, today)
        } else {
            0
        },
        registration_type: r.registration_type,
        tags: r.tags.clone(),
        id_number_masked: r.id_number_masked.clone(),
        moved_out: r.moved_out,
    }
}

pub(crate) fn household_label(b: &BuildingRecord, h: &HouseholdRecord) -> String {
    format!("{}{}单元{}", b.name, h.unit, h.door_number)
}

pub fn household_detail(
    h: &HouseholdRecord,
    b: &BuildingRecord,
    grid_name: String,
    mut residents: Vec<ResidentRecord>,
    mut visits: Vec<VisitRecord>,
    now: i64,
) -> HouseholdDetail {
    let today = CivilDate::from_epoch_ms(now);
    residents.sort_by(|x, y| (x.moved_out, x.birth_year, &x.id).cmp(&(y.moved_out, y.birth_year, &y.id)));
    visits.sort_by_key(|v| std::cmp::Reverse(v.visited_at));
    visits.truncate(RECENT_VISITS);
    HouseholdDetail {
        id: h.id.clone(),
        building_id: b.id.clone(),
        building_name: b.name.clone(),
        grid_name,
        unit: h.unit,
        floor: h.floor,
        door_number: h.door_number.clone(),
        residents: residents.iter().map(|r| summary(r, today)).collect(),
        visits: visits
            .into_iter()
            .map(|v| VisitSummary {
                id: v.id,
                visited_at: v.visited_at,
                days_ago: days_since(v.visited_at, now),
                visit_type: v.visit_type,
                outcome: v.outcome,
                worker_name: v.worker_name,
                notes: v.notes,
                photos: v.photos,
            })
            .collect(),
    }
}

pub fn resident_detail(
    r: &ResidentRecord,
    h: &HouseholdRecord,
    b: &BuildingRecord,
    last_visit: Option<i64>,
    now: i64,
) -> ResidentDetail {
    ResidentDetail {
        resident: summary(r, CivilDate::from_epoch_ms(now)),
        birth_year: r.birth_year,
        phone_masked: r.phone_masked.clone(),
        household_id: h.id.clone(),
        household_label: household_label(b, h),
        last_visit_days: last_visit.map(|at| days_since(at, now)),
        photo: r.photo.clone(),
        photo_history: Vec::new(),
        conflicts: Vec::new(),
    }
}

/// Per household: living residents, whether a key group lives there, last visit.
struct HouseholdFacts {
    residents: i64,
    /// Key groups of living residents.
    tags: Vec<KeyGroup>,
    last_visit: Option<i64>,
}

fn facts<'a>(residents: &'a [ResidentRecord], visits: &'a [VisitRecord]) -> HashMap<&'a str, HouseholdFacts> {
    let mut out: HashMap<&'a str, HouseholdFacts> = HashMap::new();
    let blank = || HouseholdFacts {
        residents: 0,
        tags: Vec::new(),
        last_visit: None,
    };
    for r in residents.iter().filter(|r| !r.moved_out) {
        let f = out.entry(&r.household_id).or_insert_with(blank);
        f.residents += 1;
        f.tags.extend(&r.tags);
    }
    for v in visits {
        let f = out.entry(&v.household_id).or_insert_with(blank);
        f.last_visit = f.last_visit.max(Some(v.visited_at));
    }
    out
}

pub fn building_detail(
    b: &BuildingRecord,
    grid_name: String,
    mut households: Vec<HouseholdRecord>,
    (residents, visits): (&[ResidentRecord], &[VisitRecord]),
    policies: &[Policy],
    now: i64,
) -> BuildingDetail {
    let facts = facts(residents, visits);
    households.sort_by(|x, y| (x.unit, x.floor, &x.door_number).cmp(&(y.unit, y.floor, &y.door_number)));
    BuildingDetail {
        id: b.id.clone(),
        grid_id: b.grid_id.clone(),
        grid_name,
        name: b.name.clone(),
        address: b.address.clone(),
        units: b.units,
        floors: b.floors,
        doors_per_floor: b.doors_per_floor,
        households: households
            .into_iter()
            .map(|h| {
                let f = facts.get(h.id.as_str());
                let last_visit = f.and_then(|f| f.last_visit);
                let tags = f.map_or(&[][..], |f| f.tags.as_slice());
                HouseholdCell {
                    residents: f.map_or(0, |f| f.residents),
                    key_group: !tags.is_empty(),
                    last_visit_days: last_visit.map(|at| days_since(at, now)),
                    status: status(last_visit, cadence(policies, tags.iter().copied()), now)
                        .css()
                        .to_owned(),
                    id: h.id,
                    unit: h.unit,
                    floor: h.floor,
                    door_number: h.door_number,
                }
            })
            .collect(),
    }
}

/// The grid page offline. `query` narrows to matching doors as on the server
/// (`3-2-502`, `3号楼2单元502`, `502`).
pub struct GridData<'a> {
    pub grid: &'a GridRef,
    pub buildings: Vec<BuildingRecord>,
    pub households: &'a [HouseholdRecord],
    pub residents: &'a [ResidentRecord],
    pub visits: &'a [VisitRecord],
}

/// A key-group household past its due day (or never visited).
#[derive(Debug, Clone, PartialEq)]
pub struct OverdueItem {
    pub household_id: String,
    pub label: String,
    pub status: VisitStatus,
    pub tags: Vec<KeyGroup>,
}

/// A party member's own list (issue 18 #4): their households and when they
/// last visited each, against their rank's calendar period.
#[derive(Debug, Clone, PartialEq)]
pub struct MemberDue {
    /// Beijing midnight the current period began.
    pub period_start: i64,
    pub cadence_months: i64,
    /// Visited one of their households this period: nothing is due.
    pub done: bool,
    /// Each household with the member's last visit, the unvisited first.
    pub households: Vec<(String, String, Option<i64>)>,
}

/// `MemberDue` from the phone's copy: the member's visits are those that
/// carry their id, and those still waiting in the outbox (`pending`:
/// household and time), so a visit made in the stairwell counts at once.
pub fn member_due(
    duty: &MemberDuty,
    data: (&[BuildingRecord], &[HouseholdRecord], &[VisitRecord]),
    pending: &[(String, i64)],
    now: i64,
) -> MemberDue {
    let (buildings, households, visits) = data;
    let mut last: HashMap<&str, i64> = HashMap::new();
    let mine = visits
        .iter()
        .filter(|v| v.party_member_id.as_deref() == Some(duty.member_id.as_str()))
        .map(|v| (v.household_id.as_str(), v.visited_at))
        .chain(pending.iter().map(|(h, at)| (h.as_str(), *at)));
    for (household, at) in mine {
        let entry = last.entry(household).or_insert(at);
        *entry = (*entry).max(at);
    }
    let period_start = crate::policy::period_start(now, duty.cadence_months);
    let mut list: Vec<(String, String, Option<i64>)> = households
        .iter()
        .map(|h| {
            let label = buildings
                .iter()
                .find(|b| b.id == h.building_id)
                .map(|b| household_label(b, h))
                .unwrap_or_default();
            (h.id.clone(), label, last.get(h.id.as_str()).copied())
        })
        .collect();
    list.sort_by(|a, b| a.2.cmp(&b.2).then_with(|| a.1.cmp(&b.1)));
    MemberDue {
        period_start,
        cadence_months: duty.cadence_months,
        done: list.iter().any(|(_, _, at)| at.is_some_and(|at| at >= period_start)),
        households: list,
    }
}

/// The phone's own overdue list for a grid, by the server's rule (the
/// strictest cadence of the household's key groups): never visited first,
/// then the longest overdue.
pub fn overdue(data: &GridData<'_>, policies: &[Policy], now: i64) -> Vec<OverdueItem> {
    let facts = facts(data.residents, data.visits);
    let buildings: HashMap<&str, &BuildingRecord> = data.buildings.iter().map(|b| (b.id.as_str(), b)).collect();
    let mut items: Vec<OverdueItem> = data
        .households
        .iter()
        .filter(|h| h.grid_id == data.grid.id)
        .filter_map(|h| {
            let f = facts.get(h.id.as_str()).filter(|f| !f.tags.is_empty())?;
            let status = status(f.last_visit, cadence(policies, f.tags.iter().copied()), now);
            let mut tags = f.tags.clone();
            tags.sort();
            tags.dedup();
            status.is_late().then(|| OverdueItem {
                household_id: h.id.clone(),
                label: buildings
                    .get(h.building_id.as_str())
                    .map(|b| household_label(b, h))
                    .unwrap_or_default(),
                status,
                tags,
            })
        })
        .collect();
    items.sort_by_key(|item| match item.status {
        VisitStatus::Overdue { days } => -days,
        _ => i64::MIN,
    });
    items
}

pub fn grid_detail(data: GridData<'_>, query: &str, now: i64) -> GridDetail {
    let facts = facts(data.residents, data.visits);
    let since = now - 30 * DAY_MS;
    let mut buildings: Vec<BuildingSummary> = data
        .buildings
        .iter()
        .map(|b| {
            let mine: Vec<&HouseholdRecord> = data.households.iter().filter(|h| h.building_id == b.id).collect();
            let visited: HashSet<&str> = data
                .visits
                .iter()
                .filter(|v| v.visited_at >= since && mine.iter().any(|h| h.id == v.household_id))
                .map(|v| v.household_id.as_str())
                .collect();
            BuildingSummary {
                id: b.id.clone(),
                number: b.number,
                name: b.name.clone(),
                units: b.units,
                floors: b.floors,
                households: mine.len() as i64,
                visited_30d: visited.len() as i64,
                key_households: mine
                    .iter()
                    .filter(|h| facts.get(h.id.as_str()).is_some_and(|f| !f.tags.is_empty()))
                    .count() as i64,
            }
        })
        .collect();
    buildings.sort_by_key(|b| b.number);
    let query = DoorQuery::parse(query);
    let mut household_hits = Vec::new();
    if let Some((building, unit, door)) = query.door() {
        let by_id: HashMap<&str, &BuildingRecord> = data.buildings.iter().map(|b| (b.id.as_str(), b)).collect();
        for h in data.households {
            let Some(b) = by_id.get(h.building_id.as_str()) else {
                continue;
            };
            if building.is_none_or(|n| n == b.number) && unit.is_none_or(|u| u == h.unit) && h.door_number == door {
                household_hits.push(HouseholdHit {
                    id: h.id.clone(),
                    building_name: b.name.clone(),
                    unit: h.unit,
                    door_number: h.door_number.clone(),
                    residents: facts.get(h.id.as_str()).map_or(0, |f| f.residents),
                });
            }
        }
        household_hits.sort_by(|x, y| {
            (&x.building_name, x.unit, &x.door_number).cmp(&(&y.building_name, y.unit, &y.door_number))
        });
    }
    if !query.text.is_empty() {
        buildings.retain(|b| query.keeps_building(b.number, &b.name));
    }
    GridDetail {
        id: data.grid.id.clone(),
        name: data.grid.name.clone(),
        community_name: String::new(),
        buildings,
        household_hits,
    }
}

#[cfg(feature = "hydrate")]
pub use client::*;

/// IndexedDB and the pull loop: browser only.
#[cfg(feature = "hydrate")]
mod client {
    use idb::{Database, Query, TransactionMode};
    use leptos::prelude::*;
    use serde::{Deserialize, Serialize};
    use wasm_bindgen::{JsCast, JsValue};

    use super::*;
    use crate::clock::now_ms;
    use crate::error::ApiError;
    use crate::phone::idb::{META, RECORD_STORES, StoreError, open};
    use crate::phone::status::SyncStatus;

    /// Records per pull page (the server's most): few round trips on a first sync.
    const PAGE: i64 = 5000;

    /// Where the phone's copy stands: the change cursor and the grids it holds.
    #[derive(Debug, Default, Clone, Serialize, Deserialize)]
    pub(crate) struct LocalState {
        cursor: i64,
        pub(crate) grids: Vec<GridRef>,
        /// The visit policies as of the last pull.
        #[serde(default)]
        policies: Vec<Policy>,
        /// The request categories as of the last pull.
        #[serde(default)]
        pub(crate) categories: Vec<crate::requests::Category>,
        /// A party member's account: their id and cadence.
        #[serde(default)]
        pub(crate) member: Option<MemberDuty>,
        /// Which kinds of record the copy holds (`SCHEMA`).
        #[serde(default)]
        schema: u32,
    }

    /// 1: requests are kept. A copy made before holds none, and its cursor
    /// stands past them: it is pulled again from the start.
    /// 2: residents carry the birth year, not the date, and the ID number's
    /// last four characters only: an older copy is pulled again, which
    /// overwrites every resident it holds.
    const SCHEMA: u32 = 2;

    pub(crate) async fn read_state(db: &Database) -> Result<LocalState, StoreError> {
        let tx = db.transaction(&[META], TransactionMode::ReadOnly)?;
        let value = tx.object_store(META)?.get(JsValue::from_str("state"))?.await?;
        tx.await?;
        let mut state: LocalState = value
            .and_then(|v| v.as_string())
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or_default();
        if state.schema < SCHEMA {
            state.cursor = 0;
            state.schema = SCHEMA;
        }
        Ok(state)
    }

    /// One page of `/api/sync/pull`, parsed by the browser's own JSON parser:
    /// records go into IndexedDB as they came, without a trip through Rust.
    struct PulledPage {
        records: js_sys::Array,
        scope: Vec<GridRef>,
        policies: Vec<Policy>,
        categories: Vec<crate::requests::Category>,
        member: Option<MemberDuty>,
        next_cursor: i64,
        more: bool,
    }

    fn field(object: &JsValue, name: &str) -> JsValue {
        js_sys::Reflect::get(object, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
    }

    #[wasm_bindgen::prelude::wasm_bindgen]
    extern "C" {
        /// `JSON.parse` of a string that never entered WASM memory (js-sys's
        /// binding takes a Rust `&str`).
        #[wasm_bindgen(js_namespace = JSON, js_name = parse, catch)]
        fn parse_json(text: &JsValue) -> Result<JsValue, JsValue>;
    }

    /// `None` when the server cannot be reached or the session has expired.
    async fn fetch_page(status: SyncStatus, url: &str) -> Result<Option<PulledPage>, StoreError> {
        let Ok(reply) = crate::api::fetch("GET", url, None).await else {
            status.online.set(false);
            return Ok(None);
        };
        if reply.status == 401 {
            status.signed_out(&reply.body());
            return Ok(None);
        }
        if status.back_off(&reply) {
            // Busy: the cursor stays; the pull goes on when the server said.
            return Ok(None);
        }
        if !reply.ok() {
            return Err(StoreError(format!("服务器返回 {}", reply.status)));
        }
        let page = parse_json(&reply.text).map_err(|_| StoreError("服务器应答无法解析".into()))?;
        Ok(Some(PulledPage {
            scope: from_js(&field(&page, "scope")).unwrap_or_default(),
            policies: from_js(&field(&page, "policies")).unwrap_or_default(),
            categories: from_js(&field(&page, "categories")).unwrap_or_default(),
            member: from_js(&field(&page, "member")).unwrap_or_default(),
            records: field(&page, "records").dyn_into().unwrap_or_default(),
            next_cursor: field(&page, "next_cursor").as_f64().unwrap_or_default() as i64,
            more: field(&page, "more").as_bool().unwrap_or(false),
        }))
    }

    fn store_of(entity: &str) -> Option<&'static str> {
        RECORD_STORES
            .iter()
            .copied()
            .find(|s| s.strip_suffix('s') == Some(entity))
    }

    /// How long the writer runs before it lets the browser in, in ms of the
    /// phone's own time. IndexedDB copies each record when it is put, on the
    /// page's own thread: 5,000 puts in a row held a cheap phone for a second,
    /// and a count of puts was no measure (a page of visits is grouped first,
    /// an ID-carrying resident costs more than a building). Once the stretch
    /// has run this long, the writer waits for its last put to finish; the
    /// browser runs taps and paints meanwhile, and the transaction stays open
    /// because a request of it is still pending.
    const SLICE_MS: f64 = 8.0;

    /// When the current stretch of writing began.
    struct Slice(f64);

    impl Slice {
        fn start() -> Self {
            Slice(js_sys::Date::now())
        }

        /// Queues a put; waits for it when the stretch has run its time.
        async fn put(&mut self, store: &idb::ObjectStore, value: &JsValue) -> Result<(), StoreError> {
            let request = store.put(value, None)?;
            if js_sys::Date::now() - self.0 >= SLICE_MS {
                request.await?;
                self.0 = js_sys::Date::now();
            }
            // Otherwise the request stays queued on the transaction; its commit waits for all.
            Ok(())
        }
    }

    /// Writes a page's records, and the new state if given, in one transaction:
    /// the cursor never runs ahead of the records it stands for. `true` when
    /// a record left the phone (a removal).
    async fn write_page(
        db: &Database,
        records: &js_sys::Array,
        state: Option<&LocalState>,
    ) -> Result<bool, StoreError> {
        let mut stores: Vec<&str> = RECORD_STORES.to_vec();
        stores.push(META);
        let tx = db.transaction(&stores, TransactionMode::ReadWrite)?;
        let mut visits: HashMap<String, Vec<JsValue>> = HashMap::new();
        let mut slice = Slice::start();
        let mut removed = false;
        for record in records.iter() {
            match field(&record, "entity").as_string().as_deref() {
                Some("visit") => {
                    let household = field(&record, "household_id").as_string().unwrap_or_default();
                    visits.entry(household).or_default().push(record);
                }
                Some("removed") => {
                    // Left the worker's grids. A household's visits are kept
                    // under its id, and leave with it.
                    let of = field(&record, "record").as_string().unwrap_or_default();
                    let id = field(&record, "id");
                    let stores = store_of(&of).into_iter().chain((of == "household").then_some("visits"));
                    for store in stores {
                        drop(tx.object_store(store)?.delete(id.clone())?);
                    }
                    removed = true;
                }
                Some(entity) => {
                    if let Some(store) = store_of(entity) {
                        slice.put(&tx.object_store(store)?, &record).await?;
                    }
                }
                None => {}
            }
        }
        merge_visits(&tx.object_store("visits")?, visits, &mut slice).await?;
        if let Some(state) = state {
            let text = serde_json::to_string(state).map_err(|e| StoreError(e.to_string()))?;
            drop(
                tx.object_store(META)?
                    .put(&JsValue::from_str(&text), Some(&JsValue::from_str("state")))?,
            );
        }
        tx.commit()?.await?;
        Ok(removed)
    }

    /// Adds pulled visits to their household's group (a visit pulled again
    /// replaces its earlier copy). The groups are read together, then written.
    async fn merge_visits(
        store: &idb::ObjectStore,
        visits: HashMap<String, Vec<JsValue>>,
        slice: &mut Slice,
    ) -> Result<(), StoreError> {
        let reads = visits
            .keys()
            .map(|household| store.get(JsValue::from_str(household)))
            .collect::<Result<Vec<_>, _>>()?;
        let found = futures::future::join_all(reads.into_iter().map(IntoFuture::into_future)).await;
        *slice = Slice::start();
        for ((household, pulled), found) in visits.into_iter().zip(found) {
            let group = found?.unwrap_or_else(|| {
                let group = js_sys::Object::new();
                let _ = js_sys::Reflect::set(&group, &"id".into(), &JsValue::from_str(&household));
                let _ = js_sys::Reflect::set(&group, &"visits".into(), &js_sys::Array::new());
                group.into()
            });
            let list: js_sys::Array = field(&group, "visits").dyn_into().unwrap_or_default();
            for visit in pulled {
                let id = field(&visit, "id");
                let _ = js_sys::Reflect::set(&group, &"grid_id".into(), &field(&visit, "grid_id"));
                match list.find_index(&mut |v, _, _| field(&v, "id") == id) {
                    -1 => {
                        list.push(&visit);
                    }
                    at => list.set(at as u32, visit),
                }
            }
            let _ = js_sys::Reflect::set(&group, &"visits".into(), &list);
            slice.put(store, &group).await?;
        }
        Ok(())
    }

    /// A household's visits as stored together.
    #[derive(Deserialize)]
    struct VisitGroup {
        visits: Vec<VisitRecord>,
    }

    async fn household_visits(db: &Database, household: &str) -> Result<Vec<VisitRecord>, StoreError> {
        Ok(get::<VisitGroup>(db, "visits", household)
            .await?
            .map(|g| g.visits)
            .unwrap_or_default())
    }

    async fn grid_visits(db: &Database, grid: &str) -> Result<Vec<VisitRecord>, StoreError> {
        let groups: Vec<VisitGroup> = by_index(db, "visits", "grid_id", grid).await?;
        Ok(groups.into_iter().flat_map(|g| g.visits).collect())
    }

    /// Removes every record of a grid the worker no longer holds.
    async fn forget_grid(db: &Database, grid_id: &str) -> Result<(), StoreError> {
        let tx = db.transaction(&RECORD_STORES, TransactionMode::ReadWrite)?;
        for name in RECORD_STORES {
            let store = tx.object_store(name)?;
            let keys = store
                .index("grid_id")?
                .get_all_keys(Some(Query::Key(JsValue::from_str(grid_id))), None)?
                .await?;
            for key in keys {
                drop(store.delete(key)?);
            }
        }
        tx.commit()?.await?;
        Ok(())
    }

    /// Drops the photos the service worker kept from the server (sw.js
    /// `PHOTO_CACHE`): some were of records that just left the phone. Those
    /// still in the worker's grids come again with the next look online.
    async fn forget_photos() {
        if let Some(Ok(caches)) = web_sys::window().map(|w| w.caches()) {
            let _ = wasm_bindgen_futures::JsFuture::from(caches.delete("gridwalk-photos-v1")).await;
        }
    }

    /// Brings the phone's copy up to date: changes after the cursor, a full
    /// copy of any grid newly assigned, and the data of grids taken away
    /// deleted. Every page is committed with its cursor, so a cut connection or
    /// a closed app resumes where it stopped.
    /// `Ok(false)` when the server could not be reached to the end.
    #[lazy]
    pub async fn pull(status: SyncStatus) -> Result<bool, String> {
        pull_changes(status).await.map_err(|e| e.to_string())
    }

    async fn pull_changes(status: SyncStatus) -> Result<bool, StoreError> {
        let db = open().await?;
        let mut state = read_state(&db).await?;
        let fresh = state.cursor == 0;
        let mut received = 0;
        // Whether a record left the phone: the photos kept of it go too.
        let mut left = false;
        let url = |cursor: i64| format!("/api/sync/pull?cursor={cursor}&limit={PAGE}");
        let mut next = fetch_page(status, &url(state.cursor)).await?;
        let (scope, policies, categories, member) = loop {
            let Some(page) = next.take() else { return Ok(false) };
            state.cursor = page.next_cursor;
            // The next page downloads while this one is written.
            let following = async {
                if page.more {
                    fetch_page(status, &url(page.next_cursor)).await
                } else {
                    Ok(None)
                }
            };
            let (written, following) =
                futures::future::join(write_page(&db, &page.records, Some(&state)), following).await;
            left |= written?;
            received += page.records.length();
            status.progress.set(Some(format!("已下载 {received} 条")));
            if !page.more {
                break (page.scope, page.policies, page.categories, page.member);
            }
            next = following?;
        };
        let held: Vec<String> = state.grids.iter().map(|g| g.id.clone()).collect();
        for grid in scope.iter().filter(|g| !fresh && !held.contains(&g.id)) {
            // Assigned since the last sync: its earlier changes lie before the cursor.
            let mut cursor = 0;
            loop {
                let url = format!("/api/sync/pull?cursor={cursor}&limit={PAGE}&grid={}", grid.id);
                let Some(page) = fetch_page(status, &url).await? else {
                    return Ok(false);
                };
                write_page(&db, &page.records, None).await?;
                cursor = page.next_cursor;
                if !page.more {
                    break;
                }
            }
        }
        for grid in held.iter().filter(|id| !scope.iter().any(|g| &g.id == *id)) {
            forget_grid(&db, grid).await?;
            left = true;
        }
        if left {
            forget_photos().await;
        }
        state.grids = scope;
        state.policies = policies;
        state.categories = categories;
        state.member = member;
        write_page(&db, &js_sys::Array::new(), Some(&state)).await?;
        Ok(true)
    }

    pub(crate) fn from_js<T: serde::de::DeserializeOwned>(value: &JsValue) -> Option<T> {
        let text = js_sys::JSON::stringify(value).ok()?.as_string()?;
        serde_json::from_str(&text).ok()
    }

    pub(crate) async fn get<T: serde::de::DeserializeOwned>(
        db: &Database,
        store: &str,
        id: &str,
    ) -> Result<Option<T>, StoreError> {
        let tx = db.transaction(&[store], TransactionMode::ReadOnly)?;
        let value = tx.object_store(store)?.get(JsValue::from_str(id))?.await?;
        tx.await?;
        Ok(value.as_ref().and_then(from_js))
    }

    pub(crate) async fn by_index<T: serde::de::DeserializeOwned>(
        db: &Database,
        store: &str,
        index: &str,
        key: &str,
    ) -> Result<Vec<T>, StoreError> {
        let tx = db.transaction(&[store], TransactionMode::ReadOnly)?;
        let values = tx
            .object_store(store)?
            .index(index)?
            .get_all(Some(Query::Key(JsValue::from_str(key))), None)?
            .await?;
        tx.await?;
        Ok(values.iter().filter_map(from_js).collect())
    }

    /// A record the phone does not hold reads as "no network": it may well exist.
    fn missing<T>(value: Option<T>) -> Result<T, ApiError> {
        value.ok_or(ApiError::Network)
    }

    pub(crate) fn store_error(_: StoreError) -> ApiError {
        ApiError::Network
    }

    async fn grid_name(db: &Database, grid_id: &str) -> Result<String, ApiError> {
        let state = read_state(db).await.map_err(store_error)?;
        Ok(state
            .grids
            .into_iter()
            .find(|g| g.id == grid_id)
            .map(|g| g.name)
            .unwrap_or_default())
    }

    #[lazy]
    pub async fn household(id: String) -> Result<HouseholdDetail, ApiError> {
        let db = open().await.map_err(store_error)?;
        let h: HouseholdRecord = missing(get(&db, "households", &id).await.map_err(store_error)?)?;
        let b: BuildingRecord = missing(get(&db, "buildings", &h.building_id).await.map_err(store_error)?)?;
        let residents = by_index(&db, "residents", "household_id", &id)
            .await
            .map_err(store_error)?;
        let visits = household_visits(&db, &id).await.map_err(store_error)?;
        let grid_name = grid_name(&db, &h.grid_id).await?;
        Ok(household_detail(&h, &b, grid_name, residents, visits, now_ms()))
    }

    #[lazy]
    pub async fn resident(id: String) -> Result<ResidentDetail, ApiError> {
        let db = open().await.map_err(store_error)?;
        let r: ResidentRecord = missing(get(&db, "residents", &id).await.map_err(store_error)?)?;
        let h: HouseholdRecord = missing(get(&db, "households", &r.household_id).await.map_err(store_error)?)?;
        let b: BuildingRecord = missing(get(&db, "buildings", &h.building_id).await.map_err(store_error)?)?;
        let visits = household_visits(&db, &h.id).await.map_err(store_error)?;
        let last = visits.iter().map(|v| v.visited_at).max();
        Ok(resident_detail(&r, &h, &b, last, now_ms()))
    }

    #[lazy]
    pub async fn building(id: String) -> Result<BuildingDetail, ApiError> {
        let db = open().await.map_err(store_error)?;
        let b: BuildingRecord = missing(get(&db, "buildings", &id).await.map_err(store_error)?)?;
        let households = by_index(&db, "households", "building_id", &id)
            .await
            .map_err(store_error)?;
        let residents: Vec<ResidentRecord> = by_index(&db, "residents", "grid_id", &b.grid_id)
            .await
            .map_err(store_error)?;
        let visits = grid_visits(&db, &b.grid_id).await.map_err(store_error)?;
        let state = read_state(&db).await.map_err(store_error)?;
        let grid_name = state
            .grids
            .iter()
            .find(|g| g.id == b.grid_id)
            .map(|g| g.name.clone())
            .unwrap_or_default();
        Ok(building_detail(
            &b,
            grid_name,
            households,
            (&residents, &visits),
            &state.policies,
            now_ms(),
        ))
    }

    /// A party member's id and cadence as of the last pull; `None` for staff.
    pub async fn member_duty() -> Option<MemberDuty> {
        let db = open().await.ok()?;
        read_state(&db).await.ok()?.member
    }

    /// The party members linked to a household, from the phone's copy of its
    /// record (`HouseholdRecord::party_members`, which the pages' parse skips).
    pub async fn linked_members(household_id: String) -> Vec<crate::sync::LinkedMember> {
        #[derive(Deserialize)]
        struct Linked {
            #[serde(default)]
            party_members: Vec<crate::sync::LinkedMember>,
        }
        let Ok(db) = open().await else {
            return Vec::new();
        };
        match get::<Linked>(&db, "households", &household_id).await {
            Ok(Some(linked)) => linked.party_members,
            _ => Vec::new(),
        }
    }

    /// A party member's due list from the phone's copy; `None` for staff.
    pub async fn member_due_list() -> Result<Option<MemberDue>, ApiError> {
        let db = open().await.map_err(store_error)?;
        let state = read_state(&db).await.map_err(store_error)?;
        let Some(duty) = &state.member else {
            return Ok(None);
        };
        let (mut buildings, mut households, mut visits) = (Vec::new(), Vec::new(), Vec::new());
        for grid in &state.grids {
            let in_grid: Vec<BuildingRecord> = by_index(&db, "buildings", "grid_id", &grid.id)
                .await
                .map_err(store_error)?;
            buildings.extend(in_grid);
            let in_grid: Vec<HouseholdRecord> = by_index(&db, "households", "grid_id", &grid.id)
                .await
                .map_err(store_error)?;
            households.extend(in_grid);
            visits.extend(grid_visits(&db, &grid.id).await.map_err(store_error)?);
        }
        let mut pending = Vec::new();
        for entry in crate::phone::engine::all_entries().await.map_err(store_error)? {
            if entry.state == crate::phone::engine::EntryState::Rejected {
                continue;
            }
            if let Ok(op) = serde_json::from_str::<crate::sync::Operation>(&entry.operation)
                && let crate::sync::Change::RecordVisit(v) = op.change
            {
                pending.push((v.household_id, v.visited_at));
            }
        }
        Ok(Some(member_due(
            duty,
            (&buildings, &households, &visits),
            &pending,
            now_ms(),
        )))
    }

    /// Each grid on the phone with its overdue key-group households.
    pub async fn overdue_lists() -> Result<Vec<(String, Vec<OverdueItem>)>, ApiError> {
        let db = open().await.map_err(store_error)?;
        let state = read_state(&db).await.map_err(store_error)?;
        let mut lists = Vec::new();
        for grid in &state.grids {
            let households: Vec<HouseholdRecord> = by_index(&db, "households", "grid_id", &grid.id)
                .await
                .map_err(store_error)?;
            let residents: Vec<ResidentRecord> = by_index(&db, "residents", "grid_id", &grid.id)
                .await
                .map_err(store_error)?;
            let visits = grid_visits(&db, &grid.id).await.map_err(store_error)?;
            let data = GridData {
                grid,
                buildings: by_index(&db, "buildings", "grid_id", &grid.id)
                    .await
                    .map_err(store_error)?,
                households: &households,
                residents: &residents,
                visits: &visits,
            };
            lists.push((grid.name.clone(), overdue(&data, &state.policies, now_ms())));
        }
        Ok(lists)
    }

    #[lazy]
    pub async fn grid(id: String, query: String) -> Result<GridDetail, ApiError> {
        let db = open().await.map_err(store_error)?;
        let state = read_state(&db).await.map_err(store_error)?;
        let grid = missing(state.grids.iter().find(|g| g.id == id))?;
        let households: Vec<HouseholdRecord> =
            by_index(&db, "households", "grid_id", &id).await.map_err(store_error)?;
        let residents: Vec<ResidentRecord> = by_index(&db, "residents", "grid_id", &id).await.map_err(store_error)?;
        let visits = grid_visits(&db, &id).await.map_err(store_error)?;
        let data = GridData {
            grid,
            buildings: by_index(&db, "buildings", "grid_id", &id).await.map_err(store_error)?,
            households: &households,
            residents: &residents,
            visits: &visits,
        };
        Ok(grid_detail(data, &query, now_ms()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Outcome, VisitType};
    use crate::policy::month_start;

    fn household(id: &str) -> HouseholdRecord {
        HouseholdRecord {
            id: id.into(),
            grid_id: "g".into(),
            building_id: "b".into(),
            unit: 1,
            floor: 3,
            door_number: format!("30{id}"),
            party_members: Vec::new(),
        }
    }

    fn visit(household: &str, at: i64, member: Option<&str>) -> VisitRecord {
        VisitRecord {
            id: format!("{household}-{at}"),
            grid_id: "g".into(),
            household_id: household.into(),
            visited_at: at,
            visit_type: VisitType::Routine,
            outcome: Outcome::Met,
            worker_name: String::new(),
            notes: String::new(),
            photos: Vec::new(),
            party_member_id: member.map(Into::into),
        }
    }

    #[test]
    fn a_members_list_counts_their_own_visits_and_the_outbox_in_the_calendar_period() {
        let building = BuildingRecord {
            id: "b".into(),
            grid_id: "g".into(),
            number: 3,
            name: "3号楼".into(),
            address: String::new(),
            units: 2,
            floors: 6,
            doors_per_floor: 2,
        };
        let households = [household("1"), household("2"), household("3")];
        let duty = MemberDuty {
            member_id: "m".into(),
            cadence_months: 3,
        };
        // 1 April 2026, 09:00 Beijing: the quarter began at midnight.
        let quarter = month_start(2026, 4);
        let now = quarter + 9 * 3_600_000;
        let visits = [
            // Theirs, on 31 March 23:00 Beijing: last quarter.
            visit("1", quarter - 3_600_000, Some("m")),
            // A worker's visit this quarter: not the member's.
            visit("2", quarter + 3_600_000, None),
        ];
        let data = (std::slice::from_ref(&building), &households[..], &visits[..]);
        let due = member_due(&duty, data, &[], now);
        assert_eq!(due.period_start, quarter);
        assert!(!due.done);
        let order: Vec<(&str, Option<i64>)> = due.households.iter().map(|(id, _, at)| (id.as_str(), *at)).collect();
        assert_eq!(order, [("2", None), ("3", None), ("1", Some(quarter - 3_600_000))]);
        assert_eq!(due.households[0].1, "3号楼1单元302");
        // A visit waiting in the outbox counts at once.
        let due = member_due(&duty, data, &[("3".into(), now - 60_000)], now);
        assert!(due.done);
        assert_eq!(
            due.households[2],
            ("3".into(), "3号楼1单元303".into(), Some(now - 60_000))
        );
    }
}
