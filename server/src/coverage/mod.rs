//! Coverage for team leads (and workers, for their own grids): which households
//! are due or overdue by the visit policies, per grid figures for a period, the
//! overdue key-group households with their worker, and the visit ledger
//! (走访台账) as CSV for Excel, and a map of the buildings coloured by
//! coverage. Plain server pages, like the notices.

mod exports;
pub(crate) mod ledger;
mod map;

use std::collections::HashMap;

use app::auth::ssr::Caller;
use app::clock::DAY_MS;
use app::domain::{KeyGroup, Role};
use app::error::ApiError;
use app::policy::ssr::policies;
use app::policy::{BEIJING_OFFSET_MS, Policy, VisitStatus, beijing_day, cadence, status};
use app::state::now_ms;
use axum::extract::{Form, Query};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use leptos::prelude::*;
use serde::Deserialize;
use store::coverage::HouseholdRow;

use crate::auth::Api;
use crate::routes::{Routes, get};
use crate::staff::form_body;

pub fn routes() -> Routes {
    Routes::new()
        .route("/manage/coverage", get(page))
        .route("/manage/coverage/visits.csv", get(exports::visits_csv))
        .route("/manage/coverage/visits.xlsx", get(exports::visits_xlsx))
        .route("/manage/coverage/households.csv", get(exports::households_csv))
        .route("/manage/coverage/households.xlsx", get(exports::households_xlsx))
        .route("/manage/policies", get(policies_page).post(save_policies))
}

/// A household with its living residents' key groups, parsed once.
#[derive(Debug)]
struct Household {
    row: HouseholdRow,
    groups: Vec<KeyGroup>,
}

impl From<HouseholdRow> for Household {
    fn from(row: HouseholdRow) -> Self {
        let mut groups: Vec<KeyGroup> = row
            .tags
            .as_deref()
            .unwrap_or_default()
            .split(',')
            .filter_map(KeyGroup::parse)
            .collect();
        groups.sort();
        groups.dedup();
        Household { row, groups }
    }
}

impl Household {
    fn visited_since(&self, since_ms: i64) -> bool {
        self.row.last_visit.is_some_and(|at| at >= since_ms)
    }

    fn cadence(&self, policies: &[Policy]) -> i64 {
        cadence(policies, self.groups.iter().copied())
    }

    /// By the strictest of its key groups' cadences and the default.
    fn status(&self, policies: &[Policy], now: i64) -> VisitStatus {
        status(self.row.last_visit, self.cadence(policies), now)
    }
}

/// What a coverage page or ledger covers: the period, and optionally one grid,
/// one key group, or the grids of one worker. Empty values (a form's 全部) are none.
#[derive(Debug, Default, Clone, Deserialize)]
struct Filters {
    /// The period, in days back from today, for "covered" figures.
    days: Option<i64>,
    grid: Option<String>,
    tag: Option<String>,
    worker: Option<String>,
}

/// A form or query value, trimmed; empty (a menu's 全部) is none.
pub(crate) fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

impl Filters {
    fn days(&self) -> i64 {
        self.days.unwrap_or(30).clamp(1, 366)
    }

    fn tag(&self) -> Result<Option<KeyGroup>, ApiError> {
        given(&self.tag)
            .map(|t| KeyGroup::parse(t).ok_or_else(|| ApiError::BadRequest("没有这个重点人群类别".into())))
            .transpose()
    }

    /// The same filters as a query string, for links to the ledgers.
    fn query(&self) -> String {
        let mut query = format!("days={}", self.days());
        for (key, value) in [("grid", &self.grid), ("tag", &self.tag), ("worker", &self.worker)] {
            if let Some(value) = given(value) {
                query.push_str(&format!("&{key}={value}"));
            }
        }
        query
    }

    /// The same filters narrowed to one grid: the page's map then shows only
    /// that grid's buildings, large enough to tap on a phone.
    fn query_for_grid(&self, grid: &str) -> String {
        Filters {
            grid: Some(grid.to_owned()),
            ..self.clone()
        }
        .query()
    }

    /// Beijing midnight starting the period's first day.
    fn since_ms(&self, now: i64) -> i64 {
        (beijing_day(now) - self.days() + 1) * DAY_MS - BEIJING_OFFSET_MS
    }
}

/// The grids a report covers, and the key group it is narrowed to.
struct Scope {
    /// Grid ids, by grid name.
    grids: Vec<String>,
    names: HashMap<String, String>,
    tag: Option<KeyGroup>,
}

impl Scope {
    fn name(&self, grid: &str) -> &str {
        self.names.get(grid).map_or("", String::as_str)
    }

