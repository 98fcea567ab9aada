//! Staff administration (`users`, `user_grids`, `sessions`, `install_facts`):
//! accounts made, reset and disabled from the browser or `server user …`,
//! a person's own sessions, and the territory a lead arranges (grids and
//! buildings added, renamed and moved). Writes run in the caller's
//! transaction, beside the audit row that records them.

use crate::engine::{on_pool, on_tx};
use crate::{Ids, Result, Store, Tx};

/// An account as its administrators see it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StaffRow {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub community_id: Option<String>,
    pub community_name: Option<String>,
    pub must_change_password: bool,
    pub disabled_at: Option<i64>,
    /// Shown on the public pages of the buildings they serve.
    pub work_phone: Option<String>,
    /// The worker's grids' names, joined with "、".
    pub grids: String,
}

/// A new account. The password hash is of a one-time password unless the
/// operator typed one (`server user add`).
#[derive(Debug, Clone, Copy)]
pub struct NewUser<'a> {
    pub id: &'a str,
    pub username: &'a str,
    pub display_name: &'a str,
    pub role: &'a str,
    pub community_id: Option<&'a str>,
    pub password_hash: &'a str,
    pub must_change_password: bool,
    pub at: i64,
}

/// One of a person's sessions, for "my sessions" (a lost phone is ended here).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRow {
    pub token_hash: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub client: String,
    pub user_agent: String,
}

/// A grid with its community, for the territory page.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TerritoryGridRow {
    pub id: String,
    pub name: String,
    pub community_id: String,
    pub community_name: String,
    pub buildings: i64,
}

const STAFF: &str = "SELECT u.id, u.username, u.display_name, u.role, u.community_id, c.name AS community_name,
            u.must_change_password, u.disabled_at, u.work_phone,
            COALESCE((SELECT string_agg(g.name, '、' ORDER BY g.name) FROM user_grids ug
                      JOIN grids g ON g.id = ug.grid_id WHERE ug.user_id = u.id), '') AS grids
     FROM users u LEFT JOIN communities c ON c.id = u.community_id";
const STAFF_SQLITE: &str = "SELECT u.id, u.username, u.display_name, u.role, u.community_id, c.name AS community_name,
            u.must_change_password, u.disabled_at, u.work_phone,
            COALESCE((SELECT group_concat(name, '、') FROM (SELECT g.name FROM user_grids ug
                      JOIN grids g ON g.id = ug.grid_id WHERE ug.user_id = u.id ORDER BY g.name)), '') AS grids
     FROM users u LEFT JOIN communities c ON c.id = u.community_id";
// A lead's staff are the users of their community: its leads, the workers
// made in it (their `community_id`, scope still comes from their grids) and
// the workers of its grids.
const IN_COMMUNITY: &str =
    " WHERE u.community_id = $1 OR EXISTS (SELECT 1 FROM user_grids ug JOIN grids g ON g.id = ug.grid_id
                                          WHERE ug.user_id = u.id AND g.community_id = $1)";
const ORDER: &str = " ORDER BY CASE u.role WHEN 'admin' THEN 0 WHEN 'lead' THEN 1 ELSE 2 END, u.username";

const INSERT_USER: &str = "INSERT INTO users (id, username, display_name, role, community_id, password_hash,
                                   must_change_password, disabled, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, FALSE, $8)";
const SET_DISPLAY_NAME: &str = "UPDATE users SET display_name = $2 WHERE id = $1";
const SET_PASSWORD: &str = "UPDATE users SET password_hash = $2, must_change_password = $3 WHERE id = $1";
const DISABLE: &str = "UPDATE users SET disabled = TRUE, disabled_at = $2 WHERE id = $1 AND NOT disabled";
const ENABLE: &str = "UPDATE users SET disabled = FALSE, disabled_at = NULL WHERE id = $1";
const END_ALL_SESSIONS: &str = "DELETE FROM sessions WHERE user_id = $1";
const END_OTHER_SESSIONS: &str = "DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2";
const END_SESSION: &str = "DELETE FROM sessions WHERE user_id = $1 AND token_hash = $2";
const SESSIONS: &str = "SELECT token_hash, created_at, last_seen_at, client, user_agent FROM sessions
     WHERE user_id = $1 AND expires_at > $2 AND last_seen_at > $3 ORDER BY last_seen_at DESC";
const PASSWORD_HASH: &str = "SELECT password_hash FROM users WHERE id = $1";
const USERS_EXIST: &str = "SELECT EXISTS (SELECT 1 FROM users)";
const FACT: &str = "SELECT value FROM install_facts WHERE name = $1";
const SET_FACT: &str =
    "INSERT INTO install_facts (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value";

const TERRITORY_GRIDS: &str = "SELECT g.id, g.name, g.community_id, c.name AS community_name,
            (SELECT COUNT(*) FROM buildings b WHERE b.grid_id = g.id) AS buildings
     FROM grids g JOIN communities c ON c.id = g.community_id
     WHERE $1 = '' OR g.community_id = $1 ORDER BY c.name, g.name";
