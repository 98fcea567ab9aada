//! The push log (`applied_ops`): every operation a device pushed, with the
//! answer it got, so a retry gets the same answer without applying anything.

use crate::engine::on_tx;
use crate::{Result, Tx};

/// The op being claimed: who pushed it, from where, and what kind it is.
#[derive(Debug, Clone, Copy)]
pub struct Claim<'a> {
    pub op_id: &'a str,
    pub user_id: &'a str,
    pub device_id: &'a str,
    /// `record_visit`, `add_resident` or `edit_resident`.
    pub kind: &'a str,
    pub at: i64,
}

/// The answer stored for an op: `applied`, `conflict` or `rejected`, and why;
/// and whose op it was.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OpResultRow {
    pub user_id: String,
    pub status: String,
    pub reason: Option<String>,
}

const CLAIM: &str = "INSERT INTO applied_ops (op_id, user_id, device_id, kind, status, reason, applied_at)
                     VALUES ($1, $2, $3, $4, 'applied', NULL, $5) ON CONFLICT (op_id) DO NOTHING";

impl Tx {
    /// Records the op as applied; `false` if its id is on file already. Meant
    /// as the transaction's first statement: a concurrent push of the same op
    /// waits here for this transaction to end (see the caller).
    pub async fn claim_op(&mut self, claim: Claim<'_>) -> Result<bool> {
        let inserted = on_tx!(self, |c| sqlx::query(CLAIM)
            .bind(claim.op_id)
            .bind(claim.user_id)
            .bind(claim.device_id)
            .bind(claim.kind)
            .bind(claim.at)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(inserted == 1)
    }

    /// The answer an op claimed earlier got.
    pub async fn op_result(&mut self, op_id: &str) -> Result<OpResultRow> {
        on_tx!(self, |c| sqlx::query_as(
            "SELECT user_id, status, reason FROM applied_ops WHERE op_id = $1"
        )
        .bind(op_id)
        .fetch_one(&mut *c)
        .await)
    }

    /// Replaces the claim's `applied` when the op was not applied as is.
    pub async fn set_op_result(&mut self, op_id: &str, status: &str, reason: Option<&str>) -> Result<()> {
        on_tx!(self, |c| sqlx::query(
            "UPDATE applied_ops SET status = $2, reason = $3 WHERE op_id = $1"
        )
        .bind(op_id)
        .bind(status)
        .bind(reason)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }
}
