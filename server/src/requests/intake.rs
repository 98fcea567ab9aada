//! The desk intake form (接待登记) for leads: a resident who came to the office
//! or telephoned, with photos they brought; the lead becomes the first contact
//! and hands the resident a receipt code.

use app::auth::ssr::Caller;
use app::domain::PhoneNumber;
use app::error::ApiError;
use app::requests::{Source, category_code, check_text};
use app::state::now_ms;
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Extension, Multipart};
use axum::http::StatusCode;
use axum::response::Response;
use leptos::prelude::*;

use super::manage::lead_scope;
use super::{NewRequestText, Place, categories, format_code, insert_request, new_code};
use crate::auth::Api;
use crate::coverage::html_page;
use crate::photos::{PhotoStore, UploadError, keep_sent};
use crate::routes::{Routes, get};

/// Photos one request may carry, as from the phone.
const MAX_PHOTOS: usize = app::sync::MAX_VISIT_PHOTOS;

pub fn routes(photos: Arc<PhotoStore>) -> Routes {
    // The photos travel in the form: room for six of the largest (each is
    // checked against the configured limit on its own).
    let limit = MAX_PHOTOS * 8 * 1024 * 1024 + 64 * 1024;
    Routes::new()
        .route(
            "/manage/requests/new",
            get(intake_form)
                .post(intake)
                .layer(DefaultBodyLimit::max(limit))
                .layer(axum::middleware::from_fn(crate::deadline::allow_slow_body)),
        )
        .layer(Extension(photos))
}

#[derive(Debug, Default)]
struct IntakeForm {
    source: String,
    grid: String,
    place: String,
    phone: String,
    category: String,
    text: String,
}

async fn intake_form(Api(caller): Api) -> Result<Response, ApiError> {
    lead_scope(&caller).await?;
    intake_page(&caller, &IntakeForm::default(), None, StatusCode::OK).await
}

async fn intake_page(
    caller: &Caller,
    form: &IntakeForm,
    message: Option<String>,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let grids = caller.user.visible_grids(&caller.store).await?;
    let names = caller.store.grid_names(&grids).await?;
    let categories = categories(&caller.store).await?;
    let body = view! {
        <header><a href="/manage/requests" aria-label="返回">"‹"</a><h1>"接待登记"</h1></header>
        <main>
            {message.map(|m| view! { <p class="error" role="alert">{m}</p> })}
            <form class="card" method="post" action="/manage/requests/new" enctype="multipart/form-data">
                <label>"来源"<select name="source">
                    <option value="walk_in" selected=form.source != "phone">"来访"</option>
                    <option value="phone" selected=form.source == "phone">"来电"</option>
                </select></label>
                <label>"网格"<select name="grid">
                    <option value="">"（全社区 / 不确定）"</option>
                    {names.into_iter().map(|(id, name)| { let s = form.grid == id; view! { <option value=id selected=s>{name}</option> } }).collect_view()}
                </select></label>
                <label>"地址或地点"<input name="place" maxlength="100" value=form.place.clone() placeholder="如：5号楼2单元402，或小区北门"/></label>
                <label>"联系电话（可不填）"<input name="phone" inputmode="tel" maxlength="13" value=form.phone.clone()/></label>
                <label>"类别"<select name="category">
                    {categories.into_iter().map(|c| { let s = form.category == c.code; view! { <option value=c.code selected=s>{c.label}</option> } }).collect_view()}
                </select></label>
                <label>"诉求内容"<textarea name="text" rows="4" maxlength="1000">{form.text.clone()}</textarea></label>
                <label>{format!("照片（可选，最多{MAX_PHOTOS}张）")}<input type="file" name="photo" accept="image/*" multiple/></label>
                <button type="submit">"登记"</button>
            </form>
            <p class="muted">"登记人为首问责任人。登记后给居民一个回执码，凭码可查询办理进度。"</p>
        </main>
    }
    .into_any();
    let mut response = html_page("接待登记", body);
    *response.status_mut() = status;
    Ok(response)
}

/// The form's fields and its photo files (empty file inputs left out).
async fn read_form(mut multipart: Multipart) -> Result<(IntakeForm, Vec<axum::body::Bytes>), String> {
    let mut form = IntakeForm::default();
    let mut photos = Vec::new();
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|_| "表单没有传完整，请重试".to_owned())?
    {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "photo" {
            let bytes = field.bytes().await.map_err(|_| "照片过大或没有传完整".to_owned())?;
            if !bytes.is_empty() {
                photos.push(bytes);
            }
            continue;
        }
        let text = field.text().await.map_err(|_| "表单没有传完整，请重试".to_owned())?;
        match name.as_str() {
            "source" => form.source = text,
            "grid" => form.grid = text,
            "place" => form.place = text,
            "phone" => form.phone = text,
            "category" => form.category = text,
            "text" => form.text = text,
            _ => {}
        }
    }
    Ok((form, photos))
}

