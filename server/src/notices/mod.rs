//! Notices for residents (党务公开, 居务公开, 财务公开, 办事指南, 活动通知).
//! Leads write and publish them for their community; anyone reads the published
//! ones without an account. All of it is plain server-rendered HTML with forms:
//! no WASM, so the public pages stay small for old phones and read with
//! JavaScript off, and authoring costs the worker app's bundle nothing.

pub mod attachments;
mod building;
pub mod markdown;
mod pages;
pub(crate) use pages::{PUBLIC_CSS, public_error};
mod poster;

use std::collections::HashMap;
use std::sync::Arc;

use app::api::parse_id;
use app::auth::ssr::Caller;
use app::domain::Role;
use app::error::ApiError;
use app::state::{AppState, now_ms};
use axum::extract::{DefaultBodyLimit, Form, Multipart, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use store::notices::{Attached, CommunityRow, NewAttachment, NewNotice, NoticeRow, NoticeText, Revision, StatusChange};

use crate::auth::Api;
use crate::client::ClientIp;
use crate::limits::RateLimiter;
use crate::photos::PhotoStore;
use crate::routes::{Routes, get, post};
use crate::staff::form_body;

/// The categories communities must publish under, in display order.
pub const CATEGORIES: [(&str, &str); 5] = [
    ("party", "党务公开"),
    ("affairs", "居务公开"),
    ("finance", "财务公开"),
    ("guide", "办事指南"),
    ("event", "活动通知"),
];

pub fn category_label(code: &str) -> &'static str {
    CATEGORIES.iter().find(|(c, _)| *c == code).map_or("公告", |(_, l)| l)
}

const MAX_TITLE_CHARS: usize = 100;

/// The configured public address (`Settings::public_url`), if any.
#[derive(Clone)]
struct PublicUrl(Option<Arc<str>>);

pub fn routes(limiter: Arc<RateLimiter>, public_url: Option<String>, photos: Arc<PhotoStore>) -> Routes {
    let public = Routes::new()
        .route("/n/sw.js", get(pages::service_worker))
        .route("/n/register.js", get(pages::register_script))
        .route("/n/{community}", get(public_index))
        .route("/n/{community}/feed.atom", get(feed))
        .route("/n/{community}/poster.svg", get(poster_svg))
        .route("/n/{community}/b/{building}", get(building::building_page))
        .route("/n/{community}/b/{building}/poster.svg", get(building::building_poster))
        .route("/n/{community}/{notice}", get(public_notice))
        .route("/n/{community}/{notice}/files/{hash}", get(public_file))
        .layer(axum::middleware::from_fn_with_state(limiter, limit_by_address));
    Routes::new()
        .merge(public)
        .route("/manage/notices", get(manage_list).post(create))
        .route("/manage/notices/new", get(new_form))
        .route("/manage/notices/{id}", get(edit_form).post(update))
        .route("/manage/notices/{id}/{action}", post(change_status))
        .route(
            "/manage/notices/{id}/files",
            post(upload_file)
                .layer(DefaultBodyLimit::max(attachments::MAX_PDF_BYTES + 64 * 1024))
                .layer(axum::middleware::from_fn(crate::deadline::allow_slow_body)),
        )
        .route("/manage/notices/{id}/files/{hash}", get(manage_file))
        .route("/manage/notices/{id}/files/{hash}/delete", post(delete_file))
        .layer(axum::Extension(photos))
        .layer(axum::Extension(PublicUrl(
            public_url.map(|url| url.trim_end_matches('/').into()),
        )))
}

/// Public routes have no account to limit by: the address is the key.
pub(crate) async fn limit_by_address(
    State(limiter): State<Arc<RateLimiter>>,
    client: ClientIp,
    request: Request,
    next: Next,
) -> Response {
    match limiter.check(client.0, now_ms()).await {
        Ok(Ok(())) => next.run(request).await,
        Ok(Err(wait)) => PublicError(ApiError::RateLimited(wait)).into_response(),
        Err(e) => PublicError(e.into()).into_response(),
    }
}

/// A community by the id in a public address; 404 for any other.
pub(crate) async fn public_community(state: &AppState, id: &str) -> Result<CommunityRow, PublicError> {
    let id = parse_id(id)?;
    Ok(state
        .store
        .public_community(&id)
        .await?
        .ok_or_else(|| ApiError::NotFound("没有这个社区".into()))?)
}

