//! The figures a street office asks for, per community, grid, worker and
//! category over a period — received, responded on time, resolved, resolved on
//! time, overdue now, followed up, satisfaction, reopened — with the three
//! rates 12345 / 接诉即办 offices are judged by (响应率, 解决率, 满意率; the
//! README defines each); the ledger and the figures as CSV and XLSX; a draft
//! 居务公开 notice carrying the quarter's figures.

use std::collections::BTreeMap;
use std::collections::HashMap;

use app::auth::ssr::Caller;
use app::clock::DAY_MS;
use app::domain::{CivilDate, Role};
use app::error::ApiError;
use app::policy::BEIJING_OFFSET_MS;
use app::requests::{RequestStatus, Satisfaction, Source};
use app::state::now_ms;
use axum::extract::{Form, Query};
use axum::response::{IntoResponse, Redirect, Response};
use leptos::prelude::*;
use serde::Deserialize;
use store::requests::FigureRow;

use super::manage::{Filters, handler, is_overdue, lead_scope, location, status_label};
use crate::auth::Api;
use crate::coverage::given;
use crate::coverage::html_page;
use crate::coverage::ledger::{Cell, FileType, Table, download};
use crate::routes::{Routes, get, post};

pub fn routes() -> Routes {
    Routes::new()
        .route("/manage/requests/figures", get(page))
        .route("/manage/requests/figures.csv", get(figures_csv))
        .route("/manage/requests/figures.xlsx", get(figures_xlsx))
        .route("/manage/requests/figures/notice", post(draft_notice))
        .route("/manage/requests/ledger.csv", get(ledger_csv))
        .route("/manage/requests/ledger.xlsx", get(ledger_xlsx))
}

/// A calendar quarter on the Beijing calendar: what residents' figures are
/// published for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quarter {
    pub year: i32,
    pub number: u8,
}

impl Quarter {
    pub fn of(now: i64) -> Quarter {
        let today = CivilDate::from_epoch_ms(now + BEIJING_OFFSET_MS);
        Quarter {
            year: today.year(),
            number: (today.month() - 1) / 3 + 1,
        }
    }

    /// `2026Q4`.
    pub fn parse(text: &str) -> Option<Quarter> {
        let (year, number) = text.trim().split_once(['Q', 'q'])?;
        let quarter = Quarter {
            year: year.parse().ok().filter(|y| (2000..=2100).contains(y))?,
            number: number.parse().ok().filter(|n| (1..=4).contains(n))?,
        };
        Some(quarter)
    }

    pub fn code(self) -> String {
        format!("{}Q{}", self.year, self.number)
    }

    pub fn label(self) -> String {
        let names = ["一", "二", "三", "四"];
        format!("{}年第{}季度", self.year, names[usize::from(self.number - 1)])
    }

    /// Beijing midnight of its first day.
    pub fn start(self) -> i64 {
        let day = CivilDate::new(self.year, (self.number - 1) * 3 + 1, 1).map_or(0, CivilDate::epoch_day);
        day * DAY_MS - BEIJING_OFFSET_MS
    }

    /// Beijing midnight after its last day.
    pub fn end(self) -> i64 {
        self.next().start()
    }

    pub fn next(self) -> Quarter {
        match self.number {
            4 => Quarter {
                year: self.year + 1,
                number: 1,
            },
            n => Quarter {
                year: self.year,
                number: n + 1,
            },
        }
    }

    pub fn previous(self) -> Quarter {
        match self.number {
            1 => Quarter {
                year: self.year - 1,
                number: 4,
            },
            n => Quarter {
                year: self.year,
                number: n - 1,
            },
        }
    }
}

/// The counts behind every rate, for one group of requests.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Figures {
    pub received: i64,
    pub merged: i64,
    pub declined: i64,
    pub responded_on_time: i64,
    pub resolved: i64,
    pub resolved_on_time: i64,
    pub followed_up: i64,
    pub rated: i64,
    pub satisfied: i64,
    pub reopened: i64,
    /// Open now and past a deadline, whenever received.
    pub overdue_now: i64,
}

/// `part / whole` in whole percent; none of nothing.
pub fn percent(part: i64, whole: i64) -> Option<i64> {
    (whole > 0).then(|| (part * 1000 / whole + 5) / 10)
}

