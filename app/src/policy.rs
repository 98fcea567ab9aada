//! Visit policies: how often a household must be visited, and where it stands.
//! One rule for the server's coverage pages and ledgers, the building matrix,
//! and the phone's own overdue list offline.

use serde::{Deserialize, Serialize};

use crate::clock::DAY_MS;
use crate::domain::KeyGroup;

/// "Due soon" starts this many days before the due day.
pub const DUE_SOON_DAYS: i64 = 3;

/// Beijing is UTC+8 all year.
pub const BEIJING_OFFSET_MS: i64 = 8 * 3_600_000;

/// The cadence when no policy is known (the phone before its first pull).
pub const FALLBACK_CADENCE_DAYS: i64 = 90;

/// One row of `visit_policies`: a key-group tag, or `default` for everyone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Policy {
    pub tag: String,
    pub cadence_days: i64,
}

/// A household's cadence: the strictest among its living residents' key groups,
/// never looser than the default.
pub fn cadence(policies: &[Policy], tags: impl IntoIterator<Item = KeyGroup>) -> i64 {
    let days = |tag: &str| policies.iter().find(|p| p.tag == tag).map(|p| p.cadence_days);
    let default = days("default").unwrap_or(FALLBACK_CADENCE_DAYS);
    tags.into_iter()
        .filter_map(|t| days(t.as_str()))
        .fold(default, i64::min)
}

/// Beijing midnight of the first day of `month` (1–12) in `year`.
pub fn month_start(year: i32, month: u8) -> i64 {
    crate::domain::CivilDate::new(year, month.clamp(1, 12), 1).map_or(0, crate::domain::CivilDate::epoch_day) * DAY_MS
        - BEIJING_OFFSET_MS
}

/// The start of a party member's cadence period holding `now`: calendar
/// blocks of `months` counted from January in Beijing ("每季度1次" is a
/// quarter, not ninety days: a visit on 31 March does not cover April).
pub fn period_start(now: i64, months: i64) -> i64 {
    let today = crate::domain::CivilDate::from_epoch_ms(now + BEIJING_OFFSET_MS);
    let months = months.clamp(1, 12);
    let first = (i64::from(today.month()) - 1) / months * months + 1;
    month_start(today.year(), u8::try_from(first).unwrap_or(1))
}

/// Calendar day in Beijing time: cadences count days, not 24-hour spans.
pub fn beijing_day(epoch_ms: i64) -> i64 {
    (epoch_ms + BEIJING_OFFSET_MS).div_euclid(DAY_MS)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VisitStatus {
    /// Visited within its cadence, not due in the next days.
    Covered,
    /// Due within `DUE_SOON_DAYS` (0: due today).
    DueSoon {
        days_left: i64,
    },
    Overdue {
        days: i64,
    },
    Never,
}

/// A household last visited on day D with a cadence of N days is due on day
/// D + N, overdue from the day after.
pub fn status(last_visit: Option<i64>, cadence_days: i64, now: i64) -> VisitStatus {
    let Some(last) = last_visit else {
        return VisitStatus::Never;
    };
    let late = beijing_day(now) - (beijing_day(last) + cadence_days);
    if late > 0 {
        VisitStatus::Overdue { days: late }
    } else if late >= -DUE_SOON_DAYS {
        VisitStatus::DueSoon { days_left: -late }
    } else {
        VisitStatus::Covered
    }
}

impl VisitStatus {
    pub fn is_late(self) -> bool {
        matches!(self, VisitStatus::Overdue { .. } | VisitStatus::Never)
    }

    /// For class names: the matrix colours and their legend.
    pub fn css(self) -> &'static str {
        match self {
            VisitStatus::Covered => "covered",
            VisitStatus::DueSoon { .. } => "due-soon",
            VisitStatus::Overdue { .. } => "overdue",
            VisitStatus::Never => "never",
        }
    }

    pub fn label(self) -> String {
        match self {
            VisitStatus::Covered => "正常".into(),
            VisitStatus::DueSoon { days_left: 0 } => "今天到期".into(),
            VisitStatus::DueSoon { days_left } => format!("{days_left}天后到期"),
            VisitStatus::Overdue { days } => format!("逾期{days}天"),
            VisitStatus::Never => "从未走访".into(),
        }
    }
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use super::Policy;
    use crate::error::ApiError;

    /// Every visit policy, by tag.
    pub async fn policies(store: &store::Store) -> Result<Vec<Policy>, ApiError> {
        let rows = store.visit_policies().await?;
        Ok(rows
            .into_iter()
            .map(|row| Policy {
                tag: row.tag,
                cadence_days: row.cadence_days,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-02 10:00 Beijing time (a Monday), in epoch ms.
    const MONDAY_10: i64 = 1_793_584_800_000;

    #[test]
    fn statuses_at_the_cadence_boundaries() {
        let at = |days: i64, hour: i64| MONDAY_10 + days * DAY_MS + (hour - 10) * 3_600_000;
        let weekly = |now| status(Some(MONDAY_10), 7, now);
        assert_eq!(weekly(at(3, 23)), VisitStatus::Covered);
        assert_eq!(weekly(at(4, 0)), VisitStatus::DueSoon { days_left: 3 });
        assert_eq!(weekly(at(7, 0)), VisitStatus::DueSoon { days_left: 0 });
        assert_eq!(weekly(at(7, 23)), VisitStatus::DueSoon { days_left: 0 });
        assert_eq!(weekly(at(8, 0)), VisitStatus::Overdue { days: 1 });
        assert_eq!(weekly(at(40, 12)), VisitStatus::Overdue { days: 33 });
        assert_eq!(status(None, 7, MONDAY_10), VisitStatus::Never);
        // Midnight in Beijing, not UTC, starts the next day: 23:30 on day 7 is
        // still "due today" although it is 15:30 UTC.
        assert_eq!(weekly(at(7, 23) + 30 * 60_000), VisitStatus::DueSoon { days_left: 0 });
        assert_eq!(beijing_day(MONDAY_10 + 14 * 3_600_000), beijing_day(MONDAY_10) + 1);
    }

    #[test]
    fn the_strictest_cadence_wins_and_the_default_is_the_loosest() {
        let policies = [
            Policy {
                tag: "default".into(),
                cadence_days: 90,
            },
            Policy {
                tag: "elderly_alone".into(),
                cadence_days: 7,
            },
            Policy {
                tag: "disabled".into(),
                cadence_days: 30,
            },
        ];
        assert_eq!(cadence(&policies, []), 90);
        assert_eq!(cadence(&policies, [KeyGroup::Disabled]), 30);
        assert_eq!(cadence(&policies, [KeyGroup::Disabled, KeyGroup::ElderlyAlone]), 7);
        // A key group without a policy of its own follows the default.
        assert_eq!(cadence(&policies, [KeyGroup::LowIncome]), 90);
        assert_eq!(cadence(&[], [KeyGroup::ElderlyAlone]), FALLBACK_CADENCE_DAYS);
    }
}
