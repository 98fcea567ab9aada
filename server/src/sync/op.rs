//! What the write rules of a push share: the op's surroundings, its verdict,
//! and the checks more than one rule makes.

use std::collections::HashSet;

use app::auth::ssr::Caller;
use app::error::ApiError;
use app::sync::OpStatus;
use store::Tx;

pub const HOUSEHOLD_OUT_OF_SCOPE: &str = "该住户不在您负责的网格";
pub const BAD_RECORD_ID: &str = "记录编号格式不正确，请删除后重新填写";
pub const FOREIGN_PHOTO: &str = "照片不属于您负责的网格，不能在这条记录中引用";

/// What one operation needs to know about its surroundings.
pub struct OpContext<'a> {
    pub caller: &'a Caller,
    pub scope: &'a HashSet<String>,
    /// Normalised (lower-case hyphenated) op id.
    pub op_id: &'a str,
    /// Device clock of the op: orders concurrent edits of one field.
    pub created_at: i64,
    /// Server clock: stored times, validation against "today".
    pub now: i64,
}

impl OpContext<'_> {
    /// The grid of a household the caller may write to; `None` also for a
    /// household that does not exist (both are refused alike).
    pub async fn household_in_scope(&self, tx: &mut Tx, household_id: &str) -> Result<Option<String>, ApiError> {
        let grid = tx.household_grid(household_id).await?;
        Ok(grid.filter(|g| self.scope.contains(g)))
    }

    /// One of the caller's grids, the same each time: where a request about
    /// a public place (no household, no building) lives.
    pub fn first_grid(&self) -> Option<&str> {
        self.scope.iter().min().map(String::as_str)
    }

    /// A record may name a photo not uploaded yet, or one the caller may see
    /// already; never a stored photo of someone else's grid (naming it would
    /// grant its view to everyone in the caller's grid).
    pub async fn may_name_photos(&self, tx: &mut Tx, photos: &[&str]) -> Result<bool, ApiError> {
        for photo in photos {
            let owners = tx.photo_owners(photo).await?;
            if crate::photos::visible_to(owners.as_ref(), &self.caller.user.id, self.scope) == Some(false) {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

/// How an op ends, as answered to the device and remembered for its retries.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub status: OpStatus,
    pub reason: Option<String>,
}

impl Verdict {
    pub fn applied() -> Verdict {
        Verdict {
            status: OpStatus::Applied,
            reason: None,
        }
    }

    pub fn rejected(reason: impl Into<String>) -> Verdict {
        Verdict {
            status: OpStatus::Rejected,
            reason: Some(reason.into()),
        }
    }
}
