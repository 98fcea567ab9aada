//! Attendance on a worker's phone, offline (`app::check_in`): the lists the
//! phone keeps (`GET /api/activities/check-in`), and the outbox operation a
//! tick becomes (`Change::CheckIn`), checked like the attendance sheet's form
//! and credited once per person however often it arrives.

use std::collections::HashSet;

use app::api::parse_id;
use app::check_in::{ActivitySheet, Attendee};
use app::clock::DAY_MS;
use app::error::ApiError;
use app::state::now_ms;
use app::sync::{AttendeeKind, CheckInInput, attendee_key, parse_attendee};
use axum::Json;
use store::Tx;
use store::activities::CheckIn;

use super::{active_roster, attendance_communities, candidates, of_community};
use crate::auth::Api;
use crate::routes::{Routes, get};
use crate::sync::op::{BAD_RECORD_ID, OpContext, Verdict};

pub fn routes() -> Routes {
    Routes::new().route("/api/activities/check-in", get(lists))
}

/// The lists reach back a day (attendance ticked after a late evening) and
/// a week ahead (a phone filled on Monday serves the weekend's activities).
const BEHIND_MS: i64 = DAY_MS;
const AHEAD_MS: i64 = 8 * DAY_MS;

pub const ACTIVITY_OUT_OF_SCOPE: &str = "该活动不在您的社区，或已被删除";
pub const NOT_ON_THE_LIST: &str = "此人不在本社区的签到名单上（已迁出或已不是本社区党员）";
const BAD_ATTENDEE: &str = "签到名单格式不正确，请删除后重新签到";

#[utoipa::path(get, path = "/api/activities/check-in", tag = "sync", operation_id = "checkInLists",
    summary = "The activities whose attendance the caller takes, with the names to tick",
    description = "Activities of the caller's communities (a worker's grids', a lead's own, every community for an \
        admin) starting from a day ago to eight days ahead, by start; each with the people to tick (the \
        activity's team first, then the community's other active party members) and whether each is checked in \
        already. The phone keeps the answer for use without signal and sends each tick as a `check_in` \
        operation. Names only: no phone number or address.",
    responses(
        (status = 200, description = "The lists.", body = Vec<ActivitySheet>),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 403, description = "A party member's account (forbidden).", body = app::error::ErrorBody),
        (status = 408, response = crate::openapi::Timeout),
        (status = 500, response = crate::openapi::Internal),
        (status = 503, response = crate::openapi::Busy),
    ))]
pub async fn lists(Api(caller): Api) -> Result<Json<Vec<ActivitySheet>>, ApiError> {
    let now = now_ms();
    let mut sheets = Vec::new();
    for community in attendance_communities(&caller).await? {
        let activities = caller
            .store
            .activities_between(&community, now - BEHIND_MS, now + AHEAD_MS)
            .await?;
        if activities.is_empty() {
            continue;
        }
        let roster = active_roster(&caller, &community).await?;
        for a in activities {
            let checked: HashSet<String> = caller
                .store
                .activity_attendance(&a.id)
                .await?
                .into_iter()
                .map(|c| format!("{}:{}", c.kind, c.attendee_id))
                .collect();
            let people = candidates(&caller, &a, &roster)
                .await?
                .into_iter()
                .map(|p| {
                    let kind = if p.kind == "member" {
                        AttendeeKind::Member
                    } else {
                        AttendeeKind::Resident
                    };
                    let key = attendee_key(kind, &p.id);
                    Attendee {
                        checked: checked.contains(&key),
                        volunteer: kind == AttendeeKind::Resident,
                        name: p.name,
                        key,
                    }
                })
                .collect();
            sheets.push(ActivitySheet {
                id: a.id,
                title: a.title,
                place: a.place,
                starts_at: a.starts_at,
                ends_at: a.ends_at,
                credit_minutes: a.credit_minutes,
                team: a.team_name,
                people,
            });
        }
    }
    sheets.sort_by_key(|s| s.starts_at);
    Ok(Json(sheets))
}

/// `Change::CheckIn`: a tick made on a phone. Applied whether it credits the
/// person now or finds them checked in already (by this op's retry, another
/// phone, or the sheet), so a phone never holds a tick the server has.
pub async fn check_in(tx: &mut Tx, ctx: &OpContext<'_>, input: &CheckInInput) -> Result<Verdict, ApiError> {
    let Ok(activity_id) = parse_id(&input.activity_id) else {
        return Ok(Verdict::rejected(BAD_RECORD_ID));
    };
    let Some((kind, person)) = parse_attendee(&input.attendee) else {
        return Ok(Verdict::rejected(BAD_ATTENDEE));
    };
    let Ok(person) = parse_id(person) else {
        return Ok(Verdict::rejected(BAD_ATTENDEE));
    };
    let caller = ctx.caller;
    let activity = match caller.store.activity(&activity_id).await? {
        Some(a) if attendance_communities(caller).await?.contains(&a.community_id) => a,
        _ => return Ok(Verdict::rejected(ACTIVITY_OUT_OF_SCOPE)),
    };
    if !of_community(caller, kind, &person, &activity.community_id).await? {
        return Ok(Verdict::rejected(NOT_ON_THE_LIST));
    }
    let (row, credited) = tx
        .check_in(CheckIn {
            activity_id: &activity.id,
            member: (kind == AttendeeKind::Member).then_some(person.as_str()),
            resident: (kind == AttendeeKind::Resident).then_some(person.as_str()),
            by: &caller.user.id,
            credit_minutes: activity.credit_minutes,
            // When the name was tapped, not when the phone found signal.
            at: ctx.created_at.min(ctx.now),
        })
        .await?;
    if credited {
        tx.audit(caller.audit_entry(ctx.now, "create", "activity_attendance", &row))
            .await?;
    }
    Ok(Verdict::applied())
}
