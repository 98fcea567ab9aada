//! "My grids" and one grid's buildings, with search by building or door number.

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::error::ApiError;
use crate::model::{BuildingSummary, GridDetail, GridSummary, HouseholdHit, MyGrids};
// The server's search (`ssr` below) reads the box as the offline one does.
#[cfg(feature = "ssr")]
use crate::search::DoorQuery;
use crate::ui::{DataPage, PageParts, escape_html};

pub async fn fetch_my_grids() -> Result<MyGrids, ApiError> {
    #[cfg(feature = "ssr")]
    {
        let caller = crate::api::caller().await?;
        Ok(MyGrids {
            me: caller.user.me(),
            grids: ssr::my_grids(&caller).await?,
        })
    }
    #[cfg(not(feature = "ssr"))]
    {
        let me = crate::api::get_json("/api/me".into(), vec![]).await?;
        Ok(MyGrids {
            me,
            grids: crate::api::get_json("/api/grids".into(), vec![]).await?,
        })
    }
}

pub async fn fetch_grid(id: String, query: String) -> Result<GridDetail, ApiError> {
    let id = crate::api::parse_id(&id)?;
    #[cfg(feature = "ssr")]
    {
        ssr::grid(&crate::api::caller().await?, &id, &query).await
    }
    #[cfg(not(feature = "ssr"))]
    {
        // Offline (or the server unreachable): the phone's own copy.
        match crate::api::get_json(format!("/api/grids/{id}"), vec![("q", query.clone())]).await {
            Err(ApiError::Network) => crate::phone::local::grid(id, query).await,
            other => other,
        }
    }
}

fn percent(part: i64, whole: i64) -> i64 {
    if whole == 0 { 0 } else { part * 100 / whole }
}

#[component]
pub fn MyGridsPage() -> impl IntoView {
    let grids = Resource::new(|| (), |_| fetch_my_grids());
    view! {
        <DataPage resource=grids loading_title="我的网格" render=|home: MyGrids| PageParts {
            title: "我的网格".into(),
            back: None,
            body: view! { <MyGridsBody home/> }.into_any(),
            wide: false,
        }/>
    }
}

#[component]
fn MyGridsBody(home: MyGrids) -> impl IntoView {
    let MyGrids { me, grids } = home;
    // Coverage and notice authoring are plain server pages (no WASM): full page loads.
    use crate::domain::Role;
    let author = matches!(me.role, Role::Lead | Role::Admin).then(|| {
        view! {
            <a class="btn btn-block btn-plain" href="/manage/requests" rel="external">"诉求台账 · 办理情况"</a>
            <a class="btn btn-block btn-plain" href="/manage/notices" rel="external">"公告管理（党务 · 居务公开）"</a>
        }
    });
    // A party member's phone: their households and their due list only.
    let staff = (me.role != Role::Member).then(|| {
        view! {
            <a class="btn btn-block btn-plain" href="/requests">"诉求（离线可办）"</a>
            <a class="btn btn-block btn-plain" href="/check-in">"活动签到（离线可用）"</a>
            <a class="btn btn-block btn-plain" href="/overdue">"本机逾期重点户（离线可看）"</a>
            <a class="btn btn-block btn-plain" href="/manage/coverage" rel="external">"走访覆盖 · 逾期重点户 · 台账"</a>
        }
    });
    view! {
        {staff}
        {(me.role == Role::Member).then(|| view! {
            <a class="btn btn-block btn-plain" href="/overdue">"我的联系户 · 本期走访（离线可看）"</a>
        })}
        {author}
        {grids.is_empty().then(|| view! { <p class="empty">"您还没有被分配网格，请联系网格长。"</p> })}
        <ul class="cards">
            {grids.into_iter().map(|g| view! { <GridCard grid=g/> }).collect_view()}
        </ul>
        <section class="card account">
            <span class="avatar" aria-hidden="true">{me.display_name.chars().next().map(String::from)}</span>
            <span class="grow">
                <strong>{me.display_name}</strong>
                <span class="muted small">{me.role.label()}" · "{me.username}</span>
                // Password and signed-in devices: a plain server page.
                <a class="small" href="/account" rel="external">"密码与登录设备"</a>
            </span>
            // Through the sync page: what the phone holds goes up first.
            <a class="btn btn-plain" href="/sync#logout">"退出登录"</a>
        </section>
    }
}

