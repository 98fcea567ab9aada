//! A member's page: their record and its edit form, moved away or back, and
//! their links — households found by building and door (联系户, hardship /
//! key-group or ordinary) and buildings (楼栋党员). A household or building
//! outside the member's community is not found, and the attempt audited.

use std::collections::HashMap;

use app::api::parse_id;
use app::auth::ssr::Caller;
use app::domain::mask_phone;
use app::error::ApiError;
use app::state::now_ms;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use leptos::prelude::*;
use serde::Deserialize;
use store::party::MemberRow;

use super::{Fields, Rank, already_registered, link_kind_label, links_short, rank_label, run_member};
use crate::auth::Api;
use crate::coverage::given;
use crate::routes::{Routes, get, post};
use crate::staff::{field, form_body, page};

pub fn routes() -> Routes {
    Routes::new()
        .route("/manage/party/members/{id}", get(member_page).post(edit))
        .route("/manage/party/members/{id}/status", post(set_status))
        .route("/manage/party/members/{id}/households", post(link_household))
        .route("/manage/party/members/{id}/buildings", post(link_building))
        .route("/manage/party/members/{id}/unlink", post(unlink))
}

/// Households shown for one search.
const DOORS_SHOWN: i64 = 60;

#[derive(Debug, Default, Deserialize)]
struct Search {
    building: Option<String>,
    door: Option<String>,
}

async fn member_page(
    Api(caller): Api,
    Path(id): Path<String>,
    search: Result<Query<Search>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(search) = search.map_err(|_| ApiError::BadRequest("查询格式不正确".into()))?;
    let member = run_member(&caller, &id).await?;
    caller.audit("read", "party_member", &member.id).await?;
    member_view(&caller, member, &search, None, StatusCode::OK).await
}