const INSERT_GRID: &str = "INSERT INTO grids (id, community_id, name) VALUES ($1, $2, $3)";
const UPDATE_GRID: &str = "UPDATE grids SET name = $2, community_id = $3 WHERE id = $1";
const GRIDS_COMMUNITIES: &str = "SELECT id, community_id FROM grids WHERE id = ANY($1)";
const GRID_COMMUNITY: &str = "SELECT community_id FROM grids WHERE id = $1";
const RENAME_BUILDING: &str = "UPDATE buildings SET name = $2 WHERE id = $1";
// Locked on PostgreSQL: a move at the same moment must not leave from the grid
// this one read (on SQLite the transaction's writes hold the single lock).
const BUILDING_GRID: &str = "SELECT grid_id FROM buildings WHERE id = $1";
const BUILDING_GRID_FOR_UPDATE: &str = "SELECT grid_id FROM buildings WHERE id = $1 FOR UPDATE";
const MOVE_BUILDING: &str = "UPDATE buildings SET grid_id = $2 WHERE id = $1";
const BUILDING_MEMBERS: &str = "SELECT 'household', h.id FROM households h WHERE h.building_id = $1
     UNION ALL SELECT 'resident', r.id FROM residents r JOIN households h ON h.id = r.household_id
               WHERE h.building_id = $1
     UNION ALL SELECT 'visit', v.id FROM visits v JOIN households h ON h.id = v.household_id
               WHERE h.building_id = $1";

impl Store {
    /// Every account (`community` `None`), or a lead's community's staff.
    pub async fn staff(&self, community: Option<&str>) -> Result<Vec<StaffRow>> {
        let select = match self.engine() {
            crate::Engine::Sqlite => STAFF_SQLITE,
            crate::Engine::Postgres => STAFF,
        };
        let sql = format!("{select}{}{ORDER}", if community.is_some() { IN_COMMUNITY } else { "" });
        on_pool!(self.primary(), |c| {
            let mut query = sqlx::query_as(&sql);
            if let Some(community) = community {
                query = query.bind(community);
            }
            query.fetch_all(c).await
        })
    }

    /// One account by login name.
    pub async fn staff_member(&self, username: &str) -> Result<Option<StaffRow>> {
        let select = match self.engine() {
            crate::Engine::Sqlite => STAFF_SQLITE,
            crate::Engine::Postgres => STAFF,
        };
        let sql = format!("{select} WHERE u.username = $1");
        on_pool!(self.primary(), |c| sqlx::query_as(&sql)
            .bind(username)
            .fetch_optional(c)
            .await)
    }

    pub async fn password_hash(&self, user_id: &str) -> Result<Option<String>> {
        on_pool!(self.primary(), |c| sqlx::query_scalar(PASSWORD_HASH)
            .bind(user_id)
            .fetch_optional(c)
            .await)
    }

    /// A person's live sessions, most recently used first.
    pub async fn sessions_of(&self, user_id: &str, now: i64, idle_since: i64) -> Result<Vec<SessionRow>> {
        on_pool!(self.primary(), |c| sqlx::query_as(SESSIONS)
            .bind(user_id)
            .bind(now)
            .bind(idle_since)
            .fetch_all(c)
            .await)
    }

    /// Whether any account exists (the first start of a real install has none).
    pub async fn has_users(&self) -> Result<bool> {
        on_pool!(self.primary(), |c| sqlx::query_scalar(USERS_EXIST).fetch_one(c).await)
    }

    pub async fn install_fact(&self, name: &str) -> Result<Option<String>> {
        on_pool!(self.primary(), |c| sqlx::query_scalar(FACT)
            .bind(name)
            .fetch_optional(c)
            .await)
    }

    /// The grids of one community, or of all (`community` empty).
    pub async fn territory_grids(&self, community: &str) -> Result<Vec<TerritoryGridRow>> {
        on_pool!(self.primary(), |c| sqlx::query_as(TERRITORY_GRIDS)
            .bind(community)
            .fetch_all(c)
            .await)
    }

    pub async fn grid_community(&self, grid_id: &str) -> Result<Option<String>> {
        on_pool!(self.primary(), |c| sqlx::query_scalar(GRID_COMMUNITY)
            .bind(grid_id)
            .fetch_optional(c)
            .await)
    }

    /// The communities of the grids named (unknown ids are left out).
    pub async fn grids_of_communities(&self, grid_ids: &[String]) -> Result<Vec<(String, String)>> {
        let sql = self.primary().sql(GRIDS_COMMUNITIES);
        on_pool!(self.primary(), |c| sqlx::query_as(sql)
            .bind(Ids(grid_ids))
            .fetch_all(c)
            .await)
    }
}

