//! Party members in the grid (`party_members`, `party_branches`,
//! `party_groups`, `party_member_households`, `party_member_buildings`,
//! `party_cadences`): a community's roster, each member's 联系户 and 楼栋党员
//! links, and the visit cadence by rank. Nothing here enters the change feed:
//! phones do not hold party data yet. Writes run in the caller's transaction,
//! beside the audit row that records them.

use crate::engine::{on_pool, on_tx};
use crate::{Result, Store, Tx};

/// A member as the roster and the member page show them; the work phone
/// whole, for the caller to mask.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MemberRow {
    pub id: String,
    pub community_id: String,
    pub community_name: String,
    pub kind: String,
    pub resident_id: Option<String>,
    /// The resident's current name for a resident member.
    pub name: String,
    pub unit: String,
    pub unit_party_org: String,
    pub rank: String,
    pub work_phone: Option<String>,
    pub branch_id: String,
    pub branch: String,
    pub group_id: Option<String>,
    pub group_name: Option<String>,
    pub registered_on: String,
    pub status: String,
    /// Linked hardship / key-group households, ordinary households, buildings.
    pub hardship_links: i64,
    pub ordinary_links: i64,
    pub building_links: i64,
}

/// A member's phone account (role `member`).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MemberAccountRow {
    pub user_id: String,
    pub username: String,
    pub must_change_password: bool,
    pub disabled_at: Option<i64>,
}

/// The roster's filters; empty matches any.
#[derive(Debug, Clone, Copy, Default)]
pub struct RosterQuery<'a> {
    /// Empty: every community (an admin).
    pub community: &'a str,
    pub branch: &'a str,
    pub group: &'a str,
    pub status: &'a str,
}

/// A new registration.
#[derive(Debug, Clone, Copy)]
pub struct NewMember<'a> {
    pub id: &'a str,
    pub community_id: &'a str,
    pub kind: &'a str,
    pub resident_id: Option<&'a str>,
    pub fields: MemberFields<'a>,
    pub at: i64,
}

/// What a lead edits of a member.
#[derive(Debug, Clone, Copy)]
pub struct MemberFields<'a> {
    pub name: &'a str,
    pub unit: &'a str,
    pub unit_party_org: &'a str,
    pub rank: &'a str,
    pub work_phone: Option<&'a str>,
    pub branch_id: &'a str,
    pub group_id: Option<&'a str>,
    pub registered_on: &'a str,
}

/// A branch or group of a community, for the roster's filters and forms.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct GroupRow {
    pub branch_id: String,
    pub branch: String,
    /// `None`: a branch without groups yet.
    pub group_id: Option<String>,
    pub group_name: Option<String>,
    pub grid_name: Option<String>,
}

/// A household linked to a member, with where it is.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LinkedHouseholdRow {
    pub household_id: String,
    pub building_name: String,
    pub grid_name: String,
    pub unit: i64,
    pub door_number: String,
    pub kind: String,
}

/// A building linked to a member.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LinkedBuildingRow {
    pub building_id: String,
    pub building_name: String,
    pub grid_name: String,
}

/// A member linked to a household (or, `kind` `building`, to its building).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HouseholdMemberRow {
    pub member_id: String,
    pub name: String,
    pub rank: String,
    pub work_phone: Option<String>,
    pub kind: String,
}

/// A household where a search found it, with whether key-group residents live there.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DoorRow {
    pub id: String,
    pub community_id: String,
    pub building_id: String,
    pub building_name: String,
    pub grid_name: String,
    pub unit: i64,
    pub door_number: String,
    pub key_group: bool,
}

/// A building of a community, for the link forms.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CommunityBuildingRow {
    pub id: String,
    pub community_id: String,
    pub name: String,
    pub grid_name: String,
}

/// A resident found by name for registration, with the community they live in.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ResidentHitRow {
    pub id: String,
    pub name: String,
    pub birth_date: String,
    pub community_id: String,
    pub building_name: String,
    pub unit: i64,
    pub door_number: String,
}

