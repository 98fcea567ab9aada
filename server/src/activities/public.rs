//! The public sign-up page an activity's 活动通知 links to: no account, a
//! name or none (anonymous, counted) and an optional phone that only the lead
//! sees, masked. Open while the notice is public and the activity has not
//! ended; otherwise 404 (never published, withdrawn) or 410 (over). Limited
//! like every public page per address and minute, and per address and
//! activity in all (a household signs up a few people from one phone, not a
//! crowd).

use std::sync::Arc;

use app::api::parse_id;
use app::auth::ssr::hash_token;
use app::domain::PhoneNumber;
use app::error::ApiError;
use app::state::{AppState, now_ms};
use axum::extract::{Form, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use leptos::prelude::*;
use serde::Deserialize;
use store::activities::{ActivityRow, NewSignup};
use store::notices::CommunityRow;

use super::time_range;
use crate::client::ClientIp;
use crate::limits::RateLimiter;
use crate::notices::{PublicError, limit_by_address, public_community, public_error};
use crate::party::check_text;
use crate::requests::private_page;
use crate::routes::{Routes, get};
use crate::staff::form_body;
use app::sync::hours_label;

/// Sign-ups for one activity from one address.
const PER_ADDRESS: i64 = 5;

pub fn routes(limiter: Arc<RateLimiter>) -> Routes {
    Routes::new()
        .route("/n/{community}/activities/{activity}", get(signup_page).post(sign_up))
        .layer(axum::middleware::from_fn_with_state(limiter, limit_by_address))
}

/// The activity behind a public address, or why not: 404 unless its notice is
/// public now (the same rule as the notice's own page), 410 once it ended.
async fn open_activity(
    state: &AppState,
    community: &str,
    activity: &str,
) -> Result<Result<(CommunityRow, ActivityRow), Response>, PublicError> {
    let community = public_community(state, community).await?;
    let not_found = || PublicError(ApiError::NotFound("没有这个活动，或报名还未开放".into()));
    let activity = state
        .store
        .activity(&parse_id(activity)?)
        .await?
        .filter(|a| a.community_id == community.id)
        .ok_or_else(not_found)?;
    let now = now_ms();
    let notice = match &activity.notice_id {
        Some(notice) => state.store.published_notice(&community.id, notice, now).await?,
        None => None,
    };
    if notice.is_none() {
        return Err(not_found());
    }
    if activity.ends_at <= now {
        let gone = (
            StatusCode::GONE,
            [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
            Html(public_error("活动已经结束，不能再报名了。感谢您的关注！")),
        );
        return Ok(Err(gone.into_response()));
    }
    Ok(Ok((community, activity)))
}

#[derive(Debug, Default, Deserialize)]
struct Signup {
    #[serde(default)]
    name: String,
    /// Checked: sign up without a name.
    #[serde(default)]
    anonymous: Option<String>,
    #[serde(default)]
    phone: String,
}

fn signup_view(
    community: &CommunityRow,
    a: &ActivityRow,
    form: &Signup,
    message: Option<&str>,
    status: StatusCode,
) -> Response {
    let body = view! {
        <header><h1><a href=format!("/n/{}", community.id)>{community.name.clone()}</a>{format!(" · {}", a.title)}</h1></header>
        <main>
            {message.map(|m| view! { <p class=if status.is_success() { "card" } else { "error" } role="alert">{m.to_owned()}</p> })}
            <div class="card">
                <p>{format!("时间：{}", time_range(a.starts_at, a.ends_at))}</p>
                <p>{format!("地点：{}", a.place)}</p>
                <p>{format!("计入志愿服务时长：{}", hours_label(a.credit_minutes))}</p>
                <p><b>{format!("已报名 {} 人", a.signups)}</b></p>
            </div>
            <form class="card" method="post" action=format!("/n/{}/activities/{}", community.id, a.id)>
                <label>"姓名（可不填）"<input name="name" maxlength="20" value=form.name.clone()/></label>
                <label><span><input type="checkbox" name="anonymous" value="1" checked=form.anonymous.is_some()/>" 匿名报名，只计人数"</span></label>
                <label>"手机号（可不填，只有社区工作人员能看到）"<input name="phone" inputmode="tel" maxlength="13" value=form.phone.clone()/></label>
                <button type="submit">"报名"</button>
            </form>
            <p class="muted">"请不要填写身份证号等个人信息。"</p>
        </main>
    }
    .into_any();
    private_page(status, &a.title, body)
}

async fn signup_page(
    State(state): State<AppState>,
    Path((community, activity)): Path<(String, String)>,
) -> Result<Response, PublicError> {
    Ok(match open_activity(&state, &community, &activity).await? {
        Ok((community, a)) => signup_view(&community, &a, &Signup::default(), None, StatusCode::OK),
        Err(gone) => gone,
    })
}

async fn sign_up(
    State(state): State<AppState>,
    client: ClientIp,
    Path((community, activity)): Path<(String, String)>,
    form: Result<Form<Signup>, axum::extract::rejection::FormRejection>,
) -> Result<Response, PublicError> {
    let (community, activity) = match open_activity(&state, &community, &activity).await? {
        Ok(open) => open,
        Err(gone) => return Ok(gone),
    };
    let form = form_body(form)?;
    let refuse = |message: &str, status| signup_view(&community, &activity, &form, Some(message), status);
    let name = match (form.anonymous.is_some(), form.name.trim()) {
        (true, _) | (false, "") => None,
        (false, name) => match check_text(name, "姓名", 1, 20) {
            Ok(()) => Some(name),
            Err(message) => return Ok(refuse(&message, StatusCode::UNPROCESSABLE_ENTITY)),
        },
    };
    let phone = match form.phone.trim() {
        "" => None,
        phone => match PhoneNumber::parse(phone) {
            Ok(phone) => Some(phone),
            Err(message) => return Ok(refuse(&message, StatusCode::UNPROCESSABLE_ENTITY)),
        },
    };
    // Counted, not locked: two sign-ups at the same instant may both pass.
    // The limit keeps a crowd off one activity, it is not an exact quota.
    let address_key = hash_token(&format!("signup:{}", client.0));
    if state.store.activity_signups_from(&activity.id, &address_key).await? >= PER_ADDRESS {
        let message = "从这里报名的人数已经很多了，请到社区报名，或拨打社区电话";
        return Ok(refuse(message, StatusCode::TOO_MANY_REQUESTS));
    }
    let mut tx = state.store.begin().await?;
    tx.insert_activity_signup(NewSignup {
        activity_id: &activity.id,
        name,
        phone: phone.as_ref().map(PhoneNumber::as_str),
        address_key: &address_key,
        at: now_ms(),
    })
    .await?;
    tx.commit().await?;
    let activity = ActivityRow {
        signups: activity.signups + 1,
        ..activity
    };
    let thanks = "报名成功，感谢您参加！活动当天请到现场签到。";
    Ok(signup_view(
        &community,
        &activity,
        &Signup::default(),
        Some(thanks),
        StatusCode::CREATED,
    ))
}
