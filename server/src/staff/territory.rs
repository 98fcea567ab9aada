//! Grids and buildings as a community arranges them: grids added, renamed
//! and (by an admin) moved to another community; buildings renamed and moved
//! between the community's grids; a new building added with its doors
//! numbered floor by floor (301, 302 …), or many at once by import. Phones
//! receive the changes by pull.

use std::collections::HashMap;

use app::api::parse_id;
use app::auth::ssr::Caller;
use app::error::ApiError;
use app::state::now_ms;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use leptos::prelude::*;

use store::bulk::{BuildingRow, HouseholdRow};
use store::import::Writes;

use super::{administered, field, form_body, page};
use crate::auth::Api;
use crate::import::layout::Layout;
use crate::routes::{Routes, get, post};

pub fn routes() -> Routes {
    Routes::new()
        .route("/manage/territory", get(territory_page).post(add_grid))
        .route("/manage/territory/grids/{id}", get(grid_page).post(update_grid))
        .route("/manage/territory/grids/{id}/buildings", post(add_building))
        .route("/manage/territory/buildings/{id}", post(update_building))
}

/// Grid and building names as people write them on a door: short, one line.
fn check_name(name: &str, what: &str) -> Result<(), ApiError> {
    if name.is_empty() || name.chars().count() > 30 || name.contains(['\n', '\r']) {
        return Err(ApiError::BadRequest(format!("{what}名称为1到30个字")));
    }
    Ok(())
}

async fn territory_page(Api(caller): Api) -> Result<Response, ApiError> {
    territory_view(&caller, None, StatusCode::OK).await
}

async fn territory_view(caller: &Caller, message: Option<&str>, status: StatusCode) -> Result<Response, ApiError> {
    let community = administered(caller, "territory").await?;
    let grids = caller.store.territory_grids(community.as_deref().unwrap_or("")).await?;
    let communities = caller.store.communities().await?;
    let communities: Vec<_> = communities
        .into_iter()
        .filter(|c| community.as_deref().is_none_or(|own| own == c.id))
        .collect();
    let body = view! {
        <table>
            <thead><tr><th>"社区"</th><th>"网格"</th><th>"楼栋"</th></tr></thead>
            <tbody>
                {grids.into_iter().map(|g| view! {
                    <tr><td>{g.community_name}</td>
                        <td><a href=format!("/manage/territory/grids/{}", g.id)>{g.name}</a></td>
                        <td>{g.buildings}</td></tr>
                }).collect_view()}
            </tbody>
        </table>
        <h2>"新增网格"</h2>
        <form method="post" action="/manage/territory" class="stack">
            <label>"社区"<select name="community">
                {communities.into_iter().map(|c| view! { <option value=c.id>{c.name}</option> }).collect_view()}
            </select></label>
            <label>"网格名称"<input name="name" required maxlength="30" placeholder="如 第五网格"/></label>
            <button type="submit">"新增"</button>
        </form>
        <p class="muted small">"楼栋和门牌较多时，请用「导入台账」批量建立。"</p>
    }
    .into_any();
    Ok(page("网格与楼栋", "/manage/users", message, status, body))
}

/// The community id if the caller may put grids there.
async fn own_community(caller: &Caller, community: &str) -> Result<String, ApiError> {
    let id = parse_id(community)?;
    match administered(caller, "grid").await? {
        Some(own) if own != id => {
            caller.audit("denied", "grid", &id).await?;
            Err(ApiError::not_found())
        }
        _ if caller.store.community(&id).await?.is_none() => Err(ApiError::BadRequest("没有这个社区".into())),
        _ => Ok(id),
    }
}

