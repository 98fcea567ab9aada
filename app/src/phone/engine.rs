//! The outbox engine: the durable outbox of operations in IndexedDB, and the
//! loop that pushes it when the server can be reached. Saving is local first:
//! the UI says "saved" only after IndexedDB has committed the operation.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryState {
    /// Saved on the device, not yet sent.
    Pending,
    /// Sent, no answer yet (the connection may have dropped): sent again.
    Sent,
    /// Refused by the server; kept with the reason until fixed or discarded.
    Rejected,
}

impl EntryState {
    /// For `data-state` attributes and CSS.
    pub fn code(self) -> &'static str {
        match self {
            EntryState::Pending => "pending",
            EntryState::Sent => "sent",
            EntryState::Rejected => "rejected",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            EntryState::Pending => "待同步",
            EntryState::Sent => "已发送",
            EntryState::Rejected => "被退回",
        }
    }
}

/// One operation in the outbox, with what the worker needs to recognise it.
/// The operation is kept as the JSON it is sent as: the phone never needs to
/// read it back, and not deserialising it keeps the WASM within its budget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxEntry {
    pub op_id: String,
    pub operation: String,
    pub state: EntryState,
    pub reason: Option<String>,
    /// "走访 · 1号楼1单元601 · 常规走访".
    pub label: String,
    pub household_id: String,
}

#[cfg(feature = "hydrate")]
pub use client::*;

#[cfg(feature = "hydrate")]
mod client {
    use std::cell::Cell;
    use std::time::Duration;

    use idb::TransactionMode;
    use leptos::prelude::*;
    use wasm_bindgen::{JsCast, JsValue};

    use super::{EntryState, OutboxEntry};
    use crate::clock::{new_id, now_ms};
    use crate::phone::idb::{OUTBOX, StoreError, open};
    use crate::phone::status::SyncStatus;
    use crate::sync::{MAX_BATCH, OpStatus, PushResponse};

    const SYNC_EVERY: Duration = Duration::from_secs(30);
    /// How long a phone with a copy waits after the page appeared before its first sync.
    const WARM_START: Duration = Duration::from_secs(3);

    impl OutboxEntry {
        pub fn new(op: &crate::sync::Operation, label: String, household_id: String) -> Result<Self, String> {
            Ok(OutboxEntry {
                op_id: op.op_id.clone(),
                operation: serde_json::to_string(op).map_err(|e| e.to_string())?,
                state: EntryState::Pending,
                reason: None,
                label,
                household_id,
            })
        }
    }

    /// Entries are stored as JSON text: one format for the wire and the disk.
    fn to_js<T: serde::Serialize>(value: &T) -> Result<JsValue, StoreError> {
        serde_json::to_string(value)
            .map(|text| JsValue::from_str(&text))
            .map_err(|e| StoreError(e.to_string()))
    }

    fn from_js<T: serde::de::DeserializeOwned>(value: &JsValue) -> Option<T> {
        serde_json::from_str(&value.as_string()?).ok()
    }

    /// Writes entries and resolves once IndexedDB has committed them.
    pub async fn put_entries(entries: &[OutboxEntry]) -> Result<(), StoreError> {
        let db = open().await?;
        let tx = db.transaction(&[OUTBOX], TransactionMode::ReadWrite)?;
        let store = tx.object_store(OUTBOX)?;
        for entry in entries {
            store
                .put(&to_js(entry)?, Some(&JsValue::from_str(&entry.op_id)))?
                .await?;
        }
        tx.commit()?.await?;
        Ok(())
    }

    pub async fn all_entries() -> Result<Vec<OutboxEntry>, StoreError> {
        let db = open().await?;
        let tx = db.transaction(&[OUTBOX], TransactionMode::ReadOnly)?;
        let values = tx.object_store(OUTBOX)?.get_all(None, None)?.await?;
        tx.await?;
        let mut entries: Vec<OutboxEntry> = values.iter().filter_map(from_js).collect();
        entries.sort_by(|a, b| a.op_id.cmp(&b.op_id));
        Ok(entries)
    }

    pub async fn delete_entries(op_ids: &[String]) -> Result<(), StoreError> {
        if op_ids.is_empty() {
            return Ok(());
        }
        let db = open().await?;
        let tx = db.transaction(&[OUTBOX], TransactionMode::ReadWrite)?;
        let store = tx.object_store(OUTBOX)?;
        for id in op_ids {
            store.delete(JsValue::from_str(id))?.await?;
        }
        tx.commit()?.await?;
        Ok(())
    }

