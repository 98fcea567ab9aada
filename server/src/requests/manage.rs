//! The request ledger (诉求台账) for leads: filters, a request's page with its
//! timeline and photos, and the forms that act on it (assign with a deadline,
//! note, resolve, follow up by telephone, close, merge, decline). Plain server
//! pages, like coverage: no WASM.

use std::collections::{HashMap, HashSet};

use app::api::parse_id;
use app::auth::ssr::Caller;
use app::clock::DAY_MS;
use app::domain::{CivilDate, Role, mask_phone};
use app::error::ApiError;
use app::policy::BEIJING_OFFSET_MS;
use app::requests::{Action, FollowUp, RequestStatus, Satisfaction, Source};
use app::state::now_ms;
use axum::extract::{Form, Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use leptos::prelude::*;
use serde::Deserialize;
use store::requests::{LedgerQuery, RequestRow};

use super::{Act, Actor, Assignee, Refusal, act};
use crate::auth::Api;
use crate::coverage::given;
use crate::coverage::html_page;
use crate::html::date;
use crate::routes::{Routes, get, post};
use crate::staff::form_body;

const PAGE: i64 = 100;

pub fn routes() -> Routes {
    Routes::new()
        .route("/manage/requests", get(ledger))
        .route("/manage/requests/{id}", get(detail))
        .route("/manage/requests/{id}/act", post(take_action))
}

/// The ledger is for leads (their community) and admins (every community:
/// `None`). Workers work their requests on the phone.
pub async fn lead_scope(caller: &Caller) -> Result<Option<String>, ApiError> {
    crate::staff::administered(caller, "request_ledger").await
}

/// The ledger's filters, as the form sends them; empty is "any".
#[derive(Debug, Default, Clone, Deserialize)]
pub struct Filters {
    pub status: Option<String>,
    pub category: Option<String>,
    pub grid: Option<String>,
    pub worker: Option<String>,
    /// "1": only overdue ones.
    pub overdue: Option<String>,
    /// Received from / to, `YYYY-MM-DD`, Beijing days, both included.
    pub from: Option<String>,
    pub to: Option<String>,
    pub page: Option<i64>,
}

/// Beijing midnight starting a `YYYY-MM-DD` day.
pub fn day_start(text: &str) -> Result<i64, ApiError> {
    let day = CivilDate::parse(text).ok_or_else(|| ApiError::BadRequest("日期请按 年-月-日 填写".into()))?;
    Ok(day.epoch_day() * DAY_MS - BEIJING_OFFSET_MS)
}

/// [since, until) for days `from` to `to` (both included, Beijing time); a
/// bound not given is `None`.
pub fn days_between(from: &Option<String>, to: &Option<String>) -> Result<(Option<i64>, Option<i64>), ApiError> {
    let since = given(from).map(day_start).transpose()?;
    let until = given(to).map(|d| day_start(d).map(|t| t + DAY_MS)).transpose()?;
    Ok((since, until))
}

impl Filters {
    /// Checked against the caller's grids: a grid elsewhere is "not found",
    /// as anywhere else.
    pub fn query<'a>(
        &'a self,
        grids: &[String],
        community: Option<&'a str>,
        now: i64,
    ) -> Result<LedgerQuery<'a>, ApiError> {
        if let Some(grid) = given(&self.grid)
            && !grids.iter().any(|g| g == grid)
        {
            return Err(ApiError::not_found());
        }
        if let Some(status) = given(&self.status)
            && RequestStatus::parse(status).is_none()
        {
            return Err(ApiError::BadRequest("没有这个办理状态".into()));
        }
        let (since, until) = days_between(&self.from, &self.to)?;
        Ok(LedgerQuery {
            community,
            grid: given(&self.grid),
            status: given(&self.status),
            category: given(&self.category),
            worker: given(&self.worker),
            overdue_at: (given(&self.overdue) == Some("1")).then_some(now),
            since: since.unwrap_or(0),
            until: until.unwrap_or(i64::MAX),
        })
    }

    /// The filters as a query string, for the page links and the exports.
    pub fn query_string(&self) -> String {
        let pairs = [
            ("status", &self.status),
            ("category", &self.category),
            ("grid", &self.grid),
            ("worker", &self.worker),
            ("overdue", &self.overdue),
            ("from", &self.from),
            ("to", &self.to),
        ];
        pairs
            .iter()
            .filter_map(|(k, v)| given(v).map(|v| format!("{k}={}", urlencode(v))))
            .collect::<Vec<_>>()
            .join("&")
    }
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Open and past a deadline now: to answer (响应) or to resolve.
pub fn is_overdue(r: &RequestRow, now: i64) -> bool {
    let open = RequestStatus::parse(&r.status).is_some_and(RequestStatus::is_open);
    open && (r.resolve_due < now || (r.responded_at.is_none() && r.respond_due < now))
}

