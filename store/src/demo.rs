//! The demo and benchmark data generator's storage around its bulk rows
//! (`bulk`): the start-up checks and the demo accounts for the banner.

use crate::engine::{on_pool, on_tx};
use crate::{Engine, Result, Store, Tx};

/// A demo account, for the start-up banner.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AccountRow {
    pub username: String,
    pub display_name: String,
    pub role: String,
    /// The lead's community, the worker's first grid, or none for the admin.
    pub scope: Option<String>,
}

const ACCOUNTS: &str = "SELECT u.username, u.display_name, u.role,
            COALESCE(c.name, (SELECT MIN(g.name) FROM user_grids ug JOIN grids g ON g.id = ug.grid_id
                              WHERE ug.user_id = u.id)) AS scope
     FROM users u LEFT JOIN communities c ON c.id = u.community_id
     ORDER BY CASE u.role WHEN 'admin' THEN 0 WHEN 'lead' THEN 1 ELSE 2 END, length(u.username), u.username
     LIMIT 12";

const LOCK_WRITERS: &str = "UPDATE change_counter SET seq = seq WHERE id = 1";
const NO_STREET: &str = "SELECT NOT EXISTS (SELECT 1 FROM streets)";

impl Store {
    /// Fresh planner statistics after a bulk load: until then PostgreSQL
    /// plans the coverage queries for empty tables (measured: badly), and
    /// SQLite has none at all. On PostgreSQL also a VACUUM: rows just loaded
    /// have no hint bits and no visibility map, so the first reads of each page
    /// write it back and index-only scans visit the heap (measured: the pull's
    /// change list took 1 to 3.5 s for a grid's page in the first minute after
    /// loading a city, 5 ms once vacuumed).
    pub async fn analyze(&self) -> Result<()> {
        let sql = match self.engine() {
            Engine::Sqlite => "ANALYZE",
            Engine::Postgres => "VACUUM (ANALYZE)",
        };
        on_pool!(self.primary(), |c| sqlx::query(sql).execute(c).await.map(|_| ()))
    }

    /// The first accounts, admin first, then leads, then workers (`worker2`
    /// before `worker10`).
    pub async fn demo_accounts(&self) -> Result<Vec<AccountRow>> {
        on_pool!(self.primary(), |c| sqlx::query_as(ACCOUNTS).fetch_all(c).await)
    }
}

impl Tx {
    /// Claims a new database for generated data, first thing in the
    /// transaction: waits for any other writer (the counter row's lock on
    /// PostgreSQL, the write lock on SQLite), then checks that no street
    /// exists. Two instances seeding one empty database at once: the second
    /// waits for the first to commit, then finds it filled.
    pub async fn claim_empty(&mut self) -> Result<bool> {
        on_tx!(self, |c| {
            sqlx::query(LOCK_WRITERS).execute(&mut *c).await?;
            sqlx::query_scalar(NO_STREET).fetch_one(&mut *c).await
        })
    }
}
