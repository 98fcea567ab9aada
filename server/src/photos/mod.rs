//! Photos of residents and visits: `PUT /api/photos/{sha256}` stores one,
//! `GET /api/photos/{sha256}[/thumb]` serves it to those allowed to see it.
//!
//! A photo is named by the SHA-256 of the bytes the phone uploads, so the
//! phone can put the name into a record before the photo is sent, a retry of
//! the same photo costs one query, and the same photo twice is stored once.
//! The stored object is the server's re-encoding (see [`check`]).

pub mod check;

use std::collections::HashSet;
use std::sync::Arc;

use app::auth::ssr::Caller;
use app::error::{ApiError, ErrorBody};
use app::state::now_ms;
use app::sync::is_photo_hash;
use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Extension, Path};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::prefix::PrefixStore;
use object_store::{GetOptions, ObjectStore, ObjectStoreExt, PutOptions, PutPayload};
use serde::Serialize;
use sha2::{Digest, Sha256};
use store::photos::{NewPhoto, PhotoState, RecordKind};
use tokio::sync::Semaphore;

use crate::auth::Api;
use check::{Refusal, Rules};

/// Where photos (and other uploaded files) live, and the rules an image upload
/// must pass.
pub struct PhotoStore {
    objects: Arc<dyn ObjectStore>,
    rules: Rules,
    /// Decoding a 25-megapixel image takes 100 MB: at most one per core at once.
    decoding: Arc<Semaphore>,
    /// New photos one user may upload in 24 hours; 0: no limit.
    daily_quota: u32,
}

/// The object store a `photo_store` setting names: `s3://bucket/prefix` on
/// any S3-compatible service, its endpoint, region and credentials from the
/// standard `AWS_*` environment variables (`AWS_ENDPOINT`,
/// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`,
/// `AWS_ALLOW_HTTP`); anything else is a local folder, created if missing.
pub fn open_objects(spec: &str) -> Result<Arc<dyn ObjectStore>, object_store::Error> {
    if let Some(rest) = spec.strip_prefix("s3://") {
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let s3 = AmazonS3Builder::from_env().with_bucket_name(bucket).build()?;
        let prefix = prefix.trim_matches('/');
        return Ok(if prefix.is_empty() {
            Arc::new(s3)
        } else {
            Arc::new(PrefixStore::new(s3, prefix))
        });
    }
    std::fs::create_dir_all(spec).map_err(|source| object_store::Error::Generic {
        store: "LocalFileSystem",
        source: Box::new(source),
    })?;
    Ok(Arc::new(LocalFileSystem::new_with_prefix(spec)?))
}

impl PhotoStore {
    /// Opens the configured store and checks that it answers, so that a wrong
    /// bucket or key stops the server at start rather than at the first photo.
    pub async fn open(spec: &str, rules: Rules) -> Result<Self, object_store::Error> {
        let objects = open_objects(spec)?;
        objects.list_with_delimiter(None).await?;
        Ok(Self::new(objects, rules))
    }

