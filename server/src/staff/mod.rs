//! Staff and territory administration from the browser, and the same
//! operations for an operator at a shell (`server user …`): accounts with
//! one-time passwords, disabling, resets and grid assignments (`users`), a
//! person's own password and sessions (`account`), grids and buildings
//! (`territory`). Every change is checked here on the server, by role and
//! community, and audited in its own transaction.

pub mod account;
pub mod cli;
pub mod territory;
pub mod users;

use app::auth::ssr::Caller;
use app::domain::Role;
use app::error::ApiError;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use leptos::prelude::*;

use crate::routes::Routes;

pub fn routes() -> Routes {
    users::routes().merge(account::routes()).merge(territory::routes())
}

/// Whose staff and territory the caller runs: every community (`None`, an
/// admin) or a lead's own. Others are refused, and the refusal audited.
pub async fn administered(caller: &Caller, entity: &str) -> Result<Option<String>, ApiError> {
    match (caller.user.role, caller.user.community_id.as_deref()) {
        (Role::Admin, _) => Ok(None),
        (Role::Lead, Some(community)) => Ok(Some(community.to_owned())),
        _ => {
            caller.audit("denied", entity, "-").await?;
            Err(ApiError::Forbidden)
        }
    }
}

/// An administration page. Never cached anywhere: some show a password once.
pub(crate) fn page(title: &str, back: &str, message: Option<&str>, status: StatusCode, body: AnyView) -> Response {
    let body = view! {
        <header><a href=back.to_owned() aria-label="返回">"‹"</a><h1>{title.to_owned()}</h1></header>
        <main>
            {message.map(|m| view! { <p class="error" role="alert">{m.to_owned()}</p> })}
            {body}
        </main>
    }
    .into_any();
    let mut response = crate::coverage::html_page(title, body);
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A form's text field, trimmed; a missing field is empty.
/// A form body, or 400 when it is not one (a hand-made request, a wrong
/// content type).
pub(crate) fn form_body<T>(
    form: Result<axum::extract::Form<T>, axum::extract::rejection::FormRejection>,
) -> Result<T, ApiError> {
    form.map(|axum::extract::Form(body)| body)
        .map_err(|_| ApiError::BadRequest("表单格式不正确".into()))
}

pub(crate) fn field<'a>(form: &'a std::collections::HashMap<String, String>, name: &str) -> &'a str {
    form.get(name).map_or("", |v| v.trim())
}