    /// Small settings (device id, time of the last sync) live in localStorage:
    /// losing them costs nothing, unlike the outbox.
    fn meta_get(key: &str) -> Option<String> {
        web_sys::window()?.local_storage().ok()??.get_item(key).ok()?
    }

    fn meta_set(key: &str, value: &str) {
        if let Some(Ok(Some(storage))) = web_sys::window().map(|w| w.local_storage()) {
            let _ = storage.set_item(key, value);
        }
    }

    fn device_id() -> String {
        meta_get("gridwalk.device_id").unwrap_or_else(|| {
            let id = new_id();
            meta_set("gridwalk.device_id", &id);
            id
        })
    }

    /// Records a change as an operation in the outbox (committed when this
    /// returns), then tries to push it.
    pub async fn save_change(
        status: SyncStatus,
        change: crate::sync::Change,
        label: String,
        household_id: String,
    ) -> Result<(), String> {
        save_changes(status, vec![(change, label)], household_id).await
    }

    /// Several changes of one household, committed together or not at all.
    pub async fn save_changes(
        status: SyncStatus,
        changes: Vec<(crate::sync::Change, String)>,
        household_id: String,
    ) -> Result<(), String> {
        let mut entries = Vec::new();
        for (change, label) in changes {
            let op = crate::sync::Operation {
                op_id: new_id(),
                created_at: now_ms(),
                change,
            };
            entries.push(OutboxEntry::new(&op, label, household_id.clone())?);
        }
        enqueue_all(status, entries).await.map_err(|e| e.to_string())
    }

    /// Saves operations in one IndexedDB transaction (all or none), then pushes.
    pub async fn enqueue_all(status: SyncStatus, entries: Vec<OutboxEntry>) -> Result<(), StoreError> {
        put_entries(&entries).await?;
        refresh_counts(status).await;
        leptos::task::spawn_local(sync_now(status));
        Ok(())
    }

    /// A WASM chunk of its own (with the outbox deletes it shares with the
    /// push): only a refused entry's 放弃 button calls it, and the first page
    /// load is kept for what every page needs.
    #[lazy]
    pub async fn discard(status: SyncStatus, op_id: String) -> Result<(), String> {
        delete_entries(&[op_id]).await.map_err(|e| e.to_string())?;
        refresh_counts(status).await;
        Ok(())
    }

    pub async fn refresh_counts(status: SyncStatus) {
        if let Ok(entries) = all_entries().await {
            let rejected = entries.iter().filter(|e| e.state == EntryState::Rejected).count();
            status.pending.set(entries.len() - rejected);
            status.rejected.set(rejected);
            status.counted.set(true);
        }
        if let Some(at) = meta_get("gridwalk.last_sync") {
            status.last_sync.set(at.parse().ok());
        }
        status.revision.update(|r| *r += 1);
    }

    thread_local! {
        static RUNNING: Cell<bool> = const { Cell::new(false) };
    }

    /// The server, not `navigator.onLine`, decides whether we are online.
    async fn probe() -> bool {
        crate::api::fetch("GET", "/healthz", None)
            .await
            .map(|r| r.ok())
            .unwrap_or(false)
    }

    /// Pushes the outbox, batch by batch, then pulls. Safe to call any time: one
    /// run at once, and every push is idempotent on the server. A WASM chunk of
    /// its own, fetched after the page is up.
    #[lazy]
    pub async fn sync_now(status: SyncStatus) {
        // A busy server said when to come back; the loop in `start` comes then.
        if now_ms() < status.not_before.get_untracked() {
            return;
        }
        if RUNNING.with(|r| r.replace(true)) {
            return;
        }
        status.syncing.set(true);
        // Records go up first, then the phone's copy comes down; the sync
        // counts as done only when both finished.
        let done = match push_outbox(status).await {
            Ok(true) => {
                let pulled = crate::phone::local::pull(status).await;
                // Photos go in a queue of their own once the records are up
                // and the copy is current: a slow photo never holds a record
                // up, and a first screen never waits for a photo's bytes.
                leptos::task::spawn_local(crate::phone::photo_queue::upload_photos(status));
                pulled
            }
            Ok(false) => Ok(false),
            Err(e) => Err(e.to_string()),
        };
        match done {
            Ok(true) => meta_set("gridwalk.last_sync", &now_ms().to_string()),
            Ok(false) => {}
            Err(e) => leptos::logging::warn!("sync: {e}"),
        }
        status.progress.set(None);
        refresh_counts(status).await;
        status.syncing.set(false);
        RUNNING.with(|r| r.set(false));
    }