/// Published notices only, and only from their publication time on: drafts,
/// withdrawn and scheduled ones do not exist publicly.
async fn published(state: &AppState, community_id: &str) -> Result<Vec<NoticeRow>, PublicError> {
    Ok(state.store.published_notices(community_id, now_ms()).await?)
}

/// Public answers are cache-friendly but never stale: any cache may keep them
/// and must revalidate each time (a 304 by ETag costs no rendering on the
/// phone's side), so a withdrawn notice is gone at once. The policy forbids any
/// script but our own file and any plugin, frame or form target: even a body
/// that slipped past the sanitiser could not run.
fn public_page(request: &HeaderMap, body: String, content_type: &'static str) -> Response {
    let digest = Sha256::digest(body.as_bytes());
    let etag = format!(
        "\"{}\"",
        digest[..12].iter().map(|b| format!("{b:02x}")).collect::<String>()
    );
    let headers = [
        (header::CACHE_CONTROL, HeaderValue::from_static("public, no-cache")),
        (
            header::ETAG,
            HeaderValue::from_str(&etag).unwrap_or(HeaderValue::from_static("\"\"")),
        ),
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src 'self'; \
                 connect-src 'self'; worker-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
            ),
        ),
    ];
    let unchanged = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|t| t.trim() == etag));
    if unchanged {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    (
        headers,
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        body,
    )
        .into_response()
}

/// Errors on public pages answer as a readable page, not JSON.
pub struct PublicError(pub ApiError);

impl From<ApiError> for PublicError {
    fn from(e: ApiError) -> Self {
        PublicError(e)
    }
}

impl From<store::Error> for PublicError {
    fn from(e: store::Error) -> Self {
        PublicError(e.into())
    }
}

impl IntoResponse for PublicError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        html(status, pages::public_error(&self.0.to_string()))
    }
}

#[derive(Debug, Deserialize, Default)]
pub struct View {
    /// Category code to show only that category.
    pub c: Option<String>,
    /// `large` for the large-text reading mode.
    pub size: Option<String>,
}

impl View {
    pub fn large(&self) -> bool {
        self.size.as_deref() == Some("large")
    }
}

async fn public_index(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(community_id): Path<String>,
    Query(view): Query<View>,
) -> Result<Response, PublicError> {
    let community = public_community(&state, &community_id).await?;
    let mut notices = published(&state, &community.id).await?;
    if let Some(c) = view.c.as_deref() {
        notices.retain(|n| n.category == c);
    }
    Ok(public_page(
        &headers,
        pages::public_index(&community, &notices, &view),
        "text/html; charset=utf-8",
    ))
}

async fn public_notice(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((community_id, notice_id)): Path<(String, String)>,
    Query(view): Query<View>,
) -> Result<Response, PublicError> {
    let community = public_community(&state, &community_id).await?;
    let notice = state
        .store
        .published_notice(&community.id, &parse_id(&notice_id)?, now_ms())
        .await?
        .ok_or_else(|| ApiError::NotFound("没有这条公告，可能已撤回".into()))?;
    let files = state.store.public_notice_files(&notice.id).await?;
    Ok(public_page(
        &headers,
        pages::public_notice(&community, &notice, &files, &view),
        "text/html; charset=utf-8",
    ))
}

async fn feed(
    State(state): State<AppState>,
    axum::Extension(public_url): axum::Extension<PublicUrl>,
    headers: HeaderMap,
    Path(community_id): Path<String>,
) -> Result<Response, PublicError> {
    let community = public_community(&state, &community_id).await?;
    let notices = published(&state, &community.id).await?;
    let base = site_base(&public_url, &headers)?;
    Ok(public_page(
        &headers,
        pages::atom_feed(&base, &community, &notices),
        "application/atom+xml; charset=utf-8",
    ))
}

async fn poster_svg(
    State(state): State<AppState>,
    axum::Extension(public_url): axum::Extension<PublicUrl>,
    headers: HeaderMap,
    Path(community_id): Path<String>,
) -> Result<Response, PublicError> {
    let community = public_community(&state, &community_id).await?;
    let url = format!("{}/n/{}", site_base(&public_url, &headers)?, community.id);
    Ok(public_page(
        &headers,
        poster::svg(&community, &url),
        "image/svg+xml; charset=utf-8",
    ))
}

