//! Requests (诉求) tracked to the end: the states, the actions that move a
//! request between them, and its deadlines. Shared by the phone (which checks
//! an action offline before queueing it) and the server (which checks it again
//! against the request as it stands when the action arrives).

mod deadline;
mod lifecycle;

pub use deadline::{due_after_working_days, is_working_day};
pub use lifecycle::{Action, FollowUp, next_status};

use crate::domain::text_enum;
use serde::{Deserialize, Serialize};

/// Longest request text, resolution or note a person may type.
pub const MAX_TEXT: usize = 1000;

/// How long a rating code handed to a resident stays usable.
pub const RATING_TOKEN_DAYS: i64 = 14;

text_enum!(
    /// Where a request stands. The first six are the road a request takes;
    /// `Declined` and `Merged` end it early.
    RequestStatus {
        Received = "received" / "待受理",
        Assigned = "assigned" / "已派单",
        InProgress = "in_progress" / "处理中",
        Resolved = "resolved" / "已办结",
        FollowedUp = "followed_up" / "已回访",
        Closed = "closed" / "已关闭",
        Declined = "declined" / "不予受理",
        Merged = "merged" / "已合并",
    }
);

impl RequestStatus {
    /// Still owed an outcome: counted as overdue once past its deadline.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            RequestStatus::Received | RequestStatus::Assigned | RequestStatus::InProgress
        )
    }

    /// Solved (办结), whatever happened after.
    pub fn is_resolved(self) -> bool {
        matches!(
            self,
            RequestStatus::Resolved | RequestStatus::FollowedUp | RequestStatus::Closed
        )
    }
}

text_enum!(
    /// The resident's verdict, at the door or on their own phone.
    Satisfaction {
        Satisfied = "satisfied" / "满意",
        Basic = "basic" / "基本满意",
        Unsatisfied = "unsatisfied" / "不满意",
    }
);

impl Satisfaction {
    /// 满意 and 基本满意 count for the satisfaction rate.
    pub fn is_positive(self) -> bool {
        self != Satisfaction::Unsatisfied
    }
}

text_enum!(
    /// How the request reached the community.
    Source {
        Visit = "visit" / "入户走访",
        WalkIn = "walk_in" / "来访",
        Phone = "phone" / "来电",
        Patrol = "patrol" / "巡查上报",
        Public = "public" / "居民网上提交",
    }
);

/// The categories a fresh database starts with (code, label); an admin edits
/// them and their deadlines. The phone offers these until its first pull.
pub const DEFAULT_CATEGORIES: [(&str, &str); 7] = [
    ("livelihood", "民生"),
    ("property", "物业"),
    ("safety", "安全"),
    ("environment", "环境"),
    ("party", "党建"),
    ("discipline", "纪检"),
    ("other", "其他"),
];

/// A request category as the phone and the pages list it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Category {
    pub code: String,
    pub label: String,
    /// Working days to a first response, and to resolution.
    pub respond_days: i64,
    pub resolve_days: i64,
}

/// The category code for what a phone sent: a code, or the label an older
/// visit form sent ("民生类").
pub fn category_code<'a>(categories: &'a [Category], sent: &str) -> Option<&'a Category> {
    let sent = sent.trim();
    let label = sent.strip_suffix('类').unwrap_or(sent);
    categories.iter().find(|c| c.code == sent || c.label == label)
}

/// Checks a text a person typed for a request: not empty, not too long.
pub fn check_text(text: &str, what: &str) -> Result<(), String> {
    let n = text.trim().chars().count();
    if n == 0 {
        Err(format!("请填写{what}"))
    } else if n > MAX_TEXT {
        Err(format!("{what}不能超过{MAX_TEXT}字"))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn categories() -> Vec<Category> {
        DEFAULT_CATEGORIES
            .iter()
            .map(|(code, label)| Category {
                code: code.to_string(),
                label: label.to_string(),
                respond_days: 1,
                resolve_days: 7,
            })
            .collect()
    }

    #[test]
    fn old_visit_forms_labels_map_to_codes() {
        let c = categories();
        assert_eq!(category_code(&c, "民生类").unwrap().code, "livelihood");
        assert_eq!(category_code(&c, "其他").unwrap().code, "other");
        assert_eq!(category_code(&c, "safety").unwrap().code, "safety");
        assert!(category_code(&c, "天气").is_none());
    }

    #[test]
    fn texts_are_checked() {
        assert_eq!(check_text("  ", "诉求内容"), Err("请填写诉求内容".into()));
        assert!(check_text(&"字".repeat(1001), "诉求内容").unwrap_err().contains("1000"));
        assert!(check_text("楼道灯坏了", "诉求内容").is_ok());
    }
}
