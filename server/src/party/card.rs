//! The member's 联系卡, printed on A6 and handed to the household: the
//! member's own name and work phone in full (the card exists to reach them),
//! what to call them for, and the community. And, per household, the members
//! who serve it: linked to it, or to its building.

use app::api::parse_id;
use app::domain::mask_phone;
use app::error::ApiError;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use leptos::prelude::*;

use super::{link_kind_label, rank_label, run_member};
use crate::auth::Api;
use crate::routes::{Routes, get};
use crate::staff::{administered, page};

pub fn routes() -> Routes {
    Routes::new()
        .route("/manage/party/members/{id}/card", get(card))
        .route("/manage/party/households/{id}", get(household))
}

/// What a household may call its member for (001 #5: 联系户 "有困难找党员").
const ASK_FOR: &str = "政策咨询 · 困难帮扶 · 矛盾调解 · 邻里互助 · 意见建议";

const CARD_CSS: &str = "@page{size:A6;margin:8mm}\
body{margin:0;font:14px/1.6 system-ui,'PingFang SC','Microsoft YaHei',sans-serif;color:#1d2327}\
.card{max-width:105mm;margin:0 auto;border:2px solid #b3261e;border-radius:6px;padding:6mm}\
h1{margin:0 0 4mm;font-size:20px;color:#b3261e;text-align:center;letter-spacing:4px}\
.name{font-size:24px;font-weight:700;margin:0}.phone{font:700 20px/1.4 ui-monospace,monospace;margin:2mm 0}\
.muted{color:#5b6a70}.ask{border-top:1px dashed #b3261e;margin-top:4mm;padding-top:3mm}\
.hint{text-align:center;color:#5b6a70}@media print{.hint{display:none}}";

async fn card(Api(caller): Api, Path(id): Path<String>) -> Result<Response, ApiError> {
    let m = run_member(&caller, &id).await?;
    caller.audit("read", "party_member", &m.id).await?;
    let body = view! {
        <div class="card">
            <h1>"党员联系卡"</h1>
            <p class="name">{m.name.clone()}</p>
            <p class="muted">{format!("{} · {}", rank_label(&m.rank), m.branch)}
                {(!m.unit.is_empty()).then(|| format!(" · {}", m.unit))}</p>
            <p class="phone">{m.work_phone.clone().unwrap_or_else(|| "电话请向社区询问".into())}</p>
            <div class="ask">
                <p><strong>"有事请找我："</strong>{ASK_FOR}</p>
                <p class="muted">{format!("{} 在职党员进社区 · 联系我时请说明住址", m.community_name)}</p>
            </div>
        </div>
        <p class="hint">"用浏览器的「打印」，纸张选 A6。"</p>
    }
    .into_any();
    let title = format!("联系卡 · {}", m.name);
    let mut response = Html(crate::html::document(title, CARD_CSS, false, ().into_any(), body)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

async fn household(Api(caller): Api, Path(id): Path<String>) -> Result<Response, ApiError> {
    let scope = administered(&caller, "household").await?;
    let id = parse_id(&id)?;
    let door = match caller.store.party_door(&id).await? {
        Some(d) if scope.as_deref().is_none_or(|own| own == d.community_id) => d,
        _ => {
            caller.audit("denied", "household", &id).await?;
            return Err(ApiError::not_found());
        }
    };
    let members = caller.store.party_household_members(&door.id).await?;
    let body = view! {
        <p class="muted">{format!("{} {} {}单元 {}", door.grid_name, door.building_name, door.unit, door.door_number)}</p>
        <ul class="list">
            {members.is_empty().then(|| view! { <li class="muted">"还没有党员联系这一户"</li> })}
            {members.into_iter().map(|m| view! {
                <li class="card">
                    <a href=format!("/manage/party/members/{}", m.member_id)>{m.name}</a>
                    {format!(" · {} · {}", rank_label(&m.rank), link_kind_label(&m.kind))}
                    <br/><span class="muted">{format!("工作电话：{}", m.work_phone.as_deref().map(mask_phone).unwrap_or_else(|| "未填".into()))}</span>
                </li>
            }).collect_view()}
        </ul>
    }
    .into_any();
    Ok(page("联系本户的党员", "/manage/party", None, StatusCode::OK, body))
}
