//! The photo queue. A photo is shrunk and re-encoded by the browser's own
//! decoder and a canvas (long side 1600 px, JPEG 0.8; re-encoding drops EXIF,
//! GPS included), kept in IndexedDB with a thumbnail, named by its SHA-256, and
//! uploaded by a queue of its own after the records: a record names its photos
//! by hash and is valid before they arrive, so photos never hold records up.

/// Unsent photos may use this much of the phone; the worker is warned at 80 %.
pub const BUDGET_BYTES: f64 = 150.0 * 1024.0 * 1024.0;

/// A photo stored on the phone: its name, and an object URL of its local copy.
#[derive(Debug, Clone, PartialEq)]
pub struct Taken {
    pub hash: String,
    pub url: String,
    /// New on the phone (not the same photo chosen again): a form that drops
    /// it may delete it from the queue.
    pub fresh: bool,
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

/// What an upload's answer means for the photo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// Stored (now or before): only the thumbnail stays on the phone.
    Stored,
    /// The session ended: the photo waits for the next sign-in.
    SignedOut,
    /// Refused for good (bad file, too large, not allowed): the photo stays
    /// on the phone, shown with the server's reason, until the worker deletes it.
    Refused,
    /// Worth trying again later: no answer, a stalled upload (408), the
    /// quota (429), or the server's trouble (5xx). The round stops too: the
    /// next photos would meet the same network or server.
    Retry,
}

/// What a status code (`None`: no answer came back) means for a photo. Any
/// 4xx but 401, 408 and 429 will answer the same however often it is tried.
pub fn answer(status: Option<u16>) -> Answer {
    match status {
        Some(200 | 201) => Answer::Stored,
        Some(401) => Answer::SignedOut,
        Some(408 | 429) | None => Answer::Retry,
        Some(400..=499) => Answer::Refused,
        Some(_) => Answer::Retry,
    }
}

/// The first wait after a failed upload; each further failure doubles it.
const FIRST_RETRY_MS: f64 = 30_000.0;
/// The longest wait between two tries: a photo is never given up on.
pub const MAX_RETRY_MS: f64 = 3_600_000.0;

/// How long to wait before trying a photo again after `failures` failed
/// uploads in a row (at least 1): 30 s, 1 min, 2 min … at most an hour.
pub fn retry_delay_ms(failures: u32) -> f64 {
    let doublings = failures.saturating_sub(1).min(16);
    (FIRST_RETRY_MS * f64::from(1_u32 << doublings)).min(MAX_RETRY_MS)
}

/// A refusal's reason, in Chinese: the server's message (from its
/// `ErrorBody`), or what happened.
pub fn refusal_reason(status: u16, message: Option<String>) -> String {
    message
        .filter(|m| !m.trim().is_empty())
        .unwrap_or_else(|| format!("服务器拒收（{status}），请删除后重新拍摄"))
}

