//! Service hours (党员服务时间统计台账, 001 #6): each member's hours in a
//! year from their visits and the activities they attended, against the
//! yearly rule (16 hours unless an admin changed it), as a page, CSV and
//! XLSX; and each outside unit's quarterly report (每个单位一页: its members,
//! their visits, hours and activities) as one XLSX with a sheet per unit, for
//! the unit's party organisation.

use std::collections::{BTreeMap, HashMap};

use app::auth::ssr::Caller;
use app::domain::{CivilDate, Outcome};
use app::error::ApiError;
use app::policy::BEIJING_OFFSET_MS;
use app::state::now_ms;
use axum::extract::Query;
use axum::extract::rejection::QueryRejection;
use axum::http::StatusCode;
use axum::response::Response;
use leptos::prelude::*;
use serde::Deserialize;
use store::party::{MemberRow, RosterQuery};
use store::party_service::{MemberActivityRow, MemberVisitRow, ServiceRow};

use super::rank_label;
use super::service::year_span;
use crate::activities::{choose_community, shown_community};
use crate::auth::Api;
use crate::coverage::given;
use crate::coverage::ledger::{Cell, FileType, Table, download, table_view, workbook_download};
use crate::requests::Quarter;
use crate::routes::{Routes, get};
use crate::staff::page;
use app::sync::hours_label;

pub fn routes() -> Routes {
    Routes::new()
        .route("/manage/party/hours", get(hours_page))
        .route("/manage/party/hours.csv", get(hours_csv))
        .route("/manage/party/hours.xlsx", get(hours_xlsx))
        .route("/manage/party/units", get(units_page))
        .route("/manage/party/units.xlsx", get(units_xlsx))
}

const HOURS_HEADERS: &[&str] = &[
    "姓名",
    "类别",
    "工作单位",
    "党支部",
    "走访次数",
    "走访时长（小时）",
    "活动次数",
    "活动时长（小时）",
    "合计（小时）",
    "是否达标",
];

const UNIT_HEADERS: &[&str] = &["姓名", "职级类别", "类型", "时间", "内容", "时长（小时）"];
/// The type column of a member's last row in a unit's sheet.
const TOTAL: &str = "本季度合计";

#[derive(Debug, Default, Deserialize)]
struct LedgerQuery {
    community: Option<String>,
    year: Option<String>,
    quarter: Option<String>,
}

/// The community and year asked for (this year in Beijing by default);
/// `None`: an admin who has not chosen a community yet.
async fn year_asked(
    caller: &Caller,
    query: Result<Query<LedgerQuery>, QueryRejection>,
) -> Result<Option<(String, i32)>, ApiError> {
    let Query(query) = query.map_err(|_| ApiError::BadRequest("查询格式不正确".into()))?;
    let this_year = CivilDate::from_epoch_ms(now_ms() + BEIJING_OFFSET_MS).year();
    let year = match given(&query.year) {
        None => this_year,
        Some(text) => text
            .parse()
            .ok()
            .filter(|y| (2000..=this_year).contains(y))
            .ok_or_else(|| ApiError::BadRequest(format!("年份请填写2000到{this_year}之间的年份")))?,
    };
    Ok(shown_community(caller, given(&query.community))
        .await?
        .map(|c| (c, year)))
}

/// A member's year: their service and whether it meets the rule.
struct Ledger {
    member: MemberRow,
    service: ServiceRow,
}

impl Ledger {
    fn minutes(&self) -> i64 {
        self.service.visit_minutes + self.service.activity_minutes
    }
}

/// Every active member, and every member who moved away with service in the
/// year, the shortest first.
async fn ledger(caller: &Caller, community: &str, year: i32) -> Result<(Vec<Ledger>, i64), ApiError> {
    let (from, to) = year_span(year);
    let roster = RosterQuery {
        community,
        ..Default::default()
    };
    let (members, service, annual) = tokio::try_join!(
        caller.store.party_roster(roster),
        caller.store.party_service(community, from, to),
        caller.store.party_annual_minutes(),
    )?;
    let mut service: HashMap<String, ServiceRow> = service.into_iter().map(|s| (s.member_id.clone(), s)).collect();
    let mut rows: Vec<Ledger> = members
        .into_iter()
        .filter_map(|member| {
            let service = service.remove(&member.id).unwrap_or_default();
            let served = service.visits + service.activities > 0;
            (member.status == "active" || served).then_some(Ledger { member, service })
        })
        .collect();
    rows.sort_by(|a, b| {
        a.minutes()
            .cmp(&b.minutes())
            .then_with(|| a.member.name.cmp(&b.member.name))
    });
    caller
        .audit("read", "party_hours", &format!("{community}/{year}"))
        .await?;
    Ok((rows, annual))
}

