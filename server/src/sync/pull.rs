//! `GET /api/sync/pull`: the records changed after a device's cursor, paged by
//! the change sequence, in the grids the caller may see now.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use app::api::parse_id;
use app::auth::ssr::Caller;
use app::domain::{CivilDate, Gender, KeyGroup, Outcome, RegistrationType, VisitType, mask_id_number, mask_phone};
use app::error::ApiError;
use app::policy::Policy;
use app::requests::{Category, RequestStatus, Source};
use app::sync::{
    BuildingRecord, GridRef, HouseholdRecord, LinkedMember, MemberDuty, PullResponse, Record, Removable, Removal,
    RequestRecord, ResidentRecord, VisitRecord,
};
use axum::Json;
use axum::extract::{Extension, Query};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use store::Store;
use store::pull::{PulledBuilding, PulledHousehold, PulledResident, PulledVisit, Range};
use store::requests::PulledRequest;
use store::scope::Reach;

use super::corrupt;
use super::snapshot::{Key, SHARED_FROM, Snapshots};
use crate::auth::Api;

const DEFAULT_PAGE: i64 = 1000;
const MAX_PAGE: i64 = 5000;

/// `GET /api/sync/pull?cursor=N&limit=M[&grid=ID]`. `scope` always lists every
/// grid the caller may see now (a device drops data of grids not listed), also
/// when `grid` narrows the records to one of them. A large page (a first
/// sync's) is shared by the phones that ask for it (`snapshot`).
#[utoipa::path(get, path = "/api/sync/pull", tag = "sync", operation_id = "syncPull",
    summary = "Records changed after a cursor",
    description = "What changed after the device's cursor, in the grids the caller may see now. Page until `more` \
        is false.",
    params(
        ("cursor" = Option<i64>, Query, minimum = 0, description = "`next_cursor` of the previous page; 0 (the \
            default) for everything."),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 5000, description = "Most changes per page; \
            default 1000."),
        ("grid" = Option<String>, Query, format = Uuid, description = "Only records of this grid (one of \
            `scope`); 404 if not the caller's."),
    ),
    responses(
        (status = 200, description = "One page of changes.", body = app::sync::PullResponse),
        (status = 400, description = "Bad parameter (bad_request): 参数 limit 应为 1 到 5000 之间的整数, or \
            编号格式不正确 for `grid`.", body = app::error::ErrorBody,
            example = json!({"error": "bad_request", "message": "参数 limit 应为 1 到 5000 之间的整数"})),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 404, response = crate::openapi::NotFound),
        (status = 408, response = crate::openapi::Timeout),
        (status = 500, response = crate::openapi::Internal),
        (status = 503, response = crate::openapi::Busy),
    ))]