/// The address residents reach this server by, for absolute links (feed, QR):
/// the configured one. Without it, the request's host only when that is this
/// machine (a local install, over http): any other Host header could be
/// anyone's, and a proxy's cache would hand their links to every resident.
fn site_base(public_url: &PublicUrl, headers: &HeaderMap) -> Result<String, PublicError> {
    if let Some(url) = &public_url.0 {
        return Ok(url.to_string());
    }
    headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|host| is_loopback_host(host))
        .map(|host| format!("http://{host}"))
        .ok_or_else(|| {
            ApiError::NotFound("订阅和二维码海报需要先设置本站的公开地址（public_url），请联系管理员".into()).into()
        })
}

/// `localhost`, `127.0.0.1`, `[::1]`, with or without a port.
fn is_loopback_host(host: &str) -> bool {
    let name = match host.rsplit_once(':') {
        Some((name, port)) if !name.ends_with(':') && port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

// ---- authoring (leads and admins) ----

/// The communities the caller may publish for: a lead's own, every one for an
/// admin, none for a worker.
async fn writable_communities(caller: &Caller) -> Result<Vec<CommunityRow>, ApiError> {
    Ok(match (caller.user.role, caller.user.community_id.as_deref()) {
        (Role::Admin, _) => caller.store.communities().await?,
        (Role::Lead, Some(id)) => caller.store.community(id).await?.into_iter().collect(),
        (Role::Lead, None) | (Role::Worker | Role::Member, _) => Vec::new(),
    })
}

async fn require_author(caller: &Caller) -> Result<Vec<CommunityRow>, ApiError> {
    let communities = writable_communities(caller).await?;
    if communities.is_empty() {
        caller.audit("denied", "notices", "-").await?;
        return Err(ApiError::Forbidden);
    }
    Ok(communities)
}

/// A notice the caller may edit; others answer 404 (ids are not probed).
async fn own_notice(caller: &Caller, communities: &[CommunityRow], id: &str) -> Result<NoticeRow, ApiError> {
    caller
        .store
        .notice(&parse_id(id)?)
        .await?
        .filter(|n| communities.iter().any(|c| c.id == n.community_id))
        .ok_or_else(|| ApiError::NotFound("没有这条公告".into()))
}

fn html(status: StatusCode, body: String) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        )],
        body,
    )
        .into_response()
}

async fn manage_list(Api(caller): Api) -> Result<Response, ApiError> {
    let communities = require_author(&caller).await?;
    let ids: Vec<String> = communities.iter().map(|c| c.id.clone()).collect();
    let notices = caller.store.community_notices(&ids).await?;
    Ok(html(StatusCode::OK, pages::manage_list(&communities, &notices)))
}

async fn new_form(Api(caller): Api) -> Result<Response, ApiError> {
    let communities = require_author(&caller).await?;
    Ok(html(
        StatusCode::OK,
        pages::edit_form(&communities, None, &Draft::default(), None, &[], &[]),
    ))
}

/// What the form posts.
#[derive(Debug, Deserialize, Default, Clone)]
pub struct Draft {
    #[serde(default)]
    pub community_id: String,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub body: String,
}

impl Draft {
    /// The notice as it stands, for forms and revisions.
    fn of(notice: &NoticeRow) -> Draft {
        Draft {
            community_id: notice.community_id.clone(),
            category: notice.category.clone(),
            title: notice.title.clone(),
            body: notice.body.clone(),
        }
    }

    /// The text as saved: the title trimmed.
    fn text(&self) -> NoticeText<'_> {
        NoticeText {
            category: &self.category,
            title: self.title.trim(),
            body: &self.body,
        }
    }

    pub(crate) fn check(&self) -> Result<(), String> {
        let title = self.title.trim();
        if title.is_empty() {
            return Err("请填写标题".into());
        }
        if title.chars().count() > MAX_TITLE_CHARS {
            return Err(format!("标题不能超过{MAX_TITLE_CHARS}个字"));
        }
        if !CATEGORIES.iter().any(|(c, _)| *c == self.category) {
            return Err("请选择公开类别".into());
        }
        if self.body.trim().is_empty() {
            return Err("请填写正文".into());
        }
        if self.body.chars().count() > markdown::MAX_BODY_CHARS {
            return Err(format!("正文不能超过{}字", markdown::MAX_BODY_CHARS));
        }
        Ok(())
    }
}

async fn revision(
    tx: &mut store::Tx,
    caller: &Caller,
    notice_id: &str,
    action: &str,
    draft: &Draft,
) -> Result<(), ApiError> {
    tx.insert_notice_revision(&Revision {
        notice_id,
        action,
        text: draft.text(),
        user_id: &caller.user.id,
        at: now_ms(),
    })
    .await?;
    Ok(())
}

