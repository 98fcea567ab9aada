//! The activity calendar by month or quarter, an activity made and edited,
//! its sign-ups as the lead sees them (phones masked), and 发布为活动通知:
//! the activity published as a notice of the 活动通知 category whose body
//! carries the public sign-up link.

use std::collections::HashMap;

use app::auth::ssr::Caller;
use app::domain::{CivilDate, mask_phone};
use app::error::ApiError;
use app::state::now_ms;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use leptos::prelude::*;
use serde::Deserialize;
use store::activities::{ActivityFields, ActivityRow};

use super::{chosen_community, credit_minutes, local_input, own_activity, time_range};
use crate::auth::Api;
use crate::coverage::given;
use crate::notices::{Draft, beijing_time};
use crate::party::check_text;
use crate::requests::Quarter;
use crate::routes::{Routes, get, post};
use crate::staff::{administered, field, form_body, page};
use app::sync::hours_label;

pub fn routes() -> Routes {
    Routes::new()
        .route("/manage/activities", get(calendar).post(create))
        .route("/manage/activities/{id}", get(activity_page).post(edit))
        .route("/manage/activities/{id}/publish", post(publish))
}

/// The calendar's span: a month (`2026-12`) or a quarter (`2026Q4`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Period {
    Month(i32, u8),
    Quarter(Quarter),
}

impl Period {
    fn parse(month: Option<&str>, quarter: Option<&str>) -> Option<Period> {
        match (month, quarter) {
            (_, Some(q)) => Quarter::parse(q).map(Period::Quarter),
            (Some(m), None) => {
                let day = CivilDate::parse(&format!("{}-01", m.trim()))?;
                Some(Period::Month(day.year(), day.month()))
            }
            (None, None) => Some(Period::current()),
        }
    }

    /// This month in Beijing.
    fn current() -> Period {
        let (today, _) = super::beijing(now_ms());
        Period::Month(today.year(), today.month())
    }

    fn start(self) -> i64 {
        match self {
            Period::Month(y, m) => app::policy::month_start(y, m),
            Period::Quarter(q) => q.start(),
        }
    }

    fn end(self) -> i64 {
        self.next().start()
    }

    fn next(self) -> Period {
        match self {
            Period::Month(y, 12) => Period::Month(y + 1, 1),
            Period::Month(y, m) => Period::Month(y, m + 1),
            Period::Quarter(q) => Period::Quarter(q.next()),
        }
    }

    fn previous(self) -> Period {
        match self {
            Period::Month(y, 1) => Period::Month(y - 1, 12),
            Period::Month(y, m) => Period::Month(y, m - 1),
            Period::Quarter(q) => Period::Quarter(q.previous()),
        }
    }

    fn label(self) -> String {
        match self {
            Period::Month(y, m) => format!("{y}年{m}月"),
            Period::Quarter(q) => q.label(),
        }
    }

    /// The query naming it.
    fn query(self) -> String {
        match self {
            Period::Month(y, m) => format!("month={y}-{m:02}"),
            Period::Quarter(q) => format!("quarter={}", q.code()),
        }
    }