const MEMBERS: &str = "SELECT m.id, m.community_id, c.name AS community_name, m.kind, m.resident_id,
            COALESCE(r.name, m.name) AS name, m.unit, m.unit_party_org, m.rank, m.work_phone,
            m.branch_id, b.name AS branch, m.group_id, g.name AS group_name, m.registered_on, m.status,
            CAST((SELECT COUNT(*) FROM party_member_households l
                  WHERE l.member_id = m.id AND l.kind = 'hardship') AS BIGINT) AS hardship_links,
            CAST((SELECT COUNT(*) FROM party_member_households l
                  WHERE l.member_id = m.id AND l.kind = 'ordinary') AS BIGINT) AS ordinary_links,
            CAST((SELECT COUNT(*) FROM party_member_buildings l WHERE l.member_id = m.id) AS BIGINT) AS building_links
     FROM party_members m
     JOIN communities c ON c.id = m.community_id
     JOIN party_branches b ON b.id = m.branch_id
     LEFT JOIN party_groups g ON g.id = m.group_id
     LEFT JOIN residents r ON r.id = m.resident_id";
const ROSTER_WHERE: &str = " WHERE ($1 = '' OR m.community_id = $1) AND ($2 = '' OR m.branch_id = $2)
       AND ($3 = '' OR m.group_id = $3) AND ($4 = '' OR m.status = $4)
     ORDER BY c.name, b.name, COALESCE(r.name, m.name), m.id";
const SAME_RESIDENT: &str = "SELECT id FROM party_members WHERE resident_id = $1";
const SAME_IN_SERVICE: &str = "SELECT id FROM party_members
     WHERE community_id = $1 AND kind = 'in_service' AND name = $2 AND unit = $3 AND work_phone = $4 AND id <> $5";
const CADENCES: &str = "SELECT rank, period_months FROM party_cadences ORDER BY period_months, rank";
const GROUPS: &str = "SELECT b.id AS branch_id, b.name AS branch, g.id AS group_id, g.name AS group_name,
            gr.name AS grid_name
     FROM party_branches b LEFT JOIN party_groups g ON g.branch_id = b.id
     LEFT JOIN grids gr ON gr.id = g.grid_id
     WHERE b.community_id = $1 ORDER BY b.name, g.name";
const BRANCH: &str = "SELECT id FROM party_branches WHERE community_id = $1 AND name = $2";
const INSERT_BRANCH: &str = "INSERT INTO party_branches (id, community_id, name) VALUES ($1, $2, $3)
     ON CONFLICT (community_id, name) DO NOTHING";
const GROUP: &str = "SELECT id FROM party_groups WHERE branch_id = $1 AND name = $2";
const INSERT_GROUP: &str = "INSERT INTO party_groups (id, branch_id, name, grid_id) VALUES ($1, $2, $3, NULL)
     ON CONFLICT (branch_id, name) DO NOTHING";
const SET_GROUP_GRID: &str = "UPDATE party_groups SET grid_id = $2 WHERE id = $1";
const INSERT_MEMBER: &str =
    "INSERT INTO party_members (id, community_id, kind, resident_id, name, unit, unit_party_org,
            rank, work_phone, branch_id, group_id, registered_on, status, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'active', $13, $13)";
const UPDATE_MEMBER: &str = "UPDATE party_members SET name = $2, unit = $3, unit_party_org = $4, rank = $5,
            work_phone = $6, branch_id = $7, group_id = $8, registered_on = $9, updated_at = $10
     WHERE id = $1";
const MEMBER_ACCOUNT: &str = "SELECT u.id AS user_id, u.username, u.must_change_password, u.disabled_at
     FROM party_members m JOIN users u ON u.id = m.user_id WHERE m.id = $1";
