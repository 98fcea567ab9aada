//! What residents see without an account: the quarter's figures by category
//! (next to the community's notices: no names, no addresses, no request
//! text), a form to submit a request (limited per address and per phone, and
//! landing as 待受理 for the lead), the status page a receipt code opens
//! (state, deadline, the reply — nothing else), and the one-time rating page a
//! worker's QR code opens. Plain HTML with no script, for old phones.

use std::sync::Arc;

use app::api::parse_id;
use app::auth::ssr::hash_token;
use app::clock::DAY_MS;
use app::domain::PhoneNumber;
use app::error::ApiError;
use app::requests::{Action, FollowUp, RequestStatus, Satisfaction, Source, category_code, check_text};
use app::state::{AppState, now_ms};
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use leptos::prelude::*;
use serde::Deserialize;
use store::notices::CommunityRow;
use store::requests::RequestRow;

use super::figures::{Figures, Quarter, group, show_percent};
use super::{
    Act, Actor, NewRequestText, Place, Refusal, act, categories, format_code, insert_request, new_code, read_code,
};
use crate::client::ClientIp;
use crate::html::{date, document};
use crate::limits::RateLimiter;
use crate::notices::{PUBLIC_CSS, PublicError, limit_by_address, public_community, public_error};
use crate::routes::{Routes, get};
use crate::staff::form_body;

/// A resident's submissions a day, per address and per phone number.
const PER_ADDRESS_A_DAY: i64 = 5;
const PER_PHONE_A_DAY: i64 = 3;

pub struct PublicRoutes {
    pub limiter: Arc<RateLimiter>,
}

pub fn routes(public: PublicRoutes) -> Routes {
    Routes::new()
        .route("/n/{community}/requests", get(figures_page))
        .route("/n/{community}/requests/new", get(submit_form).post(submit))
        .route("/status", get(status_page))
        .route("/rate/{token}", get(rate_page).post(rate))
        .layer(axum::middleware::from_fn_with_state(public.limiter, limit_by_address))
}

/// Pages with a form or a person's own request: never cached anywhere, and
/// forms may post back here only.
pub(crate) fn private_page(status: StatusCode, title: &str, body: AnyView) -> Response {
    let html = document(
        title.to_owned(),
        PUBLIC_CSS_WITH_FORMS.as_str(),
        false,
        ().into_any(),
        body,
    );
    (
        status,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("private, no-store")),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(
                    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; base-uri 'none'; \
                     form-action 'self'; frame-ancestors 'none'",
                ),
            ),
        ],
        html,
    )
        .into_response()
}

/// The notices' public look, and what these pages add: form controls large
/// enough for old hands, the rating buttons, the receipt code, the figures.
static PUBLIC_CSS_WITH_FORMS: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "{PUBLIC_CSS}body{{font-size:18px}}.card{{background:#fff;border-radius:10px;padding:14px 16px;margin:0 0 12px}}\
label{{display:grid;gap:4px;margin:0 0 14px;font-weight:600}}\
input,select,textarea{{font:inherit;padding:10px;border:1px solid #b9c4c8;border-radius:8px;background:#fff}}\
button{{min-height:52px;padding:0 18px;border-radius:10px;border:0;background:#1f6f5c;color:#fff;font:inherit;font-weight:600}}\
.rate{{display:grid;gap:12px}}.rate button{{min-height:64px;font-size:1.2em}}\
.rate .bad{{background:#b3261e}}.rate .mid{{background:#8a6d00}}\
.code{{font:700 1.4em/1.4 ui-monospace,monospace;letter-spacing:.05em;word-break:break-all}}\
table{{border-collapse:collapse;width:100%;background:#fff}}td,th{{border:1px solid #d5dde0;padding:6px 8px;text-align:left}}\
.num{{text-align:right}}.muted{{color:#5b6a70;font-size:.85em}}.error{{color:#b3261e;background:#fdecea;padding:8px 12px;border-radius:8px}}"
    )
});

#[derive(Debug, Default, Deserialize)]
struct QuarterQuery {
    q: Option<String>,
}