    pub fn new(objects: Arc<dyn ObjectStore>, rules: Rules) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        PhotoStore {
            objects,
            rules,
            decoding: Arc::new(Semaphore::new(cores)),
            daily_quota: 0,
        }
    }

    /// A bound on new photos per user per 24 hours: a stolen session or a
    /// phone in a loop cannot fill the bucket.
    pub fn with_daily_quota(self, daily_quota: u32) -> Self {
        PhotoStore { daily_quota, ..self }
    }

    pub fn rules(&self) -> Rules {
        self.rules
    }

    /// Runs image decoding off the async workers, at most one per core; the
    /// permit goes with the work, so a client that hangs up mid-decode does
    /// not free a slot before the decode ends.
    pub async fn decode<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, ApiError> {
        let permit = self
            .decoding
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| ApiError::Internal)?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work()
        })
        .await
        .map_err(|_| ApiError::Internal)
    }

    /// The store itself, for other uploaded files (notice attachments).
    pub fn objects(&self) -> &Arc<dyn ObjectStore> {
        &self.objects
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Variant {
    Photo,
    Thumb,
}

/// Where a photo's objects are stored: the photo and its thumbnail.
pub fn locations(hash: &str) -> [object_store::path::Path; 2] {
    [Variant::Photo.location(hash), Variant::Thumb.location(hash)]
}

impl Variant {
    fn location(self, hash: &str) -> object_store::path::Path {
        match self {
            Variant::Photo => format!("photos/{}/{hash}.jpg", &hash[..2]),
            Variant::Thumb => format!("thumbs/{}/{hash}.jpg", &hash[..2]),
        }
        .into()
    }
}

/// An upload's failure: the API's own errors, or the file refused.
pub enum UploadError {
    Api(ApiError),
    Refused(Refusal),
    /// 429: the user's new photos of the last 24 hours reached the quota.
    OverQuota(u32),
    /// 507: the photo store's disk (or quota) is full. The photo is not
    /// stored (no row; the retry writes its files again); the phone keeps it
    /// and sends it again later.
    NoSpace,
}

impl From<ApiError> for UploadError {
    fn from(e: ApiError) -> Self {
        UploadError::Api(e)
    }
}

impl From<store::Error> for UploadError {
    fn from(e: store::Error) -> Self {
        UploadError::Api(e.into())
    }
}

impl IntoResponse for UploadError {
    fn into_response(self) -> Response {
        let (status, error, message) = match self {
            UploadError::Api(e) => return e.into_response(),
            UploadError::Refused(refusal) => refusal.into_parts(),
            UploadError::OverQuota(quota) => (
                StatusCode::TOO_MANY_REQUESTS,
                "photo_quota",
                format!("24小时内最多上传{quota}张新照片，已达上限。照片留在手机上，稍后会自动再传"),
            ),
            UploadError::NoSpace => (
                StatusCode::INSUFFICIENT_STORAGE,
                "insufficient_storage",
                "服务器存储空间已满，照片留在手机上，稍后会自动再传".into(),
            ),
        };
        tracing::info!(%status, %message, "photo refused");
        let body = ErrorBody {
            error: error.into(),
            message,
        };
        (status, Json(body)).into_response()
    }
}

async fn put(photos: &PhotoStore, variant: Variant, hash: &str, bytes: &[u8]) -> Result<(), UploadError> {
    photos
        .objects
        .put_opts(
            &variant.location(hash),
            PutPayload::from(bytes.to_vec()),
            PutOptions::default(),
        )
        .await
        .map_err(write_error)?;
    Ok(())
}

fn storage_error(e: object_store::Error) -> ApiError {
    tracing::error!(error = %e, "photo storage");
    ApiError::Internal
}

/// A failed write: a full disk is said as such (the operator must act, the
/// phone only wait); anything else is the store's fault.
fn write_error(e: object_store::Error) -> UploadError {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(error) = cause {
        if let Some(io) = error.downcast_ref::<std::io::Error>()
            && matches!(
                io.kind(),
                std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
            )
        {
            tracing::error!(error = %e, "photo storage full");
            return UploadError::NoSpace;
        }
        cause = error.source();
    }
    UploadError::Api(storage_error(e))
}

/// What an upload answers.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = StoredPhoto)]
pub struct Stored {
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub hash: String,
    /// `false` when the photo was already stored (a retry, or the same photo twice).
    pub created: bool,
    pub bytes: i64,
    pub width: i64,
    pub height: i64,
}

fn parse_hash(text: &str) -> Result<String, ApiError> {
    let hash = text.to_ascii_lowercase();
    if is_photo_hash(&hash) {
        Ok(hash)
    } else {
        Err(ApiError::BadRequest("照片编号应为64位十六进制的SHA-256".into()))
    }
}

/// The answer for a photo stored before this upload, which counts as new for
/// the sweep from now (`Store::touch_photo`). `None` when it is not stored,
/// or was swept meanwhile, or lost an object (a sweep cut off halfway): then
/// the upload stores it anew.
async fn stored(caller: &Caller, photos: &PhotoStore, hash: &str) -> Result<Option<Stored>, ApiError> {
    let Some(row) = caller.store.touch_photo(hash, now_ms()).await? else {
        return Ok(None);
    };
    for variant in [Variant::Photo, Variant::Thumb] {
        match photos.objects.head(&variant.location(hash)).await {
            Ok(_) => {}
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(storage_error(e)),
        }
    }
    Ok(Some(Stored {
        hash: hash.to_owned(),
        created: false,
        bytes: row.bytes,
        width: row.width,
        height: row.height,
    }))
}

/// How far past the limit an upload is still read (and dropped) so that the
/// sender gets the 413; beyond this the connection is simply closed.
const DRAIN_FACTOR: usize = 4;

/// The upload, read whole before answering, even one over the limit or one
/// already stored: a phone still sending when the answer and the close come
/// gets a broken connection instead of the answer, and would retry for ever.
async fn read_upload(mut body: Body, rules: Rules) -> Result<Bytes, UploadError> {
    let incomplete = || UploadError::Api(ApiError::BadRequest("照片没有传完整，请重试".into()));
    let mut kept = Vec::new();
    let mut seen = 0usize;
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame.map_err(|_| incomplete())?.into_data() else {
            continue;
        };
        seen += data.len();
        if seen <= rules.max_bytes {
            kept.extend_from_slice(&data);
        } else if seen > rules.max_bytes.saturating_mul(DRAIN_FACTOR) {
            break;
        }
    }
    if seen > rules.max_bytes {
        return Err(UploadError::Refused(check::too_many_bytes(rules)));
    }
    Ok(Bytes::from(kept))
}

