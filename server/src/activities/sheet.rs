//! The attendance sheet, where a lead or a worker ticks who came (each
//! check-in credits the activity's hours once: ticking someone again finds
//! their first check-in), and the participation rate per team and quarter.

use std::collections::{BTreeMap, HashSet};

use app::api::parse_id;
use app::auth::ssr::Caller;
use app::domain::Role;
use app::error::ApiError;
use app::state::now_ms;
use app::sync::{AttendeeKind, parse_attendee};
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use leptos::prelude::*;
use serde::Deserialize;
use store::activities::{ActivityRow, CheckIn, TurnoutRow};

use super::{active_roster, attendee_entity, candidates, of_community, sheet_activity, time_range};
use super::{choose_community, shown_community};
use crate::auth::Api;
use crate::coverage::given;
use crate::requests::Quarter;
use crate::routes::{Routes, get};
use crate::staff::{form_body, page};
use app::sync::hours_label;

pub fn routes() -> Routes {
    Routes::new()
        .route("/manage/activities/{id}/attendance", get(sheet).post(check_in))
        .route("/manage/activities/rates", get(rates))
}

/// The participation rate the documents hold teams to.
const TARGET_RATE: f64 = 0.85;

async fn sheet(Api(caller): Api, Path(id): Path<String>) -> Result<Response, ApiError> {
    let activity = sheet_activity(&caller, &id).await?;
    sheet_view(&caller, &activity, None, StatusCode::OK).await
}

async fn sheet_view(
    caller: &Caller,
    a: &ActivityRow,
    message: Option<&str>,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let roster = active_roster(caller, &a.community_id).await?;
    let people = candidates(caller, a, &roster).await?;
    let checked = caller.store.activity_attendance(&a.id).await?;
    let done: HashSet<(String, String)> = checked
        .iter()
        .map(|c| (c.kind.clone(), c.attendee_id.clone()))
        .collect();
    let credited: i64 = checked.iter().map(|c| c.credit_minutes).sum();
    let body = view! {
        <p>{time_range(a.starts_at, a.ends_at)}" · "{a.place.clone()}" · "{hours_label(a.credit_minutes)}</p>
        <form method="post" action=format!("/manage/activities/{}/attendance", a.id) class="stack">
            {people.into_iter().filter(|p| !done.contains(&(p.kind.clone(), p.id.clone()))).map(|p| view! {
                <label class="row"><input type="checkbox" name="attendee" value=format!("{}:{}", p.kind, p.id)/>
                    {p.name}{(p.kind == "resident").then_some("（居民志愿者）")}</label>
            }).collect_view()}
            <button type="submit">"签到"</button>
        </form>
        <h2>{format!("已签到 {} 人，共计 {}", checked.len(), hours_label(credited))}</h2>
        <div class="scroll"><table>
            <thead><tr><th>"姓名"</th><th>"签到时间"</th><th>"登记人"</th><th>"计时"</th></tr></thead>
            <tbody>
                {checked.into_iter().map(|c| view! {
                    <tr><td>{c.name}</td><td>{time_range(c.checked_in_at, c.checked_in_at)}</td>
                        <td>{c.checked_in_by}</td><td>{hours_label(c.credit_minutes)}</td></tr>
                }).collect_view()}
            </tbody>
        </table></div>
    }
    .into_any();
    // A worker cannot open the activity's page: their way back is home.
    let back = if caller.user.role == Role::Worker {
        "/".to_owned()
    } else {
        format!("/manage/activities/{}", a.id)
    };
    Ok(page(&format!("签到表 · {}", a.title), &back, message, status, body))
}

/// One ticked name, `member:ID` or `resident:ID`.
fn attendee(value: &str) -> Result<(AttendeeKind, String), ApiError> {
    match parse_attendee(value) {
        Some((kind, id)) => Ok((kind, parse_id(id)?)),
        None => Err(ApiError::BadRequest("签到名单格式不正确".into())),
    }
}

