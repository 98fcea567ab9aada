//! A member's phone account (issue 18 #3): opened by the lead on the member's
//! page, with a one-time password shown once and changed at the first sign-in;
//! reset there; disabled while the member is marked moved away. The account
//! has role `member`: it reaches only the member's linked households
//! (`Caller::reach`) through the phone's own routes (`member_route`), and the
//! visits its phone sends count as the member's (`crate::visits`).

use std::collections::HashMap;

use app::auth::ssr::Caller;
use app::domain::Role;
use app::error::ApiError;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path};
use axum::response::Response;
use leptos::prelude::*;
use store::party::MemberRow;

use super::member::refused;
use super::run_member;
use crate::auth::Api;
use crate::routes::{Routes, post};
use crate::staff::users::{self, NewAccount, actor, password_shown};
use crate::staff::{field, form_body};

pub fn routes() -> Routes {
    Routes::new().route("/manage/party/members/{id}/account", post(open_or_reset))
}

/// The member page's part on the account: who signs in, or the form that
/// opens the account.
pub(super) async fn account_section(caller: &Caller, m: &MemberRow) -> Result<AnyView, ApiError> {
    let action = format!("/manage/party/members/{}/account", m.id);
    let account = caller.store.party_member_account(&m.id).await?;
    Ok(view! {
        <h2>"手机账号"</h2>
        {match account {
            Some(a) => view! {
                <section class="card">
                    <p>"用户名："<strong>{a.username}</strong>
                        <span class="muted">{match (a.disabled_at, a.must_change_password) {
                            (Some(_), _) => "（已停用）",
                            (None, true) => "（尚未首次登录）",
                            (None, false) => "（使用中）",
                        }}</span></p>
                    <form method="post" action=action>
                        <input type="hidden" name="reset" value="1"/>
                        <button type="submit">"重置密码"</button>
                    </form>
                </section>
            }.into_any(),
            None => view! {
                <form method="post" action=action class="row">
                    <input name="username" required maxlength="32" aria-label="用户名"
                        placeholder="用户名（小写字母、数字）" autocapitalize="none"/>
                    <button type="submit">"开通账号"</button>
                </form>
            }.into_any(),
        }}
        <p class="muted small">"党员用手机登录后只能看到本人的联系户，离线登记走访，同步后计入服务时长；迁出后账号自动停用。"</p>
    }
    .into_any())
}

/// Opens the member's account, or (`reset`) gives it a new one-time password.
async fn open_or_reset(
    Api(caller): Api,
    Path(id): Path<String>,
    body: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Result<Response, ApiError> {
    let m = run_member(&caller, &id).await?;
    let body = form_body(body)?;
    let done = format!("/manage/party/members/{}", m.id);
    if m.status != "active" {
        return refused(&caller, m, "该党员已迁出，不能使用手机账号").await;
    }
    match (caller.store.party_member_account(&m.id).await?, field(&body, "reset")) {
        (Some(account), "1") => {
            let user = caller
                .store
                .staff_member(&account.username)
                .await?
                .ok_or(ApiError::Internal)?;
            let once = users::reset(&caller.store, &user, actor(&caller)).await?;
            Ok(password_shown(&account.username, &once, "密码已重置", &done))
        }
        (Some(_), _) => refused(&caller, m, "该党员已有账号").await,
        (None, _) => {
            let account = NewAccount {
                username: field(&body, "username").to_owned(),
                display_name: m.name.clone(),
                role: Role::Member,
                community_id: Some(m.community_id.clone()),
                password: None,
                party_member: Some(m.id.clone()),
            };
            let username = account.username.trim().to_lowercase();
            match users::create(&caller.store, account, Some(actor(&caller))).await {
                Ok(once) => Ok(password_shown(
                    &username,
                    once.as_deref().unwrap_or_default(),
                    "账号已开通",
                    &done,
                )),
                Err(ApiError::BadRequest(message) | ApiError::Conflict(message)) => refused(&caller, m, &message).await,
                Err(e) => Err(e),
            }
        }
    }
}
