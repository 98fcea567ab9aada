//! `/manage/import`: a lead (their community) or an admin (any) uploads a
//! ledger, sees how its columns were understood and what a dry run found,
//! downloads the refused rows with the reasons, fixes them, and imports the
//! clean file in one transaction. Templates per kind to start from.

use app::auth::ssr::Caller;
use app::error::ApiError;
use app::state::now_ms;
use axum::body::Bytes;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Path};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use leptos::prelude::*;

use super::plan::{Plan, plan};
use super::sheet::MAX_FILE_BYTES;
use super::{Kind, ReadError, Table, read, template};
use crate::auth::Api;
use crate::routes::{Routes, get, post};
use crate::staff::{administered, page};

pub fn routes() -> Routes {
    Routes::new()
        .route(
            "/manage/import",
            get(import_page)
                .post(dry_run)
                // The file and the form around it.
                .layer(DefaultBodyLimit::max(MAX_FILE_BYTES + 64 * 1024))
                .layer(axum::middleware::from_fn(crate::deadline::allow_slow_body)),
        )
        .route(
            "/manage/import/footprints",
            post(footprints)
                .layer(DefaultBodyLimit::max(MAX_FILE_BYTES + 64 * 1024))
                .layer(axum::middleware::from_fn(crate::deadline::allow_slow_body)),
        )
        .route("/manage/import/template/{kind}", get(template_file))
        .route("/manage/import/{id}/errors.xlsx", get(error_file))
        .route("/manage/import/{id}", post(apply))
}

/// Uploads wait this long for their confirmation.
const KEEP_UPLOAD_MS: i64 = 24 * 3_600_000;
/// Refused rows listed on the page; all of them are in the downloadable report.
const SHOWN_ERRORS: usize = 200;

async fn import_page(Api(caller): Api) -> Result<Response, ApiError> {
    administered(&caller, "import").await?;
    Ok(upload_view(None, StatusCode::OK))
}

fn upload_view(message: Option<&str>, status: StatusCode) -> Response {
    let body = view! {
        <p class="muted">"先下载模板对照表头（列的顺序和叫法可以不同）。每次上传先做检查，不会写入任何数据；检查没有问题后再确认导入，全部写入或全部不写。"</p>
        <ul class="list">
            {Kind::ALL.iter().map(|k| view! {
                <li><a href=format!("/manage/import/template/{}", k.as_str())>{format!("下载模板：{}", k.label())}</a></li>
            }).collect_view()}
        </ul>
        <form method="post" action="/manage/import" enctype="multipart/form-data" class="stack">
            <label>"台账类型"<select name="kind">
                {Kind::ALL.iter().map(|k| view! { <option value=k.as_str()>{k.label()}</option> }).collect_view()}
            </select></label>
            <label>"文件（.xlsx 或 .csv，20 MB 以内）"<input type="file" name="file" required accept=".xlsx,.csv"/></label>
            <button type="submit">"上传并检查"</button>
        </form>
        <p class="muted small">"顺序：房屋台账（社区、网格、楼栋、门牌）→ 居民台账 → 工作人员。"</p>
        <h2>"楼栋轮廓（地图）"</h2>
        <form method="post" action="/manage/import/footprints" enctype="multipart/form-data" class="stack">
            <label>"GeoJSON 文件（测绘或地图软件导出，WGS84 经纬度，每个面以楼栋名称命名）"
                <input type="file" name="file" required accept=".geojson,.json"/></label>
            <button type="submit">"上传轮廓"</button>
        </form>
        <p class="muted small">"按楼栋名称对应（同名楼栋请在属性中写明网格）；没有轮廓的楼栋在地图上按方格排列。"</p>
    }
    .into_any();
    page("导入台账", "/manage/users", message, status, body)
}