pub fn show_percent(p: Option<i64>) -> String {
    p.map_or("—".into(), |p| format!("{p}%"))
}

impl Figures {
    /// One request received in the period.
    pub fn add(&mut self, r: &FigureRow) {
        let status = RequestStatus::parse(&r.status);
        self.received += 1;
        match status {
            Some(RequestStatus::Merged) => self.merged += 1,
            Some(RequestStatus::Declined) => self.declined += 1,
            _ => {}
        }
        let merged = status == Some(RequestStatus::Merged);
        if !merged && r.responded_at.is_some_and(|at| at <= r.respond_due) {
            self.responded_on_time += 1;
        }
        if status.is_some_and(RequestStatus::is_resolved) {
            self.resolved += 1;
            if r.resolved_at.is_some_and(|at| at <= r.resolve_due) {
                self.resolved_on_time += 1;
            }
        }
        if r.followed_up_at.is_some() {
            self.followed_up += 1;
        }
        if let Some(s) = r.satisfaction.as_deref().and_then(Satisfaction::parse) {
            self.rated += 1;
            if s.is_positive() {
                self.satisfied += 1;
            }
        }
        if r.reopen_count > 0 {
            self.reopened += 1;
        }
    }

    /// One request open now; counted if past a deadline.
    pub fn add_open(&mut self, r: &FigureRow, now: i64) {
        if r.resolve_due < now || (r.responded_at.is_none() && r.respond_due < now) {
            self.overdue_now += 1;
        }
    }

    /// 响应率: responded to within the time to first response, over the
    /// requests received (duplicates merged into another left out).
    pub fn response_rate(&self) -> Option<i64> {
        percent(self.responded_on_time, self.received - self.merged)
    }

    /// 解决率 (办结率): resolved, over the requests received that were not
    /// merged or declined.
    pub fn resolution_rate(&self) -> Option<i64> {
        percent(self.resolved, self.received - self.merged - self.declined)
    }

    /// 满意率: 满意 and 基本满意, over the requests rated (the latest rating
    /// of each, at the door or by the resident's own phone).
    pub fn satisfaction_rate(&self) -> Option<i64> {
        percent(self.satisfied, self.rated)
    }
}

/// Figures grouped one way: by grid, worker or category, plus the total.
#[derive(Debug, Default)]
pub struct Grouped {
    pub total: Figures,
    pub groups: BTreeMap<String, Figures>,
}

/// Groups rows by `key` (a grid id, a worker id, a category code).
pub fn group(rows: &[FigureRow], open: &[FigureRow], now: i64, key: impl Fn(&FigureRow) -> String) -> Grouped {
    let mut out = Grouped::default();
    for r in rows {
        out.total.add(r);
        out.groups.entry(key(r)).or_default().add(r);
    }
    for r in open {
        out.total.add_open(r, now);
        out.groups.entry(key(r)).or_default().add_open(r, now);
    }
    out
}

/// The worker a request counts for: who has it, else who took it.
fn worker_key(r: &FigureRow) -> String {
    r.assignee_id
        .clone()
        .or_else(|| r.first_contact.clone())
        .unwrap_or_default()
}

/// The period of a figures page: a quarter (default: this one) or dates.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct Period {
    quarter: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

impl Period {
    /// [since, until) and how to say it.
    fn range(&self, now: i64) -> Result<(i64, i64, String, Option<Quarter>), ApiError> {
        if given(&self.from).is_some() || given(&self.to).is_some() {
            let (since, until) = super::manage::days_between(&self.from, &self.to)?;
            let (since, until) = (since.unwrap_or(0), until.unwrap_or(now));
            let label = format!(
                "{} 至 {}",
                given(&self.from).unwrap_or("最早"),
                given(&self.to).unwrap_or("今天")
            );
            return Ok((since, until, label, None));
        }
        let quarter = match given(&self.quarter) {
            Some(q) => Quarter::parse(q).ok_or_else(|| ApiError::BadRequest("季度请写成 2026Q4 的样子".into()))?,
            None => Quarter::of(now),
        };
        Ok((quarter.start(), quarter.end(), quarter.label(), Some(quarter)))
    }
}

