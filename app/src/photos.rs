//! Photos on the phone. A photo is shrunk and re-encoded by the browser's own
//! decoder and a canvas (long side 1600 px, JPEG 0.8; re-encoding drops EXIF,
//! GPS included), kept in IndexedDB with a thumbnail, named by its SHA-256, and
//! uploaded by a queue of its own after the records: a record names its photos
//! by hash and is valid before they arrive, so photos never hold records up.
//! Everything but the small display pieces is in WASM chunks.

use leptos::prelude::*;

use crate::model::ResidentDetail;
use crate::outbox::use_sync_status;
use crate::ui::FormOpener;

/// Unsent photos may use this much of the phone; the worker is warned at 80 %.
pub const BUDGET_BYTES: f64 = 150.0 * 1024.0 * 1024.0;

/// A photo's thumbnail by hash. Offline, or before the photo is uploaded, the
/// service worker answers with the phone's own copy (sw.js).
#[component]
pub fn PhotoImg(
    hash: String,
    #[prop(into)] class: String,
    /// An object URL of the phone's copy to show instead (a photo just taken).
    #[prop(default = None)]
    local: Option<String>,
) -> impl IntoView {
    let src = local.unwrap_or_else(|| format!("/api/photos/{hash}/thumb"));
    view! { <img class=class src=src alt="照片" loading="lazy"/> }
}

/// The profile photo on the resident page: the photo (or the initial) and the
/// button that opens the camera form.
#[component]
pub fn ResidentPhoto(detail: ResidentDetail) -> impl IntoView {
    let current = RwSignal::new(detail.photo.clone());
    // A photo just taken shows from the phone's copy at once.
    let taken = RwSignal::new(None::<String>);
    let open = RwSignal::new(false);
    let initial = detail.resident.name.chars().next().map(String::from);
    let label = if detail.photo.is_some() {
        "更换照片"
    } else {
        "拍照建档"
    };
    view! {
        <div class="profile-photo">
            {move || match current.get() {
                Some(hash) => view! { <PhotoImg hash class="avatar-photo" local=taken.get()/> }.into_any(),
                None => view! { <span class="avatar avatar-lg" aria-hidden="true">{initial.clone()}</span> }.into_any(),
            }}
            <FormOpener label class="btn btn-small btn-plain" open load=move || {
                let on_done = Callback::new(move |photo: Option<Taken>| {
                    open.set(false);
                    if let Some(photo) = photo {
                        current.set(Some(photo.hash));
                        taken.set(Some(photo.url));
                    }
                });
                Box::pin(photo_form(detail.clone(), current.get_untracked(), on_done))
            }/>
        </div>
    }
}

#[lazy]
fn photo_form(detail: ResidentDetail, current: Option<String>, on_done: Callback<Option<Taken>>) -> AnyView {
    view! { <PhotoForm detail current on_done/> }.into_any()
}