async fn template_file(Api(caller): Api, Path(kind): Path<String>) -> Result<Response, ApiError> {
    administered(&caller, "import").await?;
    let kind = Kind::parse(kind.trim_end_matches(".xlsx")).ok_or_else(ApiError::not_found)?;
    let bytes = template::template(kind).map_err(|e| {
        tracing::error!(error = %e, "template");
        ApiError::Internal
    })?;
    Ok(xlsx(bytes, &format!("{}-模板.xlsx", kind.label())))
}

fn xlsx(bytes: Vec<u8>, name: &str) -> Response {
    let disposition = crate::html::attachment("import.xlsx", name);
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    );
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The upload's kind, name and bytes, or what was wrong and its status.
async fn read_upload(mut multipart: Multipart) -> Result<(Kind, String, Bytes), (StatusCode, String)> {
    let bad = |m: &str| (StatusCode::BAD_REQUEST, m.to_owned());
    let mut kind = None;
    let mut file = None;
    while let Some(field) = multipart.next_field().await.map_err(|_| bad("上传没有完成，请重试"))? {
        match field.name().unwrap_or_default() {
            "kind" => kind = Kind::parse(&field.text().await.map_err(|_| bad("表单格式不正确"))?),
            "file" => {
                let name = field.file_name().unwrap_or("upload").to_owned();
                // Cut off at the body limit: too large (or the upload broke off).
                let bytes = field
                    .bytes()
                    .await
                    .map_err(|_| (StatusCode::PAYLOAD_TOO_LARGE, ReadError::TooLarge.to_string()))?;
                file = Some((name, bytes));
            }
            _ => {}
        }
    }
    let kind = kind.ok_or_else(|| bad("请选择台账类型"))?;
    let (name, bytes) = file
        .filter(|(_, b)| !b.is_empty())
        .ok_or_else(|| bad("请选择要上传的文件"))?;
    Ok((kind, name.chars().take(100).collect(), bytes))
}

async fn dry_run(Api(caller): Api, multipart: Result<Multipart, MultipartRejection>) -> Result<Response, ApiError> {
    let community = administered(&caller, "import").await?;
    let upload = match multipart {
        Ok(multipart) => read_upload(multipart).await,
        Err(_) => Err((StatusCode::BAD_REQUEST, "表单格式不正确".to_owned())),
    };
    let (kind, name, bytes) = match upload {
        Ok(upload) => upload,
        Err((status, m)) => return Ok(upload_view(Some(&m), status)),
    };
    let table = match read_off_thread(bytes.clone(), name.clone(), kind).await? {
        Ok(table) => table,
        Err(e) => {
            let status = match e {
                ReadError::TooLarge | ReadError::TooMuchContent | ReadError::TooManyRows => {
                    StatusCode::PAYLOAD_TOO_LARGE
                }
                ReadError::NotSpreadsheet | ReadError::OldFormat => StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ReadError::Encrypted | ReadError::Damaged | ReadError::Encoding => StatusCode::BAD_REQUEST,
                ReadError::NoHeader(_) | ReadError::MissingColumns(_) => StatusCode::UNPROCESSABLE_ENTITY,
            };
            return Ok(upload_view(Some(&e.to_string()), status));
        }
    };
    let now = now_ms();
    let id = store::new_id();
    let upload = store::import::NewUpload {
        id: &id,
        user_id: &caller.user.id,
        kind: kind.as_str(),
        file_name: &name,
        content: &bytes,
        at: now,
    };
    caller.store.keep_upload(upload, now - KEEP_UPLOAD_MS).await?;
    let plan = plan(&caller.store, &table, community.as_deref(), now).await?;
    Ok(plan_view(&id, &name, &table, &plan))
}