type FormResult = Result<Form<Draft>, axum::extract::rejection::FormRejection>;

async fn create(Api(caller): Api, form: FormResult) -> Result<Response, ApiError> {
    let communities = require_author(&caller).await?;
    let draft = form_body(form)?;
    let community_ok = communities.iter().any(|c| c.id == draft.community_id);
    if let Err(message) = draft.check().and_then(|()| {
        if community_ok {
            Ok(())
        } else {
            Err("请选择社区".into())
        }
    }) {
        return Ok(html(
            StatusCode::BAD_REQUEST,
            pages::edit_form(&communities, None, &draft, Some(&message), &[], &[]),
        ));
    }
    let id = save_draft(&caller, &draft).await?;
    Ok(Redirect::to(&format!("/manage/notices/{id}?saved=1")).into_response())
}

/// Stores a new draft notice, checked by the caller (who may publish for its
/// community), with its first revision; returns its id.
pub async fn save_draft(caller: &Caller, draft: &Draft) -> Result<String, ApiError> {
    let mut tx = caller.store.begin().await?;
    let id = insert_draft(&mut tx, caller, draft, now_ms()).await?;
    tx.commit().await?;
    Ok(id)
}

/// [`save_draft`] in the caller's transaction, beside what the caller writes
/// with it (an activity that points at its notice).
pub(crate) async fn insert_draft(
    tx: &mut store::Tx,
    caller: &Caller,
    draft: &Draft,
    now: i64,
) -> Result<String, ApiError> {
    let id = store::new_id();
    let text = draft.text();
    tx.insert_notice(&NewNotice {
        id: &id,
        community_id: &draft.community_id,
        category: text.category,
        title: text.title,
        body: text.body,
        created_by: &caller.user.id,
        at: now,
    })
    .await?;
    revision(tx, caller, &id, "create", draft).await?;
    tx.audit(caller.audit_entry(now, "create", "notice", &id)).await?;
    Ok(id)
}

/// Publishes a notice now, in the caller's transaction, with its revision and audit row.
pub(crate) async fn publish_in(
    tx: &mut store::Tx,
    caller: &Caller,
    id: &str,
    draft: &Draft,
    now: i64,
) -> Result<(), ApiError> {
    tx.change_notice_status(id, StatusChange::Publish, now).await?;
    revision(tx, caller, id, StatusChange::Publish.action(), draft).await?;
    tx.audit(caller.audit_entry(now, "update", "notice", id)).await?;
    Ok(())
}

async fn edit_form(
    Api(caller): Api,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let communities = require_author(&caller).await?;
    let notice = own_notice(&caller, &communities, &id).await?;
    let draft = Draft::of(&notice);
    let saved = query.contains_key("saved").then_some("已保存");
    Ok(html(
        StatusCode::OK,
        pages::edit_form(
            &communities,
            Some(&notice),
            &draft,
            saved,
            &caller.store.notice_history(&notice.id).await?,
            &caller.store.notice_files(&notice.id).await?,
        ),
    ))
}

async fn update(Api(caller): Api, Path(id): Path<String>, form: FormResult) -> Result<Response, ApiError> {
    let communities = require_author(&caller).await?;
    let notice = own_notice(&caller, &communities, &id).await?;
    let mut draft = form_body(form)?;
    // A notice stays in its community.
    draft.community_id = notice.community_id.clone();
    if let Err(message) = draft.check() {
        let history = caller.store.notice_history(&notice.id).await?;
        let files = caller.store.notice_files(&notice.id).await?;
        return Ok(html(
            StatusCode::BAD_REQUEST,
            pages::edit_form(&communities, Some(&notice), &draft, Some(&message), &history, &files),
        ));
    }
    let now = now_ms();
    let mut tx = caller.store.begin().await?;
    tx.update_notice_text(&notice.id, draft.text(), now).await?;
    revision(&mut tx, &caller, &notice.id, "edit", &draft).await?;
    tx.audit(caller.audit_entry(now, "update", "notice", &notice.id))
        .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/manage/notices/{}?saved=1", notice.id)).into_response())
}

