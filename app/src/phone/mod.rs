//! The phone's side of sync, beneath every page: pages call down into it,
//! nothing here knows a page. The IndexedDB schema (`idb`), the sync state
//! every page shows (`status`), the outbox and the loop that pushes it
//! (`engine`), the activity lists for attendance (`activities`), the photo upload queue (`photo_queue`), and the worker's grids
//! kept on the phone (`local`).

#[cfg(feature = "hydrate")]
pub mod activities;
pub mod engine;
#[cfg(feature = "hydrate")]
pub mod idb;
pub mod local;
pub mod photo_queue;
pub mod requests;
pub mod status;
