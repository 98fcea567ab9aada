//! Photos on the page: thumbnails, the resident's profile photo and its form,
//! the camera buttons the forms share, and the photo queue on the sync page.
//! The phone keeps and uploads them in `phone::photo_queue`. Everything but
//! the small display pieces is in WASM chunks.

use leptos::prelude::*;

use crate::model::ResidentDetail;
use crate::phone::photo_queue::{BUDGET_BYTES, QueuedPhoto, Taken};
use crate::phone::status::use_sync_status;
use crate::ui::FormOpener;

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
                match crate::phone::engine::save_change(status, Change::EditResident(edit), label, household_id).await {
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
                match crate::phone::photo_queue::capture(file, label).await {
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
            if let Ok(list) = crate::phone::photo_queue::queue().await {
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
                let _ = crate::phone::photo_queue::forget(hash).await;
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
