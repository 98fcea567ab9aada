//! The worker always sees the sync state: signals the sync engine fills, and
//! the badge that shows them in every page's bar.

use leptos::prelude::*;

/// The sync state every page shows. Signals exist on the server too (rendered
/// neutral); the browser fills them after hydration.
#[derive(Debug, Clone, Copy)]
pub struct SyncStatus {
    pub pending: RwSignal<usize>,
    pub rejected: RwSignal<usize>,
    pub syncing: RwSignal<bool>,
    pub online: RwSignal<bool>,
    pub last_sync: RwSignal<Option<i64>>,
    /// The server answered 401: the outbox waits for the next login. `Some`
    /// with the server's reason when the account itself was refused
    /// (disabled, or its one-time password not yet changed).
    pub needs_login: RwSignal<Option<Option<String>>>,
    /// Bumped whenever the outbox changed, so lists reload.
    pub revision: RwSignal<u64>,
    /// What the running sync is doing ("上传 100/300", "已下载 2000 条").
    pub progress: RwSignal<Option<String>>,
    /// The outbox has been counted: until then the badge claims nothing (the
    /// server-rendered page cannot know what waits on the phone).
    pub counted: RwSignal<bool>,
    /// The server was busy and said when to come back (503 or 429 with
    /// Retry-After): no sync starts before this time (epoch ms).
    pub not_before: RwSignal<i64>,
}

impl SyncStatus {
    pub fn new() -> Self {
        SyncStatus {
            pending: RwSignal::new(0),
            rejected: RwSignal::new(0),
            syncing: RwSignal::new(false),
            online: RwSignal::new(true),
            last_sync: RwSignal::new(None),
            needs_login: RwSignal::new(None),
            revision: RwSignal::new(0),
            progress: RwSignal::new(None),
            counted: RwSignal::new(false),
            not_before: RwSignal::new(0),
        }
    }

    /// A 401: signed out, and why if the server said.
    #[cfg(feature = "hydrate")]
    pub fn signed_out(&self, body: &str) {
        let reason = serde_json::from_str::<crate::error::ErrorBody>(body)
            .ok()
            .filter(|b| b.error == "account")
            .map(|b| b.message);
        self.needs_login.set(Some(reason));
    }

    /// A 503 from a busy server names when to come back (`retry_after`, in
    /// seconds, in the body as in the Retry-After header): no sync before
    /// then, stretched by up to half again so that the phones told at one
    /// moment do not all come back at one moment. `false`: not such an answer.
    /// The body is read only then: a pull page's megabytes of text stay out
    /// of WASM memory.
    #[cfg(feature = "hydrate")]
    pub fn back_off(&self, reply: &crate::api::Reply) -> bool {
        #[derive(serde::Deserialize)]
        struct Busy {
            retry_after: u64,
        }
        let Some(busy) = (reply.status == 503)
            .then(|| serde_json::from_str::<Busy>(&reply.body()).ok())
            .flatten()
        else {
            return false;
        };
        let wait = busy.retry_after as f64 * 1000.0 * (1.0 + js_sys::Math::random() / 2.0);
        self.not_before.set(crate::clock::now_ms() + wait as i64);
        true
    }
}

impl Default for SyncStatus {
    fn default() -> Self {
        Self::new()
    }
}

/// The sync state from context; pages rendered outside the app get a fresh one.
pub fn use_sync_status() -> SyncStatus {
    use_context::<SyncStatus>().unwrap_or_default()
}

#[component]
pub fn SyncBadge() -> impl IntoView {
    let status = use_sync_status();
    let text = move || {
        if !status.counted.get() {
            "读取中…".to_string()
        } else if status.syncing.get() {
            "同步中…".to_string()
        } else if status.rejected.get() > 0 {
            format!("退回 {}", status.rejected.get())
        } else if status.pending.get() > 0 {
            format!("待同步 {}", status.pending.get())
        } else {
            "已同步".to_string()
        }
    };
    let class = move || {
        let state = if status.rejected.get() > 0 {
            "sync-rejected"
        } else if status.pending.get() > 0 {
            "sync-pending"
        } else {
            "sync-ok"
        };
        let offline = if status.online.get() { "" } else { " sync-offline" };
        format!("sync-badge {state}{offline}")
    };
    view! {
        <a class=class href="/sync" aria-label="同步状态" data-pending=move || status.pending.get()>
            {move || (!status.online.get()).then_some("离线 · ")}
            {text}
        </a>
    }
}