/// Publishes a notice at a later time: it is `published` now but stays out of
/// every public page and the feed until then (the public queries compare
/// `published_at` with the clock, so nothing has to run at that moment).
async fn schedule(
    caller: Caller,
    communities: &[CommunityRow],
    notice: NoticeRow,
    at: Option<i64>,
    now: i64,
) -> Result<Response, ApiError> {
    let draft = Draft::of(&notice);
    let Some(at) = at.filter(|at| *at > now) else {
        let message = "请填写晚于现在的发布时间（年-月-日 时:分，北京时间）";
        return edit_page_with(&caller, communities, &notice, StatusCode::BAD_REQUEST, message).await;
    };
    let mut tx = caller.store.begin().await?;
    tx.schedule_notice(&notice.id, at, now).await?;
    revision(&mut tx, &caller, &notice.id, "publish", &draft).await?;
    tx.audit(caller.audit_entry(now, "update", "notice", &notice.id))
        .await?;
    tx.commit().await?;
    Ok(Redirect::to("/manage/notices").into_response())
}

/// A scheduled publication time, `YYYY-MM-DDTHH:MM` in Beijing time (what a
/// `datetime-local` field sends), as epoch milliseconds.
pub(crate) fn beijing_time(text: &str) -> Option<i64> {
    let (date, time) = text.trim().split_once('T')?;
    let date = app::domain::CivilDate::parse(date)?;
    let (hours, minutes) = time.get(..5)?.split_once(':')?;
    let (hours, minutes): (i64, i64) = (hours.parse().ok()?, minutes.parse().ok()?);
    if !(0..24).contains(&hours) || !(0..60).contains(&minutes) {
        return None;
    }
    Some(date.epoch_day() * 86_400_000 + (hours * 60 + minutes) * 60_000 - app::policy::BEIJING_OFFSET_MS)
}

#[derive(Debug, Default, Deserialize)]
struct StatusForm {
    /// For `schedule`: when the notice goes public.
    at: Option<String>,
}