/// The quarter's figures by category: counts and rates, nothing personal.
async fn figures_page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<QuarterQuery>,
) -> Result<Response, PublicError> {
    let community = public_community(&state, &id).await?;
    let now = now_ms();
    let quarter = match query.q.as_deref() {
        Some(q) => Quarter::parse(q).ok_or_else(|| ApiError::BadRequest("季度不正确".into()))?,
        None => Quarter::of(now),
    };
    let rows = state
        .store
        .request_figure_rows(Some(&community.id), quarter.start(), quarter.end())
        .await?;
    let labels = state.store.request_categories().await?;
    let grouped = group(&rows, &[], now, |r| r.category.clone());
    let by_category: Vec<(String, Figures)> = labels
        .iter()
        .filter_map(|c| grouped.groups.get(&c.code).map(|f| (c.label.clone(), f.clone())))
        .collect();
    let row = |name: String, f: &Figures| {
        view! {
            <tr><td>{name}</td><td class="num">{f.received}</td><td class="num">{f.resolved}</td>
                <td class="num">{f.resolved_on_time}</td><td class="num">{show_percent(f.satisfaction_rate())}</td></tr>
        }
    };
    let total = grouped.total.clone();
    let body = view! {
        <header><h1><a href=format!("/n/{}", community.id)>{format!("{} · 诉求办理情况", community.name)}</a></h1></header>
        <main>
            <p>
                <a href=format!("/n/{}/requests?q={}", community.id, quarter.previous().code())>"‹ 上一季度"</a>
                " "<b>{quarter.label()}</b>" "
                <a href=format!("/n/{}/requests?q={}", community.id, quarter.next().code())>"下一季度 ›"</a>
            </p>
            <table>
                <thead><tr><th>"类别"</th><th>"收到"</th><th>"已办结"</th><th>"按期办结"</th><th>"满意率"</th></tr></thead>
                <tbody>{by_category.into_iter().map(|(n, f)| row(n, &f)).collect_view()}{row("合计".into(), &total)}</tbody>
            </table>
            <p class="muted">"满意率 = 评价为满意或基本满意的 ÷ 有评价的。统计按诉求登记的季度。"</p>
            <p><a href=format!("/n/{}/requests/new", community.id)>"我要反映问题"</a>" · "<a href="/status">"查询办理进度"</a></p>
        </main>
    }
    .into_any();
    let html = document(
        format!("{} · 诉求办理情况", community.name),
        PUBLIC_CSS,
        false,
        ().into_any(),
        body,
    );
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("public, no-cache")),
        ],
        html,
    )
        .into_response())
}

#[derive(Debug, Default, Deserialize)]
struct Submission {
    #[serde(default)]
    category: String,
    #[serde(default)]
    building: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    phone: String,
}

async fn submit_form(State(state): State<AppState>, Path(id): Path<String>) -> Result<Response, PublicError> {
    let community = public_community(&state, &id).await?;
    submission_page(&state, &community, &Submission::default(), None, StatusCode::OK).await
}

async fn submission_page(
    state: &AppState,
    community: &CommunityRow,
    form: &Submission,
    message: Option<String>,
    status: StatusCode,
) -> Result<Response, PublicError> {
    let categories = categories(&state.store).await?;
    let buildings = state.store.community_buildings(&community.id).await?;
    let body = view! {
        <header><h1>{format!("{} · 反映问题", community.name)}</h1></header>
        <main>
            {message.map(|m| view! { <p class="error" role="alert">{m}</p> })}
            <form class="card" method="post" action=format!("/n/{}/requests/new", community.id)>
                <label>"类别"<select name="category">
                    {categories.into_iter().map(|c| { let s = form.category == c.code; view! { <option value=c.code selected=s>{c.label}</option> } }).collect_view()}
                </select></label>
                <label>"楼栋（可不选）"<select name="building">
                    <option value="">"不选"</option>
                    {buildings.into_iter().map(|(bid, name)| { let s = form.building == bid; view! { <option value=bid selected=s>{name}</option> } }).collect_view()}
                </select></label>
                <label>"要反映的事"<textarea name="text" rows="5" maxlength="1000">{form.text.clone()}</textarea></label>
                <label>"手机号（可不填，方便回复您）"<input name="phone" inputmode="tel" maxlength="13" value=form.phone.clone()/></label>
                <button type="submit">"提交"</button>
            </form>
            <p class="muted">"请不要填写身份证号等个人信息。提交后会得到一个回执码，凭码可查询办理进度。"</p>
        </main>
    }
    .into_any();
    Ok(private_page(status, "反映问题", body))
}

