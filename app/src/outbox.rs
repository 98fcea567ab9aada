//! The sync page: what waits on this phone and what the server refused, with
//! the photo queue beside it.

use leptos::prelude::*;

use crate::phone::engine::{EntryState, OutboxEntry};
use crate::phone::status::use_sync_status;

/// The sync page's body. What it lists lives on the phone only, so its code
/// is a WASM chunk fetched once the page runs (and precached).
pub fn body() -> crate::ui::LazyView {
    Box::pin(outbox_body())
}

#[lazy]
fn outbox_body() -> AnyView {
    view! { <OutboxBody/> <crate::photos::PhotoQueue/> <SignOut/> }.into_any()
}

/// Signing out of a phone (every 退出登录 leads here): what it holds goes up
/// first, and what could not is named before anyone leaves; it stays on the
/// phone for this user alone. The server's answer is the sign-in page, where
/// public/phone.js deletes this user's copy of their grids and the kept photos.
#[component]
fn SignOut() -> impl IntoView {
    let status = use_sync_status();
    let form = NodeRef::<leptos::html::Form>::new();
    // Records and photos still unsent after the last try; `None` until then.
    let unsent = RwSignal::new(None::<usize>);
    let busy = RwSignal::new(false);
    let start = move |_| {
        let _ = (status, form);
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            busy.set(true);
            let left = send_everything(status).await;
            busy.set(false);
            match (left, form.get_untracked()) {
                (0, Some(form)) => drop(form.submit()),
                _ => unsent.set(Some(left)),
            }
        });
    };
    view! {
        <section class="card sign-out" id="logout">
            <p class="muted small">"退出前先上传本机记录；退出后本机的网格资料和照片会被删除。"</p>
            {move || unsent.get().map(|n| view! {
                <p class="form-error" role="alert">
                    {format!("还有 {n} 条记录或照片没有上传（可能没有信号）。")}
                    "退出后它们留在本机，只在您再次登录时上传，其他人登录看不到。"
                </p>
            })}
            <form method="post" action="/logout" node_ref=form>
                {move || match unsent.get() {
                    Some(_) => view! { <button type="submit" class="btn btn-block btn-plain">"仍然退出"</button> }.into_any(),
                    None => view! {
                        <button type="button" class="btn btn-block btn-plain" on:click=start disabled=move || busy.get()>
                            {move || if busy.get() { "正在上传…" } else { "退出登录" }}
                        </button>
                    }.into_any(),
                }}
            </form>
        </section>
    }
}

/// One more sync, photos included, once any sync under way has ended; then
/// how many records and photos are still unsent.
#[cfg(feature = "hydrate")]
async fn send_everything(status: crate::phone::status::SyncStatus) -> usize {
    use crate::phone::photo_queue::{queue, upload_photos, uploading};
    let settle = || async {
        while status.syncing.get_untracked() || uploading() {
            gloo_timers::future::sleep(std::time::Duration::from_millis(200)).await;
        }
    };
    settle().await;
    crate::phone::engine::sync_now(status).await;
    upload_photos(status).await;
    settle().await;
    let photos = queue()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|p| p.state != "done")
        .count();
    status.pending.get_untracked() + status.rejected.get_untracked() + photos
}

#[component]
fn OutboxBody() -> impl IntoView {
    let status = use_sync_status();
    let entries = outbox_entries(None);
    let sync_now = move |_| {
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(crate::phone::engine::sync_now(status));
    };
    let last_sync = move || {
        status
            .last_sync
            .get()
            .map(|at| format!("上次同步成功：{}", time_of_day(at)))
            .unwrap_or_else(|| "尚未同步".into())
    };
    view! {
            <section class="card sync-summary">
                <p><strong>{move || status.pending.get()}</strong>" 条待同步 · "
                   <strong>{move || status.rejected.get()}</strong>" 条被退回"</p>
                <p class="muted small">{last_sync}</p>
                {move || status.needs_login.get().map(|reason| view! {
                    <p class="form-error" role="alert">
                        {reason.unwrap_or_else(|| "登录已过期：本机记录都还在，重新登录后会自动同步。".into())}
                        " "<a href="/login" rel="external">"去登录"</a></p>
                })}
                {move || (!status.online.get()).then(|| view! {
                    <p class="muted small">"现在连不上服务器，有信号后会自动同步。"</p>
                })}
                <button class="btn btn-block" on:click=sync_now disabled=move || status.syncing.get()>
                    {move || if status.syncing.get() { "同步中…" } else { "立即同步" }}
                </button>
            </section>
            <ul class="list outbox">
                {move || entries.get().into_iter().map(|e| view! { <EntryRow entry=e/> }).collect_view()}
            </ul>
            {move || entries.get().is_empty().then(|| view! { <p class="empty">"本机没有待同步的记录。"</p> })}
    }
}

/// The outbox as a signal, reloaded whenever it changes; optionally only one
/// household's entries. Empty on the server: the outbox lives on the phone.
pub fn outbox_entries(household_id: Option<String>) -> RwSignal<Vec<OutboxEntry>> {
    let status = use_sync_status();
    let entries = RwSignal::new(Vec::new());
    Effect::new(move |_| {
        status.revision.track();
        let _ = &household_id;
        #[cfg(feature = "hydrate")]
        {
            let household_id = household_id.clone();
            leptos::task::spawn_local(async move {
                if let Ok(mut list) = crate::phone::engine::all_entries().await {
                    if let Some(id) = household_id {
                        list.retain(|e| e.household_id == id);
                    }
                    entries.set(list);
                }
            });
        }
    });
    entries
}

#[component]
pub fn EntryRow(entry: OutboxEntry, #[prop(optional)] in_household: bool) -> impl IntoView {
    let status = use_sync_status();
    let op_id = entry.op_id.clone();
    let discard = move |_| {
        let _ = (&op_id, status);
        #[cfg(feature = "hydrate")]
        {
            let op_id = op_id.clone();
            leptos::task::spawn_local(async move {
                let _ = crate::phone::engine::discard(status, op_id).await;
            });
        }
    };
    let rejected = entry.state == EntryState::Rejected;
    view! {
        <li class="row outbox-entry" data-state=entry.state.code()>
            <span class="grow">
                <span>{entry.label.clone()}</span>
                <span class=if rejected { "small form-error" } else { "muted small" }>
                    {entry.state.label()}{entry.reason.clone().map(|r| format!("：{r}"))}
                </span>
                // A check-in or a report of a public place names no household.
                {(!in_household && !entry.household_id.is_empty()).then(|| view! {
                    <a class="small" href=format!("/households/{}", entry.household_id)>"查看住户"</a>
                })}
            </span>
            {rejected.then(|| view! { <button class="btn btn-plain" on:click=discard>"放弃"</button> })}
        </li>
    }
}

/// "14:05" in Beijing time.
pub fn time_of_day(epoch_ms: i64) -> String {
    let minutes = (epoch_ms / 60_000 + 8 * 60).rem_euclid(24 * 60);
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}