impl Tx {
    pub async fn insert_user(&mut self, user: NewUser<'_>) -> Result<()> {
        on_tx!(self, |c| sqlx::query(INSERT_USER)
            .bind(user.id)
            .bind(user.username)
            .bind(user.display_name)
            .bind(user.role)
            .bind(user.community_id)
            .bind(user.password_hash)
            .bind(user.must_change_password)
            .bind(user.at)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn set_display_name(&mut self, user_id: &str, name: &str) -> Result<()> {
        on_tx!(self, |c| sqlx::query(SET_DISPLAY_NAME)
            .bind(user_id)
            .bind(name)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// A new password; `keep_session` (the person changing their own) stays
    /// signed in, every other session of theirs ends.
    pub async fn set_password(
        &mut self,
        user_id: &str,
        hash: &str,
        must_change: bool,
        keep_session: Option<&str>,
    ) -> Result<()> {
        on_tx!(self, |c| {
            sqlx::query(SET_PASSWORD)
                .bind(user_id)
                .bind(hash)
                .bind(must_change)
                .execute(&mut *c)
                .await?;
            match keep_session {
                Some(keep) => sqlx::query(END_OTHER_SESSIONS)
                    .bind(user_id)
                    .bind(keep)
                    .execute(&mut *c)
                    .await
                    .map(|r| r.rows_affected()),
                None => sqlx::query(END_ALL_SESSIONS)
                    .bind(user_id)
                    .execute(&mut *c)
                    .await
                    .map(|r| r.rows_affected()),
            }
        })?;
        Ok(())
    }

    /// Disables an account at `at` (its sessions are refused from then on,
    /// with that said), or enables it again: then its old sessions end, so
    /// a phone found in a drawer does not come back to life.
    pub async fn set_disabled(&mut self, user_id: &str, disabled_at: Option<i64>) -> Result<()> {
        on_tx!(self, |c| match disabled_at {
            Some(at) => sqlx::query(DISABLE)
                .bind(user_id)
                .bind(at)
                .execute(&mut *c)
                .await
                .map(|r| r.rows_affected()),
            None => {
                sqlx::query(ENABLE).bind(user_id).execute(&mut *c).await?;
                sqlx::query(END_ALL_SESSIONS)
                    .bind(user_id)
                    .execute(&mut *c)
                    .await
                    .map(|r| r.rows_affected())
            }
        })?;
        Ok(())
    }

    /// Ends one of the person's own sessions; `false` when it was not theirs.
    pub async fn end_session(&mut self, user_id: &str, token_hash: &str) -> Result<bool> {
        let done = on_tx!(self, |c| sqlx::query(END_SESSION)
            .bind(user_id)
            .bind(token_hash)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    /// Ends every session of the person but the one they are using.
    pub async fn end_other_sessions(&mut self, user_id: &str, keep: &str) -> Result<()> {
        on_tx!(self, |c| sqlx::query(END_OTHER_SESSIONS)
            .bind(user_id)
            .bind(keep)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn set_install_fact(&mut self, name: &str, value: &str) -> Result<()> {
        on_tx!(self, |c| sqlx::query(SET_FACT)
            .bind(name)
            .bind(value)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn insert_grid(&mut self, id: &str, community_id: &str, name: &str) -> Result<()> {
        on_tx!(self, |c| sqlx::query(INSERT_GRID)
            .bind(id)
            .bind(community_id)
            .bind(name)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Renames a grid or moves it to another community (its buildings and
    /// workers go with it).
    pub async fn update_grid(&mut self, id: &str, name: &str, community_id: &str) -> Result<()> {
        on_tx!(self, |c| sqlx::query(UPDATE_GRID)
            .bind(id)
            .bind(name)
            .bind(community_id)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Renames a building; phones of its grid receive it by pull.
    pub async fn rename_building(&mut self, id: &str, grid_id: &str, name: &str, at: i64) -> Result<()> {
        on_tx!(self, |c| sqlx::query(RENAME_BUILDING)
            .bind(id)
            .bind(name)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        self.record_change("building", id, grid_id, at);
        Ok(())
    }

    /// Moves a building with its households, residents and visits to another
    /// grid: they enter that grid's change feed, so its phones pull them
    /// whole; and the grid left, whose phones pull their removal (visits leave
    /// the phones with their household).
    pub async fn move_building(&mut self, id: &str, grid_id: &str, at: i64) -> Result<()> {
        let lock = match self.engine() {
            crate::Engine::Sqlite => BUILDING_GRID,
            crate::Engine::Postgres => BUILDING_GRID_FOR_UPDATE,
        };
        let (from, members): (String, Vec<(String, String)>) = on_tx!(self, |c| {
            let from = sqlx::query_scalar(lock).bind(id).fetch_one(&mut *c).await?;
            sqlx::query(MOVE_BUILDING)
                .bind(id)
                .bind(grid_id)
                .execute(&mut *c)
                .await?;
            let members = sqlx::query_as(BUILDING_MEMBERS).bind(id).fetch_all(&mut *c).await?;
            Ok::<_, sqlx::Error>((from, members))
        })?;
        self.record_move("building", id, &from, grid_id, at);
        for (entity, member) in &members {
            match entity.as_str() {
                "household" => self.record_move("household", member, &from, grid_id, at),
                "resident" => self.record_move("resident", member, &from, grid_id, at),
                _ => self.record_change("visit", member, grid_id, at),
            }
        }
        Ok(())
    }
}