/// Where a request is, in words: grid · building unit door, or its place.
pub fn location(r: &RequestRow) -> String {
    let mut parts = Vec::new();
    if let Some(grid) = &r.grid_name {
        parts.push(grid.clone());
    }
    match (&r.building_name, r.unit, &r.door_number) {
        (Some(b), Some(u), Some(d)) => parts.push(format!("{b}{u}单元{d}")),
        (Some(b), _, _) => parts.push(b.clone()),
        _ => {}
    }
    if !r.place.is_empty() {
        parts.push(r.place.clone());
    }
    parts.join(" · ")
}

pub fn status_label(code: &str) -> &'static str {
    RequestStatus::parse(code).map_or("未知", RequestStatus::label)
}

/// Who has it: the assigned worker or outside unit.
pub fn handler(r: &RequestRow) -> String {
    match (&r.assignee_name, &r.assignee_unit) {
        (Some(name), _) => name.clone(),
        (None, Some(unit)) => format!("{unit}（外部单位）"),
        _ => String::new(),
    }
}

fn short(text: &str, chars: usize) -> String {
    let mut out: String = text.chars().take(chars).collect();
    if text.chars().count() > chars {
        out.push('…');
    }
    out
}

async fn ledger(Api(caller): Api, Query(filters): Query<Filters>) -> Result<Response, ApiError> {
    let community = lead_scope(&caller).await?;
    let now = now_ms();
    let store = &caller.store;
    let grids = caller.user.visible_grids(store).await?;
    let query = filters.query(&grids, community.as_deref(), now)?;
    let page = filters.page.unwrap_or(0).clamp(0, 10_000);
    let (rows, total, names, workers, categories) = tokio::try_join!(
        async { Ok::<_, ApiError>(store.request_ledger(&query, PAGE, page * PAGE).await?) },
        async { Ok(store.request_ledger_count(&query).await?) },
        async { Ok(store.grid_names(&grids).await?) },
        async { Ok(store.grid_workers(&grids).await?) },
        async { Ok(store.request_categories().await?) },
    )?;
    caller.audit("read", "request_ledger", &filters.query_string()).await?;
    let qs = filters.query_string();
    let select = |name: &'static str, label: &'static str, choices: Vec<(String, String)>, value: Option<&str>| {
        view! {
            <select name=name aria-label=label>
                <option value="">{label}</option>
                {choices.into_iter().map(|(v, l)| {
                    let selected = value == Some(v.as_str());
                    view! { <option value=v selected=selected>{l}</option> }
                }).collect_view()}
            </select>
        }
    };
    let statuses = RequestStatus::ALL
        .iter()
        .map(|s| (s.as_str().to_owned(), s.label().to_owned()))
        .collect();
    let category_choices = categories.iter().map(|c| (c.code.clone(), c.label.clone())).collect();
    let list = rows
        .iter()
        .map(|r| {
            let late = is_overdue(r, now);
            view! {
                <tr class=if late { "late-row" } else { "" }>
                    <td>{date(r.created_at)}</td>
                    <td>{r.category_label.clone()}</td>
                    <td><a href=format!("/manage/requests/{}", r.id)>{short(&r.text, 40)}</a></td>
                    <td>{location(r)}</td>
                    <td>{r.first_contact_name.clone().unwrap_or_else(|| "居民提交".into())}</td>
                    <td>{handler(r)}</td>
                    <td>{status_label(&r.status)}{late.then(|| view! { " " <span class="late">"逾期"</span> })}</td>
                    <td>{date(r.resolve_due - 1)}</td>
                </tr>
            }
        })
        .collect_view();
    let pages = (total + PAGE - 1) / PAGE;
    let link = |p: i64| format!("/manage/requests?{qs}&page={p}");
    let body = view! {
        <header><a href="/" aria-label="返回">"‹"</a><h1>"诉求台账"</h1></header>
        <main>
            <p class="row">
                <a class="btn" href="/manage/requests/new">"接待登记"</a>
                <a class="btn plain" href="/manage/requests/figures">"办理情况统计"</a>
                <a class="btn plain" href=format!("/manage/requests/ledger.xlsx?{qs}")>"台账 Excel"</a>
                <a class="plain-link" href=format!("/manage/requests/ledger.csv?{qs}")>"台账 CSV"</a>
                {(caller.user.role == Role::Admin).then(|| view! { <a class="plain-link" href="/manage/request-categories">"诉求类别与时限"</a> })}
            </p>
            <form class="row" method="get" action="/manage/requests">
                {select("status", "全部状态", statuses, given(&filters.status))}
                {select("category", "全部类别", category_choices, given(&filters.category))}
                {select("grid", "全部网格", names, given(&filters.grid))}
                {select("worker", "全部人员", workers, given(&filters.worker))}
                <label class="inline"><input type="checkbox" name="overdue" value="1" checked=given(&filters.overdue) == Some("1")/>"只看逾期"</label>
                <label class="inline">"登记日期"<input type="date" name="from" value=filters.from.clone()/></label>
                <label class="inline">"至"<input type="date" name="to" value=filters.to.clone()/></label>
                <button type="submit">"筛选"</button>
            </form>
            <p class="muted">{format!("共 {total} 条")}</p>
            <table class="figures">
                <thead><tr><th>"登记"</th><th>"类别"</th><th>"内容"</th><th>"位置"</th><th>"首问"</th><th>"承办"</th><th>"状态"</th><th>"办结期限"</th></tr></thead>
                <tbody>{list}</tbody>
            </table>
            <p class="row">
                {(page > 0).then(|| view! { <a class="plain-link" href=link(page - 1)>"上一页"</a> })}
                {(page + 1 < pages).then(|| view! { <a class="plain-link" href=link(page + 1)>"下一页"</a> })}
            </p>
        </main>
    }
    .into_any();
    Ok(html_page("诉求台账", body))
}

