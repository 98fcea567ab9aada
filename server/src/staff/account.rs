//! A person's own account: their password (the first stop after signing in
//! with a one-time one) and their sessions, each of which they can end (a
//! lost phone). Served to anyone signed in, a pending password change included.

use std::collections::HashMap;

use app::auth::ssr::Caller;
use app::error::ApiError;
use app::state::{AppState, now_ms};
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use leptos::prelude::*;

use super::{field, form_body, page};
use crate::auth::{PASSWORD_PAGE, SignedIn};
use crate::passwords;
use crate::routes::{Routes, get, post};

pub fn routes() -> Routes {
    Routes::new()
        .route("/account", get(account_page))
        .route(PASSWORD_PAGE, get(password_page).post(change_password))
        .route("/account/sessions/end", post(end_session))
}

async fn account_page(State(state): State<AppState>, SignedIn(caller): SignedIn) -> Result<Response, ApiError> {
    let now = now_ms();
    let sessions = caller
        .store
        .sessions_of(&caller.user.id, now, now - state.auth.session_idle_ms)
        .await?;
    let this = caller.user.token_hash.clone();
    let others = sessions.iter().filter(|s| s.token_hash != this).count();
    let body = view! {
        <section class="card">
            <p>{caller.user.display_name.clone()}" · "{caller.user.role.label()}" · 用户名 "{caller.user.username.clone()}</p>
            <p><a class="btn" href=PASSWORD_PAGE>"修改密码"</a></p>
        </section>
        <h2>"已登录的设备"</h2>
        <p class="muted small">"手机丢了或借给了别人：在这里结束它的登录，那台手机上未同步的记录将无法上传。"</p>
        <ul class="list">
            {sessions.into_iter().map(|s| {
                let current = s.token_hash == this;
                view! {
                    <li class="card">
                        <p>{device(&s.user_agent)}{current.then_some("（本机）")}</p>
                        <p class="muted small">{format!("登录于 {} · 最近使用 {} · {}", crate::html::date(s.created_at), crate::html::date(s.last_seen_at), s.client)}</p>
                        {(!current).then(|| view! {
                            <form method="post" action="/account/sessions/end">
                                <input type="hidden" name="session" value=s.token_hash.clone()/>
                                <button type="submit">"结束这个登录"</button>
                            </form>
                        })}
                    </li>
                }
            }).collect_view()}
        </ul>
        {(others > 0).then(|| view! {
            <form method="post" action="/account/sessions/end">
                <input type="hidden" name="session" value="others"/>
                <button type="submit" class="danger">"结束其他所有设备的登录"</button>
            </form>
        })}
        // Through the phone's sync page: what the phone holds goes up first.
        <p><a href="/sync#logout">"退出登录"</a></p>
    }
    .into_any();
    Ok(page("我的账号", "/", None, StatusCode::OK, body))
}

/// "Android 手机 · Chrome" from a user agent, enough to tell one's phones apart.
fn device(user_agent: &str) -> String {
    let system = ["Android", "iPhone", "iPad", "Windows", "Mac OS", "Linux"]
        .into_iter()
        .find(|s| user_agent.contains(s))
        .unwrap_or("未知设备");
    let browser = ["MicroMessenger", "Edg", "Chrome", "Firefox", "Safari"]
        .into_iter()
        .find(|b| user_agent.contains(b))
        .map(|b| if b == "MicroMessenger" { "微信" } else { b })
        .unwrap_or("浏览器");
    format!("{system} · {browser}")
}

async fn password_page(SignedIn(caller): SignedIn) -> Result<Response, ApiError> {
    Ok(password_view(&caller, None, StatusCode::OK))
}

fn password_view(caller: &Caller, message: Option<&str>, status: StatusCode) -> Response {
    let first = caller.user.must_change_password;
    let body = view! {
        {first.then(|| view! { <p class="card">"您用的是管理员给的初始密码：请先设一个只有自己知道的密码，再开始工作。"</p> })}
        <form method="post" action=PASSWORD_PAGE class="stack">
            <label>{if first { "初始密码" } else { "当前密码" }}
                <input type="password" name="current" required autocomplete="current-password"/></label>
            <label>"新密码（至少8位）"<input type="password" name="new" required minlength="8" autocomplete="new-password"/></label>
            <label>"再输一次新密码"<input type="password" name="repeat" required minlength="8" autocomplete="new-password"/></label>
            <button type="submit">"保存新密码"</button>
        </form>
    }
    .into_any();
    page(
        "修改密码",
        if first { "/logout" } else { "/account" },
        message,
        status,
        body,
    )
}

async fn change_password(
    SignedIn(caller): SignedIn,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Result<Response, ApiError> {
    let form = form_body(form)?;
    let (current, new) = (field(&form, "current"), form.get("new").map_or("", String::as_str));
    if current.len() > 1024 || new != form.get("repeat").map_or("", String::as_str) {
        return Ok(password_view(
            &caller,
            Some("两次输入的新密码不一样"),
            StatusCode::UNPROCESSABLE_ENTITY,
        ));
    }
    if let Err(reason) = passwords::check_chosen(new, &caller.user.username) {
        return Ok(password_view(&caller, Some(&reason), StatusCode::UNPROCESSABLE_ENTITY));
    }
    let hash = caller
        .store
        .password_hash(&caller.user.id)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    let verified = passwords::verify(current.to_owned(), hash)
        .await
        .ok_or(ApiError::Internal)?;
    if !verified {
        caller.audit("denied", "password", &caller.user.username).await?;
        return Ok(password_view(
            &caller,
            Some("当前密码不正确"),
            StatusCode::UNPROCESSABLE_ENTITY,
        ));
    }
    if new == current {
        return Ok(password_view(
            &caller,
            Some("新密码不能与原密码相同"),
            StatusCode::UNPROCESSABLE_ENTITY,
        ));
    }
    let new_hash = passwords::hash(new.to_owned()).await?;
    let mut tx = caller.store.begin().await?;
    // This session stays; the others end (whoever knew the old password).
    tx.set_password(&caller.user.id, &new_hash, false, Some(&caller.user.token_hash))
        .await?;
    tx.audit(caller.audit_entry(now_ms(), "update", "password", &caller.user.username))
        .await?;
    tx.commit().await?;
    Ok(Redirect::to(if caller.user.must_change_password {
        "/"
    } else {
        "/account"
    })
    .into_response())
}

async fn end_session(
    SignedIn(caller): SignedIn,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Result<Response, ApiError> {
    let form = form_body(form)?;
    let which = field(&form, "session");
    let now = now_ms();
    let mut tx = caller.store.begin().await?;
    if which == "others" {
        tx.end_other_sessions(&caller.user.id, &caller.user.token_hash).await?;
    } else if !tx.end_session(&caller.user.id, which).await? {
        tx.rollback().await?;
        return Err(ApiError::NotFound("这个登录已经结束了".into()));
    }
    tx.audit(caller.audit_entry(now, "sign_out", "session", &caller.user.username))
        .await?;
    tx.commit().await?;
    Ok(Redirect::to("/account").into_response())
}