/// Checks the ticked names in. Answers the sheet (200) saying who was
/// credited now and who had been already: a form sent twice credits once.
async fn check_in(
    Api(caller): Api,
    Path(id): Path<String>,
    body: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Result<Response, ApiError> {
    let activity = sheet_activity(&caller, &id).await?;
    let body = form_body(body)?;
    let mut ticked = Vec::new();
    for (name, value) in &body {
        if name == "attendee" {
            let (kind, id) = attendee(value)?;
            if !of_community(&caller, kind, &id, &activity.community_id).await? {
                caller.audit("denied", attendee_entity(kind), &id).await?;
                return Err(ApiError::not_found());
            }
            ticked.push((kind, id));
        }
    }
    if ticked.is_empty() {
        let message = "请勾选签到的人";
        return sheet_view(&caller, &activity, Some(message), StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let at = now_ms();
    let (mut credited, mut before) = (0, 0);
    let mut tx = caller.store.begin().await?;
    for (kind, person) in &ticked {
        let (row, new) = tx
            .check_in(CheckIn {
                activity_id: &activity.id,
                member: (*kind == AttendeeKind::Member).then_some(person.as_str()),
                resident: (*kind == AttendeeKind::Resident).then_some(person.as_str()),
                by: &caller.user.id,
                credit_minutes: activity.credit_minutes,
                at,
            })
            .await?;
        if new {
            credited += 1;
            tx.audit(caller.audit_entry(at, "create", "activity_attendance", &row))
                .await?;
        } else {
            before += 1;
        }
    }
    tx.commit().await?;
    let message = format!("签到 {credited} 人，计入服务时长；{before} 人此前已签到，不重复计时");
    sheet_view(&caller, &activity, Some(&message), StatusCode::OK).await
}

/// A team's participation over some activities: each activity's share of the
/// team's members who attended, averaged; `None` with no member or no activity.
fn participation(activities: &[&TurnoutRow]) -> Option<f64> {
    let rates: Vec<f64> = activities
        .iter()
        .filter(|a| a.team_members > 0)
        .map(|a| a.attended_members as f64 / a.team_members as f64)
        .collect();
    (!rates.is_empty()).then(|| rates.iter().sum::<f64>() / rates.len() as f64)
}

#[derive(Debug, Default, Deserialize)]
struct RatesQuery {
    year: Option<String>,
    community: Option<String>,
}

/// Per team and quarter of a year: the average participation rate, with the
/// 85% line marked.
async fn rates(Api(caller): Api, query: Result<Query<RatesQuery>, QueryRejection>) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|_| ApiError::BadRequest("查询格式不正确".into()))?;
    let Some(community) = shown_community(&caller, given(&query.community)).await? else {
        return choose_community(&caller, "/manage/activities/rates", "志愿服务参与率").await;
    };
    let this_year = Quarter::of(now_ms()).year;
    let year = match given(&query.year) {
        None => this_year,
        Some(y) => y
            .parse()
            .ok()
            .filter(|y| (2000..=2100).contains(y))
            .ok_or_else(|| ApiError::BadRequest("年份不正确".into()))?,
    };
    let first = Quarter { year, number: 1 };
    let rows = caller
        .store
        .activity_turnout(&community, first.start(), first.next().next().next().end())
        .await?;
    let teams = caller.store.volunteer_teams(&community).await?;
    let mut by_team: BTreeMap<(String, String), [Vec<&TurnoutRow>; 4]> = BTreeMap::new();
    for team in &teams {
        by_team.entry((team.name.clone(), team.id.clone())).or_default();
    }
    for row in &rows {
        let quarter = Quarter::of(row.starts_at);
        by_team.entry((row.team_name.clone(), row.team_id.clone())).or_default()[usize::from(quarter.number - 1)]
            .push(row);
    }
    let cell = |activities: &[&TurnoutRow]| match participation(activities) {
        None => view! { <td class="muted">"—"</td> }.into_any(),
        Some(rate) => {
            let short = rate < TARGET_RATE;
            view! {
                <td class=if short { "error" } else { "" }>
                    {format!("{:.0}%", rate * 100.0)}<br/>
                    <span class="muted">{format!("{}次活动{}", activities.len(), if short { " · 未达85%" } else { " · 达标" })}</span>
                </td>
            }
            .into_any()
        }
    };
    let scope = if caller.user.community_id.is_none() {
        format!("&community={community}")
    } else {
        String::new()
    };
    let body = view! {
        <p class="row">
            <a href=format!("/manage/activities/rates?year={}{scope}", year - 1)>"‹ 上一年"</a>
            <b>{format!("{year}年")}</b>
            <a href=format!("/manage/activities/rates?year={}{scope}", year + 1)>"下一年 ›"</a>
        </p>
        <div class="scroll"><table>
            <thead><tr><th>"队伍"</th><th>"一季度"</th><th>"二季度"</th><th>"三季度"</th><th>"四季度"</th></tr></thead>
            <tbody>
                {by_team.iter().map(|((name, _), quarters)| view! {
                    <tr><td>{name.clone()}</td>{quarters.iter().map(|q| cell(q)).collect_view()}</tr>
                }).collect_view()}
            </tbody>
        </table></div>
        <p class="muted small">"参与率 = 每次活动签到的本队队员 ÷ 本队现有队员，按活动平均；低于85%标红。"</p>
    }
    .into_any();
    Ok(page("志愿服务参与率", "/manage/activities", None, StatusCode::OK, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turnout(team_members: i64, attended_members: i64) -> TurnoutRow {
        TurnoutRow {
            team_id: "t".into(),
            team_name: "巡逻队".into(),
            activity_id: "a".into(),
            starts_at: 0,
            team_members,
            attended_members,
        }
    }

    #[test]
    fn participation_averages_each_activity_share() {
        let (full, half, empty) = (turnout(4, 4), turnout(4, 2), turnout(0, 0));
        assert_eq!(participation(&[&full, &half]), Some(0.75));
        assert_eq!(
            participation(&[&full, &empty]),
            Some(1.0),
            "a team without members counts no activity"
        );
        assert_eq!(participation(&[]), None);
        assert!(participation(&[&half]).unwrap() < TARGET_RATE);
    }
}