/// A request the caller may see, with the grids they see; 404 otherwise.
async fn visible_request(caller: &Caller, id: &str) -> Result<(RequestRow, Vec<String>), ApiError> {
    let community = lead_scope(caller).await?;
    let id = parse_id(id)?;
    let row = caller.store.request(&id).await?;
    match row {
        Some(r) if community.as_deref().is_none_or(|c| c == r.community_id) => {
            let grids = caller.user.visible_grids(&caller.store).await?;
            Ok((r, grids))
        }
        _ => {
            caller.audit("denied", "request", &id).await?;
            Err(ApiError::NotFound("没有这条诉求，可能不在您的社区".into()))
        }
    }
}

async fn detail(Api(caller): Api, Path(id): Path<String>) -> Result<Response, ApiError> {
    let (request, grids) = visible_request(&caller, &id).await?;
    caller.audit("read", "request", &request.id).await?;
    detail_page(&caller, request, grids, None, StatusCode::OK).await
}

async fn detail_page(
    caller: &Caller,
    r: RequestRow,
    grids: Vec<String>,
    message: Option<String>,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let store = &caller.store;
    let now = now_ms();
    let (events, photos, workers) = tokio::try_join!(
        async { Ok::<_, ApiError>(store.request_events(&r.id).await?) },
        async { Ok(store.request_photos(&r.id).await?) },
        async {
            // Whoever works the request's grid, or any grid of the community
            // for a matter on no grid yet.
            let of = r.grid_id.clone().map_or(grids.clone(), |g| vec![g]);
            Ok(store.grid_workers(&of).await?)
        },
    )?;
    let merge_choices = if RequestStatus::parse(&r.status).is_some_and(RequestStatus::is_open) {
        let q = LedgerQuery {
            community: Some(&r.community_id),
            category: Some(&r.category),
            since: now - 180 * DAY_MS,
            until: i64::MAX,
            ..LedgerQuery::default()
        };
        store
            .request_ledger(&q, 50, 0)
            .await?
            .into_iter()
            .filter(|o| {
                o.id != r.id
                    && RequestStatus::parse(&o.status)
                        .is_some_and(|s| !matches!(s, RequestStatus::Merged | RequestStatus::Declined))
            })
            .map(|o| {
                (
                    o.id.clone(),
                    format!("{} · {} · {}", date(o.created_at), location(&o), short(&o.text, 20)),
                )
            })
            .collect::<Vec<_>>()
    } else {
        Vec::new()
    };
    let mut photos_by_event: HashMap<String, Vec<String>> = HashMap::new();
    for (event, photo) in photos {
        photos_by_event.entry(event).or_default().push(photo);
    }
    let late = is_overdue(&r, now);
    let state = RequestStatus::parse(&r.status).unwrap_or(RequestStatus::Received);
    let allowed = |a: Action| {
        app::requests::next_status(
            state,
            a,
            Some(FollowUp {
                solved: true,
                satisfaction: Satisfaction::Satisfied,
            }),
        )
        .is_ok()
    };
    let timeline = events
        .into_iter()
        .map(|e| {
            let action = Action::parse(&e.action).map_or(e.action.clone(), |a| a.label().to_owned());
            let photos = photos_by_event.remove(&e.id).unwrap_or_default();
            view! {
                <li>
                    <span class="muted">{format!("{} {}", date(e.at), app::outbox::time_of_day(e.at))}</span>
                    " "<b>{action}</b>" · "{e.user_name.unwrap_or_else(|| "居民".into())}
                    " → "{status_label(&e.to_status)}
                    {(!e.note.is_empty()).then(|| view! { <div>{e.note.clone()}</div> })}
                    <div class="row">{photos.into_iter().map(|p| view! {
                        <a href=format!("/api/photos/{p}")><img class="thumb" src=format!("/api/photos/{p}/thumb") alt="照片"/></a>
                    }).collect_view()}</div>
                </li>
            }
        })
        .collect_view();
    let action_url = format!("/manage/requests/{}/act", r.id);
    let form = |action: Action, inner: AnyView| {
        let url = action_url.clone();
        view! {
            <form class="card" method="post" action=url>
                <input type="hidden" name="action" value=action.as_str()/>
                <h3>{action.label()}</h3>
                {inner}
                <button type="submit">{action.label()}</button>
            </form>
        }
    };
    let note = |placeholder: &'static str| view! { <textarea name="note" rows="3" maxlength="1000" placeholder=placeholder></textarea> };
    let worker_options = workers
        .into_iter()
        .map(|(id, name)| view! { <option value=id>{name}</option> })
        .collect_view();
    let mut forms = Vec::new();
    if allowed(Action::Assign) {
        forms.push(form(Action::Assign, view! {
            <label>"派给网格员"<select name="worker"><option value="">"（不派给网格员）"</option>{worker_options}</select></label>
            <label>"或派给外部单位"<input name="unit" maxlength="30" placeholder="如：物业、城管、房管"/></label>
            <label>"办结期限"<input type="date" name="due" value=date(r.resolve_due - 1)/></label>
            {note("派单说明（可不填）")}
        }.into_any()));
    }
    if allowed(Action::Note) {
        forms.push(form(Action::Note, note("办理进展").into_any()));
    }
    if allowed(Action::Resolve) {
        forms.push(form(Action::Resolve, note("办理结果：做了什么，居民会看到").into_any()));
    }
    if allowed(Action::FollowUp) {
        forms.push(form(Action::FollowUp, view! {
            <p class="muted">"电话回访时在此记录；上门回访请在手机走访中记录。"</p>
            <label>"是否解决"<select name="solved"><option value="1">"已解决"</option><option value="0">"未解决"</option></select></label>
            <label>"满意度"<select name="satisfaction">{Satisfaction::ALL.iter().map(|s| view! { <option value=s.as_str()>{s.label()}</option> }).collect_view()}</select></label>
            {note("回访情况（可不填）")}
        }.into_any()));
    }
    if allowed(Action::Close) {
        forms.push(form(Action::Close, note("备注（可不填）").into_any()));
    }
    if allowed(Action::Merge) && !merge_choices.is_empty() {
        forms.push(form(
            Action::Merge,
            view! {
                <label>"合并到（同类别未办结的诉求）"<select name="merge_into">
                    {merge_choices.into_iter().map(|(id, l)| view! { <option value=id>{l}</option> }).collect_view()}
                </select></label>
                {note("备注（可不填）")}
            }
            .into_any(),
        ));
    }
    if allowed(Action::Decline) {
        forms.push(form(Action::Decline, note("不予受理的理由（会告知居民）").into_any()));
    }
    let body = view! {
        <header><a href="/manage/requests" aria-label="返回">"‹"</a><h1>"诉求详情"</h1></header>
        <main>
            {message.map(|m| view! { <p class="error" role="alert">{m}</p> })}
            <div class="card">
                <p><b>{status_label(&r.status)}</b>{late.then(|| view! { " " <span class="late">"逾期"</span> })}
                   " · "{r.category_label.clone()}" · "{Source::parse(&r.source).map_or("", Source::label)}</p>
                <p>{r.text.clone()}</p>
                <p class="muted">{location(&r)}</p>
                <p class="muted">{format!(
                    "登记 {} · 首问 {} · 响应期限 {} · 办结期限 {}",
                    date(r.created_at),
                    r.first_contact_name.clone().unwrap_or_else(|| "居民提交".into()),
                    date(r.respond_due - 1),
                    date(r.resolve_due - 1)
                )}</p>
                {(!handler(&r).is_empty()).then(|| view! { <p class="muted">"承办："{handler(&r)}</p> })}
                {r.contact_phone.as_deref().map(|p| view! { <p class="muted">"联系电话："{mask_phone(p)}</p> })}
                {r.resolution.clone().map(|t| view! { <p>"办理结果："{t}</p> })}
                {r.decline_reason.clone().map(|t| view! { <p>"不予受理理由："{t}</p> })}
                {r.merged_into.clone().map(|t| view! { <p><a href=format!("/manage/requests/{t}")>"已合并到另一条诉求"</a></p> })}
                {r.satisfaction.as_deref().and_then(Satisfaction::parse).map(|s| view! { <p>"满意度："{s.label()}</p> })}
                {(r.reopen_count > 0).then(|| view! { <p class="late">{format!("重新办理 {} 次", r.reopen_count)}</p> })}
            </div>
            <h2>"办理过程"</h2>
            <ol class="timeline">{timeline}</ol>
            {forms}
        </main>
    }
    .into_any();
    let mut response = html_page("诉求详情", body);
    *response.status_mut() = status;
    Ok(response)
}