// Only a member without an account gets one: two leads at once make one.
const SET_MEMBER_USER: &str =
    "UPDATE party_members SET user_id = $2, updated_at = $3 WHERE id = $1 AND user_id IS NULL";
const SET_STATUS: &str = "UPDATE party_members SET status = $2, moved_at = $3, updated_at = $4 WHERE id = $1";
const LINKED_HOUSEHOLDS: &str = "SELECT l.household_id, b.name AS building_name, g.name AS grid_name, h.unit,
            h.door_number, l.kind
     FROM party_member_households l JOIN households h ON h.id = l.household_id
     JOIN buildings b ON b.id = h.building_id JOIN grids g ON g.id = b.grid_id
     WHERE l.member_id = $1 ORDER BY l.kind, b.number, b.name, h.unit, h.door_number";
const LINKED_BUILDINGS: &str = "SELECT l.building_id, b.name AS building_name, g.name AS grid_name
     FROM party_member_buildings l JOIN buildings b ON b.id = l.building_id JOIN grids g ON g.id = b.grid_id
     WHERE l.member_id = $1 ORDER BY b.number, b.name";
const HOUSEHOLD_MEMBERS: &str = "SELECT m.id AS member_id, COALESCE(r.name, m.name) AS name, m.rank, m.work_phone,
            l.kind
     FROM party_member_households l JOIN party_members m ON m.id = l.member_id
     LEFT JOIN residents r ON r.id = m.resident_id
     WHERE l.household_id = $1 AND m.status = 'active'
     UNION ALL
     SELECT m.id, COALESCE(r.name, m.name), m.rank, m.work_phone, 'building'
     FROM party_member_buildings l JOIN party_members m ON m.id = l.member_id
     JOIN households h ON h.building_id = l.building_id
     LEFT JOIN residents r ON r.id = m.resident_id
     WHERE h.id = $1 AND m.status = 'active'
     ORDER BY 5, 2";
const LINK_HOUSEHOLD: &str = "INSERT INTO party_member_households (member_id, household_id, kind, linked_at)
     VALUES ($1, $2, $3, $4) ON CONFLICT (member_id, household_id) DO UPDATE SET kind = excluded.kind";
const UNLINK_HOUSEHOLD: &str = "DELETE FROM party_member_households WHERE member_id = $1 AND household_id = $2";
const LINK_BUILDING: &str = "INSERT INTO party_member_buildings (member_id, building_id, linked_at)
     VALUES ($1, $2, $3) ON CONFLICT (member_id, building_id) DO NOTHING";
// A household's records as phones hold them, with the grid they are in.
const HOUSEHOLD_RECORDS: &str = "SELECT 'building', b.id, b.grid_id FROM households h
         JOIN buildings b ON b.id = h.building_id WHERE h.id = $1
     UNION ALL SELECT 'household', h.id, b.grid_id FROM households h
         JOIN buildings b ON b.id = h.building_id WHERE h.id = $1
     UNION ALL SELECT 'resident', r.id, b.grid_id FROM residents r JOIN households h ON h.id = r.household_id
         JOIN buildings b ON b.id = h.building_id WHERE h.id = $1
     UNION ALL SELECT 'visit', v.id, b.grid_id FROM visits v JOIN households h ON h.id = v.household_id
         JOIN buildings b ON b.id = h.building_id WHERE h.id = $1";
const UNLINK_BUILDING: &str = "DELETE FROM party_member_buildings WHERE member_id = $1 AND building_id = $2";
const DOORS: &str = "SELECT h.id, g.community_id, b.id AS building_id, b.name AS building_name, g.name AS grid_name,
            h.unit, h.door_number,
            EXISTS (SELECT 1 FROM resident_tags t JOIN residents r ON r.id = t.resident_id
                    WHERE r.household_id = h.id AND NOT r.moved_out) AS key_group
     FROM households h JOIN buildings b ON b.id = h.building_id JOIN grids g ON g.id = b.grid_id";
