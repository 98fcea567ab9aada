//! Who serves a building (`users.work_phone`, `user_grids`,
//! `party_member_buildings`): the grid's 网格员, the community's 网格长 and the
//! building's 楼栋党员, with the work phones residents may call, for the
//! building's public page. Names and work phones only: nothing of a resident.

use crate::engine::{on_pool, on_tx};
use crate::{Result, Store, Tx};

/// One person who serves the building: `role` is `worker`, `lead` or `member`.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ServerRow {
    pub role: String,
    pub name: String,
    pub work_phone: Option<String>,
}

// Accounts that are enabled; members on the roster (not moved away). A
// resident member's phone is their own, not a work line: never published.
const SERVERS: &str = "SELECT 'worker' AS role, u.display_name AS name, u.work_phone
     FROM users u JOIN user_grids ug ON ug.user_id = u.id JOIN buildings b ON b.grid_id = ug.grid_id
     WHERE b.id = $1 AND u.role = 'worker' AND u.disabled_at IS NULL
     UNION ALL
     SELECT 'lead', u.display_name, u.work_phone
     FROM users u JOIN grids g ON g.community_id = u.community_id JOIN buildings b ON b.grid_id = g.id
     WHERE b.id = $1 AND u.role = 'lead' AND u.disabled_at IS NULL
     UNION ALL
     SELECT 'member', COALESCE(r.name, m.name), CASE WHEN m.kind = 'in_service' THEN m.work_phone END
     FROM party_member_buildings l JOIN party_members m ON m.id = l.member_id
     LEFT JOIN residents r ON r.id = m.resident_id
     WHERE l.building_id = $1 AND m.status = 'active'
     ORDER BY 1 DESC, 2";
const SET_WORK_PHONE: &str = "UPDATE users SET work_phone = $2 WHERE id = $1";

impl Store {
    /// The building's 网格员, 网格长 and 楼栋党员, in that order, by name.
    pub async fn building_servers(&self, building_id: &str) -> Result<Vec<ServerRow>> {
        on_pool!(self.primary(), |c| sqlx::query_as(SERVERS)
            .bind(building_id)
            .fetch_all(c)
            .await)
    }
}

impl Tx {
    /// A staff member's work phone (`None`: taken off).
    pub async fn set_work_phone(&mut self, user_id: &str, phone: Option<&str>) -> Result<()> {
        on_tx!(self, |c| sqlx::query(SET_WORK_PHONE)
            .bind(user_id)
            .bind(phone)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }
}
