//! The ledgers leads download, for the caller's scope narrowed by the page's
//! filters: the visit ledger (走访台账, every visit in the period) and the
//! coverage ledger (every household with its status), as CSV or XLSX.

use app::domain::{Outcome, VisitType};
use app::error::ApiError;
use app::state::now_ms;
use axum::extract::Query;
use axum::response::Response;

use super::ledger::{Cell, FileType, Pages, Table, download, stream_download};
use super::{Filters, Household, Scope, api_result, policies, scope, workers_by_grid};
use crate::auth::Api;

pub const VISIT_HEADERS: &[&str] = &[
    "走访时间",
    "网格",
    "楼栋",
    "单元",
    "门牌",
    "走访类型",
    "走访结果",
    "网格员",
    "备注",
];

pub const HOUSEHOLD_HEADERS: &[&str] = &[
    "网格",
    "楼栋",
    "单元",
    "门牌",
    "重点人群",
    "走访频次（天）",
    "上次走访",
    "期间内已走访",
    "状态",
    "逾期天数",
    "网格员",
];

/// Rows of the visit ledger fetched at a time. An export holds about a page
/// however many visits it writes (measured: the server's peak +15 to +40 MiB
/// for 115,000 or 351,000 visits, where holding every row took +70 and +220
/// MiB); pages of 10,000 held twice as much and saved no time.
const VISIT_PAGE: i64 = 5_000;

/// Visits in scope since the period's first Beijing midnight, newest first,
/// a page at a time. With a key-group filter, visits to households with such
/// a resident.
struct VisitPages {
    store: store::Store,
    scope: Scope,
    since: i64,
    /// The last visit sent (its time and id); `None` before the first page.
    after: Option<(i64, String)>,
    done: bool,
}

impl VisitPages {
    async fn new(caller: &app::auth::ssr::Caller, filters: &Filters) -> Result<Self, ApiError> {
        let scope = scope(caller, filters).await?;
        caller.audit("read", "visit_ledger", &filters.query()).await?;
        Ok(VisitPages {
            store: caller.store.clone(),
            scope,
            since: filters.since_ms(now_ms()),
            after: None,
            done: false,
        })
    }
}

impl Pages for VisitPages {
    async fn next(&mut self) -> Result<Vec<Vec<Cell>>, ApiError> {
        if self.done {
            return Ok(Vec::new());
        }
        let after = self.after.as_ref().map(|(at, id)| (*at, id.as_str()));
        let rows = self
            .store
            .visit_ledger_page(&self.scope.grids, self.scope.tag(), self.since, after, VISIT_PAGE)
            .await?;
        self.done = (rows.len() as i64) < VISIT_PAGE;
        self.after = rows.last().map(|row| (row.visited_at, row.id.clone()));
        let scope = &self.scope;
        Ok(rows
            .into_iter()
            .map(|row| {
                vec![
                    Cell::Time(row.visited_at),
                    Cell::Text(scope.name(&row.grid_id).to_owned()),
                    Cell::Text(row.building),
                    Cell::Number(row.unit),
                    Cell::Text(row.door_number),
                    Cell::Text(
                        VisitType::parse(&row.visit_type).map_or(row.visit_type.clone(), |t| t.label().to_owned()),
                    ),
                    Cell::Text(Outcome::parse(&row.outcome).map_or(row.outcome.clone(), |o| o.label().to_owned())),
                    Cell::Text(row.worker),
                    Cell::Text(row.notes),
                ]
            })
            .collect())
    }
}

/// Every household in scope with its cadence, last visit and status.
async fn household_table(caller: &app::auth::ssr::Caller, filters: &Filters) -> Result<Table, ApiError> {
    let scope = scope(caller, filters).await?;
    let (rows, workers, policies) = tokio::try_join!(
        api_result(caller.store.coverage_households(&scope.grids, scope.tag())),
        workers_by_grid(caller, &scope),
        policies(&caller.store)
    )?;
    let now = now_ms();
    let since = filters.since_ms(now);
    let none: Vec<String> = Vec::new();
    let rows = rows
        .into_iter()
        .map(|row| {
            let household = Household::from(row);
            let status = household.status(&policies, now);
            let groups: Vec<&str> = household.groups.iter().map(|k| k.label()).collect();
            let row = &household.row;
            vec![
                Cell::Text(scope.name(&row.grid_id).to_owned()),
                Cell::Text(row.building_name.clone()),
                Cell::Number(row.unit),
                Cell::Text(row.door_number.clone()),
                Cell::Text(groups.join("、")),
                Cell::Number(household.cadence(&policies)),
                row.last_visit.map_or(Cell::Empty, Cell::Time),
                Cell::Text(if household.visited_since(since) { "是" } else { "否" }.into()),
                Cell::Text(status.label()),
                match status {
                    app::policy::VisitStatus::Overdue { days } => Cell::Number(days),
                    _ => Cell::Empty,
                },
                Cell::Text(workers.get(&row.grid_id).unwrap_or(&none).join("、")),
            ]
        })
        .collect();
    caller.audit("read", "coverage_ledger", &filters.query()).await?;
    Ok(Table {
        title: "走访覆盖".into(),
        headers: HOUSEHOLD_HEADERS,
        rows,
    })
}

/// Every visit of a year may be 100,000 rows and more: streamed.
async fn visit_download(
    caller: &app::auth::ssr::Caller,
    filters: &Filters,
    format: FileType,
) -> Result<Response, ApiError> {
    let pages = VisitPages::new(caller, filters).await?;
    stream_download("走访台账", VISIT_HEADERS, pages, format, "visit-ledger").await
}

pub async fn visits_csv(Api(caller): Api, Query(filters): Query<Filters>) -> Result<Response, ApiError> {
    visit_download(&caller, &filters, FileType::Csv).await
}

pub async fn visits_xlsx(Api(caller): Api, Query(filters): Query<Filters>) -> Result<Response, ApiError> {
    visit_download(&caller, &filters, FileType::Xlsx).await
}

pub async fn households_csv(Api(caller): Api, Query(filters): Query<Filters>) -> Result<Response, ApiError> {
    let table = household_table(&caller, &filters).await?;
    spawn_download(table, FileType::Csv, "coverage").await
}

pub async fn households_xlsx(Api(caller): Api, Query(filters): Query<Filters>) -> Result<Response, ApiError> {
    let table = household_table(&caller, &filters).await?;
    spawn_download(table, FileType::Xlsx, "coverage").await
}

/// Writing 100,000 rows takes a while: off the async workers.
async fn spawn_download(table: Table, format: FileType, file: &'static str) -> Result<Response, ApiError> {
    tokio::task::spawn_blocking(move || download(&table, format, file))
        .await
        .map_err(|_| ApiError::Internal)?
}
