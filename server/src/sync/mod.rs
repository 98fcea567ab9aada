//! The server side of the sync protocol (`app::sync`): `POST /api/sync/push`
//! applies a device's outbox exactly once, `GET /api/sync/pull` hands out what
//! changed after the device's cursor in the grids the caller may see now.
//!
//! This is the protocol only; what an op may change, and how, are the write
//! rules of `crate::visits` and `crate::resident_edits`.

mod gate;
pub mod op;
mod pull;
mod push;

use app::error::ApiError;

pub use gate::{SyncGate, gate};
pub use pull::pull;
pub use push::push;

/// A row that breaks the schema's rules can only come from a bug; log it.
fn corrupt(what: &str, value: &str) -> ApiError {
    tracing::error!(%what, %value, "unexpected value in database");
    ApiError::Internal
}
