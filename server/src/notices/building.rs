//! A building's public page and its QR poster (issue 18 #7): who serves the
//! building — the grid's 网格员, the community's 网格长 and the building's
//! 楼栋党员 — with their work phones and what each can be asked for
//! ("我们在干什么"). No account; names and work phones only, never anything
//! of a resident; disabled accounts and members who moved away are not shown.

use app::api::parse_id;
use app::error::ApiError;
use app::state::AppState;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use leptos::prelude::*;
use store::notices::CommunityRow;
use store::party::CommunityBuildingRow;
use store::serving::ServerRow;

use super::pages::{PUBLIC_CSS, public_header};
use super::poster::{Poster, poster};
use super::{PublicError, PublicUrl, public_community, public_page, site_base};
use crate::html::document;

/// Each role, its heading and what residents can ask of it.
const ROLES: [(&str, &str, &str); 3] = [
    (
        "worker",
        "网格员",
        "入户走访，登记和更新住户信息，排查矛盾纠纷和安全隐患，收集并上报您的诉求。",
    ),
    (
        "lead",
        "网格长",
        "统筹本网格的工作，协调解决网格员处理不了的问题，督办诉求的办理。",
    ),
    (
        "member",
        "楼栋党员",
        "联系本楼住户，宣传政策，组织邻里互助和志愿服务，帮您反映困难和诉求。",
    ),
];

/// The building if it lies in the community; else 404 (the same answer for
/// a building of another community as for none).
async fn public_building(
    state: &AppState,
    community: &str,
    building: &str,
) -> Result<(CommunityRow, CommunityBuildingRow), PublicError> {
    let community = public_community(state, community).await?;
    let building = state
        .store
        .party_building(&parse_id(building)?)
        .await?
        .filter(|b| b.community_id == community.id)
        .ok_or_else(|| ApiError::NotFound("没有这栋楼".into()))?;
    Ok((community, building))
}

pub async fn building_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((community, building)): Path<(String, String)>,
) -> Result<Response, PublicError> {
    let (community, building) = public_building(&state, &community, &building).await?;
    let servers = state.store.building_servers(&building.id).await?;
    Ok(public_page(
        &headers,
        page(&community, &building, &servers),
        "text/html; charset=utf-8",
    ))
}

fn page(community: &CommunityRow, building: &CommunityBuildingRow, servers: &[ServerRow]) -> String {
    let sections = ROLES
        .iter()
        .map(|(role, heading, asks)| {
            let people: Vec<&ServerRow> = servers.iter().filter(|s| s.role == *role).collect();
            let list = if people.is_empty() {
                view! { <p class="meta">"暂未安排"</p> }.into_any()
            } else {
                view! {
                    <ul class="notices">
                        {people.into_iter().map(|s| view! {
                            <li>
                                <strong>{s.name.clone()}</strong>
                                {s.work_phone.clone().map(|phone| view! {
                                    " · "<a href=format!("tel:{phone}")>{phone.clone()}</a>
                                })}
                            </li>
                        }).collect_view()}
                    </ul>
                }
                .into_any()
            };
            view! {
                <h2>{*heading}</h2>
                <p class="meta">{format!("我们在干什么：{asks}")}</p>
                {list}
            }
        })
        .collect_view();
    let body = view! {
        {public_header(community)}
        <main>
            <article>
                <h1>{format!("{} · 为您服务", building.name)}</h1>
                <p class="meta">{building.grid_name.clone()}</p>
                {sections}
            </article>
            <p class="tools">
                <a href=format!("/n/{}/requests/new", community.id)>"我要反映问题"</a>
                <a href=format!("/n/{}", community.id)>"社区公告"</a>
                <a href=format!("/n/{}/b/{}/poster.svg", community.id, building.id)>"本楼二维码海报"</a>
            </p>
        </main>
    }
    .into_any();
    document(
        format!("{} · {}", community.name, building.name),
        PUBLIC_CSS,
        false,
        ().into_any(),
        body,
    )
}

/// The poster for the building's entrance, its code pointing at the page.
pub async fn building_poster(
    State(state): State<AppState>,
    axum::Extension(public_url): axum::Extension<PublicUrl>,
    headers: HeaderMap,
    Path((community, building)): Path<(String, String)>,
) -> Result<Response, PublicError> {
    let (community, building) = public_building(&state, &community, &building).await?;
    let url = format!(
        "{}/n/{}/b/{}",
        site_base(&public_url, &headers)?,
        community.id,
        building.id
    );
    let svg = poster(&Poster {
        heading: format!("{} · {}", community.name, building.name),
        line: "网格员 · 网格长 · 楼栋党员",
        call: "用手机扫码，查看为本楼服务的人和联系电话（无需注册）",
        footer: format!("{} · {}", community.street_name, building.grid_name),
        url: &url,
    });
    Ok(public_page(&headers, svg, "image/svg+xml; charset=utf-8"))
}