pub async fn pull(
    Api(caller): Api,
    Extension(snapshots): Extension<Arc<Snapshots>>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let cursor = int_param(&params, "cursor", 0, 0, i64::MAX)?;
    let limit = int_param(&params, "limit", DEFAULT_PAGE, 1, MAX_PAGE)?;
    let grid = params.get("grid").map(|g| parse_id(g)).transpose()?;
    let scope = grid_refs(&caller).await?;
    let grids: Vec<String> = match grid {
        Some(grid) if scope.iter().any(|g| g.id == grid) => vec![grid],
        Some(_) => return Err(ApiError::not_found()),
        None => scope.iter().map(|g| g.id.clone()).collect(),
    };
    // Two small reads every page carries, side by side.
    let (policies, categories) = tokio::try_join!(
        app::policy::ssr::policies(&caller.store),
        crate::requests::categories(&caller.store),
    )?;
    let held: Vec<String> = scope.iter().map(|g| g.id.clone()).collect();
    let reach = caller.reach().await?;
    let envelope = Envelope {
        scope,
        policies,
        categories,
        member: reach.as_ref().map(|r| MemberDuty {
            member_id: r.member_id.clone(),
            cadence_months: r.cadence_months,
        }),
    };
    if grids.is_empty() {
        return Ok(Json(answer(envelope, empty_page(cursor))).into_response());
    }
    // The head before the page: what the page holds is then at least as new
    // as the head it is kept with.
    let head = match snapshots.enabled() {
        true => caller.store.grids_head(&grids).await?,
        false => 0,
    };
    // One row past the page tells whether more wait.
    let mut seqs = caller.store.change_seqs(&grids, cursor, limit + 1).await?;
    let more = seqs.len() as i64 > limit;
    seqs.truncate(limit as usize);
    // A member's page is their own (`within_reach`): not shared.
    if snapshots.enabled() && seqs.len() >= SHARED_FROM && reach.is_none() {
        let key = Key {
            envelope: serde_json::to_string(&(&envelope.scope, &envelope.policies, &envelope.categories))
                .map_err(|_| ApiError::Internal)?,
            grids: grids.clone(),
            cursor,
            limit,
        };
        let snapshot = snapshots
            .page(key, head, || async {
                let page = load_page(&caller.store, (&grids, &held, None), cursor, &seqs, more).await?;
                let (next_cursor, records) = (page.next_cursor, page.records.len());
                let json = serde_json::to_vec(&answer(envelope, page)).map_err(|_| ApiError::Internal)?;
                Ok((json, next_cursor, records))
            })
            .await?;
        log_read(&caller, cursor, snapshot.next_cursor, snapshot.records).await?;
        return Ok(snapshot.response(&headers));
    }
    let page = load_page(&caller.store, (&grids, &held, reach.as_ref()), cursor, &seqs, more).await?;
    log_read(&caller, cursor, page.next_cursor, page.records.len()).await?;
    Ok(Json(answer(envelope, page)).into_response())
}

/// What every page carries besides its records.
struct Envelope {
    scope: Vec<GridRef>,
    policies: Vec<Policy>,
    categories: Vec<Category>,
    member: Option<MemberDuty>,
}

fn answer(envelope: Envelope, page: Page) -> PullResponse {
    PullResponse {
        scope: envelope.scope,
        policies: envelope.policies,
        categories: envelope.categories,
        member: envelope.member,
        records: page.records,
        next_cursor: page.next_cursor,
        more: page.more,
    }
}

/// PIPL access log: one row per page (not per resident), naming the range of
/// the change sequence, which says exactly which records were read. Also when
/// the page came from the shared snapshot: this caller read it.
async fn log_read(caller: &Caller, cursor: i64, next_cursor: i64, records: usize) -> Result<(), ApiError> {
    if records > 0 {
        let range = format!("seq {cursor}..={next_cursor}");
        caller.audit("read", "sync_pull", &range).await?;
    }
    Ok(())
}

fn int_param(params: &HashMap<String, String>, name: &str, default: i64, min: i64, max: i64) -> Result<i64, ApiError> {
    let Some(text) = params.get(name) else {
        return Ok(default);
    };
    text.parse::<i64>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| ApiError::BadRequest(format!("参数 {name} 应为 {min} 到 {max} 之间的整数")))
}

/// The caller's grids with their names, in the order `visible_grids` gives.
async fn grid_refs(caller: &Caller) -> Result<Vec<GridRef>, ApiError> {
    let ids = caller.user.visible_grids(&caller.store).await?;
    let names: HashMap<String, String> = caller.store.grid_names(&ids).await?.into_iter().collect();
    Ok(ids
        .into_iter()
        .filter_map(|id| names.get(&id).cloned().map(|name| GridRef { id, name }))
        .collect())
}

struct Page {
    records: Vec<Record>,
    next_cursor: i64,
    more: bool,
}

fn empty_page(cursor: i64) -> Page {
    Page {
        records: Vec::new(),
        next_cursor: cursor,
        more: false,
    }
}

