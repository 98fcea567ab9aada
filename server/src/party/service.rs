//! Members' visits and the cadence by rank (001 #5): a visit a member made to
//! one of their 联系户, recorded at the desk from the member's report (an
//! ordinary visit naming the member and the service time it counts, so the
//! household's coverage counts it and phones receive it); the members overdue
//! in their rank's current period; and the admin's page for the cadences and
//! the yearly hours rule.

use std::collections::HashMap;

use app::api::parse_id;
use app::auth::ssr::Caller;
use app::domain::{CivilDate, Outcome, Role};
use app::error::ApiError;
use app::policy::{BEIJING_OFFSET_MS, month_start, period_start};
use app::state::now_ms;
use app::sync::{SERVICE_MINUTES_REFUSED, service_minutes};
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use leptos::prelude::*;
use serde::Deserialize;
use store::party::{LinkedHouseholdRow, MemberRow};
use store::visits::NewVisit;

use super::{Rank, cadence_label, check_text, rank_label, run_member};
use crate::activities::{choose_community, local_input, shown_community};
use crate::auth::Api;
use crate::coverage::given;
use crate::notices::beijing_time;
use crate::routes::{Routes, get, post};
use crate::staff::{field, form_body, page};
use app::sync::hours_label;

pub fn routes() -> Routes {
    Routes::new()
        .route("/manage/party/members/{id}/visits", post(record_visit))
        .route("/manage/party/overdue", get(overdue))
        .route("/manage/party/rules", get(rules_page).post(set_rules))
}

/// The yearly rule's bounds, in hours.
const ANNUAL_HOURS: std::ops::RangeInclusive<i64> = 1..=500;

/// `[start, end)` of a Beijing calendar year.
pub(super) fn year_span(year: i32) -> (i64, i64) {
    (month_start(year, 1), month_start(year + 1, 1))
}

/// Service time as a lead writes it ("1", "0.5") in minutes: at least six
/// minutes, at most twelve hours.
fn visit_minutes(text: &str) -> Result<i64, String> {
    service_minutes(text).ok_or_else(|| SERVICE_MINUTES_REFUSED.to_owned())
}

/// The rank's cadence in months (two months when the rank is unknown).
fn months_of(cadences: &[(String, i64)], rank: &str) -> i64 {
    cadences
        .iter()
        .find(|(r, _)| r == rank)
        .map_or(2, |(_, months)| *months)
}

/// The member page's part on visits: this year's visits and the form that
/// records one. `visit_id` is fixed when the page is drawn, so a form sent
/// twice (a double tap, a resend) stores one visit. `households` and
/// `cadences` are the ones the member page has read already.
pub(super) async fn visits_section(
    caller: &Caller,
    m: &MemberRow,
    households: &[LinkedHouseholdRow],
    cadences: &[(String, i64)],
) -> Result<AnyView, ApiError> {
    let now = now_ms();
    let (from, to) = year_span(CivilDate::from_epoch_ms(now + BEIJING_OFFSET_MS).year());
    let visits = caller
        .store
        .party_member_visits(&m.community_id, &m.id, from, to)
        .await?;
    let start = period_start(now, months_of(cadences, &m.rank));
    let due = m.status == "active" && !visits.iter().any(|v| v.visited_at >= start);
    let minutes: i64 = visits.iter().map(|v| v.service_minutes).sum();
    let action = format!("/manage/party/members/{}/visits", m.id);
    // Now, to the minute: a default in the future would be refused.
    let now_input = local_input(now);
    Ok(view! {
        <h2>"走访记录"</h2>
        {due.then(|| view! { <p class="error">{format!("本期（{}起）尚未走访联系户", crate::html::date(start))}</p> })}
        <p class="muted">{format!("今年走访{}次，服务{}", visits.len(), hours_label(minutes))}</p>
        <ul class="list">
            {visits.into_iter().rev().map(|v| view! {
                <li>{format!("{} {} {}单元 {} · {} · {}", crate::html::date(v.visited_at), v.building_name, v.unit,
                    v.door_number, Outcome::parse(&v.outcome).map_or("", |o| o.label()), hours_label(v.service_minutes))}</li>
            }).collect_view()}
        </ul>
        {(!households.is_empty() && m.status == "active").then(|| view! {
            <form method="post" action=action class="card">
                <h3>"登记党员走访"</h3>
                <input type="hidden" name="visit_id" value=uuid::Uuid::now_v7().to_string()/>
                <label>"联系户"<select name="household" required>
                    {households.iter().map(|h| view! {
                        <option value=h.household_id.clone()>{format!("{} {}单元 {}", h.building_name, h.unit, h.door_number)}</option>
                    }).collect_view()}
                </select></label>
                <label>"走访时间"<input type="datetime-local" name="visited_at" required value=now_input/></label>
                <label>"结果"<select name="outcome">
                    <option value="met">"见到住户"</option>
                    <option value="nobody_home">"无人在家"</option>
                    <option value="refused">"拒绝入户"</option>
                </select></label>
                <label>"服务时长（小时）"<input name="hours" inputmode="decimal" required value="1"/></label>
                <label>"情况记录"<input name="notes" maxlength="200"/></label>
                <button type="submit">"登记走访"</button>
            </form>
        })}
    }
    .into_any())
}