/// `PUT /api/photos/{sha256}`, the body the photo's bytes. Any signed-in user
/// may upload; who may see it follows from the records that name it. A retry
/// costs the upload (about 300 KB from a phone) and a lookup, no decoding.
#[utoipa::path(put, path = "/api/photos/{hash}", tag = "photos", operation_id = "uploadPhoto",
    summary = "Upload a photo",
    description = "The body is the photo's bytes (JPEG, PNG or WebP, recognised by their first bytes) and `hash` \
        their SHA-256. Idempotent: the same photo again answers 200 with `created: false` and stores nothing. \
        Refused, with nothing stored: a hash that does not match the bytes, a truncated file or one with data \
        after the image, markup hidden inside, more than 8 MB or 25 megapixels (checked from the header before \
        decoding). What is stored is the server's re-encoding (long side at most 1600 px, JPEG, no metadata) and \
        a 320 px thumbnail. `Server-Timing` reports decode, encode and thumbnail times.",
    params(("hash" = String, Path, pattern = "^[0-9a-fA-F]{64}$", description = crate::openapi::HASH_PARAM)),
    request_body(content(("image/jpeg"), ("image/png"), ("image/webp"))),
    responses(
        (status = 200, description = "Already stored.", body = Stored),
        (status = 201, description = "Stored now.", body = Stored),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 403, response = crate::openapi::CrossSite),
        (status = 408, description = "Nothing of the body arrived for `upload_idle_secs` (20 s; a slow but steady \
            upload is never cut off), or the body took longer than 15 minutes in all. Nothing is stored; the phone \
            keeps the photo and tries again later.", body = ErrorBody, example = json!({"error": "timeout",
            "message": "上传中断：20秒没有收到数据（信号不好）。照片留在手机上，稍后会自动再传"})),
        (status = 413, description = "Over the byte or pixel limit.", body = ErrorBody,
            example = json!({"error": "too_large", "message": "照片不能超过8 MB"})),
        (status = 415, description = "Not a JPEG, PNG or WebP.", body = ErrorBody,
            example = json!({"error": "unsupported_media_type", "message": "只接受 JPEG、PNG 或 WebP 格式的照片"})),
        (status = 422, description = "Broken, truncated, or carrying other data.", body = ErrorBody,
            example = json!({"error": "invalid_image", "message": "照片文件不完整，或末尾夹带了其他数据，请重新拍摄"})),
        (status = 429, description = "The caller's new photos of the last 24 hours reached `photo_daily_quota` (a \
            photo already stored does not count). The phone keeps the photo and tries again later.", body = ErrorBody,
            example = json!({"error": "photo_quota",
            "message": "24小时内最多上传300张新照片，已达上限。照片留在手机上，稍后会自动再传"})),
        (status = 500, response = crate::openapi::Internal),
        (status = 503, response = crate::openapi::Busy),
        (status = 507, description = "The photo store's disk is full. The photo is not stored (no row is written; \
            the retry writes its files again); the phone keeps it and sends it again later.", body = ErrorBody,
            example = json!({"error": "insufficient_storage",
            "message": "服务器存储空间已满，照片留在手机上，稍后会自动再传"})),
    ))]