    fn tag(&self) -> Option<&'static str> {
        self.tag.map(KeyGroup::as_str)
    }
}

/// The caller's grids narrowed by the filters; a grid or worker outside the
/// caller's scope is "not found", as anywhere else.
async fn scope(caller: &Caller, filters: &Filters) -> Result<Scope, ApiError> {
    let mut grids = caller.user.visible_grids(&caller.store).await?;
    if let Some(grid) = given(&filters.grid) {
        if !grids.iter().any(|g| g == grid) {
            return Err(ApiError::not_found());
        }
        grids.retain(|g| g == grid);
    }
    if let Some(worker) = given(&filters.worker) {
        let theirs = caller.store.grids_of_user(worker).await?;
        if !theirs.iter().any(|g| grids.contains(g)) {
            return Err(ApiError::not_found());
        }
        grids.retain(|g| theirs.contains(g));
    }
    let names = caller.store.grid_names(&grids).await?.into_iter().collect();
    Ok(Scope {
        grids,
        names,
        tag: filters.tag()?,
    })
}

/// What the filter menus offer: the caller's grids and the workers of them,
/// as (id, name).
struct Choices {
    grids: Vec<(String, String)>,
    workers: Vec<(String, String)>,
}

async fn choices(caller: &Caller) -> Result<Choices, ApiError> {
    let scope = scope(caller, &Filters::default()).await?;
    let workers = caller.store.grid_workers(&scope.grids).await?;
    let grids = scope
        .grids
        .iter()
        .map(|id| (id.clone(), scope.name(id).to_owned()))
        .collect();
    Ok(Choices { grids, workers })
}

/// The names of each grid's enabled workers.
async fn workers_by_grid(caller: &Caller, scope: &Scope) -> Result<HashMap<String, Vec<String>>, ApiError> {
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    for (grid, name) in caller.store.active_workers_by_grid(&scope.grids).await? {
        out.entry(grid).or_default().push(name);
    }
    Ok(out)
}

/// A store read as a handler's result, to join it with the helpers above.
async fn api_result<T>(read: impl Future<Output = store::Result<T>>) -> Result<T, ApiError> {
    Ok(read.await?)
}

/// Figures of one grid (a building, the whole scope) over the period.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct GridFigures {
    pub households: i64,
    pub visited: i64,
    pub overdue_key: i64,
}

impl GridFigures {
    /// Households visited in the period, in whole percent.
    pub fn share(&self) -> i64 {
        if self.households > 0 {
            self.visited * 100 / self.households
        } else {
            0
        }
    }
}

/// One key-group household past its due day (or never visited).
struct Overdue<'a> {
    household: &'a Household,
    status: VisitStatus,
}