/// What a lead records of a member's visit, checked.
struct MemberVisit {
    id: String,
    household: String,
    visited_at: i64,
    outcome: Outcome,
    minutes: i64,
    notes: String,
}

impl MemberVisit {
    fn parse(body: &HashMap<String, String>, registered_on: &str, now: i64) -> Result<Result<Self, String>, ApiError> {
        let id = parse_id(field(body, "visit_id"))?;
        let household = parse_id(field(body, "household"))?;
        let checked = (|| {
            let visited_at = beijing_time(field(body, "visited_at")).ok_or("走访时间请按 年-月-日 时:分 填写")?;
            if visited_at > now {
                return Err("走访时间不能晚于现在".to_owned());
            }
            if visited_at < super::registered_from(registered_on) {
                return Err(super::BEFORE_REGISTRATION.to_owned());
            }
            let outcome = Outcome::parse(field(body, "outcome"))
                .filter(|o| *o != Outcome::MovedOut)
                .ok_or("请选择走访结果")?;
            let minutes = visit_minutes(field(body, "hours"))?;
            let notes = field(body, "notes");
            check_text(notes, "情况记录", 0, 200)?;
            Ok(MemberVisit {
                id: id.clone(),
                household: household.clone(),
                visited_at,
                outcome,
                minutes,
                notes: notes.to_owned(),
            })
        })();
        Ok(checked)
    }
}