/// `POST /manage/import/footprints`: outlines matched by name and written
/// at once (nothing else changes: a wrong file is put right by the next one).
async fn footprints(Api(caller): Api, multipart: Result<Multipart, MultipartRejection>) -> Result<Response, ApiError> {
    let community = administered(&caller, "import").await?;
    let mut file = None;
    if let Ok(mut multipart) = multipart {
        while let Ok(Some(field)) = multipart.next_field().await {
            if field.name() == Some("file") {
                file = field.bytes().await.ok();
            }
        }
    }
    let Some(bytes) = file.filter(|b| !b.is_empty()) else {
        return Ok(upload_view(
            Some("请选择 GeoJSON 文件（20 MB 以内）"),
            StatusCode::BAD_REQUEST,
        ));
    };
    let (outlines, unnamed) = match super::footprints::read(&bytes) {
        Ok(read) => read,
        Err(m) => return Ok(upload_view(Some(&m), StatusCode::UNPROCESSABLE_ENTITY)),
    };
    let territory = caller
        .store
        .import_territory(community.as_deref().unwrap_or(""))
        .await?;
    let matched = super::footprints::match_buildings(&territory, outlines);
    let now = now_ms();
    let mut tx = caller.store.begin().await?;
    for (building, grid, polygon) in &matched.found {
        tx.set_footprint(building, grid, polygon, now).await?;
    }
    tx.audit(caller.audit_entry(now, "update", "import", "footprints"))
        .await?;
    tx.commit().await?;
    let body = view! {
        <section class="card">
            <p><strong>{format!("已更新 {} 栋楼的轮廓", matched.found.len())}</strong></p>
            {(unnamed > 0).then(|| view! { <p class="muted">{format!("{unnamed} 个面没有名称，已跳过")}</p> })}
        </section>
        {(!matched.unknown.is_empty()).then(|| view! {
            <p>"没有找到这些楼栋（请核对名称）："{matched.unknown.join("、")}</p>
        })}
        {(!matched.ambiguous.is_empty()).then(|| view! {
            <p>"这些名称对应多栋楼，请在属性中写明网格："{matched.ambiguous.join("、")}</p>
        })}
        <p><a class="btn" href="/manage/import">"返回导入"</a></p>
    }
    .into_any();
    Ok(page("楼栋轮廓", "/manage/import", None, StatusCode::OK, body))
}

/// Reading a large workbook takes a second or more: not on the async threads.
async fn read_off_thread(bytes: Bytes, name: String, kind: Kind) -> Result<Result<Table, ReadError>, ApiError> {
    tokio::task::spawn_blocking(move || read(&bytes, &name, kind))
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "reading an upload");
            ApiError::Internal
        })
}