#[component]
fn GridCard(grid: GridSummary) -> impl IntoView {
    let covered = percent(grid.visited_30d, grid.households);
    view! {
        <li>
            <a class="card card-link" href=format!("/grids/{}", grid.id)>
                <div class="card-head">
                    <strong>{grid.name}</strong>
                    <span class="muted">{grid.community_name}</span>
                </div>
                <dl class="stats">
                    <div><dt>"楼栋"</dt><dd>{grid.buildings}</dd></div>
                    <div><dt>"户数"</dt><dd>{grid.households}</dd></div>
                    <div><dt>"居民"</dt><dd>{grid.residents}</dd></div>
                    <div><dt>"重点户"</dt><dd>{grid.key_households}</dd></div>
                </dl>
                <div class="progress" aria-label=format!("近30天走访覆盖 {covered}%")>
                    <div class="progress-bar" style=format!("width:{covered}%")></div>
                </div>
                <p class="muted small">"近30天走访 "{grid.visited_30d}" 户 · 覆盖 "{covered}"%"</p>
            </a>
        </li>
    }
}

#[component]
pub fn GridPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let q = move || query.read().get("q").unwrap_or_default();
    let grid = Resource::new(move || (id(), q()), |(id, q)| fetch_grid(id, q));
    view! {
        <DataPage resource=grid loading_title="网格" render=move |g: GridDetail| PageParts {
            title: g.name.clone(),
            back: Some("/".into()),
            body: view! { <GridBody grid=g query=query.read_untracked().get("q").unwrap_or_default()/> }.into_any(),
            wide: false,
        }/>
    }
}

#[component]
fn GridBody(grid: GridDetail, query: String) -> impl IntoView {
    let GridDetail {
        name,
        community_name,
        buildings,
        household_hits,
        ..
    } = grid;
    let nothing = buildings.is_empty() && household_hits.is_empty();
    view! {
        // A plain GET form: works before the WASM loads, and a search is a
        // page worth its own URL.
        <form method="get">
            <div class="search">
                <input type="search" name="q" value=query placeholder="楼号或门牌号，如 3-2-502"
                    aria-label="搜索楼栋或门牌号" enterkeyhint="search" autocomplete="off"/>
                <button type="submit" class="btn">"搜索"</button>
            </div>
        </form>
        <p class="muted small">{community_name}" · "{name}</p>
        {(!household_hits.is_empty()).then(|| view! {
            <h2 class="section-title">"匹配的住户"</h2>
            <ul class="list">
                {household_hits.into_iter().map(|h| view! { <HitRow hit=h/> }).collect_view()}
            </ul>
        })}
        {nothing.then(|| view! { <p class="empty">"没有找到匹配的楼栋或门牌号。"</p> })}
        {(!buildings.is_empty()).then(|| view! {
            <h2 class="section-title">"楼栋"</h2>
            <ul class="cards cards-grid" inner_html=building_cards_html(&buildings)></ul>
        })}
    }
}

#[component]
fn HitRow(hit: HouseholdHit) -> impl IntoView {
    view! {
        <li>
            <a class="row" href=format!("/households/{}", hit.id)>
                <span>{hit.building_name}" "{hit.unit}"单元 "<strong>{hit.door_number}</strong></span>
                <span class="muted">{hit.residents}" 人"</span>
            </a>
        </li>
    }
}

