//! "My grids" and one grid's buildings, with search by building or door number.

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::error::ApiError;
use crate::model::{BuildingSummary, GridDetail, GridSummary, HouseholdHit, MyGrids};
use crate::ui::{DataPage, PageParts};

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
            Err(ApiError::Network) => crate::local::grid(id, query).await,
            other => other,
        }
    }
}

/// What a search box query means: `3` a building or door, `3-502` building and
/// door, `3-2-502` building, unit and door. Any non-digit separates numbers,
/// so "3号楼2单元502" works too. Shared by the server's search and the offline one.
#[derive(Debug, PartialEq)]
pub struct DoorQuery {
    pub text: String,
    pub numbers: Vec<i64>,
}

impl DoorQuery {
    pub fn parse(text: &str) -> Self {
        let text: String = text.trim().chars().take(40).collect();
        let numbers = text
            .split(|c: char| !c.is_ascii_digit())
            .filter(|s| !s.is_empty())
            .filter_map(|s| s.parse().ok())
            .take(3)
            .collect();
        DoorQuery { text, numbers }
    }

    /// The door looked for: building number and unit (`None` matches any), door.
    pub fn door(&self) -> Option<(Option<i64>, Option<i64>, String)> {
        match self.numbers[..] {
            [door] => Some((None, None, door.to_string())),
            [building, door] => Some((Some(building), None, door.to_string())),
            [building, unit, door, ..] => Some((Some(building), Some(unit), door.to_string())),
            [] => None,
        }
    }