    /// `Ok(true)` when every batch was answered; `Ok(false)` when the server
    /// could not be reached or the session has expired.
    async fn push_outbox(status: SyncStatus) -> Result<bool, StoreError> {
        let outbox: Vec<OutboxEntry> = all_entries()
            .await?
            .into_iter()
            .filter(|e| e.state != EntryState::Rejected)
            .collect();
        let online = probe().await;
        status.online.set(online);
        if !online {
            return Ok(false);
        }
        let device_id = device_id();
        for (i, batch) in outbox.chunks(MAX_BATCH / 2).enumerate() {
            let sent = (i * MAX_BATCH / 2 + batch.len()).min(outbox.len());
            status.progress.set(Some(format!("上传 {sent}/{}", outbox.len())));
            let mut batch = batch.to_vec();
            for entry in &mut batch {
                entry.state = EntryState::Sent;
            }
            put_entries(&batch).await?;
            // A `PushRequest`, assembled from the operations' stored JSON.
            let operations: Vec<&str> = batch.iter().map(|e| e.operation.as_str()).collect();
            let device = serde_json::to_string(&device_id).map_err(|e| StoreError(e.to_string()))?;
            let body = format!(r#"{{"device_id":{device},"operations":[{}]}}"#, operations.join(","));
            let Ok(reply) = crate::api::fetch("POST", "/api/sync/push", Some(body)).await else {
                // No answer: the ops stay "sent" and go again next time.
                status.online.set(false);
                return Ok(false);
            };
            if reply.status == 401 {
                status.signed_out(&reply.body());
                return Ok(false);
            }
            if status.back_off(&reply) {
                // Busy: the ops stay "sent" and go again when it said.
                return Ok(false);
            }
            if !reply.ok() {
                return Err(StoreError(format!("服务器返回 {}", reply.status)));
            }
            status.needs_login.set(None);
            let Ok(answer) = serde_json::from_str::<PushResponse>(&reply.body()) else {
                return Err(StoreError("服务器应答无法解析".into()));
            };
            let mut done = Vec::new();
            let mut rejected = Vec::new();
            for result in answer.results {
                match result.status {
                    OpStatus::Applied | OpStatus::Conflict => done.push(result.op_id),
                    OpStatus::Rejected => {
                        if let Some(mut entry) = batch.iter().find(|e| e.op_id == result.op_id).cloned() {
                            entry.state = EntryState::Rejected;
                            entry.reason = result.reason;
                            rejected.push(entry);
                        }
                    }
                }
            }
            put_entries(&rejected).await?;
            delete_entries(&done).await?;
        }
        Ok(true)
    }

    /// Starts the background sync: now, every 30 s (or when a busy server said
    /// to come back), and whenever the browser thinks the network came back
    /// (then the probe decides).
    pub fn start(status: SyncStatus) {
        leptos::task::spawn_local(async move {
            // The page is hydrated and shown: let it answer a first tap
            // before the outbox and the copy are read and the chunks loaded.
            gloo_timers::future::sleep(Duration::ZERO).await;
            refresh_counts(status).await;
            // A phone that holds a copy shows it already: its routine sync
            // (loading its code, a push, a pull) waits until the worker has
            // had the page to themselves for a moment. A fresh phone syncs
            // at once, since it has nothing to show offline yet.
            if meta_get("gridwalk.last_sync").is_some() {
                gloo_timers::future::sleep(WARM_START).await;
            }
            loop {
                sync_now(status).await;
                let told_to_wait = status.not_before.get_untracked() - now_ms();
                let wait = if told_to_wait > 0 {
                    Duration::from_millis(told_to_wait as u64)
                } else {
                    SYNC_EVERY
                };
                gloo_timers::future::sleep(wait).await;
            }
        });
        if let Some(window) = web_sys::window() {
            let on_online = wasm_bindgen::closure::Closure::<dyn Fn()>::new(move || {
                leptos::task::spawn_local(sync_now(status));
            });
            let _ = window.add_event_listener_with_callback("online", on_online.as_ref().unchecked_ref());
            on_online.forget();
        }
    }
}