/// What an action form sends.
#[derive(Debug, Default, Deserialize)]
struct ActionForm {
    action: String,
    #[serde(default)]
    note: String,
    worker: Option<String>,
    unit: Option<String>,
    due: Option<String>,
    merge_into: Option<String>,
    solved: Option<String>,
    satisfaction: Option<String>,
}

async fn take_action(
    Api(caller): Api,
    Path(id): Path<String>,
    form: Result<Form<ActionForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, ApiError> {
    let (request, grids) = visible_request(&caller, &id).await?;
    let form = form_body(form)?;
    match apply_form(&caller, &request, &grids, &form).await {
        Ok(()) => Ok(Redirect::to(&format!("/manage/requests/{}", request.id)).into_response()),
        Err(Refusal::Api(ApiError::Internal)) => Err(ApiError::Internal),
        Err(e) => {
            let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
            let message = match &e {
                Refusal::Api(ApiError::Forbidden) => "只有网格长或管理员可以进行这项操作".to_owned(),
                other => other.message(),
            };
            // The page as it stands now (another lead may have moved it on).
            let (fresh, grids) = visible_request(&caller, &id).await?;
            detail_page(&caller, fresh, grids, Some(message), status).await
        }
    }
}

async fn apply_form(caller: &Caller, r: &RequestRow, grids: &[String], form: &ActionForm) -> Result<(), Refusal> {
    let action = Action::parse(&form.action)
        .filter(|a| *a != Action::Raise && *a != Action::Rate)
        .ok_or_else(|| ApiError::BadRequest("没有这项操作".into()))?;
    let now = now_ms();
    let event_id = store::new_id();
    let mut input = Act::new(&event_id, action, &form.note, now);
    if action == Action::Assign {
        input.assignee = Some(assignee(caller, r, grids, form).await?);
        if let Some(due) = given(&form.due) {
            let end = day_start(due)? + DAY_MS;
            if end <= now {
                return Err(ApiError::BadRequest("办结期限不能早于今天".into()).into());
            }
            input.resolve_due = Some(end);
        }
    }
    if action == Action::FollowUp {
        let satisfaction = given(&form.satisfaction)
            .and_then(Satisfaction::parse)
            .ok_or_else(|| ApiError::BadRequest("请选择满意度".into()))?;
        input.follow_up = Some(FollowUp {
            solved: given(&form.solved) != Some("0"),
            satisfaction,
        });
    }
    let merge_into = given(&form.merge_into).map(parse_id).transpose()?;
    input.merge_into = merge_into.as_deref();
    let scope: HashSet<String> = grids.iter().cloned().collect();
    let actor = Actor::User {
        user: &caller.user,
        scope: &scope,
    };
    let mut tx = caller.store.begin().await?;
    act(&mut tx, &actor, &r.id, &input).await?;
    tx.audit(caller.audit_entry(now, "update", "request", &r.id)).await?;
    tx.commit().await?;
    Ok(())
}

/// The worker (in the request's grid, or any grid of the community for a
/// request on none) or the outside unit a lead assigns to.
async fn assignee(caller: &Caller, r: &RequestRow, grids: &[String], form: &ActionForm) -> Result<Assignee, ApiError> {
    if let Some(worker) = given(&form.worker) {
        let theirs = caller.store.grids_of_user(worker).await?;
        let grid = match &r.grid_id {
            Some(g) if theirs.contains(g) => Some(g.clone()),
            Some(_) => None,
            None => theirs.into_iter().find(|g| grids.contains(g)),
        };
        return grid
            .map(|grid| Assignee::Worker {
                id: worker.to_owned(),
                grid,
            })
            .ok_or_else(|| {
                ApiError::BadRequest("该网格员不负责此诉求所在的网格，请派给该网格的网格员或外部单位".into())
            });
    }
    match given(&form.unit) {
        Some(unit) if unit.chars().count() <= 30 => Ok(Assignee::Unit(unit.to_owned())),
        Some(_) => Err(ApiError::BadRequest("单位名称不能超过30字".into())),
        None => Err(ApiError::BadRequest("请选择派给哪位网格员，或填写外部单位".into())),
    }
}