/// Records a member's visit to one of their households; a household not
/// linked to the member is not found (audited).
async fn record_visit(
    Api(caller): Api,
    Path(id): Path<String>,
    body: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Result<Response, ApiError> {
    let m = run_member(&caller, &id).await?;
    let body = form_body(body)?;
    let now = now_ms();
    let visit = match MemberVisit::parse(&body, &m.registered_on, now)? {
        Ok(visit) => visit,
        Err(message) => return super::member::refused(&caller, m, &message).await,
    };
    let linked = caller.store.party_linked_households(&m.id).await?;
    if !linked.iter().any(|h| h.household_id == visit.household) {
        caller.audit("denied", "household", &visit.household).await?;
        return Err(ApiError::not_found());
    }
    if m.status != "active" {
        return super::member::refused(&caller, m, "该党员已迁出，不能登记走访").await;
    }
    let mut tx = caller.store.begin().await?;
    let Some(grid) = tx.household_grid(&visit.household).await? else {
        return Err(ApiError::not_found());
    };
    let notes = format!("党员{}走访：{}", m.name, visit.notes);
    let new = NewVisit {
        id: &visit.id,
        household_id: &visit.household,
        worker_id: &caller.user.id,
        visited_at: visit.visited_at,
        visit_type: "routine",
        outcome: visit.outcome.as_str(),
        notes: notes.trim_end_matches('：'),
        created_at: now,
        residents_seen: &[],
        photos: &[],
        concerns: Vec::new(),
    };
    // A form sent again carries the same visit id: stored once, answered alike.
    if tx.insert_visit(&new).await? {
        tx.mark_party_visit(&visit.id, &m.id, visit.minutes).await?;
        tx.record_change("visit", &visit.id, &grid, now);
        tx.audit(caller.audit_entry(now, "create", "party_visit", &visit.id))
            .await?;
    }
    tx.commit().await?;
    Ok(Redirect::to(&format!("/manage/party/members/{}", m.id)).into_response())
}

#[derive(Debug, Default, Deserialize)]
struct CommunityQuery {
    community: Option<String>,
}

/// Active members with no visit in their rank's current period, the longest
/// unvisited first: who the 社区书记 calls this week.
async fn overdue(Api(caller): Api, query: Result<Query<CommunityQuery>, QueryRejection>) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|_| ApiError::BadRequest("查询格式不正确".into()))?;
    let Some(community) = shown_community(&caller, given(&query.community)).await? else {
        return choose_community(&caller, "/manage/party/overdue", "未按期走访的党员").await;
    };
    let now = now_ms();
    let roster = store::party::RosterQuery {
        community: &community,
        status: "active",
        ..Default::default()
    };
    let (members, cadences, last) = tokio::try_join!(
        caller.store.party_roster(roster),
        caller.store.party_cadences(),
        caller.store.party_last_visits(&community),
    )?;
    let last: HashMap<String, i64> = last.into_iter().collect();
    let mut due: Vec<(MemberRow, i64, Option<i64>)> = members
        .into_iter()
        .filter_map(|m| {
            let start = period_start(now, months_of(&cadences, &m.rank));
            let last = last.get(&m.id).copied();
            last.is_none_or(|at| at < start).then_some((m, start, last))
        })
        .collect();
    due.sort_by_key(|(m, _, last)| (last.unwrap_or(0), m.name.clone()));
    caller.audit("read", "party_overdue", &community).await?;
    let count = due.len();
    let body = view! {
        <p class="muted">{format!("{count}名党员本期尚未走访联系户（按职级：{}）",
            Rank::ALL.iter().map(|r| format!("{}{}", r.label(), cadence_label(months_of(&cadences, r.as_str()))))
                .collect::<Vec<_>>().join("，"))}</p>
        <table>
            <thead><tr><th>"姓名"</th><th>"职级"</th><th>"单位"</th><th>"本期起"</th><th>"上次走访"</th></tr></thead>
            <tbody>
                {due.into_iter().map(|(m, start, last)| view! {
                    <tr>
                        <td><a href=format!("/manage/party/members/{}", m.id)>{m.name.clone()}</a></td>
                        <td>{rank_label(&m.rank)}</td>
                        <td>{if m.unit.is_empty() { "居民党员".to_owned() } else { m.unit.clone() }}</td>
                        <td>{crate::html::date(start)}</td>
                        <td>{last.map_or_else(|| "从未".to_owned(), crate::html::date)}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any();
    Ok(page("未按期走访的党员", "/manage/party", None, StatusCode::OK, body))
}

/// Only an admin sets the cadences and the yearly rule: they hold for every
/// community.
async fn admin_only(caller: &Caller) -> Result<(), ApiError> {
    if caller.user.role == Role::Admin {
        Ok(())
    } else {
        caller.audit("denied", "party_rules", "-").await?;
        Err(ApiError::Forbidden)
    }
}

async fn rules_page(Api(caller): Api) -> Result<Response, ApiError> {
    admin_only(&caller).await?;
    rules_view(&caller, None, StatusCode::OK).await
}

async fn rules_view(caller: &Caller, message: Option<&str>, status: StatusCode) -> Result<Response, ApiError> {
    let cadences = caller.store.party_cadences().await?;
    let annual = caller.store.party_annual_minutes().await?;
    let body = view! {
        <form method="post" action="/manage/party/rules" class="card">
            {Rank::ALL.into_iter().map(|r| {
                let months = months_of(&cadences, r.as_str());
                view! {
                    <label>{format!("{}：每几个月走访1次", r.label())}
                        <select name=r.as_str()>
                            {[1, 2, 3, 4, 6, 12].into_iter().map(|n| view! {
                                <option value=n.to_string() selected=n == months>{cadence_label(n)}</option>
                            }).collect_view()}
                        </select>
                    </label>
                }
            }).collect_view()}
            <label>"每名党员每年服务时长不少于（小时）"
                <input name="annual_hours" inputmode="numeric" required value=(annual / 60).to_string()/></label>
            <button type="submit">"保存"</button>
        </form>
    }
    .into_any();
    Ok(page("走访频次与服务时长", "/manage/party", message, status, body))
}

async fn set_rules(
    Api(caller): Api,
    body: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Result<Response, ApiError> {
    admin_only(&caller).await?;
    let body = form_body(body)?;
    let mut months = Vec::new();
    for rank in Rank::ALL {
        match field(&body, rank.as_str()).parse::<i64>() {
            Ok(n) if [1, 2, 3, 4, 6, 12].contains(&n) => months.push((rank, n)),
            _ => {
                let message = "走访频次只能是每1、2、3、4、6或12个月1次";
                return rules_view(&caller, Some(message), StatusCode::UNPROCESSABLE_ENTITY).await;
            }
        }
    }
    let Some(hours) = field(&body, "annual_hours")
        .parse::<i64>()
        .ok()
        .filter(|h| ANNUAL_HOURS.contains(h))
    else {
        let message = "每年服务时长请填写1到500之间的整数小时";
        return rules_view(&caller, Some(message), StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let at = now_ms();
    let mut tx = caller.store.begin().await?;
    for (rank, n) in months {
        tx.set_party_cadence(rank.as_str(), n, at).await?;
    }
    tx.set_party_annual_minutes(hours * 60, at).await?;
    tx.audit(caller.audit_entry(at, "update", "party_rules", "1")).await?;
    tx.commit().await?;
    Ok(Redirect::to("/manage/party/rules").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::clock::DAY_MS;

    /// Beijing wall-clock time as epoch milliseconds.
    fn at(text: &str) -> i64 {
        beijing_time(text).unwrap()
    }

    #[test]
    fn periods_are_calendar_blocks_in_beijing() {
        // Quarterly: 31 March 23:59 Beijing is still Q1; 1 April 00:00 is Q2.
        assert_eq!(period_start(at("2026-03-31T23:59"), 3), at("2026-01-01T00:00"));
        assert_eq!(period_start(at("2026-04-01T00:00"), 3), at("2026-04-01T00:00"));
        // ... even though in UTC 1 April 00:00 Beijing is still 31 March.
        assert_eq!(at("2026-04-01T00:00") % DAY_MS, 16 * 3_600_000);
        // Monthly.
        assert_eq!(period_start(at("2026-12-01T00:00"), 1), at("2026-12-01T00:00"));
        assert_eq!(period_start(at("2026-11-30T23:59"), 1), at("2026-11-01T00:00"));
        // Every two months from January: Nov–Dec, Sep–Oct.
        assert_eq!(period_start(at("2026-12-31T23:59"), 2), at("2026-11-01T00:00"));
        assert_eq!(period_start(at("2026-10-31T12:00"), 2), at("2026-09-01T00:00"));
        // Yearly, across the new year.
        assert_eq!(period_start(at("2027-01-01T00:00"), 12), at("2027-01-01T00:00"));
        assert_eq!(year_span(2026), (at("2026-01-01T00:00"), at("2027-01-01T00:00")));
    }

    #[test]
    fn visit_time_is_bounded() {
        assert_eq!(visit_minutes("1.5"), Ok(90));
        assert_eq!(visit_minutes(" 0.5 "), Ok(30));
        assert!(visit_minutes("0").is_err());
        assert!(visit_minutes("-1").is_err());
        assert!(visit_minutes("13").is_err());
        assert!(visit_minutes("NaN").is_err());
        assert!(visit_minutes("一小时").is_err());
    }
}
