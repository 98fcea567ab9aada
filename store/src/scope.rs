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
        })
    }
}
