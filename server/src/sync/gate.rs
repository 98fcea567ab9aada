//! Back-pressure on the sync routes: at most a set number of pushes and pulls
//! run at once on this instance; a request waits a moment for a turn, then is
//! told 503 with Retry-After, which the phone honours. However many phones
//! sync at the start of the day, the work in flight (and the memory it holds)
//! stays bounded, and a phone gets a clear answer instead of a timeout.

use std::sync::Arc;
use std::time::Duration;

use app::error::ApiError;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::Semaphore;

pub struct SyncGate {
    slots: Arc<Semaphore>,
    queue: Duration,
    retry_after_secs: u64,
}

impl SyncGate {
    pub fn new(max_concurrent: usize, queue: Duration, retry_after_secs: u64) -> Self {
        SyncGate {
            slots: Arc::new(Semaphore::new(max_concurrent.max(1))),
            queue,
            retry_after_secs,
        }
    }
}

/// The middleware: the slot is held until the handler's answer is built.
pub async fn gate(State(gate): State<Arc<SyncGate>>, request: Request, next: Next) -> Response {
    match tokio::time::timeout(gate.queue, gate.slots.clone().acquire_owned()).await {
        Ok(Ok(_slot)) => next.run(request).await,
        _ => {
            tracing::warn!(path = %request.uri().path(), "sync busy: asked to retry later");
            ApiError::Busy(gate.retry_after_secs).into_response()
        }
    }
}