async fn change_status(
    Api(caller): Api,
    Path((id, action)): Path<(String, String)>,
    form: Result<Form<StatusForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, ApiError> {
    let communities = require_author(&caller).await?;
    let notice = own_notice(&caller, &communities, &id).await?;
    let now = now_ms();
    if action == "schedule" {
        let at = form.ok().and_then(|Form(f)| f.at).as_deref().and_then(beijing_time);
        return schedule(caller, &communities, notice, at, now).await;
    }
    let change = match action.as_str() {
        "publish" => StatusChange::Publish,
        "withdraw" => StatusChange::Withdraw,
        "pin" => StatusChange::Pin,
        "unpin" => StatusChange::Unpin,
        _ => return Err(ApiError::NotFound("没有这个操作".into())),
    };
    let draft = Draft::of(&notice);
    let mut tx = caller.store.begin().await?;
    tx.change_notice_status(&notice.id, change, now).await?;
    revision(&mut tx, &caller, &notice.id, change.action(), &draft).await?;
    tx.audit(caller.audit_entry(now, "update", "notice", &notice.id))
        .await?;
    tx.commit().await?;
    Ok(Redirect::to("/manage/notices").into_response())
}

// ---- attachments ----

/// The edit page again, with a message (a refused file, a bad time).
async fn edit_page_with(
    caller: &Caller,
    communities: &[CommunityRow],
    notice: &NoticeRow,
    status: StatusCode,
    message: &str,
) -> Result<Response, ApiError> {
    let draft = Draft::of(notice);
    let history = caller.store.notice_history(&notice.id).await?;
    let files = caller.store.notice_files(&notice.id).await?;
    Ok(html(
        status,
        pages::edit_form(communities, Some(notice), &draft, Some(message), &history, &files),
    ))
}

/// `POST /manage/notices/{id}/files`, a form with one file: checked, stored,
/// listed on the notice. A refusal comes back on the edit page with the reason.
async fn upload_file(
    Api(caller): Api,
    axum::Extension(photos): axum::Extension<Arc<PhotoStore>>,
    Path(id): Path<String>,
    form: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, ApiError> {
    let communities = require_author(&caller).await?;
    let notice = own_notice(&caller, &communities, &id).await?;
    let refuse = |status: StatusCode, message: String| {
        let (caller, communities, notice) = (&caller, &communities, &notice);
        async move { edit_page_with(caller, communities, notice, status, &message).await }
    };
    let mut file = None;
    if let Ok(mut form) = form {
        while let Ok(Some(field)) = form.next_field().await {
            if field.name() == Some("file") {
                let name = field
                    .file_name()
                    .unwrap_or("附件")
                    .trim()
                    .chars()
                    .take(100)
                    .collect::<String>();
                match field.bytes().await {
                    Ok(bytes) => file = Some((name, bytes)),
                    Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                        let message = "附件过大：图片不超过8 MB，PDF 不超过10 MB".to_owned();
                        return refuse(StatusCode::PAYLOAD_TOO_LARGE, message).await;
                    }
                    Err(_) => {}
                }
                break;
            }
        }
    }
    let Some((name, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        return refuse(StatusCode::BAD_REQUEST, "请选择要上传的图片或 PDF 文件".into()).await;
    };
    // Counted after the body is read: a refusal sent mid-upload reaches a
    // browser as a broken connection, not as the page with the reason. This
    // count spares decoding a file for a full notice; `add_notice_file`
    // counts again under a lock and decides.
    if caller.store.notice_file_count(&notice.id).await? >= attachments::MAX_FILES {
        return refuse(StatusCode::BAD_REQUEST, too_many_files()).await;
    }

    let rules = photos.rules();
    let size = bytes.len();
    let checked = photos.decode(move || attachments::accept(&bytes, rules)).await?;
    let (kind, stored) = match checked {
        Ok(accepted) => accepted,
        Err(refusal) => {
            let (status, _, message) = refusal.into_parts();
            tracing::info!(%status, %message, size, "notice file refused");
            return refuse(status, message).await;
        }
    };
    let stored_bytes = stored.len() as i64;
    let hash = attachments::store(&photos, kind, &stored).await?;
    let now = now_ms();
    let file = NewAttachment {
        notice_id: &notice.id,
        hash: &hash,
        kind,
        name: &name,
        bytes: stored_bytes,
        added_by: &caller.user.id,
        at: now,
    };
    let audit = caller.audit_entry(now, "create", "notice_file", &hash);
    // Full by now (another upload won the last place): the stored object
    // stays, unlisted; objects are named by content and may serve other
    // notices, so none is deleted here.
    let attached = caller
        .store
        .add_notice_file(&file, attachments::MAX_FILES, audit)
        .await?;
    if attached == Attached::Full {
        return refuse(StatusCode::BAD_REQUEST, too_many_files()).await;
    }
    attachments::store_again_if_swept(&photos, kind, &hash, &stored).await?;
    Ok(Redirect::to(&format!("/manage/notices/{}?saved=1", notice.id)).into_response())
}

fn too_many_files() -> String {
    format!("一条公告最多{}个附件", attachments::MAX_FILES)
}

async fn delete_file(Api(caller): Api, Path((id, hash)): Path<(String, String)>) -> Result<Response, ApiError> {
    let communities = require_author(&caller).await?;
    let notice = own_notice(&caller, &communities, &id).await?;
    let mut tx = caller.store.begin().await?;
    tx.delete_notice_file(&notice.id, &hash).await?;
    tx.audit(caller.audit_entry(now_ms(), "update", "notice", &notice.id))
        .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/manage/notices/{}?saved=1", notice.id)).into_response())
}

/// The author's preview, drafts included.
async fn manage_file(
    Api(caller): Api,
    axum::Extension(photos): axum::Extension<Arc<PhotoStore>>,
    Path((id, hash)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let communities = require_author(&caller).await?;
    let notice = own_notice(&caller, &communities, &id).await?;
    let file = caller
        .store
        .notice_file(&notice.id, &hash)
        .await?
        .ok_or_else(|| ApiError::NotFound("没有这个附件".into()))?;
    attachments::serve(&photos, &file, &headers, "private, no-cache").await
}

/// A file of a public notice, while the notice is public.
async fn public_file(
    State(state): State<AppState>,
    axum::Extension(photos): axum::Extension<Arc<PhotoStore>>,
    headers: HeaderMap,
    Path((community_id, notice_id, hash)): Path<(String, String, String)>,
) -> Result<Response, PublicError> {
    let file = state
        .store
        .public_notice_file(&parse_id(&community_id)?, &parse_id(&notice_id)?, &hash, now_ms())
        .await?
        .ok_or_else(|| ApiError::NotFound("没有这个附件，或公告已撤回".into()))?;
    Ok(attachments::serve(&photos, &file, &headers, "public, no-cache").await?)
}

#[cfg(test)]
mod tests {
    use super::is_loopback_host;

    #[test]
    fn only_this_machine_names_itself_without_a_public_url() {
        for host in [
            "localhost",
            "LOCALHOST:3000",
            "127.0.0.1",
            "127.0.0.1:8080",
            "[::1]:3000",
            "[::1]",
        ] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in [
            "evil.example",
            "10.0.0.2:3000",
            "localhost.evil.example",
            "127.0.0.1.nip.io",
            "[2001:db8::1]:80",
        ] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }
}