async fn member_view(
    caller: &Caller,
    m: MemberRow,
    search: &Search,
    message: Option<&str>,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let households = caller.store.party_linked_households(&m.id).await?;
    let buildings = caller.store.party_linked_buildings(&m.id).await?;
    let community_buildings = caller.store.party_buildings(&m.community_id).await?;
    let cadences = caller.store.party_cadences().await?;
    let cadence = cadences
        .iter()
        .find(|(rank, _)| *rank == m.rank)
        .map(|(_, months)| super::cadence_label(*months))
        .unwrap_or_default();
    // The doors found, in the member's community only.
    let doors = match given(&search.building) {
        Some(building) => {
            let building = parse_id(building)?;
            match caller.store.party_building(&building).await? {
                Some(b) if b.community_id == m.community_id => {
                    let door = given(&search.door).unwrap_or("");
                    caller.store.party_doors(&b.id, door, DOORS_SHOWN).await?
                }
                _ => {
                    caller.audit("denied", "building", &building).await?;
                    return Err(ApiError::not_found());
                }
            }
        }
        None => Vec::new(),
    };
    let visits = super::service::visits_section(caller, &m, &households, &cadences).await?;
    let account = super::account::account_section(caller, &m).await?;
    let searched = given(&search.building).is_some();
    let short = links_short(&m);
    let resident = m.kind == "resident";
    let moved = m.status == "moved";
    let base = format!("/manage/party/members/{}", m.id);
    let body = view! {
        <section class="card">
            <p>{format!("{} · {}", if resident { "居民党员" } else { "在职党员" }, rank_label(&m.rank))}
               <span class="muted">{format!("（走访频次：{cadence}）")}</span></p>
            {(!m.unit.is_empty()).then(|| view! { <p>{format!("工作单位：{}", m.unit)}</p> })}
            {(!m.unit_party_org.is_empty()).then(|| view! { <p>{format!("单位党组织：{}", m.unit_party_org)}</p> })}
            <p>{format!("工作电话：{}", m.work_phone.as_deref().map(mask_phone).unwrap_or_else(|| "未填".into()))}</p>
            <p>{format!("{}{} · 报到 {} · {}", m.branch, m.group_name.clone().map(|g| format!(" · {g}")).unwrap_or_default(),
                m.registered_on, if moved { "已迁出" } else { "在册" })}</p>
            <p class="row">
                <a class="btn" href=format!("{base}/card")>"打印联系卡"</a>
                <form method="post" action=format!("{base}/status") class="inline">
                    <input type="hidden" name="status" value=if moved { "active" } else { "moved" }/>
                    <button type="submit">{if moved { "恢复为在册" } else { "标记为已迁出" }}</button>
                </form>
            </p>
        </section>
        {visits}
        {account}
        <h2>"联系户"</h2>
        {short.then(|| view! { <p class="error">"联系户未配齐：至少1户困难或重点户、1户普通居民"</p> })}
        <ul class="list">
            {households.into_iter().map(|h| view! {
                <li class="row">
                    <a href=format!("/manage/party/households/{}", h.household_id)>
                        {format!("{} {} {}单元 {}", h.grid_name, h.building_name, h.unit, h.door_number)}</a>
                    <span class="muted">{link_kind_label(&h.kind)}</span>
                    <form method="post" action=format!("{base}/unlink") class="inline">
                        <input type="hidden" name="household" value=h.household_id/>
                        <button type="submit">"解除"</button>
                    </form>
                </li>
            }).collect_view()}
        </ul>
        <form method="get" action=base.clone() class="row">
            <select name="building" aria-label="楼栋" required>
                {community_buildings.iter().map(|b| {
                    let selected = search.building.as_deref() == Some(b.id.as_str());
                    view! { <option value=b.id.clone() selected=selected>{format!("{} {}", b.grid_name, b.name)}</option> }
                }).collect_view()}
            </select>
            <input name="door" maxlength="10" placeholder="门牌号（可不填）" value=search.door.clone().unwrap_or_default()/>
            <button type="submit">"查找住户"</button>
        </form>
        {searched.then(|| view! {
            <ul class="list">
                {doors.is_empty().then(|| view! { <li class="muted">"没有找到这个门牌"</li> })}
                {doors.into_iter().map(|d| view! {
                    <li>
                        <form method="post" action=format!("{base}/households") class="row">
                            <input type="hidden" name="household" value=d.id/>
                            <span>{format!("{} {}单元 {}", d.building_name, d.unit, d.door_number)}
                                {d.key_group.then_some("（有重点人群）")}</span>
                            <select name="kind" aria-label="联系户类别">
                                <option value="hardship" selected=d.key_group>"困难/重点户"</option>
                                <option value="ordinary" selected=!d.key_group>"普通户"</option>
                            </select>
                            <button type="submit">"联系"</button>
                        </form>
                    </li>
                }).collect_view()}
            </ul>
        })}
        <h2>"责任楼栋（楼栋党员）"</h2>
        <ul class="list">
            {buildings.into_iter().map(|b| view! {
                <li class="row">
                    <span>{format!("{} {}", b.grid_name, b.building_name)}</span>
                    <form method="post" action=format!("{base}/unlink") class="inline">
                        <input type="hidden" name="building" value=b.building_id/>
                        <button type="submit">"解除"</button>
                    </form>
                </li>
            }).collect_view()}
        </ul>
        <form method="post" action=format!("{base}/buildings") class="row">
            <select name="building" aria-label="楼栋" required>
                {community_buildings.iter().map(|b| view! {
                    <option value=b.id.clone()>{format!("{} {}", b.grid_name, b.name)}</option>
                }).collect_view()}
            </select>
            <button type="submit">"设为责任楼栋"</button>
        </form>
        <h2>"修改登记信息"</h2>
        <form method="post" action=base.clone() class="stack card">
            {(!resident).then(|| view! {
                <label>"姓名"<input name="name" required maxlength="20" value=m.name.clone()/></label>
            })}
            <label>"工作单位"<input name="unit" maxlength="50" value=m.unit.clone()/></label>
            <label>"单位党组织"<input name="unit_party_org" maxlength="50" value=m.unit_party_org.clone()/></label>
            <label>"工作电话（留空为不改）"<input name="work_phone" type="tel" maxlength="20"
                placeholder=m.work_phone.as_deref().map(mask_phone).unwrap_or_default()/></label>
            <label>"职级类别"<select name="rank" required>
                {Rank::ALL.into_iter().map(|r| view! {
                    <option value=r.as_str() selected=r.as_str() == m.rank>{r.label()}</option>
                }).collect_view()}
            </select></label>
            <label>"党支部"<input name="branch" required maxlength="30" value=m.branch.clone()/></label>
            <label>"党小组（可不填）"<input name="group" maxlength="30" value=m.group_name.clone().unwrap_or_default()/></label>
            <label>"报到日期"<input name="registered_on" type="date" value=m.registered_on.clone()/></label>
            <button type="submit">"保存"</button>
        </form>
    }
    .into_any();
    Ok(page(
        &format!("党员 · {}", m.name),
        "/manage/party",
        message,
        status,
        body,
    ))
}

