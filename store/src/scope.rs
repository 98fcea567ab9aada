//! Which grids a user may see: the one scope query every feature uses.

use crate::engine::on_pool;
use crate::{Result, Store};

/// Whose grids: derived on the server from the user's role and rows.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    /// An admin: every grid.
    All,
    /// A lead: the grids of their community.
    Community(&'a str),
    /// A worker: the grids assigned to this user.
    Assigned(&'a str),
    /// A party member's account: the grids their linked households and
    /// buildings are in (what they may see within them is `member_reach`).
    Member(&'a str),
}

/// What a party member's account reaches: the households linked to the
/// member, and the buildings those are in or the member serves (楼栋党员).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reach {
    pub member_id: String,
    /// The member's rank's cadence: a visit per this many calendar months.
    pub cadence_months: i64,
    pub households: Vec<String>,
    pub buildings: Vec<String>,
}

impl Reach {
    pub fn has_household(&self, id: &str) -> bool {
        self.households.iter().any(|h| h == id)
    }

    pub fn has_building(&self, id: &str) -> bool {
        self.buildings.iter().any(|b| b == id)
    }
}

impl Store {
    /// Grid ids in the scope, by grid name.
    pub async fn visible_grids(&self, scope: Scope<'_>) -> Result<Vec<String>> {
        on_pool!(self.primary(), |c| match scope {
            Scope::All => {
                sqlx::query_scalar("SELECT id FROM grids ORDER BY name")
                    .fetch_all(c)
                    .await
            }
            Scope::Community(community) => {
                sqlx::query_scalar("SELECT id FROM grids WHERE community_id = $1 ORDER BY name")
                    .bind(community)
                    .fetch_all(c)
                    .await
            }
            Scope::Assigned(user) => {
                sqlx::query_scalar(
                    "SELECT g.id FROM grids g JOIN user_grids ug ON ug.grid_id = g.id
                     WHERE ug.user_id = $1 ORDER BY g.name",
                )
                .bind(user)
                .fetch_all(c)
                .await
            }
            Scope::Member(user) => {
                sqlx::query_scalar(
                    "SELECT g.id FROM grids g WHERE g.id IN (
                         SELECT b.grid_id FROM party_members m
                         JOIN party_member_households l ON l.member_id = m.id
                         JOIN households h ON h.id = l.household_id
                         JOIN buildings b ON b.id = h.building_id
                         WHERE m.user_id = $1 AND m.status = 'active'
                         UNION
                         SELECT b.grid_id FROM party_members m
                         JOIN party_member_buildings l ON l.member_id = m.id
                         JOIN buildings b ON b.id = l.building_id
                         WHERE m.user_id = $1 AND m.status = 'active')
                     ORDER BY g.name",
                )
                .bind(user)
                .fetch_all(c)
                .await
            }
        })
    }

    /// What the account `user` reaches as a party member (nothing when the
    /// account belongs to no active member).
    pub async fn member_reach(&self, user: &str) -> Result<Reach> {
        let (member, households, buildings) = on_pool!(self.primary(), |c| {
            let member: Option<(String, i64)> = sqlx::query_as(
                "SELECT m.id, CAST(COALESCE(c.period_months, 2) AS BIGINT) FROM party_members m
                 LEFT JOIN party_cadences c ON c.rank = m.rank
                 WHERE m.user_id = $1 AND m.status = 'active'",
            )
            .bind(user)
            .fetch_optional(c)
            .await?;
            let member_id = member.as_ref().map(|(id, _)| id.clone());
            let households: Vec<String> = sqlx::query_scalar(
                "SELECT household_id FROM party_member_households WHERE member_id = $1 ORDER BY household_id",
            )
            .bind(&member_id)
            .fetch_all(c)
            .await?;
            let buildings: Vec<String> = sqlx::query_scalar(
                "SELECT h.building_id FROM party_member_households l JOIN households h ON h.id = l.household_id
                 WHERE l.member_id = $1
                 UNION
                 SELECT building_id FROM party_member_buildings WHERE member_id = $1
                 ORDER BY 1",
            )
            .bind(&member_id)
            .fetch_all(c)
            .await?;
            Ok::<_, sqlx::Error>((member, households, buildings))
        })?;
        let (member_id, cadence_months) = member.unwrap_or_default();
        Ok(Reach {
            member_id,
            cadence_months,
            households,
            buildings,
        })
    }
}