async fn page(Api(caller): Api, Query(filters): Query<Filters>) -> Result<Response, ApiError> {
    let days = filters.days();
    let scope = scope(&caller, &filters).await?;
    let now = now_ms();
    let since_ms = filters.since_ms(now);
    let store = &caller.store;
    // Independent reads, each on its own pooled connection (readers run side
    // by side).
    let (key_households, counts, workers, policies, worker_rows, choices, buildings) = tokio::try_join!(
        api_result(store.key_households(&scope.grids, scope.tag())),
        api_result(store.building_counts(&scope.grids, scope.tag(), since_ms)),
        workers_by_grid(&caller, &scope),
        policies(store),
        api_result(store.worker_figures(&scope.grids, since_ms)),
        choices(&caller),
        api_result(store.map_buildings(&scope.grids)),
    )?;
    let key_households: Vec<Household> = key_households.into_iter().map(Household::from).collect();
    let mut figures: HashMap<&str, GridFigures> = HashMap::new();
    let mut by_building: HashMap<&str, GridFigures> = HashMap::new();
    for count in &counts {
        for f in [
            figures.entry(count.grid_id.as_str()).or_default(),
            by_building.entry(count.building_id.as_str()).or_default(),
        ] {
            f.households += count.households;
            f.visited += count.visited;
        }
    }
    // Key-group households one by one: past their due day?
    let mut overdue = Vec::new();
    for household in &key_households {
        let status = household.status(&policies, now);
        if !status.is_late() {
            continue;
        }
        for f in [
            figures.entry(household.row.grid_id.as_str()).or_default(),
            by_building.entry(household.row.building_id.as_str()).or_default(),
        ] {
            f.overdue_key += 1;
        }
        overdue.push(Overdue { household, status });
    }
    // Never visited first, then the longest overdue.
    overdue.sort_by_key(|o| match o.status {
        VisitStatus::Never => i64::MIN,
        VisitStatus::Overdue { days } => -days,
        _ => 0,
    });
    caller.audit("read", "coverage", &format!("{days}d")).await?;
    let row = |name: AnyView, f: &GridFigures, workers: Option<String>| {
        view! {
            <tr>
                <th scope="row">{name}</th>
                <td class="num">{f.households}</td>
                <td class="num">{f.visited}</td>
                <td class="num">{f.share()}"%"</td>
                <td class="num">{f.overdue_key}</td>
                <td>{workers}</td>
            </tr>
        }
    };
    let zoomed = given(&filters.grid).is_some();
    let mut total = GridFigures::default();
    let mut table: Vec<_> = scope
        .grids
        .iter()
        .map(|id| {
            let f = figures.get(id.as_str()).cloned().unwrap_or_default();
            total.households += f.households;
            total.visited += f.visited;
            total.overdue_key += f.overdue_key;
            let name = scope.name(id).to_owned();
            // A grid's name zooms the page (its map, figures and list) to it.
            let name = if zoomed {
                name.into_any()
            } else {
                view! { <a href=format!("/manage/coverage?{}", filters.query_for_grid(id))>{name}</a> }.into_any()
            };
            row(name, &f, workers.get(id).map(|w| w.join("、")))
        })
        .collect();
    // The whole scope (a lead's community) below its grids.
    if scope.grids.len() > 1 {
        table.push(row("合计".into_any(), &total, None));
    }
    let list = overdue
        .iter()
        .take(500)
        .map(|o| {
            let row = &o.household.row;
            let label = format!(
                "{} · {}{}单元{}",
                scope.name(&row.grid_id),
                row.building_name,
                row.unit,
                row.door_number
            );
            let how = match o.status {
                VisitStatus::Overdue { days } => format!("逾期 {days} 天"),
                _ => "从未走访".into(),
            };
            let groups: Vec<&str> = o.household.groups.iter().map(|t| t.label()).collect();
            view! {
                <li class="overdue">
                    <a href=format!("/households/{}", row.id)>{label}</a>
                    <span class="late">{how}</span>
                    <span class="muted">{groups.join("、")}" · 网格员："{workers.get(&row.grid_id).map(|w| w.join("、"))}</span>
                </li>
            }
        })
        .collect_view();
    let count = overdue.len();
    let query = filters.query();
    let worker_rows = worker_rows
        .into_iter()
        .map(|w| {
            view! {
                <tr><th scope="row">{w.name}</th><td class="num">{w.visits}</td><td class="num">{w.households}</td></tr>
            }
        })
        .collect_view();
    let map = map::svg(
        &buildings
            .into_iter()
            .map(|b| {
                let figures = by_building.get(b.id.as_str()).cloned().unwrap_or_default();
                map::MapBuilding {
                    id: b.id,
                    number: b.number,
                    footprint: b.footprint,
                    figures,
                }
            })
            .collect::<Vec<_>>(),
    );
    let body = view! {
        <header><a href="/" aria-label="返回">"‹"</a><h1>"走访覆盖"</h1></header>
        <main>
            <form class="row" method="get" action="/manage/coverage">
                <label class="inline">"统计期间：近"
                    <input name="days" type="number" min="1" max="366" value=days style="width:5em"/>"天"</label>
                <select name="grid" aria-label="网格">
                    <option value="">"全部网格"</option>
                    {choices.grids.into_iter().map(|(id, name)| {
                        let selected = given(&filters.grid) == Some(id.as_str());
                        view! { <option value=id selected=selected>{name}</option> }
                    }).collect_view()}
                </select>
                <select name="tag" aria-label="重点人群">
                    <option value="">"全部住户"</option>
                    {KeyGroup::ALL.iter().map(|k| {
                        let selected = scope.tag == Some(*k);
                        view! { <option value=k.as_str() selected=selected>{k.label()}</option> }
                    }).collect_view()}
                </select>
                <select name="worker" aria-label="网格员">
                    <option value="">"全部网格员"</option>
                    {choices.workers.into_iter().map(|(id, name)| {
                        let selected = given(&filters.worker) == Some(id.as_str());
                        view! { <option value=id selected=selected>{name}</option> }
                    }).collect_view()}
                </select>
                <button type="submit">"筛选"</button>
            </form>
            <p class="row">
                "下载（按当前筛选）："
                <a class="btn plain" href=format!("/manage/coverage/visits.xlsx?{query}")>"走访台账 Excel"</a>
                <a class="btn plain" href=format!("/manage/coverage/households.xlsx?{query}")>"覆盖情况 Excel"</a>
                <a class="plain-link" href=format!("/manage/coverage/visits.csv?{query}")>"台账 CSV"</a>
                <a class="plain-link" href=format!("/manage/coverage/households.csv?{query}")>"覆盖 CSV"</a>
                <a class="btn plain" href="/manage/policies">"走访频次"</a>
                <a class="btn" href="/manage/requests">"诉求台账 · 办理情况"</a>
                <a class="btn plain" href="/manage/users">"工作人员 · 网格 · 导入"</a>
            </p>
            {zoomed.then(|| {
                let all = Filters { grid: None, ..filters.clone() }.query();
                view! { <p><a class="plain-link" href=format!("/manage/coverage?{all}")>"‹ 全部网格的地图"</a></p> }
            })}
            // A whole community is drawn wider than a phone (scrolled sideways);
            // one grid fits the screen.
            <div class=if zoomed { "map-wrap" } else { "map-wrap whole" } inner_html=map></div>
            <p class="legend">
                <span class="key good"></span>{format!("近{days}天走访 ≥ 80%")}
                <span class="key fair"></span>"50–80%"
                <span class="key poor"></span>"< 50%"
                <span class="key late-key"></span>"有逾期重点户（红框）"
                " · 点楼栋看各户"{(!zoomed).then_some("，点网格名放大")}
            </p>
            <div class="scroll">
                <table class="figures">
                    <thead><tr><th>"网格"</th><th>"户数"</th><th>{format!("近{days}天走访户")}</th><th>"覆盖率"</th><th>"逾期重点户"</th><th>"网格员"</th></tr></thead>
                    <tbody>{table.collect_view()}</tbody>
                </table>
            </div>
            <h2>"网格员走访"</h2>
            <div class="scroll">
                <table class="figures workers">
                    <thead><tr><th>"网格员"</th><th>{format!("近{days}天走访次数")}</th><th>"走访户数"</th></tr></thead>
                    <tbody>{worker_rows}</tbody>
                </table>
            </div>
            <h2>{format!("逾期的重点人群户（{count}）")}</h2>
            <p class="muted">"按走访频次（重点人群取最严的一项）计算，从未走访的排在最前。"</p>
            <ul class="plain-list">{list}</ul>
        </main>
    }
    .into_any();
    Ok(html_page("走访覆盖", body))
}