#[component]
fn PhotoForm(detail: ResidentDetail, current: Option<String>, on_done: Callback<Option<Taken>>) -> impl IntoView {
    let error = RwSignal::new(None::<String>);
    let status = use_sync_status();
    let history = detail.photo_history.clone();
    let on_photo = Callback::new(move |photo: Taken| {
        let _ = (&detail, &current, status, &photo);
        #[cfg(feature = "hydrate")]
        {
            use crate::sync::{Change, FieldChange, ResidentEdit, ResidentField};
            let edit = ResidentEdit {
                id: detail.resident.id.clone(),
                changes: vec![FieldChange {
                    field: ResidentField::Photo,
                    base: current.clone(),
                    value: Some(photo.hash.clone()),
                }],
            };
            let label = format!("照片 · {}", detail.resident.name);
            let household_id = detail.household_id.clone();
            leptos::task::spawn_local(async move {
                match crate::offline::save_change(status, Change::EditResident(edit), label, household_id).await {
                    Ok(()) => on_done.run(Some(photo)),
                    Err(e) => error.set(Some(e)),
                }
            });
        }
    });
    view! {
        <section class="card photo-form" aria-label="居民照片">
            <p class="muted small">"拍一张正面照用于电子档案。照片在本机压缩并去除位置信息，有信号时自动上传；旧照片留档。"</p>
            <PhotoPicker label="照片 · 居民" on_photo/>
            {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
            {(!history.is_empty()).then(|| view! {
                <p class="small">"历史照片"</p>
                <div class="photo-strip">
                    {history.iter().map(|h| view! { <PhotoImg hash=h.clone() class="photo-thumb"/> }).collect_view()}
                </div>
            })}
            <button type="button" class="btn btn-plain" on:click=move |_| on_done.run(None)>"取消"</button>
        </section>
    }
}

/// A photo stored on the phone: its name, and an object URL of its local copy.
#[derive(Debug, Clone, PartialEq)]
pub struct Taken {
    pub hash: String,
    pub url: String,
    /// New on the phone (not the same photo chosen again): a form that drops
    /// it may delete it from the queue.
    pub fresh: bool,
}

/// Camera and gallery buttons. Each chosen photo is compressed and stored on
/// the phone before `on_photo` hears of it. Used inside lazy forms only.
#[component]
pub fn PhotoPicker(#[prop(into)] label: String, on_photo: Callback<Taken>) -> impl IntoView {
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let warning = RwSignal::new(None::<String>);
    let chosen = move |ev: leptos::ev::Event| {
        let _ = (&ev, &label, on_photo);
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) else {
                return;
            };
            let Some(file) = input.files().and_then(|files| files.get(0)) else {
                return;
            };
            // The same file chosen twice must fire `change` again.
            input.set_value("");
            busy.set(true);
            error.set(None);
            let label = label.clone();
            leptos::task::spawn_local(async move {
                match client::capture(file, label).await {
                    Ok((photo, note)) => {
                        warning.set(note);
                        on_photo.run(photo);
                    }
                    Err(e) => error.set(Some(e)),
                }
                busy.set(false);
            });
        }
    };
    view! {
        <div class="photo-picker">
            <label class="btn">"拍照"
                <input type="file" accept="image/*" capture="environment" class="sr-only" on:change=chosen.clone()/>
            </label>
            <label class="btn btn-plain">"从相册选"
                <input type="file" accept="image/jpeg,image/png,image/webp,image/*" class="sr-only" on:change=chosen/>
            </label>
            {move || busy.get().then(|| view! { <span class="muted small" role="status">"正在压缩…"</span> })}
        </div>
        {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
        {move || warning.get().map(|w| view! { <p class="form-warning" role="status">{w}</p> })}
    }
}

/// The photo queue on the sync page: each photo with its state and size, and
/// how much of the phone's photo budget is used.
#[component]
pub fn PhotoQueue() -> impl IntoView {
    let status = use_sync_status();
    let queue = RwSignal::new(Vec::new());
    Effect::new(move |_| {
        status.revision.track();
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            if let Ok(list) = client::queue().await {
                queue.set(list);
            }
        });
    });
    let used =
        move || queue.with(|q: &Vec<QueuedPhoto>| q.iter().filter(|p| p.state != "done").map(|p| p.bytes).sum::<f64>());
    view! {
        {move || {
            let waiting = queue.with(|q| q.iter().filter(|p| p.state != "done").count());
            (!queue.with(Vec::is_empty)).then(|| view! {
                <h2 class="section-title">"照片（"{waiting}" 张待上传）"</h2>
                <p class="muted small">"占用本机 "{megabytes(used())}" / "{megabytes(BUDGET_BYTES)}</p>
                {(used() > BUDGET_BYTES * 0.8).then(|| view! {
                    <p class="form-warning">"照片快占满本机空间，请尽快到有信号处同步。"</p>
                })}
            })
        }}
        <ul class="list photo-queue">
            {move || queue.get().into_iter().map(|p| view! { <QueueRow photo=p/> }).collect_view()}
        </ul>
    }
}

#[component]
fn QueueRow(photo: QueuedPhoto) -> impl IntoView {
    let status = use_sync_status();
    let hash = photo.hash.clone();
    let discard = move |_| {
        let _ = (&hash, status);
        #[cfg(feature = "hydrate")]
        {
            let hash = hash.clone();
            leptos::task::spawn_local(async move {
                let _ = client::forget(hash).await;
                status.revision.update(|r| *r += 1);
            });
        }
    };
    let state = match photo.state.as_str() {
        "done" => "已上传".to_string(),
        "sending" => "上传中…".to_string(),
        "rejected" => format!("被拒收：{}", photo.reason.clone().unwrap_or_default()),
        _ => "待上传".to_string(),
    };
    let rejected = photo.state == "rejected";
    view! {
        <li class="row photo-entry" data-state=photo.state.clone()>
            <PhotoImg hash=photo.hash.clone() class="photo-thumb"/>
            <span class="grow">
                <span>{photo.label.clone()}</span>
                <span class=if rejected { "small form-error" } else { "muted small" }>{state}" · "{megabytes(photo.bytes)}</span>
            </span>
            {rejected.then(|| view! { <button class="btn btn-plain" on:click=discard>"删除"</button> })}
        </li>
    }
}

