//! A community's volunteer teams (free names: 巡逻队, 环境卫生队,
//! 党员志愿服务队 …) and their members: party members from the roster and
//! resident volunteers found by name. Anyone of another community is not
//! found, and the attempt audited.

use std::collections::{HashMap, HashSet};

use app::api::parse_id;
use app::auth::ssr::Caller;
use app::error::ApiError;
use app::state::now_ms;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use leptos::prelude::*;
use serde::Deserialize;
use store::party::RosterQuery;

use super::{choose_community, shown_community};
use super::{chosen_community, own_team};
use crate::auth::Api;
use crate::coverage::given;
use crate::party::check_text;
use crate::routes::{Routes, get, post};
use crate::staff::{field, form_body, page};

pub fn routes() -> Routes {
    Routes::new()
        .route("/manage/activities/teams", get(teams).post(create))
        .route("/manage/activities/teams/{id}", get(team_page))
        .route("/manage/activities/teams/{id}/members", post(add))
        .route("/manage/activities/teams/{id}/remove", post(remove))
}

#[derive(Debug, Default, Deserialize)]
struct TeamsQuery {
    community: Option<String>,
}

async fn teams(Api(caller): Api, query: Result<Query<TeamsQuery>, QueryRejection>) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|_| ApiError::BadRequest("查询格式不正确".into()))?;
    let Some(community) = shown_community(&caller, given(&query.community)).await? else {
        return choose_community(&caller, "/manage/activities/teams", "志愿服务队").await;
    };
    let teams = caller.store.volunteer_teams(&community).await?;
    let body = view! {
        <ul class="list">
            {teams.is_empty().then(|| view! { <li class="muted">"还没有队伍"</li> })}
            {teams.into_iter().map(|t| view! {
                <li><a href=format!("/manage/activities/teams/{}", t.id)>{t.name}</a>
                    <span class="muted">{format!(" · {}人", t.members)}</span></li>
            }).collect_view()}
        </ul>
        <form method="post" action="/manage/activities/teams" class="stack card">
            <input type="hidden" name="community" value=community/>
            <label>"队伍名称"<input name="name" required maxlength="20" placeholder="如 巡逻队、环境卫生队"/></label>
            <button type="submit">"新建队伍"</button>
        </form>
    }
    .into_any();
    Ok(page("志愿服务队", "/manage/activities", None, StatusCode::OK, body))
}