const DOORS_IN_BUILDING: &str = " WHERE h.building_id = $1 AND ($2 = '' OR h.door_number = $2)
     ORDER BY h.unit, h.floor, h.door_number LIMIT $3";
const BUILDINGS: &str = "SELECT b.id, g.community_id, b.name, g.name AS grid_name
     FROM buildings b JOIN grids g ON g.id = b.grid_id";
const RESIDENTS_NAMED: &str = "SELECT r.id, r.name, r.birth_date, g.community_id, b.name AS building_name, h.unit,
            h.door_number
     FROM residents r JOIN households h ON h.id = r.household_id JOIN buildings b ON b.id = h.building_id
     JOIN grids g ON g.id = b.grid_id
     WHERE r.name = $1 AND NOT r.moved_out AND ($2 = '' OR g.community_id = $2)
     ORDER BY b.number, h.unit, h.door_number LIMIT $3";

impl Store {
    /// The roster, by community, branch and name.
    pub async fn party_roster(&self, query: RosterQuery<'_>) -> Result<Vec<MemberRow>> {
        let sql = format!("{MEMBERS}{ROSTER_WHERE}");
        on_pool!(self.primary(), |c| sqlx::query_as(&sql)
            .bind(query.community)
            .bind(query.branch)
            .bind(query.group)
            .bind(query.status)
            .fetch_all(c)
            .await)
    }

    pub async fn party_member(&self, id: &str) -> Result<Option<MemberRow>> {
        let sql = format!("{MEMBERS} WHERE m.id = $1");
        on_pool!(self.primary(), |c| sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(c)
            .await)
    }

    /// The member's phone account, if one was opened.
    pub async fn party_member_account(&self, member_id: &str) -> Result<Option<MemberAccountRow>> {
        on_pool!(self.primary(), |c| sqlx::query_as(MEMBER_ACCOUNT)
            .bind(member_id)
            .fetch_optional(c)
            .await)
    }

    /// The member already registered as this resident, if any.
    pub async fn party_member_of_resident(&self, resident_id: &str) -> Result<Option<String>> {
        on_pool!(self.primary(), |c| sqlx::query_scalar(SAME_RESIDENT)
            .bind(resident_id)
            .fetch_optional(c)
            .await)
    }

    /// Another in-service member of the community with this name, unit and
    /// phone (`except` is the member being edited).
    pub async fn party_member_same_person(
        &self,
        community_id: &str,
        name: &str,
        unit: &str,
        phone: &str,
        except: &str,
    ) -> Result<Option<String>> {
        on_pool!(self.primary(), |c| sqlx::query_scalar(SAME_IN_SERVICE)
            .bind(community_id)
            .bind(name)
            .bind(unit)
            .bind(phone)
            .bind(except)
            .fetch_optional(c)
            .await)
    }

    /// `(rank, period_months)`, most frequent first.
    pub async fn party_cadences(&self) -> Result<Vec<(String, i64)>> {
        on_pool!(self.primary(), |c| sqlx::query_as(CADENCES).fetch_all(c).await)
    }

    /// A community's branches, each with its groups.
    pub async fn party_groups(&self, community_id: &str) -> Result<Vec<GroupRow>> {
        on_pool!(self.primary(), |c| sqlx::query_as(GROUPS)
            .bind(community_id)
            .fetch_all(c)
            .await)
    }

    pub async fn party_linked_households(&self, member_id: &str) -> Result<Vec<LinkedHouseholdRow>> {
        on_pool!(self.primary(), |c| sqlx::query_as(LINKED_HOUSEHOLDS)
            .bind(member_id)
            .fetch_all(c)
            .await)
    }

    pub async fn party_linked_buildings(&self, member_id: &str) -> Result<Vec<LinkedBuildingRow>> {
        on_pool!(self.primary(), |c| sqlx::query_as(LINKED_BUILDINGS)
            .bind(member_id)
            .fetch_all(c)
            .await)
    }

