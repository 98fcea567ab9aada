//! The roster with its filters and counts, registering a member (a resident
//! found by name, or an in-service member from an outside unit), and a
//! party group tied to a grid.

use std::collections::HashMap;

use app::api::parse_id;
use app::auth::ssr::Caller;
use app::domain::mask_phone;
use app::error::ApiError;
use app::state::now_ms;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use leptos::prelude::*;
use serde::Deserialize;
use store::party::{NewMember, RosterQuery};

use super::{Fields, Rank, already_registered, cadence_label, links_short, rank_label, today};
use crate::auth::Api;
use crate::coverage::given;
use crate::routes::{Routes, get, post};
use crate::staff::{administered, field, form_body, page};

pub fn routes() -> Routes {
    Routes::new()
        .route("/manage/party", get(roster).post(register))
        .route("/manage/party/new", get(new_page))
        .route("/manage/party/groups", post(set_group))
}

#[derive(Debug, Default, Deserialize)]
struct Filters {
    /// An admin's choice of community.
    community: Option<String>,
    branch: Option<String>,
    group: Option<String>,
    status: Option<String>,
}

/// The community whose roster is shown: a lead's own; an admin's choice, or
/// every community (empty).
async fn shown_community(caller: &Caller, asked: Option<&str>) -> Result<String, ApiError> {
    match (administered(caller, "party_member").await?, asked) {
        (Some(own), _) => Ok(own),
        (None, Some(asked)) => parse_id(asked),
        (None, None) => Ok(String::new()),
    }
}

