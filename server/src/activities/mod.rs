//! Activities and volunteers (党员志愿服务, issue 18 #6): a community's teams
//! (巡逻队, 环境卫生队 …) of party members and resident volunteers, the
//! activity calendar, an activity published as a 活动通知 with a public
//! sign-up page, the attendance sheet that credits service hours, and the
//! participation rate per team and quarter. Plain server pages like the
//! party roster's; every change audited in its own transaction. A worker's
//! phone keeps the coming days' lists and sends its ticks through the outbox
//! (`phone`); nothing here enters the change feed.

mod calendar;
pub(crate) mod phone;
mod public;
mod sheet;
mod teams;

pub(crate) use calendar::{choose_community, shown_community};
pub(crate) use phone::check_in;

use std::collections::HashSet;
use std::sync::Arc;

use app::api::parse_id;
use app::auth::ssr::Caller;
use app::clock::DAY_MS;
use app::domain::{CivilDate, Role};
use app::error::ApiError;
use app::policy::BEIJING_OFFSET_MS;
use app::sync::AttendeeKind;
use store::activities::{ActivityRow, PersonRow, TeamRow};
use store::party::{MemberRow, RosterQuery};

use crate::limits::RateLimiter;
use crate::routes::Routes;
use crate::staff::administered;

pub fn routes(limiter: Arc<RateLimiter>) -> Routes {
    calendar::routes()
        .merge(sheet::routes())
        .merge(phone::routes())
        .merge(teams::routes())
        .merge(public::routes(limiter))
}

/// The most hours one activity may credit: a day.
const MAX_CREDIT_MINUTES: i64 = 24 * 60;

/// Hours as a lead writes them ("2", "1.5") in whole minutes; negative,
/// over a day or not a number is refused.
pub(crate) fn credit_minutes(text: &str) -> Result<i64, String> {
    let refused = || "服务时长请填写0到24之间的小时数（如 2 或 1.5）".to_owned();
    let hours: f64 = text.trim().parse().map_err(|_| refused())?;
    let minutes = (hours * 60.0).round();
    if !hours.is_finite() || !(0.0..=MAX_CREDIT_MINUTES as f64).contains(&minutes) {
        return Err(refused());
    }
    Ok(minutes as i64)
}

/// The Beijing date and minute of an instant: `(2026-12-08, 9 * 60 + 30)`.
fn beijing(ms: i64) -> (CivilDate, i64) {
    let local = ms + BEIJING_OFFSET_MS;
    (CivilDate::from_epoch_ms(local), local.rem_euclid(DAY_MS) / 60_000)
}

/// "2026-12-08 09:30–11:00" (the end's date only when it is another day).
fn time_range(starts_at: i64, ends_at: i64) -> String {
    let ((day, start), (end_day, end)) = (beijing(starts_at), beijing(ends_at));
    let end_day = if end_day == day {
        String::new()
    } else {
        format!("{end_day} ")
    };
    format!(
        "{day} {:02}:{:02}–{end_day}{:02}:{:02}",
        start / 60,
        start % 60,
        end / 60,
        end % 60
    )
}

/// What a `datetime-local` field shows for an instant, in Beijing time.
pub(crate) fn local_input(ms: i64) -> String {
    let (day, minute) = beijing(ms);
    format!("{day}T{:02}:{:02}", minute / 60, minute % 60)
}

/// The community a lead runs, or the one an admin names (which must exist);
/// a lead naming another community: 404, audited.
async fn chosen_community(caller: &Caller, entity: &str, asked: &str) -> Result<String, ApiError> {
    match administered(caller, entity).await? {
        Some(own) if asked.is_empty() || parse_id(asked)? == own => Ok(own),
        Some(_) => {
            caller.audit("denied", "community", asked).await?;
            Err(ApiError::not_found())
        }
        None => {
            let id = parse_id(asked)?;
            match caller.store.community(&id).await? {
                Some(c) => Ok(c.id),
                None => Err(ApiError::NotFound("没有这个社区".into())),
            }
        }
    }
}

/// An activity the caller runs (its community's lead, an admin); else 404, audited.
async fn own_activity(caller: &Caller, id: &str) -> Result<ActivityRow, ApiError> {
    let scope = administered(caller, "activity").await?;
    let id = parse_id(id)?;
    match caller.store.activity(&id).await? {
        Some(a) if scope.as_deref().is_none_or(|own| own == a.community_id) => Ok(a),
        _ => {
            caller.audit("denied", "activity", &id).await?;
            Err(ApiError::not_found())
        }
    }
}