const CSS: &str = "\
body{margin:0;font:16px/1.6 system-ui,'PingFang SC','Microsoft YaHei',sans-serif;color:#1d2327;background:#f4f6f7}\
header{background:#1f6f5c;color:#fff;padding:12px 16px;display:flex;gap:12px;align-items:center}\
header a{color:#fff}header h1{margin:0;font-size:18px}main{max-width:900px;margin:0 auto;padding:12px 16px 32px}\
.row{display:flex;flex-wrap:wrap;gap:8px;align-items:center;margin:0 0 12px}\
button,.btn{min-height:40px;padding:0 14px;border-radius:8px;border:0;background:#1f6f5c;color:#fff;font:inherit}\
.btn.plain{background:#e3efe9;color:#155244;text-decoration:none;display:inline-flex;align-items:center}\
input,select{font:inherit;padding:6px 8px;border:1px solid #d5dde0;border-radius:8px;background:#fff}\
.plain-link{color:#155244}\
table{border-collapse:collapse;width:100%;background:#fff}td,th{border:1px solid #d5dde0;padding:6px 8px;text-align:left}\
.scroll{overflow-x:auto;margin:0 0 12px}.scroll table{white-space:nowrap}\
.scroll th[scope=row]{position:sticky;left:0;background:#fff;font-weight:600;max-width:9em;overflow:hidden;text-overflow:ellipsis}\
.scroll thead th:first-child{position:sticky;left:0;background:#fff}\
.num{text-align:right}.plain-list{list-style:none;padding:0}\
li.overdue{background:#fff;border-radius:10px;margin:0 0 8px;padding:10px 12px;display:grid;gap:2px}\
.late{color:#b3261e;font-weight:600}\
.map-wrap{background:#fff;border-radius:10px;padding:6px;margin:0 0 8px;overflow-x:auto}svg.map{width:100%;height:auto;display:block}\
@media(max-width:600px){main{padding:10px 8px 32px}.map-wrap.whole svg.map{width:250%}}\
svg.map .b{stroke:#5b6a70;stroke-width:1}svg.map .b.late{stroke:#b3261e;stroke-width:3}\
svg.map text{font-size:18px;font-weight:600;text-anchor:middle;fill:#1d2327;pointer-events:none}\
.good{fill:#2e9e6a;background:#2e9e6a}.fair{fill:#e6b422;background:#e6b422}.poor{fill:#e5735d;background:#e5735d}\
.none{fill:#d5dde0}.legend{font-size:14px;display:flex;flex-wrap:wrap;gap:6px;align-items:center}\
.key{display:inline-block;width:14px;height:14px;border-radius:3px}.late-key{border:3px solid #b3261e;width:10px;height:10px}.muted{color:#5b6a70;font-size:14px}.error{color:#b3261e}\
.card{background:#fff;border-radius:10px;padding:10px 14px;margin:0 0 10px}.card h3{margin:0 0 8px;font-size:16px}\
.card label{display:grid;gap:4px;margin:0 0 10px}textarea{font:inherit;width:100%;box-sizing:border-box;padding:6px 8px;border:1px solid #d5dde0;border-radius:8px}\
tr.late-row td{background:#fdf1ef}ol.timeline{background:#fff;border-radius:10px;padding:10px 10px 10px 36px}ol.timeline li{margin:0 0 6px}\
img.thumb{width:72px;height:72px;object-fit:cover;border-radius:6px}.code{font:700 20px/1.4 ui-monospace,monospace;word-break:break-all}\
form.inline{display:inline}label.inline{display:inline-flex;gap:4px;align-items:center}";