    /// Whether a building stays listed under the search.
    pub fn keeps_building(&self, number: i64, name: &str) -> bool {
        (self.numbers.len() <= 1 && name.contains(&self.text)) || self.numbers.first() == Some(&number)
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
    let author = (me.role != crate::domain::Role::Worker).then(|| {
        view! { <a class="btn btn-block btn-plain" href="/manage/notices" rel="external">"公告管理（党务 · 居务公开）"</a> }
    });
    view! {
        <a class="btn btn-block btn-plain" href="/overdue">"本机逾期重点户（离线可看）"</a>
        <a class="btn btn-block btn-plain" href="/manage/coverage" rel="external">"走访覆盖 · 逾期重点户 · 台账"</a>
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
            </span>
            <form method="post" action="/logout">
                <button type="submit" class="btn btn-plain">"退出登录"</button>
            </form>
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
            <ul class="cards cards-grid">
                {buildings.into_iter().map(|b| view! { <BuildingCard building=b/> }).collect_view()}
            </ul>
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

#[component]
fn BuildingCard(building: BuildingSummary) -> impl IntoView {
    let covered = percent(building.visited_30d, building.households);
    view! {
        <li>
            <a class="card card-link building-card" href=format!("/buildings/{}", building.id)>
                <strong class="building-no">{building.name}</strong>
                <span class="muted small">{building.units}"个单元 · "{building.floors}"层"</span>
                <span class="small">{building.households}" 户"
                    {(building.key_households > 0).then(|| view! { <span class="dot-key" title="重点户">" · 重点 "{building.key_households}</span> })}
                </span>
                <div class="progress"><div class="progress-bar" style=format!("width:{covered}%")></div></div>
            </a>
        </li>
    }
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use super::DoorQuery;
    use crate::auth::ssr::Caller;
    use crate::error::ApiError;
    use crate::model::{BuildingSummary, GridDetail, GridSummary, HouseholdHit};
    use crate::state::{DAY_MS, now_ms};

    #[derive(sqlx::FromRow)]
    struct GridRow {
        id: String,
        name: String,
        community_name: String,
    }

    async fn grid_row(caller: &Caller, id: &str) -> Result<GridRow, ApiError> {
        sqlx::query_as(
            "SELECT g.id, g.name, c.name AS community_name
             FROM grids g JOIN communities c ON c.id = g.community_id WHERE g.id = $1",
        )
        .bind(id)
        .fetch_optional(&caller.pool)
        .await?
        .ok_or_else(ApiError::not_found)
    }

    pub async fn my_grids(caller: &Caller) -> Result<Vec<GridSummary>, ApiError> {
        let since = now_ms() - 30 * DAY_MS;
        let mut out = Vec::new();
        for id in caller.user.visible_grids(&caller.pool).await? {
            let row = grid_row(caller, &id).await?;
            let (buildings, households, residents, key_households, visited_30d): (i64, i64, i64, i64, i64) =
                sqlx::query_as(
                    "SELECT
                       (SELECT COUNT(*) FROM buildings b WHERE b.grid_id = $1),
                       (SELECT COUNT(*) FROM households h JOIN buildings b ON b.id = h.building_id
                          WHERE b.grid_id = $1),
                       (SELECT COUNT(*) FROM residents r JOIN households h ON h.id = r.household_id
                          JOIN buildings b ON b.id = h.building_id
                          WHERE b.grid_id = $1 AND r.moved_out = 0),
                       (SELECT COUNT(DISTINCT r.household_id) FROM resident_tags t
                          JOIN residents r ON r.id = t.resident_id
                          JOIN households h ON h.id = r.household_id
                          JOIN buildings b ON b.id = h.building_id
                          WHERE b.grid_id = $1 AND r.moved_out = 0),
                       (SELECT COUNT(DISTINCT v.household_id) FROM visits v
                          JOIN households h ON h.id = v.household_id
                          JOIN buildings b ON b.id = h.building_id
                          WHERE b.grid_id = $1 AND v.visited_at >= $2)",
                )
                .bind(&id)
                .bind(since)
                .fetch_one(&caller.pool)
                .await?;
            out.push(GridSummary {
                id: row.id,
                name: row.name,
                community_name: row.community_name,
                buildings,
                households,
                residents,
                key_households,
                visited_30d,
            });
        }
        Ok(out)
    }

    pub async fn grid(caller: &Caller, id: &str, query: &str) -> Result<GridDetail, ApiError> {
        caller.require_grid(id, "grid", id).await?;
        let row = grid_row(caller, id).await?;
        let since = now_ms() - 30 * DAY_MS;
        let query = DoorQuery::parse(query);
        let mut buildings: Vec<BuildingSummary> = sqlx::query_as::<_, (String, i64, String, i64, i64, i64, i64, i64)>(
            "SELECT b.id, b.number, b.name, b.units, b.floors,
               (SELECT COUNT(*) FROM households h WHERE h.building_id = b.id),
               (SELECT COUNT(DISTINCT v.household_id) FROM visits v
                  JOIN households h ON h.id = v.household_id
                  WHERE h.building_id = b.id AND v.visited_at >= $2),
               (SELECT COUNT(DISTINCT r.household_id) FROM resident_tags t
                  JOIN residents r ON r.id = t.resident_id
                  JOIN households h ON h.id = r.household_id
                  WHERE h.building_id = b.id AND r.moved_out = 0)
             FROM buildings b WHERE b.grid_id = $1 ORDER BY b.number",
        )
        .bind(id)
        .bind(since)
        .fetch_all(&caller.pool)
        .await?
        .into_iter()
        .map(
            |(id, number, name, units, floors, households, visited_30d, key_households)| BuildingSummary {
                id,
                number,
                name,
                units,
                floors,
                households,
                visited_30d,
                key_households,
            },
        )
        .collect();

        let mut household_hits = Vec::new();
        if !query.text.is_empty() {
            household_hits = search_households(caller, id, &query).await?;
            buildings.retain(|b| query.keeps_building(b.number, &b.name));
        }
        Ok(GridDetail {
            id: row.id,
            name: row.name,
            community_name: row.community_name,
            buildings,
            household_hits,
        })
    }

    async fn search_households(
        caller: &Caller,
        grid_id: &str,
        query: &DoorQuery,
    ) -> Result<Vec<HouseholdHit>, ApiError> {
        // building number, unit and door; None matches anything.
        let Some((building, unit, door)) = query.door() else {
            return Ok(Vec::new());
        };
        let rows: Vec<(String, String, i64, String, i64)> = sqlx::query_as(
            "SELECT h.id, b.name, h.unit, h.door_number,
               (SELECT COUNT(*) FROM residents r WHERE r.household_id = h.id AND r.moved_out = 0)
             FROM households h JOIN buildings b ON b.id = h.building_id
             WHERE b.grid_id = $1
               AND ($2 IS NULL OR b.number = $2)
               AND ($3 IS NULL OR h.unit = $3)
               AND ($4 IS NULL OR h.door_number = $4)
             ORDER BY b.number, h.unit, h.door_number
             LIMIT 50",
        )
        .bind(grid_id)
        .bind(building)
        .bind(unit)
        .bind(door)
        .fetch_all(&caller.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, building_name, unit, door_number, residents)| HouseholdHit {
                id,
                building_name,
                unit,
                door_number,
                residents,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::DoorQuery;

    #[test]
    fn door_queries() {
        assert_eq!(DoorQuery::parse(" 3-2-502 ").numbers, vec![3, 2, 502]);
        assert_eq!(DoorQuery::parse("3号楼2单元502").numbers, vec![3, 2, 502]);
        assert_eq!(DoorQuery::parse("502").numbers, vec![502]);
        assert!(DoorQuery::parse("春华").numbers.is_empty());
        assert_eq!(DoorQuery::parse("3-502").door(), Some((Some(3), None, "502".into())));
        assert!(DoorQuery::parse("3-502").keeps_building(3, "3号楼"));
        assert!(!DoorQuery::parse("3-502").keeps_building(4, "4号楼"));
    }
}