/// The rows of a period and the open ones, with the names to show.
struct Report {
    rows: Vec<FigureRow>,
    open: Vec<FigureRow>,
    grid_names: HashMap<String, String>,
    worker_names: HashMap<String, String>,
    category_names: HashMap<String, String>,
}

async fn report(caller: &Caller, community: Option<&str>, since: i64, until: i64) -> Result<Report, ApiError> {
    let store = &caller.store;
    let grids = caller.user.visible_grids(store).await?;
    let (rows, open, grid_names, workers, categories) = tokio::try_join!(
        async { Ok::<_, ApiError>(store.request_figure_rows(community, since, until).await?) },
        async { Ok(store.open_request_rows(community).await?) },
        async { Ok(store.grid_names(&grids).await?) },
        async { Ok(store.grid_workers(&grids).await?) },
        async { Ok(store.request_categories().await?) },
    )?;
    let mut worker_names: HashMap<String, String> = workers.into_iter().collect();
    worker_names.insert(caller.user.id.clone(), caller.user.display_name.clone());
    Ok(Report {
        rows,
        open,
        grid_names: grid_names.into_iter().collect(),
        worker_names,
        category_names: categories.into_iter().map(|c| (c.code, c.label)).collect(),
    })
}

/// One way a report is cut: its heading and (name, figures) rows.
type Section = (&'static str, Vec<(String, Figures)>);

/// The total, and the three ways a report is cut.
fn sections(report: &Report, now: i64) -> (Figures, Vec<Section>) {
    let name = |names: &HashMap<String, String>, key: &str, none: &str| {
        if key.is_empty() {
            none.to_owned()
        } else {
            names.get(key).cloned().unwrap_or_else(|| "其他人员".into())
        }
    };
    let by_grid = group(&report.rows, &report.open, now, |r| {
        r.grid_id.clone().unwrap_or_default()
    });
    let by_worker = group(&report.rows, &report.open, now, worker_key);
    let by_category = group(&report.rows, &report.open, now, |r| r.category.clone());
    let named = |g: Grouped, names: &HashMap<String, String>, none: &str| {
        g.groups
            .into_iter()
            .map(|(k, f)| (name(names, &k, none), f))
            .collect::<Vec<_>>()
    };
    let total = by_grid.total.clone();
    (
        total,
        vec![
            ("按网格", named(by_grid, &report.grid_names, "未分网格")),
            ("按类别", named(by_category, &report.category_names, "未分类")),
            ("按人员", named(by_worker, &report.worker_names, "居民提交（未派单）")),
        ],
    )
}

pub const FIGURE_HEADERS: &[&str] = &[
    "维度",
    "名称",
    "收到",
    "按时响应",
    "响应率",
    "办结",
    "按期办结",
    "解决率",
    "逾期（当前）",
    "回访",
    "评价",
    "满意率",
    "重新办理",
];

fn figure_cells(f: &Figures) -> Vec<Cell> {
    let rate = |p: Option<i64>| p.map_or(Cell::Empty, Cell::Number);
    vec![
        Cell::Number(f.received),
        Cell::Number(f.responded_on_time),
        rate(f.response_rate()),
        Cell::Number(f.resolved),
        Cell::Number(f.resolved_on_time),
        rate(f.resolution_rate()),
        Cell::Number(f.overdue_now),
        Cell::Number(f.followed_up),
        Cell::Number(f.rated),
        rate(f.satisfaction_rate()),
        Cell::Number(f.reopened),
    ]
}

async fn page(Api(caller): Api, Query(period): Query<Period>) -> Result<Response, ApiError> {
    let community = lead_scope(&caller).await?;
    let now = now_ms();
    let (since, until, label, quarter) = period.range(now)?;
    let report = report(&caller, community.as_deref(), since, until).await?;
    caller
        .audit("read", "request_figures", &format!("{since}..{until}"))
        .await?;
    let (total, sections) = sections(&report, now);
    let row = |name: String, f: &Figures| {
        view! {
            <tr>
                <td>{name}</td>
                <td class="num">{f.received}</td>
                <td class="num">{f.responded_on_time}</td>
                <td class="num">{show_percent(f.response_rate())}</td>
                <td class="num">{f.resolved}</td>
                <td class="num">{f.resolved_on_time}</td>
                <td class="num">{show_percent(f.resolution_rate())}</td>
                <td class="num">{f.overdue_now}</td>
                <td class="num">{f.followed_up}</td>
                <td class="num">{f.rated}</td>
                <td class="num">{show_percent(f.satisfaction_rate())}</td>
                <td class="num">{f.reopened}</td>
            </tr>
        }
    };
    let head = || {
        view! {
            <thead><tr><th>"名称"</th><th>"收到"</th><th>"按时响应"</th><th>"响应率"</th><th>"办结"</th><th>"按期办结"</th>
                <th>"解决率"</th><th>"逾期（当前）"</th><th>"回访"</th><th>"评价"</th><th>"满意率"</th><th>"重新办理"</th></tr></thead>
        }
    };
    let qs = match quarter {
        Some(q) => format!("quarter={}", q.code()),
        None => format!(
            "from={}&to={}",
            given(&period.from).unwrap_or_default(),
            given(&period.to).unwrap_or_default()
        ),
    };
    let this = quarter.unwrap_or(Quarter::of(now));
    let body = view! {
        <header><a href="/manage/requests" aria-label="返回">"‹"</a><h1>"诉求办理情况"</h1></header>
        <main>
            <form class="row" method="get" action="/manage/requests/figures">
                <a class="plain-link" href=format!("/manage/requests/figures?quarter={}", this.previous().code())>"‹ 上一季度"</a>
                <b>{label.clone()}</b>
                <a class="plain-link" href=format!("/manage/requests/figures?quarter={}", this.next().code())>"下一季度 ›"</a>
                <label class="inline">"或自定"<input type="date" name="from" value=period.from.clone()/></label>
                <label class="inline">"至"<input type="date" name="to" value=period.to.clone()/></label>
                <button type="submit">"统计"</button>
            </form>
            <p class="row">
                <a class="btn plain" href=format!("/manage/requests/figures.xlsx?{qs}")>"统计 Excel"</a>
                <a class="plain-link" href=format!("/manage/requests/figures.csv?{qs}")>"统计 CSV"</a>
                {(quarter.is_some() && caller.user.role == Role::Lead).then(|| view! {
                    <form class="inline" method="post" action="/manage/requests/figures/notice">
                        <input type="hidden" name="quarter" value=this.code()/>
                        <button type="submit">"生成居务公开草稿"</button>
                    </form>
                })}
            </p>
            <table class="figures">{head()}<tbody>{row("合计".into(), &total)}</tbody></table>
            {sections.into_iter().map(|(title, rows)| view! {
                <h2>{title}</h2>
                <table class="figures">{head()}<tbody>{rows.into_iter().map(|(n, f)| row(n, &f)).collect_view()}</tbody></table>
            }).collect_view()}
            <p class="muted">"响应率 = 在响应期限内有人处理（派单、开始办理、记录进展或办结）的诉求 ÷ 收到的诉求（不含被合并的重复诉求）。"
                "解决率 = 已办结（含已回访、已关闭）÷ 收到的诉求（不含合并和不予受理的）。"
                "满意率 = 评价为满意或基本满意 ÷ 有评价的诉求（入户回访或居民扫码评价，取最近一次）。"
                "逾期为当前仍未办结且已过期限的诉求，不论何时收到。期限按工作日计算。"</p>
        </main>
    }
    .into_any();
    Ok(html_page("诉求办理情况", body))
}

async fn figures_table(caller: &Caller, period: &Period) -> Result<Table, ApiError> {
    let community = lead_scope(caller).await?;
    let now = now_ms();
    let (since, until, _, _) = period.range(now)?;
    let report = report(caller, community.as_deref(), since, until).await?;
    caller
        .audit("read", "request_figures", &format!("{since}..{until}"))
        .await?;
    let (total, sections) = sections(&report, now);
    let mut rows = vec![
        [
            vec![Cell::Text("合计".into()), Cell::Text("合计".into())],
            figure_cells(&total),
        ]
        .concat(),
    ];
    for (title, groups) in sections {
        for (name, f) in groups {
            rows.push(
                [
                    vec![Cell::Text(title.trim_start_matches('按').into()), Cell::Text(name)],
                    figure_cells(&f),
                ]
                .concat(),
            );
        }
    }
    Ok(Table {
        title: "诉求办理情况".into(),
        headers: FIGURE_HEADERS,
        rows,
    })
}

async fn figures_csv(Api(caller): Api, Query(period): Query<Period>) -> Result<Response, ApiError> {
    download(
        &figures_table(&caller, &period).await?,
        FileType::Csv,
        "requests-figures",
    )
}

async fn figures_xlsx(Api(caller): Api, Query(period): Query<Period>) -> Result<Response, ApiError> {
    download(
        &figures_table(&caller, &period).await?,
        FileType::Xlsx,
        "requests-figures",
    )
}

pub const LEDGER_HEADERS: &[&str] = &[
    "登记时间",
    "来源",
    "类别",
    "内容",
    "位置",
    "首问责任人",
    "承办",
    "状态",
    "响应期限",
    "办结期限",
    "办结时间",
    "办理结果",
    "满意度",
    "重新办理次数",
    "是否逾期",
];

/// Most rows an export carries: years of a busy community.
const MAX_EXPORT_ROWS: i64 = 200_000;

async fn ledger_table(caller: &Caller, filters: &Filters) -> Result<Table, ApiError> {
    let community = lead_scope(caller).await?;
    let now = now_ms();
    let grids = caller.user.visible_grids(&caller.store).await?;
    let query = filters.query(&grids, community.as_deref(), now)?;
    let rows = caller.store.request_ledger(&query, MAX_EXPORT_ROWS, 0).await?;
    caller.audit("read", "request_ledger", &filters.query_string()).await?;
    let time = |t: Option<i64>| t.map_or(Cell::Empty, Cell::Time);
    let rows = rows
        .iter()
        .map(|r| {
            vec![
                Cell::Time(r.created_at),
                Cell::Text(Source::parse(&r.source).map_or("", Source::label).into()),
                Cell::Text(r.category_label.clone()),
                Cell::Text(r.text.clone()),
                Cell::Text(location(r)),
                Cell::Text(r.first_contact_name.clone().unwrap_or_else(|| "居民提交".into())),
                Cell::Text(handler(r)),
                Cell::Text(status_label(&r.status).into()),
                Cell::Time(r.respond_due),
                Cell::Time(r.resolve_due),
                time(r.resolved_at),
                Cell::Text(r.resolution.clone().unwrap_or_default()),
                Cell::Text(
                    r.satisfaction
                        .as_deref()
                        .and_then(Satisfaction::parse)
                        .map_or("", Satisfaction::label)
                        .into(),
                ),
                Cell::Number(r.reopen_count),
                Cell::Text(if is_overdue(r, now) { "逾期" } else { "" }.into()),
            ]
        })
        .collect();
    Ok(Table {
        title: "诉求台账".into(),
        headers: LEDGER_HEADERS,
        rows,
    })
}

async fn ledger_csv(Api(caller): Api, Query(filters): Query<Filters>) -> Result<Response, ApiError> {
    download(&ledger_table(&caller, &filters).await?, FileType::Csv, "requests")
}

async fn ledger_xlsx(Api(caller): Api, Query(filters): Query<Filters>) -> Result<Response, ApiError> {
    download(&ledger_table(&caller, &filters).await?, FileType::Xlsx, "requests")
}

/// The public figures of a quarter as a 居务公开 notice: category rows, no
/// names, no addresses, no request text.
pub fn notice_body(quarter: Quarter, by_category: &[(String, Figures)], total: &Figures) -> String {
    let mut body = format!(
        "{}，社区共收到居民诉求 {} 件，已办结 {} 件，其中按期办结 {} 件；解决率 {}，满意率 {}。\n\n",
        quarter.label(),
        total.received,
        total.resolved,
        total.resolved_on_time,
        show_percent(total.resolution_rate()),
        show_percent(total.satisfaction_rate()),
    );
    body.push_str("| 类别 | 收到 | 办结 | 按期办结 | 满意率 |\n|---|---|---|---|---|\n");
    for (name, f) in by_category {
        body.push_str(&format!(
            "| {name} | {} | {} | {} | {} |\n",
            f.received,
            f.resolved,
            f.resolved_on_time,
            show_percent(f.satisfaction_rate())
        ));
    }
    body.push_str("\n欢迎居民继续通过网格员、社区接待窗口或本公开栏反映诉求。\n");
    body
}

#[derive(Debug, Deserialize)]
struct NoticeForm {
    quarter: String,
}

async fn draft_notice(
    Api(caller): Api,
    form: Result<Form<NoticeForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, ApiError> {
    let Some(community) = lead_scope(&caller).await? else {
        return Err(ApiError::BadRequest("请以社区网格长的身份生成本社区的公开草稿".into()));
    };
    let quarter = form
        .ok()
        .and_then(|Form(f)| Quarter::parse(&f.quarter))
        .ok_or_else(|| ApiError::BadRequest("季度不正确".into()))?;
    let report = report(&caller, Some(&community), quarter.start(), quarter.end()).await?;
    let (total, sections) = sections(&report, now_ms());
    let by_category = sections
        .into_iter()
        .find(|(t, _)| *t == "按类别")
        .map(|(_, rows)| rows)
        .unwrap_or_default();
    let draft = crate::notices::Draft {
        community_id: community,
        category: "affairs".into(),
        title: format!("{}居民诉求办理情况公开", quarter.label()),
        body: notice_body(quarter, &by_category, &total),
    };
    let id = crate::notices::save_draft(&caller, &draft).await?;
    Ok(Redirect::to(&format!("/manage/notices/{id}?saved=1")).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(status: &str) -> FigureRow {
        FigureRow {
            grid_id: Some("g".into()),
            category: "livelihood".into(),
            first_contact: Some("w".into()),
            assignee_id: None,
            status: status.into(),
            created_at: 0,
            respond_due: 100,
            responded_at: Some(50),
            resolve_due: 1000,
            resolved_at: None,
            followed_up_at: None,
            satisfaction: None,
            reopen_count: 0,
        }
    }

    #[test]
    fn rates_leave_out_merged_and_declined_and_count_the_latest_rating() {
        let mut closed = row("closed");
        closed.resolved_at = Some(900);
        closed.satisfaction = Some("satisfied".into());
        closed.reopen_count = 1;
        let mut late = row("resolved");
        late.resolved_at = Some(1500);
        late.responded_at = Some(150);
        late.satisfaction = Some("unsatisfied".into());
        let rows = vec![closed, late, row("merged"), row("declined"), row("in_progress")];
        let mut f = Figures::default();
        for r in &rows {
            f.add(r);
        }
        assert_eq!((f.received, f.resolved, f.resolved_on_time, f.reopened), (5, 2, 1, 1));
        assert_eq!(f.response_rate(), Some(75), "3 of 4 (the merged one left out) on time");
        assert_eq!(f.resolution_rate(), Some(67), "2 of 3");
        assert_eq!(f.satisfaction_rate(), Some(50));
        assert_eq!(Figures::default().satisfaction_rate(), None);
    }

    #[test]
    fn open_requests_past_a_deadline_are_overdue_now() {
        let mut unanswered = row("received");
        unanswered.responded_at = None;
        let g = group(&[], &[unanswered, row("in_progress")], 200, |r| r.category.clone());
        assert_eq!(g.total.overdue_now, 1);
        let g = group(&[], &[row("in_progress")], 2000, |r| r.category.clone());
        assert_eq!(g.groups["livelihood"].overdue_now, 1);
    }

    #[test]
    fn quarters_run_on_the_beijing_calendar() {
        // 2026-09-30 17:00 UTC is 2026-10-01 01:00 in Beijing: Q4 there.
        let q = Quarter::of(1_790_787_600_000);
        assert_eq!(q, Quarter { year: 2026, number: 4 });
        assert_eq!(q.start(), 1_790_784_000_000, "2026-10-01 00:00 Beijing");
        assert_eq!(q.label(), "2026年第四季度");
        assert_eq!(Quarter::parse("2026Q1").unwrap().previous().code(), "2025Q4");
        assert_eq!(q.next().code(), "2027Q1");
        assert!(Quarter::parse("2026Q5").is_none());
    }

    #[test]
    fn the_notice_carries_figures_and_no_names() {
        let mut f = Figures::default();
        f.add(&row("closed"));
        let body = notice_body(Quarter { year: 2026, number: 4 }, &[("民生".into(), f.clone())], &f);
        assert!(body.contains("| 民生 | 1 | 1 | 0 | — |"), "{body}");
    }
}