    /// The active members linked to a household, then its building's members.
    pub async fn party_household_members(&self, household_id: &str) -> Result<Vec<HouseholdMemberRow>> {
        on_pool!(self.primary(), |c| sqlx::query_as(HOUSEHOLD_MEMBERS)
            .bind(household_id)
            .fetch_all(c)
            .await)
    }

    /// One household with its community, for a link's check.
    pub async fn party_door(&self, household_id: &str) -> Result<Option<DoorRow>> {
        let sql = format!("{DOORS} WHERE h.id = $1");
        on_pool!(self.primary(), |c| sqlx::query_as(&sql)
            .bind(household_id)
            .fetch_optional(c)
            .await)
    }

    /// The first `limit` households of a building, or those at a door number.
    pub async fn party_doors(&self, building_id: &str, door: &str, limit: i64) -> Result<Vec<DoorRow>> {
        let sql = format!("{DOORS}{DOORS_IN_BUILDING}");
        on_pool!(self.primary(), |c| sqlx::query_as(&sql)
            .bind(building_id)
            .bind(door)
            .bind(limit)
            .fetch_all(c)
            .await)
    }

    /// A community's buildings by grid and number.
    pub async fn party_buildings(&self, community_id: &str) -> Result<Vec<CommunityBuildingRow>> {
        let sql = format!("{BUILDINGS} WHERE g.community_id = $1 ORDER BY g.name, b.number, b.name");
        on_pool!(self.primary(), |c| sqlx::query_as(&sql)
            .bind(community_id)
            .fetch_all(c)
            .await)
    }

    /// One building with its community, for a link's check.
    pub async fn party_building(&self, building_id: &str) -> Result<Option<CommunityBuildingRow>> {
        let sql = format!("{BUILDINGS} WHERE b.id = $1");
        on_pool!(self.primary(), |c| sqlx::query_as(&sql)
            .bind(building_id)
            .fetch_optional(c)
            .await)
    }

    /// Living residents with exactly this name, of one community (or all: empty).
    pub async fn residents_named(&self, name: &str, community_id: &str, limit: i64) -> Result<Vec<ResidentHitRow>> {
        on_pool!(self.primary(), |c| sqlx::query_as(RESIDENTS_NAMED)
            .bind(name)
            .bind(community_id)
            .bind(limit)
            .fetch_all(c)
            .await)
    }
}

impl Tx {
    /// The branch of this name in the community, made if new.
    pub async fn party_branch(&mut self, community_id: &str, name: &str) -> Result<String> {
        on_tx!(self, |c| {
            sqlx::query(INSERT_BRANCH)
                .bind(crate::new_id())
                .bind(community_id)
                .bind(name)
                .execute(&mut *c)
                .await?;
            sqlx::query_scalar(BRANCH)
                .bind(community_id)
                .bind(name)
                .fetch_one(&mut *c)
                .await
        })
    }

    /// The group of this name in the branch, made if new.
    pub async fn party_group(&mut self, branch_id: &str, name: &str) -> Result<String> {
        on_tx!(self, |c| {
            sqlx::query(INSERT_GROUP)
                .bind(crate::new_id())
                .bind(branch_id)
                .bind(name)
                .execute(&mut *c)
                .await?;
            sqlx::query_scalar(GROUP)
                .bind(branch_id)
                .bind(name)
                .fetch_one(&mut *c)
                .await
        })
    }