async fn roster(Api(caller): Api, filters: Result<Query<Filters>, QueryRejection>) -> Result<Response, ApiError> {
    let Query(filters) = filters.map_err(|_| ApiError::BadRequest("筛选条件格式不正确".into()))?;
    let community = shown_community(&caller, given(&filters.community)).await?;
    let status = given(&filters.status).unwrap_or("");
    if !matches!(status, "" | "active" | "moved") {
        return Err(ApiError::BadRequest("没有这个状态".into()));
    }
    let (branch, group) = (
        given(&filters.branch).unwrap_or(""),
        given(&filters.group).unwrap_or(""),
    );
    let members = caller
        .store
        .party_roster(RosterQuery {
            community: &community,
            branch,
            group,
            status,
        })
        .await?;
    let groups = if community.is_empty() {
        Vec::new()
    } else {
        caller.store.party_groups(&community).await?
    };
    let communities = if caller.user.community_id.is_none() {
        caller.store.communities().await?
    } else {
        Vec::new()
    };
    let grids = if community.is_empty() {
        Vec::new()
    } else {
        caller.store.territory_grids(&community).await?
    };
    let cadences = caller.store.party_cadences().await?;
    let active = members.iter().filter(|m| m.status == "active").count();
    let short = members.iter().filter(|m| links_short(m)).count();
    let mut branches: Vec<(String, String)> = groups.iter().map(|g| (g.branch_id.clone(), g.branch.clone())).collect();
    branches.dedup();
    let named_groups: Vec<_> = groups
        .iter()
        .filter_map(|g| {
            Some((
                g.group_id.clone()?,
                format!("{} · {}", g.branch, g.group_name.clone()?),
                g.grid_name.clone(),
            ))
        })
        .collect();
    let admin = !communities.is_empty();
    let body = view! {
        <p class="row">
            <a class="btn" href="/manage/party/new">"登记党员"</a>
            <a class="btn" href="/manage/activities">"志愿服务活动"</a>
            <a class="btn" href="/manage/party/overdue">"未按期走访"</a>
            <a class="btn" href="/manage/party/hours">"服务时间台账"</a>
            <a class="btn" href="/manage/party/units">"单位季度报告"</a>
            {admin.then(|| view! { <a class="btn" href="/manage/party/rules">"频次与时长"</a> })}
            <span class="muted">{format!("共 {} 人：在册 {active}，已迁出 {}；联系户未配齐 {short}", members.len(), members.len() - active)}</span>
        </p>
        <form method="get" action="/manage/party" class="row">
            {admin.then(|| view! {
                <select name="community" aria-label="社区">
                    <option value="">"全部社区"</option>
                    {communities.iter().map(|c| {
                        let selected = c.id == community;
                        view! { <option value=c.id.clone() selected=selected>{c.name.clone()}</option> }
                    }).collect_view()}
                </select>
            })}
            <select name="branch" aria-label="党支部">
                <option value="">"全部支部"</option>
                {branches.iter().map(|(id, name)| {
                    let selected = id == branch;
                    view! { <option value=id.clone() selected=selected>{name.clone()}</option> }
                }).collect_view()}
            </select>
            <select name="group" aria-label="党小组">
                <option value="">"全部党小组"</option>
                {named_groups.iter().map(|(id, name, _)| {
                    let selected = id == group;
                    view! { <option value=id.clone() selected=selected>{name.clone()}</option> }
                }).collect_view()}
            </select>
            <select name="status" aria-label="状态">
                <option value="" selected=status.is_empty()>"全部状态"</option>
                <option value="active" selected=status == "active">"在册"</option>
                <option value="moved" selected=status == "moved">"已迁出"</option>
            </select>
            <button type="submit">"筛选"</button>
        </form>
        <div class="scroll"><table>
            <thead><tr><th>"姓名"</th><th>"类别"</th><th>"支部 · 小组"</th><th>"工作电话"</th>
                <th>"联系户"</th><th>"楼栋"</th><th>"状态"</th><th>"联系户未配齐"</th></tr></thead>
            <tbody>
                {members.iter().map(|m| view! {
                    <tr>
                        <td><a href=format!("/manage/party/members/{}", m.id)>{m.name.clone()}</a>
                            {admin.then(|| view! { <br/><span class="muted">{m.community_name.clone()}</span> })}</td>
                        <td>{rank_label(&m.rank)}<br/><span class="muted">
                            {if m.kind == "resident" { "居民党员".to_owned() } else { format!("在职 · {}", m.unit) }}
                        </span></td>
                        <td>{m.branch.clone()}{m.group_name.clone().map(|g| format!(" · {g}"))}</td>
                        <td>{m.work_phone.as_deref().map(mask_phone).unwrap_or_default()}</td>
                        <td>{format!("困难/重点 {} · 普通 {}", m.hardship_links, m.ordinary_links)}</td>
                        <td>{m.building_links}</td>
                        <td>{if m.status == "active" { "在册" } else { "已迁出" }}</td>
                        <td class="error">{links_short(m).then_some("⚠ 未配齐")}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table></div>
        <p class="muted small">"联系户要求：每名党员至少联系1户困难或重点户、1户普通居民（只提示，不强制）。"</p>
        <h2>"走访频次（按职级）"</h2>
        <ul>
            {cadences.into_iter().map(|(rank, months)| view! {
                <li>{format!("{}：{}", rank_label(&rank), cadence_label(months))}</li>
            }).collect_view()}
        </ul>
        {(!community.is_empty()).then(|| view! {
            <h2>"党小组所在网格"</h2>
            <ul>
                {named_groups.iter().map(|(_, name, grid)| view! {
                    <li>{format!("{name}：{}", grid.clone().unwrap_or_else(|| "未下延到网格".into()))}</li>
                }).collect_view()}
            </ul>
            <form method="post" action="/manage/party/groups" class="stack card">
                <input type="hidden" name="community" value=community.clone()/>
                <label>"党支部"<input name="branch" required maxlength="30"/></label>
                <label>"党小组"<input name="group" required maxlength="30"/></label>
                <label>"下延到网格"<select name="grid">
                    <option value="">"不下延"</option>
                    {grids.into_iter().map(|g| view! { <option value=g.id>{g.name}</option> }).collect_view()}
                </select></label>
                <button type="submit">"保存党小组"</button>
            </form>
        })}
    }
    .into_any();
    Ok(page("党员名册", "/manage/users", None, StatusCode::OK, body))
}

#[derive(Debug, Default, Deserialize)]
struct NewQuery {
    /// A resident's name to look for.
    name: Option<String>,
    /// The resident chosen.
    resident: Option<String>,
}

async fn new_page(Api(caller): Api, query: Result<Query<NewQuery>, QueryRejection>) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|_| ApiError::BadRequest("查询格式不正确".into()))?;
    new_view(&caller, &query, None, StatusCode::OK).await
}

/// The member form's fields beside the kind-specific ones.
fn common_fields() -> impl IntoView {
    view! {
        <label>"职级类别"<select name="rank" required>
            {Rank::ALL.into_iter().map(|r| view! {
                <option value=r.as_str() selected=r == Rank::Member>{r.label()}</option>
            }).collect_view()}
        </select></label>
        <label>"党支部"<input name="branch" required maxlength="30" placeholder="如 第一党支部"/></label>
        <label>"党小组（可不填）"<input name="group" maxlength="30"/></label>
        <label>"报到日期"<input name="registered_on" type="date" value=today().to_string()/></label>
    }
}

async fn new_view(
    caller: &Caller,
    query: &NewQuery,
    message: Option<&str>,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let scope = administered(caller, "party_member").await?;
    let own = scope.clone().unwrap_or_default();
    let hits = match given(&query.name) {
        Some(name) => caller.store.residents_named(name, &own, 20).await?,
        None => Vec::new(),
    };
    let chosen = match given(&query.resident) {
        Some(id) => {
            let id = parse_id(id)?;
            let resident = caller.store.resident(&id).await?;
            let door = match &resident {
                Some(r) => caller.store.party_door(&r.household_id).await?,
                None => None,
            };
            match (resident, door) {
                (Some(r), Some(d)) if scope.as_deref().is_none_or(|own| own == d.community_id) && !r.moved_out => {
                    caller.audit("read", "resident", &r.id).await?;
                    Some((r, d))
                }
                _ => {
                    caller.audit("denied", "resident", &id).await?;
                    return Err(ApiError::not_found());
                }
            }
        }
        None => None,
    };
    let communities = if scope.is_none() {
        caller.store.communities().await?
    } else {
        Vec::new()
    };
    let body = view! {
        <h2>"居民党员"</h2>
        <form method="get" action="/manage/party/new" class="row">
            <input name="name" required maxlength="20" placeholder="居民姓名" value=query.name.clone().unwrap_or_default()/>
            <button type="submit">"查找居民"</button>
        </form>
        {given(&query.name).map(|_| view! {
            <ul class="list">
                {hits.is_empty().then(|| view! { <li class="muted">"本社区没有这个名字的在住居民"</li> })}
                {hits.into_iter().map(|h| view! {
                    <li><a href=format!("/manage/party/new?resident={}", h.id)>
                        {format!("{}（{}年生）{} {}单元 {}", h.name, &h.birth_date[..4.min(h.birth_date.len())], h.building_name, h.unit, h.door_number)}
                    </a></li>
                }).collect_view()}
            </ul>
        })}
        {chosen.map(|(r, d)| view! {
            <form method="post" action="/manage/party" class="stack card">
                <h3>{format!("{} · {} {}单元 {}", r.name, d.building_name, d.unit, d.door_number)}</h3>
                <input type="hidden" name="kind" value="resident"/>
                <input type="hidden" name="resident" value=r.id.clone()/>
                <label>"工作单位（可不填）"<input name="unit" maxlength="50"/></label>
                <label>"单位党组织（可不填）"<input name="unit_party_org" maxlength="50"/></label>
                <label>"工作电话（可不填，印在联系卡上）"<input name="work_phone" type="tel" maxlength="20"/></label>
                {common_fields()}
                <button type="submit">"登记为本社区党员"</button>
            </form>
        })}
        <h2>"在职党员（双报到）"</h2>
        <form method="post" action="/manage/party" class="stack card">
            <input type="hidden" name="kind" value="in_service"/>
            {(!communities.is_empty()).then(|| view! {
                <label>"报到社区"<select name="community">
                    {communities.into_iter().map(|c| view! { <option value=c.id>{c.name}</option> }).collect_view()}
                </select></label>
            })}
            <label>"姓名"<input name="name" required maxlength="20"/></label>
            <label>"工作单位"<input name="unit" required maxlength="50"/></label>
            <label>"单位党组织"<input name="unit_party_org" maxlength="50" placeholder="如 区教育局机关党委"/></label>
            <label>"工作电话"<input name="work_phone" type="tel" required maxlength="20"/></label>
            {common_fields()}
            <button type="submit">"登记"</button>
        </form>
    }
    .into_any();
    Ok(page("登记党员", "/manage/party", message, status, body))
}

async fn register(
    Api(caller): Api,
    body: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Result<Response, ApiError> {
    let scope = administered(&caller, "party_member").await?;
    let body = form_body(body)?;
    let unprocessable = |message: String| {
        let caller = &caller;
        async move {
            new_view(
                caller,
                &NewQuery::default(),
                Some(&message),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    };
    let (community, resident, fields) = match field(&body, "kind") {
        "resident" => {
            let id = parse_id(field(&body, "resident"))?;
            let resident = caller.store.resident(&id).await?;
            let door = match &resident {
                Some(r) => caller.store.party_door(&r.household_id).await?,
                None => None,
            };
            let (r, d) = match (resident, door) {
                (Some(r), Some(d)) if scope.as_deref().is_none_or(|own| own == d.community_id) && !r.moved_out => {
                    (r, d)
                }
                _ => {
                    caller.audit("denied", "resident", &id).await?;
                    return Err(ApiError::not_found());
                }
            };
            if let Some(existing) = caller.store.party_member_of_resident(&r.id).await? {
                return Ok(already_registered(&existing));
            }
            match Fields::parse(&body, false, Some(&r.name)) {
                Ok(fields) => (d.community_id, Some(r.id), fields),
                Err(message) => return unprocessable(message).await,
            }
        }
        "in_service" => {
            let community = match (&scope, field(&body, "community")) {
                (Some(own), "") => own.clone(),
                (Some(own), asked) if parse_id(asked)? == *own => own.clone(),
                (None, asked) if !asked.is_empty() && caller.store.community(&parse_id(asked)?).await?.is_some() => {
                    parse_id(asked)?
                }
                (None, _) => return unprocessable("请选择报到社区".into()).await,
                (Some(_), asked) => {
                    caller.audit("denied", "community", asked).await?;
                    return Err(ApiError::not_found());
                }
            };
            let fields = match Fields::parse(&body, true, None) {
                Ok(fields) => fields,
                Err(message) => return unprocessable(message).await,
            };
            let phone = fields.work_phone.as_deref().unwrap_or_default();
            let same = caller
                .store
                .party_member_same_person(&community, &fields.name, &fields.unit, phone, "")
                .await?;
            if let Some(existing) = same {
                return Ok(already_registered(&existing));
            }
            (community, None, fields)
        }
        _ => return unprocessable("请选择党员类别（居民党员或在职党员）".into()).await,
    };
    let id = store::new_id();
    let at = now_ms();
    let mut tx = caller.store.begin().await?;
    let mut ids = Default::default();
    let member_fields = fields.write(&mut tx, &community, &mut ids).await?;
    let kind = if resident.is_some() { "resident" } else { "in_service" };
    let inserted = tx
        .insert_party_member(NewMember {
            id: &id,
            community_id: &community,
            kind,
            resident_id: resident.as_deref(),
            fields: member_fields,
            at,
        })
        .await;
    match inserted {
        // Registered by someone else a moment ago: the unique index says so.
        Err(e) if store::is_unique_violation(&e) => {
            return Err(ApiError::Conflict("此人已登记为本社区党员，不能重复登记".into()));
        }
        other => other?,
    }
    tx.audit(caller.audit_entry(at, "create", "party_member", &id)).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/manage/party/members/{id}")).into_response())
}

/// A party group made or found by name, tied to a grid of its community (or none).
async fn set_group(
    Api(caller): Api,
    body: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Result<Response, ApiError> {
    let scope = administered(&caller, "party_group").await?;
    let body = form_body(body)?;
    let community = parse_id(field(&body, "community"))?;
    if scope.as_deref().is_some_and(|own| own != community) || caller.store.community(&community).await?.is_none() {
        caller.audit("denied", "community", &community).await?;
        return Err(ApiError::not_found());
    }
    let grid = match field(&body, "grid") {
        "" => None,
        grid => {
            let grid = parse_id(grid)?;
            if caller.store.grid_community(&grid).await?.as_deref() != Some(community.as_str()) {
                caller.audit("denied", "grid", &grid).await?;
                return Err(ApiError::not_found());
            }
            Some(grid)
        }
    };
    let (branch, group) = (field(&body, "branch"), field(&body, "group"));
    let checked = super::check_text(branch, "党支部", 1, 30).and_then(|()| super::check_text(group, "党小组", 1, 30));
    if let Err(message) = checked {
        let body = view! { <p><a href="/manage/party">"返回党员名册"</a></p> }.into_any();
        return Ok(page(
            "党小组",
            "/manage/party",
            Some(&message),
            StatusCode::UNPROCESSABLE_ENTITY,
            body,
        ));
    }
    let mut tx = caller.store.begin().await?;
    let branch_id = tx.party_branch(&community, branch).await?;
    let group_id = tx.party_group(&branch_id, group).await?;
    tx.set_party_group_grid(&group_id, grid.as_deref()).await?;
    tx.audit(caller.audit_entry(now_ms(), "update", "party_group", &group_id))
        .await?;
    tx.commit().await?;
    let back = if scope.is_some() {
        "/manage/party".to_owned()
    } else {
        format!("/manage/party?community={community}")
    };
    Ok(Redirect::to(&back).into_response())
}
