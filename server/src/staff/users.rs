//! Accounts: made with a one-time password shown once, reset, disabled and
//! enabled, given grids. An admin runs every account; a lead runs the
//! workers of their community. The operations are shared by the pages, the
//! JSON grid assignment and `server user …`.

use std::collections::HashMap;

use app::api::parse_id;
use app::auth::ssr::Caller;
use app::domain::Role;
use app::error::ApiError;
use app::state::now_ms;
use app::sync::GridRef;
use axum::Json;
use axum::extract::rejection::{FormRejection, JsonRejection};
use axum::extract::{Form, Path};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use leptos::prelude::*;
use serde::Deserialize;
use store::Store;
use store::staff::{NewUser, StaffRow};

use super::{administered, field, form_body, page};
use crate::auth::Api;
use crate::passwords;
use crate::routes::{Routes, get, post};

pub fn routes() -> Routes {
    Routes::new()
        .route("/manage/users", get(list_page).post(create_form))
        .route("/manage/users/{username}", get(user_page))
        .route("/manage/users/{username}/reset", post(reset_form))
        .route("/manage/users/{username}/disable", post(disable_form))
        .route("/manage/users/{username}/enable", post(enable_form))
        .route("/manage/users/{username}/grids", post(grids_form))
        .route("/manage/users/{username}/phone", post(phone_form))
}

/// Who changes an account, for its audit row: a signed-in person, or the
/// operator at a shell (recorded against the account itself, route `cli`).
#[derive(Debug, Clone, Copy)]
pub struct Actor<'a> {
    pub user_id: &'a str,
    pub route: &'a str,
}

impl Actor<'_> {
    fn entry<'a>(&'a self, action: &'a str, username: &'a str, at: i64) -> store::audit::Entry<'a> {
        store::audit::Entry {
            at,
            user_id: self.user_id,
            action,
            entity: "user",
            entity_id: username,
            route: self.route,
        }
    }
}

/// A new account as a form or the command line gives it.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub community_id: Option<String>,
    /// Typed by the operator; `None`: a one-time password is made.
    pub password: Option<String>,
    /// The party member whose phone account this is (role `member`), linked
    /// in the account's own transaction.
    pub party_member: Option<String>,
}

/// Login names: what people type on a phone, so short, lower-case and plain.
pub fn check_username(username: &str) -> Result<(), String> {
    let ok_chars = username
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c));
    if !(2..=32).contains(&username.len()) || !ok_chars {
        return Err("用户名为2到32位小写字母、数字或 . _ -".into());
    }
    Ok(())
}

/// Creates the account; answers the one-time password to show once (`None`
/// when the operator typed one).
pub async fn create(store: &Store, account: NewAccount, actor: Option<Actor<'_>>) -> Result<Option<String>, ApiError> {
    let username = account.username.trim().to_lowercase();
    check_username(&username).map_err(ApiError::BadRequest)?;
    let display_name = account.display_name.trim();
    if display_name.is_empty() || display_name.chars().count() > 30 {
        return Err(ApiError::BadRequest("姓名为1到30个字".into()));
    }
    if account.role == Role::Lead && account.community_id.is_none() {
        return Err(ApiError::BadRequest("网格长须属于一个社区".into()));
    }
    let community_id = account.community_id.filter(|_| account.role != Role::Admin);
    if let Some(community) = &community_id
        && store.community(community).await?.is_none()
    {
        return Err(ApiError::BadRequest("没有这个社区".into()));
    }
    let (password, shown) = match account.password {
        Some(typed) => {
            passwords::check_chosen(&typed, &username).map_err(ApiError::BadRequest)?;
            (typed, None)
        }
        None => {
            let once = passwords::one_time()?;
            (once.clone(), Some(once))
        }
    };
    let hash = passwords::hash(password).await?;
    let id = store::new_id();
    let at = now_ms();
    let mut tx = store.begin().await?;
    let inserted = tx
        .insert_user(NewUser {
            id: &id,
            username: &username,
            display_name,
            role: account.role.as_str(),
            community_id: community_id.as_deref(),
            password_hash: &hash,
            // An operator's typed password is theirs already.
            must_change_password: shown.is_some(),
            at,
        })
        .await;
    match inserted {
        Err(e) if store::is_unique_violation(&e) => {
            return Err(ApiError::Conflict(format!("用户名 {username} 已被使用")));
        }
        other => other?,
    }
    if let Some(member) = &account.party_member
        && !tx.set_party_member_user(member, &id, at).await?
    {
        return Err(ApiError::Conflict("该党员已有账号".into()));
    }
    let actor = actor.unwrap_or(Actor {
        user_id: &id,
        route: "cli",
    });
    tx.audit(actor.entry("create", &username, at)).await?;
    tx.commit().await?;
    Ok(shown)
}