    /// The same time as the other kind of span: its quarter, or the quarter's first month.
    fn other(self) -> Period {
        match self {
            Period::Month(y, m) => Period::Quarter(Quarter {
                year: y,
                number: (m - 1) / 3 + 1,
            }),
            Period::Quarter(q) => Period::Month(q.year, (q.number - 1) * 3 + 1),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct CalendarQuery {
    month: Option<String>,
    quarter: Option<String>,
    /// An admin's choice of community.
    community: Option<String>,
}

/// An admin's list of communities to choose from (a lead has one).
pub(crate) async fn choose_community(caller: &Caller, path: &str, title: &str) -> Result<Response, ApiError> {
    let communities = caller.store.communities().await?;
    let body = view! {
        <ul class="list">
            {communities.into_iter().map(|c| view! {
                <li><a href=format!("{path}?community={}", c.id)>{c.name}</a></li>
            }).collect_view()}
        </ul>
    }
    .into_any();
    Ok(page(title, "/manage/users", Some("请选择社区"), StatusCode::OK, body))
}

/// The community a page shows: a lead's own, or an admin's choice (`None`:
/// the admin has not chosen yet); a lead naming another community: 404.
pub(crate) async fn shown_community(caller: &Caller, asked: Option<&str>) -> Result<Option<String>, ApiError> {
    match (administered(caller, "activity").await?, asked) {
        (Some(own), None) => Ok(Some(own)),
        (_, Some(asked)) => chosen_community(caller, "activity", asked).await.map(Some),
        (None, None) => Ok(None),
    }
}

async fn calendar(Api(caller): Api, query: Result<Query<CalendarQuery>, QueryRejection>) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|_| ApiError::BadRequest("查询格式不正确".into()))?;
    let Some(community) = shown_community(&caller, given(&query.community)).await? else {
        return choose_community(&caller, "/manage/activities", "活动日历").await;
    };
    let period = Period::parse(given(&query.month), given(&query.quarter))
        .ok_or_else(|| ApiError::BadRequest("月份请按 年-月 填写，季度如 2026Q4".into()))?;
    calendar_page(&caller, &community, period, None, StatusCode::OK).await
}

/// The calendar; `refused`: why a new activity was not made, with what was
/// sent, to show in its form again.
async fn calendar_page(
    caller: &Caller,
    community: &str,
    period: Period,
    refused: Option<(&str, &HashMap<String, String>)>,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let activities = caller
        .store
        .activities_between(community, period.start(), period.end())
        .await?;
    let teams = caller.store.volunteer_teams(community).await?;
    let admin = caller.user.community_id.is_none();
    let scope = if admin {
        format!("&community={community}")
    } else {
        String::new()
    };
    let link = |p: Period| format!("/manage/activities?{}{scope}", p.query());
    let body = view! {
        <p class="row">
            <a href=link(period.previous())>"‹ 上一期"</a>
            <b>{period.label()}</b>
            <a href=link(period.next())>"下一期 ›"</a>
            <a href=link(period.other())>{if matches!(period, Period::Month(..)) { "按季度看" } else { "按月看" }}</a>
        </p>
        <p class="row">
            <a class="btn" href=format!("/manage/activities/teams?community={community}")>"志愿服务队"</a>
            <a class="btn" href=format!("/manage/activities/rates?community={community}")>"参与率"</a>
        </p>
        <div class="scroll"><table>
            <thead><tr><th>"时间"</th><th>"活动"</th><th>"地点"</th><th>"队伍"</th><th>"时长"</th>
                <th>"报名"</th><th>"签到"</th></tr></thead>
            <tbody>
                {activities.is_empty().then(|| view! { <tr><td colspan="7" class="muted">"这段时间还没有活动"</td></tr> })}
                {activities.iter().map(|a| view! {
                    <tr>
                        <td>{time_range(a.starts_at, a.ends_at)}</td>
                        <td><a href=format!("/manage/activities/{}", a.id)>{a.title.clone()}</a>
                            {a.notice_id.is_some().then_some(" · 已发布")}</td>
                        <td>{a.place.clone()}</td>
                        <td>{a.team_name.clone().unwrap_or_default()}</td>
                        <td>{hours_label(a.credit_minutes)}</td>
                        <td>{a.signups}</td>
                        <td>{a.attended}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table></div>
        <h2>"新建活动"</h2>
        {activity_form("/manage/activities", community, &teams, refused.map(|(_, sent)| Values::sent(sent)).unwrap_or_default(), "新建活动")}
    }
    .into_any();
    Ok(page("活动日历", "/manage/party", refused.map(|(m, _)| m), status, body))
}

/// What the activity form shows: a saved activity, or what was sent.
#[derive(Debug, Default)]
struct Values {
    title: String,
    place: String,
    starts_at: String,
    ends_at: String,
    hours: String,
    team: String,
}

impl Values {
    fn of(a: &ActivityRow) -> Values {
        Values {
            title: a.title.clone(),
            place: a.place.clone(),
            starts_at: local_input(a.starts_at),
            ends_at: local_input(a.ends_at),
            hours: format!("{}", a.credit_minutes as f64 / 60.0),
            team: a.team_id.clone().unwrap_or_default(),
        }
    }

    fn sent(body: &HashMap<String, String>) -> Values {
        let text = |name| field(body, name).to_owned();
        Values {
            title: text("title"),
            place: text("place"),
            starts_at: text("starts_at"),
            ends_at: text("ends_at"),
            hours: text("hours"),
            team: text("team"),
        }
    }
}

/// The create / edit form of an activity.
fn activity_form(
    action: &str,
    community: &str,
    teams: &[store::activities::TeamRow],
    values: Values,
    button: &'static str,
) -> AnyView {
    let team = values.team;
    view! {
        <form method="post" action=action.to_owned() class="stack card">
            <input type="hidden" name="community" value=community.to_owned()/>
            <label>"活动名称"<input name="title" required maxlength="50" value=values.title/></label>
            <label>"地点"<input name="place" required maxlength="50" value=values.place/></label>
            <label>"开始（北京时间）"<input name="starts_at" type="datetime-local" required
                value=values.starts_at/></label>
            <label>"结束"<input name="ends_at" type="datetime-local" required
                value=values.ends_at/></label>
            <label>"计入服务时长（小时）"<input name="hours" inputmode="decimal" required maxlength="5"
                value=values.hours/></label>
            <label>"组织队伍"<select name="team">
                <option value="">"不限队伍"</option>
                {teams.iter().map(|t| {
                    let selected = t.id == team;
                    view! { <option value=t.id.clone() selected=selected>{t.name.clone()}</option> }
                }).collect_view()}
            </select></label>
            <button type="submit">{button}</button>
        </form>
    }
    .into_any()
}

/// An activity's fields as the form gives them, checked; the team must be the
/// community's (else 404, audited).
async fn fields(
    caller: &Caller,
    body: &HashMap<String, String>,
    community: &str,
) -> Result<Result<Fields, String>, ApiError> {
    let team = match field(body, "team") {
        "" => None,
        id => {
            let team = super::own_team(caller, id).await?;
            if team.community_id != community {
                caller.audit("denied", "volunteer_team", &team.id).await?;
                return Err(ApiError::not_found());
            }
            Some(team.id)
        }
    };
    Ok(Fields::parse(body, team))
}

struct Fields {
    team: Option<String>,
    title: String,
    place: String,
    starts_at: i64,
    ends_at: i64,
    credit_minutes: i64,
}

impl Fields {
    fn parse(body: &HashMap<String, String>, team: Option<String>) -> Result<Fields, String> {
        let (title, place) = (field(body, "title"), field(body, "place"));
        check_text(title, "活动名称", 1, 50)?;
        check_text(place, "地点", 1, 50)?;
        let time =
            |name: &str, what: &str| beijing_time(field(body, name)).ok_or(format!("请填写{what}（年-月-日 时:分）"));
        let starts_at = time("starts_at", "开始时间")?;
        let ends_at = time("ends_at", "结束时间")?;
        if ends_at <= starts_at {
            return Err("结束时间应晚于开始时间".into());
        }
        Ok(Fields {
            team,
            title: title.to_owned(),
            place: place.to_owned(),
            starts_at,
            ends_at,
            credit_minutes: credit_minutes(field(body, "hours"))?,
        })
    }

    fn row(&self) -> ActivityFields<'_> {
        ActivityFields {
            team_id: self.team.as_deref(),
            title: &self.title,
            place: &self.place,
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            credit_minutes: self.credit_minutes,
        }
    }
}

async fn create(
    Api(caller): Api,
    body: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Result<Response, ApiError> {
    let body = form_body(body)?;
    let community = chosen_community(&caller, "activity", field(&body, "community")).await?;
    let fields = match fields(&caller, &body, &community).await? {
        Ok(fields) => fields,
        Err(message) => {
            let (period, status) = (Period::current(), StatusCode::UNPROCESSABLE_ENTITY);
            return calendar_page(&caller, &community, period, Some((&message, &body)), status).await;
        }
    };
    let id = store::new_id();
    let at = now_ms();
    let mut tx = caller.store.begin().await?;
    tx.insert_activity(&id, &community, fields.row(), &caller.user.id, at)
        .await?;
    tx.audit(caller.audit_entry(at, "create", "activity", &id)).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/manage/activities/{id}")).into_response())
}

async fn activity_page(Api(caller): Api, Path(id): Path<String>) -> Result<Response, ApiError> {
    let activity = own_activity(&caller, &id).await?;
    activity_view(&caller, &activity, None, None, StatusCode::OK).await
}

/// An activity's page; `sent`: an edit refused, to show in the form again.
async fn activity_view(
    caller: &Caller,
    a: &ActivityRow,
    message: Option<&str>,
    sent: Option<&HashMap<String, String>>,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let signups = caller.store.activity_signups(&a.id).await?;
    let teams = caller.store.volunteer_teams(&a.community_id).await?;
    let anonymous = signups.iter().filter(|s| s.name.is_none()).count();
    let public_link = format!("/n/{}/activities/{}", a.community_id, a.id);
    let body = view! {
        <div class="card">
            <p>{time_range(a.starts_at, a.ends_at)}" · "{a.place.clone()}</p>
            <p>{a.team_name.clone().map_or_else(|| "不限队伍".to_owned(), |t| format!("组织队伍：{t}"))}
                {format!(" · 计入服务时长 {}", hours_label(a.credit_minutes))}</p>
            <p>{format!("报名 {} 人（匿名 {anonymous}）· 签到 {} 人", a.signups, a.attended)}</p>
            <p class="row">
                <a class="btn" href=format!("/manage/activities/{}/attendance", a.id)>"签到表"</a>
                {match &a.notice_id {
                    Some(notice) => view! {
                        <a href=format!("/manage/notices/{notice}")>"活动通知"</a>
                        <a href=public_link.clone()>"报名页"</a>
                    }.into_any(),
                    None => view! {
                        <form method="post" action=format!("/manage/activities/{}/publish", a.id)>
                            <button type="submit">"发布为活动通知"</button>
                        </form>
                    }.into_any(),
                }}
            </p>
        </div>
        <h2>"报名"</h2>
        <div class="scroll"><table>
            <thead><tr><th>"姓名"</th><th>"电话"</th><th>"报名时间"</th></tr></thead>
            <tbody>
                {signups.into_iter().map(|s| view! {
                    <tr>
                        <td>{s.name.unwrap_or_else(|| "匿名".into())}</td>
                        <td>{s.phone.as_deref().map(mask_phone).unwrap_or_default()}</td>
                        <td>{time_range(s.at, s.at)}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table></div>
        <h2>"修改活动"</h2>
        {activity_form(&format!("/manage/activities/{}", a.id), &a.community_id, &teams, sent.map_or_else(|| Values::of(a), Values::sent), "保存")}
    }
    .into_any();
    Ok(page(&a.title, "/manage/activities", message, status, body))
}

async fn edit(
    Api(caller): Api,
    Path(id): Path<String>,
    body: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Result<Response, ApiError> {
    let activity = own_activity(&caller, &id).await?;
    let body = form_body(body)?;
    let fields = match fields(&caller, &body, &activity.community_id).await? {
        Ok(fields) => fields,
        Err(message) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return activity_view(&caller, &activity, Some(&message), Some(&body), status).await;
        }
    };
    let at = now_ms();
    let mut tx = caller.store.begin().await?;
    tx.update_activity(&activity.id, fields.row(), at).await?;
    tx.audit(caller.audit_entry(at, "update", "activity", &activity.id))
        .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/manage/activities/{}", activity.id)).into_response())
}

/// The 活动通知's text: when, where, who, the hours, and the sign-up link.
fn notice_body(a: &ActivityRow) -> String {
    format!(
        "**时间**：{}\n\n**地点**：{}\n\n**组织**：{}\n\n**计入志愿服务时长**：{}\n\n\
         [我要报名](/n/{}/activities/{})（无需注册，可以匿名）\n",
        time_range(a.starts_at, a.ends_at),
        a.place,
        a.team_name.as_deref().unwrap_or("社区"),
        hours_label(a.credit_minutes),
        a.community_id,
        a.id,
    )
}

/// 发布为活动通知: a published notice of the 活动通知 category, made in the
/// same transaction as the activity's link to it. Published already: to the
/// notice (withdrawing or re-publishing it is the notice's own page).
async fn publish(Api(caller): Api, Path(id): Path<String>) -> Result<Response, ApiError> {
    let activity = own_activity(&caller, &id).await?;
    if let Some(notice) = &activity.notice_id {
        return Ok(Redirect::to(&format!("/manage/notices/{notice}")).into_response());
    }
    let now = now_ms();
    if activity.ends_at <= now {
        let message = "活动已经结束，不能再发布报名";
        return activity_view(
            &caller,
            &activity,
            Some(message),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let draft = Draft {
        community_id: activity.community_id.clone(),
        category: "event".into(),
        title: activity.title.clone(),
        body: notice_body(&activity),
    };
    if let Err(message) = draft.check() {
        return activity_view(
            &caller,
            &activity,
            Some(&message),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let mut tx = caller.store.begin().await?;
    let notice = crate::notices::insert_draft(&mut tx, &caller, &draft, now).await?;
    crate::notices::publish_in(&mut tx, &caller, &notice, &draft, now).await?;
    tx.set_activity_notice(&activity.id, &notice, now).await?;
    tx.audit(caller.audit_entry(now, "update", "activity", &activity.id))
        .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/manage/activities/{}", activity.id)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::clock::DAY_MS;

    #[test]
    fn periods_step_across_years() {
        let december = Period::parse(Some("2026-12"), None).unwrap();
        assert_eq!(december.next(), Period::Month(2027, 1));
        assert_eq!(december.other(), Period::Quarter(Quarter { year: 2026, number: 4 }));
        assert_eq!(december.end() - december.start(), 31 * DAY_MS);
        assert_eq!(Period::Month(2027, 1).previous(), december);
        let q4 = Period::parse(None, Some("2026Q4")).unwrap();
        assert_eq!(q4.start(), Period::Month(2026, 10).start());
        assert_eq!(q4.end(), Period::Month(2027, 1).start());
        assert_eq!(Period::parse(Some("2026-13"), None), None);
    }
}