async fn edit(
    Api(caller): Api,
    Path(id): Path<String>,
    body: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Result<Response, ApiError> {
    let m = run_member(&caller, &id).await?;
    let mut body = form_body(body)?;
    // The phone is shown masked, so an empty field keeps the one on record.
    if field(&body, "work_phone").is_empty()
        && let Some(phone) = &m.work_phone
    {
        body.insert("work_phone".into(), phone.clone());
    }
    let resident_name = (m.kind == "resident").then(|| m.name.clone());
    let fields = match Fields::parse(&body, m.kind == "in_service", resident_name.as_deref()) {
        Ok(fields) => fields,
        Err(message) => return refused(&caller, m, &message).await,
    };
    if m.kind == "in_service" {
        let phone = fields.work_phone.as_deref().unwrap_or_default();
        let same = caller
            .store
            .party_member_same_person(&m.community_id, &fields.name, &fields.unit, phone, &m.id)
            .await?;
        if let Some(existing) = same {
            return Ok(already_registered(&existing));
        }
    }
    let at = now_ms();
    let mut tx = caller.store.begin().await?;
    let mut ids = Default::default();
    let member_fields = fields.write(&mut tx, &m.community_id, &mut ids).await?;
    match tx.update_party_member(&m.id, member_fields, at).await {
        Err(e) if store::is_unique_violation(&e) => {
            return Err(ApiError::Conflict("此人已登记为本社区党员，不能重复登记".into()));
        }
        other => other?,
    }
    saved(&caller, tx, at, &m.id).await
}

/// The end of every change to a member: its audit row in the change's own
/// transaction, the commit, and back to the member's page.
/// The member's page again with `message`, for a form refused (422).
pub(super) async fn refused(caller: &Caller, m: MemberRow, message: &str) -> Result<Response, ApiError> {
    member_view(
        caller,
        m,
        &Search::default(),
        Some(message),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

async fn saved(caller: &Caller, mut tx: store::Tx, at: i64, member_id: &str) -> Result<Response, ApiError> {
    tx.audit(caller.audit_entry(at, "update", "party_member", member_id))
        .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/manage/party/members/{member_id}")).into_response())
}

async fn set_status(
    Api(caller): Api,
    Path(id): Path<String>,
    body: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Result<Response, ApiError> {
    let m = run_member(&caller, &id).await?;
    let body = form_body(body)?;
    let status = field(&body, "status");
    if !matches!(status, "active" | "moved") {
        let message = "状态只能是在册或已迁出";
        return refused(&caller, m, message).await;
    }
    let at = now_ms();
    let mut tx = caller.store.begin().await?;
    tx.set_party_member_status(&m.id, status, at).await?;
    // Moved away: their phone account stops at once (and works again if
    // they come back).
    if let Some(account) = caller.store.party_member_account(&m.id).await? {
        tx.set_disabled(&account.user_id, (status == "moved").then_some(at))
            .await?;
    }
    saved(&caller, tx, at, &m.id).await
}

async fn link_household(
    Api(caller): Api,
    Path(id): Path<String>,
    body: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Result<Response, ApiError> {
    let m = run_member(&caller, &id).await?;
    let body = form_body(body)?;
    let household = parse_id(field(&body, "household"))?;
    match caller.store.party_door(&household).await? {
        Some(d) if d.community_id == m.community_id => {}
        _ => {
            caller.audit("denied", "household", &household).await?;
            return Err(ApiError::not_found());
        }
    }
    let kind = field(&body, "kind");
    if !matches!(kind, "hardship" | "ordinary") {
        let message = "请选择联系户类别（困难/重点户或普通户）";
        return refused(&caller, m, message).await;
    }
    let at = now_ms();
    let mut tx = caller.store.begin().await?;
    tx.link_party_household(&m.id, &household, kind, at).await?;
    // The member's phone takes the household whole with its next pull.
    tx.resend_household(&household, at).await?;
    saved(&caller, tx, at, &m.id).await
}

/// The building if it lies in the member's community; else 404, audited.
async fn own_building(caller: &Caller, m: &MemberRow, building: &str) -> Result<String, ApiError> {
    let building = parse_id(building)?;
    match caller.store.party_building(&building).await? {
        Some(b) if b.community_id == m.community_id => Ok(b.id),
        _ => {
            caller.audit("denied", "building", &building).await?;
            Err(ApiError::not_found())
        }
    }
}

async fn link_building(
    Api(caller): Api,
    Path(id): Path<String>,
    body: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Result<Response, ApiError> {
    let m = run_member(&caller, &id).await?;
    let body = form_body(body)?;
    let building = own_building(&caller, &m, field(&body, "building")).await?;
    let at = now_ms();
    let mut tx = caller.store.begin().await?;
    tx.link_party_building(&m.id, &building, at).await?;
    tx.resend_building(&building, at).await?;
    saved(&caller, tx, at, &m.id).await
}

/// Unlinks a household (`household`) or a building (`building`).
async fn unlink(
    Api(caller): Api,
    Path(id): Path<String>,
    body: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Result<Response, ApiError> {
    let m = run_member(&caller, &id).await?;
    let body = form_body(body)?;
    let target = match (field(&body, "household"), field(&body, "building")) {
        ("", "") => return Err(ApiError::BadRequest("请选择要解除的住户或楼栋".into())),
        ("", building) => (false, parse_id(building)?),
        (household, _) => (true, parse_id(household)?),
    };
    let at = now_ms();
    let mut tx = caller.store.begin().await?;
    match target {
        (true, household) => {
            tx.unlink_party_household(&m.id, &household).await?;
            // The member's phone learns with its next pull that it is gone.
            tx.resend_household(&household, at).await?;
        }
        (false, building) => {
            tx.unlink_party_building(&m.id, &building).await?;
            tx.resend_building(&building, at).await?;
        }
    }
    saved(&caller, tx, at, &m.id).await
}
