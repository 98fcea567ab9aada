//! Party members at work, for the party benchmarks (`server generate-party`):
//! many in-service members per grid from some fifty outside units, each
//! linked to two hardship and two ordinary households, a year of their visits
//! recorded at the desk (one per cadence period, most of them; the rest have
//! missed the current period, so the overdue list is not empty) and a year of
//! activities with members checked in. Written the way the app writes them
//! (`insert_visit` and `mark_party_visit`, `insert_activity` and `check_in`),
//! so the figures the pages show come from the same rows.

use app::clock::DAY_MS;
use store::Tx;
use store::activities::{ActivityFields, CheckIn};
use store::party::{MemberFields, NewMember};
use store::visits::NewVisit;

use super::GridRows;
use super::rng::Rng;

const SURNAMES: &[&str] = &["王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙"];
const GIVEN: &[&str] = &[
    "建国", "红梅", "志强", "秀英", "国华", "丽", "振华", "玉兰", "海燕", "晓东",
];
/// Outside units: the unit report has a sheet for each.
const UNITS: usize = 50;
/// (rank, cadence in months), in the proportions of a district's members.
const RANKS: &[(&str, i64)] = &[("county_leader", 3), ("committee", 1), ("member", 2), ("member", 2)];

/// One grid's members, where they come from and who records for them.
pub(super) struct GridService<'a> {
    pub community_id: &'a str,
    pub grid_id: &'a str,
    pub lead_id: &'a str,
    pub members: usize,
    /// Numbers members across the community, so names and units spread.
    pub first_member: usize,
    pub now_ms: i64,
}

/// Writes the grid's members, links and a year of visits; returns the
/// members' ids and how many visits.
pub(super) async fn write_members(
    tx: &mut Tx,
    rng: &mut Rng,
    grid: &GridService<'_>,
    rows: &GridRows,
) -> Result<(Vec<String>, usize), store::Error> {
    let hardship = super::party::hardship_households(rows);
    let (hard, plain): (Vec<&str>, Vec<&str>) = rows
        .households
        .iter()
        .map(|h| h.id.as_str())
        .partition(|h| hardship.contains(h));
    let branch = tx.party_branch(grid.community_id, "第一党支部").await?;
    let year_ago = grid.now_ms - 365 * DAY_MS;
    let registered_on = app::domain::CivilDate::from_epoch_ms(year_ago - 30 * DAY_MS).to_string();
    let mut ids = Vec::with_capacity(grid.members);
    let mut visits = 0;
    for i in 0..grid.members {
        let n = grid.first_member + i;
        let name = format!("{}{}{}", rng.pick(SURNAMES), rng.pick(GIVEN), n);
        let unit = format!("区直单位{:02}", n % UNITS + 1);
        let org = format!("{unit}机关党委");
        let (rank, months) = RANKS[n % RANKS.len()];
        let phone = format!("139{:08}", rng.range(0, 100_000_000));
        let id = rng.uuid_v7(year_ago);
        tx.insert_party_member(NewMember {
            id: &id,
            community_id: grid.community_id,
            kind: "in_service",
            resident_id: None,
            fields: MemberFields {
                name: &name,
                unit: &unit,
                unit_party_org: &org,
                rank,
                work_phone: Some(&phone),
                branch_id: &branch,
                group_id: None,
                registered_on: &registered_on,
            },
            at: year_ago,
        })
        .await?;
        // Two of each kind (hardship from the ordinary doors when a grid has too few).
        let mut linked = Vec::with_capacity(4);
        for (kind, doors) in [
            ("hardship", &hard),
            ("hardship", &hard),
            ("ordinary", &plain),
            ("ordinary", &plain),
        ] {
            let doors = if doors.is_empty() { &plain } else { doors };
            if doors.is_empty() {
                continue;
            }
            let door = *rng.pick(doors);
            if !linked.contains(&door) {
                tx.link_party_household(&id, door, kind, year_ago).await?;
                linked.push(door);
            }
        }
        if linked.is_empty() {
            ids.push(id);
            continue;
        }
        // One visit a period over the year; a third have missed the current one.
        let period = months * 30 * DAY_MS;
        let missed = rng.chance(0.33);
        let mut at = year_ago + rng.range(0, period as u64) as i64;
        while at < grid.now_ms - if missed { period } else { 0 } {
            let visit_id = rng.uuid_v7(at);
            let household = *rng.pick(&linked);
            let minutes = 30 * rng.range(1, 5) as i64;
            let visit = NewVisit {
                id: &visit_id,
                household_id: household,
                worker_id: grid.lead_id,
                visited_at: at,
                visit_type: "routine",
                outcome: "met",
                notes: "党员走访联系户",
                created_at: at,
                residents_seen: &[],
                photos: &[],
                concerns: Vec::new(),
            };
            tx.insert_visit(&visit).await?;
            tx.mark_party_visit(&visit_id, &id, minutes).await?;
            tx.record_change("visit", &visit_id, grid.grid_id, grid.now_ms);
            visits += 1;
            at += period - rng.range(0, 10) as i64 * DAY_MS;
        }
        ids.push(id);
    }
    Ok((ids, visits))
}

/// A year of the community's activities, weekly, two hours each, with a
/// random fifth of the members checked in; returns how many check-ins.
pub(super) async fn write_activities(
    tx: &mut Tx,
    rng: &mut Rng,
    community_id: &str,
    lead_id: &str,
    members: &[String],
    now_ms: i64,
) -> Result<usize, store::Error> {
    let mut checked = 0;
    for week in 1..52 {
        let starts_at = now_ms - week * 7 * DAY_MS;
        let id = rng.uuid_v7(starts_at);
        let fields = ActivityFields {
            team_id: None,
            title: "党员志愿服务：环境整治",
            place: "社区广场",
            starts_at,
            ends_at: starts_at + 2 * 3_600_000,
            credit_minutes: 120,
        };
        tx.insert_activity(&id, community_id, fields, lead_id, starts_at)
            .await?;
        for member in members.iter().filter(|_| rng.chance(0.2)) {
            tx.check_in(CheckIn {
                activity_id: &id,
                member: Some(member),
                resident: None,
                by: lead_id,
                credit_minutes: 120,
                at: starts_at,
            })
            .await?;
            checked += 1;
        }
    }
    Ok(checked)
}