async fn submit(
    State(state): State<AppState>,
    client: ClientIp,
    Path(id): Path<String>,
    form: Result<Form<Submission>, axum::extract::rejection::FormRejection>,
) -> Result<Response, PublicError> {
    let community = public_community(&state, &id).await?;
    let form = form_body(form)?;
    let refuse = |m: String, status| submission_page(&state, &community, &form, Some(m), status);
    if let Err(m) = check_text(&form.text, "要反映的事") {
        return refuse(m, StatusCode::BAD_REQUEST).await;
    }
    let phone = match form.phone.trim() {
        "" => None,
        p => match PhoneNumber::parse(p) {
            Ok(p) => Some(p),
            Err(m) => return refuse(m, StatusCode::BAD_REQUEST).await,
        },
    };
    let categories = categories(&state.store).await?;
    let Some(category) = category_code(&categories, &form.category) else {
        return refuse("请选择类别".into(), StatusCode::BAD_REQUEST).await;
    };
    let now = now_ms();
    let key = hash_token(&format!("submit:{}", client.0));
    let (by_address, by_phone) = state
        .store
        .public_submissions_since(&key, phone.as_ref().map(PhoneNumber::as_str), now - DAY_MS)
        .await?;
    if by_address >= PER_ADDRESS_A_DAY || by_phone >= PER_PHONE_A_DAY {
        return refuse(
            "今天从这里提交的诉求已经很多了，请明天再提交，或拨打社区电话、到社区接待窗口反映".into(),
            StatusCode::TOO_MANY_REQUESTS,
        )
        .await;
    }
    let mut tx = state.store.begin().await?;
    let building = match form.building.trim() {
        "" => None,
        b => {
            let b = parse_id(b)?;
            let grid = tx
                .building_grid(&b)
                .await?
                .ok_or_else(|| ApiError::NotFound("没有这个楼栋".into()))?;
            if tx.grid_community(&grid).await?.as_deref() != Some(community.id.as_str()) {
                return Err(ApiError::NotFound("没有这个楼栋".into()).into());
            }
            Some((b, grid))
        }
    };
    let id = store::new_id();
    let receipt = new_code();
    let place = Place {
        community_id: community.id.clone(),
        grid_id: building.as_ref().map(|(_, g)| g.clone()),
        household_id: None,
        building_id: building.as_ref().map(|(b, _)| b.as_str()),
        visit_id: None,
    };
    let text = NewRequestText {
        id: &id,
        source: Source::Public,
        place: "",
        contact_phone: phone.as_ref().map(PhoneNumber::as_str),
        text: &form.text,
        photos: &[],
        receipt: Some(&receipt),
        submitter_key: Some(&key),
    };
    insert_request(&mut tx, None, now, &place, text, category).await?;
    tx.commit().await?;
    let body = view! {
        <header><h1>"已提交"</h1></header>
        <main>
            <div class="card">
                <p>"社区已收到，会在期限内答复。请记下回执码（只显示这一次）："</p>
                <p class="code">{format_code(&receipt)}</p>
                <p><a href=format!("/status?code={receipt}")>"查看办理进度"</a></p>
            </div>
        </main>
    }
    .into_any();
    Ok(private_page(StatusCode::CREATED, "已提交", body))
}

#[derive(Debug, Default, Deserialize)]
struct CodeQuery {
    code: Option<String>,
}

/// The reply a resident sees: the outcome, or why it was declined, or (for a
/// duplicate) the outcome of the request it was merged into.
fn reply(r: &RequestRow) -> Option<String> {
    r.resolution
        .clone()
        .or_else(|| r.decline_reason.clone().map(|d| format!("不予受理：{d}")))
}

async fn status_page(State(state): State<AppState>, Query(query): Query<CodeQuery>) -> Result<Response, PublicError> {
    let ask = |message: Option<&str>, status| {
        let body = view! {
            <header><h1>"查询诉求办理进度"</h1></header>
            <main>
                {message.map(|m| view! { <p class="error" role="alert">{m.to_owned()}</p> })}
                <form class="card" method="get" action="/status">
                    <label>"回执码"<input name="code" maxlength="40" autocomplete="off"/></label>
                    <button type="submit">"查询"</button>
                </form>
            </main>
        }
        .into_any();
        private_page(status, "查询办理进度", body)
    };
    let Some(text) = query.code.as_deref().filter(|c| !c.trim().is_empty()) else {
        return Ok(ask(None, StatusCode::OK));
    };
    let Some(code) = read_code(text) else {
        return Ok(ask(Some("回执码应为32位字母和数字，请核对"), StatusCode::BAD_REQUEST));
    };
    let Some(mut r) = state.store.request_by_receipt(&hash_token(&code)).await? else {
        return Ok(ask(Some("没有找到这个回执码，请核对"), StatusCode::NOT_FOUND));
    };
    // A duplicate shows the request it was merged into (one broken lift,
    // one outcome for every household that reported it).
    let mut merged = false;
    if let Some(into) = r.merged_into.clone()
        && let Some(target) = state.store.request(&into).await?
    {
        r = target;
        merged = true;
    }
    let status = RequestStatus::parse(&r.status);
    let body = view! {
        <header><h1>"诉求办理进度"</h1></header>
        <main>
            <div class="card">
                <p>{format!("{} · {}登记", r.category_label, date(r.created_at))}</p>
                {merged.then(|| view! { <p class="muted">"与其他居民反映的同一问题合并办理。"</p> })}
                <p><b>{status.map_or("", RequestStatus::label)}</b></p>
                {status.filter(|s| s.is_open()).map(|_| view! { <p>{format!("办结期限：{}", date(r.resolve_due - 1))}</p> })}
                {reply(&r).map(|t| view! { <p>"答复："{t}</p> })}
            </div>
        </main>
    }
    .into_any();
    Ok(private_page(StatusCode::OK, "诉求办理进度", body))
}