/// One page of the changes in `grids`, from its change numbers (`seqs`, one
/// indexed query): one joined query per entity type over their range, not one
/// query per record. `held` is every grid the caller may see now; `reach`
/// narrows a party member's account to their households.
async fn load_page(
    store: &Store,
    (grids, held, reach): (&[String], &[String], Option<&Reach>),
    cursor: i64,
    seqs: &[i64],
    more: bool,
) -> Result<Page, ApiError> {
    let Some(&upper) = seqs.last() else {
        return Ok(empty_page(cursor));
    };
    let range = Range {
        after: cursor,
        upto: upper,
        grids,
    };
    let mut records: Vec<(i64, Record)> = Vec::new();
    records.extend(store.pulled_buildings(range).await?.into_iter().map(building));
    records.extend(store.pulled_households(range).await?.into_iter().map(household));
    for row in store.pulled_residents(range).await? {
        records.push(resident(row)?);
    }
    for row in store.pulled_visits(range).await? {
        records.push(visit(row)?);
    }
    // Ended a quarter ago: nothing left to do at the door.
    let ended_before = app::state::now_ms() - 90 * app::clock::DAY_MS;
    for row in store.pulled_requests(range, ended_before).await? {
        records.push(request(row)?);
    }
    let records = records
        .into_iter()
        .filter_map(|(seq, r)| in_page(r, grids, held).map(|r| (seq, r)))
        .filter_map(|(seq, r)| match reach {
            Some(reach) => within_reach(r, reach).map(|r| (seq, r)),
            None => Some((seq, r)),
        })
        .collect();
    Ok(Page {
        records: latest_only(records),
        next_cursor: upper,
        more,
    })
}

/// An entity changed twice in one page is sent once, at its last position.
fn latest_only(mut records: Vec<(i64, Record)>) -> Vec<Record> {
    records.sort_by_key(|(seq, _)| *seq);
    let mut seen = HashSet::new();
    let mut out: Vec<Record> = records
        .into_iter()
        .rev()
        .filter(|(_, r)| seen.insert(record_key(r)))
        .map(|(_, r)| r)
        .collect();
    out.reverse();
    out
}

/// The record's kind (`None`: a visit) and id. A removal has its record's
/// key: of a record and its removal in one page, the later stays.
fn record_key(record: &Record) -> (Option<Removable>, String) {
    match record {
        Record::Building(b) => (Some(Removable::Building), b.id.clone()),
        Record::Household(h) => (Some(Removable::Household), h.id.clone()),
        Record::Resident(r) => (Some(Removable::Resident), r.id.clone()),
        Record::Visit(v) => (None, v.id.clone()),
        Record::Request(r) => (Some(Removable::Request), r.id.clone()),
        Record::Removed(r) => (Some(r.record), r.id.clone()),
    }
}

/// What the page sends of a changed record, by the grid it is in now (not
/// the one at change time): the record if the page covers that grid; nothing
/// if it is another grid the caller holds, whose own changes carry it (a pull
/// narrowed to one grid); else a removal, as the record left the caller's
/// grids and a phone may hold it from before (a move writes a change in the
/// grid left, so even a phone offline across it learns). A visit leaves with
/// its household, whose removal takes the visits along.
fn in_page(record: Record, grids: &[String], held: &[String]) -> Option<Record> {
    let (grid, removable) = match &record {
        Record::Building(b) => (&b.grid_id, Some((Removable::Building, &b.id))),
        Record::Household(h) => (&h.grid_id, Some((Removable::Household, &h.id))),
        Record::Resident(r) => (&r.grid_id, Some((Removable::Resident, &r.id))),
        Record::Visit(v) => (&v.grid_id, None),
        Record::Request(r) => (&r.grid_id, Some((Removable::Request, &r.id))),
        Record::Removed(_) => return Some(record),
    };
    if grids.contains(grid) {
        return Some(record);
    }
    if held.contains(grid) {
        return None;
    }
    removable.map(|(record, id)| Record::Removed(Removal { record, id: id.clone() }))
}

/// What a party member's phone gets of a record its grids' pages carry: the
/// buildings it serves and its households with their residents and visits.
/// The grid's other buildings, households and residents come as removals, as
/// records leaving a worker's grids do: the phone may hold them from before
/// an unlinking, which sends the household's records again. No requests, and
/// no visit of another household (visits leave with their household).
fn within_reach(record: Record, reach: &Reach) -> Option<Record> {
    let removal = |record, id: String| Some(Record::Removed(Removal { record, id }));
    match record {
        Record::Building(b) if !reach.has_building(&b.id) => removal(Removable::Building, b.id),
        Record::Household(h) if !reach.has_household(&h.id) => removal(Removable::Household, h.id),
        // The member visits for themselves: the other members are not theirs to know.
        Record::Household(h) => Some(Record::Household(HouseholdRecord {
            party_members: Vec::new(),
            ..h
        })),
        Record::Resident(r) if !reach.has_household(&r.household_id) => removal(Removable::Resident, r.id),
        Record::Visit(v) if !reach.has_household(&v.household_id) => None,
        Record::Request(_) => None,
        record => Some(record),
    }
}