pub async fn upload(
    Api(caller): Api,
    Extension(photos): Extension<Arc<PhotoStore>>,
    Path(hash): Path<String>,
    body: Body,
) -> Result<Response, UploadError> {
    let hash = parse_hash(&hash)?;
    let bytes = read_upload(body, photos.rules).await?;
    let digest = Sha256::digest(&bytes);
    if format!("{digest:x}") != hash {
        return Err(ApiError::BadRequest("照片内容与编号不符（可能没有传完整），请重试".into()).into());
    }
    if let Some(existing) = stored(&caller, &photos, &hash).await? {
        return Ok((StatusCode::OK, Json(existing)).into_response());
    }
    let (stored, timing) = keep(&caller, &photos, hash, bytes).await?;
    let mut response = (StatusCode::CREATED, Json(stored)).into_response();
    if let Ok(value) = HeaderValue::from_str(&timing) {
        response.headers_mut().insert("server-timing", value);
    }
    Ok(response)
}

/// Checks, cleans and stores a new photo under `hash` (the SHA-256 of the
/// bytes as sent), within the caller's daily quota: the photo and its
/// thumbnail, then its row. Returns what was stored and the timings, as a
/// `Server-Timing` value.
pub async fn keep(
    caller: &app::auth::ssr::Caller,
    photos: &PhotoStore,
    hash: String,
    bytes: Bytes,
) -> Result<(Stored, String), UploadError> {
    if photos.daily_quota > 0 {
        let since = now_ms() - 24 * 3_600_000;
        let recent = caller.store.photos_uploaded_since(&caller.user.id, since).await?;
        if recent >= i64::from(photos.daily_quota) {
            tracing::warn!(user = %caller.user.id, recent, "photo quota reached");
            return Err(UploadError::OverQuota(photos.daily_quota));
        }
    }
    let rules = photos.rules;
    let cleaned = photos
        .decode(move || check::clean(&bytes, rules))
        .await?
        .map_err(UploadError::Refused)?;
    // Objects first, the row last: a row always means both objects exist.
    // Two uploads of one photo at once write the same bytes; puts are atomic.
    let objects = [(Variant::Photo, &cleaned.photo), (Variant::Thumb, &cleaned.thumb)];
    for (variant, bytes) in objects {
        put(photos, variant, &hash, bytes).await?;
    }
    let now = now_ms();
    let photo = NewPhoto {
        hash: &hash,
        bytes: cleaned.photo.len() as i64,
        width: i64::from(cleaned.width),
        height: i64::from(cleaned.height),
        thumb_bytes: cleaned.thumb.len() as i64,
        uploaded_by: &caller.user.id,
        at: now,
    };
    let audit = caller.audit_entry(now, "create", "photo", &hash);
    caller.store.insert_photo(&photo, audit).await?;
    // A sweep that decided under the object's lock, before the row was
    // written, that these objects were left over may have removed them after
    // they were put; once the row is written no sweep removes them (it is
    // new), so what is missing now is put back for good.
    for (variant, bytes) in objects {
        if let Err(object_store::Error::NotFound { .. }) = photos.objects.head(&variant.location(&hash)).await {
            tracing::info!(%hash, ?variant, "photo object swept during its upload; stored again");
            put(photos, variant, &hash, bytes).await?;
        }
    }
    let timing = format!(
        "decode;dur={:.1}, encode;dur={:.1}, thumb;dur={:.1}",
        cleaned.decode.as_secs_f64() * 1000.0,
        cleaned.encode.as_secs_f64() * 1000.0,
        cleaned.thumbnail.as_secs_f64() * 1000.0
    );
    let stored = Stored {
        hash,
        created: true,
        bytes: cleaned.photo.len() as i64,
        width: i64::from(cleaned.width),
        height: i64::from(cleaned.height),
    };
    Ok((stored, timing))
}