    /// Ties a group to a grid (`None`: to none).
    pub async fn set_party_group_grid(&mut self, group_id: &str, grid_id: Option<&str>) -> Result<()> {
        on_tx!(self, |c| sqlx::query(SET_GROUP_GRID)
            .bind(group_id)
            .bind(grid_id)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn insert_party_member(&mut self, member: NewMember<'_>) -> Result<()> {
        let f = member.fields;
        on_tx!(self, |c| sqlx::query(INSERT_MEMBER)
            .bind(member.id)
            .bind(member.community_id)
            .bind(member.kind)
            .bind(member.resident_id)
            .bind(f.name)
            .bind(f.unit)
            .bind(f.unit_party_org)
            .bind(f.rank)
            .bind(f.work_phone)
            .bind(f.branch_id)
            .bind(f.group_id)
            .bind(f.registered_on)
            .bind(member.at)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn update_party_member(&mut self, id: &str, f: MemberFields<'_>, at: i64) -> Result<()> {
        on_tx!(self, |c| sqlx::query(UPDATE_MEMBER)
            .bind(id)
            .bind(f.name)
            .bind(f.unit)
            .bind(f.unit_party_org)
            .bind(f.rank)
            .bind(f.work_phone)
            .bind(f.branch_id)
            .bind(f.group_id)
            .bind(f.registered_on)
            .bind(at)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Makes `user_id` the member's account; `false` if they have one.
    pub async fn set_party_member_user(&mut self, member_id: &str, user_id: &str, at: i64) -> Result<bool> {
        let changed = on_tx!(self, |c| sqlx::query(SET_MEMBER_USER)
            .bind(member_id)
            .bind(user_id)
            .bind(at)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(changed == 1)
    }

    /// `moved` (moved away at `at`) or `active` again; links are kept.
    pub async fn set_party_member_status(&mut self, id: &str, status: &str, at: i64) -> Result<()> {
        let moved_at = (status == "moved").then_some(at);
        on_tx!(self, |c| sqlx::query(SET_STATUS)
            .bind(id)
            .bind(status)
            .bind(moved_at)
            .bind(at)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Links a household (again: with the kind given now).
    pub async fn link_party_household(
        &mut self,
        member_id: &str,
        household_id: &str,
        kind: &str,
        at: i64,
    ) -> Result<()> {
        on_tx!(self, |c| sqlx::query(LINK_HOUSEHOLD)
            .bind(member_id)
            .bind(household_id)
            .bind(kind)
            .bind(at)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn unlink_party_household(&mut self, member_id: &str, household_id: &str) -> Result<()> {
        on_tx!(self, |c| sqlx::query(UNLINK_HOUSEHOLD)
            .bind(member_id)
            .bind(household_id)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn link_party_building(&mut self, member_id: &str, building_id: &str, at: i64) -> Result<()> {
        on_tx!(self, |c| sqlx::query(LINK_BUILDING)
            .bind(member_id)
            .bind(building_id)
            .bind(at)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn unlink_party_building(&mut self, member_id: &str, building_id: &str) -> Result<()> {
        on_tx!(self, |c| sqlx::query(UNLINK_BUILDING)
            .bind(member_id)
            .bind(building_id)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Puts a household's records in the pull sequence again: a member's
    /// account linked to it since its phone last pulled gets them whole
    /// (they lie before its cursor), one unlinked learns it is gone. The
    /// grid's other phones take them again, unchanged.
    pub async fn resend_household(&mut self, household_id: &str, at: i64) -> Result<()> {
        let records: Vec<(String, String, String)> = on_tx!(self, |c| sqlx::query_as(HOUSEHOLD_RECORDS)
            .bind(household_id)
            .fetch_all(&mut *c)
            .await)?;
        for (entity, id, grid) in &records {
            let entity = match entity.as_str() {
                "building" => "building",
                "household" => "household",
                "resident" => "resident",
                _ => "visit",
            };
            self.record_change(entity, id, grid, at);
        }
        Ok(())
    }

    /// `resend_household` for a building a member serves (楼栋党员).
    pub async fn resend_building(&mut self, building_id: &str, at: i64) -> Result<()> {
        if let Some(grid) = self.building_grid(building_id).await? {
            self.record_change("building", building_id, &grid, at);
        }
        Ok(())
    }
}
