//! Request categories and their deadlines, in working days: every lead sees
//! them, an admin edits them. Codes are kept for good; a category no longer
//! offered is disabled, so old requests keep their label.

use std::collections::HashMap;

use app::domain::Role;
use app::error::ApiError;
use app::state::now_ms;
use axum::extract::Form;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use leptos::prelude::*;
use store::requests::CategoryRow;

use super::manage::lead_scope;
use super::new_code;
use crate::auth::Api;
use crate::coverage::html_page;
use crate::routes::{Routes, get};
use crate::staff::form_body;

pub fn routes() -> Routes {
    Routes::new().route("/manage/request-categories", get(categories_page).post(save_categories))
}

async fn categories_page(Api(caller): Api) -> Result<Response, ApiError> {
    lead_scope(&caller).await?;
    let rows = caller.store.request_categories().await?;
    Ok(categories_view(
        &rows,
        caller.user.role == Role::Admin,
        None,
        StatusCode::OK,
    ))
}

fn categories_view(rows: &[CategoryRow], editable: bool, message: Option<&str>, status: StatusCode) -> Response {
    let body = view! {
        <header><a href="/manage/requests" aria-label="返回">"‹"</a><h1>"诉求类别与办理时限"</h1></header>
        <main>
            {message.map(|m| view! { <p class="error" role="alert">{m.to_owned()}</p> })}
            <form method="post" action="/manage/request-categories">
                <table>
                    <thead><tr><th>"类别"</th><th>"响应（工作日）"</th><th>"办结（工作日）"</th><th>"启用"</th></tr></thead>
                    <tbody>
                        {rows.iter().map(|c| view! {
                            <tr>
                                <td><input name=format!("label.{}", c.code) value=c.label.clone() maxlength="10" disabled=!editable/></td>
                                <td><input name=format!("respond.{}", c.code) type="number" min="0" max="60" value=c.respond_days disabled=!editable/></td>
                                <td><input name=format!("resolve.{}", c.code) type="number" min="0" max="365" value=c.resolve_days disabled=!editable/></td>
                                <td><input name=format!("enabled.{}", c.code) type="checkbox" value="1" checked=c.enabled disabled=!editable/></td>
                            </tr>
                        }).collect_view()}
                        {editable.then(|| view! {
                            <tr>
                                <td><input name="label.new" maxlength="10" placeholder="新类别"/></td>
                                <td><input name="respond.new" type="number" min="0" max="60" value="1"/></td>
                                <td><input name="resolve.new" type="number" min="0" max="365" value="7"/></td>
                                <td><input name="enabled.new" type="checkbox" value="1" checked/></td>
                            </tr>
                        })}
                    </tbody>
                </table>
                {editable.then(|| view! { <p><button type="submit">"保存"</button></p> })}
            </form>
            <p class="muted">"期限按北京时间的工作日（周一至周五）计算：登记当天之后的第 N 个工作日结束前。法定节假日与调休暂未计入。"</p>
        </main>
    }
    .into_any();
    let mut response = html_page("诉求类别", body);
    *response.status_mut() = status;
    response
}

async fn save_categories(
    Api(caller): Api,
    form: Result<Form<HashMap<String, String>>, axum::extract::rejection::FormRejection>,
) -> Result<Response, ApiError> {
    if caller.user.role != Role::Admin {
        caller.audit("denied", "request_categories", "-").await?;
        return Err(ApiError::Forbidden);
    }
    let values = form_body(form)?;
    let original = caller.store.request_categories().await?;
    let mut rows = original.clone();
    let next_position = rows.iter().map(|r| r.position).max().unwrap_or(0) + 1;
    let new_label = values.get("label.new").map(|l| l.trim()).filter(|l| !l.is_empty());
    if let Some(label) = new_label {
        rows.push(CategoryRow {
            code: format!("c{}", &new_code()[..8]),
            label: label.to_owned(),
            respond_days: 1,
            resolve_days: 7,
            position: next_position,
            enabled: true,
        });
    }
    let mut checked = Vec::new();
    for row in &mut rows {
        let key = if original.iter().any(|o| o.code == row.code) {
            row.code.clone()
        } else {
            "new".into()
        };
        let label = values
            .get(&format!("label.{key}"))
            .map_or(row.label.clone(), |l| l.trim().to_owned());
        let days = |field: &str, max: i64| {
            values
                .get(&format!("{field}.{key}"))
                .map(|v| v.trim().parse::<i64>().ok().filter(|d| (0..=max).contains(d)))
        };
        let (Some(respond), Some(resolve)) = (days("respond", 60), days("resolve", 365)) else {
            continue;
        };
        let (Some(respond), Some(resolve), false) = (respond, resolve, label.is_empty() || label.chars().count() > 10)
        else {
            let message = format!("「{}」：名称1到10个字，响应0到60、办结0到365个工作日", row.label);
            return Ok(categories_view(
                &original,
                true,
                Some(&message),
                StatusCode::BAD_REQUEST,
            ));
        };
        row.label = label;
        row.respond_days = respond;
        row.resolve_days = resolve;
        row.enabled = values.contains_key(&format!("enabled.{key}"));
        checked.push(row.clone());
    }
    let mut tx = caller.store.begin().await?;
    for row in &checked {
        match tx.save_request_category(row).await {
            Err(e) if store::is_unique_violation(&e) => {
                let message = format!("类别名称「{}」重复了", row.label);
                return Ok(categories_view(
                    &original,
                    true,
                    Some(&message),
                    StatusCode::BAD_REQUEST,
                ));
            }
            other => other?,
        }
    }
    tx.audit(caller.audit_entry(now_ms(), "update", "request_categories", "-"))
        .await?;
    tx.commit().await?;
    Ok(Redirect::to("/manage/request-categories").into_response())
}
