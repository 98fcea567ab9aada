//! Which action may move a request from which state, and where to. The one
//! table the phone consults before queueing an action and the server applies
//! when the action arrives (by then a lead may have moved the request on).

use super::{RequestStatus, Satisfaction};
use crate::domain::text_enum;
use serde::{Deserialize, Serialize};

text_enum!(
    /// What a person does to a request; each is a line of its timeline.
    Action {
        Raise = "raise" / "登记",
        Assign = "assign" / "派单",
        Start = "start" / "开始办理",
        Note = "note" / "办理进展",
        Resolve = "resolve" / "办结",
        FollowUp = "follow_up" / "回访",
        Rate = "rate" / "居民评价",
        Close = "close" / "关闭",
        Decline = "decline" / "不予受理",
        Merge = "merge" / "合并",
    }
);

impl Action {
    /// Only a lead (or an admin) may take these; workers take the rest.
    pub fn is_leads(self) -> bool {
        matches!(self, Action::Assign | Action::Close | Action::Decline | Action::Merge)
    }
}

/// What the resident said at the follow-up visit (or on their own phone,
/// where `solved` is what their rating implies).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct FollowUp {
    pub solved: bool,
    pub satisfaction: Satisfaction,
}

impl FollowUp {
    /// Unsolved, or solved to the resident's dissatisfaction: the request
    /// goes back to work (and counts as reopened).
    pub fn reopens(self) -> bool {
        !self.solved || !self.satisfaction.is_positive()
    }
}

/// The state `action` leads to from `status`, or why it may not be taken now
/// (naming the state, so the worker whose phone queued it understands).
/// `follow_up` is the resident's verdict for `FollowUp` and `Rate`.
pub fn next_status(
    status: RequestStatus,
    action: Action,
    follow_up: Option<FollowUp>,
) -> Result<RequestStatus, String> {
    use RequestStatus as S;
    let open = status.is_open();
    let next = match action {
        Action::Raise => None,
        Action::Assign if open => Some(S::Assigned),
        Action::Start if matches!(status, S::Received | S::Assigned) => Some(S::InProgress),
        Action::Note if open || matches!(status, S::Resolved | S::FollowedUp) => Some(status),
        Action::Resolve if open => Some(S::Resolved),
        Action::FollowUp if status == S::Resolved => match follow_up {
            Some(f) if f.reopens() => Some(S::InProgress),
            Some(_) => Some(S::FollowedUp),
            None => return Err("请选择是否解决和满意度".into()),
        },
        Action::Rate if matches!(status, S::Resolved | S::FollowedUp) => match follow_up {
            Some(f) if f.reopens() => Some(S::InProgress),
            Some(_) => Some(S::Closed),
            None => return Err("请选择满意度".into()),
        },
        Action::Close if matches!(status, S::Resolved | S::FollowedUp) => Some(S::Closed),
        Action::Decline | Action::Merge if open => Some(status_for(action)),
        _ => None,
    };
    next.ok_or_else(|| format!("该诉求当前为「{}」，不能{}", status.label(), action.label()))
}

fn status_for(action: Action) -> RequestStatus {
    match action {
        Action::Merge => RequestStatus::Merged,
        _ => RequestStatus::Declined,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use RequestStatus as S;

    fn verdict(solved: bool, satisfaction: Satisfaction) -> Option<FollowUp> {
        Some(FollowUp { solved, satisfaction })
    }

    #[test]
    fn the_whole_road_with_one_reopening() {
        let mut s = S::Received;
        s = next_status(s, Action::Assign, None).unwrap();
        assert_eq!(s, S::Assigned);
        s = next_status(s, Action::Start, None).unwrap();
        s = next_status(s, Action::Resolve, None).unwrap();
        assert_eq!(s, S::Resolved);
        s = next_status(s, Action::FollowUp, verdict(true, Satisfaction::Unsatisfied)).unwrap();
        assert_eq!(s, S::InProgress, "不满意 reopens");
        s = next_status(s, Action::Resolve, None).unwrap();
        s = next_status(s, Action::Rate, verdict(true, Satisfaction::Satisfied)).unwrap();
        assert_eq!(s, S::Closed);
    }

    #[test]
    fn a_follow_up_that_found_it_unsolved_reopens() {
        let s = next_status(S::Resolved, Action::FollowUp, verdict(false, Satisfaction::Basic)).unwrap();
        assert_eq!(s, S::InProgress);
        let s = next_status(S::Resolved, Action::FollowUp, verdict(true, Satisfaction::Basic)).unwrap();
        assert_eq!(s, S::FollowedUp);
    }

    #[test]
    fn closed_and_ended_requests_take_no_more_work() {
        for status in [S::Closed, S::Declined, S::Merged] {
            for action in [Action::Resolve, Action::Note, Action::Assign, Action::Start] {
                let err = next_status(status, action, None).unwrap_err();
                assert!(err.contains(status.label()), "{err}");
            }
        }
        assert!(next_status(S::Closed, Action::Rate, verdict(true, Satisfaction::Satisfied)).is_err());
    }

    #[test]
    fn a_follow_up_needs_the_verdict_and_a_resolved_request() {
        assert!(next_status(S::Resolved, Action::FollowUp, None).is_err());
        assert!(next_status(S::InProgress, Action::FollowUp, verdict(true, Satisfaction::Satisfied)).is_err());
    }

    #[test]
    fn leads_end_open_requests_early() {
        assert_eq!(next_status(S::Assigned, Action::Merge, None), Ok(S::Merged));
        assert_eq!(next_status(S::Received, Action::Decline, None), Ok(S::Declined));
        assert!(next_status(S::Resolved, Action::Decline, None).is_err());
        assert!(Action::Merge.is_leads() && !Action::Resolve.is_leads());
    }
}