/// A new one-time password; every session of the account ends.
pub async fn reset(store: &Store, user: &StaffRow, actor: Actor<'_>) -> Result<String, ApiError> {
    let once = passwords::one_time()?;
    let hash = passwords::hash(once.clone()).await?;
    let mut tx = store.begin().await?;
    tx.set_password(&user.id, &hash, true, None).await?;
    tx.audit(actor.entry("update", &user.username, now_ms())).await?;
    tx.commit().await?;
    Ok(once)
}

/// Disables the account now (its phone is refused from this moment, with
/// the reason) or enables it again.
pub async fn set_disabled(store: &Store, user: &StaffRow, disabled: bool, actor: Actor<'_>) -> Result<(), ApiError> {
    let at = now_ms();
    let mut tx = store.begin().await?;
    tx.set_disabled(&user.id, disabled.then_some(at)).await?;
    tx.audit(actor.entry("update", &user.username, at)).await?;
    tx.commit().await?;
    Ok(())
}

/// The worker's grids become exactly these; taking a grid away is what makes
/// its data leave the worker's phone on the next sync.
pub async fn set_grids(
    store: &Store,
    user: &StaffRow,
    grid_ids: &[String],
    actor: Actor<'_>,
) -> Result<Vec<GridRef>, ApiError> {
    if user.role != Role::Worker.as_str() {
        return Err(ApiError::BadRequest("只有网格员按网格分配；网格长按社区管理".into()));
    }
    let names: HashMap<String, String> = store.grid_names(grid_ids).await?.into_iter().collect();
    let assigned = grid_ids
        .iter()
        .map(|id| match names.get(id) {
            Some(name) => Ok(GridRef {
                id: id.clone(),
                name: name.clone(),
            }),
            None => Err(ApiError::BadRequest(format!("网格 {id} 不存在"))),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut tx = store.begin().await?;
    tx.set_user_grids(&user.id, grid_ids).await?;
    tx.audit(actor.entry("update", &user.username, now_ms())).await?;
    tx.commit().await?;
    Ok(assigned)
}

/// The account if the caller runs it: an admin any, a lead the workers of
/// their community. Otherwise "not found" (names are not probed), audited.
async fn run_by(caller: &Caller, username: &str) -> Result<StaffRow, ApiError> {
    let community = administered(caller, "user").await?;
    let user = caller.store.staff_member(username).await?;
    let allowed = match (&user, &community) {
        (Some(_), None) => true,
        (Some(user), Some(community)) => {
            user.role == Role::Worker.as_str()
                && caller
                    .store
                    .staff(Some(community))
                    .await?
                    .iter()
                    .any(|u| u.id == user.id)
        }
        (None, _) => false,
    };
    match user {
        Some(user) if allowed => Ok(user),
        _ => {
            caller.audit("denied", "user", username).await?;
            Err(ApiError::NotFound("没有这个账号，或不归您管理".into()))
        }
    }
}

pub(crate) fn actor(caller: &Caller) -> Actor<'_> {
    Actor {
        user_id: &caller.user.id,
        route: &caller.route,
    }
}

async fn list_page(Api(caller): Api) -> Result<Response, ApiError> {
    list_view(&caller, None, StatusCode::OK).await
}

async fn list_view(caller: &Caller, message: Option<&str>, status: StatusCode) -> Result<Response, ApiError> {
    let community = administered(caller, "user").await?;
    // Members' phone accounts are run from their page in the party roster.
    let rows = caller
        .store
        .staff(community.as_deref())
        .await?
        .into_iter()
        .filter(|u| u.role != Role::Member.as_str());
    let communities = caller.store.communities().await?;
    let admin = community.is_none();
    let body = view! {
        <p class="row">
            <a class="btn plain" href="/manage/territory">"网格与楼栋"</a>
            <a class="btn plain" href="/manage/import">"导入台账"</a>
            <a class="btn plain" href="/manage/party">"党员名册"</a>
            <a class="btn plain" href="/account">"我的账号"</a>
        </p>
        <table>
            <thead><tr><th>"用户名"</th><th>"姓名"</th><th>"角色"</th><th>"社区 / 网格"</th><th>"状态"</th></tr></thead>
            <tbody>
                {rows.map(|u| {
                    let role = Role::parse(&u.role).map_or("?", |r| r.label());
                    let scope = if u.grids.is_empty() { u.community_name.clone().unwrap_or_default() } else { u.grids.clone() };
                    let state = if u.disabled_at.is_some() { "已停用" } else if u.must_change_password { "待改初始密码" } else { "正常" };
                    view! {
                        <tr>
                            <td><a href=format!("/manage/users/{}", u.username)>{u.username.clone()}</a></td>
                            <td>{u.display_name}</td><td>{role}</td><td>{scope}</td><td>{state}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
        <h2>"新建账号"</h2>
        <form method="post" action="/manage/users" class="stack">
            <label>"用户名（登录用）"<input name="username" required maxlength="32" autocapitalize="off" pattern="[a-z0-9._-]{2,32}"/></label>
            <label>"姓名"<input name="display_name" required maxlength="30"/></label>
            <label>"角色"
                <select name="role">
                    <option value="worker">"网格员"</option>
                    {admin.then(|| view! { <option value="lead">"网格长"</option><option value="admin">"管理员"</option> })}
                </select>
            </label>
            {admin.then(|| view! {
                <label>"社区（网格长必填）"
                    <select name="community">
                        <option value="">"—"</option>
                        {communities.into_iter().map(|c| view! { <option value=c.id>{c.name}</option> }).collect_view()}
                    </select>
                </label>
            })}
            <button type="submit">"创建并生成初始密码"</button>
        </form>
    }
    .into_any();
    Ok(page("工作人员", "/manage/coverage", message, status, body))
}

async fn create_form(
    Api(caller): Api,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Result<Response, ApiError> {
    let community = administered(&caller, "user").await?;
    let form = form_body(form)?;
    let role = Role::parse_staff(field(&form, "role")).unwrap_or(Role::Worker);
    // A lead makes workers of their own community, nothing else.
    let (role, community_id) = match community {
        Some(own) if role == Role::Worker => (role, Some(own)),
        Some(_) => {
            caller.audit("denied", "user", field(&form, "username")).await?;
            return Err(ApiError::Forbidden);
        }
        None => (
            role,
            Some(field(&form, "community").to_owned()).filter(|c| !c.is_empty()),
        ),
    };
    let account = NewAccount {
        username: field(&form, "username").to_owned(),
        display_name: field(&form, "display_name").to_owned(),
        role,
        community_id,
        password: None,
        party_member: None,
    };
    let username = account.username.trim().to_lowercase();
    match create(&caller.store, account, Some(actor(&caller))).await {
        Ok(once) => {
            let done = format!("/manage/users/{username}");
            Ok(password_shown(
                &username,
                once.as_deref().unwrap_or(""),
                "账号已创建",
                &done,
            ))
        }
        Err(ApiError::BadRequest(m) | ApiError::Conflict(m)) => {
            list_view(&caller, Some(&m), StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(e),
    }
}

/// The one-time password, shown once: it is stored only as a hash. `done`:
/// the page to go on to.
pub(crate) fn password_shown(username: &str, once: &str, heading: &'static str, done: &str) -> Response {
    let body = view! {
        <section class="card">
            <h2>{heading}</h2>
            <p>"用户名："<strong>{username.to_owned()}</strong></p>
            <p>"初始密码："<strong class="once" data-password>{once.to_owned()}</strong></p>
            <p class="muted">"密码只显示这一次，请当面告知本人。首次登录后须改成自己的密码。"</p>
            <p><a class="btn" href=done.to_owned()>"完成"</a></p>
        </section>
    }
    .into_any();
    page("初始密码", "/manage/users", None, StatusCode::OK, body)
}

async fn user_page(Api(caller): Api, Path(username): Path<String>) -> Result<Response, ApiError> {
    let user = run_by(&caller, &username).await?;
    user_view(&caller, &user, None, StatusCode::OK).await
}

async fn user_view(
    caller: &Caller,
    user: &StaffRow,
    message: Option<&str>,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let community = administered(caller, "user").await?;
    let grids = caller.store.territory_grids(community.as_deref().unwrap_or("")).await?;
    let assigned: Vec<&str> = user.grids.split('、').collect();
    let is_worker = user.role == Role::Worker.as_str();
    let name = user.username.clone();
    let disabled = user.disabled_at.is_some();
    let body = view! {
        <section class="card">
            <p>{user.display_name.clone()}" · "{Role::parse(&user.role).map_or("?", |r| r.label())}
               {user.community_name.clone().map(|c| format!(" · {c}"))}</p>
            <p class="muted">{if disabled { format!("已于 {} 停用", crate::html::date(user.disabled_at.unwrap_or(0))) }
                else if user.must_change_password { "尚未修改初始密码".to_owned() } else { "正常".to_owned() }}</p>
        </section>
        {is_worker.then(|| view! {
            <h2>"负责的网格"</h2>
            <form method="post" action=format!("/manage/users/{name}/grids") class="stack">
                {grids.into_iter().map(|g| {
                    let checked = assigned.contains(&g.name.as_str());
                    view! { <label class="check"><input type="checkbox" name="grid" value=g.id checked=checked/>
                        {format!("{} · {}", g.community_name, g.name)}</label> }
                }).collect_view()}
                <button type="submit">"保存网格"</button>
            </form>
        })}
        <h2>"工作电话"</h2>
        <form method="post" action=format!("/manage/users/{name}/phone") class="row">
            <input name="work_phone" inputmode="tel" maxlength="15" value=user.work_phone.clone().unwrap_or_default()
                aria-label="工作电话"/>
            <button type="submit">"保存"</button>
        </form>
        <p class="muted small">"居民扫楼栋二维码可看到网格员、网格长的姓名和工作电话；不填则不显示电话。"</p>
        <h2>"账号"</h2>
        <form method="post" action=format!("/manage/users/{name}/reset")>
            <button type="submit">"重置密码（生成新的初始密码）"</button>
        </form>
        {if disabled {
            view! { <form method="post" action=format!("/manage/users/{name}/enable")><button type="submit">"重新启用"</button></form> }.into_any()
        } else {
            view! { <form method="post" action=format!("/manage/users/{name}/disable")>
                <button type="submit" class="danger">"停用账号"</button>
                <p class="muted small">"停用后立即退出所有设备；停用前已同步的记录保留，之后手机上的记录无法上传。"</p>
            </form> }.into_any()
        }}
    }
    .into_any();
    Ok(page(
        &format!("账号 {}", user.username),
        "/manage/users",
        message,
        status,
        body,
    ))
}

async fn reset_form(Api(caller): Api, Path(username): Path<String>) -> Result<Response, ApiError> {
    let user = run_by(&caller, &username).await?;
    let once = reset(&caller.store, &user, actor(&caller)).await?;
    let done = format!("/manage/users/{}", user.username);
    Ok(password_shown(&user.username, &once, "密码已重置", &done))
}

async fn disable_form(Api(caller): Api, Path(username): Path<String>) -> Result<Response, ApiError> {
    let user = run_by(&caller, &username).await?;
    if user.id == caller.user.id {
        return user_view(&caller, &user, Some("不能停用自己的账号"), StatusCode::CONFLICT).await;
    }
    set_disabled(&caller.store, &user, true, actor(&caller)).await?;
    Ok(Redirect::to(&format!("/manage/users/{}", user.username)).into_response())
}

async fn enable_form(Api(caller): Api, Path(username): Path<String>) -> Result<Response, ApiError> {
    let user = run_by(&caller, &username).await?;
    set_disabled(&caller.store, &user, false, actor(&caller)).await?;
    Ok(Redirect::to(&format!("/manage/users/{}", user.username)).into_response())
}

/// The work phone residents may call: a mobile or a landline with its area
/// code; empty takes it off.
async fn phone_form(
    Api(caller): Api,
    Path(username): Path<String>,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Result<Response, ApiError> {
    let user = run_by(&caller, &username).await?;
    let form = form_body(form)?;
    let phone = match field(&form, "work_phone") {
        "" => None,
        text => match crate::party::work_phone(text) {
            Ok(phone) => Some(phone),
            Err(message) => return user_view(&caller, &user, Some(&message), StatusCode::UNPROCESSABLE_ENTITY).await,
        },
    };
    let at = now_ms();
    let mut tx = caller.store.begin().await?;
    tx.set_work_phone(&user.id, phone.as_deref()).await?;
    tx.audit(caller.audit_entry(at, "update", "user_phone", &user.id))
        .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/manage/users/{}", user.username)).into_response())
}

async fn grids_form(
    Api(caller): Api,
    Path(username): Path<String>,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Result<Response, ApiError> {
    let user = run_by(&caller, &username).await?;
    let pairs = form_body(form)?;
    let chosen = pairs
        .iter()
        .filter(|(k, _)| k == "grid")
        .map(|(_, v)| parse_id(v))
        .collect::<Result<Vec<_>, _>>()?;
    let grids = within_scope(&caller, &user, chosen).await?;
    set_grids(&caller.store, &user, &grids, actor(&caller)).await?;
    Ok(Redirect::to(&format!("/manage/users/{}", user.username)).into_response())
}

/// A lead assigns only grids of their community, and keeps what the worker
/// has elsewhere (another lead's business); an admin's choice is the whole set.
async fn within_scope(caller: &Caller, user: &StaffRow, chosen: Vec<String>) -> Result<Vec<String>, ApiError> {
    let Some(community) = administered(caller, "user_grids").await? else {
        return Ok(chosen);
    };
    let chosen_communities = caller.store.grids_of_communities(&chosen).await?;
    if chosen_communities.len() != chosen.len() || chosen_communities.iter().any(|(_, c)| *c != community) {
        caller.audit("denied", "user_grids", &user.username).await?;
        return Err(ApiError::not_found());
    }
    let current = caller
        .store
        .visible_grids(store::scope::Scope::Assigned(&user.id))
        .await?;
    let elsewhere = caller.store.grids_of_communities(&current).await?;
    let mut grids = chosen;
    grids.extend(elsewhere.into_iter().filter(|(_, c)| *c != community).map(|(g, _)| g));
    Ok(grids)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct GridAssignment {
    /// The worker's grids after the call (UUIDs), replacing the previous set.
    pub grids: Vec<String>,
}

/// `PUT /api/users/{username}/grids`: the worker's grids become exactly these.
/// Admins only (a lead uses the page, which keeps other communities' grids).
#[utoipa::path(put, path = "/api/users/{username}/grids", tag = "admin", operation_id = "assignGrids",
    summary = "Set a worker's grids",
    description = "The worker's grids become exactly `grids`. Data of a grid taken away leaves the worker's phone at \
        its next sync (`scope` of the pull).",
    params(("username" = String, Path)),
    request_body(content = GridAssignment, example = json!({"grids": ["0190a000-0000-7000-8000-000000000001"]})),
    responses(
        (status = 200, description = "The grids now assigned.", body = Vec<app::sync::GridRef>),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 403, description = "Signed in, but not an admin (forbidden): 没有权限查看此内容; or a request \
            from another site (cross_site, see `CrossSite`).", body = app::error::ErrorBody,
            example = json!({"error": "forbidden", "message": "没有权限查看此内容"})),
        (status = 404, response = crate::openapi::NotFound),
        (status = 408, response = crate::openapi::Timeout),
        (status = 500, response = crate::openapi::Internal),
        (status = 503, response = crate::openapi::Busy),
    ))]
pub async fn assign_grids(
    Api(caller): Api,
    Path(username): Path<String>,
    body: Result<Json<GridAssignment>, JsonRejection>,
) -> Result<Json<Vec<GridRef>>, ApiError> {
    if caller.user.role != Role::Admin {
        caller.audit("denied", "user_grids", &username).await?;
        return Err(ApiError::Forbidden);
    }
    let Json(request) = body.map_err(|e| ApiError::BadRequest(format!("分配数据格式不正确：{}", e.body_text())))?;
    let grid_ids = request
        .grids
        .iter()
        .map(|id| parse_id(id))
        .collect::<Result<Vec<_>, _>>()?;
    let Some(user) = caller.store.staff_member(&username.to_lowercase()).await? else {
        return Err(ApiError::NotFound("没有这个用户".into()));
    };
    Ok(Json(set_grids(&caller.store, &user, &grid_ids, actor(&caller)).await?))
}