/// A manage page in the coverage look (the requests ledger shares it).
pub(crate) fn html_page(title: &str, body: AnyView) -> Response {
    Html(crate::html::document(title.to_owned(), CSS, false, ().into_any(), body)).into_response()
}

/// The policies strictest first, as the policies page lists them (a stable
/// sort of rows that come by tag).
async fn policies_by_cadence(store: &store::Store) -> Result<Vec<Policy>, ApiError> {
    let mut rows = policies(store).await?;
    rows.sort_by_key(|p| p.cadence_days);
    Ok(rows)
}

fn tag_label(tag: &str) -> &'static str {
    if tag == "default" {
        "其他住户（默认）"
    } else {
        KeyGroup::parse(tag).map_or("未知", |k| k.label())
    }
}

fn policies_view(rows: &[Policy], editable: bool, message: Option<&str>) -> Response {
    let body = view! {
        <header><a href="/manage/coverage" aria-label="返回">"‹"</a><h1>"走访频次"</h1></header>
        <main>
            {message.map(|m| view! { <p class="error" role="alert">{m.to_owned()}</p> })}
            <form method="post" action="/manage/policies">
                <table>
                    <thead><tr><th>"人群"</th><th>"至少每多少天走访一次"</th></tr></thead>
                    <tbody>
                        {rows.iter().map(|p| view! {
                            <tr>
                                <td>{tag_label(&p.tag)}</td>
                                <td><input name=p.tag.clone() type="number" min="1" max="366" value=p.cadence_days disabled=!editable/></td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
                {editable.then(|| view! { <p><button type="submit">"保存"</button></p> })}
            </form>
            <p class="muted">"一户的下次走访日 = 上次走访日 + 户内在住居民所属人群中最短的频次（无重点人群按默认）。"</p>
        </main>
    }
    .into_any();
    html_page("走访频次", body)
}

async fn policies_page(Api(caller): Api) -> Result<Response, ApiError> {
    let rows = policies_by_cadence(&caller.store).await?;
    Ok(policies_view(&rows, caller.user.role == Role::Admin, None))
}

async fn save_policies(
    Api(caller): Api,
    form: Result<Form<HashMap<String, String>>, axum::extract::rejection::FormRejection>,
) -> Result<Response, ApiError> {
    if caller.user.role != Role::Admin {
        caller.audit("denied", "visit_policies", "-").await?;
        return Err(ApiError::Forbidden);
    }
    let values = form_body(form)?;
    let rows = policies_by_cadence(&caller.store).await?;
    let mut updates = Vec::new();
    for Policy { tag, .. } in &rows {
        let Some(text) = values.get(tag) else { continue };
        match text.trim().parse::<i64>() {
            Ok(days) if (1..=366).contains(&days) => updates.push((tag.clone(), days)),
            _ => {
                let message = format!("{}：请填写 1 到 366 之间的天数", tag_label(tag));
                let mut response = policies_view(&rows, true, Some(&message));
                *response.status_mut() = StatusCode::BAD_REQUEST;
                return Ok(response);
            }
        }
    }
    let mut tx = caller.store.begin().await?;
    for (tag, days) in &updates {
        tx.set_visit_cadence(tag, *days, now_ms()).await?;
    }
    tx.audit(caller.audit_entry(now_ms(), "update", "visit_policies", "-"))
        .await?;
    tx.commit().await?;
    Ok(Redirect::to("/manage/policies").into_response())
}