fn plan_view(id: &str, name: &str, table: &Table, plan: &Plan) -> Response {
    let s = plan.summary;
    let ready = plan.ready();
    let clean = plan.errors.is_empty();
    let body = view! {
        <section class="card">
            <p>{format!("{} · {}（工作表「{}」，表头在第 {} 行）", table.kind.label(), name, table.sheet, table.header_row)}</p>
            <p><strong>{format!("将新建 {} · 更新 {} · 不变 {} · 有问题 {}", s.created, s.updated, s.unchanged, s.refused)}</strong></p>
        </section>
        <h2>"列的对应"</h2>
        <table>
            <thead><tr><th>"文件中的列"</th><th>"导入为"</th></tr></thead>
            <tbody>
                {table.columns.iter().map(|c| view! {
                    <tr><td>{c.header.clone()}</td><td>{c.field.map_or("（不导入）", |f| f.header())}</td></tr>
                }).collect_view()}
            </tbody>
        </table>
        {(!plan.notes.is_empty()).then(|| view! {
            <h2>"迁移（已登记在别的门牌）"</h2>
            <ul>{plan.notes.iter().take(SHOWN_ERRORS).map(|n| view! { <li>{n.clone()}</li> }).collect_view()}</ul>
        })}
        {(!clean).then(|| view! {
            <h2>"需要修改的行"</h2>
            <p><a class="btn" href=format!("/manage/import/{id}/errors.xlsx")>"下载问题行（Excel，含错误说明）"</a></p>
            <table>
                <thead><tr><th>"行"</th><th>"列"</th><th>"问题"</th></tr></thead>
                <tbody>
                    {plan.errors.iter().take(SHOWN_ERRORS).map(|e| view! {
                        <tr><td>{e.row}</td><td>{e.column.clone()}</td><td>{e.reason.clone()}</td></tr>
                    }).collect_view()}
                </tbody>
            </table>
            <p class="muted">"改好后重新上传整个文件：已导入的内容不会重复。"</p>
        })}
        {ready.then(|| view! {
            <form method="post" action=format!("/manage/import/{id}")>
                <button type="submit">"确认导入"</button>
            </form>
        })}
        {(clean && !ready).then(|| view! { <p>"文件与系统中的数据一致，没有需要导入的内容。"</p> })}
        <p><a href="/manage/import">"重新上传"</a></p>
    }
    .into_any();
    let status = if clean {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    page("导入检查", "/manage/import", None, status, body)
}

/// The upload again, as its uploader left it.
async fn stored(caller: &Caller, id: &str) -> Result<(Table, String), ApiError> {
    let id = app::api::parse_id(id)?;
    let upload = caller
        .store
        .upload(&id, &caller.user.id)
        .await?
        .ok_or_else(|| ApiError::NotFound("这个上传已过期或已导入：请重新上传文件".into()))?;
    let kind = Kind::parse(&upload.kind).ok_or(ApiError::Internal)?;
    let table = read_off_thread(Bytes::from(upload.content), upload.file_name.clone(), kind)
        .await?
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    Ok((table, upload.file_name))
}

async fn error_file(Api(caller): Api, Path(id): Path<String>) -> Result<Response, ApiError> {
    let community = administered(&caller, "import").await?;
    let (table, name) = stored(&caller, &id).await?;
    let plan = plan(&caller.store, &table, community.as_deref(), now_ms()).await?;
    let errors: Vec<(u32, String, String)> = plan
        .errors
        .iter()
        .map(|e| (e.row, e.column.clone(), e.reason.clone()))
        .collect();
    let bytes = template::error_report(&table, &errors).map_err(|e| {
        tracing::error!(error = %e, "error report");
        ApiError::Internal
    })?;
    let stem = name.trim_end_matches(".csv").trim_end_matches(".xlsx");
    Ok(xlsx(bytes, &format!("问题行-{stem}.xlsx")))
}

/// Checks the stored file again (the database may have changed since the dry
/// run) and writes it all, or nothing.
async fn apply(Api(caller): Api, Path(id): Path<String>) -> Result<Response, ApiError> {
    let community = administered(&caller, "import").await?;
    let (table, name) = stored(&caller, &id).await?;
    let now = now_ms();
    let plan = plan(&caller.store, &table, community.as_deref(), now).await?;
    if !plan.ready() {
        let mut response = plan_view(&id, &name, &table, &plan);
        *response.status_mut() = StatusCode::CONFLICT;
        return Ok(response);
    }
    let passwords = super::apply::apply(&caller, &id, &table, &plan, community.as_deref(), now).await?;
    let s = plan.summary;
    let body = view! {
        <section class="card">
            <p><strong>{format!("已导入：新建 {} · 更新 {} · 不变 {}", s.created, s.updated, s.unchanged)}</strong></p>
            <p class="muted">"网格员的手机下次同步时会收到这些变化。"</p>
        </section>
        {(!passwords.is_empty()).then(|| view! {
            <h2>"新账号的初始密码（只显示这一次）"</h2>
            <table>
                <thead><tr><th>"用户名"</th><th>"初始密码"</th></tr></thead>
                <tbody>{passwords.into_iter().map(|(u, p)| view! { <tr><td>{u}</td><td data-password>{p}</td></tr> }).collect_view()}</tbody>
            </table>
            <p class="muted">"请当面告知本人；首次登录后须改成自己的密码。"</p>
        })}
        <p><a class="btn" href="/manage/import">"继续导入"</a></p>
    }
    .into_any();
    Ok(page("导入完成", "/manage/users", None, StatusCode::OK, body))
}
