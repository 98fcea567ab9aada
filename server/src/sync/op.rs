//! What the write rules of a push share: the op's surroundings, its verdict,
//! and the checks more than one rule makes.

use std::collections::HashSet;

use app::auth::ssr::Caller;
use app::error::ApiError;
use app::sync::OpStatus;
use store::Tx;
use store::scope::Reach;

use crate::photos::Naming;

pub const HOUSEHOLD_OUT_OF_SCOPE: &str = "该住户不在您负责的网格";
/// A party member's account: what its phone can send, and where.
pub const MEMBER_VISITS_ONLY: &str = "党员账号只能登记走访，其他情况请告诉网格员";
pub const HOUSEHOLD_NOT_LINKED: &str = "该住户不是您的联系户";
pub const BAD_RECORD_ID: &str = "记录编号格式不正确，请删除后重新填写";

/// What one operation needs to know about its surroundings.
pub struct OpContext<'a> {
    pub caller: &'a Caller,
    pub scope: &'a HashSet<String>,
    /// A party member's account: their households (`Caller::reach`).
    pub reach: Option<&'a Reach>,
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
        if self.reach.is_some_and(|r| !r.has_household(household_id)) {
            return Ok(None);
        }
        let grid = tx.household_grid(household_id).await?;
        Ok(grid.filter(|g| self.scope.contains(g)))
    }

    /// Why `household_in_scope` found nothing, in the caller's terms.
    pub fn out_of_scope(&self) -> &'static str {
        match self.reach {
            Some(_) => HOUSEHOLD_NOT_LINKED,
            None => HOUSEHOLD_OUT_OF_SCOPE,
        }
    }

    /// One of the caller's grids, the same each time: where a request about
    /// a public place (no household, no building) lives.
    pub fn first_grid(&self) -> Option<&str> {
        self.scope.iter().min().map(String::as_str)
    }

    /// Whether a record may name these photos (`crate::photos::may_name`), or
    /// why not. Each photo's object lock is held from here to commit, so the
    /// decision holds when the record is written, and a sweep waits for the
    /// record before deciding that nothing names the photo (`crate::sweep`).
    /// Locked in hash order: two records naming the same photos never wait
    /// for each other in a circle. Meant as the op's last check: nothing is
    /// written here, the bindings are written with the naming rows.
    pub async fn may_name_photos(
        &self,
        tx: &mut Tx,
        photos: &[&str],
        naming: Naming<'_>,
    ) -> Result<Result<(), &'static str>, ApiError> {
        let mut sorted = photos.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        for photo in sorted {
            tx.lock_object(photo).await?;
            let state = tx.photo_state(photo).await?;
            if let Err(reason) = crate::photos::may_name(&state, &self.caller.user.id, naming) {
                return Ok(Err(reason));
            }
        }
        Ok(Ok(()))
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