fn kind_label(m: &MemberRow) -> &'static str {
    if m.kind == "resident" {
        "居民党员"
    } else {
        "在职党员"
    }
}

async fn hours_page(Api(caller): Api, query: Result<Query<LedgerQuery>, QueryRejection>) -> Result<Response, ApiError> {
    let Some((community, year)) = year_asked(&caller, query).await? else {
        return choose_community(&caller, "/manage/party/hours", "党员服务时间台账").await;
    };
    let (rows, annual) = ledger(&caller, &community, year).await?;
    let short = rows
        .iter()
        .filter(|r| r.member.status == "active" && r.minutes() < annual)
        .count();
    let files = format!("?community={community}&year={year}");
    let note_class = if short > 0 { "error" } else { "muted" };
    let body = view! {
        <form method="get" class="row">
            <input type="hidden" name="community" value=community.clone()/>
            <label>"年份"<input name="year" inputmode="numeric" value=year.to_string()/></label>
            <button type="submit">"查看"</button>
        </form>
        <p class=note_class>
            {format!("{year}年：{short}名在册党员服务时长不足{}", hours_label(annual))}</p>
        <p class="row">
            <a class="btn" href=format!("/manage/party/hours.xlsx{files}")>"下载 XLSX"</a>
            <a class="btn" href=format!("/manage/party/hours.csv{files}")>"下载 CSV"</a>
        </p>
        <table>
            <thead><tr><th>"姓名"</th><th>"单位"</th><th>"走访"</th><th>"活动"</th><th>"合计"</th></tr></thead>
            <tbody>
                {rows.into_iter().map(|r| {
                    let met = r.minutes() >= annual;
                    let row_class = if met { "" } else { "overdue" };
                    view! {
                        <tr class=row_class>
                            <td><a href=format!("/manage/party/members/{}", r.member.id)>{r.member.name.clone()}</a></td>
                            <td>{if r.member.unit.is_empty() { kind_label(&r.member).to_owned() } else { r.member.unit.clone() }}</td>
                            <td>{format!("{}次 {}", r.service.visits, hours_label(r.service.visit_minutes))}</td>
                            <td>{format!("{}次 {}", r.service.activities, hours_label(r.service.activity_minutes))}</td>
                            <td>{format!("{}{}", hours_label(r.minutes()), if met { "" } else { "（不足）" })}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any();
    Ok(page("党员服务时间台账", "/manage/party", None, StatusCode::OK, body))
}

async fn hours_table(caller: &Caller, community: &str, year: i32) -> Result<Table, ApiError> {
    let (rows, annual) = ledger(caller, community, year).await?;
    let rows = rows
        .into_iter()
        .map(|r| {
            let minutes = r.minutes();
            vec![
                Cell::Text(r.member.name.clone()),
                Cell::Text(kind_label(&r.member).into()),
                Cell::Text(r.member.unit.clone()),
                Cell::Text(r.member.branch.clone()),
                Cell::Number(r.service.visits),
                Cell::Hours(r.service.visit_minutes),
                Cell::Number(r.service.activities),
                Cell::Hours(r.service.activity_minutes),
                Cell::Hours(minutes),
                Cell::Text(if minutes >= annual { "达标" } else { "不足" }.into()),
            ]
        })
        .collect();
    Ok(Table {
        title: format!("{year}年党员服务时间"),
        headers: HOURS_HEADERS,
        rows,
    })
}

async fn hours_file(
    caller: &Caller,
    query: Result<Query<LedgerQuery>, QueryRejection>,
    format: FileType,
) -> Result<Response, ApiError> {
    let Some((community, year)) = year_asked(caller, query).await? else {
        return Err(ApiError::BadRequest("请选择社区".into()));
    };
    let table = hours_table(caller, &community, year).await?;
    download(&table, format, &format!("party-hours-{year}"))
}

async fn hours_csv(Api(caller): Api, query: Result<Query<LedgerQuery>, QueryRejection>) -> Result<Response, ApiError> {
    hours_file(&caller, query, FileType::Csv).await
}

async fn hours_xlsx(Api(caller): Api, query: Result<Query<LedgerQuery>, QueryRejection>) -> Result<Response, ApiError> {
    hours_file(&caller, query, FileType::Xlsx).await
}

/// The community and quarter asked for (this quarter by default).
async fn quarter_asked(
    caller: &Caller,
    query: Result<Query<LedgerQuery>, QueryRejection>,
) -> Result<Option<(String, Quarter)>, ApiError> {
    let Query(query) = query.map_err(|_| ApiError::BadRequest("查询格式不正确".into()))?;
    let quarter = match given(&query.quarter) {
        None => Quarter::of(now_ms()),
        Some(text) => Quarter::parse(text).ok_or_else(|| ApiError::BadRequest("季度请按 2026Q4 填写".into()))?,
    };
    Ok(shown_community(caller, given(&query.community))
        .await?
        .map(|c| (c, quarter)))
}

/// Each outside unit's in-service members with their visits and activities
/// in the quarter, by unit name.
async fn unit_tables(caller: &Caller, community: &str, quarter: Quarter) -> Result<Vec<Table>, ApiError> {
    let (from, to) = (quarter.start(), quarter.end());
    let roster = RosterQuery {
        community,
        ..Default::default()
    };
    let (members, visits, activities) = tokio::try_join!(
        caller.store.party_roster(roster),
        caller.store.party_member_visits(community, "", from, to),
        caller.store.party_member_activities(community, from, to),
    )?;
    // Each member's rows found once, not by scanning every row per member.
    let mut visits_of: HashMap<&str, Vec<&MemberVisitRow>> = HashMap::new();
    for v in &visits {
        visits_of.entry(v.member_id.as_str()).or_default().push(v);
    }
    let mut activities_of: HashMap<&str, Vec<&MemberActivityRow>> = HashMap::new();
    for a in &activities {
        activities_of.entry(a.member_id.as_str()).or_default().push(a);
    }
    let mut units: BTreeMap<String, Vec<Vec<Cell>>> = BTreeMap::new();
    for m in members.iter().filter(|m| m.kind == "in_service") {
        let theirs = visits_of.remove(m.id.as_str()).unwrap_or_default();
        let attended = activities_of.remove(m.id.as_str()).unwrap_or_default();
        if m.status != "active" && theirs.is_empty() && attended.is_empty() {
            continue;
        }
        let name = || Cell::Text(m.name.clone());
        let rank = || Cell::Text(rank_label(&m.rank).into());
        let mut rows: Vec<Vec<Cell>> = Vec::with_capacity(theirs.len() + attended.len() + 1);
        for v in &theirs {
            let outcome = Outcome::parse(&v.outcome).map_or("", |o| o.label());
            let door = format!("{} {}单元 {}（{outcome}）", v.building_name, v.unit, v.door_number);
            rows.push(vec![
                name(),
                rank(),
                Cell::Text("走访联系户".into()),
                Cell::Time(v.visited_at),
                Cell::Text(door),
                Cell::Hours(v.service_minutes),
            ]);
        }
        for a in &attended {
            rows.push(vec![
                name(),
                rank(),
                Cell::Text("参加活动".into()),
                Cell::Time(a.starts_at),
                Cell::Text(a.title.clone()),
                Cell::Hours(a.credit_minutes),
            ]);
        }
        let minutes: i64 = theirs.iter().map(|v| v.service_minutes).sum::<i64>()
            + attended.iter().map(|a| a.credit_minutes).sum::<i64>();
        let summary = format!("走访{}次，参加活动{}次", theirs.len(), attended.len());
        rows.push(vec![
            name(),
            rank(),
            Cell::Text(TOTAL.into()),
            Cell::Empty,
            Cell::Text(summary),
            Cell::Hours(minutes),
        ]);
        units.entry(m.unit.clone()).or_default().extend(rows);
    }
    caller
        .audit("read", "party_unit_report", &format!("{community}/{}", quarter.code()))
        .await?;
    let mut names: Vec<String> = Vec::new();
    Ok(units
        .into_iter()
        .map(|(unit, rows)| {
            let title = sheet_name(&unit, &names);
            names.push(title.clone());
            Table {
                title,
                headers: UNIT_HEADERS,
                rows,
            }
        })
        .collect())
}

/// A sheet name from a unit's: at most 31 characters, none of `[]:*?/\`,
/// no apostrophe at either end, and not one already taken in any case (two
/// units alike once shortened).
fn sheet_name(unit: &str, taken: &[String]) -> String {
    let clean: String = unit
        .chars()
        .map(|c| if "[]:*?/\\".contains(c) { '_' } else { c })
        .take(28)
        .collect();
    let clean = clean.trim().trim_matches('\'').to_owned();
    let clean = if clean.is_empty() {
        "未填单位".to_owned()
    } else {
        clean
    };
    let mut name = clean.clone();
    let mut n = 2;
    // Excel takes "ABC" and "abc" for one sheet.
    while taken.iter().any(|t| t.to_lowercase() == name.to_lowercase()) {
        name = format!("{clean}({n})");
        n += 1;
    }
    name
}

async fn units_page(Api(caller): Api, query: Result<Query<LedgerQuery>, QueryRejection>) -> Result<Response, ApiError> {
    let Some((community, quarter)) = quarter_asked(&caller, query).await? else {
        return choose_community(&caller, "/manage/party/units", "在职党员单位报告").await;
    };
    let tables = unit_tables(&caller, &community, quarter).await?;
    let file = format!(
        "/manage/party/units.xlsx?community={community}&quarter={}",
        quarter.code()
    );
    let (previous, next) = (quarter.previous(), quarter.next());
    let body = view! {
        <p class="row">
            <a href=format!("?community={community}&quarter={}", previous.code())>{format!("‹ {}", previous.label())}</a>
            <strong>{quarter.label()}</strong>
            <a href=format!("?community={community}&quarter={}", next.code())>{format!("{} ›", next.label())}</a>
        </p>
        <p><a class="btn" href=file>"下载各单位报告（XLSX，每个单位一页）"</a></p>
        {tables.is_empty().then(|| view! { <p class="empty">"本社区没有登记在职党员"</p> })}
        // Each unit's page as the workbook has it, to read before sending.
        {tables.iter().map(table_view).collect_view()}
    }
    .into_any();
    Ok(page("在职党员单位报告", "/manage/party", None, StatusCode::OK, body))
}

async fn units_xlsx(Api(caller): Api, query: Result<Query<LedgerQuery>, QueryRejection>) -> Result<Response, ApiError> {
    let Some((community, quarter)) = quarter_asked(&caller, query).await? else {
        return Err(ApiError::BadRequest("请选择社区".into()));
    };
    let tables = unit_tables(&caller, &community, quarter).await?;
    if tables.is_empty() {
        return Err(ApiError::NotFound("本社区没有登记在职党员".into()));
    }
    workbook_download(&tables, &format!("party-units-{}", quarter.code()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sheet_names_are_short_clean_and_unique() {
        assert_eq!(sheet_name("区卫健委", &[]), "区卫健委");
        assert_eq!(sheet_name("a/b:c", &[]), "a_b_c");
        assert_eq!(sheet_name("", &[]), "未填单位");
        assert_eq!(sheet_name("'引号单位'", &[]), "引号单位");
        assert_eq!(sheet_name("ABC科技", &["abc科技".to_owned()]), "ABC科技(2)");
        let long = "某某市某某区某某街道办事处某某科室某某组某某某某某某某某";
        let first = sheet_name(long, &[]);
        assert_eq!(first.chars().count(), 28);
        assert_eq!(sheet_name(long, std::slice::from_ref(&first)), format!("{first}(2)"));
    }
}