/// Stores a photo sent whole from a form (the desk intake): named by the
/// SHA-256 of its bytes as the phone names its photos; one already stored is
/// not stored again.
pub async fn keep_sent(
    caller: &app::auth::ssr::Caller,
    photos: &PhotoStore,
    bytes: Bytes,
) -> Result<String, UploadError> {
    if bytes.len() > photos.rules.max_bytes {
        return Err(UploadError::Refused(check::too_many_bytes(photos.rules)));
    }
    let hash = format!("{:x}", Sha256::digest(&bytes));
    if stored(caller, photos, &hash).await?.is_none() {
        keep(caller, photos, hash.clone(), bytes).await?;
    }
    Ok(hash)
}

/// `GET /api/photos/{sha256}`.
#[utoipa::path(get, path = "/api/photos/{hash}", tag = "photos", operation_id = "getPhoto", summary = "A photo",
    description = "A photo is bound to the first record that named it (a resident, a visit or a request; a record \
        may name a photo before its upload): served to users who may see that record's grid now, and to its \
        uploader while no record in a grid names it; 404 to anyone else, as for any record out of scope. Every \
        view, revalidations included, is written to the access log. `Cache-Control: private, no-cache` with an \
        ETag: browsers revalidate, shared caches keep nothing.",
    params(("hash" = String, Path, pattern = "^[0-9a-fA-F]{64}$", description = crate::openapi::HASH_PARAM)),
    responses(
        (status = 200, description = "The photo.", content_type = "image/jpeg"),
        (status = 304, description = "Unchanged (If-None-Match)."),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 404, response = crate::openapi::NotFound),
        (status = 408, response = crate::openapi::Timeout),
        (status = 500, response = crate::openapi::Internal),
        (status = 503, response = crate::openapi::Busy),
    ))]
pub async fn photo(
    api: Api,
    photos: Extension<Arc<PhotoStore>>,
    hash: Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    serve(api.0, &photos, &hash, &headers, Variant::Photo).await
}

/// `GET /api/photos/{sha256}/thumb`.
#[utoipa::path(get, path = "/api/photos/{hash}/thumb", tag = "photos", operation_id = "getPhotoThumb",
    summary = "A photo's thumbnail (long side 320 px)", description = "As GET /api/photos/{hash}.",
    params(("hash" = String, Path, pattern = "^[0-9a-fA-F]{64}$", description = crate::openapi::HASH_PARAM)),
    responses(
        (status = 200, description = "The photo.", content_type = "image/jpeg"),
        (status = 304, description = "Unchanged (If-None-Match)."),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 404, response = crate::openapi::NotFound),
        (status = 408, response = crate::openapi::Timeout),
        (status = 500, response = crate::openapi::Internal),
        (status = 503, response = crate::openapi::Busy),
    ))]
pub async fn thumb(
    api: Api,
    photos: Extension<Arc<PhotoStore>>,
    hash: Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    serve(api.0, &photos, &hash, &headers, Variant::Thumb).await
}

