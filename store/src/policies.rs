//! Visit cadences (`visit_policies`): one row per key-group tag and `default`.

use crate::engine::on_pool;
use crate::{Result, Store};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PolicyRow {
    pub tag: String,
    pub cadence_days: i64,
}

impl Store {
    /// Every policy, by tag.
    pub async fn visit_policies(&self) -> Result<Vec<PolicyRow>> {
        on_pool!(self.primary(), |c| sqlx::query_as(
            "SELECT tag, cadence_days FROM visit_policies ORDER BY tag"
        )
        .fetch_all(c)
        .await)
    }
}