async fn add_grid(
    Api(caller): Api,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Result<Response, ApiError> {
    let form = form_body(form)?;
    let community = own_community(&caller, field(&form, "community")).await?;
    let name = field(&form, "name");
    if let Err(ApiError::BadRequest(m)) = check_name(name, "网格") {
        return territory_view(&caller, Some(&m), StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let id = store::new_id();
    let mut tx = caller.store.begin().await?;
    tx.insert_grid(&id, &community, name).await?;
    tx.audit(caller.audit_entry(now_ms(), "create", "grid", &id)).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/manage/territory/grids/{id}")).into_response())
}

/// The grid if the caller runs its community.
async fn run_grid(caller: &Caller, id: &str) -> Result<store::staff::TerritoryGridRow, ApiError> {
    let id = parse_id(id)?;
    let community = administered(caller, "grid").await?;
    let grids = caller.store.territory_grids(community.as_deref().unwrap_or("")).await?;
    match grids.into_iter().find(|g| g.id == id) {
        Some(grid) => Ok(grid),
        None => {
            caller.audit("denied", "grid", &id).await?;
            Err(ApiError::not_found())
        }
    }
}

async fn grid_page(Api(caller): Api, Path(id): Path<String>) -> Result<Response, ApiError> {
    grid_view(&caller, &id, None, StatusCode::OK).await
}

async fn grid_view(caller: &Caller, id: &str, message: Option<&str>, status: StatusCode) -> Result<Response, ApiError> {
    let grid = run_grid(caller, id).await?;
    let community = administered(caller, "grid").await?;
    let admin = community.is_none();
    let buildings = caller.store.grid_buildings(&grid.id, 0).await?;
    let siblings = caller.store.territory_grids(&grid.community_id).await?;
    let communities = if admin {
        caller.store.communities().await?
    } else {
        Vec::new()
    };
    let body = view! {
        <form method="post" action=format!("/manage/territory/grids/{}", grid.id) class="stack">
            <label>"网格名称"<input name="name" required maxlength="30" value=grid.name.clone()/></label>
            {admin.then(|| view! {
                <label>"所属社区"<select name="community">
                    {communities.into_iter().map(|c| {
                        let selected = c.id == grid.community_id;
                        view! { <option value=c.id selected=selected>{c.name}</option> }
                    }).collect_view()}
                </select></label>
            })}
            <button type="submit">"保存"</button>
        </form>
        <h2>"新增楼栋"</h2>
        <form method="post" action=format!("/manage/territory/grids/{}/buildings", grid.id) class="stack">
            <label>"楼栋名称"<input name="name" required maxlength="30" placeholder="如 12号楼"/></label>
            <label>"单元数"<input name="units" type="number" min="1" max="20" value="2" required/></label>
            <label>"层数"<input name="floors" type="number" min="1" max="120" value="6" required/></label>
            <label>"每层户数"<input name="doors" type="number" min="1" max="20" value="2" required/></label>
            <label>"地址（可不填）"<input name="address" maxlength="100"/></label>
            <button type="submit">"新增楼栋并生成门牌（如 301、302）"</button>
        </form>
        <h2>"楼栋"</h2>
        <ul class="list">
            {buildings.into_iter().map(|b| view! {
                <li class="card">
                    <form method="post" action=format!("/manage/territory/buildings/{}", b.id) class="row">
                        <input name="name" required maxlength="30" value=b.name.clone() aria-label="楼栋名称"/>
                        <select name="grid" aria-label="所属网格">
                            {siblings.iter().map(|g| {
                                let selected = g.id == grid.id;
                                view! { <option value=g.id.clone() selected=selected>{g.name.clone()}</option> }
                            }).collect_view()}
                        </select>
                        <button type="submit">"保存"</button>
                    </form>
                    <p class="muted small">{format!("{} 户 · {} 单元 · {} 层", b.households, b.units, b.floors)}
                        " · "<a href=format!("/n/{}/b/{}", grid.community_id, b.id)>"为本楼服务（公开页）"</a>
                        " · "<a href=format!("/n/{}/b/{}/poster.svg", grid.community_id, b.id)>"二维码海报"</a></p>
                </li>
            }).collect_view()}
        </ul>
    }
    .into_any();
    Ok(page(
        &format!("{} · {}", grid.community_name, grid.name),
        "/manage/territory",
        message,
        status,
        body,
    ))
}

async fn update_grid(
    Api(caller): Api,
    Path(id): Path<String>,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Result<Response, ApiError> {
    let grid = run_grid(&caller, &id).await?;
    let form = form_body(form)?;
    let name = field(&form, "name");
    if let Err(ApiError::BadRequest(m)) = check_name(name, "网格") {
        return grid_view(&caller, &grid.id, Some(&m), StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    // Only an admin moves a grid between communities (the form offers it to them alone).
    let community = match field(&form, "community") {
        "" => grid.community_id.clone(),
        other => own_community(&caller, other).await?,
    };
    let mut tx = caller.store.begin().await?;
    tx.update_grid(&grid.id, name, &community).await?;
    tx.audit(caller.audit_entry(now_ms(), "update", "grid", &grid.id))
        .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/manage/territory/grids/{}", grid.id)).into_response())
}

async fn update_building(
    Api(caller): Api,
    Path(id): Path<String>,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    let Some(building) = caller.store.building(&id).await? else {
        return Err(ApiError::not_found());
    };
    let from = run_grid(&caller, &building.grid_id).await?;
    let form = form_body(form)?;
    let name = field(&form, "name");
    if let Err(ApiError::BadRequest(m)) = check_name(name, "楼栋") {
        return grid_view(&caller, &from.id, Some(&m), StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let to = match field(&form, "grid") {
        "" => from.id.clone(),
        other => run_grid(&caller, other).await?.id,
    };
    if to != from.id && caller.store.grid_community(&to).await? != Some(from.community_id.clone()) {
        return grid_view(
            &caller,
            &from.id,
            Some("楼栋只能移到同一社区的网格"),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let at = now_ms();
    let mut tx = caller.store.begin().await?;
    tx.rename_building(&id, &to, name, at).await?;
    if to != from.id {
        tx.move_building(&id, &to, at).await?;
    }
    tx.audit(caller.audit_entry(at, "update", "building", &id)).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/manage/territory/grids/{}", from.id)).into_response())
}

/// Households a building added by hand may get; beyond, an import.
const MAX_GENERATED_DOORS: i64 = 5_000;

async fn add_building(
    Api(caller): Api,
    Path(id): Path<String>,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Result<Response, ApiError> {
    let grid = run_grid(&caller, &id).await?;
    let form = form_body(form)?;
    let name = field(&form, "name");
    let number = |key: &str, max: i64| field(&form, key).parse::<i64>().ok().filter(|n| (1..=max).contains(n));
    let shape = (number("units", 20), number("floors", 120), number("doors", 20));
    let (Some(units), Some(floors), Some(doors)) = shape else {
        let message = "单元数1到20、层数1到120、每层户数1到20";
        return grid_view(&caller, &grid.id, Some(message), StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    if let Err(ApiError::BadRequest(m)) = check_name(name, "楼栋") {
        return grid_view(&caller, &grid.id, Some(&m), StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    if units * floors * doors > MAX_GENERATED_DOORS {
        let message = format!("超过 {MAX_GENERATED_DOORS} 户：请用「导入台账」");
        return grid_view(&caller, &grid.id, Some(&message), StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let territory = caller.store.import_territory(&grid.community_id).await?;
    if territory
        .buildings
        .iter()
        .any(|b| b.grid_id == grid.id && b.name == name)
    {
        let message = format!("本网格已有「{name}」");
        return grid_view(&caller, &grid.id, Some(&message), StatusCode::CONFLICT).await;
    }
    let at = now_ms();
    let building = BuildingRow {
        id: store::new_id(),
        grid_id: grid.id.clone(),
        number: name
            .chars()
            .filter(char::is_ascii_digit)
            .collect::<String>()
            .parse()
            .unwrap_or(0),
        name: name.to_owned(),
        address: match field(&form, "address") {
            "" => format!("{}{name}", grid.community_name),
            given => given.chars().take(100).collect(),
        },
        units,
        floors,
        doors_per_floor: doors,
        footprint: Layout::new(&territory).place(&grid.id, units),
    };
    let mut writes = Writes::default();
    for unit in 1..=units {
        for floor in 1..=floors {
            for door in 1..=doors {
                let household = HouseholdRow {
                    id: store::new_id(),
                    building_id: building.id.clone(),
                    unit,
                    floor,
                    door_number: format!("{floor}{door:02}"),
                    created_at: at,
                    updated_at: at,
                };
                writes.households.push((household, grid.id.clone()));
            }
        }
    }
    let building_id = building.id.clone();
    writes.buildings.push(building);
    let mut tx = caller.store.begin().await?;
    tx.apply_import(&writes, at, "territory").await?;
    tx.audit(caller.audit_entry(at, "create", "building", &building_id))
        .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/manage/territory/grids/{}", grid.id)).into_response())
}