/// The building cards as one piece of HTML: links and text that never change
/// on the page, adopted by hydration as one node (see `buildings.rs`).
fn building_cards_html(buildings: &[BuildingSummary]) -> String {
    let mut html = String::new();
    for b in buildings {
        let key = if b.key_households > 0 {
            format!(
                r#"<span class="dot-key" title="重点户"> · 重点 {}</span>"#,
                b.key_households
            )
        } else {
            String::new()
        };
        html.push_str(&format!(
            r#"<li><a class="card card-link building-card" href="/buildings/{id}"><strong class="building-no">{name}</strong><span class="muted small">{units}个单元 · {floors}层</span><span class="small">{households} 户{key}</span><div class="progress"><div class="progress-bar" style="width:{covered}%"></div></div></a></li>"#,
            id = escape_html(&b.id),
            name = escape_html(&b.name),
            units = b.units,
            floors = b.floors,
            households = b.households,
            covered = percent(b.visited_30d, b.households),
        ));
    }
    html
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use store::territory::{BuildingSummaryRow, DoorHitRow, DoorSearch, GridSummaryRow};

    use super::DoorQuery;
    use crate::auth::ssr::Caller;
    use crate::error::ApiError;
    use crate::model::{BuildingSummary, GridDetail, GridSummary, HouseholdHit};
    use crate::state::{DAY_MS, now_ms};

    /// Search hits shown at most; a search box, not a listing.
    const MAX_HITS: i64 = 50;

    pub async fn my_grids(caller: &Caller) -> Result<Vec<GridSummary>, ApiError> {
        let ids = caller.user.visible_grids(&caller.store).await?;
        let since = now_ms() - 30 * DAY_MS;
        let rows = caller.store.grid_summaries(&ids, since).await?;
        Ok(rows.into_iter().map(grid_summary).collect())
    }

    fn grid_summary(row: GridSummaryRow) -> GridSummary {
        GridSummary {
            id: row.id,
            name: row.name,
            community_name: row.community_name,
            buildings: row.buildings,
            households: row.households,
            residents: row.residents,
            key_households: row.key_households,
            visited_30d: row.visited,
        }
    }

    pub async fn grid(caller: &Caller, id: &str, query: &str) -> Result<GridDetail, ApiError> {
        caller.require_grid(id, "grid", id).await?;
        let heading = caller.store.grid_heading(id).await?.ok_or_else(ApiError::not_found)?;
        let since = now_ms() - 30 * DAY_MS;
        let query = DoorQuery::parse(query);
        let mut buildings: Vec<BuildingSummary> = caller
            .store
            .grid_buildings(id, since)
            .await?
            .into_iter()
            .map(building_summary)
            .collect();
        let mut household_hits = Vec::new();
        if !query.text.is_empty() {
            household_hits = search_households(caller, id, &query).await?;
            buildings.retain(|b| query.keeps_building(b.number, &b.name));
        }
        // A party member sees the buildings and doors they serve.
        if let Some(reach) = caller.reach().await? {
            buildings.retain(|b| reach.has_building(&b.id));
            household_hits.retain(|h| reach.has_household(&h.id));
        }
        Ok(GridDetail {
            id: heading.id,
            name: heading.name,
            community_name: heading.community_name,
            buildings,
            household_hits,
        })
    }

    fn building_summary(row: BuildingSummaryRow) -> BuildingSummary {
        BuildingSummary {
            id: row.id,
            number: row.number,
            name: row.name,
            units: row.units,
            floors: row.floors,
            households: row.households,
            visited_30d: row.visited,
            key_households: row.key_households,
        }
    }

    async fn search_households(
        caller: &Caller,
        grid_id: &str,
        query: &DoorQuery,
    ) -> Result<Vec<HouseholdHit>, ApiError> {
        let Some((building_number, unit, door_number)) = query.door() else {
            return Ok(Vec::new());
        };
        let door = DoorSearch {
            building_number,
            unit,
            door_number: &door_number,
        };
        let hits = caller.store.find_doors(grid_id, door, MAX_HITS).await?;
        Ok(hits.into_iter().map(household_hit).collect())
    }

    fn household_hit(row: DoorHitRow) -> HouseholdHit {
        HouseholdHit {
            id: row.id,
            building_name: row.building_name,
            unit: row.unit,
            door_number: row.door_number,
            residents: row.residents,
        }
    }
}