async fn intake(
    Api(caller): Api,
    Extension(photo_store): Extension<Arc<PhotoStore>>,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, ApiError> {
    let community = lead_scope(&caller).await?;
    let Ok(multipart) = multipart else {
        return Err(ApiError::BadRequest("表单格式不正确".into()));
    };
    let (form, sent_photos) = match read_form(multipart).await {
        Ok(read) => read,
        Err(m) => return intake_page(&caller, &IntakeForm::default(), Some(m), StatusCode::BAD_REQUEST).await,
    };
    let refuse = |m: String| async { intake_page(&caller, &form, Some(m), StatusCode::BAD_REQUEST).await };
    if sent_photos.len() > MAX_PHOTOS {
        return refuse(format!("照片最多{MAX_PHOTOS}张")).await;
    }
    let source = match form.source.as_str() {
        "phone" => Source::Phone,
        _ => Source::WalkIn,
    };
    if let Err(m) = check_text(&form.text, "诉求内容") {
        return refuse(m).await;
    }
    if form.place.trim().is_empty() || form.place.chars().count() > 100 {
        return refuse("请填写地址或地点（100字以内）".into()).await;
    }
    let phone = match form.phone.trim() {
        "" => None,
        p => match PhoneNumber::parse(p) {
            Ok(p) => Some(p),
            Err(m) => return refuse(m).await,
        },
    };
    let categories = categories(&caller.store).await?;
    let Some(category) = category_code(&categories, &form.category) else {
        return refuse("请选择诉求类别".into()).await;
    };
    let grids = caller.user.visible_grids(&caller.store).await?;
    let grid = match form.grid.trim() {
        "" => None,
        g if grids.iter().any(|v| v == g) => Some(g.to_owned()),
        _ => return Err(ApiError::not_found()),
    };
    // Stored before the request (a row always means its objects exist); a
    // photo refused answers with the form and the reason.
    let mut photos = Vec::new();
    for bytes in sent_photos {
        match keep_sent(&caller, &photo_store, bytes).await {
            Ok(hash) => photos.push(hash),
            Err(UploadError::Api(e)) => return Err(e),
            Err(UploadError::OverQuota(quota)) => {
                let message = format!("24小时内最多上传{quota}张新照片，已达上限");
                return intake_page(&caller, &form, Some(message), StatusCode::TOO_MANY_REQUESTS).await;
            }
            Err(UploadError::NoSpace) => {
                let message = "服务器存储空间已满，照片没有保存，请稍后再提交".to_owned();
                return intake_page(&caller, &form, Some(message), StatusCode::INSUFFICIENT_STORAGE).await;
            }
            Err(UploadError::Refused(refusal)) => {
                let (status, _, message) = refusal.into_parts();
                return intake_page(&caller, &form, Some(message), status).await;
            }
        }
    }
    let mut tx = caller.store.begin().await?;
    let community_id = match (&grid, community) {
        (Some(g), _) => tx.grid_community(g).await?.ok_or(ApiError::Internal)?,
        (None, Some(c)) => c,
        (None, None) => return refuse("管理员登记时请选择网格".into()).await,
    };
    let id = store::new_id();
    let receipt = new_code();
    let place = Place {
        community_id,
        grid_id: grid,
        household_id: None,
        building_id: None,
        visit_id: None,
    };
    let text = NewRequestText {
        id: &id,
        source,
        place: &form.place,
        contact_phone: phone.as_ref().map(PhoneNumber::as_str),
        text: &form.text,
        photos: &photos,
        receipt: Some(&receipt),
        submitter_key: None,
    };
    insert_request(&mut tx, Some(&caller.user.id), now_ms(), &place, text, category).await?;
    tx.audit(caller.audit_entry(now_ms(), "create", "request", &id)).await?;
    tx.commit().await?;
    let body = view! {
        <header><a href="/manage/requests" aria-label="返回">"‹"</a><h1>"已登记"</h1></header>
        <main>
            <div class="card">
                <p>"请把回执码告诉居民（只显示这一次）："</p>
                <p class="code">{format_code(&receipt)}</p>
                <p class="muted">"居民在社区公开栏的「诉求查询」输入回执码，可查看办理状态和答复。"</p>
            </div>
            <p class="row">
                <a class="btn" href=format!("/manage/requests/{id}")>"查看这条诉求"</a>
                <a class="btn plain" href="/manage/requests/new">"继续登记"</a>
            </p>
        </main>
    }
    .into_any();
    Ok(html_page("已登记", body))
}