fn megabytes(bytes: f64) -> String {
    format!("{:.1} MB", bytes / (1024.0 * 1024.0))
}

/// One photo on the phone, for the queue list.
#[derive(Debug, Clone, PartialEq)]
pub struct QueuedPhoto {
    pub hash: String,
    pub label: String,
    /// `pending`, `sending`, `done` (only the thumbnail is kept) or `rejected`.
    pub state: String,
    pub reason: Option<String>,
    pub bytes: f64,
    pub created_at: f64,
}

#[cfg(feature = "hydrate")]
pub use client::{forget, upload_photos};

#[cfg(feature = "hydrate")]
mod client {
    use std::cell::Cell;

    use idb::TransactionMode;
    use js_sys::{Object, Reflect, Uint8Array};
    use leptos::prelude::*;
    use sha2::{Digest, Sha256};
    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;
    use web_sys::{Blob, CanvasRenderingContext2d, File, HtmlCanvasElement, ImageBitmap};

    use super::{BUDGET_BYTES, QueuedPhoto, Taken};
    use crate::clock::now_ms;
    use crate::offline::{PHOTOS, SyncStatus, open};

    const MAX_SIDE: u32 = 1600;
    const THUMB_SIDE: u32 = 320;

    fn get(object: &JsValue, key: &str) -> JsValue {
        Reflect::get(object, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
    }

    fn set(object: &Object, key: &str, value: &JsValue) {
        let _ = Reflect::set(object, &JsValue::from_str(key), value);
    }

    fn unreadable(_: JsValue) -> String {
        "无法读取这张图片，请换一张或重新拍摄".into()
    }

    /// Draws the decoded image into a canvas at most `side` px long and
    /// encodes it as JPEG: the browser's encoder writes no EXIF.
    async fn encode(bitmap: &ImageBitmap, side: u32, quality: f64) -> Result<Blob, String> {
        let (w, h) = (bitmap.width(), bitmap.height());
        let scale = (f64::from(side) / f64::from(w.max(h))).min(1.0);
        let (tw, th) = (
            ((f64::from(w) * scale).round() as u32).max(1),
            ((f64::from(h) * scale).round() as u32).max(1),
        );
        let document = web_sys::window().and_then(|w| w.document()).ok_or("no document")?;
        let canvas: HtmlCanvasElement = document.create_element("canvas").map_err(unreadable)?.unchecked_into();
        canvas.set_width(tw);
        canvas.set_height(th);
        let context: CanvasRenderingContext2d = canvas
            .get_context("2d")
            .map_err(unreadable)?
            .ok_or("no canvas")?
            .unchecked_into();
        // Shrinking a 12-megapixel photo with the default smoothing aliases.
        set(
            context.unchecked_ref(),
            "imageSmoothingQuality",
            &JsValue::from_str("high"),
        );
        context
            .draw_image_with_image_bitmap_and_dw_and_dh(bitmap, 0.0, 0.0, f64::from(tw), f64::from(th))
            .map_err(unreadable)?;
        let promise = js_sys::Promise::new(&mut |resolve, _| {
            let _ = canvas.to_blob_with_type_and_encoder_options(&resolve, "image/jpeg", &JsValue::from_f64(quality));
        });
        let blob = JsFuture::from(promise).await.map_err(unreadable)?;
        blob.dyn_into::<Blob>()
            .map_err(|_| "手机内存不足，无法压缩这张照片".to_string())
    }

    async fn bytes_of(blob: &Blob) -> Result<Vec<u8>, String> {
        let buffer = JsFuture::from(blob.array_buffer()).await.map_err(unreadable)?;
        Ok(Uint8Array::new(&buffer).to_vec())
    }

    /// Bytes of photos on the phone that still wait (or were refused): the
    /// budget is for what has not left; uploaded ones keep a thumbnail only.
    async fn used_bytes() -> Result<f64, String> {
        Ok(queue()
            .await?
            .iter()
            .filter(|p| p.state != "done")
            .map(|p| p.bytes)
            .sum())
    }

    /// Compresses a chosen photo, stores it and its thumbnail for upload, and
    /// answers it and, near the budget, a warning. (Called from lazy forms
    /// only, so its code lands in their chunks without a split of its own.)
    pub async fn capture(file: File, label: String) -> Result<(Taken, Option<String>), String> {
        let used = used_bytes().await?;
        if used >= BUDGET_BYTES {
            return Err("本机待上传的照片已满，请先到有信号处同步后再拍".into());
        }
        let window = web_sys::window().ok_or("no window")?;
        let decoding = window.create_image_bitmap_with_blob(&file).map_err(unreadable)?;
        let bitmap: ImageBitmap = JsFuture::from(decoding).await.map_err(unreadable)?.unchecked_into();
        let photo = encode(&bitmap, MAX_SIDE, 0.8).await;
        let thumb = encode(&bitmap, THUMB_SIDE, 0.7).await;
        bitmap.close();
        let (photo, thumb) = (photo?, thumb?);
        let hash = format!("{:x}", Sha256::digest(bytes_of(&photo).await?));
        let size = photo.size() + thumb.size();
        let fresh = record(&hash).await.is_none();

        let record = Object::new();
        set(&record, "hash", &JsValue::from_str(&hash));
        set(&record, "photo", &photo);
        set(&record, "thumb", &thumb);
        set(&record, "bytes", &JsValue::from_f64(size));
        set(&record, "state", &JsValue::from_str("pending"));
        set(&record, "label", &JsValue::from_str(&label));
        set(&record, "created_at", &JsValue::from_f64(now_ms() as f64));
        let db = open().await.map_err(|e| e.to_string())?;
        let tx = db
            .transaction(&[PHOTOS], TransactionMode::ReadWrite)
            .map_err(|e| crate::offline::StoreError::from(e).to_string())?;
        let store = tx
            .object_store(PHOTOS)
            .map_err(|e| crate::offline::StoreError::from(e).to_string())?;
        let put = store.put(&record, Some(&JsValue::from_str(&hash)));
        let committed = match put {
            Ok(request) => {
                request.await.is_ok()
                    && match tx.commit() {
                        Ok(commit) => commit.await.is_ok(),
                        Err(_) => false,
                    }
            }
            Err(_) => false,
        };
        if !committed {
            return Err("手机存储空间不足，照片没有保存".into());
        }
        let note = (used + size > BUDGET_BYTES * 0.8).then(|| {
            format!(
                "待上传的照片已占用 {:.0} MB（上限 {:.0} MB），请尽快到有信号处同步",
                (used + size) / 1048576.0,
                BUDGET_BYTES / 1048576.0
            )
        });
        let url = web_sys::Url::create_object_url_with_blob(&thumb).map_err(unreadable)?;
        Ok((Taken { hash, url, fresh }, note))
    }

    async fn record(hash: &str) -> Option<JsValue> {
        let db = open().await.ok()?;
        let tx = db.transaction(&[PHOTOS], TransactionMode::ReadOnly).ok()?;
        let value = tx
            .object_store(PHOTOS)
            .ok()?
            .get(JsValue::from_str(hash))
            .ok()?
            .await
            .ok()??;
        Some(value)
    }

    async fn put(record: &JsValue, hash: &str) -> Result<(), idb::Error> {
        let db = open()
            .await
            .map_err(|_| idb::Error::TransactionCommitError(JsValue::NULL))?;
        let tx = db.transaction(&[PHOTOS], TransactionMode::ReadWrite)?;
        tx.object_store(PHOTOS)?
            .put(record, Some(&JsValue::from_str(hash)))?
            .await?;
        tx.commit()?.await?;
        Ok(())
    }

    pub async fn queue() -> Result<Vec<QueuedPhoto>, String> {
        let db = open().await.map_err(|e| e.to_string())?;
        let read = async {
            let tx = db.transaction(&[PHOTOS], TransactionMode::ReadOnly)?;
            let values = tx.object_store(PHOTOS)?.get_all(None, None)?.await?;
            Ok::<_, idb::Error>(values)
        };
        let values = read
            .await
            .map_err(|e| crate::offline::StoreError::from(e).to_string())?;
        let mut list: Vec<QueuedPhoto> = values
            .iter()
            .map(|v| QueuedPhoto {
                hash: get(v, "hash").as_string().unwrap_or_default(),
                label: get(v, "label").as_string().unwrap_or_default(),
                state: get(v, "state").as_string().unwrap_or_default(),
                reason: get(v, "reason").as_string(),
                bytes: get(v, "bytes").as_f64().unwrap_or(0.0),
                created_at: get(v, "created_at").as_f64().unwrap_or(0.0),
            })
            .collect();
        // Waiting first, oldest first: the order they are sent in.
        list.sort_by(|a, b| {
            (a.state == "done", a.created_at)
                .partial_cmp(&(b.state == "done", b.created_at))
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        Ok(list)
    }

    /// Removes a refused photo from the phone.
    pub async fn forget(hash: String) -> Result<(), String> {
        let remove = async {
            let db = open()
                .await
                .map_err(|_| idb::Error::TransactionCommitError(JsValue::NULL))?;
            let tx = db.transaction(&[PHOTOS], TransactionMode::ReadWrite)?;
            tx.object_store(PHOTOS)?.delete(JsValue::from_str(&hash))?.await?;
            tx.commit()?.await?;
            Ok::<_, idb::Error>(())
        };
        remove
            .await
            .map_err(|e| crate::offline::StoreError::from(e).to_string())
    }

    thread_local! {
        static UPLOADING: Cell<bool> = const { Cell::new(false) };
    }

    /// Uploads waiting photos one by one, oldest first, after the records
    /// (the sync engine starts it once the outbox was pushed). A photo the
    /// server stored is kept as its thumbnail only; one it refused is kept
    /// with the reason; no answer leaves it for the next round. (Called from
    /// the sync engine's chunk only.)
    pub async fn upload_photos(status: SyncStatus) {
        if UPLOADING.with(|u| u.replace(true)) {
            return;
        }
        let waiting: Vec<QueuedPhoto> = queue()
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|p| p.state == "pending" || p.state == "sending")
            .collect();
        for photo in waiting {
            let Some(record) = record(&photo.hash).await else {
                continue;
            };
            let Ok(blob) = get(&record, "photo").dyn_into::<Blob>() else {
                continue;
            };
            let Some(record) = record.dyn_ref::<Object>() else {
                continue;
            };
            set(record, "state", &JsValue::from_str("sending"));
            let _ = put(record, &photo.hash).await;
            status.revision.update(|r| *r += 1);
            let Ok((code, body)) = send(&photo.hash, &blob).await else {
                break;
            };
            match code {
                200 | 201 => {
                    set(record, "state", &JsValue::from_str("done"));
                    let _ = Reflect::delete_property(record, &JsValue::from_str("photo"));
                    let thumb = get(record, "thumb").dyn_into::<Blob>().map(|t| t.size()).unwrap_or(0.0);
                    set(record, "bytes", &JsValue::from_f64(thumb));
                }
                401 => {
                    status.needs_login.set(true);
                    break;
                }
                // Final refusals; a 400 (cut body, hash mismatch) is retried.
                413 | 415 | 422 => {
                    let reason = serde_json::from_str::<crate::error::ErrorBody>(&body)
                        .map(|b| b.message)
                        .unwrap_or_else(|_| format!("服务器拒收（{code}）"));
                    set(record, "state", &JsValue::from_str("rejected"));
                    set(record, "reason", &JsValue::from_str(&reason));
                }
                _ => break,
            }
            let _ = put(record, &photo.hash).await;
            status.revision.update(|r| *r += 1);
        }
        status.revision.update(|r| *r += 1);
        UPLOADING.with(|u| u.set(false));
    }

    /// `PUT /api/photos/{hash}` with the JPEG as the body; `Err` when no
    /// answer came back.
    async fn send(hash: &str, blob: &Blob) -> Result<(u16, String), JsValue> {
        let init = web_sys::RequestInit::new();
        init.set_method("PUT");
        init.set_cache(web_sys::RequestCache::NoStore);
        let headers = web_sys::Headers::new()?;
        headers.set("content-type", "image/jpeg")?;
        init.set_headers(&headers);
        init.set_body(blob);
        let window = web_sys::window().ok_or_else(|| JsValue::from_str("no window"))?;
        let response: web_sys::Response =
            JsFuture::from(window.fetch_with_str_and_init(&format!("/api/photos/{hash}"), &init))
                .await?
                .dyn_into()?;
        let body = JsFuture::from(response.text()?).await?.as_string().unwrap_or_default();
        Ok((response.status(), body))
    }
}
