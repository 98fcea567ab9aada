//! The server side of the sync protocol (`app::sync`): `POST /api/sync/push`
//! applies a device's outbox exactly once, `GET /api/sync/pull` hands out what
//! changed after the device's cursor in the grids the caller may see now.
//!
//! This is the protocol only; what an op may change, and how, are the write
//! rules of `crate::visits` and `crate::resident_edits`.

mod gate;
pub mod op;
// The API document (crate::openapi) names their handlers.
pub(crate) mod pull;
pub(crate) mod push;
mod snapshot;

use std::sync::Arc;
use std::time::Duration;

use app::error::ApiError;
use axum::extract::{DefaultBodyLimit, Extension};

use crate::config::Settings;
use crate::routes::{Routes, get, post};
use gate::SyncGate;
use snapshot::Snapshots;

/// `/sync/push` and `/sync/pull` behind this instance's gate, the pull with
/// its shared pages.
pub fn routes(settings: &Settings) -> Routes {
    let gate = Arc::new(SyncGate::new(
        settings.sync_max_concurrent as usize,
        Duration::from_millis(settings.sync_queue_ms),
        settings.sync_retry_after_secs,
    ));
    let snapshots = Arc::new(Snapshots::new(settings.sync_snapshot_mb * 1024 * 1024));
    // A full outbox batch (MAX_BATCH ops with notes and requests) is far
    // above the global 64 KiB limit; only the push gets 1 MiB.
    Routes::new()
        .route("/sync/push", post(push::push).layer(DefaultBodyLimit::max(1024 * 1024)))
        .route("/sync/pull", get(pull::pull).layer(Extension(snapshots)))
        .route_layer(axum::middleware::from_fn_with_state(gate, gate::gate))
}

/// A row that breaks the schema's rules can only come from a bug; log it.
fn corrupt(what: &str, value: &str) -> ApiError {
    tracing::error!(%what, %value, "unexpected value in database");
    ApiError::Internal
}
