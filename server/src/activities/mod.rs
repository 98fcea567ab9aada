//! Activities and volunteers (党员志愿服务, issue 18 #6): a community's teams
//! (巡逻队, 环境卫生队 …) of party members and resident volunteers, the
//! activity calendar, an activity published as a 活动通知 with a public
//! sign-up page, the attendance sheet that credits service hours, and the
//! participation rate per team and quarter. Plain server pages like the
//! party roster's; every change audited in its own transaction. The phone's
//! offline check-in is not built yet, so nothing here enters the change feed.

mod calendar;
mod public;
mod sheet;
mod teams;

pub(crate) use calendar::{choose_community, shown_community};

use std::sync::Arc;

use app::api::parse_id;
use app::auth::ssr::Caller;
use app::clock::DAY_MS;
use app::domain::{CivilDate, Role};
use app::error::ApiError;
use app::policy::BEIJING_OFFSET_MS;
use store::activities::{ActivityRow, TeamRow};

use crate::limits::RateLimiter;
use crate::routes::Routes;
use crate::staff::administered;

pub fn routes(limiter: Arc<RateLimiter>) -> Routes {
    calendar::routes()
        .merge(sheet::routes())
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

/// "1.5小时".
pub(crate) fn hours_label(minutes: i64) -> String {
    let tenths = (minutes * 10 + 30) / 60;
    if tenths % 10 == 0 {
        format!("{}小时", tenths / 10)
    } else {
        format!("{}.{}小时", tenths / 10, tenths % 10)
    }
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

/// An activity whose attendance the caller may take: its lead, an admin, or
/// a worker with a grid in its community (workers tick names on the spot).
/// Others: 404, audited.
async fn sheet_activity(caller: &Caller, id: &str) -> Result<ActivityRow, ApiError> {
    if caller.user.role != Role::Worker {
        return own_activity(caller, id).await;
    }
    let id = parse_id(id)?;
    if let Some(a) = caller.store.activity(&id).await? {
        for grid in caller.user.visible_grids(&caller.store).await? {
            if caller.store.grid_community(&grid).await?.as_deref() == Some(a.community_id.as_str()) {
                return Ok(a);
            }
        }
    }
    caller.audit("denied", "activity", &id).await?;
    Err(ApiError::not_found())
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
        assert_eq!(hours_label(90), "1.5小时");
        assert_eq!(hours_label(120), "2小时");
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
