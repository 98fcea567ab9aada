//! The demo's party members: two in-service members per grid, registered
//! with the community's first branch and the grid's party group. The first
//! has a hardship household, an ordinary one and the grid's first building
//! (楼栋党员); the second only a hardship household, so the roster shows the
//! "联系户未配齐" warning too. A random stream of its own, so the rest of the
//! demo is the same with or without them.

use std::collections::HashSet;

use store::Tx;
use store::party::{MemberFields, NewMember};

use super::GridRows;
use super::rng::Rng;

const NAMES: &[&str] = &[
    "王建国",
    "李红梅",
    "张志强",
    "刘秀英",
    "陈国华",
    "杨丽",
    "赵振华",
    "周玉兰",
];
const UNITS: &[(&str, &str)] = &[
    ("区教育局", "区教育局机关党委"),
    ("区人民医院", "区人民医院党委"),
    ("区税务局", "区税务局机关党委"),
    ("市自来水公司", "市自来水公司党委"),
];
const RANKS: &[&str] = &["county_leader", "committee", "member", "member"];

/// The grid's households with a key-group resident: a member's hardship
/// households (困难/重点户) are drawn from these.
pub(super) fn hardship_households(rows: &GridRows) -> HashSet<&str> {
    let tagged: HashSet<&str> = rows.tags.iter().map(|t| t.resident_id.as_str()).collect();
    rows.residents
        .iter()
        .filter(|r| tagged.contains(r.id.as_str()))
        .map(|r| r.household_id.as_str())
        .collect()
}

/// Where the grid's members go and when they registered.
pub(super) struct GridParty<'a> {
    pub community_id: &'a str,
    pub grid_id: &'a str,
    pub grid_name: &'a str,
    /// The grid's number in the street, from 1.
    pub grid_no: usize,
    pub today: app::domain::CivilDate,
    pub at: i64,
}

/// Writes the grid's two members and their links; returns how many members.
pub(super) async fn write(
    tx: &mut Tx,
    rng: &mut Rng,
    grid: &GridParty<'_>,
    rows: &GridRows,
) -> Result<usize, store::Error> {
    let hardship = hardship_households(rows);
    let lived_in: HashSet<&str> = rows.residents.iter().map(|r| r.household_id.as_str()).collect();
    let mut hardship_doors = rows.households.iter().filter(|h| hardship.contains(h.id.as_str()));
    let mut ordinary_doors = rows
        .households
        .iter()
        .filter(|h| lived_in.contains(h.id.as_str()) && !hardship.contains(h.id.as_str()));
    let branch = tx.party_branch(grid.community_id, "第一党支部").await?;
    let group = tx.party_group(&branch, &format!("{}党小组", grid.grid_name)).await?;
    tx.set_party_group_grid(&group, Some(grid.grid_id)).await?;
    let registered_on = grid.today.to_string();
    for i in 0..2 {
        let n = (grid.grid_no - 1) * 2 + i;
        let (unit, org) = UNITS[n % UNITS.len()];
        let phone = format!("139{:08}", rng.range(0, 100_000_000));
        let id = rng.uuid_v7(grid.at);
        tx.insert_party_member(NewMember {
            id: &id,
            community_id: grid.community_id,
            kind: "in_service",
            resident_id: None,
            fields: MemberFields {
                name: NAMES[n % NAMES.len()],
                unit,
                unit_party_org: org,
                rank: RANKS[n % RANKS.len()],
                work_phone: Some(&phone),
                branch_id: &branch,
                group_id: Some(&group),
                registered_on: &registered_on,
            },
            at: grid.at,
        })
        .await?;
        if let Some(door) = hardship_doors.next() {
            tx.link_party_household(&id, &door.id, "hardship", grid.at).await?;
        }
        if i == 0 {
            if let Some(door) = ordinary_doors.next() {
                tx.link_party_household(&id, &door.id, "ordinary", grid.at).await?;
            }
            if let Some(building) = rows.buildings.first() {
                tx.link_party_building(&id, &building.id, grid.at).await?;
            }
        }
    }
    Ok(2)
}