#[cfg(feature = "hydrate")]
pub use client::{capture, forget, queue, upload_photos, uploading};

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

    use super::{Answer, BUDGET_BYTES, QueuedPhoto, Taken, answer, refusal_reason, retry_delay_ms};
    use crate::clock::now_ms;
    use crate::phone::idb::{PHOTOS, StoreError, open};
    use crate::phone::status::SyncStatus;

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
            .map_err(|e| StoreError::from(e).to_string())?;
        let store = tx.object_store(PHOTOS).map_err(|e| StoreError::from(e).to_string())?;
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
        let values = read.await.map_err(|e| StoreError::from(e).to_string())?;
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
        remove.await.map_err(|e| StoreError::from(e).to_string())
    }

    thread_local! {
        static UPLOADING: Cell<bool> = const { Cell::new(false) };
    }

    /// Whether a round of uploads is under way.
    pub fn uploading() -> bool {
        UPLOADING.with(Cell::get)
    }

    /// Uploads waiting photos one by one, oldest first, after the records
    /// (the sync engine starts it once the outbox was pushed). A photo the
    /// server stored is kept as its thumbnail only; one it refused for good
    /// is kept with the reason; one that failed otherwise waits longer after
    /// each failure (`retry_delay_ms`) and stops this round. (Called from the
    /// sync engine's chunk only.)
    pub async fn upload_photos(status: SyncStatus) {
        if UPLOADING.with(|u| u.replace(true)) {
            return;
        }
        let now = now_ms() as f64;
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
            if get(&record, "retry_at").as_f64().is_some_and(|at| at > now) {
                continue;
            }
            let Ok(blob) = get(&record, "photo").dyn_into::<Blob>() else {
                continue;
            };
            let Some(record) = record.dyn_ref::<Object>() else {
                continue;
            };
            set(record, "state", &JsValue::from_str("sending"));
            let _ = put(record, &photo.hash).await;
            status.revision.update(|r| *r += 1);
            let sent = send(&photo.hash, &blob).await.ok();
            let outcome = answer(sent.as_ref().map(|(code, _)| *code));
            let (code, body) = sent.unwrap_or_default();
            match outcome {
                Answer::Stored => {
                    set(record, "state", &JsValue::from_str("done"));
                    let _ = Reflect::delete_property(record, &JsValue::from_str("photo"));
                    let thumb = get(record, "thumb").dyn_into::<Blob>().map(|t| t.size()).unwrap_or(0.0);
                    set(record, "bytes", &JsValue::from_f64(thumb));
                }
                Answer::SignedOut => status.signed_out(&body),
                Answer::Refused => {
                    set(record, "state", &JsValue::from_str("rejected"));
                    let message = serde_json::from_str::<crate::error::ErrorBody>(&body)
                        .ok()
                        .map(|b| b.message);
                    set(record, "reason", &JsValue::from_str(&refusal_reason(code, message)));
                }
                Answer::Retry => {
                    let failures = get(record, "failures").as_f64().unwrap_or(0.0) as u32 + 1;
                    set(record, "state", &JsValue::from_str("pending"));
                    set(record, "failures", &JsValue::from_f64(f64::from(failures)));
                    set(record, "retry_at", &JsValue::from_f64(now + retry_delay_ms(failures)));
                }
            }
            let _ = put(record, &photo.hash).await;
            status.revision.update(|r| *r += 1);
            if matches!(outcome, Answer::SignedOut | Answer::Retry) {
                break;
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_that_will_never_succeed_are_final_and_the_rest_are_retried() {
        assert_eq!(answer(Some(201)), Answer::Stored);
        assert_eq!(answer(Some(200)), Answer::Stored);
        assert_eq!(answer(Some(401)), Answer::SignedOut);
        for refused in [400, 403, 404, 413, 415, 422] {
            assert_eq!(answer(Some(refused)), Answer::Refused, "{refused}");
        }
        for later in [None, Some(408), Some(429), Some(500), Some(502), Some(503)] {
            assert_eq!(answer(later), Answer::Retry, "{later:?}");
        }
    }

    #[test]
    fn retries_wait_longer_each_time_up_to_an_hour() {
        let waits: Vec<f64> = (1..=10).map(retry_delay_ms).collect();
        assert_eq!(waits[..4], [30_000.0, 60_000.0, 120_000.0, 240_000.0]);
        assert!(waits.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(waits[9], MAX_RETRY_MS);
        assert_eq!(retry_delay_ms(u32::MAX), MAX_RETRY_MS);
        assert_eq!(retry_delay_ms(0), 30_000.0);
    }

    #[test]
    fn a_refusal_carries_the_servers_reason_or_says_what_happened() {
        assert_eq!(refusal_reason(413, Some("照片不能超过8 MB".into())), "照片不能超过8 MB");
        assert_eq!(refusal_reason(404, None), "服务器拒收（404），请删除后重新拍摄");
        assert_eq!(
            refusal_reason(403, Some(" ".into())),
            "服务器拒收（403），请删除后重新拍摄"
        );
    }
}