/// A rating code usable now, or why not (404 unknown, 410 used or expired).
async fn usable_token(state: &AppState, token: &str) -> Result<(String, store::requests::TokenRow), Refusal> {
    let code = read_code(token).ok_or_else(|| ApiError::NotFound("没有这个评价码".into()))?;
    let hash = hash_token(&code);
    let row = state
        .store
        .rating_token(&hash)
        .await?
        .ok_or_else(|| ApiError::NotFound("没有这个评价码，可能还未同步，请稍后再扫".into()))?;
    if row.used_at.is_some() {
        return Err(Refusal::Gone("这个评价码已经用过了，感谢您的评价".into()));
    }
    if row.expires_at <= now_ms() {
        return Err(Refusal::Gone("这个评价码已过期（14天内有效）".into()));
    }
    Ok((hash, row))
}

async fn rate_page(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let (_, row) = match usable_token(&state, &token).await {
        Ok(t) => t,
        Err(e) => return rate_error(e),
    };
    let body = view! {
        <header><h1>"请为办理结果评价"</h1></header>
        <main>
            <div class="card">
                <p>{format!("您于 {} 反映的「{}」类诉求", date(row.request_created_at), row.category_label)}</p>
                <form class="rate" method="post" action=format!("/rate/{token}")>
                    <button name="satisfaction" value="satisfied">"满意"</button>
                    <button class="mid" name="satisfaction" value="basic">"基本满意"</button>
                    <button class="bad" name="satisfaction" value="unsatisfied">"不满意"</button>
                </form>
                <p class="muted">"每个评价码只能评价一次。选择「不满意」，社区会重新办理。"</p>
            </div>
        </main>
    }
    .into_any();
    private_page(StatusCode::OK, "评价", body)
}

fn rate_error(e: Refusal) -> Response {
    if e == Refusal::Api(ApiError::Internal) {
        return PublicError(ApiError::Internal).into_response();
    }
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
    (
        status,
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        axum::response::Html(public_error(&e.message())),
    )
        .into_response()
}

#[derive(Debug, Deserialize)]
struct Rating {
    satisfaction: String,
}

/// Spends the code and rates, in one transaction: a code rates once (a second
/// tap, or a race of two, finds it spent: 410).
async fn rate(
    State(state): State<AppState>,
    Path(token): Path<String>,
    form: Result<Form<Rating>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Some(satisfaction) = form.ok().and_then(|Form(f)| Satisfaction::parse(&f.satisfaction)) else {
        return rate_error(ApiError::BadRequest("请选择满意、基本满意或不满意".into()).into());
    };
    let result = async {
        let (hash, row) = usable_token(&state, &token).await?;
        let now = now_ms();
        let mut tx = state.store.begin().await?;
        if !tx.spend_rating_token(&hash, satisfaction.as_str(), now).await? {
            return Err(Refusal::Gone("这个评价码已经用过了，感谢您的评价".into()));
        }
        let event_id = store::new_id();
        let mut input = Act::new(&event_id, Action::Rate, "", now);
        input.follow_up = Some(FollowUp {
            solved: satisfaction.is_positive(),
            satisfaction,
        });
        act(&mut tx, &Actor::Resident, &row.request_id, &input)
            .await
            .map_err(|e| match e {
                Refusal::Conflict(_) => Refusal::Conflict("这条诉求还在办理中，办结后再评价".into()),
                other => other,
            })?;
        tx.commit().await?;
        Ok(satisfaction)
    }
    .await;
    match result {
        Ok(s) => {
            let body = view! {
                <header><h1>"感谢评价"</h1></header>
                <main><div class="card">
                    <p>{format!("您的评价：{}", s.label())}</p>
                    {(!s.is_positive()).then(|| view! { <p>"社区会重新办理，并再次回访您。"</p> })}
                </div></main>
            }
            .into_any();
            private_page(StatusCode::OK, "感谢评价", body)
        }
        Err(e) => rate_error(e),
    }
}