fn building(b: PulledBuilding) -> (i64, Record) {
    let record = BuildingRecord {
        id: b.id,
        grid_id: b.grid_id,
        number: b.number,
        name: b.name,
        address: b.address,
        units: b.units,
        floors: b.floors,
        doors_per_floor: b.doors_per_floor,
    };
    (b.seq, Record::Building(record))
}

fn household(h: PulledHousehold) -> (i64, Record) {
    let record = HouseholdRecord {
        id: h.id,
        grid_id: h.grid_id,
        building_id: h.building_id,
        unit: h.unit,
        floor: h.floor,
        door_number: h.door_number,
        party_members: h
            .party_members
            .into_iter()
            .map(|(id, name)| LinkedMember { id, name })
            .collect(),
    };
    (h.seq, Record::Household(record))
}

/// Residents leave masked, as on every other route: the ID number's last four
/// characters and the birth year, nothing that rebuilds the number.
fn resident(pulled: PulledResident) -> Result<(i64, Record), ApiError> {
    let PulledResident {
        seq,
        grid_id,
        resident: r,
        tags,
    } = pulled;
    let mut tags = tags
        .iter()
        .map(|tag| KeyGroup::parse(tag).ok_or_else(|| corrupt("tag", tag)))
        .collect::<Result<Vec<_>, _>>()?;
    tags.sort();
    let record = ResidentRecord {
        gender: Gender::parse(&r.gender).ok_or_else(|| corrupt("gender", &r.gender))?,
        registration_type: RegistrationType::parse(&r.registration_type)
            .ok_or_else(|| corrupt("registration_type", &r.registration_type))?,
        id_number_masked: r.id_number.as_deref().map(mask_id_number),
        phone_masked: r.phone.as_deref().map(mask_phone),
        tags,
        moved_out: r.moved_out,
        id: r.id,
        grid_id,
        household_id: r.household_id,
        name: r.name,
        birth_year: CivilDate::parse(&r.birth_date)
            .ok_or_else(|| corrupt("birth_date", &r.birth_date))?
            .year(),
        photo: r.photo,
    };
    Ok((seq, Record::Resident(record)))
}

fn visit(v: PulledVisit) -> Result<(i64, Record), ApiError> {
    let record = VisitRecord {
        visit_type: VisitType::parse(&v.visit_type).ok_or_else(|| corrupt("visit_type", &v.visit_type))?,
        outcome: Outcome::parse(&v.outcome).ok_or_else(|| corrupt("outcome", &v.outcome))?,
        id: v.id,
        grid_id: v.grid_id,
        household_id: v.household_id,
        visited_at: v.visited_at,
        worker_name: v.worker_name,
        notes: v.notes,
        photos: v.photos,
        party_member_id: v.party_member_id,
    };
    Ok((v.seq, Record::Visit(record)))
}

fn request(r: PulledRequest) -> Result<(i64, Record), ApiError> {
    let record = RequestRecord {
        source: Source::parse(&r.source).ok_or_else(|| corrupt("source", &r.source))?,
        status: RequestStatus::parse(&r.status).ok_or_else(|| corrupt("request status", &r.status))?,
        assignee: r.assignee_name.or(r.assignee_unit),
        id: r.id,
        grid_id: r.grid_id,
        household_id: r.household_id,
        building_id: r.building_id,
        place: r.place,
        category: r.category,
        text: r.text,
        first_contact: r.first_contact,
        assignee_id: r.assignee_id,
        created_at: r.created_at,
        resolve_due: r.resolve_due,
        resolution: r.resolution,
        reopen_count: r.reopen_count,
    };
    Ok((r.seq, Record::Request(record)))
}
