//! The ledgers leads download, for the caller's scope narrowed by the page's
//! filters: the visit ledger (走访台账, every visit in the period) and the
//! coverage ledger (every household with its status), as CSV or XLSX.

use app::domain::{Outcome, VisitType};
use app::error::ApiError;
use app::state::now_ms;
use axum::extract::Query;
use axum::response::Response;

use super::ledger::{Cell, FileType, Table, download};
use super::{Filters, Scope, households, in_list, policies, scope, workers_by_grid};
use crate::auth::Api;

#[derive(sqlx::FromRow)]
struct VisitRow {
    visited_at: i64,
    grid_id: String,
    building: String,
    unit: i64,
    door_number: String,
    visit_type: String,
    outcome: String,
    worker: String,
    notes: String,
}

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

fn grid_name<'a>(scope: &'a Scope, id: &str) -> &'a str {
    scope
        .grids
        .iter()
        .find(|(g, _)| g == id)
        .map_or("", |(_, name)| name.as_str())
}

/// Visits in scope since the period's first Beijing midnight, newest first.
/// With a key-group filter, visits to households with such a resident.
async fn visit_table(caller: &app::auth::ssr::Caller, filters: &Filters) -> Result<Table, ApiError> {
    let scope = scope(caller, filters).await?;
    let rows: Vec<VisitRow> = if scope.grids.is_empty() {
        Vec::new()
    } else {
        let sql = format!(
            "SELECT v.visited_at, b.grid_id, b.name AS building, h.unit, h.door_number, v.visit_type, v.outcome,
                    u.display_name AS worker, v.notes
             FROM visits v JOIN households h ON h.id = v.household_id JOIN buildings b ON b.id = h.building_id
             JOIN users u ON u.id = v.worker_id
             WHERE v.visited_at >= $1 AND b.grid_id IN ({})
               AND ($2 IS NULL OR EXISTS (SELECT 1 FROM residents r JOIN resident_tags t ON t.resident_id = r.id
                                          WHERE r.household_id = h.id AND r.moved_out = 0 AND t.tag = $2))
             ORDER BY v.visited_at DESC",
            in_list(3, scope.grids.len())
        );
        let mut query = sqlx::query_as(&sql)
            .bind(filters.since_ms(now_ms()))
            .bind(scope.tag.map(|t| t.as_str()));
        for (id, _) in &scope.grids {
            query = query.bind(id);
        }
        query.fetch_all(&caller.pool).await?
    };
    let rows = rows
        .into_iter()
        .map(|row| {
            vec![
                Cell::Time(row.visited_at),
                Cell::Text(grid_name(&scope, &row.grid_id).to_owned()),
                Cell::Text(row.building),
                Cell::Number(row.unit),
                Cell::Text(row.door_number),
                Cell::Text(VisitType::parse(&row.visit_type).map_or(row.visit_type.clone(), |t| t.label().to_owned())),
                Cell::Text(Outcome::parse(&row.outcome).map_or(row.outcome.clone(), |o| o.label().to_owned())),
                Cell::Text(row.worker),
                Cell::Text(row.notes),
            ]
        })
        .collect();
    caller.audit("read", "visit_ledger", &filters.query()).await?;
    Ok(Table {
        title: "走访台账",
        headers: VISIT_HEADERS,
        rows,
    })
}

/// Every household in scope with its cadence, last visit and status.
async fn household_table(caller: &app::auth::ssr::Caller, filters: &Filters) -> Result<Table, ApiError> {
    let scope = scope(caller, filters).await?;
    let (rows, workers, policies) = tokio::try_join!(
        households(caller, &scope),
        workers_by_grid(caller),
        policies(&caller.pool)
    )?;
    let now = now_ms();
    let since = filters.since_ms(now);
    let none: Vec<String> = Vec::new();
    let rows = rows
        .iter()
        .map(|row| {
            let status = row.status(&policies, now);
            let groups: Vec<&str> = row.key_groups().iter().map(|k| k.label()).collect();
            vec![
                Cell::Text(grid_name(&scope, &row.grid_id).to_owned()),
                Cell::Text(row.building_name.clone()),
                Cell::Number(row.unit),
                Cell::Text(row.door_number.clone()),
                Cell::Text(groups.join("、")),
                Cell::Number(row.cadence(&policies)),
                row.last_visit.map_or(Cell::Empty, Cell::Time),
                Cell::Text(if row.visited_since(since) { "是" } else { "否" }.into()),
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
        title: "走访覆盖",
        headers: HOUSEHOLD_HEADERS,
        rows,
    })
}

pub async fn visits_csv(Api(caller): Api, Query(filters): Query<Filters>) -> Result<Response, ApiError> {
    let table = visit_table(&caller, &filters).await?;
    spawn_download(table, FileType::Csv, "visit-ledger").await
}

pub async fn visits_xlsx(Api(caller): Api, Query(filters): Query<Filters>) -> Result<Response, ApiError> {
    let table = visit_table(&caller, &filters).await?;
    spawn_download(table, FileType::Xlsx, "visit-ledger").await
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