/// Who may see a stored photo: whoever sees the grid of the record it is
/// bound to (the first that named it, where that record is now); its
/// uploader while no record in a grid holds it (not named yet, or named by a
/// community-wide request). `None`: no photo stored (yet).
pub fn visible_to(state: &PhotoState, user_id: &str, grids: &HashSet<String>) -> Option<bool> {
    let uploader = state.uploaded_by.as_deref()?;
    let bound_grid = state.binding.as_ref().and_then(|b| b.grid_id.as_deref());
    Some(match bound_grid {
        Some(grid) => grids.contains(grid),
        None => uploader == user_id,
    })
}

/// A record about to name a photo: its kind, its id and its grid (`None`: a
/// community-wide request).
#[derive(Debug, Clone, Copy)]
pub struct Naming<'a> {
    pub kind: RecordKind,
    pub id: &'a str,
    pub grid: Option<&'a str>,
}

/// A photo stored by someone else and not named yet.
pub const FOREIGN_PHOTO: &str = "照片不属于您负责的网格，不能在这条记录中引用";
/// A photo another record named first, outside this record's grid.
pub const PHOTO_BOUND_ELSEWHERE: &str = "这张照片已用于其他网格或其他事项的记录，不能在这里引用，请重新拍摄";

/// Whether a record may name a photo, or why not. A photo is bound to the
/// first record that names it, uploaded or not (a phone names its photos
/// before sending them): that record, and other records of the same grid,
/// may name it; a record elsewhere may not, since naming it would show it
/// there. A photo no record names yet may be named by anyone if it is not
/// stored, and by its uploader if it is.
pub fn may_name(state: &PhotoState, user_id: &str, naming: Naming<'_>) -> Result<(), &'static str> {
    match &state.binding {
        Some(bound) if bound.record_kind == naming.kind.as_str() && bound.record_id == naming.id => Ok(()),
        Some(bound) if bound.grid_id.is_some() && bound.grid_id.as_deref() == naming.grid => Ok(()),
        Some(_) => Err(PHOTO_BOUND_ELSEWHERE),
        None if state.uploaded_by.as_deref().is_none_or(|u| u == user_id) => Ok(()),
        None => Err(FOREIGN_PHOTO),
    }
}

async fn may_see(caller: &Caller, hash: &str) -> Result<bool, ApiError> {
    let grids: HashSet<String> = caller.user.visible_grids(&caller.store).await?.into_iter().collect();
    let state = caller.store.photo_state(hash).await?;
    Ok(visible_to(&state, &caller.user.id, &grids).unwrap_or(false))
}

/// Every view is logged, a revalidated one too; the answer may be kept by the
/// browser (`private`) but never by a shared cache, and is checked again each
/// time (`no-cache`), so a user who lost access stops seeing it.
async fn serve(
    caller: Caller,
    photos: &PhotoStore,
    hash: &str,
    headers: &HeaderMap,
    variant: Variant,
) -> Result<Response, ApiError> {
    let hash = parse_hash(hash)?;
    if !may_see(&caller, &hash).await? {
        caller.audit("denied", "photo", &hash).await?;
        return Err(ApiError::not_found());
    }
    caller.audit("read", "photo", &hash).await?;
    let etag = format!("\"{hash}{}\"", if variant == Variant::Thumb { "-t" } else { "" });
    let cache = [
        (header::CACHE_CONTROL, HeaderValue::from_static("private, no-cache")),
        (header::VARY, HeaderValue::from_static("Cookie")),
    ];
    let etag_value = HeaderValue::from_str(&etag).map_err(|_| ApiError::Internal)?;
    if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes())
    {
        return Ok((StatusCode::NOT_MODIFIED, cache, [(header::ETAG, etag_value)]).into_response());
    }
    let bytes = photos
        .objects
        .get_opts(&variant.location(&hash), GetOptions::default())
        .await
        .map_err(storage_error)?
        .bytes()
        .await
        .map_err(storage_error)?;
    Ok((
        cache,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("image/jpeg")),
            (header::ETAG, etag_value),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("default-src 'none'; sandbox"),
            ),
        ],
        bytes,
    )
        .into_response())
}