/// A team the caller runs; else 404, audited.
async fn own_team(caller: &Caller, id: &str) -> Result<TeamRow, ApiError> {
    let scope = administered(caller, "volunteer_team").await?;
    let id = parse_id(id)?;
    match caller.store.volunteer_team(&id).await? {
        Some(t) if scope.as_deref().is_none_or(|own| own == t.community_id) => Ok(t),
        _ => {
            caller.audit("denied", "volunteer_team", &id).await?;
            Err(ApiError::not_found())
        }
    }
}

/// The communities whose attendance the caller takes: a lead's own, every
/// one for an admin, and for a worker those of their grids (workers tick
/// names on the spot). A party member's account takes none.
async fn attendance_communities(caller: &Caller) -> Result<Vec<String>, ApiError> {
    Ok(match caller.user.role {
        Role::Admin => caller.store.communities().await?.into_iter().map(|c| c.id).collect(),
        Role::Lead => caller.user.community_id.iter().cloned().collect(),
        Role::Worker => {
            let mut communities = Vec::new();
            for grid in caller.user.visible_grids(&caller.store).await? {
                if let Some(c) = caller.store.grid_community(&grid).await?
                    && !communities.contains(&c)
                {
                    communities.push(c);
                }
            }
            communities
        }
        Role::Member => Vec::new(),
    })
}

/// An activity whose attendance the caller may take; others: 404, audited.
async fn sheet_activity(caller: &Caller, id: &str) -> Result<ActivityRow, ApiError> {
    let id = parse_id(id)?;
    if let Some(a) = caller.store.activity(&id).await?
        && attendance_communities(caller).await?.contains(&a.community_id)
    {
        return Ok(a);
    }
    caller.audit("denied", "activity", &id).await?;
    Err(ApiError::not_found())
}

/// The people to tick at an activity: its team, then the community's other
/// active party members (any member may join any activity), from the
/// community's `roster`.
async fn candidates(caller: &Caller, a: &ActivityRow, roster: &[MemberRow]) -> Result<Vec<PersonRow>, ApiError> {
    let mut people = match &a.team_id {
        Some(team) => caller.store.volunteer_team_members(team).await?,
        None => Vec::new(),
    };
    let on_team: HashSet<String> = people.iter().map(|p| p.id.clone()).collect();
    people.extend(roster.iter().filter(|m| !on_team.contains(&m.id)).map(|m| PersonRow {
        kind: "member".into(),
        id: m.id.clone(),
        name: m.name.clone(),
    }));
    Ok(people)
}

/// A community's active party members, whom any activity may check in.
async fn active_roster(caller: &Caller, community: &str) -> Result<Vec<MemberRow>, ApiError> {
    Ok(caller
        .store
        .party_roster(RosterQuery {
            community,
            status: "active",
            ..RosterQuery::default()
        })
        .await?)
}

/// The audit log's entity for a refused attendee.
fn attendee_entity(kind: AttendeeKind) -> &'static str {
    match kind {
        AttendeeKind::Member => "party_member",
        AttendeeKind::Resident => "resident",
    }
}

/// Whether a ticked person belongs to the activity's community: an active
/// party member of it, or a resident living in it.
async fn of_community(caller: &Caller, kind: AttendeeKind, id: &str, community: &str) -> Result<bool, ApiError> {
    Ok(match kind {
        AttendeeKind::Member => {
            let member = caller.store.party_member(id).await?;
            member.is_some_and(|m| m.community_id == community && m.status == "active")
        }
        AttendeeKind::Resident => match caller.store.resident(id).await? {
            Some(r) if !r.moved_out => caller
                .store
                .party_door(&r.household_id)
                .await?
                .is_some_and(|d| d.community_id == community),
            _ => false,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_are_whole_minutes_from_zero_to_a_day() {
        assert_eq!(credit_minutes("2"), Ok(120));
        assert_eq!(credit_minutes(" 1.5 "), Ok(90));
        assert_eq!(credit_minutes("0"), Ok(0));
        assert_eq!(credit_minutes("24"), Ok(1440));
        for bad in ["-1", "24.5", "", "两小时", "NaN", "inf", "1e9"] {
            assert!(credit_minutes(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn times_read_in_beijing() {
        // 2026-12-08 01:30 UTC is 09:30 in Beijing.
        let start = 1_796_693_400_000;
        assert_eq!(local_input(start), "2026-12-08T09:30");
        assert_eq!(time_range(start, start + 90 * 60_000), "2026-12-08 09:30–11:00");
        assert_eq!(crate::notices::beijing_time("2026-12-08T09:30"), Some(start));
    }
}