async fn create(
    Api(caller): Api,
    body: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Result<Response, ApiError> {
    let body = form_body(body)?;
    let community = chosen_community(&caller, "volunteer_team", field(&body, "community")).await?;
    let name = field(&body, "name");
    if let Err(message) = check_text(name, "队伍名称", 1, 20) {
        let back = view! { <p><a href="/manage/activities/teams">"返回"</a></p> }.into_any();
        return Ok(page(
            "志愿服务队",
            "/manage/activities/teams",
            Some(&message),
            StatusCode::UNPROCESSABLE_ENTITY,
            back,
        ));
    }
    let (id, at) = (store::new_id(), now_ms());
    let mut tx = caller.store.begin().await?;
    match tx.insert_volunteer_team(&id, &community, name, at).await {
        Err(e) if store::is_unique_violation(&e) => {
            return Err(ApiError::Conflict("本社区已有同名队伍".into()));
        }
        other => other?,
    }
    saved(&caller, tx, (at, "create"), &id).await
}

/// The end of every change to a team: its audit row in the change's own
/// transaction, the commit, and back to the team's page.
async fn saved(
    caller: &Caller,
    mut tx: store::Tx,
    (at, action): (i64, &str),
    team: &str,
) -> Result<Response, ApiError> {
    tx.audit(caller.audit_entry(at, action, "volunteer_team", team)).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/manage/activities/teams/{team}")).into_response())
}

#[derive(Debug, Default, Deserialize)]
struct Search {
    /// A resident's name to add as a volunteer.
    name: Option<String>,
}

async fn team_page(
    Api(caller): Api,
    Path(id): Path<String>,
    query: Result<Query<Search>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|_| ApiError::BadRequest("查询格式不正确".into()))?;
    let team = own_team(&caller, &id).await?;
    let members = caller.store.volunteer_team_members(&team.id).await?;
    let on_team: HashSet<&str> = members.iter().map(|m| m.id.as_str()).collect();
    let roster = caller
        .store
        .party_roster(RosterQuery {
            community: &team.community_id,
            status: "active",
            ..RosterQuery::default()
        })
        .await?;
    let hits = match given(&query.name) {
        Some(name) => caller.store.residents_named(name, &team.community_id, 20).await?,
        None => Vec::new(),
    };
    let none_found = given(&query.name).is_some() && hits.is_empty();
    let action = |what: &str| format!("/manage/activities/teams/{}/{what}", team.id);
    let body = view! {
        <ul class="list">
            {members.is_empty().then(|| view! { <li class="muted">"还没有队员"</li> })}
            {members.iter().map(|m| view! {
                <li class="row">
                    {m.name.clone()}{if m.kind == "member" { "（党员）" } else { "（居民志愿者）" }}
                    <form method="post" action=action("remove")>
                        <input type="hidden" name="person" value=m.id.clone()/>
                        <button type="submit">"移出"</button>
                    </form>
                </li>
            }).collect_view()}
        </ul>
        <h2>"加入党员"</h2>
        <form method="post" action=action("members") class="row">
            <select name="member" aria-label="党员" required>
                {roster.iter().filter(|m| !on_team.contains(m.id.as_str())).map(|m| view! {
                    <option value=m.id.clone()>{format!("{} · {}", m.name, m.branch)}</option>
                }).collect_view()}
            </select>
            <button type="submit">"加入"</button>
        </form>
        <h2>"加入居民志愿者"</h2>
        <form method="get" action=format!("/manage/activities/teams/{}", team.id) class="row">
            <input name="name" required maxlength="20" placeholder="居民姓名" value=query.name.clone().unwrap_or_default()/>
            <button type="submit">"查找居民"</button>
        </form>
        <ul class="list">
            {none_found.then(|| view! {
                <li class="muted">"本社区没有这个名字的在住居民"</li>
            })}
            {hits.into_iter().map(|h| view! {
                <li class="row">
                    {format!("{} {} {}单元 {}", h.name, h.building_name, h.unit, h.door_number)}
                    <form method="post" action=action("members")>
                        <input type="hidden" name="resident" value=h.id/>
                        <button type="submit">"加入"</button>
                    </form>
                </li>
            }).collect_view()}
        </ul>
    }
    .into_any();
    Ok(page(&team.name, "/manage/activities/teams", None, StatusCode::OK, body))
}

/// Adds a party member (`member`) or a resident volunteer (`resident`) of the
/// team's community; anyone else 404, audited.
async fn add(
    Api(caller): Api,
    Path(id): Path<String>,
    body: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Result<Response, ApiError> {
    let team = own_team(&caller, &id).await?;
    let body = form_body(body)?;
    let (member, resident) = match (field(&body, "member"), field(&body, "resident")) {
        (member, "") if !member.is_empty() => {
            let member = parse_id(member)?;
            let found = caller.store.party_member(&member).await?;
            if !found.is_some_and(|m| m.community_id == team.community_id && m.status == "active") {
                caller.audit("denied", "party_member", &member).await?;
                return Err(ApiError::not_found());
            }
            (Some(member), None)
        }
        ("", resident) if !resident.is_empty() => {
            let resident = parse_id(resident)?;
            let door = match caller.store.resident(&resident).await? {
                Some(r) if !r.moved_out => caller.store.party_door(&r.household_id).await?,
                _ => None,
            };
            if door.is_none_or(|d| d.community_id != team.community_id) {
                caller.audit("denied", "resident", &resident).await?;
                return Err(ApiError::not_found());
            }
            (None, Some(resident))
        }
        _ => return Err(ApiError::BadRequest("请选择一名党员或一位居民".into())),
    };
    let at = now_ms();
    let mut tx = caller.store.begin().await?;
    tx.add_volunteer(&team.id, member.as_deref(), resident.as_deref(), at)
        .await?;
    saved(&caller, tx, (at, "update"), &team.id).await
}

async fn remove(
    Api(caller): Api,
    Path(id): Path<String>,
    body: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Result<Response, ApiError> {
    let team = own_team(&caller, &id).await?;
    let body = form_body(body)?;
    let person = parse_id(field(&body, "person"))?;
    let at = now_ms();
    let mut tx = caller.store.begin().await?;
    tx.remove_volunteer(&team.id, &person).await?;
    saved(&caller, tx, (at, "update"), &team.id).await
}
